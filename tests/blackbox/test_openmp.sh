#!/usr/bin/env bash
# openmp and scheduling: static leaves a lane idle on uneven work, dynamic does not; the omp
# counter variants; procs and openmp speed up CPU work like threads.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "its checks are speedups and wall times"

run_cv 0 run cpu-chunks --model openmp --set schedule=static --set mean_ms=15 --json --check
static_idle=$(jqv .balance.idle_s_max)
run_cv 0 run cpu-chunks --model openmp --set schedule=dynamic --set mean_ms=15 --json --check
dynamic_idle=$(jqv .balance.idle_s_max)
echo "# idle time of the idlest lane: static ${static_idle}s, dynamic ${dynamic_idle}s"
check "static leaves more idle time on a lane than dynamic" fcmp "$static_idle > 2 * $dynamic_idle + 0.05"
run_cv 0 run cpu-chunks --model openmp --set schedule=guided --set chunk=2 --set mean_ms=5 --json --check
check "guided with a chunk runs every task" test "$(jqv .tasks.completed)" = 64
check "lanes are the OpenMP threads" test "$(jqv '[.lanes[] | select(.role == "worker")] | length')" = 2

for v in omp_atomic omp_critical; do
    run_cv 0 run counter-race --model openmp --set variant=$v --set iterations=200000 --json --check
    check "openmp $v: exact" test "$(jqv .results.counter_final)" = 800000
done
run_cv 0 run counter-race --model openmp --set iterations=200000 --json --check
check "openmp none: loses updates" fcmp "$(jqv .results.lost_updates) > 0"

# CPU speedup with 2 workers: procs and openmp at least 1.6x serial
best_wall 3 cpu-primes --model serial --set repeat=12; serial=$BEST
speedup_at_least 1.6 "$serial" cpu-primes --model procs --workers 2 --set repeat=12; procs=$SPEEDUP
speedup_at_least 1.6 "$serial" cpu-primes --model openmp --workers 2 --set repeat=12; omp=$SPEEDUP
echo "# cpu-primes: serial ${serial}s (best of 3); speedup procs ${procs}x, openmp ${omp}x"
check "procs x2 at least 1.6x faster than serial" fcmp "$procs >= 1.6"
check "openmp x2 at least 1.6x faster than serial" fcmp "$omp >= 1.6"
p1=$(run_cv 0 run cpu-primes --model procs --set repeat=2 --json && jqc .results.primes)
p2=$(run_cv 0 run cpu-primes --model openmp --set repeat=2 --json && jqc .results.primes)
check "procs and openmp find the same primes" test "$p1" = "$p2" -a -n "$p1"
f1=$(run_cv 0 run cpu-factorize --model procs --set repeat=1 --json && jqc .results.factors)
f2=$(run_cv 0 run cpu-factorize --model openmp --set repeat=1 --json && jqc .results.factors)
f3=$(run_cv 0 run cpu-factorize --model serial --set repeat=1 --json && jqc .results.factors)
check "factorize: identical factors under procs, openmp and serial" test "$f1" = "$f2" -a "$f2" = "$f3" -a -n "$f1"
finish
