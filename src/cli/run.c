/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate run`: CMD as a governed workload in a cgroup of its own (run.h):
 * the request to actgated, the child that joins the cgroup, and the verb's
 * options.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/run.h"
#include "identity/identity.h"
#include "identity/workload.h"
#include "util/duration.h"
#include "util/paths.h"

/* The child's pid, for the forwarding handler: signal handlers take no context. */
static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static const char *env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* Was label key given with --label? */
static bool label_given(const struct run_options *o, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < o->label_count; i++)
		if (!strncmp(o->labels[i], key, n) && o->labels[i][n] == '=')
			return true;
	return false;
}

/*
 * The CI job's context (identity.h) as labels ci.system, ci.repository,
 * ci.run-id and ci.job, each unless given with --label.
 */
static void add_ci_labels(const struct run_options *o, const struct ci_context *ci,
			  struct json_out *j)
{
	const struct {
		const char *key, *value;
	} labels[] = { { "ci.system", ci->system },
		       { "ci.repository", ci->repository },
		       { "ci.run-id", ci->run_id },
		       { "ci.job", ci->job } };

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (labels[i].value && !label_given(o, labels[i].key))
			json_add_string(j, labels[i].key, labels[i].value);
}

static int build_request(const struct run_options *o, struct json_out *j)
{
	struct ci_context ci;
	const char *principal;
	char why[256];

	if (workload_name_check(o->workload, why, sizeof(why)) ||
	    (o->principal && workload_principal_check(o->principal, why, sizeof(why)))) {
		fprintf(stderr, "actgate: run: %s\n", why);
		return -EINVAL;
	}
	/* A CI variable that cannot be a label refuses the run: never a job labelled wrong. */
	if (identity_ci_context(env_lookup, NULL, &ci, why, sizeof(why))) {
		fprintf(stderr, "actgate: run: CI context: %s\n", why);
		return -EINVAL;
	}
	/* --delegated-by wins over the CI actor. */
	principal = o->principal ? o->principal : ci.principal[0] ? ci.principal : NULL;
	json_out_init(j);
	json_object_begin(j);
	json_add_string(j, "verb", "run");
	json_add_string(j, "workload", o->workload);
	if (principal)
		json_add_string(j, "principal", principal);
	if (o->token)
		json_add_string(j, "delegation_token", o->token);
	if (o->ttl_ns)
		json_add_u64(j, "ttl_ms", o->ttl_ns / 1000000);
	if (o->label_count > LABELS_MAX) {
		fprintf(stderr, "actgate: run: at most %d labels\n", LABELS_MAX);
		return -EINVAL;
	}
	json_key_object_begin(j, "labels");
	for (size_t i = 0; i < o->label_count; i++) {
		const char *eq = strchr(o->labels[i], '=');
		char key[LABEL_KEY_MAX + 2];
		size_t klen;

		klen = eq ? (size_t)(eq - o->labels[i]) : 0;
		if (!eq || klen == 0 || klen > LABEL_KEY_MAX) {
			fprintf(stderr, "actgate: run: --label %s: expected KEY=VALUE\n", o->labels[i]);
			return -EINVAL;
		}
		memcpy(key, o->labels[i], klen);
		key[klen] = '\0';
		if (workload_label_check(key, eq + 1, why, sizeof(why))) {
			fprintf(stderr, "actgate: run: %s\n", why);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (!strncmp(o->labels[k], o->labels[i], klen + 1)) {
				fprintf(stderr, "actgate: run: --label %s: label %s is given twice\n",
					o->labels[i], key);
				return -EINVAL;
			}
		}
		json_add_string(j, key, eq + 1);
	}
	if (o->label_count + 4 > LABELS_MAX && ci.system) {
		fprintf(stderr, "actgate: run: at most %d labels, CI labels included\n", LABELS_MAX);
		return -EINVAL;
	}
	add_ci_labels(o, &ci, j);
	json_object_end(j);
	/* Lists travel as objects {"0": V, ...}: the control protocol's messages are one level. */
	if (o->policy_count) {
		json_key_object_begin(j, "policies");
		for (size_t i = 0; i < o->policy_count; i++) {
			char k[24];

			snprintf(k, sizeof(k), "%zu", i);
			json_add_string(j, k, o->policies[i]);
		}
		json_object_end(j);
	}
	if (o->allow_count) {
		json_key_object_begin(j, "allow");
		for (size_t i = 0; i < o->allow_count; i++) {
			char k[24];

			snprintf(k, sizeof(k), "%zu", i);
			json_add_string(j, k, o->allow[i]);
		}
		json_object_end(j);
	}
	json_object_end(j);
	return 0;
}

/*
 * In the child: join the workload's cgroup, then exec. Failures are sent to
 * the parent through report_fd (close-on-exec, so a successful exec sends
 * nothing) as an errno and a stage byte.
 */
static void child_exec(const char *cgroup_dir, char **argv, int report_fd)
{
	char procs[PATH_MAX];
	int msg[2];
	int fd = -2;

	/* NULL: actgated moved us already (a sub-workload, docs/delegation.md). */
	if (cgroup_dir) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dir);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
	}
	if (fd == -1 || (fd >= 0 && write(fd, "0", 1) != 1)) {
		msg[0] = errno;
		msg[1] = 0;
		if (write(report_fd, msg, sizeof(msg)) < 0)
			_exit(RUN_EXIT_FAILED);
		_exit(RUN_EXIT_FAILED);
	}
	if (fd >= 0)
		close(fd);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execvp(argv[0], argv);
	msg[0] = errno;
	msg[1] = 1;
	if (write(report_fd, msg, sizeof(msg)) < 0)
		_exit(RUN_EXIT_FAILED);
	_exit(errno == ENOENT ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_EXEC);
}

int run_workload(const struct run_options *o)
{
	struct json_msg reply = { 0 };
	struct json_out req = { 0 };
	const char *cgroup_dir;
	char why[1024];
	int fd = -1, pipefd[2] = { -1, -1 }, status, msg[2];
	int ret = RUN_EXIT_FAILED;
	ssize_t n;
	pid_t child;

	if (build_request(o, &req))
		goto out;
	if (client_connect(o->socket_path, &fd, why, sizeof(why))) {
		fprintf(stderr, "actgate: run: cannot reach actgated: %s\n", why);
		goto out;
	}
	if (client_request(fd, &req, &reply, why, sizeof(why))) {
		fprintf(stderr, "actgate: run: %s\n", why);
		goto out;
	}
	cgroup_dir = json_msg_string(&reply, "cgroup_dir");
	if (!cgroup_dir) {
		fprintf(stderr, "actgate: run: actgated's reply names no cgroup\n");
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "actgate: workload %s (id %s) under %s %s in cgroup %s\n",
			o->workload, json_msg_string(&reply, "workload_id"),
			strchr(json_msg_string(&reply, "policies") ?: "", ',') ? "policies" : "policy",
			json_msg_string(&reply, "policies"), json_msg_string(&reply, "cgroup"));
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "actgate: run: pipe: %s\n", strerror(errno));
		goto out;
	}
	/* Keep our own terminal signals from killing us before the child reports. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, forward_signal);
	signal(SIGHUP, forward_signal);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "actgate: run: fork: %s\n", strerror(errno));
		goto out;
	}
	if (child == 0) {
		const char *joined = json_msg_string(&reply, "joined");

		close(pipefd[0]);
		child_exec(joined && !strcmp(joined, "true") ? NULL : cgroup_dir, o->argv, pipefd[1]);
	}
	forward_to = child;
	close(pipefd[1]);
	pipefd[1] = -1;
	while ((n = read(pipefd[0], msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(msg))
		fprintf(stderr, "actgate: run: %s: %s\n", msg[1] ? o->argv[0] : "cannot join the cgroup",
			strerror(msg[0]));
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "actgate: run: waitpid: %s\n", strerror(errno));
			goto out;
		}
	}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
out:
	/* Closing the connection tells actgated the workload's command has ended. */
	if (fd >= 0)
		close(fd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	json_msg_free(&reply);
	json_out_free(&req);
	return ret;
}

/* ---- the verb ---- */

/* --delegation-token FILE: its text without surrounding whitespace (at most 16 KiB). */
static int read_token(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n, start = 0;

	if (!f) {
		fprintf(stderr, "actgate: run: --delegation-token %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(16 * 1024 + 2);
	n = buf ? fread(buf, 1, 16 * 1024 + 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n > 16 * 1024) {
		fprintf(stderr, "actgate: run: --delegation-token %s: %s\n", path,
			!buf ? "out of memory" : n ? "longer than 16 KiB" : "empty");
		free(buf);
		return -1;
	}
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	buf[n] = '\0';
	memmove(buf, buf + start, n - start + 1);
	free(*out);
	*out = buf;
	return 0;
}

static void run_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate run --workload NAME [--label K=V]... [--delegated-by PRINCIPAL]\n"
		"                   [--delegation-token FILE] [--policy P]... [--allow ACTION:TARGET]...\n"
		"                   [--ttl DURATION]"
		" [--socket PATH] [--quiet] -- CMD [ARG]...\n"
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
		"  -T, --delegation-token FILE  a signed JWT (RFC 8693) that says who: actgated\n"
		"                             verifies it against its delegation_trust (issuer,\n"
		"                             audience, keys, expiry) and takes its sub as the\n"
		"                             principal; refused when none is configured\n"
		"  -p, --policy P             a policy to hold the workload to besides those that\n"
		"                             select it (repeatable; policies compose, so it can\n"
		"                             only take away)\n"
		"  -a, --allow ACTION:TARGET  from inside a workload: a rule beyond the parent's\n"
		"                             (exec:PATH, open:PATH, connect:ADDRESS:PORT), given\n"
		"                             only where the parent's delegate: lists it\n"
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
		"From inside a governed workload, CMD becomes its sub-workload: a cgroup below\n"
		"the parent's, held to the parent's policies and its own (attenuation), never\n"
		"longer than the parent's --ttl, denied once the parent ends unless the\n"
		"parent's delegate: says it may outlive it; actgate run itself moves into it.\n"
		"Every such request is recorded with its chain (docs/delegation.md).\n"
		"\n"
		"Exit status: CMD's status (128+N if killed by signal N); 125 if actgate could\n"
		"not set the workload up; 126 if CMD could not be executed (for example denied\n"
		"by the policy); 127 if CMD was not found.\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ "delegated-by", required_argument, NULL, 'd' },
		{ "delegation-token", required_argument, NULL, 'T' },
		{ "ttl", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "allow", required_argument, NULL, 'a' },
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
	o.policies = calloc((size_t)argc, sizeof(*o.policies));
	o.allow = calloc((size_t)argc, sizeof(*o.allow));
	if (!o.labels || !o.policies || !o.allow) {
		ret = RUN_EXIT_FAILED;
		goto out;
	}
	/* '+': stop at the first non-option, so CMD's own options stay CMD's. */
	while ((opt = getopt_long(argc, argv, "+w:l:d:T:t:p:a:s:qh", options, NULL)) != -1) {
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
		case 'T':
			if (read_token(optarg, &o.token)) {
				ret = RUN_EXIT_FAILED;
				goto out;
			}
			break;
		case 'p':
			o.policies[o.policy_count++] = optarg;
			break;
		case 'a':
			o.allow[o.allow_count++] = optarg;
			break;
		case 't':
			if (duration_parse(optarg, &o.ttl_ns, why, sizeof(why)) ||
			    o.ttl_ns < 1000000) {
				fprintf(stderr, "actgate: run: --ttl %s: %s\nTry 'actgate run --help'.\n",
					optarg, o.ttl_ns < 1000000 && !why[0] ? "at least 1ms" : why);
				ret = RUN_EXIT_FAILED;
				goto out;
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
			ret = 0;
			goto out;
		default:
			cli_option_error("run", argv, "+w:l:d:T:t:p:a:s:qh", options);
			ret = RUN_EXIT_FAILED;
			goto out;
		}
	}
	if (!o.workload || optind >= argc) {
		fprintf(stderr, "actgate: run: %s\nTry 'actgate run --help'.\n",
			!o.workload ? "--workload NAME is required" : "no command given after --");
		ret = RUN_EXIT_FAILED;
		goto out;
	}
	o.socket_path = client_socket_path(socket_flag);
	o.argv = &argv[optind];
	ret = run_workload(&o);
out:
	free(o.labels);
	free(o.policies);
	free(o.allow);
	free(o.token);
	return ret;
}
