/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's sink: decisions written, read back, continued by a restarted
 * daemon, rotated with a string table per segment; the store's workers take
 * no signal.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/source.h"
#include "journal/summary.h"
#include "test_journal.h"

static void test_sink_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct stat st;

	(void)state;
	write_with_sink(fx, 10);
	/* The key was made outside the journal, for root only. */
	assert_int_equal(stat(fx->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(json_lines(fx, NULL), 10);
	assert_non_null(strstr(fx->out,
		"{\"time\":\"2026-11-28T13:14:18.000Z\",\"time_ns\":1795871658000000000,"
		"\"action\":\"exec\",\"verdict\":\"deny\",\"enforced\":true,\"mode\":\"enforce\","
		"\"reason\":\"rule\",\"workload\":\"ci:build\",\"workload_id\":7,\"cgroup\":99,"
		"\"pid\":1001,\"tgid\":1001,\"ppid\":1000,\"uid\":1000,\"comm\":\"sh\","
		"\"target\":\"/usr/bin/curl\",\"access\":\"\",\"rule\":\"ci:exec.deny[0]\","
		"\"policy\":\"ci\",\"principal\":\"alice\",\"labels\":{\"env\":\"ci\",\"team\":\"a\"},"
		"\"generation\":1}\n"));
	assert_string_equal(fx->err, "");
	/* A second writer (the restarted daemon) continues the same journal. */
	write_with_sink(fx, 10);
	assert_int_equal(json_lines(fx, NULL), 20);
}

/* The store's worker threads block every signal: the daemon's signalfd must get them all. */
static void test_workers_take_no_signal(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct dirent *de;
	size_t others = 0;
	struct jsink *s;
	DIR *d;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long mask;

			if (sscanf(line, "SigBlk: %llx", &mask) != 1)
				continue;
			others++;
			assert_true(mask & (1ull << (SIGTERM - 1)));
			assert_true(mask & (1ull << (SIGHUP - 1)));
			assert_true(mask & (1ull << (SIGINT - 1)));
		}
		fclose(f);
	}
	closedir(d);
	assert_true(others >= 1); /* the compression worker */
	assert_int_equal(jsink_close(s), 0);
}

/* The sink rotates, and every segment defines its own strings: a segment reads alone. */
static void test_sink_rotation(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10 };
	const char *paths[1];
	struct replay_options o = { .paths = paths, .n_paths = 1, .output = REPLAY_JSON };
	char path[256];
	struct jsink *s;
	size_t lines;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (uint32_t i = 0; i < 30000; i++) {
		struct journal_record r = decision(i);
		char target[64];

		snprintf(target, sizeof(target), "/srv/file-%u", i % 3000); /* many strings */
		r.target = target;
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	assert_int_equal(jsink_close(s), 0);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 3);
	assert_int_equal(access(path, R_OK), 0); /* at least three segments */
	paths[0] = path;
	assert_int_equal(replay(fx, &o), 0);
	lines = count_lines(fx->out);
	assert_true(lines > 1000);
	assert_string_equal(fx->err, "");
	assert_null(strstr(fx->out, "<lost string"));
	assert_non_null(strstr(fx->out, "\"target\":\"/srv/file-"));
	paths[0] = fx->dir;
	assert_int_equal(json_lines(fx, NULL), 30000);
	assert_string_equal(fx->err, "");
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
}

/*
 * The disk of the store's write hook: full (every write fails with ENOSPC),
 * refusing only segment headers (a new segment cannot be started, as on a
 * disk with room for a seal but not for a new file's first block), or
 * failing the next few writes (an I/O error that passes).
 */
struct flaky_disk {
	bool full, no_headers;
	unsigned fail_next, failed;
};

static ssize_t flaky_write(void *ctx, int fd, const void *buf, size_t len)
{
	struct flaky_disk *d = ctx;

	if (d->full || (d->no_headers && len >= 8 && !memcmp(buf, "ACTGJRNL", 8))) {
		d->failed++;
		errno = ENOSPC;
		return -1;
	}
	if (d->fail_next) {
		d->fail_next--;
		d->failed++;
		errno = EIO;
		return -1;
	}
	return write(fd, buf, len);
}

/* Decision i, its texts its own: pid = i, and the texts say i (some shared by neighbours). */
struct numbered {
	char workload[32], principal[32], labels[32], rule[48], target[48];
	struct journal_record r;
};

static void numbered(uint32_t i, struct numbered *n)
{
	n->r = decision(i);
	n->r.time_ns = T0 + i;
	n->r.pid = n->r.tgid = i;
	snprintf(n->workload, sizeof(n->workload), "ci:job-%u", i / 8);
	snprintf(n->principal, sizeof(n->principal), "user-%u", i / 16);
	snprintf(n->labels, sizeof(n->labels), "team=t%u", i / 32);
	snprintf(n->rule, sizeof(n->rule), "ci:exec.deny[%u]", i % 13);
	snprintf(n->target, sizeof(n->target), "/srv/data/file-%u", i);
	n->r.workload = n->workload;
	n->r.principal = n->principal;
	n->r.labels = n->labels;
	n->r.rule = n->rule;
	n->r.target = n->target;
}

/* Decisions [first, first + count) through the sink, flushed every 64 as the daemon's drains do. */
static void append_numbered(struct jsink *s, uint32_t first, uint32_t count)
{
	for (uint32_t i = first; i < first + count; i++) {
		struct numbered n;

		numbered(i, &n);
		jsink_append(s, &n.r);
		if (i % 64 == 63)
			jsink_flush(s);
	}
	jsink_flush(s);
}

/*
 * After a failed write the string table restarts exactly with a new segment:
 * every decision read back carries its own texts (none is malformed, none
 * takes another's), and every decision attempted after recovery is there.
 */
static void test_sink_strings_after_failed_writes(void **state)
{
	struct fixture *fx = *state;
	struct flaky_disk disk = { 0 };
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10,
				    .write = flaky_write, .hook_ctx = &disk };
	const char *paths[] = { fx->dir };
	struct jsource_options so = { .prefix = "test" };
	struct jsource_stats jst;
	struct journal_record rec;
	struct jsource *src;
	uint64_t written, lost;
	/* The stretches after each recovery: all of them must read back. */
	const uint32_t after[][2] = { { 1500, 1000 }, { 13500, 1000 }, { 14600, 1900 } };
	static bool seen[16500];
	struct jsink *s;
	size_t n = 0;
	int ret;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_numbered(s, 0, 1000);
	/* The disk fills in the middle of a segment, then has room again. */
	disk.full = true;
	append_numbered(s, 1000, 500);
	disk.full = false;
	append_numbered(s, 1500, 1000);
	/* A rotation falls due while no segment can be started (~1 MB of decisions). */
	disk.no_headers = true;
	append_numbered(s, 2500, 11000);
	disk.no_headers = false;
	append_numbered(s, 13500, 1000);
	/*
	 * Two writes fail: a batch of decisions, then the seal that would close
	 * the segment; decisions go inline into it until a new one starts.
	 */
	disk.fail_next = 2;
	append_numbered(s, 14500, 2000);
	assert_int_equal(disk.fail_next, 0);
	jsink_counts(s, &written, &lost);
	assert_int_equal(written + lost, 16500);
	assert_true(lost >= 500);
	assert_int_equal(jsink_close(s), 0);

	assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
	while ((ret = jsource_next(src, &rec)) == 1) {
		struct numbered want;

		assert_true(rec.pid < 16500);
		numbered(rec.pid, &want);
		assert_int_equal(rec.time_ns, want.r.time_ns);
		assert_string_equal(rec.workload, want.workload);
		assert_string_equal(rec.principal, want.principal);
		assert_string_equal(rec.labels, want.labels);
		assert_string_equal(rec.rule, want.rule);
		assert_string_equal(rec.target, want.target);
		assert_false(seen[rec.pid]);
		seen[rec.pid] = true;
		n++;
	}
	assert_int_equal(ret, 0);
	jsource_stats(src, &jst);
	jsource_close(src);
	assert_int_equal(jst.malformed, 0);
	assert_int_equal(jst.unresolved, 0);
	assert_int_equal(n, written);
	assert_int_equal(jst.lost, lost);
	for (size_t k = 0; k < sizeof(after) / sizeof(after[0]); k++)
		for (uint32_t i = after[k][0]; i < after[k][0] + after[k][1]; i++)
			if (!seen[i])
				fail_msg("decision %u, attempted after recovery, is not in the journal", i);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	/*
	 * Every summary written among the failures is exactly its segment: none
	 * for a segment that lost records or holds a gap record, nor for one the
	 * store started with a decision the sink did not see.
	 */
	{
		struct jsummary_verify_result vr;

		assert_int_equal(jsummary_verify(paths, 1, &vr), 0);
		assert_true(vr.without >= 1);
	}
}

/*
 * Summaries around a failure: the segment that lost records gets none, and
 * so does the next (it opens with the gap record); the ones after get theirs
 * again, and every one is exactly its segment.
 */
static void test_sink_summaries_after_failure(void **state)
{
	struct fixture *fx = *state;
	struct flaky_disk disk = { 0 };
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10,
				    .write = flaky_write, .hook_ctx = &disk };
	const char *paths[] = { fx->dir };
	struct jsummary_verify_result vr;
	struct jsink *s;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_numbered(s, 0, 10000); /* two segments or so, summarised */
	disk.full = true;
	append_numbered(s, 10000, 500);
	disk.full = false;
	append_numbered(s, 10500, 20000);
	assert_int_equal(jsink_close(s), 0);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	assert_int_equal(jsummary_verify(paths, 1, &vr), 0);
	assert_true(vr.checked >= 3);
	assert_true(vr.without >= 2);
	assert_int_equal(vr.wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sink_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_take_no_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_summaries_after_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_strings_after_failed_writes, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("journal/sink", tests, NULL, NULL);
}
