/* sleeps: one task per listed duration, each just waits (asyncio.sleep / time.sleep). */
#include "wl.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SLEEPS 4096

struct sleeps_state {
    uint32_t n;
    uint64_t ns[];
};

static const struct cv_param_def params[] = {
    {"sleeps_ms", CV_PARAM_NUM_LIST, "2000,500", "comma-separated sleep per task, ms", NULL, 0,
     3600000},
    {"timeout_ms", CV_PARAM_FLOAT, "0",
     "give up on tasks after this long (future.result(timeout) / wait_for); 0 = never", NULL, 0,
     3600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* Reads sleeps_ms into out (ns; NULL to only count) and *n. */
static int parse(const char *text, uint64_t *out, uint32_t *n, char **cause)
{
    static const struct cv__number_range ms = {.lo = 0, .hi = 3600000};
    double *v = cv_xmalloc(MAX_SLEEPS * sizeof *v);
    int got = cv__parse_numbers("sleeps_ms", text, &ms, NULL, v, MAX_SLEEPS, cause);
    *n = got > 0 ? (uint32_t)got : 0;
    for (uint32_t i = 0; out && i < *n; i++)
        out[i] = (uint64_t)(v[i] * 1e6);
    free(v);
    return got > 0 ? CV_OK : CV_ERR_USAGE;
}

static int sleeps_plan(struct cv_run *run, char **cause)
{
    uint32_t n;
    int rc = parse(cv_param_str(run, "sleeps_ms"), NULL, &n, cause);
    if (rc == CV_OK) {
        cv_run_set_tasks(run, n);
        cv_run_set_task_timeout(run, (uint64_t)(cv_param_num(run, "timeout_ms") * 1e6));
    }
    return rc;
}

static int sleeps_setup(struct cv_run *run, char **cause)
{
    uint32_t n = (uint32_t)cv_run_task_count(run);
    struct sleeps_state *st = cv_shared_alloc(run, sizeof *st + n * sizeof(uint64_t));
    if (!st)
        return CV_ERR_RUNTIME;
    int rc = parse(cv_param_str(run, "sleeps_ms"), st->ns, &st->n, cause);
    cv_run_set_workload_state(run, st);
    return rc;
}

static int sleeps_task(struct cv_ctx *ctx, uint32_t task)
{
    struct sleeps_state *st = cv_run_workload_state(ctx->run);
    return cv_sleep(ctx, st->ns[task]) ? 0 : -1;
}

static void sleeps_finish(struct cv_run *run)
{
    struct sleeps_state *st = cv_run_workload_state(run);
    uint64_t longest = 0, total = 0;
    uint32_t fastest = 0;
    for (uint32_t i = 0; i < st->n; i++) {
        total += st->ns[i];
        if (st->ns[i] > longest)
            longest = st->ns[i];
        if (st->ns[i] < st->ns[fastest])
            fastest = i;
    }
    cv_result_num(run, "longest_sleep_s", (double)longest / 1e9);
    cv_result_num(run, "total_sleep_s", (double)total / 1e9);
    cv_result_num(run, "fastest_task", fastest);
}

const struct cv_workload cv__wl_sleeps = {
    .name = "sleeps",
    .summary = "tasks that only wait, for given durations",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = sleeps_plan,
    .setup = sleeps_setup,
    .task = sleeps_task,
    .finish = sleeps_finish,
};
