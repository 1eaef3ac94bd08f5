/* concviz run: parse the options, run the scenario, print the summary, exit with its verdict. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concviz/concviz.h"

struct run_opts {
    const char *scenario;
    int model;
    unsigned workers;
    int gil;
    double switch_ms;
    unsigned long ring;
    bool headless, json, check, quiet;
    size_t nsets;
    char **sets;
};

void tui_run_usage(FILE *out)
{
    fputs("Usage: concviz run SCENARIO [options]\n"
          "\n"
          "Runs SCENARIO (a name from 'concviz list', or a path to a scenario file).\n"
          "\n"
          "Options:\n"
          "  -m, --model M            serial, threads, procs, openmp, epoll or hybrid\n"
          "                           (default: the scenario's; see 'concviz show')\n"
          "  -w, --workers N          worker count (default: the scenario's)\n"
          "      --gil                emulate CPython's GIL (threads model)\n"
          "      --no-gil             no GIL, even if the scenario turns it on\n"
          "      --switch-interval MS GIL switch interval in ms (default 5, as CPython)\n"
          "  -s, --set KEY=VALUE      set a scenario parameter (repeatable)\n"
          "      --headless           no terminal UI (the only mode until the TUI lands)\n"
          "      --json               print the summary as one JSON object\n"
          "      --check              exit 1 if one of the scenario's expectations fails\n"
          "  -q, --quiet              no progress line on stderr\n"
          "      --ring-size N        events per lane ring (default 65536)\n"
          "  -h, --help               this help\n"
          "\n"
          "Exit codes: 0 ok, 1 an expectation failed (with --check), 2 usage error,\n"
          "3 runtime error, 130 interrupted (Ctrl-C or SIGTERM; the summary is still printed).\n",
          out);
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse(int argc, char **argv, struct run_opts *o)
{
    enum { O_GIL = 256, O_NOGIL, O_SWITCH, O_HEADLESS, O_JSON, O_CHECK, O_RING };
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"gil", no_argument, NULL, O_GIL},
        {"no-gil", no_argument, NULL, O_NOGIL},
        {"switch-interval", required_argument, NULL, O_SWITCH},
        {"set", required_argument, NULL, 's'},
        {"headless", no_argument, NULL, O_HEADLESS},
        {"json", no_argument, NULL, O_JSON},
        {"check", no_argument, NULL, O_CHECK},
        {"quiet", no_argument, NULL, 'q'},
        {"ring-size", required_argument, NULL, O_RING},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c;
    unsigned long v;
    while ((c = getopt_long(argc, argv, ":m:w:s:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'm': {
            int m = cv_model_from_name(optarg);
            if (m < 0)
                return tui_fail(TUI_EXIT_USAGE,
                                "unknown model '%s' (models: serial, threads, procs, openmp, "
                                "epoll, hybrid)",
                                optarg);
            o->model = m;
            break;
        }
        case 'w':
            if (!parse_uint(optarg, 1, 4096, &v))
                return tui_fail(TUI_EXIT_USAGE,
                                "--workers must be a whole number from 1 to 4096, not '%s'",
                                optarg);
            o->workers = (unsigned)v;
            break;
        case O_GIL:
            o->gil = 1;
            break;
        case O_NOGIL:
            o->gil = 0;
            break;
        case O_SWITCH: {
            char *end;
            double ms = strtod(optarg, &end);
            if (!*optarg || *end || !(ms > 0 && ms <= 10000))
                return tui_fail(TUI_EXIT_USAGE,
                                "--switch-interval must be milliseconds in (0, 10000], not '%s'",
                                optarg);
            o->switch_ms = ms;
            break;
        }
        case 's':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return tui_fail(TUI_EXIT_USAGE, "--set needs KEY=VALUE, not '%s'", optarg);
            o->sets = realloc(o->sets, (o->nsets + 1) * sizeof *o->sets);
            if (!o->sets)
                return tui_fail(TUI_EXIT_RUNTIME, "out of memory");
            o->sets[o->nsets++] = optarg;
            break;
        case O_HEADLESS:
            o->headless = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_CHECK:
            o->check = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case O_RING:
            if (!parse_uint(optarg, 64, 1ul << 24, &v))
                return tui_fail(TUI_EXIT_USAGE,
                                "--ring-size must be a whole number from 64 to 16777216, not '%s'",
                                optarg);
            o->ring = v;
            break;
        case 'h':
            tui_run_usage(stdout);
            return -1;
        case ':':
            return tui_fail(TUI_EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz run --help')",
                            argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "run needs a scenario (see 'concviz list')");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "run takes one scenario ('%s' is extra)", argv[optind + 1]);
    o->scenario = argv[optind];
    return 0;
}

/* Signals: the handler only asks the run to stop (async-signal-safe); a second one exits. */
static struct cv_run *volatile g_run;
static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    if (g_signals++ > 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (g_run)
        cv_run_stop(g_run);
}

static void human(char *buf, size_t n, double x)
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

static void progress(struct cv_run *run, const char *name, bool final)
{
    const struct cv_snapshot *s = cv_run_snapshot(run);
    char ev[32];
    human(ev, sizeof ev, (double)s->events_recorded);
    if (final) {
        fputs("\r\033[K", stderr);
        return;
    }
    fprintf(stderr, "\r\033[K%s  %s x%u%s  %.1fs  tasks %llu/%llu  in flight %u  events %s", name,
            cv_run_model_name(run), cv_run_workers(run), cv_run_gil(run) ? " gil" : "",
            cv_run_elapsed(run), (unsigned long long)(s->tasks.completed + s->tasks.failed),
            (unsigned long long)cv_run_task_count(run), s->inflight, ev);
    if (s->events_dropped)
        fprintf(stderr, "  DROPPED %llu", (unsigned long long)s->events_dropped);
    fflush(stderr);
}

/* A deadlock is a failure unless an applicable expectation of the scenario asserts it (reads
 * results.deadlock) and holds. */
static bool deadlock_expected(const struct cv_value *sum)
{
    const struct cv_value *exp = cv_value_get(sum, "expectations");
    for (size_t i = 0; exp && i < exp->n; i++) {
        const struct cv_value *expr = cv_value_get(exp->items[i], "expr");
        const struct cv_value *ok = cv_value_get(exp->items[i], "ok");
        if (expr && strstr(expr->str, "results.deadlock") && ok && ok->b)
            return true;
    }
    return false;
}

int tui_cmd_run(int argc, char **argv)
{
    struct run_opts o = {.model = -1, .gil = -1};
    int rc = parse(argc, argv, &o);
    if (rc != 0) {
        free(o.sets);
        return rc < 0 ? TUI_EXIT_OK : rc;
    }
    struct cv_scenario *s = tui_load_scenario(o.scenario);
    if (!s) {
        free(o.sets);
        return TUI_EXIT_USAGE;
    }
    char *cause = NULL;
    for (size_t i = 0; i < o.nsets; i++) {
        char *eq = strchr(o.sets[i], '=');
        *eq = 0;
        int r = cv_scenario_set(s, o.sets[i], eq + 1, &cause);
        *eq = '=';
        if (r != CV_OK) {
            rc = tui_fail(TUI_EXIT_USAGE, "--set %s: %s", o.sets[i], cause);
            goto out;
        }
    }

    struct cv_run_config cfg = {
        .scenario = s,
        .model = o.model,
        .workers = o.workers,
        .gil = o.gil,
        .switch_ms = o.switch_ms,
        .ring_capacity = o.ring,
    };
    struct cv_run *run = NULL;
    int r = cv_run_create(&cfg, &run, &cause);
    if (r != CV_OK) {
        rc = tui_fail(r == CV_ERR_USAGE ? TUI_EXIT_USAGE : TUI_EXIT_RUNTIME, "%s", cause);
        goto out;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_run = run;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (cv_run_start(run, &cause) != CV_OK) {
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        g_run = NULL;
        cv_run_destroy(run);
        goto out;
    }
    bool show = !o.quiet && isatty(STDERR_FILENO);
    uint64_t ticks = 0;
    while (!cv_run_poll(run)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (show && ++ticks % 20 == 0)
            progress(run, s->name, false);
    }
    if (show)
        progress(run, s->name, true);

    unsigned failed = 0;
    struct cv_value *sum = cv_run_summary(run, true, &failed);
    if (o.json)
        cv_value_write_json(sum, stdout, true);
    else
        cv_summary_write_text(sum, stdout);
    fflush(stdout);
    enum cv_run_state st = cv_run_state(run);
    if (st == CV_RUN_FAILED) {
        const struct cv_value *errs = cv_value_get(sum, "errors");
        rc = tui_fail(TUI_EXIT_RUNTIME, "run failed: %s",
                      errs && errs->n ? errs->items[0]->str : "unknown error");
    } else if (st == CV_RUN_DEADLOCKED && !deadlock_expected(sum)) {
        const struct cv_value *d = cv_value_child(cv_value_get(sum, "results"), "deadlock");
        const struct cv_value *text = cv_value_get(d, "text");
        rc = tui_fail(TUI_EXIT_EXPECT, "deadlock: %s", text ? text->str : "a wait-for cycle");
    } else if (st == CV_RUN_STOPPED) {
        rc = tui_fail(TUI_EXIT_INTERRUPTED, "interrupted; the summary covers the run so far");
    } else if (o.check && failed) {
        rc = tui_fail(TUI_EXIT_EXPECT, "%u expectation%s failed", failed, failed == 1 ? "" : "s");
    } else {
        rc = TUI_EXIT_OK;
    }
    cv_value_free(sum);
    g_run = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    cv_run_destroy(run);
out:
    free(cause);
    free(o.sets);
    cv_scenario_free(s);
    return rc;
}
