/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's start outside the kernel, natively: what actgated does with
 * its policy directory before it loads the BPF programs and after (read and
 * parse the files, compile, watch the ways to the deny rules' paths and
 * check them once), for 1 and 100 policies of 1,000 path rules on files
 * that exist, as tests/bench/vm-daemon.sh loads them in the VM. Each size
 * runs in a child: its CPU time (user, system) and peak resident size.
 * Figures, never pass/fail. BENCH_DIR (default /tmp) holds the files.
 */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/pathwatch.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "util/diag.h"

#define RULES_PER_POLICY 1000

/* Policy i of dir: a subtree rule on dir/rules/oI and exact rules on its files. */
static int make_policy(const char *dir, int i)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules/o%d", dir, i);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	for (int k = 0; k < RULES_PER_POLICY; k++) {
		char file[PATH_MAX + 64];
		int fd;

		snprintf(file, sizeof(file), "%s/rules/o%d/f%d", dir, i, k);
		fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/policies/o%d.yaml", dir, i);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: o%d}\nspec:\n"
		   "  selector: {workloads: [\"other:%d\"]}\n  record: deny\n"
		   "  open:\n    default: allow\n    deny:\n      - %s/rules/o%d/\n",
		i, i, dir, i);
	for (int k = 0; k < RULES_PER_POLICY; k++)
		fprintf(f, "      - %s/rules/o%d/f%d\n", dir, i, k);
	return fclose(f) ? -errno : 0;
}

/* What generation_load and generation_follow_paths do at a start; 0 when all went well. */
static int start(const char *policies)
{
	struct policy_sources src = { 0 };
	struct policy_set set = { 0 };
	struct policy_image img;
	struct diag_list diags = { 0 };
	struct pathwatch pw;
	char changed[PATH_MAX];
	int err;

	err = policy_sources_read_dir(policies, &src, &diags);
	if (!err)
		err = policy_load_sources(&src, &set, &diags);
	if (!err)
		err = policy_compile(&set, 1, resolve_path_stat, NULL, &img, &diags);
	if (err) {
		diag_print(&diags, stderr);
		return 1;
	}
	if (pathwatch_open(&pw) || pathwatch_set(&pw, &img))
		return 1;
	/* Nothing changes here: a path found stale would be a bug. */
	return pathwatch_stale(&pw, changed, sizeof(changed)) != 0;
}

int main(void)
{
	const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
	char dir[PATH_MAX], sub[PATH_MAX + 16];
	int made = 0;

	snprintf(dir, sizeof(dir), "%s/actgate-bench-start-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("bench_start: mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof(sub), "%s/rules", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/policies", dir);
	mkdir(sub, 0755);
	printf("%-10s %10s %10s %12s\n", "rules", "user s", "system s", "peak MiB");
	for (int policies = 1; policies <= 100; policies *= 100) {
		struct rusage ru;
		int status;
		pid_t pid;

		for (; made < policies; made++) {
			if (make_policy(dir, made + 1)) {
				fprintf(stderr, "bench_start: cannot write the policies under %s\n", dir);
				return 1;
			}
		}
		pid = fork();
		if (pid == 0)
			_exit(start(sub));
		if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "bench_start: the start with %d policies failed\n", policies);
			return 1;
		}
		printf("%-10d %10.2f %10.2f %12.1f\n", policies * RULES_PER_POLICY,
		       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
		       (double)ru.ru_maxrss / 1024);
	}
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	return system(sub) ? 1 : 0;
}
