/* The source of a replay: a recording plays back instead of a run; its position moves with the
 * clock times the speed, and it can go to any time of the recording. */
#include "source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "concviz/value.h"

/* Replay speeds, slowest first. */
static const double speeds[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100};
#define NSPEEDS (sizeof speeds / sizeof *speeds)

struct replay_source {
    struct ui_source base;
    struct ui_run_req *req;
    struct cv_replay *rp;
    char *error; /* a position could not be reached */
    int rc;
    bool done; /* at the end: the summary is in */
    enum cv_run_state state;
    struct cv_value *summary;
    unsigned failed;
    double elapsed; /* the position, seconds */
    double end_t;   /* the recording's end, seconds */
    double speed;   /* playback speed */
    bool paused;
    bool told;         /* the first poll has said what there was to say */
    double play_clock; /* monotonic seconds of the last playback step */
};

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
static void replay_seek(struct ui_source *src, double t)
{
    struct replay_source *P = (struct replay_source *)src;
    uint64_t end_ns = cv_recording_info(P->req->replay)->end_ns;
    t = fmax(0, fmin(t, P->end_t));
    uint64_t at = (uint64_t)llround(t * 1e9);
    bool end = at >= end_ns;
    if (end)
        at = end_ns, t = P->end_t;
    char *cause = NULL;
    if (cv_replay_seek(P->rp, at, &cause) != CV_OK) {
        free(P->error);
        P->error = cause;
        P->rc = TUI_EXIT_RUNTIME;
        P->paused = true;
        return;
    }
    P->elapsed = t;
    if (end && !P->done) {
        cause = NULL;
        P->summary = cv_replay_summary(P->rp, true, &P->failed, &cause);
        free(cause); /* without it the panels show the counters */
        P->state = state_of(P->summary);
        P->done = true;
    } else if (!end && P->done) {
        cv_value_free(P->summary);
        P->summary = NULL;
        P->done = false;
    }
}

/* Playback: the position moves with the clock times the speed. */
static bool replay_poll(struct ui_source *src, char *note, size_t n)
{
    struct replay_source *P = (struct replay_source *)src;
    note[0] = 0;
    if (!P->told && cv_recording_info(P->req->replay)->missing)
        snprintf(note, n, "the recording was cut short: it replays up to %.3f s (details on exit)",
                 P->end_t);
    P->told = true;
    double now = ui_now();
    double dt = now - P->play_clock;
    P->play_clock = now;
    bool was_done = P->done;
    if (!P->paused && !P->error && P->elapsed < P->end_t)
        replay_seek(src, P->elapsed + dt * P->speed);
    return P->done && !was_done;
}

static const struct cv_snapshot *replay_snapshot(struct ui_source *src)
{
    return cv_replay_snapshot(((struct replay_source *)src)->rp);
}

static void replay_release(struct ui_source *src)
{
    (void)src;
}

static void replay_info(struct ui_source *src, struct ui_source_info *out)
{
    struct replay_source *P = (struct replay_source *)src;
    const struct cv_recording_info *info = cv_recording_info(P->req->replay);
    *out = (struct ui_source_info){
        .kind = "replay",
        .model = info->model,
        .workers = info->workers,
        .gil = info->gil,
        .python = info->python,
        .tasks = cv_replay_snapshot(P->rp)->tasks.submitted,
        .file = P->req->replay_name ? P->req->replay_name : "",
        .seekable = true,
        .running = false,
        .done = P->done,
        .paused = P->paused,
        .elapsed = P->elapsed,
        .end = P->end_t,
        .speed = P->speed,
        .state = P->state,
        .error = P->error,
        .rc = P->rc,
    };
    if (P->error)
        snprintf(out->status, sizeof out->status, "FAILED");
    else if (P->done)
        snprintf(out->status, sizeof out->status, "end (%s)",
                 !P->summary || info->missing ? "cut short" : ui_source_ended(P->state));
    else
        snprintf(out->status, sizeof out->status, "%s %gx", P->paused ? "paused" : "playing",
                 P->speed);
}

static const struct cv_value *replay_summary(struct ui_source *src, unsigned *failed)
{
    struct replay_source *P = (struct replay_source *)src;
    *failed = P->failed;
    return P->summary;
}

static void replay_pause(struct ui_source *src, bool on)
{
    struct replay_source *P = (struct replay_source *)src;
    P->paused = on;
    P->play_clock = ui_now();
}

static double replay_set_speed(struct ui_source *src, int dir)
{
    struct replay_source *P = (struct replay_source *)src;
    size_t sp = 0;
    while (sp + 1 < NSPEEDS && speeds[sp] < P->speed)
        sp++;
    if (dir > 0)
        P->speed = speeds[sp + 1 < NSPEEDS ? sp + 1 : sp];
    else
        P->speed = speeds[sp ? sp - 1 : 0];
    return P->speed;
}

static void replay_free(struct ui_source *src)
{
    struct replay_source *P = (struct replay_source *)src;
    if (!P)
        return;
    cv_replay_free(P->rp);
    cv_value_free(P->summary);
    free(P->error);
    free(P);
}

static const struct ui_source_ops replay_ops = {
    .poll = replay_poll,
    .snapshot = replay_snapshot,
    .release = replay_release,
    .info = replay_info,
    .summary = replay_summary,
    .pause = replay_pause,
    .seek = replay_seek,
    .set_speed = replay_set_speed,
    .free = replay_free,
};

struct ui_source *ui_source_replay_new(struct ui_run_req *req)
{
    struct replay_source *P = cv_xcalloc(1, sizeof *P);
    P->base.ops = &replay_ops;
    P->req = req;
    P->rp = cv_replay_new(req->replay);
    P->end_t = (double)cv_recording_info(req->replay)->end_ns / 1e9;
    P->paused = req->replay_paused;
    P->speed = req->replay_speed > 0 ? req->replay_speed : 1;
    P->play_clock = ui_now();
    replay_seek(&P->base, 0);
    return &P->base;
}
