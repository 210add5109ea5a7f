/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/io.h"

int write_all(int fd, const void *buf, size_t len, size_t *written)
{
	const char *p = buf;
	size_t done = 0;
	int err = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (written)
		*written = done;
	return err;
}

int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t len, size_t *got)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*got = done;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

int write_file_atomic(const char *dir, const char *name, const char *text, size_t len,
		      char *why, size_t why_size)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd = -1, dfd = -1, err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(why, why_size, "%s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s: %s", tmp, strerror(-err));
		goto out;
	}
	err = write_all(fd, text, len, NULL);
	/* Synced before the rename: after a crash the name holds the old file or the whole new one. */
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (err) {
		snprintf(why, why_size, "cannot write %s: %s", tmp, strerror(-err));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot rename %s to %s: %s", tmp, path, strerror(-err));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd); /* the rename itself; failing here leaves a good file either way */
out:
	if (fd >= 0) {
		close(fd);
		if (err)
			unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	return err;
}

