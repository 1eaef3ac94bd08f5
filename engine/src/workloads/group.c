/* group: tasks that wait, some of which fail part-way (raise ConnectionError). As a TaskGroup
 * (mode=taskgroup) the first failure cancels the others, and every task that raised before the
 * cancel reached it (in asyncio: in the same turn of the loop) is in the ExceptionGroup, as
 * except* sees it; as gather(return_exceptions=True) (mode=gather) every task runs to its end and
 * the errors come back among the results; as gather(return_exceptions=False)
 * (mode=gather_raise) the first error propagates to the caller at once while the other tasks run
 * on, and a later error is never retrieved. Each failure is named in the run's errors. */
#include "wl.h"

#include <stdio.h>
#include <string.h>

#define MAX_FAILING 64

static const struct cv_param_def params[] = {
    {"mode", CV_PARAM_ENUM, "taskgroup",
     "TaskGroup (taskgroup), gather(return_exceptions=True) (gather) or gather(return_"
     "exceptions=False) (gather_raise)",
     "taskgroup|gather|gather_raise", 0, 0},
    {"tasks", CV_PARAM_INT, "6", "tasks in the group", NULL, 1, 10000},
    {"task_ms", CV_PARAM_FLOAT, "1000", "how long each task waits, ms", NULL, 0, 3600000},
    {"failing", CV_PARAM_INT_LIST, "2,4", "the tasks that fail (comma list)", NULL, 0, 9999},
    {"fail_ms", CV_PARAM_NUM_LIST, "300",
     "when they fail, ms after they start: one value for all, or one per failing task", NULL, 0,
     3600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

struct group_state {
    uint32_t nfailing;
    uint32_t failing[MAX_FAILING];
    uint64_t fail_ns[MAX_FAILING];
    _Atomic uint64_t t0;      /* the first task's start */
    _Atomic uint32_t running; /* tasks started and not yet ended */
    _Atomic uint32_t raised;  /* failures so far; raised_task/raised_at in their order */
    uint32_t raised_task[MAX_FAILING];
    uint64_t raised_at[MAX_FAILING];
    _Atomic uint32_t running_at_first; /* the others still running when the first one raised */
};

/* Reads failing and fail_ms into st (NULL to only check). */
static int parse(struct cv_run *run, struct group_state *st, char **cause)
{
    static const struct cv__number_range task = {.whole = true, .lo_u = 0, .hi_u = 9999};
    static const struct cv__number_range ms = {.lo = 0, .hi = 3600000};
    uint64_t ids[MAX_FAILING];
    double when[MAX_FAILING];
    int n = cv__parse_numbers("failing", cv_param_str(run, "failing"), &task, ids, NULL,
                              MAX_FAILING, cause);
    if (n < 0)
        return CV_ERR_USAGE;
    int m = cv__parse_numbers("fail_ms", cv_param_str(run, "fail_ms"), &ms, NULL, when, MAX_FAILING,
                              cause);
    if (m < 0)
        return CV_ERR_USAGE;
    const char *why = NULL;
    if (m != 1 && m != n)
        why = "fail_ms must be one value, or one per failing task";
    for (int i = 0; !why && i < n; i++) {
        if ((int64_t)ids[i] >= cv_param_int(run, "tasks"))
            why = "failing must name tasks of the group (0 to tasks-1)";
        for (int j = 0; !why && j < i; j++)
            if (ids[j] == ids[i])
                why = "failing names a task twice";
    }
    if (why) {
        if (cause)
            *cause = cv_strdup(why);
        return CV_ERR_USAGE;
    }
    for (int i = 0; st && i < n; i++) {
        st->failing[i] = (uint32_t)ids[i];
        st->fail_ns[i] = (uint64_t)(when[m == 1 ? 0 : i] * 1e6);
    }
    if (st)
        st->nfailing = (uint32_t)n;
    return CV_OK;
}

static int group_plan(struct cv_run *run, char **cause)
{
    int rc = parse(run, NULL, cause);
    if (rc != CV_OK)
        return rc;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    cv_run_set_fail_fast(run, !strcmp(cv_param_str(run, "mode"), "taskgroup"));
    return CV_OK;
}

static int group_setup(struct cv_run *run, char **cause)
{
    struct group_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return parse(run, st, cause);
}

/* The index of `task` among the failing ones, or -1. */
static int failing_index(const struct group_state *st, uint32_t task)
{
    for (uint32_t i = 0; i < st->nfailing; i++)
        if (st->failing[i] == task)
            return (int)i;
    return -1;
}

/* The task raises: noted in order, with the time since the group started. */
static void raise_error(struct group_state *st, uint32_t task)
{
    uint64_t now = cv_clock_mono_ns();
    uint32_t k = atomic_fetch_add(&st->raised, 1);
    if (k == 0)
        atomic_store(&st->running_at_first, atomic_load(&st->running) - 1);
    if (k < MAX_FAILING) {
        st->raised_task[k] = task;
        st->raised_at[k] = now - atomic_load(&st->t0);
    }
}

static int group_task(struct cv_ctx *ctx, uint32_t task)
{
    struct cv_run *run = ctx->run;
    struct group_state *st = cv_run_workload_state(run);
    uint64_t zero = 0, now = cv_clock_mono_ns();
    atomic_compare_exchange_strong(&st->t0, &zero, now);
    atomic_fetch_add(&st->running, 1);
    int i = failing_index(st, task), rc;
    if (i >= 0 && cv_sleep(ctx, st->fail_ns[i])) {
        raise_error(st, task);
        rc = -5; /* raise ConnectionError */
    } else if (i >= 0) {
        rc = -1;
    } else {
        rc = cv_sleep(ctx, (uint64_t)(cv_param_num(run, "task_ms") * 1e6)) ? 0 : -1;
    }
    atomic_fetch_sub(&st->running, 1);
    return rc;
}

/* "task 2 (0.300 s), task 4 (0.300 s)": the raised errors from `from` on */
static void list_raised(const struct group_state *st, uint32_t from, uint32_t n, char *buf,
                        size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (uint32_t k = from; k < n && k < MAX_FAILING && len + 1 < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%stask %u (%.3f s)", k > from ? ", " : "",
                         st->raised_task[k], (double)st->raised_at[k] / 1e9);
        len += w > 0 ? (size_t)w : 0;
    }
}

static void group_finish(struct cv_run *run)
{
    struct group_state *st = cv_run_workload_state(run);
    const char *mode = cv_param_str(run, "mode");
    uint32_t n = atomic_load(&st->raised);
    cv_result_str(run, "mode", mode);
    cv_result_num(run, "failing_tasks", st->nfailing);
    cv_result_num(run, "first_failing_task", st->nfailing ? st->failing[0] : 0);
    cv_result_num(run, "raised", n);
    if (n)
        cv_result_num(run, "first_error_s", (double)st->raised_at[0] / 1e9);
    if (!n)
        return;
    char all[512], later[512];
    list_raised(st, 0, n, all, sizeof all);
    if (!strcmp(mode, "taskgroup")) {
        cv_result_num(run, "exception_group", n);
        cv_run_error(run, "TaskGroup raised an ExceptionGroup of %u ConnectionError%s: %s", n,
                     n == 1 ? "" : "s", all);
    } else if (!strcmp(mode, "gather")) {
        cv_run_error(run,
                     "gather(return_exceptions=True) returned %u ConnectionError%s among the "
                     "results: %s",
                     n, n == 1 ? "" : "s", all);
    } else {
        uint32_t still = atomic_load(&st->running_at_first);
        cv_result_num(run, "still_running", still);
        list_raised(st, 1, n, later, sizeof later);
        cv_run_error(run,
                     "gather raised task %u's ConnectionError at %.3f s, %u other task%s "
                     "still running; %u later error%s never retrieved%s%s",
                     st->raised_task[0], (double)st->raised_at[0] / 1e9, still,
                     still == 1 ? "" : "s", n - 1, n - 1 == 1 ? "" : "s", n > 1 ? ": " : "", later);
    }
}

const struct cv_workload cv__wl_group = {
    .name = "group",
    .summary = "waiting tasks, some of which fail: fail fast, collect all, or the first raises",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = group_plan,
    .setup = group_setup,
    .task = group_task,
    .finish = group_finish,
};
