/* Files the tool reads and writes, handled one way everywhere: an input is opened without
 * blocking and must be a regular file (a FIFO or a device would hang the reader); an output is
 * written to a temporary file beside it and renamed into place when complete, so an
 * interrupted or failed write leaves the old file or none; a recording is written in place
 * (it must survive a crash readable up to its last chunk) under an exclusive lock; temporary
 * files go to $TMPDIR and are removed on every way out, a signal included. */
#ifndef CONCVIZ_FILES_H
#define CONCVIZ_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The directory for temporary files: $TMPDIR when set and not empty, else /tmp. */
const char *cv_tmpdir(void);

/* Opens `path` for reading if it is a regular file, never blocking on a FIFO or a device.
 * NULL with *cause "PATH: why" otherwise (caller frees). */
FILE *cv_file_open_read(const char *path, char **cause);

/* Whether two paths name the same regular file (the same device and inode), or the same name
 * in the same directory when neither exists yet. Devices and FIFOs are never "the same": two
 * outputs may both go to /dev/null. */
bool cv_file_same(const char *a, const char *b);
/* The same for an open descriptor (stdout redirected to a file) and a path. */
bool cv_file_same_fd(int fd, const char *path);

/* An output written whole. cv_outfile_open creates a temporary file next to `path` (path
 * itself when it is a device or a FIFO: those are written directly); write to
 * cv_outfile_stream, then cv_outfile_commit flushes, syncs and renames it over `path`, or
 * cv_outfile_abort removes it. The file keeps the mode of the one it replaces. Errors are
 * CV_ERR_RUNTIME with *cause "PATH: why". */
struct cv_outfile;
int cv_outfile_open(const char *path, struct cv_outfile **out, char **cause);
FILE *cv_outfile_stream(struct cv_outfile *o);
/* Frees o in any case; on a write error nothing replaces `path`. */
int cv_outfile_commit(struct cv_outfile *o, char **cause);
void cv_outfile_abort(struct cv_outfile *o);

/* Opens `path` to be written in place, for a file that grows as it is written and must stay
 * readable after a crash (a recording). A regular file is locked (flock, exclusive, held until
 * the stream is closed) before it is truncated: a second writer gets CV_ERR_RUNTIME ("another
 * concviz run is writing to it") and the file is left as it is. An existing regular file that
 * is neither empty nor starts with `magic` is not replaced (CV_ERR_USAGE). A device is written
 * as it is (no lock, no truncation). */
int cv_file_open_locked(const char *path, const char *magic, size_t magic_len, FILE **out,
                        char **cause);

/* Temporary paths to remove if the process is ended by a signal: cv_tmp_track after creating
 * one (a file, or a directory of files), cv_tmp_untrack once it is removed or kept. At most 16
 * at once; more are not tracked. */
void cv_tmp_track(const char *path, bool is_dir);
void cv_tmp_untrack(const char *path);
/* mkostemp(tmpl, O_CLOEXEC) and mkdtemp(tmpl) that track what they create, with SIGINT, SIGTERM
 * and SIGHUP held back in between, so a signal cannot leave an untracked file behind. */
int cv_tmp_mkstemp(char *tmpl);
char *cv_tmp_mkdtemp(char *tmpl);
/* Removes every tracked path (a directory with the files in it). Async-signal-safe, for signal
 * handlers; does nothing in a forked child, whose parent owns the paths. */
void cv_tmp_sweep(void);

#endif
