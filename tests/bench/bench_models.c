/*
 * bench_models: what the execution models cost on top of the plain mechanism they imitate, and
 * how much the instrumentation distorts a CPU-bound workload. Prints a table and the same figures
 * as one "json: " line. Not a pass/fail test: the target (distortion <= 1.03) is reported, exit
 * is always 0.
 *
 *   1. dispatch: a workload registered here whose tasks do nothing (N = 20000 tasks for serial,
 *      threads and openmp, 5000 for procs and epoll; 2 workers; openmp with schedule =
 *      dynamic, chunk = 1). Per task: the summary's wall_s / N (from cv_run_start to the
 *      model's return: the driver thread, the workers' creation or forks and their joining or
 *      reaping included), and for reference the time around cv_run_start..cv_run_finish / N
 *      (adds the caller's 2 ms polling and the final drain). Baselines written here, timed the
 *      same way (creation and joining/reaping included): a plain loop calling an empty function
 *      through a pointer (serial); 2 pthreads taking indices from an atomic counter (threads);
 *      2 forked children fed task ids through a pipe and answering through another, one task
 *      outstanding per child (procs); `omp parallel for schedule(dynamic,1) num_threads(2)`
 *      over empty iterations with a volatile sink (openmp); for epoll (one coroutine and lane
 *      per task), each task a coroutine on a 256 KiB stack of its own (mmap, guard page,
 *      makecontext, swapcontext in and back, munmap) and one epoll_wait: the model's mechanism
 *      without the engine. The openmp baseline reuses this thread's OpenMP team from run to
 *      run, while each engine run starts a new driver thread and so a new team. Engine and
 *      baseline runs alternate; medians of 15 after one untimed warm-up of each.
 *   2. distortion: the engine's primes workload (repeat = 4: 6 numbers x 4 = 24 tasks) under
 *      serial and under threads with 2 workers (the summary's wall_s), against the same 24 tests
 *      done by a plain is_prime here (same odd trial division up to the integer square root, no
 *      concviz calls), serially and with 2 pthreads taking tasks from an atomic counter. Runs
 *      interleaved with, without, with, without ..., 7 each; medians and the ratio with/without,
 *      and the CPU seconds per wall second of each (the engine's from the summary's cpu_s): a
 *      2-worker figure well under 2 means another process took CPU time, and a warning says so.
 *
 * Also printed: events dropped by the engine runs (summed over the timed runs), the load average
 * (other processes on a small machine inflate every figure), and how many child processes were
 * left at the end (should be 0).
 */
#include "bench_util.h"
#include "concviz/concviz.h"
#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"
#include "concviz/workload.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#define RUNS             7  /* distortion: with/without pairs */
#define DISPATCH_RUNS    15 /* dispatch: engine/baseline pairs (short runs, noisier) */
#define WORKERS          2
#define TASKS_IN_PROCESS 20000u
#define TASKS_PROCS      5000u
#define TASKS_EPOLL      5000u        /* one coroutine (and one lane) per task */
#define CO_STACK         (256u << 10) /* the epoll model's coroutine stack (virtual) */
#define PRIME_NUMBERS    6
#define PRIME_REPEAT     4
#define PRIME_TASKS      (PRIME_NUMBERS * PRIME_REPEAT)
#define TARGET_RATIO     1.03
#define CONTENDED_SHARE  0.85 /* of the workers' CPUs: below this, something else was running */

/* ---- helpers ---- */

/* CPU seconds used by this process so far (user + system). */
static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the empty workload ---- */

static const struct cv_param_def empty_params[] = {
    {"tasks", CV_PARAM_INT, "20000", "how many empty tasks", NULL, 1, 10000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int empty_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    return CV_OK;
}

static int empty_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)ctx;
    (void)task;
    return 0;
}

static const struct cv_workload wl_empty = {
    .name = "bench_empty",
    .summary = "tasks that do nothing (dispatch overhead)",
    .params = empty_params,
    .shape = CV_SHAPE_TASKS,
    .plan = empty_plan,
    .task = empty_task,
};

/* ---- engine runs ---- */

struct engine_run {
    double wall_s;  /* the summary's wall_s */
    double outer_s; /* cv_run_start .. cv_run_finish */
    double cpu_s;   /* the summary's cpu_s (the whole process, children included) */
    double completed, dropped, prime_results;
};

/* One run of `sc` under `model`; false (with a message) if it did not complete. */
static bool engine_run(const struct cv_scenario *sc, int model, unsigned workers,
                       struct engine_run *out)
{
    *out = (struct engine_run){NAN, NAN, NAN, NAN, NAN, NAN};
    struct cv_run_config cfg = {.scenario = sc, .model = model, .workers = workers, .gil = 0};
    struct cv_run *run = NULL;
    char *cause = NULL;
    if (cv_run_create(&cfg, &run, &cause) != CV_OK) {
        fprintf(stderr, "bench_models: %s: cv_run_create: %s\n", cv_model_name((unsigned)model),
                cause ? cause : "?");
        free(cause);
        return false;
    }
    double t0 = bench_now_s();
    bool ok = cv_run_start(run, &cause) == CV_OK;
    if (ok)
        ok = cv_run_finish(run, &cause) == CV_OK;
    double t1 = bench_now_s();
    if (!ok) {
        fprintf(stderr, "bench_models: %s: %s\n", cv_model_name((unsigned)model),
                cause ? cause : "?");
        free(cause);
        cv_run_destroy(run);
        return false;
    }
    struct cv_value *sum = cv_run_summary(run, false, NULL);
    out->outer_s = t1 - t0;
    out->wall_s = bench_summary_num(sum, "wall_s");
    out->cpu_s = bench_summary_num(sum, "cpu_s");
    out->completed = bench_summary_num(sum, "tasks.completed");
    out->dropped = bench_summary_num(sum, "events.dropped");
    out->prime_results = bench_summary_num(sum, "results.prime_results");
    uint64_t want = cv_run_task_count(run);
    cv_value_free(sum);
    cv_run_destroy(run);
    if (out->completed != (double)want) {
        fprintf(stderr, "bench_models: %s: %.0f of %llu tasks completed\n",
                cv_model_name((unsigned)model), out->completed, (unsigned long long)want);
        return false;
    }
    return true;
}

/* ---- dispatch baselines ---- */

static int empty_fn(void *ctx, uint32_t task)
{
    (void)ctx;
    (void)task;
    return 0;
}

/* Called through a volatile pointer, as the engine calls a task: never inlined or removed. */
static int (*volatile empty_call)(void *, uint32_t) = empty_fn;

static double base_loop(uint32_t n)
{
    double t0 = bench_now_s();
    for (uint32_t i = 0; i < n; i++)
        empty_call(NULL, i);
    return bench_now_s() - t0;
}

struct pt_pool {
    _Atomic uint32_t next;
    uint32_t n;
};

static void *pt_worker(void *p)
{
    struct pt_pool *pool = p;
    for (;;) {
        uint32_t id = atomic_fetch_add(&pool->next, 1);
        if (id >= pool->n)
            break;
        empty_call(NULL, id);
    }
    return NULL;
}

static double base_pthreads(uint32_t n)
{
    struct pt_pool pool = {.n = n};
    pthread_t t[WORKERS];
    unsigned started = 0;
    double t0 = bench_now_s();
    for (unsigned i = 0; i < WORKERS; i++)
        if (pthread_create(&t[i], NULL, pt_worker, &pool) == 0)
            started++;
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double dt = bench_now_s() - t0;
    return started == WORKERS ? dt : NAN;
}

/* The engine's pool messages: a task id and argument length down, id, rc and length back. */
struct fork_msg {
    uint32_t task, len;
};
struct fork_result {
    uint32_t task;
    int32_t rc;
    uint32_t len, reserved;
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void fork_child(int in, int out)
{
    struct fork_msg m;
    while (bench_read_full(in, &m, sizeof m)) {
        struct fork_result r = {m.task, empty_call(NULL, m.task), 0, 0};
        if (!bench_write_full(out, &r, sizeof r))
            break;
    }
    _exit(0);
}

/* 2 forked workers, one task outstanding each; forks and reaping are inside the time. */
static double base_fork(uint32_t n)
{
    pid_t pid[WORKERS];
    int to[WORKERS], from[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++) {
        pid[i] = -1;
        to[i] = from[i] = -1;
    }
    bool ok = true;
    uint32_t next = 0, done = 0;
    double t0 = bench_now_s();
    for (unsigned i = 0; i < WORKERS && ok; i++) {
        int down[2], up[2];
        if (pipe(down) != 0)
            ok = false;
        else if (pipe(up) != 0) {
            close(down[0]);
            close(down[1]);
            ok = false;
        }
        if (!ok)
            break;
        pid_t p = fork();
        if (p == 0) {
            for (unsigned j = 0; j < i; j++) { /* the other workers' pipe ends */
                close(to[j]);
                close(from[j]);
            }
            close(down[1]);
            close(up[0]);
            fork_child(down[0], up[1]);
        }
        close(down[0]);
        close(up[1]);
        if (p < 0) {
            close(down[1]);
            close(up[0]);
            ok = false;
            break;
        }
        pid[i] = p;
        to[i] = down[1];
        from[i] = up[0];
    }
    struct pollfd pfd[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++) {
        pfd[i].fd = -1;
        pfd[i].events = POLLIN;
        if (ok && next < n) {
            struct fork_msg m = {next++, 0};
            ok = bench_write_full(to[i], &m, sizeof m);
            pfd[i].fd = from[i];
        } else {
            close_fd(&to[i]);
        }
    }
    while (ok && done < n) {
        if (poll(pfd, WORKERS, -1) < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        for (unsigned i = 0; i < WORKERS && ok; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct fork_result r;
            if (!bench_read_full(from[i], &r, sizeof r)) {
                ok = false;
                break;
            }
            done++;
            if (next < n) {
                struct fork_msg m = {next++, 0};
                ok = bench_write_full(to[i], &m, sizeof m);
            } else {
                close_fd(&to[i]); /* the worker sees end-of-file and exits */
                pfd[i].fd = -1;
            }
        }
    }
    for (unsigned i = 0; i < WORKERS; i++) {
        close_fd(&to[i]);
        close_fd(&from[i]);
    }
    for (unsigned i = 0; i < WORKERS; i++)
        if (pid[i] > 0)
            while (waitpid(pid[i], NULL, 0) < 0 && errno == EINTR)
                ;
    double dt = bench_now_s() - t0;
    return ok && done == n ? dt : NAN;
}

static double base_openmp(uint32_t n)
{
    int64_t count = n;
    double t0 = bench_now_s();
#pragma omp parallel for schedule(dynamic, 1) num_threads(WORKERS)
    for (int64_t i = 0; i < count; i++) {
        volatile int64_t sink = i;
        (void)sink;
    }
    return bench_now_s() - t0;
}

/* The epoll model's mechanism, by hand: every task a coroutine on a stack of its own (mmap, a
 * guard page, makecontext), run to its end from the loop with swapcontext, its stack unmapped;
 * the loop asks epoll_wait (timeout 0) once for each turn, as the model does between batches. */
static ucontext_t base_loop_uc;
static volatile uint32_t base_co_sink;

static void base_co_main(void)
{
    base_co_sink++;
}

/* One coroutine, made, run to its end and unmapped. In a function of its own so that the loop's
 * variables are not live across getcontext, which returns twice. */
static int base_co_once(void)
{
    void *stack = mmap(NULL, CO_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    mprotect(stack, 4096, PROT_NONE);
    ucontext_t uc;
    getcontext(&uc);
    uc.uc_stack.ss_sp = stack;
    uc.uc_stack.ss_size = CO_STACK;
    uc.uc_link = &base_loop_uc;
    makecontext(&uc, base_co_main, 0);
    swapcontext(&base_loop_uc, &uc);
    munmap(stack, CO_STACK);
    return 0;
}

static double base_epoll(uint32_t n)
{
    int ep = epoll_create1(0);
    if (ep < 0)
        return NAN;
    double t0 = bench_now_s();
    for (uint32_t i = 0; i < n; i++) {
        if (base_co_once() < 0) {
            close(ep);
            return NAN;
        }
    }
    struct epoll_event ev[8];
    epoll_wait(ep, ev, 8, 0);
    double dt = bench_now_s() - t0;
    close(ep);
    return dt;
}

/* ---- 1. dispatch ---- */

struct dispatch {
    const char *model, *baseline;
    int model_id;
    uint32_t tasks;
    double (*base)(uint32_t n);
    double engine_us, outer_us, base_us, ratio, dropped;
};

static void measure_dispatch(struct dispatch *d)
{
    d->engine_us = d->outer_us = d->base_us = d->ratio = d->dropped = NAN;
    if (d->model_id < 0 || !cv_model_available((unsigned)d->model_id)) {
        fprintf(stderr, "bench_models: model %s is not available in this build\n", d->model);
        return;
    }
    char body[512];
    snprintf(body, sizeof body,
             "[scenario]\nname = bench_empty\ntitle = empty tasks\nlesson = dispatch cost\n"
             "workload = bench_empty\nmodels = serial threads procs openmp epoll\n\n"
             "[params]\ntasks = %u\nschedule = dynamic\nchunk = 1\n",
             d->tasks);
    struct cv_scenario *sc = bench_load_scenario("bench_models", body);
    if (!sc)
        return;
    double eng[DISPATCH_RUNS], outer[DISPATCH_RUNS], base[DISPATCH_RUNS], dropped = 0;
    struct engine_run r;
    engine_run(sc, d->model_id, WORKERS, &r); /* warm-up */
    d->base(d->tasks);
    for (int i = 0; i < DISPATCH_RUNS; i++) {
        bool ok = engine_run(sc, d->model_id, WORKERS, &r);
        eng[i] = ok ? r.wall_s : NAN;
        outer[i] = ok ? r.outer_s : NAN;
        if (ok && isfinite(r.dropped))
            dropped += r.dropped;
        base[i] = d->base(d->tasks);
    }
    cv_scenario_free(sc);
    d->engine_us = bench_median(eng, DISPATCH_RUNS) / d->tasks * 1e6;
    d->outer_us = bench_median(outer, DISPATCH_RUNS) / d->tasks * 1e6;
    d->base_us = bench_median(base, DISPATCH_RUNS) / d->tasks * 1e6;
    d->ratio = d->engine_us / d->base_us;
    d->dropped = dropped;
}

/* ---- 2. distortion ---- */

static const uint64_t prime_numbers[PRIME_NUMBERS] = {
    112272535095293ull, 112582705942171ull, 112272535095293ull,
    115280095190773ull, 115797848077099ull, 1099726899285419ull,
};

/* workloads/primes.c's is_prime without the checkpoint: odd trial division up to isqrt(n). */
static int plain_is_prime(uint64_t n)
{
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    uint64_t limit = (uint64_t)sqrtl((long double)n);
    while (limit * limit > n)
        limit--;
    while ((limit + 1) * (limit + 1) <= n)
        limit++;
    for (uint64_t d = 3; d <= limit; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

struct prime_pool {
    _Atomic uint32_t next;
    _Atomic uint32_t primes;
};

static void *prime_worker(void *p)
{
    struct prime_pool *pool = p;
    for (;;) {
        uint32_t t = atomic_fetch_add(&pool->next, 1);
        if (t >= PRIME_TASKS)
            break;
        if (plain_is_prime(prime_numbers[t % PRIME_NUMBERS]))
            atomic_fetch_add(&pool->primes, 1);
    }
    return NULL;
}

/* Wall time of the 24 tests on `threads` plain pthreads (0 = on this thread); *cpu gets the
 * process's CPU seconds over the same span. */
static double plain_primes(unsigned threads, uint32_t *primes, double *cpu)
{
    struct prime_pool pool = {0};
    double c0 = cpu_self_s();
    double t0 = bench_now_s();
    if (threads == 0) {
        prime_worker(&pool);
    } else {
        pthread_t t[WORKERS];
        unsigned started = 0;
        for (unsigned i = 0; i < threads && i < WORKERS; i++)
            if (pthread_create(&t[i], NULL, prime_worker, &pool) == 0)
                started++;
        for (unsigned i = 0; i < started; i++)
            pthread_join(t[i], NULL);
        if (started != threads)
            return NAN;
    }
    double dt = bench_now_s() - t0;
    *cpu = cpu_self_s() - c0;
    *primes = atomic_load(&pool.primes);
    return dt;
}

struct distortion {
    const char *model;
    int model_id;
    unsigned workers; /* engine workers; the plain version uses as many pthreads (1: inline) */
    double with[RUNS], without[RUNS];
    double with_cpu[RUNS], without_cpu[RUNS]; /* CPU seconds / wall seconds, per run */
    double with_s, without_s, ratio, dropped, with_share, without_share;
    bool verdicts_match;
};

static void measure_distortion(struct distortion *d, size_t nd)
{
    static const char body[] =
        "[scenario]\nname = bench_primes\ntitle = primes\nlesson = distortion\n"
        "workload = primes\nmodels = serial threads\n\n[params]\nrepeat = 4\n";
    struct cv_scenario *sc = bench_load_scenario("bench_models", body);
    for (size_t k = 0; k < nd; k++) {
        d[k].dropped = 0;
        d[k].verdicts_match = sc != NULL;
        for (int i = 0; i < RUNS; i++)
            d[k].with[i] = d[k].without[i] = d[k].with_cpu[i] = d[k].without_cpu[i] = NAN;
    }
    if (!sc)
        goto summarise;
    for (int i = 0; i < RUNS; i++) {
        for (size_t k = 0; k < nd; k++) {
            struct engine_run r;
            if (engine_run(sc, d[k].model_id, d[k].workers, &r)) {
                d[k].with[i] = r.wall_s;
                d[k].with_cpu[i] = r.cpu_s / r.wall_s;
                if (isfinite(r.dropped))
                    d[k].dropped += r.dropped;
            }
            uint32_t primes = 0;
            double cpu = NAN;
            d[k].without[i] = plain_primes(d[k].workers > 1 ? d[k].workers : 0, &primes, &cpu);
            d[k].without_cpu[i] = cpu / d[k].without[i];
            if (!isfinite(d[k].with[i]) || r.prime_results != (double)primes)
                d[k].verdicts_match = false;
        }
    }
    cv_scenario_free(sc);
summarise:
    for (size_t k = 0; k < nd; k++) {
        d[k].with_s = bench_median(d[k].with, RUNS);
        d[k].without_s = bench_median(d[k].without, RUNS);
        d[k].ratio = d[k].with_s / d[k].without_s;
        d[k].with_share = bench_median(d[k].with_cpu, RUNS);
        d[k].without_share = bench_median(d[k].without_cpu, RUNS);
    }
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
    signal(SIGPIPE, SIG_IGN); /* a dead baseline worker shows as a failed write, not a kill */
    double start = bench_now_s();
    double load0 = bench_load_avg();
    printf("bench_models: per-task dispatch overhead of each model (empty tasks, %d workers, "
           "summary wall_s / N, median of %d runs alternating with the baseline) vs a plain loop "
           "/ pthreads / fork+pipes / OpenMP; distortion of primes (repeat %d, summary wall_s) "
           "vs a plain is_prime without concviz calls (median of %d interleaved runs each); %ld "
           "CPUs, load %.2f\n",
           WORKERS, DISPATCH_RUNS, PRIME_REPEAT, RUNS, sysconf(_SC_NPROCESSORS_ONLN), load0);
    if (cv_workload_register(&wl_empty) != CV_OK)
        fprintf(stderr, "bench_models: cannot register workload %s\n", wl_empty.name);

    struct dispatch disp[] = {
        {.model = "serial", .baseline = "plain loop", .tasks = TASKS_IN_PROCESS, .base = base_loop},
        {.model = "threads",
         .baseline = "2 pthreads",
         .tasks = TASKS_IN_PROCESS,
         .base = base_pthreads},
        {.model = "procs", .baseline = "2 fork+pipes", .tasks = TASKS_PROCS, .base = base_fork},
        {.model = "openmp",
         .baseline = "omp dynamic,1",
         .tasks = TASKS_IN_PROCESS,
         .base = base_openmp},
        {.model = "epoll", .baseline = "ucontext+epoll", .tasks = TASKS_EPOLL, .base = base_epoll},
    };
    const size_t ndisp = sizeof disp / sizeof disp[0];
    for (size_t i = 0; i < ndisp; i++) {
        disp[i].model_id = cv_model_from_name(disp[i].model);
        measure_dispatch(&disp[i]);
    }

    struct distortion dist[] = {
        {.model = "serial", .model_id = CV_MODEL_SERIAL, .workers = 1},
        {.model = "threads", .model_id = CV_MODEL_THREADS, .workers = WORKERS},
    };
    const size_t ndist = sizeof dist / sizeof dist[0];
    measure_distortion(dist, ndist);

    int left = children_left();
    double load1 = bench_load_avg();
    double total = bench_now_s() - start;
    char a[32], b[32], c[32], e[32];
    bool contended = false;

    printf("\n1. dispatch overhead, empty tasks, %d workers (us per task)\n", WORKERS);
    printf("  %-8s %6s %10s %14s  %-14s %10s %9s %8s\n", "model", "tasks", "engine",
           "start..finish", "baseline", "base", "ratio", "dropped");
    for (size_t i = 0; i < ndisp; i++) {
        const struct dispatch *d = &disp[i];
        char r[32];
        printf("  %-8s %6u %10s %14s  %-14s %10s %9s %8s\n", d->model, d->tasks,
               bench_fmt_num(a, sizeof a, d->engine_us, 3, false),
               bench_fmt_num(b, sizeof b, d->outer_us, 3, false), d->baseline,
               bench_fmt_num(c, sizeof c, d->base_us, 3, false),
               bench_fmt_num(r, sizeof r, d->ratio, 1, false),
               bench_fmt_num(e, sizeof e, d->dropped, 0, false));
    }
    printf("\n2. distortion, primes x%d (%d tasks), wall seconds\n", PRIME_REPEAT, PRIME_TASKS);
    printf("  %-8s %7s %10s %10s %9s  %-10s %8s %8s %14s\n", "model", "workers", "with", "without",
           "ratio", "target", "verdicts", "dropped", "cpu/wall w, wo");
    for (size_t i = 0; i < ndist; i++) {
        const struct distortion *d = &dist[i];
        const char *verdict = !isfinite(d->ratio)        ? "n/a"
                              : d->ratio <= TARGET_RATIO ? "ok"
                                                         : "OVER";
        char sw[32], swo[32];
        printf("  %-8s %7u %10s %10s %9s  <=%.2f %-4s %8s %8s %8s, %-4s\n", d->model, d->workers,
               bench_fmt_num(a, sizeof a, d->with_s, 4, false),
               bench_fmt_num(b, sizeof b, d->without_s, 4, false),
               bench_fmt_num(c, sizeof c, d->ratio, 3, false), TARGET_RATIO, verdict,
               d->verdicts_match ? "match" : "DIFFER",
               bench_fmt_num(e, sizeof e, d->dropped, 0, false),
               bench_fmt_num(sw, sizeof sw, d->with_share, 2, false),
               bench_fmt_num(swo, sizeof swo, d->without_share, 2, false));
        /* A 2-worker run that got much less than 2 CPUs was sharing them with something else. */
        if (d->workers > 1 && (!(d->with_share >= CONTENDED_SHARE * d->workers) ||
                               !(d->without_share >= CONTENDED_SHARE * d->workers)))
            contended = true;
    }
    if (contended)
        printf("  warning: the %d-worker runs got less than %.0f%% of %d CPUs (cpu/wall); another "
               "process was using them, so those figures are inflated\n",
               WORKERS, CONTENDED_SHARE * 100, WORKERS);
    printf("\n  children left: %d   load %.2f -> %.2f   total %.1f s\n", left, load0, load1, total);

    printf("json: {\"runs\": {\"dispatch\": %d, \"distortion\": %d}, \"workers\": %d, "
           "\"dispatch_us_per_task\": {",
           DISPATCH_RUNS, RUNS, WORKERS);
    for (size_t i = 0; i < ndisp; i++) {
        const struct dispatch *d = &disp[i];
        char r[32];
        printf("%s\"%s\": {\"tasks\": %u, \"engine\": %s, \"start_to_finish\": %s, "
               "\"baseline\": \"%s\", \"base\": %s, \"ratio\": %s, \"dropped\": %s}",
               i ? ", " : "", d->model, d->tasks, bench_fmt_num(a, sizeof a, d->engine_us, 4, true),
               bench_fmt_num(b, sizeof b, d->outer_us, 4, true), d->baseline,
               bench_fmt_num(c, sizeof c, d->base_us, 4, true),
               bench_fmt_num(r, sizeof r, d->ratio, 2, true),
               bench_fmt_num(e, sizeof e, d->dropped, 0, true));
    }
    printf("}, \"distortion\": {\"repeat\": %d, \"target\": %.2f", PRIME_REPEAT, TARGET_RATIO);
    for (size_t i = 0; i < ndist; i++) {
        const struct distortion *d = &dist[i];
        char sw[32], swo[32];
        printf(", \"%s\": {\"workers\": %u, \"with_s\": %s, \"without_s\": %s, \"ratio\": %s, "
               "\"ok\": %s, \"verdicts_match\": %s, \"dropped\": %s, \"cpu_per_wall\": [%s, %s]}",
               d->model, d->workers, bench_fmt_num(a, sizeof a, d->with_s, 5, true),
               bench_fmt_num(b, sizeof b, d->without_s, 5, true),
               bench_fmt_num(c, sizeof c, d->ratio, 4, true),
               isfinite(d->ratio) && d->ratio <= TARGET_RATIO ? "true" : "false",
               d->verdicts_match ? "true" : "false",
               bench_fmt_num(e, sizeof e, d->dropped, 0, true),
               bench_fmt_num(sw, sizeof sw, d->with_share, 3, true),
               bench_fmt_num(swo, sizeof swo, d->without_share, 3, true));
    }
    printf("}, \"contended\": %s, \"children_left\": %d, \"load\": [%s, %s], \"total_s\": %.1f}\n",
           contended ? "true" : "false", left, bench_fmt_num(a, sizeof a, load0, 2, true),
           bench_fmt_num(b, sizeof b, load1, 2, true), total);
    return 0;
}
