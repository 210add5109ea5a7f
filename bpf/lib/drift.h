/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Drift: code that was not on the machine before a workload put it there.
 * exec's `written: deny` denies executing, and mapping executable, a file
 * whose content a governed task wrote (written_files, kept by
 * bpf/drift.bpf.c) or one that lives on no file system a path reaches
 * (memfd_create, SysV shared memory: the kernel's internal mounts). And an
 * exec deny rule denies mapping its file executable too, so that the
 * dynamic loader (`ld.so /usr/bin/denied`) cannot run what exec denies.
 */
#ifndef ACTGATE_BPF_LIB_DRIFT_H
#define ACTGATE_BPF_LIB_DRIFT_H

#include "lib/decide.h"
#include "lib/governance.h"
#include "lib/grant.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

/*
 * include/linux/fs.h: a superblock the kernel mounted for itself
 * (kern_mount: shmem's shm_mnt for memfd_create and SysV shared memory,
 * hugetlbfs's for MFD_HUGETLB), never reachable by a path. Stable value,
 * not in BTF.
 */
#define SB_KERNMOUNT (1 << 22)
/* include/uapi/asm-generic/errno-base.h */
#define EEXIST 17
#define ENOSPC 28

/* The key of inode in written_files. */
static __always_inline void written_key(struct inode *inode, struct actgate_written_key *key)
{
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->generation = BPF_CORE_READ(inode, i_generation);
	key->ino = BPF_CORE_READ(inode, i_ino);
}

/* Is the file on a mount the kernel made for itself (memfd, SysV shm)? */
static __always_inline int inode_anonymous(struct inode *inode)
{
	return (BPF_CORE_READ(inode, i_sb, s_flags) & SB_KERNMOUNT) != 0;
}

/* Did a governed task write the file, or is it anonymous? */
static __always_inline int inode_drifted(struct inode *inode)
{
	struct actgate_written_key key = {};

	if (inode_anonymous(inode))
		return 1;
	written_key(inode, &key);
	return bpf_map_lookup_elem(&written_files, &key) != NULL;
}

/*
 * Remember that a governed task (of workload_id) writes inode. Only regular
 * files can be executed or mapped; anonymous ones are denied as such.
 * Returns 0, or -ENOSPC when the mark cannot be kept (counted): the caller
 * refuses the write, so that no written file goes unmarked.
 */
static __always_inline int mark_written(struct inode *inode, __u64 workload_id)
{
	struct actgate_written_key key = {};
	struct actgate_written value = { .workload_id = workload_id };

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG || inode_anonymous(inode))
		return 0;
	written_key(inode, &key);
	if (bpf_map_lookup_elem(&written_files, &key))
		return 0;
	/* BPF_NOEXIST: the first writer stays; -EEXIST is another CPU marking it first. */
	switch (bpf_map_update_elem(&written_files, &key, &value, BPF_NOEXIST)) {
	case 0:
	case -EEXIST:
		return 0;
	}
	count_failure(ACTGATE_FAILURE_WRITTEN_MARK);
	return -ENOSPC;
}

/*
 * The policy's `written:` decision on a drifted file, when it outranks v
 * (the exec decision so far): enforced or audited as the policy says,
 * reason written. An exec grant on the file lifts it like any deny.
 */
static __always_inline void apply_written(const struct governance *g,
					  const struct actgate_policy *pol, struct inode *inode,
					  struct verdict *v)
{
	const struct actgate_decision_slot *w;
	__u32 dev;
	__u64 ino;

	if (!pol)
		return;
	w = &pol->action[ACTGATE_ACTION_EXEC].dflt[ACTGATE_EXEC_WRITTEN_SLOT];
	if (!w->set || decision_rank(w->verdict, w->mode) <= decision_rank(v->verdict, v->mode))
		return;
	if (!inode_drifted(inode))
		return;
	take_decision(v, w, ACTGATE_REASON_WRITTEN);
	if (!(g->flags & ACTGATE_WORKLOAD_HAS_GRANTS))
		return;
	dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ino = BPF_CORE_READ(inode, i_ino);
	apply_inode_grant(g, ACTGATE_ACTION_EXEC, dev, ino, v);
}

/*
 * execve (and execveat, fexecve) of file: its exec rules, then `written:`.
 * bprm_check_security allows bpf_d_path; file is the hook's trusted pointer.
 */
static __always_inline int check_exec_file(struct file *file)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;

	if (!governing_workload(&pd.g))
		return 0;
	decide_file(ACTGATE_ACTION_EXEC, file, ACTGATE_ACCESS_WHOLE, &pd);
	apply_written(&pd.g, pd.pol, file->f_inode, &pd.v);
	rec = begin_path_record(ACTGATE_ACTION_EXEC, 0, &pd);
	if (rec) {
		/* f_path is const in newer kernels; bpf_d_path only reads it. */
		record_path(rec, (struct path *)&file->f_path);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/*
 * Mapping the file at (mnt, dentry) executable (dentry a BTF pointer): open's exec-map decision,
 * and the exec section's on the same file when it denies by a rule (not by
 * its default: libraries are not programs an exec allow-list names) or by
 * `written:`; the higher rank answers, the exec-map decision on a tie. The
 * record is an open with access exec-map naming the deciding rule, of
 * either section.
 */
static __always_inline void decide_exec_map(struct vfsmount *mnt, struct dentry *dentry,
					    struct inode *inode, struct file *memo,
					    struct path_decision *pd)
{
	const struct actgate_action_policy *ap;
	struct verdict open_v, exec_v = {};

	/* The loader's mapping of the file an exec just opened takes that walk's answer. */
	if (memo) {
		pd->memo_file = (__u64)memo;
		file_identity(memo, &pd->memo_dev, &pd->memo_ino);
	}
	decide_path_btf(ACTGATE_ACTION_OPEN, mnt, dentry, ACTGATE_ACCESS_EXEC_MAP, 0, pd);
	if (!pd->pol)
		return; /* denied whole already (revoked, expired, no policy) */
	ap = &pd->pol->action[ACTGATE_ACTION_EXEC];
	if (!ap->has_deny_rules && !ap->dflt[ACTGATE_EXEC_WRITTEN_SLOT].set)
		return;
	/*
	 * The exec decision reuses pd (same workload, policy and file) rather
	 * than a second path_decision: with the path walk's own frame, two of
	 * them pass the verifier's 512-byte stack. The memo answers exec-map,
	 * not exec.
	 */
	open_v = pd->v;
	if (ap->has_deny_rules) {
		pd->memo_file = 0;
		decide_path_btf(ACTGATE_ACTION_EXEC, mnt, dentry, ACTGATE_ACCESS_WHOLE, 0, pd);
		exec_v = pd->v;
		if (exec_v.verdict == ACTGATE_VERDICT_DENY && exec_v.reason == ACTGATE_REASON_DEFAULT)
			exec_v.verdict = ACTGATE_VERDICT_ALLOW; /* a default: no opinion on mappings */
	}
	apply_written(&pd->g, pd->pol, inode, &exec_v);
	pd->v = decision_rank(exec_v.verdict, exec_v.mode) > decision_rank(open_v.verdict, open_v.mode)
			? exec_v
			: open_v;
}

#endif /* ACTGATE_BPF_LIB_DRIFT_H */
