/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Streaming export: decisions shipped to a sink as they are journaled, with
 * a cursor that says, durably, how far the sink has accepted them.
 *
 * - The position is the journal store's record sequence number (it runs on
 *   over the whole store, across rotation, compression and retention) and
 *   the segment to look for it from. It is written (a temporary file,
 *   synced, renamed, the directory synced) only after the sink accepted a
 *   batch; a follower killed at any moment resumes after the last batch
 *   accepted (docs/fleet.md, "What each sink guarantees").
 * - What the reader could not return is exported as a gap event, in order:
 *   records the daemon lost to a failed write (the store's gap records) and
 *   records the follower never saw (numbers missing: segments removed by
 *   retention before they were exported, damage).
 * - A batch the sink refuses is sent again after a backoff (doubling from
 *   backoff_min_ms to backoff_max_ms); meanwhile the follower reads on into
 *   a bounded queue. A full queue stops the reading (overflow "block": the
 *   journal is the buffer) or drops the oldest queued events (overflow
 *   "drop"), which are counted and exported as a gap event; either way the
 *   overflow is counted.
 *
 * Functions returning int give 0 on success and -errno on failure.
 */
#ifndef ACTGATE_JOURNAL_EXPORT_H
#define ACTGATE_JOURNAL_EXPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal/decision.h"
#include "journal/ocsf.h"
#include "journal/store.h"
#include "util/json.h"

enum jexport_format { JEXPORT_JSONL, JEXPORT_OCSF };

/* One event to ship: a JSON object (no newline), with what sinks put beside it. */
struct jexport_event {
	uint64_t seq;     /* the store record it comes from (a gap: the last one missing) */
	uint64_t segment; /* a segment at or before that record's: where to look from */
	uint64_t time_ns; /* wall clock of the decision or of the gap */
	bool gap;
	bool denied;
	char *text;
	size_t len;
};

/* ---- sinks (export-sink*.c) ---- */

struct jexport_sink;

struct jexport_sink_ops {
	const char *kind; /* "file", "syslog", "otlp" */
	/*
	 * Ship n events in order. 0 when the peer accepted all of them (as far
	 * as the protocol can say: docs/fleet.md); -errno when not, with why
	 * filled: the whole batch is sent again later.
	 */
	int (*send)(struct jexport_sink *s, const struct jexport_event *ev, size_t n, char *why,
		    size_t why_size);
	void (*close)(struct jexport_sink *s);
};

struct jexport_sink {
	const struct jexport_sink_ops *ops;
	const struct jocsf_host *host; /* who the events come from (journal/ocsf.h) */
	uint64_t offset; /* the file sink's length accepted so far (kept in the cursor) */
	bool exactly_once; /* resending after a crash cannot duplicate (the file sink) */
};

/*
 * Open a sink from its spec (docs/fleet.md, "Sinks"):
 *   stdout | file:PATH | syslog+unix:PATH | syslog+tcp://HOST:PORT |
 *   syslog+tls://HOST:PORT?ca=FILE[&cert=FILE&key=FILE&name=SERVERNAME] |
 *   otlp+http://HOST:PORT/PATH | otlp+https://HOST:PORT/PATH[?ca=FILE]
 * offset: the file sink's accepted length from the cursor (the file is cut
 * back to it: what was written after it was never acknowledged). -EINVAL
 * with why for a bad spec; -errno with why when it cannot be opened.
 */
int jexport_sink_open(const char *spec, const struct jocsf_host *host, uint64_t offset,
		      struct jexport_sink **out, char *why, size_t why_size);
void jexport_sink_close(struct jexport_sink *s);

int jexport_sink_file_open(const char *path, bool is_stdout, uint64_t offset,
			   struct jexport_sink **out, char *why, size_t why_size);
int jexport_sink_syslog_open(const char *spec, struct jexport_sink **out, char *why,
			     size_t why_size);
int jexport_sink_otlp_open(const char *spec, struct jexport_sink **out, char *why,
			   size_t why_size);

/* "k=v&k=v" after a '?': the value of key (a copy), NULL when absent. */
char *jexport_spec_param(const char *params, const char *key);

/* ---- the cursor (export-cursor.c) ---- */

struct jexport_cursor {
	uint64_t seq;     /* the last store record accepted by the sink (0: none yet) */
	uint64_t segment; /* where to look for the next one from */
	uint64_t offset;  /* the file sink's accepted length */
	uint64_t exported; /* events accepted in all (for status) */
	char sink[512];   /* the sink it belongs to: another sink refuses it */
};

/* 0, -ENOENT (no cursor yet: start at the beginning), -EINVAL with why. */
int jexport_cursor_load(const char *path, struct jexport_cursor *c, char *why, size_t why_size);
/* Durably (synced, renamed, directory synced). 0 or -errno with why. */
int jexport_cursor_save(const char *path, const struct jexport_cursor *c, char *why,
			size_t why_size);

/* ---- events (export-event.c) ---- */

/*
 * A decision as an event: JSONL, the object of `actgate replay --json`
 * then "host" and "seq"; OCSF, journal/ocsf.h's event.
 */
int jexport_event_decision(const struct journal_record *rec, enum jexport_format format,
			   const struct jocsf_host *host, uint64_t seq, struct jexport_event *ev);
/*
 * A gap event: decisions the writer lost (gap, from the store's gap record;
 * reason "journal-write-failed"), or store records first..last the follower
 * never saw (gap NULL; reason "missing" or "export-queue-overflow").
 */
int jexport_event_gap(enum jexport_format format, const struct jocsf_host *host, uint64_t seq,
		      uint64_t time_ns, const struct jstore_gap *gap, uint64_t first,
		      uint64_t last, const char *reason, struct jexport_event *ev);
/* The members of replay --json's object for rec (replay uses it too). */
int jexport_add_record(struct json_out *j, const struct journal_record *rec);
void jexport_event_free(struct jexport_event *ev);

/* ---- the follower (export.c) ---- */

enum jexport_overflow { JEXPORT_OVERFLOW_BLOCK, JEXPORT_OVERFLOW_DROP };

/* What status shows; updated under the lock by the follower. */
struct jexport_status {
	pthread_mutex_t lock;
	uint64_t exported;      /* events accepted by the sink, in all (the cursor's count) */
	uint64_t exported_seq;  /* the store position accepted last */
	uint64_t exported_time_ns; /* the time of the last event accepted */
	uint64_t read_seq;      /* the store position read last */
	uint64_t gaps;          /* gap events made */
	uint64_t queued;        /* events waiting for the sink now */
	uint64_t queue_full;    /* times reading stopped on a full queue (overflow block) */
	uint64_t dropped;       /* events dropped from a full queue (overflow drop) */
	uint64_t send_errors;   /* batches refused or failed */
	uint64_t retries;
	char last_error[256];   /* "" once a batch was accepted after it */
	bool running;
};

struct jexport_config {
	const char *journal_dir;
	const char *cursor_path; /* NULL: no cursor (from the beginning, nothing kept) */
	const char *sink;        /* the spec */
	enum jexport_format format;
	bool follow;             /* false: stop once everything journaled so far is accepted */
	unsigned poll_ms;        /* default 200 */
	size_t batch_max;        /* events per send (default 256) */
	size_t queue_max;        /* events waiting at most (default 4096, at least batch_max) */
	enum jexport_overflow overflow;
	unsigned backoff_min_ms; /* default 200 */
	unsigned backoff_max_ms; /* default 30000 */
	volatile int *stop;      /* ends the follower when non-zero */
	FILE *err;               /* messages ("prefix: ..."); NULL: nowhere */
	const char *prefix;      /* "actgate: export" */
	struct jexport_status *status; /* NULL: none kept */
};

/* Defaults in every field but journal_dir, cursor_path and sink. */
void jexport_config_init(struct jexport_config *c);
void jexport_status_init(struct jexport_status *st);
/*
 * Run until *stop (or, not following, until caught up). 0, or -errno after
 * reporting: the journal or the cursor cannot be read, or the cursor
 * belongs to another sink. A sink that refuses is retried, never an exit.
 */
int jexport_run(const struct jexport_config *c);

#endif /* ACTGATE_JOURNAL_EXPORT_H */
