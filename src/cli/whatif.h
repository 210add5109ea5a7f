/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What-if: a recorded decision decided again under a candidate policy set,
 * with the userspace evaluator, so that a policy change can be judged
 * against what workloads actually did (`actgate replay --what-if DIR`).
 */
#ifndef ACTGATE_WHATIF_H
#define ACTGATE_WHATIF_H

#include <stdbool.h>
#include <stddef.h>

#include "journal/decision.h"
#include "policy/evaluate.h"
#include "policy/policy.h"

enum whatif_outcome {
	WHATIF_SAME = 0,       /* the candidate gives the recorded verdict */
	WHATIF_NOW_DENIED = 1, /* recorded allow, the candidate denies */
	WHATIF_NOW_ALLOWED = 2, /* recorded deny, the candidate allows */
	WHATIF_SKIPPED = 3,    /* cannot be decided again (see why) */
};

/*
 * Decide rec again under set. A record the policy language does not decide
 * (tamper attempts, orphans, a path the kernel could not name) and one no
 * candidate policy selects are WHATIF_SKIPPED, with the reason in why; an
 * unselected workload is also counted by the caller, since under the
 * candidate it could not run at all. Verdicts are compared as decided, not
 * as enforced: an audit-mode deny is a deny. A lookup (action resolve) is
 * decided again by its name (target_name), a connect that carries a
 * target_name with the candidate's name rules beside its address rules.
 *
 * Delegation (docs/delegation.md): a record whose chain names workloads
 * above its own is decided under every candidate policy that selects any
 * of them too (attenuation; they are matched by name alone). A decision a
 * grant made (an operator's, or a rule a parent's delegate: gave) stays
 * allowed where the candidate denies by a rule or a default: the grant
 * lifts that. A delegate record (action delegate) is decided again under
 * the candidate's delegate: sections and the signals it kept, for the
 * request its target states; one refused for a cause other than delegate:
 * (revoked, malformed) is skipped, as is a record whose chain does not
 * name its workload.
 *
 * Returns the outcome; *r holds the candidate's decision unless skipped.
 */
enum whatif_outcome whatif_decide(const struct policy_set *set, const struct journal_record *rec,
				  struct eval_result *r, char *why, size_t why_size);

struct whatif_totals {
	size_t records;
	size_t same;
	size_t now_denied;
	size_t now_allowed;
	size_t skipped;
};

void whatif_count(struct whatif_totals *t, enum whatif_outcome o);

#endif /* ACTGATE_WHATIF_H */
