/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What actgated tells systemd (daemon/notify.c), read off a datagram socket
 * standing in for systemd's $NOTIFY_SOCKET; the watchdog from
 * $WATCHDOG_USEC and $WATCHDOG_PID as systemd sets them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"

struct sock {
	int fd;
	char path[108];
};

static int setup(void **state)
{
	struct sock *s = calloc(1, sizeof(*s));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	assert_non_null(s);
	snprintf(s->path, sizeof(s->path), "/tmp/actgate-notify-%d", (int)getpid());
	unlink(s->path);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->path);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	setenv("NOTIFY_SOCKET", s->path, 1);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sock *s = *state;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	close(s->fd);
	unlink(s->path);
	free(s);
	return 0;
}

static const char *next_message(struct sock *s)
{
	static char buf[1024];
	ssize_t n = recv(s->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static void test_states(void **state)
{
	struct sock *s = *state;
	const char *m;

	notify_ready("generation 1: 2 policies, 0 workloads");
	assert_string_equal(next_message(s), "READY=1\nSTATUS=generation 1: 2 policies, 0 workloads");
	notify_status("generation 2: 2 policies, 1 workload");
	assert_string_equal(next_message(s), "STATUS=generation 2: 2 policies, 1 workload");
	notify_reloading();
	m = next_message(s);
	assert_true(!strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27));
	assert_true(strtoull(m + 27, NULL, 10) > 0);
	notify_stopping();
	assert_true(!strncmp(next_message(s), "STOPPING=1\n", 11));
}

static void test_watchdog(void **state)
{
	struct sock *s = *state;
	struct notify n;
	char pid[32];

	/* No WatchdogSec=: no pings, no limit on the loop's sleep. */
	notify_init(&n);
	assert_int_equal(n.watchdog_every_ns, 0);
	assert_int_equal(notify_timeout_ms(&n, 500), 500);
	notify_watchdog_tick(&n);
	assert_true(recv(s->fd, pid, sizeof(pid), MSG_DONTWAIT) < 0);

	/* WatchdogSec=2s for this process: a ping at once, then every second. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	notify_init(&n);
	assert_int_equal(n.watchdog_every_ns, 1000000000ull);
	notify_watchdog_tick(&n);
	assert_string_equal(next_message(s), "WATCHDOG=1");
	/* The next is a second away: the loop may not sleep longer than that. */
	assert_true(notify_timeout_ms(&n, 5000) <= 1001);
	assert_true(notify_timeout_ms(&n, 5000) > 0);
	assert_int_equal(notify_timeout_ms(&n, 10), 10);
	notify_watchdog_tick(&n);
	assert_true(recv(s->fd, pid, sizeof(pid), MSG_DONTWAIT) < 0); /* not due yet */

	/* A watchdog meant for another process is not ours. */
	setenv("WATCHDOG_PID", "1", 1);
	notify_init(&n);
	assert_int_equal(n.watchdog_every_ns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
