/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The control socket (--socket): listening, the connections of up to
 * CONTROL_MAX_CLIENTS clients, their requests cut into lines for verbs.c.
 * A client's `actgate run` workloads may go once it has gone (workloads.h).
 */
#ifndef ACTGATE_DAEMON_CONTROL_SOCKET_H
#define ACTGATE_DAEMON_CONTROL_SOCKET_H

#include "daemon/runtime.h"

/*
 * Listen on cfg->socket_path, root:GROUP mode 0660. A stale socket goes;
 * one that answers belongs to a running actgated: -EADDRINUSE. 0 or
 * -errno (logged).
 */
int control_socket_listen(struct daemon *d);
/* A client connects (EVENT_CONTROL_LISTEN). */
void control_socket_accept(struct daemon *d);
/* Client c sent something (EVENT_CLIENT): every whole line is a request. */
void control_socket_readable(struct daemon *d, struct control_client *c);
/* Close the socket (and remove it) and every connection. */
void control_socket_close(struct daemon *d);

#endif /* ACTGATE_DAEMON_CONTROL_SOCKET_H */
