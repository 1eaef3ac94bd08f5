/* concviz show SCENARIO: its lesson, parameters, models and expectations. */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"

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

void tui_param_range(const struct cv_param_def *d, char *buf, size_t n)
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
    tui_models_text(s, models, sizeof models);
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
            printf(" %u%s", s->sweep[i], i + 1 == s->sweep_default ? " (default)" : "");
        printf(" (--workers N runs one)\n");
        if (s->sweep_default)
            printf("                  default: Python's ThreadPoolExecutor, min(32, cpus + 4)\n");
    }
    if (s->survive_death)
        printf("  worker death    the rest of the pool goes on\n");
    printf("  file            %s\n", s->path);
    printf("\n  parameters (--set key=value)\n");
    for (size_t i = 0; i < s->nparams; i++) {
        const struct cv_param *p = &s->params[i];
        char range[96];
        tui_param_range(p->def, range, sizeof range);
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

static int show_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_show_parse(argc, argv, &cl->show);
}

static int show_exec(struct tui_cmdline *cl)
{
    return tui_show_exec(cl->show);
}

const struct tui_command tui_cmd_show = {"show", TUI_CMD_SHOW, show_parse, show_exec, NULL};
