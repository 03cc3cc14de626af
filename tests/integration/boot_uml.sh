#!/bin/bash
# Integration: boot the real appliance under UML, check HELLO and cleanup.
. "$(dirname "$0")/lib.sh"

J="$T/uml.json"
run_vtb run --backend uml --workload startup --runs 2 --warmup 1 --json "$J" --csv "$T/uml.csv"
check "uml startup exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]
check "JSON schema 1" [ "$(jqf .schema "$J")" = 1 ]
check "one cell, backend uml" [ "$(jqf '.results|length' "$J")" = 1 -a "$(jqf '.results[0].backend' "$J")" = uml ]
check "3 samples (1 warm-up), all ok" [ "$(jqf '[.results[0].samples[]|select(.ok)]|length' "$J")" = 3 ]
check "warm-up excluded from summary" [ "$(jqf '.results[0].summary.n' "$J")" = 2 ]
REL=$(jqf .versions.uml_kernel.release "$J")
check "HELLO release matches the UML kernel ($REL)" [ "$(jqf '.results[0].samples[1].guest.release' "$J")" = "$REL" ]
check "guest loaded no modules for a serial control line" [ "$(jqf '.results[0].samples[1].guest.modules_loaded' "$J")" = 0 ]
check "phases recorded" [ "$(jqf '.results[0].phases|keys|length' "$J")" -ge 4 ]
check "start-up within the timeout" [ "$(jqf '.results[0].summary.median < 30' "$J")" = true ]
check "UML build id recorded" [ -n "$(jqf .versions.uml_kernel.build_id "$J")" ]
check "table printed" grep -q '^uml startup' "$T/out"
check "one progress line per finished cell" grep -q "^\[1/1\] uml startup: median" "$T/err"
check "CSV has header + 3 rows" [ "$(wc -l <"$T/uml.csv")" = 4 ]
no_leftovers "uml startup"

# A guest that cannot boot in time becomes a failed sample, not a hang.
run_vtb run --backend uml --workload startup --runs 1 --warmup 0 --timeout 0.2 --json "$T/to.json"
check "timeout -> exit 3 (rc=$RC)" [ "$RC" -eq 3 ]
check "timeout reason recorded" grep -q 'in time' "$T/to.json"
no_leftovers "uml timeout"
finish
