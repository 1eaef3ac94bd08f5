/*
 * libFuzzer target for the recording reader (concviz/record.h) and the exporters
 * (concviz/export.h). Each input is a whole recording file: it is written to a memfd (or, where
 * memfd_create is missing, to one temporary file rewritten for every input) and opened through
 * its path, then every part of the reader is exercised: the header and info, each chunk, the
 * index search, the scenario, the replay summary, the player (forward, backward and to the
 * end), and the exports: Chrome, CSV, SVG (to /dev/null). Built and run by tests/fuzz/run.sh.
 *
 * Every record carries a CRC-32 and the events are zstd-compressed, so plain byte mutations
 * rarely get past the checks. A custom mutator therefore also works on the structure: a
 * quarter of the time it mutates bytes as libFuzzer does (the checks' error paths), a quarter
 * of the time it does the same and then fixes every record's CRC (the header text, the
 * scenario, texts, index and footer as parsed), and half of the time it decompresses a chunk,
 * mutates its events (fields, order, count) and writes the file anew: chunk headers, index,
 * trailer and CRCs made consistent, so the events reach the collector and the exporters.
 * The input run is always the file as given, so a saved crash input reproduces as it is.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "fuzz_input.h"

#include "concviz/export.h"
#include "concviz/record.h"
#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static FILE *devnull;

/* What the snapshots hold is folded in here, so every byte of them is read. */
static volatile uint64_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_input_open("fuzz_recording");
    devnull = fopen("/dev/null", "w");
    if (!devnull) {
        fprintf(stderr, "fuzz_recording: cannot open /dev/null: %s\n", strerror(errno));
        abort();
    }
    return 0;
}

static void fold(uint64_t v)
{
    sink = sink * 31 + v;
}

static void fold_str(const char *s)
{
    if (s)
        fold(strlen(s));
}

static void fold_snapshot(const struct cv_snapshot *s)
{
    if (!s)
        return;
    fold(s->now_ns + s->nlanes + s->tasks.started + s->inflight + s->events_recorded);
    for (size_t i = 0; i < s->nlanes; i++) {
        const struct cv_lane_stats *l = &s->lanes[i];
        fold(strnlen(l->name, sizeof l->name) + l->state + l->tasks + l->current_task);
        for (uint32_t k = 0; k < l->timeline_n; k++)
            fold(l->timeline[k]);
        for (uint32_t k = 0; k < l->nspans; k++)
            fold(l->spans[k].start_ns ^ l->spans[k].end_ns ^ l->spans[k].task);
    }
    for (size_t i = 0; i < s->nlocks; i++)
        fold(s->locks[i].acquisitions + s->locks[i].holder);
    for (size_t i = 0; i < s->nqueues; i++) {
        fold(s->queues[i].depth + s->queues[i].max_depth);
        for (size_t k = 0; k < s->queues[i].nseries; k++)
            fold(s->queues[i].series[k].depth);
    }
    for (size_t i = 0; i < s->ncounters; i++)
        fold(s->counters[i].value);
    for (size_t i = 0; i < s->ncompleted; i++)
        fold(s->completion_order[i]);
    for (size_t i = 0; i < s->nstrings; i++)
        fold_str(s->strings[i]);
}

static void exercise_chunks(struct cv_recording *r, const struct cv_recording_info *info)
{
    for (size_t i = 0; i < info->nchunks; i++) {
        const struct cv_event *ev = NULL;
        size_t n = 0;
        char *cause = NULL;
        if (cv_recording_chunk(r, i, &ev, &n, &cause) == 0) {
            for (size_t k = 0; k < n; k++)
                fold(ev[k].ts ^ ev[k].arg ^ ev[k].task ^ ev[k].obj ^ ev[k].lane ^ ev[k].kind);
        }
        free(cause);
        fold(cv_recording_chunk_first_ns(r, i));
    }
    /* one past the end: an error, not a read */
    const struct cv_event *ev = NULL;
    size_t n = 0;
    char *cause = NULL;
    cv_recording_chunk(r, info->nchunks, &ev, &n, &cause);
    free(cause);

    const uint64_t at[] = {
        0, 1, info->end_ns / 3, info->end_ns / 2, info->end_ns, info->end_ns + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        fold(cv_recording_chunk_at(r, at[i]));

    for (uint32_t id = 0; id < 4; id++) {
        fold_str(cv_recording_text(r, id));
        fold_str(cv_recording_object_name(r, id));
        fold((uint64_t)(int64_t)cv_recording_object_kind(r, id));
    }
    for (size_t i = 0; i <= cv_recording_nlanes(r) && i < 64; i++)
        fold_str(cv_recording_lane_name(r, (uint32_t)i));
}

static void exercise_scenario(struct cv_recording *r)
{
    struct cv_scenario *sc = NULL;
    char *cause = NULL;
    if (cv_recording_scenario(r, &sc, &cause) == 0)
        cv_scenario_free(sc);
    free(cause);
}

static void exercise_summary(struct cv_recording *r)
{
    unsigned failed = 0;
    char *cause = NULL;
    struct cv_value *sum = cv_recording_replay_summary(r, true, &failed, &cause);
    if (sum) {
        cv_value_write_json(sum, devnull, true);
        cv_summary_write_text(sum, devnull);
    }
    cv_value_free(sum);
    free(cause);
    fold(failed);
}

static void exercise_player(struct cv_recording *r, const struct cv_recording_info *info,
                            bool checkpoints)
{
    /* the player restores checkpoints unless told not to: half of the inputs each way */
    if (checkpoints)
        unsetenv("CONCVIZ_REPLAY_CHECKPOINTS");
    else
        setenv("CONCVIZ_REPLAY_CHECKPOINTS", "0", 1);
    struct cv_replay *p = cv_replay_new(r);
    /* forward in steps, back to the start, back from the end, past the end */
    const uint64_t to[] = {info->end_ns / 4, info->end_ns / 2, info->end_ns / 8, 0,
                           info->end_ns,     info->end_ns / 3, UINT64_MAX};
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
        char *cause = NULL;
        if (cv_replay_seek(p, to[i], &cause) == 0) {
            fold(cv_replay_pos(p));
            fold_snapshot(cv_replay_snapshot(p));
        }
        free(cause);
    }
    /* the player's own summary: seeks to the end, as the replay view does when it ends */
    unsigned failed = 0;
    char *cause = NULL;
    struct cv_value *sum = cv_replay_summary(p, true, &failed, &cause);
    cv_value_free(sum);
    free(cause);
    fold_snapshot(cv_replay_snapshot(p));
    cv_replay_free(p);
}

static void exercise_exports(struct cv_recording *r, bool whole_svg)
{
    char *cause = NULL;
    cv_export_chrome(r, devnull, &cause);
    free(cause);
    cause = NULL;
    cv_export_csv(r, devnull, &cause);
    free(cause);
    /* the SVG costs the most: the whole run (default options) for half of the inputs, a
     * narrow window inside it for the others; then a window past the end (an error) */
    const struct cv_recording_info *info = cv_recording_info(r);
    struct cv_svg_opts opts = {info->end_ns / 4, info->end_ns / 2, 400};
    cause = NULL;
    cv_export_svg(r, devnull, whole_svg ? NULL : &opts, &cause);
    free(cause);
    opts = (struct cv_svg_opts){info->end_ns + 1, UINT64_MAX, 0};
    cause = NULL;
    cv_export_svg(r, devnull, &opts, &cause);
    free(cause);
    fflush(devnull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_write(data, size);
    struct cv_recording *r = NULL;
    char *cause = NULL;
    if (cv_recording_open(fuzz_input_path, &r, &cause) != 0) {
        free(cause);
        return 0;
    }
    free(cause);
    const struct cv_recording_info *info = cv_recording_info(r);
    fold_str(info->concviz_version);
    fold_str(info->scenario);
    fold_str(info->model);
    fold_str(info->host);
    fold_str(info->missing);
    fold(info->workers + info->gil + info->events + info->end_ns + info->nchunks + info->complete);
    if (cv_recording_summary(r))
        cv_value_write_json(cv_recording_summary(r), devnull, false);

    exercise_chunks(r, info);
    exercise_scenario(r);
    exercise_summary(r);
    exercise_player(r, info, size % 2 == 0);
    exercise_exports(r, size % 2 == 1);
    cv_recording_close(r);
    return 0;
}

/* ------------------------------------------------------------------ the mutator */

/* The file format as record.h describes it (version 2). Should it change, the mutator still
 * works on what it recognises and keeps the rest as bytes. */
#define MAGIC         "CVZREC\r\n"
#define TRAILER_MAGIC "CVZEND\r\n"
#define R_HEAD        1u
#define R_EVTS        4u
#define R_INDX        5u
#define R_CKPT        7u
#define R_CKIX        8u
#define R_MAX         15u /* types the mutator parses as records (unknown ones kept as bytes) */
#define CHUNK_HEAD    32  /* count, first ts, last ts, events before, raw size */
#define CKPT_HEAD     40  /* events before, ts, order from, order to, raw size, zero */
#define CHUNK_EVENTS  65536
#define MAX_RECORDS   4096

struct rec {
    uint32_t type;
    const uint8_t *p; /* payload in the input */
    uint32_t len;
    /* EVTS that decompress: the events (ts as deltas) */
    struct cv_event *ev;
    size_t n;
    /* CKPT that decompress: the completion order entries and the collector's state */
    uint8_t *state;
    size_t state_len;
    /* written anew */
    uint8_t *out;
    uint32_t out_len;
    uint64_t offset;
};

struct layout {
    struct rec rec[MAX_RECORDS];
    size_t nrec;
    uint32_t version;
    bool trailer;
    uint64_t trailer_off;
    const uint8_t *tail; /* bytes after the last whole record (or after the trailer) */
    size_t tail_len;
    unsigned nlanes; /* "lane" lines in the header */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc32(0, Z_NULL, 0), p, (uInt)n);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static unsigned count_lanes(const uint8_t *p, uint32_t len)
{
    unsigned n = 0;
    for (uint32_t i = 0; i + 5 <= len; i++)
        if ((i == 0 || p[i - 1] == '\n') && !memcmp(p + i, "lane ", 5))
            n++;
    return n;
}

/* Splits a file into its records; false when it does not even start like a recording. */
static bool parse_layout(const uint8_t *data, size_t size, struct layout *L)
{
    memset(L, 0, sizeof *L);
    if (size < 12 || memcmp(data, MAGIC, 8))
        return false;
    L->version = rd32(data + 8);
    size_t off = 12;
    while (off < size) {
        size_t left = size - off;
        if (left >= 16 && !memcmp(data + off, TRAILER_MAGIC, 8)) {
            L->trailer = true;
            L->trailer_off = rd64(data + off + 8);
            off += 16;
            break;
        }
        if (left < 12 || L->nrec == MAX_RECORDS)
            break;
        uint32_t type = rd32(data + off), len = rd32(data + off + 4);
        if (type < 1 || type > R_MAX || len > left - 12)
            break;
        struct rec *r = &L->rec[L->nrec++];
        r->type = type;
        r->p = data + off + 8;
        r->len = len;
        if (type == R_HEAD)
            L->nlanes = count_lanes(r->p, len);
        off += 12 + (size_t)len;
    }
    L->tail = data + off;
    L->tail_len = size - off;
    return true;
}

static void free_layout(struct layout *L)
{
    for (size_t i = 0; i < L->nrec; i++) {
        free(L->rec[i].ev);
        free(L->rec[i].state);
        free(L->rec[i].out);
    }
}

/* The events of an EVTS record, when its head is sane and it decompresses. */
static void decode_chunk(struct rec *r)
{
    if (r->len < CHUNK_HEAD)
        return;
    uint32_t n = rd32(r->p), raw = rd32(r->p + 28);
    if (!n || n > CHUNK_EVENTS || raw != n * sizeof(struct cv_event))
        return;
    struct cv_event *ev = xmalloc(raw);
    size_t got = ZSTD_decompress(ev, raw, r->p + CHUNK_HEAD, r->len - CHUNK_HEAD);
    if (ZSTD_isError(got) || got != raw) {
        free(ev);
        return;
    }
    r->ev = ev;
    r->n = n;
}

/* The state of a CKPT record, when it decompresses. */
static void decode_ckpt(struct rec *r)
{
    if (r->len < CKPT_HEAD)
        return;
    uint64_t from = rd64(r->p + 16), to = rd64(r->p + 24);
    uint32_t raw = rd32(r->p + 32);
    if (to < from || (to - from) > (r->len - CKPT_HEAD) / 4 || raw > (16u << 20))
        return;
    size_t zoff = CKPT_HEAD + (size_t)(to - from) * 4;
    uint8_t *state = xmalloc(raw);
    size_t got = ZSTD_decompress(state, raw, r->p + zoff, r->len - zoff);
    if (ZSTD_isError(got) || got != raw) {
        free(state);
        return;
    }
    r->state = state;
    r->state_len = raw;
}

/* A value a field might hold: small ids, the "none" marks, and extremes. */
static uint64_t interesting(uint64_t small)
{
    switch (below(6)) {
    case 0:
        return below(small);
    case 1:
        return UINT32_MAX;
    case 2:
        return UINT32_MAX - 1;
    case 3:
        return UINT64_MAX - below(4);
    case 4:
        return 1ull << below(64);
    default:
        return rnd();
    }
}

static void mutate_event(struct cv_event *e, unsigned nlanes)
{
    switch (below(7)) {
    case 0:
        e->kind = (uint16_t)below(CV_EV__COUNT);
        break;
    case 1:
        e->lane = (uint16_t)below(nlanes ? nlanes : 1);
        break;
    case 2:
        e->task = (uint32_t)interesting(16);
        break;
    case 3:
        e->obj = (uint32_t)interesting(8);
        break;
    case 4:
        e->arg = interesting(8);
        break;
    case 5:
        e->ts = below(4) ? below(2000000) : interesting(1000);
        break;
    default:
        e->reserved = (uint32_t)rnd();
        break;
    }
}

/* Mutates the events of a decoded chunk (ts as deltas). */
static void mutate_chunk(struct rec *r, const struct layout *L)
{
    size_t n = r->n;
    switch (below(5)) {
    case 0: { /* libFuzzer's byte mutations on the raw events */
        size_t cap = (n + 8) * sizeof *r->ev;
        if (cap > CHUNK_EVENTS * sizeof *r->ev)
            cap = CHUNK_EVENTS * sizeof *r->ev;
        struct cv_event *ev = realloc(r->ev, cap);
        if (!ev)
            abort();
        r->ev = ev;
        n = LLVMFuzzerMutate((uint8_t *)ev, n * sizeof *ev, cap) / sizeof *ev;
        if (!n)
            n = 1;
        if (below(8)) /* mostly keep lanes and kinds valid, else the chunk is only rejected */
            for (size_t i = 0; i < n; i++) {
                ev[i].kind %= CV_EV__COUNT;
                ev[i].lane %= L->nlanes ? L->nlanes : 1;
            }
        break;
    }
    case 1: { /* a few fields */
        size_t k = 1 + below(4);
        for (size_t i = 0; i < k; i++)
            mutate_event(&r->ev[below(n)], L->nlanes);
        break;
    }
    case 2: { /* delete a run of events */
        if (n < 2)
            break;
        size_t len = 1 + below(n - 1 < 8 ? n - 1 : 8), at = below(n - len + 1);
        memmove(r->ev + at, r->ev + at + len, (n - at - len) * sizeof *r->ev);
        n -= len;
        break;
    }
    case 3: { /* repeat a run of events */
        size_t at = below(n), len = 1 + below(n - at < 8 ? n - at : 8);
        if (n + len > CHUNK_EVENTS)
            break;
        struct cv_event *ev = realloc(r->ev, (n + len) * sizeof *ev);
        if (!ev)
            abort();
        r->ev = ev;
        memmove(ev + at + len, ev + at, (n - at) * sizeof *ev);
        n += len;
        break;
    }
    default: { /* swap two events, or copy one from another chunk */
        size_t a = below(n), b = below(n);
        const struct rec *o = &L->rec[below(L->nrec)];
        if (o->ev && o != r && below(2)) {
            r->ev[a] = o->ev[below(o->n)];
        } else {
            struct cv_event t = r->ev[a];
            r->ev[a] = r->ev[b];
            r->ev[b] = t;
        }
        break;
    }
    }
    r->n = n;
}

/* Mutates a decoded checkpoint's state: the bytes cv_collector_restore reads. */
static void mutate_ckpt(struct rec *r)
{
    size_t cap = r->state_len + 64;
    uint8_t *s = realloc(r->state, cap);
    if (!s)
        abort();
    r->state = s;
    r->state_len = LLVMFuzzerMutate(s, r->state_len, cap);
}

static uint8_t *zcompress(const void *p, size_t n, size_t head, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(n);
    uint8_t *out = xmalloc(head + bound);
    size_t zn = ZSTD_compress(out + head, bound, p, n, 1);
    if (ZSTD_isError(zn))
        abort();
    *out_len = head + zn;
    return out;
}

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

struct idx {
    uint64_t offset, first_ns, last_ns, before;
    uint32_t n, zero;
};

struct ckix {
    uint64_t offset, events, ts, order_to;
};

/* Writes the file anew from its records: decoded chunks and checkpoints compressed again with
 * consistent heads (chunks in time order, counts of events before), the index and checkpoint
 * index rebuilt where the file had them, the trailer pointing at the index, every CRC right. */
static void rewrite(struct layout *L, struct buf *out)
{
    size_t nchunks = 0, nckpts = 0;
    for (size_t i = 0; i < L->nrec; i++) {
        nchunks += L->rec[i].type == R_EVTS;
        nckpts += L->rec[i].type == R_CKPT && L->rec[i].len >= CKPT_HEAD;
    }
    struct idx *ix = calloc(nchunks ? nchunks : 1, sizeof *ix);
    struct ckix *cx = calloc(nckpts ? nckpts : 1, sizeof *cx);
    if (!ix || !cx)
        abort();
    /* payloads first: the indexes need the offsets, so the sizes */
    uint64_t prev_last = 0, before = 0, off = 12;
    size_t ci = 0, ki = 0;
    for (size_t i = 0; i < L->nrec; i++) {
        struct rec *r = &L->rec[i];
        r->offset = off;
        if (r->type == R_EVTS) {
            struct idx *e = &ix[ci++];
            if (r->ev) {
                if (r->ev[0].ts < prev_last && below(16)) /* after the previous chunk */
                    r->ev[0].ts = prev_last + below(1000);
                uint64_t ts = 0;
                for (size_t k = 0; k < r->n; k++)
                    ts += r->ev[k].ts;
                uint32_t n32 = (uint32_t)r->n, raw = (uint32_t)(r->n * sizeof *r->ev);
                *e = (struct idx){off, r->ev[0].ts, ts, before, n32, 0};
                size_t len;
                r->out = zcompress(r->ev, raw, CHUNK_HEAD, &len);
                r->out_len = (uint32_t)len;
                memcpy(r->out, &n32, 4);
                memcpy(r->out + 4, &e->first_ns, 8);
                memcpy(r->out + 12, &e->last_ns, 8);
                memcpy(r->out + 20, &before, 8);
                memcpy(r->out + 28, &raw, 4);
            } else if (r->len >= CHUNK_HEAD) { /* kept as it is: its head says what it holds */
                *e = (struct idx){off, rd64(r->p + 4), rd64(r->p + 12), before, rd32(r->p), 0};
            }
            before += e->n;
            prev_last = e->last_ns;
        } else if (r->type == R_CKPT && r->len >= CKPT_HEAD) {
            /* at the events before it; the state, decoded, compressed again */
            uint64_t from = rd64(r->p + 16), to = rd64(r->p + 24);
            size_t olen = r->state && to >= from ? (size_t)(to - from) * 4 : 0;
            size_t len = r->len;
            if (r->state) {
                uint8_t *z = zcompress(r->state, r->state_len, CKPT_HEAD + olen, &len);
                memcpy(z + CKPT_HEAD, r->p + CKPT_HEAD, olen);
                uint32_t raw = (uint32_t)r->state_len;
                memcpy(z + 32, &raw, 4);
                r->out = z;
            } else {
                r->out = xmalloc(len);
                memcpy(r->out, r->p, len);
            }
            memcpy(r->out + 16, r->p + 16, 16);
            memcpy(r->out + 36, r->p + 36, 4);
            memcpy(r->out, &before, 8);
            memcpy(r->out + 8, &prev_last, 8);
            r->out_len = (uint32_t)len;
            cx[ki++] = (struct ckix){off, before, prev_last, to};
        }
        if (r->type == R_INDX)
            r->out_len = (uint32_t)(nchunks * sizeof *ix);
        else if (r->type == R_CKIX)
            r->out_len = (uint32_t)(ki < nckpts ? ki : nckpts) * (uint32_t)sizeof *cx;
        else if (!r->out)
            r->out_len = r->len;
        off += 12 + (uint64_t)r->out_len;
    }
    uint64_t idx_off = L->trailer_off;
    put(out, MAGIC, 8);
    put(out, &L->version, 4);
    for (size_t i = 0; i < L->nrec; i++) {
        const struct rec *r = &L->rec[i];
        const void *p = r->out ? r->out : r->p;
        if (r->type == R_INDX) {
            p = ix;
            idx_off = r->offset;
        } else if (r->type == R_CKIX) {
            p = cx;
        }
        uint32_t head[2] = {r->type, r->out_len}, crc = crc_of(p, r->out_len);
        put(out, head, sizeof head);
        put(out, p, r->out_len);
        put(out, &crc, 4);
    }
    if (L->trailer) {
        put(out, TRAILER_MAGIC, 8);
        put(out, &idx_off, 8);
    }
    put(out, L->tail, L->tail_len);
    free(ix);
    free(cx);
}

/* Every whole record's CRC made right, in place. */
static void fix_crcs(uint8_t *data, size_t size)
{
    struct layout *L = xmalloc(sizeof *L);
    if (parse_layout(data, size, L))
        for (size_t i = 0; i < L->nrec; i++) {
            uint32_t crc = crc_of(L->rec[i].p, L->rec[i].len);
            memcpy((uint8_t *)L->rec[i].p + L->rec[i].len, &crc, 4);
        }
    free(L);
}

/* Mutates the events of a chunk or the state of a checkpoint and writes the file anew; 0 when
 * there is nothing to work on or the result would be too large. */
static size_t mutate_structure(uint8_t *data, size_t size, size_t max_size)
{
    struct layout *L = xmalloc(sizeof *L);
    size_t out_size = 0;
    if (parse_layout(data, size, L)) {
        size_t chunks[MAX_RECORDS], nchunks = 0, ckpts[MAX_RECORDS], nckpts = 0;
        for (size_t i = 0; i < L->nrec; i++) {
            struct rec *r = &L->rec[i];
            if (r->type == R_EVTS)
                decode_chunk(r);
            else if (r->type == R_CKPT)
                decode_ckpt(r);
            if (r->ev)
                chunks[nchunks++] = i;
            if (r->state)
                ckpts[nckpts++] = i;
        }
        if (nchunks || nckpts) {
            size_t k = 1 + (below(4) ? 0 : below(3));
            for (size_t i = 0; i < k; i++) {
                if (nckpts && (!nchunks || !below(4)))
                    mutate_ckpt(&L->rec[ckpts[below(nckpts)]]);
                else
                    mutate_chunk(&L->rec[chunks[below(nchunks)]], L);
            }
            struct buf out = {0};
            rewrite(L, &out);
            if (out.n <= max_size) {
                memcpy(data, out.p, out.n);
                out_size = out.n;
            }
            free(out.p);
        }
        free_layout(L);
    }
    free(L);
    return out_size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng_state = 0x9e3779b97f4a7c15ull ^ seed;
    rnd();
    switch (below(4)) {
    case 0: /* bytes: the checks' error paths */
        return LLVMFuzzerMutate(data, size, max_size);
    case 1: /* bytes, then CRCs: the parsers of the header, texts, index and footer */
        size = LLVMFuzzerMutate(data, size, max_size);
        fix_crcs(data, size);
        return size;
    default: { /* events and checkpoints */
        size_t n = mutate_structure(data, size, max_size);
        if (n)
            return n;
        n = LLVMFuzzerMutate(data, size, max_size);
        fix_crcs(data, n);
        return n;
    }
    }
}
