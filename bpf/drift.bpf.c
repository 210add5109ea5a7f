/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which files governed tasks wrote (written_files), for exec's
 * `written: deny` (lib/drift.h). A file counts as written from the moment a
 * governed task holds it open for writing: opened for writing (open,
 * creat, O_TRUNC; every later write, mmap, fallocate or ftruncate goes
 * through that open), received open for writing from another process
 * (SCM_RIGHTS, pidfd_getfd), or truncated by name (truncate(2)). Renames
 * and hard links keep the inode, so they keep the mark.
 *
 * Opens are marked by check_open (bpf/file.bpf.c) once it let them through,
 * so that a refused open marks nothing; this file has the other ways.
 */
#include "lib/drift.h"
#include "lib/governance.h"
#include "lib/kernel.h"
#include "maps.h"

static __always_inline int mark_if_governed(struct inode *inode)
{
	struct governance g = {};

	if (!governing_workload(&g))
		return 0;
	return mark_written(inode, g.workload_id);
}

/* A descriptor open for writing, passed in from another process. */
SEC("lsm/file_receive")
int BPF_PROG(mark_received_written, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	return mark_if_governed(file->f_inode);
}

/* truncate(2) by name; on 6.1 ftruncate(2) comes here too. */
SEC("lsm/path_truncate")
int BPF_PROG(mark_truncated, const struct path *path, int ret)
{
	struct dentry *dentry;

	if (ret)
		return ret;
	dentry = BPF_CORE_READ(path, dentry);
	return mark_if_governed(BPF_CORE_READ(dentry, d_inode));
}

/*
 * An inode leaves memory. With no name left (i_nlink 0) the file is gone
 * for good and its number may be given to another file: forget it. With
 * names left it was only evicted from the inode cache, and the file, still
 * on disk, stays written.
 */
SEC("lsm/inode_free_security")
int BPF_PROG(forget_written, struct inode *inode)
{
	struct actgate_written_key key = {};

	if (BPF_CORE_READ(inode, i_nlink) || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	written_key(inode, &key);
	bpf_map_delete_elem(&written_files, &key);
	return 0;
}
