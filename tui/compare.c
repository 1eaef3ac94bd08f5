/* The compare view (compare.h). */
#include "compare.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "paint.h"

#define RUNS_DEFAULT  3
#define PAUSE_S       0.5 /* the finished run stays in view this long */
#define TABLE_W       123 /* the popup, at most */
#define CHECKS_WIDE   98  /* where the checks column starts with every column */
#define CHECKS_NARROW 52  /* and without min-max, cpu, in flight, mem/task (a narrower screen) */
#define CHECKS_ROOM   16  /* the room the checks want, else the narrow table */

/* The comparison is over: the table, the machine's share of the blame, the request back. */
static void compare_end(struct compare *c, struct ui_run_req *req)
{
    c->on = false;
    c->table = true;
    cmp_sample_take(&c->after);
    cmp_shares(&c->before, &c->after, &c->noise.steal, &c->noise.others);
    req->cfg.model = c->saved_model;
    req->cfg.gil = c->saved_gil;
    req->cfg.python = c->saved_python;
}

/* Sets req->cfg for the next run, or ends the comparison: true when a run is to start. */
static bool compare_next(struct compare *c, struct ui_run_req *req)
{
    if (c->round >= c->want) {
        compare_end(c, req);
        return false;
    }
    req->cfg.model = c->row[c->at].model;
    req->cfg.gil = c->row[c->at].gil;
    req->cfg.python = c->row[c->at].gil ? c->gil_python : NULL;
    c->next_at = ui_now();
    return true;
}

/* The next run is the next model's; after the last model, the first's again. */
static void advance(struct compare *c)
{
    if (++c->at >= c->n) {
        c->at = 0;
        c->round++;
    }
}

bool compare_start(struct compare *c, struct ui_run_req *req)
{
    const struct cv_scenario *sc = req->scenario;
    int runs = c->runs ? c->runs : RUNS_DEFAULT;
    memset(c, 0, sizeof *c);
    c->runs = c->want = runs;
    c->saved_model = req->cfg.model;
    c->saved_gil = req->cfg.gil;
    c->saved_python = req->cfg.python;
    c->gil_python = req->cfg.python && strcmp(req->cfg.python, "3.13t") ? req->cfg.python : "3.11";
    for (unsigned m = 0; m < CV_MODEL__COUNT && c->n < CMP_MAX; m++) {
        if (!(sc->models & (1u << m)))
            continue;
        c->row[c->n++].model = (int)m;
        if (m == CV_MODEL_THREADS && c->n < CMP_MAX) { /* the GIL lesson: threads under it too */
            c->row[c->n].model = (int)m;
            c->row[c->n++].gil = 1;
        }
    }
    cmp_machine(&c->noise.ncpu, &c->noise.load);
    c->noise.steal = c->noise.others = -1;
    cmp_sample_take(&c->before);
    c->on = true;
    return compare_next(c, req);
}

int compare_cycle_runs(struct compare *c)
{
    int runs = c->runs ? c->runs : RUNS_DEFAULT;
    c->runs = runs + 2 > CMP_RUNS_MAX ? 1 : runs + 2;
    return c->runs;
}

/* A run of row r that did not end done. */
static void ended_badly(struct compare_row *r, const char *how)
{
    r->bad++;
    snprintf(r->bad_state, sizeof r->bad_state, "%s", how);
}

void compare_record(struct compare *c, const struct cv_value *sum, enum cv_run_state st,
                    unsigned failed)
{
    if (!c->on || c->round >= c->want)
        return;
    struct compare_row *r = &c->row[c->at];
    r->ended++;
    double inflight = tui_num(sum, "inflight_max");
    if (inflight > r->inflight)
        r->inflight = inflight;
    const struct cv_value *exp = cv_value_get(sum, "expectations");
    r->nexp = exp ? (unsigned)exp->n : 0;
    if (st == CV_RUN_DONE) {
        r->wall[r->good] = tui_num(sum, "wall_s");
        r->mem[r->good] = tui_num(cv_value_get(sum, "runtime"), "memory_per_task_kb");
        r->cpu[r->good++] = tui_num(sum, "cpu_s");
        r->checks_failed += failed > 0;
    } else {
        ended_badly(r, st == CV_RUN_DEADLOCKED ? "deadlock"
                       : st == CV_RUN_STOPPED  ? "stopped"
                                               : "failed");
    }
    advance(c);
    c->next_at = ui_now() + PAUSE_S;
}

bool compare_step(struct compare *c, struct ui_run_req *req, bool running, bool failed)
{
    if (!c->on || running || ui_now() < c->next_at)
        return false;
    if (failed && c->round < c->want && c->next_at) { /* that model could not even start */
        c->row[c->at].ended++;
        ended_badly(&c->row[c->at], "error");
        advance(c);
    }
    return compare_next(c, req);
}

void compare_close(struct compare *c)
{
    c->table = false;
}

/* ---------------------------------------------------------------- the table */

static void row_name(const struct compare *c, const struct compare_row *r, char *buf, size_t cap)
{
    if (r->gil)
        snprintf(buf, cap, "%s +GIL %s", cv_model_name((unsigned)r->model), c->gil_python);
    else
        snprintf(buf, cap, "%s", cv_model_name((unsigned)r->model));
}

/* The median wall time of the row the speed-ups are against: serial's, else the first row's
 * that has one; 0 if none has. */
static double baseline(const struct compare *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->row[i].model == CV_MODEL_SERIAL && c->row[i].good)
            return cmp_median(c->row[i].wall, c->row[i].good);
    for (int i = 0; i < c->n; i++)
        if (c->row[i].good)
            return cmp_median(c->row[i].wall, c->row[i].good);
    return 0;
}

static void draw_row(const struct compare *c, int i, int y, int x, int w, double base)
{
    int at = w >= CHECKS_WIDE + CHECKS_ROOM ? CHECKS_WIDE : CHECKS_NARROW;
    const struct compare_row *r = &c->row[i];
    char name[32], runs[16];
    row_name(c, r, name, sizeof name);
    snprintf(runs, sizeof runs, "%d/%d", r->good, c->want);
    bool now = c->on && i == c->at;
    if (!r->ended) {
        attron(ui_attr(UI_C_DIM));
        paint_putf(y, x, w, "%-17s %9s %8s %5s", name, now ? "running" : "-", "", runs);
        attroff(ui_attr(UI_C_DIM));
        return;
    }
    char wall[16] = "-", speedup[16] = "-", spread[16] = "-", range[40] = "-", cpu[16] = "-",
         mem[16] = "-";
    if (r->good) {
        double med = cmp_median(r->wall, r->good), lo, hi;
        double sp = cmp_spread(r->wall, r->good, &lo, &hi);
        paint_dur(wall, sizeof wall, med);
        if (med > 0 && base > 0)
            snprintf(speedup, sizeof speedup, "%.2fx", base / med);
        if (sp >= 0)
            snprintf(spread, sizeof spread, "%.1f%%", sp * 100);
        if (r->good > 1) {
            char a[16], b[16];
            paint_dur(a, sizeof a, lo);
            paint_dur(b, sizeof b, hi);
            snprintf(range, sizeof range, "%s-%s", a, b);
        }
        paint_dur(cpu, sizeof cpu, cmp_median(r->cpu, r->good));
        double m = cmp_median(r->mem, r->good); /* what the run added at its peak, per task */
        if (m > 0)
            snprintf(mem, sizeof mem, "%.1f KB", m);
    }
    if (at == CHECKS_WIDE)
        paint_putf(y, x, w, "%-17s %9s %8s %5s %7s %-15s %9s %9.0f %9s  ", name, wall, speedup,
                   runs, spread, range, cpu, r->inflight, mem);
    else
        paint_putf(y, x, w, "%-17s %9s %8s %5s %7s  ", name, wall, speedup, runs, spread);
    char checks[64];
    bool bad = cmp_row_checks(r, checks, sizeof checks);
    int a = bad ? ui_attr(UI_C_BAD) : r->good && r->nexp ? ui_attr(UI_C_GOOD) : 0;
    attron(a);
    int col = paint_put(y, x + at, w - at, checks);
    attroff(a);
    if (now) {
        attron(ui_attr(UI_C_DIM));
        paint_put(y, x + at + col, w - at - col, ", running");
        attroff(ui_attr(UI_C_DIM));
    }
}

/* The lines under the rows: what is wrong first, then what the figures are. */
struct notes {
    char warn[768];  /* noisy figures: 8 spreads, the load, steal and others fit */
    char fewer[512]; /* medians of fewer runs than asked */
    char machine[256];
};

static void notes_make(const struct compare *c, struct notes *t)
{
    char names[CMP_MAX][32];
    const char *np[CMP_MAX];
    double spread[CMP_MAX];
    size_t len = 0;
    t->fewer[0] = 0;
    for (int i = 0; i < c->n; i++) {
        const struct compare_row *r = &c->row[i];
        row_name(c, r, names[i], sizeof names[i]);
        np[i] = names[i];
        spread[i] = cmp_spread(r->wall, r->good, NULL, NULL);
        if (c->on || r->good >= c->want || len >= sizeof t->fewer)
            continue;
        len += (size_t)snprintf(t->fewer + len, sizeof t->fewer - len, "%s%s %d of %d",
                                len ? ", " : "runs that ended done, fewer than asked: ", names[i],
                                r->good, c->want);
    }
    cmp_warning(t->warn, sizeof t->warn, c->n, np, spread, &c->noise);
    const struct cmp_noise *m = &c->noise;
    len = (size_t)snprintf(t->machine, sizeof t->machine, "machine: %d CPU%s, load ", m->ncpu,
                           m->ncpu == 1 ? "" : "s");
    len +=
        (size_t)(m->load >= 0 ? snprintf(t->machine + len, sizeof t->machine - len, "%.2f", m->load)
                              : snprintf(t->machine + len, sizeof t->machine - len, "unknown"));
    if (len >= sizeof t->machine)
        return;
    if (c->on)
        snprintf(t->machine + len, sizeof t->machine - len,
                 " as the runs began; steal and other programs' CPU time: at the end");
    else if (m->steal < 0)
        snprintf(t->machine + len, sizeof t->machine - len,
                 " as the runs began; steal and other programs' CPU time unknown (no /proc/stat)");
    else
        snprintf(t->machine + len, sizeof t->machine - len,
                 " as the runs began; during the runs: steal %.1f%%, other programs %.1f%% of CPU "
                 "time",
                 m->steal * 100, m->others * 100);
}

/* Writes s from row y on, w columns a line, broken at blanks, on the rows up to `last` (-1:
 * none, only counting); the rows it takes. */
static int wrap(const char *s, int y, int x, int w, int last)
{
    int rows = 0;
    while (*s && w > 0) {
        int n = (int)strlen(s);
        if (n > w) { /* the last blank that lets the line fit, else cut at w */
            n = w;
            for (int i = w; i > w / 2; i--)
                if (s[i] == ' ') {
                    n = i;
                    break;
                }
        }
        if (y + rows <= last)
            mvaddnstr(y + rows, x, s, n);
        rows++;
        s += n;
        while (*s == ' ')
            s++;
    }
    return rows;
}

void compare_draw(const struct compare *c, const char *lesson)
{
    struct notes t;
    notes_make(c, &t);
    int w = TABLE_W < COLS - 2 ? TABLE_W : COLS - 2, oy, ox, cw = w - 4;
    char lines[4][192];
    snprintf(lines[0], sizeof lines[0],
             "warns at: a spread over %.0f%%, a load over the CPU count, steal over %.0f%%, other "
             "programs over %.0f%% of CPU time",
             CMP_SPREAD_MAX * 100, CMP_STEAL_MAX * 100, CMP_OTHERS_MAX * 100);
    snprintf(lines[1], sizeof lines[1], "%s%s",
             "wall, cpu: medians of the runs that ended done (runs: how many of those asked); "
             "spread: (max-min)/median",
             cw >= CHECKS_WIDE + CHECKS_ROOM
                 ? "; mem/task: the memory a run added at its peak, per task (median)"
                 : "; a wider screen adds min-max, cpu, in flight, mem/task");
    snprintf(lines[2], sizeof lines[2], "%s",
             "speedup: of the medians, against serial (or the first row); checks: the "
             "expectations, in every run");
    snprintf(lines[3], sizeof lines[3], "lesson: %s", lesson);
    int rows =
        wrap(t.warn, 0, 0, cw, -1) + wrap(t.fewer, 0, 0, cw, -1) + wrap(t.machine, 0, 0, cw, -1);
    for (int i = 0; i < 4; i++)
        rows += wrap(lines[i], 0, 0, cw, -1);
    char title[96];
    if (c->on)
        snprintf(title, sizeof title, "compare: each model %d time%s, in turn (round %d of %d)",
                 c->want, c->want == 1 ? "" : "s", c->round + 1, c->want);
    else
        snprintf(title, sizeof title, "compare: %d run%s of each model (any key closes)", c->want,
                 c->want == 1 ? "" : "s");
    int h = c->n + rows + 5;
    paint_popup(w, h, &oy, &ox, title);
    int last = oy + (h < LINES - 2 ? h : LINES - 2) - 3; /* a short screen cuts the notes */
    attron(A_BOLD);
    if (cw >= CHECKS_WIDE + CHECKS_ROOM)
        paint_putf(oy, ox, cw, "%-17s %9s %8s %5s %7s %-15s %9s %9s %9s  %s", "model", "wall",
                   "speedup", "runs", "spread", "min-max", "cpu", "in flight", "mem/task",
                   "checks");
    else
        paint_putf(oy, ox, cw, "%-17s %9s %8s %5s %7s  %s", "model", "wall", "speedup", "runs",
                   "spread", "checks");
    attroff(A_BOLD);
    double base = baseline(c);
    for (int i = 0; i < c->n; i++)
        draw_row(c, i, oy + 1 + i, ox, cw, base);
    int y = oy + c->n + 2;
    attron(ui_attr(UI_C_WARN) | A_BOLD);
    y += wrap(t.warn, y, ox, cw, last);
    attroff(ui_attr(UI_C_WARN) | A_BOLD);
    attron(ui_attr(UI_C_BAD));
    y += wrap(t.fewer, y, ox, cw, last);
    attroff(ui_attr(UI_C_BAD));
    attron(ui_attr(UI_C_DIM));
    y += wrap(t.machine, y, ox, cw, last);
    for (int i = 0; i < 4; i++)
        y += wrap(lines[i], y, ox, cw, last);
    attroff(ui_attr(UI_C_DIM));
}
