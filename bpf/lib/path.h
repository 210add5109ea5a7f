/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Path matching by inode identity: the target's exact and subtree entries,
 * then the subtree entries of every ancestor, found by walking d_parent and
 * crossing mounts (match_path).
 */
#ifndef ACTGATE_BPF_LIB_PATH_H
#define ACTGATE_BPF_LIB_PATH_H

#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

/* include/linux/dcache.h and fs.h: stable flag values, not in BTF. */
#define DCACHE_DISCONNECTED 0x20
#define SB_NOUSER (1u << 31)

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
 * The verdict of the accesses in set (enum actgate_access bits) once the
 * walk is over: see match_path.
 */
static __always_inline void combine_slots(const struct path_walk *w,
					  const struct actgate_action_policy *ap, __u8 set,
					  int walked, struct verdict *v)
{
	int best = -1, rank, s;

	if ((w->need & set) && walked && !w->at_root) {
		fail_closed(v, w->disconnected ? ACTGATE_REASON_DISCONNECTED : ACTGATE_REASON_TOO_DEEP);
		return;
	}
	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		const struct actgate_decision_slot *d;
		__u8 reason;

		if (!(set & (1 << s)))
			continue;
		if (w->need & (1 << s)) {
			d = &ap->dflt[s];
			reason = ACTGATE_REASON_DEFAULT;
		} else {
			d = &w->got[s];
			reason = ACTGATE_REASON_RULE;
		}
		rank = decision_rank(d->verdict, d->mode);
		if (rank > best) {
			best = rank;
			take_decision(v, d, reason);
		}
	}
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
 * extra: more accesses to answer from the same walk, into *v_extra (an
 * exec's open of its binary answers exec-map too, for the mappings that
 * follow; lib/decide.h). Each set is answered as if it had been asked
 * alone: the first entry deciding a slot is the same whatever else is
 * asked, and a walk cut short fails closed only the sets it left undecided.
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
				       struct verdict *v, __u8 extra, struct verdict *v_extra)
{
	struct path_walk w = {};
	struct dentry *start;
	int walked = 0;

	w.need = (asked | extra) & ACTGATE_ACCESS_ALL;

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
	combine_slots(&w, ap, asked & ACTGATE_ACCESS_ALL, walked, v);
	if (extra)
		combine_slots(&w, ap, extra & ACTGATE_ACCESS_ALL, walked, v_extra);
}

#endif /* ACTGATE_BPF_LIB_PATH_H */
