/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/adopt.h"
#include "daemon/generation.h"
#include "daemon/records.h"
#include "daemon/workloads.h"
#include "identity/cgroup.h"
#include "journal/sink.h"
#include "kernel/state.h"
#include "util/log.h"

/*
 * Is workload w still what the state file says: its cgroup there, with the
 * same id (a cgroup removed and made again under the same path is another
 * one)? And does the kernel still govern it?
 */
static bool workload_alive(const struct daemon *d, const struct workload *w,
			   const uint64_t *kernel_ids, size_t kernel_count)
{
	char fs_path[PATH_MAX];
	uint64_t id = 0;
	bool in_kernel = false;

	for (size_t i = 0; i < kernel_count; i++)
		in_kernel |= kernel_ids[i] == w->cgroup_id;
	return in_kernel && !workloads_cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) &&
	       !cgroup_id_at(fs_path, &id) && id == w->cgroup_id;
}

/*
 * Reconcile the kernel's workloads with the state: a workload whose cgroup
 * went while no daemon ran is swept; a kernel entry the state does not know
 * (a daemon killed between registering a workload and saving it, before its
 * `actgate run` got an answer, so before anything ran in it) goes too.
 */
static int reconcile_workloads(struct daemon *d)
{
	uint64_t *ids = NULL;
	size_t count = 0;
	int err = enforcer_workload_cgroups(&d->enforcer, &ids, &count);

	if (err) {
		log_error("bpf", "cannot list the adopted workloads: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < d->workloads.count;) {
		struct workload *w = &d->workloads.items[i];

		if (workload_alive(d, w, ids, count)) {
			i++;
			continue;
		}
		log_info("state", "workload %s (id %llu): its cgroup %s went while no daemon ran; "
				  "removed",
			 w->name, (unsigned long long)w->id, w->cgroup_path);
		enforcer_remove_workload(&d->enforcer, w->cgroup_id);
		workload_table_remove(&d->workloads, w);
	}
	for (size_t k = 0; k < count; k++) {
		bool known = false;

		for (size_t i = 0; i < d->workloads.count; i++)
			known |= d->workloads.items[i].cgroup_id == ids[k];
		if (known)
			continue;
		log_warn("state", "cgroup %llu is governed in the kernel but not in the state file; "
				  "removed",
			 (unsigned long long)ids[k]);
		enforcer_remove_workload(&d->enforcer, ids[k]);
	}
	free(ids);
	return 0;
}

int adopt_pins(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	struct daemon_state st;
	uint64_t now[ACTGATE_NR_ACTIONS] = { 0 };
	uint64_t written_before = 0, written = 0, lost = 0;
	char why[1024], *report = NULL;
	long purged;
	int err;

	err = state_load(cfg->state_dir, &st, why, sizeof(why));
	if (err) {
		log_error("state", "%s. The pins at %s keep enforcing what they held, unjournaled. "
				   "%s; or stop enforcement with `actgate detach --pin-dir %s`",
			  why, cfg->pin_dir,
			  err == -ENOENT ? "Start actgated with the --state-dir the pins were made with"
					 : "Repair or restore the file",
			  cfg->pin_dir);
		return err;
	}
	err = state_load_names(cfg->state_dir, &d->adopted_names, why, sizeof(why));
	if (!err && d->adopted_names.generation != st.generation) {
		snprintf(why, sizeof(why), "the names file is of generation %u",
			 d->adopted_names.generation);
		rule_names_free(&d->adopted_names);
		err = -ESTALE;
	}
	if (err)
		log_warn("state", "%s: records of generation %u journaled now do not name their rule",
			 why, st.generation);
	workload_table_free(&d->workloads);
	d->workloads = st.workloads;
	d->next_workload_id = st.next_workload_id;
	memcpy(d->dropped_seen, st.dropped, sizeof(d->dropped_seen));
	/* The generation the maps hold; its image died with the previous daemon. */
	generation_free(&d->current);
	d->current.image.generation = st.generation;
	log_info("state", "adopting %s: generation %u, %zu workloads", cfg->pin_dir, st.generation,
		 d->workloads.count);

	/* What the kernel recorded while no daemon ran, named by the adopted workloads. */
	jsink_counts(d->journal, &written_before, &lost);
	records_drain(d);
	jsink_counts(d->journal, &written, &lost);
	if (!enforcer_dropped(&d->enforcer, now)) {
		for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++)
			d->dropped_while_down += now[a] - d->dropped_seen[a];
		if (d->dropped_while_down)
			log_warn("bpf",
				 "%llu records dropped while no daemon ran: the ring buffer was full "
				 "(in all: exec %llu, open %llu, connect %llu, tamper %llu)",
				 (unsigned long long)d->dropped_while_down,
				 (unsigned long long)now[ACTGATE_ACTION_EXEC],
				 (unsigned long long)now[ACTGATE_ACTION_OPEN],
				 (unsigned long long)now[ACTGATE_ACTION_CONNECT],
				 (unsigned long long)now[ACTGATE_ACTION_TAMPER]);
		memcpy(d->dropped_seen, now, sizeof(now));
	}
	log_info("journal", "%llu records journaled from the adopted ring buffer",
		 (unsigned long long)(written - written_before));
	if (d->enforcer.upgraded)
		log_info("journal", "%llu decisions of the upgrade's overlap were recorded by both "
				    "builds' programs: journaled once",
			 (unsigned long long)d->enforcer.overlap_duplicates);

	err = reconcile_workloads(d);
	if (err)
		return err;
	err = generation_reload(d, &report);
	free(report);
	if (err) {
		log_error("policy", "the policy in %s cannot replace generation %u, which the pins "
				    "keep enforcing; fix it and start actgated again",
			  cfg->policy_dir, st.generation);
		return err;
	}
	/* Past the grace period no program still reads an old header. */
	generation_unload_previous(d, true);
	purged = enforcer_purge_generations(&d->enforcer, d->current.image.generation);
	if (purged < 0)
		return (int)purged;
	log_info("policy", "removed %ld entries of older generations", purged);
	runtime_save(d);
	return 0;
}

