/* A finished run's exit code: its state and its expectations (for run and for the live view). */
#include "cli.h"

#include <string.h>

/* A deadlock is a failure unless an applicable expectation of the scenario asserts it (reads
 * results.deadlock) and holds. */
bool tui_deadlock_expected(const struct cv_value *sum)
{
    const struct cv_value *exp = cv_value_get(sum, "expectations");
    for (size_t i = 0; exp && i < exp->n; i++) {
        const struct cv_value *expr = cv_value_get(exp->items[i], "expr");
        const struct cv_value *ok = cv_value_get(exp->items[i], "ok");
        if (expr && strstr(expr->str, "results.deadlock") && ok && ok->b)
            return true;
    }
    return false;
}

int tui_verdict(bool check, const struct cv_value *sum, enum cv_run_state st, unsigned failed)
{
    if (st == CV_RUN_FAILED) {
        const struct cv_value *errs = cv_value_get(sum, "errors");
        const struct cv_value *status = cv_value_child(cv_value_get(sum, "results"), "exit_status");
        if (status && status->num == TUI_EXIT_NOT_STARTED) /* a trace's program did not start */
            return tui_fail(TUI_EXIT_NOT_STARTED, "%s",
                            errs && errs->n ? errs->items[0]->str : "the program did not start");
        return tui_fail(TUI_EXIT_RUNTIME, "run failed: %s",
                        errs && errs->n ? errs->items[0]->str : "unknown error");
    }
    if (st == CV_RUN_DEADLOCKED && !tui_deadlock_expected(sum)) {
        const struct cv_value *d = cv_value_child(cv_value_get(sum, "results"), "deadlock");
        const struct cv_value *text = cv_value_get(d, "text");
        return tui_fail(TUI_EXIT_EXPECT, "deadlock: %s", text ? text->str : "a wait-for cycle");
    }
    if (st == CV_RUN_STOPPED)
        return tui_fail(TUI_EXIT_INTERRUPTED, "interrupted; the summary covers the run so far");
    /* Errors the run survived (on_worker_death = continue) are reported, not fatal. */
    const struct cv_value *errs = cv_value_get(sum, "errors");
    for (size_t i = 0; st == CV_RUN_DONE && errs && i < errs->n; i++)
        tui_fail(0, "warning: %s (the run went on)", errs->items[i]->str);
    if (check && failed)
        return tui_fail(TUI_EXIT_EXPECT, "%u expectation%s failed", failed, failed == 1 ? "" : "s");
    /* a trace ends as its program did */
    const struct cv_value *model = cv_value_get(sum, "model");
    const struct cv_value *status = cv_value_child(cv_value_get(sum, "results"), "exit_status");
    if (model && model->str && !strcmp(model->str, "trace") && status)
        return (int)status->num;
    return TUI_EXIT_OK;
}
