/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate policy suggest end to end, without a kernel: decisions written
 * through the daemon's sink, a suggestion written with its test, the test
 * passing; a suggestion that cannot allow what happened is not written.
 */
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "actgate/abi.h"
#include "cli/policydiff.h"
#include "cli/suggest.h"
#include "journal/sink.h"
#include "policy/policytest.h"
#include "test_journal.h"

static struct journal_record job_record(uint8_t action, const char *target, uint8_t access,
					uint8_t verdict, uint8_t mode)
{
	return (struct journal_record){
		.time_ns = T0,
		.action = action,
		.verdict = verdict,
		.mode = mode,
		.reason = ACTGATE_REASON_DEFAULT,
		.access = access,
		.workload = (char *)"ci:build",
		.principal = (char *)"",
		.labels = (char *)"",
		.policy = (char *)"watch",
		.rule = (char *)"watch:open.default",
		.target = (char *)target,
		.comm = "sh",
	};
}

static void write_job(struct fixture *fx, bool with_floor_problem)
{
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	const uint8_t D = ACTGATE_VERDICT_DENY, A = ACTGATE_MODE_AUDIT;
	struct journal_record r[] = {
		job_record(ACTGATE_ACTION_EXEC, "/srv/job/build.sh", 0, D, A),
		job_record(ACTGATE_ACTION_EXEC, "/bin/busybox", 0, D, A),
		job_record(ACTGATE_ACTION_OPEN, "/srv/job/src/a.c", ACTGATE_ACCESS_READ, D, A),
		job_record(ACTGATE_ACTION_OPEN, "/srv/job/build/a.o",
			   ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_CREATE, D, A),
		job_record(ACTGATE_ACTION_OPEN, "/tmp/tmp.abc", ACTGATE_ACCESS_READ |
			   ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_CREATE, D, A),
		job_record(ACTGATE_ACTION_CONNECT, "127.0.0.1:7363/tcp", 0, D, A),
		/* Enforced: it did not happen, and stays denied. */
		job_record(ACTGATE_ACTION_EXEC, "/usr/bin/curl", 0, D, ACTGATE_MODE_ENFORCE),
		job_record(ACTGATE_ACTION_OPEN, "/etc/new.conf", ACTGATE_ACCESS_CREATE, D, A),
	};
	size_t n = sizeof(r) / sizeof(r[0]) - (with_floor_problem ? 0 : 1);
	struct jsink *s;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (size_t i = 0; i < n; i++)
		jsink_append(s, &r[i]);
	assert_int_equal(jsink_close(s), 0);
}

static int suggest(struct fixture *fx, const char *out, const char *level)
{
	char *argv[] = { "suggest", "--name", "job", "--current", "", "--level", (char *)level,
			 "--output", (char *)out, fx->dir, NULL };

	return cmd_policy_suggest(10, argv);
}

static void test_written_with_passing_tests(void **state)
{
	struct fixture *fx = *state;
	struct policytest_totals t;
	char out[160], test[160];
	char *paths[1] = { test };
	struct stat st;
	FILE *devnull = fopen("/dev/null", "w");

	write_job(fx, false);
	snprintf(out, sizeof(out), "%s/job.yaml", fx->keydir);
	snprintf(test, sizeof(test), "%s/job.test.yaml", fx->keydir);
	for (int i = 0; i < 3; i++) {
		static const char *const levels[] = { "exact", "balanced", "coarse" };

		unlink(out);
		unlink(test);
		assert_int_equal(suggest(fx, out, levels[i]), 0);
		assert_int_equal(stat(out, &st), 0);
		assert_int_equal(policytest_run_paths(paths, 1, false, devnull, stderr, &t), 0);
		assert_int_equal(t.failed, 0);
		assert_true(t.passed >= 6); /* a case per rule, and the defaults */
	}
	fclose(devnull);
}

static void test_not_written_when_a_floor_stops_it(void **state)
{
	struct fixture *fx = *state;
	char out[160];
	struct stat st;

	write_job(fx, true);
	snprintf(out, sizeof(out), "%s/job.yaml", fx->keydir);
	/* Creating a file directly in /etc needs /etc whole: refused, nothing written. */
	assert_int_equal(suggest(fx, out, "coarse"), 1);
	assert_int_not_equal(stat(out, &st), 0);
}

static void test_usage(void **state)
{
	char *no_name[] = { "suggest", "--level", "exact", NULL };
	char *bad_level[] = { "suggest", "--name", "x", "--level", "wide", NULL };
	char *test_name[] = { "suggest", "--name", "x", "--output", "p.test.yaml", NULL };
	char *diff_one[] = { "diff", "a.yaml", NULL };
	char *bad_name[] = { "suggest", "--name", "Job_1", NULL };

	(void)state;
	assert_int_equal(cmd_policy_suggest(3, no_name), 2);
	assert_int_equal(cmd_policy_suggest(5, bad_level), 2);
	assert_int_equal(cmd_policy_suggest(5, test_name), 2);
	assert_int_equal(cmd_policy_diff(2, diff_one), 2);
	assert_int_equal(cmd_policy_suggest(3, bad_name), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_written_with_passing_tests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_written_when_a_floor_stops_it, setup, teardown),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
