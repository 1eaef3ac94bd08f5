/*
 * trace: not a model of our own workloads but a program's own threads. The driver starts the
 * program with libconcviz-trace.so preloaded and a mapping (a memfd, see engine/trace/shm.h) in
 * which each of its threads claims a lane and a ring; before each drain, sync hands the collector
 * the lanes and objects that appeared since, so the rest of the run (drain, snapshot, summary,
 * recording) is the same as for any model. The driver waits for the program and reports how it
 * ended; stopping the run stops the program (SIGINT, or the SIGTERM or SIGHUP concviz got, to
 * its process group; then SIGTERM, SIGKILL).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../trace/shm.h"

#define DEFAULT_LANES   4096u
#define DEFAULT_OBJECTS 16384u
#define DEFAULT_EVENTS  (512u * 1024u) /* per lane: the program is not paced to the drain */
#define TERM_AFTER_NS   1000000000ull
#define KILL_AFTER_NS   3000000000ull

struct trace_state {
    int fd;
    struct cv_trace_shm *shm;
    size_t size;
    uint32_t known;     /* lanes handed to the collector: 0 .. known-1 */
    uint32_t *name_gen; /* per lane: the name generation the collector has */
    struct cv_ring **rings;
    uint32_t *slot_of;             /* per object id: its slot in the table + 1, once ready */
    uint8_t texts[CV_TRACE_TEXTS]; /* texts given to the collector */
    uint32_t next_obj; /* objects declared: ids 0 .. next_obj-1, in id order (a recording's
                        * lock panel and checkpoints list them in declaration order) */
    char **envp;
    uint8_t *closed;   /* per lane: its end is in its ring (its own, or one given it here) */
    uint32_t *proc_of; /* per lane: its process, an index into procs */
    struct trace_proc *procs;
    size_t nprocs, procs_cap;
    uint32_t ends_given; /* lanes whose end was given here (their thread could not record it) */
};

/* A process of the program, watched through a pidfd until it is gone. */
struct trace_proc {
    int32_t pid;
    int fd;    /* -1 once gone, or when the kernel has no pidfds (then kill(pid, 0)) */
    bool dead; /* its threads have all ended */
};

static void resolve(void *ctx, struct cv_collector *col, uint32_t obj);

static struct trace_state *state_of(const struct cv_run *run)
{
    return run->model_state;
}

static uint32_t trace_lanes(const struct cv_run *run)
{
    (void)run;
    return 1;
}

static int trace_prepare(struct cv_run *run, char **cause)
{
    const struct cv_trace_config *tc = run->cfg.trace;
    if (!tc || !tc->argv || !tc->argv[0] || !tc->lib) {
        *cause = cv_strdup("model trace runs a program: use 'concviz trace -- PROGRAM'");
        return CV_ERR_USAGE;
    }
    if (cv__clock.source == CV_CLOCK_FAKE) {
        *cause = cv_strdup("a traced program cannot be stamped with the fake clock "
                           "(CONCVIZ_FAKE_CLOCK)");
        return CV_ERR_USAGE;
    }
    struct trace_state *ts = cv_xcalloc(1, sizeof *ts);
    ts->fd = -1;
    run->model_state = ts;
    uint32_t lanes = tc->max_lanes ? tc->max_lanes : DEFAULT_LANES;
    uint32_t objs = tc->max_objects ? tc->max_objects : DEFAULT_OBJECTS;
    uint32_t slots = 64;
    while (slots < 2 * objs)
        slots <<= 1;
    size_t events = run->cfg.ring_capacity ? run->cfg.ring_capacity : DEFAULT_EVENTS;
    size_t stride = (cv_ring_bytes(events) + 4095) & ~(size_t)4095;
    size_t lanes_off = cv__align64(sizeof(struct cv_trace_shm));
    size_t objs_off = cv__align64(lanes_off + lanes * sizeof(struct cv_trace_lane));
    size_t texts_off = cv__align64(objs_off + slots * sizeof(struct cv_trace_obj));
    size_t rings_off =
        (texts_off + CV_TRACE_TEXTS * sizeof(struct cv_trace_text) + 4095) & ~(size_t)4095;
    ts->size = rings_off + (size_t)lanes * stride;

    ts->fd = memfd_create("concviz-trace", MFD_CLOEXEC);
    if (ts->fd < 0 || ftruncate(ts->fd, (off_t)ts->size) != 0) {
        *cause = cv_strdup_printf("cannot make the trace's shared memory (%.1f MB): %s",
                                  (double)ts->size / (1 << 20), strerror(errno));
        return CV_ERR_RUNTIME;
    }
    void *m = mmap(NULL, ts->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, ts->fd, 0);
    if (m == MAP_FAILED) {
        *cause = cv_strdup_printf("cannot map the trace's shared memory (%.1f MB): %s",
                                  (double)ts->size / (1 << 20), strerror(errno));
        return CV_ERR_RUNTIME;
    }
    struct cv_trace_shm *t = ts->shm = m;
    t->magic = CV_TRACE_MAGIC;
    t->version = CV_TRACE_VERSION;
    t->clock_source = cv__clock.source;
    t->size = ts->size;
    t->max_lanes = lanes;
    t->obj_slots = slots;
    t->max_objs = objs;
    t->ring_capacity = events;
    t->ring_stride = stride;
    t->lanes_off = lanes_off;
    t->objs_off = objs_off;
    t->rings_off = rings_off;
    t->texts_off = texts_off;
    ts->name_gen = cv_xcalloc(lanes, sizeof *ts->name_gen);
    ts->rings = cv_xcalloc(lanes, sizeof *ts->rings);
    ts->slot_of = cv_xcalloc(objs, sizeof *ts->slot_of);
    ts->closed = cv_xcalloc(lanes, 1);
    ts->proc_of = cv_xcalloc(lanes, sizeof *ts->proc_of);
    cv_collector_add_lane(run->col, 0, "main", CV_ROLE_MAIN);
    cv_collector_set_resolver(run->col, resolve, ts);
    run->workers = 0; /* the threads, once known */
    return CV_OK;
}

static void trace_release(struct cv_run *run)
{
    struct trace_state *ts = state_of(run);
    if (!ts)
        return;
    if (ts->shm)
        munmap(ts->shm, ts->size);
    if (ts->fd >= 0)
        close(ts->fd);
    free(ts->name_gen);
    free(ts->rings);
    free(ts->slot_of);
    free(ts->closed);
    free(ts->proc_of);
    for (size_t i = 0; i < ts->nprocs; i++)
        if (ts->procs[i].fd >= 0)
            close(ts->procs[i].fd);
    free(ts->procs);
    if (ts->envp)
        cv_strv_free(ts->envp);
    free(ts);
    run->model_state = NULL;
}

/* A lane's name, read consistently with a rename in progress; false when it is being written. */
static bool lane_name(struct cv_trace_lane *l, char *out, uint32_t *gen)
{
    uint32_t g = atomic_load_explicit(&l->name_gen, memory_order_acquire);
    if (g & 1)
        return false;
    char buf[CV_NAME_MAX];
    memcpy(buf, l->name, sizeof buf);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&l->name_gen, memory_order_relaxed) != g)
        return false;
    buf[CV_NAME_MAX - 1] = 0;
    memcpy(out, buf, sizeof buf);
    *gen = g;
    return true;
}

/* Declares the objects with ids below `upto` in id order (a recording's lock panel and its
 * checkpoints list them in declaration order); one still being filled in holds back those after
 * it, unless `wait`: an event names one of them, so its claim is all but done. */
static void declare_objects(struct cv_collector *col, struct trace_state *ts, uint32_t upto,
                            bool wait)
{
    struct cv_trace_shm *t = ts->shm;
    struct cv_trace_obj *tab = cv_trace_objs(t);
    for (int tries = 0; ts->next_obj < upto; tries++) {
        for (uint32_t i = 0; i < t->obj_slots; i++) {
            struct cv_trace_obj *o = &tab[i];
            if (atomic_load_explicit(&o->state, memory_order_acquire) == CV_TRACE_READY &&
                o->id < t->max_objs)
                ts->slot_of[o->id] = i + 1;
        }
        while (ts->next_obj < upto && ts->slot_of[ts->next_obj]) {
            struct cv_trace_obj *o = &tab[ts->slot_of[ts->next_obj] - 1];
            char name[CV_NAME_MAX];
            memcpy(name, o->name, sizeof name);
            name[CV_NAME_MAX - 1] = 0;
            cv_collector_add_object(col, o->id, (enum cv_object_kind)o->kind, name, 1);
            ts->next_obj++;
        }
        if (!wait || ts->next_obj >= upto || tries == 1000)
            break;
        struct timespec pause = {0, 10000};
        nanosleep(&pause, NULL);
    }
}

static void sync_objects(struct cv_run *run, struct trace_state *ts)
{
    uint32_t handed = atomic_load_explicit(&ts->shm->nobjs, memory_order_acquire);
    if (handed > ts->shm->max_objs)
        handed = ts->shm->max_objs;
    if (handed != ts->next_obj)
        declare_objects(run->col, ts, handed, false);
}

/* An event names an object the last sync did not see yet (it was made since). */
static void resolve(void *ctx, struct cv_collector *col, uint32_t obj)
{
    struct trace_state *ts = ctx;
    if (obj < ts->shm->max_objs && obj >= ts->next_obj)
        declare_objects(col, ts, obj + 1, true);
}

/* The texts lanes wait in, to the collector (an event naming one not there yet shows none). */
static void sync_texts(struct cv_run *run, struct trace_state *ts)
{
    struct cv_trace_text *tx = cv_trace_texts(ts->shm);
    for (uint32_t i = 0; i < CV_TRACE_TEXTS; i++)
        if (!ts->texts[i] &&
            atomic_load_explicit(&tx[i].state, memory_order_acquire) == CV_TRACE_READY) {
            char text[CV_TRACE_TEXT_MAX];
            memcpy(text, tx[i].text, sizeof text);
            text[CV_TRACE_TEXT_MAX - 1] = 0;
            cv_collector_add_string(run->col, i, text);
            ts->texts[i] = 1;
        }
}

/* The process a new lane belongs to, watched from now on. */
static uint32_t proc_of_pid(struct trace_state *ts, int32_t pid)
{
    for (size_t i = ts->nprocs; i-- > 0;)
        if (ts->procs[i].pid == pid && !ts->procs[i].dead)
            return (uint32_t)i;
    if (ts->nprocs == ts->procs_cap) {
        ts->procs_cap = ts->procs_cap ? 2 * ts->procs_cap : 16;
        ts->procs = cv_xrealloc(ts->procs, ts->procs_cap * sizeof *ts->procs);
    }
    struct trace_proc *p = &ts->procs[ts->nprocs];
    *p = (struct trace_proc){.pid = pid, .fd = (int)syscall(SYS_pidfd_open, pid, 0)};
    if (p->fd < 0)
        p->dead = errno == ESRCH;
    else
        fcntl(p->fd, F_SETFD, FD_CLOEXEC);
    return (uint32_t)ts->nprocs++;
}

/* Processes that have ended since the last look (a pidfd becomes readable at the exit, before
 * the parent reaps it). */
static void procs_poll(struct trace_state *ts)
{
    struct pollfd pf[64];
    size_t idx[64];
    for (size_t i = 0; i < ts->nprocs;) {
        nfds_t n = 0;
        for (; i < ts->nprocs && n < 64; i++) {
            struct trace_proc *p = &ts->procs[i];
            if (p->dead)
                continue;
            if (p->fd < 0) { /* no pidfd: a process that cannot be signalled is gone */
                p->dead = kill(p->pid, 0) != 0 && errno == ESRCH;
                continue;
            }
            pf[n] = (struct pollfd){.fd = p->fd, .events = POLLIN};
            idx[n++] = i;
        }
        if (n && poll(pf, n, 0) > 0)
            for (nfds_t k = 0; k < n; k++)
                if (pf[k].revents) {
                    struct trace_proc *p = &ts->procs[idx[k]];
                    close(p->fd);
                    p->fd = -1;
                    p->dead = true;
                }
    }
}

/* Threads that ended without recording it (killed with their process, or left behind by an
 * exec) are given their end in their own ring, now that no one else writes to it: when the
 * process began to leave, if it said, else when it was found gone (`cap`: no later than the
 * end of the run), and never before the thread's last event. */
static void close_gone_lanes(struct trace_state *ts, uint64_t cap)
{
    struct cv_trace_lane *lanes = cv_trace_lanes(ts->shm);
    procs_poll(ts);
    uint64_t now = cv_clock_stamp();
    if (cap && now > cap)
        now = cap;
    for (uint32_t i = 0; i < ts->known; i++) {
        struct cv_trace_lane *l = &lanes[i];
        if (ts->closed[i])
            continue;
        if (atomic_load_explicit(&l->ended, memory_order_acquire)) {
            ts->closed[i] = 1;
            continue;
        }
        if (!atomic_load_explicit(&l->gone, memory_order_acquire) &&
            !ts->procs[ts->proc_of[i]].dead)
            continue;
        struct cv_ring *r = ts->rings[i];
        uint64_t last = cv_ring_last_ts(r);
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        /* a thread killed between its last two events: its end is there already */
        if (!h || cv_ring_slots(r)[(h - 1) & r->mask].kind != CV_EV_WORKER_EXIT) {
            uint64_t at = atomic_load_explicit(&l->exit_ts, memory_order_acquire);
            if (!at || at > now)
                at = now;
            if (at < last)
                at = last;
            cv_ring_record_at(r, at, CV_EV_TASK_END, (uint16_t)i, i, 0, 0);
            cv_ring_record_at(r, at, CV_EV_WORKER_EXIT, (uint16_t)i, i, 0, 0);
        }
        atomic_store_explicit(&l->ended, 1, memory_order_release);
        ts->closed[i] = 1;
        ts->ends_given++;
    }
}

static void trace_sync(struct cv_run *run, bool final)
{
    struct trace_state *ts = state_of(run);
    struct cv_trace_shm *t = ts->shm;
    if (final) /* the summary says whether there was a GIL (the driver has ended) */
        run->gil_on = atomic_load(&t->gil_found) != 0;
    sync_objects(run, ts);
    sync_texts(run, ts);
    struct cv_trace_lane *lanes = cv_trace_lanes(t);
    uint32_t claimed = atomic_load_explicit(&t->nlanes, memory_order_acquire);
    if (claimed > t->max_lanes)
        claimed = t->max_lanes;
    uint32_t before = ts->known;
    while (ts->known < claimed) {
        struct cv_trace_lane *l = &lanes[ts->known];
        if (atomic_load_explicit(&l->state, memory_order_acquire) != CV_TRACE_READY)
            break; /* its thread is setting it up: the lanes after it wait */
        ts->rings[ts->known] = (struct cv_ring *)cv_trace_ring_mem(t, ts->known);
        ts->name_gen[ts->known] = UINT32_MAX;
        ts->proc_of[ts->known] = proc_of_pid(ts, l->pid);
        ts->known++;
    }
    for (uint32_t i = 0; i < ts->known; i++) {
        char name[CV_NAME_MAX];
        uint32_t g;
        if (atomic_load_explicit(&lanes[i].name_gen, memory_order_relaxed) == ts->name_gen[i] ||
            !lane_name(&lanes[i], name, &g))
            continue;
        cv_collector_add_lane(run->col, i, name, i == 0 ? CV_ROLE_MAIN : CV_ROLE_WORKER);
        cv_collector_set_lane_pid(run->col, i, lanes[i].pid);
        ts->name_gen[i] = g;
    }
    if (ts->known != before)
        cv_collector_attach_rings(run->col, ts->rings, ts->known, run->t0_ticks);
    close_gone_lanes(ts, final ? run->t_end_ticks : 0);
    if (final) { /* a trace's workers, in its summary, are the program's threads */
        run->workers = ts->known;
        cv_result_num(run, "threads_ended_with_process", ts->ends_given);
    }
}

/* The program's environment: concviz's, with the library preloaded (after any the user
 * preloads), the mapping named, and the start-up hook's directory first on PYTHONPATH. */
static char **program_env(struct cv_run *run, struct trace_state *ts)
{
    const struct cv_trace_config *tc = run->cfg.trace;
    extern char **environ;
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    while (tc->env && tc->env[extra])
        extra++;
    char **env = cv_xcalloc(n + extra + 4, sizeof *env);
    size_t k = 0;
    const char *preload = getenv("LD_PRELOAD"), *pypath = getenv("PYTHONPATH");
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "PYTHONPATH=", 11) &&
            strncmp(environ[i], CV_TRACE_ENV "=", sizeof CV_TRACE_ENV))
            env[k++] = cv_strdup(environ[i]);
    for (size_t i = 0; i < extra; i++)
        env[k++] = cv_strdup(tc->env[i]);
    env[k++] = cv_strdup_printf("%s=/proc/%d/fd/%d", CV_TRACE_ENV, (int)getpid(), ts->fd);
    env[k++] = preload && *preload ? cv_strdup_printf("LD_PRELOAD=%s:%s", preload, tc->lib)
                                   : cv_strdup_printf("LD_PRELOAD=%s", tc->lib);
    if (tc->pythonpath)
        env[k++] = pypath && *pypath ? cv_strdup_printf("PYTHONPATH=%s:%s", tc->pythonpath, pypath)
                                     : cv_strdup_printf("PYTHONPATH=%s", tc->pythonpath);
    else if (pypath)
        env[k++] = cv_strdup_printf("PYTHONPATH=%s", pypath);
    return env;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(const struct cv_trace_config *tc, char **env, int report)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    if ((tc->in >= 0 && dup2(tc->in, 0) < 0) || (tc->out >= 0 && dup2(tc->out, 1) < 0) ||
        (tc->err >= 0 && dup2(tc->err, 2) < 0)) {
        int e = errno;
        (void)!write(report, &e, sizeof e);
        _exit(127);
    }
    execvpe(tc->argv[0], tc->argv, env);
    int e = errno;
    (void)!write(report, &e, sizeof e);
    _exit(127);
}

static void sleep_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static void report_end(struct cv_run *run, int status)
{
    if (WIFEXITED(status)) {
        cv_result_num(run, "exit_status", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        cv_result_num(run, "exit_status", 128 + WTERMSIG(status));
        cv_result_str(run, "exit_signal", cv__signal_name(WTERMSIG(status)));
    }
}

static void report_counts(struct cv_run *run, struct trace_state *ts)
{
    struct cv_trace_shm *t = ts->shm;
    uint32_t claimed = atomic_load(&t->nlanes);
    uint32_t objs = atomic_load(&t->nobjs);
    cv_result_num(run, "threads_traced", claimed < t->max_lanes ? claimed : t->max_lanes);
    cv_result_num(run, "threads_untraced", claimed > t->max_lanes ? claimed - t->max_lanes : 0);
    cv_result_num(run, "objects_traced", objs < t->max_objs ? objs : t->max_objs);
    cv_result_num(run, "objects_untraced", atomic_load(&t->objs_untraced));
    cv_result_num(run, "processes", atomic_load(&t->processes));
    run->os_threads = claimed; /* the program's, for the summary */
    run->os_processes = atomic_load(&t->processes);
    if (atomic_load(&t->python_seen)) {
        char v[sizeof t->python];
        memcpy(v, t->python, sizeof v);
        v[sizeof v - 1] = 0;
        cv_result_str(run, "python", v);
        cv_result_str(run, "gil",
                      atomic_load(&t->gil_found)
                          ? "seen"
                          : "not recognised: concviz knows the GIL of CPython 3.11 only");
    }
}

static int trace_run(struct cv_run *run)
{
    struct trace_state *ts = state_of(run);
    const struct cv_trace_config *tc = run->cfg.trace;
    ts->envp = program_env(run, ts);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        cv_run_error(run, "cannot start %s: pipe: %s", tc->argv[0], strerror(errno));
        return -1;
    }
    pid_t pid = cv__fork_worker(run);
    if (pid < 0) {
        char hint[160];
        cv__limits_hint(hint, sizeof hint);
        cv_run_error(run, "cannot start %s: fork: %s%s", tc->argv[0], strerror(errno), hint);
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0)
        child_exec(tc, ts->envp, pipefd[1]);
    close(pipefd[1]);
    run->os_processes = 2;
    int err = 0;
    ssize_t got = read(pipefd[0], &err, sizeof err); /* EOF once it has exec'd */
    close(pipefd[0]);
    int status = 0;
    if (got == (ssize_t)sizeof err) {
        waitpid(pid, &status, 0);
        cv_run_error(run, "cannot run %s: %s", tc->argv[0], strerror(err));
        cv_result_num(run, "exit_status", 127);
        return -1;
    }
    /* stopping: to the program's process group, the SIGTERM or SIGHUP that stopped concviz, or
     * else (q, Ctrl-C) a SIGINT, as a Ctrl-C in its terminal would; SIGTERM a second later,
     * SIGKILL two after that */
    uint64_t stop_at = 0;
    int sent = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            cv_run_error(run, "waitpid: %s", strerror(errno));
            return -1;
        }
        if (!stop_at && (atomic_load(&run->shm->attention) & CV_ATTN_STOP)) {
            stop_at = cv_clock_mono_ns();
            int sig = tc->stop_signal ? tc->stop_signal() : 0;
            kill(-pid, sig == SIGTERM || sig == SIGHUP ? sig : SIGINT);
            sent = 1;
        } else if (stop_at && sent == 1 && cv_clock_mono_ns() - stop_at > TERM_AFTER_NS) {
            kill(-pid, SIGTERM);
            sent = 2;
        } else if (stop_at && sent == 2 && cv_clock_mono_ns() - stop_at > KILL_AFTER_NS) {
            kill(-pid, SIGKILL);
            sent = 3;
        }
        sleep_ms(5);
    }
    report_end(run, status);
    report_counts(run, ts);
    return 0;
}

const struct cv_model_ops cv__model_trace = {
    .id = CV_MODEL_TRACE,
    .lanes = trace_lanes,
    .run = trace_run,
    .wait = &cv__wait_block,
    .prepare = trace_prepare,
    .release = trace_release,
    .sync = trace_sync,
};
