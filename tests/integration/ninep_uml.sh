#!/bin/bash
# Integration: 9p on UML (trans=fd, diod a helper child, a bridge thread
# in between).  untar and randio over the virtio-serial port, every file
# and byte checked, the channel, msize, cache and diod's version
# recorded; the serial line's known deafness a failed sample naming it,
# never a hang; bad input one line, exit 2; diod killed mid-run a failed
# sample naming it; Ctrl-C; nothing left behind.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/linux.uml ] || skip_all "no UML kernel (/usr/bin/linux.uml)"
[ -x /usr/sbin/diod ] || skip_all "no diod (Debian's diod)"

# Over virtio-serial: two cache modes, a kept guest re-mounting 9p over the
# same port (and diod's one connection) for each run.
J="$T/vs.json"
run_vtb run --backend uml --workload untar,randio --target 9p \
	--9p-cache none,loose --untar-tree quick --fio-runtime 2 --fio-size 8M \
	--fio-jobs randread,randwrite --runs 1 --warmup 1 --json "$J"
check "uml 9p over virtio-serial: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
for cache in none loose; do
	jqok "untar cache=$cache: 430 files, 22 dirs, 4000000 bytes extracted and checked each run, one boot" \
		"[.results[] | select(.backend == \"uml\" and .workload == \"untar\" and .target == \"9p\" and .cache == \"$cache\")] | length == 1 and all(.boots == 1 and (.samples | length == 2 and all(.ok and .bytes == 4000000)) and .metrics.files.summary.median == 430 and .metrics.dirs.summary.median == 22)" "$J"
	jqok "randio cache=$cache: both fio jobs report IOPS" \
		"[.results[] | select(.workload == \"randio\" and .cache == \"$cache\")] | length == 1 and all(.samples | all(.ok and .metrics.randread_read_iops > 0 and .metrics.randwrite_write_iops > 0))" "$J"
done
jqok "each cell records the channel, trans=fd, the relay, msize, cache and diod's version" \
	'[.results[] | .env.ninep as $n | $n.line == "virtio-serial" and $n.trans == "fd" and ($n.guest_relay | type) == "string" and $n.msize == 524288 and $n.trans_msize_max == 1048576 and $n.cache == .cache and ($n.server_version | test("^[0-9]+[.][0-9]"))] | length == 4 and all' "$J"
jqok "diod's CPU is counted, as a helper's, in every sample (untar and fio alike)" \
	'[.results[].samples[] | .cpu.threads | map(select(.group == "helper" and .process == "diod") | .cpu_s) | add // 0] | length >= 8 and all(. > 0)' "$J"
no_leftovers "uml 9p over virtio-serial"

# Over the serial line: UML's line goes deaf once the guest's tty throttled
# it, which 9P's replies do: a failed sample that says so, within the
# stall deadline (VTBENCH_STALL_S), never a hang.
J="$T/ser.json"
t0=$(date +%s)
VTBENCH_STALL_S=5 run_vtb run --backend uml --workload untar --target 9p \
	--9p-uml-line serial --9p-cache none --untar-tree quick --runs 1 \
	--warmup 0 --json "$J"
t1=$(date +%s)
E=$(jq -r '.results[0].samples[0].error // ""' "$J")
if [ "$RC" -eq 3 ] && [ $((t1 - t0)) -lt 90 ] &&
	says "$E" '9p over serial /dev/ttyS2: stalled: .* bytes for the guest not taken for 5.0 s: the line went deaf (known UML bug: .*line_unthrottle'; then
	ok "serial line: a failed sample naming the deaf line in $((t1 - t0)) s: $E"
else
	not_ok "serial line: rc=$RC in $((t1 - t0)) s (want 3, < 90 s), error: $E"
fi
jqok "serial line: recorded as such" '.results[0].env.ninep.line == "serial" and .results[0].env.ninep.guest_relay == null' "$J"
no_leftovers "uml 9p over the serial line"

# Bad input, before any boot: one line, exit 2.
run_vtb run --backend uml --workload untar --target 9p --9p-msize 2M
one_line "--9p-msize 2M on uml (trans=fd takes 1M)" 2 '--9p-msize 2M: UML.s 9p rides trans=fd, which takes 4K to 1M'
run_vtb run --backend uml --workload untar --target 9p --9p-uml-line usb
one_line "--9p-uml-line usb" 2 '--9p-uml-line'
VTBENCH_DIOD=/nonexistent/diod run_vtb run --backend uml --workload untar --target 9p
one_line "VTBENCH_DIOD pointing nowhere" 2 'VTBENCH_DIOD=/nonexistent/diod: no such program'
VTBENCH_DIOD=no-such-diod run_vtb run --backend uml --workload untar --target 9p
one_line "VTBENCH_DIOD naming a program not in PATH" 2 'VTBENCH_DIOD=no-such-diod: no such program'
VTBENCH_DIOD=/nonexistent/diod run_vtb list
if [ "$RC" -eq 0 ] && says "$OUT" '^  9p *uml  no: VTBENCH_DIOD=/nonexistent/diod'; then
	ok "list says why uml has no 9p without diod"
else
	not_ok "list without diod: rc=$RC: $(printf '%s\n' "$OUT" | grep -A1 '^  9p')"
fi
no_leftovers "bad 9p input"

# diod killed during the runs: a failed sample that names it, exit 3.
"$VTB" run --backend uml --workload untar --target 9p --untar-tree quick \
	--runs 3 --warmup 0 --json "$T/k.json" >"$T/out" 2>"$T/err" &
pid=$!
if wait_proc diod; then
	sleep 4
	pkill -KILL -f "diod.*$TMPDIR"
else
	not_ok "no diod of ours appeared within 30 s"
fi
for _ in $(seq 900); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 90 s after diod died"
	kill -KILL $pid
fi
wait $pid
rc=$?
E=$(jq -r '[.results[0].samples[] | select(.ok | not) | .error][0] // ""' "$T/k.json")
if [ $rc -eq 3 ] && says "$E" 'diod, a back-end of the guest.s devices, killed by signal 9'; then
	ok "diod killed: exit 3, the failed sample names it: $E"
else
	not_ok "diod killed: rc=$rc (want 3), error: $E"
fi
no_leftovers "diod killed"

# Ctrl-C while 9p runs: vtbench stops, diod and UML with it.
"$VTB" run --backend uml --workload untar --target 9p --untar-tree quick \
	--runs 3 --warmup 0 >"$T/out" 2>"$T/err" &
pid=$!
if wait_proc diod; then
	sleep 3
	kill -INT $pid
fi
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 30 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "SIGINT during a 9p run: vtbench exits non-zero (rc=$rc)" [ $rc -ne 0 ]
no_leftovers "SIGINT during 9p"
finish
