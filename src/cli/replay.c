/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay: print the decisions of a journal, filtered, as a table or
 * as JSON lines. One record at a time, so a journal of any size replays in
 * constant memory; the table therefore uses fixed column widths, and a longer
 * value shifts the rest of its row rather than being cut (a responder must
 * see the whole path).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay-internal.h"
#include "cli/replay.h"
#include "journal/export.h"
#include "journal/source.h"
#include "util/json.h"

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
int replay_display_escape(struct scratch *s, const char *text, size_t *chars)
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

/* One cell: the escaped text ("-" when empty), padded to width, two spaces after unless last. */
int replay_put_cell(FILE *out, struct scratch *s, const char *text, int width, bool right,
		    bool last)
{
	size_t chars;
	int pad, err;

	err = replay_display_escape(s, text && *text ? text : "-", &chars);
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
void replay_format_action(const struct journal_record *rec, char *buf, size_t size)
{
	char names[ACCESS_NAMES_SIZE];

	if (rec->access && !access_names(rec->access, names, sizeof(names)))
		snprintf(buf, size, "%s(%s)", action_name(rec->action), names);
	else
		snprintf(buf, size, "%s", action_name(rec->action));
}

/*
 * The TARGET cell: the target, and the name a connect was made for in
 * parentheses ("140.82.112.3:443/tcp (github.com)"); a lookup whose target
 * is its name shows the name once. *buf is allocated when needed (free it).
 */
const char *replay_format_target(const struct journal_record *rec, char **buf)
{
	const char *target = or_empty(rec->target), *name = or_empty(rec->target_name);

	*buf = NULL;
	if (!*name)
		return target;
	if (!*target || !strcmp(target, name))
		return name;
	if (asprintf(buf, "%s (%s)", target, name) < 0) {
		*buf = NULL;
		return target;
	}
	return *buf;
}

static int print_row(FILE *out, struct scratch *s, const struct journal_record *rec)
{
	char time[JQUERY_TIME_SIZE], pid[16], verdict[32], action[64], *target_buf = NULL;
	int err;

	jquery_format_time(rec->time_ns, time);
	snprintf(pid, sizeof(pid), "%u", rec->pid);
	replay_format_action(rec, action, sizeof(action));
	/* "(audit)": the policy only watched; a "deny" here did not stop anything. */
	snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(rec->verdict),
		 rec->mode == ACTGATE_MODE_AUDIT ? "(audit)" : "");
	err = replay_put_cell(out, s, time, W_TIME, false, false);
	if (!err)
		err = replay_put_cell(out, s, rec->workload, W_WORKLOAD, false, false);
	if (!err)
		err = replay_put_cell(out, s, pid, W_PID, true, false);
	if (!err)
		err = replay_put_cell(out, s, action, W_ACTION, false, false);
	if (!err)
		err = replay_put_cell(out, s, verdict, W_VERDICT, false, false);
	if (!err)
		err = replay_put_cell(out, s, replay_format_target(rec, &target_buf), W_TARGET, false,
				      false);
	free(target_buf);
	if (!err)
		err = replay_put_cell(out, s, rec->rule, 0, false, true);
	return err;
}

/* The record's members, in the documented order: one writer with export's (journal/export.h). */
int replay_add_record(struct json_out *j, struct scratch *s, const struct journal_record *rec)
{
	(void)s;
	return jexport_add_record(j, rec);
}

static int print_json(struct json_out *j, FILE *out, struct scratch *s,
		      const struct journal_record *rec)
{
	int err;

	json_out_reset(j);
	json_object_begin(j);
	err = replay_add_record(j, s, rec);
	if (err)
		return err;
	json_object_end(j);
	return json_out_write_line(j, out);
}

void replay_report_output_error(FILE *err, int ret)
{
	fprintf(err, "actgate: replay: %s%s\n", ret == -ENOMEM ? "" : "writing the output: ",
		strerror(-ret));
}

/* ---- table and JSON lines ---- */

int replay_open_source(const struct replay_options *o, FILE *err, struct jsource **src)
{
	struct jsource_options so = {
		.err = err, .prefix = "actgate: replay", .follow = o->follow, .stop = o->stop,
		.prefilter = o->filter, .read_all = o->read_all,
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
			replay_report_output_error(err, ret);
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
			replay_report_output_error(err, ret);
			goto out;
		}
	}
out:
	json_out_free(&j);
	free(s.p);
	return ret;
}

int replay_execute(const struct replay_options *o, FILE *out, FILE *err)
{
	struct jsource *src = NULL;
	int ret;

	ret = replay_open_source(o, err, &src);
	if (ret)
		return ret;
	switch (o->output) {
	case REPLAY_STATS:
	case REPLAY_STATS_JSON:
		ret = replay_stats(o, src, out, err);
		break;
	case REPLAY_TREE:
		ret = replay_tree(o, src, out, err);
		break;
	default:
		ret = print_records(o, src, out, err);
		break;
	}
	if (!ret && fflush(out) == EOF) {
		ret = errno ? -errno : -EIO;
		replay_report_output_error(err, ret);
	}
	jsource_close(src);
	return ret;
}
