/* Text and cells on the screen: what every part of the live view draws with (ncurses' stdscr,
 * which screen.c has set up). */
#ifndef CONCVIZ_TUI_PAINT_H
#define CONCVIZ_TUI_PAINT_H

#include <stdbool.h>
#include <stddef.h>

#include "concviz/collector.h"

/* A duration as a few characters: "1.25s", "3.4ms", "12us", "0". */
void paint_dur(char *buf, size_t n, double s);
/* Prints at (y, x) at most `w` columns of s (ASCII or UTF-8 counted per code point); the
 * columns printed. */
int paint_put(int y, int x, int w, const char *s);
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
