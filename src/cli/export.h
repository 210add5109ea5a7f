/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate export: decisions for SIEM pipelines, one JSON object per line:
 * "jsonl" (the objects of `actgate replay --json`) or "ocsf" (OCSF 1.1
 * events: docs/journal-format.md, "Export", lists the mapping).
 */
#ifndef ACTGATE_EXPORT_H
#define ACTGATE_EXPORT_H

#include <stdio.h>

#include "cli/replay.h"
#include "journal/ocsf.h"

enum export_format { EXPORT_JSONL, EXPORT_OCSF };

#define EXPORT_OCSF_VERSION JOCSF_VERSION

/* Every record of o's journals that passes o->filter, to out. 0 or -errno (reported). */
int export_run(const struct replay_options *o, enum export_format format, FILE *out, FILE *err);

#endif /* ACTGATE_EXPORT_H */
