/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Inside the compiler (compile.h): what its parts share. compile-image.c
 * gives every rule an id and resolves the paths; compile.c makes
 * images and composes effective policies out of the decisions below, with
 * compile-paths.c for path rules and compile-net.c for IP rules. The small
 * helpers are inline because they run in the compiler's inner loops.
 */
#ifndef ACTGATE_POLICY_COMPILE_INTERNAL_H
#define ACTGATE_POLICY_COMPILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/compile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t path_actions[] = { ACTGATE_ACTION_EXEC, ACTGATE_ACTION_OPEN,
					ACTGATE_ACTION_CONNECT };

/* Make room for need items of item_size in *items (capacity *cap). 0 or -ENOMEM. */
int compile_grow(void **items, size_t *cap, size_t need, size_t item_size);

/* ---- a policy's sections, seen alike ---- */

struct section_view {
	const struct path_rule *paths; /* exec/open rules, connect's unix rules */
	size_t path_count;
	const struct net_rule *nets;   /* connect's IP rules */
	size_t net_count;
	const struct policy_overlay *overlays;
	size_t overlay_count;
	uint8_t base_default;
};

static inline struct section_view section_of(const struct policy *p, uint8_t action)
{
	const struct path_rules *s = action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;

	if (action == ACTGATE_ACTION_CONNECT)
		return (struct section_view){
			.paths = p->connect.unix_rules, .path_count = p->connect.unix_count,
			.nets = p->connect.rules, .net_count = p->connect.count,
			.overlays = p->connect.overlays, .overlay_count = p->connect.overlay_count,
			.base_default = p->connect.default_verdict,
		};
	return (struct section_view){
		.paths = s->rules, .path_count = s->count,
		.overlays = s->overlays, .overlay_count = s->overlay_count,
		.base_default = s->default_verdict,
	};
}

/* ---- the image: rule ids and resolved paths (compile-image.c) ---- */

/* Rule ids for every rule and default of the set, in set order; and room for the paths. */
int image_assign_rule_ids(struct policy_image *img);

/*
 * Resolve every path rule of the set. Returns 0 (*failed set when a rule
 * could not be resolved: reported in diags) or -ENOMEM.
 */
int image_resolve_all(struct policy_image *img, path_resolver_fn resolve, void *resolve_ctx,
		      struct diag_list *diags, bool *failed);

/* ---- decisions and how they compose ---- */

struct decision {
	uint32_t rule_id;
	uint8_t verdict;
	uint8_t mode;
	uint8_t record;
	uint32_t pos; /* the deciding policy's position in the key: a tie goes to the earlier */
};

/* Does a beat b (docs/policy.md, "Several policies")? A strict total order. */
static inline bool beats(const struct decision *a, const struct decision *b)
{
	int ra = policy_decision_rank(a->verdict, a->mode);
	int rb = policy_decision_rank(b->verdict, b->mode);

	return ra > rb || (ra == rb && a->pos < b->pos);
}

static inline struct actgate_decision_slot slot_of(const struct decision *d)
{
	return (struct actgate_decision_slot){ .rule_id = d->rule_id, .verdict = d->verdict,
					       .mode = d->mode, .record = d->record, .set = 1 };
}

/* Everything one effective compilation needs to hand. */
struct build {
	struct policy_image *img;
	const struct policy_selection *sel;
	size_t count;
	uint32_t policy_id;
	struct diag_list *diags;
	/* Per action, the section default of each policy of the key, by position. */
	struct decision *defaults;
	/*
	 * Per action, the positions ordered by how their defaults compose (the
	 * winner first): the first one not decided by a rule supplies the
	 * composed default of everything else.
	 */
	uint32_t *default_order;
	/* Scratch, by position: seen[pos] == stamp marks a policy decided by a rule. */
	uint32_t *seen;
	uint32_t stamp;
};

static inline const struct policy *policy_at(const struct build *b, uint32_t pos)
{
	return &b->img->set_policies[b->sel[pos].index];
}

static inline struct decision rule_decision(uint32_t rule_id, uint8_t verdict, uint8_t mode,
					    uint8_t record, uint32_t pos)
{
	return (struct decision){ .rule_id = rule_id, .verdict = verdict, .mode = mode,
				  .record = record, .pos = pos };
}

static inline const struct decision *default_at(const struct build *b, uint8_t action,
						uint32_t pos)
{
	return &b->defaults[(size_t)action * b->count + pos];
}

/* A new round of "decided by a rule" marks. */
static inline void new_stamp(struct build *b)
{
	if (++b->stamp == 0) {
		memset(b->seen, 0, b->count * sizeof(*b->seen));
		b->stamp = 1;
	}
}

/* The composed default of every policy not marked in this round. */
static inline const struct decision *unmarked_default(const struct build *b, uint8_t action)
{
	const uint32_t *order = &b->default_order[(size_t)action * b->count];

	for (size_t i = 0; i < b->count; i++)
		if (b->seen[order[i]] != b->stamp)
			return default_at(b, action, order[i]);
	return NULL;
}

/* ---- the rules of one effective policy (compile-paths.c, compile-net.c) ---- */

/* The key's exec/open rules or connect's unix rules into the image's path entries. */
int compile_paths(struct build *b, uint8_t action, struct actgate_action_policy *ap);

/*
 * The key's IP rules into the image's net entries, over composed_default;
 * *failed after reporting a prefix that cannot be enforced.
 */
int compile_nets(struct build *b, const struct decision *composed_default,
		 struct actgate_action_policy *ap, bool *failed);

/*
 * Name rules never reach the kernel's address maps. A deny rule by name is
 * enforced only by refusing the lookup; while nothing refuses lookups it
 * would be a silent downgrade wherever p's connect section can allow an IP
 * destination (an address allow rule, or an allow default in the base or
 * an overlay), so such a rule is an error (compile-names.c). Adds errors to
 * diags; returns their number, or -ENOMEM.
 */
int name_rules_check_enforceable(const struct policy *p, struct diag_list *diags);

#endif /* ACTGATE_POLICY_COMPILE_INTERNAL_H */
