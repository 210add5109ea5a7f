/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the programs say about a refused option (util/cmdline.c): getopt_long
 * run on real command lines with opterr off, as both mains run it.
 */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/cmdline.h"

static const struct option options[] = {
	{ "json", no_argument, NULL, 'J' },
	{ "socket", required_argument, NULL, 's' },
	{ "socket-group", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* getopt_long over args until it refuses one; that one's description. */
static const char *problem(int argc, char **argv)
{
	static char buf[256];
	int opt;

	optind = 0; /* a full reset of getopt's state, between command lines */
	opterr = 0;
	buf[0] = '\0';
	while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) != -1)
		if (opt == '?' || opt == ':') {
			cmdline_option_problem(argv, "s:h", options, buf, sizeof(buf));
			break;
		}
	return buf;
}

#define PROBLEM(...)                                                            \
	problem(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *), (char *[]){ __VA_ARGS__ })

static void test_problems(void **state)
{
	(void)state;
	assert_string_equal(PROBLEM("actgate", "--bogus"), "unknown option '--bogus'");
	assert_string_equal(PROBLEM("actgate", "--bogus=1"), "unknown option '--bogus'");
	assert_string_equal(PROBLEM("actgate", "--json", "-x"), "unknown option '-x'");
	assert_string_equal(PROBLEM("actgate", "--socket"), "option '--socket' requires an argument");
	assert_string_equal(PROBLEM("actgate", "-s"), "option '-s' requires an argument");
	assert_string_equal(PROBLEM("actgate", "--json=yes"), "option '--json' takes no argument");
	/* An abbreviation that fits two options is refused too, and named as given. */
	assert_string_equal(PROBLEM("actgate", "--sock", "x"), "unknown option '--sock'");
	/* Nothing refused: nothing said. */
	assert_string_equal(PROBLEM("actgate", "--json", "--socket", "/s"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problems),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
