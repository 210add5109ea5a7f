/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The signals and revocations that outlive the daemon (daemon/signalstate.c):
 * what is saved comes back, expiries carried across the clocks; a file that
 * is not exactly what the daemon writes is refused with its line, and
 * changes nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_tree.h"

#include "daemon/revocation.h"
#include "daemon/signalstate.h"
#include "signals/grants.h"
#include "util/clock.h"

#define SEC 1000000000ull

/* struct actgate_grant_key of workload 7, open (2), inode (1), dev 0, ino 0, on little endian. */
#define GRANT_KEY_7 "0700000000000000" "0201" "0000" "00000000" "0000000000000000" \
		    "00000000000000000000000000000000"

/* No live workloads: revocations only go into the list. */
static struct workload_table no_workloads;

static void init(struct signalctl *s)
{
	struct signalctl_host host = { .workloads = &no_workloads };

	signalctl_init(s, &host);
}

static const struct signal *find(const struct signalctl *s, const char *name)
{
	for (size_t i = 0; i < s->store.count; i++)
		if (!strcmp(s->store.items[i].name, name))
			return &s->store.items[i];
	return NULL;
}

static void test_round_trip(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX", why[512] = "";
	struct signalctl a, b;
	const struct signal *sg;
	size_t count;

	(void)state;
	assert_non_null(mkdtemp(dir));
	init(&a);
	init(&b);
	assert_int_equal(signal_store_set(&a.store, SIGNAL_HOST, NULL, "risk", "high", "cli", 0,
					  boot_ns(), why, sizeof(why)), 1);
	assert_int_equal(signal_store_set(&a.store, SIGNAL_PRINCIPAL, "alice@example.com", "aal",
					  "2", "caep:idp", 3600 * SEC, boot_ns(), why, sizeof(why)),
			 1);
	assert_int_equal(revocation_add(&a, SIGNAL_PRINCIPAL, "mallory@example.com", "stolen laptop",
					&count),
			 0);
	assert_int_equal(revocation_add(&a, SIGNAL_WORKLOAD, "ci:deploy", "revoked by cli", &count),
			 0);
	assert_int_equal(signalstate_save(&a, dir, why, sizeof(why)), 0);

	assert_int_equal(signalstate_load(&b, dir, why, sizeof(why)), 0);
	assert_int_equal(b.store.count, 2);
	sg = find(&b, "risk");
	assert_non_null(sg);
	assert_int_equal(sg->scope, SIGNAL_HOST);
	assert_null(sg->subject);
	assert_string_equal(sg->value, "high");
	assert_int_equal(sg->expires_ns, 0);
	sg = find(&b, "aal");
	assert_non_null(sg);
	assert_string_equal(sg->subject, "alice@example.com");
	assert_string_equal(sg->source, "caep:idp");
	/* An hour from now, give or take the test's own run. */
	assert_true(sg->expires_ns > boot_ns() + 3590 * SEC);
	assert_true(sg->expires_ns <= boot_ns() + 3600 * SEC);
	assert_int_equal(b.revoked_count, 2);
	assert_int_equal(revocation_check_run(&b, "ci:build", "mallory@example.com", why,
					      sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "stolen laptop"));
	assert_int_equal(revocation_check_run(&b, "ci:deploy", NULL, why, sizeof(why)), -EPERM);
	assert_int_equal(revocation_check_run(&b, "ci:build", "alice@example.com", why, sizeof(why)),
			 0);

	/* Cleared, saved: gone after the next load. */
	signalctl_free(&b);
	init(&b);
	assert_int_equal(revocation_clear(&a, SIGNAL_PRINCIPAL, "mallory@example.com"), 1);
	assert_int_equal(revocation_clear(&a, SIGNAL_PRINCIPAL, "mallory@example.com"), 0);
	assert_int_equal(signalstate_save(&a, dir, why, sizeof(why)), 0);
	assert_int_equal(signalstate_load(&b, dir, why, sizeof(why)), 0);
	assert_int_equal(b.revoked_count, 1);
	assert_string_equal(b.revoked[0].subject, "ci:deploy");

	signalctl_free(&a);
	signalctl_free(&b);
	remove_tree(dir);
}

/* Grants come back with their key, ids and expiry; an expired one stays expired. */
static void test_grants_round_trip(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX", why[512] = "";
	struct signalctl a, b;
	uint64_t now;

	(void)state;
	assert_non_null(mkdtemp(dir));
	init(&a);
	init(&b);
	a.grants = calloc(3, sizeof(*a.grants));
	assert_non_null(a.grants);
	a.grant_cap = 3;
	now = boot_ns();
	a.grants[0] = (struct signalctl_grant){
		.id = 4, .workload_id = 77, .workload = strdup("ci:deploy"),
		.target = strdup("/etc/hosts"), .reason = strdup("INC-1"),
		.expires_boot_ns = now + 600 * SEC,
		.key = { .workload_id = 77, .action = ACTGATE_ACTION_OPEN,
			 .kind = ACTGATE_GRANT_INODE, .dev = 0x800001, .ino = 1234 } };
	a.grants[1] = (struct signalctl_grant){
		.id = 5, .workload_id = 77, .workload = strdup("ci:deploy"),
		.target = strdup("10.0.0.1:443"), .reason = strdup("INC-2"),
		.expires_boot_ns = now - 5 * SEC,
		.key = { .workload_id = 77, .action = ACTGATE_ACTION_CONNECT,
			 .kind = ACTGATE_GRANT_NET, .port = 443, .addr = { [10] = 0xff, [11] = 0xff,
			 [12] = 10, [15] = 1 } } };
	/* A delegated rule: no expiry of its own, and none after a restart either. */
	a.grants[2] = (struct signalctl_grant){
		.id = 6, .workload_id = 77, .workload = strdup("ci:deploy"),
		.target = strdup("10.0.0.2:443"), .reason = strdup("delegated by agent#3"),
		.expires_boot_ns = GRANT_NEVER,
		.key = { .workload_id = 77, .action = ACTGATE_ACTION_CONNECT,
			 .kind = ACTGATE_GRANT_NET, .port = 443, .addr = { [10] = 0xff, [11] = 0xff,
			 [12] = 10, [15] = 2 } } };
	a.grant_count = 3;
	a.next_grant_id = 6;
	assert_int_equal(signalstate_save(&a, dir, why, sizeof(why)), 0);
	assert_int_equal(signalstate_load(&b, dir, why, sizeof(why)), 0);
	assert_int_equal(b.next_grant_id, 6);
	assert_int_equal(b.grant_count, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(b.grants[i].id, a.grants[i].id);
		assert_int_equal(b.grants[i].workload_id, 77);
		assert_string_equal(b.grants[i].workload, "ci:deploy");
		assert_string_equal(b.grants[i].target, a.grants[i].target);
		assert_string_equal(b.grants[i].reason, a.grants[i].reason);
		assert_memory_equal(&b.grants[i].key, &a.grants[i].key, sizeof(a.grants[i].key));
	}
	/* Ten minutes from then, give or take the test's own run; the expired one still expired. */
	assert_true(b.grants[0].expires_boot_ns > now + 590 * SEC);
	assert_true(b.grants[0].expires_boot_ns <= boot_ns() + 600 * SEC);
	assert_true(b.grants[1].expires_boot_ns <= boot_ns());
	assert_true(b.grants[2].expires_boot_ns == GRANT_NEVER);
	signalctl_free(&a);
	signalctl_free(&b);
	remove_tree(dir);
}

static void test_missing_file(void **state)
{
	char why[256];
	struct signalctl s;

	(void)state;
	init(&s);
	assert_int_equal(signalstate_load(&s, "/nonexistent-actgate-dir", why, sizeof(why)), -ENOENT);
	signalctl_free(&s);
}

/* Expired while no daemon ran: left out. */
static void test_expired_left_out(void **state)
{
	static const char text[] = SIGNALSTATE_MAGIC "\n"
		"signal\thost\t\trisk\thigh\tcli\t100\t200\n"
		"signal\thost\t\tzone\tblue\tcli\t100\t0\n"
		"end\n";
	struct signalctl s;
	char why[256];

	(void)state;
	init(&s);
	assert_int_equal(signalstate_parse(&s, text, strlen(text), "f", 1000, 50 * SEC, why,
					   sizeof(why)),
			 0);
	assert_int_equal(s.store.count, 1);
	assert_string_equal(s.store.items[0].name, "zone");
	signalctl_free(&s);
}

static void test_bad_files_change_nothing(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "f:1: not an actgate signals file" },
		{ "actgate-signals 3\nend\n", "f:1: not an actgate signals file" },
		{ SIGNALSTATE_MAGIC "\n", "f:1: no \"end\"" },
		{ SIGNALSTATE_MAGIC "\nend", "f:2: the last line is cut short" },
		{ SIGNALSTATE_MAGIC "\nend\nend\n", "f:3: text after \"end\"" },
		{ SIGNALSTATE_MAGIC "\nsignal\thost\t\trisk\thigh\tcli\t1\nend\n",
		  "f:2: a signal has 8 fields, not 7" },
		{ SIGNALSTATE_MAGIC "\nsignal\tplanet\t\trisk\thigh\tcli\t1\t0\nend\n",
		  "f:2: unknown scope" },
		{ SIGNALSTATE_MAGIC "\nsignal\thost\t\tRisk\thigh\tcli\t1\t0\nend\n",
		  "is not a valid signal name" },
		{ SIGNALSTATE_MAGIC "\nsignal\thost\t\trisk\thigh\tcli\t1\tsoon\nend\n",
		  "f:2: a time is not a number" },
		{ SIGNALSTATE_MAGIC "\nrevocation\thost\t\tr\t1\nend\n",
		  "f:2: a revocation's scope is workload or principal" },
		{ SIGNALSTATE_MAGIC "\nrevocation\tworkload\tbad name!\tr\t1\nend\n", "f:2: " },
		{ SIGNALSTATE_MAGIC "\nrevocation\tprincipal\tbob\t\t1\nend\n",
		  "the reason must be" },
		{ SIGNALSTATE_MAGIC "\nrevocation\tprincipal\tbob\tr\t1\n"
				    "revocation\tprincipal\tbob\tr\t2\nend\n",
		  "f:3: principal bob is revoked twice" },
		{ SIGNALSTATE_MAGIC "\ngrant\t1\nend\n", "f:2: a grant has 8 fields, not 2" },
		{ SIGNALSTATE_MAGIC_V1 "\ngrant-ids\t1\nend\n", "f:2: a version 1 file has no grants" },
		{ SIGNALSTATE_MAGIC "\ngrant-ids\t1\ngrant\t2\t7\tci:a\t" GRANT_KEY_7 "\t/f\tr\t1\nend\n",
		  "f:3: grant id \"2\" is not a number from 1 to grant-ids" },
		{ SIGNALSTATE_MAGIC "\ngrant-ids\t1\ngrant\t1\t8\tci:a\t" GRANT_KEY_7 "\t/f\tr\t1\nend\n",
		  "f:3: a grant's key does not name its workload" },
		{ SIGNALSTATE_MAGIC "\ngrant-ids\t1\ngrant\t1\t7\tci:a\t0700\t/f\tr\t1\nend\n",
		  "f:3: a grant's key is not 80 hex digits" },
		{ SIGNALSTATE_MAGIC "\ngrant-ids\t2\ngrant\t1\t7\tci:a\t" GRANT_KEY_7 "\t/f\tr\t1\n"
				    "grant\t1\t7\tci:a\t" GRANT_KEY_7 "\t/f\tr\t1\nend\n",
		  "f:4: grant 1 is there twice" },
	};
	struct signalctl s;
	char why[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		init(&s);
		why[0] = '\0';
		assert_int_equal(signalstate_parse(&s, bad[i].text, strlen(bad[i].text), "f",
						   1000 * SEC, 50 * SEC, why, sizeof(why)),
				 -EINVAL);
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: got \"%s\", wanted \"%s\"", i, why, bad[i].why);
		/* Nothing half-loaded: a good signal before the bad line is gone too. */
		assert_int_equal(s.store.count, 0);
		assert_int_equal(s.revoked_count, 0);
		assert_int_equal(s.grant_count, 0);
		signalctl_free(&s);
	}
	/* The same with a good line first. */
	init(&s);
	{
		static const char text[] = SIGNALSTATE_MAGIC "\n"
			"signal\thost\t\trisk\thigh\tcli\t1\t0\n"
			"revocation\tprincipal\tbob\tr\t1\n"
			"bogus\n";

		assert_int_equal(signalstate_parse(&s, text, strlen(text), "f", 1000 * SEC, 50 * SEC,
						   why, sizeof(why)),
				 -EINVAL);
		assert_int_equal(s.store.count, 0);
		assert_int_equal(s.revoked_count, 0);
	}
	signalctl_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_grants_round_trip),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_expired_left_out),
		cmocka_unit_test(test_bad_files_change_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
