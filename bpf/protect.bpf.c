/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Self-protection: a governed workload may not signal or ptrace actgated, nor
 * any other process outside its workload (its descendant workloads are in it), nor
 * use bpf(2) at all (which could detach these programs or rewrite their maps),
 * nor remove, rename or unmount anything on the bpffs, where the pinned links
 * keep these programs attached while no daemon runs (removing the last pin of
 * a link detaches its program); nor read the seal key, nor write, create,
 * truncate, remove, rename, link, lock, chmod, chown or mount over anything
 * under actgate's own directories (pins, state, policies, journal), nor
 * remove, rename, mount over or unmount the directories on the way to
 * them (lib/protected.h; the daemon names them in protected_files). Always
 * enforced, also under audit-mode policies: an audited workload must not be
 * able to silence the audit. Opens are refused by check_open
 * (bpf/file.bpf.c) through lib/protected.h, protect_open.
 */
#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/protected.h"
#include "lib/record.h"
#include "lib/tamper.h"
#include "lib/verdict.h"
#include "maps.h"

#define PTRACE_MODE_ATTACH 0x02
#define BPF_FS_MAGIC 0xcafe4a11 /* include/uapi/linux/magic.h */
/* include/linux/fs.h, include/uapi/linux/mount.h and fcntl.h: stable values, not in BTF. */
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_PROPAGATION ((1 << 17) | (1 << 18) | (1 << 19) | (1 << 20)) /* unbindable, private, slave, shared */

/* Any protection: a protected file, one below a protected tree, or a directory on the way. */
#define PROTECTED_ANY (ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET | ACTGATE_PROTECT_WAY)
/* What may not change in content, name or attributes: the trees and the key. */
#define PROTECTED_FILE (ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET)

/* kernfs_node.parent until 6.14 renamed it __parent (the name vmlinux.h may have). */
struct kernfs_node___parent {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___parent, parent))
		return BPF_CORE_READ((struct kernfs_node___parent *)kn, parent);
	return BPF_CORE_READ(kn, __parent);
}

/*
 * actgated's process id, from the meta map: the daemon that adopts pinned
 * programs has another pid than the one that loaded them. 0: no daemon.
 */
static __always_inline __u32 daemon_tgid(void)
{
	struct actgate_meta *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&meta, &zero);
	return m ? m->daemon_tgid : 0;
}

/*
 * The workload of the current, governed task, as the key of its workloads
 * entry: its mark's, else its cgroup's (when the mark could not be made).
 */
static __always_inline __u64 own_workload_key(void)
{
	struct actgate_task_mark *mark;
	__u64 key = 0;

	mark = bpf_task_storage_get(&task_marks, bpf_get_current_task_btf(), 0, 0);
	if (mark)
		return mark->workload_cgroup_id;
	workload_by_cgroup(bpf_get_current_cgroup_id(), &key);
	return key;
}

/*
 * Is task p inside the workload whose key is own? It is when it is marked
 * as a task of that workload, or when its cgroup is own's cgroup or one
 * below it (a descendant workload) and it is not marked as a task of a
 * workload elsewhere (a task of another workload moved into our cgroup is
 * still that workload's). The cgroup's ancestors are read from the kernfs
 * nodes (a cgroup's id is its kernfs node's id): the ancestor helpers work
 * on the current task only.
 */
static __always_inline int inside_workload(__u64 own, struct task_struct *p)
{
	struct actgate_task_mark *mark;
	struct kernfs_node *kn;
	__u64 marked = 0, id;
	int below_mark = 0, level;

	if (!own)
		return 0;
	mark = bpf_task_storage_get(&task_marks, p, 0, 0);
	if (mark) {
		marked = mark->workload_cgroup_id;
		if (marked == own)
			return 1;
	}
	kn = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn);
	for (level = 0; level < ACTGATE_MAX_CGROUP_DEPTH && kn; level++) {
		id = BPF_CORE_READ(kn, id);
		if (id == own)
			return !marked || below_mark;
		if (id == marked)
			below_mark = 1;
		kn = kernfs_parent(kn);
	}
	return 0;
}

/*
 * A governed task acting on process p (a signal, ptrace or its kin):
 * refused when p is actgated (daemon_kind) or outside the task's workload
 * (outside_kind: detail gets p's process id in its upper half). Always
 * enforced and recorded, also under audit-mode policies. An ungoverned
 * caller leaves after the governance lookup every hook makes.
 */
static __always_inline int refuse_reach(struct task_struct *p, __u8 daemon_kind, __u8 outside_kind,
					__u64 detail)
{
	struct governance g = {};
	struct actgate_decision *rec;
	__u32 tgid = p->tgid, daemon;
	__u8 kind = daemon_kind;

	if (!governing_workload(&g))
		return 0;
	daemon = daemon_tgid();
	if (!daemon || tgid != daemon) {
		if (inside_workload(own_workload_key(), p))
			return 0;
		kind = outside_kind;
		detail |= (__u64)tgid << 32;
	}
	rec = tamper_record_of(&g, kind, detail);
	if (rec)
		submit_record(rec);
	return -EPERM;
}

/*
 * Every signal a task sends by a system call (kill, tkill, tgkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal; each process of a
 * kill(-1) or of a process group) passes here. Signals the kernel sends
 * (SIGCHLD to the parent, SIGIO/SIGURG to a file's owner) do not.
 */
SEC("lsm/task_kill")
int BPF_PROG(protect_signal, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	/* Signal 0 only probes that the process exists. */
	if (sig == 0)
		return 0;
	return refuse_reach(p, ACTGATE_TAMPER_SIGNAL, ACTGATE_TAMPER_SIGNAL_OUTSIDE, (__u32)sig);
}

/*
 * PTRACE_ATTACH and PTRACE_SEIZE, and every access that asks for attach
 * rights without attaching: /proc/PID/mem, process_vm_readv/writev,
 * pidfd_getfd. Reading (PTRACE_MODE_READ: /proc/PID/stat, environ, maps,
 * the fd links, kcmp) stays allowed.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return refuse_reach(child, ACTGATE_TAMPER_PTRACE, ACTGATE_TAMPER_PTRACE_OUTSIDE, mode);
}

/* PTRACE_TRACEME: a governed task offering itself to its parent, which may be outside. */
SEC("lsm/ptrace_traceme")
int BPF_PROG(protect_traceme, struct task_struct *parent, int ret)
{
	if (ret)
		return ret;
	return refuse_reach(parent, ACTGATE_TAMPER_PTRACE, ACTGATE_TAMPER_PTRACE_OUTSIDE, 0);
}

/*
 * Changing how another process runs. A task may change its own settings
 * and those of its workload's processes; the daemon and every process
 * outside are not the workload's to slow down or starve: a zero
 * RLIMIT_NOFILE or RLIMIT_AS makes actgated fail, SCHED_IDLE or nice 19
 * keeps it from journaling. The op rides in detail's low half.
 */
static __always_inline int refuse_task_change(struct task_struct *p, __u32 op)
{
	return refuse_reach(p, ACTGATE_TAMPER_TASK, ACTGATE_TAMPER_TASK_OUTSIDE, op);
}

/* setrlimit(2) and prlimit64(2) with a new limit (reading one is not a change). */
SEC("lsm/task_setrlimit")
int BPF_PROG(protect_rlimit, struct task_struct *p, unsigned int resource,
	     struct rlimit *new_rlim, int ret)
{
	if (ret)
		return ret;
	return refuse_task_change(p, ACTGATE_TASK_RLIMIT);
}

SEC("lsm/task_setnice")
int BPF_PROG(protect_nice, struct task_struct *p, int nice, int ret)
{
	if (ret)
		return ret;
	return refuse_task_change(p, ACTGATE_TASK_NICE);
}

SEC("lsm/task_setioprio")
int BPF_PROG(protect_ioprio, struct task_struct *p, int ioprio, int ret)
{
	if (ret)
		return ret;
	return refuse_task_change(p, ACTGATE_TASK_IOPRIO);
}

/* sched_setscheduler, sched_setattr, sched_setparam and sched_setaffinity. */
SEC("lsm/task_setscheduler")
int BPF_PROG(protect_scheduler, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return refuse_task_change(p, ACTGATE_TASK_SCHEDULER);
}

/* migrate_pages(2) and move_pages(2) of another process. */
SEC("lsm/task_movememory")
int BPF_PROG(protect_movememory, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return refuse_task_change(p, ACTGATE_TASK_MEMORY);
}

SEC("lsm/bpf")
int BPF_PROG(protect_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return refuse_tamper(ACTGATE_TAMPER_BPF, (__u64)cmd);
}

/*
 * The bpffs: a governed task may not remove, rename or unmount anything
 * there. It cannot create bpf objects (no bpf(2)), so nothing of its own is
 * in the way; what it could remove is actgate's pins, and with them the
 * enforcement that outlives the daemon. Every bpffs is refused, not only
 * the pin directory: a bind mount or another mount of the same bpffs
 * reaches the same pins under another path. The inode hooks (not the path
 * hooks) so that every way to the VFS operation is covered; they give no
 * mount, so the record carries the name alone.
 */
static __always_inline int on_bpffs(struct inode *dir)
{
	return dir && dir->i_sb && dir->i_sb->s_magic == BPF_FS_MAGIC;
}

static __always_inline int refuse_pin_change(__u8 op, struct dentry *dentry)
{
	struct actgate_decision *rec;
	const unsigned char *name;
	int governed;
	__u32 len;

	rec = tamper_record(ACTGATE_TAMPER_PINS, op, &governed);
	if (!governed)
		return 0;
	if (rec) {
		name = BPF_CORE_READ(dentry, d_name.name);
		len = BPF_CORE_READ(dentry, d_name.len);
		/* A bpffs name is at most NAME_MAX (255); the mask restates it for the verifier. */
		len &= 0xff;
		if (bpf_probe_read_kernel_str(rec->target_path, len + 1, name) > 0)
			rec->path_len = len + 1;
		else
			rec->path_error = -ENAMETOOLONG;
		submit_record(rec);
	}
	return -EPERM;
}

/* Refuse op on dentry to a governed task when its protection has a flag of mask. */
static __always_inline int refuse_file_change(__u8 op, struct vfsmount *mnt, struct dentry *dentry,
					      __u32 mask)
{
	struct governance g = {};

	if (!governing_workload(&g))
		return 0;
	if (!(protection_of(dentry, 1) & mask))
		return 0;
	return refuse_file_op(&g, op, mnt, dentry);
}

/*
 * Removing a name: the pins (every bpffs), and elsewhere actgate's files and
 * the directories on the way to them. The inode hooks, not the path hooks,
 * so that every way to the VFS operation (overlayfs on top included) is
 * covered.
 */
SEC("lsm/inode_unlink")
int BPF_PROG(protect_pin_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (on_bpffs(dir))
		return refuse_pin_change(ACTGATE_PIN_UNLINK, dentry);
	return refuse_file_change(ACTGATE_FILE_UNLINK, NULL, dentry, PROTECTED_ANY);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(protect_pin_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (on_bpffs(dir))
		return refuse_pin_change(ACTGATE_PIN_RMDIR, dentry);
	return refuse_file_change(ACTGATE_FILE_RMDIR, NULL, dentry, PROTECTED_ANY);
}

/*
 * Renaming a pin cannot detach it, but moves it away from where the next
 * daemon looks; so does renaming a directory on the way to actgate's
 * files. Renaming into a protected tree replaces or adds a file there (a
 * negative new_dentry is decided by its directory).
 */
SEC("lsm/inode_rename")
int BPF_PROG(protect_pin_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	struct governance g = {};

	if (ret)
		return ret;
	if (on_bpffs(old_dir) || on_bpffs(new_dir))
		return refuse_pin_change(ACTGATE_PIN_RENAME, old_dentry);
	if (!governing_workload(&g))
		return 0;
	if (protection_of(old_dentry, 1) & PROTECTED_ANY)
		return refuse_file_op(&g, ACTGATE_FILE_RENAME, NULL, old_dentry);
	if (protection_of(new_dentry, 1) & PROTECTED_ANY)
		return refuse_file_op(&g, ACTGATE_FILE_RENAME, NULL, new_dentry);
	return 0;
}

/*
 * A hard link of a protected file elsewhere would be written through its
 * new name, outside the tree; a link into a tree adds a file there.
 */
SEC("lsm/inode_link")
int BPF_PROG(protect_files_link, struct dentry *old_dentry, struct inode *dir,
	     struct dentry *new_dentry, int ret)
{
	struct governance g = {};

	if (ret)
		return ret;
	if (!governing_workload(&g))
		return 0;
	if (protection_of(old_dentry, 1) & PROTECTED_FILE)
		return refuse_file_op(&g, ACTGATE_FILE_LINK, NULL, old_dentry);
	if (protection_of(new_dentry, 1) & ACTGATE_PROTECT_TREE)
		return refuse_file_op(&g, ACTGATE_FILE_LINK, NULL, new_dentry);
	return 0;
}

/* New names in a tree: open(O_CREAT) and mknod(2) (path_mknod), mkdir(2), symlink(2). */
SEC("lsm/path_mknod")
int BPF_PROG(protect_files_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_CREATE, dir->mnt, dentry, ACTGATE_PROTECT_TREE);
}

SEC("lsm/path_mkdir")
int BPF_PROG(protect_files_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode,
	     int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_CREATE, dir->mnt, dentry, ACTGATE_PROTECT_TREE);
}

SEC("lsm/path_symlink")
int BPF_PROG(protect_files_symlink, const struct path *dir, struct dentry *dentry,
	     const char *old_name, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_CREATE, dir->mnt, dentry, ACTGATE_PROTECT_TREE);
}

/*
 * truncate(2), and ftruncate(2) on 6.1 (6.2 gave it file_truncate; its
 * descriptor was opened for writing, which is refused above).
 */
SEC("lsm/path_truncate")
int BPF_PROG(protect_files_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_TRUNCATE, path->mnt, path->dentry, PROTECTED_FILE);
}

SEC("lsm/path_chmod")
int BPF_PROG(protect_files_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_CHMOD, path->mnt, path->dentry, PROTECTED_FILE);
}

/* kuid_t and kgid_t are structs passed by value: BPF_PROG takes each as its context word. */
SEC("lsm/path_chown")
int BPF_PROG(protect_files_chown, const struct path *path, __u64 uid, __u64 gid, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_CHOWN, path->mnt, path->dentry, PROTECTED_FILE);
}

/*
 * flock(2), fcntl(2) locks and leases: a lock held on the pin directory,
 * the journal's lock file or the state makes the next daemon wait or
 * refuse to start.
 */
SEC("lsm/file_lock")
int BPF_PROG(protect_files_lock, struct file *file, unsigned int cmd, int ret)
{
	if (ret)
		return ret;
	return refuse_file_change(ACTGATE_FILE_LOCK, file->f_path.mnt, file->f_path.dentry,
				  PROTECTED_FILE);
}

/*
 * mount(2) over actgate's files or a directory on the way to them (a
 * tmpfs over /sys/fs/bpf hides the pins from the next daemon; one over
 * /var/lib its state and key), a remount of their file system (read-only:
 * the journal stops), and MS_MOVE, whose source path the hook does not
 * resolve. Propagation changes and per-mount flags (MS_REMOUNT|MS_BIND)
 * change nothing the daemon reads. Judged where it reaches the daemon
 * (lib/protected.h, mount_reaches_daemon).
 */
SEC("lsm/sb_mount")
int BPF_PROG(protect_files_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	struct governance g = {};

	if (ret)
		return ret;
	if (flags & MS_PROPAGATION)
		return 0;
	if ((flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND))
		return 0;
	if (!governing_workload(&g))
		return 0;
	if (!mount_reaches_daemon(path->mnt))
		return 0;
	if (!(flags & MS_MOVE) && !(protection_of(path->dentry, 1) & PROTECTED_ANY))
		return 0;
	return refuse_file_op(&g, ACTGATE_FILE_MOUNT, path->mnt, path->dentry);
}

/* move_mount(2): a mount moved onto actgate's places, or one of theirs moved away. */
SEC("lsm/move_mount")
int BPF_PROG(protect_files_move_mount, const struct path *from_path, const struct path *to_path,
	     int ret)
{
	struct governance g = {};

	if (ret)
		return ret;
	if (!governing_workload(&g))
		return 0;
	if (!mount_reaches_daemon(to_path->mnt) && !mount_reaches_daemon(from_path->mnt))
		return 0;
	if (protection_of(to_path->dentry, 1) & PROTECTED_ANY)
		return refuse_file_op(&g, ACTGATE_FILE_MOVE_MOUNT, to_path->mnt, to_path->dentry);
	if (protection_of(from_path->dentry, 1) & PROTECTED_ANY)
		return refuse_file_op(&g, ACTGATE_FILE_MOVE_MOUNT, from_path->mnt,
				      from_path->dentry);
	return 0;
}

/*
 * Unmounting the last mount of a bpffs frees every pin in it. A governed
 * task in a mount namespace of its own only drops its copy, but is refused
 * too: the hook cannot tell which mount is the last.
 */
SEC("lsm/sb_umount")
int BPF_PROG(protect_pin_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct actgate_decision *rec;
	int governed;

	if (ret)
		return ret;
	if (!mnt || !mnt->mnt_sb)
		return 0;
	/*
	 * Elsewhere: a mount whose root is one of actgate's directories or on
	 * the way to them (unmounting /var/log would send the next daemon's
	 * journal to the directory below it).
	 */
	if (mnt->mnt_sb->s_magic != BPF_FS_MAGIC) {
		struct governance g = {};
		struct dentry *root = mnt->mnt_root;

		if (!governing_workload(&g) || !mount_reaches_daemon(mnt))
			return 0;
		if (!(protection_of(root, 1) & PROTECTED_ANY))
			return 0;
		return refuse_file_op(&g, ACTGATE_FILE_UMOUNT, mnt, root);
	}
	rec = tamper_record(ACTGATE_TAMPER_PINS, ACTGATE_PIN_UMOUNT, &governed);
	if (!governed)
		return 0;
	if (rec) {
		record_dentry_path(rec, mnt, mnt->mnt_root);
		submit_record(rec);
	}
	return -EPERM;
}
