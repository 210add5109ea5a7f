/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the files of actgate replay share (replay*.c); the interface is
 * cli/replay.h. replay.c prints the table and the JSON lines and holds the
 * cell and record writers the others use; replay-stats.c counts (--stats),
 * replay-tree.c draws exec lineage (--tree), replay-whatif.c decides again
 * (--what-if).
 */
#ifndef ACTGATE_CLI_REPLAY_INTERNAL_H
#define ACTGATE_CLI_REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "journal/decision.h"
#include "util/json.h"

/*
 * Declared, not included: replay.c includes this header, and including
 * cli/replay.h here would make the two a circle.
 */
struct jsource;
struct replay_options;

/* A growable buffer reused across records, so the table costs no allocation per row. */
struct scratch {
	char *p;
	size_t len;
	size_t cap;
};

enum { W_TIME = 24, W_WORKLOAD = 16, W_PID = 7, W_ACTION = 16, W_VERDICT = 12, W_TARGET = 32 };

int replay_display_escape(struct scratch *s, const char *text, size_t *chars);
int replay_put_cell(FILE *out, struct scratch *s, const char *text, int width, bool right,
		    bool last);
void replay_format_action(const struct journal_record *rec, char *buf, size_t size);

/*
 * The target as the table shows it: with the name a connect was made for,
 * "140.82.112.3:443/tcp (github.com)"; a lookup's name. *buf is set to what
 * must be freed (NULL when nothing).
 */
const char *replay_format_target(const struct journal_record *rec, char **buf);
int replay_add_record(struct json_out *j, struct scratch *s, const struct journal_record *rec);
/* "actgate: replay: ..." for a failure to allocate or to write the output. */
void replay_report_output_error(FILE *err, int ret);
int replay_open_source(const struct replay_options *o, FILE *err, struct jsource **src);

/* The output modes after the source is open: 0 or -errno (reported). */
int replay_stats(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err);
int replay_tree(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err);

#endif /* ACTGATE_CLI_REPLAY_INTERNAL_H */
