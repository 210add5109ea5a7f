/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Failures a program goes on without (a task mark that cannot be created, a
 * record that cannot be built, a kernel read that faults), counted per
 * reason so that they are never silent: enum actgate_failure says what each
 * costs; userspace reads the counts with enforcer_read_failures().
 */
#ifndef ACTGATE_BPF_LIB_FAILURE_H
#define ACTGATE_BPF_LIB_FAILURE_H

#include "lib/kernel.h"
#include "maps.h"

static __always_inline void count_failure(__u32 failure)
{
	__u64 *count = bpf_map_lookup_elem(&failures, &failure);

	/* One instruction: a task preempted in a load-add-store would lose another's count. */
	if (count)
		__sync_fetch_and_add(count, 1);
}

#endif /* ACTGATE_BPF_LIB_FAILURE_H */
