/* Text and cells on the screen, for every part of the live view (paint.h). */
#include "paint.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ui.h"

void paint_dur(char *buf, size_t n, double s)
{
    if (s >= 100)
        snprintf(buf, n, "%.0fs", s);
    else if (s >= 1)
        snprintf(buf, n, "%.2fs", s);
    else if (s >= 1e-3)
        snprintf(buf, n, "%.1fms", s * 1e3);
    else if (s > 0)
        snprintf(buf, n, "%.0fus", s * 1e6);
    else
        snprintf(buf, n, "0");
}

/* Columns of the first len bytes of s (a column per code point). */
static int columns(const char *s, size_t len)
{
    int cols = 0;
    for (size_t i = 0; i < len; i++)
        cols += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cols;
}

/* Bytes of s that fill at most w columns. */
static size_t bytes_for(const char *s, int w)
{
    const char *p = s;
    for (int cols = 0; *p && cols < w; cols++) {
        p++;
        while ((*p & 0xC0) == 0x80)
            p++;
    }
    return (size_t)(p - s);
}

/* The token at s[i] (up to the next blank) holds a digit: a number, or a name with one. */
static bool numeric_at(const char *s, size_t i)
{
    for (; s[i] && s[i] != ' '; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

/* A field may end before s[i] (a token's start): never before a number, nor around an "=", and
 * in group mode only after two blanks. */
static bool may_cut(const char *s, size_t i, bool groups)
{
    if (i < 2 || s[i] == ' ' || s[i - 1] != ' ')
        return false;
    if (groups)
        return s[i - 2] == ' ';
    size_t b = i - 1;
    while (b > 0 && s[b] == ' ')
        b--;
    if (s[b] == ',' || s[b] == ';')
        return true; /* the end of a clause */
    if (numeric_at(s, i) || s[i] == '=' || (s[i - 2] == '=' && (i < 3 || s[i - 3] == ' ')))
        return false;
    return true;
}

/* A blank before the ellipsis after a number (s[0, end) ends with a digit), so that "max 10 …"
 * does not read as a number cut short. */
static int gap(const char *s, size_t end)
{
    return end > 0 && s[end - 1] >= '0' && s[end - 1] <= '9';
}

const char *paint_ellipsis(void)
{
    return ui_ascii() ? "..." : "…";
}

int paint_fit(char *out, size_t n, const char *s, int w, bool groups)
{
    size_t len = strlen(s);
    if (!n)
        return 0;
    out[0] = 0;
    if (w <= 0)
        return 0;
    size_t text = len; /* trailing blanks may go */
    while (text > 0 && s[text - 1] == ' ')
        text--;
    if (columns(s, text) <= w) {
        snprintf(out, n, "%.*s", (int)(columns(s, len) <= w ? len : text), s);
        return columns(out, strlen(out));
    }
    const char *ell = paint_ellipsis();
    int ew = columns(ell, strlen(ell));
    if (w < ew)
        return 0;
    /* the longest run of whole fields that fits with the ellipsis after it */
    size_t keep = 0, after_comma = 0; /* a cut after a comma is kept over one within a clause */
    for (size_t i = 1; i < len; i++) {
        if (!may_cut(s, i, groups))
            continue;
        size_t end = i;
        while (end > 0 && s[end - 1] == ' ')
            end--;
        bool comma = end > 0 && strchr(",;", s[end - 1]);
        end -= comma;
        if (!end)
            continue;
        if (columns(s, end) + gap(s, end) + ew > w)
            break;
        keep = end;
        after_comma = comma ? end : after_comma;
    }
    if (after_comma)
        keep = after_comma;
    if (!keep && groups)
        return paint_fit(out, n, s, w, false);
    if (!keep) {
        /* no field fits whole: a word is cut with the ellipsis, a number never */
        size_t lead = strspn(s, " "), word = lead + strcspn(s + lead, " ");
        keep = numeric_at(s, lead) ? 0 : bytes_for(s, w - ew);
        if (keep > word)
            keep = word;
        while (keep > 0 && s[keep - 1] == ' ')
            keep--;
    }
    snprintf(out, n, "%.*s%s%s", (int)keep, s, gap(s, keep) ? " " : "", ell);
    return columns(out, strlen(out));
}

/* Prints at (y, x) at most `w` columns of s, fitted by paint_fit. */
static int put(int y, int x, int w, const char *s, bool groups)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    char buf[4096];
    int cols = paint_fit(buf, sizeof buf, s, w, groups);
    mvaddnstr(y, x, buf, (int)bytes_for(buf, cols));
    return cols;
}

int paint_put(int y, int x, int w, const char *s)
{
    return put(y, x, w, s, false);
}

int paint_put_groups(int y, int x, int w, const char *s)
{
    return put(y, x, w, s, true);
}

int paint_putf(int y, int x, int w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return paint_put(y, x, w, buf);
}

/* From the lane-state table (concviz/collector.h). */
const char paint_state_letter[CV_LANE__COUNT] = {
#define CV_X_LETTER(id, name, letter, ...) [CV_LANE_##id] = letter,
    CV_LANE_STATES(CV_X_LETTER)
#undef CV_X_LETTER
};

const char *const paint_state_label[CV_LANE__COUNT] = {
#define CV_X_LABEL(id, name, letter, label, ...) [CV_LANE_##id] = label,
    CV_LANE_STATES(CV_X_LABEL)
#undef CV_X_LABEL
};

/* One cell of a lane-state run: coloured blanks, or letters without colour. */
void paint_cells(int y, int x, int n, unsigned st)
{
    if (n <= 0 || st == CV_LANE_OFF)
        return;
    char ch = ui_has_color() ? (st == CV_LANE_IDLE ? '.' : (st == CV_LANE_DEAD ? 'x' : ' '))
                             : paint_state_letter[st];
    /* a line of one character: no per-character multibyte decoding as with addnstr */
    mvhline(y, x, (chtype)(unsigned char)ch | (chtype)ui_attr_state(st), n);
}

void paint_fill(int y, int x, int w, int attr)
{
    attron(attr);
    mvhline(y, x, ' ', w);
    attroff(attr);
}

void paint_title(int y, int x, int w, const char *title, bool focused)
{
    int a = focused ? ui_attr(UI_C_FOCUS) : ui_attr(UI_C_TITLE);
    attron(a);
    paint_putf(y, x, w, " %s ", title);
    attroff(a);
}
/* A horizontal line: box drawing, or '-' with --ascii. */
void paint_rule(int y, int x, int w)
{
    move(y, x);
    for (int i = 0; i < w && x + i < COLS; i++)
        addstr(ui_ascii() ? "-" : "─");
}

/* A centred window with a frame; returns its inner origin. */
void paint_popup(int w, int h, int *oy, int *ox, const char *title)
{
    if (w > COLS - 2)
        w = COLS - 2;
    if (h > LINES - 2)
        h = LINES - 2;
    int y = (LINES - h) / 2, x = (COLS - w) / 2;
    for (int r = 0; r < h; r++)
        mvhline(y + r, x, ' ', w);
    attron(ui_attr(UI_C_TITLE));
    paint_rule(y, x, w);
    paint_rule(y + h - 1, x, w);
    paint_putf(y, x + 2, w - 4, " %s ", title);
    attroff(ui_attr(UI_C_TITLE));
    *oy = y + 1;
    *ox = x + 2;
}
