#!/bin/bash
# The fault campaign (`make check-long`): boots of both backends with a
# fault injected at a random point, and SIGINTs at random moments of a
# mixed matrix.  Every fault must end its run within the deadline, as a
# failed sample (or a one-line refusal) naming the fault, and leave
# nothing behind; every SIGINT must end vtbench with 130 and leave no
# process, temp dir, socket, mount, libvirt domain or pool.
#
# CAMPAIGN_BOOTS (200), CAMPAIGN_SIGINTS (50) and CAMPAIGN_SEED (random,
# printed) set its size and make a run repeatable.  Figures go to
# tests/campaign.summary.
VTB_BUILDDIR=${VTB_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$(dirname "$0")/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "the campaign mounts tmpfs (a full disk, a read-only cache): run it as root"

BOOTS=${CAMPAIGN_BOOTS:-200}
SIGINTS=${CAMPAIGN_SIGINTS:-50}
SEED=${CAMPAIGN_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$SEED
echo "# campaign: $BOOTS faulted boots, $SIGINTS SIGINTs, seed $SEED"
SUMMARY="$(dirname "$0")/campaign.summary"
DEADLINE=180 # s: longer than any deadline of vtbench's own here

KVM_KERNEL=$(ls -1 /boot/vmlinuz-* "${VTBENCH_CACHE_DIR:-$HOME/.cache/vtbench}"/kernels/*/boot/vmlinuz-* 2>/dev/null | head -n1)
KINDS=(panic crash stall vmm-kill helper-kill disk-full cache-ro)
declare -A RUNS OKS
HANGS=0

# between LO HI: a random integer in [LO, HI].
between() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }

# The error of the first failed sample in $1, else "".
first_error() {
	jq -r '[.results[] | (.samples // [])[] | select(.ok | not) | .error] | first // ""' "$1" 2>/dev/null
}

# One faulted boot: run vtbench in the background with $ENV, inject, and
# judge.  Sets RC, E (the reason: failed sample's error or stderr), SECS.
J="$T/c.json"
faulted() { # faulted INJECT_FN ARGS...
	local inject=$1 t0 pid
	shift
	rm -f "$J"
	t0=$(date +%s.%N)
	timeout -s KILL $DEADLINE env "${ENVS[@]}" "$VTB" run --runs 1 --warmup 0 \
		--json "$J" "$@" >"$T/out" 2>"$T/err" &
	pid=$!
	$inject
	wait $pid
	RC=$?
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	E=$(first_error "$J")
	[ -n "$E" ] || E=$(tr '\n' ' ' <"$T/err")
}

no_inject() { :; }
# A random moment after the process started: 0.1 to 2.9 s.
kill_later() {
	wait_proc "$1" || return
	sleep "$(between 0 2).$(between 1 9)"
	pkill -KILL -f "$1.*$TMPDIR|$TMPDIR.*$1"
}
kill_vmm() { kill_later "$([ "$BE" = kvm ] && echo qemu-system-x86_64 || echo linux.uml)"; }
HELPER=""
kill_helper() { kill_later "$HELPER"; }

for i in $(seq 0 $((BOOTS - 1))); do
	KIND=${KINDS[$((i % ${#KINDS[@]}))]}
	BE=$([ $(((i / ${#KINDS[@]}) % 2)) = 0 ] && echo uml || echo kvm)
	ENVS=(VTBENCH_STALL_S=2)
	INJECT=no_inject
	MNT=""
	case $KIND in
	panic | crash)
		MS=$(between 100 1500)
		ENVS+=(VTBENCH_TEST_FAULT=$KIND:$MS)
		ARGS=(--backend $BE --accel tcg --transport virtio-serial --workload upload-no-write --size 2G)
		if [ $KIND = panic ]; then
			WANT='Kernel panic - not syncing: sysrq triggered crash'
		else
			WANT='guest agent failed .*fatal signal 11|Attempted to kill init'
		fi
		WHAT="$KIND $MS ms after HELLO" ;;
	stall)
		ENVS+=(VTBENCH_TEST_STALL=1)
		TR=$(between 0 1)
		TR=$([ $TR = 0 ] && echo virtio-serial || echo serial)
		# QEMU's UART under TCG carries ~100 KB/s: a size for it.
		SZ=$([ $TR = serial ] && echo "$(between 256 1024)K" || echo "$(between 1 8)M")
		ARGS=(--backend $BE --accel tcg --transport $TR --workload upload-no-write --size "$SZ")
		WANT='stalled'
		WHAT="guest stops reading $TR" ;;
	vmm-kill)
		INJECT=kill_vmm
		ARGS=(--backend $BE --accel tcg --transport virtio-serial --workload upload-no-write --size 2G)
		WANT='killed by signal 9|control channel closed'
		WHAT="VMM killed" ;;
	helper-kill)
		INJECT=kill_helper
		if [ $BE = uml ]; then
			HELPER=qemu-storage-daemon
			ARGS=(--backend uml --transport virtio-blk --workload upload-no-write --size 2G)
		else
			HELPER=virtiofsd
			ARGS=(--backend kvm --accel tcg --workload write-no-upload --target virtiofs --size 2G)
		fi
		WANT="$HELPER, a back-end of the guest.s devices, killed by signal 9"
		WHAT="$HELPER killed" ;;
	disk-full)
		MNT="$T/full"
		mkdir -p "$MNT"
		KB=$(between 256 4096)
		mount -t tmpfs -o size=${KB}k,mode=0700 tmpfs "$MNT" || { not_ok "boot $i: cannot mount a tmpfs"; continue; }
		mkdir "$MNT/tmp"
		ENVS+=(TMPDIR="$MNT/tmp")
		ARGS=(--backend $BE --accel tcg --workload write-no-upload --size 1M --disk-size 64M --image raw-prealloc)
		WANT='[Ss]pace|qemu-img|mke2fs|ENOSPC'
		WHAT="host disk full (TMPDIR on ${KB} KiB)" ;;
	cache-ro)
		MNT="$T/roc"
		mkdir -p "$MNT"
		mount -t tmpfs -o ro,size=1m,mode=0700 tmpfs "$MNT" || { not_ok "boot $i: cannot mount a tmpfs"; continue; }
		ENVS+=(VTBENCH_CACHE_DIR="$MNT")
		# The kernels are in the real cache: only the appliance is not.
		ARGS=(--backend $BE --accel tcg --workload upload-no-write --transport virtio-serial --size 1M)
		[ $BE = kvm ] && ARGS+=(--kvm-kernel "$KVM_KERNEL")
		WANT='Read-only file system'
		WHAT="cache directory read-only" ;;
	esac
	faulted $INJECT "${ARGS[@]}"
	[ -n "$MNT" ] && { umount "$MNT"; rmdir "$MNT"; }
	RUNS[$KIND]=$((${RUNS[$KIND]:-0} + 1))
	# A refusal before any boot is exit 2 with one line; a fault during a
	# run is exit 3 with the failed sample's reason.
	case $KIND in cache-ro) WANT_RC=2 ;; *) WANT_RC=3 ;; esac
	[ "$RC" = 137 ] && HANGS=$((HANGS + 1))
	left=$( (pgrep -a -f "$TMPDIR" | grep -v pgrep; ls -A "$TMPDIR") 2>/dev/null)
	if [ "$RC" = "$WANT_RC" ] && printf '%s' "$E" | grep -Eq -- "$WANT" && [ -z "$left" ]; then
		OKS[$KIND]=$((${OKS[$KIND]:-0} + 1))
		ok "boot $i: $BE, $WHAT: exit $RC in $SECS s: ${E:0:160}"
	else
		not_ok "boot $i: $BE, $WHAT: exit $RC in $SECS s (want $WANT_RC and /$WANT/): ${E:0:400}; left: [$left]"
		pkill -KILL -f "$TMPDIR" 2>/dev/null
		rm -rf "${TMPDIR:?}"/* 2>/dev/null
	fi
done

# SIGINTs at random moments of a mixed matrix: boots, transfers, disks
# being made, shared directories mounted, libvirt domains and volumes.
LV=""
if libvirt_up; then LV=",libvirt"; fi
INTS_OK=0
for i in $(seq 1 "$SIGINTS"); do
	rm -f "$J"
	"$VTB" run --backend uml,kvm --accel tcg --driver "direct$LV" \
		--workload startup,upload-no-write,upload,write-no-upload \
		--transport virtio-serial,serial,virtio-blk,ubd --target virtio-blk,ubd,9p,virtiofs,hostfs \
		--size 64M --runs 3 --warmup 0 --json "$J" >"$T/out" 2>"$T/err" &
	pid=$!
	at="$(between 0 12).$(between 0 9)"
	sleep "$at"
	kill -INT $pid
	for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $pid 2>/dev/null; then
		HANGS=$((HANGS + 1))
		kill -KILL $pid
	fi
	wait $pid
	rc=$?
	sleep 0.5
	procs=$(pgrep -a -f "$TMPDIR" | grep -v pgrep)
	files=$(ls -A "$TMPDIR")
	mounts=$(grep -F -- "$TMPDIR" /proc/mounts)
	doms=""; pools=""
	if [ -n "$LV" ]; then
		doms=$(virsh -c qemu:///system list --all --name 2>/dev/null | grep vtbench)
		pools=$(virsh -c qemu:///system pool-list --all --name 2>/dev/null | grep vtbench)
	fi
	if [ "$rc" = 130 ] && [ -z "$procs$files$mounts$doms$pools" ]; then
		INTS_OK=$((INTS_OK + 1))
		ok "SIGINT $i at ${at} s: exit 130, nothing left"
	else
		not_ok "SIGINT $i at ${at} s: exit $rc; left: procs=[$procs] files=[$files] mounts=[$mounts] domains=[$doms] pools=[$pools]; $(tail -c 300 "$T/err")"
		pkill -KILL -f "$TMPDIR" 2>/dev/null
		rm -rf "${TMPDIR:?}"/* 2>/dev/null
	fi
done
libvirt_stop

{
	echo "campaign $(date -u +%FT%TZ), seed $SEED, $(grep -c amx_tile /proc/cpuinfo | sed 's/^0$/no AMX/;s/^[1-9].*/AMX/')"
	for k in "${KINDS[@]}"; do
		echo "  $k: ${OKS[$k]:-0} of ${RUNS[$k]:-0} failed with the right reason, nothing left"
	done
	echo "  SIGINT: $INTS_OK of $SIGINTS exit 130 with nothing left${LV:+ (libvirt cells included)}"
	echo "  hangs past the deadlines: $HANGS"
} | tee "$SUMMARY" | sed 's/^/# /'
check "no hang past the deadlines ($HANGS)" [ "$HANGS" -eq 0 ]
finish
