/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decision records: built in a record slot with the common fields set
 * (begin_record), given the target's readable path (record_path,
 * record_dentry_path), and copied into the ring buffer for the daemon,
 * counted per action when it is full (submit_record); under strict
 * recording an action whose record is lost is denied (submit_decision).
 */
#ifndef ACTGATE_BPF_LIB_RECORD_H
#define ACTGATE_BPF_LIB_RECORD_H

#include "lib/failure.h"
#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

/* Does the decision ask to be journaled? */
static __always_inline int wants_record(const struct verdict *v)
{
	if (v->record == ACTGATE_RECORD_ALL || v->record == ACTGATE_RECORD_STRICT)
		return 1;
	return v->record == ACTGATE_RECORD_DENY && v->verdict == ACTGATE_VERDICT_DENY;
}

/*
 * A decision whose record could not be written. Under strict recording an
 * action may not succeed unrecorded: one that would is denied, enforced,
 * and counted, since the denial cannot be recorded either. Any other
 * decision stands (the caller has counted the lost record).
 */
static __always_inline void record_failed(struct verdict *v)
{
	if (v->record != ACTGATE_RECORD_STRICT || verdict_errno(v) != 0)
		return;
	v->verdict = ACTGATE_VERDICT_DENY;
	v->mode = ACTGATE_MODE_ENFORCE;
	count_failure(ACTGATE_FAILURE_UNRECORDED);
}

/*
 * A record slot of this CPU (bpf/maps.h, record_slots), held by this task
 * until record_release; NULL, counted, when every one is held.
 *
 * Why a claim. A program keeps its CPU from start to end (the trampoline
 * disables migration), but not the CPU to itself: the LSM trampolines run
 * non-sleepable programs under rcu_read_lock and migrate_disable only
 * (LSM programs skip the trampoline's recursion check, too), and Debian's
 * cloud kernels 6.1 and 6.12 are built with CONFIG_PREEMPT_DYNAMIC and
 * CONFIG_PREEMPT_RCU: with preempt=full (a boot option, or a switch at run
 * time) a task can be preempted inside a program, and another task then
 * runs a program on the same CPU; on PREEMPT_RT kernels, always. A slot
 * shared without a claim would then mix two decisions into one record.
 * Nothing in BPF turns preemption off on 6.1, so each record owns its slot.
 *
 * How. users counts the tasks claiming the slot: a task adds 1 and holds
 * the slot when it then reads 1, else it takes its 1 back and tries the
 * next slot. Two tasks never hold it at once: say both did; when the first
 * of them read 1, the other's add was not made yet (an add is not taken
 * back while its task holds), so the other read after its own add with the
 * first's still counted: 2 at least. Preemption can make two claimants both
 * back off; then both try the next slot. The add is one instruction (an
 * atomic add: clang's default BPF ISA has it, not compare-and-swap), so
 * preemption cannot split it; only tasks running on this CPU touch its
 * slots, so no ordering with other CPUs is needed.
 *
 * How many. A preempted task holds its slot until it runs again; each slot
 * beyond the first covers one more task preempted while building a record
 * on the same CPU. Four cost 34 KiB per CPU; a fifth such task on one CPU
 * goes unrecorded (ACTGATE_FAILURE_RECORD_SLOT), its verdict unchanged.
 */
static __always_inline struct actgate_record_slot *record_try(__u32 key)
{
	struct actgate_record_slot *slot = bpf_map_lookup_elem(&record_slots, &key);

	if (!slot)
		return NULL;
	__sync_fetch_and_add(&slot->users, 1);
	if (*(volatile __u64 *)&slot->users == 1) {
		slot->index = key;
		return slot;
	}
	__sync_fetch_and_add(&slot->users, -1);
	return NULL;
}

static __always_inline struct actgate_record_slot *record_claim(void)
{
	struct actgate_record_slot *slot;

	/*
	 * One try per key, each a constant: in a loop, the key spilled to the
	 * stack loses its bounds, and the verifier takes the loop for an
	 * endless one.
	 */
	_Static_assert(ACTGATE_RECORD_SLOTS == 4, "one try per slot");
	slot = record_try(0);
	if (!slot)
		slot = record_try(1);
	if (!slot)
		slot = record_try(2);
	if (!slot)
		slot = record_try(3);
	if (!slot)
		count_failure(ACTGATE_FAILURE_RECORD_SLOT);
	return slot;
}

static __always_inline struct actgate_record_slot *record_slot(struct actgate_decision *rec)
{
	return container_of(rec, struct actgate_record_slot, rec);
}

/* Give back the slot of a record begun with begin_record. */
static __always_inline void record_release(struct actgate_decision *rec)
{
	__sync_fetch_and_add(&record_slot(rec)->users, -1);
}

/* Does this build run beside the previous one (an upgrade's overlap)? */
static __always_inline __u8 in_overlap(void)
{
	__u32 zero = 0, *on = bpf_map_lookup_elem(&overlap, &zero);

	return on && *on ? 1 : 0;
}

/*
 * A record with the common fields set, in a slot this task holds: every
 * record begun is ended by submit_record, which gives the slot back. NULL
 * when no slot is free (counted; under strict recording v is then denied).
 */
static __always_inline struct actgate_decision *
begin_record(__u8 action, __u64 cgroup_id, __u64 workload_id, __u32 policy_id,
	     const struct actgate_policy *pol, struct verdict *v)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct actgate_record_slot *slot;
	struct actgate_decision *rec;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	slot = record_claim();
	if (!slot) {
		record_failed(v);
		return NULL;
	}
	rec = &slot->rec;
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
	rec->overlap = in_overlap();
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

/*
 * Send the record, sized to its path, and give its slot back; count it per
 * action when it does not fit. Returns 0 or the ring buffer's -errno.
 */
static __always_inline long submit_record(struct actgate_decision *rec)
{
	__u64 path_len = rec->path_len;
	__u32 action = rec->action;
	__u64 *count;
	long err;

	/*
	 * Bound the length in the register that is passed: clang would drop a
	 * plain mask after a comparison and hand the verifier an unbounded copy.
	 * A path of exactly PATH_MAX bytes loses its NUL and is shown by inode.
	 */
	_Static_assert(ACTGATE_PATH_BUF == 0x1000, "the mask below assumes a 4 KiB path buffer");
	asm volatile("%[len] &= 0xfff" : [len] "+r"(path_len));
	rec->hdr.size = ACTGATE_DECISION_FIXED_SIZE + path_len;
	err = bpf_ringbuf_output(&events, rec, ACTGATE_DECISION_FIXED_SIZE + path_len,
				 wakeup_flags());
	record_release(rec);
	if (err == 0)
		return 0;
	count = bpf_map_lookup_elem(&dropped, &action);
	if (count)
		__sync_fetch_and_add(count, 1);
	return err;
}

/*
 * Send the record of decision v (submit_record); when it is lost, v stands
 * unless strict recording denies it (record_failed). bpf_ringbuf_output
 * reserves and commits in one call, so an action allowed here has its
 * record in the ring buffer before the hook returns.
 */
static __always_inline void submit_decision(struct actgate_decision *rec, struct verdict *v)
{
	if (submit_record(rec))
		record_failed(v);
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
 * into the record slot's names buffer, then copied into the record.
 * Like d_path, the walk leaves a mount at its root (mnt_root, which for a
 * bind mount of a directory is that directory) for its mount point.
 */
struct name_walk {
	struct mount *mnt;
	struct dentry *d;
	__u32 slot; /* the record slot whose names buffer holds the path */
	__u32 pos;  /* the path so far starts at buf[pos]; it ends at buf[ACTGATE_PATH_BUF - 1] */
	__s32 error;
};

static long name_step(__u32 index, void *data)
{
	struct name_walk *w = data;
	struct dentry *d = w->d, *parent;
	struct mount *mnt = w->mnt, *parent_mnt;
	struct actgate_record_slot *slot;
	const unsigned char *name;
	__u32 key = w->slot, len, pos;
	long err;

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
	/* Looked up again at each step: a callback's context keeps scalars, not map values. */
	slot = bpf_map_lookup_elem(&record_slots, &key);
	if (!slot) {
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
	/* The masks restate the bounds above for the verifier: pos + len < sizeof(names). */
	pos &= ACTGATE_PATH_BUF - 1;
	len &= 0xff;
	err = bpf_probe_read_kernel(slot->names + pos, len, name);
	if (err) {
		count_failure(ACTGATE_FAILURE_NAME_READ);
		w->error = err;
		return 1;
	}
	pos -= 1;
	pos &= ACTGATE_PATH_BUF - 1;
	slot->names[pos] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

/* rec: begun with begin_record (the path is built in its slot). */
static __always_inline void record_dentry_path(struct actgate_decision *rec, struct vfsmount *vfsmnt,
					       struct dentry *dentry)
{
	struct actgate_record_slot *slot = record_slot(rec);
	struct name_walk w = { .mnt = container_of(vfsmnt, struct mount, mnt), .d = dentry,
			       .slot = slot->index, .pos = ACTGATE_PATH_BUF - 1 };
	char *buf = slot->names;
	long err;
	__u32 n;

	_Static_assert(sizeof(slot->names) >= ACTGATE_PATH_BUF + 255,
		       "a name of 255 bytes written at the last position stays in the buffer");
	buf[ACTGATE_PATH_BUF - 1] = '\0';
	err = bpf_loop(ACTGATE_PATH_BUF / 2, name_step, &w, 0);
	if (err < 0)
		w.error = err; /* not walked at all: the path would read "/" */
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
	/* From the slot to the record: both ours, so the read cannot fault. */
	bpf_probe_read_kernel(rec->target_path, n, buf + w.pos);
	rec->path_len = n;
}

#endif /* ACTGATE_BPF_LIB_RECORD_H */
