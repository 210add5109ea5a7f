/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Seal keys (store.h, "The seal key"): loaded from a file kept outside
 * the journal directory, or created with random bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "journal/store-internal.h"
#include "util/io.h"
#include "util/log.h"

/* ---- keys ---- */

static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int jstore_key_load(const char *path, const char *journal_dir, struct jstore_key *key)
{
	char real_key[PATH_MAX], real_dir[PATH_MAX];
	uint8_t extra;
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	memset(key, 0, sizeof(*key));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		return err;
	}
	if (journal_dir) {
		if (!realpath(path, real_key) || !realpath(journal_dir, real_dir)) {
			err = -errno;
			log_error(MODULE, "seal key %s: %s", path, strerror(-err));
			goto out;
		}
		if (path_inside(real_key, real_dir)) {
			log_error(
				MODULE,
				"seal key %s: it is inside the journal directory %s: whoever can "
				"rewrite the journal could then forge its seals; keep it elsewhere",
				path, journal_dir);
			err = -EINVAL;
			goto out;
		}
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		log_warn(MODULE, "seal key %s: readable by group or others (mode %04o)", path,
			 (unsigned)(st.st_mode & 07777));
	do
		n = read(fd, key->bytes, sizeof(key->bytes));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		goto out;
	}
	if (n < JSTORE_KEY_MIN || read(fd, &extra, 1) != 0) {
		log_error(MODULE, "seal key %s: must hold %d to %d bytes", path, JSTORE_KEY_MIN,
			  JSTORE_KEY_MAX);
		err = -EINVAL;
		goto out;
	}
	key->len = (size_t)n;
out:
	close(fd);
	if (err)
		OPENSSL_cleanse(key, sizeof(*key));
	return err;
}

int jstore_key_create(const char *path)
{
	uint8_t bytes[32];
	int fd, err = 0;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		err = errno ? -errno : -EIO;
		log_error(MODULE, "seal key %s: no random bytes: %s", path, strerror(-err));
		return err;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		goto out;
	}
	err = write_all(fd, bytes, sizeof(bytes), NULL);
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (err) {
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		unlink(path);
	}
out:
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return err;
}
