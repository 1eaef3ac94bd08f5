#!/usr/bin/env bash
# gil-contention: under the GIL, 2 workers take no less time than 1; switches are counted.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "its checks are speedups and wall times"
args=(--set increments=5000000 --check)

best_wall 2 gil-contention --workers 1 "${args[@]}"; one=$BEST
check "1 worker: no switches" test "$(jqv .results.gil_switches)" = 0
best_wall 2 gil-contention --workers 2 "${args[@]}"; two=$BEST
check "2 workers: GIL switches counted" fcmp "$(jqv .results.gil_switches) > 10"
check "2 workers: GIL wait visible on the lanes" fcmp "$(jqv '[.lanes[].gil_wait_s] | add') > 0.1"
# Noise only slows a run down; a slowed 1-worker run made 2 workers look faster (CI: 1.06 s
# against 0.94 s), so up to 3 more rounds refine both bests before the comparison fails.
for _ in 1 2 3; do
    fcmp "$two >= 0.9 * $one" && break
    best_wall 1 gil-contention --workers 1 "${args[@]}" && fcmp "$BEST < $one" && one=$BEST
    best_wall 1 gil-contention --workers 2 "${args[@]}" && fcmp "$BEST < $two" && two=$BEST
done
# without --check: its `parallel_without_gil` expectation needs the second core, printed below
best_wall 1 gil-contention --workers 2 --no-gil --set increments=5000000; free=$BEST
echo "# best under the GIL: 1 worker ${one}s, 2 workers ${two}s; no GIL, 2 workers: ${free}s"
check "with the GIL, 2 workers take no less time than 1 (>= 0.9x)" fcmp "$two >= 0.9 * $one"
# The contrast without the GIL is printed, not asserted: it needs the second core to be idle.
if fcmp "$free < 0.75 * $one"; then echo "# without the GIL, 2 workers are faster"; else echo "# note: the no-GIL run was not faster (busy machine?)"; fi

# C code that releases the GIL (zlib, as in CPython): two threads compressing under the GIL do
# not wait for it while zlib works, so their GIL waits are a small share of their time (they were
# about half of it when zlib held the GIL). A share of time, not a wall time: it holds on a busy
# machine. Real CPython 3.11 here: 48 x 256 KiB at level 9, serial 2.08 s, 2 threads 1.11 s.
run_cv 0 run compress --model threads --gil --set buffers=8 --json
check "compress under the GIL: zlib releases it, GIL waits under 10% of the workers' time ($(jqv '[([.lanes[].gil_wait_s] | add), ([.lanes[].running_s] | add)] | map(tostring) | join(" of ")'))" \
    test "$(jqv '([.lanes[].gil_wait_s] | add) < 0.1 * ([.lanes[].running_s] | add) and .results.buffers_done == 8')" = true
finish
