/* squares: heavy_computation(n) = sum(i*i for i in range(n)) over n in range(100, 10100, 100),
 * repeated: a hundred tiny tasks of a few microseconds each. Sending them to processes one by
 * one costs far more than computing them; chunksize packs several into one task. */
#include "wl.h"

#include <string.h>

#define MAX_CHUNK 100000

struct squares_state {
    uint32_t items, chunksize;
    uint64_t *n;   /* per item: the n of heavy_computation(n) */
    uint64_t *sum; /* per item: its result */
    _Atomic uint64_t compute_ns;
};

static const struct cv_param_def params[] = {
    {"repeat", CV_PARAM_INT, "1000", "times the 100 items of range(100, 10100, 100) are computed",
     NULL, 1, 100000},
    {"chunksize", CV_PARAM_INT, "1", "items sent to a worker at once (map's chunksize)", NULL, 1,
     MAX_CHUNK},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static uint32_t items_of(struct cv_run *run)
{
    return 100u * (uint32_t)cv_param_int(run, "repeat");
}

static int squares_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    uint32_t items = items_of(run), chunk = (uint32_t)cv_param_int(run, "chunksize");
    cv_run_set_tasks(run, (items + chunk - 1) / chunk);
    return CV_OK;
}

static int squares_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct squares_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->items = items_of(run);
    st->chunksize = (uint32_t)cv_param_int(run, "chunksize");
    st->n = cv_shared_alloc(run, st->items * sizeof *st->n);
    st->sum = cv_shared_alloc(run, st->items * sizeof *st->sum);
    if (!st->n || !st->sum)
        return CV_ERR_RUNTIME;
    for (uint32_t i = 0; i < st->items; i++)
        st->n[i] = 100u + 100u * (i % 100u);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* The task's argument: the n of each item in its chunk. */
static size_t squares_arg(struct cv_run *run, uint32_t task, const void **data)
{
    struct squares_state *st = cv_run_workload_state(run);
    uint32_t first = task * st->chunksize;
    uint32_t count = st->items - first < st->chunksize ? st->items - first : st->chunksize;
    *data = &st->n[first];
    return count * sizeof(uint64_t);
}

static int squares_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    size_t len;
    const uint64_t *n = cv_task_arg(ctx, &len);
    size_t count = len / sizeof(uint64_t);
    uint64_t out[1 + MAX_CHUNK]; /* compute ns, then one sum per item */
    if (count > MAX_CHUNK)
        return -1;
    uint64_t t0 = cv_clock_mono_ns();
    for (size_t k = 0; k < count; k++) {
        uint64_t limit, s = 0;
        memcpy(&limit, &n[k], sizeof limit);
        for (uint64_t i = 0; i < limit; i++)
            s += i * i;
        out[1 + k] = s;
    }
    out[0] = cv_clock_mono_ns() - t0;
    cv_task_result(ctx, out, (1 + count) * sizeof(uint64_t));
    return cv_stopping(ctx) ? -1 : 0;
}

static void squares_done(struct cv_run *run, uint32_t task, const void *data, size_t len)
{
    struct squares_state *st = cv_run_workload_state(run);
    const uint64_t *out = data;
    size_t count = len / sizeof(uint64_t);
    if (count < 1)
        return;
    atomic_fetch_add(&st->compute_ns, out[0]);
    memcpy(&st->sum[(size_t)task * st->chunksize], out + 1, (count - 1) * sizeof(uint64_t));
}

static void squares_finish(struct cv_run *run)
{
    struct squares_state *st = cv_run_workload_state(run);
    uint64_t right = 0;
    for (uint32_t i = 0; i < st->items; i++) {
        uint64_t n = st->n[i];
        if (st->sum[i] == (n - 1) * n * (2 * n - 1) / 6) /* the closed form */
            right++;
    }
    cv_result_num(run, "items", st->items);
    cv_result_num(run, "correct", (double)right);
    cv_result_num(run, "tasks_sent", (double)cv_run_task_count(run));
    cv_result_num(run, "compute_s", (double)atomic_load(&st->compute_ns) / 1e9);
}

const struct cv_workload cv__wl_squares = {
    .name = "squares",
    .summary = "many tiny CPU tasks (sum of squares), optionally sent in chunks",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = squares_plan,
    .setup = squares_setup,
    .task = squares_task,
    .finish = squares_finish,
    .task_arg = squares_arg,
    .task_done = squares_done,
};
