/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's signal state (signalctl.c) and the verbs that change it:
 * the signal store's, revocation.c's, grantctl.c's and ingest.c's, sent
 * through the verb table (verbs.c) over a socketpair, with a fake host in
 * place of the daemon's workloads and generations: every malformed request
 * gets an error and changes nothing; a change the daemon cannot carry into
 * the kernel is undone.
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

#include "daemon/grantctl.h"
#include "daemon/revocation.h"
#include "daemon/runtime.h"
#include "daemon/signalctl.h"
#include "signals/grants.h"
#include "util/clock.h"

struct fake {
	struct policy_set set;
	struct workload_table workloads;
	int rebinds;
	int fail_rebind; /* the next rebinds fail */
};

static const struct policy_set *fake_set(void *ctx)
{
	return &((struct fake *)ctx)->set;
}

static int fake_rebind(void *ctx, char *why, size_t why_size)
{
	struct fake *f = ctx;

	f->rebinds++;
	if (f->fail_rebind) {
		f->fail_rebind--;
		snprintf(why, why_size, "the kernel said no");
		return -ENOSPC;
	}
	return 0;
}

struct env {
	struct fake fake;
	struct verbs_client c; /* only the daemon's signal state is used */
	struct signalctl *s;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct signalctl_host host;

	assert_non_null(e);
	verbs_client_open(&e->c);
	e->s = &e->c.d->signalctl;
	host = (struct signalctl_host){ .ctx = &e->fake, .workloads = &e->fake.workloads,
					.enforcer = NULL, .policy_set = fake_set,
					.rebind = fake_rebind };
	signalctl_init(e->s, &host);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	verbs_client_close(&e->c);
	free(e);
	return 0;
}

static void test_malformed_requests_change_nothing(void **state)
{
	static const struct {
		const char *line, *fragment;
	} bad[] = {
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\"}", "\\\"value\\\" (strings) are required" },
		{ "{\"verb\":\"signal-set\",\"value\":\"high\"}", "are required" },
		{ "{\"verb\":\"signal-set\",\"name\":\"Risk\",\"value\":\"high\"}",
		  "is not a valid signal name" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"\"}", "the value must be" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"a\\u0001b\"}",
		  "control character" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"high\",\"bogus\":\"1\"}",
		  "unknown key \\\"bogus\\\"" },
		{ "{\"verb\":\"signal-set\",\"scope\":\"planet\",\"name\":\"risk\",\"value\":\"h\"}",
		  "unknown scope" },
		{ "{\"verb\":\"signal-set\",\"scope\":\"principal\",\"name\":\"risk\",\"value\":\"h\"}",
		  "the principal must be" },
		{ "{\"verb\":\"signal-set\",\"subject\":\"bob\",\"name\":\"risk\",\"value\":\"h\"}",
		  "a host signal has no subject" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"h\",\"ttl_ms\":0}",
		  "ttl_ms: 0 ms" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"h\",\"ttl_ms\":\"-5\"}",
		  "not a whole number" },
		{ "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"h\",\"ttl_ms\":99999999999999}",
		  "must be 1 to" },
		{ "{\"verb\":\"signal-set\",\"name\":{\"a\":\"b\"},\"value\":\"h\"}", "are required" },
		{ "{\"verb\":\"signal-clear\"}", "\\\"name\\\" (a string) is required" },
		{ "{\"verb\":\"signal-clear\",\"name\":\"9x\"}", "is not a valid signal name" },
		{ "{\"verb\":\"signal-list\",\"x\":\"1\"}", "unknown key" },
		{ "{\"verb\":\"signal-ingest\"}", "\\\"token\\\"" },
		{ "{\"verb\":\"signal-ingest\",\"token\":\"not json\"}", "refused, nothing changed" },
		{ "{\"verb\":\"signal-ingest\",\"token\":\"{\\\"iss\\\":\\\"x\\\",\\\"jti\\\":\\\"1\\\",\\\"iat\\\":1,\\\"events\\\":{\\\"bogus\\\":{}}}\"}",
		  "<token>:1:" },
		{ "{\"verb\":\"revoke\"}", "give one of" },
		{ "{\"verb\":\"revoke\",\"workload\":\"a\",\"principal\":\"b\"}", "give one of" },
		{ "{\"verb\":\"revoke\",\"workload\":\"bad name!\"}", "revoke: " },
		{ "{\"verb\":\"revoke\",\"principal\":\"bob\",\"reason\":\"\"}", "the reason must be" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\"}", "are required" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\",\"action\":\"fly\",\"target\":\"/bin/sh\",\"ttl_ms\":1000,\"reason\":\"r\"}",
		  "unknown action" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\",\"action\":\"exec\",\"target\":\"bin/sh\",\"ttl_ms\":1000,\"reason\":\"r\"}",
		  "path must be absolute" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\",\"action\":\"exec\",\"target\":\"/bin/sh\",\"ttl_ms\":0,\"reason\":\"r\"}",
		  "0 ms" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\",\"action\":\"connect\",\"target\":\"10.0.0.0/8\",\"ttl_ms\":1000,\"reason\":\"r\"}",
		  "one address" },
		{ "{\"verb\":\"grant\",\"workload\":\"ci:x\",\"action\":\"connect\",\"target\":\"10.0.0.1\",\"ttl_ms\":1000,\"reason\":\"r\"}",
		  "no running workload is named" },
		{ "{\"verb\":\"grant-remove\"}", "must be a grant id" },
		{ "{\"verb\":\"grant-remove\",\"id\":\"x\"}", "must be a grant id" },
		{ "{\"verb\":\"grant-remove\",\"id\":\"7\"}", "no grant 7" },
		{ "{\"verb\":\"grant-list\",\"id\":\"7\"}", "unknown key" },
		{ "{\"verb\":\"revoke-list\",\"id\":\"7\"}", "unknown key" },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		verbs_expect_error(&e->c, bad[i].line, bad[i].fragment);
	assert_int_equal(e->s->store.count, 0);
	assert_int_equal(e->s->store.generation, 0);
	assert_int_equal(e->s->grant_count, 0);
	assert_int_equal(e->s->revoked_count, 0);
	assert_int_equal(e->fake.rebinds, 0);
}

static void test_set_clear_list(void **state)
{
	struct env *e = *state;
	const char *r;

	r = verbs_ask(&e->c, "{\"verb\":\"signal-set\",\"scope\":\"principal\",\"subject\":\"bob\","
		   "\"name\":\"risk\",\"value\":\"high\",\"ttl_ms\":60000}");
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_non_null(strstr(r, "\"generation\":1"));
	assert_int_equal(e->fake.rebinds, 1);
	/* The same value again: nothing a policy sees changed, no rebind. */
	r = verbs_ask(&e->c, "{\"verb\":\"signal-set\",\"scope\":\"principal\",\"subject\":\"bob\","
		   "\"name\":\"risk\",\"value\":\"high\"}");
	assert_non_null(strstr(r, "\"changed\":false"));
	assert_int_equal(e->fake.rebinds, 1);
	r = verbs_ask(&e->c, "{\"verb\":\"signal-list\"}");
	assert_non_null(strstr(r, "\"signal.0\":{\"scope\":\"principal\",\"subject\":\"bob\","
				  "\"name\":\"risk\",\"value\":\"high\""));
	r = verbs_ask(&e->c, "{\"verb\":\"signal-clear\",\"scope\":\"principal\",\"subject\":\"bob\","
		   "\"name\":\"risk\"}");
	assert_non_null(strstr(r, "\"changed\":true"));
	assert_int_equal(e->s->store.count, 0);
	assert_int_equal(e->fake.rebinds, 2);
	r = verbs_ask(&e->c, "{\"verb\":\"signal-clear\",\"name\":\"risk\"}");
	assert_non_null(strstr(r, "\"changed\":false"));
}

static void test_refused_by_the_kernel_changes_nothing(void **state)
{
	struct env *e = *state;

	verbs_ask(&e->c, "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"low\"}");
	e->fake.fail_rebind = 1;
	verbs_expect_error(&e->c, "{\"verb\":\"signal-set\",\"name\":\"risk\",\"value\":\"high\"}",
		     "refused, nothing changed: the kernel said no");
	assert_int_equal(e->s->store.count, 1);
	assert_string_equal(e->s->store.items[0].value, "low");
	/* The generation moved on (1 -> 2 tried -> 3 restored): never reused. */
	assert_int_equal(e->s->store.generation, 3);
	assert_int_equal(e->fake.rebinds, 3); /* the set, the failed one, the restore */
}

/*
 * The tick forgets a grant a minute after its expiry, and one without an
 * expiry of its own (a delegated rule, GRANT_NEVER) only with its
 * workload: the expiry plus the minute wrapped, and the tick dropped such a
 * grant once the machine had been up a minute.
 */
static void test_tick_keeps_delegated_grants(void **state)
{
	struct env *e = *state;
	struct workload w = { .id = 9, .name = (char *)"tool:deploy" };

	assert_true(boot_ns() > 60ull * 1000000000ull); /* else the test proves nothing */
	e->fake.workloads.items = &w;
	e->fake.workloads.count = 1;
	e->s->grants = calloc(1, sizeof(*e->s->grants));
	assert_non_null(e->s->grants);
	e->s->grant_cap = 1;
	e->s->grants[0] = (struct signalctl_grant){
		.id = 1, .workload_id = 9, .workload = strdup("tool:deploy"),
		.target = strdup("127.0.0.1:7002"), .reason = strdup("delegated by agent:deleg#1"),
		.expires_boot_ns = GRANT_NEVER,
		.key = { .workload_id = 9, .action = ACTGATE_ACTION_CONNECT,
			 .kind = ACTGATE_GRANT_NET, .port = 7002 } };
	e->s->grant_count = 1;
	grantctl_tick(e->s);
	assert_int_equal(e->s->grant_count, 1);
	assert_int_equal(e->s->grants[0].id, 1);
	e->fake.workloads.items = NULL;
	e->fake.workloads.count = 0;
}

static void test_ingest_whole_or_nothing(void **state)
{
	static const char token[] =
		"{\"verb\":\"signal-ingest\",\"token\":\"{\\\"iss\\\":\\\"https://idp\\\","
		"\\\"jti\\\":\\\"1\\\",\\\"iat\\\":1,\\\"sub_id\\\":{\\\"format\\\":\\\"email\\\","
		"\\\"email\\\":\\\"a@b.c\\\"},\\\"events\\\":{\\\"https://schemas.openid.net/"
		"secevent/caep/event-type/risk-level-change\\\":{\\\"current_level\\\":\\\"HIGH\\\"},"
		"\\\"https://schemas.openid.net/secevent/caep/event-type/session-revoked\\\":{}}}\"}";
	struct env *e = *state;
	struct trust_principal *p = calloc(1, sizeof(*p));
	const char *r;

	/* A subject that names nothing known is refused, never applied to a name. */
	verbs_expect_error(&e->c, token, "names nothing actgate knows");
	assert_int_equal(e->s->store.count, 0);
	assert_int_equal(e->s->revoked_count, 0);
	/* The trust file maps the email to a principal (no workload of it runs yet). */
	assert_non_null(p);
	p->name = strdup("a@b.c");
	p->ids = calloc(1, sizeof(*p->ids));
	assert_non_null(p->ids);
	p->ids[0] = (struct caep_id){ .format = CAEP_ID_EMAIL, .a = strdup("a@b.c") };
	p->count = 1;
	e->s->trust.principals = p;
	e->s->trust.principal_count = 1;
	e->fake.fail_rebind = 1;
	verbs_expect_error(&e->c, token, "refused, nothing changed");
	assert_int_equal(e->s->store.count, 0);
	assert_int_equal(e->s->revoked_count, 0);
	r = verbs_ask(&e->c, token);
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_int_equal(e->s->store.count, 1);
	assert_string_equal(e->s->store.items[0].value, "high");
	assert_string_equal(e->s->store.items[0].source, "caep https://idp");
	assert_int_equal(e->s->revoked_count, 1);
	assert_string_equal(e->s->revoked[0].subject, "a@b.c");
}

static void test_revoked_runs_refused(void **state)
{
	struct env *e = *state;
	char why[256];

	verbs_ask(&e->c, "{\"verb\":\"revoke\",\"principal\":\"mallory\",\"reason\":\"stolen laptop\"}");
	verbs_ask(&e->c, "{\"verb\":\"revoke\",\"workload\":\"ci:b\"}");
	assert_int_equal(revocation_check_run(e->s, "ci:a", "alice", why, sizeof(why)), 0);
	assert_int_equal(revocation_check_run(e->s, "ci:a", NULL, why, sizeof(why)), 0);
	assert_int_equal(revocation_check_run(e->s, "ci:a", "mallory", why, sizeof(why)), -EPERM);
	assert_string_equal(why, "principal \"mallory\" is revoked (stolen laptop)");
	assert_int_equal(revocation_check_run(e->s, "ci:b", NULL, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "workload \"ci:b\" is revoked (revoked by cli)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_requests_change_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_clear_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_the_kernel_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ingest_whole_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_keeps_delegated_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_runs_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
