/*
 * bench_ui: what one frame of the live view costs on a real terminal. The live view's drawing
 * code (ui_frame_draw, the same as a live run's) renders a synthetic snapshot shaped like a run
 * (lanes in runs of states, two locks, a queue with a depth history, counters, a completion
 * order) into a pseudo-terminal of 200x60 with TERM=xterm-256color; a reader thread drains the
 * pty and counts the bytes ncurses writes. Not a pass/fail test: the target (under 1 ms for a
 * full 64-lane frame) is reported, exit is 0.
 *
 * Frames measured, each the median of FRAMES frames (wall time of ui_frame_draw including
 * ncurses' write to the pty; bytes from the reader):
 *   full       the whole screen redrawn (clearok before each frame), 8 and 64 lanes
 *   same       the same snapshot again: what a frame costs when nothing changed
 *   10% runs   a tenth of the timeline cells change, as runs of 6 cells (states change in runs)
 *   10% dots   a tenth of the timeline cells change, each alone, scattered
 *   scroll     the view moves one column (fixed zoom, following the run): every cell shifts
 *
 * Usage: bench_ui [frames]   (default 200)
 */
#include "ui.h"

#include <curses.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define W         200
#define H         60
#define BUCKETS   4096
#define BUCKET_NS 1000000ull
#define TARGET_MS 1.0

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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

/* Changes a tenth of the cells in view: buckets [end - cols, end) of each drawn lane. */
static void mutate(struct synth *y, size_t rows, int cols, size_t end, bool runs)
{
    size_t cells = rows * (size_t)cols, want = cells / 10;
    for (size_t done = 0; done < want;) {
        size_t lane = rnd() % rows;
        size_t k = end - (size_t)cols + rnd() % (size_t)cols;
        size_t len = runs ? 6 : 1;
        for (size_t j = 0; j < len && k + j < BUCKETS && done < want; j++, done++)
            y->tl[lane][k + j] = (uint8_t)((y->tl[lane][k + j] + 1 + rnd() % 5) % CV_LANE_OFF);
    }
}

static struct result measure(struct ui_frame *f, struct synth *y, enum change ch, int frames)
{
    double *ms = calloc((size_t)frames, sizeof *ms), *by = calloc((size_t)frames, sizeof *by);
    double view = 3.5; /* seconds: the right edge, well inside the timeline */
    int tw = W - 21;   /* timeline columns (the label takes 20 and a gap) */
    size_t rows = y->s.nlanes < 43 ? y->s.nlanes : 43;
    ui_frame_draw(f, &y->s, view, BUCKET_NS); /* a first frame, unmeasured */
    settle();
    for (int i = 0; i < frames; i++) {
        if (ch == CH_FULL)
            clearok(curscr, TRUE);
        else if (ch == CH_RUNS || ch == CH_DOTS)
            mutate(y, rows, tw, (size_t)(view * 1e3), ch == CH_RUNS);
        else if (ch == CH_SCROLL)
            view += (double)BUCKET_NS / 1e9;
        if (view > 4.0)
            view = 3.5;
        unsigned long long b0 = settle();
        double t0 = now_s();
        ui_frame_draw(f, &y->s, view, BUCKET_NS);
        ms[i] = (now_s() - t0) * 1e3;
        by[i] = (double)(settle() - b0);
    }
    struct result r = {median(ms, frames), median(by, frames)};
    free(ms);
    free(by);
    return r;
}

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 200;
    if (frames < 5)
        frames = 5;
    int out_fd = dup(STDOUT_FILENO);
    FILE *out = fdopen(out_fd, "w");
    int slave;
    struct winsize ws = {.ws_row = H, .ws_col = W};
    if (!out || openpty(&g_master, &slave, NULL, NULL, &ws) != 0) {
        perror("bench_ui: openpty");
        return 1;
    }
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
    struct ui_frame *f = ui_frame_new(&req, &o);
    static const char *const names[] = {"full", "same", "10% runs", "10% dots", "scroll"};
    struct result res[2][5];
    static const size_t lanes[2] = {8, 64};
    for (int li = 0; li < 2; li++) {
        struct synth y;
        synth_init(&y, lanes[li]);
        for (int ch = 0; ch < 5; ch++)
            res[li][ch] = measure(f, &y, (enum change)ch, frames);
        synth_free(&y);
    }
    ui_frame_free(f);
    ui_screen_close();
    atomic_store(&g_stop, true);
    pthread_join(th, NULL);

    fprintf(out,
            "bench_ui: one frame of the live view on a %dx%d pty (xterm-256color), "
            "median of %d frames\n\n",
            W, H, frames);
    fprintf(out, "%-10s %14s %14s %14s %14s\n", "frame", "8 lanes ms", "8 lanes bytes",
            "64 lanes ms", "64 lanes bytes");
    for (int ch = 0; ch < 5; ch++)
        fprintf(out, "%-10s %14.3f %14.0f %14.3f %14.0f\n", names[ch], res[0][ch].ms,
                res[0][ch].bytes, res[1][ch].ms, res[1][ch].bytes);
    fprintf(out, "\ntarget: a full 64-lane frame under %.1f ms: %s (%.3f ms)\n", TARGET_MS,
            res[1][CH_FULL].ms < TARGET_MS ? "met" : "missed", res[1][CH_FULL].ms);
    fprintf(out, "json: {\"bench\":\"ui\",\"width\":%d,\"height\":%d,\"frames\":%d", W, H, frames);
    for (int li = 0; li < 2; li++)
        for (int ch = 0; ch < 5; ch++)
            fprintf(out, ",\"%zu_%s_ms\":%.4f,\"%zu_%s_bytes\":%.0f", lanes[li],
                    ch == 2   ? "runs10"
                    : ch == 3 ? "dots10"
                              : names[ch],
                    res[li][ch].ms, lanes[li],
                    ch == 2   ? "runs10"
                    : ch == 3 ? "dots10"
                              : names[ch],
                    res[li][ch].bytes);
    fprintf(out, "}\n");
    cv_scenario_free(sc);
    return 0;
}
