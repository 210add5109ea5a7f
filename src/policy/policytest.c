/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Running policy tests (docs/policy-tests.md): the cases that
 * policytest-parse.c read are decided by the userspace evaluator, which
 * shares the kernel's precedence; a case that fails says what decided
 * instead and why.
 */
#include <linux/types.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actgate/abi.h"
#include "journal/decision.h"
#include "policy/delegate.h"
#include "policy/policytest.h"

/* ---- running ---- */

/* A path rule as written: subtree rules are held without their '/'. */
static const char *path_rule_text(const struct path_rule *pr, const char *prefix, char *buf,
				  size_t size)
{
	snprintf(buf, size, "%s%s%s", prefix, pr->path,
		 pr->subtree && strcmp(pr->path, "/") ? "/" : "");
	return buf;
}

/* The path rule of rules named name, as written; NULL when none is. */
static const char *find_path_rule(const struct policy *p, uint8_t action,
				  const struct path_rule *rules, size_t count, const char *prefix,
				  const char *name, char *buf, size_t size)
{
	char each[EVAL_RULE_NAME_MAX];

	for (size_t i = 0; i < count; i++) {
		const struct path_rule *pr = &rules[i];

		policy_rule_name(each, sizeof(each), p->name, action, pr->overlay, pr->verdict,
				 pr->index);
		if (!strcmp(each, name))
			return path_rule_text(pr, prefix, buf, size);
	}
	return NULL;
}

/* The text of the rule that decided, as written in its policy ("/usr/bin/", "10.0.0.0/8:443"). */
static const char *rule_text(const struct policy_set *set, const struct eval_result *r,
			     uint8_t action, char *buf, size_t size)
{
	const struct policy *p = NULL;
	char name[EVAL_RULE_NAME_MAX];

	for (size_t i = 0; i < set->count && !p; i++)
		if (r->policy && !strcmp(set->policies[i].name, r->policy))
			p = &set->policies[i];
	if (!p)
		return NULL;
	if (action == ACTGATE_ACTION_CONNECT || action == ACTGATE_ACTION_RESOLVE) {
		for (size_t i = 0; i < p->connect.name_count; i++) {
			const struct name_rule *n = &p->connect.name_rules[i];

			policy_rule_name(name, sizeof(name), p->name, ACTGATE_ACTION_CONNECT,
					 n->overlay, n->verdict, n->index);
			if (!strcmp(name, r->rule))
				return n->text;
		}
		for (size_t i = 0; i < p->connect.count; i++) {
			const struct net_rule *n = &p->connect.rules[i];

			policy_rule_name(name, sizeof(name), p->name, action, n->overlay, n->verdict,
					 n->index);
			if (!strcmp(name, r->rule))
				return n->text;
		}
		return find_path_rule(p, action, p->connect.unix_rules, p->connect.unix_count,
				      "unix:", r->rule, buf, size);
	}
	if (action == ACTGATE_ACTION_EXEC)
		return find_path_rule(p, action, p->exec.rules, p->exec.count, "", r->rule, buf,
				      size);
	return find_path_rule(p, action, p->open.rules, p->open.count, "", r->rule, buf, size);
}

/* "deny by rule ci:exec.deny[0] (/usr/bin/curl) of policy ci (mode enforce)" */
static void describe_result(char *buf, size_t size, const struct policy_set *set,
			    const struct policytest_case *c, const struct eval_result *r)
{
	char text_buf[PATH_MAX + 2], access[ACCESS_NAMES_SIZE] = "";
	const char *text = NULL;
	char by[EVAL_RULE_NAME_MAX + PATH_MAX + 64];

	if (r->reason == ACTGATE_REASON_TOO_DEEP) {
		snprintf(by, sizeof(by),
			 " (the path has more than %d parent directories, beyond the kernel's walk)",
			 ACTGATE_MAX_PATH_WALK);
	} else {
		if (r->reason == ACTGATE_REASON_RULE || r->reason == ACTGATE_REASON_LEARNED ||
		    r->reason == ACTGATE_REASON_NAME)
			text = rule_text(set, r, c->action.action, text_buf, sizeof(text_buf));
		if (r->reason == ACTGATE_REASON_GRANT)
			text = "asked for by the commission (--allow), given by delegate:";
		snprintf(by, sizeof(by), " by rule %s (%s)", r->rule,
			 text ? text : r->reason == ACTGATE_REASON_DEFAULT ||
					       r->reason == ACTGATE_REASON_NAME ? "no rule matched" : "?");
	}
	/* One access decides: the name of its bit. */
	if (r->access)
		access_names(r->access, access, sizeof(access));
	snprintf(buf, size, "%s%s%s%s of policy %s (mode %s)", verdict_name(r->verdict),
		 r->access ? " for " : "", access, by, r->policy ? r->policy : "-",
		 mode_name(r->mode));
	if (r->policy_count > 1) {
		size_t used = strlen(buf);

		/* Composition: the others allowed it too, or lost the tie. */
		snprintf(buf + used, size - used, "; %zu policies composed", r->policy_count);
	}
}

/* "deny", "deny (rule ci:exec.deny[0])", "deny (rule ci:exec.deny[0], mode audit)" */
static void describe_expected(char *buf, size_t size, const struct policytest_case *c)
{
	snprintf(buf, size, "%s%s%s%s%s%s", verdict_name(c->expect),
		 c->rule || c->mode >= 0 ? " (" : "", c->rule ? "rule " : "", c->rule ? c->rule : "",
		 c->mode >= 0 ? (c->rule ? ", mode " : "mode ") : "",
		 c->mode >= 0 ? mode_name((uint8_t)c->mode) : "");
	if (c->rule || c->mode >= 0)
		strncat(buf, ")", size - strlen(buf) - 1);
}

/*
 * May each link of ids commission the next (delegation_decide, with the
 * policies that apply to the link: its own and those above it)? 0, or
 * -EPERM with why.
 */
static int case_commission(const struct policy_set *set, const struct policytest_case *c,
			   const struct workload_identity *ids, size_t n,
			   const struct signal_view *signals, char *why, size_t why_size)
{
	const struct policy **parents = calloc(set->count ? set->count : 1, sizeof(*parents));
	int err = 0;

	if (!parents)
		return -ENOMEM;
	for (size_t link = 1; link < n && !err; link++) {
		struct delegation_request req = { .child = ids[link].name };

		/* The case's own commission asks for what the case says; those above, nothing. */
		if (link == n - 1)
			req = (struct delegation_request){
				.child = ids[link].name,
				.policies = (const char *const *)c->asked_policies,
				.policy_count = c->asked_policy_count,
				.allow = c->asked_allow,
				.allow_count = c->asked_allow_count };
		size_t count = 0;
		bool outlive;
		char reason[384];

		for (size_t i = 0; i < set->count; i++) {
			bool any = false;

			for (size_t k = 0; k < link && !any; k++)
				any = policy_selects(&set->policies[i], &ids[k]);
			if (any)
				parents[count++] = &set->policies[i];
		}
		err = delegation_decide(parents, count, &req, signals, &outlive, reason,
					sizeof(reason));
		if (err)
			snprintf(why, why_size, "%s may not commission %s: %s", ids[link - 1].name,
				 ids[link].name, reason);
	}
	free(parents);
	return err;
}

int policytest_asked_connect(const char *text, uint8_t addr[16], uint16_t *port, char *why,
			     size_t why_size)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *first = strchr(text, ':');

	/* "ADDR" and "V6" name every port: written with port 0 for the parser. */
	if (text[0] == '[' || (first && first == strrchr(text, ':')))
		snprintf(buf, sizeof(buf), "%s", text);
	else if (snprintf(buf, sizeof(buf), first ? "[%s]:0" : "%s:0", text) >= (int)sizeof(buf)) {
		snprintf(why, why_size, "\"%.64s\": not an address", text);
		return -EINVAL;
	}
	return eval_parse_connect_target(buf, addr, port, why, why_size);
}

/*
 * A rule the commission asked for (--allow) and delegate: gave: it lifts a
 * deny of a rule or a default of the same action on its target, as the
 * grant the daemon makes of it does in the kernel (the file named by its
 * path here; an address on its port, or on every port).
 */
static bool asked_rule_lifts(const struct policytest_case *c, const struct eval_result *r)
{
	const struct eval_action *a = &c->action;

	if (r->verdict != ACTGATE_VERDICT_DENY ||
	    (r->reason != ACTGATE_REASON_RULE && r->reason != ACTGATE_REASON_DEFAULT))
		return false;
	for (size_t i = 0; i < c->asked_allow_count; i++) {
		const struct delegate_rule *d = &c->asked_allow[i];
		uint8_t addr[16];
		uint16_t port;
		char why[128];

		if (d->action != a->action)
			continue;
		if (a->action != ACTGATE_ACTION_CONNECT) {
			if (a->path && !strcmp(a->path, d->target))
				return true;
			continue;
		}
		if (a->unix_socket || a->socket ||
		    policytest_asked_connect(d->target, addr, &port, why, sizeof(why)))
			continue;
		if (!memcmp(addr, a->addr, sizeof(addr)) && (!port || port == a->port))
			return true;
	}
	return false;
}

int policytest_run(const struct policytest_file *tf, bool verbose, FILE *out,
		   struct policytest_totals *totals)
{
	char expected[EVAL_RULE_NAME_MAX + 64], got[EVAL_RULE_NAME_MAX + PATH_MAX + 256], why[512];

	for (size_t d = 0; d < tf->doc_count; d++) {
		const struct policytest_doc *doc = &tf->docs[d];

		for (size_t i = 0; i < doc->case_count; i++) {
			const struct policytest_case *c = &doc->cases[i];
			struct eval_result r = { 0 };
			bool pass;

			describe_expected(expected, sizeof(expected), c);
			struct workload_identity id = { .name = c->workload, .cgroup = c->cgroup,
							.labels = c->labels,
							.label_count = c->label_count };
			struct signal_view signals = { .values = c->signals,
						       .count = c->signal_count };
			struct workload_identity *ids = calloc(c->chain_count + 1, sizeof(*ids));

			if (!ids)
				return -ENOMEM;
			for (size_t k = 0; k < c->chain_count; k++)
				ids[k] = (struct workload_identity){ .name = c->chain[k] };
			ids[c->chain_count] = id;
			/*
			 * A child its parent's delegate: would refuse can never act:
			 * a case expecting exactly that says deny with rule delegation.
			 */
			if (c->chain_count &&
			    case_commission(&doc->policies, c, ids, c->chain_count + 1, &signals, why,
					    sizeof(why))) {
				free(ids);
				if (c->expect == ACTGATE_VERDICT_DENY && c->rule &&
				    !strcmp(c->rule, "delegation")) {
					totals->passed++;
					if (verbose)
						fprintf(out, "PASS %s:%u: %s: the commission is "
							     "refused: %s\n", tf->path, c->pos.line,
							c->name, why);
					continue;
				}
				fprintf(out, "FAIL %s:%u: %s: expected %s, but the commission is "
					     "refused: %s\n", tf->path, c->pos.line, c->name, expected,
					why);
				totals->failed++;
				continue;
			}
			if (policy_evaluate_delegated(&doc->policies, ids, c->chain_count + 1,
						      (const char *const *)c->asked_policies,
						      c->asked_policy_count, &signals, &c->action,
						      &r, why, sizeof(why))) {
				free(ids);
				/* Nothing decided: the reason is the failure. */
				fprintf(out, "FAIL %s:%u: %s: expected %s, but %s\n", tf->path,
					c->pos.line, c->name, expected, why);
				totals->failed++;
				continue;
			}
			free(ids);
			if (asked_rule_lifts(c, &r)) {
				r.verdict = ACTGATE_VERDICT_ALLOW;
				r.mode = ACTGATE_MODE_ENFORCE;
				r.reason = ACTGATE_REASON_GRANT;
				snprintf(r.rule, sizeof(r.rule), "delegate");
			}
			pass = r.verdict == c->expect && (!c->rule || !strcmp(c->rule, r.rule)) &&
			       (c->mode < 0 || c->mode == r.mode);
			describe_result(got, sizeof(got), &doc->policies, c, &r);
			if (pass) {
				totals->passed++;
				if (verbose)
					fprintf(out, "PASS %s:%u: %s: %s\n", tf->path, c->pos.line,
						c->name, got);
			} else {
				totals->failed++;
				fprintf(out, "FAIL %s:%u: %s: expected %s, got %s\n", tf->path,
					c->pos.line, c->name, expected, got);
			}
		}
	}
	return 0;
}

/* ---- the command ---- */

/* Parse and run one file; its diagnostics are printed at once, next to its results. */
static int run_file(const char *path, bool verbose, FILE *out, FILE *err,
		    struct policytest_totals *totals)
{
	struct policytest_file tf = { 0 };
	struct diag_list diags = { 0 };
	int ret;

	ret = policytest_parse_file(path, &tf, &diags);
	fflush(out);
	diag_print(&diags, err);
	diag_list_free(&diags);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		totals->invalid_files++;
		return -EINVAL;
	}
	ret = policytest_run(&tf, verbose, out, totals);
	policytest_file_free(&tf);
	return ret;
}

int policytest_run_paths(char *const paths[], size_t count, bool verbose, FILE *out, FILE *err,
			 struct policytest_totals *totals)
{
	int result = 0, ret;

	*totals = (struct policytest_totals){ 0 };
	for (size_t i = 0; i < count; i++) {
		char **files = NULL;
		size_t n = 0;
		struct stat st;

		if (stat(paths[i], &st) || !S_ISDIR(st.st_mode)) {
			/* A file, or nothing there: reading it says which. */
			ret = run_file(paths[i], verbose, out, err, totals);
		} else {
			ret = policytest_list_dir(paths[i], &files, &n);
			if (ret == 0 && n == 0) {
				fflush(out);
				fprintf(err, "%s: error: no test files (*.test.yaml, *.test.yml)\n",
					paths[i]);
				totals->invalid_files++;
				ret = -EINVAL;
			} else if (ret && ret != -ENOMEM) {
				fflush(out);
				fprintf(err, "%s: error: cannot read directory: %s\n", paths[i],
					strerror(-ret));
				totals->invalid_files++;
				ret = -EINVAL;
			}
			for (size_t k = 0; k < n && ret != -ENOMEM; k++) {
				int r = run_file(files[k], verbose, out, err, totals);

				if (r && !ret)
					ret = r;
				if (r == -ENOMEM)
					ret = r;
			}
			for (size_t k = 0; k < n; k++)
				free(files[k]);
			free(files);
		}
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			result = -EINVAL;
	}
	fprintf(out, "%zu passed, %zu failed", totals->passed, totals->failed);
	if (totals->invalid_files)
		fprintf(out, ", %zu invalid file%s", totals->invalid_files,
			totals->invalid_files == 1 ? "" : "s");
	fprintf(out, "\n");
	return result;
}
