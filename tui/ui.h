/* The terminal UI: screen set-up and teardown, the live view, the picker and scripted mode. */
#ifndef CONCVIZ_UI_H
#define CONCVIZ_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "concviz/collector.h"
#include "concviz/run.h"
#include "concviz/concviz.h"
#include "concviz/record.h"
#include "concviz/scenario.h"

struct ui_opts {
    bool color;         /* false with --no-color or NO_COLOR */
    bool ascii;         /* --ascii: no glyphs outside ASCII */
    unsigned fps;       /* frames per second, default 30 */
    int vw, vh;         /* --size: a virtual screen of vw x vh, no terminal; 0 = the terminal */
    const char *script; /* --script FILE, or NULL */
};

/* The terminal UI's own options, the same for run and replay: getopt long options with codes
 * from UI_OPT_FIRST, and their parsing (ui_opts.c). */
enum {
    UI_OPT_FIRST = 512,
    UI_OPT_FPS = UI_OPT_FIRST,
    UI_OPT_NOCOLOR,
    UI_OPT_ASCII,
    UI_OPT_SCRIPT,
    UI_OPT_SIZE
};
#define UI_LONG_OPTIONS                                                                            \
    {"fps", required_argument, NULL, UI_OPT_FPS}, {"no-color", no_argument, NULL, UI_OPT_NOCOLOR}, \
        {"no-colour", no_argument, NULL, UI_OPT_NOCOLOR},                                          \
        {"ascii", no_argument, NULL, UI_OPT_ASCII},                                                \
        {"script", required_argument, NULL, UI_OPT_SCRIPT},                                        \
    {                                                                                              \
        "size", required_argument, NULL, UI_OPT_SIZE                                               \
    }
/* The defaults: colour unless NO_COLOR is set, 30 fps. */
struct ui_opts ui_opts_default(void);
/* Handles getopt code c when it is one of UI_LONG_OPTIONS: 0, or an exit code with the error
 * printed; -1 when c is not one of them. */
int ui_opt(int c, const char *arg, struct ui_opts *o);
/* The end of a command's getopt switch: ui_opt, and any other code an unknown option, named
 * (tui_bad_option). 0, or an exit code with the error printed. */
int ui_opt_or_bad(int c, const char *arg, char **argv, const char *shorts, const char *cmd,
                  struct ui_opts *o);
/* The checks once every option is in: --size needs --script, --script goes with neither
 * --headless nor --json. 0, or an exit code with the error printed. */
int ui_opts_check(const struct ui_opts *o, bool headless, bool json);

/* ---- screen.c: the only code that sets the terminal up and puts it back ---- */

/* Opens the screen (the terminal, or a virtual one). Returns 0, or -1 with *cause set. */
int ui_screen_open(const struct ui_opts *o, char **cause);
/* Restores the terminal and prints what was written to stderr meanwhile. Idempotent. */
void ui_screen_close(void);
bool ui_screen_is_open(void);
bool ui_screen_virtual(void);
/* Resizes a virtual screen (scripted `resize WxH`). */
void ui_screen_resize(int w, int h);
/* The screen as text, one line per row, trailing blanks trimmed; caller frees. */
char *ui_screen_text(void);
/* The screen with its attributes, for golden screens (a script's `dump`): a title line, "-- text"
 * and ui_screen_text, "-- attributes" and one line per row of one letter per cell (each distinct
 * colour pair and set of attributes its own letter, by first appearance; '.' a plain cell;
 * trailing plain cells left out), then "-- legend": each letter's pair, its colours and its
 * attributes. Caller frees. */
char *ui_screen_dump(void);
/* A key from the terminal within timeout_ms (-1 = none; a virtual screen has none). */
int ui_screen_key(int timeout_ms);
/* The stop signal seen while the screen is open: SIGINT, SIGTERM or SIGHUP (0 = none); any
 * thread may ask. */
int ui_screen_signal(void);

/* Colours: one pair per lane state, and a few for text. */
enum ui_color {
    UI_C_TITLE = CV_LANE__COUNT + 1,
    UI_C_DIM,
    UI_C_BAR,
    UI_C_GOOD,
    UI_C_BAD,
    UI_C_WARN,
    UI_C_FOCUS,
};
/* The attribute of a lane-state cell, or of one of the ui_color pairs. */
int ui_attr_state(unsigned state);
int ui_attr(enum ui_color c);
bool ui_has_color(void);
bool ui_ascii(void);

/* ---- keys.c: names of keys, for scripts and the help ---- */

/* A key from its name ("q", "space", "Enter", "Tab", "Up", "C-c", "F1", ...); -1 if unknown. */
int ui_key_from_name(const char *name);

/* ---- script.c: scripted mode ---- */

enum ui_step_kind {
    UI_STEP_KEY,
    UI_STEP_WAIT,
    UI_STEP_WAIT_DONE,
    UI_STEP_WAIT_TEXT,
    UI_STEP_SNAPSHOT,
    UI_STEP_EXPECT,
    UI_STEP_RESIZE
};

struct ui_step {
    enum ui_step_kind kind;
    int key;        /* KEY */
    double seconds; /* WAIT; WAIT_TEXT's time limit */
    char *text;     /* SNAPSHOT path, EXPECT / WAIT_TEXT text */
    bool attrs;     /* SNAPSHOT: with the attributes (ui_screen_dump; a script's `dump`) */
    int w, h;       /* RESIZE */
    unsigned line;
};

struct ui_script {
    char *path;
    struct ui_step *steps;
    size_t n, at;
    double wait_until; /* a WAIT in progress: monotonic seconds, 0 = none */
    bool failed;
};

/* Reads a script file and parses it (ui_script_parse); on error returns NULL with *cause
 * "file:line: message", or "file: why" when it cannot be read. */
struct ui_script *ui_script_load(const char *path, char **cause);
/* Parses len bytes of script text; `name` stands for the file in messages. */
struct ui_script *ui_script_parse(const char *name, const char *text, size_t len, char **cause);
void ui_script_free(struct ui_script *sc);

/* What a view asks the script for each turn. */
struct ui_script_io {
    bool run_done; /* the run has ended */
    int key;       /* out: a key to handle now, or -1 */
    bool redraw;   /* out: draw before the next step */
    bool finished; /* out: no steps left */
};
/* Advances the script (snapshots and expectations read the screen as drawn). Returns false
 * when a step failed (the error is printed once the screen is closed). */
bool ui_script_step(struct ui_script *sc, struct ui_script_io *io);

/* ---- live.c and picker.c ---- */

struct ui_run_req {
    struct cv_scenario *scenario; /* owned by the caller */
    struct cv_run_config cfg;
    bool check;
    bool from_picker; /* q goes back to the picker: the screen stays, no summary printed */
    bool leave;       /* out (from_picker): leave the picker too (signal, script over) */
    struct cv_recording *replay; /* replay this recording instead of running (owned by caller) */
    const char *replay_name;     /* its file name, for the header */
    double replay_speed;         /* its first speed (0 = 1x) */
    bool replay_paused;          /* start paused */
};

/* Runs the live view until q (or the end of the script). Returns an exit code. */
int ui_live(struct ui_run_req *req, const struct ui_opts *o, struct ui_script *sc);
/* The scenario picker; runs what is picked. Returns an exit code. */
int ui_picker(const struct ui_opts *o, struct ui_script *sc);

/* One frame of the live view drawn from a given snapshot, without a run (benchmarks): the lanes'
 * right edge at view_t seconds, col_ns per column (0 = fit the whole run). */
struct ui_frame;
struct ui_frame *ui_frame_new(struct ui_run_req *req, const struct ui_opts *o);
void ui_frame_draw(struct ui_frame *f, const struct cv_snapshot *s, double view_t, uint64_t col_ns);
/* Sets the lane filter (the view's `/`): only lanes whose name contains text (NULL or "" = all). */
void ui_frame_filter(struct ui_frame *f, const char *text);
void ui_frame_free(struct ui_frame *f);

/* Monotonic seconds. */
double ui_now(void);

#endif
