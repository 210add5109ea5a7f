/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * File accesses: every open of a governed task, whatever the path it used,
 * decided per access (read, write, create, exec-map).
 */
#include "lib/decide.h"
#include "lib/doors.h"
#include "lib/drift.h"
#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/protected.h"
#include "lib/record.h"
#include "lib/verdict.h"

/* include/linux/fs.h, include/uapi/asm-generic: stable values, not in BTF. */
#define PROT_EXEC 0x4
#define VM_EXEC 0x4
#define RENAME_EXCHANGE (1 << 1)

/*
 * file_open runs before the open completes, and before an O_TRUNC open
 * truncates (do_open truncates after vfs_open): a denied truncation leaves
 * the content. O_TRUNC is still in f_flags here (do_dentry_open clears it
 * after this hook). An open asking for neither read nor write (flags 3,
 * ioctl only) is decided as a read, as the userspace evaluator does.
 *
 * The one program on file_open, for every concern: each program on a hook
 * costs every open on the host its own trampoline entry and exit and its
 * own governance lookup (four programs made an ungoverned open 16% dearer
 * than none). In order: the kernel's doors (lib/doors.h), actgate's own
 * files (lib/protected.h), the policy (lib/decide.h); then an open for
 * writing that was let through marks its file written (lib/drift.h), so a
 * refused open marks nothing.
 */
SEC("lsm/file_open")
int BPF_PROG(check_open, struct file *file, int ret)
{
	struct path_decision pd = {};
	__u32 fmode, flags;
	__u8 asked = 0;
	int door, err;

	if (ret)
		return ret;
#ifdef ACTGATE_BUILD_SALT
	/* make BPF_BUILD_SALT=N: one more instruction, another build (the upgrade test's). */
	asm volatile("" : : "r"((__u64)ACTGATE_BUILD_SALT));
#endif
	/* Plain loads from the hook's trusted argument first: no helper calls. */
	door = kernel_file_door(file);
	if (!governing_workload(&pd.g))
		return 0;
	if (door >= 0) {
		err = refuse_door_of(&pd.g, door, file, NULL);
		if (err)
			return err;
	}
	err = protect_open(&pd.g, file);
	if (err)
		return err;
	fmode = file->f_mode;
	flags = file->f_flags;
	if (fmode & FMODE_READ)
		asked |= ACTGATE_ACCESS_READ;
	if (fmode & FMODE_WRITE) {
		asked |= ACTGATE_ACCESS_WRITE;
		if (flags & O_TRUNC)
			asked |= ACTGATE_ACCESS_CREATE;
	}
	if (!asked)
		asked = ACTGATE_ACCESS_READ;
	err = check_file_of(&pd, ACTGATE_ACTION_OPEN, file, asked);
	if (!err && (fmode & FMODE_WRITE))
		err = mark_written(file->f_inode, pd.g.workload_id);
	return err;
}

/*
 * Creating a name in a directory: open(O_CREAT) of a missing file (through
 * may_o_create), creat(2), mknod(2) of any file type, and bind(2) of a unix
 * socket to a path all come here, before the inode exists. Access create,
 * decided by the subtree rules of the directory and its ancestors. Not
 * every kernel build has the path hooks (CONFIG_SECURITY_PATH); Debian's do.
 *
 * bpf_d_path is refused in this hook (it is not on the verifier's allow
 * list), so the record's path is built from the dentry: the directory's
 * path, '/', the new name.
 */
SEC("lsm/path_mknod")
int BPF_PROG(check_create, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;
	struct vfsmount *mnt;

	if (ret)
		return ret;
	if (!governing_workload(&pd.g))
		return 0;
	mnt = dir->mnt;
	decide_path_btf(ACTGATE_ACTION_OPEN, mnt, dentry, ACTGATE_ACCESS_CREATE, 1, &pd);
	rec = begin_path_record(ACTGATE_ACTION_OPEN, ACTGATE_ACCESS_CREATE, &pd);
	if (rec) {
		record_dentry_path(rec, mnt, dentry);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/*
 * Mapping a file executable: how a dynamic loader (ld.so, or a program
 * doing its own loading) runs code from a file without exec(2). The
 * kernel's own ELF loader maps the executable and its interpreter the same
 * way during exec, so they are decided here too. prot, not reqprot: what
 * will really be mapped (READ_IMPLIES_EXEC adds PROT_EXEC). Decided by
 * open's exec-map access and by exec's deny rules and `written:`
 * (lib/drift.h, decide_exec_map), so that what exec denies cannot be
 * loaded instead.
 */
SEC("lsm/mmap_file")
int BPF_PROG(check_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;

	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	if (!governing_workload(&pd.g))
		return 0;
	decide_exec_map(file->f_path.mnt, file->f_path.dentry, file->f_inode, file, &pd);
	rec = begin_path_record(ACTGATE_ACTION_OPEN, ACTGATE_ACCESS_EXEC_MAP, &pd);
	if (rec) {
		/* f_path is const in newer kernels; bpf_d_path only reads it. */
		record_path(rec, (struct path *)&file->f_path);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/*
 * Making a file mapping executable afterwards (mmap PROT_READ, then
 * mprotect PROT_EXEC): decided as a mapping. A mapping that is already
 * executable was decided when it was mapped. bpf_d_path is refused here;
 * the path is built from the dentry.
 */
SEC("lsm/file_mprotect")
int BPF_PROG(check_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;
	struct vfsmount *mnt;
	struct dentry *dentry;
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	file = vma->vm_file;
	if (!file || (vma->vm_flags & VM_EXEC))
		return 0;
	if (!governing_workload(&pd.g))
		return 0;
	/* Plain loads: vma is the hook's own pointer, file a BTF pointer read from it. */
	mnt = file->f_path.mnt;
	dentry = file->f_path.dentry;
	decide_exec_map(mnt, dentry, file->f_inode, NULL, &pd);
	rec = begin_path_record(ACTGATE_ACTION_OPEN, ACTGATE_ACCESS_EXEC_MAP, &pd);
	if (rec) {
		record_dentry_path(rec, mnt, dentry);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/*
 * Giving a file (or a directory) another name: what a subtree rule covers
 * is what lies under its directory, so a hard link or a rename elsewhere
 * would take the file out from under a rule that denies reading or writing
 * it, and the file would then be read or written under its new name. A
 * governed task may give a file another name only where it may open it for
 * reading and writing; and the new name is a creation in its directory, or,
 * over an existing file, a write that truncates it. Denying exec or
 * exec-map needs no such care: a file that can be read can be copied.
 *
 * One record says what decided: the first denial, else the new name's
 * decision; its accesses carry ACTGATE_ACCESS_LINK. bpf_d_path is refused
 * in these hooks, so the path is built from the dentry.
 */
static __always_inline int check_new_name(struct vfsmount *old_mnt, struct dentry *old_dentry,
					  struct vfsmount *new_mnt, struct dentry *new_dentry)
{
	__u8 asked = ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE;
	struct path_decision pd = {};
	struct actgate_decision *rec;
	struct vfsmount *mnt = old_mnt;
	struct dentry *dentry = old_dentry;
	int replaced;

	if (!governing_workload(&pd.g))
		return 0;
	decide_path_btf(ACTGATE_ACTION_OPEN, old_mnt, old_dentry, asked, 0, &pd);
	if (pd.v.verdict != ACTGATE_VERDICT_DENY) {
		/* A negative dentry is a new name; a positive one is a file replaced. */
		replaced = BPF_CORE_READ(new_dentry, d_inode) != NULL;
		asked = replaced ? ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_CREATE
				 : ACTGATE_ACCESS_CREATE;
		mnt = new_mnt;
		dentry = new_dentry;
		decide_path_btf(ACTGATE_ACTION_OPEN, new_mnt, new_dentry, asked, !replaced, &pd);
	}
	rec = begin_path_record(ACTGATE_ACTION_OPEN, asked | ACTGATE_ACCESS_LINK, &pd);
	if (rec) {
		record_dentry_path(rec, mnt, dentry);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/* link(2): a hard link never crosses a mount, so both names are on new_dir's. */
SEC("lsm/path_link")
int BPF_PROG(check_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt;

	if (ret)
		return ret;
	mnt = BPF_CORE_READ(new_dir, mnt);
	return check_new_name(mnt, old_dentry, mnt, new_dentry);
}

/* rename(2), renameat2(2); RENAME_EXCHANGE gives both files a new name. */
SEC("lsm/path_rename")
int BPF_PROG(check_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct vfsmount *old_mnt, *new_mnt;
	int err;

	if (ret)
		return ret;
	old_mnt = BPF_CORE_READ(old_dir, mnt);
	new_mnt = BPF_CORE_READ(new_dir, mnt);
	err = check_new_name(old_mnt, old_dentry, new_mnt, new_dentry);
	if (err || !(flags & RENAME_EXCHANGE))
		return err;
	return check_new_name(new_mnt, new_dentry, old_mnt, old_dentry);
}
