/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/cgroup.h"

int cgroup2_find_mount(char *mount, size_t size)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int err = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPER" */
		char mnt[PATH_MAX], fstype[64], *sep;

		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		/* mountinfo escapes spaces as \040; such a mount point is refused. */
		if (strchr(mnt, '\\')) {
			err = -EINVAL;
			break;
		}
		if (strlen(mnt) >= size) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(mount, mnt);
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_id_at(const char *fs_path, uint64_t *id)
{
	/* A cgroup2 file handle is the 64-bit kernfs id: what BPF sees as the cgroup id. */
	union {
		struct file_handle fh;
		char storage[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, fs_path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EPROTO;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int cgroup_of_pid(pid_t pid, char *path, size_t size)
{
	char file[64], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int err = -ENOENT;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		size_t len;

		if (strncmp(line, "0::", 3) != 0)
			continue;
		len = strcspn(line + 3, "\n");
		if (len >= size) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(path, line + 3, len);
		path[len] = '\0';
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (n == 1 && outer[0] == '/')
		return 1;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

int cgroup_mkdir_p(const char *mount, const char *path)
{
	char full[PATH_MAX];
	size_t base;
	int n;

	n = snprintf(full, sizeof(full), "%s%s", mount, path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -ENAMETOOLONG;
	base = strlen(mount);
	for (char *p = full + base + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(full, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rmdir_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* Only directories: a cgroup's control files go with it. */
	if (type == FTW_DP && rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int cgroup_remove_tree(const char *fs_path)
{
	int err = nftw(fs_path, rmdir_visit, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

	if (err == -1)
		return errno == ENOENT ? 0 : -errno;
	return err;
}
