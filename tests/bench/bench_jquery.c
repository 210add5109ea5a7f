/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Journal queries, natively: a day of a fleet (tests/bench/synthetic.h:
 * 100 workloads running as jobs, three at a time) of BENCH_RECORDS
 * decisions (default 10,000,000) written through the daemon's sink with
 * its defaults (16 MiB segments, gzip -1, a summary per closed segment),
 * then read as `actgate replay` reads it (journal/source.h, the filter
 * applied to what comes back):
 *
 *   full scan:        every decision decoded, no filter (the baseline);
 *   filtered scans:   one workload among 100 (--workload), one hour of the
 *                     day (--since/--until), reading every segment
 *                     (--no-summaries); and a --target glob, which the
 *                     prefilter cannot apply (every decision decoded);
 *   selective:        the same two queries with the segment summaries.
 *
 * Reported: records/s of each scan over the whole journal, and each
 * selective query as a ratio to the full scan and to the same query
 * reading every segment. Each figure is the best of BENCH_REPEAT runs
 * (default 3); never pass/fail on time. BENCH_DIR (default /tmp),
 * BENCH_KEEP=1 keeps the journal.
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

#include "journal/query.h"
#include "journal/sink.h"
#include "journal/source.h"
#include "journal/store.h"

#include "synthetic.h"

#define DAY_START 1795824000000000000ull /* 2026-11-28T00:00:00Z */
#define HOUR_NS (3600ull * 1000000000ull)

/*
 * CPU time of the reading thread, not the wall clock: the machines these
 * run on are shared (a load of several per core is usual), and a query is
 * one thread reading files the page cache holds.
 */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static int write_day(const char *dir, const char *key, uint64_t n)
{
	struct synthetic_rng g = SYNTHETIC_SEED;
	struct synthetic_fleet *fleet = malloc(sizeof(*fleet));
	struct jsink_config cfg = { .dir = dir, .key_path = key };
	uint64_t written, lost;
	struct jsink *s;

	if (!fleet || jsink_open(&s, &cfg))
		return -1;
	synthetic_fleet_init(fleet);
	for (uint64_t i = 0; i < n; i++) {
		struct journal_record r;

		synthetic_fleet_decision(&g, fleet, &r, i, n, DAY_START);
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	jsink_counts(s, &written, &lost);
	free(fleet);
	if (jsink_close(s) || lost)
		return -1;
	return 0;
}

struct run {
	double s;
	uint64_t matched, segments_skipped, skipped, read;
};

/* One query as replay runs it: f as the prefilter, then applied to each decision. */
static int query(const char *dir, const struct jquery_filter *f, bool read_all, struct run *out)
{
	const char *paths[] = { dir };
	struct jsource_options so = { .err = stderr, .prefix = "bench_jquery", .prefilter = f,
				      .read_all = read_all };
	struct journal_record rec;
	struct jsource_stats st;
	struct jsource *src;
	struct run r = { 0 };
	double t0 = cpu_now();
	int ret;

	if (jsource_open(&src, paths, 1, &so))
		return -1;
	while ((ret = jsource_next(src, &rec)) > 0)
		r.matched += jquery_match(f, &rec);
	jsource_stats(src, &st);
	jsource_close(src);
	if (ret < 0)
		return -1;
	r.s = cpu_now() - t0;
	r.segments_skipped = st.segments_skipped;
	r.skipped = st.skipped;
	r.read = st.records + st.prefiltered;
	if (!out->s || r.s < out->s)
		*out = r;
	return 0;
}

int main(void)
{
	const char *env_n = getenv("BENCH_RECORDS"), *env_dir = getenv("BENCH_DIR");
	const char *env_rep = getenv("BENCH_REPEAT");
	uint64_t n = env_n ? strtoull(env_n, NULL, 10) : 10000000;
	int repeat = env_rep ? atoi(env_rep) : 3;
	char root[1024], dir[1100], key[1100];
	struct jquery_filter any = JQUERY_FILTER_ANY, wl = JQUERY_FILTER_ANY, hour = JQUERY_FILTER_ANY,
			     tg = JQUERY_FILTER_ANY;
	struct run full = { 0 }, wl_all = { 0 }, wl_sum = { 0 }, hour_all = { 0 }, hour_sum = { 0 },
		   tg_all = { 0 };
	double t0, t_write;

	if (n < 100 || repeat < 1)
		return 2;
	snprintf(root, sizeof(root), "%s/actgate-bench-jquery-XXXXXX", env_dir ? env_dir : "/tmp");
	if (!mkdtemp(root))
		return 1;
	snprintf(dir, sizeof(dir), "%s/journal", root);
	snprintf(key, sizeof(key), "%s/journal.key", root);
	if (jstore_key_create(key))
		return 1;
	t0 = now();
	if (write_day(dir, key, n)) {
		fprintf(stderr, "bench_jquery: writing the journal failed\n");
		return 1;
	}
	t_write = now() - t0;
	wl.workload_glob = "ci:job-042";
	hour.since_ns = DAY_START + 14 * HOUR_NS; /* 14:00 to 15:00 */
	hour.until_ns = DAY_START + 15 * HOUR_NS;
	tg.target_glob = "/etc/*"; /* a filter the prefilter cannot apply: every decision decoded */
	for (int i = 0; i < repeat; i++) {
		if (query(dir, &any, true, &full) || query(dir, &wl, true, &wl_all) ||
		    query(dir, &wl, false, &wl_sum) || query(dir, &hour, true, &hour_all) ||
		    query(dir, &hour, false, &hour_sum) || query(dir, &tg, true, &tg_all)) {
			fprintf(stderr, "bench_jquery: a query failed\n");
			return 1;
		}
	}
	/* The same answers with and without summaries, or the figures mean nothing. */
	if (full.matched != n || wl_sum.matched != wl_all.matched ||
	    hour_sum.matched != hour_all.matched || !wl_all.matched || !hour_all.matched) {
		fprintf(stderr, "bench_jquery: answers differ (%llu/%llu, %llu/%llu)\n",
			(unsigned long long)wl_sum.matched, (unsigned long long)wl_all.matched,
			(unsigned long long)hour_sum.matched, (unsigned long long)hour_all.matched);
		return 1;
	}
	printf("%llu decisions over one day, 100 workloads (three at a time), written through the "
	       "sink in %.1f s; best of %d runs\n", (unsigned long long)n, t_write, repeat);
	printf("  %-50s %10s %12s %9s %9s\n", "", "time", "records/s", "vs full", "vs all");
	printf("  %-50s %8.3f s %12.0f %9s %9s\n", "full scan: every decision decoded", full.s,
	       (double)n / full.s, "1.00", "");
	printf("  %-50s %8.3f s %12.0f %8.2fx %9s\n", "--target '/etc/*', every segment read",
	       tg_all.s, (double)n / tg_all.s, full.s / tg_all.s, "");
	printf("  %-50s %8.3f s %12.0f %8.2fx %9s\n", "--workload ci:job-042, every segment read",
	       wl_all.s, (double)n / wl_all.s, full.s / wl_all.s, "1.00");
	printf("  %-50s %8.3f s %12.0f %8.2fx %8.2fx\n", "--workload ci:job-042, with summaries",
	       wl_sum.s, (double)n / wl_sum.s, full.s / wl_sum.s, wl_all.s / wl_sum.s);
	printf("    (%llu matched; %llu segments skipped holding %llu decisions, %llu read)\n",
	       (unsigned long long)wl_sum.matched, (unsigned long long)wl_sum.segments_skipped,
	       (unsigned long long)wl_sum.skipped, (unsigned long long)wl_sum.read);
	printf("  %-50s %8.3f s %12.0f %8.2fx %9s\n", "one hour (14:00-15:00), every segment read",
	       hour_all.s, (double)n / hour_all.s, full.s / hour_all.s, "1.00");
	printf("  %-50s %8.3f s %12.0f %8.2fx %8.2fx\n", "one hour (14:00-15:00), with summaries",
	       hour_sum.s, (double)n / hour_sum.s, full.s / hour_sum.s, hour_all.s / hour_sum.s);
	printf("    (%llu matched; %llu segments skipped holding %llu decisions, %llu read)\n",
	       (unsigned long long)hour_sum.matched, (unsigned long long)hour_sum.segments_skipped,
	       (unsigned long long)hour_sum.skipped, (unsigned long long)hour_sum.read);
	printf("  (time: the reading thread's CPU time, the files in the page cache; records/s: the "
	       "journal's decisions over it; vs full: the full scan's time "
	       "over this one's; vs all: the same query reading every segment)\n");
	/* For tests/bench/report.sh: results.md and .json. */
	printf("BENCHJ|records|%llu\n", (unsigned long long)n);
	printf("BENCHJ|full_scan_rps|%.0f\n", (double)n / full.s);
	printf("BENCHJ|filtered_scan_rps|%.0f\n", (double)n / wl_all.s);
	printf("BENCHJ|decoded_filtered_scan_rps|%.0f\n", (double)n / tg_all.s);
	printf("BENCHJ|workload_vs_full|%.2f\n", full.s / wl_sum.s);
	printf("BENCHJ|workload_vs_all|%.2f\n", wl_all.s / wl_sum.s);
	printf("BENCHJ|hour_vs_full|%.2f\n", full.s / hour_sum.s);
	printf("BENCHJ|hour_vs_all|%.2f\n", hour_all.s / hour_sum.s);
	if (getenv("BENCH_KEEP"))
		fprintf(stderr, "bench_jquery: kept %s\n", root);
	else
		nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
