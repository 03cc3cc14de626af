# Shared by the integration tests: a private TMPDIR per test, leftover
# checks, and one-line assertions.  Sourced, not run.
set -u
VTB="${VTB_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/vtbench"
T=$(mktemp -d "${TMPDIR:-/tmp}/vtbtest-XXXXXX")
# vtbench's own temp dirs (sockets, UML's uml_dir, logs) go under here,
# so "nothing left behind" is checkable.
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"
trap 'pkill -KILL -f "$T" 2>/dev/null; rm -rf "$T"' EXIT
FAILS=0
TESTS=0

ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
not_ok() { TESTS=$((TESTS + 1)); FAILS=$((FAILS + 1)); echo "not ok $TESTS - $*"; }
skip() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $1 # SKIP $2"; }
# jqok DESCRIPTION FILTER FILE: the filter is true on the file.
jq_true() { jq -e "$1" "$2" >/dev/null; }
jqok() { check "$1" jq_true "$2" "$3"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
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
