/*
 * libFuzzer target for the terminal UI's --script files (tui/script.c). Each input is a whole
 * script, parsed from memory by ui_script_parse (ui_script_load reads a file line by line into the
 * same parser). A script that parses is then stepped through on a virtual screen (--size), as
 * the live view does, with three changes so an input cannot stall the fuzzer or touch files:
 * every wait lasts 0 s, `wait done` finds the run over, and snapshots go to /dev/null. The screen
 * holds a few fixed lines, so `expect` and `wait text` both pass and fail.
 *
 * Checked besides crashes and leaks: a refused script's message is one line naming the script
 * and a line of it ("NAME:LINE: ..."); every step of a parsed script names a line of the input.
 * Run by tests/fuzz/run.sh.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "ui.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.script"

static FILE *devnull;

/* The virtual screen, opened once. Opening it also sends stderr to a file until it closes and
 * installs the UI's signal handlers; both are put back at once, so the sanitizers' reports and
 * libFuzzer's own handlers stay as they were. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction old[sizeof sigs / sizeof *sigs];
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], NULL, &old[i]);
    int err = dup(STDERR_FILENO);
    struct ui_opts o = ui_opts_default();
    o.vw = 80;
    o.vh = 24;
    o.script = NAME;
    char *cause = NULL;
    int rc = ui_screen_open(&o, &cause);
    if (err >= 0) {
        dup2(err, STDERR_FILENO);
        close(err);
    }
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &old[i], NULL);
    if (rc != 0) {
        fprintf(stderr, "fuzz_script: no virtual screen: %s\n", cause ? cause : "?");
        abort();
    }
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

static unsigned count_lines(const uint8_t *data, size_t size)
{
    unsigned n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size && data[size - 1] != '\n');
}

/* "NAME:LINE: message", one line, LINE in [1, lines]. */
static void check_cause(const char *cause, unsigned lines)
{
    if (!cause || strncmp(cause, NAME ":", sizeof NAME) != 0) {
        fprintf(stderr, "fuzz_script: the error does not name the script: '%s'\n",
                cause ? cause : "(none)");
        abort();
    }
    char *end;
    unsigned long line = strtoul(cause + sizeof NAME, &end, 10);
    if (end == cause + sizeof NAME || strncmp(end, ": ", 2) != 0 || line < 1 || line > lines ||
        strchr(cause, '\n')) {
        fprintf(stderr, "fuzz_script: not 'NAME:LINE: message' (of %u lines): '%s'\n", lines,
                cause);
        abort();
    }
}

static void draw(void)
{
    ui_screen_resize(80, 24);
    erase();
    mvaddstr(0, 0, "counter-race  threads x4  done  1.2s  tasks 4/4");
    mvaddstr(2, 0, "worker-0 RRRRRRRRLLLLRRRR  worker-1 RRRRLLLLRRRR");
    mvaddstr(20, 0, "lost_updates 12  counter_final 3999988");
    mvaddstr(23, 0, "q quit  ? help");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned lines = count_lines(data, size);
    char *cause = NULL;
    struct ui_script *sc = ui_script_parse(NAME, (const char *)data, size, &cause);
    if (!sc) {
        check_cause(cause, lines);
        free(cause);
        return 0;
    }
    for (size_t i = 0; i < sc->n; i++) {
        struct ui_step *st = &sc->steps[i];
        if (st->line < 1 || st->line > lines) {
            fprintf(stderr, "fuzz_script: step %zu names line %u of %u\n", i, st->line, lines);
            abort();
        }
        if (st->kind == UI_STEP_WAIT || st->kind == UI_STEP_WAIT_TEXT)
            st->seconds = 0;
        if (st->kind == UI_STEP_SNAPSHOT) {
            free(st->text);
            st->text = strdup("/dev/null");
        }
    }
    draw();
    /* A failed step prints itself and the screen on stderr: here, to /dev/null. */
    FILE *err = stderr;
    stderr = devnull;
    struct ui_script_io io = {.run_done = true};
    for (size_t turn = 0; turn <= sc->n + 1 && !io.finished; turn++)
        if (!ui_script_step(sc, &io))
            break;
    stderr = err;
    ui_script_free(sc);
    return 0;
}
