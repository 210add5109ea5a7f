/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay --tree WORKLOAD: the exec lineage of a workload, built from
 * the records themselves (a process is a tgid, its parent the process whose
 * tgid is its ppid, if that one acted in the same workload), and below it
 * the sub-workloads it commissioned (docs/delegation.md), each with its own
 * lineage: a record's chain names the workloads above its own.
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

/* A workload seen, and the one that commissioned it (from its records' chain). */
struct tree_wl {
	char *name;
	char *parent; /* NULL: commissioned by none seen */
	bool printed;
};

struct tree {
	struct tree_proc *procs;
	size_t n, cap;
	size_t heads[4096]; /* by tgid, index + 1 */
	struct tree_wl *wls;
	size_t n_wls, cap_wls;
};

/*
 * The name of link k of a chain "PRINCIPAL > NAME#ID[...] > ..." (k = 1 is
 * the first workload) into out; false when the chain has no such link.
 */
static bool chain_link_name(const char *chain, size_t k, char *out, size_t size)
{
	const char *p = chain;

	for (size_t i = 0; i < k; i++) {
		p = strstr(p, " > ");
		if (!p)
			return false;
		p += 3;
	}
	snprintf(out, size, "%.*s", (int)strcspn(p, "#"), p);
	return true;
}

/* Does the record's workload, or one that commissioned it, match pattern? */
static bool tree_matches(const char *pattern, const struct journal_record *rec)
{
	char name[256];

	if (!fnmatch(pattern, or_empty(rec->workload), 0))
		return true;
	for (size_t k = 1; chain_link_name(or_empty(rec->chain), k, name, sizeof(name)); k++)
		if (!fnmatch(pattern, name, 0))
			return true;
	return false;
}

/* Remember the record's workload and, from its chain, the workload above it. */
static int tree_add_workload(struct tree *t, const struct journal_record *rec)
{
	const char *w = or_empty(rec->workload);
	char name[256], above[256] = "";
	size_t k = 1;

	for (size_t i = 0; i < t->n_wls; i++)
		if (!strcmp(t->wls[i].name, w))
			return 0;
	/* The link before the record's own is its parent. */
	while (chain_link_name(or_empty(rec->chain), k, name, sizeof(name)) && strcmp(name, w)) {
		snprintf(above, sizeof(above), "%s", name);
		k++;
	}
	if (t->n_wls == t->cap_wls) {
		size_t cap = t->cap_wls ? t->cap_wls * 2 : 16;
		struct tree_wl *wls = realloc(t->wls, cap * sizeof(*wls));

		if (!wls)
			return -ENOMEM;
		t->wls = wls;
		t->cap_wls = cap;
	}
	t->wls[t->n_wls] = (struct tree_wl){ .name = strdup(w),
					     .parent = above[0] ? strdup(above) : NULL };
	if (!t->wls[t->n_wls].name || (above[0] && !t->wls[t->n_wls].parent)) {
		free(t->wls[t->n_wls].name);
		free(t->wls[t->n_wls].parent);
		return -ENOMEM;
	}
	t->n_wls++;
	return 0;
}

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
	int err = tree_add_workload(t, rec);

	if (err)
		return err;
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

static int tree_print_proc(struct tree *t, size_t i, int depth, int indent, FILE *out,
			   struct scratch *s)
{
	struct tree_proc *p = &t->procs[i];
	size_t chars;
	int ret = 0;

	p->printed = true;
	/* The name the process ran as: what it was allowed to exec, else its comm. */
	if (replay_display_escape(s, p->exe ? p->exe : p->comm, &chars))
		return -ENOMEM;
	if (fprintf(out, "%*s%s%u %s (ppid %u, uid %u)\n", 2 * depth + indent, "", depth ? "`- " : "",
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
		if (fprintf(out, "%*s%s  %-16s  %-12s  ", 2 * depth + (depth ? 3 : 0) + 4 + indent, "",
			    time,
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
			ret = tree_print_proc(t, c, depth + 1, indent, out, s);
	return ret;
}

/* Workload w's processes from their roots, then the sub-workloads it commissioned. */
static int tree_print_workload(struct tree *t, size_t w, int level, FILE *out, struct scratch *s)
{
	struct tree_wl *wl = &t->wls[w];
	size_t chars;
	int ret;

	wl->printed = true;
	ret = replay_display_escape(s, wl->name[0] ? wl->name : "-", &chars);
	if (ret)
		return ret;
	if (level == 0 ? fprintf(out, "workload %s\n", s->p) < 0
		       : fprintf(out, "%*s`- sub-workload %s\n", 4 * level - 3, "", s->p) < 0)
		return -EIO;
	/* Roots: processes whose parent was not seen acting in the same workload. */
	for (size_t i = 0; i < t->n && !ret; i++) {
		const struct tree_proc *p = &t->procs[i];

		if (p->printed || strcmp(p->workload, wl->name) ||
		    (p->ppid != p->tgid && tree_find(t, p->workload, p->ppid)))
			continue;
		ret = tree_print_proc(t, i, 0, 4 * level, out, s);
	}
	for (size_t c = 0; c < t->n_wls && !ret; c++)
		if (!t->wls[c].printed && t->wls[c].parent && !strcmp(t->wls[c].parent, wl->name))
			ret = tree_print_workload(t, c, level + 1, out, s);
	return ret;
}

int replay_tree(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct journal_record rec;
	struct scratch s = { 0 };
	int ret;

	if (!t)
		return -ENOMEM;
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!tree_matches(o->tree_workload, &rec) || !jquery_match(o->filter, &rec))
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
	/* Roots: workloads whose commissioner is not among those seen. */
	for (size_t w = 0; w < t->n_wls && !ret; w++) {
		bool above = false;

		for (size_t k = 0; t->wls[w].parent && k < t->n_wls && !above; k++)
			above = !strcmp(t->wls[k].name, t->wls[w].parent);
		if (!above && !t->wls[w].printed)
			ret = tree_print_workload(t, w, 0, out, &s);
	}
	for (size_t w = 0; w < t->n_wls && !ret; w++)
		if (!t->wls[w].printed)
			ret = tree_print_workload(t, w, 0, out, &s);
	/* A cycle (a pid reused as its own ancestor) has no root: print what is left. */
	for (size_t i = 0; i < t->n && !ret; i++)
		if (!t->procs[i].printed)
			ret = tree_print_proc(t, i, 0, 0, out, &s);
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
	for (size_t i = 0; i < t->n_wls; i++) {
		free(t->wls[i].name);
		free(t->wls[i].parent);
	}
	free(t->wls);
	free(t->procs);
	free(t);
	free(s.p);
	return ret;
}
