/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate policy`: check policy files (and compile them against this host
 * with --resolve), ask actgated to reload its policy directory, run policy
 * tests.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/policy.h"
#include "cli/policydiff.h"
#include "cli/suggest.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/policytest.h"
#include "util/json.h"
#include "util/yamltree.h"
#include "util/paths.h"

static void policy_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy check [--resolve [--resolver]] PATH...   (PATH - : standard input)\n"
		"       actgate policy reload [--socket PATH]   (see actgate policy reload --help)\n"
		"       actgate policy test [--verbose] PATH...  (see actgate policy test --help)\n"
		"       actgate policy suggest --name NAME ...  (see actgate policy suggest --help)\n"
		"       actgate policy diff [--json] OLD NEW   (see actgate policy diff --help)\n"
		"Validate policy files (a directory means its *.yaml and *.yml files; - reads\n"
		"one from standard input, named <stdin> in messages).\n"
		"Errors and warnings are printed as file:line:col: severity: message.\n"
		"\n"
		"  --resolve    also compile against this host's file system, as actgated\n"
		"               does: reports paths that do not exist, subtree rules on\n"
		"               files, and allow rules by name (refused by an actgated\n"
		"               whose actgated.yaml has no resolver: section)\n"
		"  --resolver   with --resolve: check as for an actgated that runs the\n"
		"               resolver (allow rules by name accepted)\n"
		"  -h, --help   show this help\n"
		"\n"
		"Exit status: 0 when every file is valid (warnings allowed), 1 when any has an\n"
		"error, 2 on usage errors.\n");
}

static int has_policy_suffix(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parse every policy file of a directory into set, in name order. */
static int check_dir(const char *dir, struct policy_set *set, struct diag_list *diags)
{
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, cap = 0;
	int err = 0, failed = 0;
	DIR *dh = opendir(dir);

	if (!dh)
		return diag_add(diags, DIAG_ERROR, dir, 0, 0, "cannot open directory: %s",
				strerror(errno)) ?: -EINVAL;
	while ((de = readdir(dh))) {
		/* Tests kept beside the policies are not policies. */
		if (de->d_name[0] == '.' || !has_policy_suffix(de->d_name) ||
		    policytest_is_test_name(de->d_name))
			continue;
		if (count == cap) {
			char **bigger = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));

			if (!bigger) {
				err = -ENOMEM;
				goto out;
			}
			names = bigger;
			cap = cap ? cap * 2 : 16;
		}
		if (asprintf(&names[count], "%s/%s", dir, de->d_name) < 0) {
			err = -ENOMEM;
			goto out;
		}
		count++;
	}
	if (count == 0) {
		err = diag_add(diags, DIAG_ERROR, dir, 0, 0, "no *.yaml or *.yml policy files");
		failed = 1;
		goto out;
	}
	qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; i < count; i++) {
		int e = policy_parse_file(names[i], set, diags);

		if (e && e != -EINVAL)
			diag_add(diags, DIAG_ERROR, names[i], 0, 0, "%s", strerror(-e));
		if (e)
			failed = 1;
	}
out:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(dh);
	if (err)
		return err;
	return failed ? -EINVAL : 0;
}

/*
 * Policy text from standard input ("-"), read whole up to one byte past the
 * parser's limit (so that it says "too long"), then parsed as "<stdin>".
 */
static int check_stdin(struct policy_set *set, struct diag_list *diags)
{
	size_t len = 0, cap = YTREE_MAX_BYTES + 2;
	char *text = malloc(cap);
	int err;

	if (!text)
		return -ENOMEM;
	while (len < cap - 1) {
		size_t n = fread(text + len, 1, cap - 1 - len, stdin);

		if (n == 0)
			break;
		len += n;
	}
	text[len] = '\0';
	if (ferror(stdin)) {
		err = diag_add(diags, DIAG_ERROR, "<stdin>", 0, 0, "cannot read standard input: %s",
			       strerror(errno)) ?: -EINVAL;
		free(text);
		return err;
	}
	err = policy_parse_buffer("<stdin>", text, len, set, diags);
	free(text);
	return err;
}

static int cmd_policy_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "resolve", no_argument, NULL, 'r' },
		{ "resolver", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_set set = { 0 };
	struct policy_image image = { 0 };
	struct diag_list diags = { 0 };
	int opt, resolve = 0, with_resolver = 0, failed = 0;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			resolve = 1;
			break;
		case 'R':
			with_resolver = 1;
			break;
		case 'h':
			policy_usage(stdout);
			return 0;
		default:
			return cli_option_error("policy check", argv, "h", options);
		}
	}
	if (optind >= argc)
		return cli_usage_error("policy check", "%s", "no policy file or directory given");
	if (with_resolver && !resolve)
		return cli_usage_error("policy check", "%s", "--resolver needs --resolve");
	for (int i = optind; i < argc; i++) {
		struct stat st;
		int err;

		if (strcmp(argv[i], "-") == 0)
			err = check_stdin(&set, &diags);
		else if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			err = check_dir(argv[i], &set, &diags);
		else
			err = policy_parse_file(argv[i], &set, &diags);
		if (err == -EINVAL)
			failed = 1;
		else if (err) {
			diag_add(&diags, DIAG_ERROR, argv[i], 0, 0, "%s", strerror(-err));
			failed = 1;
		}
	}
	if (!failed && policy_set_validate(&set, &diags))
		failed = 1;
	if (!failed && resolve && policy_compile(&set, 1, resolve_path_stat, NULL, &image, &diags))
		failed = 1;
	/* As the daemon loads it: names are refused while nothing answers lookups. */
	if (!failed && resolve && !with_resolver && name_rules_check_no_resolver(&set, &diags))
		failed = 1;
	diag_print(&diags, stderr);
	if (!failed)
		printf("%zu %s valid (%zu warning%s)\n", set.count,
		       set.count == 1 ? "policy" : "policies", diags.warnings,
		       diags.warnings == 1 ? "" : "s");
	policy_image_free(&image);
	policy_set_free(&set);
	diag_list_free(&diags);
	return failed ? EXIT_FAIL : 0;
}

static void policy_reload_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy reload [--socket PATH]\n"
		"Ask actgated to load its policy directory again. The new policy replaces the\n"
		"running one for every workload at once, or, if anything is wrong with it,\n"
		"nothing changes and the errors are printed (file:line:col: ...).\n"
		"\n"
		"  --socket PATH   actgated's control socket [$" SOCKET_ENV " or " DEFAULT_SOCKET_PATH
		"]\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 when the new policy is in force, 1 when it was refused (the\n"
		"running policy stays) or actgated could not be reached, 2 on usage errors.\n");
}

static int cmd_policy_reload(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_msg reply = { 0 };
	const char *socket_flag = NULL, *diagnostics;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			policy_reload_usage(stdout);
			return 0;
		default:
			return cli_option_error("policy reload", argv, "s:h", options);
		}
	}
	if (optind < argc)
		return cli_usage_error("policy reload", "unexpected argument '%s'", argv[optind]);
	if (cli_request_verb("policy reload", socket_flag, "reload", &reply)) {
		json_msg_free(&reply);
		return EXIT_FAIL;
	}
	diagnostics = json_msg_string(&reply, "diagnostics");
	if (diagnostics)
		fprintf(stderr, "%s", diagnostics);
	printf("generation %s: %s policies in force\n", json_msg_string(&reply, "generation"),
	       json_msg_string(&reply, "policies"));
	json_msg_free(&reply);
	return 0;
}

static void policy_test_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy test [--verbose] PATH...\n"
		"Run policy tests: each PATH is a test file (kind PolicyTest) or a directory,\n"
		"meaning its *.test.yaml and *.test.yml files. A test names policy files and\n"
		"lists actions of workloads with the verdict each should get; every case is\n"
		"decided as the kernel would decide it. A failing case is printed as\n"
		"  FAIL file:line: NAME: expected ..., got VERDICT by rule R of policy P (mode M)\n"
		"and the run ends with 'N passed, N failed'. Errors in a test file or in the\n"
		"policies it names are printed as file:line:col: error: message, and its\n"
		"cases are not run. The format: docs/policy-tests.md.\n"
		"\n"
		"  -v, --verbose   print a PASS line for every case that passed too\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 when every case passed, 1 when any failed or any file was\n"
		"invalid, 2 on usage errors.\n");
}

static int cmd_policy_test(int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policytest_totals totals;
	bool verbose = false;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			policy_test_usage(stdout);
			return 0;
		default:
			return cli_option_error("policy test", argv, "vh", options);
		}
	}
	if (optind >= argc)
		return cli_usage_error("policy test", "%s", "no test file or directory given");
	err = policytest_run_paths(&argv[optind], (size_t)(argc - optind), verbose, stdout, stderr,
				   &totals);
	if (err == -ENOMEM) {
		fprintf(stderr, "actgate: policy test: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	return err || totals.failed ? EXIT_FAIL : 0;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "reload") == 0)
		return cmd_policy_reload(argc - 1, argv + 1);
	if (strcmp(argv[1], "test") == 0)
		return cmd_policy_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "suggest") == 0)
		return cmd_policy_suggest(argc - 1, argv + 1);
	if (strcmp(argv[1], "diff") == 0)
		return cmd_policy_diff(argc - 1, argv + 1);
	return cli_usage_error("policy",
			       "unknown subcommand '%s' (known: check, reload, test, suggest, diff)",
			   argv[1]);
}
