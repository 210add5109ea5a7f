/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actgate/abi.h"
#include "policy/compile.h"
#include "policy/evaluate.h"
#include "policy/names.h"

/* One policy's decision for one access: a rule, or a section's default. */
struct decision {
	uint8_t verdict;
	uint8_t mode;
	uint8_t record;
	uint8_t reason;  /* ACTGATE_REASON_RULE or _DEFAULT */
	int overlay;     /* the rule's (or the default's) overlay, or POLICY_BASE */
	int list;        /* the rule's verdict list, or RULE_DEFAULT */
	unsigned index;
	const struct policy *policy;
};

/* The overlays of each section of p that hold under signals. */
struct active_overlays {
	uint32_t exec, open, connect;
};

static struct active_overlays overlays_of(const struct policy *p, const struct signal_view *signals)
{
	return (struct active_overlays){
		.exec = policy_overlays_active(p->exec.overlays, p->exec.overlay_count, signals),
		.open = policy_overlays_active(p->open.overlays, p->open.overlay_count, signals),
		.connect = policy_overlays_active(p->connect.overlays, p->connect.overlay_count,
						  signals),
	};
}

/* The path rules an action is decided by, and the section they belong to. */
static void path_rules_of(const struct policy *p, const struct eval_action *a,
			  const struct path_rule **rules, size_t *count, uint8_t *base_default,
			  const struct policy_overlay **overlays, size_t *overlay_count)
{
	const struct path_rules *s = a->action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;

	if (a->action == ACTGATE_ACTION_CONNECT) {
		*rules = p->connect.unix_rules;
		*count = p->connect.unix_count;
		*base_default = p->connect.default_verdict;
		*overlays = p->connect.overlays;
		*overlay_count = p->connect.overlay_count;
		return;
	}
	*rules = s->rules;
	*count = s->count;
	*base_default = s->default_verdict;
	*overlays = s->overlays;
	*overlay_count = s->overlay_count;
}

static uint32_t active_for(const struct active_overlays *act, uint8_t action)
{
	return action == ACTGATE_ACTION_EXEC ? act->exec :
	       action == ACTGATE_ACTION_OPEN ? act->open : act->connect;
}

/*
 * The in-force rule of kind (exact or subtree) on exactly this path that
 * covers access, deny winning a tie as the compiler merges them; NULL when
 * none.
 */
static const struct path_rule *rule_on(const struct path_rule *rules, size_t count,
				       uint32_t active, uint8_t access, const char *path,
				       size_t len, bool subtree)
{
	const struct path_rule *found = NULL;

	for (size_t i = 0; i < count; i++) {
		const struct path_rule *r = &rules[i];

		if (r->subtree != subtree || !(r->access & access) ||
		    !policy_overlay_in_force(r->overlay, active) || strlen(r->path) != len ||
		    strncmp(r->path, path, len))
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
static const struct path_rule *match_path(const struct path_rule *rules, size_t count,
					  uint32_t active, uint8_t access, const char *path,
					  bool *too_deep)
{
	const struct path_rule *r;
	size_t len = strlen(path);
	unsigned steps = 0;

	*too_deep = false;
	/* Rules are normalised without a trailing '/' (but for "/"); do the same. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	r = rule_on(rules, count, active, access, path, len, false);
	if (!r)
		r = rule_on(rules, count, active, access, path, len, true);
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
		r = rule_on(rules, count, active, access, path, len, true);
	}
	if (!r && steps >= ACTGATE_MAX_PATH_WALK)
		*too_deep = true;
	return r;
}

static const struct net_rule *match_net(const struct net_rules *rules, uint32_t active,
					const struct eval_action *a)
{
	uint8_t protocol = a->protocol ? a->protocol : IPPROTO_TCP;
	const struct net_rule *best = NULL;

	for (size_t i = 0; i < rules->count; i++) {
		const struct net_rule *r = &rules->rules[i];

		if (!policy_overlay_in_force(r->overlay, active) || a->port < r->port_lo ||
		    a->port > r->port_hi || (r->protocol && r->protocol != protocol) ||
		    !net_rule_contains(r, a->addr, 128))
			continue;
		if (!best || net_rule_more_specific(r, best))
			best = r;
	}
	return best;
}

/* The section default of p for an action under its active overlays. */
static void decide_default(const struct policy *p, uint8_t base_default,
			   const struct policy_overlay *overlays, size_t overlay_count,
			   uint32_t active, struct decision *d)
{
	int overlay;

	d->verdict = policy_section_default(base_default, overlays, overlay_count, active, &overlay);
	d->mode = p->mode;
	d->record = p->record;
	d->reason = ACTGATE_REASON_DEFAULT;
	d->overlay = overlay;
	d->list = RULE_DEFAULT;
	d->index = 0;
	d->policy = p;
}

/*
 * p's decision for one access (a single bit) of a. Returns false when the
 * kernel's walk would run out before finding a rule: *has_subtree then says
 * whether p has directory rules in force for the action at all.
 */
static bool decide_access(const struct policy *p, const struct signal_view *signals,
			  const struct eval_action *a, uint8_t access, struct decision *d,
			  bool *has_subtree)
{
	struct active_overlays act = overlays_of(p, signals);
	uint32_t active = active_for(&act, a->action);
	const struct policy_overlay *overlays;
	const struct path_rule *rules, *m;
	size_t count, overlay_count;
	uint8_t base_default;
	bool too_deep;

	*has_subtree = false;
	if (a->action == ACTGATE_ACTION_CONNECT && a->socket) {
		bool listed = p->connect.sockets & (1u << a->socket);

		*d = (struct decision){ .verdict = listed ? ACTGATE_VERDICT_ALLOW : ACTGATE_VERDICT_DENY,
					.mode = p->mode, .record = p->record,
					.reason = listed ? ACTGATE_REASON_RULE : ACTGATE_REASON_DEFAULT,
					.overlay = POLICY_BASE, .list = RULE_SOCKETS,
					.index = a->socket, .policy = p };
		return true;
	}
	if (a->action == ACTGATE_ACTION_CONNECT && !a->unix_socket) {
		const struct net_rule *n = match_net(&p->connect, active, a);
		const struct name_rule *nm = NULL;

		/* a->name is normalised by the caller (evaluate_composed). */
		if (a->name)
			nm = name_rules_match(&p->connect, active, a->name, a->port, a->protocol);
		decide_default(p, p->connect.default_verdict, p->connect.overlays,
			       p->connect.overlay_count, active, d);
		/*
		 * An address rule and a name rule may both match: a deny of
		 * either wins, then the address rule; a name rule alone decides
		 * before the default (docs/policy.md, "Names").
		 */
		if (n && (n->verdict == ACTGATE_VERDICT_DENY || !nm ||
			  nm->verdict != ACTGATE_VERDICT_DENY))
			*d = (struct decision){ .verdict = n->verdict, .mode = n->mode,
						.record = n->record, .reason = ACTGATE_REASON_RULE,
						.overlay = n->overlay, .list = n->verdict,
						.index = n->index, .policy = p };
		else if (nm)
			*d = (struct decision){ .verdict = nm->verdict, .mode = nm->mode,
						.record = nm->record,
						.reason = nm->verdict == ACTGATE_VERDICT_ALLOW ?
								  ACTGATE_REASON_LEARNED :
								  ACTGATE_REASON_RULE,
						.overlay = nm->overlay, .list = nm->verdict,
						.index = nm->index, .policy = p };
		return true;
	}
	path_rules_of(p, a, &rules, &count, &base_default, &overlays, &overlay_count);
	decide_default(p, base_default, overlays, overlay_count, active, d);
	m = match_path(rules, count, active, access, a->path, &too_deep);
	if (m) {
		*d = (struct decision){ .verdict = m->verdict, .mode = m->mode, .record = m->record,
					.reason = ACTGATE_REASON_RULE, .overlay = m->overlay,
					.list = m->verdict, .index = m->index, .policy = p };
		return true;
	}
	for (size_t i = 0; i < count; i++)
		*has_subtree |= rules[i].subtree && policy_overlay_in_force(rules[i].overlay, active);
	return !too_deep;
}

/* Does candidate beat current in composition? Ties keep the first. */
static bool overrides(const struct decision *candidate, const struct decision *current)
{
	return policy_decision_rank(candidate->verdict, candidate->mode) >
	       policy_decision_rank(current->verdict, current->mode);
}

static void fill_result(const struct decision *d, uint8_t action, uint8_t access,
			struct eval_result *r)
{
	r->verdict = d->verdict;
	r->mode = d->mode;
	r->record = d->record;
	r->reason = d->reason;
	r->access = action == ACTGATE_ACTION_OPEN ? access : 0;
	r->policy = d->policy->name;
	policy_rule_name(r->rule, sizeof(r->rule), d->policy->name, action, d->overlay, d->list,
			 d->index);
}

/*
 * The unspecified address (0.0.0.0, ::ffff:0.0.0.0, ::) reaches loopback,
 * and the kernel judges it as the loopback address it picks
 * (bpf/net.bpf.c, unspecified_to_loopback): 127.0.0.1, ::1. (The kernel
 * takes an IPv4 socket's bound source address first; an evaluated action
 * has no socket.)
 */
static void judged_address(uint8_t addr[16])
{
	static const uint8_t v4_any[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t any[16] = { 0 };

	if (!memcmp(addr, v4_any, 16)) {
		addr[12] = 127;
		addr[15] = 1;
	} else if (!memcmp(addr, any, 16)) {
		addr[15] = 1;
	}
}

/*
 * exec's `written:` decision under the composition: each policy that says
 * `written: deny` denies, in its mode; the first of the highest rank wins.
 * False when no policy asks.
 */
static bool written_decision(const struct policy *const *policies, size_t count,
			     struct decision *d)
{
	bool any = false;

	for (size_t i = 0; i < count; i++) {
		const struct policy *p = policies[i];
		struct decision w = { .verdict = ACTGATE_VERDICT_DENY, .mode = p->mode,
				      .record = p->record, .reason = ACTGATE_REASON_WRITTEN,
				      .overlay = POLICY_BASE, .list = RULE_WRITTEN, .policy = p };

		if (p->exec.written != ACTGATE_VERDICT_DENY)
			continue;
		if (!any || overrides(&w, d))
			*d = w;
		any = true;
	}
	return any;
}

/*
 * The kernel's decision under the composition of policies (count of them):
 * each access asked for is decided by every policy and combined, then the
 * accesses are combined, both by rank with the first winning a tie.
 * *by_rule: some policy decided the answer's access by a rule (the kernel
 * found a path entry), rather than every one by its default.
 */
static void evaluate_composed(const struct policy *const *policies, size_t count,
			      const struct signal_view *signals, const struct eval_action *action,
			      struct eval_result *r, bool *by_rule)
{
	struct eval_action judged = *action;
	const struct eval_action *a = &judged;
	char name[NAME_TEXT_MAX + 1], why[128];
	size_t at;
	uint8_t asked = ACTGATE_ACCESS_WHOLE;
	struct decision best = { 0 };
	uint8_t best_access = 0;
	bool have = false, best_by_rule = false;
	struct decision written;

	if (a->action == ACTGATE_ACTION_OPEN)
		asked = a->access ? a->access : ACTGATE_ACCESS_READ;
	if (a->action == ACTGATE_ACTION_CONNECT && !a->unix_socket && !a->socket)
		judged_address(judged.addr);
	/* policy_evaluate refuses a bad name; here it can only be ignored. */
	judged.name = NULL;
	if (action->name && action->action == ACTGATE_ACTION_CONNECT && !action->unix_socket &&
	    !action->socket &&
	    !name_normalize(action->name, strlen(action->name), false, name, why, sizeof(why), &at))
		judged.name = name;
	memset(r, 0, sizeof(*r));
	r->policy_count = count;
	for (unsigned slot = 0; slot < ACTGATE_ACCESS_SLOTS; slot++) {
		uint8_t access = (uint8_t)(1u << slot);
		struct decision composed = { 0 };
		bool any_subtree = false, undecided = true, deep = false;

		if (!(asked & access))
			continue;
		for (size_t i = 0; i < count; i++) {
			struct decision d;
			bool has_subtree;

			deep |= !decide_access(policies[i], signals, a, access, &d, &has_subtree);
			undecided &= d.reason != ACTGATE_REASON_RULE;
			any_subtree |= has_subtree;
			if (i == 0 || overrides(&d, &composed))
				composed = d;
		}
		/*
		 * No policy has a rule for this access within the walk's reach,
		 * and the kernel walks (some policy has directory rules): it
		 * denies what lies beyond rather than fall to the defaults.
		 */
		if (undecided && deep && any_subtree) {
			r->verdict = ACTGATE_VERDICT_DENY;
			r->mode = ACTGATE_MODE_ENFORCE;
			r->record = ACTGATE_RECORD_ALL;
			r->reason = ACTGATE_REASON_TOO_DEEP;
			r->access = a->action == ACTGATE_ACTION_OPEN ? access : 0;
			r->policy = NULL;
			r->rule[0] = '\0';
			return;
		}
		if (!have || overrides(&composed, &best)) {
			best = composed;
			best_access = access;
			best_by_rule = !undecided;
			have = true;
		}
	}
	if (a->action == ACTGATE_ACTION_EXEC && a->written &&
	    written_decision(policies, count, &written) && overrides(&written, &best))
		best = written;
	fill_result(&best, a->action, best_access, r);
	/* As the compiler makes it (policy/compile.c, make_strict): one strict policy makes all strict. */
	for (size_t i = 0; i < count; i++)
		if (policies[i]->record == ACTGATE_RECORD_STRICT)
			r->record = ACTGATE_RECORD_STRICT;
	if (by_rule)
		*by_rule = best_by_rule;
}

/*
 * The exec section's say on an executable mapping (bpf/lib/drift.h,
 * decide_exec_map): the exec decision on the same file by its rules (a
 * default has no say: libraries are not what an exec allow-list names),
 * then `written:` when it outranks that; the result answers instead of
 * open's when it outranks it.
 */
static void apply_exec_door(const struct policy *const *policies, size_t count,
			    const struct signal_view *signals, const struct eval_action *a,
			    struct eval_result *r)
{
	struct eval_action ex = *a;
	struct decision written;
	struct eval_result er;
	bool by_rule = false;

	ex.action = ACTGATE_ACTION_EXEC;
	ex.access = 0;
	ex.written = false;
	evaluate_composed(policies, count, signals, &ex, &er, &by_rule);
	if (er.verdict == ACTGATE_VERDICT_DENY && er.reason == ACTGATE_REASON_DEFAULT && !by_rule)
		er.verdict = ACTGATE_VERDICT_ALLOW;
	if (a->written && written_decision(policies, count, &written) &&
	    policy_decision_rank(written.verdict, written.mode) >
		    policy_decision_rank(er.verdict, er.mode))
		fill_result(&written, ACTGATE_ACTION_EXEC, 0, &er);
	if (policy_decision_rank(er.verdict, er.mode) <= policy_decision_rank(r->verdict, r->mode))
		return;
	*r = er;
	r->access = ACTGATE_ACCESS_EXEC_MAP;
}

/*
 * A lookup (action resolve) under the composition of policies: the name
 * matcher's decision (policy/names.h), as the daemon's resolver decides.
 */
static int evaluate_resolve(const struct policy *const *policies, size_t count,
			    const struct signal_view *signals, const struct eval_action *a,
			    struct eval_result *r)
{
	struct policy_set view = { 0 };
	struct policy_selection *sel;
	struct name_matcher *m = NULL;
	struct name_decision d;
	int err = -ENOMEM;

	memset(r, 0, sizeof(*r));
	/* The matcher takes a set and indices: a set of copies, borrowed, never freed. */
	view.policies = calloc(count ? count : 1, sizeof(*view.policies));
	sel = calloc(count ? count : 1, sizeof(*sel));
	if (!view.policies || !sel)
		goto cleanup;
	view.count = count;
	for (size_t i = 0; i < count; i++) {
		const struct policy *p = policies[i];

		view.policies[i] = *p;
		sel[i].index = (uint32_t)i;
		sel[i].active[ACTGATE_ACTION_CONNECT] =
			policy_overlays_active(p->connect.overlays, p->connect.overlay_count, signals);
	}
	err = name_matcher_build(&view, sel, count, &m);
	if (!err)
		err = name_matcher_decide(m, a->name, &d);
	if (err)
		goto cleanup;
	r->verdict = d.verdict;
	r->mode = d.mode;
	r->record = d.record;
	r->reason = d.reason;
	r->policy = policies[d.policy_index]->name;
	r->policy_count = count;
	snprintf(r->rule, sizeof(r->rule), "%s", d.rule);
	for (size_t i = 0; i < count; i++)
		if (policies[i]->record == ACTGATE_RECORD_STRICT)
			r->record = ACTGATE_RECORD_STRICT;
cleanup:
	name_matcher_free(m);
	free(sel);
	free(view.policies);
	return err;
}

static void evaluate_action(const struct policy *const *policies, size_t count,
			    const struct signal_view *signals, const struct eval_action *a,
			    struct eval_result *r)
{
	uint8_t asked = a->access ? a->access : ACTGATE_ACCESS_READ;

	if (a->action == ACTGATE_ACTION_RESOLVE) {
		if (evaluate_resolve(policies, count, signals, a, r)) {
			/* Out of memory, or a name policy_evaluate would have refused: deny. */
			r->verdict = ACTGATE_VERDICT_DENY;
			r->mode = ACTGATE_MODE_ENFORCE;
			r->reason = ACTGATE_REASON_NAME;
			r->policy = count ? policies[0]->name : NULL;
		}
		return;
	}
	evaluate_composed(policies, count, signals, a, r, NULL);
	if (a->action == ACTGATE_ACTION_OPEN && (asked & ACTGATE_ACCESS_EXEC_MAP))
		apply_exec_door(policies, count, signals, a, r);
}

void policy_evaluate_one(const struct policy *p, const struct signal_view *signals,
			 const struct eval_action *a, struct eval_result *r)
{
	evaluate_action(&p, 1, signals, a, r);
}

int policy_evaluate(const struct policy_set *set, const struct workload_identity *id,
		    const struct signal_view *signals, const struct eval_action *a,
		    struct eval_result *r, char *why, size_t why_size)
{
	return policy_evaluate_lineage(set, id, 1, signals, a, r, why, why_size);
}

int policy_evaluate_lineage(const struct policy_set *set, const struct workload_identity *ids,
			    size_t n, const struct signal_view *signals,
			    const struct eval_action *a, struct eval_result *r, char *why,
			    size_t why_size)
{
	return policy_evaluate_delegated(set, ids, n, NULL, 0, signals, a, r, why, why_size);
}

int policy_evaluate_delegated(const struct policy_set *set, const struct workload_identity *ids,
			      size_t n, const char *const *named, size_t named_count,
			      const struct signal_view *signals, const struct eval_action *a,
			      struct eval_result *r, char *why, size_t why_size)
{
	const struct workload_identity *id = &ids[n - 1];
	const struct policy **chosen = NULL;
	size_t count = 0;

	if (a->action != ACTGATE_ACTION_EXEC && a->action != ACTGATE_ACTION_OPEN &&
	    a->action != ACTGATE_ACTION_CONNECT && a->action != ACTGATE_ACTION_RESOLVE) {
		snprintf(why, why_size, "unknown action %u", a->action);
		return -EINVAL;
	}
	if (a->action == ACTGATE_ACTION_RESOLVE && !a->name) {
		snprintf(why, why_size, "a lookup needs a name");
		return -EINVAL;
	}
	if (a->name && (a->action == ACTGATE_ACTION_RESOLVE ||
			(a->action == ACTGATE_ACTION_CONNECT && !a->unix_socket && !a->socket))) {
		char name[NAME_TEXT_MAX + 1], err[128];
		size_t at;

		if (name_normalize(a->name, strlen(a->name), false, name, err, sizeof(err), &at)) {
			snprintf(why, why_size, "bad name \"%.*s\": %s", 64, a->name, err);
			return -EINVAL;
		}
	}
	if (a->action == ACTGATE_ACTION_CONNECT && a->socket &&
	    !policy_socket_kind_name(a->socket)) {
		snprintf(why, why_size, "unknown socket kind %u", a->socket);
		return -EINVAL;
	}
	if (a->action != ACTGATE_ACTION_RESOLVE &&
	    (a->action != ACTGATE_ACTION_CONNECT || a->unix_socket) &&
	    (!a->path || a->path[0] != '/')) {
		snprintf(why, why_size, "the target must be an absolute path");
		return -EINVAL;
	}
	if (a->action == ACTGATE_ACTION_OPEN && (a->access & ~ACTGATE_ACCESS_ALL)) {
		snprintf(why, why_size, "unknown access bits 0x%x", a->access);
		return -EINVAL;
	}
	chosen = calloc(set->count ? set->count : 1, sizeof(*chosen));
	if (!chosen) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	/*
	 * The same selection as actgated makes for `actgate run`; for a
	 * sub-workload also every policy of the workloads above it (attenuation).
	 */
	for (size_t i = 0; i < set->count; i++) {
		bool any = false;

		for (size_t k = 0; k < n && !any; k++)
			any = policy_selects(&set->policies[i], &ids[k]);
		for (size_t k = 0; k < named_count && !any; k++)
			any = !strcmp(set->policies[i].name, named[k]);
		if (any)
			chosen[count++] = &set->policies[i];
	}
	/* As actgated refuses it: a named policy that is not loaded is no policy at all. */
	for (size_t k = 0; k < named_count; k++) {
		size_t i = 0;

		while (i < set->count && strcmp(set->policies[i].name, named[k]))
			i++;
		if (i == set->count) {
			free(chosen);
			snprintf(why, why_size, "policy \"%.64s\" is not loaded", named[k]);
			return -ESRCH;
		}
	}
	if (!count) {
		free(chosen);
		snprintf(why, why_size, "no policy selects workload \"%s\"", id->name ? id->name : "");
		return -ENOENT;
	}
	evaluate_action(chosen, count, signals, a, r);
	free(chosen);
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
