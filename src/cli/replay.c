// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * actgate replay: print the decisions of a journal, filtered, as a table or
 * as JSON lines. One record at a time, so a journal of any size replays in
 * constant memory; the table therefore uses fixed column widths, and a longer
 * value shifts the rest of its row rather than being cut (a responder must
 * see the whole path).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/source.h"
#include "util/duration.h"
#include "util/json.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* A growable buffer reused across records, so the table costs no allocation per row. */
struct scratch {
	char *p;
	size_t len;
	size_t cap;
};

static int scratch_reserve(struct scratch *s, size_t n)
{
	size_t cap;
	char *p;

	if (n <= s->cap)
		return 0;
	cap = s->cap ? s->cap : 256;
	while (cap < n)
		cap *= 2;
	p = realloc(s->p, cap);
	if (!p)
		return -ENOMEM;
	s->p = p;
	s->cap = cap;
	return 0;
}

/*
 * Make text safe to show on a terminal: control bytes (C0, DEL, C1 as UTF-8)
 * and bytes that are not UTF-8 become \xHH, '\' becomes "\\", so a hostile
 * path can neither move the cursor nor forge a row. *chars gets the number
 * of characters, for padding.
 */
static int display_escape(struct scratch *s, const char *text, size_t *chars)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, k, len;
	int err;

	/* Each byte becomes at most 4 ("\xHH"). */
	err = scratch_reserve(s, 4 * n + 1);
	if (err)
		return err;
	s->len = 0;
	*chars = 0;
	while (i < n) {
		len = 0;
		if (t[i] >= 0x20 && t[i] < 0x7f && t[i] != '\\')
			len = 1;
		else if (t[i] >= 0xc2 && t[i] <= 0xdf && i + 1 < n && (t[i + 1] & 0xc0) == 0x80 &&
			 !(t[i] == 0xc2 && t[i + 1] < 0xa0))
			len = 2;
		else if (t[i] >= 0xe0 && t[i] <= 0xef && i + 2 < n && (t[i + 1] & 0xc0) == 0x80 &&
			 (t[i + 2] & 0xc0) == 0x80 && !(t[i] == 0xe0 && t[i + 1] < 0xa0) &&
			 !(t[i] == 0xed && t[i + 1] >= 0xa0))
			len = 3;
		else if (t[i] >= 0xf0 && t[i] <= 0xf4 && i + 3 < n && (t[i + 1] & 0xc0) == 0x80 &&
			 (t[i + 2] & 0xc0) == 0x80 && (t[i + 3] & 0xc0) == 0x80 &&
			 !(t[i] == 0xf0 && t[i + 1] < 0x90) && !(t[i] == 0xf4 && t[i + 1] >= 0x90))
			len = 4;
		if (len) {
			for (k = 0; k < len; k++)
				s->p[s->len++] = (char)t[i + k];
			i += len;
			(*chars)++;
		} else if (t[i] == '\\') {
			s->p[s->len++] = '\\';
			s->p[s->len++] = '\\';
			i++;
			*chars += 2;
		} else {
			s->len += (size_t)snprintf(s->p + s->len, 5, "\\x%02x", t[i]);
			i++;
			*chars += 4;
		}
	}
	s->p[s->len] = '\0';
	return 0;
}

enum { W_TIME = 24, W_WORKLOAD = 16, W_PID = 7, W_ACTION = 16, W_VERDICT = 12, W_TARGET = 32 };

/* One cell: the escaped text ("-" when empty), padded to width, two spaces after unless last. */
static int put_cell(FILE *out, struct scratch *s, const char *text, int width, bool right,
		    bool last)
{
	size_t chars;
	int pad, err;

	err = display_escape(s, text && *text ? text : "-", &chars);
	if (err)
		return err;
	pad = chars < (size_t)width ? width - (int)chars : 0;
	if (last && !right)
		pad = 0; /* no trailing blanks */
	if (fprintf(out, "%*s%s%*s%s", right ? pad : 0, "", s->p, right ? 0 : pad, "",
		    last ? "\n" : "  ") < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static int print_header(FILE *out)
{
	if (fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %-*s  %s\n", W_TIME, "TIME", W_WORKLOAD,
		    "WORKLOAD", W_PID, "PID", W_ACTION, "ACTION", W_VERDICT, "VERDICT", W_TARGET,
		    "TARGET", "RULE") < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* The action, and for an open what it asked for: "open(read,write)". */
static void format_action(const struct journal_record *rec, char *buf, size_t size)
{
	char names[ACCESS_NAMES_SIZE];

	if (rec->access && !access_names(rec->access, names, sizeof(names)))
		snprintf(buf, size, "%s(%s)", action_name(rec->action), names);
	else
		snprintf(buf, size, "%s", action_name(rec->action));
}

static int print_row(FILE *out, struct scratch *s, const struct journal_record *rec)
{
	char time[JQUERY_TIME_SIZE], pid[16], verdict[32], action[64];
	int err;

	jquery_format_time(rec->time_ns, time);
	snprintf(pid, sizeof(pid), "%u", rec->pid);
	format_action(rec, action, sizeof(action));
	/* "(audit)": the policy only watched; a "deny" here did not stop anything. */
	snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(rec->verdict),
		 rec->mode == ACTGATE_MODE_AUDIT ? "(audit)" : "");
	err = put_cell(out, s, time, W_TIME, false, false);
	if (!err)
		err = put_cell(out, s, rec->workload, W_WORKLOAD, false, false);
	if (!err)
		err = put_cell(out, s, pid, W_PID, true, false);
	if (!err)
		err = put_cell(out, s, action, W_ACTION, false, false);
	if (!err)
		err = put_cell(out, s, verdict, W_VERDICT, false, false);
	if (!err)
		err = put_cell(out, s, rec->target, W_TARGET, false, false);
	if (!err)
		err = put_cell(out, s, rec->rule, 0, false, true);
	return err;
}

struct label {
	const char *key;
	const char *value;
	size_t index;
};

static int label_cmp(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * "k=v,k=v" as a JSON object, sorted by key. Never fails on odd input (see
 * docs/journal-format.md): empty pairs and empty keys are ignored, a pair
 * without '=' has an empty value, a value keeps any further '=', and a
 * repeated key keeps its first value.
 */
static int add_labels(struct json_out *j, const char *labels, struct scratch *s)
{
	struct label *v = NULL;
	size_t count = 0, n = strlen(labels), i;
	char *p, *pair, *eq;
	int err;

	err = scratch_reserve(s, n + 1);
	if (err)
		return err;
	memcpy(s->p, labels, n + 1);
	/* At most one pair per ',' plus one. */
	for (i = 0, count = 1; i < n; i++)
		count += labels[i] == ',';
	v = calloc(count, sizeof(*v));
	if (!v)
		return -ENOMEM;
	count = 0;
	for (p = s->p; p; ) {
		pair = strsep(&p, ",");
		eq = strchr(pair, '=');
		if (eq)
			*eq++ = '\0';
		if (!*pair)
			continue;
		v[count] = (struct label){ .key = pair, .value = eq ? eq : "", .index = count };
		count++;
	}
	qsort(v, count, sizeof(*v), label_cmp);
	json_key_object_begin(j, "labels");
	for (i = 0; i < count; i++)
		if (i == 0 || strcmp(v[i].key, v[i - 1].key))
			json_add_string(j, v[i].key, v[i].value);
	json_object_end(j);
	free(v);
	return 0;
}

/* The record's members, in the documented order (docs/journal-format.md). */
static int add_record(struct json_out *j, struct scratch *s, const struct journal_record *rec)
{
	char time[JQUERY_TIME_SIZE], comm[ACTGATE_COMM_LEN + 1], access[ACCESS_NAMES_SIZE];
	int err;

	jquery_format_time(rec->time_ns, time);
	snprintf(comm, sizeof(comm), "%s", rec->comm);
	json_add_string(j, "time", time);
	json_add_u64(j, "time_ns", rec->time_ns);
	json_add_string(j, "action", action_name(rec->action));
	json_add_string(j, "verdict", verdict_name(rec->verdict));
	json_add_bool(j, "enforced", rec->mode == ACTGATE_MODE_ENFORCE);
	json_add_string(j, "mode", mode_name(rec->mode));
	json_add_string(j, "reason", reason_name(rec->reason));
	json_add_string(j, "workload", or_empty(rec->workload));
	json_add_u64(j, "workload_id", rec->workload_id);
	json_add_u64(j, "cgroup", rec->cgroup_id);
	json_add_u64(j, "pid", rec->pid);
	json_add_u64(j, "tgid", rec->tgid);
	json_add_u64(j, "ppid", rec->ppid);
	json_add_u64(j, "uid", rec->uid);
	json_add_string(j, "comm", comm);
	json_add_string(j, "target", or_empty(rec->target));
	if (access_names(rec->access, access, sizeof(access)))
		access[0] = '\0';
	json_add_string(j, "access", access);
	json_add_string(j, "rule", or_empty(rec->rule));
	json_add_string(j, "policy", or_empty(rec->policy));
	json_add_string(j, "principal", or_empty(rec->principal));
	err = add_labels(j, or_empty(rec->labels), s);
	if (err)
		return err;
	json_add_u64(j, "generation", rec->generation);
	/* Only where recorded: a daemon without signals recorded none. */
	if (rec->signals) {
		json_add_u64(j, "signal_generation", rec->signal_generation);
		json_add_string(j, "signals", rec->signals);
	}
	return 0;
}

static int print_json(struct json_out *j, FILE *out, struct scratch *s,
		      const struct journal_record *rec)
{
	int err;

	json_out_reset(j);
	json_object_begin(j);
	err = add_record(j, s, rec);
	if (err)
		return err;
	json_object_end(j);
	return json_out_write_line(j, out);
}

static void report_output_error(FILE *err, int ret)
{
	fprintf(err, "actgate: replay: %s%s\n", ret == -ENOMEM ? "" : "writing the output: ",
		strerror(-ret));
}


/* ---- table and JSON lines ---- */

static int open_source(const struct replay_options *o, FILE *err, struct jsource **src)
{
	struct jsource_options so = {
		.err = err, .prefix = "actgate: replay", .follow = o->follow, .stop = o->stop,
		.prefilter = o->filter,
	};

	return jsource_open(src, o->paths, o->n_paths, &so);
}

static int print_records(const struct replay_options *o, struct jsource *src, FILE *out,
			 FILE *err)
{
	struct journal_record rec;
	struct scratch s = { 0 };
	struct json_out j;
	bool json = o->output == REPLAY_JSON;
	int ret = 0;

	json_out_init(&j);
	if (!json) {
		ret = print_header(out);
		if (ret) {
			report_output_error(err, ret);
			goto out;
		}
	}
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(o->filter, &rec))
			continue;
		ret = json ? print_json(&j, out, &s, &rec) : print_row(out, &s, &rec);
		/* A live tail is read by someone waiting: no stdio buffering there. */
		if (!ret && o->follow && fflush(out) == EOF)
			ret = errno ? -errno : -EIO;
		if (ret) {
			report_output_error(err, ret);
			goto out;
		}
	}
out:
	json_out_free(&j);
	free(s.p);
	return ret;
}

/* ---- --stats ---- */

struct stat_row {
	char *workload;
	uint8_t action, verdict, mode;
	uint64_t count;
	size_t next; /* hash chain, index + 1 */
};

struct stat_table {
	struct stat_row *rows;
	size_t n, cap;
	size_t *heads; /* index + 1 */
	size_t n_heads;
};

static size_t stat_hash(const char *w, uint8_t a, uint8_t v, uint8_t m)
{
	uint64_t h = 1469598103934665603ull;

	for (; *w; w++)
		h = (h ^ (uint8_t)*w) * 1099511628211ull;
	h = (h ^ a) * 1099511628211ull;
	h = (h ^ v) * 1099511628211ull;
	h = (h ^ m) * 1099511628211ull;
	return (size_t)h;
}

static int stat_grow(struct stat_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct stat_row *rows = realloc(t->rows, cap * sizeof(*rows));
	size_t *heads;

	if (!rows)
		return -ENOMEM;
	t->rows = rows;
	t->cap = cap;
	heads = calloc(cap, sizeof(*heads));
	if (!heads)
		return -ENOMEM;
	free(t->heads);
	t->heads = heads;
	t->n_heads = cap;
	for (size_t i = 0; i < t->n; i++) {
		struct stat_row *r = &t->rows[i];
		size_t h = stat_hash(r->workload, r->action, r->verdict, r->mode) % cap;

		r->next = heads[h];
		heads[h] = i + 1;
	}
	return 0;
}

static int stat_add(struct stat_table *t, const struct journal_record *rec)
{
	const char *w = or_empty(rec->workload);
	size_t h;
	int err;

	if (t->n_heads) {
		h = stat_hash(w, rec->action, rec->verdict, rec->mode) % t->n_heads;
		for (size_t i = t->heads[h]; i; i = t->rows[i - 1].next) {
			struct stat_row *r = &t->rows[i - 1];

			if (r->action == rec->action && r->verdict == rec->verdict &&
			    r->mode == rec->mode && !strcmp(r->workload, w)) {
				r->count++;
				return 0;
			}
		}
	}
	if (t->n == t->cap) {
		err = stat_grow(t);
		if (err)
			return err;
	}
	t->rows[t->n] = (struct stat_row){ .workload = strdup(w), .action = rec->action,
					   .verdict = rec->verdict, .mode = rec->mode, .count = 1 };
	if (!t->rows[t->n].workload)
		return -ENOMEM;
	h = stat_hash(w, rec->action, rec->verdict, rec->mode) % t->n_heads;
	t->rows[t->n].next = t->heads[h];
	t->heads[h] = ++t->n;
	return 0;
}

static int stat_cmp(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;
	int c = strcmp(x->workload, y->workload);

	if (c)
		return c;
	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1;
	return (x->mode > y->mode) - (x->mode < y->mode);
}

static int print_stats(struct stat_table *t, bool json, FILE *out)
{
	struct scratch s = { 0 };
	struct json_out j;
	uint64_t total = 0;
	int width = 8, ret = 0;

	qsort(t->rows, t->n, sizeof(*t->rows), stat_cmp);
	json_out_init(&j);
	for (size_t i = 0; i < t->n; i++) {
		size_t chars;

		if (display_escape(&s, t->rows[i].workload[0] ? t->rows[i].workload : "-", &chars))
			break;
		if ((int)chars > width)
			width = (int)chars;
	}
	if (!json && fprintf(out, "%-*s  %-8s  %-12s  %12s\n", width, "WORKLOAD", "ACTION", "VERDICT",
			     "COUNT") < 0)
		ret = -EIO;
	for (size_t i = 0; i < t->n && !ret; i++) {
		const struct stat_row *r = &t->rows[i];
		char verdict[32];

		total += r->count;
		if (json) {
			json_out_reset(&j);
			json_object_begin(&j);
			json_add_string(&j, "workload", r->workload);
			json_add_string(&j, "action", action_name(r->action));
			json_add_string(&j, "verdict", verdict_name(r->verdict));
			json_add_bool(&j, "enforced", r->mode == ACTGATE_MODE_ENFORCE);
			json_add_u64(&j, "count", r->count);
			json_object_end(&j);
			ret = json_out_write_line(&j, out);
			continue;
		}
		snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(r->verdict),
			 r->mode == ACTGATE_MODE_AUDIT ? "(audit)" : "");
		ret = put_cell(out, &s, r->workload, width, false, false);
		if (!ret && fprintf(out, "%-8s  %-12s  %12llu\n", action_name(r->action), verdict,
				    (unsigned long long)r->count) < 0)
			ret = -EIO;
	}
	if (!ret && !json &&
	    fprintf(out, "%-*s  %-8s  %-12s  %12llu\n", width, "total", "", "",
		    (unsigned long long)total) < 0)
		ret = -EIO;
	json_out_free(&j);
	free(s.p);
	return ret;
}

static int run_stats(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err)
{
	struct stat_table t = { 0 };
	struct journal_record rec;
	int ret;

	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(o->filter, &rec))
			continue;
		ret = stat_add(&t, &rec);
		if (ret) {
			report_output_error(err, ret);
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	ret = print_stats(&t, o->output == REPLAY_STATS_JSON, out);
	if (ret)
		report_output_error(err, ret);
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.rows[i].workload);
	free(t.rows);
	free(t.heads);
	return ret;
}

/* ---- --tree ---- */

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
	if (display_escape(s, p->exe ? p->exe : p->comm, &chars))
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
		format_action(&r, action, sizeof(action));
		snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(a->verdict),
			 a->mode == ACTGATE_MODE_AUDIT ? "(audit)" : "");
		if (fprintf(out, "%*s%s  %-16s  %-12s  ", 2 * depth + (depth ? 3 : 0) + 4, "", time,
			    action, verdict) < 0)
			return -EIO;
		ret = put_cell(out, s, a->target, W_TARGET, false, false);
		if (!ret)
			ret = put_cell(out, s, a->rule, 0, false, true);
	}
	/* Children: processes of the same workload whose parent is this one, in order seen. */
	for (size_t c = 0; c < t->n && !ret; c++)
		if (!t->procs[c].printed && t->procs[c].ppid == p->tgid &&
		    !strcmp(t->procs[c].workload, p->workload))
			ret = tree_print_proc(t, c, depth + 1, out, s);
	return ret;
}

static int run_tree(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err)
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
			report_output_error(err, ret);
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
			ret = display_escape(&s, p->workload[0] ? p->workload : "-", &chars);
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
		report_output_error(err, ret);
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

int replay_execute(const struct replay_options *o, FILE *out, FILE *err)
{
	struct jsource *src = NULL;
	int ret;

	ret = open_source(o, err, &src);
	if (ret)
		return ret;
	switch (o->output) {
	case REPLAY_STATS:
	case REPLAY_STATS_JSON:
		ret = run_stats(o, src, out, err);
		break;
	case REPLAY_TREE:
		ret = run_tree(o, src, out, err);
		break;
	default:
		ret = print_records(o, src, out, err);
		break;
	}
	if (!ret && fflush(out) == EOF) {
		ret = errno ? -errno : -EIO;
		report_output_error(err, ret);
	}
	jsource_close(src);
	return ret;
}

/* ---- --what-if ---- */

static const char *outcome_name(enum whatif_outcome w)
{
	return w == WHATIF_NOW_DENIED ? "now-denied" : w == WHATIF_NOW_ALLOWED ? "now-allowed" : "same";
}

static int print_change(bool json, struct json_out *j, struct scratch *s, FILE *out,
			const struct journal_record *rec, enum whatif_outcome w,
			const struct eval_result *r)
{
	char time[JQUERY_TIME_SIZE], pid[16], action[64], change[64];
	int ret;

	if (json) {
		json_out_reset(j);
		json_object_begin(j);
		ret = add_record(j, s, rec);
		if (ret)
			return ret;
		json_add_string(j, "what_if", outcome_name(w));
		json_add_string(j, "what_if_verdict", verdict_name(r->verdict));
		json_add_string(j, "what_if_mode", mode_name(r->mode));
		json_add_string(j, "what_if_rule", r->rule);
		json_add_string(j, "what_if_policy", or_empty(r->policy));
		json_object_end(j);
		return json_out_write_line(j, out);
	}
	jquery_format_time(rec->time_ns, time);
	snprintf(pid, sizeof(pid), "%u", rec->pid);
	format_action(rec, action, sizeof(action));
	snprintf(change, sizeof(change), "%s->%s", verdict_name(rec->verdict),
		 verdict_name(r->verdict));
	ret = put_cell(out, s, time, W_TIME, false, false);
	if (!ret)
		ret = put_cell(out, s, rec->workload, W_WORKLOAD, false, false);
	if (!ret)
		ret = put_cell(out, s, pid, W_PID, true, false);
	if (!ret)
		ret = put_cell(out, s, action, W_ACTION, false, false);
	if (!ret)
		ret = put_cell(out, s, change, W_VERDICT, false, false);
	if (!ret)
		ret = put_cell(out, s, rec->target, W_TARGET, false, false);
	if (!ret)
		ret = put_cell(out, s, r->rule[0] ? r->rule : "(too deep)", 0, false, true);
	return ret;
}

int replay_what_if(const struct replay_options *o, const struct policy_set *set, bool json,
		   struct whatif_totals *t, FILE *out, FILE *err)
{
	struct jsource *src = NULL;
	struct journal_record rec;
	struct scratch s = { 0 };
	struct json_out j;
	int ret;

	memset(t, 0, sizeof(*t));
	json_out_init(&j);
	ret = open_source(o, err, &src);
	if (ret)
		goto out;
	if (!json && fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %-*s  %s\n", W_TIME, "TIME",
			     W_WORKLOAD, "WORKLOAD", W_PID, "PID", W_ACTION, "ACTION", W_VERDICT,
			     "CHANGE", W_TARGET, "TARGET", "WOULD-DECIDE") < 0) {
		ret = -EIO;
		report_output_error(err, ret);
		goto out;
	}
	while ((ret = jsource_next(src, &rec)) > 0) {
		struct eval_result r;
		enum whatif_outcome w;
		char why[256];

		if (!jquery_match(o->filter, &rec))
			continue;
		w = whatif_decide(set, &rec, &r, why, sizeof(why));
		whatif_count(t, w);
		if (w != WHATIF_NOW_DENIED && w != WHATIF_NOW_ALLOWED)
			continue;
		ret = print_change(json, &j, &s, out, &rec, w, &r);
		if (ret) {
			report_output_error(err, ret);
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	if (json) {
		json_out_reset(&j);
		json_object_begin(&j);
		json_add_bool(&j, "summary", true);
		json_add_u64(&j, "records", t->records);
		json_add_u64(&j, "same", t->same);
		json_add_u64(&j, "now_denied", t->now_denied);
		json_add_u64(&j, "now_allowed", t->now_allowed);
		json_add_u64(&j, "skipped", t->skipped);
		json_object_end(&j);
		ret = json_out_write_line(&j, out);
	} else if (fprintf(out,
			   "what-if: %zu decisions: %zu would change (%zu allow->deny, %zu "
			   "deny->allow), %zu the same, %zu not decided again (outside the policy "
			   "language, or no candidate policy selects the workload)\n",
			   t->records, t->now_denied + t->now_allowed, t->now_denied,
			   t->now_allowed, t->same, t->skipped) < 0) {
		ret = -EIO;
	}
	if (!ret && fflush(out) == EOF)
		ret = errno ? -errno : -EIO;
	if (ret)
		report_output_error(err, ret);
out:
	jsource_close(src);
	json_out_free(&j);
	free(s.p);
	return ret;
}
