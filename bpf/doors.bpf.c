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
 * from a descriptor of a directory in between.
 */
#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/tamper.h"
#include "maps.h"

/* include/linux/fs.h, include/uapi/linux/stat.h and magic.h: stable values, not in BTF. */
#define FMODE_WRITE 0x2
#define S_IFMT 00170000
#define S_IFCHR 0020000
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define BINFMTFS_MAGIC 0x42494e4d
/* The kernel's dev_t (MKDEV): major << 20 | minor; /dev/mem, /dev/kmem, /dev/port. */
#define DEV_MEM ((1 << 20) | 1)
#define DEV_KMEM ((1 << 20) | 2)
#define DEV_PORT ((1 << 20) | 4)

/* Does every policy of the governed task g allow the door? */
static __always_inline int door_allowed(const struct governance *g, __u8 door)
{
	struct actgate_policy *pol;
	struct verdict v = {};
	__u64 workload_id;
	__u32 policy_id;

	/* Revoked, expired or orphaned workloads have no policy to allow it. */
	pol = governing_policy(g, &policy_id, &workload_id, &v);
	return pol && ((pol->kernel_allow >> door) & 1);
}

/*
 * Refuse the door to a governed task its policies do not allow it; the
 * record names the file (path), else the text name (a module's name).
 */
static __always_inline int refuse_door(__u8 door, struct file *file, const char *name)
{
	struct governance g = {};
	struct actgate_decision *rec;
	long n;

	if (!governing_workload(&g) || door_allowed(&g, door))
		return 0;
	rec = tamper_record_of(&g, ACTGATE_TAMPER_KERNEL, door);
	if (!rec)
		return -EPERM;
	if (file) {
		record_dentry_path(rec, BPF_CORE_READ(file, f_path.mnt),
				   BPF_CORE_READ(file, f_path.dentry));
	} else if (name) {
		n = bpf_probe_read_kernel_str(rec->target_path, 256, name);
		if (n > 0)
			rec->path_len = n;
	}
	submit_record(rec);
	return -EPERM;
}

/*
 * A name of at most 15 bytes as two little-endian words, zero-padded, built
 * by the compiler: a string literal in a BPF object would become a .rodata
 * map, which the bpffs cannot pin under its name (no '.' there).
 */
#define NAME_BYTE(s, i) ((__u64)(sizeof(s) > (i) + 1 ? (unsigned char)(s)[(i)] : 0) << (8 * ((i) % 8)))
#define NAME_WORD(s, o)                                                                      \
	(NAME_BYTE(s, (o) + 0) | NAME_BYTE(s, (o) + 1) | NAME_BYTE(s, (o) + 2) |              \
	 NAME_BYTE(s, (o) + 3) | NAME_BYTE(s, (o) + 4) | NAME_BYTE(s, (o) + 5) |              \
	 NAME_BYTE(s, (o) + 6) | NAME_BYTE(s, (o) + 7))
#define NAME_IS(d, s) name_is(d, NAME_WORD(s, 0), NAME_WORD(s, 8), sizeof(s) - 1)

/* Is d's name the one NAME_IS gives as words (len bytes, at most 15)? */
static __always_inline int name_is(struct dentry *d, __u64 w0, __u64 w1, __u32 len)
{
	union {
		char c[16];
		__u64 w[2];
	} got = {};

	if (len >= sizeof(got) || BPF_CORE_READ(d, d_name.len) != len)
		return 0;
	if (bpf_probe_read_kernel(got.c, len, BPF_CORE_READ(d, d_name.name)))
		return 0;
	return got.w[0] == w0 && got.w[1] == w1;
}

/* Is d the root of its file system? */
static __always_inline int fs_root(struct dentry *d)
{
	return d && BPF_CORE_READ(d, d_parent) == d;
}

/* procfs: sys/kernel/{core_pattern,modprobe,hotplug,poweroff_cmd}; -1 for any other file. */
static __always_inline int proc_door(struct dentry *d)
{
	struct dentry *kernel, *sys;
	int door;

	/* The file's own name first: most writes to procfs are elsewhere (/proc/PID/...). */
	if (NAME_IS(d, "core_pattern"))
		door = ACTGATE_KERNEL_CORE_PATTERN;
	else if (NAME_IS(d, "modprobe"))
		door = ACTGATE_KERNEL_MODPROBE;
	else if (NAME_IS(d, "hotplug"))
		door = ACTGATE_KERNEL_UEVENT_HELPER;
	else if (NAME_IS(d, "poweroff_cmd"))
		door = ACTGATE_KERNEL_POWEROFF_CMD;
	else
		return -1;
	kernel = BPF_CORE_READ(d, d_parent);
	sys = BPF_CORE_READ(kernel, d_parent);
	if (!NAME_IS(kernel, "kernel") || !NAME_IS(sys, "sys") ||
	    !fs_root(BPF_CORE_READ(sys, d_parent)))
		return -1;
	return door;
}

/* sysfs: kernel/uevent_helper; -1 for any other file. */
static __always_inline int sysfs_door(struct dentry *d)
{
	struct dentry *kernel;

	if (!NAME_IS(d, "uevent_helper"))
		return -1;
	kernel = BPF_CORE_READ(d, d_parent);
	if (!NAME_IS(kernel, "kernel") || !fs_root(BPF_CORE_READ(kernel, d_parent)))
		return -1;
	return ACTGATE_KERNEL_UEVENT_HELPER;
}

/*
 * Opens of the helper sysctls and binfmt_misc for writing, and of the
 * memory devices at all. A program of its own beside check_open, so that
 * every other open leaves after a few plain loads from the file, before any
 * map lookup: the governance lookup is only for the files in question.
 */
SEC("lsm/file_open")
int BPF_PROG(guard_kernel_files, struct file *file, int ret)
{
	struct inode *inode;
	__u32 rdev;
	int door;

	if (ret)
		return ret;
	inode = file->f_inode;
	if (!inode)
		return 0;
	if ((inode->i_mode & S_IFMT) == S_IFCHR) {
		/* Any node of these devices: a root task can mknod its own. */
		rdev = inode->i_rdev;
		if (rdev != DEV_MEM && rdev != DEV_KMEM && rdev != DEV_PORT)
			return 0;
		return refuse_door(ACTGATE_KERNEL_MEM_DEVICES, file, NULL);
	}
	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	switch (inode->i_sb->s_magic) {
	case BINFMTFS_MAGIC:
		/* register, status and every entry: each changes how the host executes files. */
		door = ACTGATE_KERNEL_BINFMT_MISC;
		break;
	case PROC_SUPER_MAGIC:
		door = proc_door(file->f_path.dentry);
		break;
	case SYSFS_MAGIC:
		door = sysfs_door(file->f_path.dentry);
		break;
	default:
		return 0;
	}
	if (door < 0)
		return 0;
	return refuse_door(door, file, NULL);
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
