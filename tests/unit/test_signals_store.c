/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The signal store: scopes, precedence, TTLs, generations, bad input. */
#include <linux/types.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signals/store.h"

#define SEC 1000000000ull

static const char *seen(const struct signal_view *v, const char *name)
{
	for (size_t i = 0; i < v->count; i++)
		if (!strcmp(v->values[i].name, name))
			return v->values[i].value;
	return NULL;
}

static void test_precedence(void **state)
{
	struct signal_store st = { 0 };
	struct signal_view v;
	char why[256];

	(void)state;
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "low", "cli", 0, 1, why,
					  sizeof(why)), 1);
	assert_int_equal(signal_store_set(&st, SIGNAL_PRINCIPAL, "alice@example.com", "risk",
					  "medium", "caep:idp", 0, 1, why, sizeof(why)), 1);
	assert_int_equal(signal_store_set(&st, SIGNAL_WORKLOAD, "ci:1", "risk", "high", "cli", 0, 1,
					  why, sizeof(why)), 1);
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "maintenance", "on", NULL, 0, 1,
					  why, sizeof(why)), 1);
	assert_int_equal(st.generation, 4);

	/* The workload's own value wins, then its principal's, then the host's. */
	assert_int_equal(signal_store_view(&st, "ci:1", "alice@example.com", 2, &v), 0);
	assert_int_equal(v.count, 2);
	assert_string_equal(seen(&v, "risk"), "high");
	assert_string_equal(seen(&v, "maintenance"), "on");
	free((void *)v.values);
	assert_int_equal(signal_store_view(&st, "ci:2", "alice@example.com", 2, &v), 0);
	assert_string_equal(seen(&v, "risk"), "medium");
	free((void *)v.values);
	assert_int_equal(signal_store_view(&st, "ci:2", NULL, 2, &v), 0);
	assert_string_equal(seen(&v, "risk"), "low");
	free((void *)v.values);
	assert_int_equal(signal_store_view(&st, "ci:2", "bob@example.com", 2, &v), 0);
	assert_string_equal(seen(&v, "risk"), "low");
	free((void *)v.values);

	/* Setting the same value again changes nothing a policy sees. */
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "low", "cli", 0, 5, why,
					  sizeof(why)), 0);
	assert_int_equal(st.generation, 4);
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "high", "cli", 0, 5, why,
					  sizeof(why)), 1);
	assert_int_equal(st.generation, 5);
	assert_int_equal(st.count, 4);

	assert_int_equal(signal_store_clear(&st, SIGNAL_WORKLOAD, "ci:1", "risk"), 1);
	assert_int_equal(signal_store_clear(&st, SIGNAL_WORKLOAD, "ci:1", "risk"), 0);
	assert_int_equal(st.generation, 6);
	assert_int_equal(signal_store_view(&st, "ci:1", "alice@example.com", 6, &v), 0);
	assert_string_equal(seen(&v, "risk"), "medium");
	free((void *)v.values);
	signal_store_free(&st);
}

static void test_ttl(void **state)
{
	struct signal_store st = { 0 };
	struct signal_view v;
	char why[256];

	(void)state;
	assert_int_equal(signal_store_set(&st, SIGNAL_WORKLOAD, "w", "risk", "high", "cli", 30 * SEC,
					  100 * SEC, why, sizeof(why)), 1);
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "low", "cli", 0, 100 * SEC,
					  why, sizeof(why)), 1);
	assert_int_equal(signal_store_next_expiry(&st), 130 * SEC);
	/* Expired is not seen, even before it is removed. */
	assert_int_equal(signal_store_view(&st, "w", NULL, 129 * SEC, &v), 0);
	assert_string_equal(seen(&v, "risk"), "high");
	free((void *)v.values);
	assert_int_equal(signal_store_view(&st, "w", NULL, 130 * SEC, &v), 0);
	assert_string_equal(seen(&v, "risk"), "low");
	free((void *)v.values);
	assert_int_equal(signal_store_expire(&st, 129 * SEC), 0);
	assert_int_equal(st.generation, 2);
	assert_int_equal(signal_store_expire(&st, 130 * SEC), 1);
	assert_int_equal(st.generation, 3);
	assert_int_equal(st.count, 1);
	assert_int_equal(signal_store_next_expiry(&st), 0);
	/* Setting the same value renews the expiry. */
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "low", "cli", 10 * SEC,
					  200 * SEC, why, sizeof(why)), 0);
	assert_int_equal(signal_store_next_expiry(&st), 210 * SEC);
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "risk", "low", "cli", UINT64_MAX,
					  200 * SEC, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the time to live is too long");
	signal_store_free(&st);
}

static void expect_bad(enum signal_scope scope, const char *subject, const char *name,
		       const char *value, const char *message)
{
	struct signal_store st = { 0 };
	char why[256] = "";

	assert_int_equal(signal_store_set(&st, scope, subject, name, value, "cli", 0, 1, why,
					  sizeof(why)), -EINVAL);
	assert_string_equal(why, message);
	assert_int_equal(st.count, 0);
	assert_int_equal(st.generation, 0);
	signal_store_free(&st);
}

static void test_bad_input(void **state)
{
	enum signal_scope scope;

	(void)state;
	expect_bad(SIGNAL_HOST, "x", "risk", "high", "a host signal has no subject");
	expect_bad(SIGNAL_WORKLOAD, NULL, "risk", "high", "the workload must be 1 to 255 bytes long");
	expect_bad(SIGNAL_PRINCIPAL, "", "risk", "high", "the principal must be 1 to 255 bytes long");
	expect_bad(SIGNAL_HOST, NULL, "Risk", "high",
		   "\"Risk\" is not a valid signal name: lowercase letters, digits, '_', '.' and "
		   "'-', starting with a letter, at most 63 characters");
	expect_bad(SIGNAL_HOST, NULL, "risk", "", "the value must be 1 to 255 bytes long");
	expect_bad(SIGNAL_HOST, NULL, "risk", "hi\x1b[2J",
		   "the value contains a control character (\\x1b) at byte 3");
	expect_bad(SIGNAL_HOST, NULL, "risk", NULL, "the value is missing");
	expect_bad(SIGNAL_WORKLOAD, "w\n", "risk", "high",
		   "the workload contains a control character (\\x0a) at byte 2");
	assert_int_equal(signal_scope_parse("principal", &scope), 0);
	assert_int_equal(scope, SIGNAL_PRINCIPAL);
	assert_int_equal(signal_scope_parse("Host", &scope), -EINVAL);
	assert_string_equal(signal_scope_name(SIGNAL_WORKLOAD), "workload");
}

static void test_bound(void **state)
{
	struct signal_store st = { 0 };
	char why[256], name[32];

	(void)state;
	for (int i = 0; i < SIGNAL_MAX_COUNT; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, name, "1", NULL, 0, 1, why,
						  sizeof(why)), 1);
	}
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "one-more", "1", NULL, 0, 1, why,
					  sizeof(why)), -EINVAL);
	/* Replacing one that is there is still fine. */
	assert_int_equal(signal_store_set(&st, SIGNAL_HOST, NULL, "s7", "2", NULL, 0, 1, why,
					  sizeof(why)), 1);
	signal_store_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
