/*
 * The source of a run that happens now. A drain thread polls the run every few milliseconds
 * (that drains the rings into the collector and the recording); the view's thread reads the
 * snapshot. A paused view draws from a copy taken when it paused, while the run goes on
 * underneath.
 *
 * Why a thread of its own for the drain: the drawing thread writes to the terminal, and a
 * terminal can stop reading (Ctrl-S under XON/XOFF, a pty nobody reads, a stopped client), which
 * blocks that write for as long as it lasts. Were the drain on the same thread, the rings would
 * fill meanwhile and events would be dropped, from the view and the recording alike. Now a
 * blocked terminal only delays frames.
 */
#include "source.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concviz/concviz.h"
#include "concviz/value.h"

#define POLL_MS 5

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

/* The drain thread.
 *
 * Locking: `mu` guards the run's collector and everything cv_run_poll changes. The drain holds
 * it around each poll; the view thread from snapshot until release (the frame is composed in
 * ncurses' memory, and released before doupdate, the only write to the terminal) and while it
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

struct run_source {
    struct ui_source base;
    struct ui_run_req *req;
    struct cv_run *run;
    struct drain drain;
    char *error; /* the run could not be created or started */
    int rc;
    bool done; /* the run has ended and its summary is in */
    enum cv_run_state state;
    struct cv_value *summary; /* once done */
    unsigned failed;
    double elapsed; /* run seconds */
    bool paused;
    struct frozen *fz; /* paused: the snapshot drawn */
    bool locked;       /* between snapshot and release */
};

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

/* Starts the drain of R->run; false (with a cause) if the thread cannot be made. */
static bool drain_start(struct run_source *R, char **cause)
{
    struct drain *d = &R->drain;
    d->run = R->run;
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
static void drain_join(struct run_source *R)
{
    if (!R->drain.on)
        return;
    pthread_join(R->drain.th, NULL);
    R->drain.on = false;
}

/* Around reading the collector of a run that the drain thread may be changing. */
static void run_lock(struct run_source *R)
{
    if (R->drain.on)
        pthread_mutex_lock(&R->drain.mu);
}

static void run_unlock(struct run_source *R)
{
    if (R->drain.on)
        pthread_mutex_unlock(&R->drain.mu);
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

static void start_run(struct run_source *R)
{
    char *cause = NULL;
    free(R->error);
    R->error = NULL;
    R->done = false;
    R->summary = NULL;
    R->failed = 0;
    R->elapsed = 0;
    int r = cv_run_create(&R->req->cfg, &R->run, &cause);
    if (r == CV_OK && cv_run_start(R->run, &cause) != CV_OK) {
        cv_run_destroy(R->run);
        R->run = NULL;
        r = CV_ERR_RUNTIME;
    }
    if (r == CV_OK && !drain_start(R, &cause)) {
        cv_run_stop(R->run);
        while (!cv_run_poll(R->run)) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        cv_run_destroy(R->run);
        R->run = NULL;
        r = CV_ERR_RUNTIME;
    }
    if (r != CV_OK) {
        R->run = NULL;
        R->error = cause ? cause : cv_strdup("the run could not start");
        R->rc = r == CV_ERR_USAGE ? TUI_EXIT_USAGE : TUI_EXIT_RUNTIME;
        R->done = true;
    }
}

/* Once the drain thread has returned (the run is over and every event is in); the record
 * error, if any, in note. */
static void finish_run(struct run_source *R, char *note, size_t n)
{
    if (!R->run || R->summary)
        return;
    drain_join(R);
    R->summary = cv_run_summary(R->run, true, &R->failed);
    R->state = cv_run_state(R->run);
    R->elapsed = cv_run_elapsed(R->run);
    R->done = true;
    if (cv_run_record_error(R->run))
        snprintf(note, n, "%s", cv_run_record_error(R->run));
}

static void drop_run(struct run_source *R)
{
    frozen_free(R->fz);
    R->fz = NULL;
    R->paused = false;
    if (R->run) {
        cv_run_stop(R->run);
        drain_join(R); /* it returns once the run has ended */
        cv_run_destroy(R->run);
        R->run = NULL;
    }
    cv_value_free(R->summary);
    R->summary = NULL;
}

/* ---------------------------------------------------------------- the operations */

static bool run_poll(struct ui_source *src, char *note, size_t n)
{
    struct run_source *R = (struct run_source *)src;
    note[0] = 0;
    if (!R->run || R->done)
        return false;
    if (!atomic_load(&R->drain.ended)) {
        R->elapsed = cv_run_elapsed(R->run);
        return false;
    }
    finish_run(R, note, n);
    return true;
}

static const struct cv_snapshot *run_snapshot(struct ui_source *src)
{
    static const struct cv_snapshot empty = {0};
    struct run_source *R = (struct run_source *)src;
    if (R->paused && R->fz)
        return &R->fz->s;
    if (!R->run)
        return &empty;
    run_lock(R);
    R->locked = true;
    return cv_run_snapshot(R->run);
}

static void run_release(struct ui_source *src)
{
    struct run_source *R = (struct run_source *)src;
    if (R->locked)
        run_unlock(R);
    R->locked = false;
}

static void run_info(struct ui_source *src, struct ui_source_info *out)
{
    struct run_source *R = (struct run_source *)src;
    const struct cv_scenario *sc = R->req->scenario;
    const char *st = "starting";
    if (R->error)
        st = "FAILED";
    else if (R->done)
        st = ui_source_ended(R->state);
    else if (R->run)
        st = "running";
    *out = (struct ui_source_info){
        .kind = "",
        .model = R->run ? cv_run_model_name(R->run) : cv_model_name(sc->model),
        .workers = R->run ? cv_run_workers(R->run) : 0,
        .gil = R->run && cv_run_gil(R->run),
        .python = R->run ? cv_run_python(R->run) : NULL,
        .tasks = R->run ? cv_run_task_count(R->run) : 0,
        .live = true,
        .running = R->run && !R->done,
        .done = R->done,
        .paused = R->paused,
        .elapsed = R->elapsed,
        .speed = 1,
        .state = R->state,
        .error = R->error,
        .rc = R->rc,
        /* set by the drain's polls: read once the drain has been joined */
        .record_error = R->run && R->done ? cv_run_record_error(R->run) : NULL,
    };
    snprintf(out->status, sizeof out->status, "%s%s", st, R->paused ? " (paused)" : "");
}

static const struct cv_value *run_summary(struct ui_source *src, unsigned *failed)
{
    struct run_source *R = (struct run_source *)src;
    *failed = R->failed;
    return R->summary;
}

static void run_pause(struct ui_source *src, bool on)
{
    struct run_source *R = (struct run_source *)src;
    R->paused = on;
    frozen_free(R->fz);
    R->fz = NULL;
    if (on && R->run) {
        run_lock(R);
        R->fz = freeze(cv_run_snapshot(R->run));
        run_unlock(R);
    }
}

static void run_restart(struct ui_source *src)
{
    struct run_source *R = (struct run_source *)src;
    drop_run(R);
    start_run(R);
}

static void run_stop(struct ui_source *src)
{
    struct run_source *R = (struct run_source *)src;
    if (R->run && !R->done) {
        char note[1];
        cv_run_stop(R->run);
        finish_run(R, note, sizeof note); /* joins the drain, which returns once the run ended */
    }
}

static void run_free(struct ui_source *src)
{
    struct run_source *R = (struct run_source *)src;
    if (!R)
        return;
    drop_run(R);
    free(R->error);
    pthread_mutex_destroy(&R->drain.mu);
    free(R);
}

static const struct ui_source_ops run_ops = {
    .poll = run_poll,
    .snapshot = run_snapshot,
    .release = run_release,
    .info = run_info,
    .summary = run_summary,
    .pause = run_pause,
    .restart = run_restart,
    .stop = run_stop,
    .free = run_free,
};

struct ui_source *ui_source_run_new(struct ui_run_req *req)
{
    struct run_source *R = cv_xcalloc(1, sizeof *R);
    R->base.ops = &run_ops;
    R->req = req;
    pthread_mutex_init(&R->drain.mu, NULL);
    start_run(R);
    return &R->base;
}
