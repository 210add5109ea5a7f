/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A BPF-level test of the path-naming step (bpf/lib/record.h,
 * record_dentry_path): the record of the file at one of the caller's
 * descriptors, named by the same code the LSM programs use, through the same
 * record slots and ring buffer. Driven by `actprobe name-fd` with
 * BPF_PROG_RUN; its own object with its own copy of the maps, never loaded
 * by actgated.
 *
 * Why a raw tracepoint program and not the LSM programs themselves: the
 * kernel cannot test-run an LSM program. BPF_PROG_RUN calls the program
 * type's test_run, and lsm_prog_ops (kernel/bpf/bpf_lsm.c) has none on 6.1
 * and 6.12, so the bpf() call fails with ENOTSUPP (524); `actprobe
 * lsm-test-run` checks that on the running kernel with lsm_probe below.
 * Raw tracepoint programs have a test_run (bpf_prog_test_run_raw_tp) that
 * runs them in the calling task with arguments of our choosing, and the
 * naming step needs nothing an LSM program has and they lack: it reads
 * kernel memory through probe reads (BPF_CORE_READ), walks with bpf_loop and
 * writes to map values. What the test cannot cover is the hook's own
 * arguments: here the (mount, dentry) pair comes from the task's descriptor
 * table instead of the hook.
 */
#define ACTGATE_DEFINE_MAPS
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * ctx->args[0]: a descriptor of the calling task. Returns 0 when a record
 * was submitted (its path, or its path_error), else what went wrong:
 * 1 no such descriptor, 2 no record slot.
 */
SEC("raw_tp")
int name_fd(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds, *file = NULL;
	struct actgate_decision *rec;
	struct verdict v = {};
	__u64 fdnum = ctx->args[0];
	unsigned int max_fds;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fdnum >= max_fds ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fdnum & 0xffffff]) || !file)
		return 1;
	rec = begin_record(ACTGATE_ACTION_OPEN, 0, 0, 0, NULL, &v);
	if (!rec)
		return 2;
	rec->ino = fdnum; /* which call this record answers */
	record_dentry_path(rec, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry));
	submit_record(rec);
	return 0;
}

/* Never attached: only there to be test-run, which the kernel refuses. */
SEC("lsm/file_open")
int BPF_PROG(lsm_probe, struct file *file, int ret)
{
	return ret;
}
