/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The userspace evaluator: decides an action the way the kernel programs do,
 * with the same precedence (docs/policy.md, "Which rule decides"), for
 * `actgate policy test` and for comparing against the kernel.
 *
 * Paths are compared as strings: the kernel compares inode identities, which
 * agree with the strings for files that exist, reached through their
 * canonical path (no symlink, hard link or bind mount in the way). Give
 * canonical paths.
 */
#ifndef ACTGATE_EVALUATE_H
#define ACTGATE_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define EVAL_RULE_NAME_MAX 192

struct eval_action {
	uint8_t action;    /* ACTGATE_ACTION_EXEC, _OPEN, _CONNECT or _RESOLVE */
	const char *path;  /* exec, open, and connect to a unix socket: an absolute path */
	uint8_t access;    /* open: the enum actgate_access bits asked for (0: read) */
	bool unix_socket;  /* connect: path names a unix socket, not addr/port */
	uint8_t socket;    /* connect: the creation of a socket of this enum
			    * actgate_socket_kind, not a destination (0) */
	uint8_t addr[16];  /* IP connect: IPv6, or IPv4 as ::ffff:a.b.c.d */
	uint16_t port;
	uint8_t protocol;  /* IPPROTO_TCP or IPPROTO_UDP (0: TCP) */
	/*
	 * resolve: the name looked up. IP connect: the name the connection was
	 * made for (its address learned from a lookup of it), or NULL; the
	 * name rules then decide beside the address rules (docs/policy.md,
	 * "Names"). Any case, a trailing dot allowed.
	 */
	const char *name;
	/*
	 * exec, and open asking for exec-map: the file's content was written
	 * by a governed workload, or it is anonymous (memfd). The kernel
	 * knows (written_files); a caller says so, as far as it knows.
	 */
	bool written;
};

struct eval_result {
	uint8_t verdict;   /* enum actgate_verdict */
	uint8_t mode;      /* enum actgate_mode: audit means not enforced */
	uint8_t record;    /* enum actgate_record of the deciding rule or default */
	uint8_t reason;    /* ACTGATE_REASON_RULE, _DEFAULT, _WRITTEN or _TOO_DEEP (then rule
			    * is ""); a connect allowed by a name rule: _LEARNED; a lookup
			    * denied: _NAME */
	uint8_t access;    /* open: the access whose decision this is; else 0 */
	const char *policy; /* the deciding policy's name (owned by the set); NULL: too deep */
	size_t policy_count; /* how many policies composed the decision */
	char rule[EVAL_RULE_NAME_MAX]; /* as the journal names it, e.g. "ci:exec.deny[0]" */
};

/*
 * Decide action a of a workload under set, as the kernel does (an exec-map
 * is also denied by an exec deny rule, or by `written: deny`, on the same
 * file, when that outranks open's decision; the result then names the exec
 * rule): every policy
 * that selects the workload applies (docs/policy.md, "Several policies"),
 * each with the `when:` overlays that hold under signals (NULL: no signal
 * set). Returns 0, or -ENOENT (no policy selects the workload) or -EINVAL (a
 * bad action) with the reason in why.
 */
int policy_evaluate(const struct policy_set *set, const struct workload_identity *id,
		    const struct signal_view *signals, const struct eval_action *a,
		    struct eval_result *r, char *why, size_t why_size);

/*
 * The same for a sub-workload (docs/delegation.md): ids[n - 1] is the
 * workload, ids[0..n - 1) the workloads that commissioned it, outermost
 * first; every policy that selects any of them applies (attenuation), all
 * under signals. n >= 1.
 */
int policy_evaluate_lineage(const struct policy_set *set, const struct workload_identity *ids,
			    size_t n, const struct signal_view *signals,
			    const struct eval_action *a, struct eval_result *r, char *why,
			    size_t why_size);

/*
 * The same, with the policies a commission named (actgate run --policy,
 * docs/delegation.md) composed in as well, whatever they select. -ESRCH
 * with why when one is not in set.
 */
int policy_evaluate_delegated(const struct policy_set *set, const struct workload_identity *ids,
			      size_t n, const char *const *named, size_t named_count,
			      const struct signal_view *signals, const struct eval_action *a,
			      struct eval_result *r, char *why, size_t why_size);

/* Evaluate against one given policy alone. */
void policy_evaluate_one(const struct policy *p, const struct signal_view *signals,
			 const struct eval_action *a, struct eval_result *r);

/*
 * Parse a connect target "ADDR:PORT" or "[IPV6]:PORT" (a port is required)
 * into an eval_action's addr and port. 0, or -EINVAL with the reason in why.
 */
int eval_parse_connect_target(const char *text, uint8_t addr[16], uint16_t *port, char *why,
			      size_t why_size);

#endif /* ACTGATE_EVALUATE_H */
