/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Self-protection: a governed workload may not signal or ptrace actgated, nor
 * use bpf(2) at all (which could detach these programs or rewrite their maps),
 * nor remove, rename or unmount anything on the bpffs, where the pinned links
 * keep these programs attached while no daemon runs (removing the last pin of
 * a link detaches its program). Always enforced, also under audit-mode
 * policies: an audited workload must not be able to silence the audit.
 */
#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

#define PTRACE_MODE_ATTACH 0x02
#define BPF_FS_MAGIC 0xcafe4a11 /* include/uapi/linux/magic.h */

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

/* The record of a refused attempt, not sent yet; NULL for an ungoverned task (allowed). */
static __always_inline struct actgate_decision *tamper_record(__u8 kind, __u64 detail, int *governed)
{
	struct verdict v = {};
	struct actgate_decision *rec;
	struct governance g = {};
	__u64 workload_id = 0;
	__u32 policy_id = 0;

	*governed = governing_workload(&g);
	if (!*governed)
		return NULL;
	fail_closed(&v, ACTGATE_REASON_SELF_PROTECTION);
	if (g.wl) {
		workload_id = g.wl->workload_id;
		policy_id = g.wl->policy_id;
	}
	rec = begin_record(ACTGATE_ACTION_TAMPER, g.cgroup_id, workload_id, policy_id, NULL, &v);
	if (rec) {
		rec->dev = kind;
		rec->ino = detail;
		rec->signal_generation = g.signal_generation;
	}
	return rec;
}

static __always_inline int refuse_tamper(__u8 kind, __u64 detail)
{
	struct actgate_decision *rec;
	int governed;

	rec = tamper_record(kind, detail, &governed);
	if (!governed)
		return 0;
	if (rec)
		submit_record(rec);
	return -EPERM;
}

SEC("lsm/task_kill")
int BPF_PROG(protect_signal, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	/* Signal 0 only probes that the process exists. */
	__u32 tgid;

	if (sig == 0)
		return 0;
	tgid = daemon_tgid();
	if (!tgid || (__u32)p->tgid != tgid)
		return 0;
	return refuse_tamper(ACTGATE_TAMPER_SIGNAL, (__u64)sig);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	/* Reading /proc/PID/stat and the like (PTRACE_MODE_READ) stays allowed. */
	__u32 tgid;

	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	tgid = daemon_tgid();
	if (!tgid || (__u32)child->tgid != tgid)
		return 0;
	return refuse_tamper(ACTGATE_TAMPER_PTRACE, mode);
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

SEC("lsm/inode_unlink")
int BPF_PROG(protect_pin_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(dir))
		return 0;
	return refuse_pin_change(ACTGATE_PIN_UNLINK, dentry);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(protect_pin_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(dir))
		return 0;
	return refuse_pin_change(ACTGATE_PIN_RMDIR, dentry);
}

/* Renaming a pin cannot detach it, but moves it away from where the next daemon looks. */
SEC("lsm/inode_rename")
int BPF_PROG(protect_pin_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	if (!on_bpffs(old_dir) && !on_bpffs(new_dir))
		return 0;
	return refuse_pin_change(ACTGATE_PIN_RENAME, old_dentry);
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
	if (!mnt || !mnt->mnt_sb || mnt->mnt_sb->s_magic != BPF_FS_MAGIC)
		return 0;
	rec = tamper_record(ACTGATE_TAMPER_PINS, ACTGATE_PIN_UMOUNT, &governed);
	if (!governed)
		return 0;
	if (rec) {
		record_dentry_path(rec, mnt, mnt->mnt_root);
		submit_record(rec);
	}
	return -EPERM;
}
