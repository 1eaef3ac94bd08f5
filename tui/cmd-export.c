/* concviz export: a recording written as a Chrome trace, CSV, its JSON summary or SVG. */
#include "cmdline.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/export.h"
#include "concviz/files.h"
#include "concviz/record.h"

static void export_usage(FILE *out)
{
    fputs("Usage: concviz export FILE --format chrome|csv|json|svg [--from T] [--to T] [-o OUT]\n"
          "\n"
          "Writes a recording (from 'concviz run --record FILE') in another form:\n"
          "  chrome  Chrome Trace Event JSON: open it in https://ui.perfetto.dev or\n"
          "          chrome://tracing. A process per run (per worker process under procs, per\n"
          "          process of a traced program, with its pid), a thread per lane, tasks\n"
          "          and waits as slices, lock hand-overs as flows, queue depth and tasks in\n"
          "          flight as counters, drops and deadlocks as instants.\n"
          "  csv     one row per event: ts_ns, lane, lane_name, kind, task, obj, obj_name, arg,\n"
          "          detail\n"
          "  json    the summary, as 'concviz replay FILE --json' prints it\n"
          "  svg     a picture of the run for slides and write-ups (opens in a browser): a row\n"
          "          per lane with its states in the terminal UI's colours, lock waits marked,\n"
          "          a time axis, each queue's depth, a legend and a title line\n"
          "\n"
          "  -f, --format F     chrome, csv, json or svg\n"
          "      --from T       svg only: start the picture at T seconds into the run\n"
          "                     (decimals allowed, e.g. 0.25; default: the start)\n"
          "      --to T         svg only: end it at T seconds (default, or past the end: the end)\n"
          "  -o, --output OUT   write to OUT instead of stdout\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit codes: 0 ok, 2 usage error (including an empty --from/--to window or an output\n"
          "that is the recording), 3 the file is missing, not a recording, or corrupt, or the\n"
          "output could not be written (the old file is then left whole); 130 interrupted.\n",
          out);
}

/* Writes the export; svg is the window to draw for --format svg, from_arg the --from given. A
 * file is written whole (a temporary file renamed into place) or not at all. */
static int export_to(const char *path, const char *format, const char *output,
                     const struct cv_svg_opts *svg, const char *from_arg)
{
    bool to_stdout = !output || !strcmp(output, "-");
    if (!to_stdout && cv_file_same(path, output))
        return tui_fail(TUI_EXIT_USAGE,
                        "-o %s is the recording being exported; it would be overwritten", output);
    if (to_stdout && cv_file_same_fd(STDOUT_FILENO, path))
        return tui_fail(TUI_EXIT_USAGE,
                        "stdout is the recording being exported (%s); it would be overwritten",
                        path);
    int rc = TUI_EXIT_OK;
    struct cv_recording *r = tui_open_recording(path, false, &rc);
    if (!r)
        return rc;
    uint64_t end = cv_recording_info(r)->end_ns;
    if (svg && svg->from_ns && svg->from_ns >= end) { /* before the output is created */
        rc = tui_fail(TUI_EXIT_USAGE, "--from %s is not before the recording's end (%.3f s)",
                      from_arg ? from_arg : "", (double)end / 1e9);
        cv_recording_close(r);
        return rc;
    }
    char *cause = NULL;
    FILE *out = stdout;
    struct cv_outfile *of = NULL;
    if (!to_stdout) {
        if (cv_outfile_open(output, &of, &cause) != CV_OK) {
            rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
            free(cause);
            cv_recording_close(r);
            return rc;
        }
        out = cv_outfile_stream(of);
    }
    int er = CV_OK;
    if (!strcmp(format, "chrome")) {
        er = cv_export_chrome(r, out, &cause);
    } else if (!strcmp(format, "csv")) {
        er = cv_export_csv(r, out, &cause);
    } else if (!strcmp(format, "svg")) {
        er = cv_export_svg(r, out, svg, &cause);
    } else {
        struct cv_value *sum = cv_recording_replay_summary(r, true, NULL, &cause);
        if (sum)
            cv_value_write_json(sum, out, true);
        else
            er = CV_ERR_RUNTIME;
        cv_value_free(sum);
    }
    if (er != CV_OK && !ferror(out)) { /* the window was checked before */
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        cv_outfile_abort(of);
    } else if (of) { /* a write error is the file's to say, with its errno */
        free(cause);
        cause = NULL;
        if (cv_outfile_commit(of, &cause) != CV_OK)
            rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
    } else {
        rc = tui_stdout_flush();
    }
    free(cause);
    cv_recording_close(r);
    return rc;
}

int tui_export(const char *path, const char *format, const char *output)
{
    return export_to(path, format, output, NULL, NULL);
}

/* A time in seconds for --from/--to: a plain number to the nanosecond, not negative; false
 * otherwise. */
static bool parse_seconds(const char *s, uint64_t *ns)
{
    double v;
    if (!tui_parse_number(s, 9, 0, 1e300, &v))
        return false;
    *ns = v >= 1e9 ? (uint64_t)1e18 : (uint64_t)llround(v * 1e9); /* past any run's end */
    return true;
}

int tui_export_parse(int argc, char **argv, struct tui_export_opts *o)
{
    enum { O_FROM = 256, O_TO };
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'f'},  {"output", required_argument, NULL, 'o'},
        {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    static const char shorts[] = ":f:o:h";
    *o = (struct tui_export_opts){.svg = {.from_ns = 0, .to_ns = UINT64_MAX}};
    tui_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case O_FROM:
            o->from = optarg;
            if (!parse_seconds(optarg, &o->svg.from_ns))
                return tui_fail(TUI_EXIT_USAGE,
                                "--from must be a time in seconds, 0 or more (e.g. 0.25), not '%s'",
                                optarg);
            break;
        case O_TO:
            o->to = optarg;
            if (!parse_seconds(optarg, &o->svg.to_ns))
                return tui_fail(TUI_EXIT_USAGE,
                                "--to must be a time in seconds, more than 0 (e.g. 0.5), not '%s'",
                                optarg);
            break;
        case 'h':
            export_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_missing_value(argv);
        default:
            return tui_bad_option(argv, shorts, "export");
        }
    }
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "export needs a recording (concviz run --record FILE)");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "export takes one file ('%s' is extra)", argv[optind + 1]);
    const char *format = o->format;
    if (!format)
        return tui_fail(TUI_EXIT_USAGE, "export needs --format chrome, csv, json or svg");
    if (strcmp(format, "chrome") && strcmp(format, "csv") && strcmp(format, "json") &&
        strcmp(format, "svg"))
        return tui_fail(TUI_EXIT_USAGE, "unknown format '%s' (formats: chrome, csv, json, svg)",
                        format);
    if ((o->from || o->to) && strcmp(format, "svg"))
        return tui_fail(TUI_EXIT_USAGE, "%s is for --format svg, not %s",
                        o->from ? "--from" : "--to", format);
    if (o->to && o->svg.to_ns == 0)
        return tui_fail(TUI_EXIT_USAGE,
                        "--to must be a time in seconds, more than 0 (e.g. 0.5), "
                        "not '%s'",
                        o->to);
    if (o->from && o->to && o->svg.from_ns >= o->svg.to_ns)
        return tui_fail(TUI_EXIT_USAGE, "--from %s must be before --to %s", o->from, o->to);
    o->path = argv[optind];
    return TUI_PARSED;
}

int tui_export_exec(const struct tui_export_opts *o)
{
    return export_to(o->path, o->format, o->output, &o->svg, o->from);
}

static int export_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_export_parse(argc, argv, &cl->export);
}

static int export_exec(struct tui_cmdline *cl)
{
    return tui_export_exec(&cl->export);
}

const struct tui_command tui_cmd_export = {"export", TUI_CMD_EXPORT, export_parse, export_exec,
                                           NULL};
