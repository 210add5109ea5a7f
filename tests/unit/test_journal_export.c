/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Streaming export to a file: killed with SIGKILL mid-stream ten times
 * while decisions are being journaled, the receiver has every decision
 * exactly once, in order; gap events where the writer lost decisions and
 * where retention removed what was not exported; the cursor's checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/stat.h>

#include "test_journal.h"
#include "test_export.h"

#define STREAM 3000

static void file_config(struct fixture *fx, struct jexport_config *c, char *out, char *cursor)
{
	static char sink[256];

	snprintf(out, 128, "%s/export.jsonl", fx->keydir);
	snprintf(cursor, 128, "%s/export.cursor", fx->keydir);
	snprintf(sink, sizeof(sink), "file:%s", out);
	jexport_config_init(c);
	c->journal_dir = fx->dir;
	c->cursor_path = cursor;
	c->sink = sink;
	c->poll_ms = 10;
	c->batch_max = 32;
}

/* Once more, not following: whatever is left, until caught up. */
static void catch_up(struct jexport_config *c)
{
	struct jexport_config last = *c;

	last.follow = false;
	assert_int_equal(wait_status(start_follower(&last)), 0);
}

static void test_export_killed_ten_times(void **state)
{
	struct fixture *fx = *state;
	char out[128], cursor[128], *text, why[256];
	struct jexport_config c;
	struct jexport_cursor cur;
	struct received r;

	file_config(fx, &c, out, cursor);
	/* Killed while it was shipping, not only before it began. */
	assert_true(stream_with_kills(fx, &c, STREAM, 10) >= 2);
	text = slurp(out, NULL);
	assert_non_null(text);
	r = check_lines(text, false, "\"pid\":", "\"seq\":");
	assert_int_equal(r.decisions, STREAM);
	assert_int_equal(r.lines, STREAM);
	assert_true(r.in_order);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(jexport_cursor_load(cursor, &cur, why, sizeof(why)), 0);
	assert_int_equal(cur.exported, STREAM);
	free(text);
}

/* The store's write hook: the disk is full while full is set. */
static ssize_t full_disk(void *ctx, int fd, const void *buf, size_t len)
{
	if (*(bool *)ctx) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, len);
}

/* Decisions the daemon could not journal: one gap event in their place, with the count. */
static void test_export_gap_record(void **state)
{
	struct fixture *fx = *state;
	bool full = false;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key, .write = full_disk,
				    .hook_ctx = &full };
	char out[128], cursor[128], *text;
	struct jexport_config c;
	struct received r;
	struct jsink *s;
	uint64_t written, lost;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_range(s, 0, 100, 10, 0);
	full = true;
	append_range(s, 100, 50, 10, 0);
	full = false;
	append_range(s, 150, 100, 10, 0);
	jsink_counts(s, &written, &lost);
	assert_int_equal(lost, 50);
	assert_int_equal(jsink_close(s), 0);
	file_config(fx, &c, out, cursor);
	catch_up(&c);
	text = slurp(out, NULL);
	r = check_lines(text, false, "\"pid\":", "\"seq\":");
	assert_int_equal(r.gaps, 1);
	assert_int_equal(r.lost, 50);
	assert_int_equal(r.first_gap_after, 99);
	assert_int_equal(r.decisions, 200);
	assert_false(r.in_order); /* 100..149 are missing: the gap says so */
	assert_non_null(strstr(text, "\"reason\":\"journal-write-failed\""));
	free(text);
}

/*
 * Segments removed by retention before they were exported: a gap event
 * naming the store records missing, then the rest, nothing twice.
 */
static void test_export_retention_gap(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 16 << 10, .retain_max_bytes = 64 << 10 };
	char out[128], cursor[128], *text;
	struct jexport_config c;
	struct received r;
	struct jsink *s;

	file_config(fx, &c, out, cursor);
	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_range(s, 0, 100, 10, 0);
	jsink_flush(s);
	catch_up(&c);
	/* Far more than retention keeps, with the exporter away. */
	append_range(s, 100, 20000, 50, 0);
	jstore_wait_compressed(jsink_store(s));
	jsink_tick(s);
	assert_int_equal(jsink_close(s), 0);
	catch_up(&c);
	text = slurp(out, NULL);
	r = check_lines(text, true, "\"pid\":", "\"seq\":");
	assert_int_equal(r.gaps, 1);
	assert_int_equal(r.first_gap_after, 99);
	assert_int_equal(r.duplicates, 0);
	assert_true(r.decisions > 100 && r.decisions < 20100);
	assert_int_equal(r.next_pid, 20100); /* the newest are all there */
	assert_non_null(strstr(text, "\"reason\":\"missing\",\"first_missing_seq\":"));
	free(text);
}

/* Streaming OCSF: journal/ocsf.h's events, gaps as Detection Findings (the lost and the missing). */
static void test_export_ocsf(void **state)
{
	struct fixture *fx = *state;
	bool full = false;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key, .write = full_disk,
				    .hook_ctx = &full };
	char out[128], cursor[128], *text, *line, *save = NULL, why[256];
	struct jexport_config c;
	struct jexport_event ev;
	struct jocsf_host host;
	struct json_doc doc;
	struct json_read_error jerr;
	size_t lines = 0, findings = 0;
	struct jsink *s;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_range(s, 0, 20, 10, 0);
	full = true;
	append_range(s, 20, 5, 5, 0);
	full = false;
	append_range(s, 25, 20, 10, 0);
	assert_int_equal(jsink_close(s), 0);
	file_config(fx, &c, out, cursor);
	c.format = JEXPORT_OCSF;
	catch_up(&c);
	text = slurp(out, NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* Every line one strict JSON object, an OCSF 1.1 event of this host. */
		assert_int_equal(json_doc_read(&doc, line, strlen(line), &jerr), 0);
		json_doc_free(&doc);
		assert_non_null(strstr(line, "\"metadata\":{\"version\":\"1.1.0\""));
		assert_non_null(strstr(line, "\"device\":{"));
		if (strstr(line, "\"class_uid\":2004")) {
			findings++;
			assert_non_null(strstr(line, "\"count\":5"));
			assert_non_null(strstr(line, "Data Loss"));
			assert_int_equal(lines, 20); /* in its place */
		}
		lines++;
	}
	assert_int_equal(lines, 41);
	assert_int_equal(findings, 1);
	free(text);
	/* Records the follower never saw: a finding of their own, strict JSON. */
	assert_int_equal(jocsf_host_read(&host, why, sizeof(why)), 0);
	assert_int_equal(jexport_event_gap(JEXPORT_OCSF, &host, 99, T0, NULL, 10, 99, "missing", &ev), 0);
	assert_int_equal(json_doc_read(&doc, ev.text, ev.len, &jerr), 0);
	json_doc_free(&doc);
	text = strndup(ev.text, ev.len);
	assert_non_null(strstr(text, "\"class_uid\":2004"));
	assert_non_null(strstr(text, "\"count\":90"));
	assert_non_null(strstr(text, "journal records 10 to 99 were never read by the exporter"));
	free(text);
	jexport_event_free(&ev);
}

/* A cursor of another sink, or not a cursor, is refused: nothing is sent. */
static void test_export_cursor_checks(void **state)
{
	struct fixture *fx = *state;
	char out[128], cursor[128], why[256];
	struct jexport_cursor cur = { .seq = 5, .segment = 1, .offset = 0 };
	struct jexport_config c;
	struct stat st;

	write_with_sink(fx, 10);
	file_config(fx, &c, out, cursor);
	snprintf(cur.sink, sizeof(cur.sink), "file:/elsewhere");
	assert_int_equal(jexport_cursor_save(cursor, &cur, why, sizeof(why)), 0);
	c.follow = false;
	assert_int_equal(jexport_run(&c), -EINVAL);
	assert_int_equal(stat(out, &st), -1);
	FILE *f = fopen(cursor, "we");
	fputs("actgate-export-cursor 1\nseq x\n", f);
	fclose(f);
	assert_int_equal(jexport_cursor_load(cursor, &cur, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 2: seq: expected a number"));
	assert_int_equal(jexport_run(&c), -EINVAL);
	/* The file sink's output cut behind its back: refused, not written on. */
	unlink(cursor);
	catch_up(&c);
	assert_int_equal(truncate(out, 10), 0);
	assert_int_equal(jexport_run(&c), -ESTALE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export_killed_ten_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_gap_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_retention_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_ocsf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_cursor_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
