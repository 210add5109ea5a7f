/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Self-protection: a governed workload may not signal or ptrace actgated, nor
 * use bpf(2) at all (which could detach these programs or rewrite their maps).
 * Always enforced, also under audit-mode policies: an audited workload must
 * not be able to silence the audit.
 */
#include "common.h"

#define PTRACE_MODE_ATTACH 0x02

/* actgated's process id, written by the daemon before it loads the programs. */
const volatile __u32 daemon_tgid = 0;

static __always_inline int refuse_tamper(__u8 kind, __u64 detail)
{
	struct verdict v = {};
	struct actgate_decision *rec;
	struct governance g = {};
	__u64 workload_id = 0;
	__u32 policy_id = 0;

	if (!governing_workload(&g))
		return 0;
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
		submit_record(rec);
	}
	return -EPERM;
}

SEC("lsm/task_kill")
int BPF_PROG(protect_signal, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	/* Signal 0 only probes that the process exists. */
	if (!daemon_tgid || sig == 0 || (__u32)p->tgid != daemon_tgid)
		return 0;
	return refuse_tamper(ACTGATE_TAMPER_SIGNAL, (__u64)sig);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	/* Reading /proc/PID/stat and the like (PTRACE_MODE_READ) stays allowed. */
	if (!daemon_tgid || !(mode & PTRACE_MODE_ATTACH) || (__u32)child->tgid != daemon_tgid)
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
