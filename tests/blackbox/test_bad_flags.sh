#!/usr/bin/env bash
# Every flag that takes a value, given bad values (and no value), for every command: exit 2 and
# exactly one line on stderr naming the flag or the value, nothing on stdout, never a crash, a
# hang or a screen.
# One table: COMMAND ARGS... | FLAG | BAD VALUES (space-separated; "<none>" = the flag last,
# without its value).
. "$(dirname "$0")/lib.sh"
GOLDEN="$(cd "$(dirname "$0")/../golden" && pwd)"
REC="$GOLDEN/pipeline.cvr"

table() {
    cat <<TABLE
run counter-race|--model|fibers 7 <none>
run counter-race|-m|serialx <none>
run counter-race|--workers|0 -1 lots 1.5 99999999999 <none>
run counter-race|-w|0 <none>
run gil-contention|--switch-interval|0 -5 soon nan 0x5 1e1 inf +2 <none>
run counter-race|--set|variant novalue=1 =x iterations=-1 iterations=1e99 <none>
run counter-race|-s|colour=blue <none>
run counter-race --model threads|--task-timeout|0 -1 soon nan 86401 1e-1 0x1 0.0001 <none>
run counter-race --model serial|--task-timeout|1
run retry-backoff|--set|fault=teapot fault=404 fault=500, fault= request_timeout_ms=-1 request_timeout_ms=soon
run retry-backoff --set request_timeout_ms=0|--set|fault=stall fault=500,stall
run counter-race|--ring-size|0 63 lots 99999999999 <none>
run counter-race|--repeat|0 -1 lots 1.5 <none>
run counter-race|--for|0 -1 soon <none>
run counter-race|--fps|0 241 fast <none>
run counter-race --script x|--size|0x0 10 abcx40 5000x40 <none>
run counter-race|--record|<none>
run counter-race|--export-chrome|<none>
run counter-race|--script|<none>
replay $REC|--speed|0 0.05 101 fast nan 1e0 0x1 <none>
replay $REC|--fps|0 241 <none>
replay $REC --script x|--size|0x0 10 <none>
replay $REC|--script|<none>
export $REC|--format|svgz pdf <none>
export $REC|-f|<none>
export $REC --format svg|--from|-1 soon nan 1e1 0x1 inf <none>
export $REC --format svg|--to|0 -2 later <none>
export $REC --format csv|--from|1
export $REC|-o|<none>
serve|--port|-1 70000 http <none>
serve|-p|<none>
serve|--for|-1 soon <none>
serve|--max-requests|0 -3 many <none>
serve|--fault|500 500:0 500:2 500:x teapot:0.1 404:0.5 500:0.6,reset:0.6 500:0.5, <none>
serve|--stall-ms|-1 60001 long <none>
TABLE
}

n=0
while IFS='|' read -r cmd flag values; do
    for v in $values; do
        # shellcheck disable=SC2086 # cmd is a list of words
        if [ "$v" = "<none>" ]; then set -- $cmd "$flag"; else set -- $cmd "$flag" "$v"; fi
        set +e
        timeout 20 "$CONCVIZ" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
        rc=$?
        set -e
        n=$((n + 1))
        lines=$(wc -l <"$TMP/err")
        # it names the culprit: the flag when its value is missing, else the flag or the value
        # (for --set, its key or its value)
        named=0
        if [ "$v" = "<none>" ]; then
            grep -qF -- "$flag" "$TMP/err" && named=1
        else
            for want in "$flag" "${v#*=}" "${v%%=*}"; do
                [ -n "$want" ] && grep -qF -- "$want" "$TMP/err" && named=1
            done
        fi
        if [ "$rc" = 2 ] && [ "$lines" = 1 ] && [ ! -s "$TMP/out" ] && [ "$named" = 1 ]; then
            ok "concviz $* -> 2: $(cat "$TMP/err")"
        else
            bad "concviz $* -> exit $rc, $lines line(s) on stderr: $(head -c 300 "$TMP/err")"
            [ "$n" != 1 ] || stop_if_all_failed "the first bad value"
        fi
    done
done < <(table)
echo "# $n bad values tried"
finish
