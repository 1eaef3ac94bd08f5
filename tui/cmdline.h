/* The command line, parsed in one step and run in another: each command's options are read into
 * a struct (pointers into argv, nothing started, no terminal touched), then the command runs it.
 * main() is parse, run, free; tests/fuzz/fuzz_cli.c is parse and free. */
#ifndef CONCVIZ_CMDLINE_H
#define CONCVIZ_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "ui.h"
#include "concviz/export.h"
#include "concviz/httpd.h"

/* What a parse returns when the command is to run; anything else is an exit code, the error or
 * the help already printed. */
#define TUI_PARSED (-1)

/* concviz run SCENARIO [options] (cmd-run.c) */
struct tui_run_opts {
    const char *scenario;
    int model; /* -1: the scenario's */
    unsigned workers;
    int gil;            /* -1: the scenario's */
    const char *python; /* --python VERSION, or NULL */
    double switch_ms;
    double task_timeout_s;
    unsigned long ring;
    bool headless, json, check, quiet;
    unsigned long repeat, for_s; /* --repeat N, --for SECONDS: rerun in this process */
    const char *record, *export_chrome;
    char *tmp_record; /* --export-chrome without --record: a temporary recording */
    size_t nsets;
    char **sets; /* KEY=VALUE, each pointing into argv */
    struct ui_opts ui;
    struct cv_scenario *scenario_obj;    /* instead of loading `scenario` (borrowed) */
    const struct cv_trace_config *trace; /* model trace: the program (borrowed) */
};
/* The options run and trace share: what is shown and what is kept of the run. */
enum {
    TUI_OPT_HEADLESS = 768, /* past the UI options (UI_OPT_FIRST, 512) */
    TUI_OPT_JSON,
    TUI_OPT_CHECK,
    TUI_OPT_RING,
    TUI_OPT_RECORD,
    TUI_OPT_EXPORT_CHROME,
};
#define TUI_RUN_OUTPUT_OPTIONS                                                                    \
    {"headless", no_argument, NULL, TUI_OPT_HEADLESS}, {"json", no_argument, NULL, TUI_OPT_JSON}, \
        {"check", no_argument, NULL, TUI_OPT_CHECK}, {"quiet", no_argument, NULL, 'q'},           \
        {"ring-size", required_argument, NULL, TUI_OPT_RING},                                     \
        {"record", required_argument, NULL, TUI_OPT_RECORD},                                      \
    {                                                                                             \
        "export-chrome", required_argument, NULL, TUI_OPT_EXPORT_CHROME                           \
    }
/* Handles getopt code c when it is one of TUI_RUN_OUTPUT_OPTIONS (or -q): 0, or an exit code with
 * the error printed; -1 when c is not one of them. */
int tui_run_output_opt(int c, const char *arg, struct tui_run_opts *o);
/* argv[0] is "run". */
int tui_run_parse(int argc, char **argv, struct tui_run_opts *o);
/* The --set values applied to the scenario s (loaded from o->scenario), and the checks that need
 * the scenario: 0, or an exit code with the error printed. */
int tui_run_prepare(const struct tui_run_opts *o, struct cv_scenario *s);
int tui_run_exec(struct tui_run_opts *o);
/* The signal that asked the current run to stop (SIGINT, SIGTERM, SIGHUP), 0 if none did. */
int tui_run_stop_signal(void);
void tui_run_opts_free(struct tui_run_opts *o);

/* concviz trace [options] -- PROGRAM [ARGS...] (cmd-trace.c): a run of model trace */
struct tui_trace_opts {
    struct tui_run_opts run;
    char *const *argv; /* the program and its arguments, in argv */
    size_t nexpects;
    char **expects; /* --expect EXPR, pointing into argv */
    uint32_t max_threads;
    bool serve;       /* --serve: the loopback HTTP server, its address in CONCVIZ_HTTP */
    char *outfile[2]; /* the view's: the program's stdout and stderr, kept till it closes */
};
void tui_trace_usage(FILE *out);
int tui_trace_parse(int argc, char **argv, struct tui_trace_opts *t);
int tui_trace_exec(struct tui_trace_opts *t);
void tui_trace_opts_free(struct tui_trace_opts *t);

/* concviz replay FILE [options] (cmd-replay.c) */
struct tui_replay_opts {
    const char *path;
    struct ui_opts ui;
    bool headless, json, check, quiet, paused;
    double speed;
};
int tui_replay_parse(int argc, char **argv, struct tui_replay_opts *o);
int tui_replay_exec(const struct tui_replay_opts *o);

/* concviz export FILE --format F [options] (cmd-export.c) */
struct tui_export_opts {
    const char *path, *format, *output;
    const char *from, *to; /* --from and --to as given, for messages */
    struct cv_svg_opts svg;
};
int tui_export_parse(int argc, char **argv, struct tui_export_opts *o);
int tui_export_exec(const struct tui_export_opts *o);

/* concviz serve [options] (cmd-serve.c) */
struct tui_serve_opts {
    unsigned long port, seconds, max_requests;
    struct cv_httpd_faults faults; /* --fault; none when faults.n is 0 */
    unsigned long stall_ms;        /* --stall-ms */
};
int tui_serve_parse(int argc, char **argv, struct tui_serve_opts *o);
int tui_serve_exec(const struct tui_serve_opts *o);

/* concviz list (cmd-list.c), concviz show SCENARIO (cmd-show.c) */
int tui_list_parse(int argc, char **argv);
int tui_list_exec(void);
int tui_show_parse(int argc, char **argv, const char **scenario);
int tui_show_exec(const char *scenario);

/* The whole command line (cmdline.c). */
enum tui_command_id {
    TUI_CMD_PICKER, /* concviz [UI options] */
    TUI_CMD_LIST,
    TUI_CMD_SHOW,
    TUI_CMD_RUN,
    TUI_CMD_REPLAY,
    TUI_CMD_EXPORT,
    TUI_CMD_SERVE,
    TUI_CMD_TRACE,
};
struct tui_command;
struct tui_cmdline {
    enum tui_command_id cmd;
    const struct tui_command *command; /* NULL for the picker */
    struct ui_opts picker;
    const char *show;
    struct tui_run_opts run;
    struct tui_replay_opts replay;
    struct tui_export_opts export;
    struct tui_serve_opts serve;
    struct tui_trace_opts trace;
};
/* A command: its name and how it is read and run (one file each, cmd-NAME.c). parse gets argv
 * from the command's name on and fills its part of cl; exec runs it; free (may be NULL) releases
 * what parse kept, whether or not exec ran. */
struct tui_command {
    const char *name;
    enum tui_command_id id;
    int (*parse)(int argc, char **argv, struct tui_cmdline *cl);
    int (*exec)(struct tui_cmdline *cl);
    void (*free)(struct tui_cmdline *cl);
};
extern const struct tui_command tui_cmd_list, tui_cmd_show, tui_cmd_run, tui_cmd_replay,
    tui_cmd_export, tui_cmd_serve, tui_cmd_trace;

/* Reads argv (argv[0] is the program) into cl: TUI_PARSED, or an exit code with the error, the
 * help or the version printed. tui_cmdline_free is needed either way. */
int tui_cmdline_parse(int argc, char **argv, struct tui_cmdline *cl);
/* Runs the parsed command; returns its exit code. */
int tui_cmdline_exec(struct tui_cmdline *cl);
void tui_cmdline_free(struct tui_cmdline *cl);

#endif
