#!/bin/bash
# The layers point one way (DESIGN.md, Architecture v2):
#  1. each folder includes only the folders its table line allows;
#  2. nothing outside uml/ and kvm/ names a backend or driver;
#  3. no two object files of the host call each other, directly or round
#     a loop (nm's defined/undefined symbols, a loop found by tsort).  Only
#     core/plugins.c, the table of plug-ins, points up, by design.
cd "${VTB_SRCDIR:-$(dirname "$0")/..}" || exit 1
BUILDDIR=${VTB_BUILDDIR:-.}
FAILS=0
TESTS=0
ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
not_ok() { TESTS=$((TESTS + 1)); FAILS=$((FAILS + 1)); echo "not ok $TESTS - $*"; }

# folder: the folders it may include, besides its own.
declare -A ALLOW=(
	[proto]=''
	[agent]='proto'
	[appliance]=''
	[core]='appliance proto'
	[flush]='core appliance proto'
	[engine]='core flush appliance proto'
	[transports]='core engine appliance proto'
	[workloads]='core engine appliance proto'
	[vhost]='core'
	[uml]='vhost core appliance proto'
	[kvm]='core appliance proto'
	[results]='core appliance proto'
	[analysis]='results core appliance proto'
	[run]='analysis results engine uml kvm transports workloads flush core appliance proto'
)
for dir in "${!ALLOW[@]}"; do
	bad=""
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			case $inc in */*) top=${inc%%/*} ;; *) top=. ;; esac
			# config.h, from configure, is below every layer.
			[ "$inc" = config.h ] && continue
			allowed=no
			for a in $dir ${ALLOW[$dir]}; do
				[ "$top" = "$a" ] && allowed=yes
			done
			[ "$allowed" = yes ] || bad="$bad $f:$inc"
		done
	done
	if [ -z "$bad" ]; then ok "$dir/ includes only ${ALLOW[$dir]:-nothing} besides itself"
	else not_ok "$dir/ includes above its layer:$bad"; fi
done

# Every folder with host sources has a line above.
for f in $(sed -n 's#^[[:space:]]*\([a-z]*\)/[a-z_]*\.c.*#\1#p' Makefile.am | sort -u); do
	[ "$f" = tests ] && continue
	[ -n "${ALLOW[$f]+x}" ] || not_ok "folder $f/ has no line in the layer table"
done

# core/ too, but for the table of plug-ins (plugins.c and the externs
# registry.h declares for it).
names=$(grep -rnE '"(uml|kvm|direct|libvirt)"|backend->name *[!=]=|vtb_backend_(uml|kvm)\b' \
	transports workloads engine run results analysis core --include=*.c --include=*.h |
	grep -v '^core/plugins\.c:' |
	grep -v '^core/registry\.h:[0-9]*:extern const struct vtb_backend_ops vtb_backend_')
if [ -z "$names" ]; then ok "transports/ workloads/ engine/ run/ results/ analysis/ core/ name no backend or driver"
else not_ok "backend names outside the backends: $names"; fi

# The interfaces every plug-in implements are written without naming one
# (a backend's options, state and kinds of image live in its own folder).
words=$(grep -niwE 'uml|kvm|qemu|tcg|ubd|libvirt|8250|linux\.uml' \
	core/vtbench.h core/registry.h core/options.h core/matrix.h core/vm.h)
if [ -z "$words" ]; then ok "core's plug-in interfaces name no backend, driver or VMM"
else not_ok "core's plug-in interfaces name a backend: $words"; fi

# Calls between the host's object files (automake names them
# DIR/libvtbhost_a-NAME.o; the list from Makefile.am, so that a stale
# object of a file since moved is not read).
objs=$(sed -n '/^libvtbhost_a_SOURCES/,/^$/p' Makefile.am | grep -o '[a-z]*/[a-z_]*\.c' |
	sed 's#\(.*\)/\(.*\)\.c#\1/libvtbhost_a-\2.o#')
for o in $objs; do [ -e "$BUILDDIR/$o" ] || { objs=""; break; }; done
if [ -z "$objs" ]; then
	not_ok "no object files in $BUILDDIR to check for loops (build first)"
else
	edges=$(cd "$BUILDDIR" && for o in $objs; do
		nm --defined-only "$o" | awk -v o="$o" '$2 ~ /^[TDRBC]$/ {print "D", $3, o}'
		nm --undefined-only "$o" | awk -v o="$o" '{print "U", $NF, o}'
	done | awk '
		$1 == "D" { def[$2] = $3; next }
		{ use[++n] = $3; sym[n] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				d = def[sym[i]]
				if (d != "" && d != use[i] && d !~ /plugins\.o$/ &&
				    use[i] !~ /plugins\.o$/)
					print use[i], d
			}
		}' | sort -u)
	loops=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null | sed -n 's/^tsort: \(.*\.o\)$/\1/p' | tr '\n' ' ')
	nedges=$(printf '%s\n' "$edges" | grep -c .)
	if [ -z "$loops" ]; then ok "no loop of calls between the host's object files ($nedges edges)"
	else not_ok "object files that call each other round a loop: $loops"; fi
fi

echo "1..$TESTS"
[ "$FAILS" -eq 0 ]
