/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Is a file one of actgate's own? The daemon names its directories and
 * its seal key by inode identity in protected_files (abi.h, struct
 * actgate_protect_key); a file is protected when it is one of them or lies
 * below a protected directory on the same file system, found by walking
 * d_parent up to that file system's root. The walk sees the real
 * directories whatever path the task used (bind mounts, /proc/self/root,
 * relative names, dirfds), like the policy's own path walk (lib/path.h).
 */
#ifndef ACTGATE_BPF_LIB_PROTECTED_H
#define ACTGATE_BPF_LIB_PROTECTED_H

#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/tamper.h"
#include "maps.h"

/* include/linux/mount.h: a mount of a peer group (its changes propagate). */
#define MNT_SHARED 0x1000

static __always_inline __u32 protect_lookup(__u32 dev, __u32 kind, __u64 ino)
{
	struct actgate_protect_key key = { .dev = dev, .kind = kind, .ino = ino };
	__u32 *flags = bpf_map_lookup_elem(&protected_files, &key);

	return flags ? *flags : 0;
}

struct protect_walk {
	struct dentry *d;
	struct dentry *root; /* the file system's root: where an honest walk ends */
	__u32 dev;
	__u32 found;
	__u32 done;
};

/* One level up; a bpf_loop callback (0 goes on, 1 stops). */
static long protect_step(__u32 index, void *data)
{
	struct protect_walk *w = data;
	struct dentry *d = w->d, *parent;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		/*
		 * Its own parent and not the root: a disconnected dentry (a file
		 * opened by handle whose directories are not cached). Where
		 * protected directories live, such a file counts as theirs:
		 * which directory holds it cannot be seen.
		 */
		if (d != w->root)
			w->found = ACTGATE_PROTECT_TREE;
		w->done = 1;
		return 1;
	}
	w->d = parent;
	if (protect_lookup(w->dev, ACTGATE_PROTECT_INODE, BPF_CORE_READ(parent, d_inode, i_ino)) &
	    ACTGATE_PROTECT_TREE) {
		w->found = ACTGATE_PROTECT_TREE;
		w->done = 1;
		return 1;
	}
	return 0;
}

/*
 * The protection of dentry: its own entry's flags, with ACTGATE_PROTECT_TREE
 * added when a directory above it on its file system is a protected tree
 * (walk: 0 looks at the dentry's own entry alone, for a question that only
 * the seal key's SECRET answers).
 * A negative dentry (a name about to be created) has no entry of its own:
 * its directory decides. A walk longer than ACTGATE_MAX_PATH_WALK levels
 * counts as protected (fail closed): a task could otherwise hide a file
 * deep enough. 0: not actgate's.
 */
static __always_inline __u32 protection_of(struct dentry *dentry, int walk)
{
	struct protect_walk w = {};
	struct super_block *sb;
	struct inode *inode;
	__u32 dev_flags, flags = 0;

	sb = BPF_CORE_READ(dentry, d_sb);
	w.dev = BPF_CORE_READ(sb, s_dev);
	dev_flags = protect_lookup(w.dev, ACTGATE_PROTECT_DEV, 0);
	if (!dev_flags)
		return 0;
	inode = BPF_CORE_READ(dentry, d_inode);
	if (inode)
		flags = protect_lookup(w.dev, ACTGATE_PROTECT_INODE, BPF_CORE_READ(inode, i_ino));
	if (!walk || (flags & ACTGATE_PROTECT_TREE) || !(dev_flags & ACTGATE_PROTECT_TREE))
		return flags;
	w.d = dentry;
	w.root = BPF_CORE_READ(sb, s_root);
	bpf_loop(ACTGATE_MAX_PATH_WALK, protect_step, &w, 0);
	if (!w.done)
		w.found = ACTGATE_PROTECT_TREE;
	return flags | w.found;
}

/*
 * Does a change to mount m reach the daemon? It does in the daemon's mount
 * namespace, and from any namespace when m is shared (its peers, the
 * daemon's among them, follow). A mount of another namespace that is
 * private or a slave changes only that namespace: container runtimes
 * (runc's pivot_root and unmount of the old root, their remounts) go on
 * working in a workload. Mounts the kernel makes for itself have no
 * namespace to match.
 */
static __always_inline int mount_reaches_daemon(struct vfsmount *m)
{
	struct mount *real = container_of(m, struct mount, mnt);
	struct mnt_namespace *ns = BPF_CORE_READ(real, mnt_ns);
	__u64 inum;

	if (BPF_CORE_READ(m, mnt_flags) & MNT_SHARED)
		return 1;
	if (!ns)
		return 0;
	inum = BPF_CORE_READ(ns, ns.inum);
	return protect_lookup(0, ACTGATE_PROTECT_MNTNS, inum) != 0;
}

/*
 * The refusal of an operation on actgate's files, recorded with the path:
 * from the root of the mount namespace when the hook gives the mount, else
 * (the inode hooks) from the root of the file's file system, where the
 * name walk stops without a mount to cross.
 */
static __always_inline int refuse_file_op(const struct governance *g, __u8 op,
					  struct vfsmount *mnt, struct dentry *dentry)
{
	struct actgate_decision *rec = tamper_record_of(g, ACTGATE_TAMPER_FILES, op);

	if (rec) {
		record_dentry_path(rec, mnt, dentry);
		submit_record(rec);
	}
	return -EPERM;
}

/*
 * Opens by the governed task g: the seal key not at all (whoever reads it
 * can forge seals), the files under the trees not for writing nor with
 * O_TRUNC (which truncates even an open for reading where the task may
 * write). Reading the policies, the state and the journal stays allowed.
 * 0 or -EPERM (recorded as tamper).
 *
 * Most opens are reads, on every governed open: a read needs only the
 * key's own entry, one lookup, with plain loads from the hook's trusted
 * file (no probe reads, no file-system entry first). The tree walk is for
 * writes.
 */
static __always_inline int protect_open(const struct governance *g, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct inode *inode;
	__u32 prot;

	if (!(file->f_mode & FMODE_WRITE) && !(file->f_flags & O_TRUNC)) {
		inode = dentry->d_inode;
		if (!inode || !(protect_lookup(dentry->d_sb->s_dev, ACTGATE_PROTECT_INODE,
					       inode->i_ino) & ACTGATE_PROTECT_SECRET))
			return 0;
		return refuse_file_op(g, ACTGATE_FILE_READ_SECRET, file->f_path.mnt, dentry);
	}
	prot = protection_of(dentry, 1);
	if (prot & ACTGATE_PROTECT_SECRET)
		return refuse_file_op(g, ACTGATE_FILE_READ_SECRET, file->f_path.mnt, dentry);
	if (prot & ACTGATE_PROTECT_TREE)
		return refuse_file_op(g, ACTGATE_FILE_WRITE, file->f_path.mnt, dentry);
	return 0;
}

#endif /* ACTGATE_BPF_LIB_PROTECTED_H */
