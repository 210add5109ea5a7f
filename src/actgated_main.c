/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgated: command line, then the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: actgated [OPTION]...\n"
		"Load the policies, attach the BPF LSM programs and journal every decision of\n"
		"governed workloads until stopped (SIGTERM or SIGINT).\n"
		"\n"
		"  --policy-dir DIR     policy files (*.yaml, *.yml) [" DEFAULT_POLICY_DIR "]\n"
		"  --journal-dir DIR    decision journal [" DEFAULT_JOURNAL_DIR "]\n"
		"  --socket PATH        control socket [" DEFAULT_SOCKET_PATH "]\n"
		"  --cgroup-parent PATH cgroup (under the cgroup2 root) in which `actgate run`\n"
		"                       workloads are created [" DEFAULT_CGROUP_PARENT "]\n"
		"  --socket-group GROUP members of GROUP may use the control socket too (it is\n"
		"                       root:GROUP, mode 0660) [root alone]\n"
		"  --spool-dir DIR      CAEP event tokens (JSON) dropped into DIR are applied and\n"
		"                       removed; refused ones move to DIR/rejected [none]\n"
		"  --watch-cgroup PATH  govern the cgroups below PATH (a cgroup path, repeatable,\n"
		"                       at most 16): systemd units (systemd:NAME.service) and\n"
		"                       containers (container:ID, labels runtime, pod-uid) are\n"
		"                       found as they appear; until then, and for what nothing\n"
		"                       identifies, the policy selecting unidentified:PATH\n"
		"  --check-config       validate the policies and options, then exit\n"
		"  -v, --verbose        also show libbpf's debug output (verifier logs)\n"
		"  -h, --help           show this help\n"
		"\n"
		"Exit status: 0 after a clean stop or a good --check-config; 1 when it cannot\n"
		"start (the reason is logged; it never runs without enforcing); 2 on usage errors.\n");
}

static int check_cgroup_parent(const char *path, const char *flag)
{
	if (path[0] != '/' || strstr(path, "//") || strstr(path, "/../") || strstr(path, "/./") ||
	    strcmp(path, "/") == 0 || path[strlen(path) - 1] == '/') {
		fprintf(stderr,
			"actgated: %s %s: an absolute cgroup path below the root "
			"such as /actgate\n",
			flag, path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "journal-dir", required_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "cgroup-parent", required_argument, NULL, 'c' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "spool-dir", required_argument, NULL, 'S' },
		{ "watch-cgroup", required_argument, NULL, 'W' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon_config cfg = {
		.policy_dir = DEFAULT_POLICY_DIR,
		.journal_dir = DEFAULT_JOURNAL_DIR,
		.socket_path = DEFAULT_SOCKET_PATH,
		.cgroup_parent = DEFAULT_CGROUP_PARENT,
	};
	const char *watch[16];
	size_t watch_count = 0;
	int opt, check_only = 0;

	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			cfg.policy_dir = optarg;
			break;
		case 'j':
			cfg.journal_dir = optarg;
			break;
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'c':
			cfg.cgroup_parent = optarg;
			break;
		case 'g':
			cfg.socket_group = optarg;
			break;
		case 'S':
			cfg.spool_dir = optarg;
			break;
		case 'W':
			if (check_cgroup_parent(optarg, "--watch-cgroup"))
				return EXIT_USAGE;
			if (watch_count == 16) {
				fprintf(stderr, "actgated: --watch-cgroup: at most 16\n");
				return EXIT_USAGE;
			}
			watch[watch_count++] = optarg;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "actgated: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (check_cgroup_parent(cfg.cgroup_parent, "--cgroup-parent"))
		return EXIT_USAGE;
	cfg.watch_cgroups = watch;
	cfg.watch_count = watch_count;
	if (check_only)
		return daemon_check_config(&cfg) ? 1 : 0;
	return daemon_run(&cfg) ? 1 : 0;
}
