/* phases: every worker does uneven work, then waits at a barrier, phase after phase; the last to
 * arrive releases the others (threading.Barrier). */
#include "wl.h"

#include <string.h>

#define MAX_PHASES 1000

struct phases_state {
    struct cv_barrier *barrier;
    uint32_t phases;
    uint64_t work_ns;
    _Atomic uint32_t arrived[MAX_PHASES];
    _Atomic uint32_t violations; /* a lane passed a barrier before everyone arrived */
    _Atomic uint32_t completed;  /* phases completed, all lanes */
};

static const struct cv_param_def params[] = {
    {"phases", CV_PARAM_INT, "8", "phases, each ended by the barrier", NULL, 1, MAX_PHASES},
    {"work_ms", CV_PARAM_FLOAT, "40",
     "work per phase of the first worker, ms (worker k does k times as much)", NULL, 0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int phases_plan(struct cv_run *run, char **cause)
{
    /* Every task must be running at once: one task per worker, each on its own lane. */
    if (!strcmp(cv_run_model_name(run), "openmp") &&
        (strcmp(cv_param_str(run, "schedule"), "static") != 0 || cv_param_int(run, "chunk") > 1)) {
        if (cause)
            *cause = cv_strdup("phases needs one task per OpenMP thread: use schedule=static "
                               "with chunk 0 or 1");
        return CV_ERR_USAGE;
    }
    cv_run_set_tasks(run, cv_run_workers(run));
    return CV_OK;
}

static int phases_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct phases_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->barrier = cv_barrier_create(run, "barrier", cv_run_workers(run));
    if (!st->barrier)
        return CV_ERR_RUNTIME;
    st->phases = (uint32_t)cv_param_int(run, "phases");
    st->work_ns = (uint64_t)(cv_param_num(run, "work_ms") * 1e6);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int phases_task(struct cv_ctx *ctx, uint32_t task)
{
    struct phases_state *st = cv_run_workload_state(ctx->run);
    uint32_t parties = cv_run_workers(ctx->run);
    for (uint32_t p = 0; p < st->phases; p++) {
        if (!cv_cpu(ctx, st->work_ns * (task + 1)))
            return -1;
        atomic_fetch_add(&st->arrived[p], 1);
        uint64_t phase = cv_barrier_wait(ctx, st->barrier);
        if (phase == UINT64_MAX)
            return -1;
        if (phase != p || atomic_load(&st->arrived[p]) != parties)
            atomic_fetch_add(&st->violations, 1);
        atomic_fetch_add(&st->completed, 1);
    }
    return 0;
}

static void phases_finish(struct cv_run *run)
{
    struct phases_state *st = cv_run_workload_state(run);
    cv_result_num(run, "phases", st->phases);
    cv_result_num(run, "phases_completed",
                  (double)atomic_load(&st->completed) / cv_run_workers(run));
    cv_result_num(run, "violations", atomic_load(&st->violations));
}

const struct cv_workload cv__wl_phases = {
    .name = "phases",
    .summary = "uneven work in phases separated by a barrier",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = phases_plan,
    .setup = phases_setup,
    .task = phases_task,
    .finish = phases_finish,
};
