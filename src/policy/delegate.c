/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile-internal.h"
#include "policy/compile.h"
#include "policy/delegate.h"
#include "policy/sections.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

int delegate_action_parse(const char *name, size_t len, uint8_t *action)
{
	static const struct {
		const char *name;
		uint8_t action;
	} names[] = { { "exec", ACTGATE_ACTION_EXEC },
		      { "open", ACTGATE_ACTION_OPEN },
		      { "connect", ACTGATE_ACTION_CONNECT } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) {
			*action = names[i].action;
			return 0;
		}
	}
	return -EINVAL;
}

/* A list of non-empty strings without control characters into *out. */
static void parse_strings(struct ytree_ctx *ctx, const struct ynode *list, const char *where,
			  char ***out, size_t *count)
{
	struct ytree_quoted q;
	char ctl[8];
	size_t at;

	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, where))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos, "%s: the list is empty; leave the key out instead", where);
		return;
	}
	*out = calloc(list->count, sizeof(**out));
	if (!*out) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		char what[96];

		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!ytree_expect_string(ctx, n, what))
			continue;
		if (n->len == 0 || strlen(n->text) != n->len ||
		    ytree_find_control(n->text, n->len, ctl, &at)) {
			error_at(ctx, n->pos, "%s: %s is empty or holds a control character", what,
				 ytree_quote(&q, n->text, n->len));
			continue;
		}
		(*out)[*count] = strdup(n->text);
		if (!(*out)[*count]) {
			ctx->oom = -ENOMEM;
			return;
		}
		(*count)++;
	}
}

/* allow: {exec: [PATH...], open: [PATH...], connect: [ADDR:PORT...]} */
static void parse_allow(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
			struct delegate_entry *e)
{
	struct ytree_quoted q;
	size_t total = 0;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	for (size_t i = 1; i < map->count; i += 2)
		total += map->items[i]->kind == YNODE_SEQ ? map->items[i]->count : 0;
	e->allow = calloc(total ? total : 1, sizeof(*e->allow));
	if (!e->allow) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		char what[192];
		uint8_t action;

		if (!ytree_expect_string(ctx, k, where) || ytree_duplicate_key(ctx, map, i, where))
			continue;
		if (delegate_action_parse(k->text, k->len, &action)) {
			error_at(ctx, k->pos, "%s: unknown section %s; expected exec, open or connect",
				 where, ytree_quote(&q, k->text, k->len));
			continue;
		}
		snprintf(what, sizeof(what), "%s.%s", where, k->text);
		if (!ytree_expect_kind(ctx, v, YNODE_SEQ, what))
			continue;
		if (v->count == 0)
			error_at(ctx, v->pos, "%s: the list is empty; leave the key out instead", what);
		for (size_t j = 0; j < v->count; j++) {
			const struct ynode *n = v->items[j];
			struct delegate_rule *r = &e->allow[e->allow_count];
			char item[224];

			snprintf(item, sizeof(item), "%s[%zu]", what, j);
			if (!ytree_expect_string(ctx, n, item))
				continue;
			/* The grant's own parser checks the target when a child asks for it. */
			if (action != ACTGATE_ACTION_CONNECT ? n->text[0] != '/'
							     : !strchr(n->text, ':')) {
				error_at(ctx, n->pos, "%s: %s: expected %s", item,
					 ytree_quote(&q, n->text, n->len),
					 action == ACTGATE_ACTION_CONNECT ? "ADDRESS:PORT"
									  : "an absolute path");
				continue;
			}
			r->action = action;
			r->pos = n->pos;
			r->target = strdup(n->text);
			if (!r->target) {
				ctx->oom = -ENOMEM;
				return;
			}
			e->allow_count++;
		}
	}
}

static void parse_entry(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
			struct delegate_entry *e)
{
	static const char *const keys[] = { "workloads", "policies", "allow", "when", "outlive" };
	const struct ynode *knodes[5], *vals[5];
	char what[96];

	e->pos = map->pos;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	ytree_map_fields(ctx, map, where, keys, 5, knodes, vals);
	snprintf(what, sizeof(what), "%s.workloads", where);
	if (vals[0])
		parse_strings(ctx, vals[0], what, &e->workload_globs, &e->workload_glob_count);
	else
		error_at(ctx, map->pos, "%s: missing required key \"workloads\" (the child names)",
			 where);
	snprintf(what, sizeof(what), "%s.policies", where);
	if (vals[1])
		parse_strings(ctx, vals[1], what, &e->policies, &e->policy_count);
	snprintf(what, sizeof(what), "%s.allow", where);
	if (vals[2])
		parse_allow(ctx, vals[2], what, e);
	snprintf(what, sizeof(what), "%s.when", where);
	if (vals[3]) {
		e->when.pos = vals[3]->pos;
		policy_parse_conditions(ctx, vals[3], what, &e->when);
	}
	if (vals[4]) {
		snprintf(what, sizeof(what), "%s.outlive", where);
		if (ynode_is(vals[4], "true"))
			e->outlive = true;
		else if (!ynode_is(vals[4], "false"))
			error_at(ctx, vals[4]->pos, "%s: expected true or false", what);
	}
}

void policy_parse_delegate(struct ytree_ctx *ctx, const struct ynode *list, struct policy *p)
{
	struct policy_delegate *d;

	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, "spec.delegate"))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos,
			 "spec.delegate: the list is empty; leave it out (children then get the "
			 "attenuation alone)");
		return;
	}
	d = calloc(1, sizeof(*d));
	if (d)
		d->entries = calloc(list->count, sizeof(*d->entries));
	if (!d || !d->entries) {
		free(d);
		ctx->oom = -ENOMEM;
		return;
	}
	d->pos = list->pos;
	p->delegate = d;
	for (size_t i = 0; i < list->count; i++) {
		char where[48];

		snprintf(where, sizeof(where), "spec.delegate[%zu]", i);
		parse_entry(ctx, list->items[i], where, &d->entries[d->count++]);
	}
}

/* ---- the decision ---- */

static bool entry_names(const struct delegate_entry *e, const char *child)
{
	for (size_t i = 0; i < e->workload_glob_count; i++)
		if (!fnmatch(e->workload_globs[i], child, 0))
			return true;
	return false;
}

static bool entry_lists_policy(const struct delegate_entry *e, const char *name)
{
	if (!e->policy_count)
		return true;
	for (size_t i = 0; i < e->policy_count; i++)
		if (!strcmp(e->policies[i], name))
			return true;
	return false;
}

static bool entry_lists_rule(const struct delegate_entry *e, const struct delegate_rule *r)
{
	for (size_t i = 0; i < e->allow_count; i++)
		if (e->allow[i].action == r->action && !strcmp(e->allow[i].target, r->target))
			return true;
	return false;
}

/* Does e allow req? If not, why says what it lacks (the last entry's answer is kept). */
static bool entry_allows(const struct delegate_entry *e, const struct delegation_request *req,
			 const struct signal_view *signals, char *why, size_t why_size)
{
	if (!entry_names(e, req->child)) {
		snprintf(why, why_size, "no entry names child \"%s\"", req->child);
		return false;
	}
	for (size_t i = 0; i < req->policy_count; i++) {
		if (!entry_lists_policy(e, req->policies[i])) {
			snprintf(why, why_size, "policy \"%s\" is not one it may give child \"%s\"",
				 req->policies[i], req->child);
			return false;
		}
	}
	for (size_t i = 0; i < req->allow_count; i++) {
		if (!entry_lists_rule(e, &req->allow[i])) {
			snprintf(why, why_size, "rule %s %s is not one it may give child \"%s\"",
				 req->allow[i].action == ACTGATE_ACTION_EXEC   ? "exec"
				 : req->allow[i].action == ACTGATE_ACTION_OPEN ? "open"
									       : "connect",
				 req->allow[i].target, req->child);
			return false;
		}
	}
	if (e->when.condition_count && !policy_overlay_holds(&e->when, signals)) {
		snprintf(why, why_size, "its when: does not hold now (signal %s)",
			 e->when.conditions[0].name);
		return false;
	}
	return true;
}

int delegation_decide(const struct policy *const *parents, size_t n,
		      const struct delegation_request *req, const struct signal_view *signals,
		      bool *outlive, char *why, size_t why_size)
{
	bool any = false;

	*outlive = true;
	for (size_t p = 0; p < n; p++) {
		const struct policy_delegate *d = parents[p]->delegate;
		char last[384] = "";
		bool ok = false;

		if (!d)
			continue;
		any = true;
		for (size_t i = 0; i < d->count && !ok; i++) {
			ok = entry_allows(&d->entries[i], req, signals, last, sizeof(last));
			if (ok)
				*outlive = *outlive && d->entries[i].outlive;
		}
		if (!ok) {
			snprintf(why, why_size, "policy %s's delegate: does not allow it: %s",
				 parents[p]->name, last);
			return -EPERM;
		}
	}
	if (!any) {
		*outlive = false;
		if (req->allow_count) {
			snprintf(why, why_size,
				 "no policy of the parent has a delegate: section, so a child gets "
				 "the attenuation of its parent's policies alone; --allow asks for more");
			return -EPERM;
		}
	}
	return 0;
}

/* ---- what a decision read ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *delegation_signals_read(const struct policy *const *parents, size_t n,
			      const struct signal_view *signals)
{
	const char **names = NULL;
	size_t count = 0, cap = 0, len = 1, at = 0;
	char *out = NULL;

	for (size_t p = 0; p < n; p++) {
		const struct policy_delegate *d = parents[p]->delegate;

		for (size_t i = 0; d && i < d->count; i++) {
			const struct policy_overlay *w = &d->entries[i].when;

			for (size_t c = 0; c < w->condition_count; c++) {
				if (count == cap) {
					const char **grown;

					cap = cap ? 2 * cap : 8;
					grown = realloc(names, cap * sizeof(*names));
					if (!grown)
						goto out;
					names = grown;
				}
				names[count++] = w->conditions[c].name;
			}
		}
	}
	if (count)
		qsort(names, count, sizeof(*names), by_name);
	for (size_t i = 0, first = 0; i < count; i++) {
		const char *value = NULL;
		bool again = i && !strcmp(names[i], names[first]);

		if (!again)
			first = i;
		for (size_t k = 0; signals && k < signals->count && !value; k++)
			if (!strcmp(signals->values[k].name, names[i]))
				value = signals->values[k].value;
		len += again || !value ? 0 : strlen(names[i]) + strlen(value) + 2;
		if (again || !value)
			names[i] = ""; /* a duplicate, or not set: left out */
	}
	out = malloc(len);
	if (!out)
		goto out;
	out[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const char *value = NULL;

		if (!names[i][0])
			continue;
		for (size_t k = 0; k < signals->count && !value; k++)
			if (!strcmp(signals->values[k].name, names[i]))
				value = signals->values[k].value;
		at += (size_t)snprintf(out + at, len - at, "%s%s=%s", at ? "," : "", names[i], value);
	}
out:
	free(names);
	return out;
}

/* ---- a sub-workload's key ---- */

int delegation_merge(const struct policy_set *set, const struct policy_selection *a, size_t an,
		     const struct policy_selection *b, size_t bn, const char *named,
		     const struct signal_view *signals, struct policy_selection **out,
		     size_t *count, char *why, size_t why_size)
{
	struct policy_selection *m = calloc(set->count ? set->count : 1, sizeof(*m));
	bool *in = calloc(set->count ? set->count : 1, sizeof(*in));
	size_t n = 0;
	int err = 0;

	*out = NULL;
	*count = 0;
	if (!m || !in) {
		err = -ENOMEM;
		goto out;
	}
	/* The parent's entries first: under the parent's signals, they are what it may do. */
	for (size_t i = 0; i < an; i++)
		if (a[i].index < set->count && !in[a[i].index]) {
			in[a[i].index] = true;
			m[n++] = a[i];
		}
	for (size_t i = 0; i < bn; i++)
		if (b[i].index < set->count && !in[b[i].index]) {
			in[b[i].index] = true;
			m[n++] = b[i];
		}
	for (const char *p = named; p && *p;) {
		size_t len = strcspn(p, ","), k;

		for (k = 0; k < set->count; k++)
			if (strlen(set->policies[k].name) == len &&
			    !memcmp(set->policies[k].name, p, len))
				break;
		if (k == set->count) {
			snprintf(why, why_size, "policy \"%.*s\" is not loaded", (int)len, p);
			err = -ESRCH;
			goto out;
		}
		if (!in[k]) {
			in[k] = true;
			m[n].index = (uint32_t)k;
			for (size_t s = 0; s < ARRAY_SIZE(path_actions); s++) {
				struct section_view v = section_of(&set->policies[k], path_actions[s]);

				m[n].active[path_actions[s]] =
					policy_overlays_active(v.overlays, v.overlay_count, signals);
			}
			n++;
		}
		p += len + (p[len] == ',');
	}
	if (!n) {
		err = -ENOENT;
		goto out;
	}
	/* A key is sorted by index (policy_image_effective). */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && m[j - 1].index > m[j].index; j--) {
			struct policy_selection t = m[j];

			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	*out = m;
	*count = n;
	m = NULL;
out:
	free(m);
	free(in);
	return err;
}
