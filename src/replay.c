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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "json.h"
#include "replay.h"

bool replay_filter_match(const struct replay_filter *f, const struct journal_record *rec)
{
	if (!f)
		return true;
	if (f->action >= 0 && rec->action != f->action)
		return false;
	if (f->verdict >= 0 && rec->verdict != f->verdict)
		return false;
	if (f->workload_glob &&
	    fnmatch(f->workload_glob, rec->workload ? rec->workload : "", 0) != 0)
		return false;
	return true;
}

void replay_format_time(uint64_t time_ns, char buf[REPLAY_TIME_SIZE])
{
	time_t sec = (time_t)(time_ns / 1000000000ull);
	unsigned ms = (unsigned)(time_ns % 1000000000ull / 1000000ull);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) ||
	    !(n = strftime(buf, REPLAY_TIME_SIZE, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, REPLAY_TIME_SIZE, "?");
		return;
	}
	snprintf(buf + n, REPLAY_TIME_SIZE - n, ".%03uZ", ms);
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
	char time[REPLAY_TIME_SIZE], pid[16], verdict[32], action[64];
	int err;

	replay_format_time(rec->time_ns, time);
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

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int print_json(struct json_out *j, FILE *out, struct scratch *s,
		      const struct journal_record *rec)
{
	char time[REPLAY_TIME_SIZE], comm[ACTGATE_COMM_LEN + 1], access[ACCESS_NAMES_SIZE];
	int err;

	replay_format_time(rec->time_ns, time);
	snprintf(comm, sizeof(comm), "%s", rec->comm);
	json_out_reset(j);
	json_object_begin(j);
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
	json_object_end(j);
	return json_out_write_line(j, out);
}

static void report_output_error(FILE *err, const char *journal_path, int ret)
{
	fprintf(err, "actgate: replay: %s: %s%s\n", journal_path,
		ret == -ENOMEM ? "" : "writing the output: ", strerror(-ret));
}

int replay_run(const char *journal_path, const struct replay_filter *f, bool json, FILE *out,
	       FILE *err)
{
	struct journal_record rec = { 0 };
	struct journal_reader r;
	struct scratch s = { 0 };
	struct json_out j;
	int ret;

	json_out_init(&j);
	/* The reader reports its own failures: open, not a journal, read errors. */
	ret = journal_reader_open_err(&r, journal_path, err, "actgate: replay");
	if (ret)
		return ret;
	if (!json) {
		ret = print_header(out);
		if (ret) {
			report_output_error(err, journal_path, ret);
			goto out;
		}
	}
	while ((ret = journal_read(&r, &rec)) > 0) {
		if (!replay_filter_match(f, &rec))
			continue;
		ret = json ? print_json(&j, out, &s, &rec) : print_row(out, &s, &rec);
		if (ret) {
			report_output_error(err, journal_path, ret);
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	if (fflush(out) == EOF) {
		ret = errno ? -errno : -EIO;
		report_output_error(err, journal_path, ret);
		goto out;
	}
	if (r.skipped)
		fprintf(err, "actgate: replay: %s: skipped %lu malformed or torn line%s\n", r.path,
			r.skipped, r.skipped == 1 ? "" : "s");
out:
	journal_record_clear(&rec);
	journal_reader_close(&r);
	json_out_free(&j);
	free(s.p);
	return ret;
}
