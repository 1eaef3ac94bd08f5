/*
 * The scenario picker's screen (picker.h): the scenarios on the left; on the right the selected
 * one's title and lesson (wrapped at word boundaries, scrolled with J/K, a marker saying how
 * many lines are above or below), its models, its workers (a count, or each role's count) and
 * its parameters, and for the row in focus what it means, its default and the values it takes.
 */
#include "picker.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "paint.h"

#define LINE_MAX_BYTES 1024 /* a wrapped line: at most 250 columns of up to 4 bytes */
#define DETAIL_ROWS    3    /* what the row in focus means, its default and range */

static bool blank(char c)
{
    return c == ' ' || c == '\n' || c == '\t';
}

/* The next line of text wrapped at w columns (UTF-8 counted per code point) into buf: words
 * stay whole unless one is longer than a line. Returns false when no text is left. */
static bool wrap_next(const char **pp, int w, char *buf)
{
    const char *p = *pp;
    size_t used = 0;
    int cols = 0;
    if (w > 250)
        w = 250;
    if (w < 1)
        w = 1;
    buf[0] = 0;
    for (;;) {
        while (blank(*p))
            p++;
        if (!*p)
            break;
        const char *e = p;
        int wc = 0;
        while (*e && !blank(*e)) {
            if ((*e & 0xC0) != 0x80)
                wc++;
            e++;
        }
        if (cols && cols + 1 + wc > w)
            break;
        if (!cols && wc > w) { /* longer than a line: cut it */
            e = p;
            wc = 0;
            while (*e && wc < w) {
                e++;
                while ((*e & 0xC0) == 0x80)
                    e++;
                wc++;
            }
        }
        if (cols)
            buf[used++] = ' ', cols++;
        memcpy(buf + used, p, (size_t)(e - p));
        used += (size_t)(e - p);
        buf[used] = 0;
        cols += wc;
        p = e;
    }
    *pp = p;
    return used > 0;
}

static int wrap_count(const char *text, int w)
{
    char buf[LINE_MAX_BYTES];
    int n = 0;
    while (wrap_next(&text, w, buf))
        n++;
    return n;
}

/* Lines skip.. of text wrapped at w, at most h of them from row y; returns the rows drawn. */
static int wrap_draw(int y, int x, int w, int skip, int h, const char *text)
{
    char buf[LINE_MAX_BYTES];
    int i = 0, rows = 0;
    while (rows < h && wrap_next(&text, w, buf))
        if (i++ >= skip)
            paint_put(y + rows++, x, w, buf);
    return rows;
}

/* Text cut to w columns, its end marked when cut (paint_put cuts whole words, with an
 * ellipsis). */
static void put_cut(int y, int x, int w, const char *s)
{
    paint_put(y, x, w, s);
}

/* Text wrapped at w on at most h rows from row y, the last row's end marked when more is left;
 * returns the rows drawn. */
static int wrap_fit(int y, int x, int w, int h, const char *text)
{
    if (h < 1)
        return 0;
    if (wrap_count(text, w) <= h)
        return wrap_draw(y, x, w, 0, h, text);
    char buf[LINE_MAX_BYTES];
    for (int i = 0; i < h - 1; i++) {
        wrap_next(&text, w, buf);
        paint_put(y + i, x, w, buf);
    }
    while (blank(*text))
        text++;
    put_cut(y + h - 1, x, w, text);
    return h;
}

static void marker(int y, int x, int w, bool down, int n)
{
    const char *arrow = ui_ascii() ? (down ? "v" : "^") : (down ? "↓" : "↑");
    attron(ui_attr(UI_C_DIM));
    paint_putf(y, x, w, "%s %d %sline%s %s", arrow, n, down ? "more " : "", n == 1 ? "" : "s",
               down ? "(J or PgDn)" : "above (K or PgUp)");
    attroff(ui_attr(UI_C_DIM));
}

static const char *row_name(const struct pick_row *r)
{
    switch (r->kind) {
    case PICK_ROW_WORKERS:
        return "executor";
    case PICK_ROW_ROLE:
        return r->param ? r->param->key : r->role->name;
    case PICK_ROW_PARAM:
        return r->param->key;
    }
    return "";
}

static void row_value(const struct pick *P, const struct pick_row *r, char *buf, size_t n)
{
    const struct cv_scenario *s = P->all[P->sel];
    if (r->kind == PICK_ROW_WORKERS && P->workers)
        snprintf(buf, n, "%u", P->workers);
    else if (r->kind == PICK_ROW_WORKERS)
        snprintf(buf, n, "%u (default)", s->workers ? s->workers : 2u);
    else if (r->param)
        snprintf(buf, n, "%s", r->param->value);
    else
        snprintf(buf, n, "%u", r->role->count);
}

static const char *row_meaning(const struct pick_row *r)
{
    if (r->kind == PICK_ROW_WORKERS)
        return "threads of the executor that offloaded work runs on";
    if (r->param)
        return r->param->def->meaning;
    return "always there, no parameter counts it";
}

/* What the row in focus means, its default and the values it takes. */
static void row_detail(const struct pick *P, const struct pick_row *r, char *buf, size_t n)
{
    const struct cv_scenario *s = P->all[P->sel];
    if (r->kind == PICK_ROW_WORKERS) {
        if (pick_has_roles(s))
            snprintf(buf, n, "executor: %s; default %u; whole number 1..4096", row_meaning(r),
                     s->workers ? s->workers : 2u);
        else if (s->workers)
            snprintf(buf, n,
                     "workers: how many run the tasks; default %u (the scenario's); "
                     "whole number 1..4096; empty: the default",
                     s->workers);
        else
            snprintf(buf, n,
                     "workers: how many run the tasks; default one per CPU; whole number "
                     "1..4096; empty: the default");
        return;
    }
    if (!r->param) {
        snprintf(buf, n, "%s: %s", r->role->name, row_meaning(r));
        return;
    }
    char range[128];
    tui_param_range(r->param->def, range, sizeof range);
    snprintf(buf, n, "%s: %s; default %s; %s", r->param->key, r->param->def->meaning,
             r->param->def->def, range);
}

/* The rows of one list from row `first`, at most h of them: name, value and what it means. */
static void draw_rows(const struct pick *P, enum pick_focus which, const struct pick_row *rows,
                      int n, int first, int h, int y, int x, int w)
{
    int kw = 0, vw = 0;
    char val[160];
    for (int i = 0; i < n; i++) {
        int k = (int)strlen(row_name(&rows[i]));
        row_value(P, &rows[i], val, sizeof val);
        int v = (int)strlen(val);
        kw = k > kw ? k : kw;
        vw = v > vw && v <= 14 ? v : vw; /* a longer value goes without its meaning */
    }
    kw = kw > 20 ? 20 : kw;
    vw = vw < 4 ? 4 : vw;
    for (int i = first; i < n && i < first + h; i++, y++) {
        bool sel = P->focus == which && i == P->row;
        bool typing = sel && P->editing;
        if (sel)
            attron(A_REVERSE);
        if (typing)
            snprintf(val, sizeof val, "%s_", P->input);
        else
            row_value(P, &rows[i], val, sizeof val);
        char line[LINE_MAX_BYTES];
        snprintf(line, sizeof line, " %-*.*s  %s", kw, kw, row_name(&rows[i]), val);
        put_cut(y, x, w, line);
        if (sel)
            attroff(A_REVERSE);
        int vlen = (int)strlen(val), mx = 1 + kw + 2 + vw + 2;
        if (!typing && vlen <= vw && w - mx >= 8) {
            attron(ui_attr(UI_C_DIM));
            put_cut(y, x + mx, w - mx, row_meaning(&rows[i]));
            attroff(ui_attr(UI_C_DIM));
        }
    }
}

static void workers_line(const struct pick *P, int y, int x, int w)
{
    const struct cv_scenario *s = P->all[P->sel];
    if (pick_has_roles(s)) {
        long sum = 0;
        for (const struct cv_role_def *r = s->workload->roles; r->name; r++)
            sum += pick_role_count(s, r);
        paint_putf(y, x, w, "roles    %ld in all%s", sum,
                   P->focus == PICK_WORKERS ? "" : " (w edits)");
    } else if (s->workload->shape == CV_SHAPE_ROLES) {
        paint_put(y, x, w, "workers  one per role (set by the parameters)");
    } else if (P->focus == PICK_WORKERS && P->editing) {
        paint_putf(y, x, w, "workers  %s_", P->input);
    } else if (P->model[P->sel] == CV_MODEL_SERIAL) {
        paint_put(y, x, w, "workers  1 (serial runs one)");
    } else if (P->workers) {
        paint_putf(y, x, w, "workers  %u", P->workers);
    } else if (s->workers) {
        paint_putf(y, x, w, "workers  %u (the scenario's)", s->workers);
    } else {
        paint_put(y, x, w, "workers  one per CPU");
    }
}

/* The models the scenario runs under, the chosen one highlighted; those past the width told. */
static void draw_models(const struct pick *P, int y, int x, int w)
{
    const struct cv_scenario *s = P->all[P->sel];
    int at = paint_put(y, x, w, "model   "), need = at, count = 0;
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
        if (s->models & (1u << m)) {
            need += (int)strlen(cv_model_name(m)) + 2;
            count++;
        }
    if (need > w) { /* only the chosen one */
        attron(A_REVERSE);
        at += paint_putf(y, x + at, w - at, " %s ", cv_model_name((unsigned)P->model[P->sel]));
        attroff(A_REVERSE);
        paint_putf(y, x + at, w - at, " one of %d (h l)", count);
        return;
    }
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
        if (!(s->models & (1u << m)))
            continue;
        const char *name = cv_model_name(m);
        int len = (int)strlen(name) + 2;
        bool on = (int)m == P->model[P->sel];
        if (on)
            attron(A_REVERSE);
        paint_putf(y, x + at, len, " %s ", name);
        if (on)
            attroff(A_REVERSE);
        at += len;
    }
}

/* The right side: the selected scenario, from row 2 to row bottom. */
static void draw_scenario(struct pick *P, int x, int w, int bottom)
{
    struct cv_scenario *s = P->all[P->sel];
    struct pick_row wrows[PICK_ROWS_MAX], prows[PICK_ROWS_MAX];
    int nw = (int)pick_rows(P, PICK_WORKERS, wrows), np = (int)pick_rows(P, PICK_PARAMS, prows);
    int listed = pick_has_roles(s) ? nw : 0; /* a single count is on the workers line */
    int detail = P->focus == PICK_LIST ? 0 : DETAIL_ROWS;
    int y = 2;
    /* the title: two lines at most */
    attron(ui_attr(UI_C_TITLE));
    y += wrap_fit(y, x, w, 2, s->title);
    attroff(ui_attr(UI_C_TITLE));
    /* the lesson gets what the rest leaves, two lines at least */
    int below = 1 + 1 + 1 + listed + 1 + 1 + np + detail;
    int avail = bottom - y + 1 - 1 - below;
    int lines = wrap_count(s->lesson, w);
    int lh = avail < 2 ? 2 : avail;
    lh = lh > lines ? lines : lh;
    P->lesson_lines = lines;
    P->lesson_rows = lh;
    if (P->lesson_top > lines - lh)
        P->lesson_top = lines - lh;
    if (P->lesson_top < 0)
        P->lesson_top = 0;
    if (P->lesson_top > 0)
        marker(y, x, w, false, P->lesson_top);
    y++;
    y += wrap_draw(y, x, w, P->lesson_top, lh, s->lesson);
    int rest = lines - P->lesson_top - lh;
    if (rest > 0)
        marker(y, x, w, true, rest);
    y++;
    draw_models(P, y++, x, w);
    workers_line(P, y++, x, w);
    if (listed) {
        draw_rows(P, PICK_WORKERS, wrows, nw, 0, bottom - y + 1, y, x, w);
        y += nw;
    }
    y++;
    /* the parameters: as many as fit, the one in focus among them */
    int ph = bottom - detail - y; /* rows under the heading */
    ph = ph < 1 ? 1 : ph;
    if (P->focus == PICK_PARAMS) {
        if (P->row < P->ptop)
            P->ptop = P->row;
        if (P->row >= P->ptop + ph)
            P->ptop = P->row - ph + 1;
    }
    if (P->ptop > np - ph)
        P->ptop = np - ph > 0 ? np - ph : 0;
    attron(ui_attr(UI_C_DIM));
    if (!np)
        paint_put(y, x, w, "parameters: none to set");
    else if (np > ph)
        paint_putf(y, x, w, "parameters %d-%d of %d%s", P->ptop + 1,
                   P->ptop + ph < np ? P->ptop + ph : np, np,
                   P->focus == PICK_PARAMS ? "" : " (p)");
    else
        paint_putf(y, x, w, "parameters%s", P->focus == PICK_PARAMS ? "" : " (p)");
    attroff(ui_attr(UI_C_DIM));
    y++;
    draw_rows(P, PICK_PARAMS, prows, np, P->ptop, ph, y, x, w);
    y += np - P->ptop < ph ? np - P->ptop : ph;
    if (detail) {
        const struct pick_row *r = NULL;
        if (P->focus == PICK_WORKERS && P->row < nw)
            r = &wrows[P->row];
        else if (P->focus == PICK_PARAMS && P->row < np)
            r = &prows[P->row];
        if (r) {
            char text[512];
            row_detail(P, r, text, sizeof text);
            y = bottom - DETAIL_ROWS + 1 > y ? bottom - DETAIL_ROWS + 1 : y;
            wrap_fit(y, x, w, bottom - y + 1, text);
        }
    }
}

/* Typing the worker count (whose Esc is the default), not a parameter. */
static bool editing_count(const struct pick *P)
{
    struct pick_row rows[PICK_ROWS_MAX];
    int n = P->focus == PICK_WORKERS ? (int)pick_rows(P, PICK_WORKERS, rows) : 0;
    return P->row < n && rows[P->row].kind == PICK_ROW_WORKERS;
}

/* The rows the key bar takes: a message takes as many as it needs, three at most. */
static int bar_rows(const struct pick *P, int W)
{
    int n = P->message[0] ? wrap_count(P->message, W - 2) : 1;
    return n > 3 ? 3 : (n < 1 ? 1 : n);
}

static void key_bar(const struct pick *P, int H, int W)
{
    const struct cv_scenario *s = P->n ? P->all[P->sel] : NULL;
    const char *text;
    if (P->message[0])
        text = P->message;
    else if (P->editing && editing_count(P))
        text = " type a count  Enter sets it  Esc the default";
    else if (P->editing)
        text = " type a value  Enter sets it (checked)  Esc cancels";
    else if (P->focus != PICK_LIST)
        text = " jk choose  Enter edit  Esc back  JK lesson  ? help  q quit";
    else if (s && pick_has_roles(s))
        text = " Enter run  jk choose  hl model  w roles  p params  JK lesson  ? help  q quit";
    else
        text = " Enter run  jk choose  hl model  w workers  p params  JK lesson  ? help  q quit";
    attron(ui_attr(UI_C_BAR));
    if (P->message[0]) {
        int n = bar_rows(P, W);
        for (int i = 0; i < n; i++)
            mvhline(H - n + i, 0, ' ', W);
        wrap_fit(H - n, 1, W - 2, n, text);
    } else {
        mvhline(H - 1, 0, ' ', W);
        paint_put(H - 1, 0, W, text);
    }
    attroff(ui_attr(UI_C_BAR));
}

static void help_box(int H, int W)
{
    static const char *const lines[] = {
        "j k, Up Down    choose a scenario, or a row of the list in focus",
        "h l, m          choose the model",
        "w               the workers: type a count (Enter keeps it, Esc the",
        "                default); a scenario of roles (pipeline's producers",
        "                and consumers): its roles, Enter on one edits its count",
        "p               parameters: Enter on one, type, Enter (range checked)",
        "Esc             leave the list in focus (while typing: cancel)",
        "J K             scroll the lesson a line (PgDn PgUp: a page)",
        "Enter           run the scenario in the live view (q there comes back)",
        "q               quit",
        "?               this help; any key closes it",
    };
    int n = (int)(sizeof lines / sizeof *lines);
    int by = (H - n - 2) / 2, bx = (W - 76) / 2 > 0 ? (W - 76) / 2 : 0;
    for (int i = -1; i <= n; i++)
        mvhline(by + 1 + i, bx, ' ', 76 < W ? 76 : W);
    attron(ui_attr(UI_C_TITLE));
    mvprintw(by, bx + 2, " help: picker keys ");
    attroff(ui_attr(UI_C_TITLE));
    for (int i = 0; i < n; i++)
        paint_put(by + 1 + i, bx + 2, W - bx - 2 < 74 ? W - bx - 2 : 74, lines[i]);
}

void pick_draw(struct pick *P)
{
    int W = COLS, H = LINES;
    erase();
    if (W < 60 || H < 16) {
        mvprintw(H / 2, 0, "terminal too small (need 60x16)");
        refresh();
        return;
    }
    attron(ui_attr(UI_C_BAR));
    mvhline(0, 0, ' ', W);
    mvprintw(0, 1, "concviz %s - pick a scenario", CONCVIZ_VERSION);
    attroff(ui_attr(UI_C_BAR));
    int lw = W * 2 / 5 > 48 ? 48 : W * 2 / 5;
    int bar = bar_rows(P, W), rows = H - 2 - bar;
    if (P->sel < P->top)
        P->top = P->sel;
    if (P->sel >= P->top + rows)
        P->top = P->sel - rows + 1;
    for (int r = 0; r < rows && P->top + r < (int)P->n; r++) {
        const struct cv_scenario *s = P->all[P->top + r];
        bool sel = P->top + r == P->sel;
        int a = P->focus != PICK_LIST ? A_BOLD : A_REVERSE;
        if (sel)
            attron(a);
        mvprintw(2 + r, 0, " %-18.18s", s->name);
        if (sel)
            attroff(a);
        attron(ui_attr(UI_C_DIM));
        put_cut(2 + r, 20, lw - 21, s->title);
        attroff(ui_attr(UI_C_DIM));
    }
    if (!P->n)
        mvprintw(2, 1, "no scenarios found (set CONCVIZ_SCENARIOS?)");
    else
        draw_scenario(P, lw + 1, W - lw - 2, H - 1 - bar);
    key_bar(P, H, W);
    if (P->help)
        help_box(H, W);
    refresh();
}
