/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The policy model's lifetime: freeing what the parser built (policy.h). */
#include <stdlib.h>

#include "policy/policy.h"

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_path_rules(struct path_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rules[i].path);
	free(rules);
}

static void free_overlays_conditions(struct policy_overlay *o)
{
	for (size_t j = 0; j < o->condition_count; j++) {
		free(o->conditions[j].name);
		free_strings(o->conditions[j].values, o->conditions[j].value_count);
	}
	free(o->conditions);
}

static void free_overlays(struct policy_overlay *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_overlays_conditions(&o[i]);
	free(o);
}

/* spec.delegate (policy/delegate.c builds it). */
static void free_delegate(struct policy_delegate *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->count; i++) {
		struct delegate_entry *e = &d->entries[i];

		free_strings(e->workload_globs, e->workload_glob_count);
		free_strings(e->policies, e->policy_count);
		for (size_t k = 0; k < e->allow_count; k++)
			free(e->allow[k].target);
		free(e->allow);
		free_overlays_conditions(&e->when);
	}
	free(d->entries);
	free(d);
}

void policy_free(struct policy *p)
{
	struct policy_selector *sel = &p->selector;

	free(p->name);
	free(p->file);
	free_strings(sel->workload_globs, sel->workload_glob_count);
	free_strings(sel->cgroup_globs, sel->cgroup_glob_count);
	for (size_t i = 0; i < sel->label_count; i++) {
		free(sel->labels[i].key);
		free(sel->labels[i].glob);
	}
	free(sel->labels);
	free_path_rules(p->exec.rules, p->exec.count);
	free_overlays(p->exec.overlays, p->exec.overlay_count);
	free_path_rules(p->open.rules, p->open.count);
	free_overlays(p->open.overlays, p->open.overlay_count);
	for (size_t i = 0; i < p->connect.count; i++)
		free(p->connect.rules[i].text);
	free(p->connect.rules);
	free_path_rules(p->connect.unix_rules, p->connect.unix_count);
	for (size_t i = 0; i < p->connect.name_count; i++) {
		free(p->connect.name_rules[i].text);
		free(p->connect.name_rules[i].name);
	}
	free(p->connect.name_rules);
	free_overlays(p->connect.overlays, p->connect.overlay_count);
	free_delegate(p->delegate);
	*p = (struct policy){ 0 };
}

void policy_set_free(struct policy_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		policy_free(&set->policies[i]);
	free(set->policies);
	*set = (struct policy_set){ 0 };
}
