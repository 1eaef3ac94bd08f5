/* files: every task writes its own file (fsync'd, so the disk really waits), reads it back and
 * checks it. Files go to a fresh directory under $TMPDIR (or /tmp), removed afterwards: at the
 * end of the run, when the run is refused after setup, or by a signal (cv_tmp_sweep). */
#include "wl.h"

#include "concviz/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct files_state {
    char dir[256];
    uint32_t size;
    _Atomic uint32_t verified;
    _Atomic uint64_t written;
};

static const struct cv_param_def params[] = {
    {"files", CV_PARAM_INT, "1000", "files (one task each)", NULL, 1, 100000},
    {"size_kb", CV_PARAM_INT, "256", "size of each file, KiB", NULL, 1, 65536},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int files_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "files"));
    return CV_OK;
}

static int files_setup(struct cv_run *run, char **cause)
{
    struct files_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    const char *tmp = cv_tmpdir();
    int n = snprintf(st->dir, sizeof st->dir, "%s/concviz-files-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof st->dir || !cv_tmp_mkdtemp(st->dir)) {
        if (cause)
            *cause = cv_strdup_printf("cannot make a directory for the files in %s: %s", tmp,
                                      n < 0 || (size_t)n >= sizeof st->dir ? "path too long"
                                                                           : strerror(errno));
        st->dir[0] = 0;
        return CV_ERR_RUNTIME;
    }
    st->size = (uint32_t)cv_param_int(run, "size_kb") * 1024u;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static void fill(uint8_t *p, size_t n, uint32_t task)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (task + 1);
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(x >> 56);
    }
}

static int files_task(struct cv_ctx *ctx, uint32_t task)
{
    struct files_state *st = cv_run_workload_state(ctx->run);
    char path[320];
    snprintf(path, sizeof path, "%s/file-%u", st->dir, task);
    uint8_t *data = malloc(st->size), *back = malloc(st->size);
    int rc = -1;
    size_t got = 0;
    if (data && back) {
        fill(data, st->size, task);
        if (cv_file_write(ctx, path, data, st->size) == 0) {
            atomic_fetch_add(&st->written, st->size);
            if (cv_file_read(ctx, path, back, st->size, &got) == 0 && got == st->size &&
                !memcmp(data, back, st->size)) {
                atomic_fetch_add(&st->verified, 1);
                rc = 0;
            }
        }
    }
    free(data);
    free(back);
    return rc == 0 || cv_stopping(ctx) ? rc : -2;
}

/* Removes the files and the directory; returns how many files had the full size. */
static uint32_t remove_files(struct files_state *st)
{
    uint32_t on_disk = 0;
    if (!st->dir[0])
        return 0;
    DIR *d = opendir(st->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", st->dir, e->d_name);
        struct stat fs;
        if (stat(path, &fs) == 0 && fs.st_size == (off_t)st->size)
            on_disk++;
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(st->dir);
    cv_tmp_untrack(st->dir);
    st->dir[0] = 0;
    return on_disk;
}

static void files_finish(struct cv_run *run)
{
    struct files_state *st = cv_run_workload_state(run);
    /* the files are checked once more from outside the tasks, then removed */
    uint32_t on_disk = remove_files(st);
    cv_result_num(run, "verified", atomic_load(&st->verified));
    cv_result_num(run, "files_on_disk", on_disk);
    cv_result_num(run, "bytes_written", (double)atomic_load(&st->written));
    /* the time the file operations took where they ran (a queue for the executor not counted):
     * more than the wall time only when several ran at once */
    cv_result_num(run, "io_busy_s", cv__run_file_busy_s(run));
}

/* A run refused after setup, or destroyed before its end, never reaches finish. */
static void files_teardown(struct cv_run *run)
{
    struct files_state *st = cv_run_workload_state(run);
    if (st)
        remove_files(st);
}

/* One file per task, open only inside a blocking write or read. */
static void files_holds(const struct cv_run *run, uint64_t in_flight, uint64_t in_call,
                        uint64_t *connections, uint64_t *files)
{
    (void)run;
    (void)in_flight;
    *connections = 0;
    *files = in_call;
}

const struct cv_workload cv__wl_files = {
    .name = "files",
    .summary = "write, fsync, read back and check many files",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = files_plan,
    .setup = files_setup,
    .task = files_task,
    .finish = files_finish,
    .teardown = files_teardown,
    .holds = files_holds,
    .tasks_param = "files",
    .file_io = true,
};
