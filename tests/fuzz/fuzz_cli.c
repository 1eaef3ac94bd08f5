/*
 * libFuzzer target for the command line (tui/cmdline.c and each command's parser in cmd-*.c).
 * Each input is an argument list: split at NUL bytes when it holds one (so an argument may hold a
 * newline), else at newlines; at most 64 arguments, after argv[0] "concviz". It goes through
 * tui_cmdline_parse, as main() does, but nothing is run: no scenario, no server, no terminal.
 * A parsed `run` has its --set values applied to a scenario of the source tree (the one it names
 * when that is a built-in name, else counter-race), as the command does before it runs.
 *
 * stdout and stderr are caught in memory for each input, and what the command line promises is
 * checked: a usage error exits 2 with exactly one line on stderr ("concviz: ..."; more only when
 * an argument holds a newline, which the message may quote) and nothing on stdout; --help and
 * --version print on stdout only; a command that parses prints nothing; an error about an option
 * names one that is on the command line (a short option by its letter, also inside a cluster such
 * as -qx); the parsed values are within their documented ranges. Run by tests/fuzz/run.sh.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "concviz/scenario.h"

#ifndef FUZZ_SCENARIOS
#error "FUZZ_SCENARIOS must name the source tree's scenarios directory"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static char out_buf[1 << 16], err_buf[1 << 16];
static FILE *out_mem, *err_mem;
static FILE *real_out, *real_err; /* stdout and stderr as they were */
static char **scenario_paths;     /* the built-in scenarios, NULL-terminated */
static const char *args_text;
static size_t args_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    real_out = stdout;
    real_err = stderr;
    out_mem = fmemopen(out_buf, sizeof out_buf, "w");
    err_mem = fmemopen(err_buf, sizeof err_buf, "w");
    static const char *const dirs[] = {FUZZ_SCENARIOS, NULL};
    scenario_paths = cv_scenario_list(dirs);
    if (!out_mem || !err_mem || !scenario_paths || !scenario_paths[0]) {
        fprintf(stderr, "fuzz_cli: no memory streams, or no scenarios in %s\n", FUZZ_SCENARIOS);
        abort();
    }
    return 0;
}

static void fail(const char *what)
{
    stdout = real_out;
    stderr = real_err;
    fprintf(stderr, "fuzz_cli: %s\n", what);
    fprintf(stderr, "  arguments: ");
    for (size_t i = 0; i < args_len; i++) {
        unsigned char c = (unsigned char)args_text[i];
        if (c == 0 || c == '\n')
            fputs(" | ", stderr);
        else
            fputc(c >= 0x20 && c < 0x7f ? c : '?', stderr);
    }
    fputc('\n', stderr);
    abort();
}

/* What was written to a caught stream since it was rewound. */
static size_t caught(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    return n < 0 ? 0 : (size_t)n;
}

/* The output of one step of parsing, given its return code. */
static void check_output(int rc, unsigned newlines_in_args, const char *step)
{
    size_t nout = caught(out_mem), nerr = caught(err_mem);
    char why[160];
    if (rc == TUI_PARSED) {
        if (nout || nerr) {
            snprintf(why, sizeof why, "%s: parsed, but printed %zu bytes on stdout, %zu on stderr",
                     step, nout, nerr);
            fail(why);
        }
        return;
    }
    if (rc == TUI_EXIT_OK) {
        if (!nout || nerr) {
            snprintf(why, sizeof why, "%s: exit 0 (help) with %zu bytes on stdout, %zu on stderr",
                     step, nout, nerr);
            fail(why);
        }
        return;
    }
    if (rc != TUI_EXIT_USAGE) {
        snprintf(why, sizeof why, "%s: exit %d, not 2, for a command line that is not run", step,
                 rc);
        fail(why);
    }
    unsigned lines = 0;
    for (size_t i = 0; i < nerr && i < sizeof err_buf; i++)
        lines += err_buf[i] == '\n';
    if (nout || nerr < 11 || nerr > sizeof err_buf || memcmp(err_buf, "concviz: ", 9) != 0 ||
        err_buf[nerr - 1] != '\n' || lines < 1 || (lines > 1 && !newlines_in_args)) {
        snprintf(why, sizeof why,
                 "%s: exit 2 must print one line 'concviz: ...' on stderr and nothing on stdout "
                 "(stdout %zu bytes; stderr %zu bytes, %u lines: '%.60s')",
                 step, nout, nerr, lines, nerr ? err_buf : "");
        fail(why);
    }
}

/* An error that names an option names one the user wrote: a whole argument (up to its '=' for
 * "takes no value"), or "-x" for a short option x inside an argument such as -qx (a character
 * that is not a letter or a digit on its own, as in -q-). */
static void check_culprit(int argc, char **argv)
{
    static const char *const forms[][2] = {
        {"concviz: unknown option '", "' (see 'concviz"},
        {"concviz: option '", "' takes no value\n"},
        {"concviz: option '", "' needs a value\n"},
        {"concviz: unknown option character '", "' (see 'concviz"},
    };
    size_t nerr = caught(err_mem);
    if (nerr == 0 || nerr >= sizeof err_buf)
        return;
    err_buf[nerr] = 0;
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        size_t lead = strlen(forms[f][0]);
        if (strncmp(err_buf, forms[f][0], lead) != 0)
            continue;
        const char *name = err_buf + lead, *end = NULL;
        for (const char *p = name; (p = strstr(p, forms[f][1])); p++)
            end = p;
        if (!end)
            continue;
        size_t n = (size_t)(end - name);
        bool found = false;
        if (f == 3) { /* one character, in a cluster of short options */
            for (int i = 1; i < argc && !found && n == 1; i++)
                found = argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, name[0]);
            if (!found)
                fail("an error names an option character that is not on the command line");
            return;
        }
        for (int i = 1; i < argc && !found; i++) {
            const char *a = argv[i];
            if (!strncmp(a, name, n) && (a[n] == 0 || (f == 1 && a[n] == '=')))
                found = true; /* the whole argument, or its name before '=' */
            else if (n == 2 && name[0] == '-' && name[1] != '-' && a[0] == '-' && a[1] != '-' &&
                     strchr(a + 1, name[1]))
                found = true; /* a short option, alone or in a cluster */
        }
        if (!found || name[0] != '-')
            fail("an error names an option that is not on the command line");
        return;
    }
}

static void check_ui(const struct ui_opts *o)
{
    if (o->fps < 1 || o->fps > 240)
        fail("--fps out of range");
    if ((o->vw || o->vh) && (o->vw < 10 || o->vw > 1000 || o->vh < 10 || o->vh > 1000))
        fail("--size out of range");
    if (o->vw && !o->script)
        fail("--size without --script");
}

/* The values a command line that parses holds. */
static void check_parsed(const struct tui_cmdline *cl)
{
    switch (cl->cmd) {
    case TUI_CMD_PICKER:
        check_ui(&cl->picker);
        break;
    case TUI_CMD_LIST:
        break;
    case TUI_CMD_SHOW:
        if (!cl->show)
            fail("show without a scenario");
        break;
    case TUI_CMD_RUN: {
        const struct tui_run_opts *o = &cl->run;
        check_ui(&o->ui);
        if (!o->scenario || o->workers > 4096 || (o->ring && (o->ring < 64 || o->ring > 1 << 24)) ||
            o->switch_ms < 0 || o->switch_ms > 10000 || o->model >= (int)CV_MODEL__COUNT ||
            o->model < -1 || (o->ui.script && (o->headless || o->json)))
            fail("run: a value out of range");
        for (size_t i = 0; i < o->nsets; i++)
            if (!strchr(o->sets[i], '=') || o->sets[i][0] == '=')
                fail("run: a --set without KEY=VALUE");
        break;
    }
    case TUI_CMD_REPLAY: {
        const struct tui_replay_opts *o = &cl->replay;
        check_ui(&o->ui);
        if (!o->path || !(o->speed >= 0.1 && o->speed <= 100) || (o->json && !o->headless) ||
            (o->ui.script && o->headless))
            fail("replay: a value out of range");
        break;
    }
    case TUI_CMD_EXPORT: {
        const struct tui_export_opts *o = &cl->export;
        if (!o->path || !o->format ||
            (strcmp(o->format, "chrome") && strcmp(o->format, "csv") && strcmp(o->format, "json") &&
             strcmp(o->format, "svg")) ||
            ((o->from || o->to) && strcmp(o->format, "svg")) ||
            (o->from && o->to && o->svg.from_ns >= o->svg.to_ns) || (o->to && !o->svg.to_ns))
            fail("export: a value out of range");
        break;
    }
    case TUI_CMD_SERVE: {
        const struct tui_serve_opts *o = &cl->serve;
        if (o->port > 65535 || o->seconds > 86400 * 365 || o->max_requests > 1ul << 40)
            fail("serve: a value out of range");
        break;
    }
    }
}

/* The scenario run would load: the built-in one of that name, else counter-race. */
static struct cv_scenario *load_scenario(const char *name)
{
    const char *pick = NULL;
    for (char **p = scenario_paths; *p && !pick; p++) {
        const char *base = strrchr(*p, '/');
        base = base ? base + 1 : *p;
        size_t n = strlen(name);
        if (!strncmp(base, name, n) && !strcmp(base + n, ".ini"))
            pick = *p;
    }
    for (char **p = scenario_paths; *p && !pick; p++)
        if (strstr(*p, "/counter-race.ini"))
            pick = *p;
    struct cv_scenario *s = NULL;
    char *cause = NULL;
    if (!pick || cv_scenario_load(pick, &s, &cause) != CV_OK) {
        fprintf(stderr, "fuzz_cli: cannot load %s: %s\n", pick ? pick : "counter-race",
                cause ? cause : "?");
        abort();
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    args_text = (const char *)data;
    args_len = size;
    char sep = memchr(data, 0, size) ? 0 : '\n';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("concviz");
    unsigned newlines = 0;
    for (size_t at = 0; at < size && argc <= MAX_ARGS;) {
        const uint8_t *end = memchr(data + at, sep, size - at);
        size_t n = end ? (size_t)(end - (data + at)) : size - at;
        argv[argc] = malloc(n + 1);
        memcpy(argv[argc], data + at, n);
        argv[argc][n] = 0;
        for (size_t i = 0; i < n; i++)
            newlines += argv[argc][i] == '\n';
        argc++;
        at += n + 1;
    }
    argv[argc] = NULL;

    rewind(out_mem);
    rewind(err_mem);
    stdout = out_mem;
    stderr = err_mem;
    struct tui_cmdline cl;
    int rc = tui_cmdline_parse(argc, argv, &cl);
    check_output(rc, newlines, "parse");
    if (rc == TUI_EXIT_USAGE)
        check_culprit(argc, argv);
    if (rc == TUI_PARSED) {
        check_parsed(&cl);
        if (cl.cmd == TUI_CMD_RUN) {
            struct cv_scenario *s = load_scenario(cl.run.scenario);
            int prc = tui_run_prepare(&cl.run, s);
            check_output(prc == 0 ? TUI_PARSED : prc, newlines, "run --set");
            cv_scenario_free(s);
        }
    }
    stdout = real_out;
    stderr = real_err;
    tui_cmdline_free(&cl);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
