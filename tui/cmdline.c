/* The command line: the top-level help, the picker's options, and the dispatch to each command's
 * parser (cmd-*.c); then the parsed command is run. */
#include "cmdline.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concviz/concviz.h"

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
          "  concviz replay FILE [--json]      a recorded run's summary, from its events\n"
          "  concviz export FILE --format chrome|csv|json|svg [-o OUT]\n"
          "                                    a recording for Perfetto/DevTools, as CSV or\n"
          "                                    JSON, or an SVG picture\n"
          "  concviz serve [--port P]          run the loopback HTTP test server alone\n"
          "  concviz trace [options] -- PROGRAM [ARGS...]\n"
          "                                    watch a program's own threads and locks\n"
          "                                    (see 'concviz trace --help')\n"
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
          "3 runtime error (also: the output could not be written), 130 interrupted\n"
          "(Ctrl-C, SIGTERM or SIGHUP).\n",
          out);
}

/* concviz [UI options]: the scenario picker's options. */
static int picker_parse(int argc, char **argv, struct ui_opts *o)
{
    static const struct option ui_longs[] = {UI_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    *o = ui_opts_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct option *opt = NULL;
        for (const struct option *p = ui_longs; p->name && !opt; p++)
            if (a[0] == '-' && a[1] == '-' && !strcmp(a + 2, p->name))
                opt = p;
        if (opt) {
            const char *value = NULL;
            if (opt->has_arg == required_argument) {
                if (i + 1 >= argc)
                    return tui_fail(TUI_EXIT_USAGE, "option '%s' needs a value", a);
                value = argv[++i];
            }
            int r = ui_opt(opt->val, value, o);
            if (r)
                return r;
        } else if (a[0] != '-') {
            return tui_fail(TUI_EXIT_USAGE,
                            "'%s' is not an option; a command comes first (e.g. 'concviz run "
                            "SCENARIO --no-color'; see 'concviz --help')",
                            a);
        } else {
            return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz --help')", a);
        }
    }
    int r = ui_opts_check(o, false, false);
    return r ? r : TUI_PARSED;
}

static int picker_exec(const struct ui_opts *o)
{
    bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    if (!o->script && !tty) {
        tui_usage(stdout);
        return TUI_EXIT_OK;
    }
    if (o->script && !o->vw && !tty)
        return tui_fail(TUI_EXIT_USAGE, "--script without a terminal needs --size WxH");
    struct ui_script *sc = NULL;
    char *cause = NULL;
    if (o->script && !(sc = ui_script_load(o->script, &cause))) {
        int rc = tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
        return rc;
    }
    int rc = ui_picker(o, sc);
    ui_script_free(sc);
    return rc;
}

/* The picker's own options may come first, without a command. */
static bool is_ui_option(const char *a)
{
    return !strcmp(a, "--no-color") || !strcmp(a, "--no-colour") || !strcmp(a, "--ascii") ||
           !strcmp(a, "--fps") || !strcmp(a, "--script") || !strcmp(a, "--size");
}

/* The commands, in the order the help and the errors name them. */
static const struct tui_command *const commands[] = {
    &tui_cmd_list,   &tui_cmd_show,  &tui_cmd_run,   &tui_cmd_replay,
    &tui_cmd_export, &tui_cmd_serve, &tui_cmd_trace,
};

int tui_cmdline_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    memset(cl, 0, sizeof *cl);
    cl->cmd = TUI_CMD_PICKER;
    if (argc < 2 || is_ui_option(argv[1]))
        return picker_parse(argc, argv, &cl->picker);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(cmd, "help") && !strcmp(argv[2], "run"))
            tui_run_usage(stdout);
        else if (argc > 2 && !strcmp(cmd, "help") && !strcmp(argv[2], "trace"))
            tui_trace_usage(stdout);
        else
            tui_usage(stdout);
        return TUI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("concviz %s\n", CONCVIZ_VERSION);
        return TUI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i]->name)) {
            cl->command = commands[i];
            cl->cmd = commands[i]->id;
            return commands[i]->parse(argc - 1, argv + 1, cl);
        }
    if (cmd[0] == '-')
        return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz --help')", cmd);
    char names[128] = "";
    for (size_t i = 0, len = 0; i < sizeof commands / sizeof commands[0]; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                commands[i]->name);
    return tui_fail(TUI_EXIT_USAGE, "unknown command '%s' (commands: %s)", cmd, names);
}

int tui_cmdline_exec(struct tui_cmdline *cl)
{
    if (cl->cmd == TUI_CMD_PICKER)
        return picker_exec(&cl->picker);
    if (cl->command)
        return cl->command->exec(cl);
    return tui_fail(TUI_EXIT_RUNTIME, "no command to run");
}

void tui_cmdline_free(struct tui_cmdline *cl)
{
    if (cl->command && cl->command->free)
        cl->command->free(cl);
}
