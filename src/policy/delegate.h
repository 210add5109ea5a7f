/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * spec.delegate: its parser, and the one decision of delegation that the
 * daemon enforces and `policy test` checks (docs/delegation.md): may a
 * workload under these policies commission this child, and with what.
 */
#ifndef ACTGATE_POLICY_DELEGATE_H
#define ACTGATE_POLICY_DELEGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "util/yamltree.h"

/* spec.delegate at list: a list of entries into p->delegate. */
void policy_parse_delegate(struct ytree_ctx *ctx, const struct ynode *list, struct policy *p);

/* A child's request, as `actgate run` from inside a workload makes it. */
struct delegation_request {
	const char *child;               /* the child's workload name */
	const char *const *policies;     /* --policy names */
	size_t policy_count;
	const struct delegate_rule *allow; /* --allow rules (action, target) */
	size_t allow_count;
};

/*
 * May a workload whose policies are parents[0..n) commission req, under
 * signals (the parent's signals now)? Every parent policy with a
 * spec.delegate must have an entry that names the child, lists each of its
 * --policy names (an entry without policies takes any), lists each --allow
 * rule, and whose when: holds. Without any spec.delegate a child may be
 * commissioned by attenuation alone: any name and policies, no --allow.
 * 0 with *outlive (every deciding entry says outlive: true; false without
 * spec.delegate), or -EPERM with why.
 */
int delegation_decide(const struct policy *const *parents, size_t n,
		      const struct delegation_request *req, const struct signal_view *signals,
		      bool *outlive, char *why, size_t why_size);

/*
 * The signals delegation_decide reads for parents[0..n): every signal a
 * delegate: entry's when: names, with its value under signals, as records
 * keep them ("name=value,name=value", sorted by name, each once; a signal
 * not set is left out). "" when none; NULL when out of memory. Free it.
 */
char *delegation_signals_read(const struct policy *const *parents, size_t n,
			      const struct signal_view *signals);

/* "exec", "open", "connect" -> enum actgate_action; -EINVAL for another name. */
int delegate_action_parse(const char *name, size_t len, uint8_t *action);

/*
 * A sub-workload's key: its parent's selection a (made under the parent's
 * signals; an entry of a wins where both hold a policy), its own b, and
 * the policies named (joined by ','; NULL: none) with their overlays under
 * signals. Composed, every one of them decides: the child can do only what
 * its parent can (docs/delegation.md). *out sorted by index (free it).
 * 0; -ENOENT when empty; -ESRCH with why when a named policy is not in
 * set; -ENOMEM.
 */
struct policy_selection;
int delegation_merge(const struct policy_set *set, const struct policy_selection *a, size_t an,
		     const struct policy_selection *b, size_t bn, const char *named,
		     const struct signal_view *signals, struct policy_selection **out,
		     size_t *count, char *why, size_t why_size);

#endif /* ACTGATE_POLICY_DELEGATE_H */
