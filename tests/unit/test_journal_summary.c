/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Segment summaries: the payload (one content, one encoding; every cut or
 * bent byte refused), what a summary lets a query skip, the sink writing
 * them at rotation, replay skipping exactly the segments without a match,
 * a summary that lies caught by verify and one that names another segment
 * ignored by replay, and journals without summaries read as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/query.h"
#include "journal/record.h"
#include "journal/source.h"
#include "journal/summary.h"
#include "test_journal.h"

/* A summary of decisions 0..n-1 of the story, added in order or backwards. */
static void story_summary(struct jsummary *s, uint64_t segment, uint32_t n, bool backwards)
{
	jsummary_init(s, segment);
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = decision(backwards ? n - 1 - i : i);

		assert_int_equal(jsummary_add(s, &r), 0);
	}
}

static void test_summary_round_trip(void **state)
{
	struct jsummary a, b, back;
	struct jrecord_buf ea = { 0 }, eb = { 0 };
	char why[256];

	(void)state;
	story_summary(&a, 3, 20, false);
	story_summary(&b, 3, 20, true);
	assert_int_equal(a.decisions, 20);
	assert_int_equal(a.time_min, T0);
	assert_int_equal(a.time_max, T0 + 19 * 1000000000ull);
	assert_int_equal(a.sets[JSUMMARY_WORKLOAD].n, 2);
	/* One content, one encoding, whatever the order the values came in. */
	assert_int_equal(jsummary_encode(&a, &ea), 0);
	assert_int_equal(jsummary_encode(&b, &eb), 0);
	assert_int_equal(ea.len, eb.len);
	assert_memory_equal(ea.p, eb.p, ea.len);
	assert_int_equal(jsummary_decode(ea.p, ea.len, &back, why, sizeof(why)), 0);
	assert_int_equal(jsummary_compare(&back, &a, why, sizeof(why)), 0);
	jsummary_free(&back);
	/* A different content compares different, and says how. */
	struct journal_record extra = decision(0);

	extra.workload = "ci:other";
	assert_int_equal(jsummary_add(&b, &extra), 0);
	assert_int_equal(jsummary_compare(&a, &b, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "says 20 decisions, the segment holds 21"));
	jsummary_free(&a);
	jsummary_free(&b);
	jrecord_buf_free(&ea);
	jrecord_buf_free(&eb);
}

/* Every prefix is refused, and so is every payload bent out of the rules. */
static void test_summary_parser_refuses(void **state)
{
	struct jsummary a, back;
	struct jrecord_buf e = { 0 };
	char why[256];
	uint8_t bent[4096];
	/* version 1, segment 1, 1 decision, no gap, times 5..5, exec allow 1, then sets */
	static const uint8_t ok[] = { 1, 1, 1, 0, 5, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				      2, 1, 'w', 0, 0, 0, 0 };
	static const struct {
		const char *what;
		size_t at;
		uint8_t value;
	} bends[] = {
		{ "version", 0, 2 },      { "segment 0", 1, 0 },   { "counts", 2, 2 },
		{ "time range", 4, 6 },   { "NUL in a value", 22, 0 }, { "set count", 20, 3 },
		{ "set count cut short", 20, 0xff },
	};

	(void)state;
	assert_int_equal(jsummary_decode(ok, sizeof(ok), &back, why, sizeof(why)), 0);
	assert_int_equal(back.sets[JSUMMARY_WORKLOAD].n, 1);
	assert_false(back.sets[JSUMMARY_TARGET].kept);
	jsummary_free(&back);
	for (size_t i = 0; i < sizeof(bends) / sizeof(bends[0]); i++) {
		memcpy(bent, ok, sizeof(ok));
		bent[bends[i].at] = bends[i].value;
		assert_int_equal(jsummary_decode(bent, sizeof(ok), &back, why, sizeof(why)), -EINVAL);
	}
	/* A byte after the end. */
	memcpy(bent, ok, sizeof(ok));
	bent[sizeof(ok)] = 0;
	assert_int_equal(jsummary_decode(bent, sizeof(ok) + 1, &back, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "after its end"));

	story_summary(&a, 9, 10, false);
	assert_int_equal(jsummary_encode(&a, &e), 0);
	for (size_t n = 0; n < e.len; n++)
		assert_int_equal(jsummary_decode(e.p, n, &back, why, sizeof(why)), -EINVAL);
	/* Values out of order (or repeated) are refused: the encoding is the one a writer makes. */
	{
		static const uint8_t twice[] = { 1, 1, 2, 0, 5, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						 0, 0, 3, 1, 'w', 1, 'w', 0, 0, 0, 0 };
		static const uint8_t backwards[] = { 1, 1, 2, 0, 5, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						     0, 0, 0, 3, 1, 'x', 1, 'w', 0, 0, 0, 0 };

		assert_int_equal(jsummary_decode(twice, sizeof(twice), &back, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "not in order, or repeat"));
		assert_int_equal(jsummary_decode(backwards, sizeof(backwards), &back, why, sizeof(why)),
				 -EINVAL);
	}
	jsummary_free(&a);
	jrecord_buf_free(&e);
}

/* What a summary lets a query skip, field by field; a set too large is not kept. */
static void test_summary_may_match(void **state)
{
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *labels[] = { "team=b" }, *other[] = { "team=c" };
	struct jsummary s;

	(void)state;
	story_summary(&s, 1, 10, false); /* ci:build/alice (0..4), ci:test/bob (5..9) */
	assert_true(jsummary_may_match(&s, NULL));
	assert_true(jsummary_may_match(&s, &f));
	f.since_ns = T0 + 10 * 1000000000ull;
	assert_false(jsummary_may_match(&s, &f));
	f.since_ns = T0 + 9 * 1000000000ull;
	assert_true(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.until_ns = T0;
	assert_false(jsummary_may_match(&s, &f));
	f.until_ns = T0 + 1;
	assert_true(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.action = ACTGATE_ACTION_CONNECT;
	f.verdict = ACTGATE_VERDICT_DENY; /* the story's connects are all allowed */
	assert_false(jsummary_may_match(&s, &f));
	f.verdict = ACTGATE_VERDICT_ALLOW;
	assert_true(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.workload_glob = "ci:t*";
	assert_true(jsummary_may_match(&s, &f));
	f.workload_glob = "prod:*";
	assert_false(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.principal = "bob";
	assert_true(jsummary_may_match(&s, &f));
	f.principal = "bo";
	assert_false(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.labels = labels;
	f.n_labels = 1;
	assert_true(jsummary_may_match(&s, &f));
	f.labels = other;
	assert_false(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.rule_glob = "*open.deny*";
	assert_true(jsummary_may_match(&s, &f));
	f.rule_glob = "*connect.deny*";
	assert_false(jsummary_may_match(&s, &f));
	f = JQUERY_FILTER_ANY;
	f.target_glob = "/etc/*";
	assert_true(jsummary_may_match(&s, &f));
	f.target_glob = "/var/*";
	assert_false(jsummary_may_match(&s, &f));
	/* A connect's name is a target too (replay's filter matches either). */
	{
		struct journal_record r = decision(3);

		r.target_name = "example.org";
		assert_int_equal(jsummary_add(&s, &r), 0);
		f.target_glob = "*.org";
		assert_true(jsummary_may_match(&s, &f));
	}
	/* Past JSUMMARY_SET_MAX targets the set says nothing: no skipping on targets. */
	for (uint32_t i = 0; i <= JSUMMARY_SET_MAX; i++) {
		struct journal_record r = decision(0);
		char t[32];

		snprintf(t, sizeof(t), "/srv/%u", i);
		r.target = t;
		assert_int_equal(jsummary_add(&s, &r), 0);
	}
	assert_false(s.sets[JSUMMARY_TARGET].kept);
	f.target_glob = "/var/*";
	assert_true(jsummary_may_match(&s, &f));
	/* An empty segment never matches. */
	jsummary_free(&s);
	jsummary_init(&s, 2);
	f = JQUERY_FILTER_ANY;
	assert_false(jsummary_may_match(&s, &f));
}

/* ---- journals ---- */

/* The story in phases: workload "phase-K" writes decisions K*per .. (K+1)*per-1. */
static struct journal_record phase_decision(uint32_t i, uint32_t per, char *name, size_t size)
{
	struct journal_record r = decision(i);

	snprintf(name, size, "phase-%u", i / per);
	r.workload = name;
	return r;
}

/* The decisions replay returns for f, as JSON lines (fx->out), with or without summaries. */
static size_t query(struct fixture *fx, const struct jquery_filter *f, bool read_all,
		    struct jsource_stats *st)
{
	const char *paths[] = { fx->dir };
	struct jsource_options so = { .prefix = "test", .prefilter = f, .read_all = read_all };
	struct replay_options o = { .paths = paths, .n_paths = 1, .filter = f,
				    .output = REPLAY_JSON, .read_all = read_all };
	struct journal_record rec;
	struct jsource *src;

	assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
	while (jsource_next(src, &rec) > 0)
		;
	jsource_stats(src, st);
	jsource_close(src);
	assert_int_equal(replay(fx, &o), 0);
	return count_lines(fx->out);
}

/*
 * The sink writes a summary into every segment after the first; a query for
 * one phase skips the segments that do not hold it and prints exactly what
 * reading everything prints.
 */
static void test_sink_summaries_and_skipping(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10 };
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jsource_stats st, st_all;
	struct jsink *s;
	char *all_out;
	size_t n, n_all;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (uint32_t i = 0; i < 40000; i++) {
		char name[32], target[64];
		struct journal_record r = phase_decision(i, 10000, name, sizeof(name));

		/* Targets that repeat within a segment: most decisions define no string. */
		snprintf(target, sizeof(target), "/srv/data/file-%u", i % 300);
		r.target = target;
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	assert_int_equal(jsink_close(s), 0);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	assert_int_equal(jsummary_verify(paths, 1, &vr), 0);
	assert_true(vr.checked >= 3);
	assert_int_equal(vr.wrong, 0);
	assert_int_equal(vr.without, 0);

	f.workload_glob = "phase-2";
	/* The reference: no prefilter at all, every decision decoded and matched. */
	{
		struct jsource_options so = { .prefix = "test" };
		struct journal_record rec;
		struct jsource *src;
		size_t matched = 0, total = 0;

		assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
		while (jsource_next(src, &rec) > 0) {
			total++;
			matched += jquery_match(&f, &rec);
		}
		jsource_close(src);
		assert_int_equal(total, 40000);
		assert_int_equal(matched, 10000);
	}
	n_all = query(fx, &f, true, &st_all);
	all_out = strdup(fx->out);
	assert_int_equal(n_all, 10000);
	assert_int_equal(st_all.segments_skipped, 0);
	/* The workload was matched without decoding the others (by their string ids). */
	assert_true(st_all.prefiltered >= 25000);
	n = query(fx, &f, false, &st);
	assert_int_equal(n, 10000);
	assert_string_equal(fx->out, all_out); /* the very same records, in order */
	assert_string_equal(fx->err, "");
	assert_true(st.segments_skipped >= 2);
	/* What was skipped held no match: every decision is accounted for. */
	assert_int_equal(st.records + st.prefiltered + st.skipped,
			 st_all.records + st_all.prefiltered);
	free(all_out);

	/* A time range: the last decision's second only. */
	f = JQUERY_FILTER_ANY;
	f.since_ns = T0 + 39999ull * 1000000000ull;
	assert_int_equal(query(fx, &f, false, &st), 1);
	assert_true(st.segments_skipped >= 3);
	/* Nothing: every closed segment skipped, the newest read. */
	f.since_ns = 0;
	f.workload_glob = "nobody";
	assert_int_equal(query(fx, &f, false, &st), 0);
	assert_true(st.segments_skipped >= 3);
}

/*
 * A journal written with the store directly: segment k (from 1) holds
 * per decisions of workload "w<k>"; segment k+1 starts with the summary
 * of segment k, made from lie_workload in place of w<k> when k == lie_at.
 */
static void write_store(struct fixture *fx, uint32_t segments, uint32_t per, uint32_t lie_at,
			const char *lie_workload, uint64_t name_segment_as)
{
	struct jstore_options o;
	struct jrecord_buf b = { 0 };
	struct jstore *js;

	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_inline = true;
	assert_int_equal(jstore_key_create(fx->key), 0);
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t k = 1; k <= segments; k++) {
		struct jsummary sum;
		char name[16];

		jsummary_init(&sum, k == lie_at && name_segment_as ? name_segment_as : k);
		snprintf(name, sizeof(name), "w%u", k);
		for (uint32_t i = 0; i < per; i++) {
			struct journal_record r = decision((k - 1) * per + i);

			r.workload = name;
			assert_int_equal(jrecord_encode(&r, &b), 0);
			assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
			if (k == lie_at && lie_workload)
				r.workload = (char *)lie_workload;
			assert_int_equal(jsummary_add(&sum, &r), 0);
		}
		if (k < segments) {
			assert_int_equal(jstore_rotate(js), 0);
			if (lie_at != UINT32_MAX) {
				assert_int_equal(jsummary_encode(&sum, &b), 0);
				assert_int_equal(jstore_append(js, JSUMMARY_TYPE, b.p, b.len), 0);
			}
		}
		jsummary_free(&sum);
	}
	assert_int_equal(jstore_close(js), 0);
	jrecord_buf_free(&b);
}

/*
 * A summary that lies (segment 2 says "w9" where its decisions are "w2"):
 * the store is intact under its seals (the writer, or whoever holds the
 * key, made it so), replay trusting it would hide w2, and verify says so.
 */
static void test_lying_summary_is_caught(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jsource_stats st;

	write_store(fx, 3, 100, 2, "w9", 0);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	assert_int_equal(jsummary_verify(paths, 1, &vr), -EBADMSG);
	assert_int_equal(vr.wrong, 1);
	assert_int_equal(vr.checked, 2);
	assert_int_equal(vr.segment_seq, 3); /* the summary is in the segment after */
	assert_non_null(strstr(vr.message, "the summary of segment 2 is wrong"));
	assert_non_null(strstr(vr.message, "\"w2\""));
	/* Why verify must look: replay believes a summary that the store vouches for. */
	f.workload_glob = "w2";
	assert_int_equal(query(fx, &f, false, &st), 0);
	assert_int_equal(st.segments_skipped, 2);
	assert_int_equal(query(fx, &f, true, &st), 100);
}

/* A summary that names another segment than the headers say is ignored, reported, read. */
static void test_misplaced_summary_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jsource_stats st;

	write_store(fx, 3, 100, 2, NULL, 7);
	f.workload_glob = "w2";
	assert_int_equal(query(fx, &f, false, &st), 100);
	assert_int_equal(st.segments_skipped, 1); /* segment 1 only */
	assert_int_equal(st.summaries_ignored, 1);
	assert_non_null(strstr(fx->err, "its summary (record"));
	assert_non_null(strstr(fx->err, "names segment 7, the headers say 2 followed by 3"));
	assert_int_equal(jsummary_verify(paths, 1, &vr), -EBADMSG);
	assert_non_null(strstr(vr.message, "it names segment 7"));
}

/* A journal without summaries (an older writer) reads as before; verify counts them. */
static void test_journal_without_summaries(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jsource_stats st;

	write_store(fx, 3, 100, UINT32_MAX, NULL, 0);
	f.workload_glob = "w1";
	assert_int_equal(query(fx, &f, false, &st), 100);
	assert_int_equal(st.segments_skipped, 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(jsummary_verify(paths, 1, &vr), 0);
	assert_int_equal(vr.checked, 0);
	assert_int_equal(vr.without, 2);
}

/* The peek reads a compressed segment's header and first record from its start. */
static void test_peek(void **state)
{
	struct fixture *fx = *state;
	struct jstore_peek p;
	char path[256];

	write_store(fx, 2, 10, 0, NULL, 0);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 1);
	assert_int_equal(jstore_peek(path, &p), 0);
	assert_int_equal(p.segment_seq, 1);
	assert_int_equal(p.type, JRECORD_TYPE_DECISION); /* after the store's open record */
	free(p.payload);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg", fx->dir, 2);
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 2);
	assert_int_equal(jstore_peek(path, &p), 0);
	assert_int_equal(p.segment_seq, 2);
	assert_int_equal(p.first_record_seq, 13); /* open, 10 decisions, the closing seal */
	assert_int_equal(p.type, JSUMMARY_TYPE);
	free(p.payload);
	assert_int_equal(jstore_peek(fx->key, &p), -EBADMSG);
}

/* A summary longer than the peek's first read (8 KiB) is read whole, and used. */
static void test_peek_long_summary(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	struct jrecord_buf b = { 0 };
	struct jstore_options o;
	struct jsource_stats st;
	struct jsummary sum, back;
	struct jstore_peek p;
	struct jstore *js;
	char path[256], why[256];

	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_inline = true;
	assert_int_equal(jstore_key_create(fx->key), 0);
	assert_int_equal(jstore_open(&js, &o), 0);
	jsummary_init(&sum, 1);
	for (uint32_t i = 0; i < 200; i++) {
		struct journal_record r = decision(i);
		char target[80];

		snprintf(target, sizeof(target), "/srv/a/rather/long/path/to/make/the/summary/long/%03u", i);
		r.target = target;
		assert_int_equal(jrecord_encode(&r, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
		assert_int_equal(jsummary_add(&sum, &r), 0);
	}
	assert_int_equal(jstore_rotate(js), 0);
	assert_int_equal(jsummary_encode(&sum, &b), 0);
	assert_true(b.len > 8192);
	assert_int_equal(jstore_append(js, JSUMMARY_TYPE, b.p, b.len), 0);
	assert_int_equal(jstore_close(js), 0);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 2);
	assert_int_equal(jstore_peek(path, &p), 0);
	assert_int_equal(p.type, JSUMMARY_TYPE);
	assert_int_equal(p.len, b.len);
	assert_int_equal(jsummary_decode(p.payload, p.len, &back, why, sizeof(why)), 0);
	assert_true(back.sets[JSUMMARY_TARGET].kept);
	assert_int_equal(back.sets[JSUMMARY_TARGET].n, 200);
	free(p.payload);
	f.target_glob = "/nowhere/*";
	assert_int_equal(query(fx, &f, false, &st), 0);
	assert_int_equal(st.segments_skipped, 1);
	jsummary_free(&sum);
	jsummary_free(&back);
	jrecord_buf_free(&b);
}

/*
 * A restarted daemon summarises the segment its predecessor left last, and
 * a plain segment named by a reader that was compressed since is read from
 * its .gz.
 */
static void test_restart_summary(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jstore_reader *r;
	struct jstore_record jr;
	struct jsource_stats st;
	char path[256];
	const char *p = path;
	int n = 0;

	write_with_sink(fx, 10); /* ci:build, ci:test */
	write_with_sink(fx, 3);  /* ci:build only */
	assert_int_equal(jsummary_verify(paths, 1, &vr), 0);
	assert_int_equal(vr.checked, 1);
	assert_int_equal(vr.without, 0);
	f.workload_glob = "ci:test";
	assert_int_equal(query(fx, &f, false, &st), 5);
	f.since_ns = T0 + 10 * 1000000000ull; /* after the first run's decisions */
	f.workload_glob = NULL;
	assert_int_equal(query(fx, &f, false, &st), 0);
	assert_int_equal(st.segments_skipped, 1);

	snprintf(path, sizeof(path), "%s/journal-%016x.seg", fx->dir, 1);
	assert_int_not_equal(access(path, F_OK), 0); /* compressed by the second run */
	assert_int_equal(jstore_reader_open(&r, &p, 1, NULL), 0);
	while (jstore_read(r, &jr) > 0)
		n++;
	jstore_reader_close(r);
	assert_int_equal(n, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_round_trip),
		cmocka_unit_test(test_summary_parser_refuses),
		cmocka_unit_test(test_summary_may_match),
		cmocka_unit_test_setup_teardown(test_sink_summaries_and_skipping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lying_summary_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misplaced_summary_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_without_summaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_long_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_summary, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
