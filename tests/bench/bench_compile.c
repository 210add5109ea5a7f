/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy compile time as the rule count grows, natively. Reports seconds
 * and the cost per rule as a ratio to the smallest size measured in the
 * same run (the baseline): a ratio near 1 means the compiler scales
 * linearly (or n log n). Never pass/fail on time.
 *
 * Two shapes, each for path (open) and connect rules:
 * - "set": the rules spread over policy files of 1000 rules each, every
 *   policy selecting the one workload: parse, policy_compile (rule ids,
 *   paths, each policy checked alone) and the workload's effective policy,
 *   the composition of all of them;
 * - "one": the same rules in ONE policy (moved together after parsing, as a
 *   file holds at most 1 MiB): policy_compile and the effective policy.
 *
 * Paths are resolved by a fake resolver (one inode per path), so the figures
 * are the compiler's own, not the file system's.
 *
 * Each size runs in a child process, whose peak resident size (getrusage)
 * is what the daemon's policy load costs in memory at that size: the
 * policy text, the parsed set and the compiled image at once.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"

static int fake_resolve(const char *path, struct resolved_path *out, void *ctx)
{
	uint64_t h = 1469598103934665603ULL;

	(void)ctx;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	out->dev = 8;
	out->ino = h;
	out->type = S_IFDIR;
	return 0;
}

/* Rules per policy file: a file is at most 1 MiB, so large sets span files. */
#define RULES_PER_FILE 1000

/* Policy file number f, holding rules [first, first + n) of one kind, selecting "w". */
static char *make_policy(const char *kind, size_t f, size_t first, size_t n, size_t *len)
{
	size_t cap = 256 + n * 48, off = 0;
	char *text = malloc(cap);

	if (!text)
		return NULL;
	off += (size_t)snprintf(text + off, cap - off,
				"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: big%zu}\n"
				"spec:\n  selector: {workloads: [w]}\n",
				f);
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

/* Move every rule of policies 1.. into policy 0, renumbered; they keep no rules. */
static int merge_into_first(struct policy_set *set)
{
	struct policy *p0 = &set->policies[0];
	size_t paths = 0, nets = 0;
	struct path_rule *pr;
	struct net_rule *nr;

	for (size_t i = 0; i < set->count; i++) {
		paths += set->policies[i].open.count;
		nets += set->policies[i].connect.count;
	}
	pr = realloc(p0->open.rules, (paths ? paths : 1) * sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	p0->open.rules = pr;
	nr = realloc(p0->connect.rules, (nets ? nets : 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	p0->connect.rules = nr;
	for (size_t i = 1; i < set->count; i++) {
		struct policy *p = &set->policies[i];

		for (size_t k = 0; k < p->open.count; k++) {
			pr[p0->open.count] = p->open.rules[k];
			pr[p0->open.count].index = (unsigned)p0->open.count;
			p0->open.count++;
		}
		for (size_t k = 0; k < p->connect.count; k++) {
			nr[p0->connect.count] = p->connect.rules[k];
			nr[p0->connect.count].index = (unsigned)p0->connect.count;
			p0->connect.count++;
		}
		p->open.count = 0;
		p->connect.count = 0;
	}
	/* Only the first policy selects the workload now. */
	set->count = 1;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds to compile n rules (and to parse them, unless one); negative on failure. */
static double measure(const char *kind, bool one, size_t n, size_t *entries)
{
	static const struct workload_identity id = { .name = "w" };
	struct policy_set set = { 0 };
	struct policy_image img = { 0 };
	struct diag_list diags = { 0 };
	struct policy_selection *sel = NULL;
	size_t files = (n + RULES_PER_FILE - 1) / RULES_PER_FILE, count = 0, index = 0, kept = 0;
	char **texts = calloc(files, sizeof(*texts));
	size_t *lens = calloc(files, sizeof(*lens));
	double t0 = 0, t = -1;
	bool ok = texts && lens, added;

	/* Build the text first: only parsing and compiling are timed. */
	for (size_t f = 0; ok && f < files; f++) {
		texts[f] = make_policy(kind, f, f * RULES_PER_FILE, RULES_PER_FILE, &lens[f]);
		ok = texts[f] != NULL;
	}
	if (!one)
		t0 = now();
	for (size_t f = 0; ok && f < files; f++)
		ok = policy_parse_buffer("bench.yaml", texts[f], lens[f], &set, &diags) == 0;
	if (ok && one) {
		kept = set.count;
		ok = merge_into_first(&set) == 0;
		t0 = now();
	}
	ok = ok && policy_compile(&set, 1, fake_resolve, NULL, &img, &diags) == 0 &&
	     policy_selection_of(&set, &id, NULL, &sel, &count) == 0 &&
	     policy_image_effective(&img, sel, count, &index, &added, &diags) == 0;
	if (ok) {
		t = now() - t0;
		*entries = img.policies[index].path_count + img.policies[index].net_count;
	} else {
		diag_print(&diags, stderr);
	}
	free(sel);
	policy_image_free(&img);
	if (kept)
		set.count = kept; /* free the emptied policies too */
	policy_set_free(&set);
	diag_list_free(&diags);
	for (size_t f = 0; texts && f < files; f++)
		free(texts[f]);
	free(texts);
	free(lens);
	return t;
}

/*
 * measure() in a child: its seconds, entries and peak RSS (KiB) come back
 * through a pipe. Negative seconds on failure.
 */
static double measure_child(const char *kind, bool one, size_t n, size_t *entries, long *rss_kib)
{
	struct { double t; size_t entries; long rss; } r = { -1, 0, 0 };
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rusage ru;

		close(fds[0]);
		r.t = measure(kind, one, n, &r.entries);
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			r.rss = ru.ru_maxrss;
		_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		r.t = -1;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		r.t = -1;
	*entries = r.entries;
	*rss_kib = r.rss;
	return r.t;
}

int main(void)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };
	static const char *const kinds[] = { "path", "connect" };

	printf("%-8s %-4s %8s %8s %10s %10s %8s %9s\n", "rules", "set", "count", "entries", "seconds",
	       "us/rule", "ratio", "peak MiB");
	for (size_t k = 0; k < 2; k++) {
		for (int one = 0; one < 2; one++) {
			double base = 0;

			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				size_t entries = 0;
				long rss = 0;
				double t = measure_child(kinds[k], one, sizes[i], &entries, &rss);
				double per_rule = t / (double)sizes[i];

				if (t < 0) {
					fprintf(stderr, "bench: %s x %zu failed\n", kinds[k], sizes[i]);
					return 1;
				}
				if (i == 0)
					base = per_rule;
				printf("%-8s %-4s %8zu %8zu %10.3f %10.2f %8.2f %9.1f\n", kinds[k],
				       one ? "one" : "set", sizes[i], entries, t, per_rule * 1e6,
				       per_rule / base, (double)rss / 1024);
			}
		}
	}
	return 0;
}
