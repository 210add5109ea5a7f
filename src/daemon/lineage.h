/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A workload's lineage (docs/delegation.md): the key of its effective
 * policy when it was commissioned by another workload, or named policies
 * with --policy. Below workloads.c, which binds every workload through it,
 * and delegation.c, which commissions sub-workloads.
 */
#ifndef ACTGATE_DAEMON_LINEAGE_H
#define ACTGATE_DAEMON_LINEAGE_H

#include <stddef.h>

#include "daemon/runtime.h"
#include "identity/workload.h"
#include "policy/compile.h"
#include "util/json.h"

/*
 * The key of w in generation g under signals: policy_selection_of for a
 * workload without a parent; for a sub-workload its parent's key (under
 * the parent's signals) with its own policies and those named with
 * --policy. 0, -ENOENT (none selects it), -ESRCH (its parent or a named
 * policy is gone), -ENOMEM.
 */
int lineage_selection(struct daemon *d, struct generation *g, const struct workload *w,
			 const struct signal_view *signals, struct policy_selection **sel,
			 size_t *count);

/*
 * A run request's "policies" ({"0": NAME, ...}, `actgate run --policy`)
 * joined by ',' into *joined (NULL when none). 0, or -EINVAL with why.
 */
int lineage_policy_names(const struct json_msg *msg, char **joined, char *why,
			    size_t why_size);

#endif /* ACTGATE_DAEMON_LINEAGE_H */
