/* concviz: entry point and command dispatch. */
#include "cli.h"
#include "ui.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concviz/concviz.h"

#ifndef CONCVIZ_SCENARIO_DIR
#define CONCVIZ_SCENARIO_DIR "scenarios"
#endif

int tui_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("concviz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

bool tui_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

void tui_human(char *buf, size_t n, double x)
{
    if (x >= 1e9)
        snprintf(buf, n, "%.1fG", x / 1e9);
    else if (x >= 1e6)
        snprintf(buf, n, "%.1fM", x / 1e6);
    else if (x >= 1e3)
        snprintf(buf, n, "%.1fk", x / 1e3);
    else
        snprintf(buf, n, "%.0f", x);
}

double tui_num(const struct cv_value *o, const char *key)
{
    const struct cv_value *v = cv_value_get(o, key);
    return v && v->type == CV_VAL_NUM ? v->num : 0;
}

bool tui_parse_size(const char *s, int lo, int hi, int *w, int *h)
{
    char buf[32];
    unsigned long a, b;
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x)
        return false;
    *x = 0;
    if (!tui_parse_ulong(buf, (unsigned long)lo, (unsigned long)hi, &a) ||
        !tui_parse_ulong(x + 1, (unsigned long)lo, (unsigned long)hi, &b))
        return false;
    *w = (int)a;
    *h = (int)b;
    return true;
}

const char *const *tui_scenario_dirs(void)
{
    static const char *const dirs[] = {CONCVIZ_SCENARIO_DIR, NULL};
    return dirs;
}

struct cv_scenario *tui_load_scenario(const char *name)
{
    char *cause = NULL;
    char *path = cv_scenario_resolve(name, tui_scenario_dirs(), &cause);
    if (!path) {
        tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
        return NULL;
    }
    struct cv_scenario *s = NULL;
    if (cv_scenario_load(path, &s, &cause) != CV_OK) {
        tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
    }
    free(path);
    return s;
}

void tui_usage(FILE *out)
{
    fputs("concviz " CONCVIZ_VERSION " - makes concurrency visible\n"
          "\n"
          "Usage:\n"
          "  concviz [UI options]              pick a scenario and watch it run (a terminal)\n"
          "  concviz list                      list the scenarios\n"
          "  concviz show SCENARIO             explain a scenario: lesson, parameters, models,\n"
          "                                    expectations\n"
          "  concviz run SCENARIO [options]    run it (see 'concviz run --help')\n"
          "  concviz serve [--port P]          run the loopback HTTP test server alone\n"
          "  concviz --help | --version\n"
          "\n"
          "UI options: --no-color, --ascii, --fps N, --script FILE [--size WxH]\n"
          "(as for 'concviz run'; without a terminal, 'concviz' prints this help).\n"
          "\n"
          "SCENARIO is a name from 'concviz list' or a path to a scenario file.\n"
          "Scenario files are searched in $CONCVIZ_SCENARIOS (colon-separated) and then in\n"
          "the built-in scenarios directory.\n"
          "\n"
          "Exit codes: 0 ok, 1 an expectation failed (--check), 2 usage error,\n"
          "3 runtime error, 130 interrupted.\n",
          out);
}

/* concviz [UI options]: the scenario picker. */
static int cmd_picker(int argc, char **argv)
{
    const char *nc = getenv("NO_COLOR");
    struct ui_opts o = {.color = !(nc && *nc), .fps = 30};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        unsigned long v;
        if (!strcmp(a, "--no-color") || !strcmp(a, "--no-colour")) {
            o.color = false;
        } else if (!strcmp(a, "--ascii")) {
            o.ascii = true;
        } else if (!strcmp(a, "--fps") && more) {
            if (!tui_parse_ulong(argv[++i], 1, 240, &v))
                return tui_fail(TUI_EXIT_USAGE,
                                "--fps must be a whole number from 1 to 240, not '%s'", argv[i]);
            o.fps = (unsigned)v;
        } else if (!strcmp(a, "--script") && more) {
            o.script = argv[++i];
        } else if (!strcmp(a, "--size") && more) {
            if (!tui_parse_size(argv[++i], 10, 1000, &o.vw, &o.vh))
                return tui_fail(TUI_EXIT_USAGE,
                                "--size needs WxH, each from 10 to 1000 (e.g. 120x40), not '%s'",
                                argv[i]);
        } else if (!strcmp(a, "--fps") || !strcmp(a, "--script") || !strcmp(a, "--size")) {
            return tui_fail(TUI_EXIT_USAGE, "option '%s' needs a value", a);
        } else {
            return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz --help')", a);
        }
    }
    if (o.vw && !o.script)
        return tui_fail(TUI_EXIT_USAGE, "--size is for --script (a virtual screen to script)");
    bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    if (!o.script && !tty) {
        tui_usage(stdout);
        return TUI_EXIT_OK;
    }
    if (o.script && !o.vw && !tty)
        return tui_fail(TUI_EXIT_USAGE, "--script without a terminal needs --size WxH");
    struct ui_script *sc = NULL;
    char *cause = NULL;
    if (o.script && !(sc = ui_script_load(o.script, &cause))) {
        int rc = tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
        return rc;
    }
    int rc = ui_picker(&o, sc);
    ui_script_free(sc);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && argv[1][1] == '-' &&
                     (!strcmp(argv[1], "--no-color") || !strcmp(argv[1], "--no-colour") ||
                      !strcmp(argv[1], "--ascii") || !strcmp(argv[1], "--fps") ||
                      !strcmp(argv[1], "--script") || !strcmp(argv[1], "--size"))))
        return cmd_picker(argc, argv);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(cmd, "help") && !strcmp(argv[2], "run"))
            tui_run_usage(stdout);
        else
            tui_usage(stdout);
        return TUI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("concviz %s\n", CONCVIZ_VERSION);
        return TUI_EXIT_OK;
    }
    if (!strcmp(cmd, "list"))
        return tui_cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "show"))
        return tui_cmd_show(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return tui_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return tui_cmd_serve(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz --help')", cmd);
    return tui_fail(TUI_EXIT_USAGE, "unknown command '%s' (commands: list, show, run, serve)", cmd);
}
