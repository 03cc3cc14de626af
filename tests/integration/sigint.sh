#!/bin/bash
# Integration: SIGINT during boot and a VMM killed mid-run leave nothing.
. "$(dirname "$0")/lib.sh"

for be in uml kvm; do
	case $be in uml) pat=linux.uml ;; kvm) pat=qemu-system ;; esac
	"$VTB" run --backend $be --accel tcg --workload startup --runs 20 --warmup 0 --json "$T/int-$be.json" >"$T/out" 2>"$T/err" &
	pid=$!
	if wait_proc "$pat"; then ok "$be: VMM started"; else not_ok "$be: VMM never started"; fi
	kill -INT $pid
	for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $pid 2>/dev/null; then
		not_ok "$be: vtbench still running 10 s after SIGINT"
		kill -KILL $pid
	fi
	wait $pid
	rc=$?
	check "$be: SIGINT -> exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
	check "$be: results saved, marked interrupted" [ "$(jqf .interrupted "$T/int-$be.json")" = true ]
	no_leftovers "$be SIGINT"
done

# SIGINT while a cell's guest is kept between its runs: the kept guest
# goes too.
"$VTB" run --backend kvm --accel tcg --transport virtio-serial --workload roundtrip \
	--msg-size 64 --runs 200 --warmup 0 --json "$T/kept.json" >"$T/out" 2>"$T/err" &
pid=$!
wait_proc qemu-system
# The results file is rewritten after every run.
for _ in $(seq 600); do
	n=$(jq '.results[0].samples | length' "$T/kept.json" 2>/dev/null)
	[ "${n:-0}" -ge 3 ] && break
	sleep 0.1
done
check "results saved after each run ($n samples before SIGINT)" [ "${n:-0}" -ge 3 ]
kill -INT $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "kept guest: vtbench still running 10 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "kept guest: SIGINT -> exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
jqok "kept guest: interrupted after runs on the kept guest" \
	'.interrupted and .results[0].runs_on_kept_guest >= 2 and .results[0].boots == 1' "$T/kept.json"
no_leftovers "kept guest SIGINT"

# The VMM killed behind vtbench's back: a failed sample with the reason.
"$VTB" run --backend kvm --accel tcg --workload startup --runs 2 --warmup 0 --json "$T/kill.json" >"$T/out" 2>"$T/err" &
pid=$!
wait_proc qemu-system && pkill -KILL -f "qemu-system.*$TMPDIR"
wait $pid
rc=$?
check "VMM killed -> exit 3 (rc=$rc)" [ "$rc" -eq 3 ]
check "failed sample names the signal" grep -q 'killed by signal 9' "$T/kill.json"
no_leftovers "VMM killed"
# SIGINT while vtbench hashes a huge (sparse) zero payload before any
# boot: it stops at once, leaving no payload file.
"$VTB" run --backend uml --transport virtio-serial --workload upload-no-write \
	--payload zero --size 10T --runs 1 --warmup 0 >"$T/out" 2>"$T/err" &
pid=$!
sleep 2
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "payload hash: vtbench still running 5 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "payload hash: SIGINT -> exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
check "payload hash: no 10T payload left in the cache" \
	[ -z "$(ls "${VTBENCH_CACHE_DIR:-$HOME/.cache/vtbench}/payload" 2>/dev/null | grep 10995116277760)" ]
no_leftovers "payload hash SIGINT"
finish
