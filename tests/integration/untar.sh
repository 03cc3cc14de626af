#!/bin/bash
# Integration: the untar workload on UML's ubd and QEMU's virtio-blk with
# the quick tree, every file checked; a --tarball that is no tar archive
# refused before any boot; one GNU tar cannot extract fails the sample
# with tar's own words.
. "$(dirname "$0")/lib.sh"

J="$T/untar.json"
run_vtb run --backend uml,kvm --accel tcg --workload untar --untar-tree quick --target ubd,virtio-blk \
	--runs 1 --warmup 0 --json "$J"
check "untar on uml and kvm: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
for cell in "uml ubd" "kvm virtio-blk"; do
	set -- $cell
	jqok "$1 $2: 430 files, 22 dirs, 4000000 bytes extracted and checked" \
		"[.results[] | select(.backend == \"$1\" and .workload == \"untar\" and .target == \"$2\")] | length == 1 and all(.samples[0].ok and .samples[0].bytes == 4000000 and .metrics.files.summary.median == 430 and .metrics.dirs.summary.median == 22 and .metrics.files_per_s.summary.median > 0)" "$J"
done
no_leftovers "untar"

# Garbage: refused while parsing, one line naming the file, no guest.
head -c 20000 /dev/urandom >"$T/garbage.tar"
run_vtb run --backend uml --workload untar --tarball "$T/garbage.tar" --runs 1 --warmup 0
check "garbage --tarball: exit 2 (rc=$RC)" [ "$RC" -eq 2 ]
check "garbage --tarball: one line naming the file ($ERR)" \
	[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 -a -n "$(printf '%s' "$ERR" | grep -F "$T/garbage.tar: not a tar archive")" ]

# A well-formed archive GNU tar cannot extract: file x, then x/z.
mkdir -p "$T/src/y"
echo hi >"$T/src/x"
echo z >"$T/src/y/z"
tar -cf "$T/bad.tar" -C "$T/src" x y/z --transform 's,^y,x,'
run_vtb run --backend uml --workload untar --tarball "$T/bad.tar" --runs 1 --warmup 0 --json "$T/bad.json"
check "tar fails in the guest: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
jqok "the failed sample quotes tar's exit status and stderr" \
	'.results[0].samples[0].ok == false and (.results[0].samples[0].error | test("tar exited with status 2: .*x/z: Cannot open: Not a directory"))' "$T/bad.json"
no_leftovers "untar failure"
finish
