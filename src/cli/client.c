/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/client.h"
#include "util/io.h"
#include "util/paths.h"

#define REPLY_MAX (64 * 1024)

const char *client_socket_path(const char *flag_value)
{
	const char *env = getenv(SOCKET_ENV);

	if (flag_value)
		return flag_value;
	if (env && env[0])
		return env;
	return DEFAULT_SOCKET_PATH;
}

int client_connect(const char *socket_path, int *fd_out, char *why, size_t why_size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(why, why_size, "%s: socket path too long", socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "socket: %s", strerror(-err));
		return err;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s%s", socket_path, strerror(-err),
			 (err == -ENOENT || err == -ECONNREFUSED) ? " (is actgated running?)" : "");
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

/* Read up to and excluding '\n'. Byte by byte: replies are short and rare. */
static int read_line(int fd, char **line, size_t *len)
{
	size_t cap = 256, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return r < 0 ? -errno : -ECONNRESET;
		}
		if (c == '\n')
			break;
		if (n + 1 >= cap) {
			char *bigger;

			if (cap >= REPLY_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	*line = buf;
	*len = n;
	return 0;
}

int client_request(int fd, struct json_out *request, struct json_msg *reply, char *why,
		   size_t why_size)
{
	const char *ok, *error;
	char *line = NULL;
	size_t len = 0;
	int err;

	if (request->error) {
		snprintf(why, why_size, "cannot build the request: %s", strerror(-request->error));
		return request->error;
	}
	err = send_all(fd, request->buf, request->len);
	if (!err)
		err = send_all(fd, "\n", 1);
	if (err) {
		snprintf(why, why_size, "cannot send to actgated: %s", strerror(-err));
		return err;
	}
	err = read_line(fd, &line, &len);
	if (err) {
		snprintf(why, why_size, "no reply from actgated: %s", strerror(-err));
		return err;
	}
	err = json_msg_parse(line, len, reply, why, why_size);
	free(line);
	if (err)
		return -EPROTO;
	ok = json_msg_string(reply, "ok");
	if (ok && strcmp(ok, "true") == 0)
		return 0;
	error = json_msg_string(reply, "error");
	snprintf(why, why_size, "%s", error ? error : "actgated refused the request");
	return -EREMOTEIO;
}
