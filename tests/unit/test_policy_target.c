/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One path or connect target as policies and grants hold it (target.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

static void test_path_normalisation(void **state)
{
	static const struct {
		const char *in;
		const char *path;
		bool subtree;
	} cases[] = {
		{ "/usr/bin/curl", "/usr/bin/curl", false },
		{ "/usr/bin/", "/usr/bin", true },
		{ "//usr///bin//", "/usr/bin", true },
		{ "/usr/./bin/./x", "/usr/bin/x", false },
		{ "/usr/bin/.", "/usr/bin", false },
		{ "/", "/", true },
		{ "//", "/", true },
		{ "/.", "/", false },
		{ "/a.b/..c/c..", "/a.b/..c/c..", false },
		{ "/.ssh/", "/.ssh", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct path_rule r = { 0 };
		char err[256];

		assert_int_equal(policy_parse_path_target(cases[i].in, strlen(cases[i].in), &r, err,
							  sizeof(err)),
				 0);
		assert_string_equal(r.path, cases[i].path);
		assert_int_equal(r.subtree, cases[i].subtree);
		free(r.path);
	}
}

static void test_path_errors(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *err;
	} cases[] = {
		{ "", 0, "empty path" },
		{ "bin/sh", 6, "path must be absolute (start with '/')" },
		{ "./x", 3, "path must be absolute (start with '/')" },
		{ "/a/../b", 7, "\"..\" in a path is ambiguous with symlinks; write the path without it" },
		{ "/a/..", 5, "\"..\" in a path is ambiguous with symlinks; write the path without it" },
		{ "/a\nb", 4, "path contains a control character (\\x0a) at byte 3" },
		{ "/a\0b", 4, "path contains a control character (\\x00) at byte 3" },
		{ "/a\x7f", 3, "path contains a control character (\\x7f) at byte 3" },
		{ "/a\xc2\x9b", 4, "path contains a control character (U+009B) at byte 3" },
	};
	struct path_rule r = { 0 };
	char err[256], *longpath;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(policy_parse_path_target(cases[i].in, cases[i].len, &r, err,
							  sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_null(r.path);
	}

	/* 4095 bytes is the longest path (PATH_MAX with its NUL). */
	longpath = malloc(4097);
	assert_non_null(longpath);
	longpath[0] = '/';
	memset(longpath + 1, 'a', 4095);
	longpath[4095] = '\0';
	assert_int_equal(policy_parse_path_target(longpath, 4095, &r, err, sizeof(err)), 0);
	assert_int_equal(strlen(r.path), 4095);
	free(r.path);
	longpath[4095] = 'a';
	longpath[4096] = '\0';
	assert_int_equal(policy_parse_path_target(longpath, 4096, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "path is 4096 bytes long; the limit is 4095");
	free(longpath);
}

static void test_net_targets(void **state)
{
	static const struct {
		const char *in;
		uint8_t addr0, addr12, addr15;
		uint8_t prefix;
		uint16_t lo, hi;
	} ok[] = {
		{ "127.0.0.1", 0, 127, 1, 128, 0, 65535 },
		{ "0.0.0.0/0", 0, 0, 0, 96, 0, 65535 },
		{ "10.0.0.0/8", 0, 10, 0, 104, 0, 65535 },
		{ "10.0.0.1:443", 0, 10, 1, 128, 443, 443 },
		{ "10.0.0.0/8:443", 0, 10, 0, 104, 443, 443 },
		{ "10.0.0.0/8:1-65535", 0, 10, 0, 104, 1, 65535 },
		{ "10.0.0.1:8000-8080", 0, 10, 1, 128, 8000, 8080 },
		{ "::1", 0, 0, 1, 128, 0, 65535 },
		{ "::/0", 0, 0, 0, 0, 0, 65535 },
		{ "2001:db8::/32", 0x20, 0, 0, 32, 0, 65535 },
		{ "[::1]:8080", 0, 0, 1, 128, 8080, 8080 },
		{ "[::1]", 0, 0, 1, 128, 0, 65535 },
		{ "[2001:db8::/32]:443", 0x20, 0, 0, 32, 443, 443 },
		{ "[fe80::/10]:1-1023", 0xfe, 0, 0, 10, 1, 1023 },
		{ "::ffff:10.0.0.1", 0, 10, 1, 128, 0, 65535 },
	};
	static const struct {
		const char *in;
		const char *err;
	} bad[] = {
		{ "", "empty address" },
		{ "10.0.0.0/33", "bad prefix length \"/33\": expected 0-32" },
		{ "::/129", "bad prefix length \"/129\": expected 0-128" },
		{ "2001:db8::/32:443", "bad prefix length \"/32:443\": expected 0-128 (an IPv6 "
				       "address with a port must be bracketed: \"[2001:db8::/32]:443\")" },
		{ "10.0.0.0/", "bad prefix length \"/\": expected 0-32" },
		{ "10.0.0.0/x", "bad prefix length \"/x\": expected 0-32" },
		{ "10.0.0.0/-1", "bad prefix length \"/-1\": expected 0-32" },
		{ "10.1.0.0/8", "host bits set; did you mean 10.0.0.0/8?" },
		{ "10.1.0.0/8:443", "host bits set; did you mean 10.0.0.0/8:443?" },
		{ "2001:db8::1/32", "host bits set; did you mean 2001:db8::/32?" },
		{ "[2001:db8::1/32]:443", "host bits set; did you mean [2001:db8::/32]:443?" },
		{ "10.0.0.1:0", "port 0 is out of range 1-65535" },
		{ "10.0.0.1:65536", "port 65536 is out of range 1-65535" },
		{ "10.0.0.1:99999999", "bad port \"99999999\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:http", "bad port \"http\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:+80", "bad port \"+80\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:", "missing port after ':'" },
		{ "10.0.0.1:443-80", "port range 443-80 is reversed: write LO-HI with LO <= HI" },
		{ "10.0.0.1:80-", "bad port \"\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:-80", "bad port \"\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:1-2-3", "bad port \"2-3\": expected a number 1-65535 or a range LO-HI" },
		{ "example.com", "\"example.com\" is a host name; this takes IP addresses only" },
		{ "localhost:80", "\"localhost\" is a host name; this takes IP addresses only" },
		{ "10.0.0", "\"10.0.0\" is not an IPv4 or IPv6 address" },
		{ "010.0.0.1", "\"010.0.0.1\" is not an IPv4 or IPv6 address" },
		{ "1.2.3.4.5", "\"1.2.3.4.5\" is not an IPv4 or IPv6 address" },
		{ "2001:db8::g", "\"2001:db8::g\" is not an IPv6 address (with a port, bracket it: \"[::1]:8080\")" },
		{ "[10.0.0.1]:80", "brackets are for IPv6 addresses; write an IPv4 address as 10.0.0.1:443" },
		{ "[::1", "missing ']' after a bracketed IPv6 address" },
		{ "[::1]80", "expected \":PORT\" after ']'" },
		{ ":80", "missing address" },
		{ "/8", "missing address" },
		{ "10.0.0.1\t", "address contains a control character (\\x09) at byte 9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct net_rule r = { 0 };
		char err[256] = "";

		if (policy_parse_net_target(ok[i].in, &r, err, sizeof(err)))
			fail_msg("%s: %s", ok[i].in, err);
		assert_int_equal(r.addr[0], ok[i].addr0);
		assert_int_equal(r.addr[12], ok[i].addr12);
		assert_int_equal(r.addr[15], ok[i].addr15);
		assert_int_equal(r.prefix_len, ok[i].prefix);
		assert_int_equal(r.port_lo, ok[i].lo);
		assert_int_equal(r.port_hi, ok[i].hi);
		/* IPv4 rules live in ::ffff:0:0/96, IPv6 ones do not unless written so. */
		if (ok[i].prefix >= 96 && strchr(ok[i].in, '.'))
			assert_int_equal(r.addr[10] & r.addr[11], 0xff);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_rule r = { 0 };
		char err[256] = "";

		assert_int_equal(policy_parse_net_target(bad[i].in, &r, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_normalisation),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_net_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
