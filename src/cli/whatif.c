/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "cli/whatif.h"
#include "policy/delegate.h"

#define MAX_LABELS 64
#define MAX_LINKS 16   /* workloads above a record's own, as a chain names them */
#define MAX_SIGNALS 64
#define MAX_ASKED 24   /* --policy and --allow of one delegate record */

/* "k=v,k=v" (as the journal keeps labels) into pairs pointing into buf. */
static size_t split_labels(char *buf, struct workload_label *out, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item && n < max;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq)
			continue;
		*eq = '\0';
		out[n++] = (struct workload_label){ item, eq + 1 };
	}
	return n;
}

/* "ADDR:PORT/PROTO" (IPv6 in brackets), as the daemon writes connect targets. */
static int parse_connect(const char *target, struct eval_action *a, char *why, size_t why_size)
{
	char buf[128];
	char *slash;

	if (strlen(target) >= sizeof(buf)) {
		snprintf(why, why_size, "connect target too long");
		return -EINVAL;
	}
	strcpy(buf, target);
	slash = strrchr(buf, '/');
	if (!slash) {
		snprintf(why, why_size, "connect target without a protocol: %s", target);
		return -EINVAL;
	}
	*slash++ = '\0';
	if (!strcmp(slash, "tcp"))
		a->protocol = IPPROTO_TCP;
	else if (!strcmp(slash, "udp"))
		a->protocol = IPPROTO_UDP;
	else
		a->protocol = 0xff; /* another protocol: only rules without one apply */
	return eval_parse_connect_target(buf, a->addr, &a->port, why, why_size);
}

/* Does p start a workload link "NAME#ID[" (a workload name has no '#', ' ' or '>')? */
static bool link_at(const char *p, uint64_t *id)
{
	const char *q = p;
	char *end;

	while (*q && *q != '#' && *q != ' ' && *q != '>' && *q != '[')
		q++;
	if (q == p || *q != '#' || q[1] < '0' || q[1] > '9')
		return false;
	*id = strtoull(q + 1, &end, 10);
	return *end == '[';
}

/*
 * The workloads above workload_id in chain "PRINCIPAL > NAME#ID[...] > ...",
 * outermost first: their names, cut in buf (a copy of the chain). The
 * principal link is skipped (it is not a workload). Returns how many, or
 * -1 when the chain does not name workload_id.
 */
static int chain_above(char *buf, uint64_t workload_id, const char **names, size_t max)
{
	char *starts[MAX_LINKS + 1];
	size_t n = 0;
	uint64_t id;

	/* A link starts after " > "; a signal value that looks like one is not taken for it. */
	for (char *p = strstr(buf, " > "); p && n <= MAX_LINKS; p = strstr(p + 3, " > "))
		if (link_at(p + 3, &id))
			starts[n++] = p + 3;
	for (size_t k = 0; k < n; k++) {
		link_at(starts[k], &id);
		if (id != workload_id)
			continue;
		if (k > max)
			return -1;
		for (size_t i = 0; i < k; i++) {
			*strchr(starts[i], '#') = '\0';
			names[i] = starts[i];
		}
		return (int)k;
	}
	return -1;
}

/* "name=value,name=value" (as records keep the signals read) into pairs pointing into buf. */
static size_t split_signals(char *buf, struct signal_value *out, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item && n < max;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq)
			continue;
		*eq = '\0';
		out[n++] = (struct signal_value){ item, eq + 1 };
	}
	return n;
}

/*
 * A delegate record decided again: may the recording workload (ids[n - 1],
 * under every policy that selects it or a workload above it) commission the
 * request its target states ("run NAME [--policy P]... [--allow A:T]...")
 * under the candidate's delegate: sections and the signals the record
 * kept? Into r: allow or deny, the reason in rule.
 */
static const char *or_empty_sig(const struct journal_record *rec)
{
	return rec->signals ? rec->signals : "";
}

static int decide_delegate(const struct policy_set *set, const struct journal_record *rec,
			   const struct workload_identity *ids, size_t n, struct eval_result *r,
			   char *why, size_t why_size)
{
	struct signal_value values[MAX_SIGNALS];
	struct signal_view view = { .values = values };
	const char *policies[MAX_ASKED];
	struct delegate_rule allow[MAX_ASKED];
	struct delegation_request req = { .policies = policies, .allow = allow };
	const struct policy **parents = NULL;
	char *text = strdup(rec->target ? rec->target : ""), *sig = strdup(or_empty_sig(rec));
	char *save = NULL, *word, reason[384];
	size_t count = 0;
	bool outlive;
	int err = -EINVAL;

	if (!text || !sig) {
		snprintf(why, why_size, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	word = strtok_r(text, " ", &save);
	if (!word || strcmp(word, "run") || !(req.child = strtok_r(NULL, " ", &save))) {
		snprintf(why, why_size, "not a run request: %s", rec->target ? rec->target : "");
		goto out;
	}
	while ((word = strtok_r(NULL, " ", &save))) {
		char *arg = strtok_r(NULL, " ", &save), *colon;

		if (!arg || req.policy_count + req.allow_count == MAX_ASKED) {
			snprintf(why, why_size, "a run request not decided again: %s", rec->target);
			goto out;
		}
		if (!strcmp(word, "--policy")) {
			policies[req.policy_count++] = arg;
			continue;
		}
		colon = strchr(arg, ':');
		if (strcmp(word, "--allow") || !colon ||
		    delegate_action_parse(arg, (size_t)(colon - arg), &allow[req.allow_count].action)) {
			snprintf(why, why_size, "a run request not decided again: %s", rec->target);
			goto out;
		}
		allow[req.allow_count++].target = colon + 1;
	}
	view.count = split_signals(sig, values, MAX_SIGNALS);
	parents = calloc(set->count ? set->count : 1, sizeof(*parents));
	if (!parents) {
		snprintf(why, why_size, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < set->count; i++) {
		bool any = false;

		for (size_t k = 0; k < n && !any; k++)
			any = policy_selects(&set->policies[i], &ids[k]);
		if (any)
			parents[count++] = &set->policies[i];
	}
	if (!count) {
		snprintf(why, why_size, "no policy selects workload \"%s\"", rec->workload);
		err = -ENOENT;
		goto out;
	}
	*r = (struct eval_result){ .mode = ACTGATE_MODE_ENFORCE, .reason = ACTGATE_REASON_DELEGATION,
				   .policy_count = count };
	if (delegation_decide(parents, count, &req, &view, &outlive, reason, sizeof(reason))) {
		r->verdict = ACTGATE_VERDICT_DENY;
		/* The reason as the rule, cut to fit (the record's own is as long as it was). */
		snprintf(r->rule, sizeof(r->rule), "%.*s", (int)sizeof(r->rule) - 1, reason);
	} else {
		r->verdict = ACTGATE_VERDICT_ALLOW;
		snprintf(r->rule, sizeof(r->rule), "%s", req.allow_count ? "delegate" : "attenuation");
	}
	err = 0;
out:
	free(parents);
	free(text);
	free(sig);
	return err;
}

enum whatif_outcome whatif_decide(const struct policy_set *set, const struct journal_record *rec,
				  struct eval_result *r, char *why, size_t why_size)
{
	struct workload_label labels[MAX_LABELS];
	struct workload_identity ids[MAX_LINKS + 1];
	const char *above[MAX_LINKS];
	struct eval_action a = { .action = rec->action };
	char *label_buf = NULL, *chain_buf = NULL;
	enum whatif_outcome o = WHATIF_SKIPPED;
	int err, n = 0;

	switch (rec->reason) {
	case ACTGATE_REASON_ORPHAN:
	case ACTGATE_REASON_NO_POLICY:
	case ACTGATE_REASON_SELF_PROTECTION:
	case ACTGATE_REASON_DISCONNECTED: /* no path to decide by */
	/* The workload's lot, decided before its policy is read: no policy lifts it. */
	case ACTGATE_REASON_REVOKED:
	case ACTGATE_REASON_EXPIRED:
	case ACTGATE_REASON_PARENT_ENDED:
		snprintf(why, why_size, "decided outside the policy (reason %u)", rec->reason);
		return WHATIF_SKIPPED;
	}
	if (rec->action == ACTGATE_ACTION_RESOLVE) {
		/* The name asked for: target_name, or the target when the record has no name. */
		a.name = rec->target_name && *rec->target_name ? rec->target_name : rec->target;
		if (!a.name || !*a.name) {
			snprintf(why, why_size, "no name recorded for a lookup");
			return WHATIF_SKIPPED;
		}
	} else if (rec->action == ACTGATE_ACTION_CONNECT) {
		if (!strncmp(rec->target, "raw:", 4)) {
			a.socket = ACTGATE_SOCKET_RAW;
		} else if (!strncmp(rec->target, "packet:", 7)) {
			a.socket = ACTGATE_SOCKET_PACKET;
		} else if (!strncmp(rec->target, "unix:", 5)) {
			a.unix_socket = true;
			a.path = rec->target + 5;
		} else if (parse_connect(rec->target, &a, why, why_size)) {
			return WHATIF_SKIPPED;
		} else if (rec->target_name && *rec->target_name) {
			/* Made for a name (reason learned): its rules decide beside the addresses'. */
			a.name = rec->target_name;
		}
	} else if (rec->action == ACTGATE_ACTION_EXEC || rec->action == ACTGATE_ACTION_OPEN) {
		if (rec->target[0] != '/') {
			snprintf(why, why_size, "no path recorded: %s", rec->target);
			return WHATIF_SKIPPED;
		}
		a.path = rec->target;
		/* A link or rename asked for these accesses of the file: decided as they are. */
		a.access = rec->access & ACTGATE_ACCESS_ALL;
		/*
		 * Whether the file was written is known only when that decided
		 * (reason written); otherwise it is taken as not written.
		 */
		a.written = rec->reason == ACTGATE_REASON_WRITTEN;
	} else if (rec->action != ACTGATE_ACTION_DELEGATE) {
		snprintf(why, why_size, "not an action policies decide");
		return WHATIF_SKIPPED;
	}
	label_buf = strdup(rec->labels ? rec->labels : "");
	chain_buf = strdup(rec->chain ? rec->chain : "");
	if (!label_buf || !chain_buf) {
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	/*
	 * A sub-workload is held to the policies of every workload above it
	 * too (attenuation, docs/delegation.md): its chain names them.
	 */
	if (chain_buf[0]) {
		n = chain_above(chain_buf, rec->workload_id, above, MAX_LINKS);
		if (n < 0) {
			snprintf(why, why_size, "the chain does not name workload %s#%llu",
				 rec->workload, (unsigned long long)rec->workload_id);
			goto out;
		}
	}
	for (int k = 0; k < n; k++)
		ids[k] = (struct workload_identity){ .name = above[k] };
	ids[n] = (struct workload_identity){ .name = rec->workload, .labels = labels };
	ids[n].label_count = split_labels(label_buf, labels, MAX_LABELS);
	/* A refusal for another cause (revoked, malformed, not run) is not delegate:'s to undo. */
	if (rec->action == ACTGATE_ACTION_DELEGATE && rec->verdict == ACTGATE_VERDICT_DENY &&
	    !strstr(rec->rule ? rec->rule : "", "delegate:")) {
		snprintf(why, why_size, "refused for a cause other than delegate: (%s)",
			 rec->rule ? rec->rule : "");
		goto out;
	}
	if (rec->action == ACTGATE_ACTION_DELEGATE)
		err = decide_delegate(set, rec, ids, (size_t)n + 1, r, why, why_size);
	else
		err = policy_evaluate_lineage(set, ids, (size_t)n + 1, NULL, &a, r, why, why_size);
	if (err)
		goto out;
	/*
	 * A grant (an operator's, or a rule a parent's delegate: gave its
	 * child) lifts a deny of a rule or a default, as in the kernel: the
	 * candidate cannot take it away.
	 */
	if (rec->reason == ACTGATE_REASON_GRANT && r->verdict == ACTGATE_VERDICT_DENY &&
	    (r->reason == ACTGATE_REASON_RULE || r->reason == ACTGATE_REASON_DEFAULT)) {
		r->verdict = ACTGATE_VERDICT_ALLOW;
		r->mode = ACTGATE_MODE_ENFORCE;
		r->reason = ACTGATE_REASON_GRANT;
		snprintf(r->rule, sizeof(r->rule), "%s", rec->rule ? rec->rule : "grant");
	}
	o = r->verdict == rec->verdict ? WHATIF_SAME :
	    r->verdict == ACTGATE_VERDICT_DENY ? WHATIF_NOW_DENIED : WHATIF_NOW_ALLOWED;
out:
	free(label_buf);
	free(chain_buf);
	return o;
}

void whatif_count(struct whatif_totals *t, enum whatif_outcome o)
{
	t->records++;
	switch (o) {
	case WHATIF_SAME:
		t->same++;
		break;
	case WHATIF_NOW_DENIED:
		t->now_denied++;
		break;
	case WHATIF_NOW_ALLOWED:
		t->now_allowed++;
		break;
	case WHATIF_SKIPPED:
		t->skipped++;
		break;
	}
}
