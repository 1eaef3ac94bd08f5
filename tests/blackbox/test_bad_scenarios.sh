#!/usr/bin/env bash
# Malformed scenario files, as a table: each is given to `run` (headless) and to `show`, and each
# must exit 2 with exactly one line on stderr that names the file (and the line, where there is
# one) and says what is wrong, print nothing on stdout, and never crash, hang or write a terminal
# control byte. The parser's exact messages are checked in tests/unit/test_scenario.c; this is
# the command line's side of the same promise, plus what only a real file can be.
. "$(dirname "$0")/lib.sh"

HEAD='[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = counter\n'
PIPE='[scenario]\nname = p\ntitle = T\nlesson = L\nworkload = pipeline\n'

# NAME | CONTENT (printf %b) | LINE (0: none) | WHAT THE MESSAGE SAYS (an extended regex)
CASES=(
    "empty file||1|no settings"
    "comments only|# nothing\n; nor this\n|1|no settings"
    "line without =|${HEAD}oops\n|6|syntax error"
    "unterminated section header|[scenario\nname = t\n|1|syntax error"
    "key before any section|name = t\n${HEAD}|1|comes before any section"
    "unknown section|${HEAD}[extra]\nfoo = 1\n|7|unknown section \\[extra\\]"
    "unknown key|${HEAD}colour = red\n|6|unknown key 'colour'"
    "key given twice|${HEAD}model = serial\nname = u\n|7|'name' given twice"
    "key repeated on the next line|${HEAD}workload = primes\n|6|'workload' given twice"
    "parameter given twice|${HEAD}[params]\niterations = 5\niterations = 6\n|8|'iterations' given twice"
    "missing name|[scenario]\ntitle = T\nlesson = L\nworkload = counter\n|2|needs 'name'"
    "missing title|[scenario]\nname = t\nlesson = L\nworkload = counter\n|2|needs 'title'"
    "missing lesson|[scenario]\nname = t\ntitle = T\nworkload = counter\n|2|needs 'lesson'"
    "missing workload|[scenario]\nname = t\ntitle = T\nlesson = L\n|2|needs 'workload'"
    "name with a space|[scenario]\nname = my scenario\n|2|may only use letters"
    "unknown workload|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = nope\n|5|unknown workload 'nope'"
    "unknown model|${HEAD}model = fibers\n|6|unknown model 'fibers'"
    "unknown model in models|${HEAD}models = serial fibers\n|6|unknown model 'fibers'"
    "models lists none|${HEAD}models =\n|6|models lists no model"
    "default model not in models|${HEAD}model = procs\nmodels = serial threads\n|6|not in models"
    "workers 0|${HEAD}workers = 0\n|6|workers"
    "workers not a number|${HEAD}workers = lots\n|6|workers"
    "workers too many|${HEAD}workers = 5000\n|6|workers"
    "gil not a boolean|${HEAD}gil = maybe\n|6|gil must be true or false"
    "switch_interval 0|${HEAD}switch_interval = 0\n|6|switch_interval"
    "switch_interval nan|${HEAD}switch_interval = nan\n|6|switch_interval"
    "sweep not worker counts|${HEAD}sweep = workers=1,zz\n|6|sweep"
    "on_worker_death unknown|${HEAD}on_worker_death = explode\n|6|on_worker_death must be"
    "unknown parameter|${HEAD}[params]\nthreads = 4\n|7|unknown parameter 'threads'"
    "int parameter not a number|${HEAD}[params]\niterations = lots\n|7|whole number"
    "int parameter with an exponent|${HEAD}[params]\niterations = 1e6\n|7|whole number"
    "int parameter overflows|${HEAD}[params]\niterations = 99999999999999999999\n|7|whole number"
    "int parameter out of range|${HEAD}[params]\niterations = 0\n|7|between 1 and"
    "float parameter not a number|${PIPE}[params]\nconsume_ms = slow\n|7|must be a plain number"
    "float parameter with an exponent|${PIPE}[params]\nconsume_ms = 1e-9\n|7|must be a plain number"
    "float parameter in hex|${PIPE}[params]\nconsume_ms = 0x10\n|7|must be a plain number"
    "float parameter inf|${PIPE}[params]\nconsume_ms = inf\n|7|must be a plain number"
    "float parameter finer than a microsecond|${PIPE}[params]\nconsume_ms = 0.0001\n|7|at most 3 decimals"
    "timeout that would round to never|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n[params]\ntimeout_ms = 1e-9\n|7|timeout_ms must be a plain number"
    "list item in hex|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n[params]\nsleeps_ms = 100,0x10\n|7|sleeps_ms: '0x10' is not a plain number"
    "list with an empty item|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n[params]\nsleeps_ms = 100,,200\n|7|sleeps_ms: item 2 of '100,,200' is empty"
    "list with a trailing comma|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n[params]\nsleeps_ms = 100,\n|7|sleeps_ms: item 2 of '100,' is empty"
    "list item out of range|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n[params]\nsleeps_ms = 100,4000000\n|7|sleeps_ms: '4000000' is not a plain number"
    "whole-number list with a fraction|[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = primes\n[params]\nnumbers = 7,9.5\n|7|numbers: '9.5' is not a whole number"
    "sweep with an empty item|${HEAD}sweep = 1,,2\n|6|sweep: item 2"
    "switch_interval in hex|${HEAD}switch_interval = 0x5\n|6|switch_interval"
    "float parameter out of range|${PIPE}[params]\nconsume_ms = 20000.5\n|7|between 0 and 10000"
    "enum parameter unknown|${HEAD}[params]\nvariant = lock\n|7|must be one of"
    "expectation missing operand|${HEAD}[expect]\nbad = results.x ==\n|7|expectation 'bad'"
    "expectation missing )|${HEAD}[expect]\nparen = (1 + 2 3\n|7|expected '\\)'"
    "expectation trailing text|${HEAD}[expect]\ntrail = a == 1 b\n|7|unexpected text"
    "expectation empty|${HEAD}[expect]\nnothing =\n|7|expectation 'nothing'"
    "expectation names no summary field|${HEAD}[expect]\ntypo = resluts.x == 1\n|7|'resluts.x' is not in the run's summary"
    "expectation names no parameter|${HEAD}[expect]\nnope = params.nope > 1\n|7|'params.nope' names no parameter"
    "expectation's when names no field|${HEAD}[expect]\nw = tasks.completed > 0 when modle == \"threads\"\n|7|'modle' is not in"
    "sweep expectation names a run's field|${HEAD}sweep = 1 2\n[expect]\nr = results.x > 0\n|8|not in the sweep's summary"
    "a NUL byte|${HEAD}model = ser\0ial\n|6|a NUL byte"
    "terminal escapes in a key|${HEAD}\033[2J\033]0;title\007 = 1\n|6|unknown key"
    "bytes that are not UTF-8|\377\376[\303(scenario]\n|1|syntax error"
    "a line longer than the parser takes|${HEAD}lesson = $(printf 'x%.0s' {1..5000})\n|6|a line of 5009 bytes"
)

n=0
for case in "${CASES[@]}"; do
    IFS='|' read -r what content line says <<<"$case"
    file=$TMP/case-$n.ini
    n=$((n + 1))
    printf '%b' "$content" >"$file"
    where=$file
    [ "$line" != 0 ] && where="$file:$line"
    fails=""
    for cmd in "run $file --headless" "show $file"; do
        # shellcheck disable=SC2086 # cmd is a list of words
        timeout 20 "$CONCVIZ" $cmd >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
        lines=$(wc -l <"$TMP/err")
        if [ "$rc" != 2 ]; then
            fails+=" [${cmd%% *}: exit $rc]"
        elif [ -s "$TMP/out" ]; then
            fails+=" [${cmd%% *}: printed on stdout]"
        elif [ "$lines" != 1 ]; then
            fails+=" [${cmd%% *}: $lines lines on stderr]"
        elif ! grep -qF "concviz: $where: " "$TMP/err"; then
            fails+=" [${cmd%% *}: does not name $where: $(head -c 200 "$TMP/err")]"
        elif ! grep -qE -- "$says" "$TMP/err"; then
            fails+=" [${cmd%% *}: does not say /$says/: $(head -c 200 "$TMP/err")]"
        elif LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TMP/err"; then
            fails+=" [${cmd%% *}: a control byte reaches the terminal]"
        fi
    done
    if [ -z "$fails" ]; then
        ok "$what: exit 2, one line: $(cut -c1-100 "$TMP/err" | sed "s|$TMP/||")"
    else
        bad "$what:$fails"
        [ "$n" != 1 ] || stop_if_all_failed "the first malformed file"
    fi
done

# What only a real file can be: each still exit 2 with one line naming it, and no hang.
# file_case WHAT PATH REGEX [COMMAND...]: COMMAND, when given, runs concviz (a prefix to it)
file_case() {
    local what=$1 path=$2 says=$3 rc
    shift 3
    timeout 20 "$@" "$CONCVIZ" run "$path" --headless >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
    if [ "$rc" = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && [ ! -s "$TMP/out" ] &&
        grep -qF "concviz: $path" "$TMP/err" && grep -qE "$says" "$TMP/err"; then
        ok "$what: exit 2: $(sed "s|$TMP/||" "$TMP/err")"
    else
        bad "$what: exit $rc (124 is a hang), stderr: $(head -c 300 "$TMP/err")"
    fi
}
mkdir "$TMP/dir.ini"
file_case "a directory" "$TMP/dir.ini" "is a directory"
mkfifo "$TMP/fifo.ini"
file_case "a FIFO (reading it would wait for a writer)" "$TMP/fifo.ini" "not a regular file"
file_case "a missing file" "$TMP/missing.ini" "No such file"
ln -s loop.ini "$TMP/loop.ini"
file_case "a symbolic link to itself" "$TMP/loop.ini" "symbolic links"
head -c 2000000 /dev/zero | tr '\0' 'x' >"$TMP/huge.ini"
file_case "a 2 MB file" "$TMP/huge.ini" "too large for a scenario file"
python3 -c 'import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(1, 256) for _ in range(4096)))' >"$TMP/random.ini"
file_case "random bytes" "$TMP/random.ini" "."
cp "$TMP/err" "$TMP/random.err"

# The random file's message quotes its text: no control byte of it reaches the terminal.
quoted_safely() { [ -s "$1" ] && ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$1"; }
check "random bytes: the quoted text is escaped (no control byte on stderr)" quoted_safely "$TMP/random.err"

# A file its reader may not read. Root reads any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so
# as root concviz runs without those two capabilities (setpriv): then mode 000 keeps it out.
printf '%b' "$HEAD" >"$TMP/unreadable.ini"
chmod 000 "$TMP/unreadable.ini"
as=()
if [ "$(id -u)" = 0 ]; then
    caps=-dac_override,-dac_read_search
    as=(setpriv --inh-caps="$caps" --ambient-caps="$caps" --bounding-set="$caps" --)
fi
if [ ${#as[@]} != 0 ] && ! "${as[@]}" true 2>"$TMP/setpriv.err"; then
    skip "an unreadable file: running as root, and setpriv cannot drop the capabilities that read any file: $(head -c 200 "$TMP/setpriv.err")"
else
    file_case "an unreadable file" "$TMP/unreadable.ini" "Permission denied" "${as[@]}"
fi

# And a well-formed file, with Windows line endings and a byte-order mark, still runs.
printf '\xef\xbb\xbf[scenario]\r\nname = crlf\r\ntitle = T\r\nlesson = L\r\nworkload = counter\r\n[params]\r\niterations = 1000\r\n' >"$TMP/crlf.ini"
run_cv 0 run "$TMP/crlf.ini" --headless --json && check "CRLF and a BOM: the file runs" test "$(jqv .scenario)" = crlf
finish
