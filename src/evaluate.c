/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actgate/abi.h"
#include "compile.h"
#include "evaluate.h"

static const struct path_rules *path_section(const struct policy *p, uint8_t action)
{
	return action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;
}

/*
 * The rule of kind (exact or subtree) on exactly this path, deny winning a
 * tie as the compiler merges them; NULL when none.
 */
static const struct path_rule *rule_on(const struct path_rules *rules, const char *path,
				       size_t len, bool subtree)
{
	const struct path_rule *found = NULL;

	for (size_t i = 0; i < rules->count; i++) {
		const struct path_rule *r = &rules->rules[i];

		if (r->subtree != subtree || strlen(r->path) != len || strncmp(r->path, path, len))
			continue;
		if (!found || (r->verdict == ACTGATE_VERDICT_DENY &&
			       found->verdict != ACTGATE_VERDICT_DENY))
			found = r;
	}
	return found;
}

/*
 * The kernel's walk, on strings: exact, subtree on itself, then each ancestor.
 * *too_deep is set when the kernel's walk would run out of steps first: one
 * step per ancestor, and one more to see that "/" is the root.
 */
static const struct path_rule *match_path(const struct path_rules *rules, const char *path,
					  bool *too_deep)
{
	const struct path_rule *r;
	size_t len = strlen(path);
	unsigned steps = 0;

	*too_deep = false;
	/* Rules are normalised without a trailing '/' (but for "/"); do the same. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	r = rule_on(rules, path, len, false);
	if (!r)
		r = rule_on(rules, path, len, true);
	while (!r && len > 1) {
		if (steps++ == ACTGATE_MAX_PATH_WALK) {
			*too_deep = true;
			return NULL;
		}
		while (len > 0 && path[len - 1] != '/')
			len--;
		/* Drop the '/' too, except for the root itself. */
		if (len > 1)
			len--;
		r = rule_on(rules, path, len, true);
	}
	if (!r && steps >= ACTGATE_MAX_PATH_WALK)
		*too_deep = true;
	return r;
}

static const struct net_rule *match_net(const struct net_rules *rules, const uint8_t addr[16],
					uint16_t port)
{
	const struct net_rule *best = NULL;

	for (size_t i = 0; i < rules->count; i++) {
		const struct net_rule *r = &rules->rules[i];

		if (port < r->port_lo || port > r->port_hi || !net_rule_contains(r, addr, 128))
			continue;
		if (!best || net_rule_more_specific(r, best))
			best = r;
	}
	return best;
}

void policy_evaluate_one(const struct policy *p, const struct eval_action *a, struct eval_result *r)
{
	int verdict = RULE_DEFAULT;
	unsigned index = 0;

	r->mode = p->mode;
	r->policy = p->name;
	if (a->action == ACTGATE_ACTION_CONNECT) {
		const struct net_rule *n = match_net(&p->connect, a->addr, a->port);

		r->verdict = p->connect.default_verdict;
		if (n) {
			verdict = n->verdict;
			index = n->index;
		}
	} else {
		const struct path_rules *section = path_section(p, a->action);
		bool too_deep = false;
		const struct path_rule *m = match_path(section, a->path, &too_deep);
		bool has_subtree = false;

		for (size_t i = 0; i < section->count; i++)
			has_subtree |= section->rules[i].subtree;
		r->verdict = section->default_verdict;
		if (m) {
			verdict = m->verdict;
			index = m->index;
		} else if (too_deep && has_subtree) {
			/* As the kernel: deny what lies beyond the walk's reach; no rule decided. */
			r->verdict = ACTGATE_VERDICT_DENY;
			r->reason = ACTGATE_REASON_TOO_DEEP;
			r->rule[0] = '\0';
			return;
		}
	}
	if (verdict == RULE_DEFAULT) {
		r->reason = ACTGATE_REASON_DEFAULT;
	} else {
		r->reason = ACTGATE_REASON_RULE;
		r->verdict = (uint8_t)verdict;
	}
	rule_name_format(r->rule, sizeof(r->rule), p->name, a->action, verdict, index);
}

int policy_evaluate(const struct policy_set *set, const char *workload, const struct eval_action *a,
		    struct eval_result *r, char *why, size_t why_size)
{
	const struct policy *chosen = NULL;

	if (a->action != ACTGATE_ACTION_EXEC && a->action != ACTGATE_ACTION_OPEN &&
	    a->action != ACTGATE_ACTION_CONNECT) {
		snprintf(why, why_size, "unknown action %u", a->action);
		return -EINVAL;
	}
	if (a->action != ACTGATE_ACTION_CONNECT && (!a->path || a->path[0] != '/')) {
		snprintf(why, why_size, "the target must be an absolute path");
		return -EINVAL;
	}
	/* The same selection as actgated makes for `actgate run`. */
	for (size_t i = 0; i < set->count; i++) {
		if (!policy_selects(&set->policies[i], workload))
			continue;
		if (chosen) {
			snprintf(why, why_size,
				 "workload \"%s\" is selected by policies \"%s\" and \"%s\"; a "
				 "workload must be selected by exactly one policy",
				 workload, chosen->name, set->policies[i].name);
			return -EEXIST;
		}
		chosen = &set->policies[i];
	}
	if (!chosen) {
		snprintf(why, why_size, "no policy selects workload \"%s\"", workload);
		return -ENOENT;
	}
	policy_evaluate_one(chosen, a, r);
	return 0;
}

int eval_parse_connect_target(const char *text, uint8_t addr[16], uint16_t *port, char *why,
			      size_t why_size)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_text;
	struct in_addr v4;
	unsigned long value;
	char *end;
	size_t len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':') {
			snprintf(why, why_size, "\"%s\": expected [IPV6]:PORT", text);
			return -EINVAL;
		}
		len = (size_t)(close - text - 1);
		port_text = close + 2;
		if (len >= sizeof(host)) {
			snprintf(why, why_size, "\"%s\": not an IPv6 address", text);
			return -EINVAL;
		}
		memcpy(host, text + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1) {
			snprintf(why, why_size, "\"%s\": not an IPv6 address", host);
			return -EINVAL;
		}
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon) {
			snprintf(why, why_size,
				 "\"%s\": expected IPV4:PORT, or [IPV6]:PORT with brackets", text);
			return -EINVAL;
		}
		len = (size_t)(colon - text);
		port_text = colon + 1;
		if (len >= sizeof(host)) {
			snprintf(why, why_size, "\"%s\": not an IPv4 address", text);
			return -EINVAL;
		}
		memcpy(host, text, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, &v4) != 1) {
			snprintf(why, why_size, "\"%s\": not an IPv4 address", host);
			return -EINVAL;
		}
		/* IPv4 is matched in its IPv4-mapped IPv6 form, as the kernel does. */
		memset(addr, 0, 10);
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &v4, 4);
	}
	errno = 0;
	value = strtoul(port_text, &end, 10);
	if (!port_text[0] || *end || errno || value > 65535 || port_text[0] == '-' ||
	    port_text[0] == '+') {
		snprintf(why, why_size, "\"%s\": the port must be a number from 0 to 65535", text);
		return -EINVAL;
	}
	*port = (uint16_t)value;
	return 0;
}
