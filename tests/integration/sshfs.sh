#!/bin/bash
# Integration: the sshfs target (the guest's sshfs -o passive, OpenSSH's
# sftp-server a helper child on the stream's host end).  untar and randio
# on kvm (TCG) and uml over a virtio-serial port, every file and byte
# counted; UML's serial line a failed sample naming its bug when it goes
# deaf; an upload through it read back and verified; an
# sftp-server killed mid-run is a failed sample naming it; Ctrl-C leaves
# nothing; a missing
# sftp-server or sshfs is one line and exit 2; nothing is left behind.
. "$(dirname "$0")/lib.sh"

FIO="--fio-runtime 2 --fio-size 16M --fio-jobs randrw"
J="$T/kvm.json"
run_vtb run --backend kvm --accel tcg --workload untar,randio --target sshfs \
	--sshfs-cache yes,no $FIO --runs 2 --warmup 0 --json "$J"
check "kvm sshfs over virtio-serial: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
for cache in yes no; do
	jqok "kvm sshfs cache=$cache: untar's 430 files and 22 dirs in place, every run, one boot" \
		"[.results[] | select(.workload == \"untar\" and .cache == \"$cache\")] | length == 1 and all(.boots == 1 and (.samples | length == 2 and all(.ok and .metrics.files == 430 and .metrics.dirs == 22)))" "$J"
	jqok "kvm sshfs cache=$cache: fio's randrw read and wrote, direct recorded" \
		"[.results[] | select(.workload == \"randio\" and .cache == \"$cache\")] | length == 1 and all(.samples | length == 2 and all(.ok and .bytes > 0 and .metrics.randrw_read_iops > 0 and .metrics.randrw_write_iops > 0 and (.metrics.o_direct == 0 or .metrics.o_direct == 1)))" "$J"
	jqok "kvm sshfs cache=$cache: the results say the channel, no encryption, no chroot, sshfs's options" \
		"[.results[] | select(.cache == \"$cache\") | .env.sshfs] | length == 2 and all(.channel == \"virtio-serial\" and (.encryption | test(\"^none\")) and .chroot == false and .sshfs_options == \"dir_cache=$cache\")" "$J"
done
jqok "kvm: sftp-server's CPU is counted, as a helper's, in every sample" \
	'[.results[].samples[] | .cpu.threads | map(select(.group == "helper" and .process == "sftp-server") | .cpu_s) | add // 0] | length >= 8 and all(. > 0)' "$J"
no_leftovers "kvm sshfs"

J="$T/uml.json"
run_vtb run --backend uml --workload untar,randio --target sshfs $FIO \
	--runs 2 --warmup 0 --json "$J"
check "uml sshfs over virtio-serial: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
jqok "uml sshfs: untar's 430 files and 22 dirs in place, every run, one boot" \
	'[.results[] | select(.workload == "untar")] | length == 1 and all(.boots == 1 and (.samples | length == 2 and all(.ok and .metrics.files == 430 and .metrics.dirs == 22)))' "$J"
jqok "uml sshfs: fio's randrw read and wrote" \
	'[.results[] | select(.workload == "randio")] | length == 1 and all(.samples | length == 2 and all(.ok and .metrics.randrw_read_iops > 0 and .metrics.randrw_write_iops > 0))' "$J"
jqok "uml sshfs: the results say the channel" \
	'[.results[].env.sshfs.channel] == ["virtio-serial", "virtio-serial"]' "$J"
jqok "uml: sftp-server's CPU is counted, as a helper's, in every sample" \
	'[.results[].samples[] | .cpu.threads | map(select(.group == "helper" and .process == "sftp-server") | .cpu_s) | add // 0] | length >= 4 and all(. > 0)' "$J"
no_leftovers "uml sshfs"

# UML's serial line goes deaf once the guest's tty throttles it (UML's
# bug): sshfs's bursts do that.  Then a failed sample naming the bug, in
# seconds (the bridge's stall), not a hang until the run's deadline.
J="$T/uml-serial.json"
VTBENCH_STALL_S=5 run_vtb run --backend uml --workload untar --target sshfs \
	--sshfs-channel serial --runs 1 --warmup 0 --json "$J"
jqok "uml sshfs over the serial line: 430 files, or a failed sample naming UML's line bug (rc=$RC)" \
	'.results[0].samples[0] | (.ok and .metrics.files == 430) or (.ok == false and (.error | test("sshfs over the serial line .*stalled: .*the line went deaf \\(known UML bug")))' "$J"
jqok "uml sshfs over the serial line: the results say the serial line" \
	'.results[0].env.sshfs.channel == "serial"' "$J"
no_leftovers "uml sshfs over the serial line"

# An upload into a file on the share: read back by the guest and hashed.
J="$T/upload.json"
run_vtb run --backend kvm --accel tcg --workload upload --transport virtio-serial \
	--target sshfs --size 4M --payload random --runs 1 --warmup 0 --json "$J"
jqok "upload over virtio-serial into sshfs: 4 MiB read back and verified (rc=$RC)" \
	'[.results[0].samples[] | .ok and .bytes == 4194304] == [true]' "$J"
no_leftovers "upload to sshfs"

# sftp-server killed while fio works through it: a failed sample that
# names it, exit 3, no process or directory left.
J="$T/kill.json"
"$VTB" run --backend kvm --accel tcg --workload randio --target sshfs \
	--fio-runtime 60 --fio-size 16M --fio-jobs randrw --runs 1 --warmup 0 \
	--timeout 60 --json "$J" >"$T/out" 2>"$T/err" &
pid=$!
if wait_proc sftp-server; then
	sleep 8
	pkill -KILL -f "sftp-server.*$TMPDIR"
else
	not_ok "no sftp-server within 30 s"
fi
for _ in $(seq 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 120 s after sftp-server died"
	kill -KILL $pid
fi
wait $pid
rc=$?
E=$(jq -r '.results[0].samples[0].error // ""' "$J")
check "sftp-server killed: exit 3, the failed sample names it (rc=$rc: $E)" \
	bash -c "[ $rc -eq 3 ] && printf '%s' \"\$1\" | grep -q 'sftp-server, a back-end of the guest.s devices, killed by signal 9'" _ "$E"
no_leftovers "sftp-server killed"

# Ctrl-C while fio works through sshfs: exit 130, sftp-server, the VMM
# and the temp dir gone.
"$VTB" run --backend uml --workload randio --target sshfs --fio-runtime 60 \
	--fio-size 16M --fio-jobs randrw --runs 1 --warmup 0 --json "$T/int.json" \
	>"$T/out" 2>"$T/err" &
pid=$!
if wait_proc sftp-server; then
	sleep 5
	kill -INT $pid
else
	not_ok "no sftp-server within 30 s"
fi
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 30 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "SIGINT during an sshfs run: exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
no_leftovers "SIGINT during an sshfs run"

# A missing program: one line, exit 2, before any boot.
VTBENCH_SFTP_SERVER=/nonexistent/sftp-server run_vtb run --backend kvm \
	--accel tcg --workload untar --target sshfs
one_line "no sftp-server" 2 "sshfs: no sftp-server at /nonexistent/sftp-server"
VTBENCH_SSHFS=/nonexistent/sshfs run_vtb run --backend uml --workload randio \
	--target 9p,sshfs
one_line "no sshfs to give the guest" 2 "sshfs: no /nonexistent/sshfs on this host"
run_vtb run --backend kvm --workload untar --target sshfs --sshfs-cache maybe
one_line "--sshfs-cache maybe" 2 "sshfs-cache: unknown value 'maybe'"
run_vtb run --backend kvm --workload untar --target sshfs --sshfs-channel pipe
one_line "--sshfs-channel pipe" 2 "sshfs-channel: unknown value 'pipe'"
no_leftovers "sshfs bad input"
finish
