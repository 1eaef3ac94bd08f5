/*
 * Keys: the focused panel's own first (struct view_panel), then a table for each kind of source,
 * one binding a line of the help. An action gets the key (a binding may name several) and
 * returns what the loop should redo (view.h). The help popup and the key bar are drawn from the
 * table the source calls for.
 */
#include "view.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "paint.h"

struct binding {
    int keys[7];      /* 0 ends the list */
    const char *name; /* the keys as the help names them; NULL: not in the help */
    const char *help;
    int (*action)(struct view *V, int k); /* NULL: the panels' keys, here for the help */
};

struct keymap {
    const struct binding *b;
    size_t n;
    const char *controls; /* the key bar */
};

/* ---------------------------------------------------------------- any source */

static int act_quit(struct view *V, int k)
{
    (void)k;
    V->quit = true;
    return VIEW_REDRAW;
}

static int act_time(struct view *V, int k)
{
    struct view_time *T = &V->time;
    if (k == 'h' || k == KEY_LEFT) {
        lanes_scroll_time(V, -1);
    } else if (k == 'l' || k == KEY_RIGHT) {
        lanes_scroll_time(V, 1);
    } else if (k == KEY_HOME) {
        lanes_scroll_time(V, 0);
        T->follow = false;
        T->left_t = 0;
    } else {
        T->follow = true;
    }
    return VIEW_REDRAW;
}

static int act_zoom(struct view *V, int k)
{
    if (k == '0') {
        V->time.col_ns = 0;
        V->time.follow = true;
    } else {
        lanes_zoom(V, k == 'z');
    }
    return VIEW_REDRAW;
}

static int act_focus(struct view *V, int k)
{
    struct view_panels *P = &V->panels;
    P->focus = (P->focus + (k == KEY_BTAB ? NPANELS - 1 : 1)) % NPANELS;
    return VIEW_REDRAW;
}

static int act_details(struct view *V, int k)
{
    (void)k;
    V->pop.details = true;
    V->panels.focus = P_LANES;
    return VIEW_REDRAW;
}

static int act_help(struct view *V, int k)
{
    (void)k;
    V->pop.help = true;
    return VIEW_REDRAW;
}

static int act_filter(struct view *V, int k)
{
    (void)k;
    V->pop.popup = POP_FILTER;
    snprintf(V->pop.input, sizeof V->pop.input, "%s", V->panels.filter);
    return VIEW_REDRAW;
}

/* Esc: closes the details; else clears the lane filter, if there is one (all the lanes again,
 * from the first). */
static int act_esc(struct view *V, int k)
{
    (void)k;
    if (V->pop.details) {
        V->pop.details = false;
    } else if (V->panels.filter[0]) {
        V->panels.filter[0] = 0;
        V->panels.sel = V->panels.lane_top = 0;
        view_say(V, "%s", "lane filter cleared: every lane again");
    }
    return VIEW_REDRAW;
}

/* ---------------------------------------------------------------- a live source */

/* The view pauses; the run goes on. */
static int act_pause(struct view *V, int k)
{
    (void)k;
    V->src->ops->pause(V->src, !V->info.paused);
    return VIEW_REDRAW;
}

/* Animation speed: slow motion lags behind the run, never ahead of it. */
static int act_slow(struct view *V, int k)
{
    if (k == '+' || k == '=')
        V->time.speed = fmin(1, V->time.speed * 2);
    else
        V->time.speed = fmax(1.0 / 64, V->time.speed / 2);
    return VIEW_REDRAW;
}

static int act_rerun(struct view *V, int k)
{
    (void)k;
    view_say(V, "%s", "run again");
    return VIEW_RESTART;
}

static int act_pick(struct view *V, int k)
{
    const struct cv_workload *wl = V->req->scenario->workload;
    if (k == 'w' && wl && wl->shape == CV_SHAPE_ROLES) {
        /* its workers are its roles, counted by parameters: one number cannot say them */
        char names[96] = "", sets[128] = "";
        size_t ln = 0, ls = 0;
        for (const struct cv_role_def *r = wl->roles; r && r->name; r++) {
            if (ln < sizeof names)
                ln += (size_t)snprintf(names + ln, sizeof names - ln, "%s%s", ln ? ", " : "",
                                       r->name);
            if (r->param && ls < sizeof sets)
                ls += (size_t)snprintf(sets + ls, sizeof sets - ls, " --set %s=N", r->param);
        }
        view_say(V, "%s runs one worker per role (%s): set their counts in the picker%s%s",
                 V->req->scenario->name, names, ls ? ", or with" : "", sets);
        return VIEW_REDRAW;
    }
    if (k == 'm') {
        V->pop.popup = POP_MODEL;
        V->pop.sel = 0;
    } else {
        V->pop.popup = POP_WORKERS;
        V->pop.input[0] = 0;
    }
    return VIEW_REDRAW;
}

static int act_compare(struct view *V, int k)
{
    (void)k;
    return compare_start(&V->cmp, V->req) ? VIEW_RESTART : VIEW_REDRAW;
}

/* Runs of each model in a comparison: 1, 3, 5, 7; the one under way keeps its own. */
static int act_runs(struct view *V, int k)
{
    (void)k;
    int n = compare_cycle_runs(&V->cmp);
    view_say(V, "compare: %d run%s of each model%s", n, n == 1 ? "" : "s",
             V->cmp.on ? " from the next comparison (this one goes on)" : "");
    return VIEW_REDRAW;
}

/* ---------------------------------------------------------------- a source that can seek */

static int act_play(struct view *V, int k)
{
    (void)k;
    struct ui_source *src = V->src;
    if (V->info.elapsed >= V->info.end) { /* at the end: play again */
        src->ops->seek(src, 0);
        src->ops->pause(src, false);
    } else {
        src->ops->pause(src, !V->info.paused);
    }
    return VIEW_REDRAW;
}

static int act_speed(struct view *V, int k)
{
    double sp = V->src->ops->set_speed(V->src, k == '+' || k == '=' ? 1 : -1);
    view_say(V, "speed %gx", sp);
    return VIEW_REDRAW;
}

/* One frame back or forward, and pause. */
static int act_frame(struct view *V, int k)
{
    double frame = V->info.speed / (V->o->fps ? V->o->fps : 30);
    V->src->ops->pause(V->src, true);
    V->src->ops->seek(V->src, V->info.elapsed + (k == '.' ? frame : -frame));
    return VIEW_REDRAW;
}

static int act_skip(struct view *V, int k)
{
    V->src->ops->seek(V->src, V->info.elapsed + (k == '>' ? 0.1 : -0.1) * V->info.end);
    return VIEW_REDRAW;
}

static int act_ends(struct view *V, int k)
{
    V->src->ops->seek(V->src, k == '[' ? 0 : V->info.end);
    return VIEW_REDRAW;
}

static int act_goto(struct view *V, int k)
{
    (void)k;
    V->pop.popup = POP_SEEK;
    V->pop.input[0] = 0;
    return VIEW_REDRAW;
}

static int act_from_start(struct view *V, int k)
{
    (void)k;
    V->src->ops->seek(V->src, 0);
    V->src->ops->pause(V->src, false);
    view_say(V, "%s", "from the start");
    return VIEW_REDRAW;
}

static int act_recorded(struct view *V, int k)
{
    (void)k;
    view_say(V, "%s", "a replay shows the run as recorded: run the scenario to change it");
    return VIEW_REDRAW;
}

static int act_traced(struct view *V, int k)
{
    (void)k;
    view_say(V, "%s", "a trace shows the program as it runs: it has no model or workers to change");
    return VIEW_REDRAW;
}

/* ---------------------------------------------------------------- the tables */

#define TIME_KEYS                                        \
    {                                                    \
        'h', 'l', KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END \
    }
#define STEP_KEYS                  \
    {                              \
        'j', 'k', KEY_DOWN, KEY_UP \
    }
#define ZOOM_KEYS     \
    {                 \
        'z', 'Z', '0' \
    }
#define ENTER_KEYS            \
    {                         \
        '\n', '\r', KEY_ENTER \
    }
#define HELP_KEYS     \
    {                 \
        '?', KEY_F(1) \
    }

static const struct binding live_keys[] = {
    {{' '}, "space", "pause / resume the view (the run goes on)", act_pause},
    {{'+', '=', '-', '_'}, "+ / -", "animation speed (slow motion lags behind the run)", act_slow},
    {TIME_KEYS, "h l, Left Right", "scroll time; Home start, End follow now", act_time},
    {STEP_KEYS, "j k, Up Down", "move through lanes (or the focused panel)", NULL},
    {ZOOM_KEYS, "z / Z", "zoom in / out; 0 fits the whole run", act_zoom},
    {{'/'}, "/", "filter lanes by name (Esc clears it, also later)", act_filter},
    {{'\t', KEY_BTAB}, "Tab", "next panel: lanes, locks, queue, completion, results", act_focus},
    {ENTER_KEYS, "Enter", "details of the selected lane", act_details},
    {{'r'}, "r", "run again", act_rerun},
    {{'m', 'w'}, "m / w", "pick the model / the worker count, and rerun", act_pick},
    {{'c'},
     "c",
     "compare: every model in turn (threads also under the GIL), then a table",
     act_compare},
    {{'n'},
     "n",
     "compare: runs of each model, 1 3 5 or 7 (3 at first); the median is shown",
     act_runs},
    {HELP_KEYS, "?", "this help; any key closes it", act_help},
    {{'q', 'Q'}, "q", "quit (the summary is printed)", act_quit},
    {{KEY_NPAGE, KEY_PPAGE}, NULL, NULL, lanes_key}, /* whichever panel has the focus */
    {{27}, NULL, NULL, act_esc},
};

/* A traced program's: what runs is the program, with no model, workers or compare */
static const struct binding trace_keys[] = {
    {{' '}, "space", "pause / resume the view (the program goes on)", act_pause},
    {{'+', '=', '-', '_'}, "+ / -", "animation speed (slow motion lags behind the run)", act_slow},
    {TIME_KEYS, "h l, Left Right", "scroll time; Home start, End follow now", act_time},
    {STEP_KEYS, "j k, Up Down", "move through lanes (or the focused panel)", NULL},
    {ZOOM_KEYS, "z / Z", "zoom in / out; 0 fits the whole run", act_zoom},
    {{'/'}, "/", "filter lanes by name (Esc clears it, also later)", act_filter},
    {{'\t', KEY_BTAB}, "Tab", "next panel: lanes, locks, queue, completion, results", act_focus},
    {ENTER_KEYS, "Enter", "details of the selected lane", act_details},
    {{'r'}, "r", "run the program again", act_rerun},
    {HELP_KEYS, "?", "this help; any key closes it", act_help},
    {{'q', 'Q'}, "q", "quit (the program is stopped; the summary is printed)", act_quit},
    {{'m', 'w', 'c', 'n'}, NULL, NULL, act_traced},
    {{KEY_NPAGE, KEY_PPAGE}, NULL, NULL, lanes_key}, /* whichever panel has the focus */
    {{27}, NULL, NULL, act_esc},
};

static const struct binding replay_keys[] = {
    {{' '}, "space", "play / pause (at the end: play again)", act_play},
    {{'+', '=', '-', '_'}, "+ / -", "speed: 0.1x 0.25x 0.5x 1x 2x 5x 10x 25x 50x 100x", act_speed},
    {{',', '.'}, ", / .", "step back / forward one frame (and pause)", act_frame},
    {{'[', ']'}, "[ / ]", "go to the start / the end", act_ends},
    {{'<', '>'}, "< / >", "skip back / forward a tenth of the recording", act_skip},
    {{'g'}, "g", "go to a time: seconds (1.5) or a share (40%)", act_goto},
    {TIME_KEYS, "h l, Left Right", "scroll time; Home start, End follow", act_time},
    {STEP_KEYS, "j k, Up Down", "move through lanes (or the focused panel)", NULL},
    {ZOOM_KEYS, "z / Z", "zoom in / out; 0 fits the whole run", act_zoom},
    {{'/'}, "/", "filter lanes by name (Esc clears it, also later)", act_filter},
    {{'\t', KEY_BTAB}, "Tab", "next panel: lanes, locks, queue, completion, results", act_focus},
    {ENTER_KEYS, "Enter", "details of the selected lane", act_details},
    {HELP_KEYS, "?", "this help; any key closes it", act_help},
    {{'q', 'Q'}, "q", "quit", act_quit},
    {{'r'}, NULL, NULL, act_from_start},
    {{'m', 'w', 'c', 'n'}, NULL, NULL, act_recorded},
    {{KEY_NPAGE, KEY_PPAGE}, NULL, NULL, lanes_key}, /* whichever panel has the focus */
    {{27}, NULL, NULL, act_esc},
};

static const struct keymap live_map = {
    live_keys, sizeof live_keys / sizeof *live_keys,
    " q quit  spc pause  +- speed  hl time  jk lanes  zZ zoom  / filter  r rerun  m model  w "
    "workers  cn compare"};

static const struct keymap trace_map = {
    trace_keys, sizeof trace_keys / sizeof *trace_keys,
    " q quit  spc pause  +- speed  hl time  jk lanes  zZ zoom  / filter  Enter details  r rerun"};

static const struct keymap replay_map = {
    replay_keys, sizeof replay_keys / sizeof *replay_keys,
    " q quit  spc play  +- speed  ,. step  [] start/end  <> skip  g go to  hl time  zZ zoom"};

/* A source that can seek is played back; any other runs now: a run, or a traced program. */
static const struct keymap *keymap(const struct view *V)
{
    if (V->info.seekable)
        return &replay_map;
    return V->info.model && !strcmp(V->info.model, "trace") ? &trace_map : &live_map;
}

const char *view_controls(const struct view *V)
{
    return keymap(V)->controls;
}

/* The name the key table gives to the binding of key k, up to its first blank and then the
 * word'th word (0: the first). */
static void binding_word(const struct keymap *m, int k, int word, char *buf, size_t n)
{
    buf[0] = 0;
    for (size_t i = 0; i < m->n; i++)
        for (const int *key = m->b[i].keys; *key && m->b[i].name; key++)
            if (*key == k) {
                const char *p = m->b[i].name;
                for (; word > 0 && strchr(p, ' '); word--)
                    p = strchr(p, ' ') + 1;
                snprintf(buf, n, "%.*s", (int)strcspn(p, " ,"), p);
                return;
            }
}

void view_more_keys(const struct view *V, enum view_panel_id p, bool down, char *buf, size_t n)
{
    const struct keymap *m = keymap(V);
    char focus[16], step[16];
    binding_word(m, '\t', 0, focus, sizeof focus);
    binding_word(m, down ? 'j' : 'k', down ? 0 : 1, step, sizeof step);
    if (V->panels.focus == (int)p || !focus[0])
        snprintf(buf, n, "%s", step);
    else
        snprintf(buf, n, "%s, %s", focus, step);
}

int view_key(struct view *V, int k)
{
    view_info(V, &V->info);
    if (k == KEY_RESIZE) {
        clearok(stdscr, TRUE);
        return VIEW_RELAYOUT;
    }
    if (V->pop.popup)
        return popups_key(V, k);
    if (V->pop.help || (V->cmp.table && k != 'q')) {
        V->pop.help = false;
        compare_close(&V->cmp);
        if (k != 'q')
            return VIEW_REDRAW;
    }
    if (V->pop.details && (k == 27 || k == '\n' || k == '\r' || k == KEY_ENTER)) {
        V->pop.details = false;
        return VIEW_REDRAW;
    }
    const struct view_panel *p = &view_panels[V->panels.focus];
    int redo = p->key ? p->key(V, k) : 0;
    if (redo)
        return redo;
    const struct keymap *m = keymap(V);
    for (size_t i = 0; i < m->n; i++)
        for (const int *key = m->b[i].keys; *key; key++)
            if (*key == k)
                return m->b[i].action ? m->b[i].action(V, k) : VIEW_REDRAW;
    return VIEW_REDRAW;
}

void view_help_draw(const struct view *V)
{
    const struct keymap *m = keymap(V);
    int nkeys = 0;
    for (size_t i = 0; i < m->n; i++)
        nkeys += m->b[i].name != NULL;
    /* the colours in two columns when one would not fit the screen's height */
    int ncol = nkeys + CV_LANE_OFF + 6 > LINES - 2 ? 2 : 1;
    int nrows = (CV_LANE_OFF + ncol - 1) / ncol;
    int oy, ox;
    paint_popup(72, nkeys + nrows + 6, &oy, &ox, "help: keys and colours");
    int row = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->b[i].name)
            continue;
        attron(A_BOLD);
        paint_putf(oy + row, ox, 18, "%s", m->b[i].name);
        attroff(A_BOLD);
        paint_put(oy + row, ox + 18, COLS - ox - 20, m->b[i].help);
        row++;
    }
    static const char *const meaning[CV_LANE__COUNT] = {
#define CV_X_MEANING(id, name, letter, label, svg_label, fg, bg, bg256, fill, text, meaning) \
    [CV_LANE_##id] = meaning,
        CV_LANE_STATES(CV_X_MEANING)
#undef CV_X_MEANING
    };
    int y = oy + nkeys + 1;
    paint_put(y++, ox, 40, "colours (letters without colour):");
    for (unsigned st = 0; st < CV_LANE_OFF; st++) {
        int cy = y + (int)st % nrows, cx = ox + (int)st / nrows * 35;
        int w = ncol == 1 ? COLS - ox - 6 : 30;
        if (ui_has_color())
            paint_cells(cy, cx, 3, st);
        paint_putf(cy, cx + 4, w, "%c  %s", paint_state_letter[st], meaning[st]);
    }
}
