/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the resolver (resolver.h) does for one identified asker: decide the
 * name with the workload's name rules (a matcher built from the running
 * set, under the signals the workload sees), learn the answer's addresses
 * into the learned set (learned.h) under the workload's effective policy,
 * and record the lookup as action resolve (per the deciding rule's
 * `record:`). Holds nothing of its own between lookups.
 */
#ifndef ACTGATE_DAEMON_RESOLVEHOST_H
#define ACTGATE_DAEMON_RESOLVEHOST_H

#include <stdint.h>

#include "daemon/learned.h"
#include "daemon/resolver.h"
#include "identity/workload.h"
#include "journal/decision.h"
#include "policy/compile.h"
#include "policy/names.h"
#include "policy/policy.h"

struct resolve_asker {
	const struct workload *w;         /* who asked; its id and policy_id key what is learned */
	const struct policy_set *set;     /* the running generation's */
	const struct policy_image *image; /* compiled from set: rule ids and the generation */
	const struct signal_view *signals; /* what w sees (NULL: none) */
	struct learned_table *learned;
	uint64_t now_boot_ns;             /* CLOCK_BOOTTIME: when learned entries start */
	void (*write)(void *ctx, struct journal_record *r); /* the journal */
	void *write_ctx;
	/* Built at the first decision, freed by resolve_asker_done. */
	struct name_matcher *matcher;
	uint32_t rule_id;                 /* of the last decision */
};

/*
 * decide, learn and record for a struct dns_asker whose workload is a
 * struct resolve_asker (dnsserver.h).
 */
extern const struct resolver_ops resolve_asker_ops;

void resolve_asker_done(struct resolve_asker *a);

#endif /* ACTGATE_DAEMON_RESOLVEHOST_H */
