/*
 * bench_ui: what one frame of the live view costs on a real terminal. The live view's drawing
 * code (ui_frame_draw, the same as a live run's) renders a synthetic snapshot shaped like a run
 * (lanes in runs of states, two locks, a queue with a depth history, counters, a completion
 * order) into a pseudo-terminal of 200x60 with TERM=xterm-256color; a reader thread drains the
 * pty and counts the bytes ncurses writes. Not a pass/fail test: the targets (under 1 ms for a
 * full 64-lane frame, the UI under 5 % of one core at 30 fps) are reported, exit is 0.
 *
 * Frames measured, each the median of FRAMES frames (wall time of ui_frame_draw including
 * ncurses' write to the pty; bytes from the reader), for snapshots of 8, 64 and 1,000 lanes, and
 * of 1,000 lanes with the lane filter (the view's `/`) set to "worker-1" (112 lanes match, more
 * than the 43 rows shown, so the same rows are drawn and the difference is the filter's cost):
 *   full       the whole screen redrawn (clearok before each frame)
 *   same       the same snapshot again: what a frame costs when nothing changed
 *   10% runs   a tenth of the timeline cells change, as runs of 6 cells (states change in runs)
 *   10% dots   a tenth of the timeline cells change, each alone, scattered
 *   scroll     the view moves one column (fixed zoom, following the run): every cell shifts
 *
 * Then the UI's CPU share during real live runs (ui_live, 30 fps, a script that waits LIVE_S
 * seconds, reading the header at 2 s and 3 s, then presses q): counter-race with a mutex (4
 * threads, ~2 M events/s for the front end to drain) and cpu-primes (2 threads, few events), each
 * on this 200x60 pty and on a virtual 200x60 screen (output to /dev/null). Then the same at
 * scale: c10k under epoll (10,000 requests, each a coroutine lane waiting 12 s on the embedded
 * HTTP server, plus the loop's lane: 10,001 lanes, the view listing 43 of them), watched
 * C10K_LIVE_S (8) seconds with the steady window at 4.0-7.8 s, once the connections are all
 * open; the screen's "in flight" at both ends of the window (10000-10000) shows that every lane
 * was live throughout. The front end is two threads: the view's (the one running ui_live: keys,
 * drawing, ncurses' output) and the drain thread ("cv-drain", which polls the run: its events
 * into the collector and the recording).
 * Shares of one core:
 *   call       CPU time of the thread running ui_live (CLOCK_THREAD_CPUTIME_ID around the call)
 *              over its wall time: the view, and also the run's creation and, after q, its stop
 *              and summary. Workers and the drain are other threads.
 *   view       the same thread's CPU clock (pthread_getcpuclockid) read by another thread at 1.0
 *              and LIVE_S - 0.2 s (c10k: 4.0 and 7.8 s): the view while the run goes, without
 *              creation and summary.
 *   drain      the drain thread's CPU time (its schedstat, in ns) read at the same two moments
 *              (when the view drained on its own thread, before, this column is unknown and the
 *              drain is inside `view`).
 *   front      view + drain: the whole front end while the run goes. The 5 % target is checked
 *              against this figure.
 *   draw       the share the live view itself shows in its header ("ui N%": CPU time inside its
 *              draw function over the last second), read from the screen a second before the
 *              end and at the end, averaged: the snapshot drawn, drawing and ncurses' output;
 *              rest = view - draw (getch's refresh on a terminal, the key polling).
 *   process    the whole process's CPU over the call (workers included): under 2 x 100 % on this
 *              2-CPU machine, something else was running.
 *   lanes      the lanes the view lists (from its lanes panel).
 *   in flight  the results panel's "in flight N" at the window's start and at the end.
 * The json line has each run's figures ("live"; front_end_steady_share is view + drain) and the
 * worst of them (ui_front_worst, ui_draw_worst; for c10k c10k_front_worst, c10k_draw_worst).
 *
 * Usage: bench_ui [frames]   (default 200)
 */
#include "bench_util.h"
#include "ui.h"

#include <curses.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define W           200
#define H           60
#define BUCKETS     4096
#define BUCKET_NS   1000000ull
#define TARGET_MS   1.0
#define TARGET_UI   0.05 /* of one core */
#define ROWS        43   /* lane rows a 200x60 screen shows */
#define LIVE_S      3    /* seconds each live run is watched */
#define C10K_LIVE_S 8    /* c10k: seconds watched (its 10,000 connections take 2-3 s to open) */
#define C10K_FROM_S 4.0  /* c10k: the steady window's start */

static int g_master = -1;
static atomic_ullong g_bytes;
static atomic_bool g_stop;

static void *reader(void *arg)
{
    (void)arg;
    char buf[65536];
    while (!atomic_load(&g_stop)) {
        ssize_t n = read(g_master, buf, sizeof buf);
        if (n > 0)
            atomic_fetch_add(&g_bytes, (unsigned long long)n);
        else if (n < 0)
            usleep(100);
    }
    return NULL;
}

/* Waits until the reader has taken everything written so far. */
static unsigned long long settle(void)
{
    for (int i = 0; i < 2000; i++) {
        int avail = 0;
        if (ioctl(g_master, FIONREAD, &avail) == 0 && avail == 0)
            break;
        usleep(50);
    }
    usleep(200);
    return atomic_load(&g_bytes);
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* A run-shaped snapshot: nlanes lanes of BUCKETS one-ms buckets in runs of 3-40 of one state. */
struct synth {
    struct cv_snapshot s;
    struct cv_lane_stats *lanes;
    uint8_t **tl;
    struct cv_lock_stats locks[2];
    struct cv_queue_stats queue;
    struct cv_depth_point series[512];
    struct cv_counter_stats counters[2];
    uint32_t order[600];
};

static const unsigned states[] = {CV_LANE_RUNNING, CV_LANE_RUNNING, CV_LANE_LOCK_WAIT,
                                  CV_LANE_IO,      CV_LANE_IDLE,    CV_LANE_QUEUE_WAIT};

static void synth_init(struct synth *y, size_t nlanes)
{
    memset(y, 0, sizeof *y);
    y->lanes = calloc(nlanes, sizeof *y->lanes);
    y->tl = calloc(nlanes, sizeof *y->tl);
    for (size_t i = 0; i < nlanes; i++) {
        struct cv_lane_stats *l = &y->lanes[i];
        snprintf(l->name, sizeof l->name, "worker-%zu", i + 1);
        l->role = CV_ROLE_WORKER;
        y->tl[i] = malloc(BUCKETS);
        for (size_t k = 0; k < BUCKETS;) {
            unsigned st = states[rnd() % (sizeof states / sizeof *states)];
            for (size_t run = 3 + rnd() % 38; run-- && k < BUCKETS; k++)
                y->tl[i][k] = (uint8_t)st;
        }
        l->timeline = y->tl[i];
        l->timeline_first = 0;
        l->timeline_n = BUCKETS;
        l->state = CV_LANE_RUNNING;
        l->since_ns = BUCKETS * BUCKET_NS;
        l->current_task = (uint32_t)(1000 + i);
        l->waiting_on = CV_NONE;
        l->tasks = 100;
        l->events = 50000;
        for (unsigned st = 0; st < CV_LANE_OFF; st++)
            l->state_ns[st] = BUCKETS * BUCKET_NS / CV_LANE_OFF;
    }
    for (int k = 0; k < 2; k++) {
        struct cv_lock_stats *lk = &y->locks[k];
        lk->obj = (uint32_t)k;
        lk->kind = CV_OBJ_MUTEX;
        snprintf(lk->name, sizeof lk->name, "lock-%d", k + 1);
        lk->acquisitions = 100000;
        lk->contended = 40000;
        lk->wait_ns_total = 900000000;
        lk->wait_ns_max = 3000000;
        lk->holder = (uint32_t)k;
        lk->holders = 1;
        lk->waiters = 3;
        lk->handoff_from = 1;
        lk->handoff_to = 2;
    }
    y->queue.obj = 2;
    snprintf(y->queue.name, sizeof y->queue.name, "queue");
    y->queue.capacity = 10;
    y->queue.depth = 7;
    y->queue.max_depth = 10;
    y->queue.pushed = 5000;
    y->queue.popped = 4993;
    for (size_t k = 0; k < 512; k++)
        y->series[k] = (struct cv_depth_point){k * 8 * BUCKET_NS, (uint32_t)(rnd() % 11)};
    y->queue.series = y->series;
    y->queue.nseries = 512;
    for (int k = 0; k < 2; k++) {
        snprintf(y->counters[k].name, sizeof y->counters[k].name, "counter-%d", k + 1);
        y->counters[k].obj = (uint32_t)(3 + k);
        y->counters[k].value = 123456;
    }
    for (uint32_t k = 0; k < 600; k++)
        y->order[k] = k % 7 == 3 ? k + 2 : k;
    struct cv_snapshot *s = &y->s;
    s->now_ns = BUCKETS * BUCKET_NS;
    s->nlanes = nlanes;
    s->lanes = y->lanes;
    s->nlocks = 2;
    s->locks = y->locks;
    s->nqueues = 1;
    s->queues = &y->queue;
    s->ncounters = 2;
    s->counters = y->counters;
    s->tasks = (struct cv_task_counts){700, 650, 600, 0, 0, 0, 0};
    s->inflight = 50;
    s->inflight_max = 64;
    s->completion_order = y->order;
    s->ncompleted = 600;
    s->events_recorded = 4000000;
    s->timeline_bucket_ns = BUCKET_NS;
}

static void synth_free(struct synth *y)
{
    for (size_t i = 0; i < y->s.nlanes; i++)
        free(y->tl[i]);
    free(y->tl);
    free(y->lanes);
}

struct result {
    double ms, bytes;
};

enum change { CH_FULL, CH_SAME, CH_RUNS, CH_DOTS, CH_SCROLL };

/* Lanes the view shows with `filter` (the same rule as the view: name contains it); count. */
static size_t shown_lanes(const struct synth *y, const char *filter, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < y->s.nlanes; i++)
        if (!filter || strstr(y->lanes[i].name, filter))
            out[n++] = (uint32_t)i;
    return n;
}

/* Changes a tenth of the cells in view: buckets [end - cols, end) of each drawn lane (the first
 * `rows` of `vis`). */
static void mutate(struct synth *y, const uint32_t *vis, size_t rows, int cols, size_t end,
                   bool runs)
{
    size_t cells = rows * (size_t)cols, want = cells / 10;
    for (size_t done = 0; done < want;) {
        size_t lane = vis[rnd() % rows];
        size_t k = end - (size_t)cols + rnd() % (size_t)cols;
        size_t len = runs ? 6 : 1;
        for (size_t j = 0; j < len && k + j < BUCKETS && done < want; j++, done++)
            y->tl[lane][k + j] = (uint8_t)((y->tl[lane][k + j] + 1 + rnd() % 5) % CV_LANE_OFF);
    }
}

static struct result measure(struct ui_frame *f, struct synth *y, const uint32_t *vis, size_t nvis,
                             enum change ch, int frames)
{
    double *ms = calloc((size_t)frames, sizeof *ms), *by = calloc((size_t)frames, sizeof *by);
    double view = 3.5; /* seconds: the right edge, well inside the timeline */
    int tw = W - 21;   /* timeline columns (the label takes 20 and a gap) */
    size_t rows = nvis < ROWS ? nvis : ROWS;
    ui_frame_draw(f, &y->s, view, BUCKET_NS); /* a first frame, unmeasured */
    settle();
    for (int i = 0; i < frames; i++) {
        if (ch == CH_FULL)
            clearok(curscr, TRUE);
        else if (ch == CH_RUNS || ch == CH_DOTS)
            mutate(y, vis, rows, tw, (size_t)(view * 1e3), ch == CH_RUNS);
        else if (ch == CH_SCROLL)
            view += (double)BUCKET_NS / 1e9;
        if (view > 4.0)
            view = 3.5;
        unsigned long long b0 = settle();
        double t0 = bench_now_s();
        ui_frame_draw(f, &y->s, view, BUCKET_NS);
        ms[i] = (bench_now_s() - t0) * 1e3;
        by[i] = (double)(settle() - b0);
    }
    struct result r = {bench_median(ms, frames), bench_median(by, frames)};
    free(ms);
    free(by);
    return r;
}

/* ---- live runs ---- */

struct live_case {
    const char *label, *scenario;
    const char *model;      /* the model, or NULL: the scenario's own */
    const char *sets[3][2]; /* parameters set on the scenario (key, value) */
    bool virt;              /* a virtual screen instead of the pty */
    int live_s;             /* seconds watched (0: LIVE_S) */
    double from_s;          /* the steady window's start (0: 1.0 s); it ends 0.2 s before q */
    int rc;
    double wall_s, front_cpu_s, front_share, steady_share, drain_share, draw_share, proc_share,
        bytes_per_s;
    char drops[16];       /* "drops" from the header at the end, as the view shows it ("?") */
    char inflight[2][16]; /* "in flight N" on the screen at the window's start and end ("?") */
    char lanes[16];       /* lanes the view lists ("1-43 of N lanes"), at the end ("?") */
};

static int live_secs(const struct live_case *c)
{
    return c->live_s ? c->live_s : LIVE_S;
}

static double live_from(const struct live_case *c)
{
    return c->from_s > 0 ? c->from_s : 1.0;
}

/* Reads the front end's CPU clocks at two moments of a live run, from another thread: the view
 * thread's, and the drain thread's (NAN when there is none). */
struct sampler {
    pthread_t target;
    double t0, at[2]; /* monotonic start; seconds after it */
    double cpu[2], wall[2], drain[2];
    bool ok;
};

/* CPU seconds of this process's thread named `name` (its schedstat: ns on the CPU), or NAN. */
static double named_thread_cpu_s(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    double cpu = NAN;
    struct dirent *e;
    while (d && isnan(cpu) && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = 0;
        fclose(f);
        comm[strcspn(comm, "\n")] = 0;
        if (strcmp(comm, name) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        unsigned long long ns;
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%llu", &ns) == 1)
                cpu = (double)ns / 1e9;
            fclose(f);
        }
    }
    if (d)
        closedir(d);
    return cpu;
}

static void *sample_front(void *p)
{
    struct sampler *sm = p;
    clockid_t cid;
    sm->ok = pthread_getcpuclockid(sm->target, &cid) == 0;
    for (int k = 0; k < 2 && sm->ok; k++) {
        double wait = sm->t0 + sm->at[k] - bench_now_s();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        struct timespec c;
        sm->ok = clock_gettime(cid, &c) == 0;
        sm->cpu[k] = (double)c.tv_sec + (double)c.tv_nsec / 1e9;
        sm->drain[k] = named_thread_cpu_s("cv-drain");
        sm->wall[k] = bench_now_s();
    }
    return NULL;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The live view's own "ui N%" from the header (first line) of a screen snapshot; NAN if absent. */
static double header_ui_share(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    const char *p = strstr(line, "  ui ");
    if (!p)
        return NAN;
    char *end;
    double v = strtod(p + 5, &end);
    return end != p + 5 && *end == '%' ? v / 100 : NAN;
}

/* The view's "drops N" from the header of a screen snapshot into out ("?" if absent). */
static void header_drops(const char *path, char *out, size_t n)
{
    snprintf(out, n, "?");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    const char *p = strstr(line, "  drops ");
    if (p)
        snprintf(out, n, "%.*s", (int)strcspn(p + 8, " \n"), p + 8);
}

/* The number after `key` anywhere on a screen snapshot into out ("?" if absent): the first
 * match, digits only. */
static void screen_number(const char *path, const char *key, char *out, size_t n)
{
    snprintf(out, n, "?");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, key);
        if (p) {
            p += strlen(key);
            snprintf(out, n, "%.*s", (int)strspn(p, "0123456789"), p);
            break;
        }
    }
    fclose(f);
}

/* The lanes the view lists into out ("?"): N from the lanes panel's title ("1-43 of N lanes")
 * when they do not all fit, else the rows between that title and the legend. */
static void screen_lanes(const char *path, char *out, size_t n)
{
    snprintf(out, n, "?");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    int rows = -1;
    while (fgets(line, sizeof line, f)) {
        if (rows < 0 && strncmp(line, " lanes ", 7) == 0) {
            const char *p = strstr(line, " of ");
            if (p && strstr(p, " lanes")) {
                p += 4;
                snprintf(out, n, "%.*s", (int)strspn(p, "0123456789"), p);
                break;
            }
            rows = 0;
        } else if (rows >= 0 && strncmp(line, "legend", 6) == 0) {
            snprintf(out, n, "%d", rows);
            break;
        } else if (rows >= 0 && line[strspn(line, " \n")]) {
            rows++; /* a lane's row (the panel's blank rows below the last are not) */
        }
    }
    fclose(f);
}

/* One live run watched for live_secs(c) seconds; figures into c (NAN when unknown). */
static void live_run(struct live_case *c, FILE *out)
{
    c->wall_s = c->front_cpu_s = c->front_share = c->steady_share = c->drain_share = c->draw_share =
        c->proc_share = c->bytes_per_s = NAN;
    c->rc = -1;
    snprintf(c->drops, sizeof c->drops, "?");
    snprintf(c->lanes, sizeof c->lanes, "?");
    snprintf(c->inflight[0], sizeof c->inflight[0], "?");
    snprintf(c->inflight[1], sizeof c->inflight[1], "?");
    int live_s = live_secs(c);
    double from = live_from(c);
    char script[] = "/tmp/cv_bench_ui_XXXXXX", snap[3][40];
    int fd = mkstemp(script);
    if (fd < 0)
        return;
    FILE *sf = fdopen(fd, "w");
    if (!sf) {
        close(fd);
        unlink(script);
        return;
    }
    for (int i = 0; i < 3; i++)
        snprintf(snap[i], sizeof snap[i], "%s.%d", script, i);
    /* snapshots at the window's start (what is in flight then), a second before the end and at
     * the end (the header's ui share over each of the two last seconds) */
    fprintf(sf, "wait %.3fs\nsnapshot %s\nwait %.3fs\nsnapshot %s\nwait 1s\nsnapshot %s\nkey q\n",
            from, snap[2], live_s - 1 - from, snap[0], snap[1]);
    fclose(sf);

    struct cv_scenario *sc = tui_load_scenario(c->scenario);
    char *cause = NULL;
    for (int i = 0; sc && i < 3 && c->sets[i][0]; i++)
        if (cv_scenario_set(sc, c->sets[i][0], c->sets[i][1], &cause) != CV_OK) {
            fprintf(out, "bench_ui: %s: %s=%s: %s\n", c->scenario, c->sets[i][0], c->sets[i][1],
                    cause ? cause : "?");
            free(cause);
            cv_scenario_free(sc);
            sc = NULL;
        }
    struct ui_script *scr = sc ? ui_script_load(script, &cause) : NULL;
    if (sc && !scr) {
        fprintf(out, "bench_ui: script: %s\n", cause ? cause : "?");
        free(cause);
    }
    if (scr) {
        int model = c->model ? cv_model_from_name(c->model) : -1;
        struct ui_run_req req = {.scenario = sc,
                                 .cfg = {.scenario = sc, .model = model, .gil = -1}};
        struct ui_opts o = {.color = true, .fps = 30, .vw = c->virt ? W : 0, .vh = c->virt ? H : 0};
        /* what ui_live prints after the screen closes ("stopped with q ...") goes to a file,
         * shown only if the run failed */
        FILE *err = tmpfile();
        int saved = dup(STDERR_FILENO);
        if (err && saved >= 0)
            dup2(fileno(err), STDERR_FILENO);
        unsigned long long b0 = settle();
        double p0 = process_cpu_s(), c0 = thread_cpu_s(), t0 = bench_now_s();
        struct sampler sm = {.target = pthread_self(), .t0 = t0, .at = {from, live_s - 0.2}};
        pthread_t sth;
        bool sampling = pthread_create(&sth, NULL, sample_front, &sm) == 0;
        c->rc = ui_live(&req, &o, scr);
        double t1 = bench_now_s(), c1 = thread_cpu_s(), p1 = process_cpu_s();
        if (sampling) {
            pthread_join(sth, NULL);
            if (sm.ok && sm.wall[1] < t1) {
                c->steady_share = (sm.cpu[1] - sm.cpu[0]) / (sm.wall[1] - sm.wall[0]);
                c->drain_share = (sm.drain[1] - sm.drain[0]) / (sm.wall[1] - sm.wall[0]);
            }
        }
        unsigned long long b1 = settle();
        if (saved >= 0) {
            fflush(stderr);
            dup2(saved, STDERR_FILENO);
            close(saved);
        }
        if (err) {
            if (c->rc != 0) {
                rewind(err);
                char buf[512];
                while (fgets(buf, sizeof buf, err))
                    fprintf(out, "bench_ui: %s: %s", c->label, buf);
            }
            fclose(err);
        }
        c->wall_s = t1 - t0;
        c->front_cpu_s = c1 - c0;
        c->front_share = c->front_cpu_s / c->wall_s;
        c->proc_share = (p1 - p0) / c->wall_s;
        if (!c->virt)
            c->bytes_per_s = (double)(b1 - b0) / c->wall_s;
        double a = header_ui_share(snap[0]), b = header_ui_share(snap[1]);
        c->draw_share = isfinite(a) && isfinite(b) ? (a + b) / 2 : isfinite(a) ? a : b;
        header_drops(snap[1], c->drops, sizeof c->drops);
        screen_number(snap[2], "in flight ", c->inflight[0], sizeof c->inflight[0]);
        screen_number(snap[1], "in flight ", c->inflight[1], sizeof c->inflight[1]);
        screen_lanes(snap[1], c->lanes, sizeof c->lanes);
        ui_script_free(scr);
    }
    if (sc)
        cv_scenario_free(sc);
    unsetenv("LINES"); /* a virtual screen sets them; the pty's size comes from the pty */
    unsetenv("COLUMNS");
    unlink(script);
    for (int i = 0; i < 3; i++)
        unlink(snap[i]);
}

/* A number read from the screen as json: the digits, or null when it was not there. */
static const char *json_int(char *buf, size_t n, const char *digits)
{
    snprintf(buf, n, "%s",
             digits[0] && strspn(digits, "0123456789") == strlen(digits) ? digits : "null");
    return buf;
}

struct config {
    size_t lanes;
    const char *filter; /* the lane filter, or NULL */
    const char *key;    /* json prefix */
    size_t shown;       /* lanes that match the filter */
};

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 200;
    if (frames < 5)
        frames = 5;
    double start = bench_now_s(), load0 = bench_load_avg();
    int out_fd = dup(STDOUT_FILENO);
    FILE *out = fdopen(out_fd, "w");
    int slave;
    struct winsize ws = {.ws_row = H, .ws_col = W};
    if (!out || openpty(&g_master, &slave, NULL, NULL, &ws) != 0) {
        perror("bench_ui: openpty");
        return 1;
    }
    setvbuf(out, NULL, _IOLBF, 0);
    fcntl(g_master, F_SETFL, fcntl(g_master, F_GETFL) | O_NONBLOCK);
    dup2(slave, STDIN_FILENO);
    dup2(slave, STDOUT_FILENO);
    setenv("TERM", "xterm-256color", 1);
    unsetenv("LINES");
    unsetenv("COLUMNS");
    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);

    struct cv_scenario *sc = tui_load_scenario("counter-race");
    if (!sc)
        return 1;
    struct ui_run_req req = {.scenario = sc, .cfg = {.scenario = sc, .model = -1, .gil = -1}};
    struct ui_opts o = {.color = true, .fps = 30};
    char *cause = NULL;
    if (ui_screen_open(&o, &cause) != 0) {
        fprintf(out, "bench_ui: %s\n", cause);
        return 1;
    }
    static const char *const names[] = {"full", "same", "10% runs", "10% dots", "scroll"};
    static const char *const keys[] = {"full", "same", "runs10", "dots10", "scroll"};
    struct config cfgs[] = {
        {8, NULL, "8", 0},
        {64, NULL, "64", 0},
        {1000, NULL, "1000", 0},
        {1000, "worker-1", "1000filter", 0},
    };
    enum { NCFG = sizeof cfgs / sizeof cfgs[0] };
    struct result res[NCFG][5];
    for (int ci = 0; ci < NCFG; ci++) {
        struct ui_frame *f = ui_frame_new(&req, &o); /* a fresh view: selection at the top */
        ui_frame_filter(f, cfgs[ci].filter);
        struct synth y;
        synth_init(&y, cfgs[ci].lanes);
        uint32_t *vis = calloc(cfgs[ci].lanes, sizeof *vis);
        cfgs[ci].shown = shown_lanes(&y, cfgs[ci].filter, vis);
        for (int ch = 0; ch < 5; ch++)
            res[ci][ch] = measure(f, &y, vis, cfgs[ci].shown, (enum change)ch, frames);
        free(vis);
        synth_free(&y);
        ui_frame_free(f);
    }
    ui_screen_close();
    double frames_s = bench_now_s() - start;

    struct live_case live[] = {
        {.label = "counter-race mutex, pty",
         .scenario = "counter-race",
         .sets = {{"variant", "mutex"}, {"iterations", "50000000"}}},
        {.label = "cpu-primes, pty", .scenario = "cpu-primes", .sets = {{"repeat", "2000"}}},
        {.label = "counter-race mutex, virtual",
         .scenario = "counter-race",
         .sets = {{"variant", "mutex"}, {"iterations", "50000000"}},
         .virt = true},
        {.label = "cpu-primes, virtual",
         .scenario = "cpu-primes",
         .sets = {{"repeat", "2000"}},
         .virt = true},
        /* c10k under epoll: 10,000 requests, each a coroutine lane, plus the loop's lane. They
         * are all in flight within 2-3 s (more on a loaded machine); each waits 12 s on the
         * server, so the window (4.0-7.8 s) sees the 10,001 lanes live, which the screen's
         * "in flight" at both ends of it confirms. */
        {.label = "c10k epoll, pty",
         .scenario = "c10k",
         .model = "epoll",
         .sets = {{"requests", "10000"}, {"delays_ms", "12000"}},
         .live_s = C10K_LIVE_S,
         .from_s = C10K_FROM_S},
        {.label = "c10k epoll, virtual",
         .scenario = "c10k",
         .model = "epoll",
         .sets = {{"requests", "10000"}, {"delays_ms", "12000"}},
         .virt = true,
         .live_s = C10K_LIVE_S,
         .from_s = C10K_FROM_S},
    };
    enum { NLIVE = sizeof live / sizeof live[0] };
    for (int i = 0; i < NLIVE; i++)
        live_run(&live[i], out);
    atomic_store(&g_stop, true);
    pthread_join(th, NULL);
    double total_s = bench_now_s() - start;

    fprintf(out,
            "bench_ui: one frame of the live view on a %dx%d pty (xterm-256color), "
            "median of %d frames; %d lane rows shown\n\n",
            W, H, frames, ROWS);
    char h1[40], h2[40];
    fprintf(out, "%-10s", "frame");
    for (int ci = 0; ci < NCFG; ci++) {
        if (cfgs[ci].filter) {
            snprintf(h1, sizeof h1, "%zu /%s ms", cfgs[ci].lanes, cfgs[ci].filter);
            snprintf(h2, sizeof h2, "/%s bytes", cfgs[ci].filter);
        } else {
            snprintf(h1, sizeof h1, "%zu lanes ms", cfgs[ci].lanes);
            snprintf(h2, sizeof h2, "%zu lanes bytes", cfgs[ci].lanes);
        }
        fprintf(out, " %16s %16s", h1, h2);
    }
    fprintf(out, "\n");
    for (int ch = 0; ch < 5; ch++) {
        fprintf(out, "%-10s", names[ch]);
        for (int ci = 0; ci < NCFG; ci++)
            fprintf(out, " %16.3f %16.0f", res[ci][ch].ms, res[ci][ch].bytes);
        fprintf(out, "\n");
    }
    for (int ci = 0; ci < NCFG; ci++)
        if (cfgs[ci].filter)
            fprintf(out, "(filter '%s': %zu of %zu lanes match)\n", cfgs[ci].filter, cfgs[ci].shown,
                    cfgs[ci].lanes);

    fprintf(out,
            "\nlive runs at 30 fps, watched %d s (c10k %d s), then q; share of one core. call: CPU "
            "of the thread running the view over the whole ui_live call; view and drain: the "
            "view's thread and the drain thread steadily (%.1f-%.1f s; c10k %.1f-%.1f s; from "
            "another thread); front = view + drain (before the drain had a thread of its own, view "
            "holds it and drain is unknown); draw: the view's own 'ui' figure over the last two "
            "seconds; rest = view - draw; drops: the header's at the end; lanes: the lanes the "
            "view lists; in flight: the screen's at the window's start and end\n",
            LIVE_S, C10K_LIVE_S, 1.0, LIVE_S - 0.2, C10K_FROM_S, C10K_LIVE_S - 0.2);
    fprintf(out, "%-28s %7s %8s %8s %8s %8s %8s %8s %8s %8s %12s %7s %6s %12s\n", "run", "wall s",
            "cpu s", "call", "view", "drain", "front", "draw", "rest", "process", "tty bytes/s",
            "drops", "lanes", "in flight");
    char a[32], b[32], c[32], d[32], e[32], g[32], k[32], m[32], dr[32], fr[32], inf[40], j1[16],
        j2[16], j3[16];
    double worst_front = 0, worst_draw = 0, c10k_front = NAN, c10k_draw = NAN;
    for (int i = 0; i < NLIVE; i++) {
        const struct live_case *L = &live[i];
        double front = L->steady_share + (isfinite(L->drain_share) ? L->drain_share : 0);
        snprintf(inf, sizeof inf, "%s-%s", L->inflight[0], L->inflight[1]);
        fprintf(out,
                "%-28s %7s %8s %7s%% %7s%% %7s%% %7s%% %7s%% %7s%% %7s%% %12s %7s %6s %12s%s\n",
                L->label, bench_fmt_num(a, sizeof a, L->wall_s, 2, false),
                bench_fmt_num(b, sizeof b, L->front_cpu_s, 3, false),
                bench_fmt_num(c, sizeof c, L->front_share * 100, 2, false),
                bench_fmt_num(k, sizeof k, L->steady_share * 100, 2, false),
                bench_fmt_num(dr, sizeof dr, L->drain_share * 100, 2, false),
                bench_fmt_num(fr, sizeof fr, front * 100, 2, false),
                bench_fmt_num(d, sizeof d, L->draw_share * 100, 2, false),
                bench_fmt_num(m, sizeof m, (L->steady_share - L->draw_share) * 100, 2, false),
                bench_fmt_num(e, sizeof e, L->proc_share * 100, 0, false),
                bench_fmt_num(g, sizeof g, L->bytes_per_s, 0, false), L->drops, L->lanes, inf,
                L->rc == 0 ? "" : "  (FAILED)");
        if (isfinite(front) && front > worst_front)
            worst_front = front;
        if (isfinite(L->draw_share) && L->draw_share > worst_draw)
            worst_draw = L->draw_share;
        if (!strcmp(L->scenario, "c10k")) { /* NAN (unknown) until a run has the figure */
            if (isfinite(front) && !(front <= c10k_front))
                c10k_front = front;
            if (isfinite(L->draw_share) && !(L->draw_share <= c10k_draw))
                c10k_draw = L->draw_share;
        }
    }

    fprintf(out, "\ntarget: a full 64-lane frame under %.1f ms: %s (%.3f ms, %+.0f%%)\n", TARGET_MS,
            res[1][CH_FULL].ms < TARGET_MS ? "met" : "missed", res[1][CH_FULL].ms,
            (res[1][CH_FULL].ms / TARGET_MS - 1) * 100);
    fprintf(out,
            "target: the UI under %.0f%% of one core at 30 fps: front end (view + drain) %s (worst "
            "%.2f%%), drawing alone %s (worst %.2f%%)\n",
            TARGET_UI * 100, worst_front < TARGET_UI ? "met" : "missed", worst_front * 100,
            worst_draw < TARGET_UI ? "met" : "missed", worst_draw * 100);
    fprintf(out,
            "target: c10k's 10,001 lanes live at 30 fps, the front end under %.0f%% of one core: "
            "%s (worst %.2f%%; drawing %.2f%%)\n",
            TARGET_UI * 100,
            c10k_front < TARGET_UI ? "met"
            : isfinite(c10k_front) ? "missed"
                                   : "unknown",
            c10k_front * 100, c10k_draw * 100);
    fprintf(out, "load %s -> %s\n", bench_fmt_num(a, sizeof a, load0, 2, false),
            bench_fmt_num(b, sizeof b, bench_load_avg(), 2, false));
    fprintf(out, "time: frames %.1f s, live runs %.1f s, total %.1f s\n", frames_s,
            total_s - frames_s, total_s);

    fprintf(out, "json: {\"bench\":\"ui\",\"width\":%d,\"height\":%d,\"frames\":%d", W, H, frames);
    for (int ci = 0; ci < NCFG; ci++)
        for (int ch = 0; ch < 5; ch++)
            fprintf(out, ",\"%s_%s_ms\":%.4f,\"%s_%s_bytes\":%.0f", cfgs[ci].key, keys[ch],
                    res[ci][ch].ms, cfgs[ci].key, keys[ch], res[ci][ch].bytes);
    fprintf(out, ",\"filter\":\"%s\",\"filter_matches\":%zu", cfgs[NCFG - 1].filter,
            cfgs[NCFG - 1].shown);
    fprintf(out, ",\"full_64_target_ms\":%.1f,\"full_64_ok\":%s", TARGET_MS,
            res[1][CH_FULL].ms < TARGET_MS ? "true" : "false");
    fprintf(out, ",\"live_s\":%d,\"fps\":30,\"live\":[", LIVE_S);
    for (int i = 0; i < NLIVE; i++) {
        const struct live_case *L = &live[i];
        fprintf(out,
                "%s{\"run\":\"%s\",\"screen\":\"%s\",\"rc\":%d,\"wall_s\":%s,\"front_cpu_s\":%s,"
                "\"front_share\":%s,\"front_steady_share\":%s,\"drain_steady_share\":%s,"
                "\"draw_share\":%s,\"process_share\":%s,\"tty_bytes_per_s\":%s,\"drops\":\"%s\","
                "\"front_end_steady_share\":%s,\"live_s\":%d,\"window_s\":[%.1f,%.1f],"
                "\"lanes\":%s,\"inflight_start\":%s,\"inflight_end\":%s}",
                i ? "," : "", L->label, L->virt ? "virtual" : "pty", L->rc,
                bench_fmt_num(a, sizeof a, L->wall_s, 3, true),
                bench_fmt_num(b, sizeof b, L->front_cpu_s, 4, true),
                bench_fmt_num(c, sizeof c, L->front_share, 4, true),
                bench_fmt_num(k, sizeof k, L->steady_share, 4, true),
                bench_fmt_num(dr, sizeof dr, L->drain_share, 4, true),
                bench_fmt_num(d, sizeof d, L->draw_share, 4, true),
                bench_fmt_num(e, sizeof e, L->proc_share, 3, true),
                bench_fmt_num(g, sizeof g, L->bytes_per_s, 0, true), L->drops,
                bench_fmt_num(fr, sizeof fr,
                              L->steady_share + (isfinite(L->drain_share) ? L->drain_share : 0), 4,
                              true),
                live_secs(L), live_from(L), live_secs(L) - 0.2, json_int(j1, sizeof j1, L->lanes),
                json_int(j2, sizeof j2, L->inflight[0]), json_int(j3, sizeof j3, L->inflight[1]));
    }
    fprintf(
        out,
        "],\"ui_target_share\":%.2f,\"ui_front_worst\":%.4f,\"ui_front_ok\":%s,"
        "\"ui_draw_worst\":%.4f,\"ui_draw_ok\":%s,\"c10k_front_worst\":%s,"
        "\"c10k_front_ok\":%s,\"c10k_draw_worst\":%s,\"load\":[%s,%s],\"total_s\":%.1f}\n",
        TARGET_UI, worst_front, worst_front < TARGET_UI ? "true" : "false", worst_draw,
        worst_draw < TARGET_UI ? "true" : "false", bench_fmt_num(c, sizeof c, c10k_front, 4, true),
        c10k_front < TARGET_UI ? "true" : "false", bench_fmt_num(d, sizeof d, c10k_draw, 4, true),
        bench_fmt_num(a, sizeof a, load0, 2, true),
        bench_fmt_num(b, sizeof b, bench_load_avg(), 2, true), total_s);
    cv_scenario_free(sc);
    return 0;
}
