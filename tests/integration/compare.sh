#!/bin/bash
# Integration: compare two real runs (0), a doctored slower copy (1, the
# cell named), bad files and usage (2, one line).
. "$(dirname "$0")/lib.sh"

A="$T/a.json"
B="$T/b.json"
run_vtb run --backend uml --workload startup --runs 5 --warmup 0 --json "$A"
check "run a exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]
run_vtb run --backend uml --workload startup --runs 5 --warmup 0 --json "$B"
check "run b exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]

# What compare reads is in the file.
jqok "summary: cv, ci95, noisy" '.results[0].summary | (.cv >= 0) and (.ci95 | length == 2) and (.noisy | type == "boolean")' "$A"
jqok "per-metric summary with its direction" '.results[0].metrics.seconds | (.higher_better == false) and (.summary.n == 5) and (.unit == "s")' "$A"
jqok "options and environment per cell (startup moves no payload)" '.results[0] | (.params.size == 0) and (.params.payload == "-") and (.params.runs == 5) and (.env.kernel.build_id | length > 0)' "$A"
jqok "how the statistics were made" '.statistics.noise_cv == 0.05 and .statistics.bootstrap_resamples > 0' "$A"
jqok "every run option recorded" '.cli_options.runs == 5 and .cli_options.backend == ["uml"]' "$A"
jqok "host: load average at start and end, hypervisor, nesting" '.host | (.loadavg | length == 3) and (.loadavg_end | length == 3) and has("sys_hypervisor") and (.nesting | length > 0)' "$A"

# The same file against itself: nothing changed.
run_vtb compare "$A" "$A"
check "a vs a -> exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "a vs a: the cell is listed as same" grep -q '^   uml startup .* same' "$T/out"

# Two real runs: their cells match and are judged.  Whether the machine
# (shared) changed its load between them is not this test's business.
run_vtb compare "$A" "$B"
check "a vs b (two real runs) -> judged, exit 0 or 1 (rc=$RC: $ERR)" [ "$RC" -eq 0 -o "$RC" -eq 1 ]
check "a vs b: a table with the cell" grep -q 'uml startup  *seconds' "$T/out"

# The verdicts, on doctored samples so that the host's noise cannot
# change them: a's five measured runs set to 1.00 .. 1.04 s.
jq '.results[0].samples |= (map(select(.warmup)) + (map(select(.warmup | not))
	| to_entries | map(.value.seconds = 1 + 0.01 * .key | .value)))' "$A" >"$T/a0.json"
jqok "doctored base: five ok runs, 1.00 .. 1.04 s" \
	'[.results[0].samples[] | select(.warmup | not) | select(.ok) | .seconds * 100 | round] == [100, 101, 102, 103, 104]' "$T/a0.json"
# The same runs, in another order and each 1 % off: the same.
jq '.results[0].samples |= (map(select(.warmup)) + (map(select(.warmup | not)) | reverse
	| to_entries | map(.value.seconds *= (if .key % 2 == 0 then 1.01 else 0.99 end) | .value)))' \
	"$T/a0.json" >"$T/a1.json"
run_vtb compare "$T/a0.json" "$T/a1.json"
check "1 % noise -> exit 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "... the cell judged the same" grep -q '^   uml startup  *seconds .* same' "$T/out"
# Every ok sample 30 % slower: with 5 runs a side, no overlap, p < 0.01.
jq '.results[].samples[] |= (if .ok then .seconds *= 1.3 else . end)' "$T/a0.json" >"$T/slow.json"
run_vtb compare "$T/a0.json" "$T/slow.json"
check "30 % slower -> exit 1 (rc=$RC)" [ "$RC" -eq 1 ]
check "the regression is marked and names the cell" grep -q '^!! uml startup  *seconds .*+30.0 %.*REGRESSION' "$T/out"
check "regressions come first" [ "$(grep -m1 -n 'uml startup' "$T/out" | cut -d: -f1)" = "$(grep -m1 -n '^!!' "$T/out" | cut -d: -f1)" ]
run_vtb compare "$T/slow.json" "$T/a0.json"
check "30 % faster -> exit 0, an improvement (rc=$RC)" [ "$RC" -eq 0 -a -n "$(grep 'improvement' "$T/out")" ]
run_vtb compare "$T/a0.json" "$T/slow.json" --threshold 40
check "--threshold 40 -> a 30 % change does not count (rc=$RC)" [ "$RC" -eq 0 ]
# The real samples, 30 % slower plus a's whole spread, so that every new
# sample is slower than every old one.
jq '([.results[0].samples[] | select(.ok and (.warmup | not)) | .seconds] | max - min) as $r
    | .results[].samples[] |= (if .ok then .seconds = .seconds * 1.3 + $r else . end)' "$A" >"$T/slower.json"
run_vtb compare "$A" "$T/slower.json"
check "30 % and a's spread slower -> exit 1 (rc=$RC)" [ "$RC" -eq 1 ]
check "... and the cell named, marked" grep -q '^!! uml startup  *seconds .*REGRESSION' "$T/out"

# Three runs a side cannot reach p < 0.01: nothing is judged, and that is
# its own exit code and line, not a pass.
jq '.results[0].samples |= .[0:3]' "$T/a0.json" >"$T/three.json"
jq '.results[0].samples |= .[0:3]' "$T/slow.json" >"$T/three-slow.json"
run_vtb compare "$T/three.json" "$T/three-slow.json"
check "3 runs a side, 30 % slower -> exit 4, not 0 (rc=$RC)" [ "$RC" -eq 4 ]
check "... the line says nothing was judged" grep -q '^nothing judged: none of 1 metric could be tested' "$T/out"
check "... and no count of regressions" [ -z "$(grep 'significant regression' "$T/out")" ]

# Environments that differ are said, the boot id is not.
jq '.host.cpu = "Other CPU" | .host.boot_id = "x"' "$A" >"$T/othercpu.json"
run_vtb compare "$A" "$T/othercpu.json"
check "different host CPU -> a warning" grep -q '^warning: environments differ: host CPU' "$T/out"
# Both ends: a's own end load is the host's now, which a loaded host
# (other test runs) takes past 5.
jq '.host.loadavg = [5, 3, 2] | .host.loadavg_end = [1, 1, 1]' "$A" >"$T/busy.json"
run_vtb compare "$A" "$T/busy.json"
check "a busy host -> a warning" grep -q '^warning: the host was busy during .*busy.json (1-minute load 5.0' "$T/out"
check "boot id is not a difference" [ -z "$(grep -i boot "$T/out")" ]

# Cells in only one file are listed.
jq '.results += [.results[0] | .workload = "roundtrip"]' "$A" >"$T/more.json"
run_vtb compare "$A" "$T/more.json"
check "a cell only in new is listed (rc=$RC)" grep -q '^only in new: uml roundtrip' "$T/out"

# Bad input: exit 2 and one line naming the problem.
expect_bad() { # expect_bad 'WORDS' ARGS...
	local want=$1 lines
	shift
	run_vtb compare "$@"
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	if [ "$RC" -eq 2 ] && [ "$lines" -eq 1 ] && [ -z "$OUT" ] &&
	   printf '%s' "$ERR" | grep -q -- "$want"; then
		ok "compare $* -> exit 2: $ERR"
	else
		not_ok "compare $* -> rc=$RC lines=$lines (want 2, 1 line with '$want'): $ERR"
	fi
}
echo 'this is not JSON' >"$T/garbage.json"
echo '{"name": "fio", "jobs": []}' >"$T/other.json"
jq '.schema = 2' "$A" >"$T/schema2.json"
jq 'del(.results[0].samples[1].seconds)' "$A" >"$T/noseconds.json"
jq 'del(.tool)' "$A" >"$T/notool.json"
jq '.results[0].workload = "untar"' "$A" >"$T/disjoint.json"
expect_bad "cannot read $T/missing.json: No such file" "$A" "$T/missing.json"
expect_bad "garbage.json: not JSON" "$A" "$T/garbage.json"
expect_bad "other.json: not a vtbench results file" "$T/other.json" "$A"
expect_bad "notool.json: not a vtbench results file" "$A" "$T/notool.json"
expect_bad "schema 2 is not supported" "$A" "$T/schema2.json"
expect_bad 'results\[0\].samples\[1\]: missing "seconds"' "$A" "$T/noseconds.json"
expect_bad "nothing to compare" "$A" "$T/disjoint.json"
# The right syntax, the wrong shape: named, not a GLib critical or a match.
jq '.results[0].msg_size = {}' "$A" >"$T/msgobj.json"
jq 'del(.results[0].params) | .results[0].workload = "roundtrip"' "$A" >"$T/noparams.json"
jq 'del(.results[0].samples[0].bytes)' "$A" >"$T/nobytes.json"
jq '.host.loadavg = ["high"]' "$A" >"$T/loadtext.json"
expect_bad 'msgobj.json: results\[0\]: "msg_size" is not a whole number' "$A" "$T/msgobj.json"
expect_bad 'noparams.json: results\[0\]: missing "params" (object)' "$A" "$T/noparams.json"
expect_bad 'nobytes.json: results\[0\].samples\[0\]: missing "bytes" (number)' "$A" "$T/nobytes.json"
expect_bad 'loadtext.json: host.loadavg: not an array of numbers' "$T/loadtext.json" "$A"
run_vtb report "$T/msgobj.json" -o "$T/msgobj.html"
one_line "report of a wrong-shaped file -> exit 2" 2 'msgobj.json: results\[0\]: "msg_size" is not a whole number'
check "... and no page" [ ! -e "$T/msgobj.html" ]
run_vtb check "$T/nobytes.json"
one_line "check against a wrong-shaped BASE -> exit 128" 128 'nobytes.json: results\[0\].samples\[0\]: missing "bytes"'
jq '.cli_options.backend = [1]' "$A" >"$T/clinum.json"
run_vtb check "$T/clinum.json"
one_line "check: cli_options not strings -> exit 128" 128 'clinum.json: cli_options.backend: not a list of strings'

expect_bad "needs two files" "$A"
expect_bad "needs two files" "$A" "$A" "$A"
expect_bad "--alpha: a probability" "$A" "$A" --alpha 2
expect_bad "--threshold: not a number" "$A" "$A" --threshold lots
expect_bad "unknown option --frobnicate" "$A" "$A" --frobnicate
run_vtb compare --help
check "compare --help -> 0, names the exit codes" [ "$RC" -eq 0 -a -n "$(printf '%s' "$OUT" | grep 'Exit codes')" ]
check "... 4 among them" says "$OUT" "^4 nothing could be judged"
finish
