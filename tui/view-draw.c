/* A frame of the live view: the header, the panels where layout() puts them, the legend and the
 * key bar, then what floats over them. */
#include "view.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "paint.h"

/* Appends to line (n bytes, *len used so far), as far as it goes. */
static void append(char *line, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *line, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(line + *len, n - *len, fmt, ap);
    va_end(ap);
    if (r > 0)
        *len = *len + (size_t)r < n ? *len + (size_t)r : n - 1;
}

/* Events lost, in red at the right of the second row. */
static void lost_banner(const struct cv_snapshot *s, const char *dropped, struct rect r)
{
    if (!s->events_dropped)
        return;
    attron(ui_attr(UI_C_BAD));
    paint_putf(r.y + 1, r.x + r.w - 20, 20, " %s events lost ", dropped);
    attroff(ui_attr(UI_C_BAD));
}

/* The second row of a source that can seek: the file played, and a bar from its start to its
 * end with the position in it. */
static void position_bar(const struct ui_source_info *i, struct rect r)
{
    int W = r.w, y = r.y + 1;
    attron(ui_attr(UI_C_DIM));
    int nw = paint_putf(y, r.x, W / 3, "%s", i->file ? i->file : "");
    attroff(ui_attr(UI_C_DIM));
    int bx = r.x + nw + 2, bw = W - 22 - bx - 2;
    if (bw >= 10) {
        int fill = i->end > 0 ? (int)lround(i->elapsed / i->end * bw) : bw;
        mvaddch(y, bx, '[');
        for (int k = 0; k < bw; k++)
            mvaddch(y, bx + 1 + k, k < fill ? '=' : (k == fill ? '>' : '-'));
        mvaddch(y, bx + 1 + bw, ']');
    }
}

/* The header: what runs and how far it has got, from the source's info and the snapshot; the
 * second row the scenario's title (and how the view lags behind a live source), or the
 * position of one that can seek. */
static void draw_header(struct view *V, const struct cv_snapshot *s, struct rect r)
{
    const struct ui_source_info *i = &V->info;
    const struct cv_scenario *sc = V->req->scenario;
    int W = r.w;
    paint_fill(r.y, r.x, W, ui_attr(UI_C_BAR));
    attron(ui_attr(UI_C_BAR));
    char ev[16], dr[16], el[16], end[16], tasks[96], line[512];
    tui_human(ev, sizeof ev, (double)s->events_recorded);
    tui_human(dr, sizeof dr, (double)s->events_dropped);
    paint_dur(el, sizeof el, i->elapsed);
    /* a trace's tasks are the program's threads, known as they start: no total, no workers */
    bool trace = !strcmp(i->model, "trace");
    char workers[48] = "";
    if (trace)
        snprintf(tasks, sizeof tasks, "threads %llu, %llu ended",
                 (unsigned long long)s->tasks.started, (unsigned long long)s->tasks.completed);
    else
        tui_tasks_text(tasks, sizeof tasks, &s->tasks, i->tasks);
    /* an event loop is one thread whatever its task count (the tasks are in "tasks"); hybrid's
     * workers are its executor's */
    if (!strcmp(i->model, "epoll"))
        snprintf(workers, sizeof workers, " 1 thread");
    else if (!strcmp(i->model, "hybrid"))
        snprintf(workers, sizeof workers, " 1 thread + %u in its executor", i->workers);
    else if (!trace)
        snprintf(workers, sizeof workers, " x%u", i->workers);
    char py[32] = ""; /* which CPython the GIL (or its absence) models */
    if (i->python)
        snprintf(py, sizeof py, " (CPython %s)", i->python);
    size_t len = 0;
    append(line, sizeof line, &len, " concviz%s%s  %s  %s%s  GIL %s%s  %s  %s",
           i->kind[0] ? " " : "", i->kind, sc->name, i->model, workers, i->gil ? "on" : "off", py,
           i->status, el);
    if (i->seekable) {
        paint_dur(end, sizeof end, i->end);
        append(line, sizeof line, &len, " / %s", end);
    }
    append(line, sizeof line, &len, "  %s", tasks);
    /* role-based scenarios (a pipeline's producers and consumers) run one task per role for the
     * whole run: what flows is the items taken from their queues (poison pills too) */
    const struct cv_workload *wl = sc->workload;
    uint64_t items = 0;
    for (size_t q = 0; q < s->nqueues; q++)
        items += s->queues[q].popped;
    bool roles = wl && wl->shape == CV_SHAPE_ROLES && s->nqueues;
    if (roles)
        append(line, sizeof line, &len, "  queue gets %llu", (unsigned long long)items);
    if (i->live && !trace) { /* tasks (or items) that ended, per second */
        uint64_t done = roles ? items : s->tasks.completed + s->tasks.failed + s->tasks.cancelled;
        append(line, sizeof line, &len, "  %.1f/s", i->elapsed > 0 ? (double)done / i->elapsed : 0);
    }
    append(line, sizeof line, &len, "  events %s  drops %s", ev, dr);
    if (i->live)
        append(line, sizeof line, &len, "  ui %.1f%%", V->cost.share * 100);
    paint_put_groups(r.y, r.x, W, line);
    attroff(ui_attr(UI_C_BAR));
    lost_banner(s, dr, r);
    if (i->seekable) {
        position_bar(i, r);
        return;
    }
    const struct view_time *T = &V->time;
    attron(ui_attr(UI_C_DIM));
    if (T->speed != 1 || T->view_t + 0.05 < i->elapsed)
        paint_putf(r.y + 1, r.x, W - 22, "%s  [speed %.2gx, view at %.2fs]", sc->title, T->speed,
                   T->view_t);
    else
        paint_putf(r.y + 1, r.x, W - 22, "%s", sc->title);
    attroff(ui_attr(UI_C_DIM));
}

static void draw_controls(struct view *V, struct rect r)
{
    int W = r.w;
    paint_fill(r.y, r.x, W, ui_attr(UI_C_BAR));
    attron(ui_attr(UI_C_BAR));
    if (V->pop.message[0] && ui_now() < V->pop.message_until)
        paint_putf(r.y, r.x, W, " %s", V->pop.message);
    else
        paint_put_groups(r.y, r.x, W - 8, view_controls(V));
    paint_put(r.y, r.x + W - 8, 8, "  ? help"); /* always in view */
    attroff(ui_attr(UI_C_BAR));
}

/* What the frame shows: the panels, or the cause when the source could not start. */
static void draw_panels(struct view *V, const struct cv_snapshot *s)
{
    const struct view_layout *lo = &V->panels.layout;
    for (int p = 0; p < NPANELS; p++) {
        struct rect r = lo->panel[p];
        if (p == P_LANES && V->info.error) {
            attron(ui_attr(UI_C_BAD));
            paint_putf(r.y + 1, r.x + 2, r.w - 4, "the run could not start: %s", V->info.error);
            attroff(ui_attr(UI_C_BAD));
        } else {
            view_panels[p].draw(V, s, r, V->panels.focus == p);
        }
        if (p == P_LANES)
            lanes_legend(lo->legend, s);
    }
}

void view_draw(struct view *V)
{
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    struct view_layout *lo = &V->panels.layout;
    layout(lo, V, NULL, COLS, LINES);
    int W = lo->W, H = lo->H;
    bool taken = false;
    erase();
    if (lo->small) {
        char msg[64];
        snprintf(msg, sizeof msg, "terminal too small (need %dx%d)", VIEW_MIN_W, VIEW_MIN_H);
        int len = (int)strlen(msg);
        paint_put(H / 2, W > len ? (W - len) / 2 : 0, W, msg);
        if (H / 2 + 1 < H)
            paint_putf(H / 2 + 1, 0, W, "now %dx%d; the run goes on", W, H);
    } else {
        /* the snapshot, and the frame composed from it while the source holds it (a live run:
         * under the drain's lock); the write to the terminal (doupdate) after it, so a terminal
         * that blocks never holds the drain */
        const struct cv_snapshot *s = V->fixed;
        if (!s) {
            s = V->src->ops->snapshot(V->src);
            taken = true;
        }
        view_info(V, &V->info);
        V->summary = V->src ? V->src->ops->summary(V->src, &V->failed) : NULL;
        layout(lo, V, s, W, H); /* the rows each panel needs for what it shows now */
        draw_header(V, s, lo->header);
        draw_panels(V, s);
        draw_controls(V, lo->controls);
        if (V->pop.details)
            popups_details(V, s);
        if (V->cmp.on || V->cmp.table)
            compare_draw(&V->cmp, V->req->scenario->title);
        if (V->pop.help)
            view_help_draw(V);
        if (V->pop.popup)
            popups_draw(V);
    }
    wnoutrefresh(stdscr);
    if (taken)
        V->src->ops->release(V->src);
    doupdate();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    V->cost.draw_cpu += (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
}
