/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Tamper records: a governed task's attempt on actgate itself, or to act
 * outside its workload, refused and recorded whatever its policy's mode and
 * record setting (an audited workload must not be able to silence the audit).
 */
#ifndef ACTGATE_BPF_LIB_TAMPER_H
#define ACTGATE_BPF_LIB_TAMPER_H

#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

/*
 * The record of a refused attempt by the task g describes, not sent yet;
 * NULL when no record slot is free.
 */
static __always_inline struct actgate_decision *tamper_record_of(const struct governance *g,
								 __u8 kind, __u64 detail)
{
	struct verdict v = {};
	struct actgate_decision *rec;
	__u64 workload_id = 0;
	__u32 policy_id = 0;

	fail_closed(&v, ACTGATE_REASON_SELF_PROTECTION);
	if (g->wl) {
		workload_id = g->workload_id;
		policy_id = g->wl->policy_id;
	}
	rec = begin_record(ACTGATE_ACTION_TAMPER, g->cgroup_id, workload_id, policy_id, NULL, &v);
	if (rec) {
		rec->dev = kind;
		rec->ino = detail;
		rec->signal_generation = g->signal_generation;
	}
	return rec;
}

/* The record of a refused attempt, not sent yet; NULL for an ungoverned task (allowed). */
static __always_inline struct actgate_decision *tamper_record(__u8 kind, __u64 detail, int *governed)
{
	struct governance g = {};

	*governed = governing_workload(&g);
	if (!*governed)
		return NULL;
	return tamper_record_of(&g, kind, detail);
}

static __always_inline int refuse_tamper(__u8 kind, __u64 detail)
{
	struct actgate_decision *rec;
	int governed;

	rec = tamper_record(kind, detail, &governed);
	if (!governed)
		return 0;
	if (rec)
		submit_record(rec);
	return -EPERM;
}

#endif /* ACTGATE_BPF_LIB_TAMPER_H */
