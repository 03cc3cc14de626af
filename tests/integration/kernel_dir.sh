#!/bin/bash
# Integration: --uml-kernel and --kvm-kernel of a kernel build directory
# boot its kernel, and the results say where it came from (the directory,
# release, build id, and git HEAD and dirty flag when it is in a work tree).
. "$(dirname "$0")/lib.sh"

UML=/usr/bin/linux.uml
[ -x "$UML" ] || skip_all "no $UML"
command -v git >/dev/null || skip_all "no git"
G="git -c user.email=t@example.org -c user.name=t -C"

# A git work tree with the kernel at the top, as a kernel build leaves it.
B="$T/build"
mkdir -p "$B"
cp "$UML" "$B/linux"
$G "$B" init -q && $G "$B" add linux && $G "$B" commit -qm kernel
HEAD=$(git -C "$B" rev-parse HEAD)
ID=$(readelf -n "$UML" 2>/dev/null | sed -n 's/.*Build ID: //p')

boot() { # boot JSON ARGS...: one startup run
	local j=$1; shift
	run_vtb run --backend uml --workload startup --runs 1 --warmup 0 --json "$j" "$@"
}
boot "$T/clean.json" --uml-kernel "$B"
check "a clean build directory boots (rc=$RC)" [ "$RC" -eq 0 ]
jqok "... its kernel: $B/linux, release, build id $ID" \
	".versions.uml_kernel | .path == \"$B/linux\" and .build_dir == \"$B\" and .kind == \"uml\" and (.release | length > 0) and .build_id == \"$ID\"" \
	"$T/clean.json"
jqok "... git HEAD $HEAD, not dirty" \
	".versions.uml_kernel | .git_head == \"$HEAD\" and .git_dirty == false" "$T/clean.json"
jqok "... the cell's env says the same" \
	"[.results[].env.kernel | .build_dir == \"$B\" and .git_head == \"$HEAD\"] | all and length > 0" \
	"$T/clean.json"
no_leftovers "clean build directory"

echo change >"$B/Makefile"
boot "$T/dirty.json" --uml-kernel "$B"
check "a dirty build directory boots (rc=$RC)" [ "$RC" -eq 0 ]
jqok "... git_dirty true, same HEAD" \
	".versions.uml_kernel | .git_head == \"$HEAD\" and .git_dirty == true" "$T/dirty.json"

# Outside git: the directory recorded, no git fields.
N="$T/nogit"
mkdir -p "$N"
ln -s "$UML" "$N/linux"
boot "$T/nogit.json" --uml-kernel "$N"
check "a build directory outside git boots (rc=$RC)" [ "$RC" -eq 0 ]
jqok "... build_dir, no git fields" \
	".versions.uml_kernel | .build_dir == \"$N\" and .build_id == \"$ID\" and (has(\"git_head\") | not) and (has(\"git_dirty\") | not)" \
	"$T/nogit.json"
# A file, as before: no build_dir.
boot "$T/file.json" --uml-kernel "$UML"
jqok "a kernel file: no build_dir or git fields" \
	".versions.uml_kernel | (has(\"build_dir\") or has(\"git_head\")) | not" "$T/file.json"
no_leftovers "kernel directories"

# kvm: a build directory with only arch/x86/boot/bzImage (Debian's); its
# modules given, as for any kernel built elsewhere.
KVM_KERNEL=$(ls -1 /boot/vmlinuz-* "${VTBENCH_CACHE_DIR:-$HOME/.cache/vtbench}"/kernels/*/boot/vmlinuz-* 2>/dev/null | head -n1)
if [ -n "$KVM_KERNEL" ] && command -v qemu-system-x86_64 >/dev/null; then
	R=${KVM_KERNEL##*/vmlinuz-}
	MODS=$(dirname "$(dirname "$KVM_KERNEL")")/lib/modules/$R
	[ -d "$MODS" ] || MODS=/lib/modules/$R
	K="$T/kbuild"
	mkdir -p "$K/arch/x86/boot"
	ln -s "$KVM_KERNEL" "$K/arch/x86/boot/bzImage"
	run_vtb run --backend kvm --accel tcg --workload startup --runs 1 --warmup 0 \
		--kvm-kernel "$K" --kvm-modules "$MODS" --json "$T/kvm.json"
	check "kvm: a build directory's bzImage boots (rc=$RC)" [ "$RC" -eq 0 ]
	jqok "... its kernel is the bzImage, from $K, no git" \
		".versions.guest_kernel | .path == \"$K/arch/x86/boot/bzImage\" and .build_dir == \"$K\" and (.release | length > 0) and (has(\"git_head\") | not)" \
		"$T/kvm.json"
	no_leftovers "kvm build directory"
else
	skip "kvm build directory" "no guest kernel or QEMU"
fi
finish
