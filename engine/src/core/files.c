/* Files read and written (see concviz/files.h): regular-file inputs, outputs through a
 * temporary file and a rename, the recording's lock, and the temporary paths a signal must not
 * leave behind. */
#include "concviz/files.h"
#include "concviz/concviz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cv_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static void set_cause(char **cause, char *msg)
{
    if (cause)
        *cause = msg;
    else
        free(msg);
}

/* Clears O_NONBLOCK, set only so that opening a FIFO or a device could not block. */
static void blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

FILE *cv_file_open_read(const char *path, char **cause)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        set_cause(cause, cv_strdup_printf("%s: %s", path, strerror(errno)));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        set_cause(cause,
                  cv_strdup_printf("%s: %s", path,
                                   S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file"));
        close(fd);
        return NULL;
    }
    blocking(fd);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        set_cause(cause, cv_strdup_printf("%s: %s", path, strerror(errno)));
        close(fd);
    }
    return f;
}

/* Splits a path into its directory (".", "/" or the part before the last slash) and name. */
static char *dir_of(const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (!slash)
        return cv_strdup(".");
    if (slash == path)
        return cv_strdup("/");
    return cv_strndup(path, (size_t)(slash - path));
}

bool cv_file_same(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb)
        return false;
    const char *na, *nb;
    char *da = dir_of(a, &na), *db = dir_of(b, &nb);
    bool same = *na && !strcmp(na, nb) && stat(da, &sa) == 0 && stat(db, &sb) == 0 &&
                sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    free(da);
    free(db);
    return same;
}

bool cv_file_same_fd(int fd, const char *path)
{
    struct stat sf, sp;
    return fstat(fd, &sf) == 0 && stat(path, &sp) == 0 && S_ISREG(sf.st_mode) &&
           sf.st_dev == sp.st_dev && sf.st_ino == sp.st_ino;
}

/* ------------------------------------------------------------------ outputs */

struct cv_outfile {
    FILE *f;
    char *path;   /* as given: for messages */
    char *target; /* what is replaced: path, or the file a symbolic link names */
    char *tmp;    /* the temporary file beside it; NULL when target is written directly */
};

/* The process's umask, read without changing it (umask(2) would, for every thread). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned m = 022;
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "Umask: %o", &m) == 1;
    if (f)
        fclose(f);
    if (!found) {
        mode_t old = umask(022);
        umask(old);
        m = old;
    }
    return (mode_t)m;
}

int cv_outfile_open(const char *path, struct cv_outfile **out, char **cause)
{
    *out = NULL;
    struct stat st;
    char *target = NULL;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        target = realpath(path, NULL); /* replace the file it names, not the link */
    if (!target)
        target = cv_strdup(path);
    bool exists = stat(target, &st) == 0;
    int fd = -1, err = 0;
    char *tmp = NULL;
    if (exists && S_ISDIR(st.st_mode)) {
        err = EISDIR;
    } else if (exists && !S_ISREG(st.st_mode)) {
        /* a device or a FIFO: written as it is (nothing to rename over); a FIFO nobody reads
         * fails (ENXIO) instead of blocking */
        fd = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            err = errno;
        else
            blocking(fd);
    } else {
        const char *name;
        char *dir = dir_of(target, &name);
        tmp = cv_strdup_printf("%s/.%.200s.XXXXXX", dir, name);
        free(dir);
        fd = cv_tmp_mkstemp(tmp);
        if (fd < 0) {
            err = errno;
        } else {
            /* mkostemp makes it 0600: give it the mode the file it replaces had, or the one a
             * new file would get */
            fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~current_umask());
        }
    }
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !f)
        err = errno;
    if (err) {
        set_cause(cause,
                  cv_strdup_printf("cannot write %s: %s", path,
                                   err == ENXIO ? "a FIFO that no process reads" : strerror(err)));
        if (fd >= 0)
            close(fd);
        if (tmp && fd >= 0) {
            unlink(tmp);
            cv_tmp_untrack(tmp);
        }
        free(tmp);
        free(target);
        return CV_ERR_RUNTIME;
    }
    struct cv_outfile *o = cv_xcalloc(1, sizeof *o);
    o->f = f;
    o->path = cv_strdup(path);
    o->target = target;
    o->tmp = tmp;
    *out = o;
    return CV_OK;
}

FILE *cv_outfile_stream(struct cv_outfile *o)
{
    return o->f;
}

static void outfile_free(struct cv_outfile *o)
{
    if (o->tmp) {
        cv_tmp_untrack(o->tmp);
        free(o->tmp);
    }
    free(o->path);
    free(o->target);
    free(o);
}

int cv_outfile_commit(struct cv_outfile *o, char **cause)
{
    int err = 0;
    errno = 0;
    /* a failed write earlier (ENOSPC, EFBIG) left data behind: flushing it again says why */
    if (fflush(o->f) != 0 || ferror(o->f))
        err = errno ? errno : EIO;
    else if (o->tmp && fsync(fileno(o->f)) != 0 && errno != EINVAL)
        err = errno; /* the data on disk before the name points at it */
    if (fclose(o->f) != 0 && !err)
        err = errno ? errno : EIO;
    if (!err && o->tmp && rename(o->tmp, o->target) != 0)
        err = errno;
    if (err && o->tmp)
        unlink(o->tmp);
    if (err)
        set_cause(cause, cv_strdup_printf("writing %s: %s", o->path, strerror(err)));
    outfile_free(o);
    return err ? CV_ERR_RUNTIME : CV_OK;
}

void cv_outfile_abort(struct cv_outfile *o)
{
    if (!o)
        return;
    fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    outfile_free(o);
}

int cv_file_open_locked(const char *path, const char *magic, size_t magic_len, FILE **out,
                        char **cause)
{
    *out = NULL;
    /* no O_TRUNC: the file is emptied only once it is ours */
    int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0666);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        set_cause(cause, cv_strdup(e == ENXIO ? "a FIFO that no process reads" : strerror(e)));
        if (fd >= 0)
            close(fd);
        return CV_ERR_RUNTIME;
    }
    if (S_ISREG(st.st_mode)) {
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            set_cause(cause, e == EWOULDBLOCK
                                 ? cv_strdup("another concviz run is writing to it (the file "
                                             "is left as it is)")
                                 : cv_strdup_printf("cannot lock it: %s", strerror(e)));
            close(fd);
            return CV_ERR_RUNTIME;
        }
        if (fstat(fd, &st) == 0 && st.st_size > 0) {
            /* only a file of the same kind is replaced: a scenario, a script or any other
             * file given by mistake is left alone */
            char head[64] = {0};
            ssize_t got = -1;
            int rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            struct stat rs;
            if (rfd >= 0 && fstat(rfd, &rs) == 0 && rs.st_dev == st.st_dev &&
                rs.st_ino == st.st_ino && magic_len <= sizeof head)
                got = pread(rfd, head, magic_len, 0);
            if (rfd >= 0)
                close(rfd);
            if (got != (ssize_t)magic_len || memcmp(head, magic, magic_len)) {
                set_cause(cause, cv_strdup("it exists and is not a concviz recording (left as it "
                                           "is; remove it or choose another name)"));
                close(fd);
                return CV_ERR_USAGE;
            }
        }
        if (ftruncate(fd, 0) != 0) {
            set_cause(cause, cv_strdup(strerror(errno)));
            close(fd);
            return CV_ERR_RUNTIME;
        }
    }
    blocking(fd);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        set_cause(cause, cv_strdup(strerror(errno)));
        close(fd);
        return CV_ERR_RUNTIME;
    }
    *out = f;
    return CV_OK;
}

/* ------------------------------------------------------------------ temporary paths */

/* Slots: 0 free, 1 being filled (a handler skips it), 2 tracked. A signal handler reads them
 * while the thread that tracks may be filling one: the state is the only thing it trusts. */
#define TMP_SLOTS 16
static struct {
    atomic_int state;
    bool dir;
    char path[PATH_MAX];
} g_tmp[TMP_SLOTS];
static atomic_int g_tmp_owner; /* the pid that tracked them */

void cv_tmp_track(const char *path, bool is_dir)
{
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return;
    atomic_store(&g_tmp_owner, (int)getpid());
    for (int i = 0; i < TMP_SLOTS; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&g_tmp[i].state, &free_slot, 1)) {
            memcpy(g_tmp[i].path, path, n + 1);
            g_tmp[i].dir = is_dir;
            atomic_store(&g_tmp[i].state, 2);
            return;
        }
    }
}

void cv_tmp_untrack(const char *path)
{
    for (int i = 0; i < TMP_SLOTS; i++) {
        int tracked = 2;
        if (atomic_load(&g_tmp[i].state) == 2 && !strcmp(g_tmp[i].path, path) &&
            atomic_compare_exchange_strong(&g_tmp[i].state, &tracked, 1)) {
            g_tmp[i].path[0] = 0;
            atomic_store(&g_tmp[i].state, 0);
            return;
        }
    }
}

/* A directory of files (no subdirectories) with system calls only: no malloc, no stdio. */
static void remove_dir(const char *path)
{
    for (int pass = 0; pass < 4 && rmdir(path) != 0 && errno == ENOTEMPTY; pass++) {
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return;
        _Alignas(struct dirent64) char buf[4096];
        ssize_t n;
        while ((n = getdents64(dfd, buf, sizeof buf)) > 0) {
            for (ssize_t off = 0; off < n;) {
                struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
                off += d->d_reclen;
                if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
                    unlinkat(dfd, d->d_name, 0);
            }
        }
        close(dfd);
    }
}

/* Holds back the signals whose handlers sweep the tracked paths (*old: the mask to restore). */
static void hold_stop_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

int cv_tmp_mkstemp(char *tmpl)
{
    sigset_t old;
    hold_stop_signals(&old);
    int fd = mkostemp(tmpl, O_CLOEXEC);
    int err = errno;
    if (fd >= 0)
        cv_tmp_track(tmpl, false);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return fd;
}

char *cv_tmp_mkdtemp(char *tmpl)
{
    sigset_t old;
    hold_stop_signals(&old);
    char *dir = mkdtemp(tmpl);
    int err = errno;
    if (dir)
        cv_tmp_track(dir, true);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return dir;
}

void cv_tmp_sweep(void)
{
    if (atomic_load(&g_tmp_owner) != (int)getpid())
        return;
    int saved = errno; /* a handler must leave errno as it found it */
    for (int i = 0; i < TMP_SLOTS; i++) {
        int tracked = 2;
        if (!atomic_compare_exchange_strong(&g_tmp[i].state, &tracked, 1))
            continue;
        if (g_tmp[i].dir)
            remove_dir(g_tmp[i].path);
        else
            unlink(g_tmp[i].path);
        g_tmp[i].path[0] = 0;
        atomic_store(&g_tmp[i].state, 0);
    }
    errno = saved;
}
