/* pipeline: producers put numbered items into a bounded queue, consumers take them out and
 * process them; when every producer is done, the last one puts one poison pill per consumer.
 * A shared tally checks that every item was consumed exactly once.
 *
 * Under procs, transport=pipe is a multiprocessing.Queue: each item, `item_bytes` of it
 * pickled, really goes through a pipe (written by the producer before it puts the item's
 * number in the bounded queue, read by the consumer that takes it), and bytes_copied counts
 * it; transport=shared is Value/Array: the items stay in shared memory and nothing is copied.
 * Threads and the event loop pass references (queue.Queue, asyncio.Queue): nothing crosses. */
#include "wl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct pipeline_state {
    struct cv_queue *q;
    uint32_t producers, consumers, items;
    uint64_t produce_ns, consume_ns;
    _Atomic uint32_t producers_done;
    _Atomic uint64_t produced, consumed;
    _Atomic uint8_t *seen; /* per item: times consumed */
    int pipe_rd, pipe_wr;  /* transport=pipe under procs: the items' bytes; else -1 */
    uint32_t item_bytes;
    _Atomic uint64_t piped, bad_payloads;
};

static const struct cv_param_def params[] = {
    {"producers", CV_PARAM_INT, "2", "producer threads", NULL, 1, 256},
    {"consumers", CV_PARAM_INT, "3", "consumer threads", NULL, 1, 256},
    {"items", CV_PARAM_INT, "100", "items each producer makes", NULL, 1, 1000000},
    {"capacity", CV_PARAM_INT, "10", "queue size (Queue(maxsize=...))", NULL, 1, 100000},
    {"produce_ms", CV_PARAM_FLOAT, "1", "CPU time to make one item, ms", NULL, 0, 10000},
    {"consume_ms", CV_PARAM_FLOAT, "30", "time to process one item (I/O-like wait), ms", NULL, 0,
     10000},
    {"transport", CV_PARAM_ENUM, "pipe",
     "under procs, how items cross: pipe (multiprocessing.Queue, pickled through a pipe) or "
     "shared (Value/Array, shared memory, no copy)",
     "pipe|shared", 0, 0},
    {"item_bytes", CV_PARAM_INT, "23",
     "bytes one item takes through the pipe under transport=pipe (CPython 3.11's "
     "multiprocessing.Queue sends the article's (item, result) tuple as 23: 19 pickled, 4 of "
     "length)",
     NULL, 8, 4096},
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
    cv_run_add_roles(run, "producer", cv_param_int(run, "producers"));
    cv_run_add_roles(run, "consumer", cv_param_int(run, "consumers"));
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
    st->pipe_rd = st->pipe_wr = -1;
    st->item_bytes = (uint32_t)cv_param_int(run, "item_bytes");
    cv_run_set_workload_state(run, st);
    if (!strcmp(cv_run_model_name(run), "procs") &&
        !strcmp(cv_param_str(run, "transport"), "pipe")) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
            if (cause)
                *cause =
                    cv_strdup_printf("pipeline: cannot make the items' pipe: %s", strerror(errno));
            return CV_ERR_RUNTIME;
        }
        st->pipe_rd = fds[0];
        st->pipe_wr = fds[1];
    }
    return CV_OK;
}

/* The item's pickled bytes: its number, then a pattern derived from it. */
static void make_payload(uint8_t *buf, uint32_t n, uint64_t item)
{
    memcpy(buf, &item, sizeof item);
    for (uint32_t i = sizeof item; i < n; i++)
        buf[i] = (uint8_t)(item * 31 + i);
}

/* Moves one item's bytes through the pipe (at most PIPE_BUF: all or nothing); a full or empty
 * pipe is waited out in short sleeps, so that a stop still ends the lane. */
static bool pipe_io(struct cv_ctx *ctx, int fd, uint8_t *buf, uint32_t n, bool wr)
{
    for (;;) {
        ssize_t got = wr ? write(fd, buf, n) : read(fd, buf, n);
        if (got == (ssize_t)n)
            return true;
        if (got >= 0 || (errno != EAGAIN && errno != EINTR))
            return false;
        if (!cv_sleep(ctx, 100000))
            return false;
    }
}

static int produce(struct cv_ctx *ctx, struct pipeline_state *st, uint32_t p)
{
    for (uint32_t k = 0; k < st->items; k++) {
        if (!cv_cpu(ctx, st->produce_ns))
            return -1;
        uint64_t item = (uint64_t)p * st->items + k + 1; /* 0 is the poison pill */
        uint8_t buf[4096];
        if (st->pipe_wr >= 0) { /* pickled into the pipe before its number is put */
            make_payload(buf, st->item_bytes, item);
            if (!pipe_io(ctx, st->pipe_wr, buf, st->item_bytes, true))
                return -1;
            atomic_fetch_add(&st->piped, st->item_bytes);
        }
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
        if (st->pipe_rd >= 0) { /* unpickled: the bytes of an item put before this one */
            uint8_t buf[4096], want[4096];
            if (!pipe_io(ctx, st->pipe_rd, buf, st->item_bytes, false))
                return -1;
            memcpy(&item, buf, sizeof item);
            make_payload(want, st->item_bytes, item);
            if (memcmp(buf, want, st->item_bytes) != 0)
                atomic_fetch_add(&st->bad_payloads, 1);
        }
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
        /* each item went from a producer's process to a consumer's: say what crossed */
        cv_result_num(run, "items_between_processes", (double)atomic_load(&st->consumed));
        if (st->pipe_rd >= 0) {
            cv_result_str(run, "queue_transport",
                          "a pipe, as multiprocessing.Queue: each item pickled, written by its "
                          "producer and read by its consumer (bytes_copied)");
            cv_result_num(run, "bad_payloads", (double)atomic_load(&st->bad_payloads));
            cv_run_add_bytes_copied(run, atomic_load(&st->piped));
            close(st->pipe_rd);
            close(st->pipe_wr);
        } else {
            cv_result_str(run, "queue_transport",
                          "shared memory, as Value/Array: each item (8 bytes) is written once "
                          "and read in place, so nothing is copied");
        }
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
