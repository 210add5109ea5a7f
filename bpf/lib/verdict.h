/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The decision that answers an action: how the matchers set it, how
 * decisions combine, and what the hook returns for it.
 */
#ifndef ACTGATE_BPF_LIB_VERDICT_H
#define ACTGATE_BPF_LIB_VERDICT_H

#include "lib/kernel.h"
#include "actgate/abi.h"

/*
 * The decision that answers an action: the verdict with the mode and record
 * setting of the rule (or default) that gave it. Filled by the matchers,
 * read by the recorder and by verdict_errno.
 */
struct verdict {
	__u32 rule_id;
	__u8 verdict; /* enum actgate_verdict */
	__u8 mode;    /* enum actgate_mode */
	__u8 record;  /* enum actgate_record */
	__u8 reason;  /* enum actgate_reason */
};

/*
 * A governed task that cannot be decided by its policy (no workload, no
 * policy, a path beyond the walk): denied, enforced and always recorded,
 * whatever the policy's audit mode or record setting would have been.
 */
static __always_inline void fail_closed(struct verdict *v, __u8 reason)
{
	v->verdict = ACTGATE_VERDICT_DENY;
	v->mode = ACTGATE_MODE_ENFORCE;
	v->record = ACTGATE_RECORD_ALL;
	v->reason = reason;
	v->rule_id = 0;
}

/* The decision of one slot (a path entry's or a default). */
static __always_inline void take_decision(struct verdict *v, const struct actgate_decision_slot *s,
					  __u8 reason)
{
	v->rule_id = s->rule_id;
	v->verdict = s->verdict;
	v->mode = s->mode;
	v->record = s->record;
	v->reason = reason;
}

/*
 * How decisions combine (src/policy/policy.h, policy_decision_rank): an enforced
 * deny beats an audited deny, which beats an allow.
 */
static __always_inline int decision_rank(__u8 verdict, __u8 mode)
{
	if (verdict != ACTGATE_VERDICT_DENY)
		return 0;
	return mode == ACTGATE_MODE_ENFORCE ? 2 : 1;
}

/* The default of an action without accesses (exec, connect): slot 0. */
static __always_inline void decide_default(const struct actgate_action_policy *ap, struct verdict *v)
{
	take_decision(v, &ap->dflt[0], ACTGATE_REASON_DEFAULT);
}

/* What the hook returns for a decision. */
static __always_inline int verdict_errno(const struct verdict *v)
{
	__u32 enforce_deny = v->verdict == ACTGATE_VERDICT_DENY && v->mode == ACTGATE_MODE_ENFORCE;

	/*
	 * Hide the flag's 0/1 range from clang: otherwise it returns the
	 * branchless -(a & b), whose range 6.12's verifier cannot bound to
	 * [-4095, 0] as it requires of an LSM program's return value.
	 */
	barrier_var(enforce_deny);
	if (enforce_deny)
		return -EPERM;
	return 0;
}

#endif /* ACTGATE_BPF_LIB_VERDICT_H */
