/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Following the files that path rules name. Rules are compiled to inode
 * identity (docs/policy.md, "Paths"), so a rule's path whose file is
 * replaced (a rename over it, as editors, package managers and passwd do; a
 * delete and a create), that appears after the policy was loaded, or that
 * is reached through a renamed directory, a retargeted symlink or a new
 * mount, would otherwise keep naming the old file. The daemon watches, with
 * inotify, every directory on the way to each rule's path (literally and
 * through symlinks), and the mount table; when a name on such a way changes
 * it checks every rule's path again and, when one resolves differently,
 * compiles the policy again (a new generation, swapped in like a reload).
 * Only deny rules follow their paths, and they keep the files they named
 * before (compile.h, policy_image_follow): following a path never weakens a
 * rule, so a workload that moves files around gains nothing by it.
 *
 * Where inotify cannot watch a directory (too many watches), the daemon
 * checks every path periodically instead. Functions
 * return 0 or -errno; errors are logged once, prefixed "paths: ".
 */
#ifndef ACTGATE_PATHWATCH_H
#define ACTGATE_PATHWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"

/* A directory on the way to some rule's path, and the names in it that matter. */
struct pathwatch_dir {
	int wd;
	char *path;
	char **names;
	size_t name_count;
};

/* A deny rule's path and where it resolved when its image was compiled. */
struct pathwatch_path {
	char *path;
	struct resolved_rule at;
};

struct pathwatch {
	int inotify_fd;
	/*
	 * /proc/self/mountinfo: poll it for EPOLLPRI (not EPOLLIN, which a proc
	 * file always has) to learn of a mount or unmount; polling itself
	 * re-arms it, nothing needs reading.
	 */
	int mounts_fd;
	struct pathwatch_dir *dirs;
	size_t dir_count;
	struct pathwatch_path *paths;
	size_t path_count;
	size_t unwatched; /* directories inotify refused (logged once per set) */
};

/* Start watching nothing. -errno (logged) when inotify or the mount table cannot be opened. */
int pathwatch_open(struct pathwatch *pw);

/*
 * Watch the ways to every deny rule's path in img, replacing what was watched;
 * remembers where each path resolved in img. Directories inotify refuses
 * (too many watches, no permission) are counted and logged as a warning:
 * the periodic check still covers them. 0 or -ENOMEM.
 */
int pathwatch_set(struct pathwatch *pw, const struct policy_image *img);

/*
 * Read what inotify has: 1 when a name on the way to a rule's path changed
 * (or events were lost), 0 when nothing that matters did.
 */
int pathwatch_read_events(struct pathwatch *pw);

/*
 * Does some rule's path resolve differently now than in the image the
 * watch was set for? 1 with that path in changed, 0 when none does.
 */
int pathwatch_stale(const struct pathwatch *pw, char *changed, size_t size);

void pathwatch_close(struct pathwatch *pw);

#endif /* ACTGATE_PATHWATCH_H */
