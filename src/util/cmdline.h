/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What both programs say about a command line getopt_long refused: one line
 * naming the option and a pointer to --help, never the whole usage (which
 * would bury the one line that matters). Callers set opterr = 0 so that
 * getopt itself prints nothing.
 */
#ifndef ACTGATE_UTIL_CMDLINE_H
#define ACTGATE_UTIL_CMDLINE_H

#include <getopt.h>
#include <stddef.h>

/*
 * Describe the option getopt_long just refused ('?' or ':'), from optopt and
 * argv[optind - 1]: "unknown option '--x'", "option '--socket' requires an
 * argument", "option '--json' takes no argument". Into buf.
 */
void cmdline_option_problem(char *const argv[], const char *shortopts,
			    const struct option *longopts, char *buf, size_t size);

/*
 * Print "PROG: <problem>" and "Try 'HELP --help'." on stderr (HELP is the
 * command whose --help explains it: "actgate policy check"). Returns 2.
 */
int cmdline_option_error(const char *prog, const char *help, char *const argv[],
			 const char *shortopts, const struct option *longopts);

#endif /* ACTGATE_UTIL_CMDLINE_H */
