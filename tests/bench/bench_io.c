/*
 * bench_io: what waiting costs in the epoll model, against threads and against curl's CLI.
 * Prints a table and the same figures as one "json: " line. Not a pass/fail test: exit is
 * always 0.
 *
 *   1. memory per suspended task: a workload registered here whose tasks only cv_sleep 500 ms,
 *      run with 1,000 and 10,000 tasks under epoll and with 1,000 tasks under threads with 1,000
 *      workers. Reported: the summary's runtime.memory_per_inflight_kb (peak RSS minus the RSS at
 *      the start of the run, over the most tasks in flight) and runtime.peak_rss_kb. ru_maxrss
 *      never goes down, so every such run happens in a forked child of its own (the parent has
 *      run nothing yet) and sends its figures back through a pipe.
 *   2. hand-over time: a two-role workload registered here; A pushes to q1 and pops q2, B pops
 *      q1 and pushes q2 (both queues of capacity 1), ROUND_TRIPS times. ns per hand-over =
 *      wall_s / (2 * ROUND_TRIPS): a coroutine switch under epoll, a futex wake-up under threads.
 *      Every queue operation records events, so the figure includes the recording cost.
 *   3. requests per second: the embedded server spawned here (cv_httpd_spawn), then the fetch
 *      workload (2,000 GETs of /get, concurrency 100) under epoll, requests / wall_s, against
 *      `curl --parallel --parallel-max 100 -K file` fetching the same 2,000 URLs, timed around
 *      the child with CLOCK_MONOTONIC. The engine opens a fresh connection per request
 *      (CURLOPT_FRESH_CONNECT) while curl's CLI reuses connections, which favours curl.
 *
 * Medians of RUNS runs each. Also printed: the load average and how many child processes were
 * left at the end (should be 0).
 */
#include "bench_util.h"
#include "concviz/concviz.h"
#include "concviz/httpd.h"
#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"
#include "concviz/workload.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RUNS        3
#define SLEEP_MS    500
#define FEW_TASKS   1000u
#define MANY_TASKS  10000u
#define ROUND_TRIPS 100000u
#define REQUESTS    2000u
#define CONCURRENCY 100u
#define MEM_FIGURES 3 /* memory_per_inflight_kb, peak_rss_kb, inflight_max */

/* ---- helpers ---- */

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "bench_io: setrlimit(NOFILE): %s\n", strerror(errno));
    }
}

static int wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* ---- the workloads ---- */

struct pingpong_state {
    struct cv_queue *q1, *q2;
    uint32_t trips;
    uint64_t a_got, b_got; /* each written by one role only */
};

static const struct cv_param_def pingpong_params[] = {
    {"round_trips", CV_PARAM_INT, "100000", "A -> B -> A round trips", NULL, 1, 100000000},
    {"capacity", CV_PARAM_INT, "1", "size of both queues", NULL, 1, 100000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int pingpong_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "ping");
    cv_run_add_role(run, "pong");
    return CV_OK;
}

static int pingpong_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct pingpong_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    uint32_t cap = (uint32_t)cv_param_int(run, "capacity");
    st->trips = (uint32_t)cv_param_int(run, "round_trips");
    st->q1 = cv_queue_create(run, "q1", cap);
    st->q2 = cv_queue_create(run, "q2", cap);
    if (!st->q1 || !st->q2)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int pingpong_role(struct cv_ctx *ctx, uint32_t role)
{
    struct pingpong_state *st = cv_run_workload_state(ctx->run);
    uint64_t item;
    for (uint32_t i = 0; i < st->trips; i++) {
        if (role == 0) {
            if (!cv_queue_push(ctx, st->q1, i) || !cv_queue_pop(ctx, st->q2, &item))
                return -1;
            st->a_got++;
        } else {
            if (!cv_queue_pop(ctx, st->q1, &item) || !cv_queue_push(ctx, st->q2, item))
                return -1;
            st->b_got++;
        }
    }
    return 0;
}

static void pingpong_finish(struct cv_run *run)
{
    struct pingpong_state *st = cv_run_workload_state(run);
    cv_result_num(run, "a_got", (double)st->a_got);
    cv_result_num(run, "b_got", (double)st->b_got);
}

static const struct cv_workload wl_pingpong = {
    .name = "bench_pingpong",
    .summary = "two roles handing one item back and forth through two queues",
    .params = pingpong_params,
    .shape = CV_SHAPE_ROLES,
    .plan = pingpong_plan,
    .setup = pingpong_setup,
    .role = pingpong_role,
    .finish = pingpong_finish,
};

/* ---- engine runs ---- */

struct engine_run {
    double wall_s, mem_per_inflight_kb, peak_rss_kb, inflight_max, dropped, ok;
};

/* One run of `sc` under `model`; false (with a message) if it failed. `ok_key` names a result
 * that must equal `ok_want` (NULL: every task must complete). */
static bool engine_run(const struct cv_scenario *sc, int model, unsigned workers,
                       const char *ok_key, double ok_want, struct engine_run *out)
{
    *out = (struct engine_run){NAN, NAN, NAN, NAN, NAN, NAN};
    struct cv_run_config cfg = {.scenario = sc, .model = model, .workers = workers, .gil = 0};
    struct cv_run *run = NULL;
    char *cause = NULL;
    if (cv_run_create(&cfg, &run, &cause) != CV_OK) {
        fprintf(stderr, "bench_io: %s %s: cv_run_create: %s\n", sc->name,
                cv_model_name((unsigned)model), cause ? cause : "?");
        free(cause);
        return false;
    }
    bool ok = cv_run_start(run, &cause) == CV_OK;
    if (ok)
        ok = cv_run_finish(run, &cause) == CV_OK;
    if (!ok) {
        fprintf(stderr, "bench_io: %s %s: %s\n", sc->name, cv_model_name((unsigned)model),
                cause ? cause : "?");
        free(cause);
        cv_run_destroy(run);
        return false;
    }
    struct cv_value *sum = cv_run_summary(run, false, NULL);
    out->wall_s = bench_summary_num(sum, "wall_s");
    out->mem_per_inflight_kb = bench_summary_num(sum, "runtime.memory_per_inflight_kb");
    out->peak_rss_kb = bench_summary_num(sum, "runtime.peak_rss_kb");
    out->inflight_max = bench_summary_num(sum, "inflight_max");
    out->dropped = bench_summary_num(sum, "events.dropped");
    double completed = bench_summary_num(sum, "tasks.completed");
    uint64_t want = cv_run_task_count(run);
    if (ok_key) {
        char path[64];
        snprintf(path, sizeof path, "results.%s", ok_key);
        out->ok = bench_summary_num(sum, path);
    }
    cv_value_free(sum);
    cv_run_destroy(run);
    if (ok_key ? out->ok != ok_want : completed != (double)want) {
        fprintf(stderr, "bench_io: %s %s: incomplete (%s %.0f of %.0f)\n", sc->name,
                cv_model_name((unsigned)model), ok_key ? ok_key : "completed",
                ok_key ? out->ok : completed, ok_key ? ok_want : (double)want);
        return false;
    }
    return true;
}

/* ---- 1. memory per suspended task ---- */

struct memcase {
    const char *label;
    int model;
    unsigned tasks, workers;
    double per_task_kb[RUNS], peak_kb[RUNS], inflight[RUNS];
    double med_per_task_kb, med_peak_kb, med_inflight;
};

/* One run in a forked child, so that its peak RSS is its own; NAN figures on failure. */
static void memory_run_forked(const struct cv_scenario *sc, struct memcase *m, int i)
{
    m->per_task_kb[i] = m->peak_kb[i] = m->inflight[i] = NAN;
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        struct engine_run r;
        double fig[MEM_FIGURES] = {NAN, NAN, NAN};
        if (engine_run(sc, m->model, m->workers, NULL, 0, &r)) {
            fig[0] = r.mem_per_inflight_kb;
            fig[1] = r.peak_rss_kb;
            fig[2] = r.inflight_max;
        }
        bench_write_full(fds[1], fig, sizeof fig);
        _exit(0);
    }
    close(fds[1]);
    double fig[MEM_FIGURES];
    if (bench_read_full(fds[0], fig, sizeof fig)) {
        m->per_task_kb[i] = fig[0];
        m->peak_kb[i] = fig[1];
        m->inflight[i] = fig[2];
    }
    close(fds[0]);
    wait_child(pid);
}

static void measure_memory(struct memcase *m, size_t nm)
{
    for (size_t k = 0; k < nm; k++) {
        char body[512];
        snprintf(body, sizeof body,
                 "[scenario]\nname = bench_sleep\ntitle = sleeping tasks\nlesson = memory\n"
                 "workload = bench_sleep\nmodels = epoll threads\n\n"
                 "[params]\ntasks = %u\nsleep_ms = %d\n",
                 m[k].tasks, SLEEP_MS);
        struct cv_scenario *sc = bench_load_scenario("bench_io", body);
        for (int i = 0; i < RUNS; i++) {
            if (sc)
                memory_run_forked(sc, &m[k], i);
            else
                m[k].per_task_kb[i] = m[k].peak_kb[i] = m[k].inflight[i] = NAN;
        }
        if (sc)
            cv_scenario_free(sc);
        m[k].med_per_task_kb = bench_median(m[k].per_task_kb, RUNS);
        m[k].med_peak_kb = bench_median(m[k].peak_kb, RUNS);
        m[k].med_inflight = bench_median(m[k].inflight, RUNS);
    }
}

/* ---- 2. hand-over ---- */

struct switchcase {
    const char *label;
    int model;
    double wall[RUNS];
    double wall_s, ns_per_handover, dropped;
};

static void measure_switch(struct switchcase *s, size_t ns)
{
    char body[512];
    snprintf(body, sizeof body,
             "[scenario]\nname = bench_pingpong\ntitle = ping-pong\nlesson = switch cost\n"
             "workload = bench_pingpong\nmodels = epoll threads\n\n"
             "[params]\nround_trips = %u\ncapacity = 1\n",
             ROUND_TRIPS);
    struct cv_scenario *sc = bench_load_scenario("bench_io", body);
    for (size_t k = 0; k < ns; k++)
        s[k].dropped = 0;
    for (int i = 0; i < RUNS; i++)
        for (size_t k = 0; k < ns; k++) {
            struct engine_run r;
            bool ok = sc && engine_run(sc, s[k].model, 0, "a_got", ROUND_TRIPS, &r);
            s[k].wall[i] = ok ? r.wall_s : NAN;
            if (ok && isfinite(r.dropped))
                s[k].dropped += r.dropped;
        }
    if (sc)
        cv_scenario_free(sc);
    for (size_t k = 0; k < ns; k++) {
        s[k].wall_s = bench_median(s[k].wall, RUNS);
        s[k].ns_per_handover = s[k].wall_s / (2.0 * ROUND_TRIPS) * 1e9;
    }
}

/* ---- 3. requests per second ---- */

struct rps {
    double engine[RUNS], curl[RUNS];
    double engine_s, curl_s, engine_rps, curl_rps, ratio;
    int curl_failures;
    bool server;
};

/* Writes the curl config: REQUESTS url/output pairs. Returns a heap path or NULL. */
static char *write_curl_config(uint16_t port)
{
    char path[] = "/tmp/cv_bench_io_curl_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return NULL;
    }
    for (unsigned i = 0; i < REQUESTS; i++)
        fprintf(f, "url = \"http://127.0.0.1:%u/get\"\noutput = \"/dev/null\"\n", port);
    if (fclose(f) != 0) {
        unlink(path);
        return NULL;
    }
    return strdup(path);
}

/* Seconds curl took for the whole config, or NAN if it failed. */
static double curl_once(const char *config)
{
    char max[16];
    snprintf(max, sizeof max, "%u", CONCURRENCY);
    char *argv[] = {(char *)"curl",
                    (char *)"--parallel",
                    (char *)"--parallel-max",
                    max,
                    (char *)"-s",
                    (char *)"--no-progress-meter",
                    (char *)"-K",
                    (char *)config,
                    NULL};
    pid_t pid;
    double t0 = bench_now_s();
    int rc = posix_spawnp(&pid, "curl", NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "bench_io: cannot run curl: %s\n", strerror(rc));
        return NAN;
    }
    int status = wait_child(pid);
    double dt = bench_now_s() - t0;
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_io: curl failed (status %d)\n", status);
        return NAN;
    }
    return dt;
}

static void measure_rps(struct rps *r)
{
    for (int i = 0; i < RUNS; i++)
        r->engine[i] = r->curl[i] = NAN;
    r->curl_failures = 0;
    struct cv_httpd_proc proc = {.pid = -1, .control = -1};
    char *cause = NULL;
    r->server = cv_httpd_spawn(0, &proc, &cause) == CV_OK;
    if (!r->server) {
        fprintf(stderr, "bench_io: cv_httpd_spawn: %s\n", cause ? cause : "?");
        free(cause);
        goto summarise;
    }
    char body[768];
    snprintf(body, sizeof body,
             "[scenario]\nname = bench_fetch\ntitle = fetch\nlesson = requests per second\n"
             "workload = fetch\nmodels = epoll threads\n\n"
             "[params]\nurl = http://127.0.0.1:%u/get\nrequests = %u\nconcurrency = %u\n",
             proc.port, REQUESTS, CONCURRENCY);
    struct cv_scenario *sc = bench_load_scenario("bench_io", body);
    char *config = write_curl_config(proc.port);
    if (!config)
        fprintf(stderr, "bench_io: cannot write the curl config\n");
    for (int i = 0; i < RUNS; i++) {
        struct engine_run er;
        if (sc && engine_run(sc, CV_MODEL_EPOLL, 0, "ok", REQUESTS, &er))
            r->engine[i] = er.wall_s;
        if (config) {
            r->curl[i] = curl_once(config);
            if (!isfinite(r->curl[i]))
                r->curl_failures++;
        }
    }
    if (config) {
        unlink(config);
        free(config);
    }
    if (sc)
        cv_scenario_free(sc);
    cv_httpd_reap(&proc);
summarise:
    r->engine_s = bench_median(r->engine, RUNS);
    r->curl_s = bench_median(r->curl, RUNS);
    r->engine_rps = REQUESTS / r->engine_s;
    r->curl_rps = REQUESTS / r->curl_s;
    r->ratio = r->engine_rps / r->curl_rps;
}

/* ---- children ---- */

/* Children still around: reaps (and counts) zombies, counts live ones once more. */
static int children_left(void)
{
    int n = 0;
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0) {
            n++;
            continue;
        }
        if (p == 0)
            n++; /* at least one still running */
        break;
    }
    return n;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    double start = bench_now_s();
    double load0 = bench_load_avg();
    struct rlimit nofile = {0, 0};
    getrlimit(RLIMIT_NOFILE, &nofile);
    printf("bench_io: (1) memory per suspended task: tasks that only cv_sleep %d ms, %u and %u "
           "under epoll, %u under threads with %u workers (summary "
           "runtime.memory_per_inflight_kb, each run in a forked child); (2) ns per queue "
           "hand-over: two roles ping-pong %u round trips through two capacity-1 queues, wall_s "
           "/ (2 x trips), event recording included; (3) requests/s: fetch workload under epoll "
           "vs curl --parallel, %u GETs of the embedded server's /get, concurrency %u; medians "
           "of %d runs; %ld CPUs, load %.2f, NOFILE %llu\n",
           SLEEP_MS, FEW_TASKS, MANY_TASKS, FEW_TASKS, FEW_TASKS, ROUND_TRIPS, REQUESTS,
           CONCURRENCY, RUNS, sysconf(_SC_NPROCESSORS_ONLN), load0,
           (unsigned long long)nofile.rlim_cur);
    if (cv_workload_register(&bench_wl_sleep) != CV_OK)
        fprintf(stderr, "bench_io: cannot register workload %s\n", bench_wl_sleep.name);
    if (cv_workload_register(&wl_pingpong) != CV_OK)
        fprintf(stderr, "bench_io: cannot register workload %s\n", wl_pingpong.name);

    struct memcase mem[] = {
        {.label = "epoll", .model = CV_MODEL_EPOLL, .tasks = FEW_TASKS},
        {.label = "epoll", .model = CV_MODEL_EPOLL, .tasks = MANY_TASKS},
        {.label = "threads", .model = CV_MODEL_THREADS, .tasks = FEW_TASKS, .workers = FEW_TASKS},
    };
    const size_t nmem = sizeof mem / sizeof mem[0];
    measure_memory(mem, nmem);

    struct switchcase sw[] = {
        {.label = "epoll (coroutine switch)", .model = CV_MODEL_EPOLL},
        {.label = "threads (futex wake-up)", .model = CV_MODEL_THREADS},
    };
    const size_t nsw = sizeof sw / sizeof sw[0];
    measure_switch(sw, nsw);

    struct rps rps;
    measure_rps(&rps);

    int left = children_left();
    double load1 = bench_load_avg();
    double total = bench_now_s() - start;
    char a[32], b[32], c[32], d[32], e[32];

    printf("\n1. memory per suspended task (tasks sleep %d ms)\n", SLEEP_MS);
    printf("  %-8s %7s %8s %13s %21s %13s\n", "model", "tasks", "workers", "inflight_max",
           "memory_per_inflight", "peak_rss");
    for (size_t i = 0; i < nmem; i++) {
        const struct memcase *m = &mem[i];
        printf("  %-8s %7u %8s %13s %18s KB %10s KB\n", m->label, m->tasks,
               m->workers ? bench_fmt_num(d, sizeof d, m->workers, 0, false) : "-",
               bench_fmt_num(a, sizeof a, m->med_inflight, 0, false),
               bench_fmt_num(b, sizeof b, m->med_per_task_kb, 2, false),
               bench_fmt_num(c, sizeof c, m->med_peak_kb, 0, false));
    }

    printf("\n2. hand-over through capacity-1 queues, %u round trips (includes per-operation "
           "event recording)\n",
           ROUND_TRIPS);
    printf("  %-26s %10s %16s %9s\n", "model", "wall_s", "ns/hand-over", "dropped");
    for (size_t i = 0; i < nsw; i++)
        printf("  %-26s %10s %16s %9s\n", sw[i].label,
               bench_fmt_num(a, sizeof a, sw[i].wall_s, 4, false),
               bench_fmt_num(b, sizeof b, sw[i].ns_per_handover, 0, false),
               bench_fmt_num(c, sizeof c, sw[i].dropped, 0, false));

    printf("\n3. requests per second, %u GETs of /get, at most %u at once\n", REQUESTS,
           CONCURRENCY);
    printf("  %-34s %10s %12s\n", "client", "wall_s", "requests/s");
    printf("  %-34s %10s %12s\n", "engine fetch, epoll (fresh conns)",
           bench_fmt_num(a, sizeof a, rps.engine_s, 3, false),
           bench_fmt_num(b, sizeof b, rps.engine_rps, 0, false));
    printf("  %-34s %10s %12s\n", "curl --parallel (reused conns)",
           bench_fmt_num(a, sizeof a, rps.curl_s, 3, false),
           bench_fmt_num(b, sizeof b, rps.curl_rps, 0, false));
    printf("  engine/curl: %s   caveat: the engine opens a fresh connection per request "
           "(CURLOPT_FRESH_CONNECT, avoiding libcurl 7.88's linear connection-pool search at 10k "
           "scale); curl's CLI reuses connections%s\n",
           bench_fmt_num(a, sizeof a, rps.ratio, 2, false),
           rps.curl_failures ? "; some curl runs failed" : "");

    printf("\n  children left: %d   load %.2f -> %.2f   total %.1f s\n", left, load0, load1, total);

    printf("json: {\"runs\": %d, \"memory\": [", RUNS);
    for (size_t i = 0; i < nmem; i++) {
        const struct memcase *m = &mem[i];
        printf("%s{\"model\": \"%s\", \"tasks\": %u, \"workers\": %u, \"inflight_max\": %s, "
               "\"memory_per_inflight_kb\": %s, \"peak_rss_kb\": %s}",
               i ? ", " : "", m->label, m->tasks, m->workers,
               bench_fmt_num(a, sizeof a, m->med_inflight, 0, true),
               bench_fmt_num(b, sizeof b, m->med_per_task_kb, 3, true),
               bench_fmt_num(c, sizeof c, m->med_peak_kb, 0, true));
    }
    printf("], \"handover\": {\"round_trips\": %u, \"includes_recording\": true", ROUND_TRIPS);
    for (size_t i = 0; i < nsw; i++)
        printf(", \"%s\": {\"wall_s\": %s, \"ns_per_handover\": %s, \"dropped\": %s}",
               cv_model_name((unsigned)sw[i].model),
               bench_fmt_num(a, sizeof a, sw[i].wall_s, 5, true),
               bench_fmt_num(b, sizeof b, sw[i].ns_per_handover, 1, true),
               bench_fmt_num(c, sizeof c, sw[i].dropped, 0, true));
    printf(
        "}, \"rps\": {\"requests\": %u, \"concurrency\": %u, \"engine_epoll\": %s, \"curl\": %s, "
        "\"ratio\": %s, \"engine_fresh_connections\": true, \"curl_reuses_connections\": true}, "
        "\"children_left\": %d, \"load\": [%s, %s], \"total_s\": %.1f}\n",
        REQUESTS, CONCURRENCY, bench_fmt_num(a, sizeof a, rps.engine_rps, 1, true),
        bench_fmt_num(b, sizeof b, rps.curl_rps, 1, true),
        bench_fmt_num(c, sizeof c, rps.ratio, 3, true), left,
        bench_fmt_num(d, sizeof d, load0, 2, true), bench_fmt_num(e, sizeof e, load1, 2, true),
        total);
    return 0;
}
