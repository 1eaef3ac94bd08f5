/* The lanes panel: each lane's state over time, a column per slice of time, and the time axis
 * that scrolls and zooms. */
#include "view.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "paint.h"

#define LABEL_W 20 /* lane name and task, left of the timeline */

/* Columns of the timeline. */
static int lanes_width(const struct view *V)
{
    return V->panels.layout.panel[P_LANES].w - LABEL_W - 1;
}

/* Lanes of a traced program's processes: each process a group, in the order the processes
 * appeared, its threads in the order they did. */
struct by_proc {
    int32_t pid;
    uint32_t lane, first; /* first: the process's first lane */
};

static int cmp_pid(const void *a, const void *b)
{
    const struct by_proc *x = a, *y = b;
    return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1)
                            : (x->lane > y->lane) - (x->lane < y->lane);
}

static int cmp_group(const void *a, const void *b)
{
    const struct by_proc *x = a, *y = b;
    return x->first != y->first ? (x->first < y->first ? -1 : 1)
                                : (x->lane > y->lane) - (x->lane < y->lane);
}

static void group_by_process(const struct cv_snapshot *s, uint32_t *lanes, size_t n)
{
    struct by_proc *b = cv_xmalloc((n + 1) * sizeof *b);
    for (size_t i = 0; i < n; i++)
        b[i] = (struct by_proc){s->lanes[lanes[i]].pid, lanes[i], 0};
    qsort(b, n, sizeof *b, cmp_pid);
    for (size_t i = 0; i < n; i++)
        b[i].first = i && b[i].pid == b[i - 1].pid ? b[i - 1].first : b[i].lane;
    qsort(b, n, sizeof *b, cmp_group);
    for (size_t i = 0; i < n; i++)
        lanes[i] = b[i].lane;
    free(b);
}

/* More than one process among the lanes (a trace of a program that forked). */
bool lanes_processes(const struct cv_snapshot *s)
{
    for (size_t i = 1; i < s->nlanes; i++)
        if (s->lanes[i].pid != s->lanes[0].pid)
            return true;
    return false;
}

/* lanes_visible with lanes_processes(s) known (procs). */
static size_t visible(const struct view *V, const struct cv_snapshot *s, bool procs, uint32_t *out)
{
    size_t n = 0;
    if (!V->panels.filter[0]) /* all of them, in order */
        for (; n < s->nlanes; n++)
            out[n] = (uint32_t)n;
    else
        for (size_t i = 0; i < s->nlanes; i++)
            if (strstr(s->lanes[i].name, V->panels.filter))
                out[n++] = (uint32_t)i;
    if (n > 1 && procs)
        group_by_process(s, out, n);
    return n;
}

/* Lanes shown: those whose name contains the filter, grouped by process where there are
 * several. */
size_t lanes_visible(const struct view *V, const struct cv_snapshot *s, uint32_t *out)
{
    return visible(V, s, lanes_processes(s), out);
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
    if (bb - ba > 512)
        bb = bb < ba + 514 ? bb : ba + 514; /* never more than this per cell */
    /* buckets before the timeline, in it (counted a run of one state at a time: states change
     * in runs), and after it (the state now) */
    uint64_t count[CV_LANE__COUNT] = {0};
    uint64_t lo = ba > first ? ba : first, hi = bb < end ? bb : end;
    if (ba < first)
        count[CV_LANE_OFF] += (bb < first ? bb : first) - ba;
    if (bb > end)
        count[l->state] += bb - (ba > end ? ba : end);
    const uint8_t *p = lo < hi ? l->timeline + (lo - first) : NULL;
    const uint8_t *e = lo < hi ? l->timeline + (hi - first) : NULL;
    while (p < e) {
        const uint8_t *q = p + 1;
        uint64_t same = 0x0101010101010101ull * *p, w;
        while (e - q >= 8 && (memcpy(&w, q, 8), w == same))
            q += 8;
        while (q < e && *q == *p)
            q++;
        count[*p] += (uint64_t)(q - p);
        p = q;
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

int lanes_rows(const struct view *V, const struct cv_snapshot *s, int w)
{
    (void)w;
    size_t n = V->panels.filter[0] ? 0 : s->nlanes;
    for (size_t i = 0; V->panels.filter[0] && i < s->nlanes; i++)
        n += strstr(s->lanes[i].name, V->panels.filter) != NULL;
    return 1 + (int)(n ? n : 1);
}

/* The title row: the panel's name, the time a column stands for, the times along the axis,
 * and at the right which lanes are shown of how many (or the filter); the axis's labels stop a
 * column before that. */
static void lanes_axis(const struct view *V, const struct cv_snapshot *s, struct rect r,
                       bool focused, size_t nv, int rows, uint64_t left, uint64_t col, int tw)
{
    (void)s;
    const struct view_panels *P = &V->panels;
    int y0 = r.y, x0 = r.x, W = r.w;
    char right[160] = "";
    if (nv > (size_t)rows)
        snprintf(right, sizeof right, " %d-%d of %zu lanes%s%.40s%s ", P->lane_top + 1,
                 P->lane_top + rows < (int)nv ? P->lane_top + rows : (int)nv, nv,
                 P->filter[0] ? " matching '" : "", P->filter, P->filter[0] ? "'" : "");
    else if (P->filter[0])
        snprintf(right, sizeof right, " filter: %s ", P->filter);
    int rw = (int)strlen(right), rx = x0 + W - rw;
    if (rx < x0 + LABEL_W + 1) {
        rx = x0 + LABEL_W + 1;
        rw = W - LABEL_W - 1;
    }
    paint_title(y0, x0, LABEL_W, "lanes", focused);
    attron(ui_attr(UI_C_DIM));
    for (int c = 0; c + 8 <= tw; c += 14) {
        char t[24];
        paint_dur(t, sizeof t, (double)(left + (uint64_t)c * col) / 1e9);
        int x = x0 + LABEL_W + 1 + c;
        if (rw && x + 1 + (int)strlen(t) >= rx)
            break;
        paint_putf(y0, x, 12, "|%s", t);
    }
    char per[24];
    paint_dur(per, sizeof per, (double)col / 1e9);
    paint_putf(y0, x0 + (LABEL_W - 8 > 0 ? 8 : 0), 12, "%s/col", per);
    if (nv > (size_t)rows)
        paint_put(y0, rx, rw, right);
    attroff(ui_attr(UI_C_DIM));
    if (!(nv > (size_t)rows) && rw)
        paint_put(y0, rx, rw, right);
}

void lanes_draw(struct view *V, const struct cv_snapshot *s, struct rect area, bool focused)
{
    struct view_time *T = &V->time;
    struct view_panels *P = &V->panels;
    int y0 = area.y, x0 = area.x, h = area.h, W = area.w;
    int tw = W - LABEL_W - 1;
    uint64_t now = (uint64_t)(T->view_t * 1e9);
    uint64_t bw = s->timeline_bucket_ns ? s->timeline_bucket_ns : 1000000;
    uint64_t col = T->col_ns;
    if (!col) { /* fit: the whole run so far */
        col = (now + (uint64_t)tw - 1) / (uint64_t)(tw > 0 ? tw : 1);
        if (col < 1000000)
            col = 1000000;
    }
    uint64_t left;
    if (T->follow || !T->col_ns) {
        uint64_t span = col * (uint64_t)tw;
        left = now > span ? now - span : 0;
        if (T->col_ns && now > span)
            left = ((now - span) / col + 1) * col; /* whole columns, the last one is now */
    } else {
        left = (uint64_t)(T->left_t * 1e9);
    }
    uint32_t *vis = cv_xmalloc((s->nlanes + 1) * sizeof *vis);
    uint8_t *colst = cv_xmalloc(tw > 0 ? (size_t)tw : 1);
    bool procs = lanes_processes(s);
    size_t nv = visible(V, s, procs, vis);
    int rows = h - 1;
    if (nv > (size_t)rows && rows > 1)
        rows--; /* the last row says how many lanes are hidden */
    if (P->sel >= (int)nv)
        P->sel = nv ? (int)nv - 1 : 0;
    if (P->sel < P->lane_top)
        P->lane_top = P->sel;
    if (P->sel >= P->lane_top + rows)
        P->lane_top = P->sel - rows + 1;
    if (P->lane_top > (int)nv - rows)
        P->lane_top = (int)nv - rows > 0 ? (int)nv - rows : 0;
    lanes_axis(V, s, (struct rect){y0, x0, W, h}, focused, nv, rows, left, col, tw);
    for (int r = 0; r < rows; r++) {
        int y = y0 + 1 + r;
        size_t vi = (size_t)(P->lane_top + r);
        if (vi >= nv)
            break;
        const struct cv_lane_stats *l = &s->lanes[vis[vi]];
        bool sel = focused && (int)vi == P->sel;
        if (sel)
            attron(A_REVERSE);
        char task[16] = "";
        if (procs) /* a thread of one of several processes: which one */
            paint_putf(y, x0, LABEL_W, "%-12.12s %7d", l->name, (int)l->pid);
        else if (l->current_task != CV_NONE && l->state != CV_LANE_OFF)
            snprintf(task, sizeof task, "t%u", l->current_task);
        if (!procs)
            paint_putf(y, x0, LABEL_W, "%-13.13s %-6.6s", l->name, task);
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
            paint_cells(y, x0 + LABEL_W + 1 + c, c2 - c, colst[c]);
        }
        if (l->nspans)
            task_labels(y, x0 + LABEL_W + 1, l, colst, tw, left, col, now);
    }
    if (nv > (size_t)rows) {
        int below = (int)nv - P->lane_top - rows;
        if (below > 0)
            panel_more(V, P_LANES, y0 + 1 + rows, x0, W, below, true);
        else
            panel_more(V, P_LANES, y0 + 1 + rows, x0, W, P->lane_top, false);
    }
    if (!nv)
        paint_putf(y0 + 1, x0 + LABEL_W + 1, tw,
                   "no lane matches '%s' (/ changes the filter, Esc clears it)", P->filter);
    free(colst);
    free(vis);
}

/* Whether any lane has been in state `st`, for the two states listed only in a run that has
 * them (the Event's and the Condition's waits, so that the states every run shows keep their
 * room); the others are always. One pass over the lanes for both, ending when both are seen. */
static void states_seen(const struct cv_snapshot *s, bool seen[CV_LANE__COUNT])
{
    for (unsigned st = 0; st < CV_LANE__COUNT; st++)
        seen[st] = !s || (st != CV_LANE_EVENT_WAIT && st != CV_LANE_COND_WAIT);
    for (size_t i = 0; s && i < s->nlanes; i++) {
        const struct cv_lane_stats *l = &s->lanes[i];
        seen[CV_LANE_EVENT_WAIT] |=
            l->state_ns[CV_LANE_EVENT_WAIT] || l->state == CV_LANE_EVENT_WAIT;
        seen[CV_LANE_COND_WAIT] |= l->state_ns[CV_LANE_COND_WAIT] || l->state == CV_LANE_COND_WAIT;
        if (seen[CV_LANE_EVENT_WAIT] && seen[CV_LANE_COND_WAIT])
            break;
    }
}

/* The legend: each state's colour (or letter) and label, as many whole as fit. */
void lanes_legend(struct rect r, const struct cv_snapshot *s)
{
    int y = r.y, x = r.x, W = r.x + r.w;
    bool seen[CV_LANE__COUNT];
    states_seen(s, seen);
    attron(ui_attr(UI_C_DIM));
    x += paint_put(y, x, W - x, "legend ");
    attroff(ui_attr(UI_C_DIM));
    for (unsigned st = 0; st < CV_LANE_OFF; st++) {
        if (!seen[st])
            continue;
        int iw = 2 + (int)strlen(paint_state_label[st]) + (ui_has_color() ? 1 : 0);
        bool last = st + 1 == CV_LANE_OFF; /* else room for two blanks and the ellipsis */
        if (x + iw + (last ? 0 : 2 + (int)strlen(paint_ellipsis())) > W) {
            paint_put(y, x, W - x, paint_ellipsis());
            break;
        }
        if (ui_has_color()) {
            paint_cells(y, x, 2, st);
            x += 2;
            x += paint_putf(y, x, W - x, " %s  ", paint_state_label[st]);
        } else {
            x += paint_putf(y, x, W - x, "%c %s  ", paint_state_letter[st], paint_state_label[st]);
        }
    }
}

/* The selection may run past the last lane shown: lanes_draw brings it back. */
int lanes_key(struct view *V, int k)
{
    int *sel = &V->panels.sel;
    switch (k) {
    case 'j':
    case KEY_DOWN:
        (*sel)++;
        break;
    case 'k':
    case KEY_UP:
        if (*sel > 0)
            (*sel)--;
        break;
    case KEY_NPAGE:
        *sel += 10;
        break;
    case KEY_PPAGE:
        *sel = *sel > 10 ? *sel - 10 : 0;
        break;
    default:
        return 0;
    }
    return VIEW_REDRAW;
}

void lanes_scroll_time(struct view *V, int dir)
{
    struct view_time *T = &V->time;
    int tw = lanes_width(V);
    double now = T->view_t;
    double col = T->col_ns ? (double)T->col_ns / 1e9 : (now / (tw > 0 ? tw : 1));
    if (!T->col_ns) {
        /* leave fit: fix the current scale */
        T->col_ns = (uint64_t)(col * 1e9) > 1000000 ? (uint64_t)(col * 1e9) : 1000000;
        col = (double)T->col_ns / 1e9;
    }
    double left = T->follow ? now - col * tw : T->left_t;
    if (left < 0)
        left = 0;
    left += dir * col * tw / 4;
    if (left < 0)
        left = 0;
    if (left + col * tw >= now) {
        T->follow = true;
    } else {
        T->follow = false;
        T->left_t = left;
    }
}

void lanes_zoom(struct view *V, bool in)
{
    struct view_time *T = &V->time;
    int tw = lanes_width(V);
    uint64_t col = T->col_ns;
    if (!col) {
        col = (uint64_t)(T->view_t * 1e9 / (tw > 0 ? tw : 1));
        if (col < 1000000)
            col = 1000000;
    }
    double centre = T->follow ? T->view_t : T->left_t + (double)col * tw / 2e9;
    if (in)
        col = col / 2 > 1000 ? col / 2 : 1000; /* down to 1 us a column */
    else
        col *= 2;
    T->col_ns = col;
    if (!T->follow) {
        T->left_t = centre - (double)col * tw / 2e9;
        if (T->left_t < 0)
            T->left_t = 0;
    }
}
