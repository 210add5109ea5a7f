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

#include "daemon/runtime.h"
#include "daemon/signalctl.h"
#include "daemon/verbs.h"

#define FIRST_ID 1000

static const struct daemon_config config = {
	.policy_dir = "/nonexistent/policies",
	.cgroup_parent = "/actgate-test",
	.pin_dir = "/nonexistent/pins",
	.state_dir = "/nonexistent/state",
};

struct env {
	struct daemon *d;
	int fds[2];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct signalctl_host host = { 0 };

	assert_non_null(e);
	e->d = calloc(1, sizeof(*e->d));
	assert_non_null(e->d);
	e->d->cfg = &config;
	e->d->next_workload_id = FIRST_ID;
	host.ctx = e->d;
	host.workloads = &e->d->workloads;
	signalctl_init(&e->d->signalctl, &host);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, e->fds), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	signalctl_free(&e->d->signalctl);
	close(e->fds[0]);
	close(e->fds[1]);
	free(e->d);
	free(e);
	return 0;
}

/* Send one request through the table; return the reply line (static buffer). */
static const char *ask(struct env *e, const char *line)
{
	static char reply[8192];
	struct json_msg msg = { 0 };
	char why[256];
	ssize_t n;

	if (json_msg_parse(line, strlen(line), &msg, why, sizeof(why)))
		fail_msg("%s: %s", line, why);
	verbs_dispatch(e->d, e->fds[0], &msg);
	json_msg_free(&msg);
	n = recv(e->fds[1], reply, sizeof(reply) - 1, MSG_DONTWAIT);
	if (n <= 0)
		fail_msg("%s: no reply", line);
	reply[n] = '\0';
	if (strchr(reply, '\n') != reply + n - 1)
		fail_msg("%s: not one reply line: %s", line, reply);
	return reply;
}

static void expect_error(struct env *e, const char *line, const char *fragment)
{
	const char *r = ask(e, line);

	if (strncmp(r, "{\"ok\":false,\"error\":", 20) || !strstr(r, fragment))
		fail_msg("%s -> %s (wanted an error with %s)", line, r, fragment);
}

/* Nothing a refused request could have changed has changed. */
static void expect_unchanged(const struct env *e)
{
	const struct signalctl *s = &e->d->signalctl;

	assert_int_equal(e->d->next_workload_id, FIRST_ID);
	assert_int_equal(e->d->workloads.count, 0);
	assert_int_equal(s->store.count, 0);
	assert_int_equal(s->store.generation, 0);
	assert_int_equal(s->grant_count, 0);
	assert_int_equal(s->revoked_count, 0);
}

static void test_unknown_verbs(void **state)
{
	struct env *e = *state;

	expect_error(e, "{\"verb\":\"no-such-verb\"}",
		     "\"unknown verb \\\"no-such-verb\\\" (known: grant, grant-list, grant-remove, "
		     "reload, revoke, revoke-list, run, signal-clear, signal-ingest, signal-list, "
		     "signal-set, status)\"}");
	/* Named as unknown, whatever else the request holds. */
	expect_error(e, "{\"verb\":\"Status\",\"x\":\"1\"}", "unknown verb \\\"Status\\\"");
	expect_error(e, "{\"workload\":\"ci:a\"}",
		     "malformed request: \\\"verb\\\" (a string) is required");
	expect_error(e, "{\"verb\":{\"name\":\"status\"}}",
		     "malformed request: \\\"verb\\\" (a string) is required");
	expect_unchanged(e);
}

/* Every verb the table has (as the unknown-verb reply lists them) refuses a key it does not take. */
static void test_every_verb_refuses_unknown_keys(void **state)
{
	struct env *e = *state;
	char known[512], line[256], fragment[128];
	const char *r = ask(e, "{\"verb\":\"?\"}");
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
		expect_error(e, line, fragment);
		/* A key another verb takes is just as unknown. */
		snprintf(line, sizeof(line), "{\"verb\":\"%s\",\"token\":\"1\",\"id\":\"1\"}", v);
		expect_error(e, line, "unknown key");
	}
	assert_int_equal(verbs, 12);
	expect_unchanged(e);
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
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(e, bad[i].line, bad[i].fragment);
	expect_unchanged(e);
}

static void test_run_refused_when_revoked(void **state)
{
	struct env *e = *state;

	assert_non_null(strstr(ask(e, "{\"verb\":\"revoke\",\"principal\":\"mallory\"}"),
			       "\"ok\":true"));
	expect_error(e, "{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"mallory\"}",
		     "run: principal \\\"mallory\\\" is revoked (revoked by cli)");
	/* A bad ttl is named first, as before the revocation is looked at. */
	expect_error(e, "{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"mallory\","
			"\"ttl_ms\":\"soon\"}", "not a whole number");
	assert_int_equal(e->d->next_workload_id, FIRST_ID);
	assert_int_equal(e->d->workloads.count, 0);
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
