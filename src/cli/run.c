/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/run.h"
#include "identity/identity.h"
#include "identity/workload.h"

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
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		msg[0] = errno;
		msg[1] = 0;
		if (write(report_fd, msg, sizeof(msg)) < 0)
			_exit(RUN_EXIT_FAILED);
		_exit(RUN_EXIT_FAILED);
	}
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
		close(pipefd[0]);
		child_exec(cgroup_dir, o->argv, pipefd[1]);
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
