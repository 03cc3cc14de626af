#!/bin/bash
# Integration: the libvirt driver against a daemon that shares nothing
# with vtbench: a session libvirtd of another user, whose QEMU cannot read
# root's 0700 temp dirs or cache.  Files must go through the storage API
# and channels through streams; nothing may be left on that daemon.
. "$(dirname "$0")/lib.sh"

RUSER=vtbremote

[ "$(id -u)" = 0 ] || skip_all "needs root to run a daemon as another user"
command -v libvirtd >/dev/null || skip_all "no libvirtd (apt-get install libvirt-daemon-system)"
command -v virsh >/dev/null || skip_all "no virsh (apt-get install libvirt-clients)"
if ! id "$RUSER" >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$RUSER" 2>"$T/useradd.err" ||
		skip_all "cannot create user $RUSER: $(cat "$T/useradd.err")"
fi

# The second daemon's home: outside $T (root's 0700), owned by that user.
# Short paths: libvirt puts the ports' sockets under XDG_CONFIG_HOME.
R=$(mktemp -d /tmp/vtbrem-XXXXXX)
mkdir -p "$R/c/libvirt" "$R/run"
# QEMU's output to files, not through a virtlogd of that user.
echo 'stdio_handler = "file"' >"$R/c/libvirt/qemu.conf"
chown -R "$RUSER:" "$R"
chmod 700 "$R"
RPID=""
remote_stop() {
	if [ -n "$RPID" ]; then
		kill -TERM "$RPID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$RPID" 2>/dev/null
	fi
	rm -rf "$R"
}
trap 'remote_stop; libvirt_stop; pkill -KILL -f "$T" 2>/dev/null; rm -rf "$T"' EXIT

runuser -u "$RUSER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$R" \
	XDG_RUNTIME_DIR="$R/run" XDG_CONFIG_HOME="$R/c" XDG_CACHE_HOME="$R/cache" \
	XDG_DATA_HOME="$R/data" libvirtd --daemon --pid-file "$R/libvirtd.pid" \
	>"$T/rd.out" 2>&1 ||
	skip_all "session libvirtd as $RUSER did not start: $(head -c 300 "$T/rd.out")"
URI="qemu+unix:///session?socket=$R/run/libvirt/libvirt-sock"
for _ in $(seq 100); do
	RPID=$(cat "$R/libvirtd.pid" 2>/dev/null)
	virsh -c "$URI" version >/dev/null 2>&1 && break
	sleep 0.1
done
virsh -c "$URI" version >/dev/null 2>&1 ||
	skip_all "session libvirtd as $RUSER does not answer on $URI"
ok "second daemon: session libvirtd as $RUSER (pid $RPID) on $URI"

# Nothing of ours on the second daemon: domains, pools (and so volumes),
# pool directories made since this test began (a pool directory of a run
# killed with SIGKILL on this host before is no leftover of these runs).
touch "$T/began"
nothing_remote() {
	local d p f
	d=$(virsh -c "$URI" list --all --name 2>&1 | grep .)
	p=$(virsh -c "$URI" pool-list --all --name 2>&1 | grep .)
	f=$(find /tmp -maxdepth 1 -user "$RUSER" -name 'vtbench-*' -newer "$T/began" 2>/dev/null)
	if [ -z "$d$p$f" ]; then
		ok "$1: no domain, pool, volume or pool dir left on the second daemon"
	else
		not_ok "$1: left on the second daemon: domains=[$d] pools=[$p] dirs=[$f]"
	fi
}

J="$T/startup.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --connect "$URI" \
	--workload startup --runs 1 --warmup 0 --json "$J"
check "startup exits 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
D="share-nothing mode chosen and said ($ERR)"
if [ "$(jqf '.results[0].env.libvirt_files' "$J")" = upload ] && says "$ERR" "share-nothing mode"; then
	ok "$D"
else
	not_ok "$D"
fi
jqok "startup: the upload is a phase of its own" \
	'[.results[0].samples[] | select(.ok) | .phases | has("libvirt_upload")] | length == 1' "$J"
nothing_remote "startup"
no_leftovers "startup"

# Stream transports through virDomainOpenChannel/OpenConsole bridges, the
# disks as uploaded volumes: every byte arrives, hashed in the guest.
J="$T/xfer.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --connect "$URI" \
	--workload upload-no-write,upload --transport virtio-serial,serial,virtio-blk \
	--size 256K --runs 1 --warmup 0 --json "$J"
check "transfers exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
for tr in virtio-serial serial virtio-blk; do
	for wl in upload-no-write upload; do
		b=$(jq -c "[.results[] | select(.transport==\"$tr\" and .workload==\"$wl\") | .samples[0] | {b: .bytes, ok: .ok, e: .error}]" "$J")
		check "$tr $wl: 262144 bytes verified through the second daemon ($b)" \
			[ "$b" = '[{"b":262144,"ok":true,"e":null}]' ]
	done
done
check "no flush audit there, said once" [ "$(grep -c 'no flush audit' "$T/err")" -eq 1 ]
jqok "no flush-audit figures made up" \
	'[.results[].samples[].metrics // {} | keys[] | select(startswith("host_"))] | length == 0' "$J"
nothing_remote "transfers"
no_leftovers "transfers"

# A shared directory must be on the daemon's host: refused, saying why.
J="$T/fs.json"
run_vtb run --backend kvm --accel tcg --driver libvirt --connect "$URI" \
	--workload untar --target 9p --runs 1 --warmup 0 --json "$J"
check "9p through a share-nothing daemon: exit 3, not a hang (rc=$RC)" [ "$RC" -eq 3 ]
jqok "... the sample names why" \
	'.results[0].samples[0] | (.ok | not) and (.error | test("share-nothing: 9p serves a directory of the daemon.s host"))' "$J"
nothing_remote "9p refused"
no_leftovers "9p refused"

# SIGINT mid-run: exit 130, and the domain, volumes and pool are gone.
"$VTB" run --backend kvm --accel tcg --driver libvirt --connect "$URI" \
	--workload upload --transport virtio-blk --size 256K --runs 20 --warmup 0 \
	--json "$T/int.json" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 600); do
	virsh -c "$URI" list --name 2>/dev/null | grep -q vtbench && break
	sleep 0.1
done
if virsh -c "$URI" list --name 2>/dev/null | grep -q vtbench; then
	ok "the second daemon runs our guest"
else
	not_ok "the second daemon never ran our guest"
fi
kill -INT $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	not_ok "vtbench still running 10 s after SIGINT"
	kill -KILL $pid
fi
wait $pid
rc=$?
check "SIGINT -> exit 130 (rc=$rc)" [ "$rc" -eq 130 ]
nothing_remote "SIGINT"
no_leftovers "SIGINT"
check "no process of $RUSER but its daemon" \
	[ -z "$(pgrep -u "$RUSER" | grep -vx "$RPID")" ]

# A daemon that refuses us: a third one, of the same user, that wants SASL
# on its socket (none is set up): one line with libvirt's reason, exit 2.
A=$(mktemp -d /tmp/vtbauth-XXXXXX)
mkdir -p "$A/c/libvirt" "$A/run"
printf 'auth_unix_rw = "sasl"\nauth_unix_ro = "sasl"\n' >"$A/c/libvirt/libvirtd.conf"
chown -R "$RUSER:" "$A"
chmod 700 "$A"
runuser -u "$RUSER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$A" \
	XDG_RUNTIME_DIR="$A/run" XDG_CONFIG_HOME="$A/c" XDG_CACHE_HOME="$A/cache" \
	XDG_DATA_HOME="$A/data" libvirtd --daemon --pid-file "$A/libvirtd.pid" \
	>"$T/ad.out" 2>&1
for _ in $(seq 100); do [ -S "$A/run/libvirt/libvirt-sock" ] && break; sleep 0.1; done
run_vtb run --backend kvm --accel tcg --driver libvirt --workload startup --runs 1 --warmup 0 \
	--connect "qemu+unix:///session?socket=$A/run/libvirt/libvirt-sock"
one_line "authentication refused -> exit 2, one line with libvirt's reason" 2 "cannot connect: authentication failed"
kill -TERM "$(cat "$A/libvirtd.pid" 2>/dev/null)" 2>/dev/null
for _ in $(seq 50); do [ -e "$A/libvirtd.pid" ] || break; sleep 0.1; done
rm -rf "$A"
no_leftovers "authentication refused"
finish
