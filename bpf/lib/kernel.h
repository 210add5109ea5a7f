/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What every BPF helper header starts from: the kernel's types (vmlinux.h,
 * from BTF), libbpf's helper declarations, and the errno values BTF lacks.
 */
#ifndef ACTGATE_BPF_LIB_KERNEL_H
#define ACTGATE_BPF_LIB_KERNEL_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* include/uapi/asm-generic/errno-base.h and errno.h: macros, not in BTF. */
#define EPERM 1
#define ENOMEM 12
#define ENAMETOOLONG 36

/* include/linux/fs.h, uapi fcntl.h and stat.h: macros, not in BTF. */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_PATH 0x4000
#define O_TRUNC 00001000
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_IFCHR 0020000

#endif /* ACTGATE_BPF_LIB_KERNEL_H */
