/*
 * openmp: a parallel-for over the tasks, `schedule(runtime)` set from the scenario's schedule and
 * chunk parameters (static, dynamic or guided). Lanes are the team's threads; a lane that ran out
 * of iterations sits idle at the loop's closing barrier, which is how static imbalance shows.
 *
 * The team is exactly `workers` threads or the run does not happen. OpenMP's environment could
 * otherwise shrink it (OMP_DYNAMIC, OMP_MAX_ACTIVE_LEVELS, OMP_THREAD_LIMIT), leaving lanes that
 * never ran and a barrier workload waiting for parties that never come: the first two are
 * overridden for the run, a thread limit below the team is refused before the run, and a team of
 * another size runs no task. A runtime that cannot create a thread exits the process (libgomp:
 * "Thread creation failed"), so the team's threads are first created here, where a failure can
 * be reported. (What another process takes between that trial and the team can still make the
 * runtime fail in its own way; the trial leaves some slack for it.)
 */
#include "internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint32_t omp_lanes(const struct cv_run *run)
{
    return 1 + run->workers;
}

static omp_sched_t schedule_kind(const char *name)
{
    if (!strcmp(name, "dynamic"))
        return omp_sched_dynamic;
    if (!strcmp(name, "guided"))
        return omp_sched_guided;
    return omp_sched_static;
}

/* A thread limit the environment sets (a whole number above 0, as the runtimes read it), or 0. */
static unsigned long env_limit(const char *name)
{
    const char *v = getenv(name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    return end == v || *end || errno || v[strspn(v, " \t")] == '-' ? 0 : n;
}

/* Refuses, before anything is set up, a team the runtime's thread limit would cut down. The
 * limit is read from the environment, as the runtime reads it: asking the runtime from this
 * (the main) thread would make LLVM's libomp adopt it as a thread of its own, which counts
 * against that limit and took one thread from every team. */
static int omp_check(const struct cv_run *run, char **cause)
{
    /* LLVM's runtime (the TSan build's) has its own names for a process-wide limit too. */
    bool llvm = dlsym(RTLD_DEFAULT, "__kmpc_fork_call") != NULL;
    static const char *const vars[] = {"OMP_THREAD_LIMIT", "KMP_DEVICE_THREAD_LIMIT",
                                       "KMP_ALL_THREADS"};
    for (size_t i = 0; i < (llvm ? 3 : 1); i++) {
        unsigned long limit = env_limit(vars[i]);
        if (!limit || limit >= run->workers)
            continue;
        if (cause)
            *cause = cv_strdup_printf("%s=%s allows OpenMP teams of %lu thread%s, fewer than the "
                                      "%u workers asked for: use --workers %lu or unset %s",
                                      vars[i], getenv(vars[i]), limit, limit == 1 ? "" : "s",
                                      run->workers, limit, vars[i]);
        return CV_ERR_USAGE;
    }
    return CV_OK;
}

/* Bytes in an OpenMP stack size setting ("512K", "4M", a bare number is KiB; B, K, M and G are
 * the units the specification has), 0 if invalid. */
static size_t stack_setting(const char *v)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || errno)
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    unsigned shift = 10;
    switch (tolower((unsigned char)*end)) {
    case 0:
    case 'k':
        break;
    case 'b':
        shift = 0;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    default:
        return 0;
    }
    if (*end)
        end++;
    while (isspace((unsigned char)*end))
        end++;
    return *end || n > (SIZE_MAX >> shift) ? 0 : (size_t)(n << shift);
}

/* The stack the runtime will give its threads, as far as the environment says (the largest of
 * the settings either runtime reads, named in *var); 0 = the thread library's default. */
static size_t omp_stack_bytes(const char **var)
{
    static const char *const vars[] = {"OMP_STACKSIZE", "GOMP_STACKSIZE", "KMP_STACKSIZE"};
    size_t most = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        size_t b = v ? stack_setting(v) : 0;
        if (b > most) {
            most = b;
            *var = vars[i];
        }
    }
    return most;
}

/* Threads in this process now (the kernel still counts one that was joined a moment ago). */
static long process_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

struct trial {
    pthread_mutex_t mu;
    pthread_cond_t go;
    bool release;
};

static void *trial_main(void *p)
{
    struct trial *t = p;
    /* As the runtime's threads will: a thread's first allocation gives it a malloc arena of its
     * own (address space), which later threads take over once this one has ended. */
    free(malloc(64));
    pthread_mutex_lock(&t->mu);
    while (!t->release)
        pthread_cond_wait(&t->go, &t->mu);
    pthread_mutex_unlock(&t->mu);
    /* libgomp ends its pool's threads with pthread_exit: the first one sets the C library's
     * unwinder up (loaded by omp_run) while memory is known to be there. */
    pthread_exit(NULL);
}

#define STACK_MARGIN           (64u << 10)
#define TRIAL_SLACK_FIXED      (8u << 20)
#define TRIAL_SLACK_PER_THREAD (2u << 20)

/* Creates `n` threads with a stack of `stack` bytes (0: the default), all alive at once, then
 * ends them: what the runtime is about to do, where a failure (a process limit, address space)
 * can still be reported. Returns 0, or the error of thread `*failed_at` (1-based). */
static int try_threads(uint32_t n, size_t stack, uint32_t *failed_at)
{
    long before = process_threads();
    struct trial t = {.release = false};
    pthread_mutex_init(&t.mu, NULL);
    pthread_cond_init(&t.go, NULL);
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) != 0)
        pthread_attr_init(&attr);
    if (!stack)
        pthread_attr_getstacksize(&attr, &stack);
    /* A little more than the runtime will ask for (libomp asks a few hundred bytes more than its
     * setting). The stacks are the trial's own and unmapped after it: the C library would keep
     * its own ones for later threads, holding address space the runtime may need otherwise. */
    stack += STACK_MARGIN;
    pthread_t *tids = cv_xcalloc(n, sizeof *tids);
    void **stacks = cv_xcalloc(n, sizeof *stacks);
    uint32_t made = 0;
    int err = 0;
    for (; made < n; made++) {
        stacks[made] = mmap(NULL, stack, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stacks[made] == MAP_FAILED) {
            err = errno;
            break;
        }
        pthread_attr_setstack(&attr, stacks[made], stack);
        if ((err = pthread_create(&tids[made], &attr, trial_main, &t)) != 0) {
            munmap(stacks[made], stack);
            break;
        }
    }
    /* And room for what the runtime allocates for its threads besides their stacks (under an
     * address-space limit, libomp's few MB for 8 threads failed it where the stacks fit). */
    size_t slack = TRIAL_SLACK_FIXED + (size_t)n * TRIAL_SLACK_PER_THREAD;
    void *room =
        err ? MAP_FAILED
            : mmap(NULL, slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!err && room == MAP_FAILED)
        err = errno;
    if (room != MAP_FAILED)
        munmap(room, slack);
    pthread_mutex_lock(&t.mu);
    t.release = true;
    pthread_cond_broadcast(&t.go);
    pthread_mutex_unlock(&t.mu);
    for (uint32_t i = 0; i < made; i++) {
        pthread_join(tids[i], NULL);
        munmap(stacks[i], stack); /* joined: the thread no longer runs on it */
    }
    free(stacks);
    free(tids);
    pthread_attr_destroy(&attr);
    pthread_cond_destroy(&t.go);
    pthread_mutex_destroy(&t.mu);
    /* A joined thread still counts against the process limit until the kernel reaps it, a moment
     * later: wait for that (at most 200 ms) so the runtime does not meet the trial's threads. */
    for (int i = 0; i < 200 && before > 0 && process_threads() > before; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    *failed_at = made + 1;
    return err;
}

static int omp_run(struct cv_run *run)
{
    struct cv_ctx *main_ctx = &run->ctxs[0];
    cv__submit_all(run);
    run->os_threads = 1;
    /* The team asked for, not one the runtime may choose or a nesting limit of 0 forbids. */
    omp_set_dynamic(0);
    if (omp_get_max_active_levels() < 1)
        omp_set_max_active_levels(1);
    /* The runtime sets itself up before the trial, so the trial meets the memory left after. */
    (void)omp_get_max_threads();
    /* pthread_exit loads the C library's unwinder (libgcc_s) the first time, and aborts when it
     * cannot; libgomp ends its pool's threads with it when this thread ends. Loaded here, and
     * kept, a failure is one line instead. */
    static void *unwinder;
    if (run->workers > 1 && !unwinder && !(unwinder = dlopen("libgcc_s.so.1", RTLD_NOW))) {
        cv_run_error(run, "cannot start the OpenMP team: %s", dlerror());
        cv_run_stop(run);
        cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
        return -1;
    }
    uint32_t failed_at = 0;
    const char *stack_var = NULL;
    size_t stack = omp_stack_bytes(&stack_var);
    int err = run->workers > 1 ? try_threads(run->workers - 1, stack, &failed_at) : 0;
    if (err) {
        char hint[160], stack_text[96] = "";
        cv__limits_hint(hint, sizeof hint);
        if (stack)
            snprintf(stack_text, sizeof stack_text, " with the %.0f MB stack %s=%s asks for",
                     (double)stack / (1 << 20), stack_var, getenv(stack_var));
        cv_run_error(run, "cannot start OpenMP thread %u of %u%s: %s%s", failed_at, run->workers,
                     stack_text, strerror(err), hint);
        cv_run_stop(run);
        cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
        return -1;
    }
    omp_set_schedule(schedule_kind(cv_param_str(run, "schedule")), (int)cv_param_int(run, "chunk"));
    int64_t n = run->ntasks;
    int team = 0;
#pragma omp parallel num_threads((int)run->workers)
    {
        /* Another team than asked for runs no task: a barrier would wait for lanes that do not
         * exist. Its threads cancel the iterations instead. */
        bool whole = omp_get_num_threads() == (int)run->workers;
        struct cv_ctx *ctx = &run->ctxs[omp_get_thread_num() + 1];
#pragma omp single nowait
        team = omp_get_num_threads();
        cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
#pragma omp for schedule(runtime)
        for (int64_t i = 0; i < n; i++) {
            if (!whole || cv_stopping(ctx))
                cv_ring_record(ctx->ring, CV_EV_TASK_CANCEL, ctx->lane, (uint32_t)i, CV_NO_OBJ, 0);
            else
                cv__run_task(ctx, (uint32_t)i);
        }
        cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    }
    /* The calling thread is the team's first thread: threads in use = the team. */
    run->os_threads = (uint32_t)team;
    cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    if ((unsigned)team != run->workers) {
        cv_run_error(run, "OpenMP made a team of %d thread%s, not the %u asked for; no task ran",
                     team, team == 1 ? "" : "s", run->workers);
        return -1;
    }
    return 0;
}

const struct cv_model_ops cv__model_openmp = {
    .id = CV_MODEL_OPENMP,
    .lanes = omp_lanes,
    .run = omp_run,
    .check = omp_check,
    .wait = &cv__wait_block,
};
