/* Unit tests for the compare view's figures (tui/compare-stats.c): the median and spread of a
 * model's runs, the cpu line of /proc/stat, the shares of CPU time stolen and taken by others
 * between two samples, and the warning the view shows when its figures are noisy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "compare-stats.h"

static void test_median(void **state)
{
    (void)state;
    assert_true(cmp_median(NULL, 0) == 0);
    double one[] = {2.5};
    assert_true(cmp_median(one, 1) == 2.5);
    double odd[] = {3, 1, 2}; /* unsorted, and left so */
    assert_true(cmp_median(odd, 3) == 2);
    assert_true(odd[0] == 3 && odd[1] == 1 && odd[2] == 2);
    double even[] = {4, 1, 3, 2}; /* the mean of the middle two */
    assert_true(cmp_median(even, 4) == 2.5);
    double same[] = {1.96, 1.03, 1.96, 1.98, 1.95};
    assert_true(cmp_median(same, 5) == 1.96);
}

static void test_spread(void **state)
{
    (void)state;
    double lo, hi;
    double v[] = {1.1, 0.9, 1.0};
    assert_float_equal(cmp_spread(v, 3, &lo, &hi), 0.2, 1e-12);
    assert_true(lo == 0.9 && hi == 1.1);
    double one[] = {1.0}; /* one run has no spread */
    assert_true(cmp_spread(one, 1, &lo, &hi) == -1);
    assert_true(lo == 1.0 && hi == 1.0);
    double zero[] = {0, 0};
    assert_true(cmp_spread(zero, 2, NULL, NULL) == -1);
    double flat[] = {0.5, 0.5, 0.5};
    assert_true(cmp_spread(flat, 3, NULL, NULL) == 0);
}

static void test_cpu_parse(void **state)
{
    (void)state;
    struct cmp_cpu c;
    const char *stat = "cpu  100 5 50 1000 20 3 2 7 0 0\n"
                       "cpu0 50 2 25 500 10 1 1 3 0 0\n"
                       "intr 12345\n";
    assert_true(cmp_cpu_parse(stat, &c));
    assert_true(c.user == 100 && c.nice == 5 && c.system == 50 && c.idle == 1000);
    assert_true(c.iowait == 20 && c.irq == 3 && c.softirq == 2 && c.steal == 7);
    /* an old kernel's four fields: steal and the rest are 0 */
    assert_true(cmp_cpu_parse("cpu 1 2 3 4\n", &c));
    assert_true(c.idle == 4 && c.steal == 0 && c.iowait == 0);
    /* the cpu line need not come first; a cpuN line alone is not it */
    assert_true(cmp_cpu_parse("btime 1\ncpu  9 0 0 1 0 0 0 2\n", &c));
    assert_true(c.user == 9 && c.steal == 2);
    assert_false(cmp_cpu_parse("cpu0 1 2 3 4\n", &c));
    assert_false(cmp_cpu_parse("cpu  1 2\ncpu0 3 4\n", &c)); /* two fields: not the next line's */
    assert_false(cmp_cpu_parse("", &c));
}

static void test_shares(void **state)
{
    (void)state;
    struct cmp_sample a = {.ok = true, .cpu = {1000, 0, 500, 5000, 0, 0, 0, 100}, .own_ticks = 200};
    /* 1000 ticks later: 500 busy (300 of them concviz's), 60 stolen, 440 idle */
    struct cmp_sample b = a;
    b.cpu.user += 400;
    b.cpu.system += 100;
    b.cpu.steal += 60;
    b.cpu.idle += 440;
    b.own_ticks += 300;
    double steal, others;
    assert_true(cmp_shares(&a, &b, &steal, &others));
    assert_float_equal(steal, 0.06, 1e-12);
    assert_float_equal(others, 0.2, 1e-12);
    /* concviz counted more than the machine's busy time (ticks are coarse): others are 0 */
    b.own_ticks = a.own_ticks + 700;
    assert_true(cmp_shares(&a, &b, &steal, &others));
    assert_true(others == 0);
    /* no time passed, or a sample missing: unknown */
    assert_false(cmp_shares(&a, &a, &steal, &others));
    assert_true(steal == -1 && others == -1);
    b.ok = false;
    assert_false(cmp_shares(&a, &b, &steal, &others));
    assert_true(steal == -1 && others == -1);
}

static void test_row_checks(void **state)
{
    (void)state;
    char buf[64];
    struct compare_row r = {.ended = 0};
    assert_false(cmp_row_checks(&r, buf, sizeof buf)); /* no run yet */
    assert_string_equal(buf, "-");
    r = (struct compare_row){.ended = 3, .good = 3, .nexp = 2};
    assert_false(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "ok (2)");
    r.nexp = 0; /* a scenario without expectations */
    assert_false(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "-");
    /* an expectation failed in one run of three: said, in red */
    r = (struct compare_row){.ended = 3, .good = 3, .nexp = 2, .checks_failed = 1};
    assert_true(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "FAILED in 1 of 3 runs");
    /* one run of three deadlocked: the median is of two, and the row says why */
    r = (struct compare_row){.ended = 3, .good = 2, .nexp = 2, .bad = 1, .bad_state = "deadlock"};
    assert_true(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "1 of 3 deadlock");
    r.checks_failed = 1;
    assert_true(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "1 of 3 deadlock; FAILED in 1 of the 2 done");
    /* every run could not start */
    r = (struct compare_row){.ended = 2, .bad = 2, .bad_state = "error"};
    assert_true(cmp_row_checks(&r, buf, sizeof buf));
    assert_string_equal(buf, "could not start");
}

static const char *const names[] = {"serial", "threads", "procs"};

static void test_warning_quiet(void **state)
{
    (void)state;
    char buf[256] = "left over";
    double spread[] = {0.02, 0.10, -1}; /* 10% is not over 10%; one run has none */
    struct cmp_noise m = {.ncpu = 2, .load = 2.0, .steal = 0.02, .others = 0.10};
    assert_false(cmp_warning(buf, sizeof buf, 3, names, spread, &m));
    assert_string_equal(buf, "");
    /* nothing known of the machine yet (while the runs go): no warning of it */
    struct cmp_noise unknown = {.ncpu = 0, .load = 9, .steal = -1, .others = -1};
    assert_false(cmp_warning(buf, sizeof buf, 3, names, spread, &unknown));
    assert_false(cmp_warning(buf, sizeof buf, 3, names, spread, NULL));
}

static void test_warning_noisy(void **state)
{
    (void)state;
    char buf[512];
    double spread[] = {0.02, 0.18, 0.125};
    struct cmp_noise m = {.ncpu = 2, .load = 2.4, .steal = 0.06, .others = 0.25};
    assert_true(cmp_warning(buf, sizeof buf, 3, names, spread, &m));
    assert_string_equal(buf, "warning: spread 18.0% for threads, 12.5% for procs (over 10%); "
                             "load 2.40 on 2 CPUs as the runs began; the host stole 6.0% and "
                             "other programs took 25.0% of the CPU time during the runs: figures "
                             "are noisy");
    /* each cause alone */
    double calm[] = {0, 0, 0};
    struct cmp_noise load = {.ncpu = 1, .load = 1.5, .steal = 0, .others = 0};
    assert_true(cmp_warning(buf, sizeof buf, 3, names, calm, &load));
    assert_string_equal(buf, "warning: load 1.50 on 1 CPU as the runs began: figures are noisy");
    struct cmp_noise steal = {.ncpu = 2, .load = 0.1, .steal = 0.03, .others = 0};
    assert_true(cmp_warning(buf, sizeof buf, 3, names, calm, &steal));
    assert_string_equal(buf, "warning: the host stole 3.0% of the CPU time during the runs: "
                             "figures are noisy");
    struct cmp_noise others = {.ncpu = 2, .load = 0.1, .steal = 0, .others = 0.5};
    assert_true(cmp_warning(buf, sizeof buf, 3, names, calm, &others));
    assert_string_equal(buf, "warning: other programs took 50.0% of the CPU time during the "
                             "runs: figures are noisy");
    assert_true(cmp_warning(buf, sizeof buf, 3, names, spread, NULL));
    assert_string_equal(buf, "warning: spread 18.0% for threads, 12.5% for procs (over 10%): "
                             "figures are noisy");
    /* a small buffer: cut, still a string */
    char small[16];
    assert_true(cmp_warning(small, sizeof small, 3, names, spread, &m));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, "warning: spread", 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_cpu_parse),     cmocka_unit_test(test_shares),
        cmocka_unit_test(test_row_checks),    cmocka_unit_test(test_warning_quiet),
        cmocka_unit_test(test_warning_noisy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
