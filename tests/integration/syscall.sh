#!/bin/bash
# Integration: the syscall workload, the guest kernel's micro-benchmarks,
# on UML and QEMU/TCG: every op measured on both backends, UML's getpid
# dearer; a guest that refuses the ops or answers other counts
# is a failed sample naming the problem, never a 0; bad options are
# refused before any boot; nothing is left behind.
. "$(dirname "$0")/lib.sh"

OPS="getpid open_close stat pipe_pingpong fork_wait fork_exec page_fault"
# Every op's figures of one sample, above 0, and no other op's.
sane() {
	local f="" op
	for op in $OPS; do
		f="$f and .${op}_ns > 0"
	done
	echo "(true $f and ([keys[] | select(endswith(\"_ns\"))] | length) == 7)"
}

J="$T/syscall.json"
run_vtb run --backend uml,kvm --accel tcg --workload syscall --runs 2 \
	--json "$J"
check "syscall on uml and kvm: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
all=$(sane)
for be in uml kvm; do
	jqok "$be: two samples, every op measured" \
		"[.results[] | select(.backend == \"$be\" and .workload == \"syscall\")] | length == 1 and (.[0] | ([.samples[] | select(.warmup | not)] | length == 2 and all(.ok and .seconds > 0 and (.metrics | $all))))" "$J"
	# The medians are what the tables show: there, and above 0.
	jqok "$be: every op's median in the summary, above 0" \
		"[.results[] | select(.backend == \"$be\")][0].metrics | [to_entries[] | select(.key | endswith(\"_ns\"))] | length == 7 and all(.value.summary.median > 0)" "$J"
	jqok "$be: one guest for the cell" \
		"[.results[] | select(.backend == \"$be\")][0].boots == 1" "$J"
done
# One matrix of the ops, UML beside KVM, the ratio of their medians.
if says "$OUT" '^ns per operation (medians) *uml syscall *kvm/direct/tcg syscall *ratio$' &&
	[ "$(printf '%s\n' "$OUT" | grep -cE '^[a-z_]+_ns +[0-9]+ +[0-9]+ +[0-9.]+x$')" -eq 7 ]; then
	ok "run prints every op's medians, uml beside kvm, with their ratio"
else
	not_ok "no matrix of the 7 ops with a ratio in: $OUT"
fi
# What the workload is for: UML's system call goes through the host.
jqok "uml's getpid dearer than kvm's" \
	"([.results[] | select(.backend == \"uml\")][0].metrics.getpid_ns.summary.median) > ([.results[] | select(.backend == \"kvm\")][0].metrics.getpid_ns.summary.median)" "$J"
no_leftovers "syscall"

# An op the agent does not know: refused before READY, a failed cell with
# no figures at all (not a 0), exit 3.
J="$T/unknown.json"
VTBENCH_TEST_SYSCALL_ARGS="getpid=10 nosuch=5" run_vtb run --backend uml \
	--workload syscall --runs 1 --warmup 0 --json "$J"
check "an unknown op: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "an unknown op: the sample fails in the agent's words, no metric, no median" \
	".results[0] | (.samples | length == 1 and all(.ok == false and (.error | test(\"guest: syscall: unknown op .nosuch.\")) and (.metrics | length == 0))) and .summary == null and (.metrics.seconds.summary == null) and ([.metrics | to_entries[] | select(.key | endswith(\"_ns\"))] | length == 0)" "$J"
no_leftovers "syscall, unknown op"

# The guest ran other counts than the host asked for: the host's check
# fails the sample, naming the op.
J="$T/counts.json"
VTBENCH_TEST_SYSCALL_ARGS="getpid=10" run_vtb run --backend kvm --accel tcg \
	--workload syscall --runs 1 --warmup 0 --json "$J"
check "other counts: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "other counts: the sample fails naming the op and both counts, no metric" \
	".results[0] | .summary == null and (.samples | length == 1 and all(.ok == false and (.error | test(\"syscall: the guest.s getpid: 10 runs where 2500 were asked\")) and (.metrics | length == 0)))" "$J"
no_leftovers "syscall, other counts"

# Bad input: one line, exit 2, no guest.
run_vtb run --backend uml --workload syscall --syscall-scale 0
one_line "--syscall-scale 0" 2 "syscall-scale 0: a factor above 0"
run_vtb run --backend uml --workload syscall --syscall-ops getpid,nosuch
one_line "--syscall-ops with an unknown op" 2 "syscall-ops: unknown value 'nosuch'"
no_leftovers "syscall bad input"
finish
