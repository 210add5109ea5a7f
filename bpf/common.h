/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Helpers every hook uses: who governs the current task, the policy lookup,
 * path matching by inode, and the decision record.
 */
#ifndef ACTGATE_BPF_COMMON_H
#define ACTGATE_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.h"

#define EPERM 1
#define ENOMEM 12

/* A decision in the making; filled by the matcher, read by the recorder. */
struct verdict {
	__u32 rule_id;
	__u8 verdict;
	__u8 reason;
};

/* The workload of the cgroup hierarchy alone: the deepest registered cgroup on
 * the path from the task's cgroup up to the root, so that every descendant of
 * a governed cgroup is governed, including cgroups created after the
 * workload started.
 */
static __always_inline struct actgate_workload *workload_by_cgroup(__u64 own, __u64 *key)
{
	struct actgate_workload *found, *deepest = NULL;
	__u64 id;
	int level;

	found = bpf_map_lookup_elem(&workloads, &own);
	if (found) {
		*key = own;
		return found;
	}
	/* Level 0 is the root cgroup, which is never a workload. */
	for (level = 1; level < ACTGATE_MAX_CGROUP_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		/* 0: above the task's own depth; own: the task's cgroup, checked above. */
		if (id == 0 || id == own)
			break;
		found = bpf_map_lookup_elem(&workloads, &id);
		if (found) {
			deepest = found;
			*key = id;
		}
	}
	return deepest;
}

/* What governs the current task. */
struct governance {
	struct actgate_workload *wl; /* NULL: an orphan (its workload is gone) */
	__u64 cgroup_id;             /* the task's own cgroup, for the record */
};

/*
 * A task's mark, when it has one, wins over its cgroup: a task cannot leave
 * its workload by moving to another cgroup, governed or not. Without a mark,
 * the cgroup decides and the task is marked from then on. Returns 0 when the
 * task is not governed at all.
 */
static __always_inline int governing_workload(struct governance *g)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct actgate_task_mark *mark;
	__u64 key = 0;

	g->cgroup_id = bpf_get_current_cgroup_id();
	mark = bpf_task_storage_get(&task_marks, task, 0, 0);
	if (mark) {
		key = mark->workload_cgroup_id;
		g->wl = bpf_map_lookup_elem(&workloads, &key);
		return 1;
	}
	g->wl = workload_by_cgroup(g->cgroup_id, &key);
	if (!g->wl)
		return 0;
	mark = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (mark)
		mark->workload_cgroup_id = key;
	return 1;
}

/*
 * The policy of a governed task. NULL, with a deny verdict in v, when it
 * cannot be found: a governed task fails closed. *policy_id and
 * *workload_id are set whenever the workload exists.
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
		v->verdict = ACTGATE_VERDICT_DENY;
		v->reason = ACTGATE_REASON_ORPHAN;
		return NULL;
	}
	*policy_id = wl->policy_id;
	*workload_id = wl->workload_id;
	pol = bpf_map_lookup_elem(&policies, policy_id);
	if (!pol) {
		v->verdict = ACTGATE_VERDICT_DENY;
		v->reason = ACTGATE_REASON_NO_POLICY;
	}
	return pol;
}

static __always_inline void decide_default(const struct actgate_action_policy *ap, struct verdict *v)
{
	v->verdict = ap->default_verdict;
	v->rule_id = ap->default_rule_id;
	v->reason = ACTGATE_REASON_DEFAULT;
}

static __always_inline int lookup_path_rule(struct actgate_path_key *key, __u8 kind, __u32 dev,
					    __u64 ino, struct verdict *v)
{
	struct actgate_rule_verdict *rv;

	key->kind = kind;
	key->dev = dev;
	key->ino = ino;
	rv = bpf_map_lookup_elem(&path_rules, key);
	if (!rv)
		return 0;
	v->verdict = rv->verdict;
	v->rule_id = rv->rule_id;
	v->reason = ACTGATE_REASON_RULE;
	return 1;
}

/* The state of one ancestor walk, shared with the bpf_loop callback. */
struct path_walk {
	struct actgate_path_key key;
	struct mount *mnt;
	struct dentry *d;
	__u32 rule_id;
	__u8 verdict;
	__u8 found;   /* a subtree rule matched */
	__u8 at_root; /* reached the namespace's root without a match */
};

/*
 * One level up: the parent directory, or across a mount to its mount point.
 * A bpf_loop callback: 0 goes on, 1 stops.
 */
static long walk_step(__u32 index, void *data)
{
	struct path_walk *w = data;
	/*
	 * Locals, not w->d inside BPF_CORE_READ: the macro would relocate the
	 * access to our own struct path_walk, which the kernel's BTF lacks.
	 */
	struct dentry *d = w->d, *parent;
	struct mount *mnt = w->mnt, *parent_mnt;
	struct actgate_rule_verdict *rv;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent)
		return 1; /* unreadable: neither found nor at the root, so it fails closed */
	if (parent == d) {
		/* Root of this mount: continue at the mount point in the parent mount. */
		parent_mnt = BPF_CORE_READ(mnt, mnt_parent);
		if (!parent_mnt)
			return 1;
		if (parent_mnt == mnt) {
			w->at_root = 1; /* the namespace's root mount */
			return 1;
		}
		parent = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent_mnt;
	}
	w->d = parent;
	w->key.dev = BPF_CORE_READ(parent, d_inode, i_sb, s_dev);
	w->key.ino = BPF_CORE_READ(parent, d_inode, i_ino);
	rv = bpf_map_lookup_elem(&path_rules, &w->key);
	if (!rv)
		return 0;
	w->found = 1;
	w->verdict = rv->verdict;
	w->rule_id = rv->rule_id;
	return 1;
}

/*
 * Match the file at (mnt, dentry) against the policy's rules for one action.
 * Most specific wins: an exact rule on the file, then a subtree rule on the
 * file itself (a directory), then subtree rules on each ancestor, nearest
 * first. The walk follows d_parent and crosses mount points through
 * struct mount, so it sees the real ancestors whatever path the task used
 * (bind mounts, chroot, /proc/self/root, relative paths, openat dirfds).
 *
 * All reads go through BPF_CORE_READ: after the first mount crossing the
 * pointers come from container_of arithmetic, which the verifier only allows
 * on probe-read (scalar) pointers. The walk runs in bpf_loop, so that its
 * bound (ACTGATE_MAX_PATH_WALK levels) costs the verifier one iteration; a
 * file deeper than that is denied (reason too-deep) rather than decided
 * without the rules above it: a workload could otherwise nest a file out of
 * reach of a directory rule.
 */
static __always_inline void match_path(__u32 policy_id, __u8 action,
				       const struct actgate_action_policy *ap,
				       struct vfsmount *vfsmnt, struct dentry *dentry,
				       __u32 *dev_out, __u64 *ino_out, struct verdict *v)
{
	struct path_walk w = {};
	__u32 dev;
	__u64 ino;

	dev = BPF_CORE_READ(dentry, d_inode, i_sb, s_dev);
	ino = BPF_CORE_READ(dentry, d_inode, i_ino);
	*dev_out = dev;
	*ino_out = ino;

	if (!ap->has_rules) {
		decide_default(ap, v);
		return;
	}
	w.key.policy_id = policy_id;
	w.key.action = action;
	if (lookup_path_rule(&w.key, ACTGATE_PATH_EXACT, dev, ino, v))
		return;
	if (lookup_path_rule(&w.key, ACTGATE_PATH_SUBTREE, dev, ino, v))
		return;
	if (!ap->has_subtree_rules) {
		decide_default(ap, v);
		return;
	}

	w.mnt = container_of(vfsmnt, struct mount, mnt);
	w.d = dentry;
	bpf_loop(ACTGATE_MAX_PATH_WALK, walk_step, &w, 0);
	if (w.found) {
		v->verdict = w.verdict;
		v->rule_id = w.rule_id;
		v->reason = ACTGATE_REASON_RULE;
	} else if (w.at_root) {
		decide_default(ap, v);
	} else {
		v->verdict = ACTGATE_VERDICT_DENY;
		v->rule_id = 0;
		v->reason = ACTGATE_REASON_TOO_DEEP;
	}
}

/*
 * Does the policy want this decision in the journal? Without a policy (a
 * governed task failing closed) it is always recorded.
 */
static __always_inline int wants_record(const struct actgate_policy *pol, const struct verdict *v)
{
	if (!pol || pol->record == ACTGATE_RECORD_ALL)
		return 1;
	return pol->record == ACTGATE_RECORD_DENY && v->verdict == ACTGATE_VERDICT_DENY;
}

/* The record under construction for this CPU, with the common fields set. */
static __always_inline struct actgate_decision *
begin_record(__u8 action, __u64 cgroup_id, __u64 workload_id, __u32 policy_id,
	     const struct actgate_policy *pol, __u8 mode, const struct verdict *v)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct actgate_decision *rec;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0;

	rec = bpf_map_lookup_elem(&scratch, &zero);
	if (!rec)
		return NULL;
	rec->hdr.type = ACTGATE_RECORD_DECISION;
	rec->hdr.abi_version = ACTGATE_ABI_VERSION;
	rec->hdr.time_boot_ns = bpf_ktime_get_boot_ns();
	rec->cgroup_id = cgroup_id;
	rec->workload_id = workload_id;
	rec->policy_id = policy_id;
	rec->generation = pol ? pol->generation : 0;
	rec->rule_id = v->rule_id;
	rec->pid = (__u32)pid_tgid;
	rec->tgid = pid_tgid >> 32;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->path_error = 0;
	rec->action = action;
	rec->verdict = v->verdict;
	rec->mode = mode;
	rec->reason = v->reason;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	rec->family = 0;
	rec->port = 0;
	rec->protocol = 0;
	__builtin_memset(rec->addr, 0, sizeof(rec->addr));
	rec->dev = 0;
	rec->ino = 0;
	rec->path_len = 0;
	return rec;
}

/*
 * Wake the daemon only once records pile up: a wake-up per record costs the
 * daemon a context switch and a read per decision, on the CPU the workload
 * runs on. The daemon also drains on a short timer, so a quiet trickle of
 * records waits at most ACTGATE_DRAIN_INTERVAL_MS.
 */
static __always_inline __u64 wakeup_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= ACTGATE_WAKEUP_BYTES)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Send the record, sized to its path; count it per action when it does not fit. */
static __always_inline void submit_record(struct actgate_decision *rec)
{
	__u64 path_len = rec->path_len;
	__u32 action = rec->action;
	__u64 *count;

	/*
	 * Bound the length in the register that is passed: clang would drop a
	 * plain mask after a comparison and hand the verifier an unbounded copy.
	 * A path of exactly PATH_MAX bytes loses its NUL and is shown by inode.
	 */
	_Static_assert(ACTGATE_PATH_BUF == 0x1000, "the mask below assumes a 4 KiB path buffer");
	asm volatile("%[len] &= 0xfff" : [len] "+r"(path_len));
	rec->hdr.size = ACTGATE_DECISION_FIXED_SIZE + path_len;
	if (bpf_ringbuf_output(&events, rec, ACTGATE_DECISION_FIXED_SIZE + path_len,
			       wakeup_flags()) == 0)
		return;
	count = bpf_map_lookup_elem(&dropped, &action);
	if (count)
		*count += 1;
}

/* Fill the readable path of an exec/open target. */
static __always_inline void record_path(struct actgate_decision *rec, struct path *path)
{
	long len = bpf_d_path(path, rec->target_path, sizeof(rec->target_path));

	if (len < 0) {
		rec->path_error = len;
		rec->path_len = 0;
		return;
	}
	rec->path_len = len;
}

/* What the hook returns for a verdict under a mode. */
static __always_inline int verdict_errno(__u8 mode, const struct verdict *v)
{
	__u32 enforce_deny = v->verdict == ACTGATE_VERDICT_DENY && mode == ACTGATE_MODE_ENFORCE;

	/*
	 * Hide the flag's 0/1 range from clang: otherwise it returns the
	 * branchless -(a & b), whose range 6.12's verifier cannot bound to
	 * [-4095, 0] as it requires of an LSM program's return value.
	 */
	barrier_var(enforce_deny);
	if (enforce_deny)
		return -EPERM;
	return 0;
}

/*
 * The whole decision for an exec or open of file: find the governing
 * workload, match its policy, record, and return the hook's verdict.
 * Ungoverned tasks pay only the cgroup lookup.
 */
static __always_inline int check_file(__u8 action, struct file *file)
{
	struct governance g;
	struct actgate_policy *pol;
	struct actgate_decision *rec;
	struct verdict v = {};
	__u64 workload_id;
	__u32 policy_id;
	__u32 dev = 0;
	__u64 ino = 0;
	__u8 mode = ACTGATE_MODE_ENFORCE;

	if (!governing_workload(&g))
		return 0;
	pol = governing_policy(&g, &policy_id, &workload_id, &v);
	if (pol) {
		mode = pol->mode;
		match_path(policy_id, action, &pol->action[action], BPF_CORE_READ(file, f_path.mnt),
			   BPF_CORE_READ(file, f_path.dentry), &dev, &ino, &v);
	}
	rec = wants_record(pol, &v) ? begin_record(action, g.cgroup_id, workload_id, policy_id,
						  pol, mode, &v)
				    : NULL;
	if (rec) {
		rec->dev = dev;
		rec->ino = ino;
		/* f_path is const in newer kernels; bpf_d_path only reads it. */
		record_path(rec, (struct path *)&file->f_path);
		submit_record(rec);
	}
	return verdict_errno(mode, &v);
}

#endif /* ACTGATE_BPF_COMMON_H */
