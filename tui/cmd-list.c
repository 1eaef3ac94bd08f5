/* concviz list: the scenarios, a line each. */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"

void tui_models_text(const struct cv_scenario *s, char *buf, size_t n)
{
    buf[0] = 0;
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
        if (!(s->models & (1u << m)))
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s%s", len ? " " : "", cv_model_name(m),
                 cv_model_available(m) ? "" : "(later)");
    }
}

int tui_list_parse(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            puts("Usage: concviz list\nLists the scenarios: name, title and supported models.");
            return TUI_EXIT_OK;
        }
        return tui_fail(TUI_EXIT_USAGE, "list takes no arguments ('%s')", argv[1]);
    }
    return TUI_PARSED;
}

int tui_list_exec(void)
{
    char **paths = cv_scenario_list(tui_scenario_dirs());
    int rc = TUI_EXIT_OK;
    if (!paths[0]) {
        cv_strv_free(paths);
        return tui_fail(TUI_EXIT_RUNTIME, "no scenarios found (set CONCVIZ_SCENARIOS?)");
    }
    printf("%-18s %-58s %s\n", "SCENARIO", "TITLE", "MODELS");
    for (char **p = paths; *p; p++) {
        struct cv_scenario *s = NULL;
        char *cause = NULL;
        if (cv_scenario_load(*p, &s, &cause) != CV_OK) {
            tui_fail(TUI_EXIT_USAGE, "%s", cause);
            free(cause);
            rc = TUI_EXIT_USAGE;
            continue;
        }
        char models[128];
        tui_models_text(s, models, sizeof models);
        printf("%-18s %-58.58s %s\n", s->name, s->title, models);
        cv_scenario_free(s);
    }
    cv_strv_free(paths);
    return rc;
}

static int list_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    (void)cl;
    return tui_list_parse(argc, argv);
}

static int list_exec(struct tui_cmdline *cl)
{
    (void)cl;
    return tui_list_exec();
}

const struct tui_command tui_cmd_list = {"list", TUI_CMD_LIST, list_parse, list_exec, NULL};
