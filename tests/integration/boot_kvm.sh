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

run_vtb list
check "list exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "list says what virtio-serial can do per backend (both: uml through vtbench's vhost-user console)" \
	[ "$(grep -cE '^  virtio-serial    uml  yes: |^                   kvm  yes: a virtio-serial port' "$T/out")" -eq 2 ]
run_vtb probe
check "probe exits 0 and states KVM usability" [ "$RC" -eq 0 -a -n "$(grep '^KVM usable:' "$T/out")" ]
no_leftovers "list and probe"
finish
