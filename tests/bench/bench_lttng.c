/*
 * bench_lttng: concviz's recorder beside LTTng-UST, in the same run, recording the same events
 * (kind u16, lane u16, task u32, obj u32, arg u64; each stamps its own timestamp):
 *
 *   concviz    cv_ring_record into a 128 Ki-slot ring (a live run's default) that a collector
 *              thread drains every 1 ms; before each batch the producer waits, untimed, for room
 *              (as bench_record's collector case does), so nothing is dropped.
 *   LTTng-UST  lttng_ust_tracepoint() of a provider of our own (bench_lttng_tp.h) with an active
 *              session recording to a temporary directory: a per-user channel of 16 x 4 MiB
 *              sub-buffers per CPU in discard mode, drained to disk by the consumer daemon. A
 *              disabled tracepoint would cost a branch; this one writes every event.
 *
 * Each figure is ns per event over timed batches of 60000 events, the median of 9 runs of 40
 * batches per thread, on 1 thread and on 2 threads at once (2 lanes, 2 rings, one collector);
 * the two recorders alternate run by run so a busy spell of the host hits both. After each
 * LTTng run the bench pauses (untimed) so the consumer daemon's writing does not overlap the
 * next run. Printed: a table (wall time per event, and the producer threads' CPU time per event,
 * which leaves out time they were preempted: 2 producers plus the collector or the consumer
 * daemon share 2 CPUs here), the drops on both sides (concviz: the rings' drop counts and the
 * events the collector got; LTTng: the channel's "Discarded events" from `lttng list`, and the
 * trace's bytes per event as a check that the events were written: about 1.8 GB for 70 M events),
 * the clocks each stamps with (concviz: cv_clock_ticks, the TSC where usable; LTTng-UST:
 * clock_gettime(CLOCK_MONOTONIC) by default), CPU shares, the time taken, and one "json: " line.
 *
 * The session is driven with the lttng command line under LTTNG_HOME set to a fresh temporary
 * directory (the bench re-executes itself once so that liblttng-ust also sees it): it uses the
 * session daemon that runs (root's, or the user's under that LTTNG_HOME), or starts
 * `lttng-sessiond --no-kernel` as its own child and stops it at the end; the trace and the
 * directory are removed at the end. As root the daemon's sockets live in /var/run/lttng and
 * liblttng-ust keeps /dev/shm/lttng-ust-wait-* (neither can be moved). If the peer cannot be
 * measured (no lttng tools, a daemon that will not start, built without lttng-ust), one line
 * says why and the concviz figures are printed alone. Exit 0 either way.
 */
#include "bench_collector.h"
#include "bench_util.h"
#include "concviz/clock.h"
#include "concviz/collector.h"
#include "concviz/event.h"
#include "concviz/ring.h"

#ifdef CONCVIZ_HAVE_LTTNG
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "bench_lttng_tp.h"

#include <lttng/ust-version.h>
#define PEER_VERSION LTTNG_UST_VERSION
#else
#define PEER_VERSION "none"
#endif

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS          9
#define RING_CAP      (1u << 17)
#define BATCH         60000u
#define BATCHES       40u /* per thread and run: 2.4 M events */
#define CLOCK_CALLS   2000000u
#define MAX_THREADS   2
#define PEER_PAUSE_MS 150 /* after each LTTng run: the consumer daemon writes out the run */
#define SUBBUF_SIZE   "4M"
#define NUM_SUBBUF    16
#define TRACE_NEED_GB 2.5 /* 70 M events of 26 bytes on disk, with room to spare */
#define HOME_ENV      "CONCVIZ_BENCH_LTTNG_HOME" /* set once the bench has re-executed itself */

static volatile uint64_t sink;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t ring_drops(struct cv_ring *r)
{
    return atomic_load_explicit(&r->drops, memory_order_relaxed);
}

/* The 1-minute load average, or -1. */
static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* ---- clocks: what each recorder stamps with ---- */

static double time_ticks(void)
{
    uint64_t acc = 0;
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = 0; i < CLOCK_CALLS; i++)
        acc += cv_clock_ticks();
    uint64_t t1 = bench_mono_ns();
    sink = acc;
    return (double)(t1 - t0) / CLOCK_CALLS;
}

static double time_gettime(void)
{
    uint64_t acc = 0;
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = 0; i < CLOCK_CALLS; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        acc += (uint64_t)ts.tv_nsec;
    }
    uint64_t t1 = bench_mono_ns();
    sink = acc;
    return (double)(t1 - t0) / CLOCK_CALLS;
}

static double clock_median(double (*fn)(void))
{
    double v[RUNS];
    for (int i = 0; i < RUNS; i++)
        v[i] = fn();
    return bench_median(v, RUNS);
}

/* ---- the events: bench_collector.h's task life on one lane, 8 events (as in bench_record) ---- */

/* Event i of lane's sequence through concviz; task ids are unique across nlanes lanes. One timed
 * batch; returns its ns. */
static uint64_t batch_concviz(struct cv_ring *r, uint16_t lane, unsigned nlanes, uint64_t first)
{
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = first; i < first + BATCH; i++) {
        const struct bench_step *s = &bench_steps[i & 7];
        uint32_t task = (uint32_t)((i >> 3) * nlanes + lane);
        cv_ring_record(r, s->kind, lane, task, s->obj, s->arg);
    }
    return bench_mono_ns() - t0;
}

/* The same events through the LTTng tracepoint. */
static uint64_t batch_lttng(uint16_t lane, unsigned nlanes, uint64_t first)
{
    uint64_t t0 = bench_mono_ns();
#ifdef CONCVIZ_HAVE_LTTNG
    for (uint64_t i = first; i < first + BATCH; i++) {
        const struct bench_step *s = &bench_steps[i & 7];
        uint32_t task = (uint32_t)((i >> 3) * nlanes + lane);
        lttng_ust_tracepoint(concviz_bench, event, s->kind, lane, task, s->obj, s->arg);
    }
#else
    (void)lane;
    (void)nlanes;
    (void)first;
#endif
    return bench_mono_ns() - t0;
}

/* ---- one run: 1 or 2 producer threads, each BATCHES timed batches ---- */

enum recorder { REC_CONCVIZ, REC_LTTNG };

struct worker {
    enum recorder rec;
    struct cv_ring *ring; /* concviz only */
    uint16_t lane;
    unsigned nlanes;
    pthread_barrier_t *start; /* NULL on 1 thread */
    double ns_per_event;      /* wall time of the timed batches */
    double cpu_per_event;     /* the thread's CPU time in them */
    double cpu_share;         /* their ratio: under 1, the thread was not running all the time */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct timespec pause = {0, 50000};
    if (w->start)
        pthread_barrier_wait(w->start);
    uint64_t timed = 0, cpu = 0;
    for (uint64_t b = 0; b < BATCHES; b++) {
        if (w->rec == REC_CONCVIZ)
            while (cv_ring_capacity(w->ring) - cv_ring_pending(w->ring) < BATCH)
                nanosleep(&pause, NULL); /* untimed: wait for the collector to make room */
        uint64_t c0 = bench_thread_cpu_ns();
        if (w->rec == REC_CONCVIZ)
            timed += batch_concviz(w->ring, w->lane, w->nlanes, b * BATCH);
        else
            timed += batch_lttng(w->lane, w->nlanes, b * BATCH);
        cpu += bench_thread_cpu_ns() - c0;
    }
    w->cpu_share = (double)cpu / (double)timed;
    w->ns_per_event = (double)timed / ((double)BATCHES * BATCH);
    w->cpu_per_event = (double)cpu / ((double)BATCHES * BATCH);
    return NULL;
}

struct run_result {
    double ns[MAX_THREADS]; /* per thread */
    double cpu_ns;          /* CPU time per event, the mean of the threads' */
    double cpu_share;       /* the lowest of the threads' */
    uint64_t drops;         /* concviz: the rings' drop counts */
    uint64_t lost;          /* concviz: events the collector never got */
};

static struct cv_ring *rings[MAX_THREADS];
static uint64_t lttng_emitted; /* tracepoint calls made while the session was recording */

static struct run_result run_once(enum recorder rec, unsigned nthreads)
{
    struct run_result out = {{0}, 0, 1, 0, 0};
    struct bench_collector_thread x = {0};
    pthread_t coll;
    uint64_t drops0 = 0;
    if (rec == REC_CONCVIZ) {
        x.c = bench_collector_new(nthreads);
        x.t0 = cv_clock_ticks();
        cv_collector_attach_rings(x.c, rings, nthreads, x.t0);
        atomic_init(&x.stop, false);
        for (unsigned k = 0; k < nthreads; k++)
            drops0 += ring_drops(rings[k]);
        bench_start_thread(&coll, bench_collector_main, &x);
    }

    struct worker w[MAX_THREADS];
    pthread_barrier_t start;
    for (unsigned k = 0; k < nthreads; k++)
        w[k] = (struct worker){rec, rings[k], (uint16_t)k, nthreads, NULL, 0, 0, 0};
    if (nthreads == 1) {
        worker_main(&w[0]);
    } else {
        pthread_barrier_init(&start, NULL, nthreads);
        pthread_t th[MAX_THREADS];
        for (unsigned k = 0; k < nthreads; k++) {
            w[k].start = &start;
            bench_start_thread(&th[k], worker_main, &w[k]);
        }
        for (unsigned k = 0; k < nthreads; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&start);
    }
    for (unsigned k = 0; k < nthreads; k++) {
        out.ns[k] = w[k].ns_per_event;
        out.cpu_ns += w[k].cpu_per_event / nthreads;
        if (w[k].cpu_share < out.cpu_share)
            out.cpu_share = w[k].cpu_share;
    }

    uint64_t want = (uint64_t)nthreads * BATCHES * BATCH;
    if (rec == REC_CONCVIZ) {
        atomic_store_explicit(&x.stop, true, memory_order_release);
        pthread_join(coll, NULL);
        cv_collector_drain(x.c, 0, true);
        uint64_t fed = cv_collector_snapshot(x.c, 0)->events_recorded;
        for (unsigned k = 0; k < nthreads; k++)
            out.drops += ring_drops(rings[k]);
        out.drops -= drops0;
        out.lost = fed < want ? want - fed : 0;
        cv_collector_destroy(x.c);
    } else {
        lttng_emitted += want;
        sleep_ms(PEER_PAUSE_MS);
    }
    return out;
}

/* ---- the LTTng session, through the lttng command line ---- */

struct peer {
    bool ok;
    char why[1024]; /* why the peer was not measured */
    char home[PATH_MAX];
    char session[64];
    pid_t sessiond; /* started by us, or 0 */
    bool created, started;
};

static struct peer peer;

/* The last non-empty line of a log file, for the reason a command failed. */
static void last_line(const char *path, char *out, size_t n)
{
    char line[512];
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(line);
        if (len > 0) {
            if (len >= n)
                len = n - 1;
            memcpy(out, line, len);
            out[len] = '\0';
        }
    }
    fclose(f);
}

/*
 * Runs `lttng --no-sessiond ARGS` (never spawning a daemon behind our back), its output appended
 * to HOME/lttng.log; returns its exit status, -1 when it could not run. On failure peer.why says
 * what failed and the log's last line.
 */
static int lttng(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int lttng(const char *fmt, ...)
{
    char args[512], cmd[1024 + PATH_MAX], log[PATH_MAX + 16];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof args)
        return -1;
    snprintf(log, sizeof log, "%s/lttng.log", peer.home);
    snprintf(cmd, sizeof cmd, "lttng --no-sessiond %s >>'%s' 2>&1", args, log);
    int st = system(cmd);
    int rc = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc != 0) {
        char tail[256];
        last_line(log, tail, sizeof tail);
        snprintf(peer.why, sizeof peer.why, "`lttng %s` failed (exit %d): %s", args, rc,
                 tail[0] ? tail : "no output");
    }
    return rc;
}

#ifdef CONCVIZ_HAVE_LTTNG
/* Whether a session daemon answers (ours or one that ran before). */
static bool sessiond_answers(void)
{
    int st = system("lttng --no-sessiond list >/dev/null 2>&1");
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Starts `lttng-sessiond --no-kernel` as our child, its output in HOME/sessiond.log, and waits up
 * to 10 s for it to answer. */
static bool sessiond_start(void)
{
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/sessiond.log", peer.home);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    static char arg0[] = "lttng-sessiond", arg1[] = "--no-kernel";
    char *argv[] = {arg0, arg1, NULL};
    int err = posix_spawnp(&peer.sessiond, "lttng-sessiond", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        peer.sessiond = 0;
        snprintf(peer.why, sizeof peer.why, "cannot start lttng-sessiond: %s", strerror(err));
        return false;
    }
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(peer.sessiond, &st, WNOHANG) == peer.sessiond) {
            char tail[256];
            last_line(log, tail, sizeof tail);
            snprintf(peer.why, sizeof peer.why, "lttng-sessiond exited at once (%s %d): %s",
                     WIFEXITED(st) ? "status" : "signal",
                     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), tail[0] ? tail : "no output");
            peer.sessiond = 0;
            return false;
        }
        if (sessiond_answers())
            return true;
        sleep_ms(50);
    }
    snprintf(peer.why, sizeof peer.why, "lttng-sessiond did not answer within 10 s");
    return false;
}

/* Waits up to 10 s for this process to be registered with the daemon, its provider listed. */
static bool wait_registered(void)
{
    for (int i = 0; i < 100; i++) {
        FILE *f = popen("lttng --no-sessiond list -u 2>/dev/null", "r");
        bool ours = false, found = false;
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            if (!strncmp(line, "PID: ", 5))
                ours = atol(line + 5) == (long)getpid();
            else if (ours && strstr(line, "concviz_bench:event"))
                found = true;
        }
        if (f)
            pclose(f);
        if (found)
            return true;
        sleep_ms(100);
    }
    snprintf(peer.why, sizeof peer.why,
             "this process never registered with the session daemon (10 s; `lttng list -u` does "
             "not show concviz_bench:event)");
    return false;
}
#endif

/* Sums the "Discarded events:" and "Lost packets:" figures of `lttng list SESSION`; false when
 * it could not be read. */
static bool peer_discarded(uint64_t *discarded, uint64_t *lost_packets)
{
    char cmd[128], line[512];
    snprintf(cmd, sizeof cmd, "lttng --no-sessiond list %s 2>/dev/null", peer.session);
    FILE *f = popen(cmd, "r");
    bool seen = false;
    *discarded = *lost_packets = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *p;
        if ((p = strstr(line, "Discarded events:"))) {
            *discarded += strtoull(p + strlen("Discarded events:"), NULL, 10);
            seen = true;
        } else if ((p = strstr(line, "Lost packets:"))) {
            *lost_packets += strtoull(p + strlen("Lost packets:"), NULL, 10);
        }
    }
    if (f && pclose(f) != 0)
        seen = false;
    return seen;
}

static uint64_t trace_bytes;

/* Counts the event streams' bytes: every regular file but the metadata and the indexes. */
static int trace_size_fn(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && strcmp(path + ftw->base, "metadata") != 0 && !strstr(path, "/index/"))
        trace_bytes += (uint64_t)st->st_size;
    return 0;
}

static int remove_fn(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Stops and waits for the daemon we started (SIGTERM, then SIGKILL after 5 s); the consumer
 * daemons it started exit with it. */
static void sessiond_stop(void)
{
    if (!peer.sessiond)
        return;
    kill(peer.sessiond, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(peer.sessiond, NULL, WNOHANG) == peer.sessiond) {
            peer.sessiond = 0;
            return;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "bench_lttng: lttng-sessiond (pid %ld) ignored SIGTERM for 5 s; killing it\n",
            (long)peer.sessiond);
    kill(peer.sessiond, SIGKILL);
    waitpid(peer.sessiond, NULL, 0);
    peer.sessiond = 0;
}

#ifdef CONCVIZ_HAVE_LTTNG
/* Sets LTTNG_HOME to a fresh temporary directory and re-executes the bench, so that liblttng-ust
 * (whose constructor reads LTTNG_HOME before main) and every lttng command see it. */
static void peer_home(char **argv)
{
    const char *home = getenv(HOME_ENV);
    if (home) {
        snprintf(peer.home, sizeof peer.home, "%s", home);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strchr(tmp, '\'')) /* the path goes into shell commands in quotes */
        tmp = "/tmp";
    snprintf(peer.home, sizeof peer.home, "%.200s/cv_bench_lttng_XXXXXX", tmp);
    if (!mkdtemp(peer.home)) {
        snprintf(peer.why, sizeof peer.why, "mkdtemp %.200s: %s", peer.home, strerror(errno));
        peer.home[0] = '\0';
        return;
    }
    setenv(HOME_ENV, peer.home, 1);
    setenv("LTTNG_HOME", peer.home, 1);
    fflush(stdout);
    execv("/proc/self/exe", argv);
    /* Could not: go on. The root session daemon is reached anyway; a user's may not be. */
    fprintf(stderr, "bench_lttng: re-executing with LTTNG_HOME set: %s\n", strerror(errno));
}
#endif

/* Starts the daemon if none answers, creates the session, enables the event, starts recording,
 * and waits until the tracepoint is live in this process. */
static bool peer_start(void)
{
#ifdef CONCVIZ_HAVE_LTTNG
    if (!peer.home[0])
        return false;
    snprintf(peer.session, sizeof peer.session, "cv_bench_%ld", (long)getpid());
    struct statvfs vfs;
    if (statvfs(peer.home, &vfs) == 0 &&
        (double)vfs.f_bavail * (double)vfs.f_frsize < TRACE_NEED_GB * 1e9) {
        snprintf(peer.why, sizeof peer.why,
                 "the trace needs about %.0f GB and %.1f GB are free where it would go (TMPDIR)",
                 TRACE_NEED_GB, (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9);
        return false;
    }
    if (!sessiond_answers() && !sessiond_start())
        return false;
    if (!wait_registered())
        return false;
    if (lttng("create %s --output '%s/trace'", peer.session, peer.home) != 0)
        return false;
    peer.created = true;
    if (lttng("enable-channel -u -s %s --subbuf-size=%s --num-subbuf=%d cvbench", peer.session,
              SUBBUF_SIZE, NUM_SUBBUF) != 0 ||
        lttng("enable-event -u -s %s -c cvbench 'concviz_bench:*'", peer.session) != 0 ||
        lttng("start %s", peer.session) != 0)
        return false;
    peer.started = true;
    for (int i = 0; i < 100 && !lttng_ust_tracepoint_enabled(concviz_bench, event); i++)
        sleep_ms(50);
    if (!lttng_ust_tracepoint_enabled(concviz_bench, event)) {
        snprintf(peer.why, sizeof peer.why,
                 "the session started but concviz_bench:event never became enabled here");
        return false;
    }
    return true;
#else
    snprintf(peer.why, sizeof peer.why,
             "built without lttng-ust (liblttng-ust-dev missing at configure time, or "
             "tests/bench/lttng.cmake not included)");
    return false;
#endif
}

/* Whatever peer_start got to, undone: the session destroyed, our daemon stopped, the directory
 * removed. */
static void peer_end(void)
{
    if (peer.started)
        lttng("stop %s", peer.session);
    if (peer.created)
        lttng("destroy %s", peer.session);
    peer.started = peer.created = false;
    sessiond_stop();
    if (peer.home[0] && getenv(HOME_ENV))
        nftw(peer.home, remove_fn, 16, FTW_DEPTH | FTW_PHYS);
    peer.home[0] = '\0';
}

/* ---- report ---- */

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* One recorder's runs. */
struct series {
    double one[RUNS], share1[RUNS], cpu1[RUNS];              /* 1 thread */
    double two[MAX_THREADS][RUNS], share2[RUNS], cpu2[RUNS]; /* 2 threads */
};

static void series_one(struct series *s, int i, const struct run_result *r)
{
    s->one[i] = r->ns[0];
    s->share1[i] = r->cpu_share;
    s->cpu1[i] = r->cpu_ns;
}

static void series_two(struct series *s, int i, const struct run_result *r)
{
    for (int k = 0; k < MAX_THREADS; k++)
        s->two[k][i] = r->ns[k];
    s->share2[i] = r->cpu_share;
    s->cpu2[i] = r->cpu_ns;
}

/* Medians: ns/event (wall), CPU ns/event, aggregate events/s, CPU shares. */
struct figures {
    double one, two[MAX_THREADS], two_mean, two_agg;
    double cpu_one, cpu_two;
    double share_one, share_two;
};

static struct figures summarize(const struct series *s)
{
    struct figures f;
    double mean[RUNS], agg[RUNS];
    for (int i = 0; i < RUNS; i++) {
        mean[i] = (s->two[0][i] + s->two[1][i]) / 2;
        agg[i] = 1e9 / s->two[0][i] + 1e9 / s->two[1][i];
    }
    f.one = bench_median(s->one, RUNS);
    for (int k = 0; k < MAX_THREADS; k++)
        f.two[k] = bench_median(s->two[k], RUNS);
    f.two_mean = bench_median(mean, RUNS);
    f.two_agg = bench_median(agg, RUNS);
    f.cpu_one = bench_median(s->cpu1, RUNS);
    f.cpu_two = bench_median(s->cpu2, RUNS);
    f.share_one = bench_median(s->share1, RUNS);
    f.share_two = bench_median(s->share2, RUNS);
    return f;
}

static void row(const char *what, double ours, double theirs, bool have, const char *unit)
{
    if (have)
        printf("  %-36s %10.2f %11.2f %12.3f  %s\n", what, ours, theirs, ours / theirs, unit);
    else
        printf("  %-36s %10.2f %11s %12s  %s\n", what, ours, "-", "-", unit);
}

int main(int argc, char **argv)
{
    (void)argc;
#ifdef CONCVIZ_HAVE_LTTNG
    peer_home(argv);
#else
    (void)argv;
#endif
    uint64_t t_begin = bench_mono_ns();
    printf("bench_lttng: concviz's cv_ring_record (a collector thread draining every 1 ms) beside "
           "LTTng-UST (an active session writing to a temporary directory), the same events, 1 "
           "and 2 threads; each figure is the median of %d runs of %u x %u events per thread, "
           "timed with CLOCK_MONOTONIC\n",
           RUNS, BATCHES, BATCH);
    fflush(stdout);
    double load0 = load_average();

    enum cv_clock_source src = cv_clock_init();
    double ticks_ns = clock_median(time_ticks);
    double gettime_ns = clock_median(time_gettime);

    peer.ok = peer_start();
    if (!peer.ok) {
        printf("  LTTng-UST: the peer could not be measured: %s; concviz figures only\n", peer.why);
        peer_end();
    }
    fflush(stdout);
    uint64_t t_setup = bench_mono_ns();

    for (int k = 0; k < MAX_THREADS; k++)
        rings[k] = cv_ring_init(bench_xalloc(64, cv_ring_bytes(RING_CAP)), RING_CAP);

    /* Warm-up, untimed: rings, the collector's store, LTTng's buffers and code paths. */
    run_once(REC_CONCVIZ, 2);
    if (peer.ok)
        run_once(REC_LTTNG, 2);
    uint64_t disc_warm = 0, disc_one = 0, disc_end = 0, lost_pk = 0;
    bool disc_ok = peer.ok && peer_discarded(&disc_warm, &lost_pk);

    static struct series ours, theirs;
    uint64_t drops = 0, lost = 0;
    for (int i = 0; i < RUNS; i++) {
        struct run_result r = run_once(REC_CONCVIZ, 1);
        series_one(&ours, i, &r);
        drops += r.drops;
        lost += r.lost;
        if (peer.ok) {
            r = run_once(REC_LTTNG, 1);
            series_one(&theirs, i, &r);
        }
    }
    if (disc_ok)
        disc_ok = peer_discarded(&disc_one, &lost_pk);
    for (int i = 0; i < RUNS; i++) {
        struct run_result r = run_once(REC_CONCVIZ, 2);
        series_two(&ours, i, &r);
        drops += r.drops;
        lost += r.lost;
        if (peer.ok) {
            r = run_once(REC_LTTNG, 2);
            series_two(&theirs, i, &r);
        }
    }
    uint64_t t_runs = bench_mono_ns();

    /* Stop (which flushes the buffers to disk), read the discards, weigh the trace. */
    bool stopped = false;
    if (peer.ok) {
        stopped = lttng("stop %s", peer.session) == 0;
        peer.started = !stopped;
        if (disc_ok)
            disc_ok = peer_discarded(&disc_end, &lost_pk);
        char dir[PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s/trace", peer.home);
        nftw(dir, trace_size_fn, 16, FTW_PHYS);
    }
    uint64_t written = lttng_emitted > disc_end ? lttng_emitted - disc_end : 0;
    double bytes_per_event = written ? (double)trace_bytes / (double)written : 0;
    bool plausible = stopped && bytes_per_event >= 20 && bytes_per_event <= 64;
    if (peer.ok)
        peer_end();
    double load1 = load_average();
    double total_s = (double)(bench_mono_ns() - t_begin) / 1e9;

    struct figures o = summarize(&ours);
    struct figures t = {0};
    if (peer.ok)
        t = summarize(&theirs);
    bool have = peer.ok;

    printf("\n  %-36s %10s %11s %12s  %s\n", "ns per event (median)", "concviz", "LTTng-UST",
           "ours/theirs", "unit");
    row("record, 1 thread", o.one, t.one, have, "ns/event");
    row("record, 2 threads: thread 0", o.two[0], t.two[0], have, "ns/event");
    row("record, 2 threads: thread 1", o.two[1], t.two[1], have, "ns/event");
    row("record, 2 threads: mean of the two", o.two_mean, t.two_mean, have, "ns/event");
    if (have)
        printf("  %-36s %10.1f %11.1f %12s  Mevents/s\n", "  2 threads aggregate", o.two_agg / 1e6,
               t.two_agg / 1e6, "");
    else
        printf("  %-36s %10.1f %11s %12s  Mevents/s\n", "  2 threads aggregate", o.two_agg / 1e6,
               "-", "");
    row("thread CPU time, 1 thread", o.cpu_one, t.cpu_one, have, "ns/event");
    row("thread CPU time, 2 threads (mean)", o.cpu_two, t.cpu_two, have, "ns/event");

    printf("\n  per run: %u events per thread in batches of %u; %d runs per case, the recorders "
           "alternating; ring %u slots\n",
           BATCHES * BATCH, BATCH, RUNS, RING_CAP);
    printf("  clocks: concviz stamps with %s (%.2f ns/call, %.3f GHz TSC); LTTng-UST with "
           "clock_gettime(CLOCK_MONOTONIC) (%.2f ns/call)\n",
           cv_clock_source_name(src), ticks_ns, cv__clock.tsc_ghz, gettime_ns);
    printf("  concviz: drops %" PRIu64 ", events the collector never got %" PRIu64 "\n", drops,
           lost);
    if (have) {
        printf("  LTTng-UST %s: channel %d x %s sub-buffers per CPU, per-user buffers, discard "
               "mode; %" PRIu64 " events emitted while recording\n",
               PEER_VERSION, NUM_SUBBUF, SUBBUF_SIZE, lttng_emitted);
        if (disc_ok)
            printf("  LTTng-UST discarded events: %" PRIu64 " (warm-up %" PRIu64
                   ", 1 thread %" PRIu64 ", 2 threads %" PRIu64 "), lost packets %" PRIu64 "\n",
                   disc_end, disc_warm, disc_one - disc_warm, disc_end - disc_one, lost_pk);
        else
            printf("  LTTng-UST discarded events: could not be read from `lttng list`\n");
        printf("  trace: %.1f MB of event streams for %" PRIu64 " events kept: %.1f bytes/event "
               "(20 bytes of fields, header, alignment) %s\n",
               (double)trace_bytes / 1e6, written, bytes_per_event,
               plausible ? "(plausible)" : "(NOT plausible: were the events written?)");
    }
    printf("  CPU share in the timed batches (thread CPU time / wall), medians: concviz 1 thread "
           "%.2f, 2 threads %.2f",
           o.share_one, o.share_two);
    if (have)
        printf("; LTTng 1 thread %.2f, 2 threads %.2f", t.share_one, t.share_two);
    printf("; load average %.2f at start, %.2f at end\n", load0, load1);
    printf("  time: %.1f s in all (set-up %.1f s, runs %.1f s)\n", total_s,
           (double)(t_setup - t_begin) / 1e9, (double)(t_runs - t_setup) / 1e9);
    if (o.share_one < 0.9 || o.share_two < 0.9 ||
        (have && (t.share_one < 0.9 || t.share_two < 0.9)))
        printf("  warning: a measured thread was not running all the time (preempted by the "
               "collector thread, LTTng's consumer daemon or another process); the wall-time "
               "figures include that, the CPU-time rows do not\n");

    printf("json: {\"clock_source\":\"%s\",\"tsc_ghz\":%.4f,\"clock_ticks_ns\":%.3f,"
           "\"clock_gettime_ns\":%.3f,\"events_per_run\":%u,\"batch\":%u,\"runs\":%d,"
           "\"concviz\":{\"record_1t_ns\":%.3f,\"record_2t_ns\":[%.3f,%.3f],"
           "\"record_2t_mean_ns\":%.3f,\"record_2t_events_per_s\":%.0f,\"drops\":%" PRIu64
           ",\"lost\":%" PRIu64 ",\"cpu_ns\":[%.3f,%.3f],\"cpu_share\":[%.3f,%.3f]},",
           cv_clock_source_name(src), cv__clock.tsc_ghz, ticks_ns, gettime_ns, BATCHES * BATCH,
           BATCH, RUNS, o.one, o.two[0], o.two[1], o.two_mean, o.two_agg, drops, lost, o.cpu_one,
           o.cpu_two, o.share_one, o.share_two);
    if (have) {
        printf("\"lttng\":{\"version\":\"%s\",\"record_1t_ns\":%.3f,\"record_2t_ns\":[%.3f,%.3f],"
               "\"record_2t_mean_ns\":%.3f,\"record_2t_events_per_s\":%.0f,\"emitted\":%" PRIu64
               ",\"discarded\":",
               PEER_VERSION, t.one, t.two[0], t.two[1], t.two_mean, t.two_agg, lttng_emitted);
        if (disc_ok)
            printf("%" PRIu64, disc_end);
        else
            printf("null");
        printf(",\"trace_bytes\":%" PRIu64 ",\"bytes_per_event\":%.2f,\"trace_plausible\":%s,"
               "\"subbuf\":\"%s\",\"num_subbuf\":%d,\"cpu_ns\":[%.3f,%.3f],"
               "\"cpu_share\":[%.3f,%.3f]},\"ratio\":{\"1t\":%.3f,\"2t\":%.3f,"
               "\"cpu_1t\":%.3f,\"cpu_2t\":%.3f},\"lttng_reason\":null,",
               trace_bytes, bytes_per_event, plausible ? "true" : "false", SUBBUF_SIZE, NUM_SUBBUF,
               t.cpu_one, t.cpu_two, t.share_one, t.share_two, o.one / t.one,
               o.two_mean / t.two_mean, o.cpu_one / t.cpu_one, o.cpu_two / t.cpu_two);
    } else {
        printf("\"lttng\":null,\"ratio\":null,\"lttng_reason\":");
        json_str(peer.why);
        putchar(',');
    }
    printf("\"loadavg\":[%.2f,%.2f],\"seconds\":%.1f}\n", load0, load1, total_s);
    for (int k = 0; k < MAX_THREADS; k++)
        free(rings[k]);
    return 0;
}
