/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the unit tests share: removing a test's temporary directory tree. */
#ifndef ACTGATE_TEST_TREE_H
#define ACTGATE_TEST_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int test_tree_remove_entry(const char *path, const struct stat *st, int flag,
				  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything below it (best effort: a test's leftovers). */
static inline void remove_tree(const char *dir)
{
	nftw(dir, test_tree_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* ACTGATE_TEST_TREE_H */
