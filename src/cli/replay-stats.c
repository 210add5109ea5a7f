/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay --stats: the matching decisions counted by workload,
 * action and verdict (an audit-mode verdict apart). Memory grows with the
 * number of distinct rows, not with the journal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay-internal.h"
#include "cli/replay.h"
#include "journal/source.h"
#include "util/json.h"

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

		if (replay_display_escape(&s, t->rows[i].workload[0] ? t->rows[i].workload : "-",
					  &chars))
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
		ret = replay_put_cell(out, &s, r->workload, width, false, false);
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

int replay_stats(const struct replay_options *o, struct jsource *src, FILE *out, FILE *err)
{
	struct stat_table t = { 0 };
	struct journal_record rec;
	int ret;

	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(o->filter, &rec))
			continue;
		ret = stat_add(&t, &rec);
		if (ret) {
			replay_report_output_error(err, ret);
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	ret = print_stats(&t, o->output == REPLAY_STATS_JSON, out);
	if (ret)
		replay_report_output_error(err, ret);
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.rows[i].workload);
	free(t.rows);
	free(t.heads);
	return ret;
}
