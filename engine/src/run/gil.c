/*
 * The emulated GIL, modelled on CPython's (3.2+) design: one lock held while computing; a thread
 * that waits longer than the switch interval without the holder changing sets a drop request;
 * the holder notices it at its next checkpoint, releases, and (forced switching) waits until
 * another thread has taken the lock before competing again. Waits and I/O release it.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct cv_gil {
    pthread_mutex_t mu;         /* protects every field below */
    pthread_cond_t cond;        /* signalled when the GIL is released */
    pthread_cond_t switch_cond; /* signalled when a thread takes it */
    int locked;
    uint32_t holder;
    uint32_t waiting;
    uint64_t switch_number;
    uint64_t interval_ns;
    uint32_t obj;
    _Atomic uint32_t *attention;
};

struct cv_gil *cv__gil_create(struct cv_run *run, double switch_ms)
{
    struct cv_gil *g = cv_xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_cond_init(&g->switch_cond, &ca);
    pthread_condattr_destroy(&ca);
    g->holder = CV_NONE;
    g->interval_ns = (uint64_t)(switch_ms * 1e6);
    if (g->interval_ns == 0)
        g->interval_ns = 1;
    g->attention = &run->shm->attention;
    g->obj = cv__obj_register(run, CV_OBJ_GIL, "GIL", 1, NULL);
    return g;
}

void cv__gil_destroy(struct cv_gil *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cond);
    pthread_cond_destroy(&g->switch_cond);
    free(g);
}

static struct timespec deadline_in(uint64_t ns)
{
    uint64_t t = cv_clock_mono_ns() + ns;
    return (struct timespec){.tv_sec = (time_t)(t / 1000000000u),
                             .tv_nsec = (long)(t % 1000000000u)};
}

/* Waits (mu held) until the GIL is free, then takes it. `waiting` says the lane already
 * announced its wait (a forced drop does, so the time spent waiting for the switch counts as
 * GIL wait). */
static void take_locked(struct cv_ctx *ctx, struct cv_gil *g, bool waiting)
{
    if (g->locked) {
        if (!waiting)
            cv_emit(ctx, CV_EV_GIL_WAIT, g->obj, g->holder);
        g->waiting++;
        while (g->locked) {
            uint64_t saved = g->switch_number;
            struct timespec ts = deadline_in(g->interval_ns);
            int rc = pthread_cond_timedwait(&g->cond, &g->mu, &ts);
            if (rc == ETIMEDOUT && g->locked && g->switch_number == saved &&
                !(atomic_load(g->attention) & CV_ATTN_GIL)) {
                atomic_fetch_or(g->attention, CV_ATTN_GIL);
                cv_emit(ctx, CV_EV_GIL_DROP_REQUEST, g->obj, g->holder);
            }
        }
        g->waiting--;
    }
    g->locked = 1;
    g->holder = ctx->lane;
    g->switch_number++;
    atomic_fetch_and(g->attention, ~CV_ATTN_GIL);
    pthread_cond_broadcast(&g->switch_cond);
    cv_emit(ctx, CV_EV_GIL_ACQUIRE, g->obj, 0);
    ctx->gil_held = true;
}

void cv__gil_take(struct cv_ctx *ctx)
{
    struct cv_gil *g = ctx->gil;
    pthread_mutex_lock(&g->mu);
    take_locked(ctx, g, false);
    pthread_mutex_unlock(&g->mu);
}

static void release_locked(struct cv_ctx *ctx, struct cv_gil *g, bool forced)
{
    g->locked = 0;
    g->holder = CV_NONE;
    ctx->gil_held = false;
    cv_emit(ctx, CV_EV_GIL_RELEASE, g->obj, forced);
    pthread_cond_signal(&g->cond);
}

void cv__gil_drop(struct cv_ctx *ctx)
{
    struct cv_gil *g = ctx->gil;
    pthread_mutex_lock(&g->mu);
    release_locked(ctx, g, false);
    pthread_mutex_unlock(&g->mu);
}

void cv__gil_yield(struct cv_ctx *ctx)
{
    struct cv_gil *g = ctx->gil;
    pthread_mutex_lock(&g->mu);
    release_locked(ctx, g, true);
    bool waiting = false;
    if (g->waiting > 0) {
        /* Forced switching: do not compete again until someone else has had it. */
        cv_emit(ctx, CV_EV_GIL_WAIT, g->obj, CV_NONE);
        waiting = true;
        uint64_t saved = g->switch_number;
        while (g->switch_number == saved && g->waiting > 0)
            pthread_cond_wait(&g->switch_cond, &g->mu);
    }
    take_locked(ctx, g, waiting);
    pthread_mutex_unlock(&g->mu);
}
