/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay --what-if POLICY_DIR: every matching decision decided again
 * under candidate policies (cli/whatif.h), and those whose verdict would
 * change printed, then a summary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay-internal.h"
#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/source.h"
#include "util/json.h"

static const char *outcome_name(enum whatif_outcome w)
{
	return w == WHATIF_NOW_DENIED ? "now-denied" : w == WHATIF_NOW_ALLOWED ? "now-allowed" : "same";
}

static int print_change(bool json, struct json_out *j, struct scratch *s, FILE *out,
			const struct journal_record *rec, enum whatif_outcome w,
			const struct eval_result *r)
{
	char time[JQUERY_TIME_SIZE], pid[16], action[64], change[64], *target_buf = NULL;
	int ret;

	if (json) {
		json_out_reset(j);
		json_object_begin(j);
		ret = replay_add_record(j, s, rec);
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
	replay_format_action(rec, action, sizeof(action));
	snprintf(change, sizeof(change), "%s->%s", verdict_name(rec->verdict),
		 verdict_name(r->verdict));
	ret = replay_put_cell(out, s, time, W_TIME, false, false);
	if (!ret)
		ret = replay_put_cell(out, s, rec->workload, W_WORKLOAD, false, false);
	if (!ret)
		ret = replay_put_cell(out, s, pid, W_PID, true, false);
	if (!ret)
		ret = replay_put_cell(out, s, action, W_ACTION, false, false);
	if (!ret)
		ret = replay_put_cell(out, s, change, W_VERDICT, false, false);
	if (!ret)
		ret = replay_put_cell(out, s, replay_format_target(rec, &target_buf), W_TARGET, false,
				      false);
	free(target_buf);
	if (!ret)
		ret = replay_put_cell(out, s, r->rule[0] ? r->rule : "(too deep)", 0, false, true);
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
	ret = replay_open_source(o, err, &src);
	if (ret)
		goto out;
	if (!json && fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %-*s  %s\n", W_TIME, "TIME",
			     W_WORKLOAD, "WORKLOAD", W_PID, "PID", W_ACTION, "ACTION", W_VERDICT,
			     "CHANGE", W_TARGET, "TARGET", "WOULD-DECIDE") < 0) {
		ret = -EIO;
		replay_report_output_error(err, ret);
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
			replay_report_output_error(err, ret);
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
		replay_report_output_error(err, ret);
out:
	jsource_close(src);
	json_out_free(&j);
	free(s.p);
	return ret;
}
