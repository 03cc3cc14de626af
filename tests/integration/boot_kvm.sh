#!/bin/bash
# Integration: boot the real appliance under QEMU (TCG here), check HELLO.
. "$(dirname "$0")/lib.sh"

J="$T/kvm.json"
run_vtb run --backend kvm --workload startup --runs 2 --warmup 0 --json "$J"
check "kvm startup exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]
check "2 ok samples" [ "$(jqf '[.results[0].samples[]|select(.ok)]|length' "$J")" = 2 ]
ACCEL=$(jqf '.results[0].accel' "$J")
USABLE=$(jqf .host.kvm.usable "$J")
if [ "$USABLE" = true ]; then
	check "KVM usable -> accel kvm" [ "$ACCEL" = kvm ]
else
	check "KVM unusable -> accel tcg, with a reason" [ "$ACCEL" = tcg -a -n "$(jqf .host.kvm.reason "$J")" ]
	check "auto said why it fell back to TCG" grep -q 'using TCG' "$T/err"
fi
REL=$(jqf .versions.guest_kernel.release "$J")
check "HELLO release matches the guest kernel ($REL)" [ "$(jqf '.results[0].samples[0].guest.release' "$J")" = "$REL" ]
NMOD=$(jqf '.results[0].appliance.modules|length' "$J")
check "guest loaded every appliance module ($NMOD)" [ "$(jqf '.results[0].samples[0].guest.modules_loaded' "$J")" = "$NMOD" -a "$NMOD" -ge 2 ]
check "module closure includes virtio_ring" [ "$(jqf '.results[0].appliance.modules|index("virtio_ring") != null' "$J")" = true ]
check "PVH vmlinux used" [ "$(jqf '.results[0].params.boot_image' "$J")" = pvh-vmlinux ]
check "QEMU version recorded" [ -n "$(jqf .versions.qemu "$J")" ]
no_leftovers "kvm startup"

run_vtb run --backend kvm --accel tcg --workload startup --runs 1 --warmup 0 --timeout 0.3 --json "$T/to.json"
check "kvm timeout -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "kvm timeout reason recorded" grep -q 'in time' "$T/to.json"
no_leftovers "kvm timeout"
# --resume: the uml cell measured before is reused as it was, kvm runs.
run_vtb run --backend uml --workload startup --runs 2 --warmup 0 --json "$T/res.json"
BEFORE=$(jq -c '.results[0].samples' "$T/res.json")
run_vtb run --backend uml,kvm --accel tcg --workload startup --runs 2 --warmup 0 --resume "$T/res.json"
check "resume exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "resume says what it reused" grep -q 'resumed 1 of 2 cells' "$T/err"
check "the uml samples are the earlier ones" [ "$(jq -c '.results[] | select(.backend=="uml") | .samples' "$T/res.json")" = "$BEFORE" ]
check "the kvm cell was run and added" [ "$(jq '[.results[] | select(.backend=="kvm") | .summary.n] | .[0]' "$T/res.json")" = 2 ]
echo '{"tool": "something else"}' >"$T/bad.json"
run_vtb run --backend uml --workload startup --resume "$T/bad.json"
check "--resume of a foreign file -> exit 2, one line (rc=$RC)" [ "$RC" -eq 2 -a "$(printf '%s\n' "$ERR" | grep -c .)" -eq 1 ]

# The KVM test's "no", driven on any host: VTBENCH_TEST_KVM_DEV=/dev/null
# opens where /dev/kvm would, and QEMU's own KVM then fails (no /dev/kvm
# here; where there is one, a standard guest does not run on it:
# DESIGN.md).  Its verdict is cached under a key of /dev/null's identity,
# apart from the real device's.  QEMU, found in PATH, logs each KVM boot.
QEMU=$(command -v qemu-system-x86_64)
mkdir -p "$T/bin"
printf '#!/bin/sh\ncase " $* " in *accel=kvm*) echo "$*" >>"%s";; esac\nexec %s "$@"\n' \
	"$T/kvmboots" "$QEMU" >"$T/bin/qemu-system-x86_64"
chmod +x "$T/bin/qemu-system-x86_64"
kvm_boots() { [ -e "$T/kvmboots" ] && grep -c . "$T/kvmboots" || echo 0; }
# forced NAME [OPTIONS]: a startup run with the forced device; rc in RC,
# results in $T/NAME.json, its KVM boots in KB.
forced() {
	local name=$1; shift
	rm -f "$T/kvmboots"
	PATH="$T/bin:$PATH" VTBENCH_TEST_KVM_DEV=/dev/null run_vtb run --backend kvm \
		--workload startup --runs 1 --warmup 0 --json "$T/$name.json" "$@"
	KB=$(kvm_boots)
}
kvmf() { jqf ".host.kvm.$1" "$T/$2.json"; }
has() { case "$1" in *"$2"*) return 0 ;; esac; return 1; } # has TEXT PART
# The wrapper's path (in $T) is part of the key: no earlier run's verdict.
forced neg1
CF=$(kvmf cache_file neg1)
if [ "$(kvmf usable neg1)" = true ]; then
	skip "forced KVM test 'no': retries, reason, cache key" "QEMU's KVM runs a guest here"
else
	check "forced 'no': run exits 0 on TCG (rc=$RC: $(tail -n1 "$T/err"))" \
		[ "$RC" -eq 0 -a "$(jqf '.results[0].accel' "$T/neg1.json")" = tcg ]
	check "forced 'no': tried 3 times, recorded (tries=$(kvmf tries neg1))" \
		[ "$(kvmf tries neg1)" = 3 -a "$(kvmf cached neg1)" = false ]
	check "forced 'no': 2 models x 3 tries = 6 KVM boots (saw $KB)" [ "$KB" -eq 6 ]
	check "forced 'no': the verdict says so" says "$(kvmf reason neg1)" \
		'^/dev/null opens, but a Linux guest does not reach its agent under KVM in 3 tries (deadlines 2, 4, 4 s)'
	QR=$(kvmf qemu_reason neg1)
	if [ ! -e /dev/kvm ]; then
		check "forced 'no' without /dev/kvm: QEMU's own reason recorded ($QR)" \
			says "$QR" '^Could not access KVM kernel module: No such file or directory$'
	fi
	if [ "$QR" != null ]; then
		check "forced 'no': the verdict names QEMU's reason" has "$(kvmf reason neg1)" "$QR"
	fi
	check "forced 'no': the verdict is cached where the results say ($CF)" \
		[ -f "$CF" ]
	check "forced 'no': auto said why it used TCG" grep -q "using TCG: /dev/null opens" "$T/err"

	forced neg2
	check "same options: the verdict is reused (cached=$(kvmf cached neg2), $KB KVM boots)" \
		[ "$(kvmf cached neg2)" = true -a "$KB" -eq 0 -a "$(kvmf tries neg2)" = 3 ]
	check "... and says it was cached" says "$(kvmf reason neg2)" 'cached for this boot'
	PATH="$T/bin:$PATH" VTBENCH_TEST_KVM_DEV=/dev/null run_vtb probe
	check "probe reuses it too, and says where it is cached" \
		grep -qxF "KVM test:    3 tries (at most 3), earlier; verdict cached in $CF" "$T/out"

	if [ "$(nproc)" -ge 2 ]; then
		forced cpus2 --cpus 2
		check "--cpus 2: another key, tested afresh (cached=$(kvmf cached cpus2), $KB KVM boots)" \
			[ "$(kvmf cached cpus2)" = false -a "$KB" -eq 6 -a "$(kvmf cache_file cpus2)" != "$CF" ]
		rm -f "$(kvmf cache_file cpus2)"
	else
		skip "--cpus 2: another key" "this host has 1 CPU"
	fi
	forced mem --mem 320
	check "--mem 320: another key, tested afresh (cached=$(kvmf cached mem), $KB KVM boots)" \
		[ "$(kvmf cached mem)" = false -a "$KB" -eq 6 -a "$(kvmf cache_file mem)" != "$CF" ]
	rm -f "$(kvmf cache_file mem)"
fi
rm -f "$CF"
no_leftovers "forced KVM test"

run_vtb list
check "list exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "list says what virtio-serial can do per backend (both: uml through vtbench's vhost-user console)" \
	[ "$(grep -cE '^  virtio-serial    uml  yes: |^                   kvm  yes: a virtio-serial port' "$T/out")" -eq 2 ]
run_vtb probe
check "probe exits 0 and states KVM usability" [ "$RC" -eq 0 -a -n "$(grep '^KVM usable:' "$T/out")" ]
no_leftovers "list and probe"
finish
