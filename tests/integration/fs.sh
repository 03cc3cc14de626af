#!/bin/bash
# Integration: filesystem targets.  write-no-upload and untar onto UML's
# hostfs and tmpfs and QEMU's 9p, virtiofs and tmpfs, each run on an
# emptied share; the options of 9p and virtiofs checked before any boot;
# a virtiofsd killed mid-run is a failed sample naming it, nothing left.
. "$(dirname "$0")/lib.sh"

# UML's 9p (diod over a stream) has its own test: ninep_uml.sh.
J="$T/fs.json"
J9="$T/fs9p.json"
run_vtb run --backend uml,kvm --accel tcg --workload write-no-upload,untar \
	--target hostfs,virtiofs,tmpfs --size 8M --runs 2 --warmup 1 --json "$J"
check "filesystem targets: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
run_vtb run --backend kvm --accel tcg --workload write-no-upload,untar \
	--target 9p --9p-cache mmap,loose --size 8M --runs 2 --warmup 1 --json "$J9"
check "9p: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
for cell in "uml hostfs -" "uml tmpfs -" "uml virtiofs auto" "kvm 9p mmap" \
	"kvm 9p loose" "kvm virtiofs auto" "kvm tmpfs -"; do
	set -- $cell
	F=$J
	[ "$2" = 9p ] && F=$J9
	jqok "$1 $2 cache=$3: write-no-upload verified, untar's 430 files in place, one boot for 3 runs" \
		"[.results[] | select(.backend == \"$1\" and .target == \"$2\" and .cache == \"$3\")] | length == 2 and all(.boots == 1 and .runs_on_kept_guest == 2 and (.samples | length == 3 and all(.ok))) and (map(select(.workload == \"untar\"))[0].samples | all(.metrics.files == 430))" "$F"
done
jqok "the cells UML and QEMU cannot carry are skipped with their reasons" \
	'([.skipped[] | select(test("kvm.*target=hostfs.*UML.s own"))] | length) == 2 and ([.skipped[] | select(test("target=virtiofs"))] | length) == 0' "$J"
jqok "each sample records its target as the guest kernel mounted it (9p: its cache mode)" \
	'[.results[] | select(.target != "-") | .samples[] | .mount] | all(type == "string")' "$J"
jqok "9p's cache is recorded in the mount" \
	'[.results[] | select(.target == "9p")] | length == 4 and ([.[].samples[] | .mount | select(test("^vtbfs 9p .*(mmap|loose)"))] | length == 12)' "$J9"
jqok "virtiofsd's CPU is counted, as a helper's, in every virtiofs sample of both backends" \
	'[.results[] | select(.target == "virtiofs") | .samples[] | .cpu.threads | map(select(.group == "helper" and .process == "virtiofsd") | .cpu_s) | add // 0] | length == 12 and all(. > 0)' "$J"
no_leftovers "filesystem targets"

# 9p's msize is an axis: a cell each, mounted with it; what virtio's 9p
# cannot carry (2M) the kernel cuts to 512000, and the sample says so.
J="$T/msize.json"
run_vtb run --backend kvm --accel tcg --workload untar --target 9p \
	--9p-msize 64K,2M --runs 1 --warmup 0 --json "$J"
check "9p msize 64K,2M: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
jqok "msize=64K: its own cell, mounted with msize=65536" \
	'[.results[] | select(.variant == "msize=64K" and .params.variant == "msize=64K")] | length == 1 and (.[0].samples[0].mount | test("msize=65536"))' "$J"
jqok "msize=2M: the guest kernel took 512000, and the note says so" \
	'[.results[] | select(.variant == "msize=2M")][0].samples[0] | (.mount | test("msize=512000")) and (.note | test("took msize=512000 for msize=2097152"))' "$J"
no_leftovers "9p msize axis"

# Bad input, before any boot.
run_vtb run --backend kvm --accel tcg --workload untar --target 9p --9p-msize 1K
check "--9p-msize 1K: exit 2, one line naming it ($ERR)" \
	bash -c "[ $RC -eq 2 ] && [ \$(printf '%s\n' \"\$1\" | wc -l) = 1 ] && printf '%s' \"\$1\" | grep -q -- '--9p-msize'" _ "$ERR"
run_vtb run --backend kvm --accel tcg --workload untar --target 9p --9p-cache lots
check "--9p-cache lots: exit 2 ($ERR)" bash -c "[ $RC -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--9p-cache'" _ "$ERR"
run_vtb run --backend kvm --accel tcg --workload untar --target virtiofs --virtiofs-cache sometimes
check "--virtiofs-cache sometimes: exit 2 ($ERR)" bash -c "[ $RC -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--virtiofs-cache'" _ "$ERR"
run_vtb run --backend kvm --accel tcg --workload untar --target hostfs
check "hostfs under kvm only: exit 2, nothing to run, the reason ($ERR)" \
	bash -c "[ $RC -eq 2 ] && printf '%s' \"\$1\" | grep -q 'UML.s own'" _ "$ERR"
VTBENCH_VIRTIOFSD=/nonexistent/virtiofsd run_vtb run --backend uml,kvm --accel tcg \
	--workload untar --target virtiofs
one_line "no virtiofsd, virtiofs asked for by name" 2 'virtiofs: VTBENCH_VIRTIOFSD=/nonexistent/virtiofsd: no such program'
no_leftovers "bad filesystem options"

# virtiofsd killed during a transfer: a failed sample that says the
# device's back-end went away, exit 3, no process or directory left.
"$VTB" run --backend kvm --accel tcg --workload write-no-upload --target virtiofs \
	--size 2G --runs 1 --warmup 0 --timeout 20 --json "$T/k.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	pgrep -f "virtiofsd.*$TMPDIR" >/dev/null && grep -q . "$T/k.json" 2>/dev/null && break
	sleep 0.1
done
sleep 4
pkill -KILL -f "virtiofsd.*$TMPDIR"
for _ in $(seq 900); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 90 s after virtiofsd died"
	kill -KILL $pid
fi
wait $pid
rc=$?
E=$(jq -r '.results[0].samples[0].error // ""' "$T/k.json")
check "virtiofsd killed: exit 3, the failed sample names it (rc=$rc: $E)" \
	bash -c "[ $rc -eq 3 ] && printf '%s' \"\$1\" | grep -q 'virtiofsd, a back-end of the guest.s devices, killed by signal 9'" _ "$E"
no_leftovers "virtiofsd killed"
# The payload on a disk, the target a shared directory: the cell's cache
# mode is the filesystem's (9p's mmap), not the payload disk's.  And a
# TMPDIR with a comma: QEMU's options carry it doubled; virtiofsd's -o and
# UML's command line cannot, and say so.
C="$TMPDIR/a,b"
mkdir -p "$C"
J="$T/comma.json"
TMPDIR="$C" run_vtb run --backend kvm,uml --accel tcg --workload upload \
	--transport virtio-blk,ubd --target 9p,virtiofs,hostfs --size 1M --runs 1 --warmup 0 --json "$J"
jqok "virtio-blk upload -> 9p from a TMPDIR with a comma: verified" \
	'[.results[] | select(.backend == "kvm" and .target == "9p") | .samples[0] | .ok and .bytes == 1048576] == [true]' "$J"
jqok "virtiofsd's directory with a comma: refused, saying why, under kvm and uml" \
	'[.results[] | select(.target == "virtiofs") | .samples[0].error | test("virtiofsd cannot take the directory .*a,b.*: its -o options split at .,.")] | length == 3 and all' "$J"
jqok "UML under a TMPDIR with a comma: refused, saying why" \
	'[.results[] | select(.backend == "uml" and .target == "hostfs") | .samples[0].error | test("UML cannot take .hostfs=.*a,b.*: hostfs= ends its directory at .,.")] | length == 2 and all' "$J"
jqok "UML's 9p under a TMPDIR with a comma: refused, saying why" \
	'[.results[] | select(.backend == "uml" and .target == "9p") | .samples[0].error | test("9p over a stream cannot take the directory .*a,b.*: its aname= would split at .,.")] | length == 2 and all' "$J"
rm -rf "$C"

# A full shared directory: the host filesystem under the share (TMPDIR on
# a 1 MiB tmpfs) fills during the untar; each cell a failed sample naming
# ENOSPC as the guest's tar saw it, exit 3, nothing left on it.
F="$T/full"
mkdir -p "$F"
if mount -t tmpfs -o size=1m tmpfs "$F" 2>/dev/null; then
	J="$T/full.json"
	TMPDIR="$F" run_vtb run --backend kvm --accel tcg --workload untar \
		--target 9p,virtiofs --runs 1 --warmup 0 --json "$J"
	check "a full shared directory: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
	jqok "... each cell's sample failed naming the full disk, none counted as a result" \
		'[.results[] | .samples[0] | (.ok | not) and (.error | test("No space left on device"))] | length == 2 and all' "$J"
	check "... nothing left on the full filesystem ($(ls -A "$F"))" [ -z "$(ls -A "$F")" ]
	umount "$F"
	no_leftovers "a full shared directory"
fi
J="$T/payload-disk.json"
run_vtb run --backend kvm --accel tcg --workload upload --transport virtio-blk \
	--target 9p,virtiofs --size 1M --runs 1 --warmup 0 --json "$J"
jqok "virtio-blk upload -> 9p and virtiofs: verified" \
	'[.results[] | .samples[0] | .ok and .bytes == 1048576] | length == 2 and all' "$J"
no_leftovers "payload disk to a shared directory"
finish
