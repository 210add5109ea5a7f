/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Who governs the current task: the workload of its cgroup (the deepest
 * registered ancestor), or the workload its task mark names; and that
 * workload's policy, unless the workload is revoked or its time is up.
 */
#ifndef ACTGATE_BPF_LIB_GOVERNANCE_H
#define ACTGATE_BPF_LIB_GOVERNANCE_H

#include "lib/failure.h"
#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

/*
 * May id be a key of workloads? False only when no key is in its bucket
 * (abi.h, governed_buckets); an array lookup is inlined by the verifier, a
 * few instructions, where a hash lookup costs about a hundred.
 */
static __always_inline int may_be_workload(__u64 id)
{
	__u32 bucket = ACTGATE_GOVERNED_BUCKET(id);
	__u32 *n = bpf_map_lookup_elem(&governed_buckets, &bucket);

	return !n || *n;
}

/* The workload of the cgroup hierarchy alone: the deepest registered cgroup on
 * the path from the task's cgroup up to the root, so that every descendant of
 * a governed cgroup is governed, including cgroups created after the
 * workload started. Only cgroups that pass may_be_workload are looked up.
 */
static __always_inline struct actgate_workload *workload_by_cgroup(__u64 own, __u64 *key)
{
	struct actgate_workload *found, *deepest = NULL;
	__u64 id;
	int level;

	if (may_be_workload(own)) {
		found = bpf_map_lookup_elem(&workloads, &own);
		if (found) {
			*key = own;
			return found;
		}
	}
	/* Level 0 is the root cgroup, which is never a workload. */
	for (level = 1; level < ACTGATE_MAX_CGROUP_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		/* 0: above the task's own depth; own: the task's cgroup, checked above. */
		if (id == 0 || id == own)
			break;
		if (!may_be_workload(id))
			continue;
		found = bpf_map_lookup_elem(&workloads, &id);
		if (found) {
			deepest = found;
			*key = id;
		}
	}
	return deepest;
}

/*
 * The current task's mark, if it has one. A task no BPF program ever gave
 * local storage (most tasks of a host) has no bpf_storage at all: one load
 * answers for it, without the helper call.
 */
static __always_inline struct actgate_task_mark *task_mark(struct task_struct *task)
{
	if (!task->bpf_storage)
		return NULL;
	return bpf_task_storage_get(&task_marks, task, 0, 0);
}

/* What governs the current task. */
struct governance {
	struct actgate_workload *wl; /* NULL: an orphan (its workload is gone) */
	struct actgate_task_mark *mark; /* NULL if it could not be made */
	__u64 cgroup_id;             /* the task's own cgroup, for the record */
	/*
	 * Copied from *wl once: the daemon may replace the entry while the
	 * action is decided, and one action must see one version of it.
	 */
	__u64 workload_id;
	__u64 expires_boot_ns;
	__u64 signal_generation;
	__u32 flags;
};

static __always_inline void copy_workload(struct governance *g)
{
	struct actgate_workload *wl = g->wl;

	if (!wl)
		return;
	g->workload_id = wl->workload_id;
	g->expires_boot_ns = wl->expires_boot_ns;
	g->signal_generation = wl->signal_generation;
	g->flags = wl->flags;
}

/*
 * A task's mark, when it has one, wins over its cgroup: a task cannot leave
 * its workload by moving to another cgroup, governed or not. Without a mark,
 * the cgroup decides and the task is marked from then on. Returns 0 when the
 * task is not governed at all.
 *
 * A known gap on 6.1: bpf_task_storage_get also returns NULL, without
 * telling, when another task on this CPU was preempted inside a task
 * storage operation (a per-CPU busy check that 6.2 dropped for LSM
 * programs). Under preempt=full, a marked task that moved to an ungoverned
 * cgroup can then pass for ungoverned for that one action; creating a mark
 * fails the same way (counted: ACTGATE_FAILURE_TASK_MARK).
 */
static __always_inline int governing_workload(struct governance *g)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct actgate_task_mark *mark;
	__u64 key = 0;

	g->cgroup_id = bpf_get_current_cgroup_id();
	mark = task_mark(task);
	g->mark = mark;
	if (mark) {
		key = mark->workload_cgroup_id;
		g->wl = bpf_map_lookup_elem(&workloads, &key);
		copy_workload(g);
		return 1;
	}
	g->wl = workload_by_cgroup(g->cgroup_id, &key);
	if (!g->wl)
		return 0;
	copy_workload(g);
	mark = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	g->mark = mark;
	if (mark)
		mark->workload_cgroup_id = key;
	else
		count_failure(ACTGATE_FAILURE_TASK_MARK); /* the next action tries again */
	return 1;
}

/*
 * The policy of a governed task. NULL, with a fail-closed verdict in v, when
 * it cannot be found, or when the workload is revoked or its time is up:
 * those are checked before anything else, so no rule, audit mode or grant
 * lifts them. *policy_id and *workload_id are set whenever the workload
 * exists.
 */
static __always_inline struct actgate_policy *governing_policy(const struct governance *g,
							       __u32 *policy_id,
							       __u64 *workload_id,
							       struct verdict *v)
{
	struct actgate_workload *wl = g->wl;
	struct actgate_policy *pol;

	*policy_id = 0;
	*workload_id = 0;
	if (!wl) {
		fail_closed(v, ACTGATE_REASON_ORPHAN);
		return NULL;
	}
	*policy_id = wl->policy_id;
	*workload_id = g->workload_id;
	if (g->flags & ACTGATE_WORKLOAD_REVOKED) {
		fail_closed(v, ACTGATE_REASON_REVOKED);
		return NULL;
	}
	if (g->flags & ACTGATE_WORKLOAD_PARENT_ENDED) {
		fail_closed(v, ACTGATE_REASON_PARENT_ENDED);
		return NULL;
	}
	if (g->expires_boot_ns && bpf_ktime_get_boot_ns() >= g->expires_boot_ns) {
		fail_closed(v, ACTGATE_REASON_EXPIRED);
		return NULL;
	}
	pol = bpf_map_lookup_elem(&policies, policy_id);
	if (!pol)
		fail_closed(v, ACTGATE_REASON_NO_POLICY);
	return pol;
}

/* Is every action of the task's workload denied (revoked, or its time is up)? */
static __always_inline int workload_denied_whole(const struct governance *g)
{
	if (!g->wl)
		return 0;
	if (g->flags & (ACTGATE_WORKLOAD_REVOKED | ACTGATE_WORKLOAD_PARENT_ENDED))
		return 1;
	return g->expires_boot_ns && bpf_ktime_get_boot_ns() >= g->expires_boot_ns;
}

#endif /* ACTGATE_BPF_LIB_GOVERNANCE_H */
