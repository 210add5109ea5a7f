/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's decision journal: decisions encoded (journal/record.h) into
 * the journal store (journal/store.h) in the journal directory, sealed with a
 * key kept outside it. The daemon calls jsink_append per record, jsink_flush
 * after each ring-buffer drain, jsink_tick from its loop, jsink_status for
 * `actgate status` and jsink_close on the way out.
 *
 * A write that fails (a full disk, a quota) costs records, never
 * enforcement: the store counts them, logs the error once, and when writing
 * works again it starts with a gap record saying how many were lost. The
 * segment's string table is never renumbered: after a failed write the sink
 * starts a new segment before it refers to a string again.
 */
#ifndef ACTGATE_JSINK_H
#define ACTGATE_JSINK_H

#include <stdint.h>
#include <sys/types.h>

#include "journal/decision.h"
#include "journal/store.h"
#include "util/json.h"
#include "util/paths.h"


struct jsink_config {
	const char *dir;      /* the journal directory */
	const char *key_path; /* the seal key; created (mode 0600) when missing */
	/* The store's fsync policy; 0 keeps the store's default (docs/journal-store.md). */
	uint32_t fsync_every_records;
	uint32_t fsync_every_ms;
	uint64_t segment_max_bytes; /* rotate before a segment passes this; 0: 4 MiB */
	uint64_t retain_max_bytes;  /* retention: all segments together; 0: the store's 1 GiB */
	uint64_t retain_max_age_ms; /* closed segments older than this go; 0: kept */
	/* For tests: the store's write(2) stand-in (jstore_options.write); NULL: the real one */
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	void *hook_ctx;
};

struct jsink;

/* Open (or create) the journal. -errno, logged. */
int jsink_open(struct jsink **out, const struct jsink_config *cfg);
/* Queue one decision; a failed write is counted by the store (never an error for the caller). */
void jsink_append(struct jsink *s, const struct journal_record *r);
/* Write what is queued (after each drain: a daemon crash then loses nothing it took). */
void jsink_flush(struct jsink *s);
/* Seals, syncs, rotation and retention when their time has come. */
void jsink_tick(struct jsink *s);
/* Members for the status reply: records written, lost, the last error, ... */
void jsink_status(const struct jsink *s, struct json_out *j);
/* Records written and lost so far (for the daemon's last log line). */
void jsink_counts(const struct jsink *s, uint64_t *written, uint64_t *lost);
const char *jsink_dir(const struct jsink *s);
/* The store it writes (for checks of its segments and head, daemon/journalwatch.h); NULL for NULL. */
struct jstore *jsink_store(struct jsink *s);
/* Flush, seal, sync, close. NULL is fine. 0 or the first error (logged). */
int jsink_close(struct jsink *s);

#endif /* ACTGATE_JSINK_H */
