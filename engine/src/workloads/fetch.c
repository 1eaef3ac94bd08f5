/* fetch: HTTP GETs, one task each, optionally at most `concurrency` at a time (a semaphore, as
 * asyncio.Semaphore around aiohttp). `{ms}` in the URL takes the task's delay from delays_ms, so
 * mixed delays finish out of submission order; the answers are still kept in input order, as
 * Executor.map returns them. The order the answers came in is noted as they come, so the delays
 * of the first and the last one answered show whether the order followed the delays. */
#include "wl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_DELAYS 1024

struct fetch_state {
    struct cv_sem *sem; /* NULL: no limit */
    uint32_t ndelays;
    uint32_t delays[MAX_DELAYS];
    int32_t *status; /* per task, input order */
    int32_t *answer; /* per task: the delay the server reported, -1 unknown */
    uint32_t *rank;  /* per task: 1 for the first answer to come, 2 for the next...; 0 none */
    _Atomic uint32_t answered;
    _Atomic uint64_t bytes;
    _Atomic uint32_t in_flight, in_flight_max; /* requests between sending and the answer */
    _Atomic uint32_t timeouts, resets;         /* requests that got no answer */
};

static const struct cv_param_def params[] = {
    {"url", CV_PARAM_STRING, "http://local/delay/{ms}",
     "URL to GET; host `local` is the embedded server, {ms} a delay from delays_ms", NULL, 0, 0},
    {"delays_ms", CV_PARAM_INT_LIST, "300", "delays for {ms}, cycled over the requests", NULL, 0,
     60000},
    {"requests", CV_PARAM_INT, "20", "number of GETs (one task each)", NULL, 1, 100000},
    {"concurrency", CV_PARAM_INT, "0", "at most this many at once (a semaphore); 0 = no limit",
     NULL, 0, 100000},
    {"request_timeout_ms", CV_PARAM_FLOAT, "0",
     "each request gives up after this long (the task fails); 0 = 120 s", NULL, 0, 600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int parse_delays(const char *text, struct fetch_state *st, char **cause)
{
    uint64_t v[MAX_DELAYS];
    int n = cv__parse_list("delays_ms", text, 0, 60000, v, MAX_DELAYS, cause);
    st->ndelays = n > 0 ? (uint32_t)n : 0;
    for (int i = 0; i < n; i++)
        st->delays[i] = (uint32_t)v[i];
    return n > 0 ? CV_OK : CV_ERR_USAGE;
}

static int fetch_plan(struct cv_run *run, char **cause)
{
    struct fetch_state probe;
    int rc = parse_delays(cv_param_str(run, "delays_ms"), &probe, cause);
    if (rc == CV_OK) {
        cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "requests"));
        double ms = cv_param_num(run, "request_timeout_ms");
        cv_run_set_request_timeout(run, ms > 0 && ms < 1 ? 1 : (uint64_t)ms);
    }
    return rc;
}

static int fetch_setup(struct cv_run *run, char **cause)
{
    struct fetch_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    int rc = parse_delays(cv_param_str(run, "delays_ms"), st, cause);
    if (rc)
        return rc;
    uint32_t n = (uint32_t)cv_run_task_count(run);
    st->status = cv_shared_alloc(run, n * sizeof *st->status);
    st->answer = cv_shared_alloc(run, n * sizeof *st->answer);
    st->rank = cv_shared_alloc(run, n * sizeof *st->rank);
    if (!st->status || !st->answer || !st->rank)
        return CV_ERR_RUNTIME;
    for (uint32_t i = 0; i < n; i++)
        st->answer[i] = -1;
    int64_t limit = cv_param_int(run, "concurrency");
    if (limit > 0 && !(st->sem = cv_sem_create(run, "limit", (uint32_t)limit)))
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* On the heap, not the stack: an epoll task's whole stack is one page (see coro.c). */
static char *build_url(const char *tmpl, uint32_t ms)
{
    const char *at = strstr(tmpl, "{ms}");
    if (!at)
        return cv_strdup_printf("%s", tmpl);
    return cv_strdup_printf("%.*s%u%s", (int)(at - tmpl), tmpl, ms, at + 4);
}

struct answer {
    int32_t status;
    int32_t delay;
};

static int fetch_task(struct cv_ctx *ctx, uint32_t task)
{
    struct fetch_state *st = cv_run_workload_state(ctx->run);
    if (st->sem && !cv_sem_acquire(ctx, st->sem))
        return -1;
    char *url = build_url(cv_param_str(ctx->run, "url"), st->delays[task % st->ndelays]);
    struct cv_http_result res;
    uint32_t now = atomic_fetch_add(&st->in_flight, 1) + 1;
    uint32_t seen = atomic_load(&st->in_flight_max);
    while (now > seen && !atomic_compare_exchange_weak(&st->in_flight_max, &seen, now))
        ;
    bool ok = cv_http_get(ctx, url, &res);
    free(url);
    if (ok)
        st->rank[task] = atomic_fetch_add(&st->answered, 1) + 1;
    atomic_fetch_sub(&st->in_flight, 1);
    if (st->sem)
        cv_sem_release(ctx, st->sem);
    atomic_fetch_add(&st->bytes, res.bytes);
    enum cv_http_outcome o = cv_http_outcome(&res);
    if (o == CV_HTTP_TIMEOUT)
        atomic_fetch_add(&st->timeouts, 1);
    else if (o == CV_HTTP_RESET)
        atomic_fetch_add(&st->resets, 1);
    struct answer a = {(int32_t)res.status, -1};
    const char *d = strstr(res.head, "\"delay_ms\": ");
    if (d)
        a.delay = (int32_t)strtol(d + 12, NULL, 10);
    cv_task_result(ctx, &a, sizeof a);
    if (!ok)
        return cv_stopping(ctx) ? -1 : -2;
    return 0;
}

static void fetch_done(struct cv_run *run, uint32_t task, const void *data, size_t len)
{
    struct fetch_state *st = cv_run_workload_state(run);
    struct answer a;
    if (len != sizeof a)
        return;
    memcpy(&a, data, sizeof a);
    st->status[task] = a.status;
    st->answer[task] = a.delay;
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f && fscanf(f, "%ld", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}

/* How many threads this machine would let the run make, and what stops it first: the user's
 * process limit (ulimit -u), the kernel's threads-max, pid_max (a thread takes a pid) or
 * vm.max_map_count (a thread's stack and its guard page are two mappings). A thread per request
 * does not "exhaust resources" at a thousand: it reaches one of these. */
static void publish_thread_limits(struct cv_run *run)
{
    struct rlimit nproc, nofile;
    const struct {
        const char *name;
        long v;
    } limits[] = {
        {"ulimit -u", getrlimit(RLIMIT_NPROC, &nproc) == 0 && nproc.rlim_cur != RLIM_INFINITY
                          ? (long)nproc.rlim_cur
                          : -1},
        {"kernel.threads-max", read_long("/proc/sys/kernel/threads-max")},
        {"kernel.pid_max", read_long("/proc/sys/kernel/pid_max")},
        {"vm.max_map_count / 2", read_long("/proc/sys/vm/max_map_count") / 2},
    };
    long best = -1;
    const char *by = NULL;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (limits[i].v > 0 && (best < 0 || limits[i].v < best)) {
            best = limits[i].v;
            by = limits[i].name;
        }
    if (by) {
        cv_result_num(run, "limit_threads", (double)best);
        cv_result_str(run, "limit_threads_by", by);
    }
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        cv_result_num(run, "limit_open_files", (double)nofile.rlim_cur);
}

static void fetch_finish(struct cv_run *run)
{
    struct fetch_state *st = cv_run_workload_state(run);
    uint32_t n = (uint32_t)cv_run_task_count(run);
    double ok = 0, in_order = 1;
    struct cv_value *answers = cv_value_arr();
    for (uint32_t i = 0; i < n; i++) {
        ok += st->status[i] == 200;
        /* a missing answer is not one kept in order */
        if (st->answer[i] < 0 || (uint32_t)st->answer[i] != st->delays[i % st->ndelays])
            in_order = 0;
        if (i < 64)
            cv_value_push(answers, cv_value_num(st->answer[i]));
    }
    double total_ms = 0;
    uint32_t longest = 0, shortest = UINT32_MAX, first = 0, last = 0, last_rank = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d = st->delays[i % st->ndelays];
        total_ms += d;
        longest = d > longest ? d : longest;
        shortest = d < shortest ? d : shortest;
        if (st->rank[i] == 1)
            first = d;
        if (st->rank[i] > last_rank) {
            last_rank = st->rank[i];
            last = d;
        }
    }
    cv_result_num(run, "ok", ok);
    cv_result_num(run, "in_flight_max", atomic_load(&st->in_flight_max));
    cv_result_num(run, "failed", n - ok);
    cv_result_num(run, "timeouts", atomic_load(&st->timeouts));
    cv_result_num(run, "resets", atomic_load(&st->resets));
    cv_result_num(run, "bytes", (double)atomic_load(&st->bytes));
    cv_result_num(run, "answers_in_input_order", in_order);
    cv_result_value(run, "answers_ms", answers);
    cv_result_num(run, "sum_of_delays_s", total_ms / 1e3);
    cv_result_num(run, "longest_delay_s", longest / 1e3);
    cv_result_num(run, "shortest_delay_s", shortest / 1e3);
    if (last_rank) { /* the delays asked of the first and the last request answered */
        cv_result_num(run, "first_answered_delay_s", first / 1e3);
        cv_result_num(run, "last_answered_delay_s", last / 1e3);
    }
    if (n >= 1000) /* the c10k question: how far could a thread per request go here */
        publish_thread_limits(run);
}

/* A connection per request under way, at most `concurrency` of them; a blocking lane keeps its
 * connection open between requests (keep-alive). */
static void fetch_holds(const struct cv_run *run, uint64_t in_flight, uint64_t in_call,
                        uint64_t *connections, uint64_t *files)
{
    uint64_t limit = (uint64_t)cv_param_int(run, "concurrency");
    uint64_t n = limit && limit < in_flight ? limit : in_flight;
    *connections = n > in_call ? n : in_call;
    *files = 0;
}

const struct cv_workload cv__wl_fetch = {
    .name = "fetch",
    .summary = "HTTP GETs, optionally limited by a semaphore",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = fetch_plan,
    .setup = fetch_setup,
    .task = fetch_task,
    .finish = fetch_finish,
    .task_done = fetch_done,
    .holds = fetch_holds,
    .tasks_param = "requests",
};
