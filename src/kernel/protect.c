/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kernel/protect.h"

static uint32_t kernel_dev(dev_t dev)
{
	/* The kernel's encoding (MKDEV), which s_dev holds: major << 20 | minor. */
	return (uint32_t)((major(dev) << 20) | minor(dev));
}

/* The entry of key, made (flags 0) when missing; NULL when out of memory. */
static struct protect_entry *entry_of(struct protect_set *s, const struct actgate_protect_key *key)
{
	struct protect_entry *e;

	for (size_t i = 0; i < s->count; i++)
		if (!memcmp(&s->entries[i].key, key, sizeof(*key)))
			return &s->entries[i];
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;

		e = realloc(s->entries, cap * sizeof(*e));
		if (!e)
			return NULL;
		s->entries = e;
		s->cap = cap;
	}
	e = &s->entries[s->count++];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	return e;
}

/* path's inode with flags, and its file system's DEV entry with them too. */
static int add_inode(struct protect_set *s, const char *path, uint32_t flags, char *why,
		     size_t why_size)
{
	struct actgate_protect_key key = { .kind = ACTGATE_PROTECT_INODE };
	struct protect_entry *e;
	struct stat st;

	if (stat(path, &st) < 0) {
		int err = -errno;

		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	key.dev = kernel_dev(st.st_dev);
	key.ino = st.st_ino;
	e = entry_of(s, &key);
	if (!e)
		goto nomem;
	e->flags |= flags;
	key.kind = ACTGATE_PROTECT_DEV;
	key.ino = 0;
	e = entry_of(s, &key);
	if (!e)
		goto nomem;
	e->flags |= flags;
	return 0;
nomem:
	snprintf(why, why_size, "out of memory");
	return -ENOMEM;
}

int protect_add(struct protect_set *s, const char *path, uint32_t flags, char *why,
		size_t why_size)
{
	char real[PATH_MAX];
	int err;

	if (!realpath(path, real)) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	err = add_inode(s, real, flags, why, why_size);
	/* Every directory above it, up to "/": cut the path at each '/' in turn. */
	for (char *slash = strrchr(real, '/'); !err && slash; slash = strrchr(real, '/')) {
		if (slash == real) {
			err = add_inode(s, "/", ACTGATE_PROTECT_WAY, why, why_size);
			break;
		}
		*slash = '\0';
		err = add_inode(s, real, ACTGATE_PROTECT_WAY, why, why_size);
	}
	return err;
}

int protect_add_mount_namespace(struct protect_set *s, char *why, size_t why_size)
{
	struct actgate_protect_key key = { .kind = ACTGATE_PROTECT_MNTNS };
	struct protect_entry *e;
	struct stat st;

	if (stat("/proc/self/ns/mnt", &st) < 0) {
		int err = -errno;

		snprintf(why, why_size, "/proc/self/ns/mnt: %s", strerror(-err));
		return err;
	}
	key.ino = st.st_ino;
	e = entry_of(s, &key);
	if (!e) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	e->flags = 1;
	return 0;
}

int protect_contains(const struct protect_set *s, const struct actgate_protect_key *key)
{
	for (size_t i = 0; i < s->count; i++)
		if (!memcmp(&s->entries[i].key, key, sizeof(*key)))
			return 1;
	return 0;
}

void protect_free(struct protect_set *s)
{
	free(s->entries);
	memset(s, 0, sizeof(*s));
}
