/*
 * Event and Condition (Python's threading.Event and threading.Condition; asyncio's under epoll),
 * built like the primitives in prim.c: state in the shared mapping behind a short process-shared
 * mutex (`mu`, never held across a wait nor while taking another object's `mu`: a Condition's
 * own `mu` is dropped before its lock is released or taken), waiters in a FIFO of lanes, blocking
 * through ctx->wait->park / unpark, the GIL released while waiting.
 */
#include "internal.h"

/* Event */

struct cv_event_obj {
    pthread_mutex_t mu; /* guards flag's writes, gen and q */
    uint32_t obj;
    uint32_t flag; /* read without mu by cv_event_is_set */
    uint64_t gen;  /* bumped by each set that found the flag clear: it ends the waits before it */
    struct cv__waitq q;
};

/* Condition */

struct cv_cond {
    pthread_mutex_t mu; /* guards q (the lock guards what the waiters wait for) */
    uint32_t obj;
    uint64_t lock_off; /* the cv_mutex it goes with, as an offset in the shared mapping */
    struct cv__waitq q;
};

/* What a wait is for: done(o, arg) under the object's mu. */
struct wait_for {
    bool (*done)(const void *o, uint64_t arg);
    const void *o;
    uint64_t arg;
};

/*
 * Entered with `mu` held and the lane in `q`: parks until `w` is done, the deadline (mono ns,
 * 0 = none) passes or the run stops. Returns with `mu` held and the lane out of `q`: whether it
 * was done (its waker popped it from `q`).
 */
static bool timed_wait(struct cv_ctx *ctx, pthread_mutex_t *mu, struct cv__waitq *q,
                       uint64_t deadline, const struct wait_for *w)
{
    for (;;) {
        if (w->done(w->o, w->arg))
            break;
        if (cv_stopping(ctx) || (deadline && cv_clock_mono_ns() >= deadline)) {
            cv__waitq_remove(ctx->run, q, ctx->lane);
            return false;
        }
        pthread_mutex_unlock(mu);
        ctx->wait->park(ctx, deadline);
        cv__mu_lock(mu);
    }
    return true; /* the waker took the lane out of q */
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
    return timeout_ns ? cv_clock_mono_ns() + timeout_ns : 0;
}

/* Marks the lane waiting on obj (lane details, the deadlock detector) and drops the GIL. */
static void waiting(struct cv_ctx *ctx, uint32_t obj)
{
    __atomic_store_n(&cv__lane(ctx->run, ctx->lane)->waiting_on, obj, __ATOMIC_RELAXED);
    cv__wait_begin(ctx);
}

static void not_waiting(struct cv_ctx *ctx)
{
    __atomic_store_n(&cv__lane(ctx->run, ctx->lane)->waiting_on, CV_NONE, __ATOMIC_RELAXED);
}

/* Wakes up to n lanes of q, the first in line first; returns how many. Caller holds the
 * object's mu. */
static uint64_t wake(struct cv_ctx *ctx, struct cv__waitq *q, uint64_t n)
{
    uint64_t woken = 0;
    uint32_t lane;
    while (woken < n && (lane = cv__waitq_pop(ctx->run, q)) != CV_NONE) {
        ctx->run->ops->wait->unpark(ctx->run, lane);
        woken++;
    }
    return woken;
}

struct cv_event_obj *cv_event_create(struct cv_run *run, const char *name)
{
    struct cv_event_obj *ev = cv__shm_alloc(run, sizeof *ev);
    if (!ev)
        return NULL;
    cv__pshared_mutex_init(&ev->mu);
    ev->obj = cv__obj_register(run, CV_OBJ_EVENT, name, 0, ev);
    return ev;
}

void cv_event_set(struct cv_ctx *ctx, struct cv_event_obj *ev)
{
    cv__mu_lock(&ev->mu);
    uint64_t woken = 0;
    if (!ev->flag) {
        __atomic_store_n(&ev->flag, 1, __ATOMIC_RELEASE);
        ev->gen++;
        woken = wake(ctx, &ev->q, UINT64_MAX);
    }
    cv_emit(ctx, CV_EV_EVENT_SET, ev->obj, woken);
    pthread_mutex_unlock(&ev->mu);
}

void cv_event_clear(struct cv_ctx *ctx, struct cv_event_obj *ev)
{
    cv__mu_lock(&ev->mu);
    __atomic_store_n(&ev->flag, 0, __ATOMIC_RELEASE);
    cv_emit(ctx, CV_EV_EVENT_CLEAR, ev->obj, 0);
    pthread_mutex_unlock(&ev->mu);
}

bool cv_event_is_set(const struct cv_event_obj *ev)
{
    return __atomic_load_n(&ev->flag, __ATOMIC_ACQUIRE) != 0;
}

static bool gen_moved(const void *o, uint64_t gen)
{
    return ((const struct cv_event_obj *)o)->gen != gen;
}

bool cv_event_wait(struct cv_ctx *ctx, struct cv_event_obj *ev, uint64_t timeout_ns)
{
    uint64_t deadline = deadline_of(timeout_ns);
    cv__mu_lock(&ev->mu);
    if (ev->flag || cv_stopping(ctx)) {
        bool set = ev->flag;
        pthread_mutex_unlock(&ev->mu);
        return set;
    }
    /* a set from here on moves the generation: a set and a clear before this lane runs again
     * still end its wait, as in Python */
    struct wait_for w = {gen_moved, ev, ev->gen};
    cv_emit(ctx, CV_EV_EVENT_WAIT, ev->obj, 0);
    cv__waitq_push(ctx->run, &ev->q, ctx->lane, false);
    pthread_mutex_unlock(&ev->mu);
    waiting(ctx, ev->obj);
    cv__mu_lock(&ev->mu);
    bool set = timed_wait(ctx, &ev->mu, &ev->q, deadline, &w);
    cv_emit(ctx, set ? CV_EV_EVENT_WAKE : CV_EV_WAIT_TIMEOUT, ev->obj, 0);
    pthread_mutex_unlock(&ev->mu);
    not_waiting(ctx);
    cv__wait_end(ctx);
    return set;
}

struct cv_cond *cv_cond_create(struct cv_run *run, const char *name, struct cv_mutex *lock)
{
    if (!lock)
        return NULL;
    struct cv_cond *c = cv__shm_alloc(run, sizeof *c);
    if (!c)
        return NULL;
    cv__pshared_mutex_init(&c->mu);
    c->lock_off = cv__shm_off(run, lock);
    c->obj = cv__obj_register(run, CV_OBJ_CONDITION, name, 0, c);
    return c;
}

/* A lane notified has been taken out of the queue by the notifier; o is the lane's record. */
static bool notified(const void *o, uint64_t unused)
{
    (void)unused;
    return !((const struct cv_lane_shared *)o)->in_queue;
}

bool cv_cond_wait(struct cv_ctx *ctx, struct cv_cond *c, uint64_t timeout_ns)
{
    struct cv_mutex *lock = cv__shm_ptr(ctx->run, c->lock_off);
    uint64_t deadline = deadline_of(timeout_ns);
    /* queued before the lock is released, so a notify made once it is cannot be missed */
    cv__mu_lock(&c->mu);
    cv__waitq_push(ctx->run, &c->q, ctx->lane, false);
    pthread_mutex_unlock(&c->mu);
    cv_mutex_unlock(ctx, lock);
    cv_emit(ctx, CV_EV_COND_WAIT, c->obj, 0);
    waiting(ctx, c->obj);
    cv__mu_lock(&c->mu);
    struct wait_for w = {notified, cv__lane(ctx->run, ctx->lane), 0};
    bool ok = timed_wait(ctx, &c->mu, &c->q, deadline, &w);
    cv_emit(ctx, ok ? CV_EV_COND_WAKE : CV_EV_WAIT_TIMEOUT, c->obj, 0);
    pthread_mutex_unlock(&c->mu);
    not_waiting(ctx);
    cv__wait_end(ctx);
    if (cv_stopping(ctx))
        return false;
    return cv_mutex_lock(ctx, lock) && ok;
}

uint64_t cv_cond_notify(struct cv_ctx *ctx, struct cv_cond *c, uint64_t n)
{
    cv__mu_lock(&c->mu);
    uint64_t woken = wake(ctx, &c->q, n);
    cv_emit(ctx, CV_EV_COND_NOTIFY, c->obj, woken);
    pthread_mutex_unlock(&c->mu);
    return woken;
}

uint64_t cv_cond_notify_all(struct cv_ctx *ctx, struct cv_cond *c)
{
    return cv_cond_notify(ctx, c, UINT64_MAX);
}
