/* concviz run: parse the options, run the scenario, print the summary, exit with its verdict. */
#include "cmdline.h"
#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concviz/clock.h"
#include "concviz/concviz.h"
#include "concviz/files.h"

void tui_run_usage(FILE *out)
{
    fputs(
        "Usage: concviz run SCENARIO [options]\n"
        "\n"
        "Runs SCENARIO (a name from 'concviz list', or a path to a scenario file).\n"
        "\n"
        "Options:\n"
        "  -m, --model M            serial, threads, procs, openmp, epoll or hybrid\n"
        "                           (default: the scenario's; see 'concviz show')\n"
        "  -w, --workers N          worker count (default: the scenario's)\n"
        "      --gil                emulate CPython's GIL (threads model), as CPython 3.11\n"
        "      --no-gil             no GIL, even if the scenario turns it on\n"
        "      --python VERSION     the CPython to emulate (threads model): 3.9, 3.10, 3.11,\n"
        "                           3.12, 3.13 (a GIL; up to 3.9 it changes hands between any\n"
        "                           two bytecodes, from 3.10 only at calls and backward\n"
        "                           jumps) or 3.13t (free-threaded: no GIL)\n"
        "      --switch-interval MS GIL switch interval in ms (default 5, as CPython)\n"
        "  -s, --set KEY=VALUE      set a scenario parameter (repeatable)\n"
        "      --task-timeout S     give up on a task after S seconds (a watchdog; wins over\n"
        "                           the scenario's timeout): threads run on, coroutines are\n"
        "                           cancelled, a procs worker is killed and the run fails\n"
        "                           (exit 3) unless the scenario says on_worker_death = continue\n"
        "      --headless           no terminal UI: a progress line, then the summary\n"
        "                           (also what happens when stdout is not a terminal)\n"
        "      --json               print the summary as one JSON object (headless)\n"
        "      --check              exit 1 if one of the scenario's expectations fails\n"
        "  -q, --quiet              no progress line on stderr\n"
        "      --repeat N           run the scenario N times in this process (headless),\n"
        "                           stopping at the first run that fails; the summary is\n"
        "                           the last run's (a soak test: memory must stay flat)\n"
        "      --for SECONDS        the same, until SECONDS have passed (the run under way\n"
        "                           finishes; with --repeat, whichever comes first)\n"
        "      --ring-size N        events per lane ring (default 131072)\n"
        "      --record FILE        record the run's events to FILE ('concviz replay FILE',\n"
        "                           'concviz export FILE')\n"
        "      --export-chrome OUT  write the run as a Chrome trace (Perfetto, DevTools)\n"
        "\n"
        "Terminal UI:\n"
        "      --fps N              frames per second (default 30)\n"
        "      --no-color           no colours: states as letters (also when NO_COLOR is set)\n"
        "      --ascii              no glyphs outside ASCII\n"
        "      --script FILE        drive the UI from FILE: key, type, wait, snapshot, dump,\n"
        "                           expect, resize (see the README)\n"
        "      --size WxH           with --script: draw on a virtual WxH screen, no terminal\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit codes: 0 ok, 1 an expectation failed (with --check), 2 usage error,\n"
        "3 runtime error (also: the output could not be written), 130 interrupted (Ctrl-C,\n"
        "SIGTERM or SIGHUP; the summary is still printed).\n",
        out);
}

int tui_run_output_opt(int c, const char *arg, struct tui_run_opts *o)
{
    unsigned long v;
    switch (c) {
    case TUI_OPT_HEADLESS:
        o->headless = true;
        return 0;
    case TUI_OPT_JSON:
        o->json = true;
        return 0;
    case TUI_OPT_CHECK:
        o->check = true;
        return 0;
    case 'q':
        o->quiet = true;
        return 0;
    case TUI_OPT_RING:
        if (!tui_parse_ulong(arg, 64, 1ul << 24, &v))
            return tui_fail(TUI_EXIT_USAGE,
                            "--ring-size must be a whole number from 64 to 16777216, not '%s'",
                            arg);
        o->ring = v;
        return 0;
    case TUI_OPT_RECORD:
        o->record = arg;
        return 0;
    case TUI_OPT_EXPORT_CHROME:
        o->export_chrome = arg;
        return 0;
    default:
        return -1;
    }
}

int tui_run_parse(int argc, char **argv, struct tui_run_opts *o)
{
    enum { O_GIL = 256, O_NOGIL, O_SWITCH, O_REPEAT, O_FOR, O_TASK_TIMEOUT, O_PYTHON };
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"gil", no_argument, NULL, O_GIL},
        {"no-gil", no_argument, NULL, O_NOGIL},
        {"python", required_argument, NULL, O_PYTHON},
        {"switch-interval", required_argument, NULL, O_SWITCH},
        {"set", required_argument, NULL, 's'},
        {"task-timeout", required_argument, NULL, O_TASK_TIMEOUT},
        TUI_RUN_OUTPUT_OPTIONS,
        UI_LONG_OPTIONS,
        {"repeat", required_argument, NULL, O_REPEAT},
        {"for", required_argument, NULL, O_FOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shorts[] = ":m:w:s:qh";
    *o = (struct tui_run_opts){.model = -1, .gil = -1, .ui = ui_opts_default()};
    tui_getopt_reset();
    int c;
    unsigned long v;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
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
            if (!tui_parse_ulong(optarg, 1, 4096, &v))
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
        case O_PYTHON:
            if (!cv_python_known(optarg))
                return tui_fail(TUI_EXIT_USAGE,
                                "unknown CPython version '%s' for --python (one of: %s)", optarg,
                                cv_python_versions());
            o->python = optarg;
            break;
        case O_SWITCH: {
            double ms;
            if (!tui_parse_number(optarg, CV_NUMBER_DECIMALS, 0, 10000, &ms) || ms <= 0)
                return tui_fail(TUI_EXIT_USAGE,
                                "--switch-interval must be milliseconds in (0, 10000] with at "
                                "most %d decimals, not '%s'",
                                CV_NUMBER_DECIMALS, optarg);
            o->switch_ms = ms;
            break;
        }
        case O_TASK_TIMEOUT: {
            double sec;
            if (!tui_parse_number(optarg, 3, 0.001, 86400, &sec))
                return tui_fail(TUI_EXIT_USAGE,
                                "--task-timeout must be seconds from 0.001 to 86400 (at most 3 "
                                "decimals), not '%s'",
                                optarg);
            o->task_timeout_s = sec;
            break;
        }
        case 's':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return tui_fail(TUI_EXIT_USAGE, "--set needs KEY=VALUE, not '%s'", optarg);
            o->sets = cv_xrealloc(o->sets, (o->nsets + 1) * sizeof *o->sets);
            o->sets[o->nsets++] = optarg;
            break;
        case O_REPEAT:
            if (!tui_parse_ulong(optarg, 1, 1000000000ul, &v))
                return tui_fail(TUI_EXIT_USAGE,
                                "--repeat must be a whole number from 1 to 1000000000, not '%s'",
                                optarg);
            o->repeat = v;
            break;
        case O_FOR:
            if (!tui_parse_ulong(optarg, 1, 86400ul * 365, &o->for_s))
                return tui_fail(TUI_EXIT_USAGE, "--for must be a whole number of seconds, not '%s'",
                                optarg);
            break;
        case 'h':
            tui_run_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_missing_value(argv);
        default: {
            int r = tui_run_output_opt(c, optarg, o);
            if (r < 0)
                r = ui_opt_or_bad(c, optarg, argv, shorts, "run", &o->ui);
            if (r)
                return r;
            break;
        }
        }
    }
    if (o->repeat || o->for_s) {
        if (o->ui.script)
            return tui_fail(TUI_EXIT_USAGE, "--repeat and --for rerun headless; they do not go "
                                            "with --script");
        if (o->record || o->export_chrome)
            return tui_fail(TUI_EXIT_USAGE, "--repeat and --for keep no recording; they do not "
                                            "go with --record or --export-chrome");
        o->headless = true;
    }
    int r = ui_opts_check(&o->ui, o->headless, o->json);
    if (r)
        return r;
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "run needs a scenario (see 'concviz list')");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "run takes one scenario ('%s' is extra)", argv[optind + 1]);
    o->scenario = argv[optind];
    return TUI_PARSED;
}

void tui_run_opts_free(struct tui_run_opts *o)
{
    if (o->tmp_record) {
        unlink(o->tmp_record);
        cv_tmp_untrack(o->tmp_record);
        free(o->tmp_record);
        o->tmp_record = NULL;
    }
    free(o->sets);
    o->sets = NULL;
    o->nsets = 0;
}

int tui_run_prepare(const struct tui_run_opts *o, struct cv_scenario *s)
{
    for (size_t i = 0; i < o->nsets; i++) {
        char *eq = strchr(o->sets[i], '=');
        char *cause = NULL;
        *eq = 0;
        int r = cv_scenario_set(s, o->sets[i], eq + 1, &cause);
        *eq = '=';
        if (r != CV_OK) {
            int rc = tui_fail(TUI_EXIT_USAGE, "--set %s: %s", o->sets[i], cause);
            free(cause);
            return rc;
        }
    }
    if ((o->repeat || o->for_s) && s->nsweep && !o->workers)
        return tui_fail(TUI_EXIT_USAGE, "--repeat and --for rerun one run: a sweep scenario needs "
                                        "--workers N");
    if ((o->record || o->export_chrome) && s->nsweep && !o->workers)
        return tui_fail(TUI_EXIT_USAGE, "--record and --export-chrome keep one run: a sweep "
                                        "scenario needs --workers N");
    return 0;
}

/* Signals: the handler only asks the run to stop (async-signal-safe); a second one exits. One
 * that comes while no run exists yet (its setup) is counted, and run_once stops the run. Once
 * the runs are over (g_output: the summary is being written, maybe to a pipe nobody reads) one
 * signal ends the process. Exiting removes the temporary files. A signal sent to the whole
 * process group (`timeout`, `kill -INT -- -PGID`) can reach this process twice, once for itself
 * and once for the group, a moment apart: a repeat within SIGNAL_REPEAT_NS of the first is that
 * same signal, not a second one (it ended a third of such runs without a summary). */
#define SIGNAL_REPEAT_NS 300000000ull
static struct cv_run *volatile g_run;
static volatile sig_atomic_t g_signals, g_output, g_stop_sig;
static volatile uint64_t g_first_signal_ns; /* written by the handler only */
static bool g_recorded; /* a headless run opened its recording (it is ours to export) */

static void on_signal(int sig)
{
    int saved = errno; /* the code it interrupted may be about to read errno */
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* async-signal-safe */
    uint64_t now = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
    if (g_signals > 0 && sig == g_stop_sig && now - g_first_signal_ns < SIGNAL_REPEAT_NS) {
        errno = saved; /* the group's copy of the first signal */
        return;
    }
    if (g_output || g_signals++ > 0) {
        tui_signal_exit(sig);
        errno = saved;
        return;
    }
    g_first_signal_ns = now;
    g_stop_sig = sig;
    if (g_run)
        cv_run_stop(g_run);
    errno = saved;
}

int tui_run_stop_signal(void)
{
    return g_stop_sig ? g_stop_sig : ui_screen_signal();
}

/* The progress line goes to stderr's terminal opened again without blocking: the loop that
 * writes it also drains the run, and a terminal that stops reading (Ctrl-S, a pty nobody reads)
 * must cost progress lines, never events. When it cannot be opened again, stderr itself, only
 * when it takes output at once. -1: not now. */
static int progress_fd(void)
{
    static int fd = -2;
    if (fd == -2) {
        const char *tty = ttyname(STDERR_FILENO);
        fd = tty ? open(tty, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
    }
    if (fd >= 0)
        return fd;
    struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) ? STDERR_FILENO : -1;
}

static void progress(struct cv_run *run, const char *name, bool final)
{
    int fd = progress_fd();
    if (fd < 0)
        return;
    char line[512];
    size_t n = 0;
#define ADD(...)                                                               \
    do {                                                                       \
        int k = snprintf(line + n, sizeof line - n, __VA_ARGS__);              \
        if (k > 0)                                                             \
            n = n + (size_t)k < sizeof line ? n + (size_t)k : sizeof line - 1; \
    } while (0)
    ADD("\r\033[K");
    if (!final) {
        const struct cv_snapshot *s = cv_run_snapshot(run);
        char ev[32];
        tui_human(ev, sizeof ev, (double)s->events_recorded);
        char tasks[96];
        tui_tasks_text(tasks, sizeof tasks, &s->tasks, cv_run_task_count(run));
        const char *model = cv_run_model_name(run);
        char workers[48]; /* an event loop is one thread, whatever its tasks (as in the view) */
        if (!strcmp(model, "epoll"))
            snprintf(workers, sizeof workers, "1 thread");
        else if (!strcmp(model, "hybrid"))
            snprintf(workers, sizeof workers, "1 thread + %u in its executor", cv_run_workers(run));
        else
            snprintf(workers, sizeof workers, "x%u", cv_run_workers(run));
        const char *py = cv_run_python(run);
        char gil[32] = "";
        if (py)
            snprintf(gil, sizeof gil, cv_run_gil(run) ? " GIL (CPython %s)" : " CPython %s", py);
        ADD("%s  %s %s%s  %.1fs  %s  in flight %u  events %s", name, model, workers, gil,
            cv_run_elapsed(run), tasks, s->inflight, ev);
        if (s->events_dropped)
            ADD("  DROPPED %llu", (unsigned long long)s->events_dropped);
        for (size_t i = 0; i < s->nlanes; i++)
            if (s->lanes[i].state == CV_LANE_STALLED)
                ADD("  STALLED %s", s->lanes[i].name);
    }
#undef ADD
    if (write(fd, line, n) < 0) { /* EAGAIN: the terminal is not reading; this line is skipped */
    }
}

static struct cv_run_config run_config(const struct tui_run_opts *o, struct cv_scenario *s,
                                       unsigned workers)
{
    return (struct cv_run_config){
        .scenario = s,
        .model = o->model,
        .workers = workers,
        .gil = o->gil,
        .python = o->python,
        .switch_ms = o->switch_ms,
        .ring_capacity = o->ring,
        .record_path = o->record ? o->record : o->tmp_record,
        .task_timeout_ns = (uint64_t)(o->task_timeout_s * 1e9),
        .trace = o->trace,
    };
}

/* One run: create, start, poll with a progress line, summarise. Returns an exit code (usage
 * and runtime errors already printed) and the summary in *out (NULL on an early error). */
static int run_once(const struct tui_run_opts *o, struct cv_scenario *s, unsigned workers,
                    const char *label, struct cv_value **out, enum cv_run_state *state,
                    unsigned *failed)
{
    char *cause = NULL;
    *out = NULL;
    struct cv_run_config cfg = run_config(o, s, workers);
    struct cv_run *run = NULL;
    int r = cv_run_create(&cfg, &run, &cause);
    if (r != CV_OK) {
        int rc = tui_fail(r == CV_ERR_USAGE ? TUI_EXIT_USAGE : TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        return rc;
    }
    g_run = run;
    /* A signal that came while the run was being set up (before g_run named it) stops it now:
     * the first Ctrl-C is never lost, and a second still ends the process. */
    if (g_signals)
        cv_run_stop(run);
    r = cv_run_start(run, &cause);
    if (r != CV_OK) { /* a recording that may not be replaced is a usage error */
        int rc = tui_fail(r == CV_ERR_USAGE ? TUI_EXIT_USAGE : TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        g_run = NULL;
        cv_run_destroy(run);
        return rc;
    }
    if (cfg.record_path)
        g_recorded = true;
    bool show = !o->quiet && isatty(STDERR_FILENO);
    uint64_t ticks = 0;
    while (!cv_run_poll(run)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (show && ++ticks % 20 == 0)
            progress(run, label, false);
    }
    if (show)
        progress(run, label, true);
    *out = cv_run_summary(run, true, failed);
    *state = cv_run_state(run);
    int rc = TUI_EXIT_OK;
    const char *rec_err = cv_run_record_error(run);
    struct cv_value *errs = *out ? cv_value_get(*out, "errors") : NULL;
    if (rec_err && *state == CV_RUN_FAILED && errs) {
        /* the run's failure is the one line (its verdict) and the exit; the short file is a
         * consequence, kept in the summary's errors after the cause */
        cv_value_push(errs, cv_value_str(rec_err));
        rc = TUI_EXIT_RUNTIME;
    } else if (rec_err) { /* the summary still comes; the exit says the file is short */
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", rec_err);
    }
    g_run = NULL;
    cv_run_destroy(run);
    return rc;
}

/* Whether a rerun may follow this run: it ended as planned and passed its check. */
static bool run_passed(const struct tui_run_opts *o, const struct cv_value *sum,
                       enum cv_run_state st, unsigned failed)
{
    bool ended = st == CV_RUN_DONE || (st == CV_RUN_DEADLOCKED && tui_deadlock_expected(sum));
    return ended && !(o->check && failed);
}

/* One run, or with --repeat/--for the same run again and again in this process; prints the last
 * run's summary and returns the exit code its verdict calls for. */
static int run_repeated(const struct tui_run_opts *o, struct cv_scenario *s)
{
    bool again = o->repeat || o->for_s;
    uint64_t t0 = cv_clock_mono_ns();
    uint64_t until = o->for_s ? t0 + o->for_s * 1000000000ull : 0;
    unsigned long runs = 0;
    int rc = TUI_EXIT_OK;
    for (;;) {
        char label[96];
        if (again)
            snprintf(label, sizeof label, "%s #%lu", s->name, runs + 1);
        else
            snprintf(label, sizeof label, "%s", s->name);
        struct cv_value *sum = NULL;
        enum cv_run_state st = CV_RUN_DONE;
        unsigned failed = 0;
        int rec_rc = run_once(o, s, o->workers, label, &sum, &st, &failed);
        rc = rec_rc;
        if (!sum)
            break;
        runs++;
        bool more = again && !g_signals && rec_rc == TUI_EXIT_OK &&
                    run_passed(o, sum, st, failed) && (!o->repeat || runs < o->repeat) &&
                    (!until || cv_clock_mono_ns() < until);
        if (more) {
            tui_verdict(o->check, sum, st, failed); /* warnings of errors the run survived */
            cv_value_free(sum);
            continue;
        }
        g_output = 1;
        if (o->json)
            cv_value_write_json(sum, stdout, true);
        else
            cv_summary_write_text(sum, stdout);
        int wr = tui_stdout_flush();
        rc = tui_verdict(o->check, sum, st, failed);
        if (wr && (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT))
            rc = wr;
        if (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT)
            rc = rec_rc ? rec_rc : rc;
        cv_value_free(sum);
        break;
    }
    if (again)
        tui_fail(0, "%lu run%s of %s in %.1f s", runs, runs == 1 ? "" : "s", s->name,
                 (double)(cv_clock_mono_ns() - t0) / 1e9);
    if (again && g_signals && rc == TUI_EXIT_OK) /* the signal came between two runs */
        rc = tui_fail(TUI_EXIT_INTERRUPTED, "interrupted; the summary is the last whole run's");
    return rc;
}

/* A sweep: the scenario once per worker count, then a table and the sweep's expectations. */
static int run_sweep(const struct tui_run_opts *o, struct cv_scenario *s)
{
    struct cv_value *root = cv_value_obj();
    cv_value_set_str(root, "schema", "concviz.sweep/1");
    cv_value_set_str(root, "scenario", s->name);
    struct cv_value *counts = cv_value_set(root, "sweep", cv_value_arr());
    if (s->sweep_default) /* Python's default pool size here, min(32, cpus + 4) */
        cv_value_set(root, "default_workers", cv_value_num(s->sweep[s->sweep_default - 1]));
    struct cv_value *runs = cv_value_set(root, "runs", cv_value_arr());
    int rc = TUI_EXIT_OK;
    for (size_t i = 0; i < s->nsweep && rc == TUI_EXIT_OK; i++) {
        char label[64];
        snprintf(label, sizeof label, "%s [%zu/%zu]", s->name, i + 1, s->nsweep);
        struct cv_value *sum = NULL;
        enum cv_run_state st = CV_RUN_DONE;
        unsigned failed = 0;
        rc = run_once(o, s, s->sweep[i], label, &sum, &st, &failed);
        if (!sum)
            break;
        cv_value_push(counts, cv_value_num(s->sweep[i]));
        cv_value_push(runs, sum);
        if (st != CV_RUN_DONE)
            rc = tui_verdict(o->check, sum, st, 0);
    }
    unsigned failed = 0;
    if (rc == TUI_EXIT_OK) {
        if (runs->n) {
            /* what the runs share, so expectations can read params.x and model */
            static const char *const shared[] = {"model", "gil", "python", "params"};
            for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
                cv_value_set(root, shared[i],
                             cv_value_copy(cv_value_get(runs->items[0], shared[i])));
        }
        cv_value_set(root, "expectations", cv_expectations_eval(s, root, &failed));
    }
    g_output = 1;
    if (o->json) {
        cv_value_write_json(root, stdout, true);
    } else {
        printf("%s  sweep of workers\n\n  %8s %10s %9s %10s %12s %10s\n", s->name, "workers",
               "wall", "speedup", "cpu", "max flight", "idle max");
        double first = runs->n ? tui_num(runs->items[0], "wall_s") : 0;
        for (size_t i = 0; i < runs->n; i++) {
            const struct cv_value *r = runs->items[i];
            double wall = tui_num(r, "wall_s");
            printf("  %8.0f %9.3fs %8.2fx %9.3fs %12.0f %9.3fs%s\n", tui_num(r, "workers"), wall,
                   wall > 0 ? first / wall : 0, tui_num(r, "cpu_s"), tui_num(r, "inflight_max"),
                   tui_num(cv_value_get(r, "balance"), "idle_s_max"),
                   i + 1 == s->sweep_default ? "  Python's default, min(32, cpus + 4)" : "");
        }
        const struct cv_value *exp = cv_value_get(root, "expectations");
        if (exp && exp->n) {
            printf("\n  expectations\n");
            for (size_t i = 0; i < exp->n; i++) {
                const struct cv_value *x = exp->items[i];
                printf("    %s %-18s %s   [%s]\n", cv_expectation_mark(x),
                       cv_value_get(x, "name")->str, cv_value_get(x, "expr")->str,
                       cv_value_get(x, "actual")->str);
            }
        }
    }
    int wr = tui_stdout_flush();
    if (rc == TUI_EXIT_OK && o->check && failed)
        rc = tui_fail(TUI_EXIT_EXPECT, "%u expectation%s failed", failed, failed == 1 ? "" : "s");
    if (wr && (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT))
        rc = wr;
    cv_value_free(root);
    return rc;
}

/* An output of the run may be neither one of its inputs (the scenario, the script) nor the
 * other output: 0, or the usage error printed. */
static int check_outputs(const struct tui_run_opts *o, const struct cv_scenario *s)
{
    const char *outs[] = {o->record, o->export_chrome};
    const char *flags[] = {"--record", "--export-chrome"};
    for (size_t i = 0; i < 2; i++) {
        if (!outs[i])
            continue;
        if (s->path && cv_file_same(outs[i], s->path))
            return tui_fail(TUI_EXIT_USAGE,
                            "%s %s is the scenario file being run; it would be overwritten",
                            flags[i], outs[i]);
        if (o->ui.script && cv_file_same(outs[i], o->ui.script))
            return tui_fail(TUI_EXIT_USAGE, "%s %s is the --script file; it would be overwritten",
                            flags[i], outs[i]);
        if (cv_file_same_fd(STDOUT_FILENO, outs[i])) /* the summary would be written into it */
            return tui_fail(TUI_EXIT_USAGE, "%s %s is also stdout; the summary would mix with it",
                            flags[i], outs[i]);
    }
    if (o->record && o->export_chrome && cv_file_same(o->record, o->export_chrome))
        return tui_fail(TUI_EXIT_USAGE,
                        "--record %s and --export-chrome %s are the same file; the trace would "
                        "replace the recording",
                        o->record, o->export_chrome);
    return 0;
}

/* For tests only (the golden screens of the live view): CONCVIZ_FAKE_CLOCK=NS runs on a fake
 * clock that moves on NS nanoseconds per event recorded and not otherwise, so that a run whose
 * events come in one fixed order (one lane: the serial model) has the same times, to the
 * nanosecond, on every machine. 0, or the usage error printed. */
static int fake_clock(void)
{
    const char *v = getenv("CONCVIZ_FAKE_CLOCK");
    unsigned long step;
    if (!v)
        return 0;
    if (!tui_parse_ulong(v, 1, 1000000000ul, &step))
        return tui_fail(TUI_EXIT_USAGE,
                        "CONCVIZ_FAKE_CLOCK (for tests) must be the nanoseconds per event, a whole "
                        "number from 1 to 1000000000, not '%s'",
                        v);
    cv_clock_use_fake(0);
    cv_clock_fake_step(step);
    return 0;
}

int tui_run_exec(struct tui_run_opts *o)
{
    int rc = fake_clock();
    if (rc)
        return rc;
    struct cv_scenario *s = o->scenario_obj ? o->scenario_obj : tui_load_scenario(o->scenario);
    if (!s)
        return TUI_EXIT_USAGE;
    char *cause = NULL;
    bool live = false;
    rc = tui_run_prepare(o, s);
    if (!rc)
        rc = check_outputs(o, s);
    if (rc)
        goto out;
    if (o->export_chrome && !o->record) {
        /* the run is recorded to a temporary file, exported from it, then removed (by a signal
         * too) */
        char *tmpl = cv_strdup_printf("%s/concviz-run-XXXXXX", cv_tmpdir());
        int fd = cv_tmp_mkstemp(tmpl);
        if (fd < 0) {
            rc = tui_fail(TUI_EXIT_RUNTIME, "cannot create a temporary recording in %s: %s",
                          cv_tmpdir(), strerror(errno));
            free(tmpl);
            goto out;
        }
        close(fd);
        o->tmp_record = tmpl;
    }

    /* The terminal UI, when there is a terminal (or a script with a virtual screen). */
    bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    live = o->ui.script || (!o->headless && !o->json && tty);
    if (live) {
        if (o->ui.script && !o->ui.vw && !tty) {
            rc = tui_fail(TUI_EXIT_USAGE, "--script without a terminal needs --size WxH");
            goto out;
        }
        struct ui_script *script = NULL;
        if (o->ui.script && !(script = ui_script_load(o->ui.script, &cause))) {
            rc = tui_fail(TUI_EXIT_USAGE, "%s", cause);
            goto out;
        }
        struct ui_run_req req = {
            .scenario = s,
            .cfg = run_config(o, s, o->workers),
            .check = o->check,
        };
        rc = ui_live(&req, &o->ui, script);
        ui_script_free(script);
        goto out;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tui_sighup(&sa, NULL);
    if (s->nsweep && !o->workers) {
        rc = run_sweep(o, s);
    } else {
        rc = run_repeated(o, s);
    }
    /* From here a signal ends the process (the export below is written to a temporary file,
     * which goes with it), but the handler stays: the group's copy of a signal that stopped the
     * run may come while the summary is still in stdout's buffer, and must not end the process
     * before it is flushed (1 of 8 runs lost it in CI). */
    g_output = 1;
out:
    if (o->export_chrome && rc != TUI_EXIT_USAGE) {
        const char *rec = o->record ? o->record : o->tmp_record;
        /* only a recording this run made: not one a refused run found in its place */
        if (rec && (live ? access(rec, R_OK) == 0 : g_recorded)) {
            int er = tui_export(rec, "chrome", o->export_chrome);
            if (er && (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT))
                rc = er;
        }
    }
    free(cause);
    if (s != o->scenario_obj)
        cv_scenario_free(s);
    return rc;
}

static int run_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_run_parse(argc, argv, &cl->run);
}

static int run_exec(struct tui_cmdline *cl)
{
    return tui_run_exec(&cl->run);
}

static void run_free(struct tui_cmdline *cl)
{
    tui_run_opts_free(&cl->run);
}

const struct tui_command tui_cmd_run = {"run", TUI_CMD_RUN, run_parse, run_exec, run_free};
