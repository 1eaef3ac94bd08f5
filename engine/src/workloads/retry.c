/* retry: each task GETs a flaky endpoint that fails `fail` times before it answers, retrying
 * with exponential backoff as urllib3's Retry(total, backoff_factor) does: the first retry at
 * once, the k-th after backoff * 2^(k-1) (at most 120 s, urllib3's backoff_max), give or take
 * `jitter` (urllib3: none). Each retry is a task.retry event, so the growing gaps show on the
 * timeline.
 *
 * `fault` picks how the endpoint fails: an error status (503 by default), a reset connection, or
 * a stall that never answers, which only the per-request timeout (`request_timeout_ms`) ends. A
 * 5xx, a reset, a timeout or a connection error is retried; a 4xx is final (the request itself
 * is wrong). Each kind of failed attempt is counted, and so are the faults the embedded server
 * says it served, for comparison. The gaps are measured, from each retry to the next attempt. */
#include "wl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What a failed attempt was, in the order of enum cv_http_outcome. */
enum { K_CLIENT, K_SERVER, K_RESET, K_TIMEOUT, K_ERROR, K__COUNT };

#define GAP_KS 8 /* retries whose gaps are reported one by one */

struct retry_state {
    _Atomic uint32_t succeeded, retries, gaps_not_growing;
    _Atomic uint64_t gap_ratio_min_ppm; /* the shortest measured gap over its nominal backoff */
    _Atomic uint32_t attempts_failed[K__COUNT]; /* every failed attempt, by kind */
    _Atomic uint32_t gave_up[K__COUNT];         /* failed requests, by their last attempt */
    uint64_t salt;                              /* makes the keys unique to this run */
    /* the measured gaps before the k-th retry's attempt, k = 1..GAP_KS, shortest and longest */
    _Atomic uint64_t gap_min_ns[GAP_KS], gap_max_ns[GAP_KS];
};

static const char *const kind_name[K__COUNT] = {"client errors", "server errors", "resets",
                                                "timeouts", "connection errors"};

static const struct cv_param_def params[] = {
    {"url", CV_PARAM_STRING, "http://local/flaky/{key}?fail={fail}&mode={fault}",
     "the flaky URL; {key} is unique per task, {fail} the failures before success, {fault} "
     "how they fail",
     NULL, 0, 0},
    {"requests", CV_PARAM_INT, "6", "requests (one task each)", NULL, 1, 10000},
    {"fail", CV_PARAM_INT, "3", "failures before each request succeeds", NULL, 0, 100},
    {"fault", CV_PARAM_STRING, "503",
     "how the endpoint fails: a status 500-599, reset (no answer, connection closed) or stall "
     "(no answer until the request times out); a comma list is used in turn",
     NULL, 0, 0},
    {"total", CV_PARAM_INT, "3", "retries allowed per request (Retry(total=...))", NULL, 0, 100},
    {"backoff_ms", CV_PARAM_FLOAT, "500",
     "backoff factor, ms (Retry(backoff_factor=...) in seconds): the first retry goes at once, "
     "the k-th waits backoff*2^(k-1)",
     NULL, 0, 60000},
    {"jitter", CV_PARAM_FLOAT, "0", "random spread of each wait, as a fraction (urllib3: none)",
     NULL, 0, 0.9},
    {"request_timeout_ms", CV_PARAM_FLOAT, "0",
     "each attempt gives up after this long (a timeout, retried); 0 = 120 s", NULL, 0, 600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* Checks `fault`: every mode one the server knows; a stall needs a request timeout. */
static int check_fault(struct cv_run *run, char **cause)
{
    int modes[CV_FAULT_MAX_MODES];
    const char *text = cv_param_str(run, "fault");
    unsigned n = cv_httpd_fault_list(text, modes);
    if (!n) {
        if (cause)
            *cause = cv_strdup_printf("fault: '%s' is not a status 500 to 599, reset or stall (or "
                                      "a comma list of at most %d of them)",
                                      text, CV_FAULT_MAX_MODES);
        return CV_ERR_USAGE;
    }
    bool stall = false;
    for (unsigned i = 0; i < n; i++)
        stall |= modes[i] == CV_FAULT_STALL;
    if (stall && cv_param_num(run, "request_timeout_ms") <= 0) {
        if (cause)
            *cause = cv_strdup("fault=stall needs request_timeout_ms: a stalled request never "
                               "answers");
        return CV_ERR_USAGE;
    }
    return CV_OK;
}

static int retry_plan(struct cv_run *run, char **cause)
{
    int rc = check_fault(run, cause);
    if (rc != CV_OK)
        return rc;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "requests"));
    double ms = cv_param_num(run, "request_timeout_ms");
    cv_run_set_request_timeout(run, ms > 0 && ms < 1 ? 1 : (uint64_t)ms);
    return CV_OK;
}

static int retry_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct retry_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    /* the same in every worker, processes included */
    st->salt = (uint64_t)(uintptr_t)st ^ (uint64_t)getpid();
    atomic_init(&st->gap_ratio_min_ppm, UINT64_MAX);
    for (unsigned k = 0; k < GAP_KS; k++)
        atomic_init(&st->gap_min_ns[k], UINT64_MAX);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* Replaces {key}, {fail} and {fault} in the template. */
static void build(const char *tmpl, uint32_t task, int64_t fail, const char *fault, uint64_t salt,
                  char *out, size_t n)
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
        } else if (!strncmp(p, "{fault}", 7)) {
            w = snprintf(out + at, n - at, "%s", fault);
            p += 7;
        } else {
            out[at++] = *p++;
            continue;
        }
        if (w > 0)
            at += (size_t)w < n - at ? (size_t)w : n - at - 1;
    }
    out[at < n ? at : n - 1] = 0;
}

/* urllib3's Retry.get_backoff_time before the k-th retry (k >= 1): nothing before the first,
 * then factor * 2^(k-1), at most its backoff_max of 120 s. */
static double backoff_ns(double factor_ns, int64_t k)
{
    if (k <= 1)
        return 0;
    double ns = ldexp(factor_ns, (int)(k < 64 ? k - 1 : 63));
    return ns < 120e9 ? ns : 120e9;
}

static void note_gap(struct retry_state *st, unsigned k, uint64_t gap)
{
    uint64_t seen = atomic_load(&st->gap_min_ns[k]);
    while (gap < seen && !atomic_compare_exchange_weak(&st->gap_min_ns[k], &seen, gap))
        ;
    seen = atomic_load(&st->gap_max_ns[k]);
    while (gap > seen && !atomic_compare_exchange_weak(&st->gap_max_ns[k], &seen, gap))
        ;
}

static int retry_task(struct cv_ctx *ctx, uint32_t task)
{
    struct cv_run *run = ctx->run;
    struct retry_state *st = cv_run_workload_state(run);
    char url[1024];
    build(cv_param_str(run, "url"), task, cv_param_int(run, "fail"), cv_param_str(run, "fault"),
          st->salt, url, sizeof url);
    int64_t total = cv_param_int(run, "total");
    double backoff = cv_param_num(run, "backoff_ms") * 1e6, jitter = cv_param_num(run, "jitter");
    uint64_t x = 0x9e3779b97f4a7c15ull * (task + 1), last_gap = 0, retry_at = 0;
    for (int64_t attempt = 0;; attempt++) {
        if (attempt > 0) {
            /* the gap as it happened, from the retry to this attempt */
            uint64_t gap = cv_clock_mono_ns() - retry_at;
            if (attempt > 1 && gap <= last_gap)
                atomic_fetch_add(&st->gaps_not_growing, 1);
            last_gap = gap;
            if (attempt <= GAP_KS)
                note_gap(st, (unsigned)attempt - 1, gap);
            double nominal = backoff_ns(backoff, attempt);
            uint64_t ppm = nominal > 0 ? (uint64_t)((double)gap / nominal * 1e6) : UINT64_MAX - 1;
            uint64_t seen = atomic_load(&st->gap_ratio_min_ppm);
            while (ppm < seen && !atomic_compare_exchange_weak(&st->gap_ratio_min_ppm, &seen, ppm))
                ;
        }
        struct cv_http_result res;
        cv_http_get(ctx, url, &res);
        if (cv_stopping(ctx))
            return -1;
        enum cv_http_outcome o = cv_http_outcome(&res);
        if (o == CV_HTTP_OK) {
            atomic_fetch_add(&st->succeeded, 1);
            return 0;
        }
        unsigned k = (unsigned)o - 1; /* CV_HTTP_CLIENT_ERROR is K_CLIENT, and so on */
        atomic_fetch_add(&st->attempts_failed[k], 1);
        if (attempt >= total || k == K_CLIENT) {
            atomic_fetch_add(&st->gave_up[k], 1);
            return -2; /* out of retries, or not worth one */
        }
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double spread = 1.0 + jitter * ((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        uint64_t gap = (uint64_t)(backoff_ns(backoff, attempt + 1) * spread);
        retry_at = cv_clock_mono_ns();
        cv_emit(ctx, CV_EV_TASK_RETRY, CV_NO_OBJ, (uint64_t)attempt + 1);
        atomic_fetch_add(&st->retries, 1);
        if (!cv_sleep(ctx, gap))
            return -1;
    }
}

/* Per retry k (from 1): retry_wait_s, the wait urllib3 would make (before jitter), and
 * retry_gap_min_s / retry_gap_max_s, the gaps measured from the retry to its attempt. */
static void publish_gaps(struct cv_run *run, struct retry_state *st)
{
    struct cv_value *nominal = cv_value_arr(), *lo = cv_value_arr(), *hi = cv_value_arr();
    double backoff = cv_param_num(run, "backoff_ms") * 1e6;
    for (unsigned k = 0; k < GAP_KS; k++) {
        uint64_t min = atomic_load(&st->gap_min_ns[k]);
        if (min == UINT64_MAX)
            break;
        cv_value_push(nominal, cv_value_num(backoff_ns(backoff, k + 1) / 1e9));
        cv_value_push(lo, cv_value_num((double)min / 1e9));
        cv_value_push(hi, cv_value_num((double)atomic_load(&st->gap_max_ns[k]) / 1e9));
    }
    cv_result_value(run, "retry_wait_s", nominal);
    cv_result_value(run, "retry_gap_min_s", lo);
    cv_result_value(run, "retry_gap_max_s", hi);
}

static void retry_finish(struct cv_run *run)
{
    struct retry_state *st = cv_run_workload_state(run);
    uint32_t failed = 0;
    char why[160] = "";
    for (unsigned k = 0; k < K__COUNT; k++) {
        uint32_t n = atomic_load(&st->gave_up[k]);
        size_t len = strlen(why);
        if (n)
            snprintf(why + len, sizeof why - len, "%s%u %s", len ? ", " : "", n, kind_name[k]);
        failed += n;
    }
    cv_result_num(run, "succeeded", atomic_load(&st->succeeded));
    cv_result_num(run, "failed", failed);
    cv_result_num(run, "retries", atomic_load(&st->retries));
    cv_result_num(run, "server_errors", atomic_load(&st->attempts_failed[K_SERVER]));
    cv_result_num(run, "resets", atomic_load(&st->attempts_failed[K_RESET]));
    cv_result_num(run, "timeouts", atomic_load(&st->attempts_failed[K_TIMEOUT]));
    cv_result_num(run, "client_errors", atomic_load(&st->attempts_failed[K_CLIENT]));
    cv_result_num(run, "connection_errors", atomic_load(&st->attempts_failed[K_ERROR]));
    cv_result_num(run, "gaps_not_growing", atomic_load(&st->gaps_not_growing));
    publish_gaps(run, st);
    uint64_t ppm = atomic_load(&st->gap_ratio_min_ppm);
    if (ppm < UINT64_MAX - 1)
        cv_result_num(run, "gap_ratio_min", (double)ppm / 1e6);
    /* what the embedded server served, counted on its side */
    const struct cv_httpd_tally *t = cv__run_httpd_tally(run);
    cv_result_num(run, "embedded_server", t != NULL);
    if (t) {
        cv_result_num(run, "injected_errors", (double)atomic_load(&t->status));
        cv_result_num(run, "injected_resets", (double)atomic_load(&t->resets));
        cv_result_num(run, "injected_stalls", (double)atomic_load(&t->stalls));
    }
    if (failed)
        cv_run_error(run, "%u of %llu requests failed; their last attempts: %s (total = %lld)",
                     failed, (unsigned long long)cv_run_task_count(run), why,
                     (long long)cv_param_int(run, "total"));
}

/* A connection per request under way (a blocking lane keeps its own between attempts). */
static void retry_holds(const struct cv_run *run, uint64_t in_flight, uint64_t in_call,
                        uint64_t *connections, uint64_t *files)
{
    (void)run;
    *connections = in_flight > in_call ? in_flight : in_call;
    *files = 0;
}

const struct cv_workload cv__wl_retry = {
    .name = "retry",
    .summary = "GETs of a flaky endpoint with exponential backoff (urllib3's Retry)",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = retry_plan,
    .setup = retry_setup,
    .task = retry_task,
    .finish = retry_finish,
    .holds = retry_holds,
    .tasks_param = "requests",
};
