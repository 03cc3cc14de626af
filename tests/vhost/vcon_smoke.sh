#!/bin/bash
# Smoke test of the vhost-user virtio-console back-end (vhost/console.h)
# with UML as the front-end: the guest (the host's / over hostfs,
# read-only) reads BYTES from /dev/vportNp1 and sends back their SHA-256
# and BACK bytes of zeros; tests/vhost/vcon_smoke checks both and prints
# the throughput.  Needs the build (make tests/vhost/vcon_smoke).
#   tests/vhost/vcon_smoke.sh [BYTES [BACK]]
cd "${VTB_SRCDIR:-$(dirname "$0")/../..}" || exit 1
BUILDDIR=${VTB_BUILDDIR:-.}
BYTES=${1:-209715200}
BACK=${2:-16777216}
UML=${VTB_UML_KERNEL:-/usr/bin/linux.uml}
MOD=${VTB_VCON_MODULE:-/usr/lib/uml/modules/6.1.176/kernel/drivers/char/virtio_console.ko}
PROG=$BUILDDIR/tests/vhost/vcon_smoke
NAME=org.vtbench.smoke
for f in "$UML" "$MOD" "$PROG"; do
	[ -e "$f" ] || { echo "1..0 # SKIP $f not found"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/vcon_smoke.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
mkdir "$T/uml"
cat >"$T/init" <<EOS
#!/bin/sh
# PID 1 of the guest: the port, the transfer, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "guest: insmod"
insmod $MOD || echo "guest: insmod failed"
dev=
for i in \$(seq 200); do
	for p in /sys/class/virtio-ports/*; do
		[ -r "\$p/name" ] && [ "\$(cat "\$p/name")" = $NAME ] && dev=/dev/\${p##*/}
	done
	[ -n "\$dev" ] && [ -c "\$dev" ] && break
	sleep 0.05
done
echo "guest: port $NAME is \$dev"
h=\$(head -c $BYTES "\$dev" | sha256sum)
echo "guest: sha256 \$h"
{ echo "\$h"; head -c $BACK /dev/zero; } >"\$dev"
echo "guest: sent back, powering off"
poweroff -f -f
EOS
chmod +x "$T/init"

# mem: the guest's RAM file goes to TMPDIR; UML's own files to uml_dir.
TMPDIR=$T timeout 120 "$PROG" "$T/vcon.sock" "$NAME" "$BYTES" "$BACK" \
	"$T/console.log" 90 -- \
	"$UML" mem=256M umid=vcon-smoke uml_dir="$T/uml" \
	"virtio_uml.device=$T/vcon.sock:3" root=/dev/root rootfstype=hostfs \
	rootflags=/ hostfs=/ ro init="$T/init" con=null ssl=null \
	con0=fd:0,fd:1 >"$T/out" 2>&1
RC=$?
cat "$T/out"
if [ "$RC" -eq 0 ] && grep -q "^host->guest: .* verified by the guest" "$T/out"; then
	echo "ok 1 - $BYTES bytes to the guest and $BACK back over vhost-user virtio-console"
	echo "1..1"
	exit 0
fi
echo "# console of the guest:"
sed 's/^/# /' "$T/console.log" | tail -n 60
echo "not ok 1 - vcon_smoke exited $RC"
echo "1..1"
exit 1
