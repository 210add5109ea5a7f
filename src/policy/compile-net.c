/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * IP rules of an effective policy (compile.h): one LPM trie entry per
 * prefix, holding the first-match list of port decisions that every rule
 * of the key covering the prefix composes to; and the connect precedence
 * the userspace evaluator shares.
 */
#include <linux/types.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile-internal.h"

/*
 * A bound on the port decisions built while composing one prefix, before
 * they are simplified; well above what ACTGATE_NET_RULES_PER_PREFIX lets
 * through, so only lists that could never be enforced reach it.
 */
#define NET_FOLD_MAX 4096

int net_rule_contains(const struct net_rule *outer, const uint8_t addr[16], unsigned len)
{
	unsigned full = outer->prefix_len / 8, rest = outer->prefix_len % 8;
	uint8_t mask;

	if (outer->prefix_len > len)
		return 0;
	if (memcmp(outer->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (outer->addr[full] & mask) == (addr[full] & mask);
}

int net_rule_more_specific(const struct net_rule *a, const struct net_rule *b)
{
	unsigned wa = (unsigned)a->port_hi - a->port_lo, wb = (unsigned)b->port_hi - b->port_lo;

	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len;
	if (wa != wb)
		return wa < wb;
	if (!a->protocol != !b->protocol)
		return a->protocol != 0;
	if (a->verdict != b->verdict)
		return a->verdict == ACTGATE_VERDICT_DENY;
	return a < b;
}

static bool same_decision(const struct decision *a, const struct decision *b)
{
	return a->rule_id == b->rule_id && a->verdict == b->verdict && a->mode == b->mode &&
	       a->record == b->record;
}

struct net_item {
	const struct net_rule *rule;
	uint32_t pos;
	uint32_t rule_id;
};

static int compare_prefix(const struct net_rule *a, const struct net_rule *b)
{
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* By prefix; within one, by policy position and then written order. */
static int compare_net_items(const void *a, const void *b)
{
	const struct net_item *x = a, *y = b;
	int c = compare_prefix(x->rule, y->rule);

	if (c)
		return c;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* A policy's rules covering a prefix in first-match order: by policy, then precedence. */
static int compare_covering(const void *a, const void *b)
{
	const struct net_item *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (net_rule_more_specific(x->rule, y->rule))
		return -1;
	return net_rule_more_specific(y->rule, x->rule) ? 1 : 0;
}

/* addr with every bit after the first len bits cleared. */
static void mask_prefix(const uint8_t addr[16], unsigned len, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;

		out[i] = bits >= 8 ? addr[i] : (uint8_t)(addr[i] & (0xff00 >> bits));
	}
}

/* The first item in a sorted index with exactly this prefix, or count. */
static size_t find_prefix(const struct net_item *index, size_t count, const struct net_rule *probe)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_prefix(index[mid].rule, probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One entry of a first-match list: ports, protocol (0: any) and what they get. */
struct port_entry {
	uint16_t lo;
	uint16_t hi;
	uint8_t protocol;
	struct decision d;
};

struct port_list {
	struct port_entry *e;
	size_t count;
	size_t cap;
};

static bool footprint_contains(const struct port_entry *outer, const struct port_entry *inner)
{
	return outer->lo <= inner->lo && inner->hi <= outer->hi &&
	       (!outer->protocol || outer->protocol == inner->protocol);
}

static bool footprint_overlaps(const struct port_entry *a, const struct port_entry *b)
{
	return a->lo <= b->hi && b->lo <= a->hi &&
	       (!a->protocol || !b->protocol || a->protocol == b->protocol);
}

static int list_push(struct port_list *l, const struct port_entry *e)
{
	int err = compile_grow((void **)&l->e, &l->cap, l->count + 1, sizeof(*l->e));

	if (err)
		return err;
	l->e[l->count++] = *e;
	return 0;
}

/*
 * Can entry i go without changing any point's answer? Each point it
 * decides would then fall to a later entry or, past the end, to
 * fallthrough (NULL: the list is total, nothing falls past it). It can
 * when every later entry that overlaps it, up to one that covers it whole,
 * gives the same decision, and, when none covers it whole, the fall-through
 * does too.
 */
static bool entry_redundant(const struct port_list *l, size_t i, const struct decision *fallthrough)
{
	const struct port_entry *e = &l->e[i];

	for (size_t j = i + 1; j < l->count; j++) {
		if (!footprint_overlaps(&l->e[j], e))
			continue;
		if (!same_decision(&l->e[j].d, &e->d))
			return false;
		if (footprint_contains(&l->e[j], e))
			return true;
	}
	return fallthrough && same_decision(fallthrough, &e->d);
}

static bool entry_shadowed(const struct port_list *l, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (footprint_contains(&l->e[j], &l->e[i]))
			return true;
	return false;
}

/*
 * Shorten a first-match list without changing what it gives any point:
 * drop entries that earlier ones hide and entries that only repeat what
 * follows them, and join neighbours with one decision and adjoining ports.
 */
static void list_simplify(struct port_list *l, const struct decision *fallthrough)
{
	bool changed = true;

	while (changed) {
		size_t out = 0;

		changed = false;
		for (size_t i = l->count; i-- > 0;) {
			if (entry_shadowed(l, i) || entry_redundant(l, i, fallthrough)) {
				memmove(&l->e[i], &l->e[i + 1], (l->count - i - 1) * sizeof(*l->e));
				l->count--;
				changed = true;
			}
		}
		for (size_t i = 0; i < l->count; i++) {
			struct port_entry *prev = out ? &l->e[out - 1] : NULL;
			const struct port_entry *e = &l->e[i];

			if (prev && prev->protocol == e->protocol && same_decision(&prev->d, &e->d) &&
			    (uint32_t)e->lo <= (uint32_t)prev->hi + 1 &&
			    (uint32_t)prev->lo <= (uint32_t)e->hi + 1) {
				prev->lo = prev->lo < e->lo ? prev->lo : e->lo;
				prev->hi = prev->hi > e->hi ? prev->hi : e->hi;
				changed = true;
				continue;
			}
			l->e[out++] = *e;
		}
		l->count = out;
	}
}

/*
 * The composition of two total first-match lists: a point's first match in
 * the product is (its first match in a, its first match in b), so the
 * product in lexicographic order, each entry the intersection of the two
 * and the winner of their decisions, answers every point as the two lists
 * composed would.
 */
static int list_product(const struct port_list *a, const struct port_list *b,
			struct port_list *out)
{
	out->count = 0;
	for (size_t i = 0; i < a->count; i++) {
		for (size_t j = 0; j < b->count; j++) {
			const struct port_entry *x = &a->e[i], *y = &b->e[j];
			struct port_entry e;
			int err;

			if (!footprint_overlaps(x, y))
				continue;
			e.lo = x->lo > y->lo ? x->lo : y->lo;
			e.hi = x->hi < y->hi ? x->hi : y->hi;
			e.protocol = x->protocol ? x->protocol : y->protocol;
			e.d = beats(&y->d, &x->d) ? y->d : x->d;
			if (out->count >= NET_FOLD_MAX)
				return -E2BIG;
			err = list_push(out, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

static void format_prefix(const struct net_rule *r, char *buf, size_t size)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char addr[INET6_ADDRSTRLEN];

	if (r->prefix_len >= 96 && memcmp(r->addr, v4_mapped, 12) == 0) {
		inet_ntop(AF_INET, &r->addr[12], addr, sizeof(addr));
		snprintf(buf, size, "%s/%u", addr, r->prefix_len - 96u);
	} else {
		inet_ntop(AF_INET6, r->addr, addr, sizeof(addr));
		snprintf(buf, size, "%s/%u", addr, (unsigned)r->prefix_len);
	}
}

static int report_prefix(const struct build *b, const struct net_item *at, size_t decisions)
{
	const struct policy *p = policy_at(b, at->pos);
	char prefix[INET6_ADDRSTRLEN + 8], names[512] = "";
	size_t n = 0;

	format_prefix(at->rule, prefix, sizeof(prefix));
	for (uint32_t pos = 0; b->count > 1 && pos < b->count && n < sizeof(names); pos++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", pos ? ", " : " of policies ",
				      policy_at(b, pos)->name);
	return diag_add(b->diags, DIAG_ERROR, p->file, at->rule->pos.line, at->rule->pos.col,
			"%s: %zu port decisions fall under prefix %s (its rules and those of every "
			"prefix that contains it%s, by port and protocol); at most %d can be "
			"enforced for one prefix",
			at->rule->text, decisions, prefix, names, ACTGATE_NET_RULES_PER_PREFIX);
}

/*
 * The list of one prefix: fold in, policy by policy, the first-match list
 * of its rules covering the prefix (ended by its default), starting from the
 * composed default of the policies with no such rule.
 */
static int compose_prefix(struct build *b, struct net_item *covering, size_t n,
			  const struct decision *composed_default, struct port_list *acc,
			  struct port_list *next, struct port_list *one)
{
	const struct decision *rest;
	struct port_entry all = { .lo = 0, .hi = 65535, .protocol = 0 };
	int err;

	qsort(covering, n, sizeof(*covering), compare_covering);
	new_stamp(b);
	for (size_t i = 0; i < n; i++)
		b->seen[covering[i].pos] = b->stamp;
	acc->count = 0;
	rest = unmarked_default(b, ACTGATE_ACTION_CONNECT);
	if (rest) {
		all.d = *rest;
		err = list_push(acc, &all);
		if (err)
			return err;
	}
	for (size_t i = 0; i < n;) {
		uint32_t pos = covering[i].pos;
		struct port_list swap;

		one->count = 0;
		for (; i < n && covering[i].pos == pos; i++) {
			const struct net_rule *r = covering[i].rule;
			struct port_entry e = {
				.lo = r->port_lo, .hi = r->port_hi, .protocol = r->protocol,
				.d = rule_decision(covering[i].rule_id, r->verdict, r->mode, r->record, pos),
			};

			if (one->count >= NET_FOLD_MAX)
				return -E2BIG;
			err = list_push(one, &e);
			if (err)
				return err;
		}
		all.d = *default_at(b, ACTGATE_ACTION_CONNECT, pos);
		err = list_push(one, &all);
		if (err)
			return err;
		if (acc->count == 0) {
			swap = *acc;
			*acc = *one;
			*one = swap;
			continue;
		}
		err = list_product(acc, one, next);
		if (err)
			return err;
		list_simplify(next, NULL);
		swap = *acc;
		*acc = *next;
		*next = swap;
	}
	list_simplify(acc, composed_default);
	return 0;
}

static int add_net_entry(struct build *b, const struct net_rule *r, const struct port_list *l)
{
	struct policy_image *img = b->img;
	struct image_net_entry *e;
	int err = compile_grow((void **)&img->nets, &img->net_cap, img->net_count + 1,
			       sizeof(*img->nets));

	if (err)
		return err;
	e = &img->nets[img->net_count++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 32 + r->prefix_len;
	e->key.policy_id = htonl(b->policy_id); /* big-endian: see abi.h */
	memcpy(e->key.addr, r->addr, 16);
	e->value.count = (uint32_t)l->count;
	for (size_t k = 0; k < l->count; k++)
		e->value.rule[k] = (struct actgate_port_rule){
			.port_lo = l->e[k].lo, .port_hi = l->e[k].hi, .verdict = l->e[k].d.verdict,
			.protocol = l->e[k].protocol, .mode = l->e[k].d.mode,
			.record = l->e[k].d.record, .rule_id = l->e[k].d.rule_id,
		};
	return 0;
}

/*
 * One trie entry per prefix of the key's in-force IP rules, carrying the
 * composed decisions of every port and protocol under it: the LPM trie
 * returns only the longest prefix, so each carries the rules of the
 * prefixes that contain it too.
 */
int compile_nets(struct build *b, const struct decision *composed_default,
		 struct actgate_action_policy *ap, bool *failed)
{
	struct port_list acc = { 0 }, next = { 0 }, one = { 0 };
	struct net_item *index = NULL, *covering = NULL;
	bool len_used[129] = { false };
	size_t total = 0, n = 0;
	int err = 0;

	for (uint32_t pos = 0; pos < b->count; pos++) {
		const struct net_rules *s = &policy_at(b, pos)->connect;

		total += s->count;
		/* Rules by name never reach the maps; the flag steers the workload's DNS. */
		for (size_t k = 0; k < s->name_count; k++)
			if (policy_overlay_in_force(s->name_rules[k].overlay,
						    b->sel[pos].active[ACTGATE_ACTION_CONNECT]))
				ap->has_name_rules = 1;
	}
	if (total == 0)
		return 0;
	index = calloc(total, sizeof(*index));
	covering = calloc(total, sizeof(*covering));
	if (!index || !covering) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t pos = 0; pos < b->count; pos++) {
		const struct net_rules *s = &policy_at(b, pos)->connect;
		uint32_t first_id = b->img->bases[b->sel[pos].index].rule_id[ACTGATE_ACTION_CONNECT];

		for (size_t k = 0; k < s->count; k++) {
			if (!policy_overlay_in_force(s->rules[k].overlay,
						     b->sel[pos].active[ACTGATE_ACTION_CONNECT]))
				continue;
			index[n++] = (struct net_item){ .rule = &s->rules[k], .pos = pos,
							.rule_id = first_id + (uint32_t)k };
			len_used[s->rules[k].prefix_len] = true;
		}
	}
	/* Sorted by prefix: equal prefixes are neighbours, and any prefix is found fast. */
	qsort(index, n, sizeof(*index), compare_net_items);
	for (size_t i = 0; i < n; i++) {
		const struct net_rule *r = index[i].rule;
		size_t c = 0;

		if (i > 0 && compare_prefix(index[i - 1].rule, r) == 0)
			continue;
		ap->has_rules = 1;
		/* The rules covering r have r's address masked to a length some rule has. */
		for (unsigned len = 0; len <= r->prefix_len; len++) {
			struct net_rule probe = { .prefix_len = (uint8_t)len };

			if (!len_used[len])
				continue;
			mask_prefix(r->addr, len, probe.addr);
			for (size_t j = find_prefix(index, n, &probe);
			     j < n && compare_prefix(index[j].rule, &probe) == 0; j++)
				covering[c++] = index[j];
		}
		err = compose_prefix(b, covering, c, composed_default, &acc, &next, &one);
		if (err && err != -E2BIG)
			goto out;
		if (err || acc.count > ACTGATE_NET_RULES_PER_PREFIX) {
			err = report_prefix(b, &index[i], err ? c : acc.count);
			if (err)
				goto out;
			*failed = true;
			continue;
		}
		err = add_net_entry(b, r, &acc);
		if (err)
			goto out;
	}
out:
	free(index);
	free(covering);
	free(acc.e);
	free(next.e);
	free(one.e);
	return err;
}
