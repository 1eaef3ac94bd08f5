/* countdown: a fixed number of CPU-bound increments split evenly across the workers (the
 * article's cpu_bound_increment with one thread, then two). The CPU time of the increments is
 * measured on each worker (its thread's CPU clock), to set against the wall time: under the GIL
 * the workers take turns, so the run lasts at least as long as all of their computing. */
#include "wl.h"

struct countdown_state {
    _Atomic uint64_t compute_ns;
};

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

static int countdown_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct countdown_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int countdown_task(struct cv_ctx *ctx, uint32_t task)
{
    struct countdown_state *st = cv_run_workload_state(ctx->run);
    uint64_t total = (uint64_t)cv_param_int(ctx->run, "increments");
    uint64_t n = cv_run_task_count(ctx->run);
    uint64_t share = total / n + (task < total % n ? 1 : 0);
    uint64_t ns = (uint64_t)cv_param_int(ctx->run, "ns_per_increment");
    uint64_t t0 = cv__thread_cpu_ns();
    bool ok = cv_cpu(ctx, share * ns);
    atomic_fetch_add(&st->compute_ns, cv__thread_cpu_ns() - t0);
    return ok ? 0 : -1;
}

static void countdown_finish(struct cv_run *run)
{
    struct countdown_state *st = cv_run_workload_state(run);
    cv_result_num(run, "compute_s", (double)atomic_load(&st->compute_ns) / 1e9);
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
    .setup = countdown_setup,
    .task = countdown_task,
    .finish = countdown_finish,
};
