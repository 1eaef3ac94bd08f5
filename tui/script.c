/*
 * Scripted mode: a file of steps drives the UI, for tests and demos. One step per line; blank
 * lines and lines starting with # are skipped, and a # standing alone after a step (a blank
 * before it, a blank or the line's end after it) starts a comment to the end of the line.
 *
 *   key NAME...         press keys: q, space, Enter, Tab, Esc, Up, Down, Left, Right, PageUp,
 *                       PageDown, Home, End, F1..F12, C-x, Hash (#), or any one character
 *   type TEXT           press each character of TEXT
 *   wait 500ms | 2s     let the UI run for a while
 *   wait done           until the run has ended (picker: no run, nothing to wait for)
 *   wait text TEXT [Ns] until the screen shows TEXT (default limit 10 s; a failure after it)
 *   snapshot PATH       write the screen as text to PATH
 *   dump PATH           write the screen with each cell's colours and attributes to PATH
 *                       (ui_screen_dump: the golden screens)
 *   expect TEXT         fail unless the screen shows TEXT now
 *   resize WxH          resize a virtual screen (--size)
 */
#include "ui.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/files.h"

int ui_key_from_name(const char *name)
{
    static const struct {
        const char *name;
        int key;
    } names[] = {
        {"space", ' '},
        {"Space", ' '},
        {"Enter", '\n'},
        {"Return", '\n'},
        {"Tab", '\t'},
        {"BTab", KEY_BTAB},
        {"Esc", 27},
        {"Escape", 27},
        {"Up", KEY_UP},
        {"Down", KEY_DOWN},
        {"Left", KEY_LEFT},
        {"Right", KEY_RIGHT},
        {"PageUp", KEY_PPAGE},
        {"PPage", KEY_PPAGE},
        {"PageDown", KEY_NPAGE},
        {"NPage", KEY_NPAGE},
        {"Home", KEY_HOME},
        {"End", KEY_END},
        {"Backspace", KEY_BACKSPACE},
        {"BSpace", KEY_BACKSPACE},
        {"Delete", KEY_DC},
        {"Hash", '#'}, /* `key #` would be a comment */
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i].name))
            return names[i].key;
    if (name[0] == 'F' && isdigit((unsigned char)name[1])) {
        char *end;
        long n = strtol(name + 1, &end, 10);
        if (!*end && n >= 1 && n <= 12)
            return KEY_F((int)n);
    }
    if (name[0] == 'C' && name[1] == '-' && name[2] && !name[3] && isalpha((unsigned char)name[2]))
        return tolower((unsigned char)name[2]) - 'a' + 1;
    if (name[0] && !name[1])
        return (unsigned char)name[0];
    return -1;
}

static int fail_at(const char *path, unsigned line, char **cause, const char *msg)
{
    *cause = cv_strdup_printf("%s:%u: %s", path, line, msg);
    return -1;
}

static void push(struct ui_script *sc, struct ui_step st)
{
    sc->steps = cv_xrealloc(sc->steps, (sc->n + 1) * sizeof *sc->steps);
    sc->steps[sc->n++] = st;
}

/* "500ms", "2s", "1.5" (seconds): seconds, or -1 */
static double parse_time(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 3600)
        return -1;
    if (!strcmp(end, "ms"))
        return v / 1000;
    if (!*end || !strcmp(end, "s"))
        return v;
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* One line into steps; -1 with *cause on error. */
static int parse_line(struct ui_script *sc, char *text, unsigned line, char **cause)
{
    const char *path = sc->path;
    char *s = trim(text);
    if (!*s || *s == '#')
        return 0;
    /* a comment after a step: a '#' standing alone, a blank before it and a blank or the end
     * after it (so `expect 50%#` and `type #1` keep theirs; the key '#' is named Hash) */
    for (char *c = s + 1; *c; c++)
        if (*c == '#' && isspace((unsigned char)c[-1]) && (!c[1] || isspace((unsigned char)c[1]))) {
            *c = 0;
            s = trim(s);
            break;
        }
    char *arg = s;
    while (*arg && !isspace((unsigned char)*arg))
        arg++;
    if (*arg)
        *arg++ = 0;
    arg = trim(arg);
    struct ui_step st = {.line = line};
    if (!strcmp(s, "key")) {
        if (!*arg)
            return fail_at(path, line, cause, "key needs at least one key name");
        for (char *tok = strtok(arg, " \t"); tok; tok = strtok(NULL, " \t")) {
            int k = ui_key_from_name(tok);
            if (k < 0) {
                char *msg = cv_strdup_printf("unknown key '%s' (e.g. q, space, Enter, Tab, Up, "
                                             "Down, Left, Right, Esc, C-c, F1)",
                                             tok);
                fail_at(path, line, cause, msg);
                free(msg);
                return -1;
            }
            st.kind = UI_STEP_KEY;
            st.key = k;
            push(sc, st);
        }
        return 0;
    }
    if (!strcmp(s, "type")) {
        if (!*arg)
            return fail_at(path, line, cause, "type needs text");
        for (const char *c = arg; *c; c++) {
            st.kind = UI_STEP_KEY;
            st.key = (unsigned char)*c;
            push(sc, st);
        }
        return 0;
    }
    if (!strcmp(s, "wait")) {
        if (!strcmp(arg, "done")) {
            st.kind = UI_STEP_WAIT_DONE;
            push(sc, st);
            return 0;
        }
        if (!strncmp(arg, "text ", 5)) {
            char *t = trim(arg + 5);
            st.kind = UI_STEP_WAIT_TEXT;
            st.seconds = 10;
            /* an optional limit at the end: "... 5s" */
            char *last = strrchr(t, ' ');
            if (last && parse_time(last + 1) > 0 && strpbrk(last + 1, "0123456789")) {
                st.seconds = parse_time(last + 1);
                *last = 0;
                t = trim(t);
            }
            if (!*t)
                return fail_at(path, line, cause, "wait text needs the text to wait for");
            st.text = cv_strdup(t);
            push(sc, st);
            return 0;
        }
        double v = parse_time(arg);
        if (v < 0)
            return fail_at(path, line, cause,
                           "wait needs a time (500ms, 2s), 'done' or 'text TEXT [LIMIT]'");
        st.kind = UI_STEP_WAIT;
        st.seconds = v;
        push(sc, st);
        return 0;
    }
    if (!strcmp(s, "snapshot") || !strcmp(s, "dump") || !strcmp(s, "expect")) {
        bool file = strcmp(s, "expect") != 0;
        if (!*arg)
            return fail_at(path, line, cause,
                           !strcmp(s, "snapshot") ? "snapshot needs a file name"
                           : file                 ? "dump needs a file name"
                                                  : "expect needs the text to look for");
        st.kind = file ? UI_STEP_SNAPSHOT : UI_STEP_EXPECT;
        st.attrs = !strcmp(s, "dump");
        st.text = cv_strdup(arg);
        push(sc, st);
        return 0;
    }
    if (!strcmp(s, "resize")) {
        unsigned long w, h;
        char *x = strchr(arg, 'x');
        if (x)
            *x = 0;
        if (!x || !tui_parse_ulong(arg, 10, 1000, &w) || !tui_parse_ulong(x + 1, 5, 1000, &h))
            return fail_at(path, line, cause, "resize needs WxH (e.g. 120x40)");
        st.kind = UI_STEP_RESIZE;
        st.w = (int)w;
        st.h = (int)h;
        push(sc, st);
        return 0;
    }
    char *msg = cv_strdup_printf(
        "unknown step '%s' (steps: key, type, wait, snapshot, dump, expect, resize)", s);
    fail_at(path, line, cause, msg);
    free(msg);
    return -1;
}

struct ui_script *ui_script_parse(const char *name, const char *text, size_t len, char **cause)
{
    struct ui_script *sc = cv_xcalloc(1, sizeof *sc);
    sc->path = cv_strdup(name);
    char *buf = NULL;
    size_t cap = 0;
    unsigned line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) + 1 : len - at; /* its newline included */
        line++;
        if (memchr(text + at, 0, n)) {
            *cause = cv_strdup_printf("%s:%u: not a text file", name, line);
            goto bad;
        }
        if (n + 1 > cap) {
            cap = n + 1;
            buf = cv_xrealloc(buf, cap);
        }
        memcpy(buf, text + at, n);
        buf[n] = 0;
        at += n;
        if (parse_line(sc, buf, line, cause) != 0)
            goto bad;
    }
    free(buf);
    return sc;
bad:
    free(buf);
    ui_script_free(sc);
    return NULL;
}

struct ui_script *ui_script_load(const char *path, char **cause)
{
    FILE *f = cv_file_open_read(path, cause); /* a FIFO would block the UI before it starts */
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            text = cv_xrealloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) { /* a directory, or a read error: not an empty script */
        *cause = cv_strdup_printf("%s: %s", path, strerror(errno ? errno : EIO));
        fclose(f);
        free(text);
        return NULL;
    }
    fclose(f);
    struct ui_script *sc = ui_script_parse(path, text, len, cause);
    free(text);
    return sc;
}

void ui_script_free(struct ui_script *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n; i++)
        free(sc->steps[i].text);
    free(sc->steps);
    free(sc->path);
    free(sc);
}

static bool screen_has(const char *text)
{
    char *scr = ui_screen_text();
    bool found = strstr(scr, text) != NULL;
    free(scr);
    return found;
}

static bool step_fail(struct ui_script *sc, const struct ui_step *st, const char *what,
                      const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s '%s'", what, arg);
    /* stderr is kept while the screen is open and shown after it closes */
    fprintf(stderr, "concviz: %s:%u: %s\n", sc->path, st->line, msg);
    char *scr = ui_screen_text();
    fprintf(stderr, "concviz: the screen was:\n%s", scr);
    free(scr);
    sc->failed = true;
    return false;
}

bool ui_script_step(struct ui_script *sc, struct ui_script_io *io)
{
    io->key = -1;
    while (sc->at < sc->n && !sc->failed) {
        struct ui_step *st = &sc->steps[sc->at];
        double now = ui_now();
        switch (st->kind) {
        case UI_STEP_KEY:
            io->key = st->key;
            sc->at++;
            return true; /* one key per turn, so the view draws in between */
        case UI_STEP_WAIT:
            if (!sc->wait_until)
                sc->wait_until = now + st->seconds;
            if (now < sc->wait_until)
                return true;
            sc->wait_until = 0;
            sc->at++;
            io->redraw = true; /* the next step sees the screen as it is now */
            return true;
        case UI_STEP_WAIT_DONE:
            if (!io->run_done)
                return true;
            sc->at++;
            io->redraw = true;
            return true;
        case UI_STEP_WAIT_TEXT:
            if (!sc->wait_until)
                sc->wait_until = now + st->seconds;
            if (!screen_has(st->text)) {
                if (now < sc->wait_until)
                    return true;
                sc->wait_until = 0;
                return step_fail(sc, st, "the screen did not show in time:", st->text);
            }
            sc->wait_until = 0;
            break;
        case UI_STEP_SNAPSHOT: { /* whole or not at all, as every output */
            struct cv_outfile *of = NULL;
            if (cv_outfile_open(st->text, &of, NULL) != CV_OK)
                return step_fail(sc, st, "cannot write the snapshot to", st->text);
            char *scr = st->attrs ? ui_screen_dump() : ui_screen_text();
            fputs(scr, cv_outfile_stream(of));
            free(scr);
            if (cv_outfile_commit(of, NULL) != CV_OK)
                return step_fail(sc, st, "cannot write the snapshot to", st->text);
            break;
        }
        case UI_STEP_EXPECT:
            if (!screen_has(st->text))
                return step_fail(sc, st, "not on the screen:", st->text);
            break;
        case UI_STEP_RESIZE:
            ui_screen_resize(st->w, st->h);
            io->key = KEY_RESIZE;
            sc->at++;
            return true;
        }
        sc->at++;
    }
    io->finished = sc->at >= sc->n;
    return !sc->failed;
}
