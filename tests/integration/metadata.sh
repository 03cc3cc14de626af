#!/bin/bash
# Integration: the metadata workload (a walk and an rm -rf of an extracted
# tree) on real UML and QEMU/TCG guests: a small tree of our own, its
# tarball made with `tar -C src .` (a "./" member, not an entry), on
# tmpfs and one shared filesystem per backend; every part counts the
# tree's entries.  A guest that walks one entry short fails the sample
# naming the count, and so does a tar that fails; nothing is left
# behind.
. "$(dirname "$0")/lib.sh"

# 3 directories, 10 files, a symlink and a hard link: 15 entries.
mkdir -p "$T/src/a/b" "$T/src/c"
for i in 1 2 3 4; do echo "file $i" >"$T/src/a/f$i.c"; done
for i in 5 6 7; do head -c $((i * 1000)) /dev/zero >"$T/src/a/b/f$i.o"; done
for i in 8 9; do echo "$i" >"$T/src/c/f$i.txt"; done
echo top >"$T/src/README"
ln -s ../README "$T/src/c/readme"
ln "$T/src/README" "$T/src/a/README.hard"
tar -cf "$T/tree.tar" -C "$T/src" .
N=15
check "the tarball starts with ./" [ "$(tar -tf "$T/tree.tar" | head -1)" = "./" ]

J="$T/meta.json"
run_vtb run --backend uml,kvm --accel tcg --workload metadata --tarball "$T/tree.tar" \
	--target tmpfs,hostfs,virtiofs --runs 2 --warmup 0 --json "$J" --csv "$T/meta.csv"
check "metadata on uml and kvm: exit 0 (rc=$RC: $(grep -m1 -i -e error -e FAILED "$T/err"))" [ "$RC" -eq 0 ]
for cell in "uml tmpfs" "uml hostfs" "kvm tmpfs" "kvm virtiofs"; do
	set -- $cell
	jqok "$1 $2: walk and rm of all $N entries, phases walk_s and rm_s, files/s of each" \
		"[.results[] | select(.backend == \"$1\" and .workload == \"metadata\" and .target == \"$2\")] | length == 1 and all(.samples | length == 2 and all(.ok and .metrics.entries == $N and .phases.walk_s > 0 and .phases.rm_s > 0 and .metrics.walk_files_per_s > 0 and .metrics.rm_files_per_s > 0)) and all(.phases.walk_s > 0 and .phases.rm_s > 0)" "$J"
done
check "the CSV has the phases" grep -q 'walk_s' "$T/meta.csv"
check "the table shows the phases" says "$OUT" 'metadata ->virtiofs.*walk_s [0-9.]*, rm_s'
no_leftovers "metadata"

# The doctored guest: its walk leaves an entry out.
VTBENCH_TEST_METADATA_SHORT=1 run_vtb run --backend uml --workload metadata \
	--tarball "$T/tree.tar" --target tmpfs --runs 1 --warmup 0 --json "$T/short.json"
check "a short walk: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "the failed sample names the count" \
	".results[0].samples[0].ok == false and (.results[0].samples[0].error | test(\"walk counted $((N - 1)) entries, the tarball holds $N\"))" "$T/short.json"
no_leftovers "metadata, short walk"

# A tar that fails before the clock starts: the sample quotes it.
mkdir -p "$T/bad/y"
echo hi >"$T/bad/x"
echo z >"$T/bad/y/z"
tar -cf "$T/bad.tar" -C "$T/bad" x y/z --transform 's,^y,x,'
run_vtb run --backend uml --workload metadata --tarball "$T/bad.tar" --target tmpfs \
	--runs 1 --warmup 0 --json "$T/bad.json"
check "tar fails in the guest: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "the failed sample quotes tar's exit status and stderr" \
	'.results[0].samples[0].ok == false and (.results[0].samples[0].error | test("tar exited with status 2: .*x/z: Cannot open: Not a directory"))' "$T/bad.json"
no_leftovers "metadata, tar failed"
finish
