/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One decision (struct journal_record) as the payload of a journal store
 * record of type JRECORD_TYPE_DECISION: a version byte, then tagged fields
 * (a varint key = field number << 1 | wire type, then a varint or a
 * length-prefixed byte string), zero and empty values left out. Every record
 * stands alone (no state across records), so a reader that resynchronises
 * after damage decodes the very next intact record; the store's gzip takes
 * care of the repetition. docs/journal-format.md is the byte-exact format.
 */
#ifndef ACTGATE_JRECORD_H
#define ACTGATE_JRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "journal/decision.h"

#define JRECORD_TYPE_DECISION 1 /* the jstore record type of a decision */
#define JRECORD_STRINGS_MAX 65536u /* string ids per segment: 1..JRECORD_STRINGS_MAX */
#define JRECORD_VERSION 1       /* first payload byte */
/* Longest text field accepted on decode: a path buffer plus room to spare. */
#define JRECORD_MAX_TEXT 65536u

/* Field numbers (docs/journal-format.md, "Decision payload"). Never reuse one. */
enum jrecord_field {
	JF_TIME_NS = 1,
	JF_ACTION = 2,
	JF_VERDICT = 3,
	JF_MODE = 4,
	JF_REASON = 5,
	JF_WORKLOAD_ID = 6,
	JF_CGROUP_ID = 7,
	JF_PID = 8,
	JF_TGID = 9, /* left out when equal to pid */
	JF_PPID = 10,
	JF_UID = 11,
	JF_GENERATION = 12,
	JF_ACCESS = 13,
	JF_SIGNAL_GENERATION = 14,
	JF_STRINGS = 15, /* string definitions; only ever the first field */
	JF_COMM = 16,
	JF_WORKLOAD = 17,
	JF_PRINCIPAL = 18,
	JF_LABELS = 19,
	JF_POLICY = 20,
	JF_RULE = 21,
	JF_TARGET = 22,
	JF_SIGNALS = 23, /* present (even empty) when the signals were recorded */
	JF_TARGET_NAME = 24,
	JF_CHAIN = 25,
	JF_EVENT_ID = 26,
	JF_ISSUER = 27,
	JF_EVENT_TYPE = 28,
	JF_SUBJECT = 29,
};
/* The text fields are JF_COMM and JF_WORKLOAD..JF_LAST_TEXT, all in one run. */
#define JF_LAST_TEXT JF_SUBJECT

#define JRECORD_WIRE_VARINT 0
#define JRECORD_WIRE_BYTES 1

/* A growable output buffer, reused across records. */
struct jrecord_buf {
	uint8_t *p;
	size_t len, cap;
};

/*
 * Encode r into b (replacing its content). 0, -EINVAL for a value the
 * format cannot carry (an action, verdict or mode without a name, an access
 * bit without a name, a comm longer than 16 bytes), -ENOMEM.
 */
int jrecord_encode(const struct journal_record *r, struct jrecord_buf *b);
void jrecord_buf_free(struct jrecord_buf *b);

/*
 * Decode a payload into rec (cleared first, as by journal_record_clear; on
 * success it owns new strings, never NULL except signals when not recorded).
 * 0, -EINVAL with the reason in why ("field 8 (pid): varint overflows 32
 * bits"), -ENOMEM. Never reads outside payload[0..len).
 */
int jrecord_decode(const void *payload, size_t len, struct journal_record *rec, char *why,
		   size_t why_size);
/*
 * The same without an allocation per string, for scans: rec's strings point
 * into arena (valid until the arena's next use); rec must not be passed to
 * journal_record_clear. 0, -EINVAL (why), -ENOMEM.
 */
int jrecord_decode_view(const void *payload, size_t len, struct journal_record *rec,
			struct jrecord_buf *arena, char *why, size_t why_size);

/*
 * Per-segment string table. A text field may be a varint instead of bytes:
 * the id of a string defined earlier in the same segment. Definitions
 * travel in the decision that first uses them, as its first field (15,
 * bytes: entries of varint id, varint length, bytes). The writer side
 * (jrecord_dict) is reset exactly when a new segment starts, never inside
 * one: readers keep an id's first definition, so ids numbered anew in the
 * same segment would make later decisions malformed or read another's
 * texts. After a write was lost (a definition may be gone with it), or an
 * encoding failed, the dictionary must not be used again in that segment
 * (journal/sink.c starts a new one, and writes texts inline until it can).
 */
struct jrecord_dict;
int jrecord_dict_new(struct jrecord_dict **out);
void jrecord_dict_reset(struct jrecord_dict *d);
size_t jrecord_dict_count(const struct jrecord_dict *d);
void jrecord_dict_free(struct jrecord_dict *d);
/*
 * jrecord_encode with texts of 3 bytes or more by reference to d, the new
 * ones defined in the payload. A full table (JRECORD_STRINGS_MAX) leaves the
 * rest inline. On an error d is reset (it may hold what was never written):
 * not to be used again in the same segment.
 */
int jrecord_encode_dict(const struct journal_record *r, struct jrecord_dict *d,
			struct jrecord_buf *b);

/* The reader side: what a segment's decisions defined so far. */
struct jrecord_table;
int jrecord_table_new(struct jrecord_table **out);
void jrecord_table_reset(struct jrecord_table *t);
void jrecord_table_free(struct jrecord_table *t);
/*
 * Take in the definitions of a payload without decoding the rest (a record
 * a scan skips must still define its strings): 0 (also when it has none),
 * -EINVAL (why), -ENOMEM.
 */
int jrecord_table_feed(struct jrecord_table *t, const void *payload, size_t len, char *why,
		       size_t why_size);
/*
 * jrecord_decode_view taking in the payload's definitions and resolving
 * references through t (NULL: definitions are skipped and a reference is
 * malformed). A reference to an id t does not hold (its definition was
 * damaged, or is in a part of the segment not read) is no error: the text
 * reads "<lost string N>" and *unresolved counts it, so that the rest of an
 * intact record is still returned.
 */
int jrecord_decode_table(const void *payload, size_t len, struct jrecord_table *t,
			 struct journal_record *rec, struct jrecord_buf *arena,
			 unsigned *unresolved, char *why, size_t why_size);

/*
 * The first fields of a payload, for a scan that filters on them without
 * decoding the rest. 1 when the payload starts with fields 1, 2 and 3 in
 * order (as the writer writes them), 0 otherwise (then decode it fully: it
 * may still be well-formed, or malformed and worth reporting).
 */
struct jrecord_head {
	uint64_t time_ns;
	uint8_t action, verdict;
};
int jrecord_peek(const void *payload, size_t len, struct jrecord_head *h);

/*
 * One text field (JF_COMM excepted) of a decision without decoding it, for a
 * reader's prefilter: 1 with the text (*n bytes at *text, not NUL-ended:
 * in the payload, or in t for a reference, *id its string id, else 0); 0
 * when the decision has no such field (the empty text); -1 when this quick
 * look cannot tell (definitions to take in, a reference whose definition is
 * lost, anything malformed): decode the decision.
 */
int jrecord_peek_text(const void *payload, size_t len, const struct jrecord_table *t,
		      unsigned field, uint32_t *id, const uint8_t **text, size_t *n);

#endif /* ACTGATE_JRECORD_H */
