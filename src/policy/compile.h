/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Compilation: a validated policy set -> the contents of the BPF maps.
 *
 * The kernel evaluates one policy per workload: the EFFECTIVE policy, the
 * composition of every policy that selects the workload, each with the
 * rules and defaults of its base and of the `when:` overlays that hold for
 * it (docs/policy.md, "Several policies" and "Conditions on signals"). A
 * policy image holds one generation of a set: the set's rule ids and
 * resolved paths, and the effective policies compiled so far, added on
 * demand as workloads with a new key (selected policies, active overlays)
 * appear. Paths are resolved to inode identity through a resolver, so that
 * tests can supply their own file system.
 *
 * The compiler is cut along its steps: compile-image.c (rule ids, resolved
 * paths, names), compile.c (policy_compile and effective
 * policies), compile-paths.c and compile-net.c (path and IP rules), with
 * compile-internal.h between them.
 */
#ifndef ACTGATE_COMPILE_H
#define ACTGATE_COMPILE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "policy/policy.h"
#include "util/diag.h"

struct image_path_entry {
	struct actgate_path_key key;
	struct actgate_path_value value;
};

struct image_net_entry {
	struct actgate_net_key key;
	struct actgate_net_rules value;
};

/*
 * Policy ids carry their generation, so that a new image's rules never share
 * keys with the running one and a reload can write the whole new image
 * before any workload points at it. The low half numbers the generation's
 * effective policies from 1; id 0 is never a policy.
 */
#define POLICY_INDEX_BITS 16
#define POLICY_MAX_PER_GENERATION ((1u << POLICY_INDEX_BITS) - 1)
#define POLICY_MAX_GENERATION 0xffffu
static inline uint32_t policy_id_of(uint32_t generation, size_t index)
{
	return (generation << POLICY_INDEX_BITS) | (uint32_t)(index + 1);
}
static inline uint32_t policy_id_generation(uint32_t policy_id)
{
	return policy_id >> POLICY_INDEX_BITS;
}
/* The index of a policy id among its generation's effective policies, or SIZE_MAX for id 0. */
static inline size_t policy_id_index(uint32_t policy_id)
{
	uint32_t low = policy_id & POLICY_MAX_PER_GENERATION;

	return low ? (size_t)low - 1 : (size_t)-1;
}

/*
 * The kernel's rule maps (path_rules, net_rules) hold this many entries for
 * one generation: the enforcer sizes them at twice this, as a reload writes
 * the next generation's rules while the running one's are still there. A
 * policy that alone needs more is refused when it is loaded
 * (policy_compile); the composed policies of many workloads can still fill
 * the maps, which `actgate run` then refuses, naming these limits.
 */
#define POLICY_MAX_PATH_ENTRIES (1u << 20)
#define POLICY_MAX_NET_ENTRIES (1u << 20)
#define POLICY_GENERATIONS_IN_KERNEL 2u

/*
 * One policy of an effective policy's key: its index in the set and, per
 * section (index: enum actgate_action; 0 unused), the overlays in force.
 */
struct policy_selection {
	uint32_t index;
	uint32_t active[ACTGATE_NR_POLICY_ACTIONS];
};

/*
 * The key of a workload under set: every policy that selects id, in set
 * order, with the overlays that hold under signals (NULL: none set).
 * *sel is allocated (free it). Returns 0, -ENOENT when no policy selects
 * the workload, or -ENOMEM.
 */
int policy_selection_of(const struct policy_set *set, const struct workload_identity *id,
			const struct signal_view *signals, struct policy_selection **sel,
			size_t *count);

/* A compiled effective policy: its entries are a range of the image's arrays. */
struct effective_policy {
	uint32_t policy_id;
	struct policy_selection *sel; /* its key, sorted by index */
	size_t sel_count;
	struct actgate_policy header;
	size_t path_first, path_count;
	size_t net_first, net_count;
};

/* What a rule id names (see policy_rule_name). */
struct image_rule {
	uint32_t policy;  /* index in the set */
	uint8_t action;   /* the section */
	int8_t verdict;   /* the list (enum actgate_verdict), RULE_DEFAULT, RULE_SOCKETS or
			   * RULE_WRITTEN */
	int16_t overlay;  /* POLICY_BASE or the overlay's index */
	uint32_t index;   /* position in its list */
};

/* A file's identity as the kernel keys it. */
struct path_identity {
	uint32_t dev;
	uint64_t ino;
};

/* Where one rule's path landed when the image was made. */
struct resolved_rule {
	uint32_t dev;
	uint64_t ino;
	bool found; /* false: the path did not exist (warned); the rule matches nothing */
	/*
	 * Deny rules only: the files the path named in earlier generations
	 * compiled from the same policy (policy_image_follow), still denied
	 * wherever they are now (malloc'd).
	 */
	struct path_identity *earlier;
	size_t earlier_count;
};

/* Per policy of the set: where its rule ids and resolved paths start. */
struct image_policy_base {
	uint32_t default_id[ACTGATE_NR_POLICY_ACTIONS]; /* the base default; overlay k's is +1+k */
	uint32_t rule_id[ACTGATE_NR_POLICY_ACTIONS];    /* exec/open rules, connect's IP rules */
	uint32_t unix_rule_id;                          /* connect's unix rules */
	uint32_t sockets_id; /* connect's sockets list: + kind - ACTGATE_SOCKET_RAW */
	uint32_t written_id; /* exec's written decision */
	uint32_t name_rule_id; /* connect's rules by name (never in the address maps) */
	size_t resolved[ACTGATE_NR_POLICY_ACTIONS];     /* exec/open rules, connect's unix rules */
};

struct policy_image {
	uint32_t generation; /* 1 to 65535: it lives in the upper half of policy ids */
	/* The set's policies (borrowed: the set must outlive the image). */
	const struct policy *set_policies;
	size_t set_count;
	struct image_policy_base *bases;
	/* Rule id -> rule; id 0 is unused. Every rule and default of the set has one. */
	struct image_rule *rules;
	size_t rule_count;
	struct resolved_rule *resolved;
	size_t resolved_count;
	/* Effective policies compiled so far: the one at index i has id policy_id_of(generation, i). */
	struct effective_policy *policies;
	size_t policy_count;
	size_t policy_cap;
	struct image_path_entry *paths;
	size_t path_count;
	size_t path_cap;
	struct image_net_entry *nets;
	size_t net_count;
	size_t net_cap;
	/* For messages: path rules resolved, and prefixes of each policy alone, summed. */
	size_t checked_path_rules;
	size_t checked_net_entries;
};

/* A path's identity as the kernel sees it. */
struct resolved_path {
	uint32_t dev;  /* the kernel's encoding: major << 20 | minor */
	uint64_t ino;
	uint32_t type; /* the S_IFMT bits of st_mode */
};

/*
 * Resolve an absolute path to the kernel's inode identity. Returns 0,
 * -ENOENT when it does not exist, or another -errno.
 */
typedef int (*path_resolver_fn)(const char *path, struct resolved_path *out, void *ctx);

/* stat(2)-based resolver: follows symlinks, encodes dev as the kernel does. */
int resolve_path_stat(const char *path, struct resolved_path *out, void *ctx);

/*
 * Make img generation `generation` of set: give every rule and default an
 * id, resolve every path, and compile each policy alone (its base, and with
 * every overlay in force) to report what cannot be enforced. A path that
 * does not exist is a warning (the rule matches nothing until it exists:
 * the daemon follows deny rules' paths, allow rules wait for a reload); an
 * error: a path that cannot be resolved
 * otherwise, a subtree rule on a file that is not a directory, a unix rule
 * on a file that is not a socket, a path under /proc/PID, /proc/self or
 * /proc/thread-self (the daemon would resolve its own files), more port
 * decisions under one prefix than the kernel holds, a deny rule by name that
 * nothing would enforce (name_rules_check_enforceable, compile-names.c).
 * Connect rules by name get rule ids but never reach the address maps: the
 * addresses a name resolves to are learned at run time, per workload. Returns 0, -EINVAL
 * after adding errors to diags, -ERANGE for a generation outside 1-65535,
 * or -ENOMEM; on failure img is left empty. The image holds no effective
 * policy yet.
 */
int policy_compile(const struct policy_set *set, uint32_t generation, path_resolver_fn resolve,
		   void *resolve_ctx, struct policy_image *img, struct diag_list *diags);

/*
 * An allow rule by name (connect, base or overlay) allows nothing until
 * something answers the workloads' lookups and learns the addresses: the
 * connects it was written for would all be denied by the section's default,
 * without a word. So while the daemon has no resolver, it refuses a set
 * with such rules when it loads it (generation_load), and so does
 * `actgate policy check --resolve`: an error per rule, at the rule, in
 * diags. Returns the number of errors, or -ENOMEM. (Deny rules by name are
 * policy_compile's: refused where addresses are allowed.)
 */
int name_rules_check_no_resolver(const struct policy_set *set, struct diag_list *diags);

/*
 * The effective policy of key sel (count policies, sorted by index, each
 * index < the set's count, no index twice), compiled into img when it is
 * not there yet (*added then says so: load it). Returns 0 with *index its
 * index in img->policies (its id: img->policies[*index].policy_id), -EINVAL
 * when it cannot be enforced (errors in diags: too many port decisions
 * under one prefix), -ENOSPC when the generation has no id left, or
 * -ENOMEM. On failure img is as it was.
 */
int policy_image_effective(struct policy_image *img, const struct policy_selection *sel,
			   size_t count, size_t *index, bool *added, struct diag_list *diags);

/*
 * Take back the effective policy added last (its kernel write failed): the
 * next workload with its key compiles it again.
 */
void policy_image_drop_last(struct policy_image *img);

/* The effective policy with this id, or NULL when it is not one of img's. */
const struct effective_policy *policy_image_find(const struct policy_image *img,
						 uint32_t policy_id);

/*
 * The name of a rule id ("ci:exec.deny[0]", "ci:connect.when[1].default")
 * into buf; -ENOENT (buf empty) when img has no such id. And the name of the
 * policy that rule belongs to, or NULL.
 */
int policy_image_rule_name(const struct policy_image *img, uint32_t rule_id, char *buf,
			   size_t size);
const char *policy_image_rule_policy(const struct policy_image *img, uint32_t rule_id);

/*
 * The names of an effective policy's policies, joined by ',', into buf
 * ("" for an unknown id). Returns what snprintf returns.
 */
int policy_image_policy_names(const struct policy_image *img, uint32_t policy_id, char *buf,
			      size_t size);

/* Does connect rule r's prefix contain the prefix (addr, len)? */
int net_rule_contains(const struct net_rule *r, const uint8_t addr[16], unsigned len);
/*
 * Connect precedence within one policy, shared by the compiler's per-prefix
 * lists and the userspace evaluator: the longer prefix, then the narrower
 * port range, then a rule with a protocol over one without, then deny, then
 * the earlier rule (a and b are elements of one policy's rules array).
 */
int net_rule_more_specific(const struct net_rule *a, const struct net_rule *b);

/*
 * Every path rule of the image's set with where it resolved (exec, open,
 * connect's unix rules; base and overlay rules), in set order; fn's first
 * non-zero return stops the walk and is returned.
 */
typedef int (*image_path_fn)(const struct path_rule *rule, const struct resolved_rule *r,
			     void *ctx);
int policy_image_for_each_path(const struct policy_image *img, image_path_fn fn, void *ctx);

/*
 * next was just compiled from the very policy that made prev (the same
 * files' bytes), because some rule's path now resolves to another file.
 * Following the path must never weaken a rule, whoever moved the files: a
 * deny rule covers the file its path names now and every file it named
 * before (the file moved out of the way is still the protected one); an
 * allow rule keeps the file it named (a denied file renamed onto an
 * allowed path stays denied). Only a reload, which resolves every path
 * afresh, lets go of earlier files. Call it before any effective policy is
 * compiled into next. 0, -EINVAL when the images do not come from one
 * policy, or -ENOMEM (next is unchanged then).
 */
int policy_image_follow(struct policy_image *next, const struct policy_image *prev);

void policy_image_free(struct policy_image *img);

#endif /* ACTGATE_COMPILE_H */
