/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The control protocol's one way to reply and to check a request
 * (daemon/control.c): replies read off a socketpair as a client reads them,
 * one line each.
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

#include "daemon/control.h"

struct pair {
	int fds[2]; /* [0] the daemon's end, [1] the client's */
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	close(p->fds[0]);
	if (p->fds[1] >= 0)
		close(p->fds[1]);
	free(p);
	return 0;
}

/* Everything the client has been sent so far (static buffer). */
static const char *received(struct pair *p)
{
	static char text[4096];
	ssize_t n = recv(p->fds[1], text, sizeof(text) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	text[n] = '\0';
	return text;
}

static struct json_msg parse(const char *line)
{
	struct json_msg msg = { 0 };
	char why[256];

	if (json_msg_parse(line, strlen(line), &msg, why, sizeof(why)))
		fail_msg("%s: %s", line, why);
	return msg;
}

static void test_reply_ok_is_one_line(void **state)
{
	struct pair *p = *state;
	struct json_out j;

	control_reply_ok(&j);
	json_add_u64(&j, "generation", 7);
	json_key_object_begin(&j, "grant.0");
	control_add_count(&j, "id", 42);
	json_object_end(&j);
	assert_int_equal(control_reply_send(p->fds[0], &j), 0);
	/* Nested objects carry strings only: the count is its text. */
	assert_string_equal(received(p), "{\"ok\":true,\"generation\":7,\"grant.0\":{\"id\":\"42\"}}\n");
}

static void test_reply_error(void **state)
{
	struct pair *p = *state;
	char long_name[2000];

	assert_int_equal(control_reply_error(p->fds[0], "run: no policy selects \"%s\"", "ci:x"), 0);
	assert_string_equal(received(p),
			    "{\"ok\":false,\"error\":\"run: no policy selects \\\"ci:x\\\"\"}\n");
	/* A message is cut at 1023 bytes: the reply stays one line and valid. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(control_reply_error(p->fds[0], "x %s", long_name), 0);
	{
		const char *r = received(p);
		const char *start = strstr(r, "\"error\":\"x a");

		assert_non_null(start);
		assert_int_equal(strlen(r), strlen("{\"ok\":false,\"error\":\"\"}\n") + 1023);
		assert_int_equal(strchr(r, '\n') - r, (long)strlen(r) - 1);
	}
}

static void test_reply_to_a_gone_client(void **state)
{
	struct pair *p = *state;
	struct json_out j;

	close(p->fds[1]);
	p->fds[1] = -1;
	control_reply_ok(&j);
	assert_int_equal(control_reply_send(p->fds[0], &j), -EPIPE);
	assert_int_equal(control_reply_error(p->fds[0], "refused"), -EPIPE);
}

static void test_check_keys(void **state)
{
	static const char *const allowed[] = { "workload", "principal", NULL };
	struct json_msg ok = parse("{\"verb\":\"run\",\"workload\":\"ci:a\",\"principal\":\"bob\"}");
	struct json_msg typo = parse("{\"verb\":\"run\",\"workload\":\"ci:a\",\"principle\":\"bob\"}");
	struct json_msg prefix = parse("{\"verb\":\"run\",\"work\":\"ci:a\"}");
	struct json_msg only_verb = parse("{\"verb\":\"status\"}");
	char why[128] = "";

	(void)state;
	assert_int_equal(control_check_keys(&ok, allowed, why, sizeof(why)), 0);
	assert_int_equal(control_check_keys(&only_verb, NULL, why, sizeof(why)), 0);
	assert_int_equal(control_check_keys(&typo, allowed, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown key \"principle\"");
	assert_int_equal(control_check_keys(&prefix, allowed, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown key \"work\"");
	/* No keys allowed: anything but "verb" is refused. */
	assert_int_equal(control_check_keys(&ok, NULL, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown key \"workload\"");
	json_msg_free(&ok);
	json_msg_free(&typo);
	json_msg_free(&prefix);
	json_msg_free(&only_verb);
}

static void test_string(void **state)
{
	struct json_msg msg = parse("{\"verb\":\"grant\",\"name\":\"x\",\"ttl_ms\":1500,"
				    "\"labels\":{\"a\":\"b\"},\"reason\":null}");
	bool bad = false;

	(void)state;
	assert_string_equal(control_string(&msg, "name", &bad), "x");
	assert_null(control_string(&msg, "absent", &bad));
	/* Numbers are kept as their text. */
	assert_string_equal(control_string(&msg, "ttl_ms", &bad), "1500");
	assert_false(bad);
	assert_null(control_string(&msg, "labels", &bad));
	assert_true(bad);
	bad = false;
	assert_null(control_string(&msg, "reason", &bad));
	assert_true(bad);
	json_msg_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reply_ok_is_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_to_a_gone_client, setup, teardown),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_string),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
