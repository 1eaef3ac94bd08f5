/* pipeline: producers put numbered items into a bounded queue, consumers take them out and
 * process them; when every producer is done, the last one puts one poison pill per consumer.
 * A shared tally checks that every item was consumed exactly once. */
#include "wl.h"

#include <string.h>

#include <stdio.h>

struct pipeline_state {
    struct cv_queue *q;
    uint32_t producers, consumers, items;
    uint64_t produce_ns, consume_ns;
    _Atomic uint32_t producers_done;
    _Atomic uint64_t produced, consumed;
    _Atomic uint8_t *seen; /* per item: times consumed */
};

static const struct cv_param_def params[] = {
    {"producers", CV_PARAM_INT, "2", "producer threads", NULL, 1, 256},
    {"consumers", CV_PARAM_INT, "3", "consumer threads", NULL, 1, 256},
    {"items", CV_PARAM_INT, "100", "items each producer makes", NULL, 1, 1000000},
    {"capacity", CV_PARAM_INT, "10", "queue size (Queue(maxsize=...))", NULL, 1, 100000},
    {"produce_ms", CV_PARAM_FLOAT, "1", "CPU time to make one item, ms", NULL, 0, 10000},
    {"consume_ms", CV_PARAM_FLOAT, "30", "time to process one item (I/O-like wait), ms", NULL, 0,
     10000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"producer", "producers", 0},
    {"consumer", "consumers", 0},
    {NULL, NULL, 0},
};

static int pipeline_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    char name[CV_NAME_MAX];
    for (int64_t i = 0; i < cv_param_int(run, "producers"); i++) {
        snprintf(name, sizeof name, "producer-%lld", (long long)i + 1);
        cv_run_add_role(run, name);
    }
    for (int64_t i = 0; i < cv_param_int(run, "consumers"); i++) {
        snprintf(name, sizeof name, "consumer-%lld", (long long)i + 1);
        cv_run_add_role(run, name);
    }
    return CV_OK;
}

static int pipeline_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct pipeline_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->producers = (uint32_t)cv_param_int(run, "producers");
    st->consumers = (uint32_t)cv_param_int(run, "consumers");
    st->items = (uint32_t)cv_param_int(run, "items");
    st->produce_ns = (uint64_t)(cv_param_num(run, "produce_ms") * 1e6);
    st->consume_ns = (uint64_t)(cv_param_num(run, "consume_ms") * 1e6);
    st->q = cv_queue_create(run, "jobs", (uint32_t)cv_param_int(run, "capacity"));
    st->seen = cv_shared_alloc(run, (unsigned long)st->producers * st->items + 1);
    if (!st->q || !st->seen)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int produce(struct cv_ctx *ctx, struct pipeline_state *st, uint32_t p)
{
    for (uint32_t k = 0; k < st->items; k++) {
        if (!cv_cpu(ctx, st->produce_ns))
            return -1;
        uint64_t item = (uint64_t)p * st->items + k + 1; /* 0 is the poison pill */
        if (!cv_queue_push(ctx, st->q, item))
            return -1;
        atomic_fetch_add(&st->produced, 1);
    }
    if (atomic_fetch_add(&st->producers_done, 1) + 1 == st->producers)
        for (uint32_t c = 0; c < st->consumers; c++)
            if (!cv_queue_push(ctx, st->q, 0))
                return -1;
    return 0;
}

static int consume(struct cv_ctx *ctx, struct pipeline_state *st)
{
    for (;;) {
        uint64_t item;
        if (!cv_queue_pop(ctx, st->q, &item))
            return -1;
        if (item == 0)
            return 0;
        if (item <= (uint64_t)st->producers * st->items)
            atomic_fetch_add(&st->seen[item], 1);
        atomic_fetch_add(&st->consumed, 1);
        if (!cv_sleep(ctx, st->consume_ns))
            return -1;
    }
}

static int pipeline_role(struct cv_ctx *ctx, uint32_t role)
{
    struct pipeline_state *st = cv_run_workload_state(ctx->run);
    return role < st->producers ? produce(ctx, st, role) : consume(ctx, st);
}

static void pipeline_finish(struct cv_run *run)
{
    struct pipeline_state *st = cv_run_workload_state(run);
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
    cv_result_num(run, "capacity", (double)cv_param_int(run, "capacity"));
    if (!strcmp(cv_run_model_name(run), "procs")) {
        /* each item went from a producer's process to a consumer's, yet bytes_copied says 0:
         * say why (issue: what crossed, or why nothing did) */
        cv_result_num(run, "items_between_processes", (double)atomic_load(&st->consumed));
        cv_result_str(run, "queue_transport",
                      "shared memory: each item (8 bytes) is written once and read in place, "
                      "so nothing is copied (a multiprocessing.Queue pickles each item "
                      "through a pipe)");
    }
}

const struct cv_workload cv__wl_pipeline = {
    .name = "pipeline",
    .summary = "producers and consumers around a bounded queue, shut down with poison pills",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = pipeline_plan,
    .setup = pipeline_setup,
    .role = pipeline_role,
    .finish = pipeline_finish,
};
