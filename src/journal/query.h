/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Questions asked of a journal: which decisions pass a filter, and the times
 * that bound it (parsed from a command line, printed in RFC 3339). Readers
 * (source.c's prefilter), replay, export and what-if share these so that one
 * filter means the same everywhere.
 */
#ifndef ACTGATE_JOURNAL_QUERY_H
#define ACTGATE_JOURNAL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/decision.h"

struct jquery_filter {
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
#define JQUERY_FILTER_ANY ((struct jquery_filter){ .action = -1, .verdict = -1, .pid = -1 })

/* Does rec pass f? A NULL filter passes everything. */
bool jquery_match(const struct jquery_filter *f, const struct journal_record *rec);

/* Is "key=value" among labels ("k=v,k=v"; a repeated key keeps its first value)? */
bool jquery_labels_have(const char *labels, const char *want);

/* RFC 3339 UTC with milliseconds, e.g. "2026-11-28T13:14:17.123Z" (truncated, not rounded). */
#define JQUERY_TIME_SIZE 32
void jquery_format_time(uint64_t time_ns, char buf[JQUERY_TIME_SIZE]);

/*
 * A time on the command line: RFC 3339 ("2026-11-28T13:14:17Z",
 * "2026-11-28T13:14:17.5+01:00", 't'/'z' or a space also accepted), a date
 * ("2026-11-28", midnight UTC), or a duration back from now_ns ("2h",
 * "30m", "90s", "1d": duration.h). 0 with *ns, or -EINVAL with why.
 */
int jquery_parse_time(const char *text, uint64_t now_ns, uint64_t *ns, char *why, size_t why_size);

#endif /* ACTGATE_JOURNAL_QUERY_H */
