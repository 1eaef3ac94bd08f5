/* The panels of the live view, and layout(), which gives each its place; what each says of the
 * lines it cannot show. The lanes are in panel-lanes.c; the band under them holds locks and queue
 * (here), completion order and results (panel-results.c). */
#include "view.h"

#include <curses.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "paint.h"

const char *panel_lane_name(const struct cv_snapshot *s, uint32_t lane)
{
    return lane < s->nlanes ? s->lanes[lane].name : "-";
}

/* ---------------------------------------------------------------- what is hidden */

struct view_span panel_span(int n, int rows, int *top)
{
    if (rows < 1)
        rows = 1;
    if (n <= rows) {
        *top = 0;
        return (struct view_span){0, n, 0, 0};
    }
    int last = n - (rows - 1); /* at the end: a row saying what is above, then the last lines */
    if (*top > last)
        *top = last;
    if (*top < 0)
        *top = 0;
    int avail = rows - (*top > 0);
    bool down = *top + avail < n;
    avail -= down;
    if (avail < 0)
        avail = 0;
    return (struct view_span){*top, avail, *top, n - *top - avail};
}

void panel_more(const struct view *V, enum view_panel_id p, int y, int x, int w, int n, bool down)
{
    char keys[32], text[96];
    view_more_keys(V, p, down, keys, sizeof keys);
    const char *arrow = ui_ascii() ? (down ? "v" : "^") : (down ? "↓" : "↑");
    /* the keys, then "more", go first when the width is short; the count stays */
    int len = snprintf(text, sizeof text, "%s %d more: %s", arrow, n, keys);
    if (len > w)
        len = snprintf(text, sizeof text, "%s %d more", arrow, n);
    if (len > w)
        snprintf(text, sizeof text, "%s %d", arrow, n);
    attron(ui_attr(UI_C_DIM));
    paint_put(y, x, w, text);
    attroff(ui_attr(UI_C_DIM));
}

void panel_lines(const struct view *V, enum view_panel_id p, struct rect r, int n, int *top,
                 void (*line)(const struct view *V, const struct cv_snapshot *s, void *ctx, int i,
                              struct rect row),
                 const struct cv_snapshot *s, void *ctx)
{
    struct view_span sp = panel_span(n, r.h - 1, top);
    int y = r.y + 1;
    if (sp.above)
        panel_more(V, p, y++, r.x, r.w, sp.above, false);
    for (int i = 0; i < sp.count; i++)
        line(V, s, ctx, sp.top + i, (struct rect){y++, r.x, r.w, 1});
    if (sp.below)
        panel_more(V, p, y, r.x, r.w, sp.below, true);
}

static void dim_note(struct rect area, const char *note)
{
    attron(ui_attr(UI_C_DIM));
    paint_put(area.y + 1, area.x + 1, area.w - 1, note);
    attroff(ui_attr(UI_C_DIM));
}

/* ---------------------------------------------------------------- locks */

/* Two lines per lock: who holds it and who waits; then the waiting totals and the latest
 * hand-over. */
/* A share as a percentage with the digits it needs: never "0%" for a share that is not nothing
 * (8,292 of 4,000,000 is 0.21%, not 0%). */
static void pct(char *buf, size_t n, double part, double whole)
{
    double f = whole > 0 ? 100.0 * part / whole : 0;
    if (part <= 0 || whole <= 0)
        snprintf(buf, n, "0%%");
    else if (f >= 9.95)
        snprintf(buf, n, "%.0f%%", f);
    else if (f >= 0.995)
        snprintf(buf, n, "%.1f%%", f);
    else if (f >= 0.01)
        snprintf(buf, n, "%.2f%%", f);
    else
        snprintf(buf, n, "<0.01%%");
}

/* An Event's or a Condition's first line: what it is, who waits, sets or notifies, wakes. */
static void signal_line(const struct cv_lock_stats *k, struct rect r)
{
    bool ev = k->kind == CV_OBJ_EVENT;
    int a = k->waiters ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
    attron(a | A_BOLD);
    int x = r.x + paint_put(r.y, r.x, r.w, k->name);
    attroff(a | A_BOLD);
    attron(a);
    const char *what =
        ev ? (k->signals == 1 ? "set" : "sets") : (k->signals == 1 ? "notify" : "notifies");
    paint_putf(r.y, x, r.w - (x - r.x), " %s, %u waiting, %" PRIu64 " %s, %" PRIu64 " woken",
               ev ? "event" : "condition", k->waiters, k->signals, what, k->acquisitions);
    attroff(a);
}

static void lock_line(const struct view *V, const struct cv_snapshot *s, void *ctx, int i,
                      struct rect r)
{
    (void)V;
    (void)ctx;
    const struct cv_lock_stats *k = &s->locks[i / 2];
    if (i % 2 == 0 && (k->kind == CV_OBJ_EVENT || k->kind == CV_OBJ_CONDITION)) {
        signal_line(k, r);
        return;
    }
    if (i % 2) {
        char tot[16], mx[16], share[16], hand[80] = "none yet";
        paint_dur(tot, sizeof tot, (double)k->wait_ns_total / 1e9);
        paint_dur(mx, sizeof mx, (double)k->wait_ns_max / 1e9);
        pct(share, sizeof share, (double)k->wait_ns_total, (double)cv_snapshot_worker_ns(s));
        if (k->kind == CV_OBJ_EVENT || k->kind == CV_OBJ_CONDITION)
            snprintf(hand, sizeof hand, "%" PRIu64 " timed out", k->timeouts);
        else if (k->handoff_from != CV_NONE && k->handoff_to != CV_NONE)
            snprintf(hand, sizeof hand, "%s%s%s", panel_lane_name(s, k->handoff_from),
                     ui_ascii() ? "->" : "→", panel_lane_name(s, k->handoff_to));
        if (k->wait_ns_total)
            paint_putf(r.y, r.x, r.w, "  wait %s of worker time  %s  total %s max %s", share, hand,
                       tot, mx);
        else
            paint_putf(r.y, r.x, r.w, "  no wait  %s", hand);
        return;
    }
    char holder[40];
    if (k->holders > 1)
        snprintf(holder, sizeof holder, "%u holders", k->holders);
    else if (k->holders == 1 && k->holder != CV_NONE)
        snprintf(holder, sizeof holder, "held by %s", panel_lane_name(s, k->holder));
    else
        snprintf(holder, sizeof holder, "free");
    char cont[16];
    pct(cont, sizeof cont, (double)k->contended, (double)k->acquisitions);
    int a = k->waiters ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
    attron(a | A_BOLD);
    int x = r.x + paint_put(r.y, r.x, r.w, k->name);
    attroff(a | A_BOLD);
    attron(a);
    paint_putf(r.y, x, r.w - (x - r.x), " %s, %u waiting, %s contended", holder, k->waiters, cont);
    attroff(a);
}

static int rows_locks(const struct view *V, const struct cv_snapshot *s, int w)
{
    (void)V;
    (void)w;
    return s->nlocks ? 1 + 2 * (int)s->nlocks : 2;
}

static void draw_locks(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    paint_title(area.y, area.x, area.w, "locks", focused);
    if (!s->nlocks) {
        dim_note(area, "none");
        return;
    }
    panel_lines(V, P_LOCKS, area, 2 * (int)s->nlocks, &V->panels.scroll[P_LOCKS], lock_line, s,
                NULL);
}

/* ---------------------------------------------------------------- queue */

static const char *const spark_utf8[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char spark_ascii[8] = {'_', '.', '-', '~', '=', '+', '*', '#'};

#define QUEUE_LINES 5

/* A gauge: depth against capacity. */
static void queue_gauge(const struct cv_queue_stats *q, int y, int x0, int w)
{
    int gw = w - 2;
    if (gw <= 2)
        return;
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

/* A sparkline: the depth over the run, newest right. */
static void queue_spark(const struct cv_queue_stats *q, int y, int x0, int sw)
{
    if (!q->nseries || sw <= 0)
        return;
    uint32_t cap = q->capacity ? q->capacity : q->max_depth ? q->max_depth : 1;
    move(y, x0);
    for (int i = 0; i < sw; i++) {
        size_t k = q->nseries <= (size_t)sw ? (i < (int)q->nseries ? (size_t)i : q->nseries - 1)
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

/* Whether task_done or join were used on the queue (pipeline's uses neither). */
static bool queue_tracked(const struct cv_queue_stats *q)
{
    return q->join_waits || q->unfinished != q->pushed;
}

/* In and out, then the puts that raised Full, the gets that raised Empty and the joins that gave
 * up, when there were any (short: the panel is narrow). */
static void queue_counts(const struct cv_queue_stats *q, struct rect r)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "in %llu out %llu", (unsigned long long)q->pushed,
                     (unsigned long long)q->popped);
    if (q->put_timeouts || q->get_timeouts)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " Full %llu Empty %llu",
                      (unsigned long long)q->put_timeouts, (unsigned long long)q->get_timeouts);
    if (q->join_timeouts)
        snprintf(buf + n, sizeof buf - (size_t)n, " join gave up %llu",
                 (unsigned long long)q->join_timeouts);
    paint_putf(r.y, r.x, r.w, "%s", buf);
}

/* Five lines per queue: its depth, the gauge, the sparkline, who is blocked (or the tasks not
 * marked done, and the lanes in join), in and out. */
static void queue_line(const struct view *V, const struct cv_snapshot *s, void *ctx, int i,
                       struct rect r)
{
    (void)V;
    (void)ctx;
    const struct cv_queue_stats *q = &s->queues[i / QUEUE_LINES];
    switch (i % QUEUE_LINES) {
    case 0:
        paint_putf(r.y, r.x, r.w, "%s %u/%u (max %u)", q->name, q->depth, q->capacity,
                   q->max_depth);
        break;
    case 1:
        queue_gauge(q, r.y, r.x, r.w);
        break;
    case 2:
        queue_spark(q, r.y, r.x, r.w);
        break;
    case 3:
        if (queue_tracked(q)) /* the lanes show who waits to put or get */
            paint_putf(r.y, r.x, r.w, "unfinished %u, %u in join", q->unfinished,
                       q->joiners_waiting);
        else
            paint_putf(r.y, r.x, r.w, "blocked: %u producers, %u consumers", q->producers_waiting,
                       q->consumers_waiting);
        break;
    default:
        queue_counts(q, r);
    }
}

static int rows_queue(const struct view *V, const struct cv_snapshot *s, int w)
{
    (void)V;
    (void)w;
    return s->nqueues ? 1 + QUEUE_LINES * (int)s->nqueues : 2;
}

static void draw_queue(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    paint_title(area.y, area.x, area.w, "queue", focused);
    if (!s->nqueues) {
        dim_note(area, "none");
        return;
    }
    panel_lines(V, P_QUEUE, area, QUEUE_LINES * (int)s->nqueues, &V->panels.scroll[P_QUEUE],
                queue_line, s, NULL);
}

/* The panels under the lanes scroll their lines with j k, Down Up. */
static int scroll_key(struct view *V, enum view_panel_id p, int k)
{
    int *top = &V->panels.scroll[p];
    switch (k) {
    case 'j':
    case KEY_DOWN:
        (*top)++;
        break;
    case 'k':
    case KEY_UP:
        if (*top > 0)
            (*top)--;
        break;
    default:
        return 0;
    }
    return VIEW_REDRAW;
}

static int key_locks(struct view *V, int k)
{
    return scroll_key(V, P_LOCKS, k);
}

static int key_queue(struct view *V, int k)
{
    return scroll_key(V, P_QUEUE, k);
}

/* The completion order looks back from the latest tasks: k (up) goes back, j comes forward. */
static int key_order(struct view *V, int k)
{
    int swap = k == 'j'        ? 'k'
               : k == 'k'      ? 'j'
               : k == KEY_DOWN ? KEY_UP
               : k == KEY_UP   ? KEY_DOWN
                               : k;
    return scroll_key(V, P_ORDER, swap);
}

static int key_results(struct view *V, int k)
{
    return scroll_key(V, P_RESULTS, k);
}

const struct view_panel view_panels[NPANELS] = {
    [P_LANES] = {"lanes", lanes_draw, lanes_key, lanes_rows, 0},
    [P_LOCKS] = {"locks", draw_locks, key_locks, rows_locks, 38},
    [P_QUEUE] = {"queue", draw_queue, key_queue, rows_queue, 20},
    [P_ORDER] = {"completion", panel_order_draw, key_order, panel_order_rows, 18},
    [P_RESULTS] = {"results", panel_results_draw, key_results, panel_results_rows, 0},
};

/* From the top: the header (two rows), the lanes, the legend, the band of the others side by
 * side, a column apart (the one without a share takes what is left, and what locks or queue
 * leave when the scenario has none), the key bar. The lanes take the rows they need up to
 * VIEW_LANES_SHARE percent of those under the header; the band, at least BAND_MIN rows, the
 * rest. When everything fits, the band gets the rows it needs and the lanes the rows to spare
 * (room for lanes yet to come; the band stays at the bottom of the screen). */
#define LANES_MIN 3  /* the axis and two lanes */
#define EMPTY_W   10 /* a panel with nothing to show: its title and "none" */

/* Locks or queue in a scenario without any. */
static bool empty(int panel, const struct cv_snapshot *s)
{
    return (panel == P_LOCKS && !s->nlocks) || (panel == P_QUEUE && !s->nqueues);
}

#define BAND_MIN 4
void layout(struct view_layout *out, const struct view *V, const struct cv_snapshot *s, int W,
            int H)
{
    *out = (struct view_layout){.W = W, .H = H, .small = W < VIEW_MIN_W || H < VIEW_MIN_H};
    out->header = (struct rect){0, 0, W, 2};
    out->controls = (struct rect){H - 1, 0, W, 1};
    /* shares of the width; locks or queue with nothing to show give theirs to the others, in
     * proportion to their shares (that of the panel that takes what is left: what they leave) */
    int width[NPANELS], freed = 0, kept = 100, shared = 0;
    for (int i = P_LANES + 1; i < NPANELS; i++) {
        width[i] = W * view_panels[i].width / 100;
        if (s && empty(i, s) && width[i] > EMPTY_W) {
            freed += width[i] - EMPTY_W;
            kept -= view_panels[i].width;
            width[i] = EMPTY_W;
        }
    }
    for (int i = P_LANES + 1; i < NPANELS; i++) {
        if (freed && view_panels[i].width && !empty(i, s))
            width[i] += freed * view_panels[i].width / kept;
        shared += width[i];
    }
    int x = 0;
    for (int i = P_LANES + 1; i < NPANELS; i++) {
        const struct view_panel *p = &view_panels[i];
        int w = p->width ? width[i] : W - shared - (NPANELS - 2);
        out->panel[i] = (struct rect){0, x, w, 0};
        x += w + 1;
    }
    int avail = H - 4; /* under the header, above the legend and the key bar */
    int lanes = avail - BAND_MIN;
    if (s && !out->small) {
        int need = view_panels[P_LANES].rows(V, s, W), band = BAND_MIN;
        for (int i = P_LANES + 1; i < NPANELS; i++) {
            int r = view_panels[i].rows(V, s, out->panel[i].w);
            band = r > band ? r : band;
        }
        int cap = avail * VIEW_LANES_SHARE / 100;
        lanes = need < cap ? need : cap;
        if (lanes < avail - band)
            lanes = avail - band; /* all fits: rows to spare go to the lanes, the band stays low */
        if (lanes < LANES_MIN)
            lanes = LANES_MIN;
        if (lanes > avail - BAND_MIN)
            lanes = avail - BAND_MIN;
    }
    out->panel[P_LANES] = (struct rect){2, 0, W, lanes};
    out->legend = (struct rect){2 + lanes, 0, W, 1};
    for (int i = P_LANES + 1; i < NPANELS; i++) {
        out->panel[i].y = 3 + lanes;
        out->panel[i].h = avail - lanes;
    }
}
