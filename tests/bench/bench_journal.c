/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The decision journal end to end, natively: real decisions (struct
 * journal_record) written through the daemon's journal sink (jsink: the
 * encoding with its per-segment string table, and the store's settings (CRC, SHA-256 chain, HMAC seals, fdatasync every 1000
 * records / 100 ms, gzip -1 of closed segments: the defaults), then read
 * back with a filter as `actgate replay` does, and decided again under a
 * candidate policy as `actgate replay --what-if` does; bytes on disk per
 * decision after compression.
 *
 * Baselines, measured in the same run on the same file system:
 *   write:   write(2) in 64 KiB chunks of the same encoded payloads (length
 *            prefixed), then fdatasync: what the bytes cost without framing,
 *            chain, seals or compression;
 *   scan:    read(2) of the journal's files as they are on disk (compressed),
 *            what it costs to merely fetch the bytes; and inflating them
 *            (zcat > /dev/null), the floor under any scan of gzip segments;
 *   what-if: the unfiltered scan (every decision decoded) without the
 *            evaluation.
 * The decisions are made before the clock starts (the kernel and the
 * daemon's enrichment make them, not the journal); encoding is timed.
 * Each figure is the best of BENCH_REPEAT runs (default 3). Never pass/fail
 * on time. BENCH_RECORDS (default 1000000), BENCH_DIR (default /tmp),
 * BENCH_KEEP=1 keeps the journal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/record.h"
#include "journal/sink.h"
#include "journal/source.h"
#include "journal/store.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"

#include "synthetic.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Decisions as the daemon has them when it journals: made beforehand (the
 * kernel and the daemon's enrichment do that, not the journal), POOL of
 * them cycled with the time moving on (POOL records are ~10 MB encoded: far
 * more than gzip's 32 KiB window, so the cycle does not help compression).
 */
#define POOL 65536
static struct journal_record pool[POOL];

static void make_pool(void)
{
	struct synthetic_rng g = SYNTHETIC_SEED;

	for (size_t i = 0; i < POOL; i++)
		synthetic_decision(&g, &pool[i], 0);
}

struct encoded {
	uint8_t *data; /* payloads back to back */
	uint32_t *off;
	size_t n, bytes;
};

static int encode_all(struct encoded *e, size_t n)
{
	struct jrecord_buf b = { 0 };
	struct jrecord_dict *d;
	uint64_t t = 1795871657000000000ull;
	size_t cap = n * 64;
	int err = 0;

	if (jrecord_dict_new(&d))
		return -ENOMEM;
	e->n = n;
	e->off = malloc((n + 1) * sizeof(*e->off));
	e->data = malloc(cap);
	if (!e->off || !e->data)
		return -ENOMEM;
	e->bytes = 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct journal_record *r = &pool[i % POOL];

		t += 1 + (i * 2654435761u) % 50000;
		r->time_ns = t;
		/* As the sink encodes them: the strings once, then by reference. */
		err = jrecord_encode_dict(r, d, &b);
		if (!err && e->bytes + b.len > cap) {
			uint8_t *bigger = realloc(e->data, cap *= 2);

			if (!bigger)
				err = -ENOMEM;
			else
				e->data = bigger;
		}
		if (!err) {
			e->off[i] = (uint32_t)e->bytes;
			memcpy(e->data + e->bytes, b.p, b.len);
			e->bytes += b.len;
		}
	}
	e->off[n] = (uint32_t)e->bytes;
	jrecord_buf_free(&b);
	jrecord_dict_free(d);
	return err;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static uint64_t dir_bytes(const char *dir)
{
	struct dirent *de;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		char path[4096];
		struct stat st;

		if (strncmp(de->d_name, "journal-", 8))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	if (d)
		closedir(d);
	return total;
}

static double baseline_write(const struct encoded *e, const char *path)
{
	static uint8_t chunk[65536];
	size_t used = 0;
	double t0 = now();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		uint32_t len = e->off[i + 1] - e->off[i];

		if (used + 2 + len > sizeof(chunk)) {
			if (write(fd, chunk, used) != (ssize_t)used)
				return -1;
			used = 0;
		}
		chunk[used++] = (uint8_t)len;
		chunk[used++] = (uint8_t)(len >> 8);
		memcpy(chunk + used, e->data + e->off[i], len);
		used += len;
	}
	if (used && write(fd, chunk, used) != (ssize_t)used)
		return -1;
	fdatasync(fd);
	close(fd);
	return now() - t0;
}

/* The daemon's path (its journal sink): encode, append, flush per batch of 256 (a drain). */
static double journal_write(size_t n, const char *dir, const char *key, bool fsync_by_count)
{
	struct jsink_config cfg = { .dir = dir, .key_path = key };
	uint64_t t = 1795871657000000000ull, written, lost;
	struct jsink *s;
	double t0;

	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (!fsync_by_count)
		cfg.fsync_every_records = UINT32_MAX;
	t0 = now();
	if (jsink_open(&s, &cfg))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct journal_record *r = &pool[i % POOL];

		t += 1 + (i * 2654435761u) % 50000;
		r->time_ns = t;
		jsink_append(s, r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	jsink_counts(s, &written, &lost);
	if (jsink_close(s) || lost)
		return -1;
	return now() - t0;
}

static double raw_read(const char *dir)
{
	static uint8_t buf[1 << 16];
	struct dirent *de;
	double t0 = now();
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		char path[4096];
		int fd;

		if (strncmp(de->d_name, "journal-", 8))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			;
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	return now() - t0;
}

/* Inflating the files and nothing else (zcat > /dev/null): the floor under any scan. */
static double inflate_only(const char *dir)
{
	static uint8_t buf[1 << 20];
	struct dirent *de;
	double t0 = now();
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		char path[4096];
		gzFile g;

		if (strncmp(de->d_name, "journal-", 8))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		g = gzopen(path, "rb");
		if (!g)
			continue;
		gzbuffer(g, 1 << 20);
		while (gzread(g, buf, sizeof(buf)) > 0)
			;
		gzclose(g);
	}
	if (d)
		closedir(d);
	return now() - t0;
}

/*
 * A scan: filtered as `actgate replay --verdict deny --workload 'ci:*'` (set
 * NULL, filtered true), every decision decoded (set NULL, filtered false), or
 * every decision decided again under set (what-if).
 */
static double scan(const char *dir, const struct policy_set *set, bool filtered, size_t *seen,
		   size_t *matched, size_t *changed)
{
	struct jquery_filter f = JQUERY_FILTER_ANY;
	struct jsource_options so = { .err = stderr, .prefix = "bench", .prefilter = &f };
	const char *paths[] = { dir };
	struct journal_record rec;
	struct jsource *src;
	double t0 = now();
	int ret;

	if (filtered) {
		f.verdict = ACTGATE_VERDICT_DENY;
		f.workload_glob = "ci:*";
	}
	*seen = *matched = *changed = 0;
	if (jsource_open(&src, paths, 1, &so))
		return -1;
	while ((ret = jsource_next(src, &rec)) > 0) {
		(*seen)++;
		if (!jquery_match(&f, &rec))
			continue;
		(*matched)++;
		if (set) {
			struct eval_result r;
			char why[256];
			enum whatif_outcome w = whatif_decide(set, &rec, &r, why, sizeof(why));

			*changed += w == WHATIF_NOW_DENIED || w == WHATIF_NOW_ALLOWED;
		}
	}
	{
		struct jsource_stats st;

		/* Those the prefilter excluded were read too, just not decoded. */
		jsource_stats(src, &st);
		*seen += st.prefiltered;
	}
	jsource_close(src);
	return ret < 0 ? -1 : now() - t0;
}

static double best(double a, double b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void row(const char *what, size_t n, double s, double base_s)
{
	printf("  %-56s %11.0f %9.2f  %8.3f s\n", what, (double)n / s, base_s / s, s);
}

static const char candidate[] =
	"apiVersion: actgate.dev/v1\n"
	"kind: Policy\n"
	"metadata: {name: candidate}\n"
	"spec:\n"
	"  selector: {workloads: [\"*\"]}\n"
	"  exec: {default: allow, deny: [/usr/bin/curl]}\n"
	"  open: {default: allow, deny: [/home/, /etc/shadow]}\n"
	"  connect: {default: deny, allow: [\"10.0.0.0/8:443\"]}\n";

int main(void)
{
	const char *env_n = getenv("BENCH_RECORDS"), *env_dir = getenv("BENCH_DIR");
	const char *env_rep = getenv("BENCH_REPEAT");
	size_t n = env_n ? strtoul(env_n, NULL, 10) : 1000000;
	int repeat = env_rep ? atoi(env_rep) : 3;
	char root[1024], dir[1100], key[1100], base[1100], pdir[1100], pfile[1200];
	double w_base = -1, w_js = -1, w_js100 = -1, r_raw = -1, r_inflate = -1, r_scan = -1,
	       r_plain = -1, r_whatif = -1;
	size_t seen = 0, matched = 0, changed = 0, wseen = 0, wmatched = 0;
	struct policy_set set = { 0 };
	struct diag_list diags = { 0 };
	struct encoded e = { 0 };
	uint64_t disk;
	FILE *f;

	if (n == 0 || repeat < 1)
		return 2;
	snprintf(root, sizeof(root), "%s/actgate-bench-journal-XXXXXX", env_dir ? env_dir : "/tmp");
	if (!mkdtemp(root))
		return 1;
	snprintf(dir, sizeof(dir), "%s/journal", root);
	snprintf(key, sizeof(key), "%s/journal.key", root);
	snprintf(base, sizeof(base), "%s/baseline.bin", root);
	snprintf(pdir, sizeof(pdir), "%s/policies", root);
	snprintf(pfile, sizeof(pfile), "%s/candidate.yaml", pdir);
	if (jstore_key_create(key) || mkdir(pdir, 0700) || !(f = fopen(pfile, "we")))
		return 1;
	fputs(candidate, f);
	fclose(f);
	if (policy_load_dir(pdir, &set, &diags)) {
		diag_print(&diags, stderr);
		return 1;
	}
	make_pool();
	if (encode_all(&e, n))
		return 1;
	for (int i = 0; i < repeat; i++) {
		size_t c;

		w_base = best(w_base, baseline_write(&e, base));
		w_js100 = best(w_js100, journal_write(n, dir, key, false));
		w_js = best(w_js, journal_write(n, dir, key, true));
		r_raw = best(r_raw, raw_read(dir));
		r_inflate = best(r_inflate, inflate_only(dir));
		r_scan = best(r_scan, scan(dir, NULL, true, &seen, &matched, &c));
		r_plain = best(r_plain, scan(dir, NULL, false, &wseen, &wmatched, &c));
		r_whatif = best(r_whatif, scan(dir, &set, false, &wseen, &wmatched, &changed));
	}
	if (w_base < 0 || w_js < 0 || w_js100 < 0 || r_raw < 0 || r_inflate < 0 || r_scan < 0 ||
	    r_plain < 0 || r_whatif < 0 || seen != n || wseen != n) {
		fprintf(stderr, "bench: a run failed (%zu of %zu records read back)\n", seen, n);
		return 1;
	}
	disk = dir_bytes(dir);
	printf("%zu decisions, %.1f bytes each encoded on average (strings by reference); best of "
	       "%d runs\n", n, (double)e.bytes / (double)n, repeat);
	printf("  %-56s %11s %9s  %10s\n", "", "records/s", "ratio", "time");
	printf("  (ratio: the baseline's time over this one's, measured in the same run)\n");
	row("baseline: write(2) of the payloads + fdatasync", n, w_base, w_base);
	row("journal write: encode, CRC, chain, seals, gzip -1,", n, w_js, w_base);
	printf("    fdatasync every 1000 records / 100 ms (the daemon's default)\n");
	row("journal write, the same with fdatasync every 100 ms only", n, w_js100, w_base);
	printf("    (actgated --fsync-every 4294967295: a power loss costs <= 100 ms of records)\n");
	row("baseline: read(2) of the journal files (compressed)", n, r_raw, r_raw);
	row("baseline: inflate the journal files (zcat), nothing more", n, r_inflate, r_inflate);
	row("replay scan, --verdict deny --workload 'ci:*'", n, r_scan, r_inflate);
	printf("    (%zu of %zu matched; ratio against the inflate)\n", matched, seen);
	row("replay scan, no filter: every decision decoded", n, r_plain, r_inflate);
	row("what-if: decode + evaluate every decision", n, r_whatif, r_plain);
	printf("    (ratio against the unfiltered scan; %zu of %zu would change)\n", changed, wseen);
	printf("  %-56s %11.1f\n", "bytes on disk per decision (gzip -1, with seals)",
	       (double)disk / (double)n);
	printf("  %-56s %11.1f\n", "MB on disk per million decisions", (double)disk / (double)n);
	if (getenv("BENCH_KEEP"))
		fprintf(stderr, "bench: kept %s\n", root);
	else
		nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	policy_set_free(&set);
	diag_list_free(&diags);
	free(e.data);
	free(e.off);
	return 0;
}
