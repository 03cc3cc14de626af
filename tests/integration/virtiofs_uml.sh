#!/bin/bash
# Integration: virtiofs on UML, through vtbench's vhost-user front
# (vhost/fsfront.c) to QEMU 7.2's virtiofsd: `list` says yes; untar and
# randio (fio) with each --virtiofs-cache mode, every file checked; an
# upload into a file and an untar with a thread pool; the metadata walk;
# virtiofsd killed mid-run is a failed sample naming it; Ctrl-C mid-run;
# nothing left behind.
. "$(dirname "$0")/lib.sh"
[ -x /usr/lib/qemu/virtiofsd ] || skip_all "no /usr/lib/qemu/virtiofsd (Debian's qemu-system-common)"
[ "$(id -u)" = 0 ] || skip_all "virtiofsd runs as root"

run_vtb list
check "list: uml carries virtiofs ($(printf '%s\n' "$OUT" | grep -m1 'virtiofs *uml'))" \
	bash -c "printf '%s\n' \"\$1\" | grep -q '^ *virtiofs *uml *yes'" _ "$OUT"

J="$T/caches.json"
run_vtb run --backend uml --workload untar,randio --target virtiofs \
	--virtiofs-cache auto,always,none --untar-tree quick --fio-jobs randrw \
	--fio-runtime 2 --fio-size 16M --runs 1 --warmup 0 --json "$J"
check "untar and randio on uml virtiofs, 3 cache modes: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
for cache in auto always none; do
	jqok "uml virtiofs cache=$cache: untar's 430 files and 22 dirs, 4000000 bytes, extracted and checked" \
		"[.results[] | select(.backend == \"uml\" and .target == \"virtiofs\" and .workload == \"untar\" and .cache == \"$cache\")] | length == 1 and all(.samples[0] | .ok and .bytes == 4000000 and .metrics.files == 430 and .metrics.dirs == 22)" "$J"
	jqok "uml virtiofs cache=$cache: fio's randrw read and written with O_DIRECT" \
		"[.results[] | select(.backend == \"uml\" and .target == \"virtiofs\" and .workload == \"randio\" and .cache == \"$cache\")] | length == 1 and all(.samples[0] | .ok and .bytes > 0 and .metrics.o_direct == 1 and .metrics.randrw_read_iops > 0 and .metrics.randrw_write_iops > 0)" "$J"
done
jqok "virtiofsd's CPU (behind the front) is counted, as a helper's, in every sample" \
	'[.results[].samples[] | .cpu.threads | map(select(.group == "helper" and .process == "virtiofsd") | .cpu_s) | add // 0] | length >= 6 and all(. > 0)' "$J"
no_leftovers "uml virtiofs, 3 cache modes"

# The host's bytes into a file on the share (hashed both sides) and the
# untar with a virtiofsd thread pool; the metadata walk.  (Not metadata
# with a pool: QEMU 7.2's virtiofsd with --thread-pool-size=4 exits with
# status 1, saying nothing, during its rm -rf, under kvm as under uml.)
J="$T/upload.json"
run_vtb run --backend uml --workload upload,untar --transport virtio-serial --target virtiofs \
	--virtiofs-threads 4 --size 8M --untar-tree quick --runs 2 --warmup 0 --json "$J"
check "upload and untar on uml virtiofs, 4 threads: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
jqok "upload: 8 MiB into a file on virtiofs, verified, twice on one guest" \
	'[.results[] | select(.workload == "upload")] | length == 1 and all(.boots == 1 and (.samples | length == 2 and all(.ok and .bytes == 8388608)))' "$J"
jqok "untar with a pool of 4: 430 files checked, twice" \
	'[.results[] | select(.workload == "untar")] | length == 1 and all(.samples | length == 2 and all(.ok and .metrics.files == 430))' "$J"
J="$T/metadata.json"
run_vtb run --backend uml --workload metadata --target virtiofs \
	--untar-tree quick --runs 2 --warmup 0 --json "$J"
check "metadata on uml virtiofs: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
jqok "metadata: walk and rm of the tree on virtiofs" \
	'[.results[] | select(.workload == "metadata")] | length == 1 and all(.samples | length == 2 and all(.ok and .phases.walk_s > 0 and .phases.rm_s > 0))' "$J"
no_leftovers "uml virtiofs upload, untar with a pool, metadata"

# virtiofsd killed during a transfer: a failed sample naming it, exit 3.
"$VTB" run --backend uml --workload write-no-upload --target virtiofs \
	--size 2G --runs 1 --warmup 0 --timeout 20 --json "$T/k.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	wait_proc virtiofsd && grep -q . "$T/k.json" 2>/dev/null && break
	sleep 0.1
done
sleep 3
pkill -KILL -f "virtiofsd.*$TMPDIR"
for _ in $(seq 900); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 90 s after virtiofsd died"
	kill -KILL $pid
fi
wait $pid
rc=$?
E=$(jq -r '.results[0].samples[0].error // ""' "$T/k.json")
check "uml virtiofsd killed: exit 3, the failed sample names it (rc=$rc: $E)" \
	bash -c "[ $rc -eq 3 ] && printf '%s' \"\$1\" | grep -q 'virtiofsd, a back-end of the guest.s devices, killed by signal 9'" _ "$E"
no_leftovers "uml virtiofsd killed"

# Ctrl-C during a transfer: vtbench stops; UML, virtiofsd, the front's
# thread and socket go with it.
"$VTB" run --backend uml --workload write-no-upload --target virtiofs \
	--size 2G --runs 1 --warmup 0 --timeout 20 >"$T/out" 2>"$T/err" &
pid=$!
wait_proc virtiofsd
sleep 4
kill -INT $pid
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 30 s after SIGINT"
	kill -KILL $pid
else
	ok "SIGINT mid-run on uml virtiofs: vtbench exits"
fi
wait $pid
no_leftovers "uml virtiofs after SIGINT"
finish
