/* Unit tests for stdout's final check (tui/output.c): output that cannot be written is one line
 * naming why, whatever the output's length. glibc empties its buffer when a failed write ends on
 * a block boundary, so the flush after it succeeds and errno says nothing; a CI run printed
 * "Input/output error" for a summary on /dev/full that way. Each case runs in a child whose
 * stdout is /dev/full and whose stderr the parent reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* Writes `len` bytes in `chunk`-byte pieces to stdout (/dev/full), flushes with
 * tui_stdout_flush and returns its exit code; the child's stderr is in `err`. */
static int write_to_full(size_t len, size_t chunk, char *err, size_t cap)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int full = open("/dev/full", O_WRONLY);
        if (full < 0 || dup2(full, STDOUT_FILENO) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
            _exit(99);
        close(pfd[0]);
        char piece[64];
        memset(piece, 'x', sizeof piece);
        for (size_t done = 0; done < len; done += chunk)
            fwrite(piece, 1, chunk, stdout);
        int rc = tui_stdout_flush();
        fflush(stderr);
        _exit(rc);
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(pfd[0], err + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = 0;
    close(pfd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_full_any_length(void **state)
{
    (void)state;
    /* 4096 bytes in 7-byte pieces and 8200 in 7s end with an empty buffer after the failure;
     * 4000 never leaves the buffer before the flush; 4100 in 1s fails inside and keeps data */
    static const size_t cases[][2] = {{4000, 1}, {4096, 7}, {4100, 1}, {4100, 7}, {8200, 7}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024];
        int rc = write_to_full(cases[i][0], cases[i][1], err, sizeof err);
        if (rc != TUI_EXIT_RUNTIME || !strstr(err, "stdout: No space left on device\n") ||
            strchr(err, '\n') != strrchr(err, '\n'))
            fail_msg("%zu bytes in %zu-byte writes: exit %d, stderr '%s'", cases[i][0], cases[i][1],
                     rc, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_any_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
