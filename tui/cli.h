/* The concviz command line: shared pieces of the front end's commands. */
#ifndef CONCVIZ_CLI_H
#define CONCVIZ_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "concviz/run.h"
#include "concviz/value.h"
#include "concviz/scenario.h"

/* Exit codes: what they mean is part of the interface. */
enum tui_exit {
    TUI_EXIT_OK = 0,
    TUI_EXIT_EXPECT = 1,        /* an expectation failed (--check) */
    TUI_EXIT_USAGE = 2,         /* bad flag, value, scenario or model */
    TUI_EXIT_RUNTIME = 3,       /* the system failed the run */
    TUI_EXIT_NOT_STARTED = 127, /* trace: the program could not be run */
    TUI_EXIT_INTERRUPTED = 130,
};

/* Prints "concviz: message" on stderr; returns `code`. */
int tui_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal number in [lo, hi] (no sign, nothing after it). */
bool tui_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* A plain decimal (cv_number_is_decimal: no hex, exponent, inf, nan or '+') with at most
 * `decimals` after the point, in [lo, hi]: *out and true, or false. */
bool tui_parse_number(const char *s, int decimals, double lo, double hi, double *out);

/* The directories searched for scenario names, NULL-terminated. */
const char *const *tui_scenario_dirs(void);
/* Resolves and loads a scenario by name or path; prints the error and returns NULL on failure. */
struct cv_scenario *tui_load_scenario(const char *name);

/* The exit code a finished run's state and expectations call for, printing why (verdict.c). */
int tui_verdict(bool check, const struct cv_value *sum, enum cv_run_state st, unsigned failed);
/* Whether an applicable expectation asserts the deadlock the run ended in, and holds. */
bool tui_deadlock_expected(const struct cv_value *sum);

/* Each command's getopt_long scan starts here: getopt's state reset for argv[1] on (glibc's
 * optind = 0 re-initialises it fully, including what was left of a half-read -abc cluster). */
void tui_getopt_reset(void);
/* The errors of a getopt_long scan, printed naming the option as the user wrote it; each returns
 * TUI_EXIT_USAGE. `shorts` is the scan's short options, `cmd` the command (for its --help).
 * tui_bad_option: getopt_long returned '?' (an unknown option, or a value given to an option
 * that takes none); tui_missing_value: it returned ':'. */
int tui_bad_option(char **argv, const char *shorts, const char *cmd);
int tui_missing_value(char **argv);
/* Writes recording `path` as chrome, csv, json or svg to `output` (NULL or "-": stdout)
 * (cmd-export.c). */
int tui_export(const char *path, const char *format, const char *output);
/* Opens a recording, printing the error (*rc = 3) or, unless quiet, the cut-short warning. */
struct cv_recording;
struct cv_recording *tui_open_recording(const char *path, bool quiet, int *rc);
/* What values a parameter takes: "whole number 1..256", "one of none|mutex|atomic" (cmd-show.c,
 * the picker). */
void tui_param_range(const struct cv_param_def *d, char *buf, size_t n);
/* The scenario's models, "serial threads procs(later)" (cmd-list.c). */
void tui_models_text(const struct cv_scenario *s, char *buf, size_t n);

/* stdout: flushed; on a failed write one line on stderr (only the first time) and
 * TUI_EXIT_RUNTIME, else 0. tui_stdout_close also checks the close at the end of main and
 * returns the exit code: rc, or TUI_EXIT_RUNTIME when the output was lost and rc was 0 or 1. */
int tui_stdout_flush(void);
int tui_stdout_close(int rc);
/* The process's signals while no command needs its own: SIGXFSZ ignored (a write past a
 * file-size limit fails with EFBIG instead), and SIGINT, SIGTERM and SIGHUP (unless ignored, as
 * under nohup) remove the temporary files and end the process with 130 (tui_signal_exit, which
 * command handlers call too; async-signal-safe). */
void tui_signals_install(void);
/* At the start of main: a closed stdin, stdout or stderr held by /dev/null opened read-only
 * (no file opened later takes its place; writing to it still fails), then the signals above. */
void tui_process_init(void);
void tui_signal_exit(int sig);
/* Installs sa for SIGHUP unless SIGHUP is ignored; the previous action in *old (may be NULL). */
struct sigaction;
void tui_sighup(const struct sigaction *sa, struct sigaction *old);

void tui_usage(FILE *out);
/* A count with a k/M/G suffix ("812", "12.3k", "7.8M"). */
void tui_human(char *buf, size_t n, double x);
/* "tasks 3/10 done, 1 failed, 6 cancelled": the tasks that completed of `total`, and those that
 * ended otherwise apart (failed, cancelled, timed out; each only when there are some). */
void tui_tasks_text(char *buf, size_t n, const struct cv_task_counts *t, uint64_t total);
/* A number member of a value object, 0 if absent. */
double tui_num(const struct cv_value *o, const char *key);

/* Parses WxH (each in [lo, hi]). */
bool tui_parse_size(const char *s, int lo, int hi, int *w, int *h);
void tui_run_usage(FILE *out);

#endif
