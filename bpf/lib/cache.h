/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The path verdict cache: what the directory (subtree) rules of a directory
 * and of its ancestors up to the root of its file system decide, kept per
 * (policy, action, directory) in path_cache (maps.h), so that a governed
 * open costs the same at any depth. lib/path.h joins these per-file-system
 * pieces ("segments") across mount points, which it always reads live: a
 * segment depends only on the tree of names inside one file system.
 *
 * A segment is a pure function of three things, and is used only while
 * none of them has changed since it was made:
 *
 *  - where names are: every change of a dentry's parent in the kernel
 *    (rename, RENAME_EXCHANGE, a directory alias spliced in by a lookup or
 *    by open_by_handle_at, a network file system learning of a rename)
 *    happens in d_move, d_exchange or d_splice_alias under the write side
 *    of the kernel's rename_lock seqlock, whose sequence therefore moves on
 *    every one of them, whoever makes it. A segment is stamped with the
 *    sequence read before its walk began (never an odd one: a move under
 *    way), and answers only while the sequence is the same;
 *  - which directory an identity (dev, ino) is: a directory that is gone
 *    may leave its number to a new one. A new directory is made by mkdir
 *    (inode_mkdir) and a new device number by a new file system
 *    (sb_alloc_security); both move path_cache_epoch[PATH_EPOCH_KERNEL]
 *    before the new directory exists, as do rename, link, mount, move_mount
 *    and umount (bpf/cache.bpf.c), for every caller, governed or not;
 *  - the rules: a policy id's rules never change while it is loaded, and
 *    the daemon moves path_cache_epoch[PATH_EPOCH_DAEMON] after it writes or
 *    removes any (ids come round again after 65,535 generations).
 *
 * Names whose validity the file system may revoke (a dentry with
 * d_revalidate: network file systems, FUSE, procfs, kernfs, encrypted
 * directories) are walked every time: their tree can change without the
 * kernel moving a dentry first. A segment that ended at a disconnected
 * dentry or at the walk's bound is never kept either.
 *
 * Grants and revocation are never cached: lib/decide.h checks both on every
 * action, after the path match.
 *
 * Entries of an LRU hash map can be taken for another key, or rewritten,
 * while a reader copies one: each entry carries a check over its key and
 * its contents, and a copy whose check fails is a miss.
 */
#ifndef ACTGATE_BPF_LIB_CACHE_H
#define ACTGATE_BPF_LIB_CACHE_H

#include "lib/kernel.h"
#include "maps.h"

/* include/linux/dcache.h and fs.h: stable flag values, not in BTF. */
#ifndef DCACHE_DISCONNECTED
#define DCACHE_DISCONNECTED 0x20
#endif
#ifndef SB_NOUSER
#define SB_NOUSER (1u << 31)
#endif

#define PATH_EPOCH_KERNEL 0
#define PATH_EPOCH_DAEMON 1

/* How the walk of a segment ended. */
enum path_seg_end {
	PATH_SEG_ROOT = 1,         /* at the root of its file system (connected) */
	PATH_SEG_DECIDED = 2,      /* every slot decided before the root */
	PATH_SEG_DISCONNECTED = 3, /* at a disconnected dentry: fails closed */
	PATH_SEG_CUT = 4,          /* the walk's bound, or an unreadable parent */
};

/*
 * The kernel's rename sequence now (bpf/cache.bpf.c defines it); odd (1)
 * when it cannot be read, or while a move is under way. A global function
 * in one object: the BPF linker cannot merge the untyped kernel symbol it
 * reads when several objects declare it.
 */
__u32 actgate_rename_sequence(void);

static __always_inline __u64 path_epoch(__u32 which)
{
	__u64 *e = bpf_map_lookup_elem(&path_cache_epoch, &which);

	return e ? *e : 0;
}

/* Every entry made before this is forgotten (bpf/cache.bpf.c). */
static __always_inline void path_cache_forget(void)
{
	__u32 which = PATH_EPOCH_KERNEL;
	__u64 *e = bpf_map_lookup_elem(&path_cache_epoch, &which);

	if (e)
		__sync_fetch_and_add(e, 1);
}

/*
 * The check an entry carries: a multiply-xor mix of its key and every word
 * of its contents but the check itself. A copy torn between two versions of
 * an entry, or between two keys, fails it.
 */
#define PATH_SEG_WORDS ((sizeof(struct path_seg) - sizeof(__u64)) / sizeof(__u64))
_Static_assert(sizeof(struct path_seg) % sizeof(__u64) == 0, "path_seg is whole words");
_Static_assert(__builtin_offsetof(struct path_seg, check) == PATH_SEG_WORDS * sizeof(__u64),
	       "the check is the last word");

static __always_inline __u64 path_seg_check(const struct actgate_path_key *key,
					    const struct path_seg *seg)
{
	const __u64 *k = (const __u64 *)key;
	const __u64 *w = (const __u64 *)seg;
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < (int)(sizeof(*key) / sizeof(__u64)); i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	for (i = 0; i < (int)PATH_SEG_WORDS; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/*
 * A walk slot of this CPU (maps.h, path_walk_slots) for one decision's walk,
 * until it sets users back; NULL when every one is held by a task preempted
 * inside a walk. The claim is record_claim's (lib/record.h says why a claim
 * and how it works): the stacks of a program and its calls share 512 bytes,
 * too few for a segment beside the hooks' own state.
 */
static __always_inline struct path_walk_slot *path_walk_try(__u32 key)
{
	struct path_walk_slot *slot = bpf_map_lookup_elem(&path_walk_slots, &key);

	if (!slot)
		return NULL;
	__sync_fetch_and_add(&slot->users, 1);
	if (*(volatile __u64 *)&slot->users == 1)
		return slot;
	__sync_fetch_and_add(&slot->users, -1);
	return NULL;
}

static __always_inline struct path_walk_slot *path_walk_claim(void)
{
	struct path_walk_slot *slot;

	/* One try per key, each a constant (see record_claim). */
	_Static_assert(ACTGATE_PATH_WALK_SLOTS == 4, "one try per slot");
	slot = path_walk_try(0);
	if (!slot)
		slot = path_walk_try(1);
	if (!slot)
		slot = path_walk_try(2);
	if (!slot)
		slot = path_walk_try(3);
	return slot;
}

/* Names a file system may revoke (d_revalidate) are not cached. */
static __always_inline int revalidated(struct dentry *d)
{
	const struct dentry_operations *op = BPF_CORE_READ(d, d_op);

	if (!op)
		return 0;
	return BPF_CORE_READ(op, d_revalidate) || BPF_CORE_READ(op, d_weak_revalidate);
}

/* The subtree entry of the dentry at f->d, at level steps from the segment's directory. */
static __always_inline void seg_visit(struct seg_fill *f, __u16 level)
{
	/* A local, not f->d inside BPF_CORE_READ: the macro would relocate against struct seg_fill. */
	struct dentry *d = f->d;
	struct actgate_path_value *pv;
	struct super_block *sb;
	struct inode *inode;
	int s;

	if (revalidated(d))
		f->uncacheable = 1;
	inode = BPF_CORE_READ(d, d_inode);
	sb = BPF_CORE_READ(inode, i_sb);
	if (sb != f->sb) {
		f->sb = sb;
		f->key.dev = BPF_CORE_READ(sb, s_dev);
	}
	f->key.ino = BPF_CORE_READ(inode, i_ino);
	pv = bpf_map_lookup_elem(&path_rules, &f->key);
	if (!pv)
		return;
	for (s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		if ((f->seg.decided & (1 << s)) || !pv->slot[s].set)
			continue;
		f->seg.slot[s] = pv->slot[s];
		f->seg.level[s] = level;
		f->seg.decided |= 1 << s;
	}
	if (f->seg.decided == ACTGATE_ACCESS_ALL)
		f->seg.end = PATH_SEG_DECIDED;
}

/* bpf_loop's context must be on the stack: it points to the walk slot's fill. */
struct seg_loop {
	struct seg_fill *f;
};

/* One level up inside the file system; a bpf_loop callback: 0 goes on, 1 stops. */
static long seg_step(__u32 index, void *data)
{
	struct seg_fill *f = ((struct seg_loop *)data)->f;
	struct dentry *d = f->d, *parent;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent) {
		f->seg.end = PATH_SEG_CUT; /* unreadable: fails closed, as too deep */
		return 1;
	}
	if (parent == d) {
		/*
		 * A file opened by handle (open_by_handle_at) whose directories
		 * are not in the dcache gets a disconnected dentry: it is its
		 * own parent, so the rules above it cannot be seen and the walk
		 * stops short of the namespace's root, failing closed. Pseudo
		 * files (pipes, sockets, anonymous inodes: SB_NOUSER) have no
		 * directories to see, and older kernels marked them
		 * disconnected too (d_alloc_pseudo): theirs is a root like any.
		 */
		if ((BPF_CORE_READ(d, d_flags) & DCACHE_DISCONNECTED) &&
		    !(BPF_CORE_READ(d, d_sb, s_flags) & SB_NOUSER))
			f->seg.end = PATH_SEG_DISCONNECTED;
		else
			f->seg.end = PATH_SEG_ROOT;
		return 1;
	}
	f->d = parent;
	f->seg.depth = (__u16)(index + 1);
	seg_visit(f, (__u16)(index + 1));
	return f->seg.end != 0;
}

/*
 * The segment of dir for (policy_id, action) into f->seg: from path_cache
 * when an entry there still holds (returns 1), else walked (and kept when it
 * may be). known, when its sb is not 0, holds dir's super block and
 * identity, already read: a hit then reads nothing of dir. The walk takes every slot, whatever the action asks, so that one
 * entry answers every open; it is bounded by ACTGATE_MAX_PATH_WALK steps like
 * a walk one level at a time, and lib/path.h counts each slot's level
 * against what is left of that bound, so that a cached answer is the answer
 * the walk would have given.
 */
static __always_inline int path_seg_get(__u32 policy_id, __u8 action, struct dentry *dir,
					const struct path_known *known, struct seg_fill *f)
{
	struct seg_loop loop = { .f = f };
	struct super_block *sb;
	struct path_seg *hit;
	struct inode *inode;
	umode_t mode;

	__builtin_memset(f, 0, sizeof(*f));
	/* The rename sequence first: everything read after it is at least that new. */
	f->seg.rename_seq = actgate_rename_sequence();
	f->seg.kernel_epoch = path_epoch(PATH_EPOCH_KERNEL);
	f->seg.daemon_epoch = path_epoch(PATH_EPOCH_DAEMON);
	f->key.policy_id = policy_id;
	f->key.action = action;
	f->key.kind = ACTGATE_PATH_SUBTREE;
	f->d = dir;
	if (known->sb) {
		/* Read by the caller with plain loads (lib/path.h, first_parent_btf). */
		f->sb = (struct super_block *)known->sb;
		f->key.dev = known->dev;
		f->key.ino = known->ino;
	} else {
		inode = BPF_CORE_READ(dir, d_inode);
		sb = BPF_CORE_READ(inode, i_sb);
		f->sb = sb;
		f->key.dev = BPF_CORE_READ(sb, s_dev);
		f->key.ino = BPF_CORE_READ(inode, i_ino);
	}
	f->dir_key = f->key; /* the walk moves f->key up the tree */

	if (!(f->seg.rename_seq & 1)) {
		hit = bpf_map_lookup_elem(&path_cache, &f->dir_key);
		/*
		 * Compared in the map first, then copied and checked: the copy is
		 * what answers, and the check catches a copy torn by a writer.
		 */
		if (hit && hit->rename_seq == f->seg.rename_seq &&
		    hit->kernel_epoch == f->seg.kernel_epoch &&
		    hit->daemon_epoch == f->seg.daemon_epoch) {
			__builtin_memcpy(&f->seg, hit, sizeof(f->seg));
			if (f->seg.check == path_seg_check(&f->dir_key, &f->seg))
				return 1;
			/* Torn: walked below, stamped anew. */
			f->seg.rename_seq = actgate_rename_sequence();
			f->seg.kernel_epoch = path_epoch(PATH_EPOCH_KERNEL);
			f->seg.daemon_epoch = path_epoch(PATH_EPOCH_DAEMON);
			f->seg.depth = 0;
			f->seg.decided = 0;
			f->seg.end = 0;
		}
	}

	seg_visit(f, 0);
	if (!f->seg.end)
		bpf_loop(ACTGATE_MAX_PATH_WALK, seg_step, &loop, 0);
	if (!f->seg.end)
		f->seg.end = PATH_SEG_CUT;
	mode = BPF_CORE_READ(dir, d_inode, i_mode);
	/* The key's dentry must be its inode's only one: a directory's. */
	if (!(f->seg.rename_seq & 1) && !f->uncacheable && (mode & S_IFMT) == S_IFDIR &&
	    (f->seg.end == PATH_SEG_ROOT || f->seg.end == PATH_SEG_DECIDED)) {
		f->seg.check = path_seg_check(&f->dir_key, &f->seg);
		bpf_map_update_elem(&path_cache, &f->dir_key, &f->seg, BPF_ANY);
	}
	return 0;
}

#endif /* ACTGATE_BPF_LIB_CACHE_H */
