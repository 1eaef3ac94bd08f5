/* What forked workers need, for the procs model and hybrid's process executor: whole reads and
 * writes on pipes, and a child's set-up after fork. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int cv__write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int cv__read_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

void cv__close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void cv__child_setup(struct cv_run *run, uint32_t lane, pid_t parent, const sigset_t *old)
{
    run->in_child = true;
    /* named after its lane, so ps, top and pgrep tell the workers apart */
    char name[16] = "cv:"; /* the kernel keeps 15 bytes */
    size_t n = strlen(run->lanes[lane].name);
    memcpy(name + 3, run->lanes[lane].name, n < 12 ? n : 12);
    prctl(PR_SET_NAME, name);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    /* The parent coordinates stopping: a terminal's Ctrl-C reaches the whole process group. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, old, NULL);
}

const char *cv__signal_name(int sig)
{
    const char *d = sigabbrev_np(sig);
    return d ? d : "?";
}
