/* Helpers shared by the benchmark programs (each is its own executable; this is header-only). */
#ifndef CONCVIZ_BENCH_UTIL_H
#define CONCVIZ_BENCH_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"
#include "concviz/workload.h"

/* Writes `body` to a temporary INI file and loads it; NULL (with a message) on failure. */
static inline struct cv_scenario *bench_load_scenario(const char *prog, const char *body)
{
    char path[] = "/tmp/cv_bench_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "%s: mkstemp: %s\n", prog, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return NULL;
    }
    fputs(body, f);
    fclose(f);
    struct cv_scenario *sc = NULL;
    char *cause = NULL;
    if (cv_scenario_load(path, &sc, &cause) != CV_OK) {
        fprintf(stderr, "%s: scenario: %s\n", prog, cause ? cause : "?");
        free(cause);
        sc = NULL;
    }
    unlink(path);
    return sc;
}

/* A number in a summary by dotted path (NaN when missing). */
static inline double bench_summary_num(const struct cv_value *sum, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const struct cv_value *cur = sum;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = cv_value_child(cur, tok);
    return cur && cur->type == CV_VAL_NUM ? cur->num : NAN;
}

/* Monotonic seconds. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the finite values among v[0..n) (NAN if none); v is left as it is. */
static inline double bench_median(const double *v, size_t n)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; s && i < n; i++)
        if (isfinite(v[i]))
            s[k++] = v[i];
    double m = NAN;
    if (k) {
        qsort(s, k, sizeof *s, bench_cmp_double);
        m = k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
    }
    free(s);
    return m;
}

/* The 1-minute load average (NAN if unknown): other processes inflate every figure. */
static inline double bench_load_avg(void)
{
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : NAN;
}

/* "%.*f", or "n/a" ("null" in JSON) for a missing figure, into buf. */
static inline const char *bench_fmt_num(char *buf, size_t n, double v, int prec, bool json)
{
    if (!isfinite(v))
        snprintf(buf, n, "%s", json ? "null" : "n/a");
    else
        snprintf(buf, n, "%.*f", prec, v);
    return buf;
}

/* All n bytes written, or false. */
static inline bool bench_write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* True only when all n bytes came. */
static inline bool bench_read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        c += r;
        n -= (size_t)r;
    }
    return true;
}

/* A workload whose tasks only sleep (what a worker or a suspended task costs): parameters tasks
 * and sleep_ms. Register it with cv_workload_register(&bench_wl_sleep). */
static const struct cv_param_def bench_sleep_params[] = {
    {"tasks", CV_PARAM_INT, "1000", "how many sleeping tasks", NULL, 1, 1000000},
    {"sleep_ms", CV_PARAM_INT, "500", "how long each task sleeps", NULL, 0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static inline int bench_sleep_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    return CV_OK;
}

static inline int bench_sleep_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    uint64_t ns = (uint64_t)cv_param_int(ctx->run, "sleep_ms") * 1000000u;
    return cv_sleep(ctx, ns) ? 0 : -1;
}

static const struct cv_workload bench_wl_sleep = {
    .name = "bench_sleep",
    .summary = "tasks that only sleep (what a worker or a suspended task costs)",
    .params = bench_sleep_params,
    .shape = CV_SHAPE_TASKS,
    .plan = bench_sleep_plan,
    .task = bench_sleep_task,
};

#endif
