/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What self-protection guards (bpf/protect.bpf.c): actgate's own places,
 * named by inode identity for the protected_files map (abi.h, struct
 * actgate_protect_key). The daemon builds the set at every start from its
 * configured pin, state, policy and journal directories and seal key: each
 * with its flags, every directory on the way to it as WAY, a DEV entry per
 * file system, and the daemon's mount namespace.
 */
#ifndef ACTGATE_KERNEL_PROTECT_H
#define ACTGATE_KERNEL_PROTECT_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"

struct protect_entry {
	struct actgate_protect_key key;
	uint32_t flags; /* enum actgate_protect_flags */
};

struct protect_set {
	struct protect_entry *entries;
	size_t count, cap;
};

/*
 * Add path (a directory with ACTGATE_PROTECT_TREE, the key with TREE and
 * SECRET) and every directory above it (WAY), by their real path
 * (symlinks resolved). An inode named twice gets the union of its flags.
 * -errno with why set (a path that does not exist is refused: there is
 * nothing to protect, and the daemon would not run without it).
 */
int protect_add(struct protect_set *s, const char *path, uint32_t flags, char *why,
		size_t why_size);
/* Add the calling process's mount namespace (/proc/self/ns/mnt). */
int protect_add_mount_namespace(struct protect_set *s, char *why, size_t why_size);
/* Is key in the set? (enforcer: which map keys to remove) */
int protect_contains(const struct protect_set *s, const struct actgate_protect_key *key);
void protect_free(struct protect_set *s);

#endif /* ACTGATE_KERNEL_PROTECT_H */
