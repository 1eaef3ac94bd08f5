/*
 * A run's life: validate the configuration, lay out the shared mapping (rings, lanes, objects),
 * start the model on a driver thread, drain events while it works, close the books.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEFAULT_RING (1u << 17)
#define ARENA_BYTES  (64u << 20) /* virtual; pages are only touched as objects are made */
#define MAX_WORKERS  4096

/* Configuration */

static int usage(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(char **cause, const char *fmt, ...)
{
    if (cause) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(cause, fmt, ap) < 0)
            *cause = NULL;
        va_end(ap);
    }
    return CV_ERR_USAGE;
}

static char *supported_models(const struct cv_scenario *s)
{
    char *out = cv_xcalloc(1, 128);
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
        if (!(s->models & (1u << m)))
            continue;
        if (*out)
            strcat(out, ", ");
        strcat(out, cv_model_name(m));
    }
    return out;
}

/* The roles plan added are the ones the workload declares (what the picker showed). */
static int check_roles(const struct cv_run *run, char **cause)
{
    int64_t declared = 0;
    for (const struct cv_role_def *r = run->wl->roles; r->name; r++)
        declared += r->param ? cv_param_int(run, r->param) : (int64_t)r->count;
    if (declared == (int64_t)run->nroles)
        return CV_OK;
    if (cause)
        *cause = cv_strdup_printf("workload %s planned %u roles but declares %lld", run->wl->name,
                                  (unsigned)run->nroles, (long long)declared);
    return CV_ERR_RUNTIME;
}

/* The CPython versions modelled. They differ in the model in two ways only: up to 3.9 the
 * interpreter could hand the GIL over between any two bytecodes; from 3.10 on only at a call or
 * a backward jump (the eval breaker is checked nowhere else), so a bare `counter += 1` is never
 * cut between its load and its store. 3.13t is the free-threaded build: no GIL at all. */
static const char *const pythons[] = {"3.9", "3.10", "3.11", "3.12", "3.13", "3.13t"};
#define PYTHON_DEFAULT "3.11" /* Debian 12's */

const char *cv_python_versions(void)
{
    return "3.9 3.10 3.11 3.12 3.13 3.13t";
}

static const char *python_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof pythons / sizeof *pythons; i++)
        if (!strcmp(pythons[i], name))
            return pythons[i];
    return NULL;
}

bool cv_python_known(const char *name)
{
    return name && python_lookup(name);
}

/* The GIL and the CPython modelled, from --gil/--no-gil, --python and the scenario. */
static int configure_python(struct cv_run *run, const struct cv_run_config *cfg, unsigned model,
                            char **cause)
{
    const struct cv_scenario *s = cfg->scenario;
    if (cfg->python) {
        run->python = python_lookup(cfg->python);
        if (!run->python)
            return usage(cause, "unknown CPython version '%s' for --python (one of: %s)",
                         cfg->python, cv_python_versions());
        if (model != CV_MODEL_THREADS)
            return usage(cause, "--python applies to the threads model only (model is %s)",
                         cv_model_name(model));
        bool free_threaded = !strcmp(run->python, "3.13t");
        if (free_threaded && cfg->gil == 1)
            return usage(cause, "--python 3.13t is the free-threaded build, which has no GIL: "
                                "drop --gil");
        if (!free_threaded && cfg->gil == 0)
            return usage(cause,
                         "--python %s has a GIL: drop --no-gil, or use --python 3.13t (the "
                         "free-threaded build)",
                         run->python);
        run->gil_on = !free_threaded;
    } else {
        run->gil_on = cfg->gil < 0 ? (s->gil && model == CV_MODEL_THREADS) : cfg->gil == 1;
        if (run->gil_on && model != CV_MODEL_THREADS)
            return usage(cause, "--gil applies to the threads model only (model is %s)",
                         cv_model_name(model));
        run->python = run->gil_on ? PYTHON_DEFAULT : NULL;
    }
    run->gil_at_calls = run->gil_on && strcmp(run->python, "3.9") != 0;
    return CV_OK;
}

static int configure(struct cv_run *run, const struct cv_run_config *cfg, char **cause)
{
    const struct cv_scenario *s = cfg->scenario;
    unsigned model = cfg->model < 0 ? s->model : (unsigned)cfg->model;
    if (!(s->models & (1u << model))) {
        char *list = supported_models(s);
        int rc = usage(cause, "scenario %s does not support model %s (supported: %s)", s->name,
                       cv_model_name(model), list);
        free(list);
        return rc;
    }
    run->ops = cv__model_ops(model);
    if (!run->ops)
        return usage(cause, "model %s is not available in this build of concviz",
                     cv_model_name(model));
    int prc = configure_python(run, cfg, model, cause);
    if (prc != CV_OK)
        return prc;
    run->switch_ms = cfg->switch_ms > 0 ? cfg->switch_ms : (s->switch_ms > 0 ? s->switch_ms : 5.0);
    if (model == CV_MODEL_HYBRID && run->wl->file_io &&
        !strcmp(cv_param_str(run, "offload"), "procs"))
        return usage(
            cause,
            "offload=procs: scenario %s makes blocking file calls, whose jobs hold "
            "pointers and cannot be sent to an executor process; use --set offload=threads",
            s->name);

    if (run->wl->shape == CV_SHAPE_ROLES && model == CV_MODEL_HYBRID) {
        /* roles are coroutines; workers sizes the executor */
        run->workers = cfg->workers ? cfg->workers : (s->workers ? s->workers : 2);
    } else if (run->wl->shape == CV_SHAPE_ROLES) {
        if (cfg->workers)
            return usage(cause,
                         "scenario %s sizes its workers by role; set them with its parameters "
                         "(see 'concviz show %s')",
                         s->name, s->name);
        if (model == CV_MODEL_SERIAL || model == CV_MODEL_OPENMP)
            return usage(cause, "scenario %s runs concurrent roles, which model %s cannot run",
                         s->name, cv_model_name(model));
    } else {
        unsigned w = cfg->workers ? cfg->workers : s->workers;
        if (w == 0) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            w = n > 0 ? (unsigned)n : 1;
        }
        if (w > MAX_WORKERS)
            return usage(cause, "--workers must be at most %d", MAX_WORKERS);
        run->workers = model == CV_MODEL_SERIAL ? 1 : w;
    }
    return CV_OK;
}

/* Events a lane's ring holds. The main lane submits every task in one burst (and may cancel
 * them all), so its ring holds them whatever the drain interval. */
static size_t lane_ring(const struct cv_run *run, uint32_t lane)
{
    size_t cap = run->ops->ring_size ? run->ops->ring_size(run, lane) : run->ring_capacity;
    if (lane == 0 && cap < 2 * (size_t)run->ntasks + 1024)
        cap = 2 * (size_t)run->ntasks + 1024;
    return cap;
}

void cv__limits_hint(char *buf, size_t n)
{
    struct rlimit rl;
    size_t len = 0;
    buf[0] = 0;
    /* the kernel does not hold root to its process limit */
    if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        len += (size_t)snprintf(buf + len, n - len, "%s%llu processes and threads, ulimit -u",
                                len ? "; " : " (limits: ", (unsigned long long)rl.rlim_cur);
    if (len < n && getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        len += (size_t)snprintf(buf + len, n - len, "%s%.1f MB of address space, ulimit -v",
                                len ? "; " : " (limits: ", (double)rl.rlim_cur / (1 << 20));
    if (len && len < n)
        snprintf(buf + len, n - len, ")");
}

/* "cannot map N MB for WHAT: why", naming the address-space limit when one is set (ulimit -v):
 * the run's memory is mostly address space it reserves at start. */
static int no_memory(char **cause, const char *what, size_t bytes, int err)
{
    if (!cause)
        return CV_ERR_RUNTIME;
    struct rlimit rl;
    char limit[96] = "";
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, " (address space limited to %.1f MB: ulimit -v)",
                 (double)rl.rlim_cur / (1 << 20));
    *cause = cv_strdup_printf("out of memory: cannot map %.1f MB for %s: %s%s",
                              (double)bytes / (1 << 20), what, strerror(err), limit);
    return CV_ERR_RUNTIME;
}

static int map_shared(struct cv_run *run, char **cause)
{
    size_t lanes_bytes = cv__align64(run->nlanes * sizeof(struct cv_lane_shared));
    size_t off_lanes = cv__align64(sizeof(struct cv_shm));
    size_t off_arena = off_lanes + lanes_bytes;
    /* The rings' headers side by side, their slots after them all: each pass of the drain reads
     * every header, and ten thousand headers each at the head of its own ring, hundreds of KB
     * apart, would each be a TLB miss and compete for the same cache sets. */
    size_t hdr = cv__align64(sizeof(struct cv_ring));
    size_t off_rings = cv__align64(off_arena + ARENA_BYTES);
    size_t off_slots = off_rings + run->nlanes * hdr;
    size_t total = off_slots;
    for (uint32_t i = 0; i < run->nlanes; i++)
        total += cv__align64(cv_ring_bytes(lane_ring(run, i)) - sizeof(struct cv_ring));
    void *base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return no_memory(cause, "the rings and shared objects", total, errno);
    run->shm_base = base;
    run->shm = base;
    run->shm->size = total;
    run->shm->lanes_off = off_lanes;
    run->shm->arena_off = off_arena;
    run->shm->arena_size = ARENA_BYTES;
    run->shm->nlanes = run->nlanes;
    run->lanes = (struct cv_lane_shared *)(run->shm_base + off_lanes);
    run->rings = cv_xcalloc(run->nlanes, sizeof *run->rings);
    run->ctxs = cv_xcalloc(run->nlanes, sizeof *run->ctxs);
    size_t at = off_slots;
    for (uint32_t i = 0; i < run->nlanes; i++) {
        struct cv_lane_shared *l = &run->lanes[i];
        if (sem_init(&l->park, 1, 0) != 0) {
            if (cause)
                *cause = cv_strdup_printf("sem_init: %s", strerror(errno));
            return CV_ERR_RUNTIME;
        }
        l->waiting_on = CV_NONE;
        size_t cap = lane_ring(run, i), off = off_rings + i * hdr;
        l->ring_off = off;
        run->rings[i] = cv_ring_init(run->shm_base + off, cap);
        run->rings[i]->buf_off = at - off;
        /* the first page of its slots made now, as when the header shared it: the rings are the
         * recording's memory, made with the run, so the run's memory at its start (the base of
         * memory_per_task_kb and memory_per_inflight_kb) holds them, not a task's cost */
        memset(run->shm_base + at, 0, 64);
        at += cv__align64(cv_ring_bytes(cap) - sizeof(struct cv_ring));
    }
#ifndef CONCVIZ_NO_EVENTS /* a build without events has no use for its rings */
    /* The main lane submits every task in one burst when the run starts: the pages of those
     * events are made now, in one call. A lane's producer makes its other pages ahead of its
     * writes (cv__ring_make_ahead), a few at a time, so that a lane that records little holds
     * little. */
    struct cv_ring *r0 = run->rings[0];
    size_t submits = (size_t)run->ntasks + 1024;
    if (submits > cv_ring_capacity(r0))
        submits = cv_ring_capacity(r0);
    cv_make_pages(cv_ring_slots(r0), submits * sizeof(struct cv_event));
    r0->made = submits;
#endif
    return CV_OK;
}

static void name_lanes(struct cv_run *run)
{
    for (uint32_t i = 0; i < run->nlanes; i++) {
        char *name = run->lanes[i].name;
        if (run->ops->lane_name)
            run->ops->lane_name(run, i, name, CV_NAME_MAX);
        else if (i == 0)
            snprintf(name, CV_NAME_MAX, "main");
        else if (run->wl->shape == CV_SHAPE_ROLES && i - 1 < run->nroles)
            snprintf(name, CV_NAME_MAX, "%s", run->role_names[i - 1]);
        else
            snprintf(name, CV_NAME_MAX, "worker-%u", i);
        cv_collector_add_lane(run->col, i, name, i == 0 ? CV_ROLE_MAIN : CV_ROLE_WORKER);
    }
}

/* Open files. What the run holds at once must fit the open-file limit, or sockets and files fail
 * one by one in the middle of the run: concviz's own descriptors (those open now, and a reserve
 * for what it opens while running: the recording, /proc files, the server's pipe, libcurl's),
 * the model's, and the ones the workload's tasks hold, given how many tasks one process has
 * under way at once. */

#define FD_RESERVE 16

struct fd_need {
    uint64_t own, pipes, connections, files; /* concviz; to worker processes; the tasks' */
};

/* With `workers` workers and `tasks` tasks. */
static uint64_t fds_needed(const struct cv_run *run, uint64_t workers, uint64_t tasks,
                           uint64_t open_now, struct fd_need *part)
{
    /* no more lanes run tasks than there are tasks */
    uint64_t lanes = workers < tasks ? workers : tasks;
    uint64_t in_flight = lanes, in_call = lanes, loop = 0, pipes = 0;
    /* A blocking lane's libcurl handle holds its connection and a socket pair of its own; an
     * event loop's transfers share one handle's socket pair. */
    uint64_t per_connection = 3;
    switch (run->ops->id) {
    case CV_MODEL_SERIAL:
        in_flight = in_call = 1;
        break;
    case CV_MODEL_PROCS: /* a worker's tasks run in its own process; the parent holds pipes */
        in_flight = in_call = 1;
        pipes = 2 * workers;
        break;
    case CV_MODEL_EPOLL: /* every task under way at once; a blocking call blocks the loop */
        in_flight = tasks;
        in_call = 1;
        loop = 4; /* epoll, its eventfd, libcurl's socket pair */
        per_connection = 1;
        break;
    case CV_MODEL_HYBRID: /* the loop's tasks, and the executor's blocking calls */
        in_flight = tasks;
        loop = 4;
        pipes = 2 * workers; /* executor processes, with offload = procs */
        per_connection = 1;
        break;
    default:
        break;
    }
    uint64_t connections = 0, files = 0;
    if (run->wl->holds)
        run->wl->holds(run, in_flight, in_call, &connections, &files);
    part->own = open_now + FD_RESERVE + loop;
    part->pipes = pipes;
    part->connections = per_connection * connections;
    part->files = files;
    return part->own + part->pipes + part->connections + part->files;
}

/* The largest n in [1, hi) for which fits(n), or 0; fits is monotonic. */
static uint64_t largest_fit(const struct cv_run *run, bool by_workers, uint64_t hi,
                            uint64_t open_now, uint64_t limit)
{
    uint64_t lo = 0;
    struct fd_need part;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t need = by_workers ? fds_needed(run, mid, cv_run_task_count(run), open_now, &part)
                                   : fds_needed(run, run->workers, mid, open_now, &part);
        if (need <= limit)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int check_descriptors(struct cv_run *run, char **cause)
{
    uint64_t open_now = cv_open_descriptors();
    struct fd_need part;
    uint64_t tasks = cv_run_task_count(run);
    uint64_t need = fds_needed(run, run->workers, tasks, open_now, &part);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return CV_OK;
    /* the soft limit may be raised up to the hard one */
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= need)
        return CV_OK;
    if (!cause)
        return CV_ERR_RUNTIME;
    /* Advice: the fewer workers, or tasks, that would fit. */
    uint64_t limit = rl.rlim_cur;
    char advice[160];
    bool workers_help = run->wl->shape == CV_SHAPE_TASKS && run->ops->id != CV_MODEL_SERIAL &&
                        run->ops->id != CV_MODEL_EPOLL;
    uint64_t w = workers_help ? largest_fit(run, true, run->workers, open_now, limit) : 0;
    uint64_t t = run->wl->tasks_param ? largest_fit(run, false, tasks, open_now, limit) : 0;
    /* an event loop holds every task at once; a pool, its workers */
    bool loop = run->ops->id == CV_MODEL_EPOLL || run->ops->id == CV_MODEL_HYBRID;
    if (t && (loop || !w))
        snprintf(advice, sizeof advice, "use --set %s=%llu or fewer", run->wl->tasks_param,
                 (unsigned long long)t);
    else if (w)
        snprintf(advice, sizeof advice, "use --workers %llu or fewer", (unsigned long long)w);
    else
        snprintf(advice, sizeof advice,
                 "raise the limit (ulimit -n) or close descriptors the "
                 "shell passed on (%llu are open)",
                 (unsigned long long)open_now);
    char parts[160] = "";
    size_t len = 0;
    if (part.connections)
        len += (size_t)snprintf(parts + len, sizeof parts - len, "%llu for connections, ",
                                (unsigned long long)part.connections);
    if (part.files)
        len += (size_t)snprintf(parts + len, sizeof parts - len, "%llu for files, ",
                                (unsigned long long)part.files);
    if (part.pipes)
        snprintf(parts + len, sizeof parts - len, "%llu for pipes to worker processes, ",
                 (unsigned long long)part.pipes);
    *cause = cv_strdup_printf(
        "%s under %s needs about %llu open files at once (%s%llu for concviz itself) but the "
        "limit is %llu (hard limit %llu%s); %s",
        run->sc->name, cv_model_name(run->ops->id), (unsigned long long)need, parts,
        (unsigned long long)part.own, (unsigned long long)rl.rlim_cur,
        (unsigned long long)rl.rlim_max, geteuid() ? ", which only root can raise" : "", advice);
    return CV_ERR_RUNTIME;
}

int cv_run_create(const struct cv_run_config *cfg, struct cv_run **out, char **cause)
{
    *out = NULL;
    if (!cfg->scenario || !cfg->scenario->workload)
        return usage(cause, "no scenario");
    cv_clock_init();
    cv__cpu_calibrate();
    struct cv_run *run = cv_xcalloc(1, sizeof *run);
    run->cfg = *cfg;
    run->sc = cfg->scenario;
    run->wl = cfg->scenario->workload;
    run->ring_capacity = cfg->ring_capacity ? cfg->ring_capacity : DEFAULT_RING;
    pthread_mutex_init(&run->out_mu, NULL);
    pthread_mutex_init(&run->fork_mu, NULL);
    run->results = cv_value_obj();
    run->errors = cv_value_arr();
    run->os_processes = 1;
    atomic_store(&run->state, CV_RUN_CREATED);

    int rc = configure(run, cfg, cause);
    if (rc != CV_OK)
        goto fail;
    if (run->wl->plan && (rc = run->wl->plan(run, cause)) != CV_OK)
        goto fail;
    if (run->wl->shape == CV_SHAPE_ROLES && run->wl->roles &&
        (rc = check_roles(run, cause)) != CV_OK)
        goto fail;
    if (cfg->task_timeout_ns) {
        if (run->ops->id == CV_MODEL_SERIAL || run->ops->id == CV_MODEL_OPENMP) {
            rc = usage(cause,
                       "--task-timeout needs a model that can give up on a task: threads, procs, "
                       "epoll or hybrid (not %s)",
                       cv_model_name(run->ops->id));
            goto fail;
        }
        run->task_timeout_ns = cfg->task_timeout_ns;
    }
    if (run->wl->shape == CV_SHAPE_ROLES) {
        if (run->nroles == 0) {
            rc = usage(cause, "scenario %s defines no roles", run->sc->name);
            goto fail;
        }
        if (run->ops->id != CV_MODEL_HYBRID)
            run->workers = run->nroles;
    }
    if (run->ops->check && (rc = run->ops->check(run, cause)) != CV_OK)
        goto fail;
    run->nlanes = run->ops->lanes(run);
    if (run->nlanes > 65535) {
        rc = usage(cause, "too many lanes (%u)", run->nlanes);
        goto fail;
    }
    /* before the mapping: 10,000 lanes' rings take a while to set up, and to take down */
    if ((rc = check_descriptors(run, cause)) != CV_OK)
        goto fail;
    run->col = cv_collector_try_create(cfg->store_capacity);
    if (!run->col) {
        size_t events = cfg->store_capacity ? cfg->store_capacity : 1u << 20;
        rc = no_memory(cause, "the timeline store", events * sizeof(struct cv_event), errno);
        goto fail;
    }
    run->record_path = cfg->record_path ? cv_strdup(cfg->record_path) : NULL;
    if ((rc = map_shared(run, cause)) != CV_OK)
        goto fail;
    name_lanes(run);
    if (run->ops->prepare && (rc = run->ops->prepare(run, cause)) != CV_OK)
        goto fail;
    run->task_flags = cv__shm_alloc(run, cv_run_task_count(run) + 1);
    cv__strtab_make(run);
    run->strtab_synced = cv_xcalloc(CV__STRTAB_SLOTS, 1);
    if (!run->task_flags || !run->strtab) {
        rc = CV_ERR_RUNTIME;
        if (cause)
            *cause = cv_strdup("shared memory arena full");
        goto fail;
    }
    for (uint32_t i = 0; i < run->nlanes; i++)
        cv__ctx_bind(run, &run->ctxs[i], i);
    if (run->gil_on) {
        run->gil = cv__gil_create(run, run->switch_ms);
        for (uint32_t i = 0; i < run->nlanes; i++)
            run->ctxs[i].gil = run->gil;
    }
    if (run->wl->setup && (rc = run->wl->setup(run, cause)) != CV_OK)
        goto fail;
    run->setup_done = true;
    if ((rc = cv__http_setup(run, cause)) != CV_OK)
        goto fail;
    if (run->errors->n) {
        if (cause)
            *cause = cv_strdup(run->errors->items[0]->str);
        rc = CV_ERR_RUNTIME;
        goto fail;
    }
    *out = run;
    return CV_OK;
fail:
    cv_run_destroy(run);
    return rc;
}

void cv__ctx_bind(struct cv_run *run, struct cv_ctx *ctx, uint32_t lane)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->attention = &run->shm->attention;
    ctx->ring = run->rings[lane];
    ctx->run = run;
    ctx->wait = run->ops->wait;
    ctx->gil = run->gil;
    ctx->task = CV_NO_TASK;
    ctx->lane = (uint16_t)lane;
}

int cv__run_task(struct cv_ctx *ctx, uint32_t task)
{
    const struct cv_workload *wl = ctx->run->wl;
    const void *arg = NULL;
    size_t len = 0;
    if (wl->shape == CV_SHAPE_TASKS && wl->task_arg)
        len = wl->task_arg(ctx->run, task, &arg);
    return cv__run_task_arg(ctx, task, arg, len);
}

int cv__run_task_arg(struct cv_ctx *ctx, uint32_t task, const void *arg, size_t len)
{
    struct cv_run *run = ctx->run;
    const struct cv_workload *wl = run->wl;
    ctx->arg = arg;
    ctx->arg_len = len;
    ctx->task = task;
    /* a task cancelled before it started never runs (Future.cancel on a queued task) */
    if (atomic_fetch_or(&run->task_flags[task], CV__TASK_STARTED) & CV__TASK_CANCEL) {
        cv_emit(ctx, CV_EV_TASK_CANCEL, CV_NO_OBJ, 0);
        atomic_fetch_or(&run->task_flags[task], CV__TASK_DONE);
        ctx->task = CV_NO_TASK;
        return -1;
    }
    if (run->ops->id == CV_MODEL_EPOLL || run->ops->id == CV_MODEL_HYBRID)
        ctx->cancel = &run->task_flags[task];
    cv_emit(ctx, CV_EV_TASK_START, CV_NO_OBJ, 0);
    if (ctx->gil)
        cv__gil_take(ctx);
    int rc = wl->shape == CV_SHAPE_ROLES ? wl->role(ctx, task) : wl->task(ctx, task);
    if (ctx->gil && ctx->gil_held)
        cv__gil_drop(ctx);
    uint8_t outcome = 0; /* how it ended, for the run's word at its end if the event is lost */
    if (rc == 0) {
        cv_emit(ctx, CV_EV_TASK_END, CV_NO_OBJ, 0);
        outcome = CV__TASK_OK;
    } else if (rc == CV_TASK_ABANDONED || (rc == -1 && cv_stopping(ctx))) {
        cv_emit(ctx, CV_EV_TASK_CANCEL, CV_NO_OBJ, 0);
    } else if (rc != -1 &&
               (atomic_load_explicit(ctx->attention, memory_order_relaxed) & CV_ATTN_STOP)) {
        cv_emit(ctx, CV_EV_TASK_CANCEL, CV_NO_OBJ, 0); /* the run is stopping: no verdict */
    } else {
        /* an error of its own (rc < -1), even with a cancel pending: it raised before the
         * cancel reached it, as an asyncio task whose wait ended in the same turn of the loop */
        cv_emit(ctx, CV_EV_TASK_FAIL, CV_NO_OBJ, (uint64_t)(-(int64_t)rc));
        outcome = CV__TASK_FAILED;
        if (run->fail_fast)
            cv__cancel_tasks(run, task);
    }
    atomic_fetch_or(&run->task_flags[task], CV__TASK_DONE | outcome);
    ctx->cancel = NULL;
    ctx->task = CV_NO_TASK;
    ctx->arg = NULL;
    ctx->arg_len = 0;
    return rc;
}

const void *cv_task_arg(struct cv_ctx *ctx, size_t *len)
{
    if (len)
        *len = ctx->arg_len;
    return ctx->arg;
}

void cv_task_result(struct cv_ctx *ctx, const void *data, size_t len)
{
    struct cv_run *run = ctx->run;
    if (!run->in_child) {
        if (run->wl->task_done)
            run->wl->task_done(run, ctx->task, data, len);
        return;
    }
    /* A forked worker keeps it until the task ends, then sends it to the parent. */
    if (len > ctx->out_cap) {
        ctx->out = cv_xrealloc(ctx->out, len);
        ctx->out_cap = len;
    }
    memcpy(ctx->out, data, len);
    ctx->out_len = len;
}

void cv__submit_all(struct cv_run *run)
{
    struct cv_ctx *main_ctx = &run->ctxs[0];
    cv_emit(main_ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    uint32_t n = (uint32_t)cv_run_task_count(run);
    for (uint32_t i = 0; i < n; i++)
        cv_ring_record(main_ctx->ring, CV_EV_TASK_SUBMIT, 0, i, CV_NO_OBJ, 0);
}

void cv__wake_all(struct cv_run *run)
{
    for (uint32_t i = 0; i < run->nlanes; i++)
        run->ops->wait->unpark(run, i);
}

/* Driving */

static double cpu_seconds(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                    kids.ru_stime.tv_sec) +
           (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                    kids.ru_stime.tv_usec) /
               1e6;
}

void cv_run_add_bytes_copied(struct cv_run *run, uint64_t bytes)
{
    run->bytes_copied += bytes;
}

void cv__lane_spawning(struct cv_run *run, uint32_t lane)
{
    atomic_store(&cv__lane(run, lane)->spawn_ns, cv_clock_mono_ns());
}

void cv__lane_ready(struct cv_run *run, uint32_t lane)
{
    atomic_store(&cv__lane(run, lane)->ready_ns, cv_clock_mono_ns());
}

/* What starting a lane cost, from fork, pthread_create or a coroutine's stack to its first
 * step: the mean and the longest over the lanes that started (seed 000: a process is no tool
 * for tiny tasks; c10k: a thread against a suspended task). A burst of threads includes the
 * scheduler's delay before each runs. */
static void publish_start_costs(struct cv_run *run)
{
    double sum = 0, max = 0;
    uint32_t n = 0;
    for (uint32_t lane = 0; lane < run->nlanes; lane++) {
        struct cv_lane_shared *l = cv__lane(run, lane);
        uint64_t a = atomic_load(&l->spawn_ns), b = atomic_load(&l->ready_ns);
        if (!a || !b || b < a)
            continue;
        double ms = (double)(b - a) / 1e6;
        sum += ms;
        max = ms > max ? ms : max;
        n++;
    }
    if (!n)
        return;
    cv_result_num(run, "start_ms", sum / n);
    cv_result_num(run, "start_ms_max", max);
}

static void *driver_main(void *arg)
{
    struct cv_run *run = arg;
    run->driver_rc = run->ops->run(run);
    run->t_end_mono = cv_clock_mono_ns();
    run->t_end_ticks = cv_clock_ticks();
    if (run->wl->finish)
        run->wl->finish(run);
    publish_start_costs(run);
    atomic_store_explicit(&run->driver_done, 1, memory_order_release);
    return NULL;
}

int cv_run_start(struct cv_run *run, char **cause)
{
    if (atomic_load(&run->state) != CV_RUN_CREATED)
        return usage(cause, "run already started");
    run->cpu_start_s = cpu_seconds();
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages_total = 0, pages_rss = 0;
    if (statm && fscanf(statm, "%lu %lu", &pages_total, &pages_rss) == 2)
        run->rss_start_kb = (double)pages_rss * (double)sysconf(_SC_PAGESIZE) / 1024.0;
    if (statm)
        fclose(statm);
    run->t0_mono = cv_clock_mono_ns();
    run->t0_ticks = cv_clock_ticks();
    cv_collector_attach_rings(run->col, run->rings, run->nlanes, run->t0_ticks);
    if (run->record_path) {
        const struct cv__record_head h = {
            run->sc,     cv_run_model_name(run), run->workers, run->gil_on,
            run->python, run->switch_ms,         run->col};
        int rc;
        run->rec = cv__record_open(&h, run->record_path, cause, &rc);
        if (!run->rec)
            return rc;
    }
    atomic_store(&run->state, CV_RUN_RUNNING);
    int err = pthread_create(&run->driver, NULL, driver_main, run);
    if (err) {
        /* Out of threads (a process limit) or of address space for a stack: the run ends at
         * once as failed, so that it still has a summary and its recording is closed. */
        char hint[160];
        cv__limits_hint(hint, sizeof hint);
        cv_run_error(run, "cannot start the run's driver thread: %s%s", strerror(err), hint);
        cv_run_stop(run);
        run->driver_rc = -1;
        run->t_end_mono = cv_clock_mono_ns();
        run->t_end_ticks = cv_clock_ticks();
        if (run->wl->finish)
            run->wl->finish(run);
        atomic_store_explicit(&run->driver_done, 1, memory_order_release);
        return CV_OK;
    }
    run->driver_started = true;
    return CV_OK;
}

/* The summary of the run as it stands (its results and errors read under their lock). */
static struct cv_value *summary_of(struct cv_run *run)
{
    struct cv__run_facts f = {
        .sc = run->sc,
        .model = cv_run_model_name(run),
        .workers = run->workers,
        .gil = run->gil_on,
        .python = run->python,
        .switch_ms = run->switch_ms,
        .state = cv_run_state(run),
        .wall_s = cv_run_elapsed(run),
        .cpu_s = run->cpu_s,
        .os_threads = run->os_threads,
        .os_processes = run->os_processes,
        .rss_start_kb = run->rss_start_kb,
        .peak_rss_kb = run->peak_rss_kb,
        .snap = cv_run_snapshot(run),
        .bytes_copied = run->bytes_copied,
    };
    pthread_mutex_lock(&run->out_mu);
    f.results = run->results;
    f.errors = run->errors;
    struct cv_value *root = cv__summary_build(&f);
    pthread_mutex_unlock(&run->out_mu);
    return root;
}

struct cv_value *cv_run_summary(struct cv_run *run, bool check, unsigned *failed)
{
    struct cv_value *root = summary_of(run);
    cv__summary_finish(root, run->sc, check, failed);
    return root;
}

static void record_close(struct cv_run *run, const struct cv_value *sum, uint64_t end_ns)
{
    struct cv__record_result r = {0};
    cv__record_close(run->rec, sum, end_ns, &r);
    run->rec = NULL;
    run->rec_events = r.events;
    run->rec_bytes = r.bytes;
    run->rec_error = r.error;
}

static uint64_t now_ns(const struct cv_run *run)
{
    uint64_t t = cv_clock_ticks();
    return t > run->t0_ticks ? cv_clock_ticks_to_ns(t - run->t0_ticks) : 0;
}

#define DEADLOCK_SCAN_EVERY 16 /* polls (~80 ms at the front end's 5 ms) */

/* Names the cycle in results.deadlock and the errors, marks the timeline, stops the run. */
static void report_deadlock(struct cv_run *run)
{
    struct cv_value *d = cv_value_obj();
    struct cv_value *cyc = cv_value_arr();
    char text[512] = "";
    for (size_t i = 0; i + 1 < run->ncycle; i += 2) {
        uint32_t lane = run->cycle[i], obj = run->cycle[i + 1];
        uint32_t next = run->cycle[(i + 2) % run->ncycle];
        struct cv_value *step = cv_value_push(cyc, cv_value_obj());
        cv_value_set_str(step, "lane", run->lanes[lane].name);
        cv_value_set_str(step, "waits_for", run->shm->objs[obj].name);
        cv_value_set_str(step, "held_by", run->lanes[next].name);
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "%s%s waits for %s held by %s", len ? "; " : "",
                 run->lanes[lane].name, run->shm->objs[obj].name, run->lanes[next].name);
    }
    cv_value_set_bool(d, "detected", true);
    cv_value_set(d, "cycle", cyc);
    cv_value_set_str(d, "text", text);
    cv_result_value(run, "deadlock", d);
    cv_run_error(run, "deadlock: %s", text);
    struct cv_event e = {.ts = now_ns(run),
                         .task = CV_NONE,
                         .obj = run->cycle[1],
                         .lane = (uint16_t)run->cycle[0],
                         .kind = CV_EV_DEADLOCK,
                         .arg = run->ncycle / 2};
    cv_collector_feed(run->col, &e, 1);
    run->deadlocked = true;
    cv_run_stop(run);
}

static void scan_deadlock(struct cv_run *run)
{
    run->ncycle = cv__find_deadlock(run, run->cycle, sizeof run->cycle / sizeof run->cycle[0]);
    bool same = run->ncycle && run->ncycle == run->nprev_cycle &&
                !memcmp(run->cycle, run->prev_cycle, run->ncycle * sizeof run->cycle[0]);
    if (same && !run->deadlocked)
        report_deadlock(run);
    memcpy(run->prev_cycle, run->cycle, sizeof run->cycle);
    run->nprev_cycle = run->ncycle;
}

pid_t cv__fork_worker(struct cv_run *run)
{
    pthread_mutex_lock(&run->fork_mu);
    pid_t pid = fork();
    pthread_mutex_unlock(&run->fork_mu); /* in both: the child's copy is held by this thread */
    return pid;
}

/* When events were lost, some tasks' ends may be among them: the run knows how each of its tasks
 * ended, and says it (task.fact, recorded too) for those the collector did not see end, so that
 * the tasks done are never fewer than were done. */
static void task_facts(struct cv_run *run)
{
    if (!run->task_flags || !cv_collector_snapshot(run->col, 0)->events_dropped)
        return;
    uint64_t ts = run->t_end_ticks > run->t0_ticks
                      ? cv_clock_ticks_to_ns(run->t_end_ticks - run->t0_ticks)
                      : 0;
    for (uint32_t t = 0; t < run->ntasks; t++) {
        uint8_t f = atomic_load(&run->task_flags[t]);
        if (!(f & CV__TASK_DONE) || cv_collector_task_ended(run->col, t))
            continue;
        struct cv_event e = {.ts = ts,
                             .task = t,
                             .obj = f & CV__TASK_OK       ? 0u
                                    : f & CV__TASK_FAILED ? 1u
                                                          : 2u,
                             .lane = 0,
                             .kind = CV_EV_TASK_FACT};
        cv_collector_feed(run->col, &e, 1);
    }
}

bool cv_run_poll(struct cv_run *run)
{
    int st = atomic_load(&run->state);
    if (st != CV_RUN_RUNNING)
        return st != CV_RUN_CREATED;
    if (!atomic_load_explicit(&run->driver_done, memory_order_acquire)) {
        pthread_mutex_lock(&run->fork_mu);
        cv__strtab_sync(run); /* texts before the events that name them */
        if (run->ops->sync)
            run->ops->sync(run, false);
        cv_collector_drain(run->col, now_ns(run), false);
        cv__record_poll(run->rec);
        if (++run->polls % DEADLOCK_SCAN_EVERY == 0 && !run->deadlocked)
            scan_deadlock(run);
        if (cv__http_watch(run, false))
            cv_run_stop(run);
        pthread_mutex_unlock(&run->fork_mu);
        return false;
    }
    if (run->driver_started)
        pthread_join(run->driver, NULL);
    run->driver_started = false;
    cv__http_watch(run, true); /* a server that died as the run ended is still named */
    cv__strtab_sync(run);
    if (run->ops->sync)
        run->ops->sync(run, true);
    cv_collector_drain(run->col, 0, true);
    task_facts(run);
    /* On the events' clock, not the monotonic one: the two are calibrated against each other, and
     * an end a few microseconds before the last events would leave them out of a replay. */
    uint64_t end = run->t_end_ticks > run->t0_ticks
                       ? cv_clock_ticks_to_ns(run->t_end_ticks - run->t0_ticks)
                       : 0;
    cv_collector_finish(run->col, end);
    run->cpu_s = cpu_seconds() - run->cpu_start_s;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    run->peak_rss_kb = (double)ru.ru_maxrss;
    /* A model that failed may have stopped the run itself: failure wins over "stopped". */
    int final = CV_RUN_DONE;
    if (run->deadlocked)
        final = CV_RUN_DEADLOCKED;
    else if (run->driver_rc != 0 || run->httpd_died)
        final = CV_RUN_FAILED;
    else if (atomic_load(&run->shm->attention) & CV_ATTN_STOP)
        final = CV_RUN_STOPPED;
    atomic_store(&run->state, final);
    if (run->rec) {
        struct cv_value *sum = summary_of(run);
        record_close(run, sum, end);
        cv_value_free(sum);
    }
    return true;
}

void cv_run_stop(struct cv_run *run)
{
    if (!run || !run->shm)
        return;
    atomic_fetch_or(&run->shm->attention, CV_ATTN_STOP);
    cv__wake_all(run);
}

int cv_run_finish(struct cv_run *run, char **cause)
{
    if (atomic_load(&run->state) == CV_RUN_CREATED)
        return usage(cause, "run not started");
    while (!cv_run_poll(run)) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&run->state) == CV_RUN_FAILED) {
        if (cause) {
            pthread_mutex_lock(&run->out_mu);
            *cause = run->errors->n ? cv_strdup(run->errors->items[0]->str)
                                    : cv_strdup("the run failed");
            pthread_mutex_unlock(&run->out_mu);
        }
        return CV_ERR_RUNTIME;
    }
    return CV_OK;
}

void cv_run_destroy(struct cv_run *run)
{
    if (!run)
        return;
    if (run->driver_started) {
        cv_run_stop(run);
        pthread_join(run->driver, NULL);
    }
    cv__http_teardown(run);
    if (run->setup_done && run->wl->teardown)
        run->wl->teardown(run);
    if (run->shm) {
        for (uint32_t i = 0; i < run->nlanes; i++)
            sem_destroy(&run->lanes[i].park);
        munmap(run->shm_base, run->shm->size);
    }
    cv__gil_destroy(run->gil);
    if (run->ops && run->ops->release)
        run->ops->release(run);
    cv_collector_destroy(run->col);
    free(run->rings);
    free(run->ctxs);
    free(run->role_names);
    free(run->strtab_synced);
    if (run->rec) { /* never started, or destroyed mid-run: close the file as it stands */
        struct cv_value *sum = summary_of(run);
        record_close(run, sum, now_ns(run));
        cv_value_free(sum);
    }
    free(run->record_path);
    free(run->rec_error);
    cv_value_free(run->results);
    cv_value_free(run->errors);
    pthread_mutex_destroy(&run->out_mu);
    pthread_mutex_destroy(&run->fork_mu);
    free(run);
}

/* Accessors */

const char *cv_run_record_error(const struct cv_run *run)
{
    return run->rec_error;
}

void cv_run_record_stats(const struct cv_run *run, uint64_t *events, uint64_t *bytes)
{
    *events = run->rec_events;
    *bytes = run->rec_bytes;
}

enum cv_run_state cv_run_state(const struct cv_run *run)
{
    return (enum cv_run_state)atomic_load(&((struct cv_run *)run)->state);
}

const struct cv_snapshot *cv_run_snapshot(struct cv_run *run)
{
    return cv_collector_snapshot(run->col, now_ns(run));
}

double cv_run_elapsed(const struct cv_run *run)
{
    int st = atomic_load(&((struct cv_run *)run)->state);
    if (st == CV_RUN_CREATED)
        return 0;
    if (cv__clock.source == CV_CLOCK_FAKE) { /* a test's clock: the events' time, not the host's */
        uint64_t t = (st == CV_RUN_RUNNING) ? cv_clock_ticks() : run->t_end_ticks;
        return t > run->t0_ticks ? (double)cv_clock_ticks_to_ns(t - run->t0_ticks) / 1e9 : 0;
    }
    uint64_t end = (st == CV_RUN_RUNNING) ? cv_clock_mono_ns() : run->t_end_mono;
    return end > run->t0_mono ? (double)(end - run->t0_mono) / 1e9 : 0;
}

uint64_t cv_run_task_count(const struct cv_run *run)
{
    return run->wl->shape == CV_SHAPE_ROLES ? run->nroles : run->ntasks;
}

const char *cv_run_model_name(const struct cv_run *run)
{
    return cv_model_name(run->ops->id);
}

unsigned cv_run_workers(const struct cv_run *run)
{
    return run->workers;
}

bool cv_run_gil(const struct cv_run *run)
{
    return run->gil_on;
}

const char *cv_run_python(const struct cv_run *run)
{
    return run->python;
}

void cv_run_set_tasks(struct cv_run *run, uint32_t ntasks)
{
    run->ntasks = ntasks;
}

void cv_run_set_task_timeout(struct cv_run *run, uint64_t ns)
{
    run->task_timeout_ns = ns;
}

void cv_run_set_request_timeout(struct cv_run *run, uint64_t ms)
{
    run->request_timeout_ms = ms;
}

void cv_run_set_fail_fast(struct cv_run *run, bool on)
{
    run->fail_fast = on;
}

void cv__cancel_tasks(struct cv_run *run, uint32_t except)
{
    uint32_t n = (uint32_t)cv_run_task_count(run);
    for (uint32_t t = 0; t < n; t++)
        if (t != except)
            atomic_fetch_or(&run->task_flags[t], CV__TASK_CANCEL);
    /* epoll tasks notice at their next wait once woken */
    cv__wake_all(run);
}

void cv_run_add_role(struct cv_run *run, const char *name)
{
    run->role_names = cv_xrealloc(run->role_names, (run->nroles + 1) * sizeof *run->role_names);
    snprintf(run->role_names[run->nroles], CV_NAME_MAX, "%s", name);
    run->nroles++;
}

void cv_run_add_roles(struct cv_run *run, const char *prefix, int64_t n)
{
    char name[CV_NAME_MAX];
    for (int64_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s-%lld", prefix, (long long)i + 1);
        cv_run_add_role(run, name);
    }
}

static const char *param_text(const struct cv_run *run, const char *key)
{
    const struct cv_param *p = cv_scenario_param(run->sc, key);
    return p ? p->value : NULL;
}

int64_t cv_param_int(const struct cv_run *run, const char *key)
{
    const char *v = param_text(run, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

double cv_param_num(const struct cv_run *run, const char *key)
{
    const char *v = param_text(run, key);
    return v ? strtod(v, NULL) : 0;
}

const char *cv_param_str(const struct cv_run *run, const char *key)
{
    const char *v = param_text(run, key);
    return v ? v : "";
}

double cv__run_file_busy_s(const struct cv_run *run)
{
    return (double)atomic_load(&run->shm->file_busy_ns) / 1e9;
}

double cv__run_offload_busy_s(const struct cv_run *run)
{
    return (double)atomic_load(&run->shm->offload_busy_ns) / 1e9;
}

const char *cv__run_lane_name(const struct cv_run *run, uint32_t lane)
{
    return lane < run->nlanes ? run->lanes[lane].name : "";
}

const struct cv_httpd_tally *cv__run_httpd_tally(const struct cv_run *run)
{
    return run->httpd ? run->httpd->tally : NULL;
}

void *cv_run_workload_state(struct cv_run *run)
{
    return run->wl_state;
}

void cv_run_set_workload_state(struct cv_run *run, void *state)
{
    run->wl_state = state;
}
