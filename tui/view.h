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

/* A panel: drawn into its rectangle from a snapshot. It wants rows = clamp(H / per, min, max)
 * of a screen H rows high, or with per 0 all that the others leave; width: its share of the
 * screen's width in percent among the panels side by side, 0 for what they leave. key, if any,
 * gets the keys first while the panel has the focus, and returns what the loop should redo
 * (enum view_redo), 0 for a key it leaves to the key table. */
struct view;
struct view_panel {
    const char *name;
    void (*draw)(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
    int (*key)(struct view *V, int k);
    int per, min, max;
    int width;
};
extern const struct view_panel view_panels[NPANELS];
void layout(struct view_layout *out, int W, int H);

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

/* ---- panels.c, panel-lanes.c ---- */
/* A lane's name, "-" when there is no such lane. */
const char *panel_lane_name(const struct cv_snapshot *s, uint32_t lane);
/* The lanes shown, those whose name contains the filter: their indices in out (s->nlanes
 * room), and how many. */
size_t lanes_visible(const struct view *V, const struct cv_snapshot *s, uint32_t *out);
bool lanes_processes(const struct cv_snapshot *s);
void lanes_draw(struct view *V, const struct cv_snapshot *s, struct rect r, bool focused);
/* The lanes' keys: the selection down or up a lane (j k, Down Up) or ten (PageDown PageUp). */
int lanes_key(struct view *V, int k);
void lanes_legend(struct rect r);
/* Scrolls time a quarter of the lanes' width (dir -1 or 1; 0 fixes the scale only). */
void lanes_scroll_time(struct view *V, int dir);
void lanes_zoom(struct view *V, bool in);

/* ---- popups.c ---- */
/* The details of the selected lane (closed when no lane is selected). */
void popups_details(struct view *V, const struct cv_snapshot *s);
/* The open popup that asks for a value, if any. */
void popups_draw(struct view *V);
/* A key while such a popup is open. */
int popups_key(struct view *V, int k);

#endif
