/* concviz serve: the embedded loopback HTTP server on its own, until Ctrl-C (or a bound). */
#include "cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concviz/clock.h"
#include "concviz/concviz.h"
#include "concviz/httpd.h"

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void serve_usage(FILE *out)
{
    fputs(
        "Usage: concviz serve [--port P] [--for SECONDS] [--max-requests N]\n"
        "                     [--fault MODE:SHARE[,MODE:SHARE...]] [--stall-ms MS]\n"
        "\n"
        "Serves on 127.0.0.1 until Ctrl-C (or SIGTERM, SIGHUP), or until a bound is reached:\n"
        "  GET /get               200, a small JSON body\n"
        "  GET /delay/MS          200 after MS milliseconds (0 to 60000)\n"
        "  GET /bytes/N           N bytes (0 to 16 MiB)\n"
        "  GET /status/CODE       that status code (200 to 599)\n"
        "  GET /flaky/KEY?fail=N  503 for the first N requests of KEY, then 200;\n"
        "      &mode=M[,M...]     fail in mode M instead (the k-th failure in the k-th, cycling)\n"
        "      &stall=MS          how long a stall lasts (default 30000)\n"
        "  GET /reset             no answer: the connection is closed at once\n"
        "  GET /stall/MS          no answer; the connection is closed after MS ms (to 60000)\n"
        "A fault MODE is a status (500 to 599), reset or stall. A stall holds no thread and\n"
        "ends at its time or when the server stops. Connections are kept alive and pipelined\n"
        "requests answered in order; a reply of /flaky, and every reply under --fault, closes\n"
        "its connection (a request that may fail comes on a fresh one).\n"
        "\n"
        "Options:\n"
        "  -p, --port P           port (default 0: any free port, printed on stdout)\n"
        "      --for SECONDS      stop after this long\n"
        "      --max-requests N   stop after N requests\n"
        "      --fault SPEC       fail a share of all requests, e.g. 500:0.2,reset:0.1,stall:0.05\n"
        "                         (deterministic: 500:0.25 fails every 4th request)\n"
        "      --stall-ms MS      how long a --fault stall holds a request (default 30000)\n",
        out);
}

int tui_serve_parse(int argc, char **argv, struct tui_serve_opts *o)
{
    enum { O_FOR = 256, O_MAX, O_FAULT, O_STALL };
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"for", required_argument, NULL, O_FOR},
        {"max-requests", required_argument, NULL, O_MAX},
        {"fault", required_argument, NULL, O_FAULT},
        {"stall-ms", required_argument, NULL, O_STALL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shorts[] = ":p:h";
    *o = (struct tui_serve_opts){.stall_ms = CV_STALL_DEFAULT};
    char *cause = NULL;
    tui_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (!tui_parse_ulong(optarg, 0, 65535, &o->port))
                return tui_fail(TUI_EXIT_USAGE, "--port must be 0 to 65535, not '%s'", optarg);
            break;
        case O_FOR:
            if (!tui_parse_ulong(optarg, 1, 86400 * 365, &o->seconds))
                return tui_fail(TUI_EXIT_USAGE, "--for must be a whole number of seconds, not '%s'",
                                optarg);
            break;
        case O_MAX:
            if (!tui_parse_ulong(optarg, 1, 1ul << 40, &o->max_requests))
                return tui_fail(TUI_EXIT_USAGE,
                                "--max-requests must be a positive number, not '%s'", optarg);
            break;
        case O_FAULT:
            if (cv_httpd_parse_faults(optarg, &o->faults, &cause) != CV_OK) {
                int rc = tui_fail(TUI_EXIT_USAGE, "%s", cause);
                free(cause);
                return rc;
            }
            break;
        case O_STALL:
            if (!tui_parse_ulong(optarg, 0, CV_STALL_MAX_MS, &o->stall_ms))
                return tui_fail(TUI_EXIT_USAGE, "--stall-ms must be 0 to %u ms, not '%s'",
                                (unsigned)CV_STALL_MAX_MS, optarg);
            break;
        case 'h':
            serve_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_missing_value(argv);
        default:
            return tui_bad_option(argv, shorts, "serve");
        }
    }
    if (optind < argc)
        return tui_fail(TUI_EXIT_USAGE, "serve takes no arguments ('%s')", argv[optind]);
    return TUI_PARSED;
}

int tui_serve_exec(const struct tui_serve_opts *o)
{
    unsigned long port = o->port, seconds = o->seconds, max_requests = o->max_requests;
    struct cv_httpd *h = NULL;
    char *cause = NULL;
    if (cv_httpd_start((uint16_t)port, &h, &cause) != CV_OK) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        return rc;
    }
    if (o->faults.n) {
        struct cv_httpd_faults faults = o->faults;
        faults.stall_ms = (uint32_t)o->stall_ms;
        cv_httpd_set_faults(h, &faults);
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction hup; /* SIGHUP as SIGTERM, unless ignored from the start (nohup) */
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    printf("http://127.0.0.1:%u\n", cv_httpd_port(h));
    if (tui_stdout_flush() != TUI_EXIT_OK) { /* nobody would learn the port */
        cv_httpd_stop(h);
        return TUI_EXIT_RUNTIME;
    }
    fprintf(stderr, "concviz serve: listening on http://127.0.0.1:%u (Ctrl-C stops)\n",
            cv_httpd_port(h));
    uint64_t until = seconds ? cv_clock_mono_ns() + seconds * 1000000000ull : 0;
    while (!g_stop && (!until || cv_clock_mono_ns() < until) &&
           (!max_requests || cv_httpd_requests(h) < max_requests)) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    uint64_t served = cv_httpd_requests(h), st, resets, stalls;
    cv_httpd_fault_counts(h, &st, &resets, &stalls);
    cv_httpd_stop(h);
    fprintf(stderr, "concviz serve: stopped after %llu requests", (unsigned long long)served);
    if (st || resets || stalls)
        fprintf(stderr, " (faults: %llu error statuses, %llu resets, %llu stalls)",
                (unsigned long long)st, (unsigned long long)resets, (unsigned long long)stalls);
    fputc('\n', stderr);
    return TUI_EXIT_OK;
}

static int serve_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_serve_parse(argc, argv, &cl->serve);
}

static int serve_exec(struct tui_cmdline *cl)
{
    return tui_serve_exec(&cl->serve);
}

const struct tui_command tui_cmd_serve = {"serve", TUI_CMD_SERVE, serve_parse, serve_exec, NULL};
