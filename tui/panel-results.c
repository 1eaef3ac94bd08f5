/* The completion order and the results panels, in the band under the lanes. Each knows the rows
 * it needs to show all it has at a width (layout() asks), and says what it cannot show. */
#include "view.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "concviz/value.h"
#include "paint.h"

/* ---------------------------------------------------------------- completion order */

/* The tasks in completion order: each one's text ("12", "13*": * where it overtook an earlier
 * submission) and the row it takes when they are laid out in rows w columns wide. */
struct order {
    size_t n;
    uint32_t *task;
    bool *overtook;
    int *row;
    int rows;
};

static void order_make(struct order *o, const struct cv_snapshot *s, int w)
{
    size_t n = s->ncompleted;
    uint32_t maxid = 0;
    for (size_t i = 0; i < n; i++)
        if (s->completion_order[i] != CV_NONE && s->completion_order[i] > maxid)
            maxid = s->completion_order[i];
    unsigned char *seen = cv_xcalloc((size_t)maxid + 2, 1);
    *o = (struct order){0};
    o->task = cv_xmalloc((n + 1) * sizeof *o->task);
    o->overtook = cv_xmalloc((n + 1) * sizeof *o->overtook);
    o->row = cv_xmalloc((n + 1) * sizeof *o->row);
    uint32_t low = 0; /* lowest task id not yet completed */
    int x = 0, row = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = s->completion_order[i];
        if (t == CV_NONE || t > maxid)
            continue;
        bool over = t > low;
        seen[t] = 1;
        while (low <= maxid && seen[low])
            low++;
        char item[16];
        int len = snprintf(item, sizeof item, "%u%s", t, over ? "*" : "");
        if (x > 0 && x + len > w) {
            row++;
            x = 0;
        }
        x += len + 1;
        o->task[o->n] = t;
        o->overtook[o->n] = over;
        o->row[o->n++] = row;
    }
    o->rows = o->n ? row + 1 : 0;
    free(seen);
}

static void order_free(struct order *o)
{
    free(o->task);
    free(o->overtook);
    free(o->row);
}

int panel_order_rows(const struct view *V, const struct cv_snapshot *s, int w)
{
    (void)V;
    struct order o;
    order_make(&o, s, w);
    int rows = 2 + o.rows;
    order_free(&o);
    return rows;
}

/* The latest rows; the panel's scroll is how many rows back from them it looks (k goes back). */
void panel_order_draw(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    int y0 = area.y, x0 = area.x, w = area.w, h = area.h;
    paint_title(y0, x0, w, w >= 26 ? "completion (* overtook)" : "completion", focused);
    if (s->completed_unseen) /* ended, the run says, their end events lost */
        paint_putf(y0 + 1, x0, w, "in flight %u (max %u), %u ended unseen (events lost)",
                   s->inflight, s->inflight_max, s->completed_unseen);
    else
        paint_putf(y0 + 1, x0, w, "in flight %u (max %u)", s->inflight, s->inflight_max);
    struct order o;
    order_make(&o, s, w);
    int rows = h - 2, *back = &V->panels.scroll[P_ORDER];
    int end = o.rows - (rows - 1); /* the top row that shows the latest ones */
    int top = end - *back;
    struct view_span sp = panel_span(o.rows, rows, &top);
    *back = end > top ? end - top : 0;
    int above = 0, below = 0, y = y0 + 2;
    for (size_t i = 0; i < o.n; i++) {
        above += o.row[i] < sp.top;
        below += o.row[i] >= sp.top + sp.count;
    }
    if (sp.above)
        panel_more(V, P_ORDER, y++, x0, w, above, false);
    int x = x0, row = sp.top;
    for (size_t i = 0; i < o.n; i++) {
        if (o.row[i] < sp.top || o.row[i] >= sp.top + sp.count)
            continue;
        if (o.row[i] != row) {
            row = o.row[i];
            y++;
            x = x0;
        }
        char item[16];
        int len = snprintf(item, sizeof item, "%u%s", o.task[i], o.overtook[i] ? "*" : "");
        int a = o.overtook[i] ? ui_attr(UI_C_WARN) : (int)A_NORMAL;
        attron(a);
        paint_put(y, x, x0 + w - x, item);
        attroff(a);
        x += len + 1;
    }
    if (sp.below)
        panel_more(V, P_ORDER, y0 + 2 + (sp.above > 0) + sp.count, x0, w, below, true);
    order_free(&o);
}

/* ---------------------------------------------------------------- results */

struct line {
    int attr;
    int lead; /* bytes of text drawn as they are, the rest fitted after them */
    char text[160];
};

struct lines {
    struct line *v;
    int n, cap;
    int w; /* the width long texts are wrapped to */
};

static void add(struct lines *L, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(struct lines *L, int attr, const char *fmt, ...)
{
    if (L->n == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 16;
        L->v = cv_xrealloc(L->v, (size_t)L->cap * sizeof *L->v);
    }
    struct line *l = &L->v[L->n++];
    l->attr = attr;
    l->lead = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
}

/* Text as lines of at most L->w columns, broken between words; each line after the first starts
 * with two blanks. */
static void add_wrapped(struct lines *L, int attr, const char *text)
{
    const char *p = text;
    bool first = true;
    while (*p) {
        int room = L->w - (first ? 0 : 2), cols = 0;
        const char *cut = NULL, *q = p;
        while (*q && cols <= room) {
            if (*q == ' ' && cols <= room)
                cut = q;
            q++;
            while ((*q & 0xC0) == 0x80)
                q++;
            cols++;
        }
        if (!*q && cols <= room)
            cut = q;
        if (!cut || cut == p) /* a word wider than the line: paint_put ends it with an ellipsis */
            cut = strchr(p, ' ') ? strchr(p, ' ') : p + strlen(p);
        add(L, attr, "%s%.*s", first ? "" : "  ", (int)(cut - p), p);
        first = false;
        p = cut;
        while (*p == ' ')
            p++;
    }
}

/* What the results panel shows: live counters while running, then the scenario's results and
 * each expectation's verdict (a deadlock's cycle each wait on its own line). */
static void results_lines(const struct view *V, const struct cv_snapshot *s, struct lines *L)
{
    const struct cv_task_counts *t = &s->tasks;
    add(L, A_NORMAL, "tasks %llu done, %llu failed", (unsigned long long)t->completed,
        (unsigned long long)t->failed);
    if (t->cancelled || t->timed_out || t->retried)
        add(L, A_NORMAL, "cancelled %llu, timed out %llu, retried %llu",
            (unsigned long long)t->cancelled, (unsigned long long)t->timed_out,
            (unsigned long long)t->retried);
    if (s->deadlock || (V->info.done && V->info.state == CV_RUN_DEADLOCKED))
        add(L, ui_attr(UI_C_BAD), "DEADLOCK");
    if (!V->summary) {
        for (size_t i = 0; i < s->ncounters; i++)
            add(L, A_NORMAL, "%s = %llu", s->counters[i].name,
                (unsigned long long)s->counters[i].value);
        if (s->gil_switches)
            add(L, A_NORMAL, "GIL switches %llu", (unsigned long long)s->gil_switches);
        return;
    }
    /* what the run added to the process at its peak, per task: a connection's cost, for the
     * scenarios of requests (c10k's lesson: compare the models), first: the lesson's figure */
    const struct cv_value *rt = cv_value_get(V->summary, "runtime");
    const struct cv_value *mem = cv_value_get(rt, "memory_per_task_kb");
    const struct cv_value *peak = cv_value_get(rt, "peak_rss_kb");
    const char *wl = V->req && V->req->scenario ? V->req->scenario->workload_name : NULL;
    if (wl && !strcmp(wl, "fetch") && mem && mem->type == CV_VAL_NUM && mem->num > 0 && peak &&
        peak->type == CV_VAL_NUM)
        add(L, A_NORMAL, "memory per task %.1f KB, peak %.1f MB", mem->num, peak->num / 1024);
    const struct cv_value *res = cv_value_get(V->summary, "results");
    for (size_t i = 0; res && i < res->n; i++) {
        const struct cv_value *v = res->items[i];
        const char *k = res->keys ? res->keys[i] : "?";
        const struct cv_value *text = cv_value_get(v, "text");
        if (v->type == CV_VAL_NUM && v->num == floor(v->num) && fabs(v->num) <= 0x1p53)
            add(L, A_NORMAL, "%s %.0f", k, v->num); /* whole numbers exact, all digits */
        else if (v->type == CV_VAL_NUM)
            add(L, A_NORMAL, "%s %.10g", k, v->num);
        else if (v->type == CV_VAL_STR)
            add(L, A_NORMAL, "%s %s", k, v->str);
        else if (v->type == CV_VAL_BOOL)
            add(L, A_NORMAL, "%s %s", k, v->b ? "yes" : "no");
        else if (!strcmp(k, "deadlock") && text && text->type == CV_VAL_STR) {
            /* one wait of the cycle a line: "a waits for x held by b" */
            char *all = cv_strdup_printf("cycle: %s", text->str);
            for (char *p = all, *e; p; p = e) {
                e = strstr(p, "; ");
                if (e) {
                    *e = 0;
                    e += 2;
                }
                add_wrapped(L, ui_attr(UI_C_BAD), p);
            }
            free(all);
        }
    }
    const struct cv_value *exp = cv_value_get(V->summary, "expectations");
    for (size_t i = 0; exp && i < exp->n; i++) {
        const char *mark = cv_expectation_mark(exp->items[i]);
        add(L,
            ui_attr(!strcmp(mark, "ok  ")   ? UI_C_GOOD
                    : !strcmp(mark, "FAIL") ? UI_C_BAD
                                            : UI_C_DIM),
            "%s %s", mark, cv_value_get(exp->items[i], "name")->str);
        L->v[L->n - 1].lead = 5; /* the verdict, then as much of the name as fits */
    }
}

int panel_results_rows(const struct view *V, const struct cv_snapshot *s, int w)
{
    struct lines L = {.w = w};
    results_lines(V, s, &L);
    free(L.v);
    return 1 + L.n;
}

static void results_line(const struct view *V, const struct cv_snapshot *s, void *ctx, int i,
                         struct rect r)
{
    (void)V;
    (void)s;
    const struct line *l = &((const struct lines *)ctx)->v[i];
    attron(l->attr);
    int x = l->lead < r.w ? paint_putf(r.y, r.x, r.w, "%.*s", l->lead, l->text) : 0;
    paint_put(r.y, r.x + x, r.w - x, l->text + l->lead);
    attroff(l->attr);
}

void panel_results_draw(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    paint_title(area.y, area.x, area.w, "results", focused);
    struct lines L = {.w = area.w};
    results_lines(V, s, &L);
    panel_lines(V, P_RESULTS, area, L.n, &V->panels.scroll[P_RESULTS], results_line, s, &L);
    free(L.v);
}
