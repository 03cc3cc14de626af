#!/bin/bash
# Integration: the kvm backend's libvirt driver beside the direct one: the
# same guests, the same bytes; nothing left after a run, SIGINT or an error.
. "$(dirname "$0")/lib.sh"

libvirt_up || skip_all "no libvirt daemon (apt-get install libvirt-daemon-system)"

J="$T/startup.json"
run_vtb run --backend kvm --accel tcg --driver direct,libvirt --workload startup \
	--runs 2 --warmup 0 --json "$J"
check "startup through both drivers exits 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
for d in direct libvirt; do
	n=$(jq "[.results[] | select(.driver==\"$d\") | .samples[] | select(.ok)] | length" "$J")
	check "startup/$d: 2 good samples" [ "$n" -eq 2 ]
done
check "libvirt's own phases recorded" \
	[ "$(jq '[.results[] | select(.driver=="libvirt") | .samples[] | .phases | has("libvirt_create") and has("libvirt_connect")] | all' "$J")" = true ]
no_domains qemu:///system "startup"
no_leftovers "startup"

# A URI with a transport (the remote driver's unix transport to this
# host's daemon): files and sockets are shared by being on the same host.
J="$T/remote.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --workload startup,upload-no-write \
	--transport virtio-blk --size 256K --runs 1 --warmup 0 --json "$J" \
	--connect "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"
check "qemu+unix:// URI: startup and a virtio-blk transfer (rc=$RC: $(grep -m1 FAILED "$T/out"))" \
	[ "$RC" -eq 0 -a "$(jq '[.results[].samples[] | select(.ok)] | length' "$J")" -eq 2 ]
no_domains qemu:///system "qemu+unix://"

# The same payload through both drivers: same bytes, verified (XXH3) in
# the guest; a failed sample would carry the reason.
J="$T/xfer.json"
run_vtb run --backend kvm --accel tcg --driver direct,libvirt --workload upload-no-write,upload \
	--transport virtio-serial,virtio-blk,serial --size 256K --runs 1 --warmup 0 --json "$J"
check "transfers through both drivers exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
for tr in virtio-serial virtio-blk serial; do
	for wl in upload-no-write upload; do
		b=$(jq -c "[.results[] | select(.transport==\"$tr\" and .workload==\"$wl\") | {d: .driver, b: .samples[0].bytes, ok: .samples[0].ok, e: .samples[0].error}] | sort_by(.d)" "$J")
		check "$tr $wl: both drivers verified 262144 bytes ($b)" \
			[ "$b" = "[{\"d\":\"direct\",\"b\":262144,\"ok\":true,\"e\":null},{\"d\":\"libvirt\",\"b\":262144,\"ok\":true,\"e\":null}]" ]
	done
done
# libvirt's QEMU is found (its pidfile) and its threads named as ours.
jqok "CPU attribution through libvirt: QEMU's vCPU thread and peak RSS" \
	'[.results[] | select(.driver == "libvirt" and .transport == "virtio-blk") | .samples[0].cpu | (any(.threads[]; .group == "vmm" and .thread == "CPU 0/TCG" and .runs_guest) and any(.memory[]; .group == "vmm" and .hwm_kib > 10000))] | length == 2 and all' "$J"
# The flush audit reaches QEMU through <qemu:env>: libvirt's QEMU turns the
# guest's fsync into an fdatasync on the image as the direct one does.
check "flush audit through libvirt" \
	awk '/^kvm\/libvirt.*upload.*cache=writeback/ && NF > 8 { found = 1; if ($(NF-5) < 1) exit 1 } END { exit !found }' "$T/out"
no_domains qemu:///system "transfers"
no_leftovers "transfers"

# One byte flipped in flight fails the libvirt sample too.
VTBENCH_TEST_CORRUPT=1 run_vtb run --backend kvm --accel tcg --driver libvirt --transport virtio-serial \
	--workload upload-no-write --size 1M --runs 1 --warmup 0 --json "$T/c.json"
check "corruption through libvirt -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "corruption names the hash" grep -q 'data corrupted: XXH3' "$T/c.json"
no_domains qemu:///system "corruption"

# A guest kept between runs reads its payload disk again every run, not
# its page cache: QEMU's own counters see every byte each time.
J="$T/kept.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --transport virtio-blk \
	--workload upload-no-write --size 1M --runs 2 --warmup 1 --json "$J"
check "kept libvirt guest: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "one boot, and QEMU read >= 1 MiB from the payload disk in each of 3 runs" \
	'.results[0] | .boots == 1 and ([.samples[] | .metrics.vmm_payload_rd_bytes >= 1048576] == [true, true, true])' "$J"
no_domains qemu:///system "kept guest"

# Shared directories through libvirt: 9p a <filesystem> (security model
# none), virtiofs one whose virtiofsd libvirt starts; untar's every file
# in place, each mounted as asked.
J="$T/fs.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --workload untar \
	--target 9p,virtiofs,tmpfs --virtiofs-cache auto,always \
	--virtiofs-threads 2 --runs 1 --warmup 0 --json "$J"
check "untar on 9p, virtiofs, tmpfs through libvirt: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "4 libvirt cells, 430 files each, mounted 9p, virtiofs (2), tmpfs" \
	'[.results[] | select(.driver == "libvirt")] | length == 4 and all(.samples | all(.ok and .metrics.files == 430)) and ([.[].samples[0].mount | split(" ")[1]] | sort == ["9p", "tmpfs", "virtiofs", "virtiofs"])' "$J"
no_domains qemu:///system "libvirt filesystems"

# A daemon that takes the connection and never answers (as libvirt 9.0's
# does once its workers deadlock): a deadline, and Ctrl-C, end the wait.
perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die; $c = $s->accept; sleep 600' "$T/mute.sock" &
mute=$!
for _ in $(seq 50); do [ -S "$T/mute.sock" ] && break; sleep 0.1; done
VTBENCH_TEST_LIBVIRT_OPEN_S=3 run_vtb run --backend kvm --accel tcg --driver libvirt \
	--connect "qemu+unix:///system?socket=$T/mute.sock" --workload startup
check "a mute daemon: exit 2 after the deadline, one line saying so (rc=$RC: $ERR)" \
	bash -c "[ $RC -eq 2 ] && [ \$(printf '%s\n' \"\$1\" | wc -l) = 1 ] && printf '%s' \"\$1\" | grep -q 'did not answer in 3 s'" _ "$ERR"
kill $mute 2>/dev/null; wait $mute 2>/dev/null
perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die; $c = $s->accept; sleep 600' "$T/mute2.sock" &
mute=$!
for _ in $(seq 50); do [ -S "$T/mute2.sock" ] && break; sleep 0.1; done
"$VTB" run --backend kvm --accel tcg --driver libvirt --workload startup \
	--connect "qemu+unix:///system?socket=$T/mute2.sock" >"$T/out" 2>"$T/err" &
pid=$!
sleep 2
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "a mute daemon: vtbench still waiting 5 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "a mute daemon and Ctrl-C: exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
kill $mute 2>/dev/null; wait $mute 2>/dev/null
rm -f "$T/mute.sock" "$T/mute2.sock"

# QEMU dies under libvirt mid-transfer: a failed sample with the reason,
# exit 3, no domain left.
"$VTB" run --backend kvm --accel tcg --driver libvirt --transport virtio-serial \
	--workload upload-no-write --size 8G --runs 1 --warmup 0 \
	--json "$T/k.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	grep -q . "$T/k.json" 2>/dev/null && pgrep -f "qemu-system.*$TMPDIR" >/dev/null && break
	sleep 0.1
done
sleep 3
pkill -KILL -f "qemu-system.*$TMPDIR"
for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 60 s after QEMU died"
	kill -KILL $pid
fi
wait $pid
rc=$?
E=$(jq -r '.results[0].samples[0].error // ""' "$T/k.json")
D="QEMU killed under libvirt -> exit 3, the sample says libvirt saw QEMU die (rc=$rc: $E)"
if [ "$rc" -eq 3 ] && says "$E" "libvirt: failed: QEMU died"; then ok "$D"; else not_ok "$D"; fi
no_domains qemu:///system "QEMU killed"
no_leftovers "QEMU killed"

# SIGINT while libvirt boots a guest: exit 130, the domain destroyed.
"$VTB" run --backend kvm --accel tcg --driver libvirt --workload startup --runs 20 --warmup 0 \
	--json "$T/int.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do
	pgrep -f "qemu-system.*$TMPDIR" >/dev/null && break
	sleep 0.1
done
if pgrep -f "qemu-system.*$TMPDIR" >/dev/null; then ok "libvirt started QEMU"; else not_ok "libvirt never started QEMU"; fi
kill -INT $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 10 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "SIGINT -> exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
check "results saved, marked interrupted" [ "$(jqf .interrupted "$T/int.json")" = true ]
no_domains qemu:///system "SIGINT"
no_leftovers "SIGINT"

# A URI libvirt cannot open: one line with libvirt's reason, exit 2.
run_vtb run --backend kvm --accel tcg --driver libvirt --workload startup --runs 1 --warmup 0 \
	--connect "qemu+unix:///system?socket=$T/nonexistent-sock"
one_line "bad URI -> exit 2, one line naming it" 2 "cannot connect: .*nonexistent-sock"
no_leftovers "bad URI"
finish
