/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Task lineage: a governed task's children belong to its workload. */
#include "lib/failure.h"
#include "lib/governance.h"
#include "lib/kernel.h"
#include "maps.h"

/*
 * Runs in the parent while the child is being created. The child inherits
 * the parent's workload even when it is created in another cgroup
 * (clone3 with CLONE_INTO_CGROUP) or later moves out of the workload's.
 */
SEC("lsm/task_alloc")
int BPF_PROG(mark_child, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct actgate_task_mark *parent, *child;
	struct actgate_workload *wl;
	__u64 key = 0;

	if (ret)
		return ret;
	parent = task_mark(bpf_get_current_task_btf());
	if (parent) {
		key = parent->workload_cgroup_id;
	} else {
		wl = workload_by_cgroup(bpf_get_current_cgroup_id(), &key);
		if (!wl)
			return 0;
	}
	child = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* A child that cannot be marked could leave its workload: refuse the fork. */
	if (!child) {
		count_failure(ACTGATE_FAILURE_CHILD_MARK);
		return -ENOMEM;
	}
	child->workload_cgroup_id = key;
	return 0;
}
