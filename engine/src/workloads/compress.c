/* compress: zlib.compress(level 9) of generated text-like buffers. Under procs each buffer is
 * copied to a worker and its compressed form copied back (pickling); threads share them. */
#include "wl.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct compress_state {
    uint32_t buffers;
    uint32_t size;
    int level;
    uint8_t *data;       /* buffers * size bytes, made in setup */
    uint64_t *out_bytes; /* per task */
    uint32_t *out_crc;   /* per task: crc32 of the compressed bytes */
};

static const struct cv_param_def params[] = {
    {"buffers", CV_PARAM_INT, "48", "buffers to compress (one task each)", NULL, 1, 100000},
    {"size_kb", CV_PARAM_INT, "256", "size of each buffer, KiB", NULL, 1, 65536},
    {"level", CV_PARAM_INT, "9", "zlib compression level", NULL, 0, 9},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int compress_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "buffers"));
    return CV_OK;
}

/* Words from a small vocabulary, picked by an LCG: compressible, like text or logs. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *const words[] = {"thread ", "process ", "lock ",   "queue ",   "event ",
                                        "loop ",   "task ",    "worker ", "future ",  "await ",
                                        "GIL ",    "pool ",    "result ", "timeout ", "\n"};
    size_t at = 0;
    uint64_t x = seed * 2654435761u + 1;
    while (at < n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *w = words[(x >> 33) % (sizeof words / sizeof words[0])];
        size_t len = strlen(w);
        if (len > n - at)
            len = n - at;
        memcpy(p + at, w, len);
        at += len;
    }
}

static int compress_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct compress_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->buffers = (uint32_t)cv_param_int(run, "buffers");
    st->size = (uint32_t)cv_param_int(run, "size_kb") * 1024u;
    st->level = (int)cv_param_int(run, "level");
    /* The input lives in the parent's own memory: under procs it has to be sent. */
    st->data = malloc((size_t)st->buffers * st->size);
    st->out_bytes = cv_shared_alloc(run, st->buffers * sizeof *st->out_bytes);
    st->out_crc = cv_shared_alloc(run, st->buffers * sizeof *st->out_crc);
    if (!st->data || !st->out_bytes || !st->out_crc) {
        free(st->data);
        st->data = NULL;
        if (cause)
            *cause = cv_strdup("compress: not enough memory for the buffers");
        return CV_ERR_RUNTIME;
    }
    for (uint32_t i = 0; i < st->buffers; i++)
        fill(st->data + (size_t)i * st->size, st->size, i);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static size_t compress_arg(struct cv_run *run, uint32_t task, const void **data)
{
    struct compress_state *st = cv_run_workload_state(run);
    *data = st->data + (size_t)task * st->size;
    return st->size;
}

static int compress_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct compress_state *st = cv_run_workload_state(ctx->run);
    size_t len;
    const uint8_t *in = cv_task_arg(ctx, &len);
    uLongf cap = compressBound((uLong)len);
    uint8_t *out = malloc(cap);
    if (!out)
        return -1;
    /* zlib.compress releases the GIL while it works (CPython's zlibmodule.c) */
    cv_nogil_begin(ctx);
    int z = compress2(out, &cap, in, (uLong)len, st->level);
    cv_nogil_end(ctx);
    if (z == Z_OK)
        cv_task_result(ctx, out, cap);
    free(out);
    return z == Z_OK ? 0 : -1;
}

static void compress_done(struct cv_run *run, uint32_t task, const void *data, size_t len)
{
    struct compress_state *st = cv_run_workload_state(run);
    st->out_bytes[task] = len;
    st->out_crc[task] = (uint32_t)crc32(0, data, (uInt)len);
}

static void compress_finish(struct cv_run *run)
{
    struct compress_state *st = cv_run_workload_state(run);
    double in = 0, out = 0, done = 0;
    for (uint32_t i = 0; i < st->buffers; i++) {
        if (!st->out_bytes[i])
            continue;
        done++;
        in += st->size;
        out += (double)st->out_bytes[i];
    }
    cv_result_num(run, "buffers_done", done);
    cv_result_num(run, "bytes_in", in);
    cv_result_num(run, "bytes_out", out);
    cv_result_num(run, "ratio", in > 0 ? out / in : 0);
    free(st->data);
    st->data = NULL;
}

const struct cv_workload cv__wl_compress = {
    .name = "compress",
    .summary = "zlib compression of generated buffers",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = compress_plan,
    .setup = compress_setup,
    .task = compress_task,
    .finish = compress_finish,
    .task_arg = compress_arg,
    .task_done = compress_done,
};
