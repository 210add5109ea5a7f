/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect rules by name (docs/policy.md, "Names"): checking and normalising
 * DNS names, matching a name rule, and the name matcher: the name rules of
 * one workload's policies, compiled for lookups, which decides whether the
 * workload may resolve a name and which ports and protocols a connect to
 * what the name resolves to may use.
 *
 * Semantics, once (docs/policy.md says the same):
 *  - names are compared case-insensitively (ASCII) and without a trailing
 *    dot: "GitHub.com." is "github.com";
 *  - "*.example.com" matches a.example.com and a.b.example.com, never
 *    example.com itself;
 *  - within one policy, for a name and a (port, protocol): the most specific
 *    name rule decides: an exact rule over any wildcard, a longer wildcard
 *    suffix over a shorter; then, as for addresses, the narrower port range,
 *    a rule with a protocol over one without, deny over allow, the earlier
 *    rule; no name rule: the connect section's default (under the overlays
 *    in force);
 *  - policies compose as for addresses: an enforced deny beats an audited
 *    deny, which beats an allow; a tie keeps the earlier policy.
 *
 * Nothing here touches the kernel or the network.
 */
#ifndef ACTGATE_NAMES_H
#define ACTGATE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"
#include "policy/policy.h"

#define NAME_TEXT_MAX 253  /* a name's length, without the trailing dot */
#define NAME_LABEL_MAX 63  /* one label's length */
#define NAME_RULE_ID_MAX 192 /* a rule's name, as EVAL_RULE_NAME_MAX (policy/evaluate.h) */

/*
 * Check one name as a lookup asks for it or a rule writes it (text, len
 * bytes; a single trailing dot is allowed and dropped) and write its
 * normalised form (lowercase, no trailing dot) into out (at least
 * NAME_TEXT_MAX + 1 bytes). wildcard: a first label "*" is accepted and
 * kept ("*.example.com"). Labels are letters, digits, '-' and '_', 1 to 63
 * bytes, not starting or ending with '-'; the whole name is at most 253
 * bytes. Returns 0, or -EINVAL with a message in err and *err_at the byte
 * offset in text of what is wrong.
 */
int name_normalize(const char *text, size_t len, bool wildcard, char *out, char *err,
		   size_t err_size, size_t *err_at);

/* Does rule r's name (exact or wildcard) match the normalised name? */
bool name_rule_matches_name(const struct name_rule *r, const char *name);

/*
 * Name precedence within one policy: does a beat b when both match one name
 * and one (port, protocol)? (Exact over wildcard, longer suffix, narrower
 * ports, protocol, deny, earlier.)
 */
bool name_rule_more_specific(const struct name_rule *a, const struct name_rule *b);

/* One (port range, protocol) a connect may use: 0-65535 and protocol 0 are "any". */
struct name_ports {
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP, or 0 for both */
};

/* The most port ranges a decision lists; beyond, name_matcher_decide says -E2BIG. */
#define NAME_DECISION_MAX_PORTS 32

struct name_decision {
	uint8_t verdict;  /* enum actgate_verdict: may the workload resolve the name? */
	uint8_t mode;     /* enum actgate_mode of the deciding rule or default: an
			   * audited deny is a lookup that goes ahead, recorded as denied */
	uint8_t record;   /* enum actgate_record of the deciding rule or default */
	/*
	 * ACTGATE_REASON_RULE (allowed by a name rule), _DEFAULT (allowed by
	 * the connect defaults, no name rule matched), or _NAME (denied: the
	 * rule field names the deny rule or the default that decided).
	 */
	uint8_t reason;
	const char *policy; /* the deciding policy's name (owned by the set) */
	uint32_t policy_index; /* the deciding policy's index in the set */
	int name_rule;      /* the deciding rule's index in that policy's
			     * connect.name_rules, or -1 for the default */
	int overlay;        /* the deciding rule's or default's overlay, or POLICY_BASE */
	char rule[NAME_RULE_ID_MAX]; /* "ci:connect.allow[3]", "ci:connect.default" */
	char name[NAME_TEXT_MAX + 1];  /* the name, normalised */
	/*
	 * Allowed lookups: the (port range, protocol) pairs for which a connect
	 * to an address learned from this name is allowed by the name rules
	 * (and, where no name rule of a policy matches, by its default),
	 * composed over the workload's policies (each must allow; an audited
	 * deny does not take away). Sorted by protocol then port, merged;
	 * a single {0, 65535, 0} means every port of every protocol. Empty when
	 * the lookup is denied. The address rules still apply on top of these:
	 * an address deny rule beats anything learned (docs/policy.md).
	 */
	struct name_ports ports[NAME_DECISION_MAX_PORTS];
	size_t port_count;
};

/* The name rules of one workload's policies, compiled for lookups (opaque). */
struct name_matcher;

/*
 * Compile the matcher of a workload whose effective policy has key sel
 * (count policies of set, sorted by index, each with the overlays in force
 * per section: what policy_selection_of gives and struct effective_policy
 * holds). The matcher borrows set: free the matcher before the set. A
 * change of signals changes the key: build a new matcher. Returns 0,
 * -EINVAL (an index outside set), or -ENOMEM.
 */
int name_matcher_build(const struct policy_set *set, const struct policy_selection *sel,
		       size_t count, struct name_matcher **out);

/*
 * The same for a workload identity under signals (NULL: none set):
 * policy_selection_of, then name_matcher_build. -ENOENT when no policy
 * selects the workload.
 */
int name_matcher_build_for(const struct policy_set *set, const struct workload_identity *id,
			   const struct signal_view *signals, struct name_matcher **out);

void name_matcher_free(struct name_matcher *m);

/* Does any policy of the matcher have a name rule (base or an overlay in force)? */
bool name_matcher_has_rules(const struct name_matcher *m);

/*
 * Decide a lookup: may this workload resolve name (as the query asks it,
 * any case, a trailing dot allowed)? Fills out. Returns 0, -EINVAL when
 * name is not a valid name (out->rule holds the reason then; a resolver
 * refuses such a query), or -E2BIG when the allowed ports need more than
 * NAME_DECISION_MAX_PORTS ranges (out is a deny then, never a partial
 * allow), or -ENOENT for a matcher of no policy.
 */
int name_matcher_decide(const struct name_matcher *m, const char *name,
			struct name_decision *out);

/*
 * The id of the rule or default that decided d in img, the image compiled
 * from the set the matcher was built on (compile.h: image_policy_base), for
 * records that carry rule ids; 0 when img does not hold it.
 */
uint32_t name_decision_rule_id(const struct policy_image *img, const struct name_decision *d);

/*
 * Decide one connect made for a name (an address learned from it) by the
 * name rules alone, within one policy of the matcher: the in-force name
 * rule that decides (port, protocol) for name, or NULL when none matches.
 * For the evaluator (policy test, replay --what-if); name normalised.
 */
const struct name_rule *name_rules_match(const struct net_rules *rules, uint32_t active,
					 const char *name, uint16_t port, uint8_t protocol);

#endif /* ACTGATE_NAMES_H */
