/*
 * The live view's loop: a source (a run as it happens, or a recording played back) polled each
 * turn, keys handled (from the terminal or a script) and a frame drawn at the frame rate. The
 * view's parts are in view.h; the sources behind source.h.
 */
#include "view.h"

#include <math.h>
#include <stdlib.h>

#include "concviz/concviz.h"
#include "concviz/value.h"

/* The source starts again from the request, and the view with it. */
static void restart(struct view *V)
{
    V->src->ops->restart(V->src);
    view_started(V);
    view_info(V, &V->info);
}

/* A turn's news from the source: a run that ended goes to the comparison, a word to the bar;
 * then the comparison may start its next run. */
static void poll_source(struct view *V)
{
    char note[160];
    if (V->src->ops->poll(V->src, note, sizeof note)) {
        unsigned failed;
        const struct cv_value *sum = V->src->ops->summary(V->src, &failed);
        view_info(V, &V->info);
        compare_record(&V->cmp, sum, V->info.state, failed);
    }
    if (note[0])
        view_say(V, "%s", note);
    view_info(V, &V->info);
    if (compare_step(&V->cmp, V->req, V->info.running, V->info.error != NULL))
        restart(V);
}

/* Before a frame: a live source's time moves on (slowed down by the animation speed, held while
 * paused); one that can seek is shown where it is. And the UI's share of one core over the last
 * second. */
static void frame_time(struct view *V, double now)
{
    struct view_time *T = &V->time;
    double dt = now - T->last_frame;
    T->last_frame = now;
    if (V->info.seekable)
        T->view_t = V->info.elapsed;
    else if (!V->info.paused)
        T->view_t =
            T->speed >= 1 ? V->info.elapsed : fmin(V->info.elapsed, T->view_t + dt * T->speed);
    struct view_cost *c = &V->cost;
    if (now - c->share_t0 >= 1) {
        c->share = (c->draw_cpu - c->share_cpu0) / (now - c->share_t0);
        c->share_t0 = now;
        c->share_cpu0 = c->draw_cpu;
    }
}

/* After the loop: the exit code, and what is printed once the screen is closed (a live run's
 * summary and verdict, or why it failed). */
static int leave(struct view *V, bool user_stop, int sig, bool script_ok)
{
    const struct ui_source_info *i = &V->info;
    unsigned failed;
    const struct cv_value *sum = V->src->ops->summary(V->src, &failed);
    ui_screen_close();
    int rc = i->rc;
    if (i->error) {
        rc = tui_fail(rc ? rc : TUI_EXIT_RUNTIME, "%s", i->error);
    } else if (sum && i->live) { /* a replay's summary: concviz replay --headless */
        cv_summary_write_text(sum, stdout);
        fflush(stdout);
        if (user_stop && i->state == CV_RUN_STOPPED)
            tui_fail(TUI_EXIT_OK,
                     "stopped with q before the end; the summary covers the run so far");
        else
            rc = tui_verdict(V->req->check, sum, i->state, failed);
        /* a recording that failed: one line after the summary and exit 3, as headless; in a run
         * that failed, the run's failure is the one line (the short file is its consequence) */
        if (i->record_error && i->state != CV_RUN_FAILED) {
            int rrc = tui_fail(TUI_EXIT_RUNTIME, "%s", i->record_error);
            if (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT)
                rc = rrc;
        }
    }
    if (sig)
        rc = tui_fail(TUI_EXIT_INTERRUPTED, "interrupted");
    else if (!script_ok)
        rc = TUI_EXIT_EXPECT;
    return rc;
}

int ui_live(struct ui_run_req *req, const struct ui_opts *o, struct ui_script *sc)
{
    struct view *V = cv_xmalloc(sizeof *V);
    view_init(V, req, o);
    char *cause = NULL;
    if (ui_screen_open(o, &cause) != 0) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        free(V);
        return rc;
    }
    V->src = req->replay ? ui_source_replay_new(req) : ui_source_run_new(req);
    view_started(V);
    double frame = 1.0 / (o->fps ? o->fps : 30);
    double next_frame = 0;
    V->cost.share_t0 = ui_now();
    bool script_ok = true, dirty = true;
    int sig = 0;
    while (!V->quit) {
        poll_source(V);
        double now = ui_now();
        if ((sig = ui_screen_signal()) != 0)
            break;
        if (dirty || now >= next_frame) {
            frame_time(V, now);
            view_draw(V);
            /* the next frame a period after this one was due (the wait for it ends on a whole
             * millisecond, a little late), or after now if this one came early (a key) or late
             * by more than a period */
            next_frame = !dirty && now < next_frame + frame ? next_frame + frame : now + frame;
            dirty = false;
        }
        int k = -1;
        if (sc) {
            struct ui_script_io io = {.run_done = V->info.done, .key = -1};
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
            /* whole milliseconds, rounded up: rounded down, the last fraction of one before each
             * frame was spent turning this loop without a pause. The drain needs no turn of it. */
            int ms = (int)ceil(wait * 1000);
            k = ui_screen_key(ms > 0 ? ms : 0);
        }
        if (k >= 0) {
            if (view_key(V, k) & VIEW_RESTART)
                restart(V);
            dirty = true;
        }
    }
    /* leave: stop the run if it still goes, then the summary after the screen */
    view_info(V, &V->info);
    bool user_stop = V->quit && V->info.running;
    if (V->info.running && V->src->ops->stop) {
        V->src->ops->stop(V->src);
        view_info(V, &V->info);
    }
    int rc = TUI_EXIT_OK;
    if (req->from_picker && !sig && script_ok && !req->leave) {
        /* back to the picker */
    } else {
        if (sig)
            req->leave = true;
        rc = leave(V, user_stop, sig, script_ok);
    }
    V->src->ops->free(V->src);
    free(V);
    return rc;
}

/* ---------------------------------------------------------------- frames without a run */

struct ui_frame {
    struct view V;
};

struct ui_frame *ui_frame_new(struct ui_run_req *req, const struct ui_opts *o)
{
    struct ui_frame *f = cv_xmalloc(sizeof *f);
    view_init(&f->V, req, o);
    return f;
}

void ui_frame_draw(struct ui_frame *f, const struct cv_snapshot *s, double view_t, uint64_t col_ns)
{
    f->V.fixed = s;
    f->V.time.view_t = view_t;
    f->V.time.col_ns = col_ns;
    view_draw(&f->V);
    f->V.fixed = NULL;
}

void ui_frame_filter(struct ui_frame *f, const char *text)
{
    snprintf(f->V.panels.filter, sizeof f->V.panels.filter, "%s", text ? text : "");
}

void ui_frame_free(struct ui_frame *f)
{
    free(f);
}
