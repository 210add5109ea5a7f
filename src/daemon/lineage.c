/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/lineage.h"
#include "policy/delegate.h"
#include "util/log.h"

#define LINEAGE_MAX_POLICIES 16

/* ---- a sub-workload's key ---- */

int lineage_selection(struct daemon *d, struct generation *g, const struct workload *w,
			 const struct signal_view *signals, struct policy_selection **sel,
			 size_t *count)
{
	struct workload_identity id = workload_identity_of(w);
	struct policy_selection *own = NULL, *up = NULL;
	struct signal_view parent_signals = { 0 };
	const struct workload *parent;
	size_t own_n = 0, up_n = 0;
	char why[256];
	int err;

	err = policy_selection_of(&g->set, &id, signals, &own, &own_n);
	if (!w->parent_id && !w->delegated_policies)
		return (*sel = own, *count = own_n, err);
	if (err && err != -ENOENT)
		return err;
	parent = w->parent_id ? workload_table_find_id(&d->workloads, w->parent_id) : NULL;
	if (!parent && w->parent_id) {
		/* Never by construction: a parent's cgroup holds its children's. */
		err = -ESRCH;
		goto out;
	}
	/* The parent's policies as its own signals make them: what the parent may do. */
	err = parent ? signalctl_view(&d->signalctl, parent, &parent_signals) : 0;
	if (!err && parent)
		err = lineage_selection(d, g, parent, &parent_signals, &up, &up_n);
	if (!err)
		err = delegation_merge(&g->set, up, up_n, own, own_n, w->delegated_policies,
				       signals, sel, count, why, sizeof(why));
	if (err == -ESRCH)
		log_error("lineage", "workload %s (id %llu): %s", w->name,
			  (unsigned long long)w->id, why);
out:
	free((void *)parent_signals.values);
	free(own);
	free(up);
	return err;
}

int lineage_policy_names(const struct json_msg *msg, char **joined, char *why,
			    size_t why_size)
{
	const struct json_member *m = json_msg_get(msg, "policies");
	char buf[2048] = "";
	size_t len = 0;

	*joined = NULL;
	if (!m || m->type == JSON_MSG_NULL)
		return 0;
	if (m->type != JSON_MSG_OBJECT || m->member_count > LINEAGE_MAX_POLICIES) {
		snprintf(why, why_size, "\"policies\" must be an object of at most %d strings",
			 LINEAGE_MAX_POLICIES);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->member_count; i++) {
		const struct json_member *v = &m->members[i];

		/* Policy names never hold ',' (metadata.name), so the joined list splits back. */
		if (v->type != JSON_MSG_STRING || !v->value[0] || strchr(v->value, ',') ||
		    len + strlen(v->value) + 2 > sizeof(buf)) {
			snprintf(why, why_size, "\"policies\": each must be a policy name");
			return -EINVAL;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "", v->value);
	}
	if (len && !(*joined = strdup(buf)))
		return -ENOMEM;
	return 0;
}

