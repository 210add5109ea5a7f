/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kernel/pins.h"

#define BPF_FS_MAGIC 0xcafe4a11 /* include/uapi/linux/magic.h */

int pins_check_bpffs(const char *dir, char *why, size_t why_size)
{
	char parent[PATH_MAX];
	const char *where = dir;
	struct statfs fs;
	char *slash;

	if (dir[0] != '/' || strlen(dir) >= sizeof(parent) - 1) {
		snprintf(why, why_size, "pin directory %s: an absolute path is needed", dir);
		return -EINVAL;
	}
	if (statfs(dir, &fs) < 0) {
		if (errno != ENOENT) {
			snprintf(why, why_size, "%s: %s", dir, strerror(errno));
			return -errno;
		}
		/* Not made yet: it will be, on the file system of its parent. */
		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		where = parent;
		if (statfs(parent, &fs) < 0) {
			snprintf(why, why_size, "%s: %s (is the bpffs mounted there?)", parent,
				 strerror(errno));
			return -errno;
		}
	}
	if ((unsigned long)fs.f_type != BPF_FS_MAGIC) {
		snprintf(why, why_size,
			 "%s is not on a bpffs (mount one: mount -t bpf bpf /sys/fs/bpf); pins "
			 "anywhere else do not keep the programs attached",
			 where);
		return -EXDEV;
	}
	if (where == dir) {
		struct stat self, up;
		char dotdot[PATH_MAX + 4];

		/* The bpffs root holds other programs' pins too: a detach would remove them. */
		snprintf(dotdot, sizeof(dotdot), "%s/..", dir);
		if (stat(dir, &self) == 0 && stat(dotdot, &up) == 0 &&
		    (self.st_dev != up.st_dev || self.st_ino == up.st_ino)) {
			snprintf(why, why_size,
				 "%s is the root of a bpffs mount: give a directory below it, such as "
				 "%s/actgate",
				 dir, strcmp(dir, "/") ? dir : "");
			return -EINVAL;
		}
	}
	return 0;
}

int pins_path(const char *dir, const char *sub, const char *name, char *out, size_t size)
{
	int n = sub ? snprintf(out, size, "%s/%s/%s", dir, sub, name)
		    : snprintf(out, size, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int pins_lock(const char *dir, int *fd, char *why, size_t why_size)
{
	int dfd, err;

	*fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot open %s: %s", dir, strerror(-err));
		return err;
	}
	if (flock(dfd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY)
			snprintf(why, why_size,
				 "%s is held by another process: an actgated is running on these "
				 "pins",
				 dir);
		else
			snprintf(why, why_size, "cannot lock %s: %s", dir, strerror(-err));
		close(dfd);
		return err;
	}
	*fd = dfd;
	return 0;
}

bool pins_complete(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	return pins_path(dir, NULL, PINS_META, path, sizeof(path)) == 0 && stat(path, &st) == 0;
}

/* Remove every entry of directory fd, subdirectories depth first. */
static int clear_at(int fd, const char *shown, char *why, size_t why_size)
{
	struct dirent *de;
	int first = 0, dup_fd;
	DIR *d;

	dup_fd = dup(fd);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	/* The duplicate shares its position with fd, which an earlier pass moved. */
	rewinddir(d);
	while ((de = readdir(d))) {
		int err = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR) {
			int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub < 0) {
				err = -errno;
			} else {
				err = clear_at(sub, de->d_name, why, why_size);
				close(sub);
			}
			if (!err && unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0)
				err = -errno;
		} else if (unlinkat(fd, de->d_name, 0) < 0) {
			err = -errno;
		}
		if (err && !first) {
			first = err;
			snprintf(why, why_size, "cannot remove %s/%s: %s", shown, de->d_name,
				 strerror(-err));
		}
	}
	closedir(d);
	return first;
}

/* What a pin directory may hold at its top; anything else is not ours to remove. */
static bool ours(const char *name)
{
	return strcmp(name, PINS_META) == 0 || strcmp(name, PINS_MAPS) == 0 ||
	       strcmp(name, PINS_LINKS) == 0;
}

int pins_clear(int dir_fd, char *why, size_t why_size)
{
	struct dirent *de;
	int dup_fd = dup(dir_fd), err = 0;
	DIR *d;

	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	/* The duplicate shares its position with fd, which an earlier pass moved. */
	rewinddir(d);
	/* Check everything before removing anything. */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !ours(de->d_name)) {
			snprintf(why, why_size,
				 "the pin directory holds \"%s\", which is not actgate's: refusing to "
				 "remove anything there (give actgate a directory of its own)",
				 de->d_name);
			err = -ENOTEMPTY;
			break;
		}
	}
	closedir(d);
	if (err)
		return err;
	return clear_at(dir_fd, "pin directory", why, why_size);
}

/*
 * Generous: sleepable programs wait out an RCU tasks trace grace period
 * before they go, which under qemu TCG on a loaded 6.12 took over 5 s.
 */
#define DETACH_WAIT_MS 30000

void pins_linked_programs(const char *dir, __u32 *ids, size_t max, size_t *count)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*count = 0;
	if (pins_path(dir, NULL, PINS_LINKS, path, sizeof(path)) || !(d = opendir(path)))
		return;
	while ((de = readdir(d)) && *count < max) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		char link[PATH_MAX];
		int fd;

		if (de->d_name[0] == '.' || pins_path(dir, PINS_LINKS, de->d_name, link, sizeof(link)))
			continue;
		fd = bpf_obj_get(link);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.prog_id)
			ids[(*count)++] = info.prog_id;
		close(fd);
	}
	closedir(d);
}

/*
 * Wait until every program is gone. The kernel frees a link whose last
 * reference went in a work item (always since 6.x; 6.1 only in atomic
 * context), and detaches its program there before dropping the program:
 * a program id that no longer resolves is a program no longer attached.
 */
int pins_wait_detached(const __u32 *ids, size_t count, char *why, size_t why_size)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

	for (int waited = 0; waited < DETACH_WAIT_MS; waited += 10) {
		size_t left = 0;

		for (size_t i = 0; i < count; i++) {
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			if (fd >= 0) {
				close(fd);
				left++;
			}
		}
		if (!left)
			return 0;
		nanosleep(&tick, NULL);
	}
	snprintf(why, why_size,
		 "the pins are removed, but programs are still attached after %d ms: does another "
		 "process hold their links? (bpftool link show)",
		 DETACH_WAIT_MS);
	return -EBUSY;
}

int pins_detach(const char *dir, char *why, size_t why_size)
{
	__u32 ids[128];
	size_t count = 0;
	struct stat st;
	int fd = -1, err;

	err = pins_check_bpffs(dir, why, why_size);
	if (err)
		goto out;
	if (stat(dir, &st) < 0) {
		err = -errno;
		if (err == -ENOENT)
			snprintf(why, why_size, "nothing is pinned at %s: enforcement is not running "
						"from pins", dir);
		else
			snprintf(why, why_size, "%s: %s", dir, strerror(-err));
		goto out;
	}
	err = pins_lock(dir, &fd, why, why_size);
	if (err) {
		if (err == -EBUSY)
			snprintf(why, why_size,
				 "actgated is running on %s: stop it first (systemctl stop actgated, "
				 "or SIGTERM), then detach",
				 dir);
		goto out;
	}
	pins_linked_programs(dir, ids, sizeof(ids) / sizeof(ids[0]), &count);
	err = pins_clear(fd, why, why_size);
	if (err)
		goto out;
	err = pins_wait_detached(ids, count, why, why_size);
	if (err)
		goto out;
	/* What an interrupted upgrade left beside it enforces too: it goes as well. */
	err = pins_remove_staging(dir, why, why_size);
	if (err < 0)
		goto out;
	err = 0;
	if (rmdir(dir) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot remove %s: %s", dir, strerror(-err));
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int pins_staging_path(const char *dir, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s", dir, PINS_STAGING_SUFFIX);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int pins_remove_staging(const char *dir, char *why, size_t why_size)
{
	__u32 ids[128];
	char staging[PATH_MAX];
	size_t count = 0;
	struct stat st;
	int fd = -1, err;

	if (pins_staging_path(dir, staging, sizeof(staging))) {
		snprintf(why, why_size, "pin directory %s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (lstat(staging, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		snprintf(why, why_size, "%s: %s", staging, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_size, "%s is not a directory: not actgate's, refusing to remove it",
			 staging);
		return -ENOTDIR;
	}
	err = pins_lock(staging, &fd, why, why_size);
	if (err)
		return err;
	pins_linked_programs(staging, ids, sizeof(ids) / sizeof(ids[0]), &count);
	err = pins_clear(fd, why, why_size);
	if (!err)
		err = pins_wait_detached(ids, count, why, why_size);
	if (!err && rmdir(staging) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot remove %s: %s", staging, strerror(-err));
	}
	close(fd);
	return err ? err : 1;
}
