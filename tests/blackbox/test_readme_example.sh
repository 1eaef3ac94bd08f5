#!/usr/bin/env bash
# The example scenario file in README.md ("Scenario files") runs as it is written there: copied
# verbatim from the README, it loads, runs its sweep and its expectations hold (exit 0), with
# its default variant and with the one its second expectation is for.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "a sweep of full runs whose race depends on speed"

readme="$(dirname "$0")/../../README.md"
check "README.md found" test -f "$readme"
# the first ```ini block after the "### Scenario files" heading
awk '/^### Scenario files/ { on = 1 } on && /^```ini$/ { grab = 1; next }
     grab && /^```$/ { exit } grab { print }' "$readme" >"$TMP/example.ini"
check "the example is in the README ($(wc -l <"$TMP/example.ini") lines)" \
    grep -q '^\[expect\]' "$TMP/example.ini"

for variant in "" mutex; do
    args=()
    [ -z "$variant" ] || args=(--set "variant=$variant")
    what="the README example${variant:+ with variant=$variant}"
    run_cv 0 run "$TMP/example.ini" "${args[@]}" --check --json || continue
    check "$what: a sweep of 4 runs" test "$(jqc '[.schema, (.runs | length)]')" = '["concviz.sweep/1",4]'
    n=$(jqv '.expectations | length')
    check "$what: $n expectation(s) applied, all hold" \
        test "$n" -ge 1 -a "$(jqv '[.expectations[].ok] | all')" = true
done
finish
