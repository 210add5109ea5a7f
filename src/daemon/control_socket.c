/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/control_socket.h"
#include "daemon/delegation.h"
#include "daemon/records.h"
#include "daemon/verbs.h"
#include "daemon/workloads.h"
#include "util/log.h"

#define CONTROL_LINE_MAX (64 * 1024)

static void client_close(struct daemon *d, struct control_client *c)
{
	delegation_owner_closed(d, c->fd); /* its workloads ended: orphan their children */
	workloads_release(d, c->fd);
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	/* Drain first so that the workload's last records find its name. */
	records_drain(d);
	workloads_sweep(d);
}

void control_socket_readable(struct daemon *d, struct control_client *c)
{
	char chunk[4096];
	ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(d, c);
		return;
	}
	if (c->len + (size_t)n > CONTROL_LINE_MAX) {
		control_reply_error(c->fd, "request longer than %d bytes", CONTROL_LINE_MAX);
		client_close(d, c);
		return;
	}
	{
		char *buf = realloc(c->buf, c->len + (size_t)n + 1);

		if (!buf) {
			client_close(d, c);
			return;
		}
		c->buf = buf;
	}
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t line_len = (size_t)(nl - c->buf);

		verbs_handle_line(d, c->fd, c->buf, line_len);
		memmove(c->buf, nl + 1, c->len - line_len - 1);
		c->len -= line_len + 1;
	}
}

void control_socket_accept(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (d->clients[i].fd < 0)
			break;
	}
	if (i == CONTROL_MAX_CLIENTS) {
		control_reply_error(fd, "too many control connections (%d)", CONTROL_MAX_CLIENTS);
		close(fd);
		return;
	}
	ev.data.u64 = EVENT_CLIENT + i;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	d->clients[i].fd = fd;
}

int control_socket_listen(struct daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = d->cfg->socket_path;
	char dir[PATH_MAX], *slash;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("control", "socket path %s is longer than %zu bytes", path,
			  sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			log_error("control", "cannot create %s: %s", dir, strerror(-err));
			return err;
		}
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/*
	 * A socket left by a daemon that died is stale and goes; one that
	 * answers belongs to a running actgated, which we must not cut off.
	 */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		log_error("control", "%s: another actgated is running and listening there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* root:GROUP 0660 before listen(): nobody else can connect in between. */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chown(path, 0, d->socket_gid) < 0 || chmod(path, 0660) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		log_error("control", "cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	d->listen_fd = fd;
	return 0;
}

void control_socket_close(struct daemon *d)
{
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg->socket_path);
	}
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (d->clients[i].fd >= 0) {
			close(d->clients[i].fd);
			free(d->clients[i].buf);
		}
	}
}
