/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One identified asker's lookups (resolvehost.h). */
#include "daemon/resolvehost.h"

#include <errno.h>
#include <string.h>

#include "daemon/dnsserver.h"

static struct resolve_asker *asker_of(void *ctx)
{
	return ((struct dns_asker *)ctx)->workload;
}

static int decide(void *ctx, const char *name, struct name_decision *d)
{
	struct resolve_asker *a = asker_of(ctx);
	struct workload_identity id = workload_identity_of(a->w);
	int err;

	if (!a->matcher) {
		err = name_matcher_build_for(a->set, &id, a->signals, &a->matcher);
		if (err)
			return err; /* -ENOENT: no policy selects it: refused */
	}
	err = name_matcher_decide(a->matcher, name, d);
	a->rule_id = err ? 0 : name_decision_rule_id(a->image, d);
	return err;
}

static int learn(void *ctx, const struct dns_address *addr, uint32_t ttl,
		 const struct name_decision *d)
{
	struct resolve_asker *a = asker_of(ctx);

	/* An audited deny goes ahead unlearned: what it would reach stays denied at connect. */
	if (d->verdict != ACTGATE_VERDICT_ALLOW)
		return 0;
	if (!a->learned)
		return -ENOSYS;
	return learned_add(a->learned, a->w->id, a->w->policy_id, addr, d, a->rule_id, ttl,
			   a->now_boot_ns);
}

static void record(void *ctx, const struct name_decision *d, uint8_t rcode)
{
	struct resolve_asker *a = asker_of(ctx);
	struct journal_record r;

	(void)rcode;
	if (d->record == ACTGATE_RECORD_NONE ||
	    (d->record == ACTGATE_RECORD_DENY && d->verdict != ACTGATE_VERDICT_DENY))
		return;
	memset(&r, 0, sizeof(r));
	r.action = ACTGATE_ACTION_RESOLVE;
	r.verdict = d->verdict;
	r.mode = d->mode;
	r.reason = d->reason;
	r.workload_id = a->w->id;
	r.cgroup_id = a->w->cgroup_id;
	r.generation = a->image ? a->image->generation : 0;
	r.workload = a->w->name;
	r.principal = a->w->principal;
	r.labels = a->w->labels;
	r.policy = (char *)(d->policy ? d->policy : a->w->policies);
	r.rule = (char *)d->rule;
	r.target = (char *)d->name;
	r.target_name = (char *)d->name;
	a->write(a->write_ctx, &r);
}

const struct resolver_ops resolve_asker_ops = { decide, learn, record };

void resolve_asker_done(struct resolve_asker *a)
{
	name_matcher_free(a->matcher);
	a->matcher = NULL;
}
