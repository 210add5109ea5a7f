/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which tasks have their DNS steered to the resolver (docs/egress.md), as
 * both sides must see it: bpf/steer.bpf.c, which rewrites the destination,
 * and the connect decision (bpf/net.bpf.c), which runs first (the LSM hook
 * before the cgroup hook) and lets a steered lookup through instead of
 * judging the server the workload named. Both go by the task's cgroup
 * alone (a cgroup program cannot read the task marks), so a task governed
 * only by its mark is not steered, and its lookups are judged by the
 * address rules like any connect.
 */
#ifndef ACTGATE_BPF_LIB_STEER_H
#define ACTGATE_BPF_LIB_STEER_H

#include "lib/governance.h"
#include "maps.h"

#define DNS_PORT 53

/*
 * The resolver's address and the source the current task's lookups must
 * come from (network order), when its workload's policy has rules by name
 * and a resolver runs: 1; else 0. governed: set when the task's cgroup is
 * a workload's at all.
 */
static __always_inline int steer_target(struct actgate_steer_conf *conf, __u32 *src_ip4,
					int *governed)
{
	__u64 own = bpf_get_current_cgroup_id(), key = 0;
	struct actgate_steer_conf *c;
	struct actgate_workload *wl;
	struct actgate_policy *pol;
	__u32 zero = 0, policy_id;

	*governed = 0;
	wl = workload_by_cgroup(own, &key);
	if (!wl)
		return 0;
	*governed = 1;
	c = bpf_map_lookup_elem(&resolver_steer, &zero);
	if (!c || !c->enabled)
		return 0;
	*conf = *c;
	*src_ip4 = bpf_htonl(ACTGATE_STEER_NET | ((__u32)wl->workload_id & ACTGATE_STEER_MASK));
	policy_id = wl->policy_id;
	pol = bpf_map_lookup_elem(&policies, &policy_id);
	return pol && pol->action[ACTGATE_ACTION_CONNECT].has_name_rules;
}

#endif /* ACTGATE_BPF_LIB_STEER_H */
