/*
 * Recordings (the format is described in concviz/record.h). The writer takes the collector's
 * events through its tap, on the thread that drains the rings, and writes a chunk every 64 Ki
 * events or 250 ms; each chunk is flushed to the kernel as it is written, so a killed process
 * leaves every chunk before the last. The reader keeps only the header, the texts and the index
 * in memory, and reads one chunk at a time.
 */
#include "internal.h"

#include "concviz/files.h"
#include "concviz/record.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define MAGIC         "CVZREC\r\n"
#define TRAILER_MAGIC "CVZEND\r\n"
#define CHUNK_EVENTS  65536
#define CHUNK_AGE_NS  250000000ull
#define ZSTD_LEVEL    1
#define MAX_RECORD    (64u << 20) /* no record is larger: a length beyond it is corruption */

/* R_DECL: lanes and objects declared (or lanes renamed) after the header, as header lines; a
 * traced program's appear as it runs. Written before the chunk whose events name them, and all
 * once more after the last chunk. */
enum rec_type { R_HEAD = 1, R_SCEN, R_TEXT, R_EVTS, R_INDX, R_FOOT, R_CKPT, R_CKIX, R_DECL };

/* Events between checkpoints (CONCVIZ_CHECKPOINT_EVENTS); a checkpoint's head (events, ts,
 * order from, order to, raw size, zero); no run completes more tasks than TASK_ORDER_MAX, so a
 * larger count is corruption. */
#define CKPT_EVENTS    2000000
#define MAX_RUN_NS     (1ull << 56) /* over two years: a later time is corruption */
#define CKPT_HEAD      40
#define TASK_ORDER_MAX (1ull << 28)
#define MAX_CKPT_RAW   (256u << 20) /* a checkpoint's state, uncompressed */

struct ckpt_entry {
    uint64_t offset, events, ts, order_to;
};

struct idx_entry {
    uint64_t offset, first_ns, last_ns, before;
    uint32_t n, zero;
};

#define CHUNK_HEAD 32 /* count, first, last, before, raw size */

/* ------------------------------------------------------------------ writing */

struct cv__recorder {
    FILE *f;
    char *path;
    char *error; /* the first write error, one line */
    struct cv_collector *col;
    struct cv_event *chunk;
    size_t n;
    uint64_t chunk_started; /* monotonic ns when its first event came */
    struct idx_entry *index;
    size_t nidx, idx_cap;
    uint64_t total, last_ns;
    size_t texts_written;
    ZSTD_CCtx *z;
    unsigned char *zbuf;
    size_t zcap;
    uint64_t offset;                /* bytes written */
    uint64_t ckpt_every, ckpt_last; /* checkpoint interval; events at the last one */
    uint64_t order_written;         /* completion order entries in checkpoints so far */
    struct ckpt_entry *ckpts;
    size_t nckpts, ckpt_cap;
    unsigned char *cbuf; /* a compressed checkpoint */
    size_t ccap;
    char (*lane_w)[CV_NAME_MAX]; /* lanes declared in the file so far, by the names given */
    int32_t *lane_pid_w;         /* and the processes */
    size_t nlane_w;
    uint8_t *obj_w; /* objects declared in the file so far, by id */
    size_t nobj_w;
    bool decls; /* an R_DECL was written: all of them once more at the end */
};

static bool w_bytes(struct cv__recorder *w, const void *p, size_t n)
{
    if (w->error)
        return false;
    if (n && fwrite(p, 1, n, w->f) != n) {
        w->error = cv_strdup_printf("recording %s: %s", w->path, strerror(errno ? errno : EIO));
        return false;
    }
    w->offset += n;
    return true;
}

static bool w_record(struct cv__recorder *w, uint32_t type, const void *a, size_t alen,
                     const void *b, size_t blen)
{
    uint32_t head[2] = {type, (uint32_t)(alen + blen)};
    uLong crc = crc32(0, Z_NULL, 0);
    crc = crc32(crc, a, (uInt)alen);
    if (blen)
        crc = crc32(crc, b, (uInt)blen);
    uint32_t c32 = (uint32_t)crc;
    return w_bytes(w, head, sizeof head) && w_bytes(w, a, alen) && w_bytes(w, b, blen) &&
           w_bytes(w, &c32, 4);
}

static bool w_flush(struct cv__recorder *w)
{
    if (w->error)
        return false;
    if (fflush(w->f) != 0) {
        w->error = cv_strdup_printf("recording %s: %s", w->path, strerror(errno ? errno : EIO));
        return false;
    }
    return true;
}

static void w_texts(struct cv__recorder *w)
{
    size_t n = cv_collector_nstrings(w->col);
    for (; w->texts_written < n; w->texts_written++) {
        const char *t = cv_collector_string(w->col, (uint32_t)w->texts_written);
        if (!t)
            continue;
        uint32_t id = (uint32_t)w->texts_written;
        w_record(w, R_TEXT, &id, 4, t, strlen(t));
    }
}

static void head_line(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A lane's or an object's name as one word of a header line: '%', spaces and control characters
 * as %XX (a Python thread is "Thread-1 (spin)"); name_unword reads it back. */
#define NAME_WORD (3 * CV_NAME_MAX)
static const char *name_word(const char *name, char *buf)
{
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && k + 4 < NAME_WORD; c++)
        if (*c <= ' ' || *c == '%' || *c == 127)
            k += (size_t)snprintf(buf + k, NAME_WORD - k, "%%%02X", *c);
        else
            buf[k++] = (char)*c;
    buf[k] = 0;
    return buf;
}

static void name_unword(const char *word, char *out)
{
    size_t k = 0;
    for (const char *c = word; *c && k + 1 < CV_NAME_MAX; c++) {
        unsigned v;
        if (c[0] == '%' && isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2]) &&
            sscanf(c + 1, "%2x", &v) == 1) {
            out[k++] = v ? (char)v : '?';
            c += 2;
        } else {
            out[k++] = *c;
        }
    }
    out[k] = 0;
}

/* A lane's header line: its id, role and name, and its process where known (a reader from
 * before processes were recorded reads the first three and ignores the rest). */
static void lane_line(char **h, size_t *hl, size_t id, enum cv_lane_role role, const char *name,
                      int32_t pid)
{
    char word[NAME_WORD];
    const char *r = role == CV_ROLE_MAIN ? "main" : "worker";
    if (pid > 0)
        head_line(h, hl, "lane %zu %s %s %d", id, r, name_word(name, word), (int)pid);
    else
        head_line(h, hl, "lane %zu %s %s", id, r, name_word(name, word));
}

/* The lanes and objects the collector has that the file does not (all of them: all), as an
 * R_DECL record of header lines. */
static void w_decls(struct cv__recorder *w, bool all)
{
    char *h = NULL;
    size_t hl = 0;
    size_t nl = cv_collector_nlanes(w->col), no = cv_collector_nobjects(w->col);
    if (nl > w->nlane_w) {
        w->lane_w = cv_xrealloc(w->lane_w, nl * sizeof *w->lane_w);
        memset(w->lane_w + w->nlane_w, 0, (nl - w->nlane_w) * sizeof *w->lane_w);
        w->lane_pid_w = cv_xrealloc(w->lane_pid_w, nl * sizeof *w->lane_pid_w);
        memset(w->lane_pid_w + w->nlane_w, 0, (nl - w->nlane_w) * sizeof *w->lane_pid_w);
    }
    for (size_t i = 0; i < nl; i++) {
        const char *name;
        enum cv_lane_role role;
        if (!cv_collector_lane(w->col, (uint32_t)i, &name, &role) || !*name)
            break; /* lanes are declared in order: the rest later */
        int32_t pid = cv_collector_lane_pid(w->col, (uint32_t)i);
        if (!all && i < w->nlane_w && !strcmp(w->lane_w[i], name) && w->lane_pid_w[i] == pid)
            continue;
        lane_line(&h, &hl, i, role, name, pid);
        snprintf(w->lane_w[i], CV_NAME_MAX, "%s", name);
        w->lane_pid_w[i] = pid;
        if (i >= w->nlane_w)
            w->nlane_w = i + 1;
    }
    if (no > w->nobj_w) {
        w->obj_w = cv_xrealloc(w->obj_w, no);
        memset(w->obj_w + w->nobj_w, 0, no - w->nobj_w);
        w->nobj_w = no;
    }
    struct cv_object_decl d;
    for (size_t i = 0; i < no; i++)
        if ((all || !w->obj_w[i]) && cv_collector_object(w->col, (uint32_t)i, &d)) {
            char word[NAME_WORD];
            head_line(&h, &hl, "object %u %s %u %s", d.id, cv_object_kind_name(d.kind), d.capacity,
                      name_word(d.name, word));
            w->obj_w[i] = 1;
        }
    if (hl) {
        w_record(w, R_DECL, h, hl, NULL, 0);
        w->decls = true;
    }
    free(h);
}

static void w_chunk(struct cv__recorder *w)
{
    if (!w->n || w->error)
        return;
    w_decls(w, false); /* lanes and objects before the events that name them */
    w_texts(w);        /* and texts */
    /* ts as deltas: small numbers that compress well */
    uint64_t prev = 0;
    for (size_t i = 0; i < w->n; i++) {
        uint64_t ts = w->chunk[i].ts;
        w->chunk[i].ts = ts - prev;
        prev = ts;
    }
    size_t raw = w->n * sizeof *w->chunk;
    size_t bound = ZSTD_compressBound(raw);
    if (bound > w->zcap) {
        w->zcap = bound;
        w->zbuf = cv_xrealloc(w->zbuf, w->zcap);
    }
    size_t zn = ZSTD_compressCCtx(w->z, w->zbuf, w->zcap, w->chunk, raw, ZSTD_LEVEL);
    if (ZSTD_isError(zn)) {
        w->error = cv_strdup_printf("recording %s: compression failed: %s", w->path,
                                    ZSTD_getErrorName(zn));
        return;
    }
    uint64_t first = w->chunk[0].ts, last = prev;
    unsigned char head[CHUNK_HEAD];
    uint32_t n32 = (uint32_t)w->n, raw32 = (uint32_t)raw;
    memcpy(head, &n32, 4);
    memcpy(head + 4, &first, 8);
    memcpy(head + 12, &last, 8);
    memcpy(head + 20, &w->total, 8);
    memcpy(head + 28, &raw32, 4);
    if (w->nidx == w->idx_cap) {
        w->idx_cap = w->idx_cap ? 2 * w->idx_cap : 64;
        w->index = cv_xrealloc(w->index, w->idx_cap * sizeof *w->index);
    }
    struct idx_entry e = {w->offset, first, last, w->total, n32, 0};
    if (!w_record(w, R_EVTS, head, sizeof head, w->zbuf, zn) || !w_flush(w))
        return;
    w->index[w->nidx++] = e;
    w->total += w->n;
    w->last_ns = last;
    w->n = 0;
}

static void w_tap(void *ctx, const struct cv_event *ev, size_t n)
{
    struct cv__recorder *w = ctx;
    for (size_t i = 0; i < n && !w->error;) {
        if (!w->n)
            w->chunk_started = cv_clock_mono_ns();
        size_t take = CHUNK_EVENTS - w->n < n - i ? CHUNK_EVENTS - w->n : n - i;
        memcpy(w->chunk + w->n, ev + i, take * sizeof *ev);
        w->n += take;
        i += take;
        if (w->n == CHUNK_EVENTS)
            w_chunk(w);
    }
}

static void head_line(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void head_line(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if ((size_t)k >= sizeof line)
        k = sizeof line - 1;
    *buf = cv_xrealloc(*buf, *len + (size_t)k + 2);
    memcpy(*buf + *len, line, (size_t)k);
    *len += (size_t)k;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = 0;
}

struct cv__recorder *cv__record_open(const struct cv__record_head *rh, const char *path,
                                     char **cause, int *rc)
{
    /* A whole chunk's buffers first, before the file is touched: short of memory (ulimit -v),
     * the run does not start, with one line, rather than aborting at its first chunk. */
    struct cv_event *chunk = malloc(CHUNK_EVENTS * sizeof *chunk);
    size_t zcap = ZSTD_compressBound(CHUNK_EVENTS * sizeof *chunk);
    unsigned char *zbuf = malloc(zcap);
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (!chunk || !zbuf || !z || !cv_collector_tap_reserve(rh->col)) {
        if (cause)
            *cause =
                cv_strdup_printf("out of memory: cannot make the buffers to record to %s", path);
        free(chunk);
        free(zbuf);
        ZSTD_freeCCtx(z);
        *rc = CV_ERR_RUNTIME;
        return NULL;
    }
    /* In place, not through a temporary file: a crashed run must leave its chunks readable
     * under the name asked for. Locked, so a second run cannot interleave its chunks; an
     * existing file is replaced only if it is a recording. */
    FILE *f = NULL;
    char *why = NULL;
    int orc = cv_file_open_locked(path, MAGIC, 8, &f, &why);
    if (orc != CV_OK) {
        if (cause)
            *cause = cv_strdup_printf("cannot record to %s: %s", path, why);
        free(why);
        free(chunk);
        free(zbuf);
        ZSTD_freeCCtx(z);
        *rc = orc;
        return NULL;
    }
    struct cv__recorder *w = cv_xcalloc(1, sizeof *w);
    w->f = f;
    w->path = cv_strdup(path);
    w->col = rh->col;
    w->chunk = chunk;
    w->zbuf = zbuf;
    w->zcap = zcap;
    w->z = z;
    w->ckpt_every = CKPT_EVENTS;
    const char *ce = getenv("CONCVIZ_CHECKPOINT_EVENTS");
    if (ce && *ce) {
        char *end;
        unsigned long long v = strtoull(ce, &end, 10);
        if (!*end && v >= 1000)
            w->ckpt_every = v;
    }
    uint32_t version = CV_RECORD_VERSION;
    w_bytes(w, MAGIC, 8);
    w_bytes(w, &version, 4);

    char *h = NULL;
    size_t hl = 0;
    struct utsname u;
    uname(&u);
    head_line(&h, &hl, "concviz %s", CONCVIZ_VERSION);
    head_line(&h, &hl, "scenario %s", rh->sc->name);
    head_line(&h, &hl, "model %s", rh->model);
    head_line(&h, &hl, "workers %u", rh->workers);
    head_line(&h, &hl, "gil %d", rh->gil ? 1 : 0);
    if (rh->python)
        head_line(&h, &hl, "python %s", rh->python);
    head_line(&h, &hl, "switch_ms %.17g", rh->switch_ms);
    head_line(&h, &hl, "host %ld cores, %s %s, clock %s", sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
              u.release, cv_clock_source_name(cv__clock.source));
    const struct cv_snapshot *s = cv_collector_snapshot(rh->col, 0);
    w->nlane_w = s->nlanes;
    w->lane_w = cv_xcalloc(s->nlanes ? s->nlanes : 1, sizeof *w->lane_w);
    w->lane_pid_w = cv_xcalloc(s->nlanes ? s->nlanes : 1, sizeof *w->lane_pid_w);
    for (size_t i = 0; i < s->nlanes; i++) {
        lane_line(&h, &hl, i, s->lanes[i].role, s->lanes[i].name, s->lanes[i].pid);
        snprintf(w->lane_w[i], CV_NAME_MAX, "%s", s->lanes[i].name);
        w->lane_pid_w[i] = s->lanes[i].pid;
    }
    struct cv_object_decl d;
    w->nobj_w = cv_collector_nobjects(rh->col);
    w->obj_w = cv_xcalloc(w->nobj_w ? w->nobj_w : 1, 1);
    for (size_t i = 0; i < w->nobj_w; i++)
        if (cv_collector_object(rh->col, (uint32_t)i, &d)) {
            char word[NAME_WORD];
            head_line(&h, &hl, "object %u %s %u %s", d.id, cv_object_kind_name(d.kind), d.capacity,
                      name_word(d.name, word));
            w->obj_w[i] = 1;
        }
    for (size_t i = 0; i < rh->sc->nparams; i++)
        head_line(&h, &hl, "param %s %s", rh->sc->params[i].key, rh->sc->params[i].value);
    w_record(w, R_HEAD, h, hl, NULL, 0);
    free(h);
    /* the text the scenario was loaded from, not the file again: it may have changed */
    w_record(w, R_SCEN, rh->sc->text ? rh->sc->text : "", rh->sc->text_len, NULL, 0);
    w_flush(w);
    /* A write error already (a full disk, /dev/full): the run goes on all the same, as after
     * one mid-run; nothing more is written, and the close reports it (the file is never
     * unlinked: the path may be a device such as /dev/full). */
    if (!w->error)
        cv_collector_set_tap(w->col, w_tap, w);
    *rc = CV_OK;
    return w;
}

/* A checkpoint of the collector, which has taken in exactly the events written so far: the
 * completion order since the previous one, then the state (zstd). */
static void w_checkpoint(struct cv__recorder *w)
{
    size_t raw;
    unsigned char *state = cv_collector_save(w->col, &raw);
    size_t bound = ZSTD_compressBound(raw);
    if (bound > w->ccap) {
        w->ccap = bound;
        w->cbuf = cv_xrealloc(w->cbuf, w->ccap);
    }
    size_t zn = ZSTD_compressCCtx(w->z, w->cbuf, w->ccap, state, raw, ZSTD_LEVEL);
    free(state);
    if (ZSTD_isError(zn) || raw > UINT32_MAX)
        return; /* no checkpoint here: seeking will feed from an earlier one */
    const uint32_t *order;
    uint64_t norder = cv_collector_order(w->col, &order);
    size_t olen = (size_t)(norder - w->order_written) * 4;
    unsigned char *body = cv_xmalloc(CKPT_HEAD + olen + zn);
    uint32_t raw32 = (uint32_t)raw, zero = 0;
    memcpy(body, &w->total, 8);
    memcpy(body + 8, &w->last_ns, 8);
    memcpy(body + 16, &w->order_written, 8);
    memcpy(body + 24, &norder, 8);
    memcpy(body + 32, &raw32, 4);
    memcpy(body + 36, &zero, 4);
    if (olen) /* no task completed yet: order may be NULL */
        memcpy(body + CKPT_HEAD, order + w->order_written, olen);
    memcpy(body + CKPT_HEAD + olen, w->cbuf, zn);
    struct ckpt_entry e = {w->offset, w->total, w->last_ns, norder};
    bool ok = w_record(w, R_CKPT, body, CKPT_HEAD + olen + zn, NULL, 0) && w_flush(w);
    free(body);
    if (!ok)
        return;
    if (w->nckpts == w->ckpt_cap) {
        w->ckpt_cap = w->ckpt_cap ? 2 * w->ckpt_cap : 32;
        w->ckpts = cv_xrealloc(w->ckpts, w->ckpt_cap * sizeof *w->ckpts);
    }
    w->ckpts[w->nckpts++] = e;
    w->order_written = norder;
    w->ckpt_last = w->total;
}

void cv__record_poll(struct cv__recorder *w)
{
    if (!w)
        return;
    cv_collector_tap_flush(w->col); /* now the collector has taken in every event tapped */
    if (w->n && cv_clock_mono_ns() - w->chunk_started >= CHUNK_AGE_NS)
        w_chunk(w);
    if (w->total + w->n - w->ckpt_last >= w->ckpt_every && !w->error) {
        w_chunk(w);
        w_checkpoint(w);
    }
}

void cv__record_close(struct cv__recorder *w, const struct cv_value *summary, uint64_t end_ns,
                      struct cv__record_result *out)
{
    if (!w)
        return;
    cv_collector_tap_flush(w->col);
    cv_collector_set_tap(w->col, NULL, NULL);
    w_chunk(w);
    /* every text once more, after the last chunk: a reader with the index finds them all there
     * without reading the chunks (earlier copies serve a file cut short) */
    w->texts_written = 0;
    w_texts(w);
    if (w->decls)
        w_decls(w, true);
    uint64_t idx_off = w->offset;
    w_record(w, R_INDX, w->index, w->nidx * sizeof *w->index, NULL, 0);
    w_record(w, R_CKIX, w->ckpts, w->nckpts * sizeof *w->ckpts, NULL, 0);
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    unsigned char head[16];
    memcpy(head, &end_ns, 8);
    memcpy(head + 8, &w->total, 8);
    cv_value_encode(summary, &buf, &len, &cap);
    w_record(w, R_FOOT, head, sizeof head, buf, len);
    free(buf);
    w_bytes(w, TRAILER_MAGIC, 8);
    w_bytes(w, &idx_off, 8);
    w_flush(w);
    if (fclose(w->f) != 0 && !w->error)
        w->error = cv_strdup_printf("recording %s: %s", w->path, strerror(errno));
    w->f = NULL;
    out->events = w->total;
    out->bytes = w->offset;
    if (w->error && w->total)
        out->error =
            cv_strdup_printf("%s; the file holds the run up to %.3f s (%llu events)", w->error,
                             (double)w->last_ns / 1e9, (unsigned long long)w->total);
    else if (w->error) /* it failed before the first chunk: not even a recording to replay */
        out->error = cv_strdup_printf("%s; the file holds none of the run (0 events)", w->error);
    free(w->error);
    free(w->path);
    free(w->chunk);
    free(w->index);
    free(w->zbuf);
    free(w->ckpts);
    free(w->cbuf);
    free(w->lane_w);
    free(w->lane_pid_w);
    free(w->obj_w);
    ZSTD_freeCCtx(w->z);
    free(w);
}

/* ------------------------------------------------------------------ reading */

struct rlane {
    char *name;
    bool main;
    int32_t pid; /* 0: not recorded */
};

struct robj {
    int kind; /* -1 = none */
    uint32_t capacity;
    char *name;
};

struct cv_recording {
    FILE *f;
    char *path;
    struct cv_recording_info info;
    char *version, *scenario, *model, *host, *missing;
    char *python; /* the CPython the run modelled (a "python" line), or NULL */
    struct rlane *lanes;
    size_t nlanes;
    struct robj *objs;
    size_t nobjs;
    char **params; /* key, value pairs */
    size_t nparams;
    char *scen_text;
    size_t scen_len;
    char **texts;
    size_t ntexts;
    struct idx_entry *index;
    size_t nidx;
    struct ckpt_entry *ckpts;
    size_t nckpts;
    uint64_t size; /* of the file, bytes */
    struct cv_value *summary;
    /* the chunk in hand */
    size_t cur;
    struct cv_event *ev;
    size_t ev_cap;
    unsigned char *zbuf;
    size_t zcap;
    ZSTD_DCtx *z;
};

static int bad(char **cause, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char **cause, const char *path, const char *fmt, ...)
{
    if (cause) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        *cause = cv_strdup_printf("%s: %s", path, msg);
    }
    return CV_ERR_USAGE;
}

/* Reads the record at the file position: 1 = read (payload in *buf), 0 = clean end of file,
 * -1 = incomplete or corrupt (*why says which). */
static int read_record(FILE *f, uint32_t *type, unsigned char **buf, uint32_t *len,
                       const char **why)
{
    uint32_t head[2];
    size_t k = fread(head, 1, sizeof head, f);
    if (k == 0) {
        *why = NULL;
        return 0;
    }
    if (k < sizeof head) {
        *why = "a record cut short";
        return -1;
    }
    if (!memcmp(head, TRAILER_MAGIC, 8)) {
        *why = NULL;
        return 0; /* the trailer */
    }
    if (head[0] < R_HEAD || head[0] > R_DECL || head[1] > MAX_RECORD) {
        *why = "a corrupt record header";
        return -1;
    }
    *type = head[0];
    *len = head[1];
    *buf = cv_xrealloc(*buf, (size_t)*len + 1);
    uint32_t crc;
    if (fread(*buf, 1, *len, f) != *len || fread(&crc, 1, 4, f) != 4) {
        *why = "a record cut short";
        return -1;
    }
    (*buf)[*len] = 0;
    if ((uint32_t)crc32(crc32(0, Z_NULL, 0), *buf, *len) != crc) {
        *why = "a record whose checksum does not match";
        return -1;
    }
    return 1;
}

/* The header's lines, or (decl) an R_DECL record's, which may rename lanes. */
static int parse_head(struct cv_recording *r, char *text, bool decl, char **cause)
{
    const char *what = decl ? "declaration" : "header";
    int line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char *sp = strchr(l, ' ');
        if (!sp)
            return bad(cause, r->path, "header line %d is malformed", line);
        *sp = 0;
        const char *key = l, *val = sp + 1;
        if (decl && strcmp(key, "lane") && strcmp(key, "object"))
            continue; /* a declaration says nothing else */
        if (!strcmp(key, "concviz")) {
            free(r->version); /* a repeated line: the last one counts */
            r->version = cv_strdup(val);
        } else if (!strcmp(key, "scenario")) {
            free(r->scenario);
            r->scenario = cv_strdup(val);
        } else if (!strcmp(key, "model")) {
            free(r->model);
            r->model = cv_strdup(val);
        } else if (!strcmp(key, "workers")) {
            r->info.workers = (unsigned)strtoul(val, NULL, 10);
        } else if (!strcmp(key, "gil")) {
            r->info.gil = atoi(val) != 0;
        } else if (!strcmp(key, "python")) {
            free(r->python);
            r->python = cv_strdup(val);
        } else if (!strcmp(key, "switch_ms")) {
            r->info.switch_ms = strtod(val, NULL);
        } else if (!strcmp(key, "host")) {
            free(r->host);
            r->host = cv_strdup(val);
        } else if (!strcmp(key, "lane")) {
            char role[16], word[NAME_WORD], name[CV_NAME_MAX];
            unsigned id;
            int pid = 0, nf = sscanf(val, "%u %15s %95s %d", &id, role, word, &pid);
            if (nf < 3 || id > r->nlanes || (id < r->nlanes && !decl) || id >= 65535 || pid < 0)
                return bad(cause, r->path, "%s line %d: a malformed lane", what, line);
            name_unword(word, name);
            struct rlane nl = {cv_strdup(name), !strcmp(role, "main"), nf == 4 ? pid : 0};
            if (id < r->nlanes) { /* a lane renamed */
                free(r->lanes[id].name);
                r->lanes[id] = nl;
            } else {
                r->lanes = cv_xrealloc(r->lanes, (r->nlanes + 1) * sizeof *r->lanes);
                r->lanes[r->nlanes++] = nl;
            }
        } else if (!strcmp(key, "object")) {
            char kind[16], word[NAME_WORD], name[CV_NAME_MAX];
            unsigned id, capacity;
            if (sscanf(val, "%u %15s %u %95s", &id, kind, &capacity, word) != 4 || id > 1000000)
                return bad(cause, r->path, "header line %d: a malformed object", line);
            name_unword(word, name);
            int k = -1;
            for (unsigned i = 0; i < CV_OBJ__COUNT; i++)
                if (!strcmp(kind, cv_object_kind_name(i)))
                    k = (int)i;
            if (k < 0)
                return bad(cause, r->path, "header line %d: unknown object kind '%s'", line, kind);
            if (id >= r->nobjs) {
                r->objs = cv_xrealloc(r->objs, (id + 1) * sizeof *r->objs);
                for (size_t i = r->nobjs; i <= id; i++)
                    r->objs[i] = (struct robj){-1, 0, NULL};
                r->nobjs = id + 1;
            }
            free(r->objs[id].name);
            r->objs[id] = (struct robj){k, capacity, cv_strdup(name)};
        } else if (!strcmp(key, "param")) {
            const char *sp2 = strchr(val, ' ');
            if (!sp2)
                return bad(cause, r->path, "header line %d: a malformed parameter", line);
            r->params = cv_xrealloc(r->params, (r->nparams + 1) * 2 * sizeof *r->params);
            r->params[2 * r->nparams] = cv_strndup(val, (size_t)(sp2 - val));
            r->params[2 * r->nparams + 1] = cv_strdup(sp2 + 1);
            r->nparams++;
        }
        /* unknown keys: written by a newer concviz of the same format version; skipped */
    }
    if (!decl && (!r->scenario || !r->model || !r->nlanes))
        return bad(cause, r->path, "the header lacks the scenario, model or lanes");
    return CV_OK;
}

static void add_text(struct cv_recording *r, const unsigned char *buf, uint32_t len)
{
    if (len < 4)
        return;
    uint32_t id;
    memcpy(&id, buf, 4);
    if (id >= CV__STRTAB_SLOTS * 16u)
        return;
    if (id >= r->ntexts) {
        r->texts = cv_xrealloc(r->texts, (id + 1) * sizeof *r->texts);
        memset(r->texts + r->ntexts, 0, (id + 1 - r->ntexts) * sizeof *r->texts);
        r->ntexts = id + 1;
    }
    free(r->texts[id]);
    r->texts[id] = cv_strndup((const char *)buf + 4, len - 4);
}

static bool chunk_head(const unsigned char *buf, uint32_t len, struct idx_entry *e)
{
    if (len < CHUNK_HEAD)
        return false;
    memcpy(&e->n, buf, 4);
    memcpy(&e->first_ns, buf + 4, 8);
    memcpy(&e->last_ns, buf + 12, 8);
    memcpy(&e->before, buf + 20, 8);
    uint32_t raw;
    memcpy(&raw, buf + 28, 4);
    return e->n && e->n <= CHUNK_EVENTS && raw == e->n * sizeof(struct cv_event) &&
           e->last_ns >= e->first_ns && e->last_ns <= MAX_RUN_NS;
}

/* The index and footer through the trailer; false when they are absent or do not hold up. */
static bool read_tail(struct cv_recording *r, unsigned char **buf, long size)
{
    unsigned char tr[16];
    if (size < 12 + 16 || fseek(r->f, size - 16, SEEK_SET) != 0 || fread(tr, 1, 16, r->f) != 16 ||
        memcmp(tr, TRAILER_MAGIC, 8))
        return false;
    uint64_t off;
    memcpy(&off, tr + 8, 8);
    if (off < 12 || off >= (uint64_t)size - 16 || fseek(r->f, (long)off, SEEK_SET) != 0)
        return false;
    uint32_t type, len;
    const char *why;
    if (read_record(r->f, &type, buf, &len, &why) != 1 || type != R_INDX ||
        len % sizeof(struct idx_entry))
        return false;
    size_t n = len / sizeof(struct idx_entry);
    struct idx_entry *idx = cv_xmalloc((n ? n : 1) * sizeof *idx);
    memcpy(idx, *buf, len);
    for (size_t i = 0; i < n; i++)
        if (idx[i].offset < 12 || idx[i].offset >= off || !idx[i].n || idx[i].n > CHUNK_EVENTS ||
            (i && (idx[i].offset <= idx[i - 1].offset || idx[i].first_ns < idx[i - 1].last_ns ||
                   idx[i].before != idx[i - 1].before + idx[i - 1].n))) {
            free(idx);
            return false;
        }
    if (read_record(r->f, &type, buf, &len, &why) != 1 || type != R_CKIX ||
        len % sizeof(struct ckpt_entry)) {
        free(idx);
        return false;
    }
    size_t nck = len / sizeof(struct ckpt_entry);
    struct ckpt_entry *ck = cv_xmalloc((nck ? nck : 1) * sizeof *ck);
    memcpy(ck, *buf, len);
    for (size_t i = 0; i < nck; i++)
        if (ck[i].offset < 12 || ck[i].offset >= off ||
            (i && (ck[i].offset <= ck[i - 1].offset || ck[i].events <= ck[i - 1].events ||
                   ck[i].ts < ck[i - 1].ts || ck[i].order_to < ck[i - 1].order_to))) {
            free(ck);
            free(idx);
            return false;
        }
    if (read_record(r->f, &type, buf, &len, &why) != 1 || type != R_FOOT || len < 16) {
        free(ck);
        free(idx);
        return false;
    }
    struct cv_value *sum = cv_value_decode(*buf + 16, len - 16);
    if (!sum || sum->type != CV_VAL_OBJ) {
        cv_value_free(sum);
        free(ck);
        free(idx);
        return false;
    }
    memcpy(&r->info.end_ns, *buf, 8);
    if (r->info.end_ns > MAX_RUN_NS || (n && r->info.end_ns < idx[n - 1].last_ns)) {
        cv_value_free(sum);
        free(ck);
        free(idx);
        return false;
    }
    r->index = idx;
    r->nidx = n;
    r->ckpts = ck;
    r->nckpts = nck;
    r->summary = sum;
    return true;
}

int cv_recording_open(const char *path, struct cv_recording **out, char **cause)
{
    FILE *f = cv_file_open_read(path, cause); /* a FIFO or a device would block or not seek */
    if (!f)
        return CV_ERR_RUNTIME;
    struct cv_recording *r = cv_xcalloc(1, sizeof *r);
    r->f = f;
    r->path = cv_strdup(path);
    r->cur = SIZE_MAX;
    unsigned char magic[12];
    unsigned char *buf = NULL;
    uint32_t type = 0, len = 0;
    const char *why = NULL;
    int rc = CV_OK;
    if (fread(magic, 1, 12, f) != 12 || memcmp(magic, MAGIC, 8)) {
        rc = bad(cause, path, "not a concviz recording");
        goto out;
    }
    uint32_t version;
    memcpy(&version, magic + 8, 4);
    if (version != CV_RECORD_VERSION) {
        rc = bad(cause, path, "recording format version %u; this concviz reads version %u", version,
                 CV_RECORD_VERSION);
        goto out;
    }
    if (read_record(f, &type, &buf, &len, &why) != 1 || type != R_HEAD) {
        rc = bad(cause, path, "the header is missing or corrupt");
        goto out;
    }
    if ((rc = parse_head(r, (char *)buf, false, cause)) != CV_OK)
        goto out;
    if (read_record(f, &type, &buf, &len, &why) != 1 || type != R_SCEN) {
        rc = bad(cause, path, "the scenario text is missing or corrupt");
        goto out;
    }
    if (memchr(buf, 0, len)) {
        rc = bad(cause, path, "the scenario text is corrupt (it holds a NUL byte)");
        goto out;
    }
    r->scen_text = cv_strndup((const char *)buf, len);
    r->scen_len = len;
    long body = ftell(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    r->size = size > 0 ? (uint64_t)size : 0;
    bool complete = read_tail(r, &buf, size);
    /* With the index, the texts are the records after the last chunk: opening reads no
     * chunk but that one. Without it, a scan of every record builds the index. */
    uint64_t pos = complete && r->nidx ? r->index[r->nidx - 1].offset : (uint64_t)body;
    fseek(f, (long)pos, SEEK_SET);
    size_t cap = 0, ckcap = 0;
    int k;
    while ((k = read_record(f, &type, &buf, &len, &why)) == 1) {
        if (type == R_TEXT) {
            add_text(r, buf, len);
        } else if (type == R_DECL) {
            if ((rc = parse_head(r, (char *)buf, true, cause)) != CV_OK)
                goto out;
        } else if (type == R_EVTS && !complete) {
            struct idx_entry e = {.offset = pos};
            if (!chunk_head(buf, len, &e) ||
                (r->nidx && (e.first_ns < r->index[r->nidx - 1].last_ns ||
                             e.before != r->index[r->nidx - 1].before + r->index[r->nidx - 1].n))) {
                why = "a corrupt chunk";
                k = -1;
                break;
            }
            if (r->nidx == cap) {
                cap = cap ? 2 * cap : 64;
                r->index = cv_xrealloc(r->index, cap * sizeof *r->index);
            }
            r->index[r->nidx++] = e;
        } else if (type == R_CKPT && !complete) {
            struct ckpt_entry e = {.offset = pos};
            if (len >= CKPT_HEAD) {
                memcpy(&e.events, buf, 8);
                memcpy(&e.ts, buf + 8, 8);
                memcpy(&e.order_to, buf + 24, 8);
            }
            const struct ckpt_entry *prev = r->nckpts ? &r->ckpts[r->nckpts - 1] : NULL;
            const struct idx_entry *last = r->nidx ? &r->index[r->nidx - 1] : NULL;
            if (len < CKPT_HEAD || !last || e.events != last->before + last->n ||
                (prev && (e.events <= prev->events || e.order_to < prev->order_to))) {
                why = "a corrupt checkpoint";
                k = -1;
                break;
            }
            if (r->nckpts == ckcap) {
                ckcap = ckcap ? 2 * ckcap : 32;
                r->ckpts = cv_xrealloc(r->ckpts, ckcap * sizeof *r->ckpts);
            }
            r->ckpts[r->nckpts++] = e;
        } else if (type == R_INDX || type == R_FOOT || type == R_CKIX) {
            if (complete)
                break;
        }
        pos = (uint64_t)ftell(f);
    }
    if (!complete) {
        long lost = size - (long)pos;
        struct idx_entry *last = r->nidx ? &r->index[r->nidx - 1] : NULL;
        r->info.end_ns = last ? last->last_ns : 0;
        r->missing = cv_strdup_printf(
            "%s: the recording was cut short (%s at byte %llu, %ld bytes not readable, no "
            "summary): replaying %llu events up to %.3f s; what the run did after that is lost",
            path, why ? why : "no index or footer", (unsigned long long)pos, lost,
            (unsigned long long)(last ? last->before + last->n : 0), (double)r->info.end_ns / 1e9);
    }
    r->info.complete = complete;
    r->info.missing = r->missing;
    r->info.nchunks = r->nidx;
    r->info.events = r->nidx ? r->index[r->nidx - 1].before + r->index[r->nidx - 1].n : 0;
    r->info.concviz_version = r->version ? r->version : "?";
    r->info.scenario = r->scenario;
    r->info.model = r->model;
    r->info.python = r->python;
    r->info.host = r->host ? r->host : "";
    r->z = ZSTD_createDCtx();
out:
    free(buf);
    if (rc != CV_OK) {
        cv_recording_close(r);
        return rc;
    }
    *out = r;
    return CV_OK;
}

void cv_recording_close(struct cv_recording *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    for (size_t i = 0; i < r->nlanes; i++)
        free(r->lanes[i].name);
    for (size_t i = 0; i < r->nobjs; i++)
        free(r->objs[i].name);
    for (size_t i = 0; i < 2 * r->nparams; i++)
        free(r->params[i]);
    for (size_t i = 0; i < r->ntexts; i++)
        free(r->texts[i]);
    free(r->lanes);
    free(r->objs);
    free(r->params);
    free(r->texts);
    free(r->index);
    free(r->ckpts);
    free(r->scen_text);
    free(r->version);
    free(r->scenario);
    free(r->model);
    free(r->python);
    free(r->host);
    free(r->missing);
    free(r->path);
    free(r->ev);
    free(r->zbuf);
    cv_value_free(r->summary);
    ZSTD_freeDCtx(r->z);
    free(r);
}

const struct cv_recording_info *cv_recording_info(const struct cv_recording *r)
{
    return &r->info;
}

const struct cv_value *cv_recording_summary(const struct cv_recording *r)
{
    return r->summary;
}

size_t cv_recording_nlanes(const struct cv_recording *r)
{
    return r->nlanes;
}

const char *cv_recording_lane_name(const struct cv_recording *r, uint32_t lane)
{
    return lane < r->nlanes ? r->lanes[lane].name : "?";
}

int32_t cv_recording_lane_pid(const struct cv_recording *r, uint32_t lane)
{
    return lane < r->nlanes ? r->lanes[lane].pid : 0;
}

const char *cv_recording_object_name(const struct cv_recording *r, uint32_t obj)
{
    return obj < r->nobjs && r->objs[obj].name ? r->objs[obj].name : "";
}

const char *cv_recording_text(const struct cv_recording *r, uint32_t id)
{
    return id < r->ntexts ? r->texts[id] : NULL;
}

int cv_recording_object_kind(const struct cv_recording *r, uint32_t obj)
{
    return obj < r->nobjs ? r->objs[obj].kind : -1;
}

/* Replays keep a small timeline store: nothing they draw reads it. */
#define REPLAY_STORE 65536

struct cv_collector *cv_recording_collector(const struct cv_recording *r)
{
    struct cv_collector *c = cv_collector_create(REPLAY_STORE);
    for (size_t i = 0; i < r->nlanes; i++) {
        cv_collector_add_lane(c, (uint32_t)i, r->lanes[i].name,
                              r->lanes[i].main ? CV_ROLE_MAIN : CV_ROLE_WORKER);
        cv_collector_set_lane_pid(c, (uint32_t)i, r->lanes[i].pid);
    }
    for (size_t i = 0; i < r->nobjs; i++)
        if (r->objs[i].kind >= 0)
            cv_collector_add_object(c, (uint32_t)i, (enum cv_object_kind)r->objs[i].kind,
                                    r->objs[i].name, r->objs[i].capacity);
    for (size_t i = 0; i < r->ntexts; i++)
        if (r->texts[i])
            cv_collector_add_string(c, (uint32_t)i, r->texts[i]);
    return c;
}

int cv_recording_chunk(struct cv_recording *r, size_t i, const struct cv_event **ev, size_t *n,
                       char **cause)
{
    if (i >= r->nidx)
        return bad(cause, r->path, "no chunk %zu", i);
    const struct idx_entry *e = &r->index[i];
    if (r->cur != i) {
        uint32_t type = 0, len = 0;
        const char *why = NULL;
        if (fseek(r->f, (long)e->offset, SEEK_SET) != 0 ||
            read_record(r->f, &type, &r->zbuf, &len, &why) != 1 || type != R_EVTS)
            return bad(cause, r->path, "chunk %zu at byte %llu: %s", i,
                       (unsigned long long)e->offset, why ? why : "not a chunk");
        struct idx_entry h;
        if (!chunk_head(r->zbuf, len, &h) || h.n != e->n || h.first_ns != e->first_ns)
            return bad(cause, r->path, "chunk %zu does not match the index", i);
        size_t raw = (size_t)h.n * sizeof *r->ev;
        r->cur = SIZE_MAX; /* the cache is overwritten now: good again only once all is checked */
        if (h.n > r->ev_cap) {
            r->ev_cap = h.n;
            r->ev = cv_xrealloc(r->ev, r->ev_cap * sizeof *r->ev);
        }
        size_t got = ZSTD_decompressDCtx(r->z, r->ev, raw, r->zbuf + CHUNK_HEAD, len - CHUNK_HEAD);
        if (ZSTD_isError(got) || got != raw)
            return bad(cause, r->path, "chunk %zu does not decompress", i);
        uint64_t ts = 0;
        for (size_t k = 0; k < h.n; k++) {
            if (r->ev[k].ts > h.last_ns - ts)
                return bad(cause, r->path, "chunk %zu: its times do not add up", i);
            ts += r->ev[k].ts;
            r->ev[k].ts = ts;
            if (r->ev[k].lane >= r->nlanes || r->ev[k].kind >= CV_EV__COUNT)
                return bad(cause, r->path, "chunk %zu: event %zu names lane %u, kind %u", i, k,
                           r->ev[k].lane, r->ev[k].kind);
        }
        if (ts != h.last_ns)
            return bad(cause, r->path, "chunk %zu: its times do not add up", i);
        r->cur = i;
    }
    *ev = r->ev;
    *n = e->n;
    return CV_OK;
}

size_t cv_recording_chunk_at(const struct cv_recording *r, uint64_t ns)
{
    size_t lo = 0, hi = r->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->index[mid].last_ns < ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t cv_recording_chunk_first_ns(const struct cv_recording *r, size_t i)
{
    return i < r->nidx ? r->index[i].first_ns : UINT64_MAX;
}

int cv_recording_scenario(const struct cv_recording *r, struct cv_scenario **out, char **cause)
{
    char *why = NULL;
    int rc = cv_scenario_load_text(r->path, r->scen_text, r->scen_len, out, &why);
    if (rc != CV_OK) {
        if (cause)
            *cause = cv_strdup_printf("%s: the recorded scenario %s cannot be loaded: %s", r->path,
                                      r->scenario, why ? why : "invalid");
        free(why);
        return CV_ERR_USAGE;
    }
    for (size_t i = 0; i < r->nparams; i++) {
        if (cv_scenario_set(*out, r->params[2 * i], r->params[2 * i + 1], &why) != CV_OK) {
            if (cause)
                *cause = cv_strdup_printf("%s: recorded parameter %s: %s", r->path,
                                          r->params[2 * i], why ? why : "invalid");
            free(why);
            cv_scenario_free(*out);
            *out = NULL;
            return CV_ERR_USAGE;
        }
    }
    /* the name the run had */
    free((*out)->name);
    (*out)->name = cv_strdup(r->scenario);
    return CV_OK;
}

/* ------------------------------------------------------------------ playing */

struct cv_replay {
    struct cv_recording *r;
    struct cv_collector *c;
    size_t chunk; /* the next chunk to feed from */
    size_t off;   /* its events fed already */
    uint64_t fed; /* events fed (or restored) */
    uint64_t pos;
    bool finished;
    bool use_ckpts;
};

struct cv_replay *cv_replay_new(struct cv_recording *r)
{
    struct cv_replay *p = cv_xcalloc(1, sizeof *p);
    p->r = r;
    p->c = cv_recording_collector(r);
    const char *e = getenv("CONCVIZ_REPLAY_CHECKPOINTS");
    p->use_ckpts = !(e && !strcmp(e, "0"));
    return p;
}

/* The latest checkpoint at or before ns, or -1. */
static long ckpt_before(const struct cv_recording *r, uint64_t ns)
{
    size_t lo = 0, hi = r->nckpts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ckpts[mid].ts <= ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

/* Restores checkpoint k into a fresh collector: the completion order from checkpoints 0..k,
 * the state from k; feeding goes on from the chunk after it. */
static int restore_ckpt(struct cv_replay *p, size_t k, char **cause)
{
    struct cv_recording *r = p->r;
    const struct ckpt_entry *e = &r->ckpts[k];
    size_t lo = 0, hi = r->nidx; /* the chunk that starts at e->events */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->index[mid].before < e->events)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool at_end = lo == r->nidx && r->nidx &&
                  r->index[r->nidx - 1].before + r->index[r->nidx - 1].n == e->events;
    if (!at_end && (lo == r->nidx || r->index[lo].before != e->events))
        return bad(cause, r->path, "checkpoint %zu does not match the index", k);
    if (e->order_to > TASK_ORDER_MAX || e->order_to > r->size / 4)
        return bad(cause, r->path, "checkpoint %zu: a completion order too long", k);
    uint32_t *order = cv_xmalloc((size_t)(e->order_to ? e->order_to : 1) * 4);
    unsigned char *buf = NULL, *state = NULL;
    uint64_t have = 0;
    int rc = CV_OK;
    for (size_t i = 0; i <= k && rc == CV_OK; i++) {
        uint32_t type = 0, len = 0;
        const char *why = NULL;
        uint64_t from, to;
        uint32_t raw;
        if (fseek(r->f, (long)r->ckpts[i].offset, SEEK_SET) != 0 ||
            read_record(r->f, &type, &buf, &len, &why) != 1 || type != R_CKPT || len < CKPT_HEAD) {
            rc = bad(cause, r->path, "checkpoint %zu at byte %llu: %s", i,
                     (unsigned long long)r->ckpts[i].offset, why ? why : "not a checkpoint");
            break;
        }
        memcpy(&from, buf + 16, 8);
        memcpy(&to, buf + 24, 8);
        memcpy(&raw, buf + 32, 4);
        if (from != have || to < from || to > e->order_to || (to - from) * 4 > len - CKPT_HEAD) {
            rc = bad(cause, r->path, "checkpoint %zu: its completion order does not add up", i);
            break;
        }
        memcpy(order + from, buf + CKPT_HEAD, (size_t)(to - from) * 4);
        have = to;
        if (i < k)
            continue;
        size_t zoff = CKPT_HEAD + (size_t)(to - from) * 4;
        unsigned long long fsz = ZSTD_getFrameContentSize(buf + zoff, len - zoff);
        if (raw > MAX_CKPT_RAW || fsz != raw) { /* allocate only what the frame says it holds */
            rc = bad(cause, r->path, "checkpoint %zu does not decompress", i);
            break;
        }
        state = cv_xmalloc(raw ? raw : 1);
        size_t got = ZSTD_decompressDCtx(r->z, state, raw, buf + zoff, len - zoff);
        if (ZSTD_isError(got) || got != raw || have != e->order_to) {
            rc = bad(cause, r->path, "checkpoint %zu does not decompress", i);
            break;
        }
        struct cv_collector *c = cv_recording_collector(r);
        if (!cv_collector_restore(c, state, raw, order, (size_t)have)) {
            cv_collector_destroy(c);
            rc = bad(cause, r->path, "checkpoint %zu is corrupt", i);
            break;
        }
        cv_collector_destroy(p->c);
        p->c = c;
        p->chunk = lo;
        p->off = 0;
        p->fed = e->events;
        p->finished = false;
    }
    free(buf);
    free(state);
    free(order);
    return rc;
}

void cv_replay_free(struct cv_replay *p)
{
    if (!p)
        return;
    cv_collector_destroy(p->c);
    free(p);
}

uint64_t cv_replay_pos(const struct cv_replay *p)
{
    return p->pos;
}

int cv_replay_seek(struct cv_replay *p, uint64_t ns, char **cause)
{
    struct cv_recording *r = p->r;
    if (ns > r->info.end_ns)
        ns = r->info.end_ns;
    bool back = ns < p->pos || (p->finished && ns < r->info.end_ns);
    long ck = p->use_ckpts ? ckpt_before(r, ns) : -1;
    if (ck >= 0 && (back || r->ckpts[ck].events > p->fed)) {
        if (restore_ckpt(p, (size_t)ck, cause) != CV_OK)
            return CV_ERR_USAGE;
    } else if (back) { /* start again */
        cv_collector_destroy(p->c);
        p->c = cv_recording_collector(r);
        p->chunk = p->off = 0;
        p->fed = 0;
        p->finished = false;
    }
    while (p->chunk < r->nidx && r->index[p->chunk].first_ns <= ns) {
        const struct cv_event *ev;
        size_t n;
        if (cv_recording_chunk(r, p->chunk, &ev, &n, cause) != CV_OK)
            return CV_ERR_USAGE;
        size_t k = p->off;
        while (k < n && ev[k].ts <= ns)
            k++;
        cv_collector_feed(p->c, ev + p->off, k - p->off);
        p->fed += k - p->off;
        if (k < n) {
            p->off = k;
            break;
        }
        p->chunk++;
        p->off = 0;
    }
    p->pos = ns;
    if (ns >= r->info.end_ns && p->chunk == r->nidx && !p->finished) {
        cv_collector_finish(p->c, r->info.end_ns);
        p->finished = true;
    }
    return CV_OK;
}

const struct cv_snapshot *cv_replay_snapshot(struct cv_replay *p)
{
    return cv_collector_snapshot(p->c, p->pos);
}

/* The summary at the end: the collector's figures, the rest from the recording. */
static struct cv_value *replay_summary_at_end(struct cv_replay *p, bool check, unsigned *failed,
                                              char **cause)
{
    struct cv_recording *r = p->r;
    struct cv_scenario *sc = NULL;
    if (cv_recording_scenario(r, &sc, cause) != CV_OK)
        return NULL;
    const struct cv_snapshot *s = cv_collector_snapshot(p->c, r->info.end_ns);
    struct cv_value *root;
    if (r->summary) {
        root = cv_value_copy(r->summary);
    } else { /* cut short: what the header tells */
        root = cv__summary_head(r->scenario, r->model, r->info.workers, r->info.gil, r->info.python,
                                r->info.switch_ms, "cut short");
        cv_value_set(root, "params", cv__summary_params(sc));
        cv_value_set_num(root, "wall_s", (double)r->info.end_ns / 1e9);
        cv_value_set(root, "results", cv_value_obj());
        cv_value_set(root, "errors", cv_value_arr());
    }
    cv__summary_set_tasks(root, s);
    cv__summary_set_counts(root, s, r->info.gil);
    cv__summary_finish(root, sc, check, failed);
    cv_scenario_free(sc);
    return root;
}

struct cv_value *cv_replay_summary(struct cv_replay *p, bool check, unsigned *failed, char **cause)
{
    if (cv_replay_seek(p, p->r->info.end_ns, cause) != CV_OK)
        return NULL;
    return replay_summary_at_end(p, check, failed, cause);
}

struct cv_value *cv_recording_replay_summary(struct cv_recording *r, bool check, unsigned *failed,
                                             char **cause)
{
    struct cv_replay *p = cv_replay_new(r);
    struct cv_value *sum = cv_replay_summary(p, check, failed, cause);
    cv_replay_free(p);
    return sum;
}
