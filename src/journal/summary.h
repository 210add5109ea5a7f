/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Segment summaries (docs/journal-format.md, "Segment summaries"): what a
 * closed segment's decisions hold, in a few hundred bytes, so that a replay
 * whose filter no decision of the segment can pass skips the segment
 * without inflating it. The daemon's sink accumulates one while it writes a
 * segment and writes it, at rotation, as the first record of the next
 * segment (under that segment's chain and seals, like any record);
 * source.c reads it from there; verify recomputes it from the segment and
 * reports any difference.
 *
 * A summary is only ever used to *skip*: every set is either complete (each
 * value some decision of the segment holds is in it) or marked not kept
 * (then it skips nothing), so a true summary never hides a decision a filter
 * would show.
 */
#ifndef ACTGATE_JOURNAL_SUMMARY_H
#define ACTGATE_JOURNAL_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/decision.h"
#include "journal/record.h"

struct jquery_filter;

#define JSUMMARY_TYPE 2    /* the jstore record type of a segment summary */
#define JSUMMARY_VERSION 1 /* its first payload byte */
/* A set keeps at most this many distinct values, of at most this many bytes together; beyond
 * either it is not kept (and skips nothing). */
#define JSUMMARY_SET_MAX 256u
#define JSUMMARY_SET_BYTES (16u << 10)
#define JSUMMARY_ACTIONS 8 /* counts by action 1..7 (0 unused) */

enum jsummary_set_kind {
	JSUMMARY_WORKLOAD = 0, /* field 17 */
	JSUMMARY_PRINCIPAL,    /* field 18 */
	JSUMMARY_LABELS,       /* field 19, the whole "k=v,k=v" text */
	JSUMMARY_RULE,         /* field 21 */
	JSUMMARY_TARGET,       /* fields 22 and 24 (a filter on targets matches either) */
	JSUMMARY_NSETS,
};

struct jsummary_set {
	bool kept;     /* false: more values than fit; the set says nothing */
	size_t n;      /* values, distinct */
	size_t bytes;  /* their lengths added up */
	size_t slots;  /* hash table size (a power of two), 0 before the first value */
	char **table;  /* open addressing; NULL slots empty */
};

struct jsummary {
	uint64_t segment;   /* the segment summarised */
	uint64_t decisions; /* its decisions (records of type 1 that decode) */
	uint64_t gaps;      /* its gap records (replay reports them: never skipped) */
	uint64_t time_min, time_max; /* of its decisions; 0, 0 without any */
	uint64_t counts[JSUMMARY_ACTIONS][2]; /* decisions by action and verdict */
	struct jsummary_set sets[JSUMMARY_NSETS];
};

/* An empty summary of segment (nothing to free until a value is added). */
void jsummary_init(struct jsummary *s, uint64_t segment);
/* Forget the values (jsummary_init again afterwards). */
void jsummary_free(struct jsummary *s);
/* Take in one decision. 0 or -ENOMEM (the summary is then unusable: free it). */
int jsummary_add(struct jsummary *s, const struct journal_record *rec);
/* Count a gap record of the segment. */
void jsummary_add_gap(struct jsummary *s);

/* The payload (docs/journal-format.md): sets sorted, so one content has one encoding. */
int jsummary_encode(const struct jsummary *s, struct jrecord_buf *b);
/*
 * Parse a payload into s (jsummary_free it after a 0). 0, -EINVAL with why
 * (malformed: nothing kept), -ENOMEM.
 */
int jsummary_decode(const void *payload, size_t len, struct jsummary *s, char *why,
		    size_t why_size);

/*
 * Could a decision of the summarised segment pass f? false only when none
 * can: by time, action and verdict, workload, principal, labels, rule or
 * target (the pid is not summarised). A NULL filter: true.
 */
bool jsummary_may_match(const struct jsummary *s, const struct jquery_filter *f);

/*
 * Do two summaries say the same? 0, or -EBADMSG with the first difference
 * in why ("... says 3 decisions, the segment holds 4").
 */
int jsummary_compare(const struct jsummary *claimed, const struct jsummary *actual, char *why,
		     size_t why_size);

/*
 * The summary of the segment file at path, from its decisions as a reader
 * gets them (what jsummary_verify compares with): 0 with *out (free it),
 * -ENOENT, -EBADMSG when the file's header does not name segment, -errno.
 */
int jsummary_of_file(const char *path, uint64_t segment, struct jsummary *out);

/* What jsummary_verify found. */
struct jsummary_verify_result {
	uint64_t found;      /* records of the summaries' type, whatever they hold */
	uint64_t checked;    /* summaries compared with the segment they summarise */
	uint64_t wrong;      /* malformed, misplaced, or not what their segment holds */
	uint64_t unchecked;  /* summaries of a segment not among the files (--partial, retention) */
	uint64_t without;    /* segments, all but the newest, with no summary: read whole */
	/* The first wrong one */
	char message[320];
	char segment[4096];  /* the file holding the summary */
	uint64_t segment_seq, record_seq;
};

/*
 * Check every summary in the journal at paths (as jstore_reader_open takes
 * them) against the decisions of the segment it follows: recomputed from
 * them, it must be the same (jsummary_compare). A summary must be the first
 * record of its segment that is not the store's own. Damage to the store
 * itself is not reported here (jstore_verify's job); decisions that do not
 * decode are not counted, as replay does not show them. 0 when every
 * summary is right, -EBADMSG when one is not, -errno when it could not run.
 */
int jsummary_verify(const char *const *paths, size_t n_paths, struct jsummary_verify_result *res);

#endif /* ACTGATE_JOURNAL_SUMMARY_H */
