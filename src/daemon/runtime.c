/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include "daemon/runtime.h"
#include "kernel/state.h"
#include "util/log.h"

void runtime_save(struct daemon *d)
{
	char why[1024];

	/* The names first: a state file naming a generation has its names on disk. */
	if (d->current.image.rule_count && d->names_generation != d->current.image.generation) {
		if (state_save_names(d->cfg->state_dir, &d->current.image, why, sizeof(why)))
			log_error("state", "%s: records a restarted daemon journals for generation %u "
					   "would not name their rule",
				  why, d->current.image.generation);
		else
			d->names_generation = d->current.image.generation;
	}
	if (state_save(d->cfg->state_dir, d->current.image.generation, d->next_workload_id,
		       d->dropped_seen, &d->workloads, why, sizeof(why)))
		log_error("state", "%s: a daemon restarted now would not know every workload", why);
}
