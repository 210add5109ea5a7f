/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgated: command line, then the daemon. */
#include <linux/types.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "util/paths.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: actgated [OPTION]...\n"
		"Load the policies, attach the BPF LSM programs and journal every decision of\n"
		"governed workloads until stopped (SIGTERM or SIGINT). The programs and maps\n"
		"are pinned: they keep enforcing when actgated stops or dies, and the next\n"
		"actgated adopts them (`actgate detach` stops enforcement).\n"
		"\n"
		"  --policy-dir DIR     policy files (*.yaml, *.yml) [" DEFAULT_POLICY_DIR "]\n"
		"  --journal-dir DIR    decision journal [" DEFAULT_JOURNAL_DIR "]\n"
		"  --journal-key FILE   the journal's seal key, outside the journal directory;\n"
		"                       created (32 random bytes, mode 0600) when missing\n"
		"                       [" DEFAULT_JOURNAL_KEY "]\n"
		"  --fsync-every N      fdatasync the journal after N records [1000]\n"
		"  --fsync-interval MS  ... or MS ms after the first unsynced record [100]\n"
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
		"  --pin-dir DIR        where the programs and maps are pinned, on a bpffs\n"
		"                       [" DEFAULT_PIN_DIR "]\n"
		"  --state-dir DIR      the daemon's state, kept for the next one [" DEFAULT_STATE_DIR "]\n"
		"  --ring-buffer-size BYTES  size of the decision ring buffer when the pins are\n"
		"                       made: a power of 2 from 4096 [16777216]; for tests\n"
		"  --check-config       validate the policies and options, then exit\n"
		"  -v, --verbose        also show libbpf's debug output (verifier logs)\n"
		"  -h, --help           show this help\n"
		"\n"
		"Exit status: 0 after a clean stop or a good --check-config; 1 when it cannot\n"
		"start (the reason is logged; it never runs without enforcing); 2 on usage errors.\n");
}

/* A ring buffer size the kernel takes: a power of 2, a multiple of the page size. */
static int parse_ring_size(const char *arg, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || arg[0] < '1' || arg[0] > '9' ||
	    v < (unsigned long long)sysconf(_SC_PAGESIZE) || v > (1ull << 30) || (v & (v - 1))) {
		fprintf(stderr,
			"actgated: --ring-buffer-size %s: a power of 2 from the page size (%ld) to "
			"1073741824\n",
			arg, sysconf(_SC_PAGESIZE));
		return -1;
	}
	*out = v;
	return 0;
}

/* A whole number 1..UINT32_MAX for a flag; -1 after saying why. */
static int parse_u32_flag(const char *flag, const char *arg, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v == 0 || v > UINT32_MAX) {
		fprintf(stderr, "actgated: %s %s: expected a whole number from 1 to %u\n", flag, arg,
			UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
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
		{ "journal-key", required_argument, NULL, 'k' },
		{ "fsync-every", required_argument, NULL, 'F' },
		{ "fsync-interval", required_argument, NULL, 'I' },
		{ "socket", required_argument, NULL, 's' },
		{ "cgroup-parent", required_argument, NULL, 'c' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "spool-dir", required_argument, NULL, 'D' },
		{ "watch-cgroup", required_argument, NULL, 'W' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "ring-buffer-size", required_argument, NULL, 'R' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon_config cfg = {
		.policy_dir = DEFAULT_POLICY_DIR,
		.journal_dir = DEFAULT_JOURNAL_DIR,
		.journal_key = DEFAULT_JOURNAL_KEY,
		.socket_path = DEFAULT_SOCKET_PATH,
		.cgroup_parent = DEFAULT_CGROUP_PARENT,
		.pin_dir = DEFAULT_PIN_DIR,
		.state_dir = DEFAULT_STATE_DIR,
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
		case 'k':
			cfg.journal_key = optarg;
			break;
		case 'F':
			if (parse_u32_flag("--fsync-every", optarg, &cfg.fsync_every_records))
				return EXIT_USAGE;
			break;
		case 'I':
			if (parse_u32_flag("--fsync-interval", optarg, &cfg.fsync_every_ms))
				return EXIT_USAGE;
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
		case 'D':
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
		case 'P':
			cfg.pin_dir = optarg;
			break;
		case 'S':
			cfg.state_dir = optarg;
			break;
		case 'R':
			if (parse_ring_size(optarg, &cfg.events_bytes))
				return EXIT_USAGE;
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
	if (cfg.pin_dir[0] != '/' || cfg.state_dir[0] != '/') {
		fprintf(stderr, "actgated: --pin-dir and --state-dir take absolute paths\n");
		return EXIT_USAGE;
	}
	if (check_only)
		return daemon_check_config(&cfg) ? 1 : 0;
	return daemon_run(&cfg) ? 1 : 0;
}
