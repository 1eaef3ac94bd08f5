/* mixed: tasks that either wait (I/O-like) or compute, to size a pool: more workers help waits
 * until every task waits at once, and help computing only up to the core count. */
#include "wl.h"

#include <string.h>

static const struct cv_param_def params[] = {
    {"kind", CV_PARAM_ENUM, "io", "what each task does", "io|cpu", 0, 0},
    {"tasks", CV_PARAM_INT, "32", "number of tasks", NULL, 1, 100000},
    {"io_ms", CV_PARAM_FLOAT, "100", "wait of an io task, ms", NULL, 0, 60000},
    {"cpu_ms", CV_PARAM_FLOAT, "50", "CPU time of a cpu task, ms", NULL, 0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int mixed_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    return CV_OK;
}

static int mixed_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct cv_run *run = ctx->run;
    if (!strcmp(cv_param_str(run, "kind"), "io"))
        return cv_sleep(ctx, (uint64_t)(cv_param_num(run, "io_ms") * 1e6)) ? 0 : -1;
    return cv_cpu(ctx, (uint64_t)(cv_param_num(run, "cpu_ms") * 1e6)) ? 0 : -1;
}

static void mixed_finish(struct cv_run *run)
{
    bool io = !strcmp(cv_param_str(run, "kind"), "io");
    double each = cv_param_num(run, io ? "io_ms" : "cpu_ms") / 1e3;
    cv_result_num(run, "serial_s", each * (double)cv_run_task_count(run));
}

const struct cv_workload cv__wl_mixed = {
    .name = "mixed",
    .summary = "tasks that wait or compute, for sizing pools",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = mixed_plan,
    .task = mixed_task,
    .finish = mixed_finish,
};
