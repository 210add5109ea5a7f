/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel's doors to code outside every workload: helpers the kernel
 * starts as root from kthreadd (core_pattern pipes, modprobe, the uevent
 * helper, binfmt_misc interpreters, poweroff_cmd), which task_alloc never
 * marks; code it loads (modules, kexec images); and the memory devices. A
 * governed task is refused each, recorded as tamper, unless every policy
 * of its workload allows the door (spec.kernel.allow, compiled into
 * actgate_policy.kernel_allow). Enforced also under audit-mode policies: a
 * helper started this way would run outside the audit.
 *
 * The sysctls check only the file's mode on 6.1: a capability check does not
 * stop a root task's write, so the open for writing is refused. procfs and
 * sysfs make their inodes on lookup, so the files are known by their file
 * system's magic and their names up to that file system's root: the same
 * through a bind mount, a second procfs mount, /proc/self/root, or openat
 * from a descriptor of a directory in between. The opens are decided by
 * check_open (bpf/file.bpf.c) through lib/doors.h; this file has the rest.
 */
#include "lib/doors.h"
#include "lib/governance.h"
#include "maps.h"

/* The door to a governed task, when its policies do not allow it. */
static __always_inline int refuse_door(__u8 door, struct file *file, const char *name)
{
	struct governance g = {};

	if (!governing_workload(&g))
		return 0;
	return refuse_door_of(&g, door, file, name);
}

/* init_module (a module from memory) and kexec_load: records without a name. */
SEC("lsm/kernel_load_data")
int BPF_PROG(guard_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return refuse_door(ACTGATE_KERNEL_MODULES, NULL, NULL);
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_IMAGE) ||
	    id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_INITRAMFS))
		return refuse_door(ACTGATE_KERNEL_KEXEC, NULL, NULL);
	return 0;
}

/* finit_module and kexec_file_load: the file read in. Firmware stays allowed. */
SEC("lsm/kernel_read_file")
int BPF_PROG(guard_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return refuse_door(ACTGATE_KERNEL_MODULES, file, NULL);
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE) ||
	    id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_INITRAMFS))
		return refuse_door(ACTGATE_KERNEL_KEXEC, file, NULL);
	return 0;
}

/*
 * A module the kernel would have modprobe load on the task's behalf (an
 * unknown socket family, file system type, crypto algorithm, ...): modprobe
 * runs as root outside every workload, with its configuration's commands.
 */
SEC("lsm/kernel_module_request")
int BPF_PROG(guard_module_request, char *kmod_name, int ret)
{
	if (ret)
		return ret;
	return refuse_door(ACTGATE_KERNEL_MODULES, NULL, kmod_name);
}
