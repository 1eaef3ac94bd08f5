/* retry: each task GETs a flaky endpoint that fails `fail` times before it answers, retrying
 * with exponential backoff and jitter (urllib3's Retry(total, backoff_factor)): sleep
 * backoff * 2^(attempt-1), give or take `jitter`. Each retry is a task.retry event, so the
 * growing gaps show on the timeline. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct retry_state {
    _Atomic uint32_t succeeded, retries, gaps_not_growing;
};

static const struct cv_param_def params[] = {
    {"url", CV_PARAM_STRING, "http://local/flaky/{key}?fail={fail}",
     "the flaky URL; {key} is unique per task, {fail} the failures before success", NULL, 0, 0},
    {"requests", CV_PARAM_INT, "6", "requests (one task each)", NULL, 1, 10000},
    {"fail", CV_PARAM_INT, "3", "failures (503) before each request succeeds", NULL, 0, 100},
    {"total", CV_PARAM_INT, "4", "retries allowed per request (Retry(total=...))", NULL, 0, 100},
    {"backoff_ms", CV_PARAM_FLOAT, "100",
     "backoff factor, ms: the k-th retry waits backoff*2^(k-1)", NULL, 0, 60000},
    {"jitter", CV_PARAM_FLOAT, "0.2", "random spread of each wait, as a fraction", NULL, 0, 0.9},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int retry_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "requests"));
    return CV_OK;
}

static int retry_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct retry_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* Replaces {key} and {fail} in the template. */
static void build(const char *tmpl, uint32_t task, int64_t fail, uint64_t salt, char *out, size_t n)
{
    size_t at = 0;
    for (const char *p = tmpl; *p && at + 1 < n;) {
        int w = 0;
        if (!strncmp(p, "{key}", 5)) {
            w = snprintf(out + at, n - at, "r%llx-%u", (unsigned long long)salt, task);
            p += 5;
        } else if (!strncmp(p, "{fail}", 6)) {
            w = snprintf(out + at, n - at, "%lld", (long long)fail);
            p += 6;
        } else {
            out[at++] = *p++;
            continue;
        }
        if (w > 0)
            at += (size_t)w < n - at ? (size_t)w : n - at - 1;
    }
    out[at < n ? at : n - 1] = 0;
}

static int retry_task(struct cv_ctx *ctx, uint32_t task)
{
    struct cv_run *run = ctx->run;
    struct retry_state *st = cv_run_workload_state(run);
    char url[1024];
    /* a key unique to this run, so a long-lived server's counts do not carry over */
    build(cv_param_str(run, "url"), task, cv_param_int(run, "fail"),
          (uint64_t)(uintptr_t)st ^ getpid(), url, sizeof url);
    int64_t total = cv_param_int(run, "total");
    double backoff = cv_param_num(run, "backoff_ms") * 1e6, jitter = cv_param_num(run, "jitter");
    uint64_t x = 0x9e3779b97f4a7c15ull * (task + 1), last_gap = 0;
    for (int64_t attempt = 0;; attempt++) {
        struct cv_http_result res;
        if (!cv_http_get(ctx, url, &res) && cv_stopping(ctx))
            return -1;
        if (res.status == 200) {
            atomic_fetch_add(&st->succeeded, 1);
            return 0;
        }
        if (attempt >= total)
            return -2; /* out of retries */
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double spread = 1.0 + jitter * ((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        uint64_t gap = (uint64_t)(backoff * (double)(1ull << attempt) * spread);
        if (gap <= last_gap)
            atomic_fetch_add(&st->gaps_not_growing, 1);
        last_gap = gap;
        cv_emit(ctx, CV_EV_TASK_RETRY, CV_NO_OBJ, (uint64_t)attempt + 1);
        atomic_fetch_add(&st->retries, 1);
        if (!cv_sleep(ctx, gap))
            return -1;
    }
}

static void retry_finish(struct cv_run *run)
{
    struct retry_state *st = cv_run_workload_state(run);
    cv_result_num(run, "succeeded", atomic_load(&st->succeeded));
    cv_result_num(run, "retries", atomic_load(&st->retries));
    cv_result_num(run, "gaps_not_growing", atomic_load(&st->gaps_not_growing));
}

const struct cv_workload cv__wl_retry = {
    .name = "retry",
    .summary = "GETs of a flaky endpoint with exponential backoff and jitter",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = retry_plan,
    .setup = retry_setup,
    .task = retry_task,
    .finish = retry_finish,
};
