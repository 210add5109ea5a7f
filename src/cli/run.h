/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgate run: a command as a governed workload in a cgroup of its own. */
#ifndef ACTGATE_RUN_H
#define ACTGATE_RUN_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses of `actgate run` itself, as env(1) and timeout(1) use them. */
#define RUN_EXIT_FAILED 125     /* actgate could not set the workload up */
#define RUN_EXIT_CANNOT_EXEC 126 /* CMD exists but could not be executed (e.g. denied) */
#define RUN_EXIT_NOT_FOUND 127   /* CMD was not found */

struct run_options {
	const char *socket_path;
	const char *workload;
	const char *principal;  /* NULL: none */
	const char **labels;    /* "K=V" */
	size_t label_count;
	char **argv;            /* CMD and its arguments, NULL-terminated */
	int quiet;              /* no note about the workload on stderr */
	uint64_t ttl_ns;        /* the workload's time to live (--ttl); 0: none */
	const char **policies;  /* --policy names */
	size_t policy_count;
	const char **allow;     /* --allow ACTION:TARGET (a sub-workload's widened rules) */
	size_t allow_count;
	char *token;            /* --delegation-token FILE's content, trimmed; NULL: none */
};

/* Returns CMD's exit status (128 + N when killed by signal N) or one of the above. */
int run_workload(const struct run_options *o);

/* `actgate run ...`: argv[0] is "run". Returns what run_workload returns, or RUN_EXIT_FAILED. */
int cmd_run(int argc, char **argv);

#endif /* ACTGATE_RUN_H */
