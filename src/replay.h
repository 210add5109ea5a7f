/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay: read journals (jsource.h) and print the decisions that
 * match a filter, as an aligned table or as one JSON object per line; or
 * count them (--stats), draw a workload's exec lineage (--tree), or decide
 * them again under candidate policies (--what-if). Table, JSON and what-if
 * stream: memory use does not grow with the journal (stats grow with the
 * number of distinct workloads, the tree with the workload's processes).
 */
#ifndef ACTGATE_REPLAY_H
#define ACTGATE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal.h"

struct policy_set;
struct whatif_totals;

struct replay_filter {
	const char *workload_glob; /* fnmatch(3) pattern on the workload name; NULL: any */
	int action;                /* enum actgate_action; -1: any */
	int verdict;               /* enum actgate_verdict; -1: any */
	uint64_t since_ns;         /* time_ns >= since_ns (0: no bound) */
	uint64_t until_ns;         /* time_ns < until_ns (0: no bound) */
	const char *principal;     /* exactly this principal; NULL: any */
	const char *const *labels; /* each "K=V" must be among the record's labels */
	size_t n_labels;
	const char *rule_glob;     /* fnmatch(3) on the rule name */
	const char *target_glob;   /* fnmatch(3) on the target ('*' matches '/' too) */
	int64_t pid;               /* the thread id or the process id; -1: any */
};

/* A filter that matches every record. */
#define REPLAY_FILTER_ANY ((struct replay_filter){ .action = -1, .verdict = -1, .pid = -1 })

/* Does rec pass f? A NULL filter passes everything. */
bool replay_filter_match(const struct replay_filter *f, const struct journal_record *rec);

enum replay_output {
	REPLAY_TABLE = 0,
	REPLAY_JSON,
	REPLAY_STATS,      /* counts by workload x action x verdict (json: one object a row) */
	REPLAY_STATS_JSON,
	REPLAY_TREE,       /* exec lineage of tree_workload */
};

struct replay_options {
	const char *const *paths; /* journal directories or files */
	size_t n_paths;
	const struct replay_filter *filter; /* NULL: every record */
	enum replay_output output;
	const char *tree_workload; /* REPLAY_TREE: a workload name or glob */
	bool follow;               /* table/json: keep printing new records (see jsource.h) */
	volatile int *stop;        /* following ends when it becomes non-zero */
};

/*
 * Print what o asks for. 0 on success, also when no record matched; -errno
 * on failure, after printing "actgate: replay: <path>: <reason>" to err.
 * Damage skipped in a journal is reported on err and does not make the
 * replay fail.
 */
int replay_execute(const struct replay_options *o, FILE *out, FILE *err);

/* The version-0 interface: one journal, table or JSON. */
int replay_run(const char *journal_path, const struct replay_filter *f, bool json, FILE *out,
	       FILE *err);

/*
 * What-if: decide every matching record again under set and print those
 * whose verdict changes (table, or json lines), then a summary (to out; in
 * json mode a last object with "summary":true). totals gets the counts.
 * 0 (whether or not something changed), -errno as replay_execute.
 */
int replay_what_if(const struct replay_options *o, const struct policy_set *set, bool json,
		   struct whatif_totals *totals, FILE *out, FILE *err);

/* RFC 3339 UTC with milliseconds, e.g. "2026-11-28T13:14:17.123Z" (truncated, not rounded). */
#define REPLAY_TIME_SIZE 32
void replay_format_time(uint64_t time_ns, char buf[REPLAY_TIME_SIZE]);

/*
 * A time on the command line: RFC 3339 ("2026-11-28T13:14:17Z",
 * "2026-11-28T13:14:17.5+01:00", 't'/'z' or a space also accepted), a date
 * ("2026-11-28", midnight UTC), or a duration back from now_ns ("2h",
 * "30m", "90s", "1d": duration.h). 0 with *ns, or -EINVAL with why.
 */
int replay_parse_time(const char *text, uint64_t now_ns, uint64_t *ns, char *why, size_t why_size);

#endif /* ACTGATE_REPLAY_H */
