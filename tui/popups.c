/* What floats over the panels: the details of a lane, and the small windows that ask for a value
 * (a model, a worker count, a lane filter, a time to go to). */
#include "view.h"

#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "paint.h"

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

void popups_details(struct view *V, const struct cv_snapshot *s)
{
    uint32_t *vis = cv_xmalloc((s->nlanes + 1) * sizeof *vis);
    size_t nv = lanes_visible(V, s, vis);
    if (!nv || V->panels.sel >= (int)nv) {
        free(vis);
        V->pop.details = false;
        return;
    }
    uint32_t lane = vis[V->panels.sel];
    free(vis);
    const struct cv_lane_stats *l = &s->lanes[lane];
    int oy, ox;
    char title[64];
    snprintf(title, sizeof title, "lane %s", l->name);
    paint_popup(64, CV_LANE_OFF + 8, &oy, &ox, title);
    char since[16], at[16];
    double now = (double)s->now_ns / 1e9, t0 = (double)l->since_ns / 1e9;
    paint_dur(since, sizeof since, now - t0);
    paint_dur(at, sizeof at, t0);
    int y = oy;
    /* Off: not there. The collector starts every lane off, before its first event, and puts it
     * off again when its worker exits or the run ends. */
    bool off = l->state == CV_LANE_OFF;
    if (off && !l->events && !l->tasks)
        paint_putf(y++, ox, 60, "now: not started yet");
    else if (off && now > t0)
        paint_putf(y++, ox, 60, "now: ended %s ago (at %s)", since, at);
    else if (off)
        paint_putf(y++, ox, 60, "now: ended (at %s)", at);
    else
        paint_putf(y++, ox, 60, "now: %s for %s", paint_state_label[l->state], since);
    if (l->waiting_on != CV_NONE) {
        const struct cv_lock_stats *k = lock_by_obj(s, l->waiting_on);
        if (k && k->holders == 1 && k->holder != CV_NONE)
            paint_putf(y++, ox, 60, "waits on %s, held by %s", k->name,
                       panel_lane_name(s, k->holder));
        else if (k)
            paint_putf(y++, ox, 60, "waits on %s (%u holders, %u waiting)", k->name, k->holders,
                       k->waiters);
        else
            paint_putf(y++, ox, 60, "waits on %s", object_name(s, l->waiting_on));
    } else if (l->state == CV_LANE_IO && l->io_text != CV_NONE && l->io_text < s->nstrings &&
               s->strings[l->io_text]) {
        const char *what = s->strings[l->io_text]; /* a URL, or a traced call ("read on fd 3") */
        paint_putf(y++, ox, 60, "%s%s", strncmp(what, "http", 4) ? "in " : "fetching ", what);
    } else {
        y++;
    }
    if (l->pid > 0) /* a traced program's thread: the lane is the thread, its one task */
        paint_putf(y++, ox, 60, "a thread of process %d", (int)l->pid);
    else if (l->current_task != CV_NONE)
        paint_putf(y++, ox, 60, "task %u; %u task%s started here", l->current_task, l->tasks,
                   l->tasks == 1 ? "" : "s");
    else
        paint_putf(y++, ox, 60, "%s%u task%s started here", off ? "" : "between tasks; ", l->tasks,
                   l->tasks == 1 ? "" : "s");
    y++;
    double total = 0;
    for (unsigned st = 0; st < CV_LANE_OFF; st++)
        total += (double)l->state_ns[st];
    for (unsigned st = 0; st < CV_LANE_OFF; st++) {
        char t[16];
        paint_dur(t, sizeof t, (double)l->state_ns[st] / 1e9);
        if (ui_has_color())
            paint_cells(y, ox, 2, st);
        paint_putf(y++, ox + 3, 56, "%c %-10s %9s %5.1f%%", paint_state_letter[st],
                   paint_state_label[st], t,
                   total > 0 ? 100.0 * (double)l->state_ns[st] / total : 0);
    }
    paint_putf(y, ox, 60, "events %llu, dropped %llu", (unsigned long long)l->events,
               (unsigned long long)l->drops);
}

void popups_draw(struct view *V)
{
    int oy, ox;
    if (V->pop.popup == POP_MODEL) {
        const struct cv_scenario *sc = V->req->scenario;
        paint_popup(40, CV_MODEL__COUNT + 3, &oy, &ox, "model (Enter runs, Esc closes)");
        int row = 0;
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
            if (!(sc->models & (1u << m)))
                continue;
            if (row == V->pop.sel)
                attron(A_REVERSE);
            paint_putf(oy + row, ox, 30, " %-10s ", cv_model_name(m));
            if (row == V->pop.sel)
                attroff(A_REVERSE);
            row++;
        }
    } else if (V->pop.popup == POP_WORKERS) {
        paint_popup(44, 4, &oy, &ox, "workers (Enter runs, Esc closes)");
        paint_putf(oy, ox, 40, "workers: %s_", V->pop.input);
    } else if (V->pop.popup == POP_FILTER) {
        paint_popup(44, 4, &oy, &ox, "filter lanes (Enter keeps, Esc clears)");
        paint_putf(oy, ox, 40, "name contains: %s_", V->pop.input);
    } else if (V->pop.popup == POP_SEEK) {
        paint_popup(44, 4, &oy, &ox, "go to (Enter goes, Esc closes)");
        paint_putf(oy, ox, 40, "time (s, or %%): %s_", V->pop.input);
    }
}

/* ---------------------------------------------------------------- keys */

static unsigned model_at(const struct cv_scenario *sc, int row)
{
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
        if ((sc->models & (1u << m)) && row-- == 0)
            return m;
    return sc->model;
}

int popups_key(struct view *V, int k)
{
    if (k == 27) {
        if (V->pop.popup == POP_FILTER)
            V->panels.filter[0] = 0;
        V->pop.popup = POP_NONE;
        return VIEW_REDRAW;
    }
    if (V->pop.popup == POP_MODEL) {
        int n = 0;
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
            n += (V->req->scenario->models >> m) & 1;
        if ((k == 'j' || k == KEY_DOWN) && V->pop.sel + 1 < n)
            V->pop.sel++;
        else if ((k == 'k' || k == KEY_UP) && V->pop.sel > 0)
            V->pop.sel--;
        else if (k == '\n' || k == '\r' || k == KEY_ENTER) {
            V->req->cfg.model = (int)model_at(V->req->scenario, V->pop.sel);
            V->pop.popup = POP_NONE;
            return VIEW_RESTART;
        }
        return VIEW_REDRAW;
    }
    size_t len = strlen(V->pop.input);
    if (k == '\n' || k == '\r' || k == KEY_ENTER) {
        if (V->pop.popup == POP_WORKERS) {
            unsigned long v;
            if (tui_parse_ulong(V->pop.input, 1, 4096, &v)) {
                V->req->cfg.workers = (unsigned)v;
                V->pop.popup = POP_NONE;
                return VIEW_RESTART;
            } else {
                view_say(V, "workers must be a whole number from 1 to 4096, not '%s'",
                         V->pop.input);
            }
        } else if (V->pop.popup == POP_SEEK) {
            double t;
            if (parse_when(V->pop.input, V->info.end, &t)) {
                V->pop.popup = POP_NONE;
                V->src->ops->seek(V->src, t);
            } else {
                view_say(V, "go to needs seconds (1.5) or a share (40%%), not '%s'", V->pop.input);
            }
        } else {
            snprintf(V->panels.filter, sizeof V->panels.filter, "%s", V->pop.input);
            V->pop.popup = POP_NONE;
            V->panels.sel = V->panels.lane_top = 0;
        }
        return VIEW_REDRAW;
    }
    if ((k == KEY_BACKSPACE || k == 127 || k == 8) && len)
        V->pop.input[len - 1] = 0;
    else if (k >= 32 && k < 127 && len + 1 < sizeof V->pop.input &&
             (V->pop.popup != POP_WORKERS || (k >= '0' && k <= '9')))
        V->pop.input[len] = (char)k, V->pop.input[len + 1] = 0;
    if (V->pop.popup == POP_FILTER)
        snprintf(V->panels.filter, sizeof V->panels.filter, "%s",
                 V->pop.input); /* filter as you type */
    return VIEW_REDRAW;
}
