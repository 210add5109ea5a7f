/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Journal queries: the record filter, and times parsed from a command line
 * and printed in RFC 3339.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_journal.h"
#include "journal/query.h"

static void test_format_time(void **state)
{
	char buf[JQUERY_TIME_SIZE];

	(void)state;
	jquery_format_time(1795871657123456789ull, buf);
	assert_string_equal(buf, "2026-11-28T13:14:17.123Z");
	jquery_format_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	jquery_format_time(1999999999ull, buf);
	assert_string_equal(buf, "1970-01-01T00:00:01.999Z");
	jquery_format_time(UINT64_MAX, buf);
	assert_string_equal(buf, "2554-07-21T23:34:33.709Z");
}

static void test_parse_time(void **state)
{
	char why[256];
	uint64_t ns;

	(void)state;
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17Z", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0);
	assert_int_equal(jquery_parse_time("2026-11-28t13:14:17.25z", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 + 250000000ull);
	assert_int_equal(jquery_parse_time("2026-11-28T14:14:17+01:00", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0);
	assert_int_equal(jquery_parse_time("2026-11-28T12:44:17.000000001-00:30", 0, &ns, why,
					   sizeof(why)), 0);
	assert_true(ns == T0 + 1);
	assert_int_equal(jquery_parse_time("2026-11-28", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - (13 * 3600 + 14 * 60 + 17) * 1000000000ull);
	assert_int_equal(jquery_parse_time("2h", T0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - 7200000000000ull);
	assert_int_equal(jquery_parse_time("30m", T0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - 1800000000000ull);
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "offset"));
	assert_int_equal(jquery_parse_time("2026-02-31T00:00:00Z", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2026-11-28T25:00:00Z", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("yesterday", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "RFC 3339"));
	assert_int_equal(jquery_parse_time("2x", T0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2h", 1000, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17Zjunk", 0, &ns, why, sizeof(why)),
			 -EINVAL);
}

/* Every field a filter can ask about, on the story's decisions and on odd records. */
static void test_filter_match(void **state)
{
	const char *team_b[] = { "team=b" }, *both[] = { "team=b", "env=ci" }, *bare[] = { "team" };
	const char *first[] = { "a=1" }, *second[] = { "a=2" };
	struct jquery_filter f = JQUERY_FILTER_ANY;
	struct journal_record r[10], none = { .action = ACTGATE_ACTION_EXEC }, odd;
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		r[i] = decision((uint32_t)i);
		assert_true(jquery_match(NULL, &r[i]));
		assert_true(jquery_match(&f, &r[i]));
	}
	assert_true(jquery_match(&f, &none)); /* a record without texts */

	/* The workload: a glob on the whole name. */
	f.workload_glob = "ci:*";
	assert_true(jquery_match(&f, &r[0]));
	assert_true(jquery_match(&f, &r[5]));
	assert_false(jquery_match(&f, &none));
	f.workload_glob = "*";
	assert_true(jquery_match(&f, &none));
	f.workload_glob = "ci:b[a-u]ild";
	assert_true(jquery_match(&f, &r[0]));
	assert_false(jquery_match(&f, &r[5]));
	f.workload_glob = "ci:buil";
	assert_false(jquery_match(&f, &r[0]));

	/* Action and verdict. */
	f = JQUERY_FILTER_ANY;
	f.action = ACTGATE_ACTION_CONNECT;
	assert_true(jquery_match(&f, &r[3]));
	assert_false(jquery_match(&f, &r[0]));
	f.action = -1;
	f.verdict = ACTGATE_VERDICT_DENY;
	assert_true(jquery_match(&f, &r[1]));
	assert_true(jquery_match(&f, &r[2]));
	assert_false(jquery_match(&f, &r[3]));

	/* Time: since is inclusive, until exclusive. */
	f = JQUERY_FILTER_ANY;
	f.since_ns = T0 + 2000000000ull;
	f.until_ns = T0 + 5000000000ull;
	assert_false(jquery_match(&f, &r[1]));
	assert_true(jquery_match(&f, &r[2]));
	assert_true(jquery_match(&f, &r[4]));
	assert_false(jquery_match(&f, &r[5]));

	/* The principal: exactly. */
	f = JQUERY_FILTER_ANY;
	f.principal = "bob";
	assert_true(jquery_match(&f, &r[5]));
	assert_false(jquery_match(&f, &r[0]));
	assert_false(jquery_match(&f, &none));
	f.principal = "bo";
	assert_false(jquery_match(&f, &r[5]));

	/* Labels: every K=V asked for; "K" alone asks for an empty value. */
	f = JQUERY_FILTER_ANY;
	f.labels = team_b;
	f.n_labels = 1;
	assert_true(jquery_match(&f, &r[5]));
	assert_false(jquery_match(&f, &r[0]));
	f.labels = both;
	f.n_labels = 2;
	assert_true(jquery_match(&f, &r[5]));
	assert_false(jquery_match(&f, &r[0]));
	f.labels = bare;
	f.n_labels = 1;
	assert_false(jquery_match(&f, &r[5]));
	/* A repeated key keeps its first value, as replay reads labels. */
	odd = r[0];
	odd.labels = "a=1,a=2";
	f.labels = first;
	assert_true(jquery_match(&f, &odd));
	f.labels = second;
	assert_false(jquery_match(&f, &odd));

	/* Rule and target: globs, '*' crossing '/'. */
	f = JQUERY_FILTER_ANY;
	f.rule_glob = "ci:*.deny\\[*\\]";
	assert_true(jquery_match(&f, &r[1]));
	assert_true(jquery_match(&f, &r[2]));
	assert_false(jquery_match(&f, &r[0]));
	f.rule_glob = NULL;
	f.target_glob = "/*";
	assert_true(jquery_match(&f, &r[1]));
	assert_false(jquery_match(&f, &r[3]));

	/* The pid: the thread or the process. */
	f = JQUERY_FILTER_ANY;
	f.pid = 1003;
	assert_true(jquery_match(&f, &r[3]));
	assert_true(jquery_match(&f, &r[8]));
	assert_false(jquery_match(&f, &r[2]));
	odd = r[0];
	odd.tgid = 1003;
	assert_true(jquery_match(&f, &odd));

	/* All together: every condition must hold. */
	f.action = ACTGATE_ACTION_CONNECT;
	f.workload_glob = "ci:t*";
	assert_true(jquery_match(&f, &r[8]));
	assert_false(jquery_match(&f, &r[3]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_filter_match),
	};

	return cmocka_run_group_tests_name("journal/query", tests, NULL, NULL);
}
