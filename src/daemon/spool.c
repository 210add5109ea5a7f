/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/ingest.h"
#include "daemon/spool.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#define SPOOL_SCAN_NS (200ull * 1000000ull)
#define SPOOL_FILE_MAX (JSON_MSG_MAX / 2)

/* A refused file goes to SPOOL/rejected/, where an operator can read it. */
static void reject_file(const struct spool *sp, const char *name, const char *why)
{
	char dir[4096], from[4096], to[4096 + 256];

	snprintf(dir, sizeof(dir), "%s/rejected", sp->dir);
	snprintf(from, sizeof(from), "%s/%s", sp->dir, name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	log_error("spool", "%s: refused, moved to %s: %s", from, dir, why);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || rename(from, to) < 0) {
		log_error("spool", "%s: cannot move it aside (%s); removing it", from,
			  strerror(errno));
		unlink(from);
	}
}

static void spool_one(const struct spool *sp, struct signalctl *s, int dirfd, const char *name)
{
	struct ingest_result res;
	char *text = NULL, why[1100], label[4096];
	int err;
	struct stat st;
	ssize_t n = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, sizeof(why), "cannot read it: %s", strerror(errno));
		goto reject;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "not a regular file");
		goto reject;
	}
	if (st.st_size > SPOOL_FILE_MAX) {
		snprintf(why, sizeof(why), "%lld bytes: an event token is at most %d",
			 (long long)st.st_size, SPOOL_FILE_MAX);
		goto reject;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		snprintf(why, sizeof(why), "out of memory");
		goto reject;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		snprintf(why, sizeof(why), "short read");
		goto reject;
	}
	text[n] = '\0';
	snprintf(label, sizeof(label), "%s/%s", sp->dir, name);
	/* The same path as the control socket's: signed or unsigned, verified and resolved. */
	err = ingest_token(s, label, text, (size_t)n, 0, &res);
	if (err && err != -EIO) {
		snprintf(why, sizeof(why), "%.1023s", res.why);
		ingest_result_free(&res);
		goto reject;
	}
	/* -EIO: applied but not saved (logged); taking it again would replay it. */
	ingest_result_free(&res);
	if (unlinkat(dirfd, name, 0) < 0)
		log_error("spool", "%s: applied but cannot be removed: %s", label, strerror(errno));
	goto out;
reject:
	reject_file(sp, name, why);
out:
	if (fd >= 0)
		close(fd);
	free(text);
}

/* Files whose name starts with '.' are being written (write, then rename into place). */
static void scan(const struct spool *sp, struct signalctl *s)
{
	struct dirent *e;
	DIR *dir = opendir(sp->dir);

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "rejected"))
			continue;
		spool_one(sp, s, dirfd(dir), e->d_name);
	}
	closedir(dir);
}

int spool_init(struct spool *sp, const char *dir)
{
	*sp = (struct spool){ .dir = dir };
	if (dir && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;

		log_error("spool", "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

void spool_tick(struct spool *sp, struct signalctl *s)
{
	uint64_t now = boot_ns();

	if (!sp->dir || now < sp->next_scan_ns)
		return;
	scan(sp, s);
	sp->next_scan_ns = now + SPOOL_SCAN_NS;
}
