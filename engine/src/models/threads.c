/*
 * threads: a pool of pthreads. Task-shaped workloads are submitted up front and taken in order
 * by whichever worker is free (ThreadPoolExecutor); role-shaped ones get one thread per role.
 * Under --gil every worker takes the emulated GIL to run Python-like code.
 */
#include "internal.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

struct pool {
    struct cv_run *run;
    _Atomic uint32_t next; /* next task to hand out */
};

struct worker_arg {
    struct pool *pool;
    uint32_t lane;
};

static uint32_t threads_lanes(const struct cv_run *run)
{
    return 1 + run->workers;
}

static void *worker_main(void *p)
{
    struct worker_arg *wa = p;
    struct cv_run *run = wa->pool->run;
    struct cv_ctx *ctx = &run->ctxs[wa->lane];
    cv__lane_ready(run, wa->lane);
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    if (run->wl->shape == CV_SHAPE_ROLES) {
        cv__run_task(ctx, wa->lane - 1);
    } else {
        for (;;) {
            uint32_t id = atomic_fetch_add(&wa->pool->next, 1);
            if (id >= run->ntasks)
                break;
            if (cv_stopping(ctx))
                cv_ring_record(ctx->ring, CV_EV_TASK_CANCEL, ctx->lane, id, CV_NO_OBJ, 0);
            else
                cv__run_task(ctx, id);
        }
    }
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    return NULL;
}

/* future.result(timeout) for the whole batch: after the timeout, tasks not started are
 * cancelled (they never will be) and the running ones are reported timed out; they run on. */
static void give_up_after(struct cv_run *run, struct cv_ctx *main_ctx)
{
    uint64_t deadline = cv_clock_mono_ns() + run->task_timeout_ns;
    uint32_t n = (uint32_t)cv_run_task_count(run);
    for (;;) {
        bool all_done = true;
        for (uint32_t t = 0; t < n && all_done; t++)
            all_done = atomic_load(&run->task_flags[t]) & CV__TASK_DONE;
        if (all_done || cv_stopping(main_ctx))
            return;
        uint64_t now = cv_clock_mono_ns();
        if (now >= deadline)
            break;
        /* looks every 2 ms, and wakes at the deadline itself */
        struct timespec ts = {0, (long)(deadline - now < 2000000 ? deadline - now : 2000000)};
        nanosleep(&ts, NULL);
    }
    for (uint32_t t = 0; t < n; t++) {
        uint8_t f = atomic_fetch_or(&run->task_flags[t], CV__TASK_CANCEL);
        if ((f & CV__TASK_STARTED) && !(f & CV__TASK_DONE))
            cv_ring_record(main_ctx->ring, CV_EV_TASK_TIMEOUT, 0, t, CV_NO_OBJ, 0);
    }
}

static int threads_run(struct cv_run *run)
{
    struct cv_ctx *main_ctx = &run->ctxs[0];
    struct pool pool = {.run = run};
    uint32_t n = run->workers;
    pthread_t *tids = cv_xcalloc(n, sizeof *tids);
    struct worker_arg *args = cv_xcalloc(n, sizeof *args);
    int rc = 0;
    uint32_t started = 0;

    cv__submit_all(run);
    for (uint32_t i = 0; i < n; i++) {
        args[i] = (struct worker_arg){&pool, i + 1};
        cv__lane_spawning(run, i + 1);
        int err = pthread_create(&tids[i], NULL, worker_main, &args[i]);
        if (err) {
            char hint[160];
            cv__limits_hint(hint, sizeof hint);
            cv_run_error(run, "cannot start worker thread %u of %u: %s%s", i + 1, n, strerror(err),
                         hint);
            cv_run_stop(run);
            rc = -1;
            break;
        }
        started++;
    }
    run->os_threads = 1 + started;
    if (run->task_timeout_ns)
        give_up_after(run, main_ctx);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    free(tids);
    free(args);
    return rc;
}

const struct cv_model_ops cv__model_threads = {
    .id = CV_MODEL_THREADS,
    .lanes = threads_lanes,
    .run = threads_run,
    .wait = &cv__wait_block,
};
