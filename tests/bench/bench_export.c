/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Streaming export, natively: a journal of BENCH_RECORDS decisions (default
 * 200000) written through the daemon's sink, then
 *   scan:   every decision read and decoded (journal/source.h): the
 *           journal's own scan rate, the baseline;
 *   export: the same journal shipped by the follower (journal/export.h,
 *           not following: until caught up) to a file sink, JSONL and
 *           OCSF, a cursor saved after every batch (--batch 256, the
 *           default, and 4096): records/s as a ratio to the scan, and
 *           bytes a record exported.
 * Each figure is the best of BENCH_REPEAT runs (default 3); never
 * pass/fail on time. BENCH_DIR (default /tmp).
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/export.h"
#include "journal/sink.h"
#include "journal/source.h"

#include "synthetic.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double scan(const char *dir, size_t *n)
{
	const char *paths[] = { dir };
	struct jsource_options so = { .err = stderr, .prefix = "bench_export" };
	struct journal_record rec;
	struct jsource *src;
	double t0 = now();

	*n = 0;
	if (jsource_open(&src, paths, 1, &so))
		exit(1);
	while (jsource_next(src, &rec) > 0)
		(*n)++;
	jsource_close(src);
	return now() - t0;
}

static double export_once(const char *dir, const char *work, enum jexport_format format,
			  size_t batch, uint64_t *bytes)
{
	char out[512], cursor[512], sink[600];
	struct jexport_config c;
	struct stat st;
	double t0;

	snprintf(out, sizeof(out), "%s/export.out", work);
	snprintf(cursor, sizeof(cursor), "%s/export.cursor", work);
	snprintf(sink, sizeof(sink), "file:%s", out);
	unlink(out);
	unlink(cursor);
	jexport_config_init(&c);
	c.journal_dir = dir;
	c.cursor_path = cursor;
	c.sink = sink;
	c.format = format;
	c.follow = false;
	c.batch_max = batch;
	c.queue_max = batch * 4;
	c.err = stderr;
	t0 = now();
	if (jexport_run(&c))
		exit(1);
	t0 = now() - t0;
	*bytes = stat(out, &st) ? 0 : (uint64_t)st.st_size;
	return t0;
}

int main(void)
{
	const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
	size_t records = getenv("BENCH_RECORDS") ? strtoul(getenv("BENCH_RECORDS"), NULL, 10) : 200000;
	int repeat = getenv("BENCH_REPEAT") ? atoi(getenv("BENCH_REPEAT")) : 3;
	char work[256], dir[300], key[300];
	struct jsink *s;
	double best_scan = 1e9, t;
	size_t n = 0;
	uint64_t time_ns = 1795871657000000000ull;
	struct synthetic_rng g = SYNTHETIC_SEED;

	snprintf(work, sizeof(work), "%s/actgate-bench-export-XXXXXX", base);
	if (!mkdtemp(work)) {
		perror("bench_export: mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/journal", work);
	snprintf(key, sizeof(key), "%s/journal.key", work);
	if (jsink_open(&s, &(struct jsink_config){ .dir = dir, .key_path = key }))
		return 1;
	for (size_t i = 0; i < records; i++) {
		struct journal_record r;

		time_ns += 1 + synthetic_rnd(&g, 50000);
		synthetic_decision(&g, &r, time_ns);
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	if (jsink_close(s))
		return 1;
	for (int i = 0; i < repeat; i++) {
		t = scan(dir, &n);
		if (t < best_scan)
			best_scan = t;
	}
	printf("scan (decode every decision): %zu decisions, %.0f decisions/s (baseline 1.00)\n", n,
	       (double)n / best_scan);
	static const struct {
		const char *name;
		enum jexport_format format;
		size_t batch;
	} runs[] = {
		{ "jsonl, batch 256", JEXPORT_JSONL, 256 },
		{ "jsonl, batch 4096", JEXPORT_JSONL, 4096 },
		{ "ocsf, batch 256", JEXPORT_OCSF, 256 },
	};
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		double best = 1e9;
		uint64_t bytes = 0;

		for (int i = 0; i < repeat; i++) {
			t = export_once(dir, work, runs[k].format, runs[k].batch, &bytes);
			if (t < best)
				best = t;
		}
		printf("export to a file sink (%s, cursor synced each batch): %.0f decisions/s, "
		       "%.2f x the scan; %.0f bytes a decision exported\n",
		       runs[k].name, (double)n / best, best_scan / best, (double)bytes / (double)n);
	}
	nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
