/*
 * bench_pages: what a page costs when it is first written, against making it in bulk
 * (cv_make_pages: madvise MADV_POPULATE_WRITE), the reason concviz makes its rings' and store's
 * pages ahead of the writes. 4,096 pages (16 MiB) a measure, the median of 5; printed in
 * microseconds a page:
 *   private write    first write to each page of a private anonymous mapping (the collector's)
 *   shared write     the same in a shared mapping (the rings)
 *   shared made      cv_make_pages over a shared mapping
 *   child write      a forked process's first write to shared pages that exist (a worker's ring)
 *   child made       cv_make_pages over them in a forked process
 *
 *   bench_pages
 */
#include "bench_util.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PAGES   4096u
#define REPEATS 5

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *map(size_t n, bool shared)
{
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench_pages: mmap");
        exit(1);
    }
    return p;
}

/* Microseconds a page for writing one byte of each page of p, or making them all. */
static double touch(char *p, size_t page, bool made)
{
    double t0 = now_s();
    if (made)
        cv_make_pages(p, PAGES * page);
    else
        for (size_t i = 0; i < PAGES; i++)
            ((volatile char *)p)[i * page] = 1;
    return (now_s() - t0) * 1e6 / PAGES;
}

/* The same, in a forked process, over shared pages the parent made. */
static double in_child(char *p, size_t page, bool made)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("bench_pages: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        double us = touch(p, page, made);
        _exit(write(fds[1], &us, sizeof us) == (ssize_t)sizeof us ? 0 : 1);
    }
    close(fds[1]);
    double us = -1;
    if (pid < 0 || read(fds[0], &us, sizeof us) != (ssize_t)sizeof us)
        us = -1;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (us < 0) {
        fprintf(stderr, "bench_pages: the child did not report\n");
        exit(1);
    }
    return us;
}

int main(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = PAGES * page;
    double priv[REPEATS], shw[REPEATS], shm[REPEATS], cw[REPEATS], cm[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        char *a = map(n, false), *b = map(n, true), *c = map(n, true);
        priv[r] = touch(a, page, false);
        shw[r] = touch(b, page, false);
        shm[r] = touch(c, page, true);
        cw[r] = in_child(b, page, false);
        cm[r] = in_child(c, page, true);
        munmap(a, n);
        munmap(b, n);
        munmap(c, n);
    }
    double v[5] = {bench_median(priv, REPEATS), bench_median(shw, REPEATS),
                   bench_median(shm, REPEATS), bench_median(cw, REPEATS),
                   bench_median(cm, REPEATS)};
    printf("%u pages a measure, median of %d; microseconds a page\n\n", PAGES, REPEATS);
    printf("private write  %7.2f\nshared write   %7.2f\nshared made    %7.2f\n"
           "child write    %7.2f\nchild made     %7.2f\n\n",
           v[0], v[1], v[2], v[3], v[4]);
    printf("made in bulk: %.1f times cheaper than written one by one (shared), %.1f (in a child)\n",
           v[1] / v[2], v[3] / v[4]);
    printf("json: {\"private_write_us\": %.3f, \"shared_write_us\": %.3f, \"shared_made_us\": "
           "%.3f, \"child_write_us\": %.3f, \"child_made_us\": %.3f, \"made_ratio\": %.4f}\n",
           v[0], v[1], v[2], v[3], v[4], v[2] / v[1]);
    return 0;
}
