/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate policy diff OLD NEW: what a policy change widens and narrows,
 * rule by rule (policy/diff.h), as lines for people or JSON lines for a
 * pull request's checks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/common.h"
#include "cli/policydiff.h"
#include "policy/diff.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"
#include "util/json.h"

#define VERB "policy diff"

static void diff_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy diff [--json] OLD NEW\n"
		"What changing the policies OLD into NEW widens and narrows, rule by rule:\n"
		"each is a policy file or a directory of them (as actgate policy check reads\n"
		"it). Policies are matched by name and rules by their list and target. An\n"
		"allow rule added, a deny rule removed, a default turned to allow, a deny rule\n"
		"or a policy switched to audit, a policy removed: widens. The reverse\n"
		"narrows; a policy added narrows (policies compose as intersection). A\n"
		"selector or a record setting changed is listed as a change.\n"
		"\n"
		"      --json     one JSON object per change, then a summary object\n"
		"  -h, --help     show this help\n"
		"\n"
		"Exit status: 0 when nothing widens, 1 when something widens, 2 on usage\n"
		"errors or invalid policies.\n");
}

static int load(const char *path, struct policy_set *set)
{
	struct diag_list diags = { 0 };
	struct stat st;
	int err;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = policy_load_dir(path, set, &diags);
	} else {
		err = policy_parse_file(path, set, &diags);
		if (!err)
			err = policy_set_validate(set, &diags);
	}
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	if (err)
		fprintf(stderr, "actgate: " VERB ": %s: %s\n", path,
			err == -EINVAL ? "invalid policies" : strerror(-err));
	return err;
}

static int print_json(const struct policy_diff *d)
{
	struct json_out j;
	int err = 0;

	json_out_init(&j);
	for (size_t i = 0; i < d->count && !err; i++) {
		const struct policy_change *c = &d->changes[i];

		json_out_reset(&j);
		json_object_begin(&j);
		json_add_string(&j, "change", policy_change_name(c->kind));
		json_add_string(&j, "policy", c->policy);
		json_add_string(&j, "where", c->where);
		json_add_string(&j, "old", c->old);
		json_add_string(&j, "new", c->new);
		json_object_end(&j);
		err = json_out_write_line(&j, stdout);
	}
	if (!err) {
		json_out_reset(&j);
		json_object_begin(&j);
		json_add_bool(&j, "summary", true);
		json_add_u64(&j, "widens", d->widens);
		json_add_u64(&j, "narrows", d->narrows);
		json_add_u64(&j, "changes", d->other);
		json_object_end(&j);
		err = json_out_write_line(&j, stdout);
	}
	json_out_free(&j);
	return err;
}

static void print_text(const struct policy_diff *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct policy_change *c = &d->changes[i];

		printf("%-8s %s:%s  ", policy_change_name(c->kind), c->policy, c->where);
		if (c->old && c->new)
			printf("%s -> %s\n", c->old, c->new);
		else if (c->new)
			printf("+ %s\n", c->new);
		else
			printf("- %s\n", c->old);
	}
	printf("%zu change%s: %zu widen%s, %zu narrow%s, %zu other\n", d->count,
	       d->count == 1 ? "" : "s", d->widens, d->widens == 1 ? "s" : "", d->narrows,
	       d->narrows == 1 ? "s" : "", d->other);
}

int cmd_policy_diff(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_set old = { 0 }, new = { 0 };
	struct policy_diff d = { 0 };
	bool json = false;
	int opt, ret = EXIT_USAGE, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = true;
			break;
		case 'h':
			diff_usage(stdout);
			return 0;
		default:
			return cli_option_error(VERB, argv, "h", options);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(VERB, "%s", "expected two arguments: OLD NEW");
	if (load(argv[optind], &old) || load(argv[optind + 1], &new))
		goto out;
	err = policy_diff_sets(&old, &new, &d);
	if (err) {
		fprintf(stderr, "actgate: " VERB ": %s\n", strerror(-err));
		goto out;
	}
	if (json) {
		if (print_json(&d)) {
			fprintf(stderr, "actgate: " VERB ": cannot write the output\n");
			goto out;
		}
	} else {
		print_text(&d);
	}
	ret = d.widens ? EXIT_FAIL : 0;
out:
	policy_diff_free(&d);
	policy_set_free(&old);
	policy_set_free(&new);
	return ret;
}
