#!/bin/bash
# Integration: the profiles run made tiny by the command line's options
# (which replace the profile's), print the article's table beside ours,
# and show cells that failed, were skipped, are missing from vtbench or
# left out of the matrix as such, never as zeros; report --profile prints
# the same table from the saved file.
. "$(dirname "$0")/lib.sh"

# The table's section of a run's output: from the first "Profile " line.
table() { sed -n '/^Profile /,$p' "$1"; }
# No row that did not measure shows a figure of ours.
no_zeros() { # no_zeros WHAT FILE
	if table "$2" | grep -E '(SKIPPED|NOT RUN|MISSING|FAILED)' |
		grep -qE ' 0(\.0*)? (/s|MB/s|s) '; then
		not_ok "$1: a cell that did not measure shows 0"
	else
		ok "$1: cells that did not measure show no figure"
	fi
}

run_vtb list
check "list names the profiles and their command lines" \
	sh -c "grep -q '^  lima ' '$T/out' && grep -q 'vtbench run --workload=randio,untar' '$T/out' && grep -q '^  libguestfs ' '$T/out'"

# libguestfs: upload over virtio-serial and the payload disk (dd), two
# images, 1M each.
J="$T/lg.json"
run_vtb run --profile libguestfs --accel tcg --transport virtio-serial,virtio-blk \
	--workload upload,write-no-upload --image raw-prealloc,qcow2 --payload zero \
	--size 1M --disk-size 64M --runs 1 --warmup 0 --json "$J"
check "libguestfs: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
table "$T/out" >"$T/lg.table"
check "libguestfs: both posts' tables, ours beside the article's" \
	sh -c "grep -q '^Profile libguestfs: Performance of User-Mode Linux' '$T/lg.table' && grep -q '^Profile libguestfs: Benchmarks: uploading files' '$T/lg.table' && grep -q 'ours (median).*article (KVM on an idle physical machine' '$T/lg.table'"
check "libguestfs: raw prealloc upload and dd measured, beside 8.5 s and 7.5 s" \
	sh -c "grep -qE 'raw prealloc, upload @ kvm/direct/tcg +[0-9.]+ MB/s +[0-9.]+ % / 1 +8.5 s, 176 MBps' '$T/lg.table' && grep -qE 'raw prealloc, dd @ kvm/direct/tcg +[0-9.]+ MB/s .*7.5 s, 200 MBps' '$T/lg.table'"
check "libguestfs: the sync rows say what they need" \
	grep -q 'not in this matrix: add --mount-opts sync' "$T/lg.table"
check "libguestfs: tar.gz upload is missing, with why" \
	sh -c "grep -A1 'upload tar.gz' '$T/lg.table' | grep -q 'MISSING' && grep -q 'no compressed upload' '$T/lg.table'"
check "libguestfs: UML's serial-line upload is left out by --transport" \
	grep -q 'upload: serial line -> ubd  *NOT RUN' "$T/lg.table"
no_zeros libguestfs "$T/out"
jqok "libguestfs: the results record the profile and the command line's image list" \
	'.profile == "libguestfs" and ([.results[].image] | unique | sort == ["qcow2", "raw-prealloc"])' "$J"
no_leftovers libguestfs

# lima: 9p (QEMU's virtio-9p, UML's diod over a stream), fio for a second
# a job, the quick tree.
J="$T/lima.json"
run_vtb run --profile lima --accel tcg --target 9p --fio-runtime 1 --fio-size 4M \
	--untar-tree quick --runs 1 --warmup 0 --json "$J"
check "lima: exit 0 (rc=$RC: $(grep -m1 -i error "$T/err"))" [ "$RC" -eq 0 ]
table "$T/out" >"$T/lima.table"
check "lima: ours beside the article's, labelled as the article's" \
	grep -q 'ours (median) *CV / runs *article (macOS, Lima 0.14.2, other hardware)' "$T/lima.table"
check "lima: 9p randread and untar measured, beside 8,910 and 32.77 s" \
	sh -c "grep -qE '9p randread IOPS @ kvm/direct/tcg +[0-9]+ /s +[0-9.]+ % / 1 +8,910' '$T/lima.table' && grep -qE '9p untar @ kvm/direct/tcg +[0-9.]+ s .*32.77 s' '$T/lima.table'"
check "lima: 9p on UML measured too (diod over a stream)" \
	grep -qE '9p untar @ uml +[0-9.]+ s .*32.77 s' "$T/lima.table"
check "lima: reverse-sshfs (our sshfs) left out by --target 9p" \
	grep -q 'reverse-sshfs untar  *NOT RUN' "$T/lima.table"
check "lima: virtiofs left out by --target 9p" \
	grep -q 'virtiofs untar  *NOT RUN' "$T/lima.table"
no_zeros lima "$T/out"
jqok "lima: the profile's fio jobs and tree, the command line's runtime" \
	'.profile == "lima" and ([.results[] | select(.workload == "randio")] | length == 2) and ([.results[] | select(.workload == "untar") | .metrics.files.summary.median] == [430, 430])' "$J"
run_vtb report --profile lima "$J"
check "report --profile: the same table from the saved file" \
	sh -c "sed -n '/^Profile /,\$p' '$T/out' | diff -q - '$T/lima.table' >/dev/null"
no_leftovers lima

# A cell that fails shows FAILED with its error, not a zero: a tarball
# GNU tar cannot extract (file x, then x/z), on UML's hostfs.
mkdir -p "$T/src/y"
echo hi >"$T/src/x"
echo z >"$T/src/y/z"
tar -cf "$T/bad.tar" -C "$T/src" x y/z --transform 's,^y,x,'
run_vtb run --profile lima --backend uml --target hostfs --workload untar \
	--tarball "$T/bad.tar" --runs 1 --warmup 0
check "lima, failing untar: exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "lima, failing untar: the row says FAILED with tar's words" \
	sh -c "sed -n '/^Profile /,\$p' '$T/out' | grep -q 'hostfs untar @ uml  *FAILED: .*tar exited with status 2'"
no_zeros "lima, failing untar" "$T/out"
no_leftovers "lima, failing untar"
finish
