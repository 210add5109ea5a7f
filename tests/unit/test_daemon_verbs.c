/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The verb table (daemon/verbs.c): an unknown verb, a key a verb does not
 * take, and a run request with a wrong type or value are refused with one
 * error line, and change nothing: no handler runs on a refused request, and
 * a refused run takes no workload id and makes no workload. The daemon is
 * an empty one that never started, so a handler that ran where it should
 * not would touch state that is not there.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_verbs.h"

#include "daemon/runtime.h"
#include "daemon/signalctl.h"

#define FIRST_ID 1000

static const struct daemon_config config = {
	.policy_dir = "/nonexistent/policies",
	.cgroup_parent = "/actgate-test",
	.pin_dir = "/nonexistent/pins",
	.state_dir = "/nonexistent/state",
};

static int setup(void **state)
{
	struct verbs_client *c = calloc(1, sizeof(*c));
	struct signalctl_host host = { 0 };

	assert_non_null(c);
	verbs_client_open(c);
	c->d->cfg = &config;
	c->d->next_workload_id = FIRST_ID;
	host.ctx = c->d;
	host.workloads = &c->d->workloads;
	signalctl_init(&c->d->signalctl, &host);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	verbs_client_close(*state);
	free(*state);
	return 0;
}

/* Nothing a refused request could have changed has changed. */
static void expect_unchanged(const struct verbs_client *c)
{
	const struct signalctl *s = &c->d->signalctl;

	assert_int_equal(c->d->next_workload_id, FIRST_ID);
	assert_int_equal(c->d->workloads.count, 0);
	assert_int_equal(s->store.count, 0);
	assert_int_equal(s->store.generation, 0);
	assert_int_equal(s->grant_count, 0);
	assert_int_equal(s->revoked_count, 0);
}

static void test_unknown_verbs(void **state)
{
	struct verbs_client *c = *state;

	verbs_expect_error(c, "{\"verb\":\"no-such-verb\"}",
		     "\"unknown verb \\\"no-such-verb\\\" (known: grant, grant-list, grant-remove, "
		     "reload, revoke, revoke-clear, revoke-list, run, signal-clear, signal-ingest, signal-list, "
		     "signal-set, status)\"}");
	/* Named as unknown, whatever else the request holds. */
	verbs_expect_error(c, "{\"verb\":\"Status\",\"x\":\"1\"}", "unknown verb \\\"Status\\\"");
	verbs_expect_error(c, "{\"workload\":\"ci:a\"}",
		     "malformed request: \\\"verb\\\" (a string) is required");
	verbs_expect_error(c, "{\"verb\":{\"name\":\"status\"}}",
		     "malformed request: \\\"verb\\\" (a string) is required");
	expect_unchanged(c);
}

/* Every verb the table has (as the unknown-verb reply lists them) refuses a key it does not take. */
static void test_every_verb_refuses_unknown_keys(void **state)
{
	struct verbs_client *c = *state;
	char known[512], line[256], fragment[128];
	const char *r = verbs_ask(c, "{\"verb\":\"?\"}");
	const char *list = strstr(r, "(known: ");
	size_t verbs = 0;

	assert_non_null(list);
	snprintf(known, sizeof(known), "%s", list + strlen("(known: "));
	assert_non_null(strchr(known, ')'));
	*strchr(known, ')') = '\0';
	for (char *save = NULL, *v = strtok_r(known, ", ", &save); v;
	     v = strtok_r(NULL, ", ", &save), verbs++) {
		snprintf(line, sizeof(line), "{\"verb\":\"%s\",\"zzz\":\"1\"}", v);
		snprintf(fragment, sizeof(fragment),
			 "malformed request: unknown key \\\"zzz\\\" for verb \\\"%s\\\"", v);
		verbs_expect_error(c, line, fragment);
		/* A key another verb takes is just as unknown. */
		snprintf(line, sizeof(line), "{\"verb\":\"%s\",\"token\":\"1\",\"id\":\"1\"}", v);
		verbs_expect_error(c, line, "unknown key");
	}
	assert_int_equal(verbs, 13);
	expect_unchanged(c);
}

static void test_run_refusals_change_nothing(void **state)
{
	static const struct {
		const char *line, *fragment;
	} bad[] = {
		{ "{\"verb\":\"run\"}", "run: \\\"workload\\\" (a string) is required" },
		{ "{\"verb\":\"run\",\"workload\":{\"a\":\"b\"}}", "\\\"workload\\\" (a string)" },
		{ "{\"verb\":\"run\",\"workload\":\"no spaces\"}", "run: " },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"ttl_ms\":{\"a\":\"b\"}}",
		  "run: \\\"ttl_ms\\\" must be a number" },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"ttl_ms\":\"soon\"}", "not a whole number" },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"ttl_ms\":0}", "0 ms" },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"labels\":\"team=x\"}",
		  "run: \\\"labels\\\" must be an object of strings" },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"labels\":{\"team\":\"\\u0001\"}}",
		  "run: " },
		{ "{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"\"}", "run: " },
	};
	struct verbs_client *c = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		verbs_expect_error(c, bad[i].line, bad[i].fragment);
	expect_unchanged(c);
}

static void test_run_refused_when_revoked(void **state)
{
	struct verbs_client *c = *state;

	assert_non_null(strstr(verbs_ask(c, "{\"verb\":\"revoke\",\"principal\":\"mallory\"}"),
			       "\"ok\":true"));
	verbs_expect_error(c, "{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"mallory\"}",
		     "run: principal \\\"mallory\\\" is revoked (revoked by cli)");
	/* A bad ttl is named first, as before the revocation is looked at. */
	verbs_expect_error(c, "{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"mallory\","
			"\"ttl_ms\":\"soon\"}", "not a whole number");
	assert_int_equal(c->d->next_workload_id, FIRST_ID);
	assert_int_equal(c->d->workloads.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_verbs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_verb_refuses_unknown_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_refusals_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_refused_when_revoked, setup, teardown),
	};

	return cmocka_run_group_tests_name("verbs", tests, NULL, NULL);
}
