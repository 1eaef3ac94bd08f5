#!/usr/bin/env bash
# pool-size: a sweep of worker counts with its own schema and expectations.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "wall times that fall with workers"

run_cv 0 run pool-size --set tasks=16 --set io_ms=50 --json --check
check "sweep schema" test "$(jqv .schema)" = concviz.sweep/1
# the last point is Python's default pool: asked of the real ThreadPoolExecutor here
pydef=$(python3 -c 'import concurrent.futures as f; print(f.ThreadPoolExecutor()._max_workers)')
check "one run per worker count, Python's default last" \
    test "$(jqc .sweep)" = "[1,2,4,8,16,32,$pydef]"
check "default_workers is real Python's ThreadPoolExecutor default ($pydef)" \
    test "$(jqv .default_workers)" = "$pydef"
check "... and it ran with that many workers" test "$(jqv '.runs[6].workers')" = "$pydef"
check "each run is a full summary" test "$(jqv '[.runs[].schema] | unique | .[0]')" = concviz.summary/1
check "I/O wall falls with workers" fcmp "$(jqv '.runs[0].wall_s') > 4 * $(jqv '.runs[3].wall_s')"
check "expectations evaluated on the sweep" test "$(jqv '[.expectations[].ok] | all')" = true
run_cv 0 run pool-size --set tasks=16 --set io_ms=50 --workers 4 --json --check
check "--workers runs one point of the sweep" test "$(jqv .schema)" = concviz.summary/1
run_cv 0 run pool-size --set tasks=16 --set io_ms=50
check "text table lists each worker count" \
    test "$(grep -cE '^ +(1|2|4|8|16|32) +[0-9.]+s' "$TMP/out")" = 6
check "... and names the default's row" grep -qE "^ +$pydef +[0-9.]+s .*Python's default" "$TMP/out"
finish
