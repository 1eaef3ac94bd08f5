/* concviz replay and concviz export: recordings read back. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/export.h"
#include "concviz/record.h"

static void replay_usage(FILE *out)
{
    fputs("Usage: concviz replay FILE [--headless] [--json] [--check]\n"
          "\n"
          "Reads a recording made with 'concviz run --record FILE' and prints the run's summary,\n"
          "recomputed from the recorded events (tasks, completion order, lanes, locks, queues)\n"
          "with the recorded results. A recording cut short (Ctrl-C, a killed process, a full\n"
          "disk) is read up to its last complete chunk, with a warning saying what is missing.\n"
          "\n"
          "      --headless  print the summary (the only mode for now; also without a terminal)\n"
          "      --json      the summary as one JSON object\n"
          "      --check     exit 1 if one of the scenario's expectations fails\n"
          "  -q, --quiet     no warning about a recording cut short\n"
          "  -h, --help      this help\n"
          "\n"
          "Exit codes: 0 ok, 1 an expectation failed (with --check), 2 usage error,\n"
          "3 the file is missing, not a recording, or corrupt.\n",
          out);
}

static void export_usage(FILE *out)
{
    fputs("Usage: concviz export FILE --format chrome|csv|json [-o OUT]\n"
          "\n"
          "Writes a recording (from 'concviz run --record FILE') in another form:\n"
          "  chrome  Chrome Trace Event JSON: open it in https://ui.perfetto.dev or\n"
          "          chrome://tracing. A process per run (per worker process under procs), a\n"
          "          thread per lane, tasks and waits as slices, lock hand-overs as flows, queue\n"
          "          depth and tasks in flight as counters, drops and deadlocks as instants.\n"
          "  csv     one row per event: ts_ns, lane, lane_name, kind, task, obj, obj_name, arg,\n"
          "          detail\n"
          "  json    the summary, as 'concviz replay FILE --json' prints it\n"
          "\n"
          "  -f, --format F  chrome, csv or json\n"
          "  -o, --output OUT  write to OUT instead of stdout\n"
          "  -h, --help      this help\n",
          out);
}

/* Opens a recording, printing the error (exit 3) or, unless quiet, the cut-short warning. */
static struct cv_recording *open_recording(const char *path, bool quiet, int *rc)
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

int tui_cmd_replay(int argc, char **argv)
{
    enum { O_HEADLESS = 256, O_JSON, O_CHECK };
    static const struct option longs[] = {
        {"headless", no_argument, NULL, O_HEADLESS},
        {"json", no_argument, NULL, O_JSON},
        {"check", no_argument, NULL, O_CHECK},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, check = false, quiet = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":qh", longs, NULL)) != -1) {
        switch (c) {
        case O_HEADLESS:
            break;
        case O_JSON:
            json = true;
            break;
        case O_CHECK:
            check = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            replay_usage(stdout);
            return TUI_EXIT_OK;
        default:
            return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz replay --help')",
                            argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "replay needs a recording (concviz run --record FILE)");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "replay takes one file ('%s' is extra)", argv[optind + 1]);
    int rc = TUI_EXIT_OK;
    struct cv_recording *r = open_recording(argv[optind], quiet, &rc);
    if (!r)
        return rc;
    char *cause = NULL;
    unsigned failed = 0;
    struct cv_value *sum = cv_recording_replay_summary(r, true, &failed, &cause);
    if (!sum) {
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
    } else {
        if (json)
            cv_value_write_json(sum, stdout, true);
        else
            cv_summary_write_text(sum, stdout);
        fflush(stdout);
        if (check && failed)
            rc = tui_fail(TUI_EXIT_EXPECT, "%u expectation%s failed", failed,
                          failed == 1 ? "" : "s");
    }
    cv_value_free(sum);
    free(cause);
    cv_recording_close(r);
    return rc;
}

int tui_export(const char *path, const char *format, const char *output)
{
    int rc = TUI_EXIT_OK;
    struct cv_recording *r = open_recording(path, false, &rc);
    if (!r)
        return rc;
    FILE *out = stdout;
    if (output && strcmp(output, "-") && !(out = fopen(output, "w"))) {
        rc = tui_fail(TUI_EXIT_RUNTIME, "cannot write %s: %m", output);
        cv_recording_close(r);
        return rc;
    }
    char *cause = NULL;
    int er = CV_OK;
    if (!strcmp(format, "chrome")) {
        er = cv_export_chrome(r, out, &cause);
    } else if (!strcmp(format, "csv")) {
        er = cv_export_csv(r, out, &cause);
    } else {
        struct cv_value *sum = cv_recording_replay_summary(r, true, NULL, &cause);
        if (sum)
            cv_value_write_json(sum, out, true);
        else
            er = CV_ERR_RUNTIME;
        cv_value_free(sum);
    }
    if (er != CV_OK)
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
    if (fflush(out) != 0 || ferror(out))
        rc = tui_fail(TUI_EXIT_RUNTIME, "writing %s: %m", output ? output : "stdout");
    if (out != stdout)
        fclose(out);
    free(cause);
    cv_recording_close(r);
    return rc;
}

int tui_cmd_export(int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL, *output = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            export_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_fail(TUI_EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return tui_fail(TUI_EXIT_USAGE, "unknown option '%s' (see 'concviz export --help')",
                            argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "export needs a recording (concviz run --record FILE)");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "export takes one file ('%s' is extra)", argv[optind + 1]);
    if (!format)
        return tui_fail(TUI_EXIT_USAGE, "export needs --format chrome, csv or json");
    if (strcmp(format, "chrome") && strcmp(format, "csv") && strcmp(format, "json"))
        return tui_fail(TUI_EXIT_USAGE, "unknown format '%s' (formats: chrome, csv, json)", format);
    return tui_export(argv[optind], format, output);
}
