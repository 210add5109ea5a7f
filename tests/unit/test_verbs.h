/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the daemon's unit tests share: a request sent through the verb table
 * (daemon/verbs.c) and its reply read as a client reads it. Include after
 * cmocka.h.
 */
#ifndef ACTGATE_TEST_VERBS_H
#define ACTGATE_TEST_VERBS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon/runtime.h"
#include "daemon/signalctl.h"
#include "daemon/verbs.h"

/* An empty daemon (it never started) and a client connected to it. */
struct verbs_client {
	struct daemon *d;
	int fds[2]; /* a socketpair: [0] the daemon's end, [1] the client's */
};

static inline void verbs_client_open(struct verbs_client *c)
{
	c->d = calloc(1, sizeof(*c->d));
	assert_non_null(c->d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, c->fds), 0);
}

/* Also frees the daemon's signal state (signalctl_init is the test's). */
static inline void verbs_client_close(struct verbs_client *c)
{
	signalctl_free(&c->d->signalctl);
	free(c->d);
	close(c->fds[0]);
	close(c->fds[1]);
}

/* Send one request line; return its reply, which must be exactly one line (static buffer). */
static inline const char *verbs_ask(struct verbs_client *c, const char *line)
{
	static char reply[8192];
	struct json_msg msg = { 0 };
	char why[256];
	ssize_t n;

	if (json_msg_parse(line, strlen(line), &msg, why, sizeof(why)))
		fail_msg("%s: %s", line, why);
	verbs_dispatch(c->d, c->fds[0], &msg);
	json_msg_free(&msg);
	n = recv(c->fds[1], reply, sizeof(reply) - 1, MSG_DONTWAIT);
	if (n <= 0)
		fail_msg("%s: no reply", line);
	reply[n] = '\0';
	if (strchr(reply, '\n') != reply + n - 1)
		fail_msg("%s: not one reply line: %s", line, reply);
	return reply;
}

/* The request is refused with an error that holds fragment. */
static inline void verbs_expect_error(struct verbs_client *c, const char *line,
				      const char *fragment)
{
	const char *r = verbs_ask(c, line);

	if (strncmp(r, "{\"ok\":false,\"error\":", 20) || !strstr(r, fragment))
		fail_msg("%s -> %s (wanted an error with %s)", line, r, fragment);
}

#endif /* ACTGATE_TEST_VERBS_H */
