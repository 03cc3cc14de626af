#!/bin/bash
# Integration: boot the real appliance under UML, check HELLO and cleanup.
. "$(dirname "$0")/lib.sh"

J="$T/uml.json"
run_vtb run --backend uml --workload startup --runs 2 --warmup 1 --json "$J" --csv "$T/uml.csv"
check "uml startup exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]
check "JSON schema 1" [ "$(jqf .schema "$J")" = 1 ]
check "one cell, backend uml" [ "$(jqf '.results|length' "$J")" = 1 -a "$(jqf '.results[0].backend' "$J")" = uml ]
check "3 samples (1 warm-up), all ok" [ "$(jqf '[.results[0].samples[]|select(.ok)]|length' "$J")" = 3 ]
check "warm-up excluded from summary" [ "$(jqf '.results[0].summary.n' "$J")" = 2 ]
REL=$(jqf .versions.uml_kernel.release "$J")
check "HELLO release matches the UML kernel ($REL)" [ "$(jqf '.results[0].samples[1].guest.release' "$J")" = "$REL" ]
check "guest loaded no modules for a serial control line" [ "$(jqf '.results[0].samples[1].guest.modules_loaded' "$J")" = 0 ]
# The boot phases split the host's spawn -> HELLO: each sample has them
# all, each is positive, and they add up to its seconds (no timed bound:
# the 30 s boot deadline already fails a slow boot).  A guest clock ahead
# of the host's leaves vmm_to_kernel out, said in the sample's note.
jqok "every sample: phases present, positive, summing to its seconds" '
	[.results[0].samples[] | select(.ok)] | length == 3 and all(
		.seconds as $s | .phases as $p
		| (["kernel_to_init", "modules", "agent_ready", "poweroff"]
		   | all(($p[.] // -1) > 0))
		and if (.note // "" | test("vmm_to_kernel unknown"))
		then ($p | has("vmm_to_kernel") | not)
		else ($p.vmm_to_kernel > 0 and
		      (([$p.vmm_to_kernel, $p.kernel_to_init, $p.modules, $p.agent_ready] | add) - $s | fabs) < 0.001)
		end)' "$J"
jqok "the cell's phase medians" '.results[0].phases | (keys | length == 5) and all(.[]; . > 0)' "$J"
# The xstate fix: decided by a test boot, recorded with the sizes it saw;
# needed exactly when UML's buffer is shorter than the host's (AMX).
jqok "xstate verdict recorded with both sizes" \
	'.host.uml.usable and (.host.uml.xstate_why | length > 0) and .host.uml.xstate_uml_bytes > 0 and .host.uml.xstate_host_bytes > 0' "$J"
jqok "xstate fix applied exactly when UML's buffer is short of the host's" \
	'.host.uml.xstate_fix == (.host.uml.xstate_uml_bytes < .host.uml.xstate_host_bytes) and .results[0].env.xstate_fix == .host.uml.xstate_fix' "$J"
check "UML build id recorded" [ -n "$(jqf .versions.uml_kernel.build_id "$J")" ]
check "table printed" grep -q '^uml startup' "$T/out"
check "one progress line per finished cell" grep -q "^\[1/1\] uml startup: median" "$T/err"
check "CSV has header + 3 rows" [ "$(wc -l <"$T/uml.csv")" = 4 ]
no_leftovers "uml startup"
run_vtb probe
check "probe says whether the fix is applied and why" grep -q '^uml xstate:  fix \(applied\|not needed\)' "$T/out"

# A guest that cannot boot in time becomes a failed sample, not a hang.
run_vtb run --backend uml --workload startup --runs 1 --warmup 0 --timeout 0.2 --json "$T/to.json"
check "timeout -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "timeout reason recorded" grep -q 'in time' "$T/to.json"
no_leftovers "uml timeout"

# A host that refuses UML's FPU state, as one with AMX does: emulated here
# by cutting what UML passes to ptrace to a prefix this host refuses (on an
# AMX host the refusal is real).
XLEN=$("${VTB_BUILDDIR:-.}/tests/unit/uml/xstatelen")
if [ -z "$XLEN" ]; then
	skip "UML on a host that refuses its FPU state" "this CPU's last xstate component is one guests use"
	finish
fi
export VTBENCH_XSTATE_EMULATE=$XLEN
# What UML then passes: the emulated prefix, or on an AMX host (where XLEN
# is past UML's own buffer) its own length, refused for real.
OWN=$(jqf .host.uml.xstate_uml_bytes "$J")
PASSES=$(( XLEN < OWN ? XLEN : OWN ))
# Without the fix: UML cannot boot, and every command says why in one line.
run_vtb run --backend uml --uml-xstate off --workload startup --runs 1 --warmup 0
check "no fix, --backend uml asked: exit 2 (rc=$RC)" [ "$RC" -eq 2 ]
check "... one line" [ "$(printf '%s\n' "$ERR" | grep -c .)" -eq 1 ]
check "... naming ptrace's refusal and the panic" grep -q 'ptrace set fp regs failed, errno = 14 | Kernel panic - not syncing: Attempted to kill init' "$T/err"
check "... and the sizes" grep -q "passes $PASSES bytes of FPU state" "$T/err"
check "... no call-trace frames" [ -z "$(grep -F '[<' "$T/err")" ]
no_leftovers "uml without the fix"
run_vtb list --uml-xstate off
check "list: uml unusable, with the reason" grep -q '^  uml  *no: UML does not boot here: .*ptrace set fp regs failed' "$T/out"
run_vtb run --uml-xstate off --accel tcg --workload startup --runs 1 --warmup 0 --json "$T/off.json"
check "default backends: uml skipped, kvm runs (rc=$RC)" [ "$RC" -eq 0 ]
jqok "... the skip recorded with the reason, no uml cell" \
	'([.skipped[] | select(test("^uml: UML does not boot here: .*ptrace set fp regs failed"))] | length == 1) and ([.results[] | select(.backend == "uml")] | length == 0) and .host.uml.usable == false' "$T/off.json"
no_leftovers "uml skipped"

# With it (auto): the test boot finds the fix needed, and UML moves
# verified data over its serial line and ubd, the flush audit's preload
# loaded beside the fix.
J="$T/fix.json"
run_vtb run --backend uml --workload startup,upload-no-write,write-no-upload \
	--transport serial,ubd --size 1M --runs 1 --warmup 0 --json "$J"
check "fix applied: exit 0 (rc=$RC: $(grep -m1 FAILED "$T/out"))" [ "$RC" -eq 0 ]
jqok "fix recorded as applied, UML's buffer as emulated" \
	".host.uml.xstate_fix and (.host.uml.xstate_why | test(\"^applied: UML died without it\")) and .host.uml.xstate_uml_bytes == $PASSES and ([.results[].env.xstate_fix] | all)" "$J"
jqok "every cell ran, every byte verified" \
	'([.results[] | .summary.n == 1] | all) and ([.results[] | select(.workload != "startup") | .samples[0].bytes == 1048576] | all) and (.results | length == 4)' "$J"
jqok "the flush audit watched the ubd image beside the fix" \
	'[.results[] | select(.workload == "write-no-upload") | .metrics.host_fdatasync.summary.n == 1] | all and length == 1' "$J"
no_leftovers "uml with the fix"
run_vtb run --backend uml --uml-xstate on --workload startup --runs 1 --warmup 0 --json "$T/on.json"
jqok "--uml-xstate on: forced, boots (rc=$RC)" '.host.uml.xstate_fix and (.host.uml.xstate_why | test("^applied \\(--uml-xstate on\\)")) and .results[0].summary.n == 1' "$T/on.json"
unset VTBENCH_XSTATE_EMULATE
finish
