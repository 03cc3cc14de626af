#!/bin/bash
# Integration: `vtbench kernel config` for both arches, and --check on
# Debian's real kernel configs (UML's config.gz, the guest kernel's
# config-*): vtbench runs on both, so both must lack nothing.
. "$(dirname "$0")/lib.sh"

for arch in um x86_64; do
	run_vtb kernel config --arch "$arch"
	check "kernel config --arch $arch -> 0" [ "$RC" -eq 0 ]
	bad=$(printf '%s\n' "$OUT" | grep -v '^#' | grep -cvE '^CONFIG_[A-Z0-9_]+=(y|m) # .+$')
	check "$arch: every line CONFIG_X=y|m # why" [ "$bad" -eq 0 ]
	dups=$(printf '%s\n' "$OUT" | sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/\1/p' | sort | uniq -d)
	check "$arch: each symbol once" [ -z "$dups" ]
	# The fragment is a .config of itself, comments stripped.
	printf '%s\n' "$OUT" | sed 's/ #.*//' >"$T/$arch.config"
	run_vtb kernel config --arch "$arch" --check "$T/$arch.config"
	check "$arch: the fragment lacks nothing of itself (rc=$RC)" [ "$RC" -eq 0 -a -z "$OUT" ]
done
run_vtb kernel config --arch um
for s in BLK_DEV_UBD HOSTFS SSL VIRTIO_UML VIRTIO_CONSOLE VIRTIO_BLK NET_9P_FD 9P_FS; do
	check "um: CONFIG_$s" says "$OUT" "^CONFIG_$s="
done
run_vtb kernel config --arch x86_64
for s in PVH VIRTIO_PCI VIRTIO_CONSOLE VIRTIO_BLK NET_9P_VIRTIO 9P_FS \
	FUSE_FS VIRTIO_FS SERIAL_8250_CONSOLE EXT4_FS DEVTMPFS TMPFS; do
	check "x86_64: CONFIG_$s" says "$OUT" "^CONFIG_$s="
done

# One option taken away: named, exit 1; a module's =m where =y is asked
# is not enough, =y where =m is asked is.
grep -v '^CONFIG_PVH=' "$T/x86_64.config" >"$T/nopvh.config"
run_vtb kernel config --arch x86_64 --check "$T/nopvh.config"
if [ "$RC" -eq 1 ] && [ "$(printf '%s\n' "$OUT" | grep -c .)" -eq 1 ] &&
   says "$OUT" '^CONFIG_PVH=y # .*not set'; then ok "PVH missing -> 1, one line"
else not_ok "PVH missing: rc=$RC: $OUT"; fi
sed 's/=m$/=y/; s/^CONFIG_HOSTFS=y/CONFIG_HOSTFS=m/' "$T/um.config" >"$T/um-swapped.config"
run_vtb kernel config --arch um --check "$T/um-swapped.config"
if [ "$RC" -eq 1 ] && says "$OUT" '^CONFIG_HOSTFS=y .*=m' &&
   [ "$(printf '%s\n' "$OUT" | grep -c .)" -eq 1 ]; then ok "hostfs =m for =y -> lacking; =y for =m is fine"
else not_ok "swapped: rc=$RC: $OUT"; fi

# Debian's kernels.
UML_CONFIG=$(dpkg -L user-mode-linux 2>/dev/null | grep -m1 '/config\.gz$')
if [ -n "$UML_CONFIG" ] && [ -r "$UML_CONFIG" ]; then
	run_vtb kernel config --arch um --check "$UML_CONFIG"
	check "Debian's UML config ($UML_CONFIG) lacks nothing (rc=$RC): $OUT" [ "$RC" -eq 0 -a -z "$OUT" ]
else
	skip "Debian's UML config" "user-mode-linux's config.gz not installed"
fi
GUEST_CONFIG=$(ls -1 /boot/config-* "${VTBENCH_CACHE_DIR:-$HOME/.cache/vtbench}"/kernels/*/boot/config-* 2>/dev/null | head -n1)
if [ -n "$GUEST_CONFIG" ]; then
	run_vtb kernel config --arch x86_64 --check "$GUEST_CONFIG"
	check "Debian's guest config ($GUEST_CONFIG) lacks nothing (rc=$RC): $OUT" [ "$RC" -eq 0 -a -z "$OUT" ]
else
	skip "Debian's guest kernel config" "none in /boot or vtbench's cache"
fi
# A config of the wrong arch is a config: it lacks that arch's options.
if [ -n "$UML_CONFIG" ]; then
	run_vtb kernel config --arch x86_64 --check "$UML_CONFIG"
	check "UML's config for x86_64 lacks PVH -> 1" [ "$RC" -eq 1 ] && says "$OUT" '^CONFIG_PVH='
fi

# Bad input: one line, exit 2.
run_vtb kernel config --arch arm64
one_line "unknown --arch" 2 "unknown --arch 'arm64' (um, x86_64)"
run_vtb kernel config
one_line "no --arch" 2 "needs --arch"
run_vtb kernel frobnicate
one_line "unknown kernel subcommand" 2 "unknown subcommand 'frobnicate'"
run_vtb kernel config --arch um --check /nonexistent/.config
one_line "--check of a missing file" 2 "/nonexistent/.config.*No such file"
run_vtb kernel config --arch um --check /usr/bin/linux.uml
one_line "--check of a binary" 2 "not a kernel .config"
run_vtb kernel config --arch um --check /etc/passwd
one_line "--check of prose" 2 "/etc/passwd: not a kernel .config (line 1"
printf '\037\213garbage' >"$T/bad.gz"
run_vtb kernel config --arch um --check "$T/bad.gz"
one_line "--check of a broken .gz" 2 "gunzip $T/bad.gz"
run_vtb kernel --help
check "kernel --help -> 0" [ "$RC" -eq 0 ] && says "$OUT" "kernel config --arch"
finish
