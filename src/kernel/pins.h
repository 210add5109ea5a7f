/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The pin directory on the bpffs: where the maps and program links live so
 * that enforcement outlives the daemon (docs/actgated.8, "Pins").
 *
 *   DIR/maps/NAME    every map of the BPF object
 *   DIR/links/NAME   the link of every program (NAME: the program's)
 *   DIR/meta         the meta map (struct actgate_meta), pinned last: a
 *                    directory without it is a set whose creation did not
 *                    finish, never adopted
 *
 * The directory itself is the lock: the daemon holds flock(LOCK_EX) on it
 * for its whole life, and `actgate detach` takes it before removing
 * anything, so neither a second daemon nor a detach can act under a
 * running one.
 */
#ifndef ACTGATE_PINS_H
#define ACTGATE_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "util/paths.h"

#define PINS_META "meta"
#define PINS_MAPS "maps"
#define PINS_LINKS "links"
/*
 * DIR-upgrade: a sibling of the pin directory where an upgrade builds the
 * next build's complete set before one renameat2(RENAME_EXCHANGE) swaps the
 * two directories (docs/upgrades.md). A staging directory is never adopted:
 * whatever it holds (the next set of an upgrade that did not finish, or the
 * previous set of one that did) is removed when a daemon starts.
 */
/* No dot: the bpffs refuses every name with one (bpf_lookup, EPERM). */
#define PINS_STAGING_SUFFIX "-upgrade"

/*
 * Is dir (or, when it does not exist yet, its parent) on a bpffs? 0, or
 * -errno with the reason in why (-ENOTDIR, -EXDEV when not on a bpffs).
 */
int pins_check_bpffs(const char *dir, char *why, size_t why_size);

/*
 * Create dir if needed (mode 0700) and lock it. Returns 0 with *fd the
 * locked directory (close it to unlock), -EBUSY when another process holds
 * it (a running actgated), or -errno; why says which.
 */
int pins_lock(const char *dir, int *fd, char *why, size_t why_size);

/* Is there a complete pin set in dir (its meta pin)? */
bool pins_complete(const char *dir);

/* DIR/SUB/NAME (sub NULL: DIR/NAME) into out; -ENAMETOOLONG if it does not fit. */
int pins_path(const char *dir, const char *sub, const char *name, char *out, size_t size);

/*
 * Remove everything under the locked directory dir_fd (pins and the maps
 * and links subdirectories), leaving dir itself. A link whose last pin goes
 * and that no process holds is detached by the kernel. 0 or the first
 * -errno (the rest is still tried); why names what could not go.
 */
int pins_clear(int dir_fd, char *why, size_t why_size);

/*
 * Stop enforcing: lock dir (-EBUSY while a daemon runs), remove every pin
 * and dir itself. -ENOENT when nothing is pinned there. Messages in why.
 */
int pins_detach(const char *dir, char *why, size_t why_size);

/* dir's staging directory (DIR-upgrade) into out; -ENAMETOOLONG if it does not fit. */
int pins_staging_path(const char *dir, char *out, size_t size);

/*
 * Remove a staging directory an interrupted upgrade left beside dir (its
 * pins first: links whose last pin goes are detached). 0 when there was
 * none, 1 when one was removed, or -errno with the reason in why.
 */
int pins_remove_staging(const char *dir, char *why, size_t why_size);

/* The ids of the programs the links pinned in dir hold (at most max; *count of them). */
void pins_linked_programs(const char *dir, __u32 *ids, size_t max, size_t *count);

/*
 * Wait until none of the programs ids names is attached any more (their
 * ids no longer resolve). 0, or -EBUSY with the reason in why.
 */
int pins_wait_detached(const __u32 *ids, size_t count, char *why, size_t why_size);

#endif /* ACTGATE_PINS_H */
