/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate detach`: stop enforcement by removing the pins and the daemon's state. */
#include <linux/types.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/common.h"
#include "cli/detach.h"
#include "kernel/pins.h"
#include "kernel/state.h"
#include "util/paths.h"

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

int cmd_detach(int argc, char **argv)
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
			return cli_option_error("detach", argv, "h", options);
		}
	}
	if (optind < argc)
		return cli_usage_error("detach", "unexpected argument '%s'", argv[optind]);
	if (pin_dir[0] != '/')
		return cli_usage_error("detach", "--pin-dir %s: an absolute path is needed", pin_dir);
	if (state_dir[0] != '/')
		return cli_usage_error("detach", "--state-dir %s: an absolute path is needed", state_dir);
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
