/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actgate/abi.h"
#include "daemon/grantctl.h"
#include "daemon/learned.h"
#include "daemon/records.h"
#include "daemon/signalctl.h"
#include "journal/sink.h"
#include "journal/decision.h"
#include "util/log.h"

/* The generation that made a record: the current one or the one before it. */
static const struct generation *generation_of(const struct daemon *d, uint32_t generation)
{
	if (generation == d->current.image.generation)
		return &d->current;
	if (generation && generation == d->previous.image.generation)
		return &d->previous;
	return NULL;
}

/*
 * The policy a record names: the one whose rule or default decided; for a
 * decision no rule made (no policy, orphan, too deep) the workload's
 * policies, joined by ','.
 */
static void record_policy(const struct generation *g, const struct actgate_decision *rec,
			  char *out, size_t size)
{
	/* A grant's id is not a rule id: the workload's policies are named. */
	bool by_rule = rec->reason != ACTGATE_REASON_GRANT &&
		       rec->reason != ACTGATE_REASON_GRANT_EXPIRED;
	const char *name = g && by_rule ? policy_image_rule_policy(&g->image, rec->rule_id) : NULL;

	if (name)
		snprintf(out, size, "%s", name);
	else if (g)
		policy_image_policy_names(&g->image, rec->policy_id, out, size);
	else
		out[0] = '\0';
}

int records_journal(const struct actgate_decision *rec, size_t size, void *ctx)
{
	struct daemon *d = ctx;
	struct journal_record jr = { 0 };
	const struct workload *w = workload_table_find_id(&d->workloads, rec->workload_id);
	const struct generation *g = generation_of(d, rec->generation);
	char target[JOURNAL_TARGET_SIZE], rule[256], policy[1024];

	bool by_grant = grantctl_rule_name(rec, rule, sizeof(rule));

	if (!by_grant && (!g || policy_image_rule_name(&g->image, rec->rule_id, rule, sizeof(rule))))
		rule[0] = '\0';
	record_policy(g, rec, policy, sizeof(policy));
	if (!by_grant && rec->generation && rec->generation == d->adopted_names.generation) {
		/* Decided under the generation the previous daemon left. */
		const struct rule_names *n = &d->adopted_names;

		if (rec->rule_id < n->count && n->rule[rec->rule_id]) {
			snprintf(rule, sizeof(rule), "%s", n->rule[rec->rule_id]);
			snprintf(policy, sizeof(policy), "%s", n->policy[rec->rule_id]);
		} else if (!policy[0] && w) {
			snprintf(policy, sizeof(policy), "%s", w->policies);
		}
	}

	jr.time_ns = (uint64_t)((int64_t)rec->hdr.time_boot_ns + d->boot_to_wall_ns);
	jr.action = rec->action;
	jr.verdict = rec->verdict;
	jr.mode = rec->mode;
	jr.reason = rec->reason;
	jr.workload_id = rec->workload_id;
	jr.cgroup_id = rec->cgroup_id;
	jr.pid = rec->pid;
	jr.tgid = rec->tgid;
	jr.ppid = rec->ppid;
	jr.uid = rec->uid;
	jr.generation = rec->generation;
	memcpy(jr.comm, rec->comm, ACTGATE_COMM_LEN);
	jr.comm[ACTGATE_COMM_LEN] = '\0';
	jr.workload = w ? w->name : "";
	jr.principal = w ? w->principal : "";
	jr.labels = w ? w->labels : "";
	jr.policy = policy;
	jr.rule = rule;
	/* A connect's only access is that its socket was received (bpf/receive.bpf.c). */
	jr.access = rec->action == ACTGATE_ACTION_OPEN ? rec->access
						      : rec->access & ACTGATE_ACCESS_RECEIVED;
	journal_decision_target(rec, size, target, sizeof(target));
	jr.target = target;
	/* Allowed by what a lookup answered: the name looked up (bpf/lib/connect.h). */
	if (rec->action == ACTGATE_ACTION_CONNECT && rec->reason == ACTGATE_REASON_LEARNED)
		jr.target_name = (char *)learned_name(d->learned, (uint32_t)rec->ino);
	jr.signal_generation = rec->signal_generation;
	/* Not owned: encoded, never freed (as target_name above). */
	jr.signals = (char *)signalctl_record_signals(&d->signalctl, rec);
	jr.chain = w ? w->chain : NULL; /* a sub-workload's chain of authority (delegation.h) */

	/* Queued; written in one batch per drain. A failed write costs the record, not enforcement. */
	jsink_append(d->journal, &jr);
	return 0;
}

void records_write_daemon(void *ctx, struct journal_record *r)
{
	struct daemon *d = ctx;
	struct timespec ts;

	/* Decided now, by the daemon: the wall clock, and written at once (nothing drains it). */
	if (!r->time_ns && clock_gettime(CLOCK_REALTIME, &ts) == 0)
		r->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	jsink_append(d->journal, r);
	jsink_flush(d->journal);
}

void records_drain(struct daemon *d)
{
	enforcer_drain(&d->enforcer);
	jsink_flush(d->journal);
	/*
	 * Only now does the kernel get the space back: a daemon killed before
	 * this line leaves the records to the next one, which journals them.
	 * Records that could not be written are counted (by the store), not
	 * kept: the ring buffer must not fill up behind a full disk.
	 */
	enforcer_commit(&d->enforcer);
}

void records_check_dropped(struct daemon *d)
{
	uint64_t now[ACTGATE_NR_ACTIONS] = { 0 };
	uint64_t more = 0;

	if (enforcer_dropped(&d->enforcer, now))
		return;
	for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++)
		more += now[a] - d->dropped_seen[a];
	if (!more)
		return;
	log_warn("bpf",
		 "ring buffer full: %llu more records dropped (in all: exec %llu, open %llu, "
		 "connect %llu, tamper %llu)",
		 (unsigned long long)more, (unsigned long long)now[ACTGATE_ACTION_EXEC],
		 (unsigned long long)now[ACTGATE_ACTION_OPEN],
		 (unsigned long long)now[ACTGATE_ACTION_CONNECT],
		 (unsigned long long)now[ACTGATE_ACTION_TAMPER]);
	memcpy(d->dropped_seen, now, sizeof(now));
	runtime_save(d);
}
