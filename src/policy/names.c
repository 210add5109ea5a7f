/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect rules by name: names checked and normalised, rules matched, and
 * lookups decided for one workload (policy/names.h has the semantics).
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/names.h"

static bool label_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

static void show_char(char *buf, size_t size, unsigned char c)
{
	if (isprint(c))
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
}

int name_normalize(const char *text, size_t len, bool wildcard, char *out, char *err,
		   size_t err_size, size_t *err_at)
{
	size_t label = 0, labels = 0;

	*err_at = 0;
	if (len > 1 && text[len - 1] == '.')
		len--; /* the root's dot: "github.com." is "github.com" */
	if (len == 0 || (len == 1 && text[0] == '.')) {
		snprintf(err, err_size, "empty name");
		return -EINVAL;
	}
	if (len > NAME_TEXT_MAX) {
		snprintf(err, err_size, "name is %zu bytes long; the limit is %d", len,
			 NAME_TEXT_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)text[i] : '.';
		size_t start = i - label;
		char shown[16];

		if (c != '.') {
			if (c == '*' && wildcard && i == 0) {
				/* checked with its label below: "*" must be the whole label */
			} else if (c == '*') {
				*err_at = i;
				snprintf(err, err_size,
					 wildcard ? "a wildcard '*' must be the whole first label, as in "
						    "\"*.example.com\""
						  : "'*' is not allowed in a name");
				return -EINVAL;
			} else if (!label_char(c)) {
				*err_at = i;
				show_char(shown, sizeof(shown), c);
				snprintf(err, err_size,
					 "bad label: %s is not allowed in a name (letters, digits, "
					 "'-' and '_')", shown);
				return -EINVAL;
			}
			out[i] = (char)tolower(c);
			label++;
			continue;
		}
		*err_at = start;
		if (label == 0) {
			snprintf(err, err_size, "empty label (two dots in a row, or a leading dot)");
			return -EINVAL;
		}
		if (label > NAME_LABEL_MAX) {
			snprintf(err, err_size, "label \"%.*s...\" is %zu bytes long; the limit is %d",
				 16, text + start, label, NAME_LABEL_MAX);
			return -EINVAL;
		}
		if (text[start] == '*' && label != 1) {
			snprintf(err, err_size,
				 "a wildcard '*' must be the whole first label, as in \"*.example.com\"");
			return -EINVAL;
		}
		if (text[start] == '-' || text[i - 1] == '-') {
			snprintf(err, err_size, "bad label \"%.*s\": a label may not %s with '-'",
				 (int)label, text + start, text[start] == '-' ? "start" : "end");
			return -EINVAL;
		}
		if (i < len)
			out[i] = '.';
		labels++;
		label = 0;
	}
	out[len] = '\0';
	if (out[0] == '*' && labels == 1) {
		snprintf(err, err_size, "a wildcard needs a suffix, as in \"*.example.com\"");
		return -EINVAL;
	}
	return 0;
}

bool name_rule_matches_name(const struct name_rule *r, const char *name)
{
	size_t n = strlen(name), k = strlen(r->name);

	if (!r->wildcard)
		return n == k && !memcmp(name, r->name, n);
	/* At least one label before the suffix: "a.example.com", never "example.com". */
	return n > k + 1 && name[n - k - 1] == '.' && !memcmp(name + n - k, r->name, k);
}

bool name_rule_more_specific(const struct name_rule *a, const struct name_rule *b)
{
	unsigned wa = (unsigned)a->port_hi - a->port_lo, wb = (unsigned)b->port_hi - b->port_lo;

	if (a->wildcard != b->wildcard)
		return !a->wildcard;
	if (a->wildcard) {
		size_t la = strlen(a->name), lb = strlen(b->name);

		if (la != lb)
			return la > lb;
	}
	if (wa != wb)
		return wa < wb;
	if (!a->protocol != !b->protocol)
		return a->protocol != 0;
	if (a->verdict != b->verdict)
		return a->verdict == ACTGATE_VERDICT_DENY;
	return a < b;
}

static bool rule_covers(const struct name_rule *r, uint16_t port, uint8_t protocol)
{
	return port >= r->port_lo && port <= r->port_hi && (!r->protocol || r->protocol == protocol);
}

const struct name_rule *name_rules_match(const struct net_rules *rules, uint32_t active,
					 const char *name, uint16_t port, uint8_t protocol)
{
	const struct name_rule *best = NULL;

	if (!protocol)
		protocol = IPPROTO_TCP;
	for (size_t i = 0; i < rules->name_count; i++) {
		const struct name_rule *r = &rules->name_rules[i];

		if (!policy_overlay_in_force(r->overlay, active) || !rule_covers(r, port, protocol) ||
		    !name_rule_matches_name(r, name))
			continue;
		if (!best || name_rule_more_specific(r, best))
			best = r;
	}
	return best;
}

/* One in-force name rule of the matcher, keyed for bsearch. */
struct name_entry {
	const char *key;  /* the rule's name (a wildcard's suffix) */
	bool wildcard;
	uint32_t policy;  /* index in the matcher's policies */
	const struct name_rule *rule;
};

struct matcher_policy {
	const struct policy *p;
	uint32_t index;  /* in the set */
	uint32_t active; /* the connect section's overlays in force */
};

struct name_matcher {
	struct matcher_policy *policies;
	size_t policy_count;
	struct name_entry *entries; /* sorted by (wildcard, key) */
	size_t count;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;

	if (x->wildcard != y->wildcard)
		return x->wildcard ? 1 : -1;
	return strcmp(x->key, y->key);
}

int name_matcher_build(const struct policy_set *set, const struct policy_selection *sel,
		       size_t count, struct name_matcher **out)
{
	struct name_matcher *m = NULL;
	size_t rules = 0;
	int err = -ENOMEM;

	*out = NULL;
	for (size_t i = 0; i < count; i++) {
		if (sel[i].index >= set->count)
			return -EINVAL;
		rules += set->policies[sel[i].index].connect.name_count;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto cleanup;
	m->policies = calloc(count ? count : 1, sizeof(*m->policies));
	m->entries = calloc(rules ? rules : 1, sizeof(*m->entries));
	if (!m->policies || !m->entries)
		goto cleanup;
	m->policy_count = count;
	for (size_t i = 0; i < count; i++) {
		const struct policy *p = &set->policies[sel[i].index];
		uint32_t active = sel[i].active[ACTGATE_ACTION_CONNECT];

		m->policies[i] = (struct matcher_policy){ .p = p, .index = sel[i].index,
							 .active = active };
		for (size_t k = 0; k < p->connect.name_count; k++) {
			const struct name_rule *r = &p->connect.name_rules[k];

			if (!policy_overlay_in_force(r->overlay, active))
				continue;
			m->entries[m->count++] = (struct name_entry){
				.key = r->name, .wildcard = r->wildcard, .policy = (uint32_t)i,
				.rule = r };
		}
	}
	qsort(m->entries, m->count, sizeof(*m->entries), entry_cmp);
	*out = m;
	return 0;

cleanup:
	name_matcher_free(m);
	return err;
}

int name_matcher_build_for(const struct policy_set *set, const struct workload_identity *id,
			   const struct signal_view *signals, struct name_matcher **out)
{
	struct policy_selection *sel = NULL;
	size_t count = 0;
	int err;

	*out = NULL;
	err = policy_selection_of(set, id, signals, &sel, &count);
	if (err)
		return err;
	err = name_matcher_build(set, sel, count, out);
	free(sel);
	return err;
}

void name_matcher_free(struct name_matcher *m)
{
	if (!m)
		return;
	free(m->policies);
	free(m->entries);
	free(m);
}

bool name_matcher_has_rules(const struct name_matcher *m)
{
	return m->count > 0;
}

/* The entries with this (wildcard, key): a range of the sorted array. */
static void entries_with(const struct name_matcher *m, const char *key, bool wildcard,
			 size_t *first, size_t *end)
{
	struct name_entry probe = { .key = key, .wildcard = wildcard };
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_cmp(&m->entries[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < m->count && !entry_cmp(&m->entries[lo], &probe))
		lo++;
	*end = lo;
}

/* One policy's (or the composition's) decision for one port and protocol. */
struct cell_decision {
	uint8_t verdict, mode, record, reason;
	int overlay;
	int list;      /* the rule's verdict, or RULE_DEFAULT */
	unsigned index;
	uint32_t policy;
	int name_rule; /* index in the policy's name_rules, or -1 */
};

static int rank_of(const struct cell_decision *d)
{
	return policy_decision_rank(d->verdict, d->mode);
}

/*
 * Policy pi's decision for (port, protocol) among the candidate rules (the
 * rules whose name matches), or its default.
 */
static void decide_cell(const struct name_matcher *m, uint32_t pi,
			const struct name_rule *const *cands, const uint32_t *cand_policy,
			size_t ncand, uint16_t port, uint8_t protocol, struct cell_decision *d)
{
	const struct matcher_policy *mp = &m->policies[pi];
	const struct policy *p = mp->p;
	const struct name_rule *best = NULL;
	int overlay;

	for (size_t i = 0; i < ncand; i++)
		if (cand_policy[i] == pi && rule_covers(cands[i], port, protocol) &&
		    (!best || name_rule_more_specific(cands[i], best)))
			best = cands[i];
	if (best) {
		*d = (struct cell_decision){ .verdict = best->verdict, .mode = best->mode,
					     .record = best->record, .reason = ACTGATE_REASON_RULE,
					     .overlay = best->overlay, .list = best->verdict,
					     .index = best->index, .policy = pi,
					     .name_rule = (int)(best - p->connect.name_rules) };
		return;
	}
	*d = (struct cell_decision){
		.verdict = policy_section_default(p->connect.default_verdict, p->connect.overlays,
						  p->connect.overlay_count, mp->active, &overlay),
		.mode = p->mode, .record = p->record, .reason = ACTGATE_REASON_DEFAULT,
		.overlay = overlay, .list = RULE_DEFAULT, .policy = pi, .name_rule = -1 };
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Append [lo, hi] of protocol to the decision's ranges, merging with the last. */
static int add_range(struct name_decision *out, uint32_t lo, uint32_t hi, uint8_t protocol)
{
	struct name_ports *last = out->port_count ? &out->ports[out->port_count - 1] : NULL;

	if (last && last->protocol == protocol && (uint32_t)last->port_hi + 1 == lo) {
		last->port_hi = (uint16_t)hi;
		return 0;
	}
	if (out->port_count == NAME_DECISION_MAX_PORTS)
		return -E2BIG;
	out->ports[out->port_count++] = (struct name_ports){ .port_lo = (uint16_t)lo,
							     .port_hi = (uint16_t)hi,
							     .protocol = protocol };
	return 0;
}

/* When TCP's ranges equal UDP's, say it once with protocol 0. */
static void fold_protocols(struct name_decision *out)
{
	size_t tcp = 0, n = out->port_count;

	while (tcp < n && out->ports[tcp].protocol == IPPROTO_TCP)
		tcp++;
	if (tcp * 2 != n)
		return;
	for (size_t i = 0; i < tcp; i++)
		if (out->ports[i].port_lo != out->ports[tcp + i].port_lo ||
		    out->ports[i].port_hi != out->ports[tcp + i].port_hi)
			return;
	for (size_t i = 0; i < tcp; i++)
		out->ports[i].protocol = 0;
	out->port_count = tcp;
}

static void fill_from(const struct name_matcher *m, const struct cell_decision *d,
		      struct name_decision *out)
{
	const struct policy *p = m->policies[d->policy].p;

	out->verdict = d->verdict;
	out->mode = d->mode;
	out->record = d->record;
	out->policy = p->name;
	out->policy_index = m->policies[d->policy].index;
	out->name_rule = d->name_rule;
	out->overlay = d->overlay;
	if (d->verdict == ACTGATE_VERDICT_DENY)
		out->reason = ACTGATE_REASON_NAME;
	else
		out->reason = d->reason;
	policy_rule_name(out->rule, sizeof(out->rule), p->name, ACTGATE_ACTION_CONNECT,
			 d->overlay, d->list, d->index);
}

int name_matcher_decide(const struct name_matcher *m, const char *name,
			struct name_decision *out)
{
	static const uint8_t protocols[2] = { IPPROTO_TCP, IPPROTO_UDP };
	const struct name_rule **cands = NULL;
	uint32_t *cand_policy = NULL, *bounds = NULL;
	size_t ncand = 0, nbounds = 0, err_at;
	struct cell_decision best = { 0 };
	uint32_t best_width = 0;
	bool have = false;
	char why[128];
	int err;

	memset(out, 0, sizeof(*out));
	out->verdict = ACTGATE_VERDICT_DENY;
	out->mode = ACTGATE_MODE_ENFORCE;
	out->record = ACTGATE_RECORD_ALL;
	out->reason = ACTGATE_REASON_NAME;
	if (name_normalize(name, strlen(name), false, out->name, why, sizeof(why), &err_at)) {
		snprintf(out->rule, sizeof(out->rule), "%s", why);
		out->name[0] = '\0';
		return -EINVAL;
	}
	if (m->policy_count == 0)
		return -ENOENT;

	err = -ENOMEM;
	cands = calloc(m->count ? m->count : 1, sizeof(*cands));
	cand_policy = calloc(m->count ? m->count : 1, sizeof(*cand_policy));
	bounds = calloc(2 * m->count + 2, sizeof(*bounds));
	if (!cands || !cand_policy || !bounds)
		goto cleanup;

	/* The exact name, then each suffix for wildcards: "a.b.c" -> "b.c", "c". */
	for (const char *key = out->name, *dot; key; key = dot ? dot + 1 : NULL) {
		bool wildcard = key != out->name;
		size_t first, end;

		entries_with(m, key, wildcard, &first, &end);
		for (size_t i = first; i < end; i++) {
			cands[ncand] = m->entries[i].rule;
			cand_policy[ncand++] = m->entries[i].policy;
		}
		dot = strchr(key, '.');
	}

	/* Decisions change only where some candidate's port range starts or ends. */
	bounds[nbounds++] = 0;
	bounds[nbounds++] = 65536;
	for (size_t i = 0; i < ncand; i++) {
		bounds[nbounds++] = cands[i]->port_lo;
		bounds[nbounds++] = (uint32_t)cands[i]->port_hi + 1;
	}
	qsort(bounds, nbounds, sizeof(*bounds), cmp_u32);

	for (size_t pr = 0; pr < 2; pr++) {
		for (size_t b = 0; b + 1 < nbounds; b++) {
			uint32_t lo = bounds[b], hi = bounds[b + 1];
			struct cell_decision composed = { 0 }, d;
			bool better;
			int rank;

			if (lo == hi)
				continue;
			for (uint32_t pi = 0; pi < m->policy_count; pi++) {
				decide_cell(m, pi, cands, cand_policy, ncand, (uint16_t)lo,
					    protocols[pr], &d);
				if (pi == 0 || rank_of(&d) > rank_of(&composed))
					composed = d;
			}
			rank = rank_of(&composed);
			/* An audited deny takes nothing away: the connect goes ahead. */
			if (rank < 2 && add_range(out, lo, hi - 1, protocols[pr])) {
				err = -E2BIG;
				goto cleanup;
			}
			/*
			 * The lookup's decision: the most permissive cell, a rule
			 * over a default, then the widest, then the first.
			 */
			better = !have || rank < rank_of(&best) ||
				 (rank == rank_of(&best) &&
				  ((composed.reason == ACTGATE_REASON_RULE &&
				    best.reason != ACTGATE_REASON_RULE) ||
				   (composed.reason == best.reason && hi - lo > best_width)));
			if (better) {
				best = composed;
				best_width = hi - lo;
				have = true;
			}
		}
	}
	fold_protocols(out);
	fill_from(m, &best, out);
	if (out->verdict == ACTGATE_VERDICT_DENY && out->mode == ACTGATE_MODE_ENFORCE)
		out->port_count = 0;
	err = 0;

cleanup:
	if (err) {
		/* Never a partial allow. */
		out->verdict = ACTGATE_VERDICT_DENY;
		out->mode = ACTGATE_MODE_ENFORCE;
		out->reason = ACTGATE_REASON_NAME;
		out->port_count = 0;
	}
	free(cands);
	free(cand_policy);
	free(bounds);
	return err;
}

uint32_t name_decision_rule_id(const struct policy_image *img, const struct name_decision *d)
{
	const struct image_policy_base *b;
	const struct policy *p;

	if (!img->bases || d->policy_index >= img->set_count || !d->policy)
		return 0;
	b = &img->bases[d->policy_index];
	p = &img->set_policies[d->policy_index];
	if (d->name_rule >= 0)
		return (size_t)d->name_rule < p->connect.name_count ?
			       b->name_rule_id + (uint32_t)d->name_rule : 0;
	if (d->overlay != POLICY_BASE && (size_t)d->overlay >= p->connect.overlay_count)
		return 0;
	return b->default_id[ACTGATE_ACTION_CONNECT] +
	       (d->overlay == POLICY_BASE ? 0 : 1 + (uint32_t)d->overlay);
}
