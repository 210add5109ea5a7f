/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The whole decision about a file for a governed task: governance, path
 * match, grant, and the record of it (check_file for the hooks where
 * bpf_d_path is allowed; decide_path and begin_path_record for the others).
 */
#ifndef ACTGATE_BPF_LIB_DECIDE_H
#define ACTGATE_BPF_LIB_DECIDE_H

#include "lib/governance.h"
#include "lib/grant.h"
#include "lib/kernel.h"
#include "lib/path.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

/*
 * include/linux/fs.h: a file execve (or uselib) opened. 6.1 keeps it only in
 * f_flags (__FMODE_EXEC, an open flag no open(2) can pass); newer kernels
 * also set FMODE_EXEC in f_mode.
 */
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20

/* One decision about a file (or a name in a directory) for a governed task. */
struct path_decision {
	struct governance g;
	struct actgate_policy *pol;
	struct verdict v;
	__u64 workload_id;
	__u32 policy_id;
	__u32 dev;    /* the target's identity, once read (ino 0: not yet) */
	__u64 ino;
	struct dentry *dentry;
	int new_entry;
};

/*
 * Decide an action on (mnt, dentry) for a governed task: the caller has
 * filled pd->g with governing_workload() first, so that ungoverned tasks
 * pay for nothing but the cgroup lookup (not even reading the target).
 */
static __always_inline void decide_path(__u8 action, struct vfsmount *mnt, struct dentry *dentry,
					__u8 asked, int new_entry, struct path_decision *pd)
{
	pd->dev = 0;
	pd->ino = 0;
	pd->dentry = dentry;
	pd->new_entry = new_entry;
	pd->pol = governing_policy(&pd->g, &pd->policy_id, &pd->workload_id, &pd->v);
	if (!pd->pol)
		return;
	match_path(pd->policy_id, action, &pd->pol->action[action], mnt, dentry, asked, new_entry,
		   &pd->dev, &pd->ino, &pd->v);
	/* A name about to be created has no inode for a grant to name. */
	if (new_entry || !grant_may_lift(&pd->g, &pd->v))
		return;
	if (!pd->ino)
		inode_identity(dentry, &pd->dev, &pd->ino);
	apply_inode_grant(&pd->g, action, pd->dev, pd->ino, &pd->v);
}

/* The record of a path decision, with everything but the readable path; NULL if not wanted. */
static __always_inline struct actgate_decision *begin_path_record(__u8 action, __u8 access,
								  struct path_decision *pd)
{
	struct actgate_decision *rec;

	if (!wants_record(&pd->v))
		return NULL;
	rec = begin_record(action, pd->g.cgroup_id, pd->workload_id, pd->policy_id, pd->pol,
			   &pd->v);
	if (rec) {
		rec->access = access;
		rec->signal_generation = pd->g.signal_generation;
		rec->dev = pd->dev;
		rec->ino = pd->ino;
		if (!pd->ino)
			inode_identity(target_dentry(pd->dentry, pd->new_entry), &rec->dev,
				       &rec->ino);
	}
	return rec;
}

/*
 * The whole decision for an exec or open of file, in a hook where
 * bpf_d_path is allowed: match, record, and return the hook's verdict.
 * file is the hook's own argument (a trusted pointer): its fields are read
 * with plain loads, cheaper than probe reads.
 */
static __always_inline int check_file(__u8 action, struct file *file, __u8 asked)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;

	if (!governing_workload(&pd.g))
		return 0;
	/*
	 * execve opens its binary (FMODE_EXEC) before bprm_check_security: for a
	 * revoked or expired workload, which is denied everything, leave the
	 * denial to that hook, so that the record says exec, as it was.
	 * bprm_check_security always follows that open in execve (uselib(2)
	 * maps what it opened, which mmap_file decides).
	 */
	if (action == ACTGATE_ACTION_OPEN && asked != ACTGATE_ACCESS_EXEC_MAP &&
	    ((file->f_mode & FMODE_EXEC) || (file->f_flags & __FMODE_EXEC)) &&
	    workload_denied_whole(&pd.g))
		return 0;
	decide_path(action, file->f_path.mnt, file->f_path.dentry, asked, 0, &pd);
	rec = begin_path_record(action, action == ACTGATE_ACTION_OPEN ? asked : 0, &pd);
	if (rec) {
		/* f_path is const in newer kernels; bpf_d_path only reads it. */
		record_path(rec, (struct path *)&file->f_path);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

#endif /* ACTGATE_BPF_LIB_DECIDE_H */
