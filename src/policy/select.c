/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Applying a parsed policy: which workloads it selects, which of its
 * `when:` overlays hold under a set of signals, and the names its rules
 * carry in records. The compiler, the daemon and the evaluator share these,
 * so that they agree.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/policy.h"

static bool any_glob_matches(char *const *globs, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return true;
	return false;
}

static const char *label_value(const struct workload_identity *id, const char *key)
{
	for (size_t i = 0; i < id->label_count; i++)
		if (!strcmp(id->labels[i].key, key))
			return id->labels[i].value;
	return NULL;
}

bool policy_selects(const struct policy *p, const struct workload_identity *id)
{
	const struct policy_selector *sel = &p->selector;

	if (sel->workload_glob_count &&
	    !any_glob_matches(sel->workload_globs, sel->workload_glob_count, id->name ? id->name : ""))
		return false;
	/* A workload whose cgroup is not known is not selected by cgroup. */
	if (sel->cgroup_glob_count &&
	    (!id->cgroup || !any_glob_matches(sel->cgroup_globs, sel->cgroup_glob_count, id->cgroup)))
		return false;
	for (size_t i = 0; i < sel->label_count; i++) {
		const char *v = label_value(id, sel->labels[i].key);

		if (!v || fnmatch(sel->labels[i].glob, v, 0) != 0)
			return false;
	}
	return true;
}

size_t policy_set_select(const struct policy_set *set, const struct workload_identity *id,
			 size_t *indices, size_t max)
{
	size_t found = 0;

	for (size_t i = 0; i < set->count; i++) {
		if (!policy_selects(&set->policies[i], id))
			continue;
		if (found < max)
			indices[found] = i;
		found++;
	}
	return found;
}

bool policy_valid_signal_name(const char *s, size_t len)
{
	if (len == 0 || len > POLICY_SIGNAL_NAME_MAX || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static const char *signal_of(const struct signal_view *signals, const char *name)
{
	for (size_t i = 0; signals && i < signals->count; i++)
		if (!strcmp(signals->values[i].name, name))
			return signals->values[i].value;
	return NULL;
}

bool policy_overlay_holds(const struct policy_overlay *o, const struct signal_view *signals)
{
	for (size_t i = 0; i < o->condition_count; i++) {
		const struct signal_match *m = &o->conditions[i];
		const char *v = signal_of(signals, m->name);
		bool any = false;

		for (size_t j = 0; v && j < m->value_count && !any; j++)
			any = !strcmp(m->values[j], v);
		if (!any)
			return false; /* an unset signal has no value, so matches none */
	}
	return true;
}

uint32_t policy_overlays_active(const struct policy_overlay *overlays, size_t count,
				const struct signal_view *signals)
{
	uint32_t active = 0;

	for (size_t i = 0; i < count && i < POLICY_MAX_OVERLAYS; i++)
		if (policy_overlay_holds(&overlays[i], signals))
			active |= 1u << i;
	return active;
}

uint8_t policy_section_default(uint8_t base_default, const struct policy_overlay *overlays,
			       size_t count, uint32_t active, int *default_overlay)
{
	int allow_from = POLICY_BASE;

	for (size_t i = 0; i < count && i < POLICY_MAX_OVERLAYS; i++) {
		if (!((active >> i) & 1) || !overlays[i].has_default)
			continue;
		if (overlays[i].default_verdict == ACTGATE_VERDICT_DENY) {
			*default_overlay = (int)i;
			return ACTGATE_VERDICT_DENY;
		}
		if (allow_from == POLICY_BASE)
			allow_from = (int)i;
	}
	*default_overlay = allow_from;
	return allow_from == POLICY_BASE ? base_default : ACTGATE_VERDICT_ALLOW;
}

static const char *section_name(uint8_t action)
{
	switch (action) {
	case ACTGATE_ACTION_EXEC:
		return "exec";
	case ACTGATE_ACTION_OPEN:
		return "open";
	case ACTGATE_ACTION_CONNECT:
		return "connect";
	}
	return "?";
}

const char *policy_socket_kind_name(unsigned kind)
{
	switch (kind) {
	case ACTGATE_SOCKET_RAW:
		return "raw";
	case ACTGATE_SOCKET_PACKET:
		return "packet";
	}
	return NULL;
}

int policy_rule_name(char *buf, size_t size, const char *policy, uint8_t action, int overlay,
		     int verdict, unsigned index)
{
	char scope[32] = "";
	const char *kind;

	if (verdict == RULE_SOCKETS) {
		kind = policy_socket_kind_name(index);
		return snprintf(buf, size, "%s:%s.sockets.%s", policy, section_name(action),
				kind ? kind : "?");
	}

	if (verdict == RULE_WRITTEN)
		return snprintf(buf, size, "%s:%s.written", policy, section_name(action));
	if (overlay != POLICY_BASE)
		snprintf(scope, sizeof(scope), ".when[%d]", overlay);
	if (verdict == RULE_DEFAULT)
		return snprintf(buf, size, "%s:%s%s.default", policy, section_name(action), scope);
	return snprintf(buf, size, "%s:%s%s.%s[%u]", policy, section_name(action), scope,
			verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow", index);
}
