/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The whole decision about a file for a governed task: governance, path
 * match, grant, and the record of it (check_file_of for the hooks where
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
	/* Set by the caller before decide_path (zero: neither). */
	__u8 extra;           /* more accesses to answer from the walk, into v_extra */
	__u64 memo_file;      /* a file an exec's open may have answered for (exec-map) */
	__u32 memo_dev;
	__u64 memo_ino;
	struct verdict v_extra;
};

/*
 * The identity an exec memo is keyed by: the file's inode, by plain loads
 * from the hook's own (trusted) file pointer.
 */
static __always_inline void file_identity(struct file *file, __u32 *dev, __u64 *ino)
{
	struct inode *inode = file->f_inode;

	*dev = inode->i_sb->s_dev;
	*ino = inode->i_ino;
}

/*
 * The memo (abi.h, actgate_exec_memo) an exec's open left for this very
 * file under this very policy, if any. An answer holds for the same struct
 * file only (the binary's and its interpreter's, which no one can reach by
 * a descriptor to map them again), the same inode, and the policy id the
 * workload has now (a reload or a signal change gives it another); and only
 * until the task's next ordinary open (check_file_of clears them), which for
 * a dynamic program is ld.so's first library, soon after the exec.
 */
static __always_inline const struct actgate_exec_memo *
exec_memo_find(const struct actgate_task_mark *mark, const struct path_decision *pd)
{
	const struct actgate_exec_memo *m;
	int i;

	if (!mark)
		return NULL;
	for (i = 0; i < ACTGATE_EXEC_MEMOS; i++) {
		m = &mark->memo[i];
		if (m->file == pd->memo_file && m->ino == pd->memo_ino && m->dev == pd->memo_dev &&
		    m->policy_id == pd->policy_id)
			return m;
	}
	return NULL;
}

/*
 * Decide an action on (mnt, dentry) for a governed task: the caller has
 * filled pd->g with governing_workload() first, so that ungoverned tasks
 * pay for nothing but the cgroup lookup (not even reading the target).
 * btf, a constant: dentry is a BTF pointer (decide_path_btf), read with
 * plain loads; else it came from a probe read (decide_path). own_inode:
 * the file's inode where the kernel vouches for the pointer (the hook's
 * own file's f_inode), else NULL (lib/path.h, match_path).
 */
static __always_inline void decide_path_of(__u8 action, struct vfsmount *mnt,
					   struct dentry *dentry, __u8 asked, int new_entry,
					   struct path_decision *pd, int btf,
					   struct inode *own_inode)
{
	pd->dev = 0;
	pd->ino = 0;
	pd->dentry = dentry;
	pd->new_entry = new_entry;
	const struct actgate_exec_memo *m = NULL;

	pd->pol = governing_policy(&pd->g, &pd->policy_id, &pd->workload_id, &pd->v);
	if (!pd->pol)
		return;
	if (pd->memo_file)
		m = exec_memo_find(pd->g.mark, pd);
	if (m) {
		/* The same answer match_path gave the exec's open, before grants. */
		pd->v.rule_id = m->rule_id;
		pd->v.verdict = m->verdict;
		pd->v.mode = m->mode;
		pd->v.record = m->record;
		pd->v.reason = m->reason;
	} else {
		match_path(pd->policy_id, action, &pd->pol->action[action], mnt, dentry, asked,
			   new_entry, &pd->dev, &pd->ino, &pd->v, pd->extra, &pd->v_extra, btf,
			   own_inode);
	}
	/* A name about to be created has no inode for a grant to name. */
	if (new_entry || !grant_may_lift(&pd->g, &pd->v))
		return;
	if (!pd->ino)
		inode_identity(dentry, &pd->dev, &pd->ino);
	apply_inode_grant(&pd->g, action, pd->dev, pd->ino, &pd->v);
}

/* dentry came from a probe read (BPF_CORE_READ): a scalar to the verifier. */
static __always_inline void decide_path(__u8 action, struct vfsmount *mnt, struct dentry *dentry,
					__u8 asked, int new_entry, struct path_decision *pd)
{
	decide_path_of(action, mnt, dentry, asked, new_entry, pd, 0, NULL);
}

/* dentry is a hook's argument, or read from one with plain loads. */
static __always_inline void decide_path_btf(__u8 action, struct vfsmount *mnt,
					    struct dentry *dentry, __u8 asked, int new_entry,
					    struct path_decision *pd)
{
	decide_path_of(action, mnt, dentry, asked, new_entry, pd, 1, NULL);
}

/* The hook's own file: its f_inode is a pointer the kernel vouches for. */
static __always_inline void decide_file(__u8 action, struct file *file, __u8 asked,
					struct path_decision *pd)
{
	decide_path_of(action, file->f_path.mnt, file->f_path.dentry, asked, 0, pd, 1,
		       file->f_inode);
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
_Static_assert((ACTGATE_EXEC_MEMOS & (ACTGATE_EXEC_MEMOS - 1)) == 0, "a mask picks the memo");

/* Keep what an exec's open answered for mapping the file executable. */
static __always_inline void exec_memo_store(struct actgate_task_mark *mark, struct file *file,
					    const struct path_decision *pd)
{
	struct actgate_exec_memo *m;
	__u32 i;

	if (!mark)
		return;
	i = mark->memo_next & (ACTGATE_EXEC_MEMOS - 1);
	mark->memo_next = i + 1;
	m = &mark->memo[i];
	m->file = (__u64)file;
	file_identity(file, &m->dev, &m->ino);
	m->policy_id = pd->policy_id;
	m->rule_id = pd->v_extra.rule_id;
	m->verdict = pd->v_extra.verdict;
	m->mode = pd->v_extra.mode;
	m->record = pd->v_extra.record;
	m->reason = pd->v_extra.reason;
}

static __always_inline void exec_memo_clear(struct actgate_task_mark *mark)
{
	int i;

	if (!mark)
		return;
	for (i = 0; i < ACTGATE_EXEC_MEMOS; i++)
		mark->memo[i].file = 0;
}

/*
 * The decision of an open (or another action on an open file), recorded as
 * the policy says; 0 or -EPERM. pd is zeroed but for pd->g, the governed
 * task's governance (governing_workload), which the caller has used for
 * its own checks: one lookup for the whole hook.
 */
static __always_inline int check_file_of(struct path_decision *pd, __u8 action,
					 struct file *file, __u8 asked)
{
	struct actgate_decision *rec;
	int exec_open = 0;

	if (action == ACTGATE_ACTION_OPEN && asked != ACTGATE_ACCESS_EXEC_MAP) {
		exec_open = (file->f_mode & FMODE_EXEC) || (file->f_flags & __FMODE_EXEC);
		/* An ordinary open: whatever exec opened them for is over. */
		if (!exec_open)
			exec_memo_clear(pd->g.mark);
	}
	/*
	 * execve opens its binary (FMODE_EXEC) before bprm_check_security: for a
	 * revoked or expired workload, which is denied everything, leave the
	 * denial to that hook, so that the record says exec, as it was.
	 * bprm_check_security always follows that open in execve (uselib(2)
	 * maps what it opened, which mmap_file decides).
	 */
	if (exec_open && workload_denied_whole(&pd->g))
		return 0;
	/*
	 * One walk per file of an exec: its open answers exec-map too, and the
	 * loader's executable mappings of the same file take that answer.
	 */
	if (exec_open) {
		pd->extra = ACTGATE_ACCESS_EXEC_MAP;
	} else if (action == ACTGATE_ACTION_OPEN && asked == ACTGATE_ACCESS_EXEC_MAP) {
		pd->memo_file = (__u64)file;
		file_identity(file, &pd->memo_dev, &pd->memo_ino);
	}
	decide_file(action, file, asked, pd);
	if (exec_open && pd->pol)
		exec_memo_store(pd->g.mark, file, pd);
	rec = begin_path_record(action, action == ACTGATE_ACTION_OPEN ? asked : 0, pd);
	if (rec) {
		/* f_path is const in newer kernels; bpf_d_path only reads it. */
		record_path(rec, (struct path *)&file->f_path);
		submit_decision(rec, &pd->v);
	}
	return verdict_errno(&pd->v);
}

#endif /* ACTGATE_BPF_LIB_DECIDE_H */
