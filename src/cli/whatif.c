/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "cli/whatif.h"

#define MAX_LABELS 64

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

enum whatif_outcome whatif_decide(const struct policy_set *set, const struct journal_record *rec,
				  struct eval_result *r, char *why, size_t why_size)
{
	struct workload_label labels[MAX_LABELS];
	struct workload_identity id = { .name = rec->workload, .labels = labels };
	struct eval_action a = { .action = rec->action };
	char *label_buf = NULL;
	enum whatif_outcome o = WHATIF_SKIPPED;
	int err;

	switch (rec->reason) {
	case ACTGATE_REASON_ORPHAN:
	case ACTGATE_REASON_NO_POLICY:
	case ACTGATE_REASON_SELF_PROTECTION:
	case ACTGATE_REASON_DISCONNECTED: /* no path to decide by */
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
	} else {
		snprintf(why, why_size, "not an action policies decide");
		return WHATIF_SKIPPED;
	}
	label_buf = strdup(rec->labels ? rec->labels : "");
	if (!label_buf) {
		snprintf(why, why_size, "out of memory");
		return WHATIF_SKIPPED;
	}
	id.label_count = split_labels(label_buf, labels, MAX_LABELS);
	err = policy_evaluate(set, &id, NULL, &a, r, why, why_size);
	if (!err)
		o = r->verdict == rec->verdict ? WHATIF_SAME :
		    r->verdict == ACTGATE_VERDICT_DENY ? WHATIF_NOW_DENIED : WHATIF_NOW_ALLOWED;
	free(label_buf);
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
