/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cgroup v2 facts: where the hierarchy is mounted, a cgroup's id (what the
 * BPF programs see from bpf_get_current_cgroup_id), and a process's cgroup.
 * Paths called "cgroup paths" are relative to the cgroup2 root and start
 * with '/', as in /proc/PID/cgroup.
 */
#ifndef ACTGATE_CGROUP_H
#define ACTGATE_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The cgroup2 mount point, from /proc/self/mountinfo (never assumed). */
int cgroup2_find_mount(char *mount, size_t size);

/* The id of the cgroup at a file system path (the cgroup's kernfs id). */
int cgroup_id_at(const char *fs_path, uint64_t *id);

/* The cgroup path of a process, from the "0::" line of /proc/PID/cgroup. */
int cgroup_of_pid(pid_t pid, char *path, size_t size);

/* Is cgroup path inner equal to or below outer? */
int cgroup_path_within(const char *inner, const char *outer);

/* mkdir -p of a cgroup path under the mount; existing directories are fine. */
int cgroup_mkdir_p(const char *mount, const char *path);

/*
 * Remove a cgroup and every cgroup below it, deepest first. Only empty
 * cgroups can be removed, so a populated one stops it with -EBUSY (and its
 * ancestors stay). 0 when the whole tree is gone.
 */
int cgroup_remove_tree(const char *fs_path);

#endif /* ACTGATE_CGROUP_H */
