/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What ends the path verdict cache (lib/cache.h): every change that could
 * give a directory identity another place or another meaning, by any task,
 * governed or not, moves path_cache_epoch before it happens. These programs
 * never refuse anything.
 *
 * A new directory may take the number of one that is gone (inode_mkdir); a
 * new file system may take the device number of one that is gone
 * (sb_alloc_security, which every mount of a new file system passes,
 * fsopen(2) included). The kernel's rename sequence already moves on every
 * rename; renames, links and mounts move the epoch as well, so that what the
 * cache depends on is written down in one place and not in the kernel's
 * internals alone.
 */
#define ACTGATE_DEFINE_PATH_WALK
#include "lib/cache.h"
#include "lib/kernel.h"
#include "lib/path.h"

/*
 * The kernel's rename_lock (fs/dcache.c): its first word is the sequence of
 * its seqcount. Untyped and weak: resolved from kallsyms when the programs
 * are loaded; a kernel without it (address 0) runs without the cache, every
 * segment walked and none kept.
 */
extern const void rename_lock __ksym __weak;

__noinline __u32 actgate_rename_sequence(void)
{
	__u32 seq = 1;

	if (!&rename_lock)
		return 1;
	if (bpf_probe_read_kernel(&seq, sizeof(seq), &rename_lock))
		return 1;
	return seq;
}

SEC("lsm/inode_mkdir")
int BPF_PROG(forget_on_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/sb_alloc_security")
int BPF_PROG(forget_on_new_fs, struct super_block *sb, int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/inode_rename")
int BPF_PROG(forget_on_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/inode_link")
int BPF_PROG(forget_on_link, struct dentry *old_dentry, struct inode *dir,
	     struct dentry *new_dentry, int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/sb_mount")
int BPF_PROG(forget_on_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/move_mount")
int BPF_PROG(forget_on_move_mount, const struct path *from_path, const struct path *to_path,
	     int ret)
{
	path_cache_forget();
	return ret;
}

SEC("lsm/sb_umount")
int BPF_PROG(forget_on_umount, struct vfsmount *mnt, int flags, int ret)
{
	path_cache_forget();
	return ret;
}
