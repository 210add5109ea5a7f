/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A decision's vocabulary: the names both ways, access lists, and a kernel record's target. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/decision.h"

static void test_names(void **state)
{
	uint8_t v = 99;

	(void)state;
	assert_string_equal(action_name(ACTGATE_ACTION_EXEC), "exec");
	assert_string_equal(action_name(ACTGATE_ACTION_OPEN), "open");
	assert_string_equal(action_name(ACTGATE_ACTION_CONNECT), "connect");
	assert_string_equal(action_name(ACTGATE_ACTION_NONE), "?");
	assert_string_equal(action_name(200), "?");
	assert_string_equal(verdict_name(ACTGATE_VERDICT_ALLOW), "allow");
	assert_string_equal(verdict_name(ACTGATE_VERDICT_DENY), "deny");
	assert_string_equal(verdict_name(2), "?");
	assert_string_equal(mode_name(ACTGATE_MODE_ENFORCE), "enforce");
	assert_string_equal(mode_name(ACTGATE_MODE_AUDIT), "audit");
	assert_string_equal(mode_name(2), "?");
	assert_string_equal(reason_name(ACTGATE_REASON_DEFAULT), "default");
	assert_string_equal(reason_name(ACTGATE_REASON_RULE), "rule");
	assert_string_equal(reason_name(ACTGATE_REASON_NO_POLICY), "no-policy");
	assert_string_equal(reason_name(ACTGATE_REASON_ORPHAN), "orphan");
	assert_string_equal(reason_name(ACTGATE_REASON_SELF_PROTECTION), "self-protection");
	assert_string_equal(reason_name(ACTGATE_REASON_TOO_DEEP), "too-deep");
	assert_string_equal(reason_name(ACTGATE_REASON_REVOKED), "revoked");
	assert_string_equal(reason_name(ACTGATE_REASON_EXPIRED), "expired");
	assert_string_equal(reason_name(ACTGATE_REASON_GRANT), "grant");
	assert_string_equal(reason_name(ACTGATE_REASON_GRANT_EXPIRED), "grant-expired");
	assert_string_equal(reason_name(ACTGATE_REASON_DISCONNECTED), "disconnected");
	assert_string_equal(reason_name(ACTGATE_REASON_WRITTEN), "written");
	assert_string_equal(reason_name(ACTGATE_REASON_SIGNAL + 1), "?");
	assert_string_equal(action_name(ACTGATE_ACTION_TAMPER), "tamper");

	assert_int_equal(action_from_name("connect", &v), 0);
	assert_int_equal(v, ACTGATE_ACTION_CONNECT);
	assert_int_equal(action_from_name("open", &v), 0);
	assert_int_equal(v, ACTGATE_ACTION_OPEN);
	assert_int_equal(verdict_from_name("deny", &v), 0);
	assert_int_equal(v, ACTGATE_VERDICT_DENY);
	assert_int_equal(mode_from_name("audit", &v), 0);
	assert_int_equal(v, ACTGATE_MODE_AUDIT);
	assert_int_equal(reason_from_name("no-policy", &v), 0);
	assert_int_equal(v, ACTGATE_REASON_NO_POLICY);
	v = 99;
	assert_int_equal(action_from_name("?", &v), -EINVAL);
	assert_int_equal(action_from_name("EXEC", &v), -EINVAL);
	assert_int_equal(action_from_name("", &v), -EINVAL);
	assert_int_equal(verdict_from_name("denied", &v), -EINVAL);
	assert_int_equal(mode_from_name("monitor", &v), -EINVAL);
	assert_int_equal(reason_from_name("no_policy", &v), -EINVAL);
	assert_int_equal(v, 99);
}

static void test_access_names(void **state)
{
	char buf[ACCESS_NAMES_SIZE];
	uint8_t bits = 0x55;

	(void)state;
	assert_int_equal(access_names(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(access_names(ACTGATE_ACCESS_ALL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "read,write,create,exec-map");
	assert_int_equal(access_names(ACTGATE_ACCESS_WRITE, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "write");
	assert_int_equal(access_names(0x40, buf, sizeof(buf)), -EINVAL);
	/* Every bit a record may carry: the longest list there is, and it fits. */
	assert_int_equal(access_names(ACTGATE_ACCESS_RECORDED, buf, ACCESS_NAMES_SIZE), 0);
	assert_string_equal(buf, "read,write,create,exec-map,link,received");
	assert_int_equal(access_from_names("read,received", &bits), 0);
	assert_int_equal(bits, ACTGATE_ACCESS_READ | ACTGATE_ACCESS_RECEIVED);
	assert_int_equal(access_from_names("read,write,link", &bits), 0);
	assert_int_equal(bits, ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_LINK);
	assert_int_equal(access_names(ACTGATE_ACCESS_ALL, buf, 8), -ENOSPC);

	assert_int_equal(access_from_names("", &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(access_from_names("exec-map,read", &bits), 0);
	assert_int_equal(bits, ACTGATE_ACCESS_EXEC_MAP | ACTGATE_ACCESS_READ);
	bits = 0x55;
	assert_int_equal(access_from_names("read,", &bits), -EINVAL);
	assert_int_equal(access_from_names(",read", &bits), -EINVAL);
	assert_int_equal(access_from_names("write,write", &bits), -EINVAL);
	assert_int_equal(access_from_names("Read", &bits), -EINVAL);
	assert_int_equal(access_from_names("read write", &bits), -EINVAL);
	assert_int_equal(bits, 0x55);
}

/* A kernel record with a path of n bytes (NUL included), and its size. */
static size_t decision_with_path(struct actgate_decision *d, uint8_t action, const char *path)
{
	size_t n = strlen(path) + 1;

	memset(d, 0, sizeof(*d));
	d->hdr.type = ACTGATE_RECORD_DECISION;
	d->action = action;
	d->path_len = (uint32_t)n;
	memcpy(d->target_path, path, n);
	return ACTGATE_DECISION_FIXED_SIZE + n;
}

static void test_decision_targets(void **state)
{
	static const uint8_t v4[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char out[JOURNAL_TARGET_SIZE];
	struct actgate_decision *d = calloc(1, sizeof(*d));
	size_t size;

	(void)state;
	assert_non_null(d);
	size = decision_with_path(d, ACTGATE_ACTION_OPEN, "/etc/shadow");
	journal_decision_target(d, size, out, sizeof(out));
	assert_string_equal(out, "/etc/shadow");
	/* A path the record does not hold whole: the inode names the file. */
	d->path_len = 4096;
	d->dev = 8 << 20 | 1;
	d->ino = 42;
	d->path_error = -ENAMETOOLONG;
	journal_decision_target(d, size, out, sizeof(out));
	assert_string_equal(out, "inode:8:1:42 (path unavailable: File name too long)");

	/* A unix socket: its path, marked as rules name it. */
	size = decision_with_path(d, ACTGATE_ACTION_CONNECT, "/run/docker.sock");
	d->family = AF_UNIX;
	journal_decision_target(d, size, out, sizeof(out));
	assert_string_equal(out, "unix:/run/docker.sock");
	journal_decision_target(d, size, out, 8);
	assert_string_equal(out, "unix:/r");

	memset(d, 0, sizeof(*d));
	d->action = ACTGATE_ACTION_CONNECT;
	d->family = AF_INET;
	memcpy(d->addr, v4, 16);
	d->port = 443;
	d->protocol = IPPROTO_TCP;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE, out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:443/tcp");
	d->family = AF_INET6;
	d->protocol = IPPROTO_UDP;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE, out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:443/udp"); /* IPv4-mapped */
	memcpy(d->addr, v6, 16);
	d->protocol = 132;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE, out, sizeof(out));
	assert_string_equal(out, "[2001:db8::1]:443/proto132");

	memset(d, 0, sizeof(*d));
	d->action = ACTGATE_ACTION_TAMPER;
	d->dev = ACTGATE_TAMPER_SIGNAL;
	d->ino = 9;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE, out, sizeof(out));
	assert_string_equal(out, "signal 9 to actgated");
	free(d);
	d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->action = ACTGATE_ACTION_TAMPER;
	d->dev = ACTGATE_TAMPER_FILES;
	d->ino = ACTGATE_FILE_READ_SECRET;
	strcpy(d->target_path, "/var/lib/actgate/journal.key");
	d->path_len = (uint32_t)strlen(d->target_path) + 1;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE + 64, out, sizeof(out));
	assert_string_equal(out, "read of actgate's /var/lib/actgate/journal.key");
	d->ino = ACTGATE_FILE_LOCK;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE + 64, out, sizeof(out));
	assert_string_equal(out, "lock of actgate's /var/lib/actgate/journal.key");
	d->ino = 99;
	journal_decision_target(d, ACTGATE_DECISION_FIXED_SIZE + 64, out, sizeof(out));
	assert_string_equal(out, "operation 99 on actgate's /var/lib/actgate/journal.key");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_access_names),
		cmocka_unit_test(test_decision_targets),
	};

	return cmocka_run_group_tests_name("journal/decision", tests, NULL, NULL);
}
