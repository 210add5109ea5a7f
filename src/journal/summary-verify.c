/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Summaries checked against their segments (summary.h, jsummary_verify):
 * a summary is trusted by replay to skip a segment, so verify recomputes
 * every one from the decisions of the segment it follows and reports any
 * difference, as it reports an edited record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/record.h"
#include "journal/store.h"
#include "journal/summary.h"

struct state {
	struct jsummary_verify_result *res;
	struct jrecord_table *table;
	struct jrecord_buf arena;
	/* The segment being read: its file, number, what it holds, and whether a record of the
	 * caller's came yet (the summary must be the first). */
	char *path;
	uint64_t segment;
	struct jsummary actual;
	bool caller_seen;
	/* The segment read before it, summarised from its decisions (prev_ok: it was read). */
	struct jsummary prev;
	bool prev_ok;
	uint64_t segments, summaries; /* files read; of them, those starting with a summary */
};

static void wrong(struct state *st, const struct jstore_record *jr, const char *why)
{
	struct jsummary_verify_result *r = st->res;

	if (!r->wrong++) {
		snprintf(r->message, sizeof(r->message), "%s", why);
		snprintf(r->segment, sizeof(r->segment), "%s", jr->segment);
		r->segment_seq = jr->segment_seq;
		r->record_seq = jr->seq;
	}
}

/* A new file: the one before becomes prev. */
static int next_segment(struct state *st, const struct jstore_record *jr)
{
	if (st->path) {
		jsummary_free(&st->prev);
		st->prev = st->actual;
		st->prev_ok = st->segment != 0;
	}
	st->segments++;
	free(st->path);
	st->path = strdup(jr->segment);
	if (!st->path)
		return -ENOMEM;
	st->segment = jr->segment_seq;
	jsummary_init(&st->actual, st->segment);
	st->caller_seen = false;
	jrecord_table_reset(st->table);
	return 0;
}

static int take_summary(struct state *st, const struct jstore_record *jr)
{
	struct jsummary claimed;
	char why[256], msg[300];

	if (st->caller_seen) {
		wrong(st, jr, "a summary that is not the first record of its segment (replay reads "
			      "only that one)");
		return 0;
	}
	st->caller_seen = true;
	st->summaries++;
	if (jsummary_decode(jr->payload, jr->len, &claimed, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "a malformed summary: %s", why);
		wrong(st, jr, msg);
		return 0;
	}
	if (!st->prev_ok || !st->segment || st->prev.segment + 1 != st->segment) {
		/* Its segment is not among the files (or the numbering is damaged: verify's). */
		st->res->unchecked++;
	} else {
		st->res->checked++;
		if (jsummary_compare(&claimed, &st->prev, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "the summary of segment %" PRIu64 " is wrong: %s",
				 st->prev.segment, why);
			wrong(st, jr, msg);
		}
	}
	jsummary_free(&claimed);
	return 0;
}

static int take_decision(struct state *st, const struct jstore_record *jr)
{
	struct journal_record rec;
	unsigned unresolved;
	char why[160];
	int err;

	st->caller_seen = true;
	err = jrecord_decode_table(jr->payload, jr->len, st->table, &rec, &st->arena, &unresolved,
				   why, sizeof(why));
	if (err == -ENOMEM)
		return err;
	if (err)
		return 0; /* replay does not show it either */
	return jsummary_add(&st->actual, &rec);
}

int jsummary_of_file(const char *path, uint64_t segment, struct jsummary *out)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct state st = { 0 };
	struct jstore_reader *r = NULL;
	struct jstore_record jr;
	int err;

	jsummary_init(out, segment);
	st.actual = *out;
	err = jrecord_table_new(&st.table);
	if (!err)
		err = jstore_reader_open(&r, &path, 1, &ro);
	while (!err && (err = jstore_read(r, &jr)) > 0) {
		err = 0;
		if (jr.segment_seq != segment)
			err = -EBADMSG;
		else if (jr.type == JRECORD_TYPE_DECISION)
			err = take_decision(&st, &jr);
		else if (jr.type == JSTORE_TYPE_GAP)
			jsummary_add_gap(&st.actual);
	}
	jstore_reader_close(r);
	jrecord_table_free(st.table);
	jrecord_buf_free(&st.arena);
	*out = st.actual;
	if (err < 0)
		jsummary_free(out);
	return err < 0 ? err : 0;
}

int jsummary_verify(const char *const *paths, size_t n_paths, struct jsummary_verify_result *res)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct state st = { .res = res };
	struct jstore_reader *r = NULL;
	struct jstore_record jr;
	int err;

	memset(res, 0, sizeof(*res));
	jsummary_init(&st.actual, 0);
	jsummary_init(&st.prev, 0);
	err = jrecord_table_new(&st.table);
	if (err)
		return err;
	err = jstore_reader_open(&r, paths, n_paths, &ro);
	while (!err && (err = jstore_read(r, &jr)) > 0) {
		err = 0;
		if (!st.path || strcmp(st.path, jr.segment))
			err = next_segment(&st, &jr);
		if (err)
			break;
		if (jr.type == JRECORD_TYPE_DECISION)
			err = take_decision(&st, &jr);
		else if (jr.type == JSUMMARY_TYPE) {
			res->found++;
			err = take_summary(&st, &jr);
		}
		else if (jr.type == JSTORE_TYPE_GAP)
			jsummary_add_gap(&st.actual);
		else if (jr.type <= JSTORE_TYPE_USER_MAX)
			st.caller_seen = true;
	}
	jstore_reader_close(r);
	/* Every segment but the newest is summarised by the next one's first record, or not. */
	if (st.segments > st.summaries)
		res->without = st.segments - 1 - st.summaries;
	jsummary_free(&st.actual);
	jsummary_free(&st.prev);
	jrecord_table_free(st.table);
	jrecord_buf_free(&st.arena);
	free(st.path);
	if (err < 0)
		return err;
	return res->wrong ? -EBADMSG : 0;
}
