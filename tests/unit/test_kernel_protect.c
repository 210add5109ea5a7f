/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* kernel/protect.c: the set of places self-protection guards, by inode identity. */
#include <linux/types.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/protect.h"

static uint32_t flags_of(const struct protect_set *s, const char *path, uint32_t kind)
{
	struct actgate_protect_key key = { .kind = kind };
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	key.dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
	key.ino = kind == ACTGATE_PROTECT_INODE ? st.st_ino : 0;
	for (size_t i = 0; i < s->count; i++)
		if (!memcmp(&s->entries[i].key, &key, sizeof(key)))
			return s->entries[i].flags;
	return 0;
}

static void test_places_and_their_ways(void **state)
{
	char root[] = "/tmp/actgate-protect-XXXXXX", dir[PATH_MAX], key[PATH_MAX],
	     link[PATH_MAX], why[256];
	struct protect_set s = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/state", root);
	snprintf(key, sizeof(key), "%s/state/journal.key", root);
	snprintf(link, sizeof(link), "%s/via-link", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	f = fopen(key, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink(dir, link), 0);

	/* Named through a symlink: the real directory is protected. */
	assert_int_equal(protect_add(&s, link, ACTGATE_PROTECT_TREE, why, sizeof(why)), 0);
	assert_int_equal(protect_add(&s, key, ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET, why,
				     sizeof(why)), 0);
	/* The directory is also on the way to the key. */
	assert_int_equal(flags_of(&s, dir, ACTGATE_PROTECT_INODE),
			 ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_WAY);
	assert_int_equal(flags_of(&s, key, ACTGATE_PROTECT_INODE),
			 ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET);
	/* Every directory on the way, up to /, and not the symlink's own name. */
	assert_int_equal(flags_of(&s, root, ACTGATE_PROTECT_INODE), ACTGATE_PROTECT_WAY);
	assert_int_equal(flags_of(&s, "/tmp", ACTGATE_PROTECT_INODE), ACTGATE_PROTECT_WAY);
	assert_int_equal(flags_of(&s, "/", ACTGATE_PROTECT_INODE) & ACTGATE_PROTECT_WAY,
			 ACTGATE_PROTECT_WAY);
	/* The file system's entry has the union of its entries' flags. */
	assert_int_equal(flags_of(&s, key, ACTGATE_PROTECT_DEV) &
				 (ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET | ACTGATE_PROTECT_WAY),
			 ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET | ACTGATE_PROTECT_WAY);
	/* Named twice: one entry. */
	{
		size_t before = s.count;

		assert_int_equal(protect_add(&s, dir, ACTGATE_PROTECT_TREE, why, sizeof(why)), 0);
		assert_int_equal(s.count, before);
	}
	assert_int_equal(protect_add_mount_namespace(&s, why, sizeof(why)), 0);
	/* A place that does not exist is refused, saying which. */
	assert_int_equal(protect_add(&s, "/nonexistent/actgate", ACTGATE_PROTECT_TREE, why,
				     sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/actgate"));
	protect_free(&s);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_places_and_their_ways),
	};

	return cmocka_run_group_tests_name("kernel/protect", tests, NULL, NULL);
}
