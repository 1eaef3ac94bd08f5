/* The compare view's figures: the median and spread of a model's runs, and whether the machine
 * was busy while they ran (the load average as they began; the CPU time stolen by the host and
 * taken by other programs during them, from /proc/stat). Pure functions, but for
 * cmp_sample_take and cmp_machine, which read the system. */
#ifndef CONCVIZ_TUI_COMPARE_STATS_H
#define CONCVIZ_TUI_COMPARE_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Above these the compare view warns that its figures are noisy. */
#define CMP_SPREAD_MAX 0.10 /* a model's (max - min) / median */
#define CMP_STEAL_MAX  0.02 /* the CPU time the host took from this machine */
#define CMP_OTHERS_MAX 0.10 /* the CPU time other programs took */
/* ... and when the 1-minute load average was over the number of online CPUs. */

#define CMP_RUNS_MAX 7 /* runs of each model, at most */

/* One model's runs so far. Those that ended done give the times; the others are counted. */
struct compare_row {
    int model, gil;
    int ended; /* runs that ended, any way */
    int good;  /* of them, those that ended done: wall[] and cpu[] */
    double wall[CMP_RUNS_MAX], cpu[CMP_RUNS_MAX];
    double mem[CMP_RUNS_MAX]; /* memory per task, KB (runtime.memory_per_task_kb) */
    double inflight;          /* the most of any run */
    unsigned nexp;            /* the scenario's expectations */
    int checks_failed;        /* good runs in which one failed */
    int bad;                  /* runs that did not end done */
    char bad_state[16];       /* how the latest of them ended: deadlock, stopped, failed, error */
};
/* The checks column of a row: its runs that did not end done ("1 of 3 deadlock", or "deadlock"
 * when none did), then the runs in which an expectation failed ("FAILED in 1 of 3 runs", "1 of 3
 * deadlock; FAILED in 1 of the 2 done"), else "ok (N)" for N expectations or "-". True when there
 * is something wrong to show in red. */
bool cmp_row_checks(const struct compare_row *r, char *buf, size_t cap);

/* The median of v[0..n) (the mean of the middle two for an even n); 0 for none. */
double cmp_median(const double *v, int n);
/* (max - min) / median of v[0..n), and min and max if asked; -1 for fewer than 2 values or a
 * median of 0. */
double cmp_spread(const double *v, int n, double *min, double *max);

/* The cpu line of /proc/stat, in clock ticks: all CPUs together. */
struct cmp_cpu {
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
};
/* Reads the first line starting "cpu " of text (/proc/stat); false if there is none or it has
 * fewer than the 4 first fields (steal and the rest are 0 when missing). */
bool cmp_cpu_parse(const char *text, struct cmp_cpu *out);

/* The machine at one moment: its CPU time, and concviz's own (this process and its children
 * that have ended: the procs model's workers), in clock ticks. */
struct cmp_sample {
    bool ok; /* /proc/stat was read */
    struct cmp_cpu cpu;
    double own_ticks;
};
/* Between two samples: the share of all CPU time stolen by the host, and the share that went to
 * programs other than concviz (busy time less concviz's own, at least 0); false, and both -1,
 * when either sample is missing or no time passed. */
bool cmp_shares(const struct cmp_sample *a, const struct cmp_sample *b, double *steal,
                double *others);

/* How busy the machine was while the runs went; a share < 0 or a count of 0 is unknown. */
struct cmp_noise {
    int ncpu;      /* online CPUs */
    double load;   /* 1-minute load average as the runs began */
    double steal;  /* cmp_shares over the runs */
    double others; /* cmp_shares over the runs */
};
/* The warning for n models named names[i] whose runs spread spread[i] (< 0: fewer than 2
 * runs) on a machine as busy as m says (NULL: not known yet): "warning: spread 18% for
 * threads; load 2.40 on 2 CPUs; steal 6% during the runs: figures are noisy". Returns false,
 * and buf empty, when nothing is over its threshold. */
bool cmp_warning(char *buf, size_t cap, int n, const char *const *names, const double *spread,
                 const struct cmp_noise *m);

/* Now: /proc/stat and getrusage. */
void cmp_sample_take(struct cmp_sample *s);
/* Now: the online CPUs and the 1-minute load average (-1 if unknown). */
void cmp_machine(int *ncpu, double *load);

#endif
