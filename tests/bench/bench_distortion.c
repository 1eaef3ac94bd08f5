/*
 * bench_distortion: what instrumentation costs a workload. Each CPU scenario runs with its
 * defaults in two builds of the engine: the normal one and one where cv_ring_record compiles to
 * nothing (concviz_engine_noev, no events at all: the collector has nothing to drain). Runs are
 * interleaved (on, off, off, on, ...) in fresh processes; the figure is the run's own wall time.
 * Printed per scenario: the median wall time with and without events, their ratio (target: at
 * most 1.03), the median of the per-pair ratios, and the events the instrumented runs recorded.
 * Not a pass/fail test: exit 0 unless a run fails.
 *
 *   bench_distortion [ROUNDS [NAME...]] (default 5 pairs per scenario; NAME: only these)
 *   bench_distortion --one FILE [K=V] (one run of scenario FILE, in this build: "wall events")
 */
#include "bench_util.h"

#include "concviz/run.h"

#include <inttypes.h>
#include <stdint.h>
#include <sys/wait.h>

#ifndef BENCH_SCENARIOS
#error "BENCH_SCENARIOS: the scenarios directory"
#endif

#define MAX_ROUNDS 25
#define TARGET     1.03

#ifndef BENCH_EVENTS_OFF
static const char *const cases[][2] = {
    {"cpu-primes", NULL},
    {"cpu-factorize", NULL},
    {"cpu-many-small", NULL},
    {"cpu-chunks", NULL},
    {"compress", NULL},
    {"gil-contention", NULL},
    {"counter-race", "variant=mutex"},
};
#endif

/* One run in this process: its wall seconds and the events it recorded. */
static int one(const char *path, const char *set)
{
    struct cv_scenario *sc = NULL;
    char *cause = NULL;
    if (cv_scenario_load(path, &sc, &cause) != CV_OK) {
        fprintf(stderr, "bench_distortion: %s\n", cause);
        return 1;
    }
    if (set) {
        char kv[128];
        snprintf(kv, sizeof kv, "%s", set);
        char *eq = strchr(kv, '=');
        if (!eq || (*eq = 0, cv_scenario_set(sc, kv, eq + 1, &cause)) != CV_OK) {
            fprintf(stderr, "bench_distortion: %s: %s\n", set, cause ? cause : "not K=V");
            return 1;
        }
    }
    struct cv_run_config cfg = {.scenario = sc, .model = -1, .gil = -1};
    struct cv_run *run = NULL;
    if (cv_run_create(&cfg, &run, &cause) != CV_OK || cv_run_start(run, &cause) != CV_OK ||
        cv_run_finish(run, &cause) != CV_OK) {
        fprintf(stderr, "bench_distortion: %s: %s\n", path, cause ? cause : "?");
        return 1;
    }
    enum cv_run_state st = cv_run_state(run);
    printf("%.6f %" PRIu64 "\n", cv_run_elapsed(run), cv_run_snapshot(run)->events_recorded);
    cv_run_destroy(run);
    cv_scenario_free(sc);
    return st == CV_RUN_DONE ? 0 : 1;
}

#ifndef BENCH_EVENTS_OFF
/* Runs `prog --one path [set]` and reads its figures. */
static int spawn(const char *prog, const char *path, const char *set, double *wall,
                 uint64_t *events)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --one '%s' %s", prog, path, set ? set : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return 1;
    int got = fscanf(p, "%lf %" SCNu64, wall, events);
    int st = pclose(p);
    return got == 2 && st == 0 ? 0 : 1;
}

#endif

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--one"))
        return one(argv[2], argc > 3 ? argv[3] : NULL);
#ifdef BENCH_EVENTS_OFF
    fprintf(stderr, "bench_distortion_off: run by bench_distortion (--one FILE [K=V])\n");
    return 2;
#else
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 5;
    size_t ncases = sizeof cases / sizeof *cases;
    for (int a = 2; a < argc; a++) {
        size_t c = 0;
        while (c < ncases && strcmp(argv[a], cases[c][0]))
            c++;
        if (c == ncases) {
            fprintf(stderr, "bench_distortion: no scenario %s among the measured ones\n", argv[a]);
            return 2;
        }
    }
    printf("%d interleaved pairs per scenario, each run in a fresh process; wall times are the "
           "runs' own\n\n",
           rounds);
    printf("%-30s %10s %10s %8s %11s %12s\n", "scenario", "events on", "no events", "ratio",
           "pair ratio", "events");
    char json[4096];
    size_t jl = (size_t)snprintf(json, sizeof json,
                                 "json: {\"bench\": \"distortion\", "
                                 "\"rounds\": %d, \"scenarios\": [",
                                 rounds);
    double worst = 0;
    bool first = true;
    for (size_t c = 0; c < ncases; c++) {
        bool chosen = argc <= 2;
        for (int a = 2; a < argc && !chosen; a++)
            chosen = !strcmp(argv[a], cases[c][0]);
        if (!chosen)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s.ini", BENCH_SCENARIOS, cases[c][0]);
        double on[MAX_ROUNDS], off[MAX_ROUNDS], pair[MAX_ROUNDS];
        uint64_t events = 0, none = 0;
        for (int r = 0; r < rounds; r++) {
            /* alternate which goes first, so neither always runs on a warmer machine */
            int first_on = r % 2 == 0;
            for (int k = 0; k < 2; k++) {
                bool is_on = (k == 0) == first_on;
                double w;
                uint64_t ev;
                if (spawn(is_on ? argv[0] : BENCH_OFF_PATH, path, cases[c][1], &w, &ev) != 0) {
                    fprintf(stderr, "bench_distortion: %s failed\n", cases[c][0]);
                    return 1;
                }
                if (is_on)
                    on[r] = w, events = ev;
                else
                    off[r] = w, none += ev;
            }
            pair[r] = on[r] / off[r];
        }
        double mon = bench_median(on, rounds), moff = bench_median(off, rounds);
        double ratio = mon / moff, mpair = bench_median(pair, rounds);
        if (ratio > worst)
            worst = ratio;
        char label[64];
        snprintf(label, sizeof label, "%s%s%s", cases[c][0], cases[c][1] ? " " : "",
                 cases[c][1] ? cases[c][1] : "");
        printf("%-30s %8.3f s %8.3f s %8.3f %11.3f %12" PRIu64 "%s\n", label, mon, moff, ratio,
               mpair, events, none ? "  (the build without events recorded some!)" : "");
        fflush(stdout);
        jl += (size_t)snprintf(json + jl, sizeof json - jl,
                               "%s{\"scenario\": \"%s\", \"wall_on_s\": %.4f, \"wall_off_s\": "
                               "%.4f, \"ratio\": %.4f, \"pair_ratio\": %.4f, \"events\": %" PRIu64
                               "}",
                               first ? "" : ", ", label, mon, moff, ratio, mpair, events);
        first = false;
    }
    printf("\nworst ratio %.3f (target at most %.2f: %s)\n", worst, TARGET,
           worst <= TARGET ? "met" : "missed");
    printf("%s], \"worst\": %.4f}\n", json, worst);
    return 0;
#endif
}
