/* Unit tests for the screen's signal handling (tui/screen.c), on a real pseudo-terminal: a crash
 * while the screen is up puts the terminal back, prints what went to stderr meanwhile, and hands
 * the signal on to the handler that was there before (a sanitizer's, or the default action);
 * closing the screen puts every handler back; SIGHUP is noted as SIGTERM is, unless it was
 * ignored. Each case runs in a child process of its own (the screen and the handlers are global
 * to a process), with the pty's other end and the child's stderr read by the parent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ui.h"

#define SAID        "said while the screen was up"
#define FAULT_ADDR  ((uintptr_t)16)
#define RMCUP       "\033[?1049l" /* xterm: leave the alternate screen */
#define PREVIOUS_RC 42

/* What a child left: its exit (128 + signal for a signal), its stderr, the terminal's output. */
struct child {
    int status;
    char err[8192];
    char tty[65536];
    size_t ntty;
};

static void read_all(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    if (len)
        *len = n;
}

static void write_str(const char *s)
{
    if (write(STDERR_FILENO, s, strlen(s)) < 0)
        _exit(99);
}

/* The screen open on the pty, as the live view opens it, with something said on stderr. */
static void open_screen(void)
{
    struct ui_opts o = ui_opts_default();
    o.color = false;
    char *cause = NULL;
    if (ui_screen_open(&o, &cause) != 0) {
        write_str("cannot open the screen\n");
        _exit(98);
    }
    fprintf(stderr, "%s\n", SAID);
}

/* Runs fn in a child on a 80x24 pty (stdin and stdout) with its stderr on a pipe. */
static void run_child(void (*fn)(void), struct child *c)
{
    memset(c, 0, sizeof *c);
    int master, slave, errp[2];
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    assert_int_equal(openpty(&master, &slave, NULL, NULL, &ws), 0);
    assert_int_equal(pipe(errp), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(master);
        close(errp[0]);
        dup2(slave, STDIN_FILENO);
        dup2(slave, STDOUT_FILENO);
        dup2(errp[1], STDERR_FILENO);
        setenv("TERM", "xterm-256color", 1);
        unsetenv("LINES");
        unsetenv("COLUMNS");
        fn();
        _exit(97);
    }
    close(slave);
    close(errp[1]);
    read_all(errp[0], c->err, sizeof c->err, NULL);
    close(errp[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    /* the terminal's output, what the pty holds of it (the child has ended: no more comes) */
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    read_all(master, c->tty, sizeof c->tty, &c->ntty);
    close(master);
}

static bool tty_has(const struct child *c, const char *seq)
{
    return memmem(c->tty, c->ntty, seq, strlen(seq)) != NULL;
}

/* ---- a fault while the screen is up ---- */

static void previous_segv(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    /* the fault itself, again (its address), not a signal sent by the handler */
    write_str((uintptr_t)info->si_addr == FAULT_ADDR && info->si_code > 0
                  ? "previous handler: the fault at its address\n"
                  : "previous handler: something else\n");
    _exit(PREVIOUS_RC);
}

static void child_fault(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = previous_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL); /* as a sanitizer's runtime would have */
    open_screen();
    volatile int *volatile at = (volatile int *)FAULT_ADDR; /* opaque to the compiler */
    *at = 1;
}

static void test_fault_goes_on_to_the_previous_handler(void **state)
{
    (void)state;
    struct child c;
    run_child(child_fault, &c);
    assert_int_equal(c.status, PREVIOUS_RC);
    assert_non_null(strstr(c.err, SAID "\n"));
    assert_non_null(strstr(c.err, "previous handler: the fault at its address"));
    /* what stderr said comes before the previous handler's own words */
    assert_true(strstr(c.err, SAID) < strstr(c.err, "previous handler"));
    assert_true(tty_has(&c, RMCUP));
}

/* ---- abort() (a failed assertion) while the screen is up ---- */

static void previous_abrt(int sig)
{
    (void)sig;
    write_str("previous handler: abort\n");
    _exit(PREVIOUS_RC + 1);
}

static void child_abort_handled(void)
{
    signal(SIGABRT, previous_abrt);
    open_screen();
    abort();
}

static void child_abort_default(void)
{
    open_screen();
    abort();
}

static void test_abort_goes_on_to_the_previous_handler(void **state)
{
    (void)state;
    struct child c;
    run_child(child_abort_handled, &c);
    assert_int_equal(c.status, PREVIOUS_RC + 1);
    assert_non_null(strstr(c.err, SAID "\n"));
    assert_non_null(strstr(c.err, "previous handler: abort"));
    assert_true(tty_has(&c, RMCUP));
}

static void test_abort_default_action_keeps_stderr(void **state)
{
    (void)state;
    struct child c;
    run_child(child_abort_default, &c);
    assert_int_equal(c.status, 128 + SIGABRT);
    assert_non_null(strstr(c.err, SAID "\n"));
    assert_true(tty_has(&c, RMCUP));
}

/* ---- closing puts every handler back; SIGHUP ---- */

static void mark(int sig)
{
    (void)sig;
}

static void child_close_restores(void)
{
    signal(SIGSEGV, mark);
    signal(SIGHUP, mark);
    open_screen();
    raise(SIGHUP);
    if (ui_screen_signal() != SIGHUP) {
        write_str("SIGHUP not noted\n");
        _exit(1);
    }
    ui_screen_close();
    struct sigaction segv, hup;
    sigaction(SIGSEGV, NULL, &segv);
    sigaction(SIGHUP, NULL, &hup);
    if (segv.sa_handler != mark || hup.sa_handler != mark) {
        write_str("handlers not put back\n");
        _exit(2);
    }
    _exit(0);
}

static void child_hup_ignored(void)
{
    signal(SIGHUP, SIG_IGN); /* nohup */
    open_screen();
    raise(SIGHUP);
    struct sigaction hup;
    sigaction(SIGHUP, NULL, &hup);
    int seen = ui_screen_signal();
    ui_screen_close();
    if (hup.sa_handler != SIG_IGN || seen) {
        write_str("an ignored SIGHUP was taken over\n");
        _exit(3);
    }
    _exit(0);
}

static void test_close_puts_handlers_back(void **state)
{
    (void)state;
    struct child c;
    run_child(child_close_restores, &c);
    assert_string_equal(c.err, SAID "\n");
    assert_int_equal(c.status, 0);
    assert_true(tty_has(&c, RMCUP));
}

static void test_ignored_sighup_stays_ignored(void **state)
{
    (void)state;
    struct child c;
    run_child(child_hup_ignored, &c);
    assert_string_equal(c.err, SAID "\n");
    assert_int_equal(c.status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_goes_on_to_the_previous_handler),
        cmocka_unit_test(test_abort_goes_on_to_the_previous_handler),
        cmocka_unit_test(test_abort_default_action_keeps_stderr),
        cmocka_unit_test(test_close_puts_handlers_back),
        cmocka_unit_test(test_ignored_sighup_stays_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
