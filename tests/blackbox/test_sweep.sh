#!/usr/bin/env bash
# pool-size: a sweep of worker counts with its own schema and expectations.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "wall times that fall with workers"

run_cv 0 run pool-size --set tasks=16 --set io_ms=50 --json --check
check "sweep schema" test "$(jqv .schema)" = concviz.sweep/1
check "one run per worker count" test "$(jqc .sweep)" = "[1,2,4,8,16]"
check "each run is a full summary" test "$(jqv '[.runs[].schema] | unique | .[0]')" = concviz.summary/1
check "I/O wall falls with workers" fcmp "$(jqv '.runs[0].wall_s') > 4 * $(jqv '.runs[3].wall_s')"
check "expectations evaluated on the sweep" test "$(jqv '[.expectations[].ok] | all')" = true
run_cv 0 run pool-size --set tasks=16 --set io_ms=50 --workers 4 --json --check
check "--workers runs one point of the sweep" test "$(jqv .schema)" = concviz.summary/1
run_cv 0 run pool-size --set tasks=16 --set io_ms=50
check "text table lists each worker count" test "$(grep -cE '^ +(1|2|4|8|16) +[0-9.]+s' "$TMP/out")" = 5
finish
