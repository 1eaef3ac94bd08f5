#!/usr/bin/env bash
# The ctest entry fuzz.readers: builds the fuzz targets with clang (libFuzzer, ASan, UBSan) in
# a build directory of its own and, for each, replays its seed corpus and the inputs that once
# crashed it, then fuzzes for a few seconds: fuzz_recording (tests/fuzz/corpus, crashes; 10 s),
# fuzz_scenario (tests/fuzz/corpus-scenario, crashes-scenario; 5 s), and 4 s each for
# fuzz_script (the terminal UI's --script files), fuzz_cli (the command line) and fuzz_httpd (the
# embedded HTTP server), each with corpus-NAME and crashes-NAME. New inputs go to a scratch
# directory in the build directory, never to the kept corpus. Fails on any crash, leak, timeout
# or out-of-memory, and says where the input that caused it was saved. What it leaves out (a
# target not in FUZZ_TARGETS, the fuzzing with FUZZ_SECONDS=0) is said, and makes the exit 77,
# which ctest shows as "Skipped".
#   tests/fuzz/run.sh SOURCE_DIR BUILD_DIR      (ctest passes the source tree and <build>/fuzz)
# FUZZ_SECONDS=N fuzzes each target N s (0 only replays); FUZZ_TARGETS="script cli" runs only
# those targets; FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-seed=1).
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd) || exit 2
BUILD=$2
SECONDS_FUZZ=${FUZZ_SECONDS:-}
HERE=$SRC/tests/fuzz
say() { echo "fuzz: $*"; }

# clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev; `make deps` installs them)
CLANG=${FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CLANG" ]; then
    say "clang is not installed: the fuzz target needs clang and libFuzzer (Debian packages" \
        "clang and libclang-rt-14-dev; make deps installs them)"
    exit 1
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
    say "$CLANG cannot link a libFuzzer target (is libclang-rt-14-dev installed?):"
    sed 's/^/  /' "$probe/err" | head -5
    exit 1
fi

# configure (once; again when the cached compiler is not clang) and build only the target
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
if ! grep -q '^CMAKE_C_COMPILER:.*clang' "$BUILD/CMakeCache.txt" 2>/dev/null ||
    ! grep -q '^CONCVIZ_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
    gen=()
    command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
    if ! CC=$CLANG cmake -S "$SRC" -B "$BUILD" "${gen[@]}" -DCONCVIZ_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" 2>&1; then
        say "configuring the clang build in $BUILD failed:"
        tail -20 "$BUILD/configure.log"
        exit 1
    fi
fi
if ! cmake --build "$BUILD" --target fuzz_recording fuzz_scenario fuzz_script fuzz_cli fuzz_httpd --parallel 2 \
    >"$BUILD/build.log" 2>&1; then
    say "building the fuzz targets failed:"
    grep -E 'error|Error' "$BUILD/build.log" | head -20
    exit 1
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
skipped=0

# report LOG: the target's own complaint (fuzz_NAME: ...), the sanitizer's summary, the top
# frames of the stack and where the input is
report() {
    grep -a -E '^fuzz_[a-z]+: |^==[0-9]+== ?ERROR|^SUMMARY|runtime error' "$1" | head -3 |
        sed 's/^/  /'
    grep -E '^ *#[0-9]+ ' "$1" |
        grep -v -E 'fuzzer::|__sanitizer|__asan|__interceptor|libc\.so|libc_start|_start |malloc|realloc|calloc' |
        head -6 | sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^/  /'
}

# fuzz_target NAME CORPUS CRASHES MAX_LEN SECONDS: replays, then fuzzes one target
fuzz_target() {
    local FUZZER=$BUILD/tests/fuzz/fuzz_$1 CORPUS=$2 CRASHES=$3 SECS=${SECONDS_FUZZ:-$5}
    local ART=$BUILD/artifacts-$1 SCRATCH=$BUILD/scratch-$1
    local OPTS=(-max_len="$4" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$ART/")
    case " ${FUZZ_TARGETS:-$1} " in
    *" $1 "*) ;;
    *)
        say "fuzz_$1: skipped (not in FUZZ_TARGETS=\"$FUZZ_TARGETS\")"
        skipped=1
        return
        ;;
    esac
    rm -rf "$ART" "$SCRATCH"
    mkdir -p "$ART" "$SCRATCH"
    # 1. the seed corpus, every file once
    if ! "$FUZZER" "${OPTS[@]}" -runs=0 "$CORPUS" >"$BUILD/$1-corpus.log" 2>&1; then
        say "FAILED on the seed corpus (log: $BUILD/$1-corpus.log):"
        report "$BUILD/$1-corpus.log"
        failed=1
    else
        say "fuzz_$1: seed corpus: $(ls "$CORPUS" | wc -l) files replayed, no crash"
    fi

    # 2. inputs that crashed it before: each must pass now
    local replayed=0
    if [ -d "$CRASHES" ]; then
        for f in "$CRASHES"/*; do
            case $f in *.md) continue ;; esac
            [ -f "$f" ] || continue
            name=${f#"$SRC"/}
            replayed=$((replayed + 1))
            if ! "$FUZZER" "${OPTS[@]}" "$f" >"$BUILD/$1-crash.log" 2>&1; then
                say "FAILED: $name (a saved crash input) still fails:"
                report "$BUILD/$1-crash.log"
                failed=1
            fi
        done
        say "fuzz_$1: $replayed saved crash input(s) of ${CRASHES#"$SRC"/} replayed"
    else
        say "fuzz_$1: no saved crash inputs (no ${CRASHES#"$SRC"/} yet)"
    fi

    # 3. a short fuzzing session from the corpus
    if [ "$SECS" = 0 ]; then
        say "fuzz_$1: not fuzzed (FUZZ_SECONDS=0)"
        skipped=1
    else
        # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
        if "$FUZZER" "${OPTS[@]}" -max_total_time="$SECS" -print_final_stats=1 \
            ${FUZZ_ARGS:-} "$SCRATCH" "$CORPUS" >"$BUILD/$1-fuzz.log" 2>&1; then
            runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/$1-fuzz.log")
            rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$BUILD/$1-fuzz.log")
            cov=$(grep -E '^#[0-9]+' "$BUILD/$1-fuzz.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
            say "fuzz_$1: fuzzed ${SECS}s: $runs runs, $rate execs/s, $cov, no crash, leak or timeout"
        else
            say "FAILED while fuzzing (log: $BUILD/$1-fuzz.log):"
            report "$BUILD/$1-fuzz.log"
            art=$(ls -t "$ART" 2>/dev/null | head -1)
            if [ -n "$art" ]; then
                say "the input is saved at $ART/$art"
                say "reproduce: $FUZZER $ART/$art"
            fi
            failed=1
        fi
    fi
}

fuzz_target recording "$HERE/corpus" "$HERE/crashes" 65536 10
fuzz_target scenario "$HERE/corpus-scenario" "$HERE/crashes-scenario" 8192 5
fuzz_target script "$HERE/corpus-script" "$HERE/crashes-script" 4096 4
fuzz_target cli "$HERE/corpus-cli" "$HERE/crashes-cli" 2048 4
fuzz_target httpd "$HERE/corpus-httpd" "$HERE/crashes-httpd" 4096 4
[ "$failed" = 0 ] || exit 1
[ "$skipped" = 0 ] || exit 77
exit 0
