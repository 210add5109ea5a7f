/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay --tree WORKLOAD: the exec lineage of a workload, built from
 * the records themselves (a process is a tgid, its parent the process whose
 * tgid is its ppid, if that one acted in the same workload).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay-internal.h"
#include "cli/replay.h"
#include "journal/source.h"

struct tree_act {
	uint64_t time_ns;
	uint8_t action, verdict, mode, access;
	char *target, *rule;
};

struct tree_proc {
	char *workload;
	uint32_t tgid, ppid, uid;
	char comm[ACTGATE_COMM_LEN + 1];
	char *exe;         /* the first exec it was allowed, if recorded */
	struct tree_act *acts;
	size_t n_acts, cap_acts;
	size_t next;       /* hash chain, index + 1 */
	bool printed;
};

struct tree {
	struct tree_proc *procs;
	size_t n, cap;
	size_t heads[4096]; /* by tgid, index + 1 */
};

static struct tree_proc *tree_find(struct tree *t, const char *workload, uint32_t tgid)
{
	for (size_t i = t->heads[tgid % 4096]; i; i = t->procs[i - 1].next)
		if (t->procs[i - 1].tgid == tgid && !strcmp(t->procs[i - 1].workload, workload))
			return &t->procs[i - 1];
	return NULL;
}

static int tree_add(struct tree *t, const struct journal_record *rec)
{
	const char *w = or_empty(rec->workload);
	struct tree_proc *p = tree_find(t, w, rec->tgid);
	struct tree_act *a;

	if (!p) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct tree_proc *procs = realloc(t->procs, cap * sizeof(*procs));

			if (!procs)
				return -ENOMEM;
			t->procs = procs;
			t->cap = cap;
		}
		p = &t->procs[t->n];
		*p = (struct tree_proc){ .workload = strdup(w), .tgid = rec->tgid,
					 .ppid = rec->ppid, .uid = rec->uid };
		if (!p->workload)
			return -ENOMEM;
		snprintf(p->comm, sizeof(p->comm), "%s", rec->comm);
		p->next = t->heads[rec->tgid % 4096];
		t->heads[rec->tgid % 4096] = ++t->n;
	}
	if (rec->action == ACTGATE_ACTION_EXEC && rec->verdict == ACTGATE_VERDICT_ALLOW && !p->exe) {
		p->exe = strdup(or_empty(rec->target));
		if (!p->exe)
			return -ENOMEM;
	}
	if (p->n_acts == p->cap_acts) {
		size_t cap = p->cap_acts ? p->cap_acts * 2 : 8;
		struct tree_act *acts = realloc(p->acts, cap * sizeof(*acts));

		if (!acts)
			return -ENOMEM;
		p->acts = acts;
		p->cap_acts = cap;
	}
	a = &p->acts[p->n_acts];
	*a = (struct tree_act){ .time_ns = rec->time_ns, .action = rec->action,
				.verdict = rec->verdict, .mode = rec->mode, .access = rec->access,
				.target = strdup(or_empty(rec->target)),
				.rule = strdup(or_empty(rec->rule)) };
	if (!a->target || !a->rule) {
		free(a->target);
		free(a->rule);
		return -ENOMEM;
	}
	p->n_acts++;
	return 0;
}

static int tree_print_proc(struct tree *t, size_t i, int depth, FILE *out, struct scratch *s)
{
	struct tree_proc *p = &t->procs[i];
	size_t chars;
	int ret = 0;

	p->printed = true;
	/* The name the process ran as: what it was allowed to exec, else its comm. */
	if (replay_display_escape(s, p->exe ? p->exe : p->comm, &chars))
		return -ENOMEM;
	if (fprintf(out, "%*s%s%u %s (ppid %u, uid %u)\n", 2 * depth, "", depth ? "`- " : "",
		    p->tgid, s->p, p->ppid, p->uid) < 0)
		return -EIO;
	for (size_t k = 0; k < p->n_acts && !ret; k++) {
		const struct tree_act *a = &p->acts[k];
		struct journal_record r = { .time_ns = a->time_ns, .action = a->action,
					    .verdict = a->verdict, .mode = a->mode,
					    .access = a->access };
		char time[JQUERY_TIME_SIZE], action[64], verdict[32];

		jquery_format_time(a->time_ns, time);
		replay_format_action(&r, action, sizeof(action));
		snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(a->verdict),
			 a->mode == ACTGATE_MODE_AUDIT ? "(audit)" : "");
		if (fprintf(out, "%*s%s  %-16s  %-12s  ", 2 * depth + (depth ? 3 : 0) + 4, "", time,
			    action, verdict) < 0)
			return -EIO;
		ret = replay_put_cell(out, s, a->target, W_TARGET, false, false);
		if (!ret)
			ret = replay_put_cell(out, s, a->rule, 0, false, true);
	}
	/* Children: processes of the same workload whose parent is this one, in order seen. */
	for (size_t c = 0; c < t->n && !ret; c++)
		if (!t->procs[c].printed && t->procs[c].ppid == p->tgid &&
		    !strcmp(t->procs[c].workload, p->workload))
			ret = tree_print_proc(t, c, depth + 1, out, s);
	return ret;
}

int replay_tree(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct journal_record rec;
	struct scratch s = { 0 };
	const char *shown = NULL;
	int ret;

	if (!t)
		return -ENOMEM;
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (fnmatch(o->tree_workload, or_empty(rec.workload), 0) ||
		    !jquery_match(o->filter, &rec))
			continue;
		ret = tree_add(t, &rec);
		if (ret) {
			replay_report_output_error(err, ret);
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	if (!t->n) {
		fprintf(err, "actgate: replay: --tree %s: no matching record of such a workload\n",
			o->tree_workload);
		goto out;
	}
	/* Roots: processes whose parent was not seen acting in the same workload. */
	for (size_t i = 0; i < t->n && !ret; i++) {
		const struct tree_proc *p = &t->procs[i];
		const struct tree_proc *parent;

		if (p->printed)
			continue;
		parent = p->ppid != p->tgid ? tree_find(t, p->workload, p->ppid) : NULL;
		if (parent)
			continue;
		if (!shown || strcmp(shown, p->workload)) {
			size_t chars;

			shown = p->workload;
			ret = replay_display_escape(&s, p->workload[0] ? p->workload : "-", &chars);
			if (!ret && fprintf(out, "workload %s\n", s.p) < 0)
				ret = -EIO;
			if (ret)
				break;
		}
		ret = tree_print_proc(t, i, 0, out, &s);
	}
	/* A cycle (a pid reused as its own ancestor) has no root: print what is left. */
	for (size_t i = 0; i < t->n && !ret; i++)
		if (!t->procs[i].printed)
			ret = tree_print_proc(t, i, 0, out, &s);
	if (ret)
		replay_report_output_error(err, ret);
out:
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->procs[i].n_acts; k++) {
			free(t->procs[i].acts[k].target);
			free(t->procs[i].acts[k].rule);
		}
		free(t->procs[i].acts);
		free(t->procs[i].exe);
		free(t->procs[i].workload);
	}
	free(t->procs);
	free(t);
	free(s.p);
	return ret;
}
