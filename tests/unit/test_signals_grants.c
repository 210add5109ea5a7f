/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Grant targets, control-protocol numbers and reasons (signals/grants.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "signals/grants.h"

/* A file system of three files: /usr/bin/tool, /etc/secret (a regular file), /run/s.sock, /etc. */
static int fake_resolve(const char *path, struct resolved_path *out, void *ctx)
{
	(void)ctx;
	out->dev = 8 << 20 | 1;
	if (!strcmp(path, "/usr/bin/tool") || !strcmp(path, "/etc/secret")) {
		out->ino = strlen(path);
		out->type = S_IFREG;
		return 0;
	}
	if (!strcmp(path, "/run/s.sock")) {
		out->ino = 77;
		out->type = S_IFSOCK;
		return 0;
	}
	if (!strcmp(path, "/etc")) {
		out->ino = 2;
		out->type = S_IFDIR;
		return 0;
	}
	return -ENOENT;
}

static void test_file_targets(void **state)
{
	struct grant_target t;
	char why[256];

	(void)state;
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_EXEC, "/usr//bin/./tool", fake_resolve,
					    NULL, &t, why, sizeof(why)), 0);
	assert_int_equal(t.key.kind, ACTGATE_GRANT_INODE);
	assert_int_equal(t.key.action, ACTGATE_ACTION_EXEC);
	assert_int_equal(t.key.dev, 8 << 20 | 1);
	assert_int_equal(t.key.ino, strlen("/usr/bin/tool"));
	assert_int_equal(t.key.workload_id, 0);
	assert_string_equal(t.text, "/usr/bin/tool");

	assert_int_equal(grant_target_parse(ACTGATE_ACTION_OPEN, "/etc/secret", fake_resolve, NULL,
					    &t, why, sizeof(why)), 0);
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "unix:/run/s.sock",
					    fake_resolve, NULL, &t, why, sizeof(why)), 0);
	assert_int_equal(t.key.ino, 77);
	assert_string_equal(t.text, "unix:/run/s.sock");
}

static void test_file_target_errors(void **state)
{
	static const struct {
		uint8_t action;
		const char *text;
		int err;
		const char *why;
	} bad[] = {
		{ ACTGATE_ACTION_EXEC, "", -EINVAL, "the target is empty" },
		{ ACTGATE_ACTION_EXEC, "usr/bin/tool", -EINVAL,
		  "path must be absolute (start with '/')" },
		{ ACTGATE_ACTION_EXEC, "/usr/bin/../bin/tool", -EINVAL,
		  "\"..\" in a path is ambiguous with symlinks; write the path without it" },
		{ ACTGATE_ACTION_EXEC, "/usr/bin/none", -ENOENT,
		  "/usr/bin/none: No such file or directory" },
		{ ACTGATE_ACTION_EXEC, "/run/s.sock", -EINVAL,
		  "/run/s.sock: an exec grant needs a regular file" },
		{ ACTGATE_ACTION_OPEN, "/etc/", -EINVAL,
		  "a grant names one file, not a directory and what is below it (no trailing '/')" },
		{ ACTGATE_ACTION_OPEN, "/etc", -EINVAL,
		  "/etc: is a directory; a grant names one file, not what is below it" },
		{ ACTGATE_ACTION_OPEN, "/etc/sec\nret", -EINVAL,
		  "path contains a control character (\\x0a) at byte 9" },
		{ ACTGATE_ACTION_CONNECT, "unix:/etc/secret", -EINVAL,
		  "/etc/secret: not a unix socket" },
		{ ACTGATE_ACTION_TAMPER, "/etc/secret", -EINVAL,
		  "grants are for exec, open or connect" },
	};
	struct grant_target t;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(grant_target_parse(bad[i].action, bad[i].text, fake_resolve, NULL,
						    &t, why, sizeof(why)), bad[i].err);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_net_targets(void **state)
{
	static const uint8_t lo[16] = { [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1 };
	static const uint8_t v6[16] = { [15] = 1 };
	struct grant_target t;
	char why[256];

	(void)state;
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "127.0.0.1:443", NULL, NULL,
					    &t, why, sizeof(why)), 0);
	assert_int_equal(t.key.kind, ACTGATE_GRANT_NET);
	assert_memory_equal(t.key.addr, lo, 16);
	assert_int_equal(t.key.port, 443);
	assert_string_equal(t.text, "127.0.0.1:443");
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "127.0.0.1", NULL, NULL, &t,
					    why, sizeof(why)), 0);
	assert_int_equal(t.key.port, 0); /* every port */
	assert_string_equal(t.text, "127.0.0.1");
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "[::1]:8080", NULL, NULL, &t,
					    why, sizeof(why)), 0);
	assert_memory_equal(t.key.addr, v6, 16);
	assert_string_equal(t.text, "[::1]:8080");
	assert_string_equal(t.name, "");
	/* A name: no address, the name normalised. */
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "GitHub.com.:443", NULL, NULL,
					    &t, why, sizeof(why)), 0);
	assert_string_equal(t.name, "github.com");
	assert_string_equal(t.text, "github.com:443");
	assert_int_equal(t.key.port, 443);
	assert_int_equal(t.key.kind, 0);
	assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, "registry.npmjs.org", NULL,
					    NULL, &t, why, sizeof(why)), 0);
	assert_string_equal(t.text, "registry.npmjs.org");
	assert_int_equal(t.key.port, 0);
}

static void test_net_target_errors(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "10.0.0.0/8", "a connect grant names one address, not a prefix" },
		{ "10.0.0.1:80-90", "a connect grant names one port (or none for every port)" },
		{ "10.0.0.1:0", "port 0 is out of range 1-65535" },
		{ "*.example.com:443", "a connect grant names one name, not a wildcard" },
		{ "example.com:80-90", "a connect grant names one port (or none for every port)" },
		{ "a..example.com", "empty label (two dots in a row, or a leading dot) (at byte 2)" },
		{ "[::1", "missing ']' after a bracketed IPv6 address" },
	};
	struct grant_target t;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(grant_target_parse(ACTGATE_ACTION_CONNECT, bad[i].text, NULL, NULL,
						    &t, why, sizeof(why)), -EINVAL);
		if (bad[i].why)
			assert_string_equal(why, bad[i].why);
		else
			assert_true(why[0] != '\0');
	}
}

static void test_actions_ms_reasons(void **state)
{
	uint64_t ns = 0;
	uint8_t a = 0;
	char why[256];

	(void)state;
	assert_int_equal(grant_action_parse("exec", &a), 0);
	assert_int_equal(a, ACTGATE_ACTION_EXEC);
	assert_int_equal(grant_action_parse("connect", &a), 0);
	assert_int_equal(a, ACTGATE_ACTION_CONNECT);
	assert_int_equal(grant_action_parse("tamper", &a), -EINVAL);
	assert_int_equal(grant_action_parse("Exec", &a), -EINVAL);
	assert_int_equal(grant_action_parse(NULL, &a), -EINVAL);

	assert_int_equal(grant_parse_ms("1500", 10000, &ns, why, sizeof(why)), 0);
	assert_int_equal(ns, 1500000000ull);
	assert_int_equal(grant_parse_ms("0", 10000, &ns, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "0 ms: must be 1 to 10000");
	assert_int_equal(grant_parse_ms("10001", 10000, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(grant_parse_ms("99999999999999999999999999", 10000, &ns, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(grant_parse_ms("-5", 10000, &ns, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "\"-5\" is not a whole number of milliseconds");
	assert_int_equal(grant_parse_ms("1.5", 10000, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(grant_parse_ms("", 10000, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(grant_parse_ms(NULL, 10000, &ns, why, sizeof(why)), -EINVAL);

	assert_int_equal(grant_reason_check("ticket OPS-1", why, sizeof(why)), 0);
	assert_int_equal(grant_reason_check("", why, sizeof(why)), -EINVAL);
	assert_int_equal(grant_reason_check(NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(grant_reason_check("a\tb", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the reason contains a control character (\\x09) at byte 2");
}

/*
 * When the daemon forgets a grant: a minute after its expiry, never for one
 * without an expiry of its own (a sub-workload's delegated rule). The
 * expiry plus the minute overflowed for GRANT_NEVER and dropped such a
 * grant as soon as the machine had been up a minute (51-delegation after
 * 49-strict-record).
 */
static void test_forgotten(void **state)
{
	const uint64_t min = 60ull * 1000000000ull;

	(void)state;
	assert_false(grant_forgotten(GRANT_NEVER, min, 61 * 1000000000ull));
	assert_false(grant_forgotten(GRANT_NEVER, min, UINT64_MAX - 1));
	assert_false(grant_forgotten(GRANT_NEVER, min, UINT64_MAX));
	assert_false(grant_forgotten(5 * min, min, 4 * min)); /* live */
	assert_false(grant_forgotten(5 * min, min, 5 * min)); /* just expired: kept, named */
	assert_false(grant_forgotten(5 * min, min, 6 * min - 1));
	assert_true(grant_forgotten(5 * min, min, 6 * min));
	/* An expiry late enough that adding the minute would wrap. */
	assert_false(grant_forgotten(UINT64_MAX - 10, min, UINT64_MAX - 5));
	assert_true(grant_forgotten(1, min, min + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_targets),	   cmocka_unit_test(test_file_target_errors),
		cmocka_unit_test(test_net_targets),	   cmocka_unit_test(test_net_target_errors),
		cmocka_unit_test(test_actions_ms_reasons),  cmocka_unit_test(test_forgotten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
