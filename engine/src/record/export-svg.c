/*
 * SVG export of a recording: a picture of the run for slides and write-ups.
 *
 * One row per lane, its state over time as rectangles in the terminal UI's colours; a time axis
 * with round ticks; a thin mark under a lane wherever it waited for a lock; task ids inside the
 * spans wide enough for them; one depth curve per queue, each with its own 0..max axis; a legend
 * of every colour drawn and a title line.
 *
 * The picture stays small whatever the run: each lane has one column per pixel of the plot, and
 * a column shows the state the lane spent most of it in (as the collector's timeline buckets do),
 * so a lane is at most one rectangle per column, and runs of columns in one state are one
 * rectangle. A queue's curve is at most four points per column (entry, highest, lowest, exit).
 *
 * The lane states are the collector's: the events are fed through one, as in a replay, and at
 * each column's end the time each lane spent in each state since the previous column's end is
 * read from its snapshot. One chunk of events is in memory at a time.
 */
#include "internal.h"

#include "concviz/export.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WIDTH 1200
#define NO_STATE      0xff /* a column where the lane did not exist */
#define MAX_QUEUES    8    /* curves drawn; more queues are named in the legend only */

/* Each state's legend label, its fill (the terminal UI's 256-colour background as RGB) and the
 * colour of task ids on it: from the lane-state table (concviz/collector.h). With 8 colours the
 * UI shows the nearest basic colour of these. */
static const struct {
    const char *label; /* in the legend */
    const char *fill;  /* NULL: not drawn */
    const char *text;
} style[CV_LANE__COUNT] = {
#define CV_X_STYLE(id, name, letter, label, svg_label, fg, bg, bg256, fill, text, ...) \
    [CV_LANE_##id] = {svg_label, fill, text},
    CV_LANE_STATES(CV_X_STYLE)
#undef CV_X_STYLE
};
#define BACKGROUND  "#1c1c1c" /* a dark terminal */
#define FOREGROUND  "#d0d0d0"
#define DIM         "#808080" /* the UI's dim text (244) */
#define TITLE       "#00cdcd" /* the UI's titles (cyan) */
#define LOCK_MARK   "#ff5f5f" /* a lock wait, however short, under the lane */
#define LOCK_STROKE "#ff8787" /* the outline of lock-wait rectangles */
static const char *const queue_colour[] = {"#ffd700", "#5fafff", "#ff87d7", "#87ff87"};

struct label {
    uint32_t c0, c1, task;
};

struct lane {
    uint64_t prev[CV_LANE__COUNT]; /* time per state up to the previous column's end */
    uint8_t *cols;                 /* per column: the state drawn, or NO_STATE */
    uint8_t *lockmark;             /* per column: any lock wait */
    struct label *labels;
    size_t nlabels, labels_cap;
};

struct qpoint {
    uint32_t col; /* x = x0 + col / 2.0: half-pixel steps */
    uint32_t depth;
};

struct queue {
    uint32_t obj, capacity;
    const char *name;
    uint32_t depth, max;
    bool started; /* the curve has its first point, at the window's start */
    uint32_t oc;  /* the open column, or UINT32_MAX */
    uint32_t c_in, c_min, c_max;
    struct qpoint *pts;
    size_t npts, cap;
};

struct svg {
    FILE *out;
    struct cv_recording *r;
    uint64_t from, to, span;         /* the window, absolute ns; span = to - from */
    uint32_t pw;                     /* plot width: columns, one per pixel */
    unsigned x0;                     /* the plot's left edge; lane names before it */
    unsigned pitch, bar, mark, font; /* lane rows: height, bar, lock mark under it, names */
    struct lane *lanes;
    size_t nlanes;
    struct queue *queues;
    size_t nqueues, nqueues_all;
    uint8_t *obj_queue; /* per object id: queue index + 1, or 0 */
    size_t nobjs;
    bool used[CV_LANE__COUNT];
    bool any_lockmark;
    uint64_t deadlock_ns; /* UINT64_MAX: none */
};

/* ---- text ---- */

/* XML text or attribute content: markup escaped, control characters and bytes that are not
 * UTF-8 replaced, so any name makes a well-formed file. */
static void xml(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c == '&') {
            fputs("&amp;", f);
        } else if (c == '<') {
            fputs("&lt;", f);
        } else if (c == '>') {
            fputs("&gt;", f);
        } else if (c == '"') {
            fputs("&quot;", f);
        } else if (c == '\'') {
            fputs("&apos;", f);
        } else if (c < 0x20 || c == 0x7f) {
            fputc(c == '\t' ? ' ' : '?', f);
        } else if (c < 0x80) {
            fputc((int)c, f);
        } else {
            /* a whole, shortest-form UTF-8 sequence passes; anything else is one '?' */
            int n = c >= 0xc2 && c <= 0xdf   ? 1
                    : c >= 0xe0 && c <= 0xef ? 2
                    : c >= 0xf0 && c <= 0xf4 ? 3
                                             : -1;
            bool good = n > 0;
            for (int i = 1; good && i <= n; i++)
                good = (p[i] & 0xc0) == 0x80;
            if (good && n == 2)
                good = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
            if (good && n == 3)
                good = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
            if (!good) {
                fputc('?', f);
            } else {
                fwrite(p, 1, (size_t)n + 1, f);
                p += n;
            }
        }
        p++;
    }
}

/* A duration, shortest: "2.031 s", "250 ms", "12.5 us", "800 ns". */
static void fmt_time(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000) {
        snprintf(buf, n, "%" PRIu64 " ns", ns);
        return;
    }
    double unit = ns >= 1000000000 ? 1e9 : ns >= 1000000 ? 1e6 : 1e3;
    const char *name = ns >= 1000000000 ? "s" : ns >= 1000000 ? "ms" : "us";
    char num[32];
    int len = snprintf(num, sizeof num, "%.3f", (double)ns / unit);
    while (len > 1 && num[len - 1] == '0')
        num[--len] = 0;
    if (len > 1 && num[len - 1] == '.')
        num[--len] = 0;
    snprintf(buf, n, "%s %s", num, name);
}

/* ---- columns ---- */

/* Column k covers [col_start(k), col_start(k + 1)) of the window, in ns relative to its start. */
static uint64_t col_start(const struct svg *x, uint64_t k)
{
    if (k >= x->pw)
        return x->span;
    return (uint64_t)((double)x->span * (double)k / (double)x->pw);
}

static uint32_t col_of(const struct svg *x, uint64_t t)
{
    if (t >= x->span)
        return x->pw;
    uint64_t k = (uint64_t)((double)t * (double)x->pw / (double)x->span);
    if (k >= x->pw)
        k = x->pw - 1;
    while (k > 0 && col_start(x, k) > t)
        k--;
    while (k + 1 < x->pw && col_start(x, k + 1) <= t)
        k++;
    return (uint32_t)k;
}

/* The state a column shows: the one the lane spent most of it in; a tie goes to the first in
 * panel order. Off time does not count, so a lane that starts or ends inside a column shows
 * what it did there. */
static uint8_t pick(const uint64_t *acc)
{
    unsigned best = CV_LANE_OFF;
    for (unsigned s = 0; s < CV_LANE_OFF; s++)
        if (acc[s] && (best == CV_LANE_OFF || acc[s] > acc[best]))
            best = s;
    return best == CV_LANE_OFF ? NO_STATE : (uint8_t)best;
}

/* The end of column k - 1 (k = 0: the window's start), from the collector at that time: each
 * lane's column shows the state it spent most of the column in, and a mark where it waited for a
 * lock at all. */
static void column_end(struct svg *x, struct cv_collector *c, uint32_t k)
{
    uint64_t at = x->from + col_start(x, k);
    const struct cv_snapshot *s = cv_collector_snapshot(c, at);
    for (size_t i = 0; i < x->nlanes && i < s->nlanes; i++) {
        struct lane *l = &x->lanes[i];
        const uint64_t *now = s->lanes[i].state_ns;
        if (k > 0) {
            uint64_t acc[CV_LANE__COUNT];
            for (unsigned st = 0; st < CV_LANE__COUNT; st++)
                acc[st] = now[st] - l->prev[st];
            uint8_t st = pick(acc);
            l->cols[k - 1] = st;
            if (st != NO_STATE)
                x->used[st] = true;
            if (acc[CV_LANE_LOCK_WAIT]) {
                l->lockmark[k - 1] = 1;
                x->any_lockmark = true;
            }
        }
        memcpy(l->prev, now, sizeof l->prev);
    }
}

/* Task ids, from the tasks each lane ran (the latest the collector keeps): where a task's part
 * of the window is wide enough for its id. */
static void task_labels(struct svg *x, const struct cv_snapshot *s)
{
    for (size_t i = 0; i < x->nlanes && i < s->nlanes; i++) {
        struct lane *l = &x->lanes[i];
        for (uint32_t k = 0; k < s->lanes[i].nspans; k++) {
            const struct cv_task_span *sp = &s->lanes[i].spans[k];
            uint64_t a = sp->start_ns > x->from ? sp->start_ns : x->from;
            uint64_t b = sp->end_ns < x->to ? sp->end_ns : x->to;
            if (a >= b)
                continue;
            uint32_t c0 = col_of(x, a - x->from), c1 = col_of(x, b - x->from);
            char id[16];
            int len = snprintf(id, sizeof id, "%u", sp->task);
            if (c1 - c0 < (uint32_t)len * 6 + 6)
                continue;
            if (l->nlabels == l->labels_cap) {
                l->labels_cap = l->labels_cap ? 2 * l->labels_cap : 16;
                l->labels = cv_xrealloc(l->labels, l->labels_cap * sizeof *l->labels);
            }
            l->labels[l->nlabels++] = (struct label){c0, c1, sp->task};
        }
    }
}

/* ---- queues ---- */

static void qpoint(struct queue *q, uint32_t col2, uint32_t depth)
{
    if (q->npts && q->pts[q->npts - 1].col == col2 && q->pts[q->npts - 1].depth == depth)
        return;
    if (q->npts >= 2) { /* three points on one horizontal or vertical line: drop the middle */
        struct qpoint *a = &q->pts[q->npts - 2], *b = &q->pts[q->npts - 1];
        bool flat = a->depth == b->depth && b->depth == depth;
        bool upright = a->col == b->col && b->col == col2 &&
                       ((a->depth <= b->depth && b->depth <= depth) ||
                        (a->depth >= b->depth && b->depth >= depth));
        if (flat || upright) {
            *b = (struct qpoint){col2, depth};
            return;
        }
    }
    if (q->npts == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->pts = cv_xrealloc(q->pts, q->cap * sizeof *q->pts);
    }
    q->pts[q->npts++] = (struct qpoint){col2, depth};
}

/* The open column's points, at its middle: the depth on entry, the extremes, the depth on exit. */
static void queue_close(struct queue *q)
{
    if (q->oc == UINT32_MAX)
        return;
    uint32_t c2 = 2 * q->oc + 1;
    qpoint(q, c2, q->c_in);
    bool up_first = q->c_in <= q->depth; /* a rise overall: visit the low, then the high */
    qpoint(q, c2, up_first ? q->c_min : q->c_max);
    qpoint(q, c2, up_first ? q->c_max : q->c_min);
    qpoint(q, c2, q->depth);
    q->oc = UINT32_MAX;
}

/* The curve starts at the window's left edge, at the depth the window starts with. */
static void queue_start(struct queue *q)
{
    if (q->started)
        return;
    q->started = true;
    qpoint(q, 0, q->depth);
    q->max = q->depth;
}

static void queue_depth(struct svg *x, struct queue *q, uint64_t ts, uint32_t depth)
{
    if (ts >= x->to)
        return;
    if (ts < x->from) {
        q->depth = depth; /* the depth the window starts with */
        return;
    }
    queue_start(q);
    uint32_t k = col_of(x, ts - x->from);
    if (k != q->oc) {
        queue_close(q);
        q->oc = k;
        q->c_in = q->c_min = q->c_max = q->depth;
    }
    q->depth = depth;
    if (depth < q->c_min)
        q->c_min = depth;
    if (depth > q->c_max)
        q->c_max = depth;
    if (depth > q->max)
        q->max = depth;
}

/* ---- events ---- */

/* What the picture takes from the events besides the lanes: queue depths and the deadlock. */
static void event(struct svg *x, const struct cv_event *e)
{
    if ((e->kind == CV_EV_QUEUE_PUSH || e->kind == CV_EV_QUEUE_POP) && e->obj < x->nobjs &&
        x->obj_queue[e->obj])
        queue_depth(x, &x->queues[x->obj_queue[e->obj] - 1], e->ts, (uint32_t)e->arg);
    else if (e->kind == CV_EV_DEADLOCK && x->deadlock_ns == UINT64_MAX)
        x->deadlock_ns = e->ts;
}

/* ---- drawing ---- */

/* Runs of columns [c, e) where a byte array equals v, as rectangles; with `outline`, only the
 * runs at least 4 px wide, as outlines drawn inside them. */
static void runs(FILE *f, const uint8_t *a, uint32_t n, uint8_t v, unsigned x0, unsigned y,
                 unsigned h, bool outline)
{
    for (uint32_t c = 0; c < n;) {
        if (a[c] != v) {
            c++;
            continue;
        }
        uint32_t e = c + 1;
        while (e < n && a[e] == v)
            e++;
        if (!outline)
            fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"/>", x0 + c, y, e - c, h);
        else if (e - c >= 4)
            fprintf(f, "<rect x=\"%u.5\" y=\"%u.5\" width=\"%u\" height=\"%u\"/>", x0 + c, y,
                    e - c - 1, h - 1);
        c = e;
    }
}

/* Tick steps: 1, 2 or 5 x 10^k ns, the smallest giving at most `most` ticks over span. */
static void tick_step(uint64_t span, unsigned most, uint64_t *step, int *exp10)
{
    uint64_t p = 1;
    for (int k = 0; k < 19; k++, p *= 10) {
        static const unsigned m[] = {1, 2, 5};
        for (int i = 0; i < 3; i++) {
            uint64_t s = m[i] * p;
            if (span / s < most) {
                *step = s;
                *exp10 = k;
                return;
            }
        }
        if (p > UINT64_MAX / 10)
            break;
    }
    *step = p;
    *exp10 = 19;
}

/* A tick's label: t in the unit of the window's end (s, ms, us or ns), with as many decimals as
 * the step needs, so that labels stay exact ("0.25 s", "1.5002 s", "800 us"). */
static void tick_label(char *buf, size_t n, uint64_t t, uint64_t end, int step_exp)
{
    static const char *const names[] = {"ns", "us", "ms", "s"};
    int u = end >= 1000000000 ? 3 : end >= 1000000 ? 2 : end >= 1000 ? 1 : 0;
    uint64_t unit = 1;
    for (int i = 0; i < u; i++)
        unit *= 1000;
    int dec = 3 * u - step_exp;
    if (dec < 0)
        dec = 0;
    char frac[16];
    snprintf(frac, sizeof frac, "%0*" PRIu64, 3 * u, t % unit);
    frac[dec] = 0;
    snprintf(buf, n, "%" PRIu64 "%s%s %s", t / unit, dec ? "." : "", frac, names[u]);
}

/* The legend: a swatch and a text per colour drawn. */
enum swatch { SW_BOX, SW_LOCK_BOX, SW_MARK, SW_LINE, SW_DASH, SW_NONE };
struct legend_item {
    const char *key; /* data-key: a state's name, lockmark, queue, deadlock */
    enum swatch swatch;
    const char *colour;
    char text[CV_NAME_MAX + 32];
    unsigned w; /* px, the swatch and a gap included */
};
#define LEGEND_MAX (CV_LANE__COUNT + MAX_QUEUES + 3)

static size_t legend_items(const struct svg *x, struct legend_item *it)
{
    size_t n = 0;
    for (unsigned s = 0; s < CV_LANE_OFF; s++)
        if (x->used[s]) {
            it[n] = (struct legend_item){cv_lane_state_name(s),
                                         s == CV_LANE_LOCK_WAIT ? SW_LOCK_BOX : SW_BOX,
                                         style[s].fill, "", 0};
            snprintf(it[n++].text, sizeof it->text, "%s", style[s].label);
        }
    if (x->any_lockmark && x->mark) {
        it[n] = (struct legend_item){"lockmark", SW_MARK, LOCK_MARK, "", 0};
        snprintf(it[n++].text, sizeof it->text, "lock wait (any, under the lane)");
    }
    for (size_t q = 0; q < x->nqueues; q++) {
        it[n] = (struct legend_item){"queue", SW_LINE,
                                     queue_colour[q % (sizeof queue_colour / sizeof *queue_colour)],
                                     "", 0};
        snprintf(it[n++].text, sizeof it->text, "queue depth: %s", x->queues[q].name);
    }
    if (x->deadlock_ns != UINT64_MAX) {
        it[n] = (struct legend_item){"deadlock", SW_DASH, LOCK_MARK, "", 0};
        snprintf(it[n++].text, sizeof it->text, "deadlock");
    }
    if (x->nqueues_all > x->nqueues) {
        it[n] = (struct legend_item){"more", SW_NONE, DIM, "", 0};
        snprintf(it[n++].text, sizeof it->text, "(%zu more queues, not drawn)",
                 x->nqueues_all - x->nqueues);
    }
    for (size_t i = 0; i < n; i++)
        it[i].w = (it[i].swatch == SW_NONE ? 0 : 18) + 7 * (unsigned)strlen(it[i].text) + 18;
    return n;
}

/* Lays the items out in rows within width W from (10, y): their positions; returns the rows. */
static unsigned legend_layout(const struct legend_item *it, size_t n, unsigned W, unsigned y,
                              unsigned *ix, unsigned *iy)
{
    unsigned lx = 10, rows = 1;
    for (size_t i = 0; i < n; i++) {
        if (lx + it[i].w > W - 10 && lx > 10) {
            rows++;
            lx = 10;
            y += 18;
        }
        ix[i] = lx;
        iy[i] = y;
        lx += it[i].w;
    }
    return rows;
}

static void legend_draw(FILE *f, const struct legend_item *it, unsigned x, unsigned y)
{
    fprintf(f, "<g class=\"legend\" data-key=\"%s\">", it->key);
    switch (it->swatch) {
    case SW_BOX:
    case SW_LOCK_BOX:
        fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"14\" height=\"12\" fill=\"%s\"%s/>", x, y,
                it->colour, it->swatch == SW_LOCK_BOX ? " stroke=\"" LOCK_STROKE "\"" : "");
        break;
    case SW_MARK:
        fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"14\" height=\"3\" fill=\"%s\"/>", x, y + 9,
                it->colour);
        break;
    case SW_LINE:
        fprintf(f,
                "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"%s\" stroke-width=\"2\"/>",
                x, y + 6, x + 14, y + 6, it->colour);
        break;
    case SW_DASH:
        fprintf(f,
                "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-dasharray=\"4 3\"/>",
                x + 7, y, x + 7, y + 12, it->colour);
        break;
    case SW_NONE:
        break;
    }
    fprintf(f, "<text x=\"%u\" y=\"%u\"%s%s%s>", it->swatch == SW_NONE ? x : x + 18, y + 10,
            it->swatch == SW_NONE ? " fill=\"" : "", it->swatch == SW_NONE ? it->colour : "",
            it->swatch == SW_NONE ? "\"" : "");
    xml(f, it->text);
    fputs("</text></g>\n", f);
}

static void draw(struct svg *x)
{
    FILE *f = x->out;
    const struct cv_recording_info *info = cv_recording_info(x->r);
    size_t nl = x->nlanes;
    unsigned pitch = x->pitch, bar = x->bar, mark = x->mark, font = x->font, x0 = x->x0;
    unsigned W = x0 + x->pw + 20;
    unsigned top = 50, lanes_h = (unsigned)nl * pitch, axis_y = top + lanes_h + 4;
    unsigned q_y = axis_y + 52, q_h = 60, q_pitch = q_h + 30;
    unsigned legend_y = q_y + (unsigned)x->nqueues * q_pitch + 6;
    /* the legend: laid out first, for the height */
    struct legend_item items[LEGEND_MAX];
    unsigned ix[LEGEND_MAX], iy[LEGEND_MAX];
    size_t nitems = legend_items(x, items);
    unsigned rows = legend_layout(items, nitems, W, legend_y, ix, iy);
    unsigned H = legend_y + rows * 18 + 10;

    char dur[32], wfrom[32], wto[32], buf[64];
    fmt_time(dur, sizeof dur, info->end_ns);
    fmt_time(wfrom, sizeof wfrom, x->from);
    fmt_time(wto, sizeof wto, x->to);
    if (!x->from)
        snprintf(wfrom, sizeof wfrom, "0 s");
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
            "viewBox=\"0 0 %u %u\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" "
            "font-size=\"12\">\n",
            W, H, W, H);
    fputs("<title>concviz: ", f);
    xml(f, info->scenario);
    fputs(" (", f);
    xml(f, info->model);
    fputs(")</title>\n", f);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"%s\"/>\n", BACKGROUND);
    /* the title line */
    fprintf(f, "<text class=\"title\" x=\"10\" y=\"20\" font-size=\"14\" fill=\"%s\">", TITLE);
    xml(f, info->scenario);
    fputs(" \xc2\xb7 ", f);
    xml(f, info->model);
    fprintf(f, " \xc2\xb7 %u worker%s \xc2\xb7 ", info->workers, info->workers == 1 ? "" : "s");
    if (info->gil) {
        fmt_time(buf, sizeof buf, (uint64_t)(info->switch_ms * 1e6));
        fprintf(f, "GIL on (switch %s)", buf);
    } else {
        fputs("no GIL", f);
    }
    fprintf(f, " \xc2\xb7 %s%s \xc2\xb7 window %s \xe2\x80\x93 %s</text>\n", dur,
            info->complete ? "" : " (cut short)", wfrom, wto);
    fprintf(f, "<text x=\"10\" y=\"38\" font-size=\"11\" fill=\"%s\">concviz ", DIM);
    xml(f, info->concviz_version);
    fprintf(f, " \xc2\xb7 %" PRIu64 " events \xc2\xb7 ", info->events);
    xml(f, info->host);
    fputs("</text>\n", f);

    /* grid lines at the ticks, behind the lanes and the queue curves */
    uint64_t step;
    int step_exp;
    tick_step(x->span, x->pw / 90 > 2 ? x->pw / 90 : 2, &step, &step_exp);
    uint64_t first = (x->from + step - 1) / step * step;
    unsigned grid_bottom = x->nqueues ? q_y + (unsigned)x->nqueues * q_pitch - 30 : axis_y;
    fprintf(f, "<g class=\"grid\" stroke=\"#303030\" stroke-width=\"1\">");
    for (uint64_t t = first; t <= x->to; t += step) {
        double px = x0 + (double)(t - x->from) * x->pw / (double)x->span;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%u\" x2=\"%.1f\" y2=\"%u\"/>", px, top - 4, px,
                grid_bottom);
        if (t > UINT64_MAX - step)
            break;
    }
    fputs("</g>\n", f);

    /* the lanes */
    for (size_t i = 0; i < nl; i++) {
        struct lane *l = &x->lanes[i];
        const char *name = cv_recording_lane_name(x->r, (uint32_t)i);
        unsigned y = top + (unsigned)i * pitch;
        fputs("<g class=\"lane\" data-lane=\"", f);
        xml(f, name);
        fprintf(f, "\">\n<text class=\"lane-name\" x=\"10\" y=\"%u\" font-size=\"%u\" fill=\"%s\">",
                y + bar - (bar - font * 3 / 4) / 2, font, FOREGROUND);
        xml(f, name);
        if (cv_recording_lane_pid(x->r, (uint32_t)i) > 0) /* a traced program's thread */
            fprintf(f, " [%d]", (int)cv_recording_lane_pid(x->r, (uint32_t)i));
        fputs("</text>\n", f);
        for (unsigned s = 0; s < CV_LANE_OFF; s++) {
            if (!memchr(l->cols, (int)s, x->pw))
                continue;
            fprintf(f, "<g class=\"state %s\" fill=\"%s\">", cv_lane_state_name(s), style[s].fill);
            runs(f, l->cols, x->pw, (uint8_t)s, x0, y, bar, false);
            fputs("</g>\n", f);
            if (s == CV_LANE_LOCK_WAIT && bar >= 6) { /* an outline where it is wide enough */
                fprintf(f, "<g class=\"lock-outline\" fill=\"none\" stroke=\"%s\">", LOCK_STROKE);
                runs(f, l->cols, x->pw, (uint8_t)s, x0, y, bar, true);
                fputs("</g>\n", f);
            }
        }
        if (mark && memchr(l->lockmark, 1, x->pw)) {
            fprintf(f, "<g class=\"lockmark\" fill=\"%s\">", LOCK_MARK);
            runs(f, l->lockmark, x->pw, 1, x0, y + bar, mark, false);
            fputs("</g>\n", f);
        }
        if (l->nlabels && bar >= 12) {
            fprintf(f, "<g class=\"task-ids\" font-size=\"10\">");
            for (size_t k = 0; k < l->nlabels; k++) {
                const struct label *b = &l->labels[k];
                uint8_t st = l->cols[b->c0 + 1 < x->pw ? b->c0 + 1 : b->c0];
                if (st == NO_STATE)
                    continue;
                fprintf(f, "<text x=\"%u\" y=\"%u\" fill=\"%s\">%u</text>", x0 + b->c0 + 3,
                        y + bar - 4, style[st].text, b->task);
            }
            fputs("</g>\n", f);
        }
        fputs("</g>\n", f);
    }
    if (x->deadlock_ns != UINT64_MAX && x->deadlock_ns >= x->from && x->deadlock_ns <= x->to) {
        double px = x0 + (double)(x->deadlock_ns - x->from) * x->pw / (double)x->span;
        fprintf(f,
                "<g class=\"deadlock\"><line x1=\"%.1f\" y1=\"%u\" x2=\"%.1f\" y2=\"%u\" "
                "stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/></g>\n",
                px, top - 6, px, axis_y, LOCK_MARK);
    }

    /* the time axis */
    fprintf(f,
            "<g class=\"axis\" fill=\"%s\" stroke=\"%s\"><line x1=\"%u\" y1=\"%u\" x2=\"%u\" "
            "y2=\"%u\"/>\n",
            FOREGROUND, FOREGROUND, x0, axis_y, x0 + x->pw, axis_y);
    for (uint64_t t = first; t <= x->to; t += step) {
        double px = x0 + (double)(t - x->from) * x->pw / (double)x->span;
        tick_label(buf, sizeof buf, t, x->to, step_exp);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%u\" x2=\"%.1f\" y2=\"%u\"/><text class=\"tick\" "
                "x=\"%.1f\" y=\"%u\" stroke=\"none\" text-anchor=\"middle\" "
                "font-size=\"11\">%s</text>\n",
                px, axis_y, px, axis_y + 5, px, axis_y + 18, buf);
        if (t > UINT64_MAX - step)
            break;
    }
    fputs("</g>\n", f);

    /* the queues: one panel each, depth 0..max */
    for (size_t qi = 0; qi < x->nqueues; qi++) {
        struct queue *q = &x->queues[qi];
        unsigned py = q_y + (unsigned)qi * q_pitch, base = py + q_h;
        uint32_t max = q->max ? q->max : 1;
        const char *colour = queue_colour[qi % (sizeof queue_colour / sizeof queue_colour[0])];
        fputs("<g class=\"queue\" data-queue=\"", f);
        xml(f, q->name);
        fprintf(f, "\">\n<text x=\"%u\" y=\"%u\" fill=\"%s\">queue ", x0, py - 6, FOREGROUND);
        xml(f, q->name);
        fprintf(f, ": depth, capacity %u, at most %u in this window</text>\n", q->capacity, q->max);
        fprintf(f,
                "<g class=\"queue-axis\" stroke=\"%s\" fill=\"%s\"><line x1=\"%u\" y1=\"%u\" "
                "x2=\"%u\" y2=\"%u\"/><line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\"/>"
                "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\"/>",
                DIM, DIM, x0 - 1, py, x0 - 1, base, x0 - 5, py, x0 - 1, py, x0 - 5, base, x0 - 1,
                base);
        fprintf(f,
                "<text x=\"%u\" y=\"%u\" stroke=\"none\" text-anchor=\"end\" "
                "font-size=\"10\">%u</text><text x=\"%u\" y=\"%u\" stroke=\"none\" "
                "text-anchor=\"end\" font-size=\"10\">0</text></g>\n",
                x0 - 7, py + 8, max, x0 - 7, base);
        fprintf(f,
                "<polyline class=\"depth\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                "stroke-linejoin=\"round\" points=\"",
                colour);
        for (size_t k = 0; k < q->npts; k++) {
            double px = x0 + q->pts[k].col / 2.0;
            double py2 = base - (double)q->pts[k].depth * q_h / max;
            fprintf(f, "%s%g,%g", k ? " " : "", px, round(py2 * 10) / 10);
        }
        fputs("\"/>\n</g>\n", f);
    }

    /* the legend */
    fprintf(f, "<g class=\"legend-box\" fill=\"%s\">\n", FOREGROUND);
    for (size_t i = 0; i < nitems; i++)
        legend_draw(f, &items[i], ix[i], iy[i]);
    fputs("</g>\n</svg>\n", f);
}

/* ---- the export ---- */

int cv_export_svg(struct cv_recording *r, FILE *out, const struct cv_svg_opts *opts, char **cause)
{
    const struct cv_recording_info *info = cv_recording_info(r);
    struct cv_svg_opts o = opts ? *opts : (struct cv_svg_opts){0, UINT64_MAX, 0};
    uint64_t end = info->end_ns;
    if (o.to_ns > end)
        o.to_ns = end;
    if (!end && !o.from_ns)
        o.to_ns = 1; /* no events at all: an empty picture */
    if (o.from_ns >= o.to_ns) {
        char a[32], b[32];
        fmt_time(a, sizeof a, o.from_ns);
        fmt_time(b, sizeof b, end);
        if (cause && o.from_ns >= end)
            *cause = cv_strdup_printf("the window starts at %s, at or after the recording's end "
                                      "(%s)",
                                      a, b);
        else if (cause)
            *cause = cv_strdup("the window is empty: its start is not before its end");
        return CV_ERR_USAGE;
    }
    unsigned width = o.width ? o.width : DEFAULT_WIDTH;
    if (width < 400 || width > 20000) {
        if (cause)
            *cause =
                cv_strdup_printf("an SVG width of %u px is out of range (400 to 20000)", width);
        return CV_ERR_USAGE;
    }

    struct svg x = {.out = out, .r = r, .from = o.from_ns, .to = o.to_ns};
    x.span = x.to - x.from;
    x.deadlock_ns = UINT64_MAX;
    x.nlanes = cv_recording_nlanes(r);
    /* lane rows: thinner when there are many; names as wide as the longest needs */
    size_t nl = x.nlanes, name_w = 0;
    x.pitch = nl <= 48 ? 20 : nl <= 200 ? 12 : nl <= 1000 ? 6 : 3;
    x.bar = x.pitch >= 20 ? 15 : x.pitch - x.pitch / 4;
    x.mark = x.pitch >= 20 ? 2 : x.pitch >= 6 ? 1 : 0;
    x.font = x.pitch >= 20 ? 12 : x.pitch >= 12 ? 10 : x.pitch;
    for (size_t i = 0; i < nl; i++) {
        size_t len = strlen(cv_recording_lane_name(r, (uint32_t)i)) +
                     (cv_recording_lane_pid(r, (uint32_t)i) > 0 ? 10 : 0); /* " [pid]" */
        name_w = len > name_w ? len : name_w;
    }
    x.x0 = 20 + (unsigned)(name_w * x.font * 62 + 99) / 100; /* a monospace glyph: 0.62 em */
    if (x.x0 < 60)
        x.x0 = 60;
    x.pw = width - x.x0 - 20;
    x.lanes = cv_xcalloc(x.nlanes ? x.nlanes : 1, sizeof *x.lanes);
    for (size_t i = 0; i < x.nlanes; i++) {
        struct lane *l = &x.lanes[i];
        l->cols = cv_xmalloc(x.pw);
        memset(l->cols, NO_STATE, x.pw);
        l->lockmark = cv_xcalloc(x.pw, 1);
    }
    /* the queues, from the declarations */
    struct cv_collector *col = cv_recording_collector(r);
    const struct cv_collector *decl = col;
    x.nobjs = cv_collector_nobjects(decl);
    x.obj_queue = cv_xcalloc(x.nobjs ? x.nobjs : 1, 1);
    x.queues = cv_xcalloc(MAX_QUEUES, sizeof *x.queues);
    for (size_t i = 0; i < x.nobjs; i++) {
        struct cv_object_decl d;
        if (!cv_collector_object(decl, (uint32_t)i, &d) || d.kind != CV_OBJ_QUEUE)
            continue;
        x.nqueues_all++;
        if (x.nqueues == MAX_QUEUES)
            continue;
        x.obj_queue[i] = (uint8_t)(x.nqueues + 1);
        x.queues[x.nqueues++] = (struct queue){
            .obj = (uint32_t)i,
            .capacity = d.capacity,
            .name = cv_recording_object_name(r, (uint32_t)i),
            .oc = UINT32_MAX,
        };
    }

    /* the events through the collector, stopping at each column's end to read the lanes */
    int rc = CV_OK;
    uint32_t k = 0; /* the next column end to read */
    for (size_t c = 0; c < info->nchunks && rc == CV_OK && k <= x.pw; c++) {
        const struct cv_event *ev;
        size_t n;
        if ((rc = cv_recording_chunk(r, c, &ev, &n, cause)) != CV_OK)
            break;
        for (size_t i = 0; i < n && k <= x.pw;) {
            uint64_t at = x.from + col_start(&x, k);
            if (ev[i].ts >= at) {
                column_end(&x, col, k++);
                continue;
            }
            size_t j = i;
            while (j < n && ev[j].ts < at)
                event(&x, &ev[j++]);
            cv_collector_feed(col, ev + i, j - i);
            i = j;
        }
    }
    if (rc == CV_OK) {
        while (k <= x.pw) /* the columns after the last event */
            column_end(&x, col, k++);
        task_labels(&x, cv_collector_snapshot(col, x.to));
        for (size_t q = 0; q < x.nqueues; q++) {
            struct queue *qu = &x.queues[q];
            queue_start(qu);
            queue_close(qu);
            if (qu->depth > qu->max)
                qu->max = qu->depth;
            qpoint(qu, 2 * x.pw, qu->depth);
        }
        draw(&x);
    }
    for (size_t i = 0; i < x.nlanes; i++) {
        free(x.lanes[i].cols);
        free(x.lanes[i].lockmark);
        free(x.lanes[i].labels);
    }
    for (size_t q = 0; q < x.nqueues; q++)
        free(x.queues[q].pts);
    free(x.lanes);
    free(x.queues);
    free(x.obj_queue);
    cv_collector_destroy(col);
    return rc;
}
