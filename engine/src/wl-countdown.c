/* countdown: a fixed number of CPU-bound increments split evenly across the workers (the
 * article's cpu_bound_increment with one thread, then two). */
#include "internal.h"

static const struct cv_param_def params[] = {
    {"increments", CV_PARAM_INT, "10000000", "increments in total, split across workers", NULL, 1,
     1e12},
    {"ns_per_increment", CV_PARAM_INT, "200", "CPU time of one increment (a Python loop step)",
     NULL, 1, 1e6},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int countdown_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, cv_run_workers(run));
    return CV_OK;
}

static int countdown_task(struct cv_ctx *ctx, uint32_t task)
{
    uint64_t total = (uint64_t)cv_param_int(ctx->run, "increments");
    uint64_t n = cv_run_task_count(ctx->run);
    uint64_t share = total / n + (task < total % n ? 1 : 0);
    uint64_t ns = (uint64_t)cv_param_int(ctx->run, "ns_per_increment");
    return cv_cpu(ctx, share * ns) ? 0 : -1;
}

static void countdown_finish(struct cv_run *run)
{
    cv_result_num(run, "increments", (double)cv_param_int(run, "increments"));
    cv_result_num(run, "cpu_work_s",
                  (double)cv_param_int(run, "increments") *
                      (double)cv_param_int(run, "ns_per_increment") / 1e9);
}

const struct cv_workload cv__wl_countdown = {
    .name = "countdown",
    .summary = "pure CPU work split across workers",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = countdown_plan,
    .task = countdown_task,
    .finish = countdown_finish,
};
