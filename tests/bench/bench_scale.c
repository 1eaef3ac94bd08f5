/*
 * bench_scale: how far the models scale and what each worker or task costs in memory. Prints a
 * table and the same figures as one "json: " line. A benchmark, not a test: exit 0 unless a
 * run could not be made at all (fork or pipe failed); a run that did not complete is reported.
 *
 * Configurations (each from a scenario written to a temporary INI file, run with
 * cv_run_create / cv_run_start / cv_run_poll / cv_run_finish):
 *   threads  a workload registered here whose tasks only cv_sleep; 2 x W tasks of 100 ms for W =
 *            10, 100, 1,000 workers: every worker takes a task, sleeps, takes a second one
 *   procs    the same workload, 2 x W tasks of 200 ms for W = 8, 32, 64 forked workers
 *   epoll    fetch: the built-in fetch workload as in scenarios/c10k.ini, N concurrent GETs of
 *            /delay/500 against the embedded loopback server (started by the run in a process of
 *            its own), N = 100, 1,000, 10,000, all in flight at once on one loop thread
 *   epoll    sleep: N tasks that only cv_sleep 500 ms (no sockets, no libcurl handles), N = 100,
 *            1,000, 10,000
 * and for each family a baseline: the same with 1 worker and 1 task (1 request).
 *
 * Every run happens in a forked child of its own (the parent only loads scenarios), so that its
 * peak is its own: before exiting the child reads VmHWM from /proc/self/status and sends its
 * figures back through a pipe. While the run goes, the child also sums, every 20 ms, the private
 * memory (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup) of its own child processes:
 * the worker processes under procs, the HTTP server under fetch; pages the workers share with
 * the parent are in the parent's VmHWM already. Per worker or task:
 *   KB/unit        (VmHWM - the baseline's VmHWM) / (N - 1): what one more worker or task adds
 *   child KB/unit  the same with the children's private memory
 * Also: state, tasks completed of submitted, lanes that ran at least one task, most tasks in
 * flight, the summary's wall_s, the child's whole time (create to destroy), events recorded and
 * dropped. Target (from the issue): 10,000 epoll tasks in flight under 200 MB of peak RSS,
 * reported for the fetch runs (the c10k shape) and for the sleeping ones.
 *
 * Usage: bench_scale [runs]   (default 3; each figure is the median over the runs)
 */
#include "bench_util.h"
#include "concviz/concviz.h"
#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"
#include "concviz/workload.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS       9
#define TARGET_TASKS   10000u
#define TARGET_MB      200.0
#define C10K_ENGINE_MB 150.0 /* the performance issue's c10k goals: the engine's process */
#define C10K_SERVER_MB 100.0 /* and the embedded server's */
#define SAMPLE_S       0.02  /* children's memory sampled this often */
#define CHILD_LIMIT_S  100   /* a run still going after this is killed (SIGALRM) */

/* ---- helpers ---- */

/* A "Key:   123 kB" figure of a /proc file, in kB; NAN if absent. */
static double proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    char line[256];
    size_t klen = strlen(key);
    double v = NAN;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            v = strtod(line + klen + 1, NULL);
            break;
        }
    fclose(f);
    return v;
}

/* Private memory (kB) of this process's children, summed: every thread's children are listed in
 * /proc/self/task/TID/children. */
static double children_private_kb(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return NAN;
    double sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/children", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
            char sm[64];
            snprintf(sm, sizeof sm, "/proc/%ld/smaps_rollup", pid);
            double c = proc_kb(sm, "Private_Clean"), p = proc_kb(sm, "Private_Dirty");
            if (isfinite(c) && isfinite(p))
                sum += c + p;
        }
        fclose(f);
    }
    closedir(d);
    return sum;
}

/* ---- the sleeping workload ---- */

/* ---- one configuration ---- */

enum family { F_THREADS, F_PROCS, F_FETCH, F_SLEEP, F__COUNT };

static const struct {
    const char *name, *model, *unit;
    int model_id;
    unsigned sleep_ms;    /* per task; fetch: the server's delay */
    unsigned tasks_per_n; /* tasks = N x this */
} fam[F__COUNT] = {
    [F_THREADS] = {"threads sleep", "threads", "worker", CV_MODEL_THREADS, 100, 2},
    [F_PROCS] = {"procs sleep", "procs", "worker", CV_MODEL_PROCS, 200, 2},
    [F_FETCH] = {"epoll fetch", "epoll", "task", CV_MODEL_EPOLL, 500, 1},
    [F_SLEEP] = {"epoll sleep", "epoll", "task", CV_MODEL_EPOLL, 500, 1},
};

/* What a child sends back. */
struct figures {
    int ok; /* the run was made (created, started, finished) */
    char state[16];
    char error[160];
    double completed, submitted, active_lanes, inflight_max, wall_s, child_s, hwm_kb, kids_kb,
        events, dropped, engine_per_inflight_kb, os_threads, os_processes;
};

struct config {
    enum family f;
    unsigned n; /* workers (threads, procs) or tasks in flight (epoll); 1 = the baseline */
    struct figures run[MAX_RUNS];
    /* medians over the runs */
    double wall_s, child_s, hwm_kb, kids_kb, events, dropped, completed, submitted, active,
        inflight, per_unit_kb, kids_per_unit_kb, engine_per_inflight_kb, os_threads, os_processes;
    const char *state; /* of the last run; "mixed" when runs differ */
    bool complete;     /* every run done with every task completed */
};

static struct cv_scenario *scenario_for(enum family f, unsigned n)
{
    char body[1024];
    unsigned tasks = n * fam[f].tasks_per_n;
    if (f == F_FETCH)
        snprintf(body, sizeof body,
                 "[scenario]\nname = bench_scale_fetch\ntitle = c10k-like\nlesson = scale\n"
                 "workload = fetch\nmodel = epoll\nmodels = epoll\nworkers = 1\n\n[params]\n"
                 "url = http://local/delay/{ms}\ndelays_ms = %u\nrequests = %u\n",
                 fam[f].sleep_ms, tasks);
    else
        snprintf(body, sizeof body,
                 "[scenario]\nname = bench_sleep\ntitle = sleeping tasks\nlesson = scale\n"
                 "workload = bench_sleep\nmodel = %s\nmodels = threads procs epoll\n"
                 "workers = %u\n\n[params]\ntasks = %u\nsleep_ms = %u\n",
                 fam[f].model, fam[f].model_id == CV_MODEL_EPOLL ? 1 : n, tasks, fam[f].sleep_ms);
    return bench_load_scenario("bench_scale", body);
}

/* Lanes of workers or tasks that ran at least one task. */
static double active_lanes(const struct cv_value *sum)
{
    const struct cv_value *lanes = cv_value_get(sum, "lanes");
    if (!lanes || lanes->type != CV_VAL_ARR)
        return NAN;
    double n = 0;
    for (size_t i = 0; i < lanes->n; i++) {
        const struct cv_value *t = cv_value_get(lanes->items[i], "tasks");
        const struct cv_value *r = cv_value_get(lanes->items[i], "role");
        bool main = r && r->type == CV_VAL_STR && !strcmp(r->str, "main");
        if (!main && t && t->type == CV_VAL_NUM && t->num > 0)
            n++;
    }
    return n;
}

/* In the child: the run, its figures into *out. */
static void child_run(const struct cv_scenario *sc, enum family f, unsigned n, struct figures *out)
{
    double t0 = bench_now_s();
    struct cv_run_config cfg = {.scenario = sc,
                                .model = fam[f].model_id,
                                .workers = fam[f].model_id == CV_MODEL_EPOLL ? 1 : n,
                                .gil = 0};
    struct cv_run *run = NULL;
    char *cause = NULL;
    if (cv_run_create(&cfg, &run, &cause) != CV_OK) {
        snprintf(out->error, sizeof out->error, "cv_run_create: %s", cause ? cause : "?");
        free(cause);
        return;
    }
    bool ok = cv_run_start(run, &cause) == CV_OK;
    if (ok) {
        double next = 0;
        out->kids_kb = 0;
        while (!cv_run_poll(run)) {
            double now = bench_now_s();
            if (now >= next) {
                double k = children_private_kb();
                if (isfinite(k) && k > out->kids_kb)
                    out->kids_kb = k;
                next = now + SAMPLE_S;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        ok = cv_run_finish(run, &cause) == CV_OK;
    }
    if (!ok) {
        snprintf(out->error, sizeof out->error, "%s", cause ? cause : "?");
        free(cause);
        cv_run_destroy(run);
        return;
    }
    struct cv_value *sum = cv_run_summary(run, false, NULL);
    const struct cv_value *st = cv_value_get(sum, "state");
    snprintf(out->state, sizeof out->state, "%s", st && st->type == CV_VAL_STR ? st->str : "?");
    out->completed = bench_summary_num(sum, "tasks.completed");
    out->submitted = (double)cv_run_task_count(run);
    out->active_lanes = active_lanes(sum);
    out->inflight_max = bench_summary_num(sum, "inflight_max");
    out->wall_s = bench_summary_num(sum, "wall_s");
    out->events = bench_summary_num(sum, "events.recorded");
    out->dropped = bench_summary_num(sum, "events.dropped");
    out->engine_per_inflight_kb = bench_summary_num(sum, "runtime.memory_per_inflight_kb");
    out->os_threads = bench_summary_num(sum, "runtime.os_threads");
    out->os_processes = bench_summary_num(sum, "runtime.os_processes");
    cv_value_free(sum);
    out->hwm_kb = proc_kb("/proc/self/status", "VmHWM");
    cv_run_destroy(run);
    out->child_s = bench_now_s() - t0;
    out->ok = 1;
}

/* One run in a forked child; false only when no child could be made. */
static bool forked_run(const struct cv_scenario *sc, enum family f, unsigned n, struct figures *fig)
{
    memset(fig, 0, sizeof *fig);
    fig->completed = fig->submitted = fig->active_lanes = fig->inflight_max = fig->wall_s =
        fig->child_s = fig->hwm_kb = fig->kids_kb = fig->events = fig->dropped =
            fig->engine_per_inflight_kb = fig->os_threads = fig->os_processes = NAN;
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "bench_scale: pipe: %s\n", strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_scale: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(CHILD_LIMIT_S);
        struct figures out = *fig;
        child_run(sc, f, n, &out);
        bench_write_full(fds[1], &out, sizeof out);
        _exit(0);
    }
    close(fds[1]);
    bool got = bench_read_full(fds[0], fig, sizeof *fig);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!got) {
        fig->ok = 0;
        if (WIFSIGNALED(status))
            snprintf(fig->error, sizeof fig->error, "the child died of signal %d%s",
                     WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
        else
            snprintf(fig->error, sizeof fig->error, "the child sent nothing (status %d)", status);
    }
    return true;
}

/* Runs `c` `runs` times; medians into c. */
static bool measure(struct config *c, int runs)
{
    struct cv_scenario *sc = scenario_for(c->f, c->n);
    if (!sc)
        return false;
    bool made = true;
    for (int i = 0; i < runs && made; i++) {
        made = forked_run(sc, c->f, c->n, &c->run[i]);
        if (made && !c->run[i].ok)
            fprintf(stderr, "bench_scale: %s %u: %s\n", fam[c->f].name, c->n, c->run[i].error);
    }
    cv_scenario_free(sc);
    double v[13][MAX_RUNS];
    c->complete = made;
    c->state = "failed";
    for (int i = 0; i < runs; i++) {
        const struct figures *r = &c->run[i];
        double *dst[] = {&v[0][i], &v[1][i], &v[2][i], &v[3][i],  &v[4][i],  &v[5][i], &v[6][i],
                         &v[7][i], &v[8][i], &v[9][i], &v[10][i], &v[11][i], &v[12][i]};
        double src[] = {r->wall_s,
                        r->child_s,
                        r->hwm_kb,
                        r->kids_kb,
                        r->events,
                        r->dropped,
                        r->completed,
                        r->submitted,
                        r->active_lanes,
                        r->inflight_max,
                        r->engine_per_inflight_kb,
                        r->os_threads,
                        r->os_processes};
        for (size_t k = 0; k < 13; k++)
            *dst[k] = r->ok ? src[k] : NAN;
        if (!r->ok || strcmp(r->state, "done") || r->completed != r->submitted)
            c->complete = false;
        if (r->ok)
            c->state = i && strcmp(c->state, r->state) ? "mixed" : r->state;
    }
    size_t n = (size_t)runs;
    c->wall_s = bench_median(v[0], n);
    c->child_s = bench_median(v[1], n);
    c->hwm_kb = bench_median(v[2], n);
    c->kids_kb = bench_median(v[3], n);
    c->events = bench_median(v[4], n);
    c->dropped = bench_median(v[5], n);
    c->completed = bench_median(v[6], n);
    c->submitted = bench_median(v[7], n);
    c->active = bench_median(v[8], n);
    c->inflight = bench_median(v[9], n);
    c->engine_per_inflight_kb = bench_median(v[10], n);
    c->os_threads = bench_median(v[11], n);
    c->os_processes = bench_median(v[12], n);
    return made;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    if (runs < 1)
        runs = 1;
    if (runs > MAX_RUNS)
        runs = MAX_RUNS;
    setvbuf(stdout, NULL, _IOLBF, 0);
    double start = bench_now_s(), load0 = bench_load_avg();
    if (cv_workload_register(&bench_wl_sleep) != CV_OK) {
        fprintf(stderr, "bench_scale: cannot register workload %s\n", bench_wl_sleep.name);
        return 1;
    }
    struct config cfg[] = {
        {.f = F_THREADS, .n = 1},    {.f = F_THREADS, .n = 10}, {.f = F_THREADS, .n = 100},
        {.f = F_THREADS, .n = 1000}, {.f = F_PROCS, .n = 1},    {.f = F_PROCS, .n = 8},
        {.f = F_PROCS, .n = 32},     {.f = F_PROCS, .n = 64},   {.f = F_FETCH, .n = 1},
        {.f = F_FETCH, .n = 100},    {.f = F_FETCH, .n = 1000}, {.f = F_FETCH, .n = 10000},
        {.f = F_SLEEP, .n = 1},      {.f = F_SLEEP, .n = 100},  {.f = F_SLEEP, .n = 1000},
        {.f = F_SLEEP, .n = 10000},
    };
    const size_t ncfg = sizeof cfg / sizeof cfg[0];

    /* the bare process: a child that runs nothing */
    double bare_kb = NAN;
    pid_t pid;
    int fds[2];
    if (pipe(fds) == 0 && (pid = fork()) >= 0) {
        if (pid == 0) {
            close(fds[0]);
            double kb = proc_kb("/proc/self/status", "VmHWM");
            bench_write_full(fds[1], &kb, sizeof kb);
            _exit(0);
        }
        close(fds[1]);
        if (!bench_read_full(fds[0], &bare_kb, sizeof bare_kb))
            bare_kb = NAN;
        close(fds[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }

    printf("bench_scale: each configuration in a forked child of its own (%d run%s, medians); "
           "peak = the child's VmHWM; per unit = (peak - the 1-unit baseline's peak) / (N - 1); "
           "child = private memory of the run's child processes (procs: workers; fetch: the HTTP "
           "server), sampled every %.0f ms; %ld CPUs, load %.2f; a bare process: %.1f MB\n\n",
           runs, runs == 1 ? "" : "s", SAMPLE_S * 1e3, sysconf(_SC_NPROCESSORS_ONLN), load0,
           bare_kb / 1024);
    printf("%-14s %6s %6s %13s %7s %8s %7s %7s %8s %9s %8s %10s %10s %8s\n", "config", "N", "state",
           "done/total", "lanes", "inflight", "wall s", "run s", "peak MB", "KB/unit", "child MB",
           "child KB/u", "events", "dropped");

    bool made_all = true;
    for (size_t i = 0; i < ncfg; i++) {
        struct config *c = &cfg[i];
        if (!measure(c, runs))
            made_all = false;
        c->per_unit_kb = c->kids_per_unit_kb = NAN;
        if (c->n > 1) {
            const struct config *base = NULL;
            for (size_t j = 0; j < ncfg; j++)
                if (cfg[j].f == c->f && cfg[j].n == 1)
                    base = &cfg[j];
            if (base) {
                c->per_unit_kb = (c->hwm_kb - base->hwm_kb) / (double)(c->n - 1);
                c->kids_per_unit_kb = (c->kids_kb - base->kids_kb) / (double)(c->n - 1);
            }
        }
        char done[80], a[32], b[32], d[32], e[32], g[32], h[32], k[32], m[32], p[32], q[32];
        snprintf(done, sizeof done, "%s/%s", bench_fmt_num(a, sizeof a, c->completed, 0, false),
                 bench_fmt_num(b, sizeof b, c->submitted, 0, false));
        printf("%-14s %6u %6s %13s %7s %8s %7s %7s %8s %9s %8s %10s %10s %8s%s\n", fam[c->f].name,
               c->n, c->state, done, bench_fmt_num(a, sizeof a, c->active, 0, false),
               bench_fmt_num(b, sizeof b, c->inflight, 0, false),
               bench_fmt_num(d, sizeof d, c->wall_s, 2, false),
               bench_fmt_num(e, sizeof e, c->child_s, 2, false),
               bench_fmt_num(g, sizeof g, c->hwm_kb / 1024, 1, false),
               bench_fmt_num(h, sizeof h, c->per_unit_kb, 1, false),
               bench_fmt_num(k, sizeof k, c->kids_kb / 1024, 1, false),
               bench_fmt_num(m, sizeof m, c->kids_per_unit_kb, 1, false),
               bench_fmt_num(p, sizeof p, c->events, 0, false),
               bench_fmt_num(q, sizeof q, c->dropped, 0, false), c->complete ? "" : "  INCOMPLETE");
    }

    /* the target: 10,000 epoll tasks under 200 MB */
    const struct config *t_fetch = NULL, *t_sleep = NULL;
    for (size_t i = 0; i < ncfg; i++)
        if (cfg[i].n == TARGET_TASKS)
            *(cfg[i].f == F_FETCH ? &t_fetch : &t_sleep) = &cfg[i];
    double total = bench_now_s() - start;
    printf("\n");
    const struct config *targets[2] = {t_fetch, t_sleep};
    bool met[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        const struct config *c = targets[i];
        if (!c)
            continue;
        double mb = c->hwm_kb / 1024;
        met[i] = c->complete && isfinite(mb) && mb < TARGET_MB;
        char a[32];
        printf("target: %u epoll tasks in flight under %.0f MB (%s): %s, %s MB peak (%+.0f%%), "
               "%s in flight, %s\n",
               TARGET_TASKS, TARGET_MB, fam[c->f].name, met[i] ? "met" : "missed",
               bench_fmt_num(a, sizeof a, mb, 1, false), (mb / TARGET_MB - 1) * 100,
               c->complete ? "all completed" : "NOT all completed",
               isfinite(c->inflight) ? (c->inflight >= TARGET_TASKS ? "all" : "not all") : "n/a");
    }
    bool c10k_engine = false, c10k_server = false;
    if (t_fetch) {
        double mb = t_fetch->hwm_kb / 1024, smb = t_fetch->kids_kb / 1024;
        c10k_engine = t_fetch->complete && isfinite(mb) && mb <= C10K_ENGINE_MB;
        c10k_server = t_fetch->complete && isfinite(smb) && smb <= C10K_SERVER_MB;
        printf(
            "target: c10k (%u fetches) in at most %.0f MB in the engine's process: %s, %.1f MB\n",
            TARGET_TASKS, C10K_ENGINE_MB, c10k_engine ? "met" : "missed", mb);
        printf(
            "target: c10k (%u fetches) in at most %.0f MB in the server's process: %s, %.1f MB\n",
            TARGET_TASKS, C10K_SERVER_MB, c10k_server ? "met" : "missed", smb);
    }
    printf("load %.2f -> %.2f   total %.1f s\n", load0, bench_load_avg(), total);

    printf("json: {\"bench\": \"scale\", \"runs\": %d, \"bare_process_kb\": %.0f, \"configs\": [",
           runs, bare_kb);
    for (size_t i = 0; i < ncfg; i++) {
        const struct config *c = &cfg[i];
        char a[32], b[32], d[32], e[32], g[32], h[32], k[32], m[32], p[32], q[32], r[32], s[32],
            t[32], u[32], w[32];
        printf("%s{\"config\": \"%s\", \"model\": \"%s\", \"n\": %u, \"unit\": \"%s\", "
               "\"state\": \"%s\", \"complete\": %s, \"completed\": %s, \"submitted\": %s, "
               "\"active_lanes\": %s, \"inflight_max\": %s, \"wall_s\": %s, \"run_s\": %s, "
               "\"peak_rss_kb\": %s, \"per_unit_kb\": %s, \"children_private_kb\": %s, "
               "\"children_per_unit_kb\": %s, \"events\": %s, \"dropped\": %s, "
               "\"engine_memory_per_inflight_kb\": %s, \"os_threads\": %s, \"os_processes\": %s}",
               i ? ", " : "", fam[c->f].name, fam[c->f].model, c->n, fam[c->f].unit, c->state,
               c->complete ? "true" : "false", bench_fmt_num(a, sizeof a, c->completed, 0, true),
               bench_fmt_num(b, sizeof b, c->submitted, 0, true),
               bench_fmt_num(d, sizeof d, c->active, 0, true),
               bench_fmt_num(e, sizeof e, c->inflight, 0, true),
               bench_fmt_num(g, sizeof g, c->wall_s, 3, true),
               bench_fmt_num(h, sizeof h, c->child_s, 3, true),
               bench_fmt_num(k, sizeof k, c->hwm_kb, 0, true),
               bench_fmt_num(m, sizeof m, c->per_unit_kb, 2, true),
               bench_fmt_num(p, sizeof p, c->kids_kb, 0, true),
               bench_fmt_num(q, sizeof q, c->kids_per_unit_kb, 2, true),
               bench_fmt_num(r, sizeof r, c->events, 0, true),
               bench_fmt_num(s, sizeof s, c->dropped, 0, true),
               bench_fmt_num(t, sizeof t, c->engine_per_inflight_kb, 1, true),
               bench_fmt_num(u, sizeof u, c->os_threads, 0, true),
               bench_fmt_num(w, sizeof w, c->os_processes, 0, true));
    }
    printf("], \"target\": {\"tasks\": %u, \"mb\": %.0f", TARGET_TASKS, TARGET_MB);
    for (int i = 0; i < 2; i++) {
        const struct config *c = targets[i];
        char a[32];
        if (c)
            printf(", \"%s\": {\"peak_mb\": %s, \"ok\": %s}", c->f == F_FETCH ? "fetch" : "sleep",
                   bench_fmt_num(a, sizeof a, c->hwm_kb / 1024, 1, true),
                   met[i] ? "true" : "false");
    }
    if (t_fetch) {
        char a[32], b[32];
        printf(", \"c10k\": {\"engine_mb\": %s, \"engine_target_mb\": %.0f, \"engine_ok\": %s, "
               "\"server_mb\": %s, \"server_target_mb\": %.0f, \"server_ok\": %s}",
               bench_fmt_num(a, sizeof a, t_fetch->hwm_kb / 1024, 1, true), C10K_ENGINE_MB,
               c10k_engine ? "true" : "false",
               bench_fmt_num(b, sizeof b, t_fetch->kids_kb / 1024, 1, true), C10K_SERVER_MB,
               c10k_server ? "true" : "false");
    }
    printf("}, \"load\": [%.2f, %.2f], \"total_s\": %.1f}\n", load0, bench_load_avg(), total);
    return made_all ? 0 : 1;
}
