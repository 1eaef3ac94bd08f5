#!/usr/bin/env bash
# Every scenario passes --check under every model it supports, at its defaults.
. "$(dirname "$0")/lib.sh"
# expectations about wall times and speedups: under a sanitizer, tests/sanitize/scenario_runs.sh
# runs every scenario instead, small and unchecked
not_under_sanitizer "every scenario with its expectations of time"

for file in "$CONCVIZ_SCENARIO_DIR"/*.ini; do
    name=$(basename "$file" .ini)
    models=$("$CONCVIZ" show "$name" | sed -n 's/^  models *//p')
    for m in $models; do
        start=$(date +%s.%N)
        if run_cv 0 run "$name" --model "$m" --check --quiet; then
            ok "$name under $m passes --check ($(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s)"
        else
            grep FAIL "$TMP/out" || true
        fi
    done
done
finish
