/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Path matching by inode identity: the target's exact and subtree entries,
 * then the subtree entries of every ancestor, found by walking d_parent and
 * crossing mounts (match_path).
 */
#ifndef ACTGATE_BPF_LIB_PATH_H
#define ACTGATE_BPF_LIB_PATH_H

#include "lib/cache.h"
#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

/* include/linux/dcache.h and fs.h: DCACHE_DISCONNECTED, SB_NOUSER (lib/cache.h). */

/*
 * The state of one match: the key being looked up, the mount the walk
 * starts in, and per access slot the first entry's decision that set it.
 */
struct path_walk {
	struct actgate_path_key key;
	struct mount *mnt;
	/*
	 * The walk's position: where it starts, for actgate_walk_segments too
	 * (a field, not an argument: a global function takes only scalars and
	 * memory).
	 */
	struct dentry *d;
	/*
	 * Whose s_dev is key.dev: read again only when it changes. Before a
	 * walk by segments, not NULL when the start's parent (a directory of
	 * the same file system) is already known: d is then that parent, key
	 * its identity (first_parent_btf).
	 */
	struct super_block *sb;
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
 * The check of an own_entries copy (maps.h): a multiply-xor mix of every
 * word but the check itself, as path_seg_check (lib/cache.h).
 */
#define OWN_ENTRIES_WORDS ((sizeof(struct own_entries) - sizeof(__u64)) / sizeof(__u64))
_Static_assert(sizeof(struct own_entries) % sizeof(__u64) == 0, "own_entries is whole words");
_Static_assert(__builtin_offsetof(struct own_entries, check) == OWN_ENTRIES_WORDS * sizeof(__u64),
	       "the check is the last word");

static __always_inline __u64 own_entries_check(const struct own_entries *e)
{
	const __u64 *w = (const __u64 *)e;
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < (int)OWN_ENTRIES_WORDS; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* Copy into e every slot pv decides that e does not yet. */
static __always_inline void merge_slots(struct own_entries *e, const struct actgate_path_value *pv)
{
	int s;

	if (!pv)
		return;
	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
		if (!e->own.slot[s].set && pv->slot[s].set)
			e->own.slot[s] = pv->slot[s];
}

/*
 * The exact and subtree entries of the file w->key names, whose in-memory
 * inode is inode (a pointer the kernel vouches for: file->f_inode), into w
 * as lookup_slots would take them: from file_own_entries (maps.h) when it
 * holds them for this policy and action, else from path_rules, and kept
 * there. The same answer either way: the exact entry's slot, else the
 * subtree entry's, for every slot still needed.
 *
 * Not inlined: its copy of the entry would take the hook's stack, with the
 * walk's frames, past the verifier's 512 bytes; a call of its own has a
 * frame of its own, never beside the walk's. It returns w->need, which
 * the caller stores: a void function, or a result no caller uses, which
 * the compiler then drops, returns with r0 pointing to the caller's stack,
 * and the verifier refuses that.
 */
static __noinline __u8 own_entries(struct path_walk *w, struct inode *inode)
{
	struct own_entries e;
	struct own_entries *kept = NULL;
	struct file_own *own;
	__u32 which = PATH_EPOCH_DAEMON;
	__u64 *epoch, daemon_epoch;

	/* The epoch before the lookups: a change of rules after it ends the entry. */
	epoch = bpf_map_lookup_elem(&path_cache_epoch, &which);
	daemon_epoch = epoch ? *epoch : 0;
	own = bpf_inode_storage_get(&file_own_entries, inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (own)
		kept = &own->by_action[w->key.action == ACTGATE_ACTION_EXEC ? OWN_ENTRIES_EXEC
									      : OWN_ENTRIES_OPEN];
	if (kept) {
		/* Copied, then checked: the copy is what answers. */
		__builtin_memcpy(&e, kept, sizeof(e));
		if (e.daemon_epoch == daemon_epoch && e.policy_id == w->key.policy_id &&
		    e.action == w->key.action && e.check == own_entries_check(&e)) {
			take_slots(w, &e.own);
			return w->need;
		}
	}
	__builtin_memset(&e, 0, sizeof(e));
	e.daemon_epoch = daemon_epoch;
	e.policy_id = w->key.policy_id;
	e.action = w->key.action;
	w->key.kind = ACTGATE_PATH_EXACT;
	merge_slots(&e, bpf_map_lookup_elem(&path_rules, &w->key));
	w->key.kind = ACTGATE_PATH_SUBTREE;
	merge_slots(&e, bpf_map_lookup_elem(&path_rules, &w->key));
	take_slots(w, &e.own);
	if (kept) {
		e.check = own_entries_check(&e);
		__builtin_memcpy(kept, &e, sizeof(e));
	}
	return w->need;
}

/*
 * One level up: the parent directory, or across a mount to its mount point,
 * and its subtree entry. A bpf_loop callback: 0 goes on, 1 stops. The walk
 * one level at a time, without the cache: what actgate_walk_segments does
 * when every walk slot of the CPU is held (lib/cache.h, path_walk_claim).
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

/*
 * Take from a segment (lib/cache.h) every slot still needed that it decides
 * within the walk's bound: used steps are spent before the step into the
 * segment's directory, and its entry for a slot lies level steps above that.
 */
static __always_inline void take_segment(struct path_walk *w, const struct path_seg *seg,
					 __u32 used)
{
	int s;

	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		if (!(w->need & (1 << s)) || !(seg->decided & (1 << s)))
			continue;
		if (used + 1 + seg->level[s] > ACTGATE_MAX_PATH_WALK)
			continue;
		w->got[s] = seg->slot[s];
		w->need &= ~(1 << s);
	}
}

/*
 * The walk above start by segments (lib/cache.h): actgate_walk_segments,
 * defined where ACTGATE_DEFINE_PATH_WALK is (bpf/cache.bpf.c).
 */
int actgate_walk_segments(struct path_walk *w, __u32 policy_id, __u32 action);

#ifdef ACTGATE_DEFINE_PATH_WALK
/*
 * The walk by segments: the context of a bpf_loop with one iteration per
 * file system (a callback, so that the verifier checks its body once). Its
 * state is in a walk slot (maps.h, struct path_walk_slot), off the stack.
 */
struct segment_walk {
	struct path_walk *w;
	struct path_walk_slot *slot;
};

/* One file system's part of the walk; a bpf_loop callback: 0 goes on, 1 stops. */
static long segment_step(__u32 index, void *data)
{
	struct segment_walk *sw = data;
	struct path_walk *w = sw->w;
	struct path_walk_slot *slot = sw->slot;
	struct dentry *d = (struct dentry *)slot->d, *next = NULL;
	struct mount *mnt = (struct mount *)slot->mnt, *parent_mnt;
	struct path_seg *seg = &slot->fill.seg;
	__u32 used = slot->used;

	if (slot->known.sb) {
		/* The first segment's directory, known with its identity: first_parent_btf. */
		next = d;
	} else {
		if (!slot->at_fs_root) {
			next = BPF_CORE_READ(d, d_parent);
			if (!next)
				return 1; /* unreadable: fails closed */
			if (next == d) {
				/* The start is a root: is it a disconnected one? (seg_step, lib/cache.h) */
				if ((BPF_CORE_READ(d, d_flags) & DCACHE_DISCONNECTED) &&
				    !(BPF_CORE_READ(d, d_sb, s_flags) & SB_NOUSER)) {
					if (used < ACTGATE_MAX_PATH_WALK)
						w->disconnected = 1;
					return 1;
				}
				slot->at_fs_root = 1;
			}
		}
		if (used >= ACTGATE_MAX_PATH_WALK)
			return 1; /* no step left: too deep */
		if (slot->at_fs_root) {
			/* A segment that ended at a root ended at a connected one. */
			parent_mnt = BPF_CORE_READ(mnt, mnt_parent);
			if (!parent_mnt)
				return 1;
			if (parent_mnt == mnt) {
				w->at_root = 1;
				return 1;
			}
			next = BPF_CORE_READ(mnt, mnt_mountpoint);
			slot->mnt = (__u64)parent_mnt;
		}
	}
	path_seg_get(slot->policy_id, slot->action, next, &slot->known, &slot->fill);
	slot->known.sb = 0;
	take_segment(w, seg, used);
	if (!w->need)
		return 1;
	if (seg->end == PATH_SEG_DISCONNECTED) {
		/* A walk one level at a time finds it one step above the segment's last level. */
		if (used + 1 + seg->depth + 1 <= ACTGATE_MAX_PATH_WALK)
			w->disconnected = 1;
		return 1;
	}
	if (seg->end != PATH_SEG_ROOT)
		return 1; /* cut by the bound, or decided beyond it: too deep */
	slot->used = used + 1 + seg->depth;
	slot->at_fs_root = 1;
	return 0;
}

/*
 * The walk above w->d, by segments: the part of it inside one file system
 * comes from path_seg_get (cached, or walked and kept), and only the mount
 * crossings between file systems are read each time, so the cost follows
 * the number of mounts above the file, not its depth. Steps are counted as
 * a walk one level at a time counts them, one per level and one per mount
 * crossed, so the bound
 * (ACTGATE_MAX_PATH_WALK) and what happens at it, at the namespace's root
 * and at a disconnected dentry are those of a walk one level at a time. On
 * return w->need holds what no entry decided; w->at_root (the namespace's
 * root was reached) and w->disconnected say why the walk stopped. Each
 * file system costs at least one step, so ACTGATE_MAX_PATH_WALK iterations
 * are never fewer than the walk needs.
 *
 * A global function, defined once (bpf/cache.bpf.c) and verified once per
 * program: inlined into every path decision, the walk's branches multiplied
 * by the caller's took the verifier minutes under qemu.
 */
__noinline int actgate_walk_segments(struct path_walk *w, __u32 policy_id, __u32 action)
{
	struct segment_walk sw;
	struct path_walk_slot *slot;

	if (!w)
		return 0;
	slot = path_walk_claim();
	if (!slot)
		return 0;
	slot->d = (__u64)w->d;
	slot->mnt = (__u64)w->mnt;
	slot->policy_id = policy_id;
	slot->used = 0;
	slot->action = (__u8)action;
	slot->at_fs_root = 0;
	/* w->sb before the walk: the start's parent is known (first_parent_btf). */
	slot->known.sb = (__u64)w->sb;
	slot->known.dev = w->key.dev;
	slot->known.ino = w->key.ino;
	sw.w = w;
	sw.slot = slot;
	bpf_loop(ACTGATE_MAX_PATH_WALK, segment_step, &sw, 0);
	__sync_fetch_and_add(&slot->users, -1);
	return 1;
}
#endif /* ACTGATE_DEFINE_PATH_WALK */

/* The directory a new name is created in, or the file itself. */
static __always_inline struct dentry *target_dentry(struct dentry *dentry, int new_entry)
{
	return new_entry ? BPF_CORE_READ(dentry, d_parent) : dentry;
}

/*
 * The identity of dentry, a BTF pointer (a hook's argument or read from one
 * with plain loads), by plain loads: a probe read costs a helper call each,
 * a plain load one instruction. A NULL on the way reads as 0, as a failed
 * probe read does.
 */
static __always_inline struct inode *inode_identity_btf(struct dentry *dentry, __u32 *dev,
							 __u64 *ino)
{
	struct inode *inode = dentry->d_inode;

	*dev = inode->i_sb->s_dev;
	*ino = inode->i_ino;
	return inode;
}

/*
 * Before a walk by segments from w->d, a BTF pointer: its parent, when it
 * has one in the same file system, becomes w->d with its identity in w->key
 * and its super block in w->sb, read by plain loads (segment_step starts
 * there). A root (its own parent) is left to segment_step, which tells a
 * disconnected one from a file system's.
 */
static __always_inline void first_parent_btf(struct path_walk *w, struct dentry *start)
{
	struct dentry *parent = start->d_parent;
	struct inode *inode;
	struct super_block *sb;

	if (!parent || parent == start)
		return;
	inode = parent->d_inode;
	sb = inode->i_sb;
	if (!sb)
		return;
	w->key.dev = sb->s_dev;
	w->key.ino = inode->i_ino;
	w->d = parent;
	w->sb = sb;
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
 * own_inode: the file's in-memory inode, where the kernel vouches for the
 * pointer (file->f_inode of the hook's own file), else NULL: its own
 * entries then come from inode storage when they can (own_entries).
 *
 * extra: more accesses to answer from the same walk, into *v_extra (an
 * exec's open of its binary answers exec-map too, for the mappings that
 * follow; lib/decide.h). Each set is answered as if it had been asked
 * alone: the first entry deciding a slot is the same whatever else is
 * asked, and a walk cut short fails closed only the sets it left undecided.
 *
 * The walk above the target goes by segments, one per file system, each
 * from the path verdict cache or walked and kept (actgate_walk_segments,
 * lib/cache.h): its cost follows the mounts above the file, not its depth.
 * Its reads go through BPF_CORE_READ: after the first mount crossing the
 * pointers come from container_of arithmetic, which the verifier only allows
 * on probe-read (scalar) pointers. Where dentry is a BTF pointer (btf, a
 * constant: the hook's own argument or read from it), the target's identity
 * and its parent's are plain loads instead (first_parent_btf). It runs in
 * bpf_loop, so that its bound
 * (ACTGATE_MAX_PATH_WALK levels) costs the verifier one iteration; an
 * access still undecided when the bound is reached denies the action (reason
 * too-deep) rather than fall to the default: a workload could otherwise nest
 * a file out of reach of a directory rule.
 */
static __always_inline void match_path(__u32 policy_id, __u8 action,
				       const struct actgate_action_policy *ap,
				       struct vfsmount *vfsmnt, struct dentry *dentry, __u8 asked,
				       int new_entry, __u32 *dev_out, __u64 *ino_out,
				       struct verdict *v, __u8 extra, struct verdict *v_extra,
				       int btf, struct inode *own_inode)
{
	struct path_walk w = {};
	struct inode *start_inode = NULL;
	struct dentry *start;
	int walked = 0;

	w.need = (asked | extra) & ACTGATE_ACCESS_ALL;

	/* Without rules the defaults decide: not even the target's identity is read. */
	if (ap->has_rules) {
		if (btf) {
			start = new_entry ? dentry->d_parent : dentry;
			start_inode = inode_identity_btf(start, &w.key.dev, &w.key.ino);
		} else {
			start = target_dentry(dentry, new_entry);
			inode_identity(start, &w.key.dev, &w.key.ino);
		}
		w.key.policy_id = policy_id;
		w.key.action = action;
		*dev_out = w.key.dev;
		*ino_out = w.key.ino;
		/*
		 * The entries kept with own_inode are those of its identity: only
		 * where it is the path's inode. A file overlayfs opens on the
		 * real file system for its own file has the real inode in
		 * f_inode and the overlay's path (and inode) in f_path.
		 */
		if (own_inode && !new_entry && own_inode == start_inode) {
			w.need = own_entries(&w, own_inode);
		} else {
			if (!new_entry)
				lookup_slots(&w, ACTGATE_PATH_EXACT);
			if (w.need)
				lookup_slots(&w, ACTGATE_PATH_SUBTREE);
		}
		if (w.need && ap->has_subtree_rules) {
			w.key.kind = ACTGATE_PATH_SUBTREE;
			w.mnt = container_of(vfsmnt, struct mount, mnt);
			w.d = start;
			if (btf)
				first_parent_btf(&w, start);
			/* 0: no walk slot free on this CPU; one level at a time instead. */
			if (!actgate_walk_segments(&w, policy_id, action)) {
				w.mnt = container_of(vfsmnt, struct mount, mnt);
				w.d = start;
				w.sb = NULL;
				bpf_loop(ACTGATE_MAX_PATH_WALK, walk_step, &w, 0);
			}
			walked = 1;
		}
	}
	combine_slots(&w, ap, asked & ACTGATE_ACCESS_ALL, walked, v);
	if (extra)
		combine_slots(&w, ap, extra & ACTGATE_ACCESS_ALL, walked, v_extra);
}

#endif /* ACTGATE_BPF_LIB_PATH_H */
