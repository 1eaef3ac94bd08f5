/* workloads/wl.h: everything a workload may use beyond the public headers (concviz/workload.h,
 * run.h, value.h). Workloads include this and nothing of the run's internals: they see `struct
 * cv_run` and `struct cv_ctx`'s run only as handles to pass back to these calls.
 *
 * The run side (run/, net/) provides the accessors below; common.c and factor.c the helpers
 * several workloads share. */
#ifndef CONCVIZ_WORKLOADS_WL_H
#define CONCVIZ_WORKLOADS_WL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/concviz.h"
#include "concviz/httpd.h"
#include "concviz/run.h"
#include "concviz/value.h"
#include "concviz/workload.h"
#include "../core/numbers.h"

/* ---- what the run tells a workload (run/run.c) ---- */

/* Seconds every lane spent in blocking file operations (cv_file_write, cv_file_read). */
double cv__run_file_busy_s(const struct cv_run *run);
/* Seconds executor lanes spent on cv_offload_cpu work. */
double cv__run_offload_busy_s(const struct cv_run *run);
/* The name a lane is shown with (worker-1, cv:proc-2, ...). */
const char *cv__run_lane_name(const struct cv_run *run, uint32_t lane);
/* The embedded server's fault counts, or NULL when the run has no server or they could not be
 * shared. */
const struct cv_httpd_tally *cv__run_httpd_tally(const struct cv_run *run);

/* ---- what several workloads share (common.c, factor.c) ---- */

uint64_t cv__isqrt(uint64_t n);
/* The trial-division workloads' answers by other means (factor.c), to check them: primality by
 * Miller-Rabin, exact below 2^64; the number of divisors of n >= 2 and its smallest factor
 * above 1 (n itself for a prime), from Pollard's rho. */
bool cv__is_prime_fast(uint64_t n);
void cv__factor_facts(uint64_t n, uint64_t *divisors, uint64_t *smallest);
/* The trial-division workloads' "numbers" parameter (workloads/common.c): up to 64 whole numbers
 * from 2 to 2^53 (every one exact in a double, and so in the JSON and the expressions). A task
 * per number and repeat; task t works on v[t % n], handed over as its argument (under procs it
 * travels to the worker, as ProcessPoolExecutor pickles it). */
#define CV__NUMBERS_MAX 64
struct cv__numbers {
    uint32_t n;
    uint64_t v[CV__NUMBERS_MAX];
};
int cv__numbers_parse(struct cv_run *run, struct cv__numbers *out, char **cause);
/* A workload's plan: the numbers checked, n x repeat tasks. */
int cv__numbers_plan(struct cv_run *run, char **cause);
size_t cv__numbers_arg(const struct cv__numbers *nums, uint32_t task, const void **data);
/* The number a task was handed (false if its argument is not one). */
bool cv__task_number(struct cv_ctx *ctx, uint64_t *v);
/* CPU time of the calling thread, ns (CLOCK_THREAD_CPUTIME_ID): what it computed, not waited. */
uint64_t cv__thread_cpu_ns(void);
/* Sleeps `ticks` times for tick_ns, keeping in *max_late the latest a wake-up came. Returns false
 * if stopped. */
bool cv__ticker(struct cv_ctx *ctx, uint32_t ticks, uint64_t tick_ns, _Atomic uint64_t *max_late);

#endif
