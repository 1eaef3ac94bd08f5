/* Pieces shared by the commands: errors, number parsing and formatting, scenario lookup. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"
#include "concviz/record.h"

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

void tui_getopt_reset(void)
{
    opterr = 0;
    optind = 0;
}

int tui_bad_option(char **argv, const char *shorts, const char *cmd)
{
    /* A short option: getopt_long sets optopt to its character, and optind does not move on while
     * the rest of a cluster (-xq) is unread, so argv[optind - 1] may be another argument. The
     * characters of `shorts` (not its leading '+' or ':', which set how it scans) only come back
     * with '?' from a long option given a value. */
    const char *opts = shorts + strspn(shorts, "+-:"); /* past the scan's mode characters */
    if (optopt != 0 && optopt < 256 && (optopt == ':' || !strchr(opts, optopt))) {
        unsigned char ch = (unsigned char)optopt;
        if (isalnum(ch))
            return tui_fail(TUI_EXIT_USAGE, "unknown option '-%c' (see 'concviz %s --help')", ch,
                            cmd);
        if (isgraph(ch)) /* "-q-" would read as "--": the character alone */
            return tui_fail(TUI_EXIT_USAGE,
                            "unknown option character '%c' (see 'concviz %s --help')", ch, cmd);
        return tui_fail(TUI_EXIT_USAGE, "unknown option character 0x%02x (see 'concviz %s --help')",
                        ch, cmd);
    }
    /* A long option (they always move optind on): unknown or ambiguous (optopt 0), or one that
     * takes no value given one (optopt its code). */
    const char *arg = argv[optind - 1];
    const char *eq = strchr(arg, '=');
    if (optopt != 0 && arg[0] == '-' && arg[1] == '-' && eq)
        return tui_fail(TUI_EXIT_USAGE, "option '%.*s' takes no value", (int)(eq - arg), arg);
    return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz %s --help')", arg, cmd);
}

int tui_missing_value(char **argv)
{
    /* Only the last argument can lack its value, so argv[optind - 1] is it: --name, -x, or a
     * cluster ending in the option (-qm), named by its character. */
    const char *arg = argv[optind - 1];
    if (arg[0] == '-' && arg[1] != '-' && optopt > 0 && optopt < 256 && isgraph(optopt))
        return tui_fail(TUI_EXIT_USAGE, "option '-%c' needs a value", optopt);
    return tui_fail(TUI_EXIT_USAGE, "option '%s' needs a value", arg);
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

bool tui_parse_number(const char *s, int decimals, double lo, double hi, double *out)
{
    if (!cv_number_is_decimal(s, decimals))
        return false;
    double v = strtod(s, NULL);
    if (!(v >= lo && v <= hi))
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

void tui_tasks_text(char *buf, size_t n, const struct cv_task_counts *t, uint64_t total)
{
    int k = snprintf(buf, n, "tasks %llu/%llu done", (unsigned long long)t->completed,
                     (unsigned long long)total);
    const uint64_t count[] = {t->failed, t->cancelled, t->timed_out};
    const char *const what[] = {"failed", "cancelled", "timed out"};
    for (size_t i = 0; i < 3 && k >= 0 && (size_t)k < n; i++)
        if (count[i])
            k += snprintf(buf + k, n - (size_t)k, ", %llu %s", (unsigned long long)count[i],
                          what[i]);
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

/* Opens a recording, printing the error (exit 3) or, unless quiet, the cut-short warning. */
struct cv_recording *tui_open_recording(const char *path, bool quiet, int *rc)
{
    struct cv_recording *r = NULL;
    char *cause = NULL;
    if (cv_recording_open(path, &r, &cause) != CV_OK) {
        *rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        return NULL;
    }
    const struct cv_recording_info *info = cv_recording_info(r);
    if (info->missing && !quiet)
        tui_fail(0, "warning: %s", info->missing);
    return r;
}
