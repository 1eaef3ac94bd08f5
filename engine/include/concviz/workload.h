/*
 * What workload code sees: the execution context of one lane, and the instrumented primitives.
 * A workload is written once, as straight-line code against these calls; the model decides what
 * a wait means (a thread blocks, a coroutine is suspended, ...). Every call here emits events.
 */
#ifndef CONCVIZ_WORKLOAD_H
#define CONCVIZ_WORKLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "concviz/event.h"
#include "concviz/ring.h"

struct cv_run;
struct cv_gil;
struct cv_wait_ops;

#define CV_ATTN_STOP 1u /* the run is being stopped: return soon */
#define CV_ATTN_GIL  2u /* another thread asked for the GIL */

#define CV_TASK_CANCELLED 1u /* bit in a task's flags (cv_ctx.cancel) */

/* What a task or role returns when its work was abandoned unfinished, as a daemon thread's is
 * when the main thread ends: it is reported cancelled, neither completed nor failed. */
#define CV_TASK_ABANDONED (-1000)

/* One lane's context. Owned by the model; workloads only pass it back to the calls below. */
struct cv_ctx {
    _Atomic uint32_t *attention; /* non-zero when cv_checkpoint has work to do */
    struct cv_ring *ring;
    struct cv_run *run;
    const struct cv_wait_ops *wait;
    struct cv_gil *gil; /* non-NULL under --gil */
    void *model_data;
    void *http; /* this lane's libcurl handle (blocking models) */
    /* The current task's cancel flag where the model can cancel a running task (epoll: at its
     * next wait); NULL where running tasks run on (threads, like Python's). */
    _Atomic uint8_t *cancel;
    uint32_t task; /* current task id, or CV_NO_TASK */
    uint16_t lane;
    bool gil_held;
    uint16_t noswitch; /* depth of cv_noswitch_begin */
    uint32_t counter_samples;
    const void *arg; /* the current task's argument (see cv_task_arg) */
    size_t arg_len;
    void *out; /* a forked worker's pending result (see cv_task_result) */
    size_t out_len, out_cap;
    /* An uncontended mutex acquisition not recorded yet (NULL: none): its release records both
     * as one lock.pair event, unless the lane records anything else first (cv_emit records the
     * acquisition then, as lock.held) or its CPU work under the lock passes CV_PENDING_CPU_NS
     * (a long hold is shown while it lasts). */
    const void *pend;
    uint64_t pend_ticks;  /* when it was acquired (clock ticks) */
    uint64_t pend_cpu_ns; /* CPU work done while holding it */
    uint32_t pend_obj;
    uint32_t pend_task;
};

/* CPU work under an unrecorded uncontended hold after which its acquisition is recorded. */
#define CV_PENDING_CPU_NS 500000u

#define CV_NO_OBJ UINT32_MAX

/* Records the pending acquisition (see cv_ctx.pend): lock.held, stamped now, acquired at its
 * own time. */
static inline void cv__pend_flush(struct cv_ctx *ctx)
{
    if (__builtin_expect(ctx->pend != NULL, 0)) {
        cv_ring_record_since(ctx->ring, CV_EV_LOCK_HELD, ctx->lane, ctx->pend_task, ctx->pend_obj,
                             ctx->pend_ticks);
        ctx->pend = NULL;
    }
}

static inline void cv_emit(struct cv_ctx *ctx, unsigned kind, uint32_t obj, uint64_t arg)
{
    cv__pend_flush(ctx);
    cv_ring_record(ctx->ring, kind, ctx->lane, ctx->task, obj, arg);
}

void cv__checkpoint_slow(struct cv_ctx *ctx);

/* Call often in CPU loops (every microsecond or so): hands the GIL over when asked and notices a
 * stop. Returns true when the run is stopping and the task should return. */
/* True when the run is stopping or the current task was cancelled. */
static inline bool cv_stopping(struct cv_ctx *ctx)
{
    return (atomic_load_explicit(ctx->attention, memory_order_relaxed) & CV_ATTN_STOP) != 0 ||
           (ctx->cancel &&
            (atomic_load_explicit(ctx->cancel, memory_order_relaxed) & CV_TASK_CANCELLED));
}

static inline bool cv_checkpoint(struct cv_ctx *ctx)
{
    if (__builtin_expect(atomic_load_explicit(ctx->attention, memory_order_relaxed) != 0, 0))
        cv__checkpoint_slow(ctx);
    return cv_stopping(ctx);
}

/* CPU work: burns `ns` nanoseconds of CPU (calibrated work units, so a preempted thread does not
 * count time it did not compute), with GIL checkpoints. Returns false if stopped early. */
bool cv_cpu(struct cv_ctx *ctx, uint64_t ns);
/* C code that releases the GIL, as CPython's zlib, hashlib, and file and socket I/O do around
 * their work (Py_BEGIN_ALLOW_THREADS .. Py_END_ALLOW_THREADS): under the emulated GIL it is
 * dropped at begin, so other threads run Python meanwhile, and taken again at end; without a
 * GIL, nothing. cv_cpu stays the stand-in for bytecode, which holds the GIL. */
void cv_nogil_begin(struct cv_ctx *ctx);
void cv_nogil_end(struct cv_ctx *ctx);
/* Bytecodes with no switch point among them, such as the load, add and store of a bare
 * `counter += 1`: from CPython 3.10 on the interpreter hands the GIL over only at a call or a
 * backward jump, so under the emulated GIL of 3.10 and later no other thread runs Python
 * between begin and end (a drop request waits for the end). 3.9 could switch between any two
 * bytecodes: there, and without a GIL, these calls change nothing. Nest; keep them short. */
void cv_noswitch_begin(struct cv_ctx *ctx);
void cv_noswitch_end(struct cv_ctx *ctx);
/* CPU work handed to the model's executor when it has one (hybrid: run_in_executor / to_thread),
 * the task waiting meanwhile; elsewhere the same as cv_cpu, in place. */
bool cv_offload_cpu(struct cv_ctx *ctx, uint64_t ns);
/* Writes a file and fsyncs it / reads up to cap bytes of one. Blocking file I/O: under hybrid the
 * executor does it (asyncio.to_thread); under plain epoll it blocks the loop. Return 0 or
 * -errno. */
int cv_file_write(struct cv_ctx *ctx, const char *path, const void *data, size_t len);
int cv_file_read(struct cv_ctx *ctx, const char *path, void *buf, size_t cap, size_t *len);
/* Sleeps (an I/O wait: releases the GIL). Returns false if stopped early. */
bool cv_sleep(struct cv_ctx *ctx, uint64_t ns);

/* Objects. Created during setup (before workers start) in shared memory; names are shown. */
struct cv_mutex;
struct cv_sem;
struct cv_queue;
struct cv_barrier;
struct cv_counter;

struct cv_mutex *cv_mutex_create(struct cv_run *run, const char *name);
/* lock and acquire return false only when the run is stopping (nothing was acquired then). */
bool cv_mutex_lock(struct cv_ctx *ctx, struct cv_mutex *m);
bool cv_mutex_trylock(struct cv_ctx *ctx, struct cv_mutex *m);
void cv_mutex_unlock(struct cv_ctx *ctx, struct cv_mutex *m);

struct cv_sem *cv_sem_create(struct cv_run *run, const char *name, uint32_t initial);
bool cv_sem_acquire(struct cv_ctx *ctx, struct cv_sem *s);
void cv_sem_release(struct cv_ctx *ctx, struct cv_sem *s);
uint32_t cv_sem_value(struct cv_sem *s);

/* A bounded FIFO of 64-bit items. push/pop return false only when the run is stopping. */
struct cv_queue *cv_queue_create(struct cv_run *run, const char *name, uint32_t capacity);
bool cv_queue_push(struct cv_ctx *ctx, struct cv_queue *q, uint64_t item);
bool cv_queue_pop(struct cv_ctx *ctx, struct cv_queue *q, uint64_t *item);
uint32_t cv_queue_depth(struct cv_queue *q);

/* Python's queue.Queue timeouts and task accounting. A timeout of CV_QUEUE_FOREVER blocks until
 * done; 0 does not wait (put_nowait / get_nowait). A timed-out wait is recorded as a
 * wait.timeout on the queue and counted (put_timeouts, get_timeouts, join_timeouts). */
#define CV_QUEUE_FOREVER UINT64_MAX
enum cv_queue_result {
    CV_QUEUE_OK,        /* put or got the item; join: every task put was marked done */
    CV_QUEUE_TIMED_OUT, /* the timeout passed: queue.Full (put), queue.Empty (get), join gave up */
    CV_QUEUE_STOPPED,   /* the run is stopping */
};
enum cv_queue_result cv_queue_push_timed(struct cv_ctx *ctx, struct cv_queue *q, uint64_t item,
                                         uint64_t timeout_ns);
enum cv_queue_result cv_queue_pop_timed(struct cv_ctx *ctx, struct cv_queue *q, uint64_t *item,
                                        uint64_t timeout_ns);
/* Every item put counts as an unfinished task until a task_done marks it done (Python counts
 * the same way). Returns 0, or CV_ERR_USAGE when no task is unfinished: task_done called more
 * times than items were put (Python's ValueError); the count stays at 0. */
int cv_queue_task_done(struct cv_ctx *ctx, struct cv_queue *q);
/* Waits until the unfinished tasks reach 0 (queue.join()), at most timeout_ns. */
enum cv_queue_result cv_queue_join(struct cv_ctx *ctx, struct cv_queue *q, uint64_t timeout_ns);
uint32_t cv_queue_unfinished(struct cv_queue *q);

/* Releases everyone once `parties` lanes have arrived. Returns the phase passed (0, 1, ...),
 * or UINT64_MAX when the run is stopping. */
struct cv_barrier *cv_barrier_create(struct cv_run *run, const char *name, uint32_t parties);
uint64_t cv_barrier_wait(struct cv_ctx *ctx, struct cv_barrier *b);

/* threading.Event (asyncio.Event under epoll): a flag that lanes wait for. set wakes every lane
 * waiting; wait returns at once while the flag is set. wait returns whether it was set: false
 * when `timeout_ns` (0: no timeout) passed first or the run is stopping. */
struct cv_event_obj;
struct cv_event_obj *cv_event_create(struct cv_run *run, const char *name);
void cv_event_set(struct cv_ctx *ctx, struct cv_event_obj *ev);
void cv_event_clear(struct cv_ctx *ctx, struct cv_event_obj *ev);
bool cv_event_is_set(const struct cv_event_obj *ev);
bool cv_event_wait(struct cv_ctx *ctx, struct cv_event_obj *ev, uint64_t timeout_ns);

/* threading.Condition over `lock` (asyncio.Condition under epoll). wait is called with the lock
 * held: it releases it, waits for a notify, and takes it again; it returns true when notified,
 * false on a timeout (`timeout_ns`, 0: none; the lock is held again) or when the run is stopping
 * (then the lock is not taken again: the caller returns without unlocking). notify wakes up to
 * `n` lanes waiting, in the order they came, and returns how many it woke. */
struct cv_cond;
struct cv_cond *cv_cond_create(struct cv_run *run, const char *name, struct cv_mutex *lock);
bool cv_cond_wait(struct cv_ctx *ctx, struct cv_cond *c, uint64_t timeout_ns);
uint64_t cv_cond_notify(struct cv_ctx *ctx, struct cv_cond *c, uint64_t n);
uint64_t cv_cond_notify_all(struct cv_ctx *ctx, struct cv_cond *c);

/* A shared counter whose increment is a read, `work_ns` of computing, then a write. */
#define CV_COUNTER_VARIANTS(X)  \
    X(NONE, "none")             \
    X(MUTEX, "mutex")           \
    X(ATOMIC, "atomic")         \
    X(OMP_ATOMIC, "omp_atomic") \
    X(OMP_CRITICAL, "omp_critical")
enum cv_counter_variant {
#define CV_X_ENUM(name, str) CV_COUNTER_##name,
    CV_COUNTER_VARIANTS(CV_X_ENUM)
#undef CV_X_ENUM
};
const char *cv_counter_variant_name(enum cv_counter_variant v);
int cv_counter_variant_from_name(const char *name);

struct cv_counter *cv_counter_create(struct cv_run *run, const char *name,
                                     enum cv_counter_variant variant);
/* Returns false when the run is stopping; *made (unless NULL) says whether the increment was
 * made (a stop that comes while waiting for the counter's mutex leaves it unmade). */
bool cv_counter_add(struct cv_ctx *ctx, struct cv_counter *c, uint64_t work_ns, bool *made);
uint64_t cv_counter_value(struct cv_counter *c);
/* The variant none's read-modify-write holds a call (`counter = bump(counter)`) instead of being
 * a bare `counter += 1`: a switch point between the read and the write (see cv_noswitch_begin).
 * Setup only. */
void cv_counter_set_call(struct cv_counter *c, bool call);
/* Emits a counter.value event now (workloads call this at milestones). */
void cv_counter_sample(struct cv_ctx *ctx, struct cv_counter *c);

/* HTTP GET. A URL whose host is `local` goes to the embedded loopback server, which the run
 * starts for any scenario that names it. A thread blocks in libcurl (releasing the GIL); under
 * epoll the task is suspended while the loop drives libcurl's multi interface. */
struct cv_http_result {
    long status;      /* HTTP status, 0 when no response */
    uint64_t bytes;   /* body bytes received */
    char head[64];    /* the body's first bytes, NUL-terminated */
    int error;        /* 0, or libcurl's error code */
    bool server_gone; /* it failed because the embedded server had died: not a network fault */
    char message[96];
};
/* Returns true when a response arrived (whatever its status). */
bool cv_http_get(struct cv_ctx *ctx, const char *url, struct cv_http_result *res);
enum cv_http_outcome {
    CV_HTTP_OK,           /* an answer below 400 */
    CV_HTTP_CLIENT_ERROR, /* 4xx */
    CV_HTTP_SERVER_ERROR, /* 5xx */
    CV_HTTP_RESET,        /* the connection closed (or was reset) without a whole answer */
    CV_HTTP_TIMEOUT,      /* no answer within the request timeout */
    CV_HTTP_ERROR,        /* anything else: refused, bad URL, stopped, ... */
};
/* What became of a request (a workload's retries and counts go by it). */
enum cv_http_outcome cv_http_outcome(const struct cv_http_result *res);

/* A task's input and output. Under procs both cross a pipe and count as bytes copied (the cost
 * of pickling); under serial, threads and openmp they are handed over by pointer. */
const void *cv_task_arg(struct cv_ctx *ctx, size_t *len);
/* Hands the task's result to the workload's task_done (in the parent process). Call at most once
 * per task; the bytes are copied. */
void cv_task_result(struct cv_ctx *ctx, const void *data, size_t len);

/* Memory shared by every worker (threads and forked processes alike), zeroed; setup only. */
void *cv_shared_alloc(struct cv_run *run, unsigned long bytes);

#endif
