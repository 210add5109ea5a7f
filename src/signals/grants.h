/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Time-bound grants, the parts that need no daemon: what a grant's target
 * names in the kernel (bpf/lib/grant.h) and the checks of the values a client
 * sends. A grant names one file (exec, open, a unix socket for connect) by
 * its inode identity, or one IP address with one port or every port.
 */
#ifndef ACTGATE_GRANTS_H
#define ACTGATE_GRANTS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "policy/compile.h"
#include "policy/names.h"

#define GRANT_REASON_MAX 255

/*
 * The expiry of a grant that has none of its own: one a sub-workload's
 * delegate: section gave it for its whole life (docs/delegation.md). The
 * kernel's comparison (now < expiry) never ends it; the daemon drops it
 * with its workload. Every sum with an expiry must treat it apart: it is
 * the largest time there is, and adding to it wraps to the past.
 */
#define GRANT_NEVER UINT64_MAX

struct grant_target {
	uint8_t action;                /* enum actgate_action */
	struct actgate_grant_key key;  /* all but workload_id */
	char text[160 + 4096];         /* normalised, for lists and records */
	/*
	 * A connect grant by name ("github.com:443"): the name, normalised
	 * (policy/names.h), and key.port the port (0: every port). Empty for
	 * every other grant. Such a grant has no kernel key of its own: only a
	 * resolver that answers the workload's lookups can honour it (the
	 * addresses the name resolves to, learned for the workload).
	 */
	char name[NAME_TEXT_MAX + 1];
};

/* "exec", "open", "connect" -> enum actgate_action; -EINVAL otherwise. */
int grant_action_parse(const char *name, uint8_t *action);

/*
 * Parse and resolve a grant's target for action: exec and open an absolute
 * path to an existing file (exec: a regular file; no directory: a grant
 * names one file, not a subtree), connect "ADDR", "ADDR:PORT", "[V6]:PORT"
 * (one address, no prefix; no port: every port) or "unix:/PATH" (an
 * existing socket). Paths are resolved through resolve (symlinks
 * followed: the grant is for the file they lead to). Returns 0, or -EINVAL
 * / -ENOENT / -errno with the reason in why.
 */
int grant_target_parse(uint8_t action, const char *text, path_resolver_fn resolve,
		       void *resolve_ctx, struct grant_target *out, char *why, size_t why_size);

/*
 * A whole number of milliseconds as the control protocol carries it (the
 * decimal text of a JSON number), 1 to max_ms: *ns. -EINVAL with why.
 */
int grant_parse_ms(const char *text, uint64_t max_ms, uint64_t *ns, char *why, size_t why_size);

/*
 * May a grant that expires at expires_boot_ns be forgotten at now (boot
 * clock)? Once it has been expired for keep_ns: until then the kernel keeps
 * it, so that denials name it (grant-expired). Never for GRANT_NEVER.
 */
bool grant_forgotten(uint64_t expires_boot_ns, uint64_t keep_ns, uint64_t now);

/* A grant's or revocation's reason: 1 to GRANT_REASON_MAX printable bytes. */
int grant_reason_check(const char *reason, char *why, size_t why_size);

#endif /* ACTGATE_GRANTS_H */
