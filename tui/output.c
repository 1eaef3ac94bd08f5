/* What every command shares about its output: stdout checked at the end (a summary nobody got
 * is not a success), and the signals that end the process while it writes. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "concviz/files.h"

static bool g_stdout_reported; /* the failure has been said once: not again */

int tui_stdout_flush(void)
{
    /* Callers flush right after writing: a write that failed during it was the last call to
     * set errno. Its data may have left the buffer (glibc empties it when a failed write ends
     * on a block boundary), so flushing again can succeed and say nothing: keep that errno. */
    int earlier = ferror(stdout) ? errno : 0;
    errno = 0;
    /* a write that failed earlier left its data in the buffer: flushing again says why */
    if (fflush(stdout) == 0 && !ferror(stdout))
        return TUI_EXIT_OK;
    int e = errno ? errno : earlier ? earlier : EIO;
    if (!g_stdout_reported)
        tui_fail(0, "cannot write the output to stdout: %s", strerror(e));
    g_stdout_reported = true;
    return TUI_EXIT_RUNTIME;
}

int tui_stdout_close(int rc)
{
    int w = tui_stdout_flush();
    if (w == TUI_EXIT_OK) {
        /* closing a copy reports what closing stdout would (NFS reports a failed write at
         * close), and leaves fd 1 to what may still run at exit; a closed stdout that was never
         * written to is no error */
        int fd = dup(STDOUT_FILENO);
        if (fd >= 0 && close(fd) != 0 && errno != EINTR) {
            tui_fail(0, "cannot write the output to stdout: %s", strerror(errno));
            w = TUI_EXIT_RUNTIME;
        }
    }
    /* a failed write outranks success and a failed expectation: the caller did not get the
     * output; usage errors and interruptions say more */
    if (w && (rc == TUI_EXIT_OK || rc == TUI_EXIT_EXPECT))
        return w;
    return rc;
}

void tui_signal_exit(int sig)
{
    cv_tmp_sweep();
    if (sig == SIGINT) { /* die of it, as a shell expects of Ctrl-C (exit status 130) */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
        return; /* it is delivered as the handler returns */
    }
    _exit(TUI_EXIT_INTERRUPTED);
}

static void on_signal(int sig)
{
    tui_signal_exit(sig);
}

void tui_process_init(void)
{
    /* A closed stdin, stdout or stderr would be taken by the next file opened (a recording),
     * and the summary written into it: each is held by /dev/null opened read-only, so that
     * writes to a closed stdout still fail (EBADF) and are reported. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int nfd = open("/dev/null", O_RDONLY);
        if (nfd >= 0 && nfd != fd) { /* a lower one was closed too and took it: move it */
            dup2(nfd, fd);
            close(nfd);
        }
    }
    tui_signals_install();
}

void tui_signals_install(void)
{
    /* A file-size limit makes a write fail with EFBIG, reported like a full disk; its signal
     * would kill the process with no message and a recording without its footer. */
    signal(SIGXFSZ, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tui_sighup(&sa, NULL);
}

void tui_sighup(const struct sigaction *sa, struct sigaction *old)
{
    struct sigaction cur;
    sigaction(SIGHUP, NULL, &cur);
    if (old)
        *old = cur;
    if (cur.sa_handler != SIG_IGN) /* nohup's choice stands */
        sigaction(SIGHUP, sa, NULL);
}
