/*
 * A source: what the live view shows, behind one set of operations. One source is a run that
 * happens now (source-run.c), one a recording played back (source-replay.c); the view reads
 * either only through struct ui_source_ops, so another (tracing a program from outside) plugs in
 * the same way.
 *
 * Time: a source has got to `elapsed` seconds of its run. A live one only moves forward (the
 * view may draw it slowed down or paused); a seekable one goes to any time up to its end, and
 * its position is what the view shows.
 */
#ifndef CONCVIZ_TUI_SOURCE_H
#define CONCVIZ_TUI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui.h"

/* What a source is and where it stands, as the view's header says it. */
struct ui_source_info {
    const char *kind;  /* a word after "concviz" in the header ("replay"), or "" */
    const char *model; /* the model's name */
    unsigned workers;
    bool gil;
    const char *python; /* the CPython modelled ("3.11"), or NULL */
    uint64_t tasks;     /* tasks in all, for "tasks 3/10 done" */
    const char *file;   /* the recording played ("" when it has no name), or NULL */
    bool live;          /* it happens now: its rate and the UI's share of the CPU mean something,
                           and its summary is printed when the view closes */
    bool seekable;      /* it has an end and can go to any time before it */
    char status[32];    /* "running", "end (done)", "paused 2x", ... */
    bool running;       /* started and not yet ended */
    bool done;          /* ended (or could not start): the summary is in, if it could be made */
    bool paused;
    double elapsed;           /* seconds the run has got to (seekable: its position) */
    double end;               /* seekable: the last time, seconds */
    double speed;             /* seekable: the playback's speed */
    enum cv_run_state state;  /* once done */
    const char *error;        /* it could not start, or failed: shown instead of the lanes */
    int rc;                   /* the exit code that error calls for (0: the default) */
    const char *record_error; /* the recording a run was writing failed, or NULL */
};

struct ui_source;

/* Operations a source cannot do are NULL: seek and set_speed without an end, restart and stop
 * for a source that replays what is over. */
struct ui_source_ops {
    /* A turn of the view's loop: takes in what happened meanwhile (a run that ended, the
     * playback's clock). True when the source ended in this turn (its summary is in). A word for
     * the user, if any, in note (else note[0] is 0). */
    bool (*poll)(struct ui_source *src, char *note, size_t n);
    /* The snapshot to draw a frame from; it stays valid, and the run's collector locked, until
     * release, which comes before the frame is written to the terminal. */
    const struct cv_snapshot *(*snapshot)(struct ui_source *src);
    void (*release)(struct ui_source *src);
    void (*info)(struct ui_source *src, struct ui_source_info *out);
    /* The summary once done (NULL before, or when none could be made), with the count of failed
     * expectations in *failed. */
    const struct cv_value *(*summary)(struct ui_source *src, unsigned *failed);
    /* Pauses or resumes: a live source keeps running and the view holds a copy of its snapshot;
     * a seekable one stops its playback. */
    void (*pause)(struct ui_source *src, bool on);
    /* Goes to t seconds (clamped to the start and the end). */
    void (*seek)(struct ui_source *src, double t);
    /* One step faster (dir > 0) or slower; returns the new speed. */
    double (*set_speed)(struct ui_source *src, int dir);
    /* Starts again from the request (which the view may have changed: model, workers). */
    void (*restart)(struct ui_source *src);
    /* Ends it and waits for the end: afterwards it is done and its summary is in. */
    void (*stop)(struct ui_source *src);
    void (*free)(struct ui_source *src);
};

struct ui_source {
    const struct ui_source_ops *ops;
};

/* A run of req->cfg, started at once (source-run.c). req is kept and must outlive it. */
struct ui_source *ui_source_run_new(struct ui_run_req *req);
/* The playback of req->replay from its start (source-replay.c). */
struct ui_source *ui_source_replay_new(struct ui_run_req *req);

/* How a run ended, as the header says it. */
static inline const char *ui_source_ended(enum cv_run_state st)
{
    return st == CV_RUN_DEADLOCKED ? "DEADLOCKED"
           : st == CV_RUN_FAILED   ? "FAILED"
           : st == CV_RUN_STOPPED  ? "stopped"
                                   : "done";
}

#endif
