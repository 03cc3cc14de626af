#!/bin/bash
# Integration: each bad input gives one line naming it, exit 2, no leftovers.
. "$(dirname "$0")/lib.sh"

# Nothing may boot before bad input is refused: QEMU is found in PATH,
# and this one logs every boot (-kernel) before it runs the real one.
QEMU=$(command -v qemu-system-x86_64)
mkdir -p "$T/bin"
printf '#!/bin/sh\ncase " $* " in *" -kernel "*) echo "$*" >>"%s";; esac\nexec %s "$@"\n' \
	"$T/booted" "$QEMU" >"$T/bin/qemu-system-x86_64"
chmod +x "$T/bin/qemu-system-x86_64"
export PATH="$T/bin:$PATH"

expect_bad() { # expect_bad 'WORDS IN MESSAGE' ARGS...
	local want=$1; shift
	rm -f "$T/booted"
	run_vtb run --runs 1 --warmup 0 "$@"
	local lines
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	if [ "$RC" -eq 2 ] && [ "$lines" -eq 1 ] &&
	   printf '%s' "$ERR" | grep -q -- "$want"; then
		ok "$* -> exit 2: $ERR"
	else
		not_ok "$* -> rc=$RC lines=$lines (want 2, 1 line with '$want'): $ERR"
	fi
	check "$*: nothing booted" [ ! -e "$T/booted" ]
	no_leftovers "$*"
}

KVM_KERNEL=$(ls -1 /boot/vmlinuz-* "${VTBENCH_CACHE_DIR:-$HOME/.cache/vtbench}"/kernels/*/boot/vmlinuz-* 2>/dev/null | head -n1)

expect_bad "No such file" --backend uml --uml-kernel /nonexistent/linux
expect_bad "not a Linux kernel" --backend uml --uml-kernel /bin/true
expect_bad "[bB][zZ][iI]mage" --backend uml --uml-kernel "$KVM_KERNEL"
expect_bad "UML kernel" --backend kvm --accel tcg --kvm-kernel /usr/bin/linux.uml
# Build directories holding no kernel (issue 15): what was looked for.
mkdir -p "$T/emptybuild/arch/x86/boot"
expect_bad "--uml-kernel $T/emptybuild: a directory without a kernel (looked for linux in it)" \
	--backend uml --uml-kernel "$T/emptybuild"
expect_bad "--kvm-kernel $T/emptybuild: a directory without a kernel (looked for vmlinux or arch/x86/boot/bzImage in it)" \
	--backend kvm --accel tcg --kvm-kernel "$T/emptybuild"
# A directory named linux is not a kernel file.
mkdir -p "$T/dirbuild/linux"
expect_bad "looked for linux in it" --backend uml --uml-kernel "$T/dirbuild"
# A build directory of the other kind of kernel.
mkdir -p "$T/umlbuild" && ln -s /usr/bin/linux.uml "$T/umlbuild/vmlinux"
expect_bad "UML kernel" --backend kvm --accel tcg --kvm-kernel "$T/umlbuild"
expect_bad "no such program" --backend kvm --accel tcg --qemu /nonexistent/qemu-system-x86_64
expect_bad "unknown backend 'vmware'" --backend vmware
expect_bad "unknown workload 'boot'" --workload boot
expect_bad "unknown option --frobnicate" --frobnicate
expect_bad "unknown profile 'lim' (known: libguestfs, lima)" --profile lim
expect_bad "unknown value 'vmdk'" --profile libguestfs --image vmdk
expect_bad "must be at least 1" --runs 0
expect_bad "not a directory" --backend kvm --accel tcg --kvm-modules /nonexistent

# Bounds and shapes that once ran, hung or crashed (issue 14).
expect_bad "roundtrip: --size 1099511627776 with --msg-size 64 is 17179869184 messages: it must be 1 to" \
	--backend uml --workload roundtrip --size 1T --msg-size 64
expect_bad "--runs: at most 100000, got 2147483647" --runs 2147483647 --warmup 1
expect_bad "--cpus: at most [0-9]* (this host's CPUs), got 999" --backend kvm --accel tcg --cpus 999
expect_bad "--mem: at most [0-9]* MiB (this host's memory), got 2147483647" --mem 2147483647
# Under --accel auto too: refused before the KVM test boots anything, so
# no verdict is made (or cached) with them.  The test device forced, so
# the test would boot even on a host without /dev/kvm.
VTBENCH_TEST_KVM_DEV=/dev/null expect_bad "--cpus: at most [0-9]* (this host's CPUs), got 999" \
	--backend kvm --cpus 999
VTBENCH_TEST_KVM_DEV=/dev/null expect_bad "--mem: at most [0-9]* MiB (this host's memory), got 2147483647" \
	--backend kvm --mem 2147483647
expect_bad "--timeout: not a number of seconds (0.1 <= SEC <= 86400): '1e-9'" --timeout 1e-9
expect_bad "--mount-opts: 'sync init=/bin/sh' has a space" --backend uml --mount-opts "sync init=/bin/sh"
expect_bad "--json: cannot write /nonexistent/dir/r.json: /nonexistent/dir: No such file" \
	--json /nonexistent/dir/r.json
expect_bad "--csv: /dev/null is not a regular file" --csv /dev/null
check "... /dev/null still a character device" [ -c /dev/null ]
mkfifo "$T/fifo"
expect_bad "--uml-kernel: $T/fifo: a FIFO, not a regular file" --backend uml --uml-kernel "$T/fifo"
expect_bad "--kvm-kernel: $T/fifo: a FIFO, not a regular file" --backend kvm --accel tcg --kvm-kernel "$T/fifo"
check "... the FIFO left as it was" [ -p "$T/fifo" ]
expect_bad "--qemu /bin/true: not a QEMU: --version says 'true" --backend kvm --accel tcg --qemu /bin/true

# Broken modules: a copy of the guest kernel's module tree with one module
# damaged.  The closure needs virtio_console and its dependencies.
REL=${KVM_KERNEL##*/vmlinuz-}
SRC=$(dirname "$(dirname "$KVM_KERNEL")")/lib/modules/$REL
[ -d "$SRC" ] || SRC=/lib/modules/$REL
mkmods() {
	rm -rf "$T/mods"
	mkdir -p "$T/mods"
	find "$SRC" -name 'virtio*.ko*' -exec cp {} "$T/mods/" \;
}
mkmods
head -c 3000 "$T/mods/virtio_console.ko" >"$T/mods/cut" && mv "$T/mods/cut" "$T/mods/virtio_console.ko"
expect_bad "virtio_console" --backend kvm --accel tcg --kvm-modules "$T/mods"
mkmods
echo "this is not an ELF object" >"$T/mods/virtio_console.ko"
expect_bad "not ELF\|not a kernel module" --backend kvm --accel tcg --kvm-modules "$T/mods"
mkmods
# Same length, another release: the module no longer matches the kernel.
perl -0777 -pi -e 's/vermagic=\Q'"$REL"'\E/"vermagic=" . ("9" x length("'"$REL"'"))/e' "$T/mods/virtio_ring.ko"
expect_bad "vermagic" --backend kvm --accel tcg --kvm-modules "$T/mods"
mkmods
rm "$T/mods/virtio_ring.ko"
expect_bad "virtio_ring" --backend kvm --accel tcg --kvm-modules "$T/mods"

# --accel kvm where KVM is not usable: exit 2 with the test's reason.  A
# host where KVM works cannot show it: a SKIP, not another check.
"$VTB" probe >"$T/probe" 2>&1
if grep -q '^KVM usable:  no' "$T/probe"; then
	expect_bad "KVM is not usable here" --backend kvm --accel kvm
else
	skip "--accel kvm where KVM is not usable -> exit 2" "KVM is usable on this host"
fi

# Results that cannot be saved (a full disk; the directory itself is
# writable, so no option check can see it): the run stops at the first
# failed save and does not exit 0.
mkdir -p "$T/full"
if mount -t tmpfs -o size=4k tmpfs "$T/full" 2>/dev/null; then
	run_vtb run --backend uml --workload startup --runs 3 --warmup 0 --json "$T/full/r.json"
	check "results that cannot be written -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
	check "... said once, naming the file and the reason" \
		[ "$(grep -c "write results: .*$T/full/r.json.*No space left" "$T/err")" -eq 1 ]
	check "... no run after it" grep -q '^uml startup .* 0/0 ' "$T/out"
	check "... no temp file left" [ -z "$(ls -A "$T/full")" ]
	umount "$T/full"
else
	skip "results that cannot be written" "cannot mount a tmpfs here"
fi
no_leftovers "results that cannot be written"

# Subcommands.
run_vtb frobnicate
check "unknown command -> 2" [ "$RC" -eq 2 ]
run_vtb compare a.json b.json
check "compare of missing files -> 2" [ "$RC" -eq 2 ]
# A cache directory others may write: what is in it cannot be believed.
mkdir -p "$T/opencache" && chmod 777 "$T/opencache"
VTBENCH_CACHE_DIR="$T/opencache" expect_bad "cache directory $T/opencache: writable by others" --backend uml
# A random payload the cache's filesystem cannot hold: refused before
# anything is written (it was a disk filled to ENOSPC).
expect_bad "the random payload to make .* would not fit the filesystem of the cache directory" \
	--backend uml --transport virtio-serial --workload upload-no-write --payload random --size 1000T
# kernel build (issue 15): bad input needs no kernel tree, and nothing of
# it is written into SRC or the cache.  A stand-in tree with what makes a
# kernel tree to vtbench (Makefile, Kconfig, the kconfig and arch dirs).
export VTBENCH_CACHE_DIR="$T/kcache"
K="$T/ktree"
mkdir -p "$K/scripts/kconfig" "$K/arch/um" "$K/arch/x86"
for f in Makefile Kconfig scripts/kconfig/Makefile arch/um/Kconfig arch/x86/Kconfig; do
	echo "# $f" >"$K/$f"
done
# Files with their size and mtime; directories by name (the test itself
# adds and removes entries in them).
listing() { find "$1" \( -type d -printf '%P/\n' \) -o -printf '%P %y %s %T@\n' | sort; }
before=$(listing "$K")
kbad() { # kbad 'WORDS' ARGS...: kernel ARGS -> exit 2, one line
	local want=$1; shift
	run_vtb kernel "$@"
	one_line "kernel $*" 2 "$want"
}
kbad "needs the kernel source tree SRC" build
kbad "$T/nonexistent: not a directory" build "$T/nonexistent"
kbad "$T: not a kernel source tree (no Makefile in it)" build "$T"
mkdir -p "$T/umtree"
cp -a "$K/." "$T/umtree"
rm -r "$T/umtree/arch/x86"
kbad "$T/umtree: not a kernel source tree (no arch/x86/Kconfig in it)" build "$T/umtree" --arch x86_64
kbad "unknown --arch 'arm64' (um, x86_64)" build "$K" --arch arm64
kbad "one SRC only ('extra' is extra)" build "$K" extra
kbad "unknown subcommand 'frob' (config, build)" frob
# Configured in place: kbuild refuses O= then; say so before make does.
echo "CONFIG_HOSTFS=y" >"$K/.config"
before_cfg=$(listing "$K")
kbad "$K has been configured in place (.config): kbuild builds out of place (O=) only from a clean tree" \
	build "$K"
check "... the tree left as it was" [ "$before_cfg" = "$(listing "$K")" ]
rm -f "$K/.config"
mkdir -p "$K/include/config"
kbad "configured in place (include/config)" build "$K" --arch x86_64
rmdir "$K/include/config" "$K/include"
check "kernel build bad input: nothing written into SRC" [ "$before" = "$(listing "$K")" ]
check "... nor a build into the cache" [ ! -e "$T/kcache/kbuild" ]
# A tree whose make fails: exit 2, make's first complaint and the log
# (--quiet: without a terminal, progress is a plain line a phase).
kbad "configure failed (ARCH=um): make: \*\*\* No rule to make target 'defconfig'.  Stop. (log: $T/kcache/kbuild/[0-9a-f]*/build.log)" \
	build "$K" --quiet
check "... nothing written into SRC" [ "$before" = "$(listing "$K")" ]
check "... no completed-build stamp" [ -z "$(ls "$T"/kcache/kbuild/*/done 2>/dev/null)" ]
# check --kernel-tree: a tree that is no tree is a usage error (128), which
# stops a bisect, and is said before anything runs.
run_vtb run --backend uml --workload startup --runs 1 --warmup 0 --json "$T/kbase.json"
run_vtb check "$T/kbase.json" --kernel-tree "$T"
one_line "check --kernel-tree of no kernel tree" 128 "--kernel-tree: $T: not a kernel source tree"
run_vtb check "$T/kbase.json" --kernel-tree "$K" --uml-kernel /usr/bin/linux.uml
one_line "check --kernel-tree with --uml-kernel" 128 \
	"--kernel-tree builds the kernel that --uml-kernel would name: give one of them"
# A tree that does not build: bisect skips the commit (125).
run_vtb check "$T/kbase.json" --kernel-tree "$K"
check "check --kernel-tree of a tree that does not build -> 125 (rc=$RC: $ERR)" [ "$RC" -eq 125 ]
check "... the verdict line names make's complaint" \
	grep -q "^vtbench check: skip (125): the kernel tree did not build: configure failed (ARCH=um): make: \*\*\* No rule" "$T/out"
unset VTBENCH_CACHE_DIR

run_vtb run --help
check "run --help -> 0 and lists --uml-kernel" [ "$RC" -eq 0 -a -n "$(printf '%s' "$OUT" | grep -- --uml-kernel)" ]
finish
