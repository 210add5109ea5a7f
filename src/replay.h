/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay: read a journal and print the decisions that match a filter,
 * as an aligned table or as one JSON object per line. Streams: memory use does
 * not grow with the journal.
 */
#ifndef ACTGATE_REPLAY_H
#define ACTGATE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal.h"

struct replay_filter {
	const char *workload_glob; /* fnmatch(3) pattern on the workload name; NULL: any */
	int action;                /* enum actgate_action; -1: any */
	int verdict;               /* enum actgate_verdict; -1: any */
};

/* A filter that matches every record. */
#define REPLAY_FILTER_ANY ((struct replay_filter){ .workload_glob = NULL, .action = -1, .verdict = -1 })

/* Does rec pass f? A NULL filter passes everything. */
bool replay_filter_match(const struct replay_filter *f, const struct journal_record *rec);

/*
 * Print the records of the journal at journal_path (a file or a directory)
 * that pass f, to out: a table with a header, or with json one object per
 * line (field names in docs/journal-format.md). 0 on success, also when no
 * record matched; -errno on failure, after printing
 * "actgate: replay: <path>: <reason>" to err. Skipped journal lines are
 * reported on err too, and do not make the replay fail.
 */
int replay_run(const char *journal_path, const struct replay_filter *f, bool json, FILE *out,
	       FILE *err);

/* RFC 3339 UTC with milliseconds, e.g. "2026-11-28T13:14:17.123Z" (truncated, not rounded). */
#define REPLAY_TIME_SIZE 32
void replay_format_time(uint64_t time_ns, char buf[REPLAY_TIME_SIZE]);

#endif /* ACTGATE_REPLAY_H */
