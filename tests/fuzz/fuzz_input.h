/* The fuzz targets' input file: the readers take a path, so each input is written to a memfd
 * (or, where memfd_create is missing, to one temporary file, removed at exit) and read through
 * fuzz_input_path. Header-only, one per target. */
#ifndef CONCVIZ_FUZZ_INPUT_H
#define CONCVIZ_FUZZ_INPUT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_input_fd = -1;
static char fuzz_input_path[64];
static char fuzz_tmp_path[64];

static void fuzz_input_remove(void)
{
    if (fuzz_tmp_path[0])
        unlink(fuzz_tmp_path);
}

/* Once, from LLVMFuzzerInitialize; aborts when there is nowhere to write. */
static void fuzz_input_open(const char *who)
{
#ifdef MFD_CLOEXEC
    fuzz_input_fd = memfd_create(who, MFD_CLOEXEC);
#endif
    if (fuzz_input_fd >= 0) {
        snprintf(fuzz_input_path, sizeof fuzz_input_path, "/proc/self/fd/%d", fuzz_input_fd);
        return;
    }
    snprintf(fuzz_tmp_path, sizeof fuzz_tmp_path, "/tmp/concviz-fuzz-XXXXXX");
    fuzz_input_fd = mkstemp(fuzz_tmp_path);
    if (fuzz_input_fd < 0) {
        fprintf(stderr, "%s: cannot create a temporary file: %s\n", who, strerror(errno));
        abort();
    }
    snprintf(fuzz_input_path, sizeof fuzz_input_path, "%s", fuzz_tmp_path);
    atexit(fuzz_input_remove);
}

/* The file holds exactly data[0..size) afterwards. */
static void fuzz_input_write(const uint8_t *data, size_t size)
{
    if (ftruncate(fuzz_input_fd, 0) != 0)
        abort();
    size_t done = 0;
    while (done < size) {
        ssize_t k = pwrite(fuzz_input_fd, data + done, size - done, (off_t)done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            abort();
        done += (size_t)k;
    }
}

#endif
