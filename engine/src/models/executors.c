/* hybrid's executor: a task hands a job (a function and its argument) to an executor lane and
 * parks until it is done, as run_in_executor / to_thread do. With offload = threads the
 * executor is a pool of threads taking jobs from a list (here); with offload = procs, processes
 * (xprocs.c). In plain epoll there is no executor: the job runs on the loop itself. */
#include "loop.h"

#include <stdlib.h>
#include <string.h>

bool cv__co_offload(struct cv_ctx *ctx, bool (*fn)(struct cv_ctx *, void *), void *arg,
                    size_t argsz)
{
    struct loop *L = cv__g_loop;
    if (!L->npool && !L->nxprocs)
        return fn(ctx, arg); /* plain epoll: on the loop itself */
    struct job j = {.lane = ctx->lane, .task = ctx->task, .fn = fn, .arg = arg, .argsz = argsz};
    bool threads = !L->nxprocs; /* else only this thread touches the list */
    if (!threads && (!argsz || argsz > XARG_MAX)) {
        cv_run_error(L->run,
                     "task %u: this work (file I/O) holds pointers and cannot be sent to an "
                     "executor process; use --set offload=threads",
                     ctx->task);
        L->failed = true;
        cv_run_stop(L->run);
        return false;
    }
    if (threads)
        pthread_mutex_lock(&L->pool_mu);
    if (L->jobs_tail)
        L->jobs_tail->next = &j;
    else
        L->jobs = &j;
    L->jobs_tail = &j;
    if (threads) {
        pthread_cond_signal(&L->pool_cv);
        pthread_mutex_unlock(&L->pool_mu);
    } else {
        cv__xproc_dispatch(L);
    }
    /* The job lives on this stack: wait for it even when stopping (it stops at a checkpoint). */
    while (!atomic_load(&j.done))
        cv__co_park(ctx, 0);
    return j.ok;
}

static void *pool_main(void *p)
{
    struct pool_arg *a = p;
    struct loop *L = a->L;
    struct cv_ctx *ctx = &L->run->ctxs[a->lane];
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    pthread_mutex_lock(&L->pool_mu);
    for (;;) {
        while (!L->jobs && !L->closing)
            pthread_cond_wait(&L->pool_cv, &L->pool_mu);
        if (!L->jobs)
            break;
        struct job *j = L->jobs;
        L->jobs = j->next;
        if (!L->jobs)
            L->jobs_tail = NULL;
        pthread_mutex_unlock(&L->pool_mu);
        ctx->task = j->task;
        if (cv_stopping(ctx)) {
            j->ok = false; /* the run stopped: a job not started is cancelled */
        } else {
            cv_emit(ctx, CV_EV_JOB_START, CV_NO_OBJ, j->lane);
            j->ok = j->fn(ctx, j->arg);
            cv_emit(ctx, CV_EV_JOB_END, CV_NO_OBJ, j->lane);
        }
        ctx->task = CV_NO_TASK;
        uint32_t lane = j->lane;
        atomic_store(&j->done, 1); /* j may be gone after this */
        cv__co_unpark(L->run, lane);
        pthread_mutex_lock(&L->pool_mu);
    }
    pthread_mutex_unlock(&L->pool_mu);
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    return NULL;
}

int cv__pool_start(struct loop *L, struct pool_arg *args)
{
    uint32_t n = offload_count(L->run);
    L->pool = cv_xcalloc(n ? n : 1, sizeof *L->pool);
    for (uint32_t i = 0; i < n; i++) {
        args[i] = (struct pool_arg){L, L->ntask_lanes + 1 + i};
        int err = pthread_create(&L->pool[i], NULL, pool_main, &args[i]);
        if (err) {
            cv_run_error(L->run, "cannot start executor thread %u: %s", i + 1, strerror(err));
            return -1;
        }
        L->npool++;
    }
    return 0;
}

void cv__pool_stop(struct loop *L)
{
    pthread_mutex_lock(&L->pool_mu);
    L->closing = true;
    pthread_cond_broadcast(&L->pool_cv);
    pthread_mutex_unlock(&L->pool_mu);
    for (uint32_t i = 0; i < L->npool; i++)
        pthread_join(L->pool[i], NULL);
    free(L->pool);
    L->pool = NULL;
    L->npool = 0;
}
