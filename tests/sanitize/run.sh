#!/usr/bin/env bash
# The suite again, in a sanitized build (the ctest entries sanitize.address and sanitize.thread,
# run by `make sanitize`):
#   address  ASan + UBSan, built with the default compiler: every unit and black-box test but
#            those that assert speedups (their scenarios run briefly in scenario_runs.sh).
#   thread   TSan, built with clang and its OpenMP runtime (libomp, with the Archer tool that
#            tells TSan what OpenMP's barriers and tasks order): the tests of the models that run
#            threads, processes and the event loop, and of the parts they share.
# Each configures and builds a tree of its own (BUILD_DIR), runs ctest there with every
# sanitizer report written to BUILD_DIR/reports, and fails on any report, even when the test that
# caused it passed. A report names the test, the sanitizer's summary line and the file.
#   tests/sanitize/run.sh address|thread SOURCE_DIR BUILD_DIR
# SANITIZE_TESTS=REGEX runs only the matching tests.
set -uo pipefail

if [ $# -ne 3 ] || { [ "$1" != address ] && [ "$1" != thread ]; }; then
    echo "usage: $0 address|thread SOURCE_DIR BUILD_DIR" >&2
    exit 2
fi
KIND=$1
SRC=$(cd "$2" && pwd) || exit 2
BUILD=$3
say() { echo "sanitize.$KIND: $*"; }

case $KIND in
address)
    CC_SAN=${CC:-cc}
    SANITIZE="address;undefined"
    # the fuzz entry has a sanitized build of its own; formatting is not code. The tests that
    # assert speedups or wall times do not hold at a sanitizer's speed on a busy 2-core machine:
    # their scenarios run in tests/sanitize/scenario_runs.sh instead, as under TSan. test_selftest
    # runs the suite against a binary that does nothing, so no sanitized code.
    SELECT=(-E '^(fuzz|format)\.|test_(counter_race|gil_contention|cpu_primes|c10k|openmp|selftest)$')
    ;;
thread)
    CC_SAN=$(command -v clang || command -v clang-14 || true)
    if [ -z "$CC_SAN" ]; then
        say "clang is not installed (Debian packages clang, libomp-14-dev; make deps installs them)"
        exit 1
    fi
    SANITIZE=thread
    # threads, processes, the event loop and what they share: primitives, rings, the collector,
    # the HTTP server and client, recording from several threads, cancellation, faults, forked
    # workers and executor processes killed and stopped, the server process killed mid-run,
    # `serve`, the live view's drain thread beside its drawing (terminal). The tests that assert
    # speedups, wall times or event counts (counter_race, gil_contention, cpu_primes, c10k, openmp,
    # tui) cannot hold at TSan's speed: their scenarios run in tests/sanitize/scenario_runs.sh
    # instead, after these.
    SELECT=(-R 'test_(prims|ring|collector|httpd|cancel|deadlock|epoll|gather_sleep|io|pipeline|procs|hybrid_faults|record|faults|terminal|serve|server_faults)$')
    ;;
esac
[ -n "${SANITIZE_TESTS:-}" ] && SELECT=(-R "$SANITIZE_TESTS")

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
if ! grep -q "^CONCVIZ_SANITIZE:STRING=$SANITIZE\$" "$BUILD/CMakeCache.txt" 2>/dev/null; then
    rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
    gen=()
    command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
    if ! CC=$CC_SAN cmake -S "$SRC" -B "$BUILD" "${gen[@]}" -DCONCVIZ_SANITIZE="$SANITIZE" \
        -DCONCVIZ_WERROR="${CONCVIZ_WERROR:-OFF}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >"$BUILD/configure.log" 2>&1; then
        say "configuring $BUILD failed:"
        tail -20 "$BUILD/configure.log"
        exit 1
    fi
fi
start=$(date +%s)
if ! cmake --build "$BUILD" --parallel 2 >"$BUILD/build.log" 2>&1; then
    say "the sanitized build failed:"
    grep -E 'error|Error' "$BUILD/build.log" | head -20
    exit 1
fi
say "built with $(basename "$CC_SAN") -fsanitize=${SANITIZE//;/,} in $(($(date +%s) - start)) s"

REPORTS=$BUILD/reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
export CONCVIZ_SANITIZER=$KIND
# Reports go to files (one per process, forked workers included) so that none is lost in a
# test's captured output; -fno-sanitize-recover makes every report also end its process.
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
# ignore_noninstrumented_modules: libomp itself is not built with TSan; Archer (below) tells
# TSan how OpenMP orders its threads, and without this option TSan still reports the runtime's
# own internal accesses, which Archer's documentation names as false positives.
export TSAN_OPTIONS="log_path=$REPORTS/tsan:second_deadlock_stack=1:ignore_noninstrumented_modules=1:${TSAN_OPTIONS:-}"
if [ "$KIND" = thread ]; then
    archer=$(cd "$("$CC_SAN" -print-resource-dir)/../.." 2>/dev/null && pwd)/libarcher.so
    if [ ! -f "$archer" ]; then
        say "libarcher.so (libomp-14-dev) is not next to clang's runtime: $archer"
        exit 1
    fi
    export OMP_TOOL_LIBRARIES=$archer
fi

start=$(date +%s)
(cd "$BUILD" && ctest --timeout 600 --output-on-failure "${SELECT[@]}" >"$BUILD/ctest.log" 2>&1)
ctest_rc=$?
grep -E '^ *[0-9]+/[0-9]+ Test' "$BUILD/ctest.log" | sed 's/^ */  /'
tests=$(grep -cE '^ *[0-9]+/[0-9]+ Test' "$BUILD/ctest.log")
if [ -z "${SANITIZE_TESTS:-}" ]; then
    if CONCVIZ=$BUILD/tui/concviz CONCVIZ_SCENARIO_DIR=$SRC/scenarios \
        bash "$SRC/tests/sanitize/scenario_runs.sh" >"$BUILD/scenario_runs.log" 2>&1; then
        say "scenario_runs: $(tail -1 "$BUILD/scenario_runs.log") (the scenarios of the timing tests, small)"
    else
        say "scenario_runs FAILED (log: $BUILD/scenario_runs.log):"
        grep '^not ok' "$BUILD/scenario_runs.log" | sed 's/^/  /'
        ctest_rc=1
    fi
    tests=$((tests + 1))
fi

# A report file is one the sanitizer wrote, except ASan's one-line notice that it does not fully
# support swapcontext: it is printed once per process that switches stacks, whatever the code
# does. The epoll model tells ASan and TSan about each switch (engine/src/models/fiber-san.h), so the
# checks stay on across them.
found=0
for f in "$REPORTS"/*; do
    [ -f "$f" ] || continue
    if ! grep -qvE "WARNING: ASan doesn't fully support makecontext/swapcontext" "$f"; then
        continue
    fi
    found=$((found + 1))
    say "REPORT $(basename "$f"): $(grep -m1 -E 'SUMMARY|ERROR|WARNING|runtime error' "$f")"
    grep -m6 -E '^ +#[0-9]+ ' "$f" | sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^/    /'
done
# UBSan's messages can also reach a test's output (a child whose stderr a test captures)
ub=$(grep -cE 'runtime error:|Sanitizer:' "$BUILD/Testing/Temporary/LastTest.log" 2>/dev/null)
if [ "${ub:-0}" != 0 ]; then
    found=$((found + ub))
    say "in the tests' output:"
    grep -m10 -E 'runtime error:|Sanitizer:' "$BUILD/Testing/Temporary/LastTest.log" | sed 's/^/    /'
fi

took=$(($(date +%s) - start))
if [ "$ctest_rc" != 0 ]; then
    say "tests failed in the sanitized build (log: $BUILD/ctest.log):"
    sed -n '/tests failed out of/,$p' "$BUILD/ctest.log" | grep -E '^\s+[0-9]+ - ' |
        grep -v '(Skipped)' | sed 's/^\s*/  /'
    # what failed in them, so that a log that shows only this summary still says why
    grep -E '^(not ok|# )' "$BUILD/ctest.log" | grep -v '^# Test' | head -40 | sed 's/^/    /'
fi
say "$tests tests in ${took} s, $found sanitizer reports (reports: $REPORTS)"
[ "$ctest_rc" = 0 ] && [ "$found" = 0 ]
