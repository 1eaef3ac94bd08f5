/*
 * The live view: a source (a run, a replay) drawn as panels, with keys from a table. Its state,
 * one struct by concern, and what its parts share:
 *   live.c         the loop: the source polled, keys handled, frames drawn
 *   view.c         the state's life, messages
 *   view-draw.c    a frame: the header, the panels as laid out, the bars, what floats over them
 *   view-keys.c    the key tables, and the help drawn from them
 *   panels.c       the panels and layout(); panel-lanes.c the lanes and their time axis
 *   popups.c       the lane details, and the small windows that ask for a value
 *   compare.c      the compare view; compare-stats.c its figures (medians, spread, noise)
 */
#ifndef CONCVIZ_TUI_VIEW_H
#define CONCVIZ_TUI_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "compare.h"
#include "source.h"
#include "ui.h"

/* What a key asks of the loop (or-ed); any key at all redraws. */
enum view_redo {
    VIEW_REDRAW = 1,   /* draw again */
    VIEW_RELAYOUT = 2, /* the screen changed size: lay the panels out again */
    VIEW_RESTART = 4,  /* start the source again (from the request, which may have changed) */
};

enum view_panel_id { P_LANES, P_LOCKS, P_QUEUE, P_ORDER, P_RESULTS, NPANELS };

enum view_popup { POP_NONE, POP_MODEL, POP_WORKERS, POP_FILTER, POP_SEEK };

/* The smallest screen the view draws on. */
#define VIEW_MIN_W 60
#define VIEW_MIN_H 16

struct rect {
    int y, x, w, h;
};

/* Where everything goes on a screen of W x H (layout() in panels.c). */
struct view_layout {
    int W, H;
    bool small; /* too small to draw anything but a note */
    struct rect header, legend, controls;
    struct rect panel[NPANELS];
};

/* A panel: drawn into its rectangle from a snapshot. rows: the rows it needs to show all it has
 * (its title included) at a width; layout() gives it those it can. width: its share of the
 * screen's width in percent among the panels side by side, 0 for what they leave. key, if any,
 * gets the keys first while the panel has the focus, and returns what the loop should redo
 * (enum view_redo), 0 for a key it leaves to the key table. */
struct view;
struct view_panel {
    const char *name;
    void (*draw)(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
    int (*key)(struct view *V, int k);
    int (*rows)(const struct view *V, const struct cv_snapshot *s, int w);
    int width;
};
extern const struct view_panel view_panels[NPANELS];
/* The lanes take the rows they need up to this share of the rows under the header; the panels
 * under them share the rest (and when all fits, the lanes take the rows those leave). */
#define VIEW_LANES_SHARE 60
/* Lays the panels out on a screen of W x H for what snapshot s has to show (NULL: the frame
 * only, for a screen too small). */
void layout(struct view_layout *out, const struct view *V, const struct cv_snapshot *s, int W,
            int H);

/* What of a panel's n lines (or rows) it shows in `rows` rows from line *top (kept in range):
 * count lines from top, a row above them saying how many are hidden above when there are, and
 * one under them for those below. */
struct view_span {
    int top, count, above, below;
};
struct view_span panel_span(int n, int rows, int *top);
/* Draws at (y, x), in w columns, that n lines (lanes, tasks) of panel p are hidden below (down)
 * or above: "↓ 4 more: Tab, j", the keys to see them from the key table. */
void panel_more(const struct view *V, enum view_panel_id p, int y, int x, int w, int n, bool down);
/* Draws n lines in the rows of panel p under its title (r), from line *top: line() draws line
 * i in a rectangle a row high, with ctx; what is hidden is said above and below them. */
void panel_lines(const struct view *V, enum view_panel_id p, struct rect r, int n, int *top,
                 void (*line)(const struct view *V, const struct cv_snapshot *s, void *ctx, int i,
                              struct rect row),
                 const struct cv_snapshot *s, void *ctx);

/* The lanes' time axis. */
struct view_time {
    double speed;      /* animation speed of a live source: 1 = live, less lags behind it */
    double view_t;     /* run time at the right edge of the lanes, seconds */
    double last_frame; /* monotonic seconds of the last frame that moved view_t */
    uint64_t col_ns;   /* fixed ns per column, 0 = fit the whole run */
    bool follow;       /* the right edge follows view_t */
    double left_t;     /* else the time at the left edge */
};

/* The panels: focus, scrolling, the lane filter and selection, the last layout. */
struct view_panels {
    int focus;
    int scroll[NPANELS];
    int lane_top, sel;
    char filter[64];
    struct view_layout layout;
};

/* What floats over the panels, and the message bar. */
struct view_popups {
    bool help, details;
    enum view_popup popup;
    int sel;
    char input[64];
    char message[160];
    double message_until;
};

/* The UI's own CPU: time spent drawing, and its share of a core over the last second. */
struct view_cost {
    double draw_cpu, share;
    double share_t0, share_cpu0;
};

struct view {
    const struct ui_opts *o;
    struct ui_run_req *req;
    struct ui_source *src;           /* NULL: `fixed` is drawn (ui_frame_draw) */
    const struct cv_snapshot *fixed; /* a snapshot given, instead of the source's */
    /* the source as of the last frame */
    struct ui_source_info info;
    const struct cv_value *summary;
    unsigned failed;
    struct view_time time;
    struct view_panels panels;
    struct view_popups pop;
    struct view_cost cost;
    struct compare cmp;
    bool quit;
};

/* ---- view.c ---- */
void view_init(struct view *V, struct ui_run_req *req, const struct ui_opts *o);
/* What the source says of itself (a view without one: a run about to start). */
void view_info(const struct view *V, struct ui_source_info *out);
/* The source has started (again): the lanes follow it from its start, fitted. */
void view_started(struct view *V);
void view_say(struct view *V, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- view-draw.c ---- */
void view_draw(struct view *V);

/* ---- view-keys.c ---- */
/* Handles key k; what the loop should redo. */
int view_key(struct view *V, int k);
void view_help_draw(const struct view *V);
/* The key bar at the bottom. */
const char *view_controls(const struct view *V);
/* The keys that show what panel p hides below (down) or above, from the key table: "Tab, j" or,
 * when it has the focus, "j". */
void view_more_keys(const struct view *V, enum view_panel_id p, bool down, char *buf, size_t n);

/* ---- panels.c, panel-lanes.c ---- */
/* A lane's name, "-" when there is no such lane. */
const char *panel_lane_name(const struct cv_snapshot *s, uint32_t lane);
/* The lanes shown, those whose name contains the filter: their indices in out (s->nlanes
 * room), and how many. */
size_t lanes_visible(const struct view *V, const struct cv_snapshot *s, uint32_t *out);
bool lanes_processes(const struct cv_snapshot *s);
void lanes_draw(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
/* The rows the lanes need: the axis and a row per lane shown. */
int lanes_rows(const struct view *V, const struct cv_snapshot *s, int w);
/* The lanes' keys: the selection down or up a lane (j k, Down Up) or ten (PageDown PageUp). */
int lanes_key(struct view *V, int k);
void lanes_legend(struct rect r, const struct cv_snapshot *s);
/* Scrolls time a quarter of the lanes' width (dir -1 or 1; 0 fixes the scale only). */
void lanes_scroll_time(struct view *V, int dir);
void lanes_zoom(struct view *V, bool in);

/* ---- panel-results.c ---- */
int panel_order_rows(const struct view *V, const struct cv_snapshot *s, int w);
void panel_order_draw(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
int panel_results_rows(const struct view *V, const struct cv_snapshot *s, int w);
void panel_results_draw(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
/* ---- popups.c ---- */
/* The details of the selected lane (closed when no lane is selected). */
void popups_details(struct view *V, const struct cv_snapshot *s);
/* The open popup that asks for a value, if any. */
void popups_draw(struct view *V);
/* A key while such a popup is open. */
int popups_key(struct view *V, int k);

#endif
