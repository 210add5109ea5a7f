/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Inside the policy parser: parse.c reads documents and selectors, and
 * hands each section to sections.c. Errors go to ctx as
 * "file:line:col: ..."; the parsed rules land in the section (also when
 * some were refused: the caller drops a document with any error).
 */
#ifndef ACTGATE_POLICY_SECTIONS_H
#define ACTGATE_POLICY_SECTIONS_H

#include "policy/policy.h"
#include "util/yamltree.h"

/* spec.mode and a rule's mode: enforce or audit into *mode. */
void policy_parse_mode(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
		       uint8_t *mode);

/* spec.record and a rule's record: all, deny, none or strict into *record. */
void policy_parse_record(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
			 uint8_t *record);

/*
 * exec or open (action) at key: map. Rules take their mode and record from
 * p unless they say otherwise, so p's must be parsed first.
 */
void policy_parse_path_section(struct ytree_ctx *ctx, const struct ynode *key,
			       const struct ynode *map, const char *where, uint8_t action,
			       const struct policy *p, struct path_rules *out);

/* connect at key: map. */
void policy_parse_net_section(struct ytree_ctx *ctx, const struct ynode *key,
			      const struct ynode *map, const char *where, const struct policy *p,
			      struct net_rules *out);

/*
 * An overlay's conditions, {NAME: VALUE | [VALUE, ...], ...} at map, into
 * o->conditions (spec.SECTION.when[K].signals, spec.delegate[K].when).
 */
void policy_parse_conditions(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
			     struct policy_overlay *o);

#endif /* ACTGATE_POLICY_SECTIONS_H */
