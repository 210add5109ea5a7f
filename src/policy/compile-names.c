/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect rules by name, as the compiler sees them: never in the kernel's
 * address maps (the addresses a name resolves to are learned at run time,
 * per workload, by the daemon's resolver), and refused where leaving them
 * out would weaken the policy without a word.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>

#include "policy/compile-internal.h"
#include "policy/names.h"

/* Can p's connect section allow some IP destination without a name? */
static bool allows_addresses(const struct policy *p)
{
	const struct net_rules *c = &p->connect;

	if (c->default_verdict == ACTGATE_VERDICT_ALLOW)
		return true;
	for (size_t i = 0; i < c->overlay_count; i++)
		if (c->overlays[i].has_default &&
		    c->overlays[i].default_verdict == ACTGATE_VERDICT_ALLOW)
			return true;
	for (size_t i = 0; i < c->count; i++)
		if (c->rules[i].verdict == ACTGATE_VERDICT_ALLOW)
			return true;
	return false;
}

int name_rules_check_enforceable(const struct policy *p, struct diag_list *diags)
{
	int errors = 0;

	if (!allows_addresses(p))
		return 0;
	for (size_t i = 0; i < p->connect.name_count; i++) {
		const struct name_rule *r = &p->connect.name_rules[i];
		char rule[NAME_RULE_ID_MAX];

		if (r->verdict != ACTGATE_VERDICT_DENY)
			continue;
		policy_rule_name(rule, sizeof(rule), p->name, ACTGATE_ACTION_CONNECT, r->overlay,
				 r->verdict, r->index);
		if (diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			     "%s: deny rule by name \"%s\" cannot be enforced yet: this daemon does "
			     "not answer the workloads' lookups, and this connect section allows "
			     "IP destinations (an allow default or an address allow rule), so a "
			     "connect to the name's addresses would be allowed; deny its addresses, "
			     "or make the section's default deny and allow only what is needed",
			     rule, r->text))
			return -ENOMEM;
		errors++;
	}
	return errors;
}

int name_rules_check_no_resolver(const struct policy_set *set, struct diag_list *diags)
{
	int errors = 0;

	for (size_t i = 0; i < set->count; i++) {
		const struct policy *p = &set->policies[i];

		for (size_t k = 0; k < p->connect.name_count; k++) {
			const struct name_rule *r = &p->connect.name_rules[k];
			char rule[NAME_RULE_ID_MAX];

			if (r->verdict != ACTGATE_VERDICT_ALLOW)
				continue;
			policy_rule_name(rule, sizeof(rule), p->name, ACTGATE_ACTION_CONNECT,
					 r->overlay, r->verdict, r->index);
			if (diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
				     "%s: allow rule by name \"%s\" cannot be honoured: no resolver "
				     "answers the workloads' lookups (actgated.yaml has no resolver: "
				     "section), so no address would be learned for the name and every "
				     "connect the rule is meant to allow would be denied; configure the "
				     "resolver, or allow the addresses (docs/egress.md)",
				     rule, r->text))
				return -ENOMEM;
			errors++;
		}
	}
	return errors;
}
