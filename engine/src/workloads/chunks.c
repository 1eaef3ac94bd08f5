/* chunks: tasks whose cost grows with their index (the last one costs twice the mean, the first
 * almost nothing). Handed out in contiguous blocks (OpenMP's static schedule), one worker gets
 * the cheap half and idles while the other works; handed out one by one (dynamic, a pool), the
 * work evens out. */
#include "wl.h"

static const struct cv_param_def params[] = {
    {"tasks", CV_PARAM_INT, "64", "number of tasks", NULL, 1, 100000},
    {"mean_ms", CV_PARAM_FLOAT, "30", "mean CPU time of a task, ms (task i costs 2*mean*(i+1)/n)",
     NULL, 0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int chunks_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    return CV_OK;
}

static uint64_t cost_ns(struct cv_run *run, uint32_t task)
{
    double n = (double)cv_run_task_count(run);
    return (uint64_t)(2.0 * cv_param_num(run, "mean_ms") * 1e6 * (task + 1) / n);
}

static int chunks_task(struct cv_ctx *ctx, uint32_t task)
{
    return cv_cpu(ctx, cost_ns(ctx->run, task)) ? 0 : -1;
}

static void chunks_finish(struct cv_run *run)
{
    double total = 0;
    for (uint32_t t = 0; t < cv_run_task_count(run); t++)
        total += (double)cost_ns(run, t) / 1e9;
    cv_result_num(run, "work_s", total);
    cv_result_num(run, "ideal_wall_s", total / cv_run_workers(run));
}

const struct cv_workload cv__wl_chunks = {
    .name = "chunks",
    .summary = "tasks of growing cost, to show how scheduling balances them",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = chunks_plan,
    .task = chunks_task,
    .finish = chunks_finish,
};
