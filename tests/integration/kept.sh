#!/bin/bash
# Integration: one boot for all runs of a cell (--boot per-cell), a writer's
# with a fresh target per run, a fresh one after a failed run, transfers
# sized from the rate their warm-up measured, and the live progress line.
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

# Writers keep their guest too, with a fresh target image for every run:
# each mounted by a RUN of its own before the host reads its counters, so
# the last target's unmount (a flush) never lands in the next run: one
# guest fsync, one host fdatasync per run.
J="$T/writers.json"
run_vtb run --backend uml,kvm --accel tcg --workload write-no-upload,upload \
	--transport virtio-serial --target virtio-blk --size 1M --runs 3 --warmup 1 --json "$J"
check "kept writers: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "four writer cells, each booted once for its 4 runs" \
	'[.results[] | select(.workload == "write-no-upload" or .workload == "upload")] | length == 4 and all(.boots == 1 and .runs_on_kept_guest == 3 and .params.boot == "per-cell")' "$J"
jqok "every run verified, and flushed the host once: its own fsync only" \
	'[.results[].samples[] | .ok and .metrics.host_fdatasync == 1 and .metrics.host_fsync == 0] | length == 16 and all' "$J"
no_leftovers "kept writers"

# More runs than one boot carries targets for (8): a second boot.
J="$T/many.json"
run_vtb run --backend uml --workload write-no-upload --size 256K --runs 9 --warmup 0 --json "$J"
jqok "9 runs of a writer: 2 boots, 7 runs on kept guests, all ok (rc=$RC)" \
	'.results[0] | .boots == 2 and .runs_on_kept_guest == 7 and .summary.n == 9' "$J"
no_leftovers "9 writer runs"

# --boot per-run: a writer boots for every run, one target each.
J="$T/wperrun.json"
run_vtb run --backend uml --workload write-no-upload --size 256K --runs 2 --warmup 0 \
	--boot per-run --json "$J"
jqok "writer --boot per-run: 2 boots, none kept (rc=$RC)" \
	'.results[0] | .boots == 2 and .runs_on_kept_guest == 0 and .params.boot == "per-run" and .summary.n == 2' "$J"
no_leftovers "writer per-run"

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

# QEMU's 8250 without --size: the warm-up moves the guess of --duration
# (1 s) from the 1 MiB guess of ~10 s, on the 2^n / 1.5 * 2^n grid from
# 4 KiB (96 KiB), the measured run what the last warm-up's rate carries in
# --duration.
grid() {
	awk -v b="$1" -v s="$2" -v d="$3" -v max="$4" 'BEGIN {
	want = b / s * d; best = 4096; bd = 1e9
	for (p = 4096; p <= 2^40; p *= 2)
		for (i = 0; i < 2; i++) {
			c = i ? p * 1.5 : p; x = log(c / (want > 1 ? want : 1))
			if (x < 0) x = -x
			if (c <= max && x < bd) { bd = x; best = c }
		}
	printf "%d", best }'
}
J="$T/rate.json"
run_vtb run --backend kvm --accel tcg --transport serial --workload upload-no-write \
	--runs 1 --warmup 1 --json "$J"
check "rate-sized serial: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
WB=$(jq '[.results[0].samples[] | select(.warmup)] | last | .bytes' "$J")
WS=$(jq '[.results[0].samples[] | select(.warmup)] | last | .seconds' "$J")
SIZE=$(jq '.results[0].size' "$J")
WANT=$(grid "$WB" "$WS" 1 524288000)
jqok "first warm-up moved 96 KiB" '.results[0].samples[0] | .warmup and .bytes == 98304' "$J"
check "measured run sized from the last warm-up's rate: $SIZE bytes (want $WANT; $WB bytes in $WS s)" [ "$SIZE" = "$WANT" ]
jqok "the measured run moved and verified .size bytes" \
	'.results[0] as $c | $c.params.size_auto and $c.params.duration_s == 1 and ([$c.samples[] | select(.warmup | not)] | length == 1 and .[0].ok and .[0].bytes == $c.size)' "$J"
no_leftovers "rate-sized serial"

# UML's serial line guest -> host: a 1.5 MiB guess for a line that moves
# hundreds of MB/s.  A warm-up far shorter than --duration / 4 whose rate
# grows the size runs again at that size (at most 3 times more); the last
# one sizes the runs.  Checked on whatever this host measured.
# UML 6.1's line now and then stops taking the guest's bytes in the middle
# of a long download (README: "at 300 MiB-2 GiB it sometimes stops"; here
# once after 49 MiB of 384), a failed sample naming the stall: that is
# UML's, not the sizing's, so such a run is made once more.  A sizing bug
# fails both.
J="$T/calib.json"
calib() {
	run_vtb run --backend uml --transport serial --workload download-no-read \
		--runs 1 --warmup 1 --duration 2 --json "$J"
}
calib
AGAIN=
if [ "$RC" -ne 0 ] && grep -q 'FAILED: .*stalled' "$T/out"; then
	AGAIN=" (made again: the first $(grep -m1 -o 'FAILED: .*' "$T/out"))"
	calib
fi
check "calibrated download: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))$AGAIN" [ "$RC" -eq 0 ]
jqok "first warm-up: the guess for 2 s (3 MiB)" '.results[0].samples[0] | .warmup and .bytes == 3145728' "$J"
N=$(jq '[.results[0].samples[] | select(.warmup)] | length' "$J")
ok_calib=1
for i in $(seq 0 $((N - 2))); do
	B=$(jq ".results[0].samples[$i].bytes" "$J")
	S=$(jq ".results[0].samples[$i].seconds" "$J")
	NB=$(jq ".results[0].samples[$((i + 1))].bytes" "$J")
	G=$(grid "$B" "$S" 2 524288000)
	awk -v s="$S" 'BEGIN { exit !(s < 0.5) }' && [ "$NB" = "$G" ] && [ "$G" -gt "$B" ] || ok_calib=0
done
check "each warm-up that ran again was < 0.5 s and the next moved its sizing ($N warm-ups)" [ "$ok_calib" = 1 -a "$N" -le 4 ]
LB=$(jq "[.results[0].samples[] | select(.warmup)] | last | .bytes" "$J")
LS=$(jq "[.results[0].samples[] | select(.warmup)] | last | .seconds" "$J")
LG=$(grid "$LB" "$LS" 2 524288000)
check "the last warm-up stood: long enough, no growth, or the 4th ($LB bytes in $LS s -> $LG)" \
	bash -c "awk -v s=$LS 'BEGIN { exit !(s >= 0.5) }' || [ $LG -le $LB ] || [ $N = 4 ]"
jqok "the run moved what the last warm-up sized" \
	".results[0] as \$c | \$c.size == $LG and ([\$c.samples[] | select(.warmup | not)] | .[0].ok and .[0].bytes == \$c.size)" "$J"
no_leftovers "calibrated download"

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
