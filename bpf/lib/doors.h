/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel's doors that are files (bpf/doors.bpf.c says which and why):
 * which door an open is, and its refusal to a governed task whose policies
 * do not allow it. check_open (bpf/file.bpf.c) asks on every open, so that
 * an open runs one program, not one per concern.
 */
#ifndef ACTGATE_BPF_LIB_DOORS_H
#define ACTGATE_BPF_LIB_DOORS_H

#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/tamper.h"
#include "maps.h"

/* include/linux/fs.h, include/uapi/linux/stat.h and magic.h: stable values, not in BTF. */
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
 * Refuse the door to the governed task g when its policies do not allow
 * it; the record names the file (path), else the text name (a module's
 * name).
 */
static __always_inline int refuse_door_of(const struct governance *g, __u8 door,
					  struct file *file, const char *name)
{
	struct actgate_decision *rec;
	long n;

	if (door_allowed(g, door))
		return 0;
	rec = tamper_record_of(g, ACTGATE_TAMPER_KERNEL, door);
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
 * The door an open of file is, or -1 (most opens): the memory devices
 * whatever the access, the helper sysctls and binfmt_misc for writing.
 * Plain loads from the file first: every other open leaves before any map
 * lookup or helper call.
 */
static __always_inline int kernel_file_door(struct file *file)
{
	struct inode *inode = file->f_inode;
	__u32 rdev;

	if (!inode)
		return -1;
	if ((inode->i_mode & S_IFMT) == S_IFCHR) {
		/* Any node of these devices: a root task can mknod its own. */
		rdev = inode->i_rdev;
		if (rdev != DEV_MEM && rdev != DEV_KMEM && rdev != DEV_PORT)
			return -1;
		return ACTGATE_KERNEL_MEM_DEVICES;
	}
	if (!(file->f_mode & FMODE_WRITE))
		return -1;
	switch (inode->i_sb->s_magic) {
	case BINFMTFS_MAGIC:
		/* register, status and every entry: each changes how the host executes files. */
		return ACTGATE_KERNEL_BINFMT_MISC;
	case PROC_SUPER_MAGIC:
		return proc_door(file->f_path.dentry);
	case SYSFS_MAGIC:
		return sysfs_door(file->f_path.dentry);
	default:
		return -1;
	}
}

#endif /* ACTGATE_BPF_LIB_DOORS_H */
