/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Time-bound grants (`actgate grant`): an exception that turns a deny of the
 * workload's policy into an allow until its expiry. The expiry is in the map
 * value and compared here with bpf_ktime_get_boot_ns(), so a grant ends on
 * time whether or not the daemon is running.
 *
 * Precedence (docs/policy.md, "Grants and revocation"): a revoked or
 * expired workload is denied before its policy is read (governing_policy),
 * so no grant lifts that; a grant lifts a deny of a rule or a default,
 * enforced or audited; fail-closed denials (no policy, orphan, too deep)
 * stay denials.
 */
#ifndef ACTGATE_BPF_LIB_GRANT_H
#define ACTGATE_BPF_LIB_GRANT_H

#include "lib/governance.h"
#include "lib/kernel.h"
#include "lib/verdict.h"
#include "maps.h"

/* Could a grant change v? Only then is the grants map looked up. */
static __always_inline int grant_may_lift(const struct governance *g, const struct verdict *v)
{
	if (!(g->flags & ACTGATE_WORKLOAD_HAS_GRANTS))
		return 0;
	if (v->verdict != ACTGATE_VERDICT_DENY)
		return 0;
	return v->reason == ACTGATE_REASON_RULE || v->reason == ACTGATE_REASON_DEFAULT;
}

/*
 * A live grant allows (enforced, always recorded, naming the grant); an
 * expired one leaves the deny and says so in the reason, so that a
 * responder sees that the exception had run out.
 */
static __always_inline void take_grant(const struct actgate_grant *gr, struct verdict *v)
{
	if (bpf_ktime_get_boot_ns() < gr->expires_boot_ns) {
		v->verdict = ACTGATE_VERDICT_ALLOW;
		v->mode = ACTGATE_MODE_ENFORCE;
		v->reason = ACTGATE_REASON_GRANT;
	} else {
		v->reason = ACTGATE_REASON_GRANT_EXPIRED;
	}
	/* A grant lifts a denial, not strict recording: what it allows stays strict. */
	if (v->record != ACTGATE_RECORD_STRICT)
		v->record = ACTGATE_RECORD_ALL;
	v->rule_id = gr->grant_id;
}

/* A grant on the file (dev, ino) for action. */
static __always_inline void apply_inode_grant(const struct governance *g, __u8 action, __u32 dev,
					      __u64 ino, struct verdict *v)
{
	struct actgate_grant_key key = {};
	struct actgate_grant *gr;

	key.workload_id = g->workload_id;
	key.action = action;
	key.kind = ACTGATE_GRANT_INODE;
	key.dev = dev;
	key.ino = ino;
	gr = bpf_map_lookup_elem(&grants, &key);
	if (gr)
		take_grant(gr, v);
}

/* A grant on the address, for that port first, then for every port (port 0). */
static __always_inline void apply_net_grant(const struct governance *g, const __u8 addr[16],
					    __u16 port, struct verdict *v)
{
	struct actgate_grant_key key = {};
	struct actgate_grant *gr;

	if (!grant_may_lift(g, v))
		return;
	key.workload_id = g->workload_id;
	key.action = ACTGATE_ACTION_CONNECT;
	key.kind = ACTGATE_GRANT_NET;
	key.port = port;
	__builtin_memcpy(key.addr, addr, 16);
	gr = bpf_map_lookup_elem(&grants, &key);
	if (!gr) {
		key.port = 0;
		gr = bpf_map_lookup_elem(&grants, &key);
	}
	if (gr)
		take_grant(gr, v);
}

#endif /* ACTGATE_BPF_LIB_GRANT_H */
