/*
 * The screen: ncurses set-up and teardown, in this one file. Every way out puts the terminal
 * back: ui_screen_close (q, the end of a script, an engine error), SIGINT/SIGTERM/SIGHUP (noted
 * here and acted on by the view, which then closes), a crash signal (closed in the handler, then
 * the signal goes on to the handler that was there before, a sanitizer's or the default one), a
 * sanitizer's own report (its death callback) and exit() (an atexit hook). While the screen is
 * open, stderr goes to a temporary file, printed once it closes (or crashes), so nothing
 * scribbles over the UI.
 *
 * A virtual screen (--size WxH) draws into ncurses' own model with its output sent to /dev/null:
 * the same drawing code, no terminal needed, read back with ui_screen_text (the text) or
 * ui_screen_dump (the text and each cell's colour pair and attributes: the golden screens).
 */
#include "ui.h"

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

static SCREEN *g_scr;
static FILE *g_out, *g_in;
static bool g_open, g_virtual, g_color, g_ascii;
static int g_saved_stderr = -1;
static FILE *g_err; /* stderr while the screen is open */
static int g_err_fd = -1;
/* The stop signal seen (0 = none): written by the handler on whatever thread takes it, read by
 * the view's threads (an atomic, so lock-free and async-signal-safe). */
static atomic_int g_signal;
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP (sizeof stop_signals / sizeof *stop_signals)
static struct sigaction g_old_stop[NSTOP];
static bool g_stop_hooked[NSTOP];

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NCRASH (sizeof crash_signals / sizeof *crash_signals)
static struct sigaction g_old_crash[NCRASH];

/* A sanitizer's runtime calls this, when there is one, just before it ends the process after a
 * report: weak, so a build without one links (and finds it NULL). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

double ui_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_stop_signal(int sig)
{
    atomic_store(&g_signal, sig);
}

/* Puts stderr back and copies what went to the file meanwhile, with system calls only: it also
 * runs in a crash handler. */
static void restore_stderr_raw(void)
{
    if (g_saved_stderr < 0)
        return;
    dup2(g_saved_stderr, STDERR_FILENO);
    close(g_saved_stderr);
    g_saved_stderr = -1;
    if (g_err_fd < 0)
        return;
    char buf[4096];
    ssize_t n;
    off_t at = 0;
    while ((n = pread(g_err_fd, buf, sizeof buf, at)) > 0) {
        at += n;
        for (ssize_t w = 0, k; w < n; w += k)
            if ((k = write(STDERR_FILENO, buf + w, (size_t)(n - w))) <= 0)
                return;
    }
}

/* The end of the process by a crash or a sanitizer: the terminal back, then what stderr said. */
static void emergency_close(void)
{
    if (g_open && !g_virtual)
        endwin();
    restore_stderr_raw();
}

static void on_crash(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    emergency_close();
    for (size_t i = 0; i < NCRASH; i++)
        if (crash_signals[i] == sig)
            sigaction(sig, &g_old_crash[i], NULL);
    /* A fault (SEGV at an address, ...) happens again when the handler returns, and goes to the
     * handler restored above with its address; a signal that was sent (kill, abort's raise) is
     * sent again. */
    if (info->si_code <= 0)
        raise(sig);
}

static void restore_stderr(void)
{
    if (g_saved_stderr < 0)
        return;
    fflush(stderr);
    restore_stderr_raw();
    if (g_err) {
        fclose(g_err);
        g_err = NULL;
        g_err_fd = -1;
    }
}

static void at_exit(void)
{
    ui_screen_close();
}

/* No XON/XOFF while the view owns the terminal: Ctrl-S would stop its output, and the thread that
 * draws would block in its next write until Ctrl-Q (the keys now reach the view, which ignores
 * them). Kept in ncurses' program mode, so it holds across endwin/refresh (a suspend, a resize);
 * endwin puts the user's modes back, flow control included. */
static void no_flow_control(void)
{
    struct termios tio;
    int fd = fileno(stdout);
    if (tcgetattr(fd, &tio) != 0)
        return;
    tio.c_iflag &= ~(tcflag_t)IXON;
    if (tcsetattr(fd, TCSANOW, &tio) == 0)
        def_prog_mode();
}

static void init_colors(void)
{
    g_color = g_color && has_colors();
    if (!g_color)
        return;
    start_color();
    use_default_colors();
    bool many = COLORS >= 256;
    /* Lane states as background colours: runs of one colour draw cheaply. */
    static const struct {
        short fg, bg, bg256;
    } state[CV_LANE__COUNT] = {
#define COLOR_NONE (-1)
#define CV_X_COLOURS(id, name, letter, label, svg_label, fg, bg, bg256, ...) \
    [CV_LANE_##id] = {COLOR_##fg, COLOR_##bg, bg256},
        CV_LANE_STATES(CV_X_COLOURS)
#undef CV_X_COLOURS
#undef COLOR_NONE
    };
    for (unsigned s = 0; s < CV_LANE__COUNT; s++)
        init_pair((short)(s + 1), state[s].fg, many ? state[s].bg256 : state[s].bg);
    init_pair(UI_C_TITLE, COLOR_CYAN, -1);
    init_pair(UI_C_DIM, many ? 244 : COLOR_WHITE, -1);
    init_pair(UI_C_BAR, COLOR_BLACK, COLOR_CYAN);
    init_pair(UI_C_GOOD, COLOR_GREEN, -1);
    init_pair(UI_C_BAD, COLOR_RED, -1);
    init_pair(UI_C_WARN, COLOR_YELLOW, -1);
    init_pair(UI_C_FOCUS, COLOR_BLACK, COLOR_WHITE);
}

int ui_screen_open(const struct ui_opts *o, char **cause)
{
    if (g_open)
        return 0;
    setlocale(LC_ALL, "");
    g_virtual = o->vw > 0;
    g_color = o->color;
    g_ascii = o->ascii;
    if (g_virtual) {
        char w[16], h[16];
        snprintf(w, sizeof w, "%d", o->vw);
        snprintf(h, sizeof h, "%d", o->vh);
        setenv("COLUMNS", w, 1);
        setenv("LINES", h, 1);
        use_env(TRUE);
        g_out = fopen("/dev/null", "w");
        g_in = fopen("/dev/null", "r");
        if (!g_out || !g_in) {
            *cause = cv_strdup_printf("cannot open /dev/null: %s", strerror(errno));
            return -1;
        }
        const char *term = getenv("TERM");
        g_scr = newterm(term && *term && strcmp(term, "dumb") ? (char *)term : "xterm-256color",
                        g_out, g_in);
        if (!g_scr)
            g_scr = newterm("xterm", g_out, g_in);
    } else {
        g_scr = newterm(NULL, stdout, stdin);
    }
    if (!g_scr) {
        *cause = cv_strdup_printf("cannot set up the terminal (TERM=%s); use --headless",
                                  getenv("TERM") ? getenv("TERM") : "");
        if (g_out)
            fclose(g_out);
        if (g_in)
            fclose(g_in);
        g_out = g_in = NULL;
        return -1;
    }
    set_term(g_scr);
    cbreak(); /* Ctrl-C stays a signal */
    noecho();
    if (!g_virtual)
        no_flow_control();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    init_colors();
    if (g_virtual)
        resizeterm(o->vh, o->vw);
    /* Until its first endwin, ncurses flushes after every cursor movement: a frame would leave in
     * a hundred small writes (~25 bytes each) instead of a few large ones. One endwin/refresh
     * before anything is drawn puts it in its running state (bench_ui: 20,806 writes -> 229). */
    endwin();
    refresh();
    g_open = true;

    atomic_store(&g_signal, 0);
    /* SIGHUP (the terminal or the ssh session closed) ends the view as SIGTERM does, unless it
     * was ignored when we started (nohup): then it stays ignored. */
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSTOP; i++) {
        struct sigaction cur;
        g_stop_hooked[i] = sigaction(stop_signals[i], NULL, &cur) == 0 &&
                           !(stop_signals[i] == SIGHUP && cur.sa_handler == SIG_IGN) &&
                           sigaction(stop_signals[i], &sa, &g_old_stop[i]) == 0;
    }
    struct sigaction crash = {0};
    crash.sa_sigaction = on_crash;
    sigemptyset(&crash.sa_mask);
    crash.sa_flags = SA_SIGINFO | SA_RESETHAND;
    for (size_t i = 0; i < NCRASH; i++)
        sigaction(crash_signals[i], &crash, &g_old_crash[i]);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(emergency_close);
    static bool hooked;
    if (!hooked) {
        atexit(at_exit);
        hooked = true;
    }

    /* stderr to a file until the screen closes */
    fflush(stderr);
    g_err = tmpfile();
    if (g_err) {
        g_err_fd = fileno(g_err);
        g_saved_stderr = dup(STDERR_FILENO);
        if (g_saved_stderr >= 0)
            dup2(g_err_fd, STDERR_FILENO);
    }
    return 0;
}

void ui_screen_close(void)
{
    if (!g_open)
        return;
    g_open = false;
    if (!g_virtual)
        curs_set(1);
    endwin();
    delscreen(g_scr);
    g_scr = NULL;
    if (g_out)
        fclose(g_out);
    if (g_in)
        fclose(g_in);
    g_out = g_in = NULL;
    for (size_t i = 0; i < NCRASH; i++)
        sigaction(crash_signals[i], &g_old_crash[i], NULL);
    for (size_t i = 0; i < NSTOP; i++)
        if (g_stop_hooked[i])
            sigaction(stop_signals[i], &g_old_stop[i], NULL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(NULL);
    restore_stderr();
}

bool ui_screen_is_open(void)
{
    return g_open;
}

bool ui_screen_virtual(void)
{
    return g_virtual;
}

bool ui_has_color(void)
{
    return g_color;
}

bool ui_ascii(void)
{
    return g_ascii;
}

int ui_screen_signal(void)
{
    return atomic_load(&g_signal);
}

void ui_screen_resize(int w, int h)
{
    if (g_open && w > 0 && h > 0)
        resizeterm(h, w);
}

int ui_attr_state(unsigned state)
{
    if (!g_color || state >= CV_LANE__COUNT)
        return A_NORMAL;
    return COLOR_PAIR(state + 1);
}

int ui_attr(enum ui_color c)
{
    if (!g_color) {
        switch (c) {
        case UI_C_TITLE:
        case UI_C_BAD:
            return A_BOLD;
        case UI_C_BAR:
        case UI_C_FOCUS:
            return A_REVERSE;
        case UI_C_DIM:
            return A_DIM;
        default:
            return A_NORMAL;
        }
    }
    int a = COLOR_PAIR(c);
    if (c == UI_C_TITLE || c == UI_C_BAD)
        a |= A_BOLD;
    return a;
}

char *ui_screen_text(void)
{
    int rows = LINES, cols = COLS;
    size_t cap = (size_t)rows * ((size_t)cols * MB_CUR_MAX + 1) + 1, len = 0;
    char *out = cv_xmalloc(cap);
    wchar_t *line = cv_xmalloc(((size_t)cols + 1) * sizeof *line);
    for (int y = 0; y < rows; y++) {
        int n = mvinnwstr(y, 0, line, cols);
        if (n < 0)
            n = 0;
        line[n] = 0;
        while (n > 0 && line[n - 1] == L' ')
            line[--n] = 0;
        mbstate_t st = {0};
        const wchar_t *src = line;
        size_t w = wcsrtombs(out + len, &src, cap - len - 2, &st);
        if (w != (size_t)-1)
            len += w;
        out[len++] = '\n';
    }
    out[len] = 0;
    free(line);
    return out;
}

/* A colour's name for the legend of a dump: the eight basic ones by name, -1 the terminal's own. */
static void color_name(char *buf, size_t n, short c)
{
    static const char *const names[8] = {"black", "red",     "green", "yellow",
                                         "blue",  "magenta", "cyan",  "white"};
    if (c < 0)
        snprintf(buf, n, "default");
    else if (c < 8)
        snprintf(buf, n, "%s", names[c]);
    else
        snprintf(buf, n, "colour %d", c);
}

char *ui_screen_dump(void)
{
    static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    enum { NKINDS = sizeof letters - 1 };
    static const struct {
        attr_t bit;
        const char *name;
    } flags[] = {{A_BOLD, "bold"},
                 {A_DIM, "dim"},
                 {A_REVERSE, "reverse"},
                 {A_STANDOUT, "standout"},
                 {A_UNDERLINE, "underline"},
                 {A_BLINK, "blink"},
                 {A_ITALIC, "italic"},
                 {A_INVIS, "invisible"},
                 {A_ALTCHARSET, "altcharset"}};
    attr_t known = 0;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        known |= flags[i].bit;
    struct kind {
        short pair;
        attr_t attrs;
    } kinds[NKINDS];
    int nkinds = 0;
    bool more = false;
    int rows = LINES, cols = COLS;
    char *text = ui_screen_text();
    size_t cap = strlen(text) + (size_t)rows * ((size_t)cols + 1) + (NKINDS + 1) * 160 + 256;
    char *out = cv_xmalloc(cap);
    size_t len = (size_t)snprintf(out, cap,
                                  "concviz screen %dx%d: the text, then a letter per cell for its "
                                  "colour pair and attributes\n-- text\n%s-- attributes ('.' "
                                  "plain, each row up to its last other cell)\n",
                                  cols, rows, text);
    free(text);
    for (int y = 0; y < rows; y++) {
        size_t last = len;
        for (int x = 0; x < cols; x++) {
            cchar_t cc;
            wchar_t wch[CCHARW_MAX + 1];
            attr_t a = 0;
            short pair = 0;
            if (mvin_wch(y, x, &cc) == ERR || getcchar(&cc, wch, &a, &pair, NULL) == ERR)
                a = 0, pair = 0;
            a &= known;
            char ch = '.';
            if (pair || a) {
                int k = 0;
                while (k < nkinds && (kinds[k].pair != pair || kinds[k].attrs != a))
                    k++;
                if (k == nkinds && nkinds < NKINDS)
                    kinds[nkinds++] = (struct kind){pair, a};
                if (k < nkinds) {
                    ch = letters[k];
                } else {
                    ch = '?';
                    more = true;
                }
            }
            out[len++] = ch;
            if (ch != '.')
                last = len;
        }
        len = last;
        out[len++] = '\n';
    }
    len += (size_t)snprintf(out + len, cap - len, "-- legend\n");
    for (int k = 0; k < nkinds; k++) {
        len += (size_t)snprintf(out + len, cap - len, "%c ", letters[k]);
        if (kinds[k].pair) {
            short fg = -1, bg = -1;
            char f[16], b[16];
            pair_content(kinds[k].pair, &fg, &bg);
            color_name(f, sizeof f, fg);
            color_name(b, sizeof b, bg);
            len += (size_t)snprintf(out + len, cap - len, "pair %d: %s on %s", kinds[k].pair, f, b);
        } else {
            len += (size_t)snprintf(out + len, cap - len, "no colour");
        }
        for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
            if (kinds[k].attrs & flags[i].bit)
                len += (size_t)snprintf(out + len, cap - len, ", %s", flags[i].name);
        out[len++] = '\n';
    }
    if (more)
        len +=
            (size_t)snprintf(out + len, cap - len, "? one of more than %d other kinds\n", NKINDS);
    out[len] = 0;
    return out;
}

int ui_screen_key(int timeout_ms)
{
    if (!g_open || g_virtual) {
        if (timeout_ms > 0) {
            struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        return -1;
    }
    int k = getch();
    if (k != ERR)
        return k;
    if (timeout_ms > 0) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        poll(&p, 1, timeout_ms);
        k = getch();
    }
    return k == ERR ? -1 : k;
}
