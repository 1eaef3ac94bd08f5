/* Text and cells on the screen, for every part of the live view (paint.h). */
#include "paint.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>

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

/* Prints at (y, x) at most `w` columns of s (ASCII or UTF-8 counted per code point). */
int paint_put(int y, int x, int w, const char *s)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    int cols = 0;
    const char *p = s;
    while (*p && cols < w) {
        const char *q = p + 1;
        while ((*q & 0xC0) == 0x80)
            q++;
        p = q;
        cols++;
    }
    mvaddnstr(y, x, s, (int)(p - s));
    return cols;
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
