/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Durations from the command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/duration.h"

#define SEC 1000000000ull

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
		{ "90", 90 * SEC },	  { "90s", 90 * SEC },	     { "5m", 300 * SEC },
		{ "2h", 7200 * SEC },	  { "1d", 86400 * SEC },     { "250ms", 250000000 },
		{ "366d", 366 * 86400 * SEC }, { "1h30m", 5400 * SEC },  { "2d1s", 172801 * SEC },
		{ "1m30s", 90 * SEC },	  { "1s500ms", 1500000000 }, { "0h5m", 300 * SEC },
	};
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "", "empty duration; write a number and a unit, like 30s or 5m" },
		{ "s", "\"s\": a duration starts with a number, like 30s or 5m" },
		{ "-5s", "\"-5s\": a duration starts with a number, like 30s or 5m" },
		{ "0s", "\"0s\": a duration must be more than zero" },
		{ "5 m", "\"5 m\": unknown unit \" m\"; use ms, s, m, h or d" },
		{ "5y", "\"5y\": unknown unit \"y\"; use ms, s, m, h or d" },
		{ "1h30", "\"1h30\": the last number has no unit" },
		{ "30m1h", "\"30m1h\": units must go from the largest to the smallest, each once, like 1h30m" },
		{ "1m1m", "\"1m1m\": units must go from the largest to the smallest, each once, like 1h30m" },
		{ "1h-5m", "\"1h-5m\": unknown unit \"-5m\"; use ms, s, m, h or d" },
		{ "0h0m", "\"0h0m\": a duration must be more than zero" },
		{ "366d1s", "\"366d1s\" is too long; at most 366d" },
		{ "367d", "\"367d\" is too long; at most 366d" },
		{ "99999999999999999999999", "\"99999999999999999999999\" is too long; at most 366d" },
	};
	char why[128];
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (duration_parse(good[i].text, &ns, why, sizeof(why)))
			fail_msg("%s refused: %s", good[i].text, why);
		assert_int_equal(ns, good[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(duration_parse(bad[i].text, &ns, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	duration_format(5400 * SEC, buf, sizeof(buf));
	assert_string_equal(buf, "1h30m");
	duration_format(250000000, buf, sizeof(buf));
	assert_string_equal(buf, "250ms");
	duration_format(2 * 86400 * SEC + 1 * SEC, buf, sizeof(buf));
	assert_string_equal(buf, "2d1s");
	duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
