/* Pieces shared by the commands: errors, number parsing and formatting, scenario lookup. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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

/* The edit distance of a and b, ignoring case: insertions, deletions, substitutions and swaps
 * of two neighbours (Damerau-Levenshtein, each substring edited once); SIZE_MAX past 63 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 63 };
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXLEN || m > MAXLEN)
        return SIZE_MAX;
    size_t rows[3][MAXLEN + 1]; /* for a's prefixes of i - 2, i - 1 and i letters */
    size_t *two = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        int ca = tolower((unsigned char)a[i - 1]);
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            size_t d = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && two[j - 2] + 1 < d)
                d = two[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = two;
        two = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "; did you mean 'a'?" or "; did you mean 'a' or 'b'?": the scenario names nearest to `name`
 * (at most a third of its letters edited, at least one, at most three), else those it begins
 * (from three letters on); at most four, in order; "" when none is near. */
static char *scenario_suggestion(const char *name)
{
    char **paths = cv_scenario_list(tui_scenario_dirs());
    size_t len = strlen(name), limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    size_t best = SIZE_MAX, nnames = 0;
    char *names[4];
    for (int pass = 0; pass < 2 && !nnames; pass++) {
        for (char **p = paths; *p; p++) {
            const char *base = strrchr(*p, '/') ? strrchr(*p, '/') + 1 : *p;
            size_t blen = strlen(base) - 4; /* less ".ini" */
            char *cand = cv_strdup_printf("%.*s", (int)blen, base);
            bool near;
            if (pass == 0) {
                size_t d = edit_distance(name, cand);
                if (d <= limit && d < best) { /* nearer than those so far: they go */
                    for (size_t i = 0; i < nnames; i++)
                        free(names[i]);
                    nnames = 0;
                    best = d;
                }
                near = d <= limit && d == best;
            } else {
                near = len >= 3 && !strncmp(cand, name, len);
            }
            if (near && nnames < 4)
                names[nnames++] = cand;
            else
                free(cand);
        }
    }
    cv_strv_free(paths);
    if (!nnames)
        return cv_strdup("");
    qsort(names, nnames, sizeof *names, by_text);
    char *out = cv_strdup("; did you mean");
    for (size_t i = 0; i < nnames; i++) {
        char *more = cv_strdup_printf("%s%s '%s'%s", out,
                                      !i               ? ""
                                      : i + 1 < nnames ? ","
                                                       : " or",
                                      names[i], i + 1 == nnames ? "?" : "");
        free(out);
        free(names[i]);
        out = more;
    }
    return out;
}

struct cv_scenario *tui_load_scenario(const char *name)
{
    char *cause = NULL;
    char *path = cv_scenario_resolve(name, tui_scenario_dirs(), &cause);
    if (!path) {
        if (!strchr(name, '/') && !strncmp(cause, "unknown scenario ", 17)) {
            char *hint = scenario_suggestion(name);
            tui_fail(TUI_EXIT_USAGE, "unknown scenario '%s'%s (see 'concviz list')", name, hint);
            free(hint);
        } else {
            tui_fail(TUI_EXIT_USAGE, "%s", cause);
        }
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
