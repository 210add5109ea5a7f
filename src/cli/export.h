/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate export: decisions for SIEM pipelines, one JSON object per line:
 * "jsonl" (the objects of `actgate replay --json`) or "ocsf" (OCSF 1.1
 * events: docs/journal-format.md, "Export", lists the mapping).
 */
#ifndef ACTGATE_EXPORT_H
#define ACTGATE_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/replay.h"
#include "journal/ocsf.h"

enum export_format { EXPORT_JSONL, EXPORT_OCSF };

#define EXPORT_OCSF_VERSION JOCSF_VERSION

/* Every record of o's journals that passes o->filter, to out. 0 or -errno (reported). */
int export_run(const struct replay_options *o, enum export_format format, FILE *out, FILE *err);

/* --sink: streaming export (journal/export.h). */
struct export_stream_options {
	const char *journal_dir, *sink, *cursor;
	enum export_format format;
	bool follow, overflow_given;
	unsigned long batch, queue;
	bool drop;
};

/* --batch (0), --queue (1), --overflow (2): 0 or EXIT 2 after a usage message. */
int export_stream_option(struct export_stream_options *o, int which, const char *arg);
/* Run it until caught up (not following) or SIGINT/SIGTERM. 0 or -errno (reported). */
int export_stream(const struct export_stream_options *o, FILE *err);

#endif /* ACTGATE_EXPORT_H */
