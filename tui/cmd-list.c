/* concviz list / concviz show */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"

static void models_text(const struct cv_scenario *s, char *buf, size_t n)
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
        models_text(s, models, sizeof models);
        printf("%-18s %-58.58s %s\n", s->name, s->title, models);
        cv_scenario_free(s);
    }
    cv_strv_free(paths);
    return rc;
}

/* Prints text wrapped at `width` columns with an indent. */
static void wrap(const char *text, int indent, int width)
{
    int col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        int len = (int)(p - w);
        if (!len)
            break;
        if (col == 0) {
            printf("%*s", indent, "");
            col = indent;
        } else if (col + 1 + len > width) {
            printf("\n%*s", indent, "");
            col = indent;
        } else {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, w);
        col += len;
    }
    if (col)
        putchar('\n');
}

static void param_range(const struct cv_param_def *d, char *buf, size_t n)
{
    switch (d->type) {
    case CV_PARAM_INT:
        snprintf(buf, n, "whole number %.0f..%.0f", d->min, d->max);
        break;
    case CV_PARAM_FLOAT:
        snprintf(buf, n, "number %g..%g", d->min, d->max);
        break;
    case CV_PARAM_ENUM:
        snprintf(buf, n, "one of %s", d->choices);
        break;
    case CV_PARAM_STRING:
        snprintf(buf, n, "text");
        break;
    case CV_PARAM_INT_LIST:
        snprintf(buf, n, "whole numbers %.0f..%.0f, comma-separated", d->min, d->max);
        break;
    case CV_PARAM_NUM_LIST:
        snprintf(buf, n, "numbers %.15g..%.15g, comma-separated", d->min, d->max);
        break;
    }
}

int tui_show_parse(int argc, char **argv, const char **scenario)
{
    if (argc < 2)
        return tui_fail(TUI_EXIT_USAGE, "show needs a scenario (see 'concviz list')");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        puts("Usage: concviz show SCENARIO\n"
             "Prints the scenario's lesson, parameters (with defaults and meaning),\n"
             "supported models and expectations.");
        return TUI_EXIT_OK;
    }
    if (argc > 2)
        return tui_fail(TUI_EXIT_USAGE, "show takes one scenario ('%s' is extra)", argv[2]);
    *scenario = argv[1];
    return TUI_PARSED;
}

int tui_show_exec(const char *scenario)
{
    struct cv_scenario *s = tui_load_scenario(scenario);
    if (!s)
        return TUI_EXIT_USAGE;
    char models[128];
    models_text(s, models, sizeof models);
    printf("%s: %s\n\n", s->name, s->title);
    wrap(s->lesson, 2, 78);
    printf("\n  workload        %s (%s)\n", s->workload_name, s->workload->summary);
    printf("  default model   %s\n", cv_model_name(s->model));
    printf("  models          %s\n", models);
    if (s->workload->shape == CV_SHAPE_ROLES)
        printf("  workers         one per role (set by the parameters)\n");
    else if (s->workers)
        printf("  workers         %u\n", s->workers);
    else
        printf("  workers         one per CPU\n");
    if (s->gil)
        printf("  gil             on by default under threads\n");
    if (s->nsweep) {
        printf("  sweep           one run per worker count:");
        for (size_t i = 0; i < s->nsweep; i++)
            printf(" %u", s->sweep[i]);
        printf(" (--workers N runs one)\n");
    }
    if (s->survive_death)
        printf("  worker death    the rest of the pool goes on\n");
    printf("  file            %s\n", s->path);
    printf("\n  parameters (--set key=value)\n");
    for (size_t i = 0; i < s->nparams; i++) {
        const struct cv_param *p = &s->params[i];
        char range[96];
        param_range(p->def, range, sizeof range);
        printf("    %-18s %-12s %s [%s]\n", p->key, p->value, p->def->meaning, range);
    }
    if (s->nexpect) {
        printf("\n  expectations (checked by --check)\n");
        for (size_t i = 0; i < s->nexpect; i++)
            printf("    %-18s %s\n", s->expect[i].name, s->expect[i].text);
    }
    cv_scenario_free(s);
    return TUI_EXIT_OK;
}
