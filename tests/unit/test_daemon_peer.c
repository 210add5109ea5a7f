/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Who may use the control socket (daemon/peer.c): the socket group check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/peer.h"

static void test_status_groups(void **state)
{
	static const char status[] = "\nName:\tsh\nUid:\t1000\t1000\t1000\t1000\n"
				     "Groups:\t4 24 1001 \nNSpid:\t42\n";

	(void)state;
	assert_true(peer_status_has_group(status, 1001));
	assert_true(peer_status_has_group(status, 4));
	assert_false(peer_status_has_group(status, 100));
	assert_false(peer_status_has_group(status, 42)); /* NSpid, not a group */
	assert_false(peer_status_has_group("\nGroups:\t\nNSpid:\t5\n", 5));
	assert_false(peer_status_has_group("\nName:\tx\n", 0));
}

static void test_group_resolve(void **state)
{
	gid_t gid = 1;
	char why[256];

	(void)state;
	assert_int_equal(peer_group_resolve("0", &gid, why, sizeof(why)), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(peer_group_resolve("1234", &gid, why, sizeof(why)), 0);
	assert_int_equal(gid, 1234);
	assert_int_equal(peer_group_resolve("", &gid, why, sizeof(why)), -EINVAL);
	assert_int_equal(peer_group_resolve("no-such-group-xyz", &gid, why, sizeof(why)),
			 -ENOENT);
	assert_string_equal(why, "no group named \"no-such-group-xyz\"");
}

/* The primary group counts without a look at /proc; a pid that is gone is in no group. */
static void test_peer_in_group(void **state)
{
	(void)state;
	assert_true(peer_in_group(getpid(), getgid(), getgid()));
	assert_false(peer_in_group(getpid(), getgid(), getgid() + 12345));
	assert_false(peer_in_group(-1, 0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_groups),
		cmocka_unit_test(test_group_resolve),
		cmocka_unit_test(test_peer_in_group),
	};

	return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}
