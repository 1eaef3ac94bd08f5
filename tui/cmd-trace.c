/* concviz trace [options] -- PROGRAM [ARGS...]: a program's own threads, live (cmd-run.c runs it
 * as a run of model trace, so the view, --headless, --json, --check, --record and the exports are
 * the run's). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmdline.h"
#include "concviz/files.h"
#include "concviz/httpd.h"
#include "ui.h"

#define TRACE_LIB "libconcviz-trace.so"
#define PYHOOK    "concviz-python" /* the directory of the Python start-up hook */

void tui_trace_usage(FILE *out)
{
    fputs("Usage: concviz trace [options] -- PROGRAM [ARGS...]\n"
          "\n"
          "Runs PROGRAM (looked up in PATH) with concviz's library preloaded and shows what its\n"
          "threads do: mutexes, rwlocks, condition variables, semaphores, barriers, sleeps,\n"
          "joins and blocking I/O; under CPython 3.11, its GIL. Lanes are the program's threads\n"
          "(forked processes too); locks are named by their symbol, or by address.\n"
          "\n"
          "Options:\n"
          "      --headless           no terminal UI: the program runs, then the summary\n"
          "      --json               print the summary as one JSON object (the program's\n"
          "                           output goes to stderr)\n"
          "  -e, --expect EXPR        an expectation on the summary, in the language of\n"
          "                           scenario files (repeatable), e.g. 'locks.GIL.handoffs > 0'\n"
          "      --check              exit 1 if an expectation fails\n"
          "  -q, --quiet              no progress line on stderr\n"
          "      --ring-size N        events per thread's ring (default 524288)\n"
          "      --max-threads N      threads traced at most (default 4096; more are counted)\n"
          "      --serve              start the loopback HTTP test server for the program; its\n"
          "                           address is in CONCVIZ_HTTP (e.g. $CONCVIZ_HTTP/delay/200)\n"
          "      --record FILE        record the trace ('concviz replay FILE')\n"
          "      --export-chrome OUT  write the trace as a Chrome trace (Perfetto, DevTools)\n"
          "\n"
          "Terminal UI: --fps N, --no-color, --ascii, --script FILE, --size WxH, as for run.\n"
          "In the view the program's output is kept, and printed once the view closes.\n"
          "  -h, --help               this help\n"
          "\n"
          "Exit codes: the program's own exit status (128+N when killed by signal N) when it\n"
          "ran; 1 an expectation failed (with --check), 2 usage error, 3 runtime error,\n"
          "127 the program could not be run, 130 interrupted (the program was stopped).\n",
          out);
}

/* PROGRAM as execvp would find it: true when it names an executable file (its path in found). */
static bool findable(const char *prog, char *found, size_t n)
{
    if (strchr(prog, '/')) {
        snprintf(found, n, "%s", prog);
        return access(prog, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char buf[PATH_MAX];
        struct stat st;
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", prog) < (int)sizeof buf &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
            snprintf(found, n, "%s", buf);
            return true;
        }
        if (!colon)
            return false;
        p = colon + 1;
    }
}

/* Why the loader will not preload the library into the program at path, or NULL: a statically
 * linked program has no loader, a set-user-ID or set-group-ID one ignores LD_PRELOAD. (A script
 * is its interpreter's business.) */
static const char *untraceable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    if (st.st_mode & (S_ISUID | S_ISGID))
        return st.st_mode & S_ISUID ? "set-user-ID" : "set-group-ID";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    Elf64_Ehdr eh;
    const char *why = NULL;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof(Elf64_Phdr)) {
        bool interp = false;
        for (unsigned i = 0; i < eh.e_phnum && !interp; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
                (ssize_t)sizeof ph)
                break;
            interp = ph.p_type == PT_INTERP;
        }
        if (!interp)
            why = "statically linked";
    }
    close(fd);
    return why;
}

int tui_trace_parse(int argc, char **argv, struct tui_trace_opts *t)
{
    enum { O_THREADS = 256, O_SERVE };
    static const struct option longs[] = {
        {"expect", required_argument, NULL, 'e'},
        TUI_RUN_OUTPUT_OPTIONS,
        {"max-threads", required_argument, NULL, O_THREADS},
        {"serve", no_argument, NULL, O_SERVE},
        UI_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* '+': the first word that is not an option is the program; its options are its own */
    static const char shorts[] = "+:e:qh";
    struct tui_run_opts *o = &t->run;
    *o = (struct tui_run_opts){.model = -1, .gil = -1, .ui = ui_opts_default()};
    tui_getopt_reset();
    int c;
    unsigned long v;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (c) {
        case 'e':
            t->expects = cv_xrealloc(t->expects, (t->nexpects + 1) * sizeof *t->expects);
            t->expects[t->nexpects++] = optarg;
            break;
        case O_THREADS:
            if (!tui_parse_ulong(optarg, 1, 65535, &v))
                return tui_fail(TUI_EXIT_USAGE,
                                "--max-threads must be a whole number from 1 to 65535, not '%s'",
                                optarg);
            t->max_threads = (uint32_t)v;
            break;
        case O_SERVE:
            t->serve = true;
            break;
        case 'h':
            tui_trace_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_missing_value(argv);
        default: {
            int r = tui_run_output_opt(c, optarg, o);
            if (r < 0)
                r = ui_opt_or_bad(c, optarg, argv, shorts, "trace", &o->ui);
            if (r)
                return r;
            break;
        }
        }
    }
    int r = ui_opts_check(&o->ui, o->headless, o->json);
    if (r)
        return r;
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "trace needs a program: concviz trace [options] -- "
                                        "PROGRAM [ARGS...]");
    t->argv = argv + optind;
    return TUI_PARSED;
}

void tui_trace_opts_free(struct tui_trace_opts *t)
{
    tui_run_opts_free(&t->run);
    free(t->expects);
    t->expects = NULL;
    for (int i = 0; i < 2; i++)
        if (t->outfile[i]) {
            unlink(t->outfile[i]);
            cv_tmp_untrack(t->outfile[i]);
            free(t->outfile[i]);
            t->outfile[i] = NULL;
        }
}

/* The directory of the running binary, where the library and the Python hook are built. */
static char *self_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    return cv_strdup(dirname(buf));
}

/* The scenario a trace is judged by: its title the command line, its expectations --expect. */
static struct cv_scenario *trace_scenario(const struct tui_trace_opts *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        tui_fail(TUI_EXIT_RUNTIME, "out of memory");
        return NULL;
    }
    fputs("[scenario]\nname = trace\ntitle =", f);
    for (char *const *a = t->argv; *a; a++) {
        fputc(' ', f);
        for (const char *p = *a; *p; p++)
            fputc((unsigned char)*p < 0x20 ? ' ' : *p, f);
    }
    fputs("\nlesson = What the program's threads do: which lock each waits for, and for how "
          "long.\nworkload = trace\nmodel = threads\nmodels = threads\n",
          f);
    if (t->nexpects)
        fputs("[expect]\n", f);
    for (size_t i = 0; i < t->nexpects; i++) {
        fprintf(f, "expect_%zu = ", i + 1);
        for (const char *p = t->expects[i]; *p; p++)
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
        fputc('\n', f);
    }
    fclose(f);
    struct cv_scenario *s = NULL;
    char *cause = NULL;
    if (cv_scenario_load_text("trace", text, len, &s, &cause) != CV_OK) {
        /* the only part the user wrote is an expectation: name it as given */
        const char *at = cause ? strstr(cause, ": ") : NULL;
        tui_fail(TUI_EXIT_USAGE, "--expect: %s", at ? at + 2 : cause ? cause : "invalid");
        free(cause);
        free(text);
        return NULL;
    }
    free(text);
    s->model = CV_MODEL_TRACE;
    s->models = 1u << CV_MODEL_TRACE;
    return s;
}

static int temp_output(struct tui_trace_opts *t, int i)
{
    char *tmpl = cv_strdup_printf("%s/concviz-trace-out-XXXXXX", cv_tmpdir());
    int fd = cv_tmp_mkstemp(tmpl);
    if (fd < 0) {
        free(tmpl);
        return -1;
    }
    t->outfile[i] = tmpl;
    return fd;
}

/* What the program wrote while the view was up, printed once it is closed. */
static void replay_output(const char *path, FILE *to)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, to);
    fclose(f);
    fflush(to);
}

int tui_trace_exec(struct tui_trace_opts *t)
{
    char found[PATH_MAX];
    if (!findable(t->argv[0], found, sizeof found))
        return tui_fail(TUI_EXIT_NOT_STARTED, "cannot run '%s': %s", t->argv[0],
                        strchr(t->argv[0], '/') ? strerror(errno) : "not found in PATH");
    const char *why = untraceable(found);
    if (why)
        tui_fail(0,
                 "warning: %s is %s: the loader does not preload concviz's library into it, so "
                 "its threads are not traced (it runs all the same)",
                 t->argv[0], why);
    char *dir = self_dir();
    const char *env_lib = getenv("CONCVIZ_TRACE_LIB");
    char *lib = env_lib && *env_lib ? cv_strdup(env_lib)
                : dir               ? cv_strdup_printf("%s/%s", dir, TRACE_LIB)
                                    : NULL;
    char *pyhook = dir ? cv_strdup_printf("%s/%s", dir, PYHOOK) : NULL;
    free(dir);
    struct cv_scenario *s = NULL;
    struct cv_httpd *httpd = NULL;
    char *http_env[2] = {NULL, NULL};
    int fds[3] = {-1, -1, -1};
    bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    bool live = t->run.ui.script || (!t->run.headless && !t->run.json && tty);
    int rc;
    if (!lib || access(lib, R_OK) != 0) {
        rc = tui_fail(TUI_EXIT_RUNTIME, "cannot find the trace library %s (build it: make)",
                      lib ? lib : TRACE_LIB);
        goto out;
    }
    if (!(s = trace_scenario(t))) {
        rc = TUI_EXIT_USAGE;
        goto out;
    }
    struct cv_trace_config tc = {
        .argv = t->argv,
        .lib = lib,
        .pythonpath = pyhook && access(pyhook, R_OK) == 0 ? pyhook : NULL,
        .in = -1,
        .out = -1,
        .err = -1,
        .max_lanes = t->max_threads,
        .stop_signal = tui_run_stop_signal,
    };
    if (live) { /* the terminal is the view's: the program reads nothing, its output is kept */
        fds[0] = tc.in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        fds[1] = tc.out = temp_output(t, 0);
        fds[2] = tc.err = temp_output(t, 1);
        if (tc.in < 0 || tc.out < 0 || tc.err < 0) {
            rc = tui_fail(TUI_EXIT_RUNTIME, "cannot keep the program's output in %s: %s",
                          cv_tmpdir(), strerror(errno));
            goto out;
        }
    } else if (t->run.json) {
        tc.out = STDERR_FILENO; /* stdout is the JSON's */
    }
    if (t->serve) {
        char *cause = NULL;
        if (cv_httpd_start(0, &httpd, &cause) != CV_OK) {
            rc = tui_fail(TUI_EXIT_RUNTIME, "--serve: %s", cause);
            free(cause);
            goto out;
        }
        http_env[0] = cv_strdup_printf("CONCVIZ_HTTP=http://127.0.0.1:%u", cv_httpd_port(httpd));
        tc.env = (const char *const *)http_env;
    }
    t->run.scenario_obj = s;
    t->run.trace = &tc;
    rc = tui_run_exec(&t->run);
    t->run.scenario_obj = NULL;
    t->run.trace = NULL;
    if (live) {
        replay_output(t->outfile[0], stdout);
        replay_output(t->outfile[1], stderr);
    }
out:
    cv_httpd_stop(httpd);
    free(http_env[0]);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cv_scenario_free(s);
    free(lib);
    free(pyhook);
    return rc;
}

static int trace_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_trace_parse(argc, argv, &cl->trace);
}

static int trace_exec(struct tui_cmdline *cl)
{
    return tui_trace_exec(&cl->trace);
}

static void trace_free(struct tui_cmdline *cl)
{
    tui_trace_opts_free(&cl->trace);
}

const struct tui_command tui_cmd_trace = {"trace", TUI_CMD_TRACE, trace_parse, trace_exec,
                                          trace_free};
