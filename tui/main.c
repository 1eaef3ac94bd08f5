/* concviz: entry point and command dispatch. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
          "  concviz list                      list the scenarios\n"
          "  concviz show SCENARIO             explain a scenario: lesson, parameters, models,\n"
          "                                    expectations\n"
          "  concviz run SCENARIO [options]    run it (see 'concviz run --help')\n"
          "  concviz serve [--port P]          run the loopback HTTP test server alone\n"
          "  concviz --help | --version\n"
          "\n"
          "SCENARIO is a name from 'concviz list' or a path to a scenario file.\n"
          "Scenario files are searched in $CONCVIZ_SCENARIOS (colon-separated) and then in\n"
          "the built-in scenarios directory.\n"
          "\n"
          "Exit codes: 0 ok, 1 an expectation failed (--check), 2 usage error,\n"
          "3 runtime error, 130 interrupted.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tui_usage(stdout);
        return TUI_EXIT_OK;
    }
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
