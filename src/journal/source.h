/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decisions read back from journals: journal-store directories or segment
 * files (plain or gzip, told apart by content). Damage is reported (to err,
 * "prefix: ...") and skipped: every intact record is still returned. Used by
 * replay, what-if, export and the benchmarks.
 */
#ifndef ACTGATE_JSOURCE_H
#define ACTGATE_JSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal/decision.h"

struct jquery_filter;
struct jstore_gap;

struct jsource_options {
	FILE *err;          /* where damage, gaps and failures are reported; NULL: nowhere */
	const char *prefix; /* "actgate: replay" */
	/*
	 * At the end, wait for more: the last path must be a journal directory,
	 * read again every poll_ms (default 250) from the segment last read on,
	 * across rotation and compression. Damage in the segment being written is
	 * not reported while following (a record being written looks torn).
	 */
	bool follow;
	unsigned poll_ms;
	volatile int *stop; /* following ends when *stop becomes non-zero */
	/*
	 * Decisions whose time, action, verdict or workload this filter
	 * excludes are skipped without decoding the rest (a scan's cost is mostly decoding);
	 * a malformed one among them then goes unreported. NULL: decode all.
	 */
	const struct jquery_filter *prefilter;
	/*
	 * With a prefilter on anything but the pid, a journal directory's
	 * closed segments whose summary
	 * (journal/summary.h, written in the next segment) shows that no
	 * decision of theirs passes the prefilter, and that hold no gap record,
	 * are not read at all (not while following, nor with on_gap). Callers
	 * must therefore apply the whole prefilter to what they get, as replay
	 * and export do. read_all: read every segment (replay --no-summaries).
	 */
	bool read_all;
	/*
	 * For a follower that resumes (journal/export.h): start after store
	 * record resume_seq, looked for from segment resume_segment on (0, 0:
	 * from the beginning). Needs follow.
	 */
	uint64_t resume_seq, resume_segment;
	/* Following, return -EAGAIN instead of waiting when nothing new is there. */
	bool idle_return;
	/*
	 * Called before the decision that follows them for what a follower must
	 * not skip silently: a gap record (records the writer lost) and a jump
	 * in the store's numbering (records removed by retention or damaged
	 * beyond reading), as first..last store sequence numbers missing.
	 * A non-zero return ends jsource_next with it.
	 */
	int (*on_gap)(void *ctx, const struct jstore_gap *gap, uint64_t first_missing,
		      uint64_t last_missing, const char *segment);
	void *gap_ctx;
};

struct jsource_stats {
	uint64_t records;   /* decisions returned */
	uint64_t prefiltered; /* decisions the prefilter excluded, not decoded */
	uint64_t malformed; /* intact frames whose decision payload was refused */
	uint64_t unresolved; /* decisions returned with texts whose definition was lost */
	uint64_t lost;      /* decisions the writer could not write, from gap records */
	uint64_t damaged_regions;
	uint64_t segments_skipped;  /* closed segments not read: their summary excludes them */
	uint64_t skipped;           /* the decisions those held, by their summaries */
	uint64_t summaries_ignored; /* summaries malformed or not matching the segment headers */
};

struct jsource;

/*
 * Open paths (at least one). -errno after reporting
 * "prefix: PATH: why": -ENOENT (also a directory with no journal in it),
 * -EINVAL (not a journal; --follow on something that is not a directory).
 */
int jsource_open(struct jsource **out, const char *const *paths, size_t n_paths,
		 const struct jsource_options *o);
/*
 * The next decision into rec, whose strings belong to the source (valid
 * until the next call; do not journal_record_clear it). 1, 0 at the end,
 * -errno on an I/O error (reported).
 */
int jsource_next(struct jsource *s, struct journal_record *rec);
void jsource_stats(const struct jsource *s, struct jsource_stats *st);
/*
 * Where the source is: the store sequence number of the last store record
 * read (a decision or not) and its segment; 0, 0 before the first.
 */
void jsource_position(const struct jsource *s, uint64_t *seq, uint64_t *segment);
void jsource_close(struct jsource *s);

#endif /* ACTGATE_JSOURCE_H */
