/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>

#include "actgate/abi.h"
#include "daemon/control.h"
#include "daemon/dnsserver.h"
#include "daemon/exportd.h"
#include "daemon/learned.h"
#include "daemon/signalctl.h"
#include "daemon/ssf.h"
#include "daemon/status.h"
#include "journal/sink.h"
#include "journal/decision.h"
#include "util/version.h"

void status_verb(struct daemon *d, int fd, const struct json_msg *msg)
{
	uint64_t dropped[ACTGATE_NR_ACTIONS] = { 0 };
	uint64_t failures[ACTGATE_NR_FAILURES] = { 0 };
	bool failures_known;
	struct json_out j;

	(void)msg;
	enforcer_dropped(&d->enforcer, dropped);
	failures_known = enforcer_read_failures(&d->enforcer, failures) == 0;
	control_reply_ok(&j);
	json_add_string(&j, "version", actgate_version()); /* `actgate status` adds its own */
	json_add_u64(&j, "generation", d->current.image.generation);
	json_add_u64(&j, "policies", d->current.set.count);
	json_add_u64(&j, "effective_policies", d->current.image.policy_count);
	json_add_u64(&j, "workloads", d->workloads.count);
	if (!d->current.set.count) {
		char line[512];

		status_line(d, line, sizeof(line));
		json_add_string(&j, "governing", line);
	}
	jsink_status(d->journal, &j);
	journalwatch_status(&d->journal_watch, &j);
	{
		struct jstore_stats js;

		jstore_stats(jsink_store(d->journal), &js);
		exportd_status(&d->exportd, js.next_seq, &j);
	}
	/* Flat keys: the control protocol's objects carry strings only (labels). */
	for (uint8_t a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++) {
		char key[32];

		snprintf(key, sizeof(key), "dropped_%s", action_name(a));
		json_add_u64(&j, key, dropped[a]);
	}
	/*
	 * What the programs went on without (a task they could not mark, a
	 * record with no slot, ...): "failure.NAME", or "unknown" when the
	 * counts cannot be read, never a silent 0.
	 */
	for (unsigned int f = 0; f < ACTGATE_NR_FAILURES; f++) {
		char key[48];

		snprintf(key, sizeof(key), "failure.%s", enforcer_failure_name(f));
		if (failures_known)
			json_add_u64(&j, key, failures[f]);
		else
			json_add_string(&j, key, "unknown");
	}
	json_add_u64(&j, "signal_generation", d->signalctl.store.generation);
	json_add_u64(&j, "dropped_while_down", d->dropped_while_down);
	{
		/*
		 * Bytes the allocator has handed out and not had back: what a leak
		 * grows, exactly, where the resident size also moves with pages
		 * malloc_trim returned and later allocations touch again.
		 */
		struct mallinfo2 mi = mallinfo2();

		json_add_u64(&j, "heap_in_use", (uint64_t)mi.uordblks + mi.hblkhd);
	}
	json_add_string(&j, "pin_dir", d->cfg->pin_dir);
	json_add_string(&j, "pins", d->enforcer.adopted ? "adopted" : "created");
	/* The DNS steering programs on the cgroup root: only while the resolver runs. */
	json_add_string(&j, "steering", d->enforcer.steering ? "attached" : "detached");
	json_add_string(&j, "state_dir", d->cfg->state_dir);
	/* Per workload, keyed by its id: "workload.ID.name", ".policies", ".labels", ... */
	for (size_t i = 0; i < d->workloads.count; i++) {
		const struct workload *w = &d->workloads.items[i];
		char key[64];

#define WORKLOAD_KEY(field) \
	(snprintf(key, sizeof(key), "workload.%llu." field, (unsigned long long)w->id), key)
		json_add_string(&j, WORKLOAD_KEY("name"), w->name);
		json_add_string(&j, WORKLOAD_KEY("policies"), w->policies);
		json_add_string(&j, WORKLOAD_KEY("labels"), w->labels);
		json_add_string(&j, WORKLOAD_KEY("principal"), w->principal);
		json_add_string(&j, WORKLOAD_KEY("cgroup"), w->cgroup_path);
		json_add_u64(&j, WORKLOAD_KEY("policy_id"), w->policy_id);
		json_add_string(&j, WORKLOAD_KEY("signals"),
				signalctl_workload_signals(&d->signalctl, w->id));
#undef WORKLOAD_KEY
	}
	ssf_status(d->ssf, &j); /* "ssf.NAME.KEY": each stream's health */
	dns_server_status(d->dns, &j); /* "resolver.*" */
	if (d->learned) {
		struct learned_counts lc;

		learned_get_counts(d->learned, &lc);
		json_add_u64(&j, "resolver.learned_entries", lc.entries);
		json_add_u64(&j, "resolver.learned", lc.learned);
		json_add_u64(&j, "resolver.learned_evicted", lc.evicted);
		json_add_u64(&j, "resolver.learned_expired", lc.expired);
		json_add_u64(&j, "resolver.learned_no_slot", lc.no_slot);
		json_add_u64(&j, "resolver.names", lc.names);
		json_add_u64(&j, "resolver.names_full", lc.names_full);
	}
	control_reply_send(fd, &j);
}

void status_line(const struct daemon *d, char *buf, size_t size)
{
	if (!d->current.set.count) {
		snprintf(buf, size, "generation %u: governing nothing: no policy files (*.yaml, *.yml) "
			 "in %s",
			 d->current.image.generation, d->cfg->policy_dir);
		return;
	}
	snprintf(buf, size, "generation %u: %zu %s, %zu %s", d->current.image.generation,
		 d->current.set.count, d->current.set.count == 1 ? "policy" : "policies",
		 d->workloads.count, d->workloads.count == 1 ? "workload" : "workloads");
}
