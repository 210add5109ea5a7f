/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The CLI's side of the control socket: one JSON object per line each way. */
#ifndef ACTGATE_CLI_CLIENT_H
#define ACTGATE_CLI_CLIENT_H

#include <stddef.h>

#include "util/json.h"

#define SOCKET_ENV "ACTGATE_SOCKET"

/* The socket path: the flag's value, else $ACTGATE_SOCKET, else the default. */
const char *client_socket_path(const char *flag_value);

/* Connect; -errno with a message in why (e.g. "is actgated running?"). */
int client_connect(const char *socket_path, int *fd, char *why, size_t why_size);

/*
 * Send one request and read one reply. Returns 0 when the reply says ok,
 * -EREMOTEIO when it carries an error (the daemon's message in why), or
 * -errno for transport failures (described in why). reply is filled in
 * both of the first two cases; free it with json_msg_free.
 */
int client_request(int fd, struct json_out *request, struct json_msg *reply, char *why,
		   size_t why_size);

#endif /* ACTGATE_CLI_CLIENT_H */
