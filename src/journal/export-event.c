/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Export events: a decision or a gap as one JSON object. The JSONL form is
 * the object of `actgate replay --json` (docs/journal-format.md), the
 * writer of which lives here so that replay, export and the daemon's own
 * export print one thing, plus "host" and "seq" (the store's record number:
 * with the host, an id a receiver can deduplicate by).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/export.h"
#include "journal/query.h"
#include "journal/store.h"

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
static int add_labels(struct json_out *j, const char *labels)
{
	struct label *v = NULL;
	size_t count = 1, n = strlen(labels), i;
	char *copy = strdup(labels), *p, *pair, *eq;

	if (!copy)
		return -ENOMEM;
	/* At most one pair per ',' plus one. */
	for (i = 0; i < n; i++)
		count += labels[i] == ',';
	v = calloc(count, sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	count = 0;
	for (p = copy; p; ) {
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
	free(copy);
	return 0;
}

/* The record's members, in the documented order (docs/journal-format.md). */
int jexport_add_record(struct json_out *j, const struct journal_record *rec)
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
	err = add_labels(j, or_empty(rec->labels));
	if (err)
		return err;
	json_add_u64(j, "generation", rec->generation);
	/* Only where recorded: a daemon without signals recorded none. */
	if (rec->signals) {
		json_add_u64(j, "signal_generation", rec->signal_generation);
		json_add_string(j, "signals", rec->signals);
	}
	/* Fields 24 to 29: only the records that carry them (docs/journal-format.md). */
	static const struct {
		const char *key;
		size_t offset;
	} optional[] = {
		{ "target_name", offsetof(struct journal_record, target_name) },
		{ "chain", offsetof(struct journal_record, chain) },
		{ "event_id", offsetof(struct journal_record, event_id) },
		{ "issuer", offsetof(struct journal_record, issuer) },
		{ "event_type", offsetof(struct journal_record, event_type) },
		{ "subject", offsetof(struct journal_record, subject) },
	};
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		const char *text = *(char *const *)((const char *)rec + optional[i].offset);

		if (text && *text)
			json_add_string(j, optional[i].key, text);
	}
	return 0;
}

/* The text is the event's own: taken from j, which is left empty for the next one. */
static int take_text(struct json_out *j, struct jexport_event *ev)
{
	if (j->error)
		return j->error;
	ev->text = j->buf;
	ev->len = j->len;
	j->buf = NULL;
	j->len = j->cap = 0;
	return 0;
}

int jexport_event_decision(const struct journal_record *rec, enum jexport_format format,
			   const struct jocsf_host *host, uint64_t seq, struct jexport_event *ev)
{
	struct json_out j;
	int err = 0;

	memset(ev, 0, sizeof(*ev));
	json_out_init(&j);
	if (format == JEXPORT_OCSF) {
		err = jocsf_event(rec, host, &j);
	} else {
		json_object_begin(&j);
		err = jexport_add_record(&j, rec);
		json_add_string(&j, "host", host->hostname);
		json_add_u64(&j, "seq", seq);
		json_object_end(&j);
	}
	if (!err)
		err = take_text(&j, ev);
	json_out_free(&j);
	ev->seq = seq;
	ev->time_ns = rec->time_ns;
	ev->denied = rec->verdict == ACTGATE_VERDICT_DENY;
	return err;
}

int jexport_event_gap(enum jexport_format format, const struct jocsf_host *host, uint64_t seq,
		      uint64_t time_ns, const struct jstore_gap *gap, uint64_t first,
		      uint64_t last, const char *reason, struct jexport_event *ev)
{
	char time[JQUERY_TIME_SIZE];
	struct json_out j;
	int err;

	memset(ev, 0, sizeof(*ev));
	json_out_init(&j);
	if (format == JEXPORT_OCSF && gap) {
		err = jocsf_gap_event(gap, host, &j);
	} else if (format == JEXPORT_OCSF) {
		json_object_begin(&j);
		err = jocsf_write_missing(time_ns, first, last, reason, host, &j);
		json_object_end(&j);
	} else {
		jquery_format_time(time_ns, time);
		json_object_begin(&j);
		json_add_string(&j, "time", time);
		json_add_u64(&j, "time_ns", time_ns);
		json_add_string(&j, "action", "gap");
		json_add_string(&j, "reason", reason);
		if (gap) {
			json_add_u64(&j, "lost", gap->lost);
			jquery_format_time(gap->first_lost_ns, time);
			json_add_string(&j, "first_lost", time);
			jquery_format_time(gap->last_lost_ns, time);
			json_add_string(&j, "last_lost", time);
			json_add_string(&j, "error", strerror((int)gap->error));
		} else {
			json_add_u64(&j, "first_missing_seq", first);
			json_add_u64(&j, "last_missing_seq", last);
		}
		json_add_string(&j, "host", host->hostname);
		json_add_u64(&j, "seq", seq);
		json_object_end(&j);
		err = j.error;
	}
	if (!err)
		err = take_text(&j, ev);
	json_out_free(&j);
	ev->seq = seq;
	ev->time_ns = time_ns;
	ev->gap = true;
	return err;
}

void jexport_event_free(struct jexport_event *ev)
{
	free(ev->text);
	ev->text = NULL;
}
