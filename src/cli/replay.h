/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay: read journals (journal/source.h) and print the decisions
 * that match a filter, as an aligned table or as one JSON object per line; or
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

#include "journal/query.h"
#include "journal/decision.h"

struct policy_set;
struct whatif_totals;

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
	const struct jquery_filter *filter; /* NULL: every record */
	enum replay_output output;
	const char *tree_workload; /* REPLAY_TREE: a workload name or glob */
	bool follow;               /* table/json: keep printing new records (journal/source.h) */
	volatile int *stop;        /* following ends when it becomes non-zero */
	bool read_all;             /* read every segment, even those summaries exclude */
};

/*
 * Print what o asks for. 0 on success, also when no record matched; -errno
 * on failure, after printing "actgate: replay: <path>: <reason>" to err.
 * Damage skipped in a journal is reported on err and does not make the
 * replay fail.
 */
int replay_execute(const struct replay_options *o, FILE *out, FILE *err);

/*
 * What-if: decide every matching record again under set and print those
 * whose verdict changes (table, or json lines), then a summary (to out; in
 * json mode a last object with "summary":true). totals gets the counts.
 * 0 (whether or not something changed), -errno as replay_execute.
 */
int replay_what_if(const struct replay_options *o, const struct policy_set *set, bool json,
		   struct whatif_totals *totals, FILE *out, FILE *err);

#endif /* ACTGATE_REPLAY_H */
