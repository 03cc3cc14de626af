#!/bin/bash
# Integration: `vtbench check` runs BASE's matrix again and exits as
# `git bisect run` reads it: 0 same, 1 regression, 125 a kernel that is not
# usable, did not boot or could not be judged, 128 a usage error.
. "$(dirname "$0")/lib.sh"

B="$T/base.json"
run_vtb run --backend uml --workload startup --runs 5 --warmup 0 --json "$B"
check "base run exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]

# The same kernel: BASE's own options, a verdict line.
N="$T/now.json"
run_vtb check "$B" --json "$N" --quiet
if [ "$RC" -eq 0 ]; then
	ok "same kernel -> exit 0"
	check "same kernel: the verdict line" grep -q '^vtbench check: same (0): ' "$T/out"
elif [ "$RC" -eq 1 ]; then
	skip "same kernel -> exit 0" "the host's load changed between the runs: $(grep '^vtbench check' "$T/out")"
else
	not_ok "same kernel -> rc=$RC: $ERR"
fi
jqok "BASE's options carried over (backend, workload, runs, warmup)" \
	'.cli_options | .backend == ["uml"] and .workload == ["startup"] and .runs == 5 and .warmup == 0' "$N"
jqok "the matrix is BASE's: one cell, 5 runs" '.results | length == 1 and (.[0].samples | length) == 5' "$N"

# An option given here replaces BASE's.
N3="$T/now3.json"
run_vtb check "$B" --runs 3 --json "$N3" --quiet
# 5 runs against 3 cannot reach p < 0.01: nothing judged is no pass.
check "--runs 3 given -> nothing judged, exit 125 (rc=$RC: $ERR)" [ "$RC" -eq 125 ]
check "... the verdict line says so" grep -q '^vtbench check: skip (125): nothing could be judged' "$T/out"
jqok "--runs 3 replaced BASE's 5" '.cli_options.runs == 3 and (.results[0].samples | length) == 3' "$N3"

# A base whose every run took a quarter of the time (a loaded host's
# spread stays far from it): the kernel under test is
# slower -> 1, the cell named.
jq '(.results[].samples[].seconds) |= (. / 4)' "$B" >"$T/fast.json"
run_vtb check "$T/fast.json" --quiet
check "slower than BASE -> exit 1 (rc=$RC)" [ "$RC" -eq 1 ]
check "regression: the verdict line" grep -q '^vtbench check: regression (1): 1 of 1 metric worse' "$T/out"
check "regression: the cell named" grep -q '^!!.*uml startup' "$T/out"

# Not a usable kernel -> 125: bisect skips the commit.
run_vtb check "$B" --uml-kernel /bin/true --quiet
check "not a UML kernel -> exit 125 (rc=$RC)" [ "$RC" -eq 125 ]
check "not a UML kernel: says why" grep -q 'not a Linux kernel' "$T/err"
check "not a UML kernel: the verdict line" grep -q '^vtbench check: skip (125): ' "$T/out"

# No cell ran (every boot failed its deadline) -> 125, not a regression.
run_vtb check "$B" --timeout 0.3 --quiet
check "no boot in time -> exit 125 (rc=$RC)" [ "$RC" -eq 125 ]
check "no boot: the verdict line" grep -q 'did it boot' "$T/out"

# Usage errors stop the bisect (>= 128) with one line.
for args in "--frobnicate" "--runs 0" "--alpha 2"; do
	# shellcheck disable=SC2086
	run_vtb check "$B" $args
	lines=$(wc -l <"$T/err")
	check "check BASE $args -> exit 128, one line (rc=$RC, $lines lines: $ERR)" \
		[ "$RC" -eq 128 -a "$lines" -eq 1 ]
done
run_vtb check
check "no BASE -> 128 (rc=$RC)" [ "$RC" -eq 128 ]
run_vtb check "$T/none.json"
named=$(grep -c none.json "$T/err")
check "missing BASE -> 128, named (rc=$RC: $ERR)" [ "$RC" -eq 128 -a "$named" -eq 1 ]
jq 'del(.cli_options)' "$B" >"$T/old.json"
run_vtb check "$T/old.json"
says=$(grep -c 'no "cli_options"' "$T/err")
check "BASE without cli_options -> 128, says so (rc=$RC: $ERR)" \
	[ "$RC" -eq 128 -a "$says" -eq 1 ]
echo '{"schema":' >"$T/bad.json"
run_vtb check "$T/bad.json"
check "BASE not JSON -> 128 (rc=$RC: $ERR)" [ "$RC" -eq 128 ]
run_vtb check --help
says=$(grep -c '125 the kernel under test' "$T/out")
check "--help -> 0, the exit codes listed" [ "$RC" -eq 0 -a "$says" -eq 1 ]

rm -f "$B" "$N" "$N3" "$T"/*.json
no_leftovers "check"
finish
