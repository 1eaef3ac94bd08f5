/* The panels of the live view, and layout(), which gives each its place. The lanes are in
 * panel-lanes.c; the others, in the band under them: locks, queue, completion order, results. */
#include "view.h"

#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "concviz/value.h"
#include "paint.h"

const char *panel_lane_name(const struct cv_snapshot *s, uint32_t lane)
{
    return lane < s->nlanes ? s->lanes[lane].name : "-";
}

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

static void draw_locks(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    int y0 = area.y, x0 = area.x, w = area.w, h = area.h;
    paint_title(y0, x0, w, "locks", focused);
    if (!s->nlocks) {
        attron(ui_attr(UI_C_DIM));
        paint_put(y0 + 1, x0 + 1, w - 1, "no locks in this scenario");
        attroff(ui_attr(UI_C_DIM));
        return;
    }
    /* two lines per lock: who holds it and who waits; then the waiting totals and the latest
     * hand-over */
    int rows = (h - 1) / 2;
    int top = V->panels.scroll[P_LOCKS];
    uint64_t worker_ns = cv_snapshot_worker_ns(s);
    if (top > (int)s->nlocks - 1)
        top = V->panels.scroll[P_LOCKS] = (int)s->nlocks - 1;
    for (int r = 0; r < rows && top + r < (int)s->nlocks; r++) {
        const struct cv_lock_stats *k = &s->locks[top + r];
        char holder[40], tot[16], mx[16], hand[80] = "none yet";
        if (k->holders > 1)
            snprintf(holder, sizeof holder, "%u holders", k->holders);
        else if (k->holders == 1 && k->holder != CV_NONE)
            snprintf(holder, sizeof holder, "held by %s", panel_lane_name(s, k->holder));
        else
            snprintf(holder, sizeof holder, "free");
        paint_dur(tot, sizeof tot, (double)k->wait_ns_total / 1e9);
        paint_dur(mx, sizeof mx, (double)k->wait_ns_max / 1e9);
        if (k->handoff_from != CV_NONE && k->handoff_to != CV_NONE)
            snprintf(hand, sizeof hand, "%s%s%s", panel_lane_name(s, k->handoff_from),
                     ui_ascii() ? "->" : "→", panel_lane_name(s, k->handoff_to));
        char cont[16], share[16];
        pct(cont, sizeof cont, (double)k->contended, (double)k->acquisitions);
        pct(share, sizeof share, (double)k->wait_ns_total, (double)worker_ns);
        int y = y0 + 1 + 2 * r;
        int a = k->waiters ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
        attron(a | A_BOLD);
        int x = x0 + paint_put(y, x0, w, k->name);
        attroff(a | A_BOLD);
        attron(a);
        paint_putf(y, x, w - (x - x0), " %s, %u waiting, %s contended", holder, k->waiters, cont);
        attroff(a);
        if (k->wait_ns_total)
            paint_putf(y + 1, x0, w, "  wait %s of worker time  %s  total %s max %s", share, hand,
                       tot, mx);
        else
            paint_putf(y + 1, x0, w, "  no wait  %s", hand);
    }
}

static const char *const spark_utf8[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char spark_ascii[8] = {'_', '.', '-', '~', '=', '+', '*', '#'};

static void draw_queue(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    int y0 = area.y, x0 = area.x, w = area.w, h = area.h;
    paint_title(y0, x0, w, "queue", focused);
    if (!s->nqueues) {
        attron(ui_attr(UI_C_DIM));
        paint_put(y0 + 1, x0 + 1, w - 1, "no queue in this scenario");
        attroff(ui_attr(UI_C_DIM));
        return;
    }
    int y = y0 + 1;
    size_t first =
        (size_t)V->panels.scroll[P_QUEUE] < s->nqueues ? (size_t)V->panels.scroll[P_QUEUE] : 0;
    for (size_t qi = first; qi < s->nqueues && y + 3 <= y0 + h; qi++) {
        const struct cv_queue_stats *q = &s->queues[qi];
        paint_putf(y++, x0, w, "%s %u/%u (max %u)", q->name, q->depth, q->capacity, q->max_depth);
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
            paint_putf(y++, x0, w, "blocked: %u producers, %u consumers", q->producers_waiting,
                       q->consumers_waiting);
        if (y < y0 + h)
            paint_putf(y++, x0, w, "in %llu out %llu", (unsigned long long)q->pushed,
                       (unsigned long long)q->popped);
    }
}

static void draw_order(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    int y0 = area.y, x0 = area.x, w = area.w, h = area.h;
    paint_title(y0, x0, w, w >= 26 ? "completion (* overtook)" : "completion", focused);
    paint_putf(y0 + 1, x0, w, "in flight %u (max %u)", s->inflight, s->inflight_max);
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
    if (V->panels.scroll[P_ORDER] && (size_t)V->panels.scroll[P_ORDER] * (w / 5) < start)
        start -= (size_t)V->panels.scroll[P_ORDER] * (size_t)(w / 5);
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
        paint_put(y, x, w, item);
        attroff(a);
        x += len + 1;
    }
    free(seen);
}

static void draw_results(struct view *V, const struct cv_snapshot *s, struct rect area,
                         bool focused)
{
    int y0 = area.y, x0 = area.x, w = area.w, h = area.h;
    paint_title(y0, x0, w, "results", focused);
    int y = y0 + 1;
    int skip = V->panels.scroll[P_RESULTS];
    char line[256];
#define EMIT(attr, ...)                           \
    do {                                          \
        snprintf(line, sizeof line, __VA_ARGS__); \
        if (skip > 0) {                           \
            skip--;                               \
        } else if (y < y0 + h) {                  \
            attron(attr);                         \
            paint_put(y++, x0, w, line);          \
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
    if (s->deadlock || (V->info.done && V->info.state == CV_RUN_DEADLOCKED))
        EMIT(ui_attr(UI_C_BAD), "DEADLOCK");
    if (!V->summary) {
        for (size_t i = 0; i < s->ncounters; i++)
            EMIT(A_NORMAL, "%s = %llu", s->counters[i].name,
                 (unsigned long long)s->counters[i].value);
        if (s->gil_switches)
            EMIT(A_NORMAL, "GIL switches %llu", (unsigned long long)s->gil_switches);
    } else {
        const struct cv_value *res = cv_value_get(V->summary, "results");
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
        const struct cv_value *exp = cv_value_get(V->summary, "expectations");
        for (size_t i = 0; exp && i < exp->n; i++) {
            const char *mark = cv_expectation_mark(exp->items[i]);
            EMIT(ui_attr(!strcmp(mark, "ok  ")   ? UI_C_GOOD
                         : !strcmp(mark, "FAIL") ? UI_C_BAD
                                                 : UI_C_DIM),
                 "%s %s", mark, cv_value_get(exp->items[i], "name")->str);
        }
    }
#undef EMIT
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

static int key_order(struct view *V, int k)
{
    return scroll_key(V, P_ORDER, k);
}

static int key_results(struct view *V, int k)
{
    return scroll_key(V, P_RESULTS, k);
}

const struct view_panel view_panels[NPANELS] = {
    [P_LANES] = {"lanes", lanes_draw, lanes_key, 0, 0, 0, 0},
    [P_LOCKS] = {"locks", draw_locks, key_locks, 3, 7, 12, 38},
    [P_QUEUE] = {"queue", draw_queue, key_queue, 3, 7, 12, 20},
    [P_ORDER] = {"completion", draw_order, key_order, 3, 7, 12, 18},
    [P_RESULTS] = {"results", draw_results, key_results, 3, 7, 12, 0},
};

/* Rows a panel wants on a screen H rows high (0: what the others leave). */
static int rows_wanted(const struct view_panel *p, int H)
{
    if (!p->per)
        return 0;
    int rows = H / p->per;
    return rows < p->min ? p->min : rows > p->max ? p->max : rows;
}

/* From the top: the header (two rows), the panels that take what is left (the lanes), the
 * legend, the band of the others side by side (as high as the highest wants), the key bar. */
void layout(struct view_layout *out, int W, int H)
{
    int band = 0, nband = 0, shared = 0;
    for (int i = 0; i < NPANELS; i++) {
        int rows = rows_wanted(&view_panels[i], H);
        if (rows) {
            band = rows > band ? rows : band;
            nband++;
            shared += W * view_panels[i].width / 100;
        }
    }
    int top = H - 2 - 1 - 1 - band;
    *out = (struct view_layout){.W = W, .H = H, .small = W < VIEW_MIN_W || H < VIEW_MIN_H};
    out->header = (struct rect){0, 0, W, 2};
    out->legend = (struct rect){2 + top, 0, W, 1};
    out->controls = (struct rect){H - 1, 0, W, 1};
    /* side by side, a column apart; the one without a share takes what is left */
    int x = 0;
    for (int i = 0; i < NPANELS; i++) {
        const struct view_panel *p = &view_panels[i];
        if (!rows_wanted(p, H)) {
            out->panel[i] = (struct rect){2, 0, W, top};
            continue;
        }
        int w = p->width ? W * p->width / 100 : W - shared - (nband - 1);
        out->panel[i] = (struct rect){3 + top, x, w, band};
        x += w + 1;
    }
}
