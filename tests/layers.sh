#!/bin/bash
# The layers point one way (DESIGN.md, Architecture v2): each folder may
# include only the headers its table line allows, and no plug-in outside
# uml/ and kvm/ names a backend or driver.  core/ is still three layers in
# one folder (issue 10) and is not checked yet.
cd "${VTB_SRCDIR:-$(dirname "$0")/..}" || exit 1
FAILS=0
TESTS=0
ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
not_ok() { TESTS=$((TESTS + 1)); FAILS=$((FAILS + 1)); echo "not ok $TESTS - $*"; }

# folder: the headers it may include (shell patterns).
BASE='core/vtbench.h core/proc.h core/channel.h core/vm.h core/registry.h core/kernels.h core/disk.h core/progress.h core/console.h core/json.h appliance/appliance.h proto/proto.h'
declare -A ALLOW=(
	[proto]='proto/*'
	[agent]='proto/*'
	[appliance]='appliance/*'
	[flush]="flush/* $BASE"
	[transports]="$BASE"
	# core/stats.h is analysis: the roundtrip median moves with the engine.
	[workloads]="workloads/* flush/* core/stats.h $BASE"
	[uml]="uml/* $BASE"
	[kvm]="kvm/* $BASE"
)
for dir in "${!ALLOW[@]}"; do
	bad=""
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			allowed=no
			for pat in ${ALLOW[$dir]} "$dir/*"; do
				# shellcheck disable=SC2254
				case $inc in $pat) allowed=yes ;; esac
			done
			[ "$allowed" = yes ] || bad="$bad $f:$inc"
		done
	done
	if [ -z "$bad" ]; then ok "$dir/ includes only its own layer and below"
	else not_ok "$dir/ includes above its layer:$bad"; fi
done

names=$(grep -rnE '"(uml|kvm|direct|libvirt)"|backend->name|vtb_backend_(uml|kvm)\b' \
	transports workloads --include=*.c --include=*.h)
if [ -z "$names" ]; then ok "transports/ and workloads/ name no backend or driver"
else not_ok "backend names outside the backends: $names"; fi

echo "1..$TESTS"
[ "$FAILS" -eq 0 ]
