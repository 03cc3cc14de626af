#!/bin/bash
# Integration: the randio workload, the real fio in the guest, on UML's ubd
# and QEMU/TCG's virtio-blk (every job and direction measured, O_DIRECT);
# on a tmpfs, which Linux 6.1 refuses O_DIRECT, direct=0 said; a fio that
# fails in the guest is a failed sample in fio's words; bad options are
# refused before any boot; nothing is left behind.
. "$(dirname "$0")/lib.sh"

# Every job and direction of a cell: IOPS and MB/s above 0, clat
# percentiles in order, and nothing else of fio's.
sane() { # sane JOB_DIR...: a jq test of one sample's metrics
	local f="" jd
	for jd in "$@"; do
		f="$f and .${jd}_iops > 0 and .${jd}_mb_per_s > 0 and .${jd}_clat_p50_us > 0 and .${jd}_clat_p50_us <= .${jd}_clat_p99_us and .${jd}_clat_p99_us <= .${jd}_clat_p99_9_us"
	done
	echo "(true $f and ([keys[] | select(test(\"^rand\"))] | length) == $(($# * 5)))"
}

J="$T/randio.json"
run_vtb run --backend uml,kvm --accel tcg --workload randio --fio-runtime 2 \
	--runs 1 --warmup 0 --json "$J"
check "randio on uml and kvm: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
all=$(sane randread_read randwrite_write randrw_read randrw_write)
for cell in "uml ubd" "kvm virtio-blk"; do
	set -- $cell
	jqok "$1 $2: randread, randwrite, randrw read and write all measured, with O_DIRECT" \
		"[.results[] | select(.backend == \"$1\" and .workload == \"randio\" and .target == \"$2\")] | length == 1 and all(.samples[0] | .ok and .bytes > 0 and (.metrics | $all and .o_direct == 1))" "$J"
	# Three jobs of 2 s, one after the other, are the timed part.
	jqok "$1 $2: the timed part holds the three 2 s jobs" \
		"[.results[] | select(.backend == \"$1\" and .workload == \"randio\")][0].samples[0].seconds >= 6" "$J"
done
no_leftovers "randio"

# tmpfs under Linux 6.1 takes no O_DIRECT: fio runs with direct=0, and
# the sample says so.
J="$T/tmpfs.json"
run_vtb run --backend uml --target tmpfs --workload randio --fio-jobs randrw \
	--fio-runtime 1 --runs 1 --warmup 0 --json "$J"
check "randio on tmpfs: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
rw=$(sane randrw_read randrw_write)
jqok "tmpfs: direct=0 recorded and said, randrw alone measured" \
	".results[0].samples[0] | .ok and (.metrics | $rw and .o_direct == 0) and (.note | test(\"the target refused O_DIRECT \\\\(Invalid argument\\\\): fio ran with direct=0\"))" "$J"
no_leftovers "randio on tmpfs"

# A fio that fails in the guest: a failed sample naming fio's complaint.
J="$T/fail.json"
VTBENCH_TEST_FIO_OPTS=--ioengine=nosuch run_vtb run --backend uml --workload randio \
	--fio-runtime 1 --runs 1 --warmup 0 --json "$J"
check "fio fails in the guest: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "the failed sample quotes fio's exit status and stderr" \
	'.results[0].samples[0].ok == false and (.results[0].samples[0].error | test("fio exited with status 1: fio: engine nosuch not loadable"))' "$J"
no_leftovers "randio failure"

# Bad input: one line, exit 2, no guest.
run_vtb run --backend uml --workload randio --fio-size 1K
one_line "--fio-size below a block" 2 "fio-size 1K: at least one 4k block"
run_vtb run --backend uml --workload randio --fio-jobs randread,seqread
one_line "--fio-jobs with an unknown job" 2 "fio-jobs: unknown value 'seqread'"
no_leftovers "randio bad input"
finish
