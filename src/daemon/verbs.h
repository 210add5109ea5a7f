/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The control verbs, in one table: each verb's name, the keys a request for
 * it may carry, and its handler. A request is answered by exactly one reply
 * line (control.h). A new verb is one row in verbs.c and a handler in the
 * module whose state it reads or changes.
 */
#ifndef ACTGATE_DAEMON_VERBS_H
#define ACTGATE_DAEMON_VERBS_H

#include <stddef.h>

#include "daemon/runtime.h"
#include "util/json.h"

/*
 * One request line from the peer of fd: the peer is checked (peer.h), the
 * line parsed, then verbs_dispatch. Every refusal is a reply.
 */
void verbs_handle_line(struct daemon *d, int fd, const char *line, size_t len);

/*
 * A parsed request: a verb the table does not have, or a key its row does
 * not allow, is refused before any handler runs and changes nothing.
 */
void verbs_dispatch(struct daemon *d, int fd, const struct json_msg *msg);

#endif /* ACTGATE_DAEMON_VERBS_H */
