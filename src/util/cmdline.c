/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "util/cmdline.h"

void cmdline_option_problem(char *const argv[], const char *shortopts,
			    const struct option *longopts, char *buf, size_t size)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const char *eq;
	size_t name_len;

	/* A short option: optopt names it; it is known when the option string holds it. */
	if (optopt > 0 && optopt < 256 && strncmp(arg, "--", 2) != 0) {
		const char *at = strchr(shortopts, optopt);

		if (at && optopt != ':')
			snprintf(buf, size, "option '-%c' requires an argument", optopt);
		else
			snprintf(buf, size, "unknown option '-%c'", optopt);
		return;
	}
	if (strncmp(arg, "--", 2) != 0) {
		snprintf(buf, size, "unknown option '%s'", arg);
		return;
	}
	eq = strchr(arg, '=');
	name_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	for (const struct option *o = longopts; o && o->name; o++) {
		if (strlen(o->name) != name_len || strncmp(o->name, arg + 2, name_len))
			continue;
		if (o->has_arg == no_argument && eq)
			snprintf(buf, size, "option '--%s' takes no argument", o->name);
		else
			snprintf(buf, size, "option '--%s' requires an argument", o->name);
		return;
	}
	/* Not a name, or an abbreviation that fits several. */
	snprintf(buf, size, "unknown option '%.*s'", (int)(eq ? (size_t)(eq - arg) : strlen(arg)),
		 arg);
}

int cmdline_option_error(const char *prog, const char *help, char *const argv[],
			 const char *shortopts, const struct option *longopts)
{
	char problem[256];

	cmdline_option_problem(argv, shortopts, longopts, problem, sizeof(problem));
	fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, problem, help);
	return 2;
}
