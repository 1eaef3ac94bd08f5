/* concviz replay: a recording played back in the live view, or its summary. */
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

static void replay_usage(FILE *out)
{
    fputs("Usage: concviz replay FILE [options]\n"
          "\n"
          "Plays a recording made with 'concviz run --record FILE' in the live view: the same\n"
          "panels, with play/pause, speed (0.1x to 100x), step, and seek (press ? for the keys).\n"
          "Without a terminal (or with --headless) it prints the run's summary instead,\n"
          "recomputed from the recorded events (tasks, completion order, lanes, locks, queues)\n"
          "with the recorded results. A recording cut short (Ctrl-C, a killed process, a full\n"
          "disk) is read up to its last complete chunk, with a warning saying what is missing.\n"
          "\n"
          "      --headless     print the summary, no terminal UI\n"
          "      --json         the summary as one JSON object (implies --headless)\n"
          "      --check        exit 1 if one of the scenario's expectations fails\n"
          "      --speed X      start playing at X times real time (0.1 to 100, default 1)\n"
          "      --paused       start paused at the beginning\n"
          "      --fps N        frames per second (default 30)\n"
          "      --no-color     no colours: states as letters (also when NO_COLOR is set)\n"
          "      --ascii        no glyphs outside ASCII\n"
          "      --script FILE  drive the UI from FILE (as for 'concviz run')\n"
          "      --size WxH     with --script: a virtual WxH screen, no terminal\n"
          "  -q, --quiet        no warning about a recording cut short\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit codes: 0 ok, 1 an expectation failed (with --check), 2 usage error,\n"
          "3 the file is missing, not a recording, or corrupt, or the output could not be\n"
          "written; 130 interrupted (Ctrl-C, SIGTERM or SIGHUP).\n",
          out);
}

/* The live view over a recording. */
static int replay_ui(struct cv_recording *r, const char *path, struct ui_opts *ui, double speed,
                     bool paused)
{
    char *cause = NULL;
    struct cv_scenario *sc = NULL;
    if (cv_recording_scenario(r, &sc, &cause) != CV_OK) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        return rc;
    }
    struct ui_script *script = NULL;
    if (ui->script && !(script = ui_script_load(ui->script, &cause))) {
        int rc = tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
        cv_scenario_free(sc);
        return rc;
    }
    const char *base = strrchr(path, '/');
    struct ui_run_req req = {
        .scenario = sc,
        .replay = r,
        .replay_name = base ? base + 1 : path,
        .replay_speed = speed,
        .replay_paused = paused,
    };
    int rc = ui_live(&req, ui, script);
    ui_script_free(script);
    cv_scenario_free(sc);
    return rc;
}

int tui_replay_parse(int argc, char **argv, struct tui_replay_opts *o)
{
    enum { O_HEADLESS = 256, O_JSON, O_CHECK, O_SPEED, O_PAUSED };
    static const struct option longs[] = {
        {"headless", no_argument, NULL, O_HEADLESS},
        {"json", no_argument, NULL, O_JSON},
        {"check", no_argument, NULL, O_CHECK},
        {"speed", required_argument, NULL, O_SPEED},
        {"paused", no_argument, NULL, O_PAUSED},
        UI_LONG_OPTIONS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shorts[] = ":qh";
    *o = (struct tui_replay_opts){.ui = ui_opts_default(), .speed = 1};
    tui_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (c) {
        case O_HEADLESS:
            o->headless = true;
            break;
        case O_JSON:
            o->json = o->headless = true;
            break;
        case O_CHECK:
            o->check = true;
            break;
        case O_SPEED:
            if (!tui_parse_number(optarg, 3, 0.1, 100, &o->speed))
                return tui_fail(TUI_EXIT_USAGE,
                                "--speed must be a number from 0.1 to 100, not '%s'", optarg);
            break;
        case O_PAUSED:
            o->paused = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            replay_usage(stdout);
            return TUI_EXIT_OK;
        case ':':
            return tui_missing_value(argv);
        default: {
            int r = ui_opt_or_bad(c, optarg, argv, shorts, "replay", &o->ui);
            if (r)
                return r;
            break;
        }
        }
    }
    if (optind >= argc)
        return tui_fail(TUI_EXIT_USAGE, "replay needs a recording (concviz run --record FILE)");
    if (optind + 1 < argc)
        return tui_fail(TUI_EXIT_USAGE, "replay takes one file ('%s' is extra)", argv[optind + 1]);
    int uc = ui_opts_check(&o->ui, o->headless, o->json);
    if (uc)
        return uc;
    o->path = argv[optind];
    return TUI_PARSED;
}

int tui_replay_exec(const struct tui_replay_opts *o)
{
    struct ui_opts ui = o->ui;
    bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    if (ui.script && !ui.vw && !tty)
        return tui_fail(TUI_EXIT_USAGE, "--script without a terminal needs --size WxH");
    bool use_ui = ui.script || (!o->headless && tty);
    int rc = TUI_EXIT_OK;
    struct cv_recording *r = tui_open_recording(o->path, o->quiet || use_ui, &rc);
    if (!r)
        return rc;
    if (use_ui) { /* a warning printed now would be hidden by the screen: it comes after */
        rc = replay_ui(r, o->path, &ui, o->speed, o->paused);
        const char *missing = cv_recording_info(r)->missing;
        if (missing && !o->quiet)
            tui_fail(0, "warning: %s", missing);
        cv_recording_close(r);
        return rc;
    }
    char *cause = NULL;
    unsigned failed = 0;
    struct cv_value *sum = cv_recording_replay_summary(r, true, &failed, &cause);
    if (!sum) {
        rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
    } else {
        if (o->json)
            cv_value_write_json(sum, stdout, true);
        else
            cv_summary_write_text(sum, stdout);
        rc = tui_stdout_flush();
        if (o->check && failed && !rc)
            rc = tui_fail(TUI_EXIT_EXPECT, "%u expectation%s failed", failed,
                          failed == 1 ? "" : "s");
    }
    cv_value_free(sum);
    free(cause);
    cv_recording_close(r);
    return rc;
}

static int replay_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    return tui_replay_parse(argc, argv, &cl->replay);
}

static int replay_exec(struct tui_cmdline *cl)
{
    return tui_replay_exec(&cl->replay);
}

const struct tui_command tui_cmd_replay = {"replay", TUI_CMD_REPLAY, replay_parse, replay_exec,
                                           NULL};
