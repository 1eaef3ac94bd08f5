#!/usr/bin/env bash
# cpu-primes: 2 threads clearly faster than serial; under the GIL, not. Same primes everywhere.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "its checks are speedups and wall times"
args=(--set repeat=12 --check)

best_wall 3 cpu-primes --model serial "${args[@]}"; serial=$BEST; p1=$(jqc .results.primes)
# without --check: its `parallel` expectation is this speedup, which is sampled here
speedup_at_least 1.4 "$serial" cpu-primes --model threads --workers 2 --set repeat=12; threads=$BEST; p2=$(jqc .results.primes)
best_wall 3 cpu-primes --model threads --workers 2 --gil "${args[@]}"; gil=$BEST; p3=$(jqc .results.primes)
echo "# best: serial ${serial}s, threads ${threads}s, threads+gil ${gil}s"
check "threads x2 clearly faster than serial (>= 1.4x)" fcmp "$serial / $threads >= 1.4"
check "threads x2 under the GIL not faster than serial (< 1.15x)" fcmp "$serial / $gil < 1.15"
check "all models find the same primes" test "$p1" = "$p2" -a "$p2" = "$p3"
check "four distinct primes" test "$p1" = "[112272535095293,112582705942171,115280095190773,115797848077099]"
finish
