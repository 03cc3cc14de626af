#!/bin/bash
# Integration: one boot for all runs of a cell that leaves nothing behind
# (--boot per-cell), a fresh one after a failed run, serial lines sized
# from the rate their warm-up measured, and the live progress line.
. "$(dirname "$0")/lib.sh"

# Every stream and block transport, kept between a warm-up and two runs.
J="$T/kept.json"
run_vtb run --accel tcg --workload upload-no-write,roundtrip \
	--transport virtio-serial,virtio-blk,ubd --size 1M --msg-size 64 \
	--runs 2 --warmup 1 --json "$J"
check "kept guests: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
check "seven cells: uml ubd, virtio-blk and virtio-serial x2, kvm virtio-serial x2 and virtio-blk" \
	[ "$(jq '[.results[] | .backend + " " + .transport + " " + .workload] | sort | join(",")' -r "$J")" = \
	"kvm virtio-blk upload-no-write,kvm virtio-serial roundtrip,kvm virtio-serial upload-no-write,uml ubd upload-no-write,uml virtio-blk upload-no-write,uml virtio-serial roundtrip,uml virtio-serial upload-no-write" ]
jqok "each cell booted once and ran 2 more runs on that guest" \
	'[.results[] | .boots == 1 and .runs_on_kept_guest == 2 and .params.boot == "per-cell"] | all' "$J"
jqok "every run of a kept guest verified its bytes" \
	'([.results[] | . as $c | .samples[] | .ok and .bytes == (if $c.workload == "roundtrip" then 2 * $c.size else $c.size end)] | all) and ([.results[].samples[]] | length == 21)' "$J"
no_leftovers "kept guests"

# --boot per-run: a boot per run, as before.
J="$T/perrun.json"
run_vtb run --backend kvm --accel tcg --workload upload-no-write \
	--transport virtio-blk --size 1M --runs 1 --warmup 1 --boot per-run --json "$J"
jqok "--boot per-run: 2 boots for 2 runs, none kept (rc=$RC)" \
	'.results[0] | .boots == 2 and .runs_on_kept_guest == 0 and .params.boot == "per-run" and .summary.n == 1' "$J"
no_leftovers "per-run"

# A failed run throws its guest away: the next run boots a fresh one.
J="$T/fail.json"
VTBENCH_TEST_STALL=1 VTBENCH_STALL_S=2 run_vtb run --backend kvm --accel tcg \
	--transport virtio-serial --workload upload-no-write --size 4M \
	--runs 2 --warmup 0 --json "$J"
check "stalled runs -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "each failed run had its own boot" \
	'.results[0] | .boots == 2 and .runs_on_kept_guest == 0 and ([.samples[] | .ok] == [false, false])' "$J"
no_leftovers "failed kept guest"

# QEMU's 8250 without --size: the warm-up moves a quarter of the 1 MiB
# guess, the measured run what the warm-up's rate carries in ~10 s on the
# 2^n / 1.5 * 2^n grid from 64 KiB.
J="$T/rate.json"
run_vtb run --backend kvm --accel tcg --transport serial --workload upload-no-write \
	--runs 1 --warmup 1 --json "$J"
check "rate-sized serial: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
WB=$(jq '.results[0].samples[0].bytes' "$J")
WS=$(jq '.results[0].samples[0].seconds' "$J")
SIZE=$(jq '.results[0].size' "$J")
WANT=$(awk -v b="$WB" -v s="$WS" 'BEGIN {
	want = b / s * 10; best = 65536; bd = 1e9
	for (p = 65536; p <= 2^40; p *= 2)
		for (i = 0; i < 2; i++) {
			c = i ? p * 1.5 : p; d = log(c / (want > 1 ? want : 1))
			if (d < 0) d = -d
			if (d < bd) { bd = d; best = c }
		}
	printf "%d", best }')
check "warm-up moved 256 KiB ($WB bytes in $WS s)" [ "$WB" -eq 262144 ]
check "measured run sized from that rate: $SIZE bytes (want $WANT)" [ "$SIZE" = "$WANT" ]
jqok "the measured run moved and verified .size bytes" \
	'.results[0] | .params.size_auto and .samples[1].ok and .samples[1].bytes == .size' "$J"
no_leftovers "rate-sized serial"

# On a terminal, the live line: cell, run k/N, the rate so far, elapsed
# and ETA, redrawn in place; then the cell's summary.
script -qec "$VTB run --backend kvm --accel tcg --transport virtio-serial \
	--workload upload-no-write --size 256M --runs 2 --warmup 0 --json $T/tty.json" \
	"$T/tty.log" >/dev/null 2>&1
RC=$?
tr '\r' '\n' <"$T/tty.log" >"$T/tty.lines"
check "on a terminal: exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "live line: cell, run 1/2, elapsed, ETA" \
	grep -aq '^.\[K\[1/1\] kvm/direct/tcg virtio-serial upload-no-write: run 1/2 .*elapsed 0:[0-9][0-9], ETA ' "$T/tty.lines"
check "live line: the rate during a transfer" \
	grep -aqE 'run [12]/2 [0-9]+ MB/s  elapsed' "$T/tty.lines"
check "live line: run 2/2 with an ETA in minutes:seconds" \
	grep -aqE 'run 2/2 .*ETA [0-9]+:[0-9][0-9]' "$T/tty.lines"
check "the cell's summary replaces the line" \
	grep -aqE '\[1/1\] kvm/direct/tcg virtio-serial upload-no-write: median [0-9.]+ s, 2/2 ok' "$T/tty.lines"
no_leftovers "terminal"

finish
