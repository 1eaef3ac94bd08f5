/* condlist: threading.Condition over a plain list. The producer appends an item and notifies one
 * consumer, with the lock held; consumers wait on the Condition while the list is empty (the
 * lock released meanwhile, taken again on waking) and pop. When the producers are done, the last
 * one notifies everyone, so the consumers see the end. Each item must be consumed exactly once. */
#include "wl.h"

#include <stdio.h>

struct condlist_state {
    struct cv_mutex *lock;
    struct cv_cond *ready;
    uint32_t producers, consumers, items;
    uint64_t produce_ns, consume_ns;
    /* guarded by `lock`: the list, [head, tail) of `list`, the producers still making, the
     * consumers in wait() and those of them notified that have not returned from it yet (the
     * others are the Condition's waiters) */
    uint32_t head, tail, producing, waiting, pending;
    uint32_t *list;
    _Atomic uint64_t produced, consumed, notified_waits;
    /* notifies that woke other than they should: notify() one waiter when any waits (none
     * else), notify_all() every waiter */
    _Atomic uint32_t notify_one_wrong, notify_all_wrong, notify_all_woken;
    _Atomic uint8_t *seen; /* per item: times consumed */
};

static const struct cv_param_def params[] = {
    {"producers", CV_PARAM_INT, "1", "producer threads", NULL, 1, 256},
    {"consumers", CV_PARAM_INT, "3", "consumer threads, each waiting on the Condition", NULL, 1,
     256},
    {"items", CV_PARAM_INT, "100", "items each producer makes", NULL, 1, 1000000},
    {"produce_ms", CV_PARAM_FLOAT, "3", "time to make one item (I/O-like wait), ms", NULL, 0,
     10000},
    {"consume_ms", CV_PARAM_FLOAT, "1", "CPU time to process one item, ms", NULL, 0, 10000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"producer", "producers", 0},
    {"consumer", "consumers", 0},
    {NULL, NULL, 0},
};

static int condlist_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_roles(run, "producer", cv_param_int(run, "producers"));
    cv_run_add_roles(run, "consumer", cv_param_int(run, "consumers"));
    return CV_OK;
}

static int condlist_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct condlist_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->producers = (uint32_t)cv_param_int(run, "producers");
    st->consumers = (uint32_t)cv_param_int(run, "consumers");
    st->items = (uint32_t)cv_param_int(run, "items");
    st->produce_ns = (uint64_t)(cv_param_num(run, "produce_ms") * 1e6);
    st->consume_ns = (uint64_t)(cv_param_num(run, "consume_ms") * 1e6);
    st->producing = st->producers;
    unsigned long total = (unsigned long)st->producers * st->items;
    st->lock = cv_mutex_create(run, "lock");
    st->ready = st->lock ? cv_cond_create(run, "ready", st->lock) : NULL;
    st->list = cv_shared_alloc(run, total * sizeof *st->list);
    st->seen = cv_shared_alloc(run, total + 1);
    if (!st->ready || !st->list || !st->seen)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* with lock: items.append(item); ready.notify() */
static bool append(struct cv_ctx *ctx, struct condlist_state *st, uint32_t item)
{
    if (!cv_mutex_lock(ctx, st->lock))
        return false;
    st->list[st->tail++] = item;
    uint32_t waiters = st->waiting - st->pending;
    uint64_t n = cv_cond_notify(ctx, st->ready, 1);
    if (n != (waiters ? 1 : 0))
        atomic_fetch_add(&st->notify_one_wrong, 1);
    st->pending += (uint32_t)n;
    cv_mutex_unlock(ctx, st->lock);
    atomic_fetch_add(&st->produced, 1);
    return true;
}

static int produce(struct cv_ctx *ctx, struct condlist_state *st, uint32_t p)
{
    for (uint32_t k = 0; k < st->items; k++) {
        if (!cv_sleep(ctx, st->produce_ns) || !append(ctx, st, p * st->items + k + 1))
            return -1;
    }
    if (!cv_mutex_lock(ctx, st->lock))
        return -1;
    if (--st->producing == 0) { /* the end: every consumer waiting must see it */
        uint32_t waiters = st->waiting - st->pending;
        uint64_t n = cv_cond_notify_all(ctx, st->ready);
        if (n != waiters)
            atomic_fetch_add(&st->notify_all_wrong, 1);
        atomic_fetch_add(&st->notify_all_woken, (uint32_t)n);
        st->pending += (uint32_t)n;
    }
    cv_mutex_unlock(ctx, st->lock);
    return 0;
}

/* with lock: while not items and producing: ready.wait(); then items.pop(0), or the end (0) */
static int take(struct cv_ctx *ctx, struct condlist_state *st, uint32_t *item)
{
    if (!cv_mutex_lock(ctx, st->lock))
        return -1;
    while (st->head == st->tail && st->producing) {
        st->waiting++;
        if (!cv_cond_wait(ctx, st->ready, 0))
            return -1; /* stopping: the lock is not held */
        st->waiting--;
        st->pending--; /* without a timeout it returns only when notified */
        atomic_fetch_add(&st->notified_waits, 1);
    }
    *item = st->head < st->tail ? st->list[st->head++] : 0;
    cv_mutex_unlock(ctx, st->lock);
    return 0;
}

static int consume(struct cv_ctx *ctx, struct condlist_state *st)
{
    for (;;) {
        uint32_t item;
        if (take(ctx, st, &item) < 0)
            return -1;
        if (item == 0)
            return 0;
        atomic_fetch_add(&st->seen[item], 1);
        atomic_fetch_add(&st->consumed, 1);
        if (!cv_cpu(ctx, st->consume_ns))
            return -1;
    }
}

static int condlist_role(struct cv_ctx *ctx, uint32_t role)
{
    struct condlist_state *st = cv_run_workload_state(ctx->run);
    return role < st->producers ? produce(ctx, st, role) : consume(ctx, st);
}

static void condlist_finish(struct cv_run *run)
{
    struct condlist_state *st = cv_run_workload_state(run);
    uint64_t total = (uint64_t)st->producers * st->items, dup = 0, missing = 0;
    for (uint64_t i = 1; i <= total; i++) {
        uint8_t n = atomic_load(&st->seen[i]);
        if (n == 0)
            missing++;
        else if (n > 1)
            dup += n - 1u;
    }
    cv_result_num(run, "items_expected", (double)total);
    cv_result_num(run, "produced", (double)atomic_load(&st->produced));
    cv_result_num(run, "consumed", (double)atomic_load(&st->consumed));
    cv_result_num(run, "duplicates", (double)dup);
    cv_result_num(run, "missing", (double)missing);
    cv_result_num(run, "notified_waits", (double)atomic_load(&st->notified_waits));
    cv_result_num(run, "notify_one_wrong", atomic_load(&st->notify_one_wrong));
    cv_result_num(run, "notify_all_woken", atomic_load(&st->notify_all_woken));
    cv_result_num(run, "notify_all_wrong", atomic_load(&st->notify_all_wrong));
}

const struct cv_workload cv__wl_condlist = {
    .name = "condlist",
    .summary = "a producer appends to a list and notifies a Condition; consumers wait on it",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = condlist_plan,
    .setup = condlist_setup,
    .role = condlist_role,
    .finish = condlist_finish,
};
