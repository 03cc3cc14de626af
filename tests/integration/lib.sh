# Shared by the integration tests: a private TMPDIR per test, leftover
# checks, and one-line assertions.  Sourced, not run.
set -u
VTB="${VTB_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/vtbench"
T=$(mktemp -d "${TMPDIR:-/tmp}/vtbtest-XXXXXX")
# vtbench's own temp dirs (sockets, UML's uml_dir, logs) go under here,
# so "nothing left behind" is checkable.
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"
trap 'libvirt_stop; pkill -KILL -f "$T" 2>/dev/null; rm -rf "$T"' EXIT
FAILS=0
TESTS=0

ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
not_ok() { TESTS=$((TESTS + 1)); FAILS=$((FAILS + 1)); echo "not ok $TESTS - $*"; }
skip() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $1 # SKIP $2"; }
# The whole file cannot run here: TAP's skip plan (the driver shows SKIP;
# exit 0, as the driver counts a non-zero exit as an error).
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# jqok DESCRIPTION FILTER FILE: the filter is true on the file.
jqok() { if jq -e "$2" "$3" >/dev/null; then ok "$1"; else not_ok "$1"; fi; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# says TEXT PATTERN: a line of TEXT matches the grep PATTERN.  For a check
# of two conditions, write `if A && says ...; then ok; else not_ok; fi`:
# `check D [ A ] && says ...` would assert only A.
says() { printf '%s\n' "$1" | grep -q -- "$2"; }
# one_line DESCRIPTION RC PATTERN: the last run_vtb exited RC with exactly
# one line on stderr, and it matches PATTERN.
one_line() {
	local d=$1 rc=$2 want=$3 lines
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	if [ "$RC" -eq "$rc" ] && [ "$lines" -eq 1 ] && says "$ERR" "$want"; then
		ok "$d: $ERR"
	else
		not_ok "$d: rc=$RC, $lines lines (want $rc, one line with '$want'): $ERR"
	fi
}

# No process mentions our TMPDIR and the TMPDIR is empty.
no_leftovers() {
	local what=$1 procs left
	procs=$(pgrep -a -f "$TMPDIR" | grep -v -e pgrep || true)
	left=$(ls -A "$TMPDIR")
	if [ -z "$procs" ] && [ -z "$left" ]; then
		ok "$what: no process or temp file left"
	else
		not_ok "$what: left behind: procs=[$procs] files=[$left]"
	fi
}

jqf() { jq -r "$@"; }

# wait_proc NAME: wait up to 30 s for a process of NAME (a VMM, a helper
# daemon) whose command line names our TMPDIR.
wait_proc() {
	for _ in $(seq 300); do
		pgrep -f "$1.*$TMPDIR|$TMPDIR.*$1" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Every wait has a deadline, the tests' own too: a libvirt daemon that
# deadlocked (libvirt 9.0 can, closing a console stream while its domain
# shuts down) fails the check instead of hanging the suite.
virsh() { timeout -s KILL 60 env virsh "$@"; }

finish() {
	echo "1..$TESTS"
	[ "$FAILS" -eq 0 ] || { echo "$FAILS of $TESTS checks failed"; exit 1; }
	exit 0
}

# Run vtbench with a deadline; sets RC, OUT, ERR.
run_vtb() {
	timeout -s KILL 300 "$VTB" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# libvirt for the `libvirt` driver: use the running daemon, or start
# virtlogd/libvirtd (as root) with pid files of ours and stop exactly those
# at exit.  Returns 1 when there is no daemon to be had.
LV_PIDFILES=""
libvirt_up() {
	virsh -c qemu:///system version >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] && command -v libvirtd >/dev/null || return 1
	# QEMU's chardev logs go through virtlogd.
	if ! [ -S /run/libvirt/virtlogd-sock ]; then
		virtlogd -d -p "$T/virtlogd.pid" || return 1
		LV_PIDFILES="$LV_PIDFILES $T/virtlogd.pid"
	fi
	env -u TMPDIR libvirtd -d -p "$T/libvirtd.pid" || return 1
	LV_PIDFILES="$LV_PIDFILES $T/libvirtd.pid"
	for _ in $(seq 100); do
		virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
libvirt_stop() {
	local f p
	for f in $LV_PIDFILES; do
		p=$(cat "$f" 2>/dev/null) || continue
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	LV_PIDFILES=""
}
# No domain of ours, running or defined.
no_domains() {
	local d
	d=$(virsh -c "${1:-qemu:///system}" list --all --name 2>/dev/null | grep vtbench)
	if [ -z "$d" ]; then ok "$2: no vtbench domain left"; else not_ok "$2: domains left: $d"; fi
}
