/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/decision.h"
#include "policy/diff.h"

const char *policy_change_name(enum policy_change_kind kind)
{
	return kind == POLICY_WIDENS ? "widens" : kind == POLICY_NARROWS ? "narrows" : "changes";
}

/* One rule of one policy, as the diff compares it. */
struct entry {
	char where[48];   /* "open.allow", "connect.when[1].deny" */
	char target[ACTGATE_PATH_BUF + 16]; /* "/usr/bin/", "10.0.0.0/8:443 tcp", "unix:/x" */
	uint8_t verdict;
	uint8_t access;   /* open: the accesses; else 0 */
	uint8_t mode;
	uint8_t record;
};

struct entries {
	struct entry *e;
	size_t count, cap;
};

static int add_entry(struct entries *l, const struct entry *e)
{
	if (l->count == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 32;
		struct entry *bigger = realloc(l->e, n * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		l->e = bigger;
		l->cap = n;
	}
	l->e[l->count++] = *e;
	return 0;
}

static void where_of(char *buf, size_t size, const char *section, int overlay, uint8_t verdict)
{
	const char *list = verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow";

	if (overlay == POLICY_BASE)
		snprintf(buf, size, "%s.%s", section, list);
	else
		snprintf(buf, size, "%s.when[%d].%s", section, overlay, list);
}

static int path_entries(struct entries *l, const char *section, const struct path_rules *sec,
			const char *prefix)
{
	for (size_t i = 0; i < sec->count; i++) {
		const struct path_rule *r = &sec->rules[i];
		struct entry e = { .verdict = r->verdict, .mode = r->mode, .record = r->record };
		int err;

		where_of(e.where, sizeof(e.where), section, r->overlay, r->verdict);
		snprintf(e.target, sizeof(e.target), "%s%s%s", prefix, r->path,
			 r->subtree && strcmp(r->path, "/") ? "/" : "");
		e.access = strcmp(section, "open") ? 0 : r->access;
		err = add_entry(l, &e);
		if (err)
			return err;
	}
	return 0;
}

static int policy_entries(const struct policy *p, struct entries *l)
{
	int err = path_entries(l, "exec", &p->exec, "");

	if (!err)
		err = path_entries(l, "open", &p->open, "");
	if (!err) {
		struct path_rules unix_rules = { .rules = p->connect.unix_rules,
						 .count = p->connect.unix_count };

		err = path_entries(l, "connect", &unix_rules, "unix:");
	}
	for (size_t i = 0; i < p->connect.count && !err; i++) {
		const struct net_rule *r = &p->connect.rules[i];
		struct entry e = { .verdict = r->verdict, .mode = r->mode, .record = r->record };

		where_of(e.where, sizeof(e.where), "connect", r->overlay, r->verdict);
		snprintf(e.target, sizeof(e.target), "%s%s", r->text,
			 r->protocol == IPPROTO_TCP ? " tcp" : r->protocol == IPPROTO_UDP ? " udp" : "");
		err = add_entry(l, &e);
	}
	return err;
}

static const struct entry *find_entry(const struct entries *l, const struct entry *e)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->e[i].where, e->where) && !strcmp(l->e[i].target, e->target))
			return &l->e[i];
	return NULL;
}

static int add_change(struct policy_diff *d, enum policy_change_kind kind, const char *policy,
		      const char *where, const char *old, const char *new)
{
	struct policy_change *c, *bigger;

	bigger = realloc(d->changes, (d->count + 1) * sizeof(*bigger));
	if (!bigger)
		return -ENOMEM;
	d->changes = bigger;
	c = &d->changes[d->count];
	*c = (struct policy_change){ .kind = kind };
	c->policy = strdup(policy);
	c->where = strdup(where);
	c->old = old ? strdup(old) : NULL;
	c->new = new ? strdup(new) : NULL;
	if (!c->policy || !c->where || (old && !c->old) || (new && !c->new)) {
		free(c->policy);
		free(c->where);
		free(c->old);
		free(c->new);
		return -ENOMEM;
	}
	d->count++;
	if (kind == POLICY_WIDENS)
		d->widens++;
	else if (kind == POLICY_NARROWS)
		d->narrows++;
	else
		d->other++;
	return 0;
}

/* A rule as the change shows it: "/srv/ [read,write]", "x (mode audit)". */
static void entry_text(const struct entry *e, uint8_t access, char *buf, size_t size)
{
	char names[ACCESS_NAMES_SIZE] = "";

	if (e->access && access_names(access, names, sizeof(names)))
		names[0] = '\0';
	snprintf(buf, size, "%s%s%s%s%s", e->target, names[0] ? " [" : "", names,
		 names[0] ? "]" : "", e->mode == ACTGATE_MODE_AUDIT ? " (mode audit)" : "");
}

/* What an allow (or deny) gains when it covers more accesses or is enforced less. */
static int compare_entry(struct policy_diff *d, const char *policy, const struct entry *o,
			 const struct entry *n)
{
	bool deny = o->verdict == ACTGATE_VERDICT_DENY;
	uint8_t gained = n->access & ~o->access, lost = o->access & ~n->access;
	char ot[sizeof(o->target) + 64], nt[sizeof(n->target) + 64];
	int err = 0;

	entry_text(o, o->access, ot, sizeof(ot));
	entry_text(n, n->access, nt, sizeof(nt));
	if (gained)
		err = add_change(d, deny ? POLICY_NARROWS : POLICY_WIDENS, policy, n->where, ot, nt);
	if (!err && lost)
		err = add_change(d, deny ? POLICY_WIDENS : POLICY_NARROWS, policy, n->where, ot, nt);
	if (!err && deny && o->mode != n->mode)
		err = add_change(d, n->mode == ACTGATE_MODE_AUDIT ? POLICY_WIDENS : POLICY_NARROWS,
				 policy, n->where, ot, nt);
	if (!err && o->record != n->record)
		err = add_change(d, POLICY_CHANGES, policy, n->where, ot, nt);
	return err;
}

static const char *default_text(const struct path_rules *s)
{
	return s->default_verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow";
}

static int compare_default(struct policy_diff *d, const char *policy, const char *where,
			   uint8_t o, uint8_t n)
{
	if (o == n)
		return 0;
	return add_change(d, n == ACTGATE_VERDICT_DENY ? POLICY_NARROWS : POLICY_WIDENS, policy,
			  where, o == ACTGATE_VERDICT_DENY ? "deny" : "allow",
			  n == ACTGATE_VERDICT_DENY ? "deny" : "allow");
}

static int compare_overlay_defaults(struct policy_diff *d, const char *policy,
				    const char *section, const struct policy_overlay *o,
				    size_t oc, const struct policy_overlay *n, size_t nc)
{
	char where[48];
	int err = 0;

	for (size_t i = 0; i < (oc > nc ? oc : nc) && !err; i++) {
		snprintf(where, sizeof(where), "%s.when[%zu].default", section, i);
		if (i >= oc || i >= nc) {
			err = add_change(d, POLICY_CHANGES, policy, where, i < oc ? "an overlay" : NULL,
					 i < nc ? "an overlay" : NULL);
			continue;
		}
		if (o[i].has_default && n[i].has_default)
			err = compare_default(d, policy, where, o[i].default_verdict,
					      n[i].default_verdict);
		else if (o[i].has_default != n[i].has_default)
			err = add_change(d, POLICY_CHANGES, policy, where,
					 o[i].has_default ? (o[i].default_verdict ? "deny" : "allow") : NULL,
					 n[i].has_default ? (n[i].default_verdict ? "deny" : "allow") : NULL);
	}
	return err;
}

static void bits_text(uint32_t bits, bool sockets, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < 32; k++) {
		const char *name;

		if (!(bits & (1u << k)))
			continue;
		name = sockets ? policy_socket_kind_name(k) : kernel_door_name(k);
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					len ? "," : "", name ? name : "?");
	}
	if (!len)
		snprintf(buf, size, "none");
}

static int compare_bits(struct policy_diff *d, const char *policy, const char *where,
			uint32_t o, uint32_t n, bool sockets)
{
	char ot[128], nt[128];
	int err = 0;

	if (o == n)
		return 0;
	bits_text(o, sockets, ot, sizeof(ot));
	bits_text(n, sockets, nt, sizeof(nt));
	if (n & ~o)
		err = add_change(d, POLICY_WIDENS, policy, where, ot, nt);
	if (!err && (o & ~n))
		err = add_change(d, POLICY_NARROWS, policy, where, ot, nt);
	return err;
}

static void selector_text(const struct policy_selector *s, char *buf, size_t size)
{
	size_t len = 0;

#define PUT(...) (len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__))
	buf[0] = '\0';
	for (size_t i = 0; i < s->workload_glob_count; i++)
		PUT("%sworkload=%s", len ? " " : "", s->workload_globs[i]);
	for (size_t i = 0; i < s->cgroup_glob_count; i++)
		PUT("%scgroup=%s", len ? " " : "", s->cgroup_globs[i]);
	for (size_t i = 0; i < s->label_count; i++)
		PUT("%slabel:%s=%s", len ? " " : "", s->labels[i].key, s->labels[i].glob);
#undef PUT
}

static int compare_policies(struct policy_diff *d, const struct policy *o, const struct policy *n)
{
	struct entries oe = { 0 }, ne = { 0 };
	char ot[1024], nt[1024];
	int err;

	selector_text(&o->selector, ot, sizeof(ot));
	selector_text(&n->selector, nt, sizeof(nt));
	err = strcmp(ot, nt) ? add_change(d, POLICY_CHANGES, n->name, "selector", ot, nt) : 0;
	if (!err && o->mode != n->mode)
		err = add_change(d, n->mode == ACTGATE_MODE_AUDIT ? POLICY_WIDENS : POLICY_NARROWS,
				 n->name, "mode", mode_name(o->mode), mode_name(n->mode));
	if (!err)
		err = compare_default(d, n->name, "exec.default", o->exec.default_verdict,
				      n->exec.default_verdict);
	if (!err)
		err = compare_default(d, n->name, "open.default", o->open.default_verdict,
				      n->open.default_verdict);
	if (!err)
		err = compare_default(d, n->name, "connect.default", o->connect.default_verdict,
				      n->connect.default_verdict);
	if (!err && o->exec.written != n->exec.written)
		err = add_change(d, n->exec.written == ACTGATE_VERDICT_DENY ? POLICY_NARROWS :
									       POLICY_WIDENS,
				 n->name, "exec.written", default_text(&(struct path_rules){
								 .default_verdict = o->exec.written }),
				 default_text(&(struct path_rules){ .default_verdict = n->exec.written }));
	if (!err)
		err = compare_overlay_defaults(d, n->name, "exec", o->exec.overlays,
					       o->exec.overlay_count, n->exec.overlays,
					       n->exec.overlay_count);
	if (!err)
		err = compare_overlay_defaults(d, n->name, "open", o->open.overlays,
					       o->open.overlay_count, n->open.overlays,
					       n->open.overlay_count);
	if (!err)
		err = compare_overlay_defaults(d, n->name, "connect", o->connect.overlays,
					       o->connect.overlay_count, n->connect.overlays,
					       n->connect.overlay_count);
	if (!err)
		err = compare_bits(d, n->name, "connect.sockets", o->connect.sockets,
				   n->connect.sockets, true);
	if (!err)
		err = compare_bits(d, n->name, "kernel.allow", o->kernel_allow, n->kernel_allow,
				   false);
	if (!err)
		err = policy_entries(o, &oe);
	if (!err)
		err = policy_entries(n, &ne);
	/* Rules in OLD: gone, or changed. */
	for (size_t i = 0; i < oe.count && !err; i++) {
		const struct entry *e = &oe.e[i], *m = find_entry(&ne, e);

		if (m) {
			err = compare_entry(d, n->name, e, m);
			continue;
		}
		entry_text(e, e->access, ot, sizeof(ot));
		err = add_change(d, e->verdict == ACTGATE_VERDICT_DENY ? POLICY_WIDENS : POLICY_NARROWS,
				 n->name, e->where, ot, NULL);
	}
	/* Rules only in NEW. */
	for (size_t i = 0; i < ne.count && !err; i++) {
		const struct entry *e = &ne.e[i];

		if (find_entry(&oe, e))
			continue;
		entry_text(e, e->access, nt, sizeof(nt));
		err = add_change(d, e->verdict == ACTGATE_VERDICT_DENY ? POLICY_NARROWS : POLICY_WIDENS,
				 n->name, e->where, NULL, nt);
	}
	free(oe.e);
	free(ne.e);
	return err;
}

int policy_diff_policies(const struct policy *old, const struct policy *new,
			 struct policy_diff *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = compare_policies(d, old, new);
	if (err)
		policy_diff_free(d);
	return err;
}

static const struct policy *find_policy(const struct policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->count; i++)
		if (!strcmp(set->policies[i].name, name))
			return &set->policies[i];
	return NULL;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int policy_diff_sets(const struct policy_set *old, const struct policy_set *new,
		     struct policy_diff *d)
{
	const char **names = NULL;
	size_t count = 0;
	int err = 0;

	memset(d, 0, sizeof(*d));
	names = calloc(old->count + new->count + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < old->count; i++)
		names[count++] = old->policies[i].name;
	for (size_t i = 0; i < new->count; i++)
		if (!find_policy(old, new->policies[i].name))
			names[count++] = new->policies[i].name;
	qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; i < count && !err; i++) {
		const struct policy *o = find_policy(old, names[i]), *n = find_policy(new, names[i]);

		if (o && n)
			err = compare_policies(d, o, n);
		else if (o) /* policies compose as intersection: one gone only takes away limits */
			err = add_change(d, POLICY_WIDENS, names[i], "policy", o->file, NULL);
		else
			err = add_change(d, POLICY_NARROWS, names[i], "policy", NULL, n->file);
	}
	free(names);
	if (err)
		policy_diff_free(d);
	return err;
}

void policy_diff_free(struct policy_diff *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->changes[i].policy);
		free(d->changes[i].where);
		free(d->changes[i].old);
		free(d->changes[i].new);
	}
	free(d->changes);
	memset(d, 0, sizeof(*d));
}
