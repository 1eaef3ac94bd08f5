/*
 * bench_seek: opening a big recording and seeking in it. Records a counter run with a mutex
 * (about 1.1 events per increment when there is no work between increments, as counted here) until
 * it holds the target number of events (default 100 M; `bench_seek EVENTS` or `bench_seek FILE` to
 * use a recording made before), in a child process so that the recording's memory is not counted.
 * Then, in this process: the time to open it, the time of 24 seeks to times spread over the run
 * in a shuffled order (back and forward), each followed by a snapshot, and the peak resident
 * memory (VmHWM). For reference, one seek near the end without checkpoints (feeding every event
 * from the start). Targets: open and seek under 200 ms, memory under 200 MB; reported, exit 0.
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

int main(int argc, char **argv)
{
    double events = DEFAULT_EVTS;
    const char *given = NULL;
    char path[] = "/tmp/cv_bench_seek_XXXXXX";
    if (argc > 1) {
        char *end;
        double v = strtod(argv[1], &end);
        if (*end == 0 && v >= 1e5)
            events = v;
        else
            given = argv[1];
    }
    if (!given) {
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("bench_seek: mkstemp");
            return 1;
        }
        close(fd);
        printf("recording about %.0f M events to a temporary file (a minute or so)...\n",
               events / 1e6);
        fflush(stdout);
        double t0 = now_s();
        pid_t pid = fork();
        if (pid == 0)
            _exit(make_recording(path, events));
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            unlink(path);
            return 1;
        }
        printf("recorded in %.1f s\n", now_s() - t0);
    }
    const char *file = given ? given : path;
    struct stat sb;
    stat(file, &sb);

    double t0 = now_s();
    struct cv_recording *r = NULL;
    char *cause = NULL;
    if (cv_recording_open(file, &r, &cause) != CV_OK) {
        fprintf(stderr, "bench_seek: %s\n", cause);
        return 1;
    }
    struct cv_replay *p = cv_replay_new(r);
    double open_ms = (now_s() - t0) * 1e3;
    const struct cv_recording_info *info = cv_recording_info(r);
    uint64_t end = info->end_ns;

    /* times spread over the run, visited in a shuffled order */
    double at[SEEKS], ms[SEEKS];
    for (int i = 0; i < SEEKS; i++)
        at[i] = (double)(i + 1) / (SEEKS + 1);
    srand(7);
    for (int i = SEEKS - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        double t = at[i];
        at[i] = at[j];
        at[j] = t;
    }
    double worst = 0, sum = 0;
    uint64_t seen = 0;
    for (int i = 0; i < SEEKS; i++) {
        double s0 = now_s();
        if (cv_replay_seek(p, (uint64_t)(at[i] * (double)end), &cause) != CV_OK) {
            fprintf(stderr, "bench_seek: %s\n", cause);
            return 1;
        }
        seen += cv_replay_snapshot(p)->events_recorded;
        ms[i] = (now_s() - s0) * 1e3;
        sum += ms[i];
        if (ms[i] > worst)
            worst = ms[i];
    }
    double mem = hwm_mb();
    cv_replay_free(p);

    /* for reference: a seek to 96 % with no checkpoint, feeding from the start */
    setenv("CONCVIZ_REPLAY_CHECKPOINTS", "0", 1);
    p = cv_replay_new(r);
    double f0 = now_s();
    cv_replay_seek(p, (uint64_t)(0.96 * (double)end), &cause);
    double full_ms = (now_s() - f0) * 1e3;
    cv_replay_free(p);
    cv_recording_close(r);

    printf("\nrecording: %.1f M events, %.1f MB on disk (%.2f B/event), %.2f s of run\n",
           (double)info->events / 1e6, (double)sb.st_size / 1e6,
           (double)sb.st_size / (double)(info->events ? info->events : 1), (double)end / 1e9);
    printf("open:                  %8.1f ms   (target < %.0f ms)\n", open_ms, TARGET_MS);
    printf("seek (%d, shuffled):   mean %6.1f ms, worst %6.1f ms   (target < %.0f ms)\n", SEEKS,
           sum / SEEKS, worst, TARGET_MS);
    printf("peak memory:           %8.1f MB   (target < %.0f MB)\n", mem, TARGET_MB);
    printf("seek to 96%% without checkpoints: %.0f ms (every event fed from the start)\n", full_ms);
    printf("json: {\"events\": %" PRIu64 ", \"bytes\": %lld, \"open_ms\": %.1f, \"seek_mean_ms\": "
           "%.1f, \"seek_worst_ms\": %.1f, \"peak_mb\": %.1f, \"full_feed_ms\": %.0f, "
           "\"seen\": %" PRIu64 "}\n",
           info->events, (long long)sb.st_size, open_ms, sum / SEEKS, worst, mem, full_ms, seen);
    if (!given)
        unlink(path);
    return 0;
}
