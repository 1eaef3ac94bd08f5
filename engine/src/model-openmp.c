/*
 * openmp: a parallel-for over the tasks, `schedule(runtime)` set from the scenario's schedule and
 * chunk parameters (static, dynamic or guided). Lanes are the team's threads; a lane that ran out
 * of iterations sits idle at the loop's closing barrier, which is how static imbalance shows.
 */
#include "internal.h"

#include <omp.h>
#include <string.h>

static uint32_t omp_lanes(const struct cv_run *run)
{
    return 1 + run->workers;
}

static omp_sched_t schedule_kind(const char *name)
{
    if (!strcmp(name, "dynamic"))
        return omp_sched_dynamic;
    if (!strcmp(name, "guided"))
        return omp_sched_guided;
    return omp_sched_static;
}

static int omp_run(struct cv_run *run)
{
    struct cv_ctx *main_ctx = &run->ctxs[0];
    cv__submit_all(run);
    omp_set_schedule(schedule_kind(cv_param_str(run, "schedule")), (int)cv_param_int(run, "chunk"));
    int64_t n = run->ntasks;
    int team = 0;
#pragma omp parallel num_threads((int)run->workers)
    {
        struct cv_ctx *ctx = &run->ctxs[omp_get_thread_num() + 1];
#pragma omp single nowait
        team = omp_get_num_threads();
        cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
#pragma omp for schedule(runtime)
        for (int64_t i = 0; i < n; i++) {
            if (cv_stopping(ctx))
                cv_ring_record(ctx->ring, CV_EV_TASK_CANCEL, ctx->lane, (uint32_t)i, CV_NO_OBJ, 0);
            else
                cv__run_task(ctx, (uint32_t)i);
        }
        cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    }
    /* The calling thread is the team's first thread: threads in use = the team. */
    run->os_threads = (uint32_t)team;
    cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    return 0;
}

const struct cv_model_ops cv__model_openmp = {
    .id = CV_MODEL_OPENMP,
    .lanes = omp_lanes,
    .run = omp_run,
    .wait = &cv__wait_block,
};
