/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The learned set (daemon/learned.c) against a store that keeps what it
 * is given: slots per name and range, a name learned again replacing its
 * own slots only, ports that do not fit refused whole, eviction of the
 * entry that ends first when full (counted), expiry, names by id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/learned.h"

#define SEC 1000000000ull
#define STORE_MAX 8

struct store {
	struct actgate_learned_key k[STORE_MAX];
	struct actgate_learned v[STORE_MAX];
	bool used[STORE_MAX];
	int fail_put;
};

static int find(struct store *s, const struct actgate_learned_key *k)
{
	for (int i = 0; i < STORE_MAX; i++)
		if (s->used[i] && !memcmp(&s->k[i], k, sizeof(*k)))
			return i;
	return -1;
}

static int s_put(void *ctx, const struct actgate_learned_key *k, const struct actgate_learned *v)
{
	struct store *s = ctx;
	int i = find(s, k);

	if (s->fail_put)
		return -s->fail_put;
	for (int j = 0; i < 0 && j < STORE_MAX; j++)
		if (!s->used[j])
			i = j;
	assert_true(i >= 0);
	s->k[i] = *k;
	s->v[i] = *v;
	s->used[i] = true;
	return 0;
}

static int s_remove(void *ctx, const struct actgate_learned_key *k)
{
	struct store *s = ctx;
	int i = find(s, k);

	if (i < 0)
		return -ENOENT;
	s->used[i] = false;
	return 0;
}

static int live(const struct store *s)
{
	int n = 0;

	for (int i = 0; i < STORE_MAX; i++)
		n += s->used[i];
	return n;
}

static struct dns_address v4(uint8_t last)
{
	struct dns_address a = { .family = AF_INET, .addr = { 127, 0, 0, last } };

	return a;
}

static struct name_decision allowed(const char *name, uint16_t lo, uint16_t hi, size_t ranges)
{
	struct name_decision d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.verdict = ACTGATE_VERDICT_ALLOW;
	d.reason = ACTGATE_REASON_RULE;
	for (size_t r = 0; r < ranges; r++)
		d.ports[r] = (struct name_ports){ (uint16_t)(lo + r * 10), (uint16_t)(hi + r * 10), 6 };
	d.port_count = ranges;
	return d;
}

static const struct actgate_learned *stored(struct store *s, uint64_t w, uint8_t last)
{
	struct actgate_learned_key k = { .workload_id = w, .policy_id = 3 };
	int i;

	k.addr[10] = k.addr[11] = 0xff;
	k.addr[12] = 127;
	k.addr[15] = last;
	i = find(s, &k);
	return i < 0 ? NULL : &s->v[i];
}

static void test_learn_and_names(void **state)
{
	struct store s = { 0 };
	struct learned_table *t;
	struct learned_counts c;
	struct dns_address a = v4(9);
	struct name_decision gh = allowed("github.com", 443, 443, 1);
	struct name_decision cdn = allowed("cdn.example", 80, 80, 2);
	const struct actgate_learned *v;

	(void)state;
	assert_int_equal(learned_open(&t, 4, &(struct learned_store){ &s, s_put, s_remove }), 0);
	assert_int_equal(learned_add(t, 7, 3, &a, &gh, 11, 30, 100 * SEC), 0);
	v = stored(&s, 7, 9);
	assert_non_null(v);
	assert_int_equal(v->port[0].port_lo, 443);
	assert_int_equal(v->port[0].rule_id, 11);
	assert_true(v->port[0].expires_boot_ns == 130 * SEC);
	assert_string_equal(learned_name(t, v->port[0].name_id), "github.com");
	/* Another name, same address: its slots beside github.com's. */
	assert_int_equal(learned_add(t, 7, 3, &a, &cdn, 12, 60, 101 * SEC), 0);
	v = stored(&s, 7, 9);
	assert_int_equal(v->port[0].port_lo, 443);
	assert_int_equal(v->port[1].port_lo, 80);
	assert_int_equal(v->port[2].port_lo, 90);
	assert_string_equal(learned_name(t, v->port[2].name_id), "cdn.example");
	/* github.com again: its own slot replaced (a later expiry), cdn's kept. */
	assert_int_equal(learned_add(t, 7, 3, &a, &gh, 11, 300, 102 * SEC), 0);
	v = stored(&s, 7, 9);
	assert_true(v->port[0].expires_boot_ns == 402 * SEC);
	assert_int_equal(v->port[1].port_lo, 80);
	assert_int_equal(v->port[3].expires_boot_ns, 0);
	/* Another workload's entry is its own; another policy's too. */
	assert_null(stored(&s, 8, 9));
	assert_int_equal(learned_add(t, 7, 4, &a, &gh, 11, 300, 102 * SEC), 0);
	learned_get_counts(t, &c);
	assert_int_equal(c.entries, 2);
	learned_forget(t, 0, 102 * SEC);
	assert_int_equal(learned_add(t, 7, 3, &a, &gh, 11, 300, 102 * SEC), 0);
	assert_int_equal(learned_add(t, 7, 3, &a, &cdn, 12, 60, 101 * SEC), 0);
	learned_get_counts(t, &c);
	assert_int_equal(c.entries, 1);
	assert_int_equal(c.learned, 6);
	assert_int_equal(c.names, 2);
	learned_close(t);
}

static void test_ports_that_do_not_fit(void **state)
{
	struct store s = { 0 };
	struct learned_table *t;
	struct learned_counts c;
	struct dns_address a = v4(9);
	struct name_decision six = allowed("six.example", 1000, 1001, 6);
	struct name_decision three = allowed("three.example", 2000, 2000, 3);
	const struct actgate_learned *v;

	(void)state;
	assert_int_equal(learned_open(&t, 4, &(struct learned_store){ &s, s_put, s_remove }), 0);
	assert_int_equal(learned_add(t, 7, 3, &a, &six, 1, 30, 100 * SEC), 0);
	assert_int_equal(learned_add(t, 7, 3, &a, &three, 2, 30, 100 * SEC), -ENOSPC);
	/* As it was: six's slots, nothing of three's. */
	v = stored(&s, 7, 9);
	for (int i = 0; i < 6; i++)
		assert_string_equal(learned_name(t, v->port[i].name_id), "six.example");
	assert_int_equal(v->port[6].expires_boot_ns, 0);
	/* Once six's slots expire, three fits. */
	assert_int_equal(learned_add(t, 7, 3, &a, &three, 2, 30, 131 * SEC), 0);
	v = stored(&s, 7, 9);
	assert_int_equal(v->port[0].port_lo, 2000);
	learned_get_counts(t, &c);
	assert_int_equal(c.no_slot, 1);
	/* A store that refuses: an error, and the mirror unchanged. */
	s.fail_put = EIO;
	assert_int_equal(learned_add(t, 7, 3, &(struct dns_address){ .family = AF_INET, .addr = { 127, 0, 0, 10 } }, &three, 2, 30, 132 * SEC), -EIO);
	learned_get_counts(t, &c);
	assert_int_equal(c.entries, 1);
	learned_close(t);
}

static void test_full_expiry_forget(void **state)
{
	struct store s = { 0 };
	struct learned_table *t;
	struct learned_counts c;
	struct name_decision d = allowed("a.example", 443, 443, 1);

	(void)state;
	assert_int_equal(learned_open(&t, 2, &(struct learned_store){ &s, s_put, s_remove }), 0);
	assert_int_equal(learned_add(t, 7, 3, &(struct dns_address){ .family = AF_INET, .addr = { 127, 0, 0, 1 } }, &d, 1, 50, 100 * SEC), 0);
	assert_int_equal(learned_add(t, 7, 3, &(struct dns_address){ .family = AF_INET, .addr = { 127, 0, 0, 2 } }, &d, 1, 20, 100 * SEC), 0);
	/* Full: the entry that ends first (.2, at 120s) goes, counted. */
	assert_int_equal(learned_add(t, 7, 3, &(struct dns_address){ .family = AF_INET, .addr = { 127, 0, 0, 3 } }, &d, 1, 30, 101 * SEC), 0);
	assert_null(stored(&s, 7, 2));
	assert_non_null(stored(&s, 7, 1));
	assert_non_null(stored(&s, 7, 3));
	learned_get_counts(t, &c);
	assert_int_equal(c.evicted, 1);
	assert_int_equal(c.entries, 2);
	/* Expired entries leave at the sweep; a full table sweeps before it evicts. */
	learned_sweep(t, 140 * SEC);
	assert_null(stored(&s, 7, 3));
	assert_non_null(stored(&s, 7, 1));
	learned_get_counts(t, &c);
	assert_int_equal(c.expired, 1);
	assert_int_equal(learned_add(t, 8, 3, &(struct dns_address){ .family = AF_INET, .addr = { 127, 0, 0, 1 } }, &d, 1, 50, 140 * SEC), 0);
	learned_forget(t, 7, 141 * SEC);
	assert_null(stored(&s, 7, 1));
	assert_non_null(stored(&s, 8, 1));
	assert_int_equal(live(&s), 1);
	/* The name outlives its entries by the grace, then goes. */
	learned_forget(t, 0, 142 * SEC);
	assert_int_equal(live(&s), 0);
	learned_get_counts(t, &c);
	assert_int_equal(c.names, 1);
	learned_sweep(t, 142 * SEC + LEARNED_NAME_GRACE_NS);
	learned_get_counts(t, &c);
	assert_int_equal(c.names, 0);
	learned_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_names),
		cmocka_unit_test(test_ports_that_do_not_fit),
		cmocka_unit_test(test_full_expiry_forget),
	};

	return cmocka_run_group_tests_name("learned", tests, NULL, NULL);
}
