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

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "util/cmdline.h"
#include "util/diag.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/version.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: actgated [--config FILE] [OPTION]...\n"
		"Load the policies, attach the BPF LSM programs and journal every decision of\n"
		"governed workloads until stopped (SIGTERM or SIGINT). The programs and maps\n"
		"are pinned: they keep enforcing when actgated stops or dies, and the next\n"
		"actgated adopts them (`actgate detach` stops enforcement).\n"
		"\n"
		"Settings come from the configuration file, then from the options, which\n"
		"override it (actgated(8) lists the file's keys).\n"
		"\n"
		"  --config FILE        the configuration file; it must exist [" DEFAULT_CONFIG_PATH "\n"
		"                       when there is one]\n"
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
		"  --signals-trust FILE issuers whose signed event tokens are taken, and the\n"
		"                       principals their subjects name (docs/signals.md) [none]\n"
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
		"  --delegation-trust FILE  issuer, audience and keys (JSON) that verify\n"
		"                       `actgate run --delegation-token` [none: refused]\n"
		"  --check-config       validate the configuration and the policies, then exit\n"
		"  -v, --verbose        also show libbpf's debug output (verifier logs)\n"
		"  -h, --help           show this help\n"
		"  --version            print the version and exit\n"
		"\n"
		"Exit status: 0 after a clean stop or a good --check-config; 1 when it cannot\n"
		"start or the configuration or a policy has an error (the reason is logged; it\n"
		"never runs without enforcing); 2 on usage errors.\n");
}

#define OPT_SETTING 0x100 /* + enum config_setting */

int main(int argc, char **argv)
{
	static const char shortopts[] = "vh";
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "policy-dir", required_argument, NULL, OPT_SETTING + CONFIG_POLICY_DIR },
		{ "journal-dir", required_argument, NULL, OPT_SETTING + CONFIG_JOURNAL_DIR },
		{ "journal-key", required_argument, NULL, OPT_SETTING + CONFIG_JOURNAL_KEY },
		{ "fsync-every", required_argument, NULL, OPT_SETTING + CONFIG_FSYNC_EVERY },
		{ "fsync-interval", required_argument, NULL, OPT_SETTING + CONFIG_FSYNC_INTERVAL },
		{ "socket", required_argument, NULL, OPT_SETTING + CONFIG_SOCKET },
		{ "cgroup-parent", required_argument, NULL, OPT_SETTING + CONFIG_CGROUP_PARENT },
		{ "socket-group", required_argument, NULL, OPT_SETTING + CONFIG_SOCKET_GROUP },
		{ "spool-dir", required_argument, NULL, OPT_SETTING + CONFIG_SPOOL_DIR },
		{ "watch-cgroup", required_argument, NULL, OPT_SETTING + CONFIG_WATCH_CGROUPS },
		{ "pin-dir", required_argument, NULL, OPT_SETTING + CONFIG_PIN_DIR },
		{ "state-dir", required_argument, NULL, OPT_SETTING + CONFIG_STATE_DIR },
		{ "ring-buffer-size", required_argument, NULL, OPT_SETTING + CONFIG_RING_BUFFER_SIZE },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, OPT_SETTING + CONFIG_VERBOSE },
		{ "signals-trust", required_argument, NULL, OPT_SETTING + CONFIG_SIGNALS_TRUST },
		{ "delegation-trust", required_argument, NULL,
		  OPT_SETTING + CONFIG_DELEGATION_TRUST },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct daemon_config flags = { 0 }, cfg = { 0 };
	struct config_source src = { .path = DEFAULT_CONFIG_PATH, .flags = &flags };
	struct diag_list diags = { 0 };
	char why[512];
	int opt, check_only = 0, ret;

	opterr = 0; /* our own one-line message: util/cmdline.h */
	while ((opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		if (opt >= OPT_SETTING && opt < OPT_SETTING + CONFIG_NR_SETTINGS) {
			if (config_set_flag(&flags, (enum config_setting)(opt - OPT_SETTING), optarg,
					    why, sizeof(why))) {
				fprintf(stderr, "actgated: %s\n", why);
				daemon_config_free(&flags);
				return EXIT_USAGE;
			}
			continue;
		}
		switch (opt) {
		case 'f':
			src.path = optarg;
			src.required = true;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'v':
			flags.verbose = true;
			flags.given |= 1u << CONFIG_VERBOSE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			daemon_config_free(&flags);
			return actgate_print_version("actgated");
		default:
			daemon_config_free(&flags);
			return cmdline_option_error("actgated", "actgated", argv, shortopts, options);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "actgated: unexpected argument '%s'\nTry 'actgated --help'.\n",
			argv[optind]);
		daemon_config_free(&flags);
		return EXIT_USAGE;
	}
	ret = config_resolve(&src, &cfg, &diags);
	log_diags(&diags);
	diag_list_free(&diags);
	if (ret) {
		fprintf(stderr, "actgated: %s: the configuration has errors\n", src.path);
		ret = 1;
	} else if (check_only) {
		ret = daemon_check_config(&cfg, &src) ? 1 : 0;
	} else {
		ret = daemon_run(&cfg, &src) ? 1 : 0;
	}
	daemon_config_free(&cfg);
	daemon_config_free(&flags);
	return ret;
}
