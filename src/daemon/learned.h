/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The learned set (docs/egress.md): what each workload may connect to
 * because the resolver answered it an allowed lookup. The kernel's map
 * (abi.h, struct actgate_learned) is written only through this module,
 * which mirrors it, so that it knows every entry: it keeps the map within
 * learned_max (evicting the entry that expires first, counted), removes
 * expired entries, and turns a record's name_id back into the name.
 *
 * One entry per (workload, policy, address); each of its port slots belongs to one
 * name: learning a name again replaces that name's slots, other names'
 * slots stay (two names on one CDN address). An answer whose ports do not
 * fit in the slots left is refused whole (-ENOSPC): the resolver answers
 * SERVFAIL, never a partial set.
 */
#ifndef ACTGATE_DAEMON_LEARNED_H
#define ACTGATE_DAEMON_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "daemon/dnsmsg.h"
#include "policy/names.h"

/* A name's id stays unused this long after its last entry went (records may still name it). */
#define LEARNED_NAME_GRACE_NS (120ull * 1000000000ull)

/* Where the entries go: the kernel's map, or a test's. -errno on failure. */
struct learned_store {
	void *ctx;
	int (*put)(void *ctx, const struct actgate_learned_key *k, const struct actgate_learned *v);
	int (*remove)(void *ctx, const struct actgate_learned_key *k);
};

struct learned_counts {
	uint64_t entries;    /* now */
	uint64_t learned;    /* addresses written */
	uint64_t evicted;    /* live entries removed to make room (learned_max) */
	uint64_t expired;    /* entries removed after every slot expired */
	uint64_t no_slot;    /* answers refused: their ports did not fit */
	uint64_t names;      /* names known now */
	uint64_t names_full; /* learned without a name id (table full): no target_name */
};

struct learned_table;

/* A table of at most max entries (1 .. ACTGATE_MAX_LEARNED). 0 or -errno. */
int learned_open(struct learned_table **out, uint32_t max, const struct learned_store *store);

void learned_close(struct learned_table *t);

/*
 * Learn address a for workload_id under its effective policy policy_id
 * (abi.h: a reload or a signal that changes it leaves the entry
 * unreachable), as decision d (allowed) with rule_id,
 * for ttl seconds from now_ns (CLOCK_BOOTTIME): one slot per port range of
 * d. Written to the store before it returns. 0, or -errno (-ENOSPC: the
 * ranges do not fit; the entry is as it was).
 */
int learned_add(struct learned_table *t, uint64_t workload_id, uint32_t policy_id,
		const struct dns_address *a,
		const struct name_decision *d, uint32_t rule_id, uint32_t ttl, uint64_t now_ns);

/* Remove what expired by now_ns, and forget names past their grace. */
void learned_sweep(struct learned_table *t, uint64_t now_ns);

/* Remove every entry of one workload (it ended), or of all (workload_id 0). */
void learned_forget(struct learned_table *t, uint64_t workload_id, uint64_t now_ns);

/* The name of a record's name_id; NULL when unknown. */
const char *learned_name(const struct learned_table *t, uint32_t name_id);

void learned_get_counts(const struct learned_table *t, struct learned_counts *c);

#endif /* ACTGATE_DAEMON_LEARNED_H */
