/* taskqueue: queue.Queue's timeouts and task accounting. Producers put with a timeout into a
 * small queue and retry an item whose put raised queue.Full; slow consumers get with a timeout,
 * call task_done() after each item and end when a get raises queue.Empty; the main thread waits
 * for the producers (a barrier stands for joining them), then calls work_queue.join(), which
 * returns once every item put has been marked done. */
#include "wl.h"

#include <stdio.h>

#include "concviz/clock.h"

struct taskqueue_state {
    struct cv_queue *q;
    struct cv_barrier *produced_all; /* the producers and the main thread */
    uint32_t producers, consumers, items;
    uint64_t produce_ns, consume_ns, put_timeout_ns, get_timeout_ns;
    bool extra_task_done;
    _Atomic uint64_t put, consumed, done, full, empty, done_errors;
    _Atomic uint64_t last_done_ns; /* when the latest task_done was called */
    uint64_t join_ns;              /* when join returned (0: it did not) */
    uint64_t join_wait_ns;
    uint32_t unfinished_at_join;
};

static const struct cv_param_def params[] = {
    {"producers", CV_PARAM_INT, "2", "producer threads", NULL, 1, 64},
    {"consumers", CV_PARAM_INT, "1", "consumer threads", NULL, 1, 64},
    {"items", CV_PARAM_INT, "15", "items each producer puts", NULL, 1, 100000},
    {"capacity", CV_PARAM_INT, "3", "queue size (Queue(maxsize=...))", NULL, 1, 10000},
    {"produce_ms", CV_PARAM_FLOAT, "1", "CPU time to make one item, ms", NULL, 0, 10000},
    {"consume_ms", CV_PARAM_FLOAT, "20", "time to process one item (I/O-like wait), ms", NULL, 0,
     10000},
    {"put_timeout_ms", CV_PARAM_FLOAT, "25", "put(item, timeout=...): queue.Full after it, ms",
     NULL, 0, 60000},
    {"get_timeout_ms", CV_PARAM_FLOAT, "150", "get(timeout=...): queue.Empty after it, ms", NULL, 0,
     60000},
    {"extra_task_done", CV_PARAM_INT, "0",
     "1: each consumer calls task_done() once more at its end (ValueError: its task fails)", NULL,
     0, 1},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"main-thread", NULL, 1},
    {"producer", "producers", 0},
    {"consumer", "consumers", 0},
    {NULL, NULL, 0},
};

static void add_roles(struct cv_run *run, const char *what, int64_t n)
{
    cv_run_add_roles(run, what, n);
}

static int taskqueue_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "main-thread");
    add_roles(run, "producer", cv_param_int(run, "producers"));
    add_roles(run, "consumer", cv_param_int(run, "consumers"));
    return CV_OK;
}

static uint64_t ms_param(struct cv_run *run, const char *key)
{
    return (uint64_t)(cv_param_num(run, key) * 1e6);
}

static int taskqueue_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct taskqueue_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->producers = (uint32_t)cv_param_int(run, "producers");
    st->consumers = (uint32_t)cv_param_int(run, "consumers");
    st->items = (uint32_t)cv_param_int(run, "items");
    st->produce_ns = ms_param(run, "produce_ms");
    st->consume_ns = ms_param(run, "consume_ms");
    st->put_timeout_ns = ms_param(run, "put_timeout_ms");
    st->get_timeout_ns = ms_param(run, "get_timeout_ms");
    st->extra_task_done = cv_param_int(run, "extra_task_done") != 0;
    st->q = cv_queue_create(run, "jobs", (uint32_t)cv_param_int(run, "capacity"));
    st->produced_all = cv_barrier_create(run, "producers-done", st->producers + 1);
    if (!st->q || !st->produced_all)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* Puts each item, retrying it while the put raises queue.Full. */
static int produce(struct cv_ctx *ctx, struct taskqueue_state *st, uint32_t p)
{
    for (uint32_t k = 0; k < st->items; k++) {
        if (!cv_cpu(ctx, st->produce_ns))
            return -1;
        enum cv_queue_result r;
        while ((r = cv_queue_push_timed(ctx, st->q, (uint64_t)p * st->items + k + 1,
                                        st->put_timeout_ns)) == CV_QUEUE_TIMED_OUT)
            atomic_fetch_add(&st->full, 1);
        if (r != CV_QUEUE_OK)
            return -1;
        atomic_fetch_add(&st->put, 1);
    }
    return cv_barrier_wait(ctx, st->produced_all) == UINT64_MAX ? -1 : 0;
}

/* task_done() with nothing unfinished raises ValueError, which ends the consumer's task. */
static int task_done(struct cv_ctx *ctx, struct taskqueue_state *st)
{
    if (cv_queue_task_done(ctx, st->q) != 0) {
        atomic_fetch_add(&st->done_errors, 1);
        return -22; /* ValueError: task_done() called too many times */
    }
    atomic_fetch_add(&st->done, 1);
    return 0;
}

/* Takes items until a get raises queue.Empty, marking each one done after its work. */
static int consume(struct cv_ctx *ctx, struct taskqueue_state *st)
{
    for (;;) {
        uint64_t item;
        enum cv_queue_result r = cv_queue_pop_timed(ctx, st->q, &item, st->get_timeout_ns);
        if (r == CV_QUEUE_TIMED_OUT) {
            atomic_fetch_add(&st->empty, 1);
            return st->extra_task_done ? task_done(ctx, st) : 0;
        }
        if (r != CV_QUEUE_OK || !cv_sleep(ctx, st->consume_ns))
            return -1;
        atomic_fetch_add(&st->consumed, 1);
        atomic_store(&st->last_done_ns, cv_clock_mono_ns());
        if (task_done(ctx, st) != 0)
            return -22;
    }
}

/* Waits for the producers, then for every task put to be marked done. */
static int main_thread(struct cv_ctx *ctx, struct taskqueue_state *st)
{
    if (cv_barrier_wait(ctx, st->produced_all) == UINT64_MAX)
        return -1;
    uint64_t t0 = cv_clock_mono_ns();
    if (cv_queue_join(ctx, st->q, CV_QUEUE_FOREVER) != CV_QUEUE_OK)
        return -1;
    st->join_ns = cv_clock_mono_ns();
    st->join_wait_ns = st->join_ns - t0;
    st->unfinished_at_join = cv_queue_unfinished(st->q);
    return 0;
}

static int taskqueue_role(struct cv_ctx *ctx, uint32_t role)
{
    struct taskqueue_state *st = cv_run_workload_state(ctx->run);
    if (role == 0)
        return main_thread(ctx, st);
    return role <= st->producers ? produce(ctx, st, role - 1) : consume(ctx, st);
}

static void taskqueue_finish(struct cv_run *run)
{
    struct taskqueue_state *st = cv_run_workload_state(run);
    uint64_t last_done = atomic_load(&st->last_done_ns);
    cv_result_num(run, "items_put", (double)atomic_load(&st->put));
    cv_result_num(run, "consumed", (double)atomic_load(&st->consumed));
    cv_result_num(run, "tasks_done", (double)atomic_load(&st->done));
    cv_result_num(run, "task_done_errors", (double)atomic_load(&st->done_errors));
    cv_result_num(run, "full_retries", (double)atomic_load(&st->full));
    cv_result_num(run, "empty_timeouts", (double)atomic_load(&st->empty));
    cv_result_num(run, "joined", st->join_ns ? 1 : 0);
    cv_result_num(run, "join_after_last_task_done", st->join_ns && st->join_ns >= last_done);
    cv_result_num(run, "join_wait_s", (double)st->join_wait_ns / 1e9);
    cv_result_num(run, "unfinished_at_join", st->unfinished_at_join);
    if (atomic_load(&st->done_errors))
        cv_result_str(
            run, "value_error",
            "task_done() called too many times: the consumer's task failed there, as "
            "the ValueError ends a Python thread; the count of unfinished tasks stayed 0");
}

const struct cv_workload cv__wl_taskqueue = {
    .name = "taskqueue",
    .summary = "put/get with timeouts (Full, Empty), task_done and join on a small queue",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = taskqueue_plan,
    .setup = taskqueue_setup,
    .role = taskqueue_role,
    .finish = taskqueue_finish,
};
