/*
 * Recordings: a run's events saved to a file, read back to replay or export them.
 *
 * The file (little-endian): 8 bytes of magic "CVZREC\r\n", a u32 format version, then records,
 * each [u32 type][u32 length][payload][u32 CRC-32 of the payload]:
 *   HEAD  text lines: facts about the run and host, "lane ID ROLE NAME",
 *         "object ID KIND CAPACITY NAME", "param KEY VALUE"
 *   SCEN  the scenario file's text
 *   TEXT  u32 id + a text events refer to (a URL being fetched), before the first chunk that
 *         names it, and all of them once more after the last chunk
 *   EVTS  a chunk: u32 count, u64 first ts, u64 last ts, u64 events before it, u32 raw size,
 *         then the events (ts as the delta from the previous event) compressed with zstd
 *   CKPT  a checkpoint, every 2 M events (after a chunk): u64 events before it, u64 ts of the
 *         last one, u64 and u64 the range of completion-order entries it adds, u32 the state's
 *         size, u32 zero, those entries (u32 task ids), then the collector's state
 *         (cv_collector_save) compressed with zstd; seeking restores the closest one
 *   INDX  one entry per chunk: u64 file offset, u64 first ts, u64 last ts, u64 events before,
 *         u32 count, u32 zero
 *   CKIX  one entry per checkpoint: u64 file offset, u64 events before, u64 ts, u64 order entries
 *   FOOT  u64 end ns, u64 events, then the run's summary (cv_value_encode)
 * and a 16-byte trailer: "CVZEND\r\n" and the u64 offset of INDX. A file cut short (Ctrl-C,
 * a killed process, a full disk) has no trailer: it is read up to its last whole chunk.
 */
#ifndef CONCVIZ_RECORD_H
#define CONCVIZ_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/collector.h"
#include "concviz/event.h"
#include "concviz/scenario.h"
#include "concviz/value.h"

#define CV_RECORD_VERSION 2

/* ---- reading ---- */

struct cv_recording;

struct cv_recording_info {
    const char *concviz_version;
    const char *scenario; /* name */
    const char *model;
    unsigned workers;
    bool gil;
    const char *python; /* the CPython modelled, or NULL (none, or an older recording) */
    double switch_ms;
    const char *host; /* "2 cores, Linux 6.1.0, clock tsc" */
    uint64_t events;  /* in the chunks that could be read */
    uint64_t end_ns;  /* the run's end (or the last event read, when cut short) */
    size_t nchunks;
    bool complete;       /* footer and index present */
    const char *missing; /* when cut short: what could not be read, one line; else NULL */
};

/* Opens a recording: its header, and the index (or a scan when there is none). Errors are one
 * line naming the file: CV_ERR_RUNTIME for a missing or unreadable file, CV_ERR_USAGE for one
 * that is not a recording, of an unknown version, or corrupt. */
int cv_recording_open(const char *path, struct cv_recording **out, char **cause);
void cv_recording_close(struct cv_recording *r);
const struct cv_recording_info *cv_recording_info(const struct cv_recording *r);
/* The original run's summary (NULL when the file was cut short before its footer). */
const struct cv_value *cv_recording_summary(const struct cv_recording *r);
/* The scenario as it ran (its text with the recorded parameters); caller frees. */
int cv_recording_scenario(const struct cv_recording *r, struct cv_scenario **out, char **cause);
/* A fresh collector with the recording's lanes, objects and texts declared. */
struct cv_collector *cv_recording_collector(const struct cv_recording *r);
/* Chunk i's events, ts in ns since the run's start; valid until the next call. */
int cv_recording_chunk(struct cv_recording *r, size_t i, const struct cv_event **ev, size_t *n,
                       char **cause);
/* The first chunk whose events may reach `ns` (binary search of the index). */
size_t cv_recording_chunk_at(const struct cv_recording *r, uint64_t ns);
uint64_t cv_recording_chunk_first_ns(const struct cv_recording *r, size_t i);
/* Lane and object declarations, for exporters. */
size_t cv_recording_nlanes(const struct cv_recording *r);
const char *cv_recording_lane_name(const struct cv_recording *r, uint32_t lane);
int32_t cv_recording_lane_pid(const struct cv_recording *r, uint32_t lane); /* 0: not known */
const char *cv_recording_object_name(const struct cv_recording *r, uint32_t obj);
int cv_recording_object_kind(const struct cv_recording *r, uint32_t obj); /* -1 = none */
/* A text events refer to (io.begin's obj: the URL), or NULL. */
const char *cv_recording_text(const struct cv_recording *r, uint32_t id);

/* The summary of a replay: the events re-read through a collector (tasks, completion order,
 * lanes, locks, queues, events), the rest (results, times, runtime) from the recording; with
 * `check`, the scenario's expectations evaluated. Caller frees. */
struct cv_value *cv_recording_replay_summary(struct cv_recording *r, bool check, unsigned *failed,
                                             char **cause);

/* ---- playing: the collector's state at any time of the run ---- */

struct cv_replay;

/* A player over r (which it does not own), at time 0. */
struct cv_replay *cv_replay_new(struct cv_recording *r);
void cv_replay_free(struct cv_replay *p);
/* Moves to run time ns (clamped to the end): restores the closest checkpoint before it when
 * that is ahead of the position or the move is back (else starts again), then feeds the
 * events up to ns. Errors (a chunk or checkpoint that does not read) are one line.
 * CONCVIZ_REPLAY_CHECKPOINTS=0 in the environment makes it feed from the start instead. */
int cv_replay_seek(struct cv_replay *p, uint64_t ns, char **cause);
uint64_t cv_replay_pos(const struct cv_replay *p);
/* The state at the position; valid until the next call. */
const struct cv_snapshot *cv_replay_snapshot(struct cv_replay *p);
/* Moves to the end and returns the summary, as cv_recording_replay_summary. Caller frees. */
struct cv_value *cv_replay_summary(struct cv_replay *p, bool check, unsigned *failed, char **cause);

#endif
