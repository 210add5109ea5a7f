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
	 * Decisions whose time, action or verdict this filter excludes are
	 * skipped without decoding the rest (a scan's cost is mostly decoding);
	 * a malformed one among them then goes unreported. NULL: decode all.
	 */
	const struct jquery_filter *prefilter;
};

struct jsource_stats {
	uint64_t records;   /* decisions returned */
	uint64_t prefiltered; /* decisions the prefilter excluded, not decoded */
	uint64_t malformed; /* intact frames whose decision payload was refused */
	uint64_t unresolved; /* decisions returned with texts whose definition was lost */
	uint64_t lost;      /* decisions the writer could not write, from gap records */
	uint64_t damaged_regions;
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
void jsource_close(struct jsource *s);

#endif /* ACTGATE_JSOURCE_H */
