/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgate: the command-line interface, git-style verbs. */
#include <linux/types.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actgate/abi.h"
#include "cli/client.h"
#include "cli/grant.h"
#include "cli/journal.h"
#include "cli/replay.h"
#include "cli/run.h"
#include "cli/signal.h"
#include "kernel/pins.h"
#include "kernel/state.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/policytest.h"
#include "util/duration.h"
#include "util/json.h"
#include "util/paths.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int usage_error(const char *verb, const char *fmt, const char *arg)
{
	fprintf(stderr, "actgate: %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'actgate %s --help'.\n", verb);
	return EXIT_USAGE;
}

/* ---- requests that name only a verb ---- */

/* Send {"verb": verb}; 0 with reply filled, or EXIT_FAIL after printing why. */
static int request_verb(const char *cmd, const char *socket_flag, const char *verb,
			struct json_msg *reply)
{
	struct json_out req;
	char why[4096];
	int fd, err;

	if (control_connect(control_socket_path(socket_flag), &fd, why, sizeof(why))) {
		fprintf(stderr, "actgate: %s: %s\n", cmd, why);
		return EXIT_FAIL;
	}
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", verb);
	json_object_end(&req);
	err = control_request(fd, &req, reply, why, sizeof(why));
	json_out_free(&req);
	close(fd);
	if (err) {
		/* Multi-line reasons (policy diagnostics) are printed as they are. */
		if (strchr(why, '\n'))
			fprintf(stderr, "%s", why);
		else
			fprintf(stderr, "actgate: %s: %s\n", cmd, why);
		return EXIT_FAIL;
	}
	return 0;
}

/* ---- run ---- */

static void run_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate run --workload NAME [--label K=V]... [--delegated-by PRINCIPAL]\n"
		"                   [--ttl DURATION] [--socket PATH] [--quiet] -- CMD [ARG]...\n"
		"Run CMD as the governed workload NAME: actgated creates a cgroup for it and\n"
		"binds it to every policy whose selector matches it (its name, its labels, its\n"
		"cgroup; they compose, the strictest decision wins); CMD and everything it\n"
		"starts is policed and recorded from its first action. A workload no policy\n"
		"selects is refused.\n"
		"\n"
		"  -w, --workload NAME        workload name (letters, digits, ._:@+/-)\n"
		"  -l, --label K=V            a label, for selectors and recorded with every\n"
		"                             decision (repeatable; K: letters, digits, ._/-,\n"
		"                             from a letter or digit, at most 63; V: at most\n"
		"                             255 printable bytes without ',' or '=')\n"
		"  -d, --delegated-by P       the principal who commissioned this workload\n"
		"  -t, --ttl DURATION         the workload's grant ends after this long (90s, 5m,\n"
		"                             2h, 1d): from then on every action of it is denied\n"
		"                             in the kernel (reason expired)\n"
		"  -s, --socket PATH          actgated's control socket [$" SOCKET_ENV
		" or " DEFAULT_SOCKET_PATH "]\n"
		"  -q, --quiet                no note about the workload on stderr\n"
		"  -h, --help                 show this help\n"
		"\n"
		"In a CI job (GITHUB_ACTIONS=true or GITLAB_CI=true) the job's context becomes\n"
		"labels ci.system, ci.repository, ci.run-id and ci.job (GITHUB_REPOSITORY,\n"
		"GITHUB_RUN_ID, GITHUB_JOB; CI_PROJECT_PATH, CI_PIPELINE_ID, CI_JOB_ID), unless\n"
		"given with --label, and the principal github:ACTOR or gitlab:LOGIN\n"
		"(GITHUB_ACTOR, GITLAB_USER_LOGIN) unless --delegated-by is given.\n"
		"\n"
		"Exit status: CMD's status (128+N if killed by signal N); 125 if actgate could\n"
		"not set the workload up; 126 if CMD could not be executed (for example denied\n"
		"by the policy); 127 if CMD was not found.\n");
}

static int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ "delegated-by", required_argument, NULL, 'd' },
		{ "ttl", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run_options o = { 0 };
	const char *socket_flag = NULL;
	char why[256] = "";
	int opt, ret;

	o.labels = calloc((size_t)argc, sizeof(*o.labels));
	if (!o.labels)
		return RUN_EXIT_FAILED;
	/* '+': stop at the first non-option, so CMD's own options stay CMD's. */
	while ((opt = getopt_long(argc, argv, "+w:l:d:t:s:qh", options, NULL)) != -1) {
		switch (opt) {
		case 'w':
			o.workload = optarg;
			break;
		case 'l':
			o.labels[o.label_count++] = optarg;
			break;
		case 'd':
			o.principal = optarg;
			break;
		case 't':
			if (duration_parse(optarg, &o.ttl_ns, why, sizeof(why)) ||
			    o.ttl_ns < 1000000) {
				free(o.labels);
				fprintf(stderr, "actgate: run: --ttl %s: %s\nTry 'actgate run --help'.\n",
					optarg, o.ttl_ns < 1000000 && !why[0] ? "at least 1ms" : why);
				return RUN_EXIT_FAILED;
			}
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			run_usage(stdout);
			free(o.labels);
			return 0;
		default:
			free(o.labels);
			run_usage(stderr);
			return RUN_EXIT_FAILED;
		}
	}
	if (!o.workload || optind >= argc) {
		free(o.labels);
		fprintf(stderr, "actgate: run: %s\nTry 'actgate run --help'.\n",
			!o.workload ? "--workload NAME is required" : "no command given after --");
		return RUN_EXIT_FAILED;
	}
	o.socket_path = control_socket_path(socket_flag);
	o.argv = &argv[optind];
	ret = run_workload(&o);
	free(o.labels);
	return ret;
}

/* ---- policy ---- */

static void policy_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy check [--resolve] PATH...\n"
		"       actgate policy reload [--socket PATH]   (see actgate policy reload --help)\n"
		"       actgate policy test [--verbose] PATH...  (see actgate policy test --help)\n"
		"Validate policy files (a directory means its *.yaml and *.yml files).\n"
		"Errors and warnings are printed as file:line:col: severity: message.\n"
		"\n"
		"  --resolve    also compile against this host's file system, as actgated\n"
		"               does: reports paths that do not exist and subtree rules on\n"
		"               files\n"
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

static int cmd_policy_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "resolve", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_set set = { 0 };
	struct policy_image image = { 0 };
	struct diag_list diags = { 0 };
	int opt, resolve = 0, failed = 0;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			resolve = 1;
			break;
		case 'h':
			policy_usage(stdout);
			return 0;
		default:
			policy_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("policy check", "%s", "no policy file or directory given");
	for (int i = optind; i < argc; i++) {
		struct stat st;
		int err;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
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
			policy_reload_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("policy reload", "unexpected argument '%s'", argv[optind]);
	if (request_verb("policy reload", socket_flag, "reload", &reply)) {
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
			policy_test_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("policy test", "%s", "no test file or directory given");
	err = policytest_run_paths(&argv[optind], (size_t)(argc - optind), verbose, stdout, stderr,
				   &totals);
	if (err == -ENOMEM) {
		fprintf(stderr, "actgate: policy test: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	return err || totals.failed ? EXIT_FAIL : 0;
}

static int cmd_policy(int argc, char **argv)
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
	return usage_error("policy", "unknown subcommand '%s' (known: check, reload, test)",
			   argv[1]);
}

/* ---- status ---- */

static void status_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate status [--json] [--socket PATH]\n"
		"Ask actgated what it enforces and what it has recorded.\n"
		"\n"
		"  --json          the daemon's reply as one JSON object\n"
		"  --socket PATH   actgated's control socket [$" SOCKET_ENV " or " DEFAULT_SOCKET_PATH
		"]\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 when actgated answered, 1 when it could not be reached, 2 on\n"
		"usage errors.\n");
}

static int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_msg reply = { 0 };
	const char *socket_flag = NULL;
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = 1;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (request_verb("status", socket_flag, "status", &reply)) {
		json_msg_free(&reply);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < reply.count; i++) {
		const struct json_member *m = &reply.members[i];

		if (json) {
			continue;
		} else if (m->type == JSON_OBJECT) {
			printf("%s:", m->key);
			for (size_t k = 0; k < m->member_count; k++)
				printf(" %s=%s", m->members[k].key, m->members[k].value);
			printf("\n");
		} else if (strcmp(m->key, "ok") != 0) {
			printf("%s: %s\n", m->key, m->value ? m->value : "null");
		}
	}
	if (json) {
		struct json_out out;

		json_out_init(&out);
		json_object_begin(&out);
		for (size_t i = 0; i < reply.count; i++) {
			const struct json_member *m = &reply.members[i];

			if (m->type == JSON_OBJECT) {
				json_key_object_begin(&out, m->key);
				for (size_t k = 0; k < m->member_count; k++)
					json_add_u64(&out, m->members[k].key,
						     strtoull(m->members[k].value, NULL, 10));
				json_object_end(&out);
			} else if (strcmp(m->key, "ok") == 0) {
				json_add_bool(&out, "ok", true);
			} else if (m->value && m->value[0] >= '0' && m->value[0] <= '9') {
				json_add_u64(&out, m->key, strtoull(m->value, NULL, 10));
			} else {
				json_add_string(&out, m->key, m->value);
			}
		}
		json_object_end(&out);
		json_out_write_line(&out, stdout);
		json_out_free(&out);
	}
	json_msg_free(&reply);
	return 0;
}

/* ---- detach ---- */

static void detach_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate detach [--pin-dir DIR] [--state-dir DIR]\n"
		"Stop enforcement: remove the pinned BPF programs and maps that keep\n"
		"enforcing while no actgated runs, and the daemon's state. Refused while an\n"
		"actgated runs on those pins: stop it first. Workloads still running are no\n"
		"longer governed afterwards; the next actgated starts afresh.\n"
		"\n"
		"  --pin-dir DIR     the pin directory on the bpffs [" DEFAULT_PIN_DIR "]\n"
		"  --state-dir DIR   actgated's state directory [" DEFAULT_STATE_DIR "]\n"
		"  -h, --help        show this help\n"
		"\n"
		"Exit status: 0 when nothing is pinned any more (also when nothing was), 1 when\n"
		"an actgated runs or the pins could not be removed, 2 on usage errors.\n");
}

static int cmd_detach(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pin_dir = DEFAULT_PIN_DIR, *state_dir = DEFAULT_STATE_DIR;
	char why[1024];
	int opt, err;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'P':
			pin_dir = optarg;
			break;
		case 'S':
			state_dir = optarg;
			break;
		case 'h':
			detach_usage(stdout);
			return 0;
		default:
			detach_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("detach", "unexpected argument '%s'", argv[optind]);
	if (pin_dir[0] != '/')
		return usage_error("detach", "--pin-dir %s: an absolute path is needed", pin_dir);
	if (state_dir[0] != '/')
		return usage_error("detach", "--state-dir %s: an absolute path is needed", state_dir);
	err = pins_detach(pin_dir, why, sizeof(why));
	if (err == -ENOENT) {
		printf("actgate: detach: %s\n", why);
		return 0;
	}
	if (err) {
		fprintf(stderr, "actgate: detach: %s\n", why);
		return EXIT_FAIL;
	}
	err = state_remove(state_dir);
	if (err)
		fprintf(stderr, "actgate: detach: cannot remove the state in %s: %s\n", state_dir,
			strerror(-err));
	printf("actgate: detach: removed the pins at %s: nothing is enforced until actgated "
	       "starts again\n",
	       pin_dir);
	return 0;
}

/* ---- main ---- */

static const struct verb verbs[] = {
	{ "run", cmd_run, "run a command as a governed workload" },
	{ "replay", cmd_replay, "print recorded decisions (filters, stats, tree, what-if)" },
	{ "verify", cmd_verify, "check a journal for damage and tampering" },
	{ "export", cmd_export, "write decisions for SIEM pipelines (jsonl, OCSF)" },
	{ "policy", cmd_policy, "policy check | reload | test: validate, load live, test" },
	{ "status", cmd_status, "what actgated enforces and has recorded" },
	{ "signal", cmd_signal, "signal set | clear | list | ingest: live facts for `when:`" },
	{ "grant", cmd_grant, "a time-bound exception for a running workload" },
	{ "revoke", cmd_revoke, "deny everything a workload or a principal's workloads do" },
	{ "detach", cmd_detach, "stop enforcement: remove the pinned programs and maps" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: actgate <command> [OPTION]... [ARG]...\n"
		     "Authorize every action of ephemeral workloads with BPF LSM policy.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\n'actgate <command> --help' describes each command and its exit status.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "actgate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
