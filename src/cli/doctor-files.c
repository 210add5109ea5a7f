/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* doctor: the configuration and policies (actgated --check-config), the pins, the journal, the seal
 * key. */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actgate/abi.h"
#include "cli/doctor-internal.h"
#include "util/paths.h"

/* Below this much free space the journal is about to lose records. */
#define JOURNAL_FAIL_BYTES (64ull << 20)
#define JOURNAL_WARN_BYTES (1ull << 30)

/*
 * Run actgated --check-config [--config FILE] (no shell: the paths are
 * arguments as they are), its stdout and stderr into out. The exit status,
 * or -errno when it could not run.
 */
static int run_check_config(const struct doctor_env *env, char *out, size_t size)
{
	char *argv[] = {(char *)env->actgated, "--check-config", "--config",
			(char *)env->config_path, NULL};
	size_t n = 0;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	if (!env->config_path)
		argv[2] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execv(env->actgated, argv);
		_exit(127);
	}
	close(fds[1]);
	while (n < size - 1 && (r = read(fds[0], out + n, size - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void doctor_check_config(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *config = doctor_add_check(r, "configuration");
	struct doctor_check *policies = doctor_add_check(r, "policies");
	char out[8192] = "", first_error[1024] = "";
	bool config_bad;
	int status;

	if (!env->actgated) {
		doctor_set_result(
			config, DOCTOR_WARN, "install actgated next to actgate or in PATH",
			"actgated was not found: the configuration and policies were not checked");
		doctor_set_result(policies, DOCTOR_WARN,
				  "install actgated next to actgate or in PATH", "not checked");
		return;
	}
	/* The daemon's own check: exactly what a start would say. */
	status = run_check_config(env, out, sizeof(out));
	if (status < 0 || status == 127) {
		doctor_set_result(config, DOCTOR_WARN, NULL, "cannot run %s: %s", env->actgated,
				  status < 0 ? strerror(-status) : "exec failed");
		doctor_set_result(policies, DOCTOR_WARN, NULL, "not checked");
		return;
	}
	/* actgated's closing line when the file, not a policy, is at fault. */
	config_bad = strstr(out, ": the configuration has errors") != NULL;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (!first_error[0] && strstr(line, "error"))
			snprintf(first_error, sizeof(first_error), "%s", line);
	if (config_bad) {
		doctor_set_result(config, DOCTOR_FAIL,
				  "fix the file at the position given, then "
				  "actgated --check-config",
				  "%s", first_error);
		doctor_set_result(policies, DOCTOR_WARN, NULL,
				  "not checked: the configuration has errors");
		return;
	}
	doctor_set_result(config, DOCTOR_PASS, NULL, "%s",
			  env->config_path ? env->config_path
					   : "the default configuration (" DEFAULT_CONFIG_PATH
					     " if present)");
	if (status == 0) {
		doctor_set_result(policies, DOCTOR_PASS, NULL,
				  "actgated --check-config accepts them");
		return;
	}
	doctor_set_result(policies, DOCTOR_FAIL, "actgate policy check DIR shows every error", "%s",
			  first_error[0] ? first_error : "actgated --check-config failed");
}

void doctor_check_pins(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "pins");
	char meta[PATH_MAX];
	uint32_t abi = 0, tgid = 0;
	int err;

	snprintf(meta, sizeof(meta), "%s%s/meta", env->root, env->pin_dir);
	if (access(meta, F_OK) != 0) {
		doctor_set_result(c, DOCTOR_PASS, NULL,
				  "none in %s: actgated pins its programs at start", env->pin_dir);
		return;
	}
	if (!env->live) {
		doctor_set_result(c, DOCTOR_PASS, NULL, "a pinned set in %s (its ABI not read)",
				  env->pin_dir);
		return;
	}
	err = doctor_read_pins_abi(env->pin_dir, &abi, &tgid);
	if (err) {
		doctor_set_result(c, DOCTOR_WARN, "run as root", "%s/meta: cannot read: %s",
				  env->pin_dir, strerror(-err));
		return;
	}
	if (abi != ACTGATE_ABI_VERSION) {
		doctor_set_result(
			c, DOCTOR_WARN,
			"stop actgated, run actgate detach, start it (a gap of one start-up)",
			"the pins in %s are ABI %u, this build is ABI %u: actgated will refuse to "
			"adopt them",
			env->pin_dir, abi, ACTGATE_ABI_VERSION);
		return;
	}
	doctor_set_result(c, DOCTOR_PASS, NULL, "ABI %u in %s, %s", abi, env->pin_dir,
			  tgid ? "an actgated guards them" : "no actgated runs");
}

void doctor_check_journal(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "journal");
	char path[PATH_MAX];
	struct statvfs vfs;
	unsigned long long avail;

	if (statvfs(doctor_host_path(env, env->journal_dir, path, sizeof(path)), &vfs) < 0) {
		if (errno == ENOENT)
			doctor_set_result(c, DOCTOR_PASS, NULL,
					  "%s does not exist yet: actgated creates it",
					  env->journal_dir);
		else
			doctor_set_result(c, DOCTOR_WARN, "run as root", "%s: %s", env->journal_dir,
					  strerror(errno));
		return;
	}
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (avail < JOURNAL_FAIL_BYTES)
		doctor_set_result(
			c, DOCTOR_FAIL,
			"free space there or set journal_retain_bytes lower in actgated.yaml",
			"%s: %llu MiB free: decisions that cannot be written are counted, not kept",
			env->journal_dir, avail >> 20);
	else if (avail < JOURNAL_WARN_BYTES)
		doctor_set_result(
			c, DOCTOR_WARN,
			"keep more than the retention limit (1 GiB by default) free there",
			"%s: %llu MiB free", env->journal_dir, avail >> 20);
	else
		doctor_set_result(c, DOCTOR_PASS, NULL, "%s: %llu MiB free", env->journal_dir,
				  avail >> 20);
}

void doctor_check_key(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "seal-key");
	size_t jlen = strlen(env->journal_dir);
	char path[PATH_MAX], fix[PATH_MAX + 32];
	struct stat st;

	if (!strncmp(env->journal_key, env->journal_dir, jlen) && env->journal_key[jlen] == '/') {
		doctor_set_result(
			c, DOCTOR_FAIL, "keep the key outside the journal directory (journal_key)",
			"%s is inside the journal directory: who can rewrite the journal could "
			"re-seal it",
			env->journal_key);
		return;
	}
	if (stat(doctor_host_path(env, env->journal_key, path, sizeof(path)), &st) < 0) {
		if (errno == ENOENT)
			doctor_set_result(
				c, DOCTOR_WARN,
				"start actgated once, then keep a copy of the key off this host",
				"%s does not exist yet: actgated creates it at its first start",
				env->journal_key);
		else
			doctor_set_result(c, DOCTOR_WARN, "run as root", "%s: %s", env->journal_key,
					  strerror(errno));
		return;
	}
	if (st.st_mode & 077) {
		snprintf(fix, sizeof(fix), "chmod 600 %s", env->journal_key);
		doctor_set_result(c, DOCTOR_FAIL, fix,
				  "%s is mode %04o: readable by others, who could then forge seals",
				  env->journal_key, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (st.st_uid != 0) {
		snprintf(fix, sizeof(fix), "chown root: %s", env->journal_key);
		doctor_set_result(c, DOCTOR_WARN, fix, "%s is owned by uid %u, not root",
				  env->journal_key, (unsigned)st.st_uid);
		return;
	}
	doctor_set_result(c, DOCTOR_PASS, NULL, "%s, mode 0600, root", env->journal_key);
}
