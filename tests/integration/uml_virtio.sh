#!/bin/bash
# Integration: UML's virtio devices over vhost-user.  virtio-blk through
# qemu-storage-daemon: the payload read, the target written under QEMU's
# cache modes with the flush audit inside QSD, qcow2 (which ubd cannot
# open), and a QSD that fails or never serves.  virtio-serial through
# vtbench's own virtio-console back-end: both directions and roundtrip,
# verified, every byte through its virtqueues; corruption, a guest that
# stops reading and linux.uml killed mid-transfer.
. "$(dirname "$0")/lib.sh"

J="$T/blk.json"
run_vtb run --backend uml --transport virtio-blk --target virtio-blk \
	--workload upload-no-write,write-no-upload \
	--cache writeback,unsafe,writethrough --size 4M --runs 1 --warmup 0 \
	--json "$J"
check "uml virtio-blk cells ran (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "upload-no-write over UML's virtio-blk: verified, 4 MiB" \
	'[.results[] | select(.workload == "upload-no-write" and .transport == "virtio-blk")] | length == 3 and all(.summary.n == 1 and .samples[0].ok and .samples[0].bytes == 4194304)' "$J"
# From the results: each mode's flushes as QEMU defines the mode.
jqok "writeback: the guest's fsync reaches QSD as >= 1 fdatasync" \
	'[.results[] | select(.workload == "write-no-upload" and .cache == "writeback")] | length == 1 and all(.summary.n == 1 and .metrics.host_fdatasync.summary.median >= 1)' "$J"
jqok "unsafe: QSD drops the guest's flushes (0)" \
	'[.results[] | select(.workload == "write-no-upload" and .cache == "unsafe")] | length == 1 and all(.summary.n == 1 and .metrics.host_fdatasync.summary.n == 1 and .metrics.host_fdatasync.summary.median == 0)' "$J"
jqok "writethrough: a flush per write, more than writeback's" \
	"$(printf '%s' '[.results[] | select(.workload == "write-no-upload") | {(.cache): .metrics.host_fdatasync.summary.median}] | add | .writethrough > .writeback')" "$J"
no_leftovers "uml virtio-blk"

# qcow2 and O_DIRECT with native aio: QEMU's block layer opens them.
run_vtb run --backend uml --target virtio-blk --workload write-no-upload \
	--image qcow2 --cache none --aio native --size 4M --runs 1 --warmup 0 \
	--json "$T/q.json"
jqok "qcow2 target, cache none, aio native: written and verified (rc=$RC)" \
	'[.results[] | select(.image == "qcow2" and .aio == "native")] | length == 1 and all(.summary.n == 1 and .metrics.host_direct_opens.summary.median >= 1)' "$T/q.json"
run_vtb run --backend uml --target ubd --workload write-no-upload \
	--image qcow2 --size 4M --runs 1 --warmup 0
WHY=$(grep -c 'refused: uml write-no-upload target=ubd .*ubd takes raw images only' "$T/err")
check "ubd still refuses qcow2: one line with the reason, exit 2 (rc=$RC)" \
	[ "$RC" -eq 2 -a "$(wc -l <"$T/err")" -eq 1 -a "$WHY" -eq 1 ]

# A QSD that dies at once, and one that never serves: a failed result
# naming it, nothing left running.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "qsd-test: cannot open the image" >&2\nexit 1\n' >"$T/bin/qemu-storage-daemon"
chmod +x "$T/bin/qemu-storage-daemon"
PATH="$T/bin:$PATH" run_vtb run --backend uml --transport virtio-blk \
	--workload upload-no-write --size 1M --runs 1 --warmup 0 --json "$T/f.json"
check "dead QSD -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "dead QSD: its status and its last line named" \
	'.results[0].error | test("qemu-storage-daemon exited with status 1 before it served the disk: qsd-test: cannot open the image")' "$T/f.json"
no_leftovers "dead QSD"
printf '#!/bin/sh\nexec sleep 600\n' >"$T/bin/qemu-storage-daemon"
PATH="$T/bin:$PATH" run_vtb run --backend uml --transport virtio-blk \
	--workload upload-no-write --size 1M --runs 1 --warmup 0 --json "$T/h.json"
check "QSD that never serves -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "silent QSD: the deadline named" \
	'.results[0].error | test("did not serve the disk within 10 s")' "$T/h.json"
check "silent QSD killed" [ -z "$(pgrep -f "$T/bin/qemu-storage-daemon")" ]
no_leftovers "silent QSD"
# virtio-serial: vtbench's own back-end is the device.  Its counters show
# the bytes went through the guest's virtqueues (4 KiB receive buffers).
J="$T/vs.json"
run_vtb run --backend uml --transport virtio-serial \
	--workload upload-no-write,upload,download-no-read,roundtrip \
	--size 4M --msg-size 64 --runs 1 --warmup 0 --json "$J"
check "uml virtio-serial cells ran (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "upload-no-write, upload, download-no-read: 4 MiB each, verified" \
	'[.results[] | select(.transport == "virtio-serial" and .workload != "roundtrip")] | length == 3 and all(.summary.n == 1 and .samples[0].ok and .samples[0].bytes == 4194304)' "$J"
jqok "host -> guest: >= 1024 receive buffers filled by the back-end, none sent back" \
	'[.results[] | select(.workload == "upload-no-write" or .workload == "upload") | .samples[0].metrics] | length == 2 and all(.backend_bufs_to_guest >= 1024 and .backend_bufs_from_guest == 0 and .backend_kicks >= 1 and .backend_calls >= 1)' "$J"
jqok "guest -> host: transmit buffers consumed by the back-end" \
	'[.results[] | select(.workload == "download-no-read") | .samples[0].metrics] | length == 1 and all(.backend_bufs_from_guest >= 128 and .backend_bufs_to_guest == 0)' "$J"
jqok "roundtrip: one buffer each way per message" \
	'[.results[] | select(.workload == "roundtrip")] | length == 1 and all(.summary.n == 1 and .samples[0].bytes == 2 * .size and .samples[0].metrics.backend_bufs_to_guest == .size / 64 and .samples[0].metrics.backend_bufs_from_guest == .size / 64)' "$J"
no_leftovers "uml virtio-serial"

VTBENCH_TEST_CORRUPT=1 run_vtb run --backend uml --transport virtio-serial \
	--workload upload-no-write --size 1M --runs 1 --warmup 0 --json "$T/vc.json"
check "uml virtio-serial: corrupted byte -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "uml virtio-serial: corruption reported" grep -q 'data corrupted' "$T/vc.json"
VTBENCH_TEST_CORRUPT=1 run_vtb run --backend uml --transport virtio-serial \
	--workload download-no-read --size 1M --runs 1 --warmup 0 --json "$T/vd.json"
check "uml virtio-serial download: corrupted byte -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "uml virtio-serial download: corruption reported by the host" \
	grep -q 'data corrupted: XXH3 of the 1048576 bytes received' "$T/vd.json"
VTBENCH_TEST_STALL=1 VTBENCH_STALL_S=2 run_vtb run --backend uml \
	--transport virtio-serial --workload upload-no-write --size 16M \
	--runs 1 --warmup 0 --json "$T/vs2.json"
check "uml virtio-serial: guest stops reading -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "uml virtio-serial: the stall named" grep -q 'stalled: ' "$T/vs2.json"
no_leftovers "uml virtio-serial faults"

# linux.uml killed mid-transfer: the back-end sees its front-end go; the
# cell fails with a reason and nothing is left.
"$VTB" run --backend uml --transport virtio-serial --workload upload-no-write \
	--size 4G --runs 1 --warmup 0 --json "$T/vk.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	grep -q . "$T/vk.json" 2>/dev/null && pgrep -f "umid=vtb-$pid-" >/dev/null && break
	sleep 0.1
done
sleep 3
pkill -KILL -f "umid=vtb-$pid-"
wait $pid
rc=$?
check "uml killed mid-transfer -> exit 3 (rc=$rc)" [ "$rc" -eq 3 ]
jqok "uml killed: a failed sample naming the signal" \
	'.results[0] | (.summary.n // 0) == 0 and (.samples[0].ok | not) and (.samples[0].error | test("linux.uml killed by signal 9"))' "$T/vk.json"
no_leftovers "uml killed mid-transfer"
finish
