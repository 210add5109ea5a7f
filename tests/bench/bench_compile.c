/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy parse + compile time as the rule count grows, natively. Reports
 * seconds and the cost per rule as a ratio to the smallest size measured in
 * the same run (the baseline): a ratio near 1 means the compiler scales
 * linearly (or n log n). Never pass/fail on time.
 *
 * Paths are resolved by a fake resolver (one inode per path), so the figures
 * are the compiler's own, not the file system's.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "diag.h"
#include "policy.h"

static int fake_resolve(const char *path, uint32_t *dev, uint64_t *ino, int *is_dir, void *ctx)
{
	uint64_t h = 1469598103934665603ULL;

	(void)ctx;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	*dev = 8;
	*ino = h;
	*is_dir = 1;
	return 0;
}

/* Rules per policy file: a file is at most 1 MiB, so large sets span files. */
#define RULES_PER_FILE 1000

/* Policy file number f of a set, holding rules [first, first + n) of one kind. */
static char *make_policy(const char *kind, size_t f, size_t first, size_t n, size_t *len)
{
	size_t cap = 256 + n * 48, off = 0;
	char *text = malloc(cap);

	if (!text)
		return NULL;
	off += (size_t)snprintf(text + off, cap - off,
				"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: big%zu}\n"
				"spec:\n  selector: {workloads: [\"w%zu\"]}\n",
				f, f);
	if (strcmp(kind, "path") == 0) {
		off += (size_t)snprintf(text + off, cap - off, "  open:\n    deny:\n");
		for (size_t i = first; i < first + n; i++)
			off += (size_t)snprintf(text + off, cap - off, "      - /srv/d%zu/f%zu%s\n",
						i % 997, i, i % 3 ? "" : "/");
	} else {
		off += (size_t)snprintf(text + off, cap - off, "  connect:\n    allow:\n");
		for (size_t i = first; i < first + n; i++)
			off += (size_t)snprintf(text + off, cap - off, "      - \"10.%zu.%zu.%zu:%zu\"\n",
						(i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff,
						1 + i % 65000);
	}
	*len = off;
	return text;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds to parse and compile n rules; negative on failure. */
static double measure(const char *kind, size_t n)
{
	struct policy_set set = { 0 };
	struct policy_image img = { 0 };
	struct diag_list diags = { 0 };
	size_t files = (n + RULES_PER_FILE - 1) / RULES_PER_FILE;
	char **texts = calloc(files, sizeof(*texts));
	size_t *lens = calloc(files, sizeof(*lens));
	double t0, t = -1;
	int ok = texts && lens;

	/* Build the text first: only parsing and compiling are timed. */
	for (size_t f = 0; ok && f < files; f++) {
		texts[f] = make_policy(kind, f, f * RULES_PER_FILE, RULES_PER_FILE, &lens[f]);
		ok = texts[f] != NULL;
	}
	t0 = now();
	for (size_t f = 0; ok && f < files; f++)
		ok = policy_parse_buffer("bench.yaml", texts[f], lens[f], &set, &diags) == 0;
	if (ok && policy_compile(&set, 1, fake_resolve, NULL, &img, &diags) == 0)
		t = now() - t0;
	else
		diag_print(&diags, stderr);
	policy_image_free(&img);
	policy_set_free(&set);
	diag_list_free(&diags);
	for (size_t f = 0; texts && f < files; f++)
		free(texts[f]);
	free(texts);
	free(lens);
	return t;
}

int main(void)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };
	static const char *const kinds[] = { "path", "connect" };

	printf("%-8s %8s %10s %14s %8s\n", "rules", "count", "seconds", "us/rule", "ratio");
	for (size_t k = 0; k < 2; k++) {
		double base = 0;

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			double t = measure(kinds[k], sizes[i]);
			double per_rule = t / (double)sizes[i];

			if (t < 0) {
				fprintf(stderr, "bench: %s x %zu failed\n", kinds[k], sizes[i]);
				return 1;
			}
			if (i == 0)
				base = per_rule;
			printf("%-8s %8zu %10.3f %14.2f %8.2f\n", kinds[k], sizes[i], t, per_rule * 1e6,
			       per_rule / base);
		}
	}
	return 0;
}
