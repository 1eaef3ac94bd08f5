/* Text and cells on the screen: what every part of the live view draws with (ncurses' stdscr,
 * which screen.c has set up). */
#ifndef CONCVIZ_TUI_PAINT_H
#define CONCVIZ_TUI_PAINT_H

#include <stdbool.h>
#include <stddef.h>

#include "concviz/collector.h"

/* A duration as a few characters: "1.25s", "3.4ms", "12us", "0". */
void paint_dur(char *buf, size_t n, double s);
/* s fitted into w columns (ASCII or UTF-8 counted per code point) in out (n bytes): s itself when
 * it fits, else the whole fields that fit and an ellipsis. A field is a word ("key value" pairs
 * kept together: nothing ends before a token with a digit in it, nor around an "="); in group
 * mode, the text between two blanks ("  "). A number is never cut: when not even the first
 * field fits, a word is cut before the ellipsis, a number left out. The columns of out. */
int paint_fit(char *out, size_t n, const char *s, int w, bool groups);
/* The ellipsis paint_fit ends with: one glyph, or "..." with --ascii. */
const char *paint_ellipsis(void);
/* Prints at (y, x) s fitted into at most `w` columns (paint_fit); the columns printed. */
int paint_put(int y, int x, int w, const char *s);
/* The same, cutting only between groups of words two blanks apart (a header, the key bar). */
int paint_put_groups(int y, int x, int w, const char *s);
int paint_putf(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* n cells of lane state st: coloured blanks, or its letter without colour. */
void paint_cells(int y, int x, int n, unsigned st);
/* A row of blanks in attribute attr. */
void paint_fill(int y, int x, int w, int attr);
/* A panel's title, highlighted when it has the focus. */
void paint_title(int y, int x, int w, const char *title, bool focused);
/* A horizontal line: box drawing, or '-' with --ascii. */
void paint_rule(int y, int x, int w);
/* A centred window with a frame; its inner origin in *oy, *ox. */
void paint_popup(int w, int h, int *oy, int *ox, const char *title);

/* From the lane-state table (concviz/collector.h): each state's letter and label. */
extern const char paint_state_letter[CV_LANE__COUNT];
extern const char *const paint_state_label[CV_LANE__COUNT];

#endif
