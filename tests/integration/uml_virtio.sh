#!/bin/bash
# Integration: UML's virtio devices over vhost-user.  virtio-blk through
# qemu-storage-daemon: the payload read, the target written under QEMU's
# cache modes with the flush audit inside QSD, qcow2 (which ubd cannot
# open), and a QSD that fails or never serves.
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
finish
