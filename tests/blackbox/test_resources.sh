#!/usr/bin/env bash
# The environment and the system's limits: OpenMP's variables never hang or bend a run (the team
# asked for runs, or one line names the variable, exit 2); threads that cannot be created, an
# address space too small and an open-file limit too low each end in one line and exit 3, with
# the summary printed and the recording closed where the run had started; the open-file check
# counts what the run really holds and its advice fits the scenario.
. "$(dirname "$0")/lib.sh"

# cv_limited SECONDS EXPECTED_RC ARGS...: run_cv under `timeout`; a run still going after
# SECONDS is a hang, which fails the check whatever the expected code.
cv_limited() {
    local secs=$1 want=$2; shift 2
    set +e
    timeout -k 5 "$secs" "$CONCVIZ" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    set -e
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
        bad "concviz $* hung (killed after $secs s)"
        return 1
    fi
    if [ "$RC" != "$want" ]; then
        bad "concviz $* exited $RC, expected $want; stderr: $ERR"
        return 1
    fi
    return 0
}
# one_line: stderr is exactly one line (libgomp's own complaints about a variable's value,
# printed when the program loads, are not ours and are left out)
one_line() { test "$(grep -v '^libgomp: ' "$TMP/err" | grep -c .)" = 1; }

# --- OpenMP's environment ------------------------------------------------------------------------
# A team smaller than asked for would leave lanes that never ran and a barrier waiting for them.
for v in 1 2 3; do
    if OMP_THREAD_LIMIT=$v cv_limited 20 2 run sync-primitives --model openmp --workers 4; then
        check "OMP_THREAD_LIMIT=$v with 4 workers: refused in one line naming the variable" \
            eval 'one_line && grep -q "OMP_THREAD_LIMIT=$v allows OpenMP teams of $v thread" "$TMP/err"'
        check "OMP_THREAD_LIMIT=$v: nothing on stdout" test -z "$OUT"
    fi
done
OMP_THREAD_LIMIT=2 cv_limited 20 2 run cpu-primes --model openmp --workers 4 --set repeat=1 &&
    check "OMP_THREAD_LIMIT=2, cpu-primes x4: refused, advises --workers 2" grep -q -- "--workers 2" "$TMP/err"
OMP_THREAD_LIMIT=2 cv_limited 20 0 run cpu-primes --model openmp --workers 2 --set repeat=1 --json &&
    check "OMP_THREAD_LIMIT=2, cpu-primes x2: runs a team of 2" test "$(jqv .runtime.os_threads)" = 2

# Every variable that could shape the team or its waiting: the team asked for runs whole. Each
# case runs the barrier workload (which hangs on a short team) and a parallel for whose lanes
# must each have run a share.
omp_cases=(
    "OMP_THREAD_LIMIT=4" "OMP_DYNAMIC=true" "OMP_DYNAMIC=false" "OMP_MAX_ACTIVE_LEVELS=0"
    "OMP_NESTED=false" "OMP_NUM_THREADS=1" "OMP_NUM_THREADS=2,1" "OMP_NUM_THREADS=8"
    "OMP_WAIT_POLICY=active" "OMP_WAIT_POLICY=passive" "GOMP_SPINCOUNT=infinite" "GOMP_SPINCOUNT=0"
    "OMP_WAIT_POLICY=active GOMP_SPINCOUNT=infinite" "KMP_BLOCKTIME=infinite"
    "OMP_PROC_BIND=true" "OMP_PROC_BIND=close OMP_PLACES=cores" "OMP_PROC_BIND=spread OMP_PLACES={0}"
    "OMP_SCHEDULE=guided,7" "OMP_STACKSIZE=64M" "OMP_DYNAMIC=true OMP_THREAD_LIMIT=8 OMP_MAX_ACTIVE_LEVELS=0"
)
for c in "${omp_cases[@]}"; do
    read -ra vars <<<"$c" # NAME=VALUE pairs
    set +e
    env "${vars[@]}" timeout -k 5 20 "$CONCVIZ" run sync-primitives --model openmp --workers 4 \
        --set phases=3 --set work_ms=5 --json --check >"$TMP/out" 2>"$TMP/err"
    RC=$?
    set -e
    OUT=$(cat "$TMP/out")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
        bad "$c: sync-primitives hung"
    else
        check "$c: the barrier workload completes (exit $RC) with the team of 4" \
            test "$RC $(jqv '.runtime.os_threads, ([.lanes[] | select(.role == "worker") | .tasks] | map(tostring) | join(","))' | tr '\n' ' ')" = "0 4 1,1,1,1 "
    fi
    set +e
    env "${vars[@]}" timeout -k 5 20 "$CONCVIZ" run cpu-primes --model openmp --workers 4 \
        --set repeat=2 --json >"$TMP/out" 2>"$TMP/err" # (no --check: a team bound to one CPU
    # rightly fails cpu-primes' speedup expectation; the team and the shares are the point here)
    RC=$?
    set -e
    OUT=$(cat "$TMP/out")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
        bad "$c: cpu-primes hung"
    else
        check "$c: the parallel for runs on 4 threads, each with a share (exit $RC)" \
            test "$RC $(jqv '.runtime.os_threads, ([.lanes[] | select(.role == "worker") | .tasks > 0] | all)' | tr '\n' ' ')" = "0 4 true "
    fi
    [ "$c" != "${omp_cases[0]}" ] || stop_if_all_failed "the OpenMP checks up to $c"
done

# A stack the system cannot give: one line, exit 3, the summary (failed, no task run) and a
# closed recording.
OMP_STACKSIZE=100000G cv_limited 20 3 run cpu-primes --model openmp --workers 4 --set repeat=1 \
    --json --record "$TMP/stack.cvr" &&
    check "OMP_STACKSIZE=100000G: one line naming the variable, exit 3" \
        eval 'one_line && grep -q "cannot start OpenMP thread 1 of 4 with the .* stack OMP_STACKSIZE=100000G" "$TMP/err"'
check "OMP_STACKSIZE=100000G: the summary says failed, nothing ran" \
    test "$(jqv '.state, .tasks.completed' | tr '\n' ' ')" = "failed 0 "
if "$CONCVIZ" replay "$TMP/stack.cvr" --json >"$TMP/replay.json" 2>"$TMP/replay.err"; then
    check "OMP_STACKSIZE=100000G: the recording is closed (replays without a warning)" \
        test ! -s "$TMP/replay.err" -a "$(jq -r .state "$TMP/replay.json")" = failed
else
    bad "OMP_STACKSIZE=100000G: the recording does not replay: $(cat "$TMP/replay.err")"
fi

# --- threads that cannot be created (a process limit) --------------------------------------------
# RLIMIT_NPROC counts a user's processes and threads, and the kernel does not hold root to it: as
# root the runs go to user nobody. The limit leaves room for what the user runs already,
# concviz's main thread and its driver, and EXTRA threads more.
as_user=()
users_threads() { echo 0; }
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups \
        test -x "$CONCVIZ" 2>/dev/null; then
        as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
        users_threads() { ps -L -u nobody --no-headers 2>/dev/null | wc -l; }
    fi
else
    users_threads() { ps -L -u "$(id -u)" --no-headers 2>/dev/null | wc -l; }
fi
nproc_dir=$(mktemp -d)
chmod 777 "$nproc_dir"
trap 'rm -rf "$TMP" "$nproc_dir"' EXIT
# nproc_run EXTRA EXPECTED_RC LABEL ARGS...: concviz with room for EXTRA threads besides its main
# thread and its driver; output in $TMP/out, $TMP/err
nproc_run() {
    local extra=$1 want=$2 label=$3; shift 3
    local base limit
    base=$(users_threads)
    limit=$((base + 2 + extra))
    # Under a sanitizer: its reports on stderr (the user may not write where they go), and no
    # leak check, which needs a thread of its own at exit that the limit may not leave room for
    local san_env=()
    [ -z "$SANITIZER" ] || san_env=(ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=stderr:detect_leaks=0"
        UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=stderr")
    set +e
    (cd "$nproc_dir" && timeout -k 5 30 env "${san_env[@]}" "${as_user[@]}" \
        bash -c 'ulimit -u "$1" && shift && exec "$@"' sh "$limit" "$CONCVIZ" "$@" >"$TMP/out" 2>"$TMP/err")
    RC=$?
    set -e
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    if [ "$RC" != "$want" ]; then
        bad "$label: exited $RC, expected $want; stderr: $ERR"
        return 1
    fi
}
if [ "$(id -u)" = 0 ] && [ ${#as_user[@]} = 0 ]; then
    skip "thread-creation limits: running as root without setpriv or a user nobody who can run $CONCVIZ"
else
    for m in openmp threads; do
        if nproc_run 1 3 "$m x4, room for 1 worker thread" run cpu-primes --model $m --workers 4 \
            --set repeat=1 --json --record rec-$m.cvr; then
            check "$m: thread creation failing: one line, exit 3" \
                eval 'one_line && grep -Eq "cannot start (OpenMP|worker) thread [0-9]+ of 4: Resource temporarily unavailable" "$TMP/err"'
            check "$m: the summary is printed, state failed" test "$(jqv .state)" = failed
            if "$CONCVIZ" replay "$nproc_dir/rec-$m.cvr" --json >"$TMP/replay.json" 2>"$TMP/replay.err"; then
                check "$m: the recording is closed (replays without a warning)" test ! -s "$TMP/replay.err"
            else
                bad "$m: the recording does not replay: $(cat "$TMP/replay.err")"
            fi
        fi
    done
    # not even the run's driver thread
    if nproc_run -1 3 "no room for the driver thread" run counter-race --model openmp --json \
        --record rec-driver.cvr; then
        check "no driver thread: one line, exit 3" \
            eval 'one_line && grep -q "cannot start the run.s driver thread" "$TMP/err"'
        check "no driver thread: the summary is printed, state failed" test "$(jqv .state)" = failed
        "$CONCVIZ" replay "$nproc_dir/rec-driver.cvr" --json >/dev/null 2>"$TMP/replay.err" || true
        check "no driver thread: the recording is closed" test ! -s "$TMP/replay.err"
    fi
    # enough room: the trial threads are gone before OpenMP makes its own
    ok_runs=0
    for _ in 1 2 3 4 5; do
        nproc_run 3 0 "openmp x4 with just enough room" run cpu-primes --model openmp --workers 4 \
            --set repeat=1 --json && [ "$(jqv .state)" = done ] && ok_runs=$((ok_runs + 1))
    done
    check "openmp x4 with room for exactly its 3 threads: 5 of 5 runs complete" test "$ok_runs" = 5
fi

# --- a small address space (ulimit -v) ------------------------------------------------------------
if [ -n "$SANITIZER" ]; then
    skip "ulimit -v: a sanitizer reserves terabytes of address space, no run can start under a limit"
else
    vm_cases=("cpu-primes --model serial --set repeat=1" "cpu-primes --model threads --set repeat=1"
        "cpu-primes --model procs --set repeat=1" "cpu-primes --model openmp --set repeat=1"
        "io-fetch --model epoll --set requests=4" "hybrid-offload --model hybrid --set rounds=1"
        "counter-race --model threads --set iterations=1000")
    for c in "${vm_cases[@]}"; do
        read -ra args <<<"$c"
        set +e
        (ulimit -v 50000 && timeout -k 5 20 "$CONCVIZ" run "${args[@]}" --json --record "$TMP/vm.cvr" \
            >"$TMP/out" 2>"$TMP/err")
        RC=$?
        set -e
        check "ulimit -v 50000, $c: one line, exit 3 (was $RC), no recording left half-made" \
            eval '[ "$RC" = 3 ] && one_line && grep -q "^concviz: out of memory" "$TMP/err" && [ ! -e "$TMP/vm.cvr" ]'
    done
    # From 50 MB up to where runs fit, whatever runs out first: before the run starts, one line
    # and exit 3 and no recording; once it has started, one line and exit 3 with the summary and
    # a closed recording. Memory that runs out deep inside a run that had started (a result
    # being stored) may still abort with "concviz: out of memory", its recording readable up to
    # its last chunk: allowed, and counted.
    for c in "cpu-primes --model openmp --set repeat=1" "cpu-primes --model openmp --workers 8 --set repeat=1" \
        "cpu-primes --model threads --set repeat=1" "sync-primitives --model openmp --set phases=2 --set work_ms=1" \
        "cpu-primes --model procs --set repeat=1"; do
        read -ra args <<<"$c"
        worst="" deep=""
        for kb in $(seq 50000 5000 300000); do
            rm -f "$TMP/vm.cvr"
            set +e
            (ulimit -v "$kb" && timeout -k 5 20 "$CONCVIZ" run "${args[@]}" --json --record "$TMP/vm.cvr" \
                >"$TMP/out" 2>"$TMP/err")
            RC=$?
            set -e
            readable=false
            "$CONCVIZ" replay "$TMP/vm.cvr" --json -q >/dev/null 2>&1 && readable=true
            if [ "$RC" = 0 ]; then
                break
            elif [ "$RC" = 134 ] && [ "$(cat "$TMP/err")" = "concviz: out of memory" ] && $readable; then
                deep="$deep $kb"
            elif [ "$RC" != 3 ] || ! one_line; then
                worst="ulimit -v $kb: exit $RC, stderr: $(head -c 300 "$TMP/err")"
                break
            elif [ -s "$TMP/out" ] && ! $readable; then
                worst="ulimit -v $kb: a summary but no readable recording"
                break
            elif [ ! -s "$TMP/out" ] && [ -e "$TMP/vm.cvr" ]; then
                worst="ulimit -v $kb: refused at the start, but a recording was left"
                break
            fi
        done
        # (the run that fits must have run: its summary says done)
        check "ulimit -v from 50 MB up, $c: one line and exit 3 until it runs (at $kb KB) $worst" \
            eval '[ -z "$worst" ] && [ "$RC" = 0 ] && [ "$(jqv .state "$TMP/out")" = done ]'
        [ -z "$deep" ] || echo "# $c: out of memory deep inside the run (abort) at$deep KB"
    done
    # The event loop's coroutine stacks running out once the run has started (300 tasks, each a
    # stack of its own): one line naming the task, exit 3, never an abort while reporting it
    # (the message was allocated before the stacks were freed, and aborted, 134).
    stack_seen=0 worst=""
    for kb in $(seq 400000 40000 680000); do
        set +e
        (ulimit -v "$kb" && timeout -k 5 60 "$CONCVIZ" run file-io --model hybrid --set files=300 \
            --json >"$TMP/out" 2>"$TMP/err")
        RC=$?
        set -e
        if [ "$RC" != 0 ] && { [ "$RC" != 3 ] || ! one_line; }; then
            worst="$worst; ulimit -v $kb: exit $RC, $(head -c 200 "$TMP/err")"
        elif [ "$RC" = 0 ] && [ "$(jqv .state "$TMP/out")" != done ]; then
            worst="$worst; ulimit -v $kb: exit 0 without a run done"
        fi
        grep -q "out of memory: cannot allocate a stack for task" "$TMP/err" && stack_seen=$((stack_seen + 1))
    done
    check "ulimit -v 400-680 MB, file-io under hybrid: exit 0 or one line and exit 3$worst" test -z "$worst"
    check "... the coroutine stacks ran out in $stack_seen of 8 limits, named in one line" test "$stack_seen" -gt 0
fi

# --- the open-file limit --------------------------------------------------------------------------
# What a run holds is counted: a scenario without sockets or files runs far below 512, and one
# that needs more gets advice that, followed, runs.
for m in threads openmp procs; do
    (ulimit -Sn 64 && ulimit -Hn 64 && cv_limited 60 0 run counter-race --model $m --set iterations=2000 --json) &&
        check "ulimit -n 64: counter-race under $m runs every task" \
            test "$(jqv '.tasks.completed > 0 and .tasks.completed == .tasks.submitted' "$TMP/out")" = true
done
(ulimit -Sn 512 && ulimit -Hn 512 && cv_limited 60 0 run io-fetch --model threads --json --check) &&
    check "ulimit -n 512: io-fetch under threads runs" test "$(jqv .state "$TMP/out")" = done
# file-io under epoll opens one file at a time (the loop blocks on each)
(ulimit -Sn 1024 && ulimit -Hn 1024 && cv_limited 60 0 run file-io --model epoll --set size_kb=4 --json --check) &&
    check "ulimit -n 1024: file-io under epoll (1000 files, one open at a time) runs" \
        test "$(jqv .state "$TMP/out")" = done
# advice_runs LIMIT ARGS...: the run is refused with advice naming --set K=N or --workers N; the
# same run with that advice runs, finishes every task and meets its scenario's expectations
advice_runs() {
    local limit=$1; shift
    (ulimit -Sn "$limit" && ulimit -Hn "$limit" && cv_limited 30 3 run "$@") || return 0
    check "ulimit -n $limit, $*: one line" one_line
    local adv
    adv=$(grep -Eo 'use (--set [a-z_]+=[0-9]+|--workers [0-9]+) or fewer' "$TMP/err" | sed 's/^use //; s/ or fewer$//' || true)
    if [ -z "$adv" ]; then
        bad "ulimit -n $limit, $*: no advice: $(cat "$TMP/err")"
        return 0
    fi
    echo "# ulimit -n $limit, $*: $(cat "$TMP/err")"
    read -ra extra <<<"$adv"
    (ulimit -Sn "$limit" && ulimit -Hn "$limit" && cv_limited 90 0 run "$@" "${extra[@]}" --json --check) &&
        check "ulimit -n $limit, $*: following the advice ($adv) runs" test "$(jqv .state "$TMP/out")" = done &&
        check "ulimit -n $limit, $*: following the advice, every task is done" \
            test "$(jqv .tasks.completed "$TMP/out")" = "$(jqv .tasks.submitted "$TMP/out")"
    return 0
}
advice_runs 512 c10k --model epoll
advice_runs 512 c10k --model threads --set requests=1000 --set delays_ms=50
advice_runs 512 file-io --model threads --workers 700 --set size_kb=4 --set files=800
advice_runs 256 cpu-primes --model procs --workers 200 --set repeat=1
(ulimit -Sn 512 && ulimit -Hn 512 && cv_limited 30 3 run c10k --model epoll) &&
    check "c10k under epoll: the requests are named, not 'fewer requests' in general" \
        grep -q "c10k under epoll needs about 10[0-9][0-9][0-9] open files at once (10000 for connections" "$TMP/err"
finish
