/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Compilation: a validated policy set -> the contents of the BPF maps (the
 * policy image). Paths are resolved to inode identity here, through a
 * resolver so that tests can supply their own file system.
 */
#ifndef ACTGATE_COMPILE_H
#define ACTGATE_COMPILE_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "diag.h"
#include "policy.h"

struct image_path_entry {
	struct actgate_path_key key;
	struct actgate_rule_verdict value;
};

struct image_net_entry {
	struct actgate_net_key key;
	struct actgate_net_rules value;
};

/*
 * Policy ids carry their generation, so that a new image's rules never share
 * keys with the running one and a reload can write the whole new image
 * before any workload points at it. Id 0 is never a policy.
 */
#define POLICY_INDEX_BITS 16
#define POLICY_MAX_PER_GENERATION ((1u << POLICY_INDEX_BITS) - 1)
static inline uint32_t policy_id_of(uint32_t generation, size_t index)
{
	return (generation << POLICY_INDEX_BITS) | (uint32_t)(index + 1);
}
static inline uint32_t policy_id_generation(uint32_t policy_id)
{
	return policy_id >> POLICY_INDEX_BITS;
}
/* The index of a policy id in its set, or SIZE_MAX for id 0. */
static inline size_t policy_id_index(uint32_t policy_id)
{
	uint32_t low = policy_id & POLICY_MAX_PER_GENERATION;

	return low ? (size_t)low - 1 : (size_t)-1;
}

struct policy_image {
	uint32_t generation; /* 1 to 65535: it lives in the upper half of policy ids */
	/* In the set's order: the policy at index i has id policy_id_of(generation, i). */
	struct actgate_policy *policies;
	size_t policy_count;
	struct image_path_entry *paths;
	size_t path_count;
	struct image_net_entry *nets;
	size_t net_count;
	/* Rule id -> name such as "ci-runner:exec.deny[0]"; id 0 is unused. */
	char **rule_names;
	size_t rule_count;
};

/*
 * Resolve an absolute path to the kernel's inode identity. Returns 0,
 * -ENOENT when it does not exist, or another -errno. is_dir tells whether it
 * is a directory.
 */
typedef int (*path_resolver_fn)(const char *path, uint32_t *dev, uint64_t *ino, int *is_dir,
				void *ctx);

/* stat(2)-based resolver: follows symlinks, encodes dev as the kernel does. */
int resolve_path_stat(const char *path, uint32_t *dev, uint64_t *ino, int *is_dir, void *ctx);

/*
 * Compile set into img. Unresolvable paths are warnings (the rule cannot
 * match anything that does not exist; see docs/policy.md); what cannot be
 * represented (a subtree rule on a file, too many overlapping connect rules)
 * is an error. Returns 0, -EINVAL after adding errors to diags, or -ENOMEM.
 * On failure img is left empty.
 */
int policy_compile(const struct policy_set *set, uint32_t generation, path_resolver_fn resolve,
		   void *resolve_ctx, struct policy_image *img, struct diag_list *diags);

/*
 * A rule's name as records and tests show it: "POLICY:ACTION.LIST[INDEX]"
 * (LIST is allow or deny) or, for a section's default, "POLICY:ACTION.default".
 * The compiler and the userspace evaluator both name rules through this.
 */
#define RULE_DEFAULT (-1)
int rule_name_format(char *buf, size_t size, const char *policy, uint8_t action, int verdict,
		     unsigned index);

/* Does connect rule r's prefix contain the prefix (addr, len)? */
int net_rule_contains(const struct net_rule *r, const uint8_t addr[16], unsigned len);
/*
 * Connect precedence, shared by the compiler's per-prefix lists and the
 * userspace evaluator: the longer prefix, then the narrower port range, then
 * deny, then the earlier rule.
 */
int net_rule_more_specific(const struct net_rule *a, const struct net_rule *b);

/* The name of a rule id, or NULL when it is out of range. */
const char *policy_image_rule_name(const struct policy_image *img, uint32_t rule_id);

void policy_image_free(struct policy_image *img);

#endif /* ACTGATE_COMPILE_H */
