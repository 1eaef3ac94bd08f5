/*
 * Instrumented primitives, written once for every model. Each object lives in the shared
 * mapping and guards its state with a short process-shared mutex (`mu`, never held across a
 * wait, and never held while taking another object's `mu`; the GIL's mutex may be taken inside
 * it, never the other way round). Blocking goes through ctx->wait->park / unpark, so a thread
 * blocks on its lane's semaphore while a coroutine would be suspended by its loop.
 *
 * Wake-ups follow pthread semantics (barging): a release wakes one waiter, which competes again;
 * a woken waiter that loses goes back to the front of the queue.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CPU work units: a dependent multiply-add chain, calibrated once per process. */

static double units_per_ns = 0.5;
/* Keeps the work from being optimised away; written by every lane, so atomic. */
static _Atomic uint64_t cpu_sink;

static uint64_t burn(uint64_t n, uint64_t x)
{
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* Each step must really run: without this, clang folds the whole chain into a closed
         * form (a few multiplications for any n) and the CPU work takes no time at all. */
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

void cv__cpu_calibrate(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const uint64_t n = 1u << 18;
    uint64_t best = UINT64_MAX, x = 1;
    burn(n, x); /* warm up */
    for (int i = 0; i < 7; i++) {
        uint64_t t0 = cv_clock_mono_ns();
        x = burn(n, x);
        uint64_t dt = cv_clock_mono_ns() - t0;
        if (dt < best)
            best = dt;
    }
    atomic_store_explicit(&cpu_sink, x, memory_order_relaxed);
    if (best > 0)
        units_per_ns = (double)n / (double)best;
}

double cv__cpu_units_per_ns(void)
{
    return units_per_ns;
}

bool cv_cpu(struct cv_ctx *ctx, uint64_t ns)
{
    if (ctx->pend && (ctx->pend_cpu_ns += ns) >= CV_PENDING_CPU_NS)
        cv__pend_flush(ctx); /* a long hold: shown as held from now on, from its own time */
    uint64_t units = (uint64_t)((double)ns * units_per_ns);
    uint64_t chunk = (uint64_t)(1000.0 * units_per_ns); /* ~1 us between checkpoints */
    uint64_t x = ctx->lane + 1;
    if (chunk == 0)
        chunk = 1;
    while (units) {
        uint64_t n = units < chunk ? units : chunk;
        x = burn(n, x);
        units -= n;
        if (cv_checkpoint(ctx)) {
            atomic_store_explicit(&cpu_sink, x, memory_order_relaxed);
            return false;
        }
    }
    atomic_store_explicit(&cpu_sink, x, memory_order_relaxed);
    return true;
}

/* Waiting helpers */

void cv__wait_begin(struct cv_ctx *ctx)
{
    if (ctx->gil && ctx->gil_held)
        cv__gil_drop(ctx);
}

void cv__wait_end(struct cv_ctx *ctx)
{
    if (ctx->gil && !ctx->gil_held)
        cv__gil_take(ctx);
}

void cv_nogil_begin(struct cv_ctx *ctx)
{
    cv__wait_begin(ctx);
}

void cv_nogil_end(struct cv_ctx *ctx)
{
    cv__wait_end(ctx);
}

void cv_noswitch_begin(struct cv_ctx *ctx)
{
    ctx->noswitch++;
}

void cv_noswitch_end(struct cv_ctx *ctx)
{
    if (ctx->noswitch)
        ctx->noswitch--;
}

void cv__checkpoint_slow(struct cv_ctx *ctx)
{
    uint32_t a = atomic_load_explicit(ctx->attention, memory_order_relaxed);
    if ((a & CV_ATTN_GIL) && ctx->gil && ctx->gil_held &&
        !(ctx->noswitch && ctx->run->gil_at_calls))
        cv__gil_yield(ctx);
}

/* CPU work sent to an executor (copied to it when the executor is a process). */
struct cpu_req {
    uint64_t ns;
    uint64_t lane; /* the task's, which waits (64 bits: no padding to copy to a process) */
};

/* Runs where the model sends it; the time it takes on another lane than the task's (an
 * executor's) is added to the run's offload_busy_ns. */
static bool cpu_job(struct cv_ctx *ctx, void *arg)
{
    const struct cpu_req *r = arg;
    uint64_t t0 = cv_clock_mono_ns();
    bool ok = cv_cpu(ctx, r->ns);
    if (ctx->lane != r->lane)
        atomic_fetch_add_explicit(&ctx->run->shm->offload_busy_ns, cv_clock_mono_ns() - t0,
                                  memory_order_relaxed);
    return ok;
}

bool cv_offload_cpu(struct cv_ctx *ctx, uint64_t ns)
{
    if (!ctx->wait->offload)
        return cv_cpu(ctx, ns);
    cv_emit(ctx, CV_EV_IO_BEGIN, CV_NO_OBJ, CV_IO_OFFLOAD);
    struct cpu_req r = {.ns = ns, .lane = ctx->lane};
    bool ok = ctx->wait->offload(ctx, cpu_job, &r, sizeof r);
    cv_emit(ctx, CV_EV_IO_END, CV_NO_OBJ, CV_IO_OFFLOAD);
    return ok;
}

/* Blocking file I/O: a thread blocks (GIL released); an event loop has no asynchronous file
 * I/O, so under hybrid the executor does it (asyncio.to_thread) and under plain epoll it blocks
 * the loop. */
struct file_job {
    bool (*fn)(struct cv_ctx *ctx, void *arg); /* the operation */
    const char *path;
    const void *wdata;
    void *rbuf;
    size_t len, cap, got;
    int err;
};

static bool file_write_job(struct cv_ctx *ctx, void *arg)
{
    (void)ctx;
    struct file_job *j = arg;
    int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        j->err = errno;
        return false;
    }
    size_t done = 0;
    while (done < j->len) {
        ssize_t w = write(fd, (const char *)j->wdata + done, j->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            j->err = w < 0 ? errno : EIO;
            close(fd);
            return false;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0)
        j->err = errno;
    if (close(fd) != 0 && !j->err)
        j->err = errno;
    return j->err == 0;
}

static bool file_read_job(struct cv_ctx *ctx, void *arg)
{
    (void)ctx;
    struct file_job *j = arg;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        j->err = errno;
        return false;
    }
    j->got = 0;
    for (;;) {
        ssize_t r = read(fd, (char *)j->rbuf + j->got, j->cap - j->got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            j->err = errno;
        if (r <= 0 || (j->got += (size_t)r) == j->cap)
            break;
    }
    close(fd);
    return j->err == 0;
}

/* Runs a file job where it was sent (the executor's lane under hybrid), adding the time it took
 * there, queueing for the executor not included, to the run's file_busy_ns. */
static bool timed_file_job(struct cv_ctx *ctx, void *arg)
{
    struct file_job *j = arg;
    uint64_t t0 = cv_clock_mono_ns();
    bool ok = j->fn(ctx, j);
    atomic_fetch_add_explicit(&ctx->run->shm->file_busy_ns, cv_clock_mono_ns() - t0,
                              memory_order_relaxed);
    return ok;
}

static bool file_op(struct cv_ctx *ctx, bool (*fn)(struct cv_ctx *, void *), struct file_job *j)
{
    /* A stopped run starts no more I/O: under epoll it would hold up the loop until done. */
    if (cv_stopping(ctx)) {
        j->err = ECANCELED;
        return false;
    }
    cv_emit(ctx, CV_EV_IO_BEGIN, CV_NO_OBJ, CV_IO_FILE);
    bool ok;
    j->fn = fn;
    if (ctx->wait->offload) {
        ok = ctx->wait->offload(ctx, timed_file_job, j, 0);
    } else {
        cv__wait_begin(ctx);
        ok = timed_file_job(ctx, j);
    }
    cv_emit(ctx, CV_EV_IO_END, CV_NO_OBJ, CV_IO_FILE);
    if (!ctx->wait->offload)
        cv__wait_end(ctx);
    return ok;
}

int cv_file_write(struct cv_ctx *ctx, const char *path, const void *data, size_t len)
{
    struct file_job j = {.path = path, .wdata = data, .len = len};
    return file_op(ctx, file_write_job, &j) ? 0 : -(j.err ? j.err : EIO);
}

int cv_file_read(struct cv_ctx *ctx, const char *path, void *buf, size_t cap, size_t *len)
{
    struct file_job j = {.path = path, .rbuf = buf, .cap = cap};
    bool ok = file_op(ctx, file_read_job, &j);
    *len = j.got;
    return ok ? 0 : -(j.err ? j.err : EIO);
}

bool cv_sleep(struct cv_ctx *ctx, uint64_t ns)
{
    cv_emit(ctx, CV_EV_IO_BEGIN, CV_NO_OBJ, CV_IO_SLEEP);
    cv__wait_begin(ctx);
    uint64_t deadline = cv_clock_mono_ns() + ns;
    bool ok = true;
    for (bool parked = false;; parked = true) {
        /* a sleep woken at its end is over, even if a cancel came meanwhile: as an asyncio
         * task whose timer fired runs its next step before a cancel made in the same turn of
         * the loop (the cancel meets the task at its next wait) */
        if (parked && cv_clock_mono_ns() >= deadline)
            break;
        if (cv_stopping(ctx)) {
            ok = false;
            break;
        }
        if (cv_clock_mono_ns() >= deadline)
            break;
        ctx->wait->park(ctx, deadline);
    }
    cv_emit(ctx, CV_EV_IO_END, CV_NO_OBJ, CV_IO_SLEEP);
    cv__wait_end(ctx);
    return ok;
}

/* Wait queues: FIFO of lanes linked through the lanes' shared records. Caller holds the
 * object's mu. */

void cv__waitq_push(struct cv_run *run, struct cv__waitq *q, uint32_t lane, bool front)
{
    struct cv_lane_shared *l = cv__lane(run, lane);
    l->in_queue = 1;
    if (front) {
        l->wait_next = q->head;
        q->head = lane + 1;
        if (!q->tail)
            q->tail = lane + 1;
        return;
    }
    l->wait_next = 0;
    if (q->tail)
        cv__lane(run, q->tail - 1)->wait_next = lane + 1;
    else
        q->head = lane + 1;
    q->tail = lane + 1;
}

uint32_t cv__waitq_pop(struct cv_run *run, struct cv__waitq *q)
{
    if (!q->head)
        return CV_NONE;
    uint32_t lane = q->head - 1;
    struct cv_lane_shared *l = cv__lane(run, lane);
    q->head = l->wait_next;
    if (!q->head)
        q->tail = 0;
    l->wait_next = 0;
    l->in_queue = 0;
    return lane;
}

bool cv__waitq_remove(struct cv_run *run, struct cv__waitq *q, uint32_t lane)
{
    uint32_t prev = 0;
    for (uint32_t cur = q->head; cur; cur = cv__lane(run, cur - 1)->wait_next) {
        if (cur - 1 == lane) {
            uint32_t next = cv__lane(run, lane)->wait_next;
            if (prev)
                cv__lane(run, prev - 1)->wait_next = next;
            else
                q->head = next;
            if (q->tail == cur)
                q->tail = prev;
            cv__lane(run, lane)->wait_next = 0;
            cv__lane(run, lane)->in_queue = 0;
            return true;
        }
        prev = cur;
    }
    return false;
}

/*
 * The common wait: with `mu` held and the condition false, queue the lane, drop `mu`, park (until
 * `deadline`, CLOCK_MONOTONIC ns, 0 = none), retake `mu`. Returns false if the run is stopping
 * (the lane is out of the queue then).
 */
static bool park_on(struct cv_ctx *ctx, pthread_mutex_t *mu, struct cv__waitq *q, bool front,
                    uint64_t deadline)
{
    struct cv_lane_shared *me = cv__lane(ctx->run, ctx->lane);
    if (!me->in_queue)
        cv__waitq_push(ctx->run, q, ctx->lane, front);
    pthread_mutex_unlock(mu);
    ctx->wait->park(ctx, deadline);
    cv__mu_lock(mu);
    if (cv_stopping(ctx)) {
        cv__waitq_remove(ctx->run, q, ctx->lane);
        return false;
    }
    return true;
}

enum waited { WT_OK, WT_TIMEOUT, WT_STOPPED };

/*
 * The blocking half of every acquire (mutex, semaphore, queue put, get and join), entered with
 * `mu` held, the wait event emitted and `blocked(o)` true: the lane is marked as waiting on `obj`
 * (for the deadlock detector), then parks until `blocked(o)` is false or `deadline` (0 = none)
 * has passed. Returns with `mu` held and the lane out of the queue and no longer waiting. A lane
 * woken but beaten to the prize keeps its place at the front. The condition is checked before
 * the deadline, so a lane woken for the prize at its deadline takes it (no wake-up is lost).
 * `woken` (may be NULL) is cleared when this lane was the one woken (the mutex's "a waiter is on
 * its way" flag), so that the next release wakes another.
 */
static enum waited wait_until(struct cv_ctx *ctx, pthread_mutex_t *mu, struct cv__waitq *q,
                              uint32_t obj, bool (*blocked)(const void *o), const void *o,
                              uint32_t *woken, uint64_t deadline)
{
    struct cv_lane_shared *me = cv__lane(ctx->run, ctx->lane);
    __atomic_store_n(&me->waiting_on, obj, __ATOMIC_RELAXED);
    pthread_mutex_unlock(mu);
    cv__wait_begin(ctx);
    cv__mu_lock(mu);
    enum waited r = WT_OK;
    bool front = false;
    while (blocked(o)) {
        if (deadline && cv_clock_mono_ns() >= deadline) {
            r = WT_TIMEOUT;
            break;
        }
        if (!park_on(ctx, mu, q, front, deadline)) {
            r = WT_STOPPED;
            break;
        }
        if (!me->in_queue && woken)
            *woken = 0;
        front = !me->in_queue;
    }
    if (r != WT_STOPPED && me->in_queue)
        cv__waitq_remove(ctx->run, q, ctx->lane);
    __atomic_store_n(&me->waiting_on, CV_NONE, __ATOMIC_RELAXED);
    return r;
}

/* Mutex */

struct cv_mutex {
    pthread_mutex_t mu;
    uint32_t obj;
    uint32_t locked;
    uint32_t owner;
    uint32_t woken; /* a popped waiter is on its way: don't wake another */
    struct cv__waitq q;
};

struct cv_mutex *cv_mutex_create(struct cv_run *run, const char *name)
{
    struct cv_mutex *m = cv__shm_alloc(run, sizeof *m);
    if (!m)
        return NULL;
    cv__pshared_mutex_init(&m->mu);
    __atomic_store_n(&m->owner, CV_NONE, __ATOMIC_RELAXED);
    m->obj = cv__obj_register(run, CV_OBJ_MUTEX, name, 1, m);
    return m;
}

bool cv_mutex_trylock(struct cv_ctx *ctx, struct cv_mutex *m)
{
    cv__mu_lock(&m->mu);
    bool got = !m->locked;
    if (got) {
        m->locked = 1;
        __atomic_store_n(&m->owner, ctx->lane, __ATOMIC_RELAXED);
        cv_emit(ctx, CV_EV_LOCK_ACQUIRE, m->obj, 0);
    }
    pthread_mutex_unlock(&m->mu);
    return got;
}

static bool mutex_locked(const void *o)
{
    return ((const struct cv_mutex *)o)->locked;
}

bool cv_mutex_lock(struct cv_ctx *ctx, struct cv_mutex *m)
{
    cv__pend_flush(ctx); /* one acquisition pending at a time: an outer one is recorded now */
    cv__mu_lock(&m->mu);
    if (!m->locked) {
        /* Uncontended: stamped here, in order with the state change, but recorded at the
         * release (one lock.pair event, written after the internal section) or before the
         * lane's next event, whichever comes first. */
        m->locked = 1;
        __atomic_store_n(&m->owner, ctx->lane, __ATOMIC_RELAXED);
        ctx->pend_ticks = cv_ring_stamp();
        pthread_mutex_unlock(&m->mu);
        ctx->pend = m;
        ctx->pend_obj = m->obj;
        ctx->pend_task = ctx->task;
        ctx->pend_cpu_ns = 0;
        return true;
    }
    cv_emit(ctx, CV_EV_LOCK_WAIT, m->obj, m->owner);
    bool ok = wait_until(ctx, &m->mu, &m->q, m->obj, mutex_locked, m, &m->woken, 0) == WT_OK;
    if (ok) {
        m->locked = 1;
        __atomic_store_n(&m->owner, ctx->lane, __ATOMIC_RELAXED);
        cv_emit(ctx, CV_EV_LOCK_ACQUIRE, m->obj, 0);
    }
    pthread_mutex_unlock(&m->mu);
    if (ok)
        cv__wait_end(ctx);
    return ok;
}

void cv_mutex_unlock(struct cv_ctx *ctx, struct cv_mutex *m)
{
    bool pair = ctx->pend == m; /* its acquisition is not recorded yet: one event for both */
    uint64_t now = 0;
    cv__mu_lock(&m->mu);
    m->locked = 0;
    __atomic_store_n(&m->owner, CV_NONE, __ATOMIC_RELAXED);
    if (pair)
        now = cv_ring_stamp(); /* in order with the next holder's acquisition */
    else
        cv_emit(ctx, CV_EV_LOCK_RELEASE, m->obj, 0);
    uint32_t lane = CV_NONE;
    if (!m->woken && m->q.head) {
        lane = cv__waitq_pop(ctx->run, &m->q);
        m->woken = 1;
    }
    pthread_mutex_unlock(&m->mu);
    if (pair) {
        ctx->pend = NULL;
        cv_ring_record_at(ctx->ring, now, CV_EV_LOCK_PAIR, ctx->lane, ctx->pend_task, m->obj,
                          now - ctx->pend_ticks);
    }
    if (lane != CV_NONE)
        ctx->run->ops->wait->unpark(ctx->run, lane);
}

/* The lane holding `obj` if it is a locked mutex, else CV_NONE. Read without the object's lock
 * (by the deadlock detector), so it is a snapshot. */
uint32_t cv__obj_holder(struct cv_run *run, uint32_t obj)
{
    if (obj >= run->shm->nobjs || run->shm->objs[obj].kind != CV_OBJ_MUTEX)
        return CV_NONE;
    struct cv_mutex *m = cv__shm_ptr(run, run->shm->objs[obj].off);
    return __atomic_load_n(&m->owner, __ATOMIC_RELAXED);
}

/* Semaphore */

struct cv_sem {
    pthread_mutex_t mu;
    uint32_t obj;
    uint32_t count;
    struct cv__waitq q;
};

struct cv_sem *cv_sem_create(struct cv_run *run, const char *name, uint32_t initial)
{
    struct cv_sem *s = cv__shm_alloc(run, sizeof *s);
    if (!s)
        return NULL;
    cv__pshared_mutex_init(&s->mu);
    s->count = initial;
    s->obj = cv__obj_register(run, CV_OBJ_SEMAPHORE, name, initial, s);
    return s;
}

static bool sem_empty(const void *o)
{
    return ((const struct cv_sem *)o)->count == 0;
}

bool cv_sem_acquire(struct cv_ctx *ctx, struct cv_sem *s)
{
    cv__mu_lock(&s->mu);
    if (s->count > 0) {
        s->count--;
        cv_emit(ctx, CV_EV_SEM_ACQUIRE, s->obj, s->count);
        pthread_mutex_unlock(&s->mu);
        return true;
    }
    cv_emit(ctx, CV_EV_SEM_WAIT, s->obj, 0);
    bool ok = wait_until(ctx, &s->mu, &s->q, s->obj, sem_empty, s, NULL, 0) == WT_OK;
    if (ok) {
        s->count--;
        cv_emit(ctx, CV_EV_SEM_ACQUIRE, s->obj, s->count);
    }
    pthread_mutex_unlock(&s->mu);
    if (ok)
        cv__wait_end(ctx);
    return ok;
}

void cv_sem_release(struct cv_ctx *ctx, struct cv_sem *s)
{
    cv__mu_lock(&s->mu);
    s->count++;
    cv_emit(ctx, CV_EV_SEM_RELEASE, s->obj, s->count);
    /* One waiter per permit released: several permits can come free before any waiter runs,
     * so unlike the mutex there is no "a waiter is already on its way" shortcut. */
    uint32_t lane = cv__waitq_pop(ctx->run, &s->q);
    pthread_mutex_unlock(&s->mu);
    if (lane != CV_NONE)
        ctx->run->ops->wait->unpark(ctx->run, lane);
}

uint32_t cv_sem_value(struct cv_sem *s)
{
    cv__mu_lock(&s->mu);
    uint32_t v = s->count;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Bounded queue */

struct cv_queue {
    pthread_mutex_t mu;
    uint32_t obj;
    uint32_t cap;
    uint32_t count;
    uint32_t head;
    uint32_t unfinished; /* items put and not yet marked done (task_done) */
    struct cv__waitq not_full, not_empty, all_done;
    uint64_t items[]; /* cap slots */
};

struct cv_queue *cv_queue_create(struct cv_run *run, const char *name, uint32_t capacity)
{
    if (capacity == 0)
        capacity = 1;
    struct cv_queue *q = cv__shm_alloc(run, sizeof *q + (uint64_t)capacity * sizeof(uint64_t));
    if (!q)
        return NULL;
    cv__pshared_mutex_init(&q->mu);
    q->cap = capacity;
    q->obj = cv__obj_register(run, CV_OBJ_QUEUE, name, capacity, q);
    return q;
}

static bool queue_full(const void *o)
{
    const struct cv_queue *q = o;
    return q->count == q->cap;
}

static bool queue_empty(const void *o)
{
    return ((const struct cv_queue *)o)->count == 0;
}

static bool queue_unfinished(const void *o)
{
    return ((const struct cv_queue *)o)->unfinished != 0;
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
    if (timeout_ns == CV_QUEUE_FOREVER)
        return 0;
    uint64_t now = cv_clock_mono_ns();
    return timeout_ns > UINT64_MAX - now ? 0 : now + timeout_ns;
}

/* Waits (mu held) until there is room (push) or an item (pop), or the deadline; emits the wait
 * event once, and wait.timeout when it gave up. */
static enum waited queue_wait(struct cv_ctx *ctx, struct cv_queue *q, bool push, uint64_t deadline)
{
    cv_emit(ctx, push ? CV_EV_QUEUE_PUSH_WAIT : CV_EV_QUEUE_POP_WAIT, q->obj, q->count);
    enum waited r = wait_until(ctx, &q->mu, push ? &q->not_full : &q->not_empty, q->obj,
                               push ? queue_full : queue_empty, q, NULL, deadline);
    if (r == WT_TIMEOUT)
        cv_emit(ctx, CV_EV_WAIT_TIMEOUT, q->obj, q->count);
    return r;
}

static enum cv_queue_result queue_result(enum waited r)
{
    return r == WT_OK ? CV_QUEUE_OK : r == WT_TIMEOUT ? CV_QUEUE_TIMED_OUT : CV_QUEUE_STOPPED;
}

/* Ends an operation (mu held): drops mu, wakes `lane`, takes the GIL back after a wait. */
static void queue_leave(struct cv_ctx *ctx, struct cv_queue *q, uint32_t lane, bool waited)
{
    pthread_mutex_unlock(&q->mu);
    if (lane != CV_NONE)
        ctx->run->ops->wait->unpark(ctx->run, lane);
    if (waited)
        cv__wait_end(ctx);
}

enum cv_queue_result cv_queue_push_timed(struct cv_ctx *ctx, struct cv_queue *q, uint64_t item,
                                         uint64_t timeout_ns)
{
    bool waited = false;
    cv__mu_lock(&q->mu);
    if (q->count == q->cap) {
        waited = true;
        enum waited r = queue_wait(ctx, q, true, deadline_of(timeout_ns));
        if (r != WT_OK) {
            queue_leave(ctx, q, CV_NONE, r == WT_TIMEOUT);
            return queue_result(r);
        }
    }
    q->items[(q->head + q->count) % q->cap] = item;
    q->count++;
    q->unfinished++;
    cv_emit(ctx, CV_EV_QUEUE_PUSH, q->obj, q->count);
    queue_leave(ctx, q, cv__waitq_pop(ctx->run, &q->not_empty), waited);
    return CV_QUEUE_OK;
}

enum cv_queue_result cv_queue_pop_timed(struct cv_ctx *ctx, struct cv_queue *q, uint64_t *item,
                                        uint64_t timeout_ns)
{
    bool waited = false;
    cv__mu_lock(&q->mu);
    if (q->count == 0) {
        waited = true;
        enum waited r = queue_wait(ctx, q, false, deadline_of(timeout_ns));
        if (r != WT_OK) {
            queue_leave(ctx, q, CV_NONE, r == WT_TIMEOUT);
            return queue_result(r);
        }
    }
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    cv_emit(ctx, CV_EV_QUEUE_POP, q->obj, q->count);
    queue_leave(ctx, q, cv__waitq_pop(ctx->run, &q->not_full), waited);
    return CV_QUEUE_OK;
}

bool cv_queue_push(struct cv_ctx *ctx, struct cv_queue *q, uint64_t item)
{
    return cv_queue_push_timed(ctx, q, item, CV_QUEUE_FOREVER) == CV_QUEUE_OK;
}

bool cv_queue_pop(struct cv_ctx *ctx, struct cv_queue *q, uint64_t *item)
{
    return cv_queue_pop_timed(ctx, q, item, CV_QUEUE_FOREVER) == CV_QUEUE_OK;
}

int cv_queue_task_done(struct cv_ctx *ctx, struct cv_queue *q)
{
    cv__mu_lock(&q->mu);
    if (q->unfinished == 0) {
        pthread_mutex_unlock(&q->mu);
        return CV_ERR_USAGE; /* ValueError: task_done() called too many times */
    }
    q->unfinished--;
    cv_emit(ctx, CV_EV_QUEUE_TASK_DONE, q->obj, q->unfinished);
    /* The last one releases the joins (notify_all, as Python's all_tasks_done): it wakes the
     * first, and each join released wakes the next (see cv_queue_join). */
    uint32_t lane = q->unfinished == 0 ? cv__waitq_pop(ctx->run, &q->all_done) : CV_NONE;
    pthread_mutex_unlock(&q->mu);
    if (lane != CV_NONE)
        ctx->run->ops->wait->unpark(ctx->run, lane);
    return 0;
}

enum cv_queue_result cv_queue_join(struct cv_ctx *ctx, struct cv_queue *q, uint64_t timeout_ns)
{
    cv__mu_lock(&q->mu);
    if (q->unfinished == 0) {
        cv_emit(ctx, CV_EV_QUEUE_JOIN, q->obj, 0);
        pthread_mutex_unlock(&q->mu);
        return CV_QUEUE_OK;
    }
    cv_emit(ctx, CV_EV_QUEUE_JOIN_WAIT, q->obj, q->unfinished);
    enum waited r = wait_until(ctx, &q->mu, &q->all_done, q->obj, queue_unfinished, q, NULL,
                               deadline_of(timeout_ns));
    if (r == WT_OK)
        cv_emit(ctx, CV_EV_QUEUE_JOIN, q->obj, 0);
    else if (r == WT_TIMEOUT)
        cv_emit(ctx, CV_EV_WAIT_TIMEOUT, q->obj, q->unfinished);
    /* a join released wakes the next one waiting */
    uint32_t next = r == WT_OK ? cv__waitq_pop(ctx->run, &q->all_done) : CV_NONE;
    queue_leave(ctx, q, next, r != WT_STOPPED);
    return queue_result(r);
}

uint32_t cv_queue_unfinished(struct cv_queue *q)
{
    cv__mu_lock(&q->mu);
    uint32_t n = q->unfinished;
    pthread_mutex_unlock(&q->mu);
    return n;
}

uint32_t cv_queue_depth(struct cv_queue *q)
{
    cv__mu_lock(&q->mu);
    uint32_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* Barrier */

struct cv_barrier {
    pthread_mutex_t mu;
    uint32_t obj;
    uint32_t parties;
    uint32_t arrived;
    uint64_t phase;
    struct cv__waitq q;
};

struct cv_barrier *cv_barrier_create(struct cv_run *run, const char *name, uint32_t parties)
{
    struct cv_barrier *b = cv__shm_alloc(run, sizeof *b);
    if (!b)
        return NULL;
    cv__pshared_mutex_init(&b->mu);
    b->parties = parties ? parties : 1;
    b->obj = cv__obj_register(run, CV_OBJ_BARRIER, name, parties, b);
    return b;
}

uint64_t cv_barrier_wait(struct cv_ctx *ctx, struct cv_barrier *b)
{
    cv__mu_lock(&b->mu);
    uint64_t phase = b->phase;
    cv_emit(ctx, CV_EV_BARRIER_WAIT, b->obj, b->arrived + 1);
    if (++b->arrived == b->parties) {
        b->arrived = 0;
        b->phase++;
        cv_emit(ctx, CV_EV_BARRIER_RELEASE, b->obj, phase);
        uint32_t lane;
        while ((lane = cv__waitq_pop(ctx->run, &b->q)) != CV_NONE)
            ctx->run->ops->wait->unpark(ctx->run, lane);
        pthread_mutex_unlock(&b->mu);
        return phase;
    }
    struct cv_lane_shared *me = cv__lane(ctx->run, ctx->lane);
    __atomic_store_n(&me->waiting_on, b->obj, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&b->mu);
    cv__wait_begin(ctx);
    cv__mu_lock(&b->mu);
    uint64_t result = phase;
    while (b->phase == phase) {
        if (!park_on(ctx, &b->mu, &b->q, false, 0)) {
            result = UINT64_MAX;
            break;
        }
    }
    __atomic_store_n(&me->waiting_on, CV_NONE, __ATOMIC_RELAXED);
    if (result != UINT64_MAX)
        cv_emit(ctx, CV_EV_BARRIER_RELEASE, b->obj, phase);
    pthread_mutex_unlock(&b->mu);
    cv__wait_end(ctx);
    return result;
}

/* Shared counter */

static const char *const variant_names[] = {
#define CV_X_NAME(name, str) str,
    CV_COUNTER_VARIANTS(CV_X_NAME)
#undef CV_X_NAME
};

const char *cv_counter_variant_name(enum cv_counter_variant v)
{
    return (unsigned)v < sizeof variant_names / sizeof variant_names[0] ? variant_names[v] : "?";
}

int cv_counter_variant_from_name(const char *name)
{
    for (unsigned i = 0; i < sizeof variant_names / sizeof variant_names[0]; i++)
        if (!strcmp(variant_names[i], name))
            return (int)i;
    return -1;
}

struct cv_counter {
    _Atomic uint64_t value;
    uint64_t omp_value; /* the omp_* variants update it with OpenMP's own constructs */
    uint32_t obj;
    uint32_t variant;
    bool call;          /* a call between the read and the write (cv_counter_set_call) */
    uint64_t mutex_off; /* the guarding mutex, for the mutex variant */
};

void cv_counter_set_call(struct cv_counter *c, bool call)
{
    c->call = call;
}

struct cv_counter *cv_counter_create(struct cv_run *run, const char *name,
                                     enum cv_counter_variant variant)
{
    struct cv_counter *c = cv__shm_alloc(run, sizeof *c);
    if (!c)
        return NULL;
    c->variant = variant;
    c->obj = cv__obj_register(run, CV_OBJ_COUNTER, name, 0, c);
    if (variant == CV_COUNTER_MUTEX) {
        char lock_name[CV_NAME_MAX];
        snprintf(lock_name, sizeof lock_name, "%s", name);
        struct cv_mutex *m = cv_mutex_create(run, lock_name);
        if (!m)
            return NULL;
        c->mutex_off = cv__shm_off(run, m);
    }
    return c;
}

void cv_counter_sample(struct cv_ctx *ctx, struct cv_counter *c)
{
    cv_emit(ctx, CV_EV_COUNTER_VALUE, c->obj, cv_counter_value(c));
}

/* The OpenMP variants, each in a function of its own: a compiler may ask the OpenMP runtime for
 * the calling thread's id on entry to any function that holds an OpenMP construct, and the
 * runtime then adopts that thread as one of its own. Only the openmp model's threads (which are
 * OpenMP's already) run these. */
__attribute__((noinline)) static bool counter_omp_atomic(struct cv_ctx *ctx, struct cv_counter *c,
                                                         uint64_t work_ns)
{
    bool ok = cv_cpu(ctx, work_ns);
#pragma omp atomic
    c->omp_value++;
    return ok;
}

__attribute__((noinline)) static bool counter_omp_critical(struct cv_ctx *ctx, struct cv_counter *c,
                                                           uint64_t work_ns)
{
    bool ok = cv_cpu(ctx, work_ns / 2);
#pragma omp critical(cv_counter)
    {
        /* The critical section makes read-compute-write exclusive; the accesses are atomic only
         * because samplers read the value outside it. */
        uint64_t v;
#pragma omp atomic read
        v = c->omp_value;
        ok = cv_cpu(ctx, work_ns - work_ns / 2) && ok;
#pragma omp atomic write
        c->omp_value = v + 1;
    }
    return ok;
}

bool cv_counter_add(struct cv_ctx *ctx, struct cv_counter *c, uint64_t work_ns, bool *made)
{
    bool ok = true;
    if (made)
        *made = true;
    switch ((enum cv_counter_variant)c->variant) {
    case CV_COUNTER_NONE: {
        /* Half the work is the loop around the increment; the other half sits between the read
         * and the write, where another lane's write (or a GIL switch) makes one update lost.
         * A bare increment has no switch point there (CPython 3.10 on); a call has one. */
        ok = cv_cpu(ctx, work_ns / 2);
        if (!c->call)
            cv_noswitch_begin(ctx);
        uint64_t v = atomic_load_explicit(&c->value, memory_order_relaxed);
        ok = cv_cpu(ctx, work_ns - work_ns / 2) && ok;
        atomic_store_explicit(&c->value, v + 1, memory_order_relaxed);
        if (!c->call)
            cv_noswitch_end(ctx);
        break;
    }
    case CV_COUNTER_MUTEX: {
        struct cv_mutex *m = cv__shm_ptr(ctx->run, c->mutex_off);
        ok = cv_cpu(ctx, work_ns / 2);
        if (!cv_mutex_lock(ctx, m)) {
            if (made)
                *made = false;
            return false;
        }
        uint64_t v = atomic_load_explicit(&c->value, memory_order_relaxed);
        ok = cv_cpu(ctx, work_ns - work_ns / 2) && ok;
        atomic_store_explicit(&c->value, v + 1, memory_order_relaxed);
        cv_mutex_unlock(ctx, m);
        break;
    }
    case CV_COUNTER_ATOMIC:
        ok = cv_cpu(ctx, work_ns);
        atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
        break;
    case CV_COUNTER_OMP_ATOMIC:
        ok = counter_omp_atomic(ctx, c, work_ns);
        break;
    case CV_COUNTER_OMP_CRITICAL:
        ok = counter_omp_critical(ctx, c, work_ns);
        break;
    }
    if ((++ctx->counter_samples & 4095) == 0)
        cv_counter_sample(ctx, c);
    return ok;
}

uint64_t cv_counter_value(struct cv_counter *c)
{
    /* An atomic load, not `#pragma omp atomic read`: samplers call this from threads that are not
     * OpenMP's, and an OpenMP construct would make the runtime adopt each such thread. */
    uint64_t omp = __atomic_load_n(&c->omp_value, __ATOMIC_RELAXED);
    return atomic_load_explicit(&c->value, memory_order_relaxed) + omp;
}
