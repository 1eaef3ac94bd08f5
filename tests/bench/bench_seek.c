/*
 * bench_seek: opening big recordings and seeking in them. For 1, 10 and 100 M events (or
 * `bench_seek EVENTS` for one size, `bench_seek FILE` for a recording made before) it records a
 * counter run with a mutex (about 1.1 events per increment when there is no work between
 * increments, as counted here) to a temporary file, then, in a fresh process: the time to open
 * it, the time of 24 seeks to times spread over the run in a shuffled order (back and forward),
 * each followed by a snapshot, and the peak resident memory (VmHWM). For reference, one seek
 * near the end without checkpoints (feeding every event from the start). Targets: open and seek
 * under 200 ms, memory under 200 MB; reported, exit 0.
 */
#include "bench_util.h"

#include "concviz/record.h"
#include "concviz/run.h"

#include <inttypes.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define SEEKS     24
#define TARGET_MS 200.0
#define TARGET_MB 200.0
#define EV_PER_ITER                                                             \
    1.1 /* counted on this workload (no work between increments): 0.72 M events \
         * for 4 x 156 k iterations */
#define DEFAULT_EVTS 100000000.0

static double hwm_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb / 1024;
}

static int make_recording(const char *path, double events)
{
    unsigned long iters = (unsigned long)(events / EV_PER_ITER / 4) + 1;
    char body[512];
    snprintf(body, sizeof body,
             "[scenario]\nname = bench_seek\ntitle = counter with a mutex\nlesson = seeking\n"
             "workload = counter\nmodel = threads\nworkers = 4\n\n[params]\nvariant = mutex\n"
             "iterations = %lu\nwork_ns = 0\n",
             iters);
    struct cv_scenario *sc = bench_load_scenario("bench_seek", body);
    if (!sc)
        return 1;
    struct cv_run_config cfg = {.scenario = sc, .model = -1, .gil = 0, .record_path = path};
    struct cv_run *run = NULL;
    char *cause = NULL;
    if (cv_run_create(&cfg, &run, &cause) != CV_OK || cv_run_start(run, &cause) != CV_OK ||
        cv_run_finish(run, &cause) != CV_OK) {
        fprintf(stderr, "bench_seek: recording: %s\n", cause ? cause : "?");
        return 1;
    }
    cv_run_destroy(run);
    cv_scenario_free(sc);
    return 0;
}

struct result {
    uint64_t events;
    long long bytes;
    double open_ms, seek_mean_ms, seek_worst_ms, peak_mb, full_ms;
};

/* Opens `file`, seeks SEEKS times; for reference one seek without checkpoints. Run in a child
 * process, so each size's peak memory is its own; the figures come back through a pipe. */
static int measure(const char *file, struct result *res)
{
    struct stat sb;
    if (stat(file, &sb) != 0) {
        perror(file);
        return 1;
    }
    double t0 = bench_now_s();
    struct cv_recording *r = NULL;
    char *cause = NULL;
    if (cv_recording_open(file, &r, &cause) != CV_OK) {
        fprintf(stderr, "bench_seek: %s\n", cause);
        return 1;
    }
    struct cv_replay *p = cv_replay_new(r);
    res->open_ms = (bench_now_s() - t0) * 1e3;
    const struct cv_recording_info *info = cv_recording_info(r);
    uint64_t end = info->end_ns;
    res->events = info->events;
    res->bytes = (long long)sb.st_size;

    /* times spread over the run, visited in a shuffled order */
    double at[SEEKS];
    for (int i = 0; i < SEEKS; i++)
        at[i] = (double)(i + 1) / (SEEKS + 1);
    srand(7);
    for (int i = SEEKS - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        double t = at[i];
        at[i] = at[j];
        at[j] = t;
    }
    double sum = 0;
    res->seek_worst_ms = 0;
    for (int i = 0; i < SEEKS; i++) {
        double s0 = bench_now_s();
        if (cv_replay_seek(p, (uint64_t)(at[i] * (double)end), &cause) != CV_OK) {
            fprintf(stderr, "bench_seek: %s\n", cause);
            return 1;
        }
        if (!cv_replay_snapshot(p)->nlanes)
            return 1;
        double ms = (bench_now_s() - s0) * 1e3;
        sum += ms;
        if (ms > res->seek_worst_ms)
            res->seek_worst_ms = ms;
    }
    res->seek_mean_ms = sum / SEEKS;
    res->peak_mb = hwm_mb();
    cv_replay_free(p);

    /* for reference: a seek to 96 % with no checkpoint, feeding from the start */
    setenv("CONCVIZ_REPLAY_CHECKPOINTS", "0", 1);
    p = cv_replay_new(r);
    double f0 = bench_now_s();
    cv_replay_seek(p, (uint64_t)(0.96 * (double)end), &cause);
    res->full_ms = (bench_now_s() - f0) * 1e3;
    cv_replay_free(p);
    cv_recording_close(r);
    return 0;
}

static int in_child(const char *file, double events, struct result *res)
{
    int fd[2];
    if (pipe(fd) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        struct result mine = {0};
        int rc = events > 0 ? make_recording(file, events) : measure(file, &mine);
        if (write(fd[1], &mine, sizeof mine) != (ssize_t)sizeof mine)
            rc = 1;
        _exit(rc);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], res, sizeof *res);
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return got == (ssize_t)sizeof *res && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : 1;
}

int main(int argc, char **argv)
{
    double sizes[3] = {1e6, 1e7, DEFAULT_EVTS};
    int nsizes = 3;
    const char *given = NULL;
    if (argc > 1) {
        char *end;
        double v = strtod(argv[1], &end);
        if (*end == 0 && v >= 1e5)
            sizes[0] = v, nsizes = 1;
        else
            given = argv[1], nsizes = 1;
    }
    struct result res[3] = {{0}};
    for (int k = 0; k < nsizes; k++) {
        char path[] = "/tmp/cv_bench_seek_XXXXXX";
        const char *file = given;
        if (!given) {
            int fd = mkstemp(path);
            if (fd < 0) {
                perror("bench_seek: mkstemp");
                return 1;
            }
            close(fd);
            printf("recording about %.0f M events...\n", sizes[k] / 1e6);
            fflush(stdout);
            struct result unused;
            if (in_child(path, sizes[k], &unused) != 0) {
                unlink(path);
                return 1;
            }
            file = path;
        }
        int rc = in_child(file, 0, &res[k]);
        if (!given)
            unlink(path);
        if (rc != 0)
            return 1;
    }
    printf("\n%-14s %9s %10s %9s %12s %12s %9s %14s\n", "recording", "events", "on disk", "open",
           "seek mean", "seek worst", "peak RSS", "no checkpoints");
    for (int k = 0; k < nsizes; k++)
        printf("%-14s %8.1fM %7.1f MB %6.1f ms %9.1f ms %9.1f ms %6.1f MB %11.0f ms\n",
               given    ? "given"
               : k == 0 ? "1 M"
               : k == 1 ? "10 M"
                        : "100 M",
               (double)res[k].events / 1e6, (double)res[k].bytes / 1e6, res[k].open_ms,
               res[k].seek_mean_ms, res[k].seek_worst_ms, res[k].peak_mb, res[k].full_ms);
    printf("targets: open and seek under %.0f ms, memory under %.0f MB; the last column is one "
           "seek to 96%% feeding every event from the start, for comparison\n",
           TARGET_MS, TARGET_MB);
    printf("json: {\"bench\": \"seek\", \"runs\": [");
    for (int k = 0; k < nsizes; k++)
        printf("%s{\"events\": %" PRIu64 ", \"bytes\": %lld, \"open_ms\": %.1f, "
               "\"seek_mean_ms\": %.1f, \"seek_worst_ms\": %.1f, \"peak_mb\": %.1f, "
               "\"full_feed_ms\": %.0f}",
               k ? ", " : "", res[k].events, res[k].bytes, res[k].open_ms, res[k].seek_mean_ms,
               res[k].seek_worst_ms, res[k].peak_mb, res[k].full_ms);
    printf("]}\n");
    return 0;
}
