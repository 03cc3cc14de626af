#!/bin/bash
# Integration: what "verified" means.  A written file is read back after
# the timed part, past the guest's page cache: a byte flipped on the host
# after the guest's fsync fails the sample (uml hostfs, virtiofs and 9p;
# kvm virtiofs and 9p).  A cached payload hash is trusted only for the file it was made
# with: a payload changed behind vtbench's back is made again, not sent
# with a stale hash.  The flush audit keeps its columns apart and says
# "unknown" where it cannot see.  A short write says the bytes lost.  --drop-caches leaves a stream's payload in memory.
# Each check fails without its fix.
. "$(dirname "$0")/lib.sh"

J="$T/corrupt.json"
VTBENCH_TEST_CORRUPT_TARGET=1 run_vtb run --backend uml,kvm --accel tcg \
	--workload write-no-upload,upload --transport virtio-serial \
	--target hostfs,virtiofs,9p --size 1M --runs 1 --warmup 0 --json "$J"
check "a target corrupted after the timed part: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "every cell failed: read back differs from what was written" \
	'[.results[] | .samples[0] | (.ok | not) and (.error | test("/mnt/payload read back differs: 1048576 bytes, hash [0-9a-f]{16}; written 1048576, [0-9a-f]{16}"))] | length == 10 and all' "$J"
jqok "params.verified says the file is read back" \
	'[.results[].params.verified | test("reads it back")] | length == 10 and all' "$J"
no_leftovers "corrupted target"

# The same, not corrupted: verified, and the time is the write's alone.
J="$T/ok.json"
run_vtb run --backend uml,kvm --accel tcg --workload write-no-upload \
	--target hostfs,virtiofs,virtio-blk --size 4M --runs 1 --warmup 0 --json "$J"
check "read back and verified: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
# The host's clock ends at the guest's READY, before the read-back: the
# two clocks agree but for the messages' latency.
jqok "every run ok, 4 MiB, host and guest time the same part" \
	'[.results[] | .samples[0] | .ok and .bytes == 4194304 and (.phases.guest_transfer - .seconds | fabs) <= 0.02 + 0.2 * .seconds] | length == 5 and all' "$J"

# The flush audit: syncfs and RWF_DSYNC writes in columns of their own.
jqok "flush audit: fsync, fdatasync, sync_file_range, syncfs, RWF_DSYNC apart" \
	'[.results[] | select(.backend == "kvm" and .target == "virtio-blk") | .samples[0].metrics | has("host_fdatasync") and has("host_sync_file_range") and has("host_syncfs") and has("host_dsync_writes")] == [true]' "$J"
# A guest that could write only part of the file (a 1 MiB tmpfs for 8 MiB)
# says how much was lost: the RESULT's byte count is checked against the
# size asked, not against itself.
J="$T/short.json"
run_vtb run --backend uml,kvm --accel tcg --workload write-no-upload \
	--target tmpfs --mount-opts size=1m --size 8M --runs 1 --warmup 0 --json "$J"
check "a full target: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "each backend names the bytes lost and the guest's ENOSPC" \
	'[.results[] | .samples[0] | (.ok | not) and (.error | test("^lost 7340032 of 8388608 bytes: guest: write /mnt/payload: No space left on device"))] | length == 2 and all' "$J"

# Under io_uring, whose flushes bypass libc, no counts but "unknown".
J="$T/uring.json"
run_vtb run --backend kvm --accel tcg --workload write-no-upload \
	--target virtio-blk --aio io_uring --size 1M --runs 1 --warmup 0 --json "$J"
check "io_uring: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
jqok "io_uring: the flush audit says unknown, publishes no zeros" \
	'.results[0].samples[0] | (.note | test("flush audit: unknown under io_uring")) and (.metrics | has("host_fsync") or has("host_fdatasync") | not)' "$J"

# A payload changed behind vtbench's back (same size) is made again.
export VTBENCH_CACHE_DIR="$T/cache"
run_vtb run --backend uml --transport virtio-serial --workload upload-no-write \
	--payload random --size 256K --runs 1 --warmup 0
check "random payload made: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
P=$(ls "$VTBENCH_CACHE_DIR"/payload/random-*-262144.bin)
printf 'x' | dd of="$P" conv=notrunc bs=1 count=1 status=none
J="$T/stale.json"
run_vtb run --backend uml --transport virtio-serial --workload upload-no-write \
	--payload random --size 256K --runs 1 --warmup 0 --json "$J"
check "a payload changed in the cache: made again, verified (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
check "the payload's first byte is the generator's again" [ "$(head -c1 "$P")" != x ]

# --drop-caches: a stream's payload is in memory when the clock starts.
J="$T/drop.json"
run_vtb run --backend uml --transport virtio-serial --workload upload-no-write \
	--payload random --size 4M --runs 2 --warmup 0 --drop-caches --json "$J"
check "--drop-caches over a stream: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
jqok "the payload was all in memory at the start of every run" \
	'[.results[0].samples[] | .ok and .metrics.host_payload_in_memory_pct == 100] | length == 2 and all' "$J"
unset VTBENCH_CACHE_DIR
no_leftovers "verify"
finish
