/*
 * The live view: a run drawn as it happens. A drain thread polls the run every few milliseconds
 * (that drains the rings into the collector and the recording); the view's loop handles keys
 * (from the terminal or a script) and draws a frame at the frame rate. Panels only read a
 * snapshot; a paused view draws from a copy taken when it paused, while the run goes on
 * underneath.
 *
 * Why a thread of its own for the drain: the drawing thread writes to the terminal, and a
 * terminal can stop reading (Ctrl-S under XON/XOFF, a pty nobody reads, a stopped client), which
 * blocks that write for as long as it lasts. Were the drain on the same thread, the rings would
 * fill meanwhile and events would be dropped, from the view and the recording alike. Now a
 * blocked terminal only delays frames.
 */
#include "ui.h"

#include <curses.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concviz/concviz.h"
#include "concviz/value.h"

#define MIN_W   60
#define MIN_H   16
#define LABEL_W 20 /* lane name and task, left of the timeline */
#define NPANELS 5
#define POLL_MS 5

enum panel { P_LANES, P_LOCKS, P_QUEUE, P_ORDER, P_RESULTS };
static const char *const panel_names[NPANELS] = {"lanes", "locks", "queue", "completion",
                                                 "results"};

enum popup { POP_NONE, POP_MODEL, POP_WORKERS, POP_FILTER, POP_SEEK };

/* A deep copy of a snapshot, for a paused view: nothing in it points into the collector, which
 * the drain thread goes on changing (texts included: a new one may move their array). */
struct frozen {
    struct cv_snapshot s;
    struct cv_lane_stats *lanes;
    struct cv_lock_stats *locks;
    struct cv_queue_stats *queues;
    struct cv_counter_stats *counters;
    uint32_t *order;
    char **strings;
};

/* The drain thread of a live run (not of a replay, whose recording the view thread reads).
 *
 * Locking: `mu` guards the run's collector and everything cv_run_poll changes. The drain holds
 * it around each poll; the view thread from cv_run_snapshot until the frame is composed in
 * ncurses' memory (released before doupdate, the only write to the terminal) and while it
 * freezes a copy. It is the only lock of the front end, and the engine's own locks (taken inside
 * cv_run_poll) come after it, never before; workers never take it, they only fill the rings.
 * What the view reads without it is fixed before the drain starts (workers, the task count, the
 * model) or atomic (the run's state and elapsed time), and once `ended` the thread is joined
 * and the view owns the run alone again. */
struct drain {
    pthread_t th;
    bool on; /* started and not yet joined (the view thread's own flag) */
    pthread_mutex_t mu;
    atomic_bool ended; /* cv_run_poll said the run is over: the thread is returning */
    struct cv_run *run;
};

/* The compare view: the scenario under each model in turn, then a table. */
#define CMP_MAX 8
struct compare {
    bool on, table;
    int n, at;
    int model[CMP_MAX], gil[CMP_MAX];
    double wall[CMP_MAX], cpu[CMP_MAX], inflight[CMP_MAX];
    unsigned failed[CMP_MAX], nexp[CMP_MAX];
    char state[CMP_MAX][16];
    int saved_model, saved_gil;
    double next_at; /* when the next run starts (the finished one stays in view a moment) */
};

struct live {
    const struct ui_opts *o;
    struct ui_run_req *req;
    struct ui_script *sc;
    struct cv_run *run;
    struct drain drain;
    char *run_error; /* the run could not be created or started */
    bool done;       /* the run has ended and its summary is in */
    enum cv_run_state state;
    struct cv_value *summary; /* once done */
    unsigned failed;
    double elapsed; /* run seconds */

    /* view */
    bool paused;
    struct frozen *fz;
    double speed;  /* animation speed: 1 = live */
    double view_t; /* run time at the right edge of the lanes, seconds */
    double last_frame;
    uint64_t col_ns; /* fixed ns per column, 0 = fit the whole run */
    bool follow;     /* the right edge follows view_t */
    double left_t;   /* else the time at the left edge */
    int lane_top, sel;
    int focus;
    int scroll[NPANELS];
    bool help, details, quit;
    enum popup popup;
    int popup_sel;
    char input[64];
    char filter[64];
    char message[160];
    double message_until;
    int rc;
    /* the UI's own CPU */
    double draw_cpu, draw_wall_start, ui_share;
    struct compare cmp;
    const struct cv_snapshot *fixed; /* ui_frame_draw: this snapshot instead of a run's */
    /* replay: a recording plays instead of a run; elapsed is the position */
    struct cv_replay *rp;
    double end_t;      /* the recording's end, seconds */
    double play_clock; /* monotonic seconds of the last playback step */
};

static void say(struct live *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replay speeds, slowest first. */
static const double speeds[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100};
#define NSPEEDS (sizeof speeds / sizeof *speeds)

/* ---------------------------------------------------------------- replay control */

static enum cv_run_state state_of(const struct cv_value *sum)
{
    const struct cv_value *v = sum ? cv_value_get(sum, "state") : NULL;
    const char *st = v && v->type == CV_VAL_STR ? v->str : "";
    return !strcmp(st, "done")         ? CV_RUN_DONE
           : !strcmp(st, "deadlocked") ? CV_RUN_DEADLOCKED
           : !strcmp(st, "failed")     ? CV_RUN_FAILED
                                       : CV_RUN_STOPPED;
}

/* Moves the replay to t seconds; at the end the panels show the run's summary. Positions are
 * whole nanoseconds, as in the recording: the end is reached when t rounds to it. (Compared in
 * seconds, a step back and forth by the same amount, end - 0.1 end + 0.1 end, can land one ulp
 * short of the end, for about one end time in 25.) */
static void replay_seek(struct live *L, double t)
{
    uint64_t end_ns = cv_recording_info(L->req->replay)->end_ns;
    t = fmax(0, fmin(t, L->end_t));
    uint64_t at = (uint64_t)llround(t * 1e9);
    bool end = at >= end_ns;
    if (end)
        at = end_ns, t = L->end_t;
    char *cause = NULL;
    if (cv_replay_seek(L->rp, at, &cause) != CV_OK) {
        free(L->run_error);
        L->run_error = cause;
        L->rc = TUI_EXIT_RUNTIME;
        L->paused = true;
        return;
    }
    L->elapsed = L->view_t = t;
    if (end && !L->done) {
        cause = NULL;
        L->summary = cv_replay_summary(L->rp, true, &L->failed, &cause);
        free(cause); /* without it the panels show the counters */
        L->state = state_of(L->summary);
        L->done = true;
    } else if (!end && L->done) {
        cv_value_free(L->summary);
        L->summary = NULL;
        L->done = false;
    }
}

static void start_replay(struct live *L)
{
    cv_replay_free(L->rp);
    L->rp = cv_replay_new(L->req->replay);
    L->end_t = (double)cv_recording_info(L->req->replay)->end_ns / 1e9;
    L->follow = true;
    L->col_ns = 0;
    L->paused = L->req->replay_paused;
    if (L->req->replay_speed > 0)
        L->speed = L->req->replay_speed;
    L->done = false;
    L->play_clock = ui_now();
    replay_seek(L, 0);
    if (cv_recording_info(L->req->replay)->missing)
        say(L, "the recording was cut short: it replays up to %.3f s (details on exit)", L->end_t);
}

/* Playback: the position moves with the clock times the speed. */
static void replay_play(struct live *L)
{
    double now = ui_now();
    double dt = now - L->play_clock;
    L->play_clock = now;
    if (!L->paused && !L->run_error && L->elapsed < L->end_t)
        replay_seek(L, L->elapsed + dt * L->speed);
}

/* Parses a time to go to: seconds ("1.5", "1.5s") or a share of the recording ("40%"). */
static bool parse_when(const char *in, double end, double *out)
{
    char *e;
    double v = strtod(in, &e);
    if (e == in || !isfinite(v) || v < 0)
        return false;
    if (*e == '%')
        v = v / 100 * end, e++;
    else if (*e == 's')
        e++;
    if (*e)
        return false;
    *out = v;
    return true;
}

/* Keys that mean something else in a replay; false for the ones shared with the live view. */
static bool replay_key(struct live *L, int k)
{
    size_t sp = 0;
    while (sp + 1 < NSPEEDS && speeds[sp] < L->speed)
        sp++;
    double frame = L->speed / (L->o->fps ? L->o->fps : 30);
    switch (k) {
    case ' ':
        if (L->elapsed >= L->end_t) { /* at the end: play again */
            replay_seek(L, 0);
            L->paused = false;
        } else {
            L->paused = !L->paused;
        }
        L->play_clock = ui_now();
        return true;
    case '+':
    case '=':
        L->speed = speeds[sp + 1 < NSPEEDS ? sp + 1 : sp];
        say(L, "speed %gx", L->speed);
        return true;
    case '-':
    case '_':
        L->speed = speeds[sp ? sp - 1 : 0];
        say(L, "speed %gx", L->speed);
        return true;
    case '.':
    case ',':
        L->paused = true;
        replay_seek(L, L->elapsed + (k == '.' ? frame : -frame));
        return true;
    case '<':
    case '>':
        replay_seek(L, L->elapsed + (k == '>' ? 0.1 : -0.1) * L->end_t);
        return true;
    case '[':
        replay_seek(L, 0);
        return true;
    case ']':
        replay_seek(L, L->end_t);
        return true;
    case 'g':
        L->popup = POP_SEEK;
        L->input[0] = 0;
        return true;
    case 'r':
        replay_seek(L, 0);
        L->paused = false;
        L->play_clock = ui_now();
        say(L, "%s", "from the start");
        return true;
    case 'm':
    case 'w':
    case 'c':
        say(L, "%s", "a replay shows the run as recorded: run the scenario to change it");
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- run control */

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    bool stopping = false;
    pthread_setname_np(pthread_self(), "cv-drain"); /* for top -H, and bench_ui finds it so */
    for (;;) {
        pthread_mutex_lock(&d->mu);
        bool end = cv_run_poll(d->run);
        pthread_mutex_unlock(&d->mu);
        if (end)
            break;
        /* A stop signal ends the run from here too, so that the recording is closed even while
         * the view thread is stuck in a write to a terminal that does not read. */
        if (!stopping && ui_screen_signal()) {
            cv_run_stop(d->run);
            stopping = true;
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_store(&d->ended, true);
    return NULL;
}

/* Starts the drain of L->run; false (with a cause) if the thread cannot be made. */
static bool drain_start(struct live *L, char **cause)
{
    struct drain *d = &L->drain;
    d->run = L->run;
    atomic_store(&d->ended, false);
    /* The stop signals and the terminal's (resize, suspend) go to other threads: to the view's,
     * which they wake from its poll for keys, or to the run's, which do not care. */
    sigset_t block, old;
    sigemptyset(&block);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP, SIGCONT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&block, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int err = pthread_create(&d->th, NULL, drain_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        *cause = cv_strdup_printf("cannot start the thread that drains the run: %s", strerror(err));
        return false;
    }
    d->on = true;
    return true;
}

/* Waits for the drain thread to return (the run has ended or been asked to stop). */
static void drain_join(struct live *L)
{
    if (!L->drain.on)
        return;
    pthread_join(L->drain.th, NULL);
    L->drain.on = false;
}

/* Around reading the collector of a run that the drain thread may be changing. */
static void run_lock(struct live *L)
{
    if (L->drain.on)
        pthread_mutex_lock(&L->drain.mu);
}

static void run_unlock(struct live *L)
{
    if (L->drain.on)
        pthread_mutex_unlock(&L->drain.mu);
}

static void start_run(struct live *L)
{
    if (L->req->replay) {
        start_replay(L);
        return;
    }
    char *cause = NULL;
    free(L->run_error);
    L->run_error = NULL;
    L->done = false;
    L->summary = NULL;
    L->failed = 0;
    L->elapsed = 0;
    L->view_t = 0;
    L->follow = true;
    L->col_ns = 0;
    L->last_frame = ui_now();
    int r = cv_run_create(&L->req->cfg, &L->run, &cause);
    if (r == CV_OK && cv_run_start(L->run, &cause) != CV_OK) {
        cv_run_destroy(L->run);
        L->run = NULL;
        r = CV_ERR_RUNTIME;
    }
    if (r == CV_OK && !drain_start(L, &cause)) {
        cv_run_stop(L->run);
        while (!cv_run_poll(L->run)) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        cv_run_destroy(L->run);
        L->run = NULL;
        r = CV_ERR_RUNTIME;
    }
    if (r != CV_OK) {
        L->run = NULL;
        L->run_error = cause ? cause : cv_strdup("the run could not start");
        L->rc = r == CV_ERR_USAGE ? TUI_EXIT_USAGE : TUI_EXIT_RUNTIME;
        L->done = true;
    }
}

/* Once the drain thread has returned (the run is over and every event is in). */
static void finish_run(struct live *L)
{
    if (!L->run || L->summary)
        return;
    drain_join(L);
    L->summary = cv_run_summary(L->run, true, &L->failed);
    L->state = cv_run_state(L->run);
    L->elapsed = cv_run_elapsed(L->run);
    L->done = true;
    if (cv_run_record_error(L->run))
        say(L, "%s", cv_run_record_error(L->run));
    struct compare *c = &L->cmp;
    if (c->on && c->at < c->n) {
        int i = c->at;
        c->wall[i] = tui_num(L->summary, "wall_s");
        c->cpu[i] = tui_num(L->summary, "cpu_s");
        c->inflight[i] = tui_num(L->summary, "inflight_max");
        c->failed[i] = L->failed;
        const struct cv_value *exp = cv_value_get(L->summary, "expectations");
        c->nexp[i] = exp ? (unsigned)exp->n : 0;
        snprintf(c->state[i], sizeof c->state[i], "%s",
                 L->state == CV_RUN_DONE         ? "done"
                 : L->state == CV_RUN_DEADLOCKED ? "deadlock"
                 : L->state == CV_RUN_STOPPED    ? "stopped"
                                                 : "failed");
        c->at++;
        c->next_at = ui_now() + 1.0;
    }
}

static void frozen_free(struct frozen *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->s.nlanes; i++) {
        free((void *)f->lanes[i].timeline);
        free((void *)f->lanes[i].spans);
    }
    for (size_t i = 0; i < f->s.nqueues; i++)
        free((void *)f->queues[i].series);
    for (size_t i = 0; f->strings && i < f->s.nstrings; i++)
        free(f->strings[i]);
    free(f->strings);
    free(f->lanes);
    free(f->locks);
    free(f->queues);
    free(f->counters);
    free(f->order);
    free(f);
}

static void *dup_mem(const void *p, size_t n)
{
    void *q = cv_xmalloc(n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

static struct frozen *freeze(const struct cv_snapshot *s)
{
    struct frozen *f = cv_xcalloc(1, sizeof *f);
    f->s = *s;
    f->lanes = dup_mem(s->lanes, s->nlanes * sizeof *s->lanes);
    for (size_t i = 0; i < s->nlanes; i++) {
        f->lanes[i].timeline = dup_mem(s->lanes[i].timeline, s->lanes[i].timeline_n);
        f->lanes[i].spans =
            dup_mem(s->lanes[i].spans, s->lanes[i].nspans * sizeof *s->lanes[i].spans);
    }
    f->locks = dup_mem(s->locks, s->nlocks * sizeof *s->locks);
    f->queues = dup_mem(s->queues, s->nqueues * sizeof *s->queues);
    for (size_t i = 0; i < s->nqueues; i++)
        f->queues[i].series =
            dup_mem(s->queues[i].series, s->queues[i].nseries * sizeof *s->queues[i].series);
    f->counters = dup_mem(s->counters, s->ncounters * sizeof *s->counters);
    f->order = dup_mem(s->completion_order, s->ncompleted * sizeof *s->completion_order);
    f->strings = cv_xcalloc(s->nstrings ? s->nstrings : 1, sizeof *f->strings);
    for (size_t i = 0; i < s->nstrings; i++)
        f->strings[i] = s->strings[i] ? cv_strdup(s->strings[i]) : NULL;
    f->s.strings = (const char *const *)f->strings;
    f->s.lanes = f->lanes;
    f->s.locks = f->locks;
    f->s.queues = f->queues;
    f->s.counters = f->counters;
    f->s.completion_order = f->order;
    return f;
}

static void drop_run(struct live *L)
{
    frozen_free(L->fz);
    L->fz = NULL;
    L->paused = false;
    cv_replay_free(L->rp);
    L->rp = NULL;
    if (L->run) {
        cv_run_stop(L->run);
        drain_join(L); /* it returns once the run has ended */
        cv_run_destroy(L->run);
        L->run = NULL;
    }
    cv_value_free(L->summary);
    L->summary = NULL;
}

static void rerun(struct live *L)
{
    drop_run(L);
    start_run(L);
}

static void say(struct live *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->message, sizeof L->message, fmt, ap);
    va_end(ap);
    L->message_until = ui_now() + 3;
}

/* ---------------------------------------------------------------- drawing helpers */

static void dur(char *buf, size_t n, double s)
{
    if (s >= 100)
        snprintf(buf, n, "%.0fs", s);
    else if (s >= 1)
        snprintf(buf, n, "%.2fs", s);
    else if (s >= 1e-3)
        snprintf(buf, n, "%.1fms", s * 1e3);
    else if (s > 0)
        snprintf(buf, n, "%.0fus", s * 1e6);
    else
        snprintf(buf, n, "0");
}

/* Prints at (y, x) at most `w` columns of s (ASCII or UTF-8 counted per code point). */
static int put(int y, int x, int w, const char *s)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    int cols = 0;
    const char *p = s;
    while (*p && cols < w) {
        const char *q = p + 1;
        while ((*q & 0xC0) == 0x80)
            q++;
        p = q;
        cols++;
    }
    mvaddnstr(y, x, s, (int)(p - s));
    return cols;
}

static int putf(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int putf(int y, int x, int w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put(y, x, w, buf);
}

/* From the lane-state table (concviz/collector.h). */
static const char state_letter[CV_LANE__COUNT] = {
#define CV_X_LETTER(id, name, letter, ...) [CV_LANE_##id] = letter,
    CV_LANE_STATES(CV_X_LETTER)
#undef CV_X_LETTER
};

static const char *const state_label[CV_LANE__COUNT] = {
#define CV_X_LABEL(id, name, letter, label, ...) [CV_LANE_##id] = label,
    CV_LANE_STATES(CV_X_LABEL)
#undef CV_X_LABEL
};

/* One cell of a lane-state run: coloured blanks, or letters without colour. */
static void cells(int y, int x, int n, unsigned st)
{
    if (n <= 0 || st == CV_LANE_OFF)
        return;
    char ch = ui_has_color() ? (st == CV_LANE_IDLE ? '.' : (st == CV_LANE_DEAD ? 'x' : ' '))
                             : state_letter[st];
    /* a line of one character: no per-character multibyte decoding as with addnstr */
    mvhline(y, x, (chtype)(unsigned char)ch | (chtype)ui_attr_state(st), n);
}

static void fill_row(int y, int x, int w, int attr)
{
    attron(attr);
    mvhline(y, x, ' ', w);
    attroff(attr);
}

static void box_title(int y, int x, int w, const char *title, bool focused)
{
    int a = focused ? ui_attr(UI_C_FOCUS) : ui_attr(UI_C_TITLE);
    attron(a);
    putf(y, x, w, " %s ", title);
    attroff(a);
}

/* ---------------------------------------------------------------- panels */

static const char *lane_name(const struct cv_snapshot *s, uint32_t lane)
{
    return lane < s->nlanes ? s->lanes[lane].name : "-";
}

static const char *object_name(const struct cv_snapshot *s, uint32_t obj)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (s->locks[i].obj == obj)
            return s->locks[i].name;
    for (size_t i = 0; i < s->nqueues; i++)
        if (s->queues[i].obj == obj)
            return s->queues[i].name;
    return "?";
}

static const struct cv_lock_stats *lock_by_obj(const struct cv_snapshot *s, uint32_t obj)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (s->locks[i].obj == obj)
            return &s->locks[i];
    return NULL;
}

/* Lanes shown: those whose name contains the filter. */
static size_t visible_lanes(const struct live *L, const struct cv_snapshot *s, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nlanes; i++)
        if (!L->filter[0] || strstr(s->lanes[i].name, L->filter))
            out[n++] = (uint32_t)i;
    return n;
}

/* The state a column shows: the most frequent among the buckets it covers (a wait or a run
 * wins a tie against idle). */
static unsigned column_state(const struct cv_lane_stats *l, uint64_t bw, uint64_t a, uint64_t b,
                             uint64_t now)
{
    if (a >= now)
        return CV_LANE_OFF;
    uint64_t first = l->timeline_first, end = first + l->timeline_n;
    uint64_t ba = a / bw, bb = (b + bw - 1) / bw;
    if (bb <= ba)
        bb = ba + 1;
    if (!l->timeline_n && l->state == CV_LANE_OFF)
        return CV_LANE_OFF;
    if (bb - ba == 1 && ba >= first && ba < end)
        return l->timeline[ba - first]; /* zoomed in: one bucket per column */
    unsigned count[CV_LANE__COUNT] = {0};
    for (uint64_t k = ba; k < bb; k++) {
        if (k < first)
            count[CV_LANE_OFF]++;
        else if (k < end)
            count[l->timeline[k - first]]++;
        else
            count[l->state]++;
        if (bb - ba > 512 && k - ba > 512)
            break; /* never more than this per cell */
    }
    unsigned best = CV_LANE_OFF;
    for (unsigned st = 0; st < CV_LANE__COUNT; st++)
        if (count[st] > count[best] || (count[st] == count[best] && count[st] && st < best))
            best = st;
    if (best == CV_LANE_OFF && (count[CV_LANE_IDLE] || count[CV_LANE_RUNNING])) {
        /* a lane starting part-way through the cell: show what it did */
        unsigned alt = CV_LANE_IDLE;
        for (unsigned st = 0; st < CV_LANE_OFF; st++)
            if (count[st] > count[alt])
                alt = st;
        best = alt;
    }
    return best;
}

/* Task ids inside a lane's cells, where a task spans enough columns for its id and a margin. */
static void task_labels(int y, int x0, const struct cv_lane_stats *l, const uint8_t *colst, int tw,
                        uint64_t left, uint64_t col, uint64_t now)
{
    uint64_t right = left + col * (uint64_t)tw;
    /* the first span that ends after the left edge (spans are in start order, end after start) */
    uint32_t lo = 0, hi = l->nspans;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->spans[mid].end_ns <= left)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = lo; i < l->nspans && l->spans[i].start_ns < right; i++) {
        const struct cv_task_span *sp = &l->spans[i];
        uint64_t a = sp->start_ns > left ? sp->start_ns : left;
        uint64_t b = sp->end_ns < now ? sp->end_ns : now;
        if (b > right)
            b = right;
        if (b <= a)
            continue;
        int c0 = (int)((a - left + col - 1) / col), c1 = (int)((b - left) / col);
        char id[16];
        int len = snprintf(id, sizeof id, "%u", sp->task);
        if (c1 - c0 < len + 2)
            continue;
        for (int j = 0; j < len; j++) {
            int c = c0 + 1 + j;
            if (colst[c] == CV_LANE_OFF)
                break;
            mvaddch(y, x0 + c, (chtype)(unsigned char)id[j] | (chtype)ui_attr_state(colst[c]));
        }
    }
}

static void draw_lanes(struct live *L, const struct cv_snapshot *s, int y0, int h, int W)
{
    int tw = W - LABEL_W - 1;
    uint64_t now = (uint64_t)(L->view_t * 1e9);
    uint64_t bw = s->timeline_bucket_ns ? s->timeline_bucket_ns : 1000000;
    uint64_t col = L->col_ns;
    if (!col) { /* fit: the whole run so far */
        col = (now + (uint64_t)tw - 1) / (uint64_t)(tw > 0 ? tw : 1);
        if (col < 1000000)
            col = 1000000;
    }
    uint64_t left;
    if (L->follow || !L->col_ns) {
        uint64_t span = col * (uint64_t)tw;
        left = now > span ? now - span : 0;
        if (L->col_ns && now > span)
            left = ((now - span) / col + 1) * col; /* whole columns, the last one is now */
    } else {
        left = (uint64_t)(L->left_t * 1e9);
    }
    /* the axis */
    box_title(y0, 0, LABEL_W, panel_names[P_LANES], L->focus == P_LANES);
    attron(ui_attr(UI_C_DIM));
    for (int c = 0; c + 8 <= tw; c += 14) {
        char t[24];
        dur(t, sizeof t, (double)(left + (uint64_t)c * col) / 1e9);
        putf(y0, LABEL_W + 1 + c, 12, "|%s", t);
    }
    char per[24];
    dur(per, sizeof per, (double)col / 1e9);
    attroff(ui_attr(UI_C_DIM));

    uint32_t *vis = cv_xmalloc((s->nlanes + 1) * sizeof *vis);
    uint8_t *colst = cv_xmalloc(tw > 0 ? (size_t)tw : 1);
    size_t nv = visible_lanes(L, s, vis);
    int rows = h - 1;
    if (L->sel >= (int)nv)
        L->sel = nv ? (int)nv - 1 : 0;
    if (L->sel < L->lane_top)
        L->lane_top = L->sel;
    if (L->sel >= L->lane_top + rows)
        L->lane_top = L->sel - rows + 1;
    if (L->lane_top > (int)nv - rows)
        L->lane_top = (int)nv - rows > 0 ? (int)nv - rows : 0;
    for (int r = 0; r < rows; r++) {
        int y = y0 + 1 + r;
        size_t vi = (size_t)(L->lane_top + r);
        if (vi >= nv)
            break;
        const struct cv_lane_stats *l = &s->lanes[vis[vi]];
        bool sel = L->focus == P_LANES && (int)vi == L->sel;
        if (sel)
            attron(A_REVERSE);
        char task[16] = "";
        if (l->current_task != CV_NONE && l->state != CV_LANE_OFF)
            snprintf(task, sizeof task, "t%u", l->current_task);
        putf(y, 0, LABEL_W, "%-13.13s %-6.6s", l->name, task);
        if (sel)
            attroff(A_REVERSE);
        /* each column's state once, then drawn as runs of one state */
        for (int c = 0; c < tw; c++) {
            uint64_t a = left + (uint64_t)c * col;
            colst[c] = (uint8_t)column_state(l, bw, a, a + col, now);
        }
        for (int c = 0, c2; c < tw; c = c2) {
            for (c2 = c + 1; c2 < tw && colst[c2] == colst[c]; c2++)
                ;
            cells(y, LABEL_W + 1 + c, c2 - c, colst[c]);
        }
        if (l->nspans)
            task_labels(y, LABEL_W + 1, l, colst, tw, left, col, now);
    }
    if (nv > (size_t)rows) {
        attron(ui_attr(UI_C_DIM));
        putf(y0, W - 24, 24, " %d-%d of %zu lanes ", L->lane_top + 1,
             L->lane_top + rows < (int)nv ? L->lane_top + rows : (int)nv, nv);
        attroff(ui_attr(UI_C_DIM));
    } else if (L->filter[0]) {
        putf(y0, W - 24, 24, " filter: %s ", L->filter);
    }
    if (!nv)
        putf(y0 + 1, LABEL_W + 1, tw, "no lane matches '%s' (/ to change the filter)", L->filter);
    attron(ui_attr(UI_C_DIM));
    putf(y0, LABEL_W - 8 > 0 ? 8 : 0, 12, "%s/col", per);
    attroff(ui_attr(UI_C_DIM));
    free(colst);
    free(vis);
}

static void draw_legend(int y, int W)
{
    int x = 0;
    attron(ui_attr(UI_C_DIM));
    x += put(y, x, W - x, "legend ");
    attroff(ui_attr(UI_C_DIM));
    for (unsigned st = 0; st < CV_LANE_OFF && x < W; st++) {
        if (ui_has_color()) {
            cells(y, x, 2, st);
            x += 2;
            x += putf(y, x, W - x, " %s  ", state_label[st]);
        } else {
            x += putf(y, x, W - x, "%c %s  ", state_letter[st], state_label[st]);
        }
    }
}

static void draw_locks(struct live *L, const struct cv_snapshot *s, int y0, int x0, int w, int h)
{
    box_title(y0, x0, w, "locks", L->focus == P_LOCKS);
    if (!s->nlocks) {
        attron(ui_attr(UI_C_DIM));
        put(y0 + 1, x0 + 1, w - 1, "no locks in this scenario");
        attroff(ui_attr(UI_C_DIM));
        return;
    }
    /* two lines per lock: who holds it and who waits; then the waiting totals and the latest
     * hand-over */
    int rows = (h - 1) / 2;
    int top = L->scroll[P_LOCKS];
    if (top > (int)s->nlocks - 1)
        top = L->scroll[P_LOCKS] = (int)s->nlocks - 1;
    for (int r = 0; r < rows && top + r < (int)s->nlocks; r++) {
        const struct cv_lock_stats *k = &s->locks[top + r];
        char holder[40], tot[16], mx[16], hand[80] = "none yet";
        if (k->holders > 1)
            snprintf(holder, sizeof holder, "%u holders", k->holders);
        else if (k->holders == 1 && k->holder != CV_NONE)
            snprintf(holder, sizeof holder, "held by %s", lane_name(s, k->holder));
        else
            snprintf(holder, sizeof holder, "free");
        dur(tot, sizeof tot, (double)k->wait_ns_total / 1e9);
        dur(mx, sizeof mx, (double)k->wait_ns_max / 1e9);
        if (k->handoff_from != CV_NONE && k->handoff_to != CV_NONE)
            snprintf(hand, sizeof hand, "%s%s%s", lane_name(s, k->handoff_from),
                     ui_ascii() ? "->" : "→", lane_name(s, k->handoff_to));
        double cont = k->acquisitions ? 100.0 * (double)k->contended / (double)k->acquisitions : 0;
        int y = y0 + 1 + 2 * r;
        int a = k->waiters ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
        attron(a | A_BOLD);
        int x = x0 + put(y, x0, w, k->name);
        attroff(a | A_BOLD);
        attron(a);
        putf(y, x, w - (x - x0), " %s, %u waiting, %.0f%% contended", holder, k->waiters, cont);
        attroff(a);
        putf(y + 1, x0, w, "  wait %s max %s  %s", tot, mx, hand);
    }
}

static const char *const spark_utf8[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char spark_ascii[8] = {'_', '.', '-', '~', '=', '+', '*', '#'};

static void draw_queue(struct live *L, const struct cv_snapshot *s, int y0, int x0, int w, int h)
{
    box_title(y0, x0, w, "queue", L->focus == P_QUEUE);
    if (!s->nqueues) {
        attron(ui_attr(UI_C_DIM));
        put(y0 + 1, x0 + 1, w - 1, "no queue in this scenario");
        attroff(ui_attr(UI_C_DIM));
        return;
    }
    int y = y0 + 1;
    size_t first = (size_t)L->scroll[P_QUEUE] < s->nqueues ? (size_t)L->scroll[P_QUEUE] : 0;
    for (size_t qi = first; qi < s->nqueues && y + 3 <= y0 + h; qi++) {
        const struct cv_queue_stats *q = &s->queues[qi];
        putf(y++, x0, w, "%s %u/%u (max %u)", q->name, q->depth, q->capacity, q->max_depth);
        /* gauge: depth against capacity */
        int gw = w - 2;
        if (gw > 2) {
            uint32_t cap = q->capacity ? q->capacity : (q->max_depth ? q->max_depth : 1);
            int fill = (int)((double)q->depth / cap * gw + 0.5);
            if (fill > gw)
                fill = gw;
            mvaddch(y, x0, '[');
            attron(ui_attr_state(q->depth >= cap ? CV_LANE_LOCK_WAIT : CV_LANE_QUEUE_WAIT));
            for (int i = 0; i < fill; i++)
                mvaddch(y, x0 + 1 + i, ui_has_color() ? ' ' : '#');
            attroff(ui_attr_state(CV_LANE_QUEUE_WAIT));
            attroff(ui_attr_state(CV_LANE_LOCK_WAIT));
            for (int i = fill; i < gw; i++)
                mvaddch(y, x0 + 1 + i, '.');
            mvaddch(y, x0 + 1 + gw, ']');
        }
        y++;
        /* sparkline: depth over the run, newest right */
        int sw = w;
        if (q->nseries && sw > 0) {
            uint32_t cap = q->capacity ? q->capacity : q->max_depth ? q->max_depth : 1;
            move(y, x0);
            for (int i = 0; i < sw; i++) {
                size_t k = q->nseries <= (size_t)sw
                               ? (i < (int)q->nseries ? (size_t)i : q->nseries - 1)
                               : (size_t)((double)i * (double)q->nseries / sw);
                if (q->nseries <= (size_t)sw && i >= (int)q->nseries)
                    break;
                int lvl = (int)((double)q->series[k].depth / cap * 7 + 0.5);
                lvl = lvl < 0 ? 0 : lvl > 7 ? 7 : lvl;
                if (ui_ascii())
                    addch((chtype)spark_ascii[lvl]);
                else
                    addstr(spark_utf8[lvl]);
            }
        }
        y++;
        if (y < y0 + h)
            putf(y++, x0, w, "blocked: %u producers, %u consumers", q->producers_waiting,
                 q->consumers_waiting);
        if (y < y0 + h)
            putf(y++, x0, w, "in %llu out %llu", (unsigned long long)q->pushed,
                 (unsigned long long)q->popped);
    }
}

static void draw_order(struct live *L, const struct cv_snapshot *s, int y0, int x0, int w, int h)
{
    box_title(y0, x0, w, w >= 26 ? "completion (* overtook)" : "completion", L->focus == P_ORDER);
    putf(y0 + 1, x0, w, "in flight %u (max %u)", s->inflight, s->inflight_max);
    /* tasks in completion order; * marks one that overtook an earlier submission */
    size_t n = s->ncompleted;
    uint32_t maxid = 0;
    for (size_t i = 0; i < n; i++)
        if (s->completion_order[i] != CV_NONE && s->completion_order[i] > maxid)
            maxid = s->completion_order[i];
    unsigned char *seen = cv_xcalloc((size_t)maxid + 2, 1);
    uint32_t low = 0; /* lowest task id not yet completed */
    int y = y0 + 2, x = x0;
    int cap_rows = h - 2;
    /* how many fit: show the latest ones */
    size_t fit = (size_t)cap_rows * (size_t)(w / 5 > 0 ? w / 5 : 1);
    size_t start = n > fit ? n - fit : 0;
    if (L->scroll[P_ORDER] && (size_t)L->scroll[P_ORDER] * (w / 5) < start)
        start -= (size_t)L->scroll[P_ORDER] * (size_t)(w / 5);
    for (size_t i = 0; i < n; i++) {
        uint32_t t = s->completion_order[i];
        if (t == CV_NONE || t > maxid)
            continue;
        bool overtook = t > low;
        seen[t] = 1;
        while (low <= maxid && seen[low])
            low++;
        if (i < start || y >= y0 + h)
            continue;
        char item[16];
        int len = snprintf(item, sizeof item, "%u%s", t, overtook ? "*" : "");
        if (x + len > x0 + w) {
            y++;
            x = x0;
            if (y >= y0 + h)
                continue;
        }
        int a = overtook ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
        attron(a);
        put(y, x, w, item);
        attroff(a);
        x += len + 1;
    }
    free(seen);
}

static void draw_results(struct live *L, const struct cv_snapshot *s, int y0, int x0, int w, int h)
{
    box_title(y0, x0, w, "results", L->focus == P_RESULTS);
    int y = y0 + 1;
    int skip = L->scroll[P_RESULTS];
    char line[256];
#define EMIT(attr, ...)                           \
    do {                                          \
        snprintf(line, sizeof line, __VA_ARGS__); \
        if (skip > 0) {                           \
            skip--;                               \
        } else if (y < y0 + h) {                  \
            attron(attr);                         \
            put(y++, x0, w, line);                \
            attroff(attr);                        \
        }                                         \
    } while (0)
    const struct cv_task_counts *t = &s->tasks;
    EMIT(A_NORMAL, "tasks %llu done, %llu failed", (unsigned long long)t->completed,
         (unsigned long long)t->failed);
    if (t->cancelled || t->timed_out || t->retried)
        EMIT(A_NORMAL, "cancelled %llu timed out %llu retried %llu",
             (unsigned long long)t->cancelled, (unsigned long long)t->timed_out,
             (unsigned long long)t->retried);
    if (s->deadlock || (L->done && L->state == CV_RUN_DEADLOCKED))
        EMIT(ui_attr(UI_C_BAD), "DEADLOCK");
    if (!L->summary) {
        for (size_t i = 0; i < s->ncounters; i++)
            EMIT(A_NORMAL, "%s = %llu", s->counters[i].name,
                 (unsigned long long)s->counters[i].value);
        if (s->gil_switches)
            EMIT(A_NORMAL, "GIL switches %llu", (unsigned long long)s->gil_switches);
    } else {
        const struct cv_value *res = cv_value_get(L->summary, "results");
        for (size_t i = 0; res && i < res->n; i++) {
            const struct cv_value *v = res->items[i];
            const char *k = res->keys ? res->keys[i] : "?";
            if (v->type == CV_VAL_NUM && v->num == floor(v->num) && fabs(v->num) <= 0x1p53)
                EMIT(A_NORMAL, "%s %.0f", k, v->num); /* whole numbers exact, all digits */
            else if (v->type == CV_VAL_NUM)
                EMIT(A_NORMAL, "%s %.10g", k, v->num);
            else if (v->type == CV_VAL_STR)
                EMIT(A_NORMAL, "%s %s", k, v->str);
            else if (v->type == CV_VAL_BOOL)
                EMIT(A_NORMAL, "%s %s", k, v->b ? "yes" : "no");
            else if (!strcmp(k, "deadlock") && cv_value_get(v, "text"))
                EMIT(ui_attr(UI_C_BAD), "cycle: %s", cv_value_get(v, "text")->str);
        }
        const struct cv_value *exp = cv_value_get(L->summary, "expectations");
        for (size_t i = 0; exp && i < exp->n; i++) {
            const struct cv_value *ok = cv_value_get(exp->items[i], "ok");
            bool good = ok && ok->b;
            EMIT(ui_attr(good ? UI_C_GOOD : UI_C_BAD), "%s %s", good ? "ok  " : "FAIL",
                 cv_value_get(exp->items[i], "name")->str);
        }
    }
#undef EMIT
}

/* How a run ended, as the header says it. */
static const char *ended(enum cv_run_state st)
{
    return st == CV_RUN_DEADLOCKED ? "DEADLOCKED"
           : st == CV_RUN_FAILED   ? "FAILED"
           : st == CV_RUN_STOPPED  ? "stopped"
                                   : "done";
}

/* Events lost, in red at the right of the second row. */
static void lost_banner(const struct cv_snapshot *s, const char *dropped, int W)
{
    if (!s->events_dropped)
        return;
    attron(ui_attr(UI_C_BAD));
    putf(1, W - 20, 20, " %s events lost ", dropped);
    attroff(ui_attr(UI_C_BAD));
}

/* The header of a replay: what was recorded, where the replay is, and a position bar. */
static void draw_replay_header(struct live *L, const struct cv_snapshot *s, int W)
{
    const struct cv_scenario *sc = L->req->scenario;
    const struct cv_recording_info *info = cv_recording_info(L->req->replay);
    fill_row(0, 0, W, ui_attr(UI_C_BAR));
    attron(ui_attr(UI_C_BAR));
    char st[32];
    if (L->run_error)
        snprintf(st, sizeof st, "FAILED");
    else if (L->done)
        snprintf(st, sizeof st, "end (%s)",
                 !L->summary || info->missing ? "cut short" : ended(L->state));
    else
        snprintf(st, sizeof st, "%s %gx", L->paused ? "paused" : "playing", L->speed);
    char ev[16], dr[16], el[16], end[16];
    tui_human(ev, sizeof ev, (double)s->events_recorded);
    tui_human(dr, sizeof dr, (double)s->events_dropped);
    dur(el, sizeof el, L->elapsed);
    dur(end, sizeof end, L->end_t);
    char tasks[96];
    tui_tasks_text(tasks, sizeof tasks, &s->tasks, s->tasks.submitted);
    putf(0, 0, W, " concviz replay  %s  %s x%u  GIL %s  %s  %s / %s  %s  events %s  drops %s",
         sc->name, info->model, info->workers, info->gil ? "on" : "off", st, el, end, tasks, ev,
         dr);
    attroff(ui_attr(UI_C_BAR));
    lost_banner(s, dr, W);
    /* the position: file name, then a bar from the start to the end */
    attron(ui_attr(UI_C_DIM));
    int nw = putf(1, 0, W / 3, "%s", L->req->replay_name ? L->req->replay_name : "");
    attroff(ui_attr(UI_C_DIM));
    int bx = nw + 2, bw = W - 22 - bx - 2;
    if (bw >= 10) {
        int fill = L->end_t > 0 ? (int)lround(L->elapsed / L->end_t * bw) : bw;
        mvaddch(1, bx, '[');
        for (int i = 0; i < bw; i++)
            mvaddch(1, bx + 1 + i, i < fill ? '=' : (i == fill ? '>' : '-'));
        mvaddch(1, bx + 1 + bw, ']');
    }
}

static void draw_header(struct live *L, const struct cv_snapshot *s, int W)
{
    if (L->rp) {
        draw_replay_header(L, s, W);
        return;
    }
    const struct cv_scenario *sc = L->req->scenario;
    fill_row(0, 0, W, ui_attr(UI_C_BAR));
    attron(ui_attr(UI_C_BAR));
    const char *st = "starting";
    if (L->run_error)
        st = "FAILED";
    else if (L->done)
        st = ended(L->state);
    else if (L->run)
        st = "running";
    char ev[16], dr[16], el[16];
    tui_human(ev, sizeof ev, (double)s->events_recorded);
    tui_human(dr, sizeof dr, (double)s->events_dropped);
    dur(el, sizeof el, L->elapsed);
    uint64_t total = L->run ? cv_run_task_count(L->run) : 0;
    uint64_t done = s->tasks.completed + s->tasks.failed + s->tasks.cancelled;
    double tput = L->elapsed > 0 ? (double)done / L->elapsed : 0; /* tasks that ended, per s */
    bool gil = L->run && cv_run_gil(L->run);
    char tasks[96];
    tui_tasks_text(tasks, sizeof tasks, &s->tasks, total);
    putf(0, 0, W,
         " concviz  %s  %s x%u  GIL %s  %s%s  %s  %s  %.1f/s  events %s  drops %s  ui %.1f%%",
         sc->name, L->run ? cv_run_model_name(L->run) : cv_model_name(sc->model),
         L->run ? cv_run_workers(L->run) : 0, gil ? "on" : "off", st, L->paused ? " (paused)" : "",
         el, tasks, tput, ev, dr, L->ui_share * 100);
    attroff(ui_attr(UI_C_BAR));
    lost_banner(s, dr, W);
    attron(ui_attr(UI_C_DIM));
    if (L->speed != 1 || L->view_t + 0.05 < L->elapsed)
        putf(1, 0, W - 22, "%s  [speed %.2gx, view at %.2fs]", sc->title, L->speed, L->view_t);
    else
        putf(1, 0, W - 22, "%s", sc->title);
    attroff(ui_attr(UI_C_DIM));
}

static const char *const controls = " q quit  spc pause  +- speed  hl time  jk lanes  zZ zoom  "
                                    "/ filter  r rerun  m model  w workers  c compare";

static const char *const replay_controls =
    " q quit  spc play  +- speed  ,. step  [] start/end  <> skip  g go to  hl time  zZ zoom";

static void draw_controls(struct live *L, int y, int W)
{
    fill_row(y, 0, W, ui_attr(UI_C_BAR));
    attron(ui_attr(UI_C_BAR));
    if (L->message[0] && ui_now() < L->message_until)
        putf(y, 0, W, " %s", L->message);
    else
        put(y, 0, W - 8, L->rp ? replay_controls : controls);
    put(y, W - 8, 8, "  ? help"); /* always in view */
    attroff(ui_attr(UI_C_BAR));
}

/* A horizontal line: box drawing, or '-' with --ascii. */
static void rule(int y, int x, int w)
{
    move(y, x);
    for (int i = 0; i < w && x + i < COLS; i++)
        addstr(ui_ascii() ? "-" : "─");
}

/* A centred window with a frame; returns its inner origin. */
static void popup_frame(int w, int h, int *oy, int *ox, const char *title)
{
    if (w > COLS - 2)
        w = COLS - 2;
    if (h > LINES - 2)
        h = LINES - 2;
    int y = (LINES - h) / 2, x = (COLS - w) / 2;
    for (int r = 0; r < h; r++)
        mvhline(y + r, x, ' ', w);
    attron(ui_attr(UI_C_TITLE));
    rule(y, x, w);
    rule(y + h - 1, x, w);
    putf(y, x + 2, w - 4, " %s ", title);
    attroff(ui_attr(UI_C_TITLE));
    *oy = y + 1;
    *ox = x + 2;
}

static void draw_help(const struct live *L)
{
    static const char *const replay_keys[][2] = {
        {"space", "play / pause (at the end: play again)"},
        {"+ / -", "speed: 0.1x 0.25x 0.5x 1x 2x 5x 10x 25x 50x 100x"},
        {", / .", "step back / forward one frame (and pause)"},
        {"[ / ]", "go to the start / the end"},
        {"< / >", "skip back / forward a tenth of the recording"},
        {"g", "go to a time: seconds (1.5) or a share (40%)"},
        {"h l, Left Right", "scroll time; Home start, End follow"},
        {"j k, Up Down", "move through lanes (or the focused panel)"},
        {"z / Z", "zoom in / out; 0 fits the whole run"},
        {"/", "filter lanes by name (Enter keeps, Esc clears)"},
        {"Tab", "next panel: lanes, locks, queue, completion, results"},
        {"Enter", "details of the selected lane"},
        {"?", "this help; any key closes it"},
        {"q", "quit"},
    };
    static const char *const live_keys[][2] = {
        {"space", "pause / resume the view (the run goes on)"},
        {"+ / -", "animation speed (slow motion lags behind the run)"},
        {"h l, Left Right", "scroll time; Home start, End follow now"},
        {"j k, Up Down", "move through lanes (or the focused panel)"},
        {"z / Z", "zoom in / out; 0 fits the whole run"},
        {"/", "filter lanes by name (Enter keeps, Esc clears)"},
        {"Tab", "next panel: lanes, locks, queue, completion, results"},
        {"Enter", "details of the selected lane"},
        {"r", "run again"},
        {"m / w", "pick the model / the worker count, and rerun"},
        {"c", "compare: every model in turn (threads also under the GIL), then a table"},
        {"?", "this help; any key closes it"},
        {"q", "quit (the summary is printed)"},
    };
    const char *const(*keys)[2] = L->rp ? replay_keys : live_keys;
    int nkeys = L->rp ? (int)(sizeof replay_keys / sizeof *replay_keys)
                      : (int)(sizeof live_keys / sizeof *live_keys);
    int oy, ox;
    popup_frame(72, nkeys + CV_LANE_OFF + 6, &oy, &ox, "help: keys and colours");
    for (int i = 0; i < nkeys; i++) {
        attron(A_BOLD);
        putf(oy + i, ox, 18, "%s", keys[i][0]);
        attroff(A_BOLD);
        put(oy + i, ox + 18, COLS - ox - 20, keys[i][1]);
    }
    static const char *const meaning[CV_LANE__COUNT] = {
#define CV_X_MEANING(id, name, letter, label, svg_label, fg, bg, bg256, fill, text, meaning) \
    [CV_LANE_##id] = meaning,
        CV_LANE_STATES(CV_X_MEANING)
#undef CV_X_MEANING
    };
    int y = oy + nkeys + 1;
    put(y++, ox, 40, "colours (letters without colour):");
    for (unsigned st = 0; st < CV_LANE_OFF; st++, y++) {
        if (ui_has_color())
            cells(y, ox, 3, st);
        putf(y, ox + 4, COLS - ox - 6, "%c  %s", state_letter[st], meaning[st]);
    }
}

static void draw_details(struct live *L, const struct cv_snapshot *s)
{
    uint32_t *vis = cv_xmalloc((s->nlanes + 1) * sizeof *vis);
    size_t nv = visible_lanes(L, s, vis);
    if (!nv || L->sel >= (int)nv) {
        free(vis);
        L->details = false;
        return;
    }
    uint32_t lane = vis[L->sel];
    free(vis);
    const struct cv_lane_stats *l = &s->lanes[lane];
    int oy, ox;
    char title[64];
    snprintf(title, sizeof title, "lane %s", l->name);
    popup_frame(64, CV_LANE_OFF + 8, &oy, &ox, title);
    char since[16];
    double now = (double)s->now_ns / 1e9;
    dur(since, sizeof since, now - (double)l->since_ns / 1e9);
    int y = oy;
    putf(y++, ox, 60, "now: %s for %s", state_label[l->state], since);
    if (l->waiting_on != CV_NONE) {
        const struct cv_lock_stats *k = lock_by_obj(s, l->waiting_on);
        if (k && k->holders == 1 && k->holder != CV_NONE)
            putf(y++, ox, 60, "waits on %s, held by %s", k->name, lane_name(s, k->holder));
        else if (k)
            putf(y++, ox, 60, "waits on %s (%u holders, %u waiting)", k->name, k->holders,
                 k->waiters);
        else
            putf(y++, ox, 60, "waits on %s", object_name(s, l->waiting_on));
    } else if (l->state == CV_LANE_IO && l->io_text != CV_NONE && l->io_text < s->nstrings &&
               s->strings[l->io_text]) {
        putf(y++, ox, 60, "fetching %s", s->strings[l->io_text]);
    } else {
        y++;
    }
    if (l->current_task != CV_NONE)
        putf(y++, ox, 60, "task %u; %u tasks started here", l->current_task, l->tasks);
    else
        putf(y++, ox, 60, "between tasks; %u tasks started here", l->tasks);
    y++;
    double total = 0;
    for (unsigned st = 0; st < CV_LANE_OFF; st++)
        total += (double)l->state_ns[st];
    for (unsigned st = 0; st < CV_LANE_OFF; st++) {
        char t[16];
        dur(t, sizeof t, (double)l->state_ns[st] / 1e9);
        if (ui_has_color())
            cells(y, ox, 2, st);
        putf(y++, ox + 3, 56, "%c %-10s %9s %5.1f%%", state_letter[st], state_label[st], t,
             total > 0 ? 100.0 * (double)l->state_ns[st] / total : 0);
    }
    putf(y, ox, 60, "events %llu, dropped %llu", (unsigned long long)l->events,
         (unsigned long long)l->drops);
}

static void draw_popup(struct live *L)
{
    int oy, ox;
    if (L->popup == POP_MODEL) {
        const struct cv_scenario *sc = L->req->scenario;
        popup_frame(40, CV_MODEL__COUNT + 3, &oy, &ox, "model (Enter runs, Esc closes)");
        int row = 0;
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
            if (!(sc->models & (1u << m)))
                continue;
            if (row == L->popup_sel)
                attron(A_REVERSE);
            putf(oy + row, ox, 30, " %-10s ", cv_model_name(m));
            if (row == L->popup_sel)
                attroff(A_REVERSE);
            row++;
        }
    } else if (L->popup == POP_WORKERS) {
        popup_frame(44, 4, &oy, &ox, "workers (Enter runs, Esc closes)");
        putf(oy, ox, 40, "workers: %s_", L->input);
    } else if (L->popup == POP_FILTER) {
        popup_frame(44, 4, &oy, &ox, "filter lanes (Enter keeps, Esc clears)");
        putf(oy, ox, 40, "name contains: %s_", L->input);
    } else if (L->popup == POP_SEEK) {
        popup_frame(44, 4, &oy, &ox, "go to (Enter goes, Esc closes)");
        putf(oy, ox, 40, "time (s, or %%): %s_", L->input);
    }
}

static void draw_compare(struct live *L);

static void draw(struct live *L)
{
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int W = COLS, H = LINES;
    bool locked = false;
    erase();
    if (W < MIN_W || H < MIN_H) {
        char msg[64];
        snprintf(msg, sizeof msg, "terminal too small (need %dx%d)", MIN_W, MIN_H);
        int len = (int)strlen(msg);
        put(H / 2, W > len ? (W - len) / 2 : 0, W, msg);
        if (H / 2 + 1 < H)
            putf(H / 2 + 1, 0, W, "now %dx%d; the run goes on", W, H);
    } else {
        /* the live snapshot and the frame composed from it under the drain's lock; the write to
         * the terminal (doupdate) after it, so a terminal that blocks never holds the drain */
        locked = !L->fixed && !L->rp && !(L->paused && L->fz) && L->run;
        if (locked)
            run_lock(L);
        struct cv_snapshot empty = {0};
        const struct cv_snapshot *s = L->fixed             ? L->fixed
                                      : L->rp              ? cv_replay_snapshot(L->rp)
                                      : L->paused && L->fz ? &L->fz->s
                                      : L->run             ? cv_run_snapshot(L->run)
                                                           : &empty;
        draw_header(L, s, W);
        int bottom = H / 3 < 7 ? 7 : (H / 3 > 12 ? 12 : H / 3);
        int lanes_h = H - 2 - 1 - 1 - bottom;
        if (L->run_error) {
            attron(ui_attr(UI_C_BAD));
            putf(3, 2, W - 4, "the run could not start: %s", L->run_error);
            attroff(ui_attr(UI_C_BAD));
        } else {
            draw_lanes(L, s, 2, lanes_h, W);
        }
        draw_legend(2 + lanes_h, W);
        int py = 3 + lanes_h;
        int w1 = W * 38 / 100, w2 = W * 20 / 100, w3 = W * 18 / 100;
        int w4 = W - w1 - w2 - w3 - 3;
        draw_locks(L, s, py, 0, w1, bottom);
        draw_queue(L, s, py, w1 + 1, w2, bottom);
        draw_order(L, s, py, w1 + w2 + 2, w3, bottom);
        draw_results(L, s, py, w1 + w2 + w3 + 3, w4, bottom);
        draw_controls(L, H - 1, W);
        if (L->details)
            draw_details(L, s);
        if (L->cmp.on || L->cmp.table)
            draw_compare(L);
        if (L->help)
            draw_help(L);
        if (L->popup)
            draw_popup(L);
    }
    wnoutrefresh(stdscr);
    if (locked)
        run_unlock(L);
    doupdate();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    L->draw_cpu += (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
}

static void compare_start(struct live *L)
{
    struct compare *c = &L->cmp;
    const struct cv_scenario *sc = L->req->scenario;
    memset(c, 0, sizeof *c);
    c->saved_model = L->req->cfg.model;
    c->saved_gil = L->req->cfg.gil;
    for (unsigned m = 0; m < CV_MODEL__COUNT && c->n < CMP_MAX; m++) {
        if (!(sc->models & (1u << m)))
            continue;
        c->model[c->n] = (int)m;
        c->gil[c->n++] = 0;
        if (m == CV_MODEL_THREADS && c->n < CMP_MAX) { /* the GIL lesson: threads under it too */
            c->model[c->n] = (int)m;
            c->gil[c->n++] = 1;
        }
    }
    c->on = true;
}

/* Starts the next run of a comparison once the last one has been seen; the table at the end. */
static void compare_step(struct live *L)
{
    struct compare *c = &L->cmp;
    if (!c->on || (L->run && !L->done) || ui_now() < c->next_at)
        return;
    if (L->run_error && c->at < c->n && c->next_at) { /* that model could not even start */
        snprintf(c->state[c->at], sizeof c->state[c->at], "error");
        c->at++;
    }
    if (c->at >= c->n) {
        c->on = false;
        c->table = true;
        L->req->cfg.model = c->saved_model;
        L->req->cfg.gil = c->saved_gil;
        return;
    }
    L->req->cfg.model = c->model[c->at];
    L->req->cfg.gil = c->gil[c->at];
    c->next_at = ui_now();
    rerun(L);
}

static void draw_compare(struct live *L)
{
    struct compare *c = &L->cmp;
    int oy, ox;
    popup_frame(78, c->n + 7, &oy, &ox,
                c->on ? "compare: running each model in turn" : "compare (any key closes)");
    double base = 0;
    for (int i = 0; i < c->at; i++)
        if (c->model[i] == CV_MODEL_SERIAL)
            base = c->wall[i];
    if (!base && c->at)
        base = c->wall[0];
    attron(A_BOLD);
    putf(oy, ox, 74, "%-14s %9s %8s %9s %10s  %s", "model", "wall", "speedup", "cpu", "in flight",
         "checks");
    attroff(A_BOLD);
    for (int i = 0; i < c->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", cv_model_name((unsigned)c->model[i]),
                 c->gil[i] ? " +GIL" : "");
        int y = oy + 1 + i;
        if (i >= c->at) {
            attron(ui_attr(UI_C_DIM));
            putf(y, ox, 74, "%-14s %9s", name, i == c->at && c->on ? "running" : "-");
            attroff(ui_attr(UI_C_DIM));
            continue;
        }
        char wall[16], cpu[16], checks[48];
        dur(wall, sizeof wall, c->wall[i]);
        dur(cpu, sizeof cpu, c->cpu[i]);
        if (!strcmp(c->state[i], "error"))
            snprintf(checks, sizeof checks, "could not start");
        else if (strcmp(c->state[i], "done") != 0)
            snprintf(checks, sizeof checks, "%s", c->state[i]);
        else if (!c->nexp[i])
            snprintf(checks, sizeof checks, "-");
        else if (!c->failed[i])
            snprintf(checks, sizeof checks, "ok (%u)", c->nexp[i]);
        else
            snprintf(checks, sizeof checks, "%u of %u FAILED", c->failed[i], c->nexp[i]);
        putf(y, ox, 74, "%-14s %9s %7.2fx %9s %10.0f  ", name, wall,
             c->wall[i] > 0 ? base / c->wall[i] : 0, cpu, c->inflight[i]);
        int a =
            c->failed[i] || strcmp(c->state[i], "done") ? ui_attr(UI_C_BAD) : ui_attr(UI_C_GOOD);
        attron(a);
        put(y, ox + 56, 20, checks);
        attroff(a);
    }
    attron(ui_attr(UI_C_DIM));
    putf(oy + c->n + 2, ox, 74, "lesson: %s", L->req->scenario->title);
    putf(oy + c->n + 3, ox, 74,
         "speedup is against serial (or the first row); checks are the "
         "scenario's expectations");
    attroff(ui_attr(UI_C_DIM));
}

/* ---------------------------------------------------------------- keys */

static unsigned model_at(const struct cv_scenario *sc, int row)
{
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
        if ((sc->models & (1u << m)) && row-- == 0)
            return m;
    return sc->model;
}

static void popup_key(struct live *L, int k)
{
    if (k == 27) {
        if (L->popup == POP_FILTER)
            L->filter[0] = 0;
        L->popup = POP_NONE;
        return;
    }
    if (L->popup == POP_MODEL) {
        int n = 0;
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
            n += (L->req->scenario->models >> m) & 1;
        if ((k == 'j' || k == KEY_DOWN) && L->popup_sel + 1 < n)
            L->popup_sel++;
        else if ((k == 'k' || k == KEY_UP) && L->popup_sel > 0)
            L->popup_sel--;
        else if (k == '\n' || k == '\r' || k == KEY_ENTER) {
            L->req->cfg.model = (int)model_at(L->req->scenario, L->popup_sel);
            L->popup = POP_NONE;
            rerun(L);
        }
        return;
    }
    size_t len = strlen(L->input);
    if (k == '\n' || k == '\r' || k == KEY_ENTER) {
        if (L->popup == POP_WORKERS) {
            unsigned long v;
            if (tui_parse_ulong(L->input, 1, 4096, &v)) {
                L->req->cfg.workers = (unsigned)v;
                L->popup = POP_NONE;
                rerun(L);
            } else {
                say(L, "workers must be a whole number from 1 to 4096, not '%s'", L->input);
            }
        } else if (L->popup == POP_SEEK) {
            double t;
            if (parse_when(L->input, L->end_t, &t)) {
                L->popup = POP_NONE;
                replay_seek(L, t);
            } else {
                say(L, "go to needs seconds (1.5) or a share (40%%), not '%s'", L->input);
            }
        } else {
            snprintf(L->filter, sizeof L->filter, "%s", L->input);
            L->popup = POP_NONE;
            L->sel = L->lane_top = 0;
        }
        return;
    }
    if ((k == KEY_BACKSPACE || k == 127 || k == 8) && len)
        L->input[len - 1] = 0;
    else if (k >= 32 && k < 127 && len + 1 < sizeof L->input &&
             (L->popup != POP_WORKERS || (k >= '0' && k <= '9')))
        L->input[len] = (char)k, L->input[len + 1] = 0;
    if (L->popup == POP_FILTER)
        snprintf(L->filter, sizeof L->filter, "%s", L->input); /* filter as you type */
}

static void scroll_time(struct live *L, int dir)
{
    int tw = COLS - LABEL_W - 1;
    double now = L->view_t;
    double col = L->col_ns ? (double)L->col_ns / 1e9 : (now / (tw > 0 ? tw : 1));
    if (!L->col_ns) {
        /* leave fit: fix the current scale */
        L->col_ns = (uint64_t)(col * 1e9) > 1000000 ? (uint64_t)(col * 1e9) : 1000000;
        col = (double)L->col_ns / 1e9;
    }
    double left = L->follow ? now - col * tw : L->left_t;
    if (left < 0)
        left = 0;
    left += dir * col * tw / 4;
    if (left < 0)
        left = 0;
    if (left + col * tw >= now) {
        L->follow = true;
    } else {
        L->follow = false;
        L->left_t = left;
    }
}

static void zoom(struct live *L, bool in)
{
    int tw = COLS - LABEL_W - 1;
    uint64_t col = L->col_ns;
    if (!col) {
        col = (uint64_t)(L->view_t * 1e9 / (tw > 0 ? tw : 1));
        if (col < 1000000)
            col = 1000000;
    }
    double centre = L->follow ? L->view_t : L->left_t + (double)col * tw / 2e9;
    if (in)
        col = col / 2 > 1000 ? col / 2 : 1000; /* down to 1 us a column */
    else
        col *= 2;
    L->col_ns = col;
    if (!L->follow) {
        L->left_t = centre - (double)col * tw / 2e9;
        if (L->left_t < 0)
            L->left_t = 0;
    }
}

static void key(struct live *L, int k)
{
    if (k == KEY_RESIZE) {
        clearok(stdscr, TRUE);
        return;
    }
    if (L->popup) {
        popup_key(L, k);
        return;
    }
    if (L->help || (L->cmp.table && k != 'q')) {
        L->help = false;
        L->cmp.table = false;
        if (k != 'q')
            return;
    }
    if (L->details && (k == 27 || k == '\n' || k == '\r' || k == KEY_ENTER)) {
        L->details = false;
        return;
    }
    if (L->rp && replay_key(L, k))
        return;
    switch (k) {
    case 'q':
    case 'Q':
        L->quit = true;
        break;
    case ' ':
        L->paused = !L->paused;
        frozen_free(L->fz);
        L->fz = NULL;
        if (L->paused && L->run) {
            run_lock(L);
            L->fz = freeze(cv_run_snapshot(L->run));
            run_unlock(L);
        }
        break;
    case '+':
    case '=':
        L->speed = fmin(1, L->speed * 2);
        break;
    case '-':
    case '_':
        L->speed = fmax(1.0 / 64, L->speed / 2);
        break;
    case 'h':
    case KEY_LEFT:
        scroll_time(L, -1);
        break;
    case 'l':
    case KEY_RIGHT:
        scroll_time(L, 1);
        break;
    case KEY_HOME:
        scroll_time(L, 0);
        L->follow = false;
        L->left_t = 0;
        break;
    case KEY_END:
        L->follow = true;
        break;
    case 'z':
        zoom(L, true);
        break;
    case 'Z':
        zoom(L, false);
        break;
    case '0':
        L->col_ns = 0;
        L->follow = true;
        break;
    case 'j':
    case KEY_DOWN:
        if (L->focus == P_LANES)
            L->sel++;
        else
            L->scroll[L->focus]++;
        break;
    case 'k':
    case KEY_UP:
        if (L->focus == P_LANES) {
            if (L->sel > 0)
                L->sel--;
        } else if (L->scroll[L->focus] > 0) {
            L->scroll[L->focus]--;
        }
        break;
    case KEY_NPAGE:
        L->sel += 10;
        break;
    case KEY_PPAGE:
        L->sel = L->sel > 10 ? L->sel - 10 : 0;
        break;
    case '\t':
        L->focus = (L->focus + 1) % NPANELS;
        break;
    case KEY_BTAB:
        L->focus = (L->focus + NPANELS - 1) % NPANELS;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        L->details = true;
        L->focus = P_LANES;
        break;
    case '?':
    case KEY_F(1):
        L->help = true;
        break;
    case '/':
        L->popup = POP_FILTER;
        snprintf(L->input, sizeof L->input, "%s", L->filter);
        break;
    case 'r':
        rerun(L);
        say(L, "%s", "run again");
        break;
    case 'm':
        L->popup = POP_MODEL;
        L->popup_sel = 0;
        break;
    case 'w':
        L->popup = POP_WORKERS;
        L->input[0] = 0;
        break;
    case 'c':
        compare_start(L);
        L->cmp.next_at = 0;
        drop_run(L); /* the comparison starts from its first model now */
        L->done = true;
        break;
    case 27:
        L->details = false;
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- frames without a run */

struct ui_frame {
    struct live L;
};

struct ui_frame *ui_frame_new(struct ui_run_req *req, const struct ui_opts *o)
{
    struct ui_frame *f = cv_xcalloc(1, sizeof *f);
    f->L.o = o;
    f->L.req = req;
    f->L.speed = 1;
    f->L.follow = true;
    return f;
}

void ui_frame_draw(struct ui_frame *f, const struct cv_snapshot *s, double view_t, uint64_t col_ns)
{
    f->L.fixed = s;
    f->L.view_t = f->L.elapsed = view_t;
    f->L.col_ns = col_ns;
    draw(&f->L);
    f->L.fixed = NULL;
}

void ui_frame_filter(struct ui_frame *f, const char *text)
{
    snprintf(f->L.filter, sizeof f->L.filter, "%s", text ? text : "");
}

void ui_frame_free(struct ui_frame *f)
{
    free(f);
}

/* ---------------------------------------------------------------- the loop */

int ui_live(struct ui_run_req *req, const struct ui_opts *o, struct ui_script *sc)
{
    struct live *L = cv_xcalloc(1, sizeof *L);
    L->o = o;
    L->req = req;
    L->sc = sc;
    L->speed = 1;
    L->follow = true;
    pthread_mutex_init(&L->drain.mu, NULL);
    char *cause = NULL;
    if (ui_screen_open(o, &cause) != 0) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        pthread_mutex_destroy(&L->drain.mu);
        free(L);
        return rc;
    }
    start_run(L);
    double frame = 1.0 / (o->fps ? o->fps : 30);
    double next_frame = 0, share_t0 = ui_now(), share_cpu0 = 0;
    bool script_ok = true, dirty = true;
    int sig = 0;
    while (!L->quit) {
        if (L->run && !L->done) {
            if (atomic_load(&L->drain.ended))
                finish_run(L);
            else
                L->elapsed = cv_run_elapsed(L->run);
        }
        if (L->rp)
            replay_play(L);
        compare_step(L);
        double now = ui_now();
        if ((sig = ui_screen_signal()) != 0)
            break;
        if (dirty || now >= next_frame) {
            double dt = now - L->last_frame;
            L->last_frame = now;
            if (!L->paused && !L->rp) {
                double target = L->elapsed;
                L->view_t = L->speed >= 1 ? target : fmin(target, L->view_t + dt * L->speed);
            }
            if (now - share_t0 >= 1) { /* the UI's share of one core over the last second */
                L->ui_share = (L->draw_cpu - share_cpu0) / (now - share_t0);
                share_t0 = now;
                share_cpu0 = L->draw_cpu;
            }
            draw(L);
            dirty = false;
            next_frame = now + frame;
        }
        int k = -1;
        if (sc) {
            struct ui_script_io io = {.run_done = L->done, .key = -1};
            script_ok = ui_script_step(sc, &io);
            if (!script_ok || io.finished) {
                req->leave = true;
                break;
            }
            k = io.key;
            if (io.redraw)
                dirty = true;
        }
        if (k < 0 && !dirty) {
            double wait = next_frame - ui_now();
            int ms = (int)(wait * 1000); /* the drain needs no turn of this loop */
            k = ui_screen_key(ms > 0 ? ms : 0);
        }
        if (k >= 0) {
            key(L, k);
            dirty = true;
        }
    }
    /* leave: stop the run if it still goes, then the summary after the screen */
    bool user_stop = L->quit && L->run && !L->done;
    if (L->run && !L->done) {
        cv_run_stop(L->run);
        finish_run(L); /* joins the drain, which returns once the run has ended */
    }
    if (req->from_picker && !sig && script_ok && !req->leave) {
        drop_run(L); /* back to the picker */
        free(L->run_error);
        pthread_mutex_destroy(&L->drain.mu);
        free(L);
        return TUI_EXIT_OK;
    }
    if (sig)
        req->leave = true;
    ui_screen_close();
    int rc = L->rc;
    if (L->run_error) {
        rc = tui_fail(rc ? rc : TUI_EXIT_RUNTIME, "%s", L->run_error);
    } else if (L->summary && !req->replay) { /* a replay's summary: concviz replay --headless */
        cv_summary_write_text(L->summary, stdout);
        fflush(stdout);
        if (user_stop && L->state == CV_RUN_STOPPED)
            tui_fail(TUI_EXIT_OK,
                     "stopped with q before the end; the summary covers the run so far");
        else
            rc = tui_verdict(req->check, L->summary, L->state, L->failed);
        /* a recording that failed: one line after the summary and exit 3, as headless */
        const char *rec = L->run ? cv_run_record_error(L->run) : NULL;
        if (rec) {
            int rrc = tui_fail(TUI_EXIT_RUNTIME, "%s", rec);
            if (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT)
                rc = rrc;
        }
    }
    if (sig)
        rc = tui_fail(TUI_EXIT_INTERRUPTED, "interrupted");
    else if (!script_ok)
        rc = TUI_EXIT_EXPECT;
    drop_run(L);
    free(L->run_error);
    pthread_mutex_destroy(&L->drain.mu);
    free(L);
    return rc;
}
