/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate: the command-line interface, git-style verbs. Each verb family
 * lives in a file of its own (cli/run.c, cli/policy.c, cli/signal.c, ...);
 * here are only the verb table and what comes before a verb.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/common.h"
#include "cli/detach.h"
#include "cli/doctor.h"
#include "cli/grant.h"
#include "cli/journal.h"
#include "cli/policy.h"
#include "cli/reload.h"
#include "cli/run.h"
#include "cli/signal.h"
#include "cli/status.h"
#include "util/version.h"

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "run", cmd_run, "run a command as a governed workload" },
	{ "replay", cmd_replay, "print recorded decisions (filters, stats, tree, what-if)" },
	{ "verify", cmd_verify, "check a journal for damage and tampering" },
	{ "export", cmd_export, "write decisions for SIEM pipelines (jsonl, OCSF)" },
	{ "policy", cmd_policy, "policy check | reload | test | suggest | diff" },
	{ "reload", cmd_reload, "reload actgated's configuration and policy, and wait" },
	{ "status", cmd_status, "what actgated enforces and has recorded" },
	{ "signal", cmd_signal, "signal set | clear | list | ingest: live facts for `when:`" },
	{ "grant", cmd_grant, "a time-bound exception for a running workload" },
	{ "revoke", cmd_revoke, "deny everything a workload or a principal's workloads do" },
	{ "detach", cmd_detach, "stop enforcement: remove the pinned programs and maps" },
	{ "doctor", cmd_doctor, "can actgated enforce here? each check with its fix" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: actgate <command> [OPTION]... [ARG]...\n"
		     "Authorize every action of ephemeral workloads with BPF LSM policy.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\n'actgate <command> --help' describes each command and its exit status;\n"
		     "'actgate --version' prints the version.\n");
}

int main(int argc, char **argv)
{
	opterr = 0; /* each verb says which option it refused, in one line (cli_option_error) */
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return actgate_print_version("actgate");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-')
		fprintf(stderr, "actgate: unknown option '%s'\n", argv[1]);
	else
		fprintf(stderr, "actgate: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "Try 'actgate --help'.\n");
	return EXIT_USAGE;
}
