/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Who may use the control socket: root, or a member of the group given with
 * `actgated --socket-group` (the socket is root:GROUP, mode 0660, so the
 * file system checks it first; the daemon checks again with SO_PEERCRED),
 * and never a process of a governed workload.
 */
#ifndef ACTGATE_DAEMON_PEER_H
#define ACTGATE_DAEMON_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "identity/workload.h"
#include "kernel/enforcer.h"

/* A group name or number -> gid. 0, or -ENOENT/-EINVAL with why. */
int peer_group_resolve(const char *name, gid_t *gid, char *why, size_t why_size);

/*
 * Is the peer (pid, its primary gid) a member of gid? The supplementary
 * groups are read from /proc/PID/status. false when they cannot be read.
 */
bool peer_in_group(pid_t pid, gid_t peer_gid, gid_t gid);

/*
 * The supplementary groups of a /proc/PID/status text: is gid among them?
 * (Split out for the unit tests.)
 */
bool peer_status_has_group(const char *status, gid_t gid);

/*
 * May the peer of control connection fd send requests? Root, or a member of
 * socket_gid (0: root alone); and not from inside a governed workload: not
 * by its cgroup (one of workloads), nor by the kernel's mark, which a
 * governed task keeps even after it moved to another cgroup. 0, or -EPERM
 * (another -errno when it cannot be told) with why.
 */
int peer_check(int fd, gid_t socket_gid, struct workload_table *workloads,
	       const struct enforcer *enforcer, char *why, size_t why_size);

#endif /* ACTGATE_DAEMON_PEER_H */
