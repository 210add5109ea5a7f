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
/*
 * include/linux/fs.h: a file execve (or uselib) opened. 6.1 keeps it only in
 * f_flags (__FMODE_EXEC, an open flag no open(2) can pass); newer kernels
 * also set FMODE_EXEC in f_mode.
 */
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20
#define ENOMEM 12
#define ENAMETOOLONG 36
/* include/linux/dcache.h and fs.h: stable flag values, not in BTF. */
#define DCACHE_DISCONNECTED 0x20
#define SB_NOUSER (1u << 31)

/*
 * The decision that answers an action: the verdict with the mode and record
 * setting of the rule (or default) that gave it. Filled by the matchers,
 * read by the recorder and by verdict_errno.
 */
struct verdict {
	__u32 rule_id;
	__u8 verdict; /* enum actgate_verdict */
	__u8 mode;    /* enum actgate_mode */
	__u8 record;  /* enum actgate_record */
	__u8 reason;  /* enum actgate_reason */
};

/*
 * A governed task that cannot be decided by its policy (no workload, no
 * policy, a path beyond the walk): denied, enforced and always recorded,
 * whatever the policy's audit mode or record setting would have been.
 */
static __always_inline void fail_closed(struct verdict *v, __u8 reason)
{
	v->verdict = ACTGATE_VERDICT_DENY;
	v->mode = ACTGATE_MODE_ENFORCE;
	v->record = ACTGATE_RECORD_ALL;
	v->reason = reason;
	v->rule_id = 0;
}

/* The decision of one slot (a path entry's or a default). */
static __always_inline void take_decision(struct verdict *v, const struct actgate_decision_slot *s,
					  __u8 reason)
{
	v->rule_id = s->rule_id;
	v->verdict = s->verdict;
	v->mode = s->mode;
	v->record = s->record;
	v->reason = reason;
}

/*
 * How decisions combine (src/policy.h, policy_decision_rank): an enforced
 * deny beats an audited deny, which beats an allow.
 */
static __always_inline int decision_rank(__u8 verdict, __u8 mode)
{
	if (verdict != ACTGATE_VERDICT_DENY)
		return 0;
	return mode == ACTGATE_MODE_ENFORCE ? 2 : 1;
}

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
		copy_workload(g);
		return 1;
	}
	g->wl = workload_by_cgroup(g->cgroup_id, &key);
	if (!g->wl)
		return 0;
	copy_workload(g);
	mark = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (mark)
		mark->workload_cgroup_id = key;
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
	if (g->flags & ACTGATE_WORKLOAD_REVOKED)
		return 1;
	return g->expires_boot_ns && bpf_ktime_get_boot_ns() >= g->expires_boot_ns;
}

/* Time-bound grants: they need struct governance and struct verdict above. */
#include "grant.h"

/* The default of an action without accesses (exec, connect): slot 0. */
static __always_inline void decide_default(const struct actgate_action_policy *ap, struct verdict *v)
{
	take_decision(v, &ap->dflt[0], ACTGATE_REASON_DEFAULT);
}

/*
 * The state of one match: the key being looked up, the walk's position, and
 * per access slot the first entry's decision that set it.
 */
struct path_walk {
	struct actgate_path_key key;
	struct mount *mnt;
	struct dentry *d;
	struct super_block *sb; /* whose s_dev is key.dev: read again only when it changes */
	struct actgate_decision_slot got[ACTGATE_ACCESS_SLOTS];
	__u8 need;    /* slots asked for that no entry has decided yet */
	__u8 at_root; /* reached the namespace's root */
	__u8 disconnected; /* reached a dentry whose directories the kernel does not know */
};

/* Take from one entry every slot still needed that it decides. */
static __always_inline void take_slots(struct path_walk *w, const struct actgate_path_value *pv)
{
	int s;

	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		if (!(w->need & (1 << s)) || !pv->slot[s].set)
			continue;
		w->got[s] = pv->slot[s];
		w->need &= ~(1 << s);
	}
}

static __always_inline void lookup_slots(struct path_walk *w, __u8 kind)
{
	struct actgate_path_value *pv;

	w->key.kind = kind;
	pv = bpf_map_lookup_elem(&path_rules, &w->key);
	if (pv)
		take_slots(w, pv);
}

/*
 * One level up: the parent directory, or across a mount to its mount point,
 * and its subtree entry. A bpf_loop callback: 0 goes on, 1 stops.
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
	struct actgate_path_value *pv;
	struct super_block *sb;
	struct inode *inode;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent)
		return 1; /* unreadable: not at the root, so it fails closed */
	if (parent == d) {
		/*
		 * A file opened by handle (open_by_handle_at) whose directories
		 * are not in the dcache gets a disconnected dentry: it is its
		 * own parent, so the rules above it cannot be seen and the walk
		 * stops short of the root, failing closed. Pseudo files (pipes,
		 * sockets, anonymous inodes: SB_NOUSER) have no directories to
		 * see, and older kernels marked them disconnected too
		 * (d_alloc_pseudo): their walk ends at the root of their
		 * internal mount, as before.
		 */
		if ((BPF_CORE_READ(d, d_flags) & DCACHE_DISCONNECTED) &&
		    !(BPF_CORE_READ(d, d_sb, s_flags) & SB_NOUSER)) {
			w->disconnected = 1;
			return 1;
		}
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
	/* Each probe read costs ~100 instructions: read the inode once, s_dev on a new sb only. */
	inode = BPF_CORE_READ(parent, d_inode);
	sb = BPF_CORE_READ(inode, i_sb);
	if (sb != w->sb) {
		w->sb = sb;
		w->key.dev = BPF_CORE_READ(sb, s_dev);
	}
	w->key.ino = BPF_CORE_READ(inode, i_ino);
	pv = bpf_map_lookup_elem(&path_rules, &w->key);
	if (!pv)
		return 0;
	take_slots(w, pv);
	return w->need == 0;
}

/* The directory a new name is created in, or the file itself. */
static __always_inline struct dentry *target_dentry(struct dentry *dentry, int new_entry)
{
	return new_entry ? BPF_CORE_READ(dentry, d_parent) : dentry;
}

/* The inode identity of dentry, as path_rules keys hold it. */
static __always_inline struct super_block *inode_identity(struct dentry *dentry, __u32 *dev,
							  __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);

	*dev = BPF_CORE_READ(sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
	return sb;
}

/*
 * Match the file at (mnt, dentry) against the policy's rules for one action
 * and the accesses asked for (a set of enum actgate_access bits; exec and
 * unix connects ask for ACTGATE_ACCESS_WHOLE).
 *
 * Each access is decided on its own, most specific first: an exact entry on
 * the file, then a subtree entry on the file itself (a directory), then
 * subtree entries on each ancestor, nearest first; the first entry that
 * decides an access (its slot is set) answers for it, and the walk stops
 * once every access asked for is answered. Accesses no entry decides take
 * the policy's default for the slot. The answers combine by rank (enforced
 * deny, audited deny, allow), the first in slot order winning a tie: that
 * decision is the open's, with its rule, mode and record setting.
 *
 * new_entry: the dentry is a name about to be created in its parent
 * directory (path_mknod): no inode exists to carry an exact rule, so only
 * subtree entries of the directory and its ancestors decide.
 *
 * The walk follows d_parent and crosses mount points through struct mount,
 * so it sees the real ancestors whatever path the task used (bind mounts,
 * chroot, /proc/self/root, relative paths, openat dirfds).
 *
 * All reads go through BPF_CORE_READ: after the first mount crossing the
 * pointers come from container_of arithmetic, which the verifier only allows
 * on probe-read (scalar) pointers. The walk runs in bpf_loop, so that its
 * bound (ACTGATE_MAX_PATH_WALK levels) costs the verifier one iteration; an
 * access still undecided when the bound is reached denies the action (reason
 * too-deep) rather than fall to the default: a workload could otherwise nest
 * a file out of reach of a directory rule.
 */
static __always_inline void match_path(__u32 policy_id, __u8 action,
				       const struct actgate_action_policy *ap,
				       struct vfsmount *vfsmnt, struct dentry *dentry, __u8 asked,
				       int new_entry, __u32 *dev_out, __u64 *ino_out,
				       struct verdict *v)
{
	struct path_walk w = {};
	struct dentry *start;
	int best = -1, rank, walked = 0, s;

	w.need = asked & ACTGATE_ACCESS_ALL;

	/* Without rules the defaults decide: not even the target's identity is read. */
	if (ap->has_rules) {
		start = target_dentry(dentry, new_entry);
		w.key.policy_id = policy_id;
		w.key.action = action;
		w.sb = inode_identity(start, &w.key.dev, &w.key.ino);
		*dev_out = w.key.dev;
		*ino_out = w.key.ino;
		if (!new_entry)
			lookup_slots(&w, ACTGATE_PATH_EXACT);
		if (w.need)
			lookup_slots(&w, ACTGATE_PATH_SUBTREE);
		if (w.need && ap->has_subtree_rules) {
			w.key.kind = ACTGATE_PATH_SUBTREE;
			w.mnt = container_of(vfsmnt, struct mount, mnt);
			w.d = start;
			bpf_loop(ACTGATE_MAX_PATH_WALK, walk_step, &w, 0);
			walked = 1;
		}
	}
	if (w.need && walked && !w.at_root) {
		fail_closed(v, w.disconnected ? ACTGATE_REASON_DISCONNECTED : ACTGATE_REASON_TOO_DEEP);
		return;
	}
	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		const struct actgate_decision_slot *d;
		__u8 reason;

		if (!(asked & (1 << s)))
			continue;
		if (w.need & (1 << s)) {
			d = &ap->dflt[s];
			reason = ACTGATE_REASON_DEFAULT;
		} else {
			d = &w.got[s];
			reason = ACTGATE_REASON_RULE;
		}
		rank = decision_rank(d->verdict, d->mode);
		if (rank > best) {
			best = rank;
			take_decision(v, d, reason);
		}
	}
}

/* Does the decision ask to be journaled? */
static __always_inline int wants_record(const struct verdict *v)
{
	if (v->record == ACTGATE_RECORD_ALL)
		return 1;
	return v->record == ACTGATE_RECORD_DENY && v->verdict == ACTGATE_VERDICT_DENY;
}

/* The record under construction for this CPU, with the common fields set. */
static __always_inline struct actgate_decision *
begin_record(__u8 action, __u64 cgroup_id, __u64 workload_id, __u32 policy_id,
	     const struct actgate_policy *pol, const struct verdict *v)
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
	rec->mode = v->mode;
	rec->reason = v->reason;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	rec->family = 0;
	rec->port = 0;
	rec->protocol = 0;
	rec->access = 0;
	__builtin_memset(rec->pad, 0, sizeof(rec->pad));
	__builtin_memset(rec->addr, 0, sizeof(rec->addr));
	rec->dev = 0;
	rec->ino = 0;
	rec->signal_generation = 0; /* the caller sets the workload's */
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

/*
 * Fill the readable path of an exec/open target with bpf_d_path. The
 * verifier allows that helper only in programs attached to the hooks of its
 * allow list (for LSM programs: the hooks that may sleep, such as file_open,
 * bprm_check_security and mmap_file); other hooks use record_dentry_path.
 */
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

/*
 * The readable path built by hand, for hooks where bpf_d_path is refused:
 * names are prepended from the dentry up to the root of the mount namespace
 * into the first half of a scratch buffer (path_names), then copied into the
 * record.
 * Like d_path, the walk leaves a mount at its root (mnt_root, which for a
 * bind mount of a directory is that directory) for its mount point.
 */
struct name_walk {
	struct mount *mnt;
	struct dentry *d;
	__u32 pos;  /* the path so far starts at buf[pos]; it ends at buf[ACTGATE_PATH_BUF - 1] */
	__s32 error;
};

static long name_step(__u32 index, void *data)
{
	struct name_walk *w = data;
	struct dentry *d = w->d, *parent;
	struct mount *mnt = w->mnt, *parent_mnt;
	const unsigned char *name;
	__u32 zero = 0, len, pos;
	char *buf;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent) {
		w->error = -ENAMETOOLONG;
		return 1;
	}
	if (parent == d || d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		parent_mnt = BPF_CORE_READ(mnt, mnt_parent);
		if (!parent_mnt || parent_mnt == mnt)
			return 1; /* the namespace's root: done */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent_mnt;
		return 0;
	}
	buf = (char *)bpf_map_lookup_elem(&path_names, &zero);
	if (!buf) {
		w->error = -ENOMEM;
		return 1;
	}
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	pos = w->pos;
	if (len > 255 || len + 1 > pos) {
		w->error = -ENAMETOOLONG;
		return 1;
	}
	pos -= len;
	/* The masks restate the bounds above for the verifier: pos + len < 2 * PATH_BUF. */
	pos &= ACTGATE_PATH_BUF - 1;
	len &= 0xff;
	bpf_probe_read_kernel(buf + pos, len, name);
	pos -= 1;
	pos &= ACTGATE_PATH_BUF - 1;
	buf[pos] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

static __always_inline void record_dentry_path(struct actgate_decision *rec, struct vfsmount *vfsmnt,
					       struct dentry *dentry)
{
	struct name_walk w = { .mnt = container_of(vfsmnt, struct mount, mnt), .d = dentry,
			       .pos = ACTGATE_PATH_BUF - 1 };
	__u32 zero = 0, n;
	char *buf;

	buf = (char *)bpf_map_lookup_elem(&path_names, &zero);
	if (!buf) {
		rec->path_error = -ENOMEM;
		return;
	}
	buf[ACTGATE_PATH_BUF - 1] = '\0';
	bpf_loop(ACTGATE_PATH_BUF / 2, name_step, &w, 0);
	if (w.error) {
		rec->path_error = w.error;
		return;
	}
	if (w.pos == ACTGATE_PATH_BUF - 1) {
		/* The root itself. */
		w.pos = ACTGATE_PATH_BUF - 2;
		buf[ACTGATE_PATH_BUF - 2] = '/';
	}
	n = ACTGATE_PATH_BUF - w.pos;
	w.pos &= ACTGATE_PATH_BUF - 1;
	if (n < 1 || n > ACTGATE_PATH_BUF)
		return;
	bpf_probe_read_kernel(rec->target_path, n, buf + w.pos);
	rec->path_len = n;
}

/* What the hook returns for a decision. */
static __always_inline int verdict_errno(const struct verdict *v)
{
	__u32 enforce_deny = v->verdict == ACTGATE_VERDICT_DENY && v->mode == ACTGATE_MODE_ENFORCE;

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
								  const struct path_decision *pd)
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
		submit_record(rec);
	}
	return verdict_errno(&pd.v);
}

#endif /* ACTGATE_BPF_COMMON_H */
