/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a policy change widens and narrows, rule by rule (`actgate policy
 * diff OLD NEW`), for review: policies are matched by name, rules by their
 * list, overlay and target. Widening means some action could be allowed
 * (or no longer enforced) that was not; narrowing the reverse. Policies
 * compose as intersection (docs/policy.md, "Several policies"), so a new
 * policy can only narrow and a policy removed can only widen.
 */
#ifndef ACTGATE_POLICY_DIFF_H
#define ACTGATE_POLICY_DIFF_H

#include <stddef.h>

#include "policy/policy.h"

enum policy_change_kind {
	POLICY_WIDENS = 0,
	POLICY_NARROWS = 1,
	POLICY_CHANGES = 2, /* neither by itself: a selector, what is recorded */
};

/* "widens", "narrows", "changes". */
const char *policy_change_name(enum policy_change_kind kind);

struct policy_change {
	enum policy_change_kind kind;
	char *policy; /* the policy's name */
	char *where;  /* "exec.allow", "open.when[0].deny", "connect.default", "selector",
		       * "mode", "policy" (added or removed whole) */
	char *old;    /* as written in OLD; NULL when added */
	char *new;    /* as written in NEW; NULL when removed */
};

struct policy_diff {
	struct policy_change *changes; /* in policy name order, then section order */
	size_t count;
	size_t widens, narrows, other;
};

/* The changes from old to new. 0 or -ENOMEM. */
int policy_diff_sets(const struct policy_set *old, const struct policy_set *new,
		     struct policy_diff *d);
/*
 * The changes from one policy to another, whatever their names (shown
 * under new's): how a suggestion compares with a policy it replaces.
 */
int policy_diff_policies(const struct policy *old, const struct policy *new,
			 struct policy_diff *d);
void policy_diff_free(struct policy_diff *d);

#endif /* ACTGATE_POLICY_DIFF_H */
