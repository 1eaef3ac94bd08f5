#!/usr/bin/env bash
# Under a sanitizer, the scenarios whose black-box tests assert speedups, event counts or wall times
# (which a 2-15x slower binary cannot meet) run here instead: every shared-memory pattern
# (lost updates, mutexes, atomics, OpenMP's atomic and critical, the GIL, queues, semaphores,
# barriers, the event loop with its HTTP transfers and offload pool, forked workers) at small
# sizes, with no expectation checked. A run must end by itself with exit 0 or 1 (1: an
# expectation about timing failed); what the sanitizer finds goes to its report files, which
# tests/sanitize/run.sh counts.
. "$(dirname "$0")/../blackbox/lib.sh"

# brief SCENARIO MODEL ARGS...: one run
brief() {
    local name=$1 model=$2 rc
    shift 2
    timeout 300 "$CONCVIZ" run "$name" --model "$model" --headless --json -q "$@" \
        >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
        ok "$name under $model $*: exit $rc"
    else
        bad "$name under $model $*: exit $rc: $(head -c 300 "$TMP/err")"
    fi
}

for m in threads procs epoll; do
    for v in none mutex atomic; do
        brief counter-race $m --set variant=$v --set iterations=20000
    done
done
for v in none mutex omp_atomic omp_critical; do
    brief counter-race openmp --set variant=$v --set iterations=20000
done
brief gil-contention threads --gil --workers 4 --set increments=200000
brief gil-contention threads --no-gil --workers 2 --set increments=200000
for m in threads procs openmp; do
    brief cpu-primes $m --set repeat=1
    brief cpu-chunks $m
done
for m in threads procs openmp epoll; do
    brief sync-primitives $m
done
for m in threads procs epoll; do
    brief pipeline $m
done
for m in threads epoll; do
    brief semaphore $m
    brief c10k $m --set requests=300 --set delays_ms=50
done
brief hybrid-offload hybrid
for m in serial threads epoll; do
    brief io-vs-sequential $m --set delays_ms=100
done
for m in serial threads procs epoll hybrid; do
    brief retry-backoff $m --set backoff_ms=50
done
brief hybrid-offload hybrid --set offload=procs
brief pool-size threads --set tasks=16 --set io_ms=20
brief pool-size procs --set tasks=16 --set io_ms=20
# the other scenarios (test_all_scenarios does not run under a sanitizer): each model at the
# scenario's defaults
for pair in block-the-loop:threads,epoll compress:serial,threads,procs \
    cpu-factorize:serial,threads,procs,openmp cpu-many-small:serial,threads,procs,openmp \
    condition:threads,procs,epoll deadlock:threads,procs,epoll event-stop:threads,procs,epoll \
    file-io:serial,threads,epoll,hybrid \
    gather-sleep:serial,threads,epoll io-fetch:serial,threads,epoll \
    taskgroup-fail:threads,epoll timeout-cancel:threads,epoll queue-join:threads,procs,epoll \
    daemon-join:threads,procs,epoll; do
    IFS=, read -r -a models <<<"${pair#*:}"
    for m in "${models[@]}"; do
        brief "${pair%%:*}" "$m"
    done
done
finish
