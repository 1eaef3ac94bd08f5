/*
 * The scenario picker, the start screen of `concviz` on a terminal: scenarios on the left, the
 * selected one's lesson, models and parameters on the right; choose the model (m or Left/Right),
 * the worker count (w) and parameters (p, then Enter on one to edit it); Enter runs it in the
 * live view, and q there comes back here.
 */
#include "ui.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

struct pick {
    struct cv_scenario **all;
    size_t n;
    int sel, top;
    int model[256];   /* chosen model per scenario (index into CV_MODELS) */
    unsigned workers; /* 0 = the scenario's */
    bool params;      /* the parameter list has the focus */
    int psel;
    bool editing; /* typing a value (a parameter, or the worker count when wsel) */
    bool wedit;
    char input[128];
    char message[200];
    bool help;
};

static void load_all(struct pick *P)
{
    char **paths = cv_scenario_list(tui_scenario_dirs());
    for (char **p = paths; *p; p++) {
        struct cv_scenario *s = NULL;
        char *cause = NULL;
        if (cv_scenario_load(*p, &s, &cause) != CV_OK) {
            fprintf(stderr, "concviz: %s\n", cause); /* shown once the screen closes */
            free(cause);
            continue;
        }
        if (P->n < 256) {
            P->model[P->n] = (int)s->model;
            P->all = cv_xrealloc(P->all, (P->n + 1) * sizeof *P->all);
            P->all[P->n++] = s;
        } else {
            cv_scenario_free(s);
        }
    }
    cv_strv_free(paths);
}

/* Prints `text` wrapped into the box (x, y, w, h); returns the rows used. */
static int wrap(int y, int x, int w, int h, const char *text)
{
    int rows = 0;
    const char *p = text;
    while (*p && rows < h) {
        while (*p == ' ')
            p++;
        int len = (int)strlen(p);
        int take = len;
        if (take > w) {
            take = w;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0)
                take = w;
        }
        const char *nl = memchr(p, '\n', (size_t)take);
        if (nl)
            take = (int)(nl - p);
        mvaddnstr(y + rows, x, p, take);
        rows++;
        p += take;
        if (*p == '\n')
            p++;
    }
    return rows;
}

static void draw(struct pick *P)
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
    int rows = H - 3;
    if (P->sel < P->top)
        P->top = P->sel;
    if (P->sel >= P->top + rows)
        P->top = P->sel - rows + 1;
    for (int r = 0; r < rows && P->top + r < (int)P->n; r++) {
        const struct cv_scenario *s = P->all[P->top + r];
        bool sel = P->top + r == P->sel;
        if (sel)
            attron(P->params ? A_BOLD : A_REVERSE);
        mvprintw(2 + r, 0, " %-18.18s", s->name);
        if (sel)
            attroff(P->params ? A_BOLD : A_REVERSE);
        attron(ui_attr(UI_C_DIM));
        mvaddnstr(2 + r, 20, s->title, lw - 21);
        attroff(ui_attr(UI_C_DIM));
    }
    if (!P->n)
        mvprintw(2, 1, "no scenarios found (set CONCVIZ_SCENARIOS?)");
    /* the right side: the selected scenario */
    int x = lw + 1, w = W - x - 1, y = 2;
    if (P->n) {
        struct cv_scenario *s = P->all[P->sel];
        attron(ui_attr(UI_C_TITLE));
        mvaddnstr(y++, x, s->title, w);
        attroff(ui_attr(UI_C_TITLE));
        y++;
        y += wrap(y, x, w, 6, s->lesson);
        y++;
        mvprintw(y, x, "model   ");
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
            if (!(s->models & (1u << m)))
                continue;
            bool on = (int)m == P->model[P->sel];
            if (on)
                attron(A_REVERSE);
            printw(" %s ", cv_model_name(m));
            if (on)
                attroff(A_REVERSE);
        }
        y++;
        if (P->editing && P->wedit)
            mvprintw(y++, x, "workers  %s_", P->input);
        else if (P->workers)
            mvprintw(y++, x, "workers  %u", P->workers);
        else if (s->workers)
            mvprintw(y++, x, "workers  %u (the scenario's)", s->workers);
        else
            mvprintw(y++, x, "workers  the workload's");
        y++;
        attron(ui_attr(UI_C_DIM));
        mvprintw(y++, x, "parameters%s", P->params ? " (Enter edits, Esc leaves)" : " (p)");
        attroff(ui_attr(UI_C_DIM));
        for (size_t i = 0; i < s->nparams && y < H - 2; i++, y++) {
            bool sel = P->params && (int)i == P->psel;
            if (sel)
                attron(A_REVERSE);
            if (sel && P->editing && !P->wedit)
                mvprintw(y, x, " %-16.16s %s_", s->params[i].key, P->input);
            else
                mvprintw(y, x, " %-16.16s %-.*s", s->params[i].key, w - 19, s->params[i].value);
            if (sel)
                attroff(A_REVERSE);
        }
    }
    attron(ui_attr(UI_C_BAR));
    mvhline(H - 1, 0, ' ', W);
    if (P->message[0])
        mvaddnstr(H - 1, 1, P->message, W - 2);
    else
        mvaddnstr(H - 1, 0,
                  " enter run  jk scenario  hl/m model  w workers  p parameters  q quit  ? help",
                  W);
    attroff(ui_attr(UI_C_BAR));
    if (P->help) {
        static const char *const lines[] = {
            "j k, Up Down    choose a scenario (or a parameter)",
            "h l, m          choose the model",
            "w               type a worker count (Enter keeps it, Esc the default)",
            "p               edit parameters: Enter on one, type, Enter",
            "Enter           run the scenario in the live view (q there comes back)",
            "q               quit",
            "?               this help; any key closes it",
        };
        int n = (int)(sizeof lines / sizeof *lines);
        int by = (H - n - 2) / 2, bx = (W - 72) / 2 > 0 ? (W - 72) / 2 : 0;
        for (int i = -1; i <= n; i++)
            mvhline(by + 1 + i, bx, ' ', 72 < W ? 72 : W);
        attron(ui_attr(UI_C_TITLE));
        mvprintw(by, bx + 2, " help: picker keys ");
        attroff(ui_attr(UI_C_TITLE));
        for (int i = 0; i < n; i++)
            mvaddnstr(by + 1 + i, bx + 2, lines[i], 70);
    }
    refresh();
}

static void model_step(struct pick *P, int dir)
{
    const struct cv_scenario *s = P->all[P->sel];
    int m = P->model[P->sel];
    for (int i = 0; i < CV_MODEL__COUNT; i++) {
        m = (m + dir + CV_MODEL__COUNT) % CV_MODEL__COUNT;
        if (s->models & (1u << m))
            break;
    }
    P->model[P->sel] = m;
}

/* Returns 1 to run the selected scenario, -1 to quit, 0 otherwise. */
static int key(struct pick *P, int k)
{
    P->message[0] = 0;
    if (P->help) {
        P->help = false;
        return 0;
    }
    if (!P->n)
        return k == 'q' ? -1 : 0;
    struct cv_scenario *s = P->all[P->sel];
    bool enter = k == '\n' || k == '\r' || k == KEY_ENTER;
    if (P->editing) {
        size_t len = strlen(P->input);
        if (k == 27) {
            P->editing = false;
            if (P->wedit)
                P->workers = 0;
        } else if (enter) {
            char *cause = NULL;
            if (P->wedit) {
                unsigned long v;
                if (!P->input[0])
                    P->workers = 0;
                else if (tui_parse_ulong(P->input, 1, 4096, &v))
                    P->workers = (unsigned)v;
                else
                    snprintf(P->message, sizeof P->message,
                             "workers must be a whole number from 1 to 4096");
            } else if (cv_scenario_set(s, s->params[P->psel].key, P->input, &cause) != CV_OK) {
                snprintf(P->message, sizeof P->message, "%s: %s", s->params[P->psel].key, cause);
            }
            free(cause);
            P->editing = false;
        } else if ((k == KEY_BACKSPACE || k == 127 || k == 8) && len) {
            P->input[len - 1] = 0;
        } else if (k >= 32 && k < 127 && len + 1 < sizeof P->input) {
            P->input[len] = (char)k;
            P->input[len + 1] = 0;
        }
        return 0;
    }
    if (P->params) {
        if ((k == 'j' || k == KEY_DOWN) && P->psel + 1 < (int)s->nparams)
            P->psel++;
        else if ((k == 'k' || k == KEY_UP) && P->psel > 0)
            P->psel--;
        else if (k == 27 || k == 'p')
            P->params = false;
        else if (enter && s->nparams) {
            P->editing = true;
            P->wedit = false;
            snprintf(P->input, sizeof P->input, "%s", s->params[P->psel].value);
        } else if (k == 'q')
            return -1;
        return 0;
    }
    switch (k) {
    case 'q':
    case 'Q':
        return -1;
    case 'j':
    case KEY_DOWN:
        if (P->sel + 1 < (int)P->n)
            P->sel++;
        P->workers = 0;
        break;
    case 'k':
    case KEY_UP:
        if (P->sel > 0)
            P->sel--;
        P->workers = 0;
        break;
    case 'h':
    case KEY_LEFT:
        model_step(P, -1);
        break;
    case 'l':
    case 'm':
    case KEY_RIGHT:
        model_step(P, 1);
        break;
    case 'w':
        P->editing = true;
        P->wedit = true;
        P->input[0] = 0;
        break;
    case 'p':
        P->params = s->nparams > 0;
        P->psel = 0;
        break;
    case '?':
        P->help = true;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        return 1;
    default:
        break;
    }
    return 0;
}

int ui_picker(const struct ui_opts *o, struct ui_script *sc)
{
    struct pick *P = cv_xcalloc(1, sizeof *P);
    char *cause = NULL;
    if (ui_screen_open(o, &cause) != 0) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        free(P);
        return rc;
    }
    load_all(P);
    int rc = TUI_EXIT_OK;
    bool dirty = true;
    for (;;) {
        if (ui_screen_signal()) {
            rc = TUI_EXIT_INTERRUPTED;
            break;
        }
        if (dirty)
            draw(P);
        dirty = false;
        int k = -1;
        if (sc) {
            struct ui_script_io io = {.run_done = true, .key = -1};
            if (!ui_script_step(sc, &io)) {
                rc = TUI_EXIT_EXPECT;
                break;
            }
            if (io.finished)
                break;
            k = io.key;
            dirty = dirty || io.redraw;
        }
        if (k < 0)
            k = ui_screen_key(sc ? 5 : 100);
        if (k < 0)
            continue;
        dirty = true;
        if (k == KEY_RESIZE) {
            clearok(stdscr, TRUE);
            continue;
        }
        int what = key(P, k);
        if (what < 0)
            break;
        if (what > 0) {
            struct cv_scenario *s = P->all[P->sel];
            struct ui_run_req req = {
                .scenario = s,
                .cfg = {.scenario = s, .model = P->model[P->sel], .workers = P->workers, .gil = -1},
                .from_picker = true,
            };
            rc = ui_live(&req, o, sc);
            if (req.leave)
                goto out; /* the live view closed the screen and said why */
            rc = TUI_EXIT_OK;
        }
    }
    ui_screen_close();
    if (rc == TUI_EXIT_INTERRUPTED)
        tui_fail(rc, "interrupted");
out:
    for (size_t i = 0; i < P->n; i++)
        cv_scenario_free(P->all[i]);
    free(P->all);
    free(P);
    return rc;
}
