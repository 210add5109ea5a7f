/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decision records: built with the common fields set (begin_record), given
 * the target's readable path (record_path, record_dentry_path), and sent to
 * the daemon through the ring buffer, counted per action when it is full
 * (submit_record).
 */
#ifndef ACTGATE_BPF_LIB_RECORD_H
#define ACTGATE_BPF_LIB_RECORD_H

#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

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

#endif /* ACTGATE_BPF_LIB_RECORD_H */
