/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/peer.h"
#include "identity/cgroup.h"

int peer_group_resolve(const char *name, gid_t *gid, char *why, size_t why_size)
{
	struct group *g;
	char *end;
	unsigned long n;

	if (!name || !name[0]) {
		snprintf(why, why_size, "empty group name");
		return -EINVAL;
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && !*end && !errno && n < (gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	g = getgrnam(name);
	if (!g) {
		snprintf(why, why_size, "no group named \"%.64s\"", name);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	return 0;
}

bool peer_status_has_group(const char *status, gid_t gid)
{
	const char *line = strstr(status, "\nGroups:");

	if (!line)
		return false;
	line += strlen("\nGroups:");
	while (*line && *line != '\n') {
		char *end;
		unsigned long n;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line < '0' || *line > '9')
			break;
		n = strtoul(line, &end, 10);
		if (n == gid)
			return true;
		line = end;
	}
	return false;
}

bool peer_in_group(pid_t pid, gid_t peer_gid, gid_t gid)
{
	char path[64], buf[8192];
	size_t n;
	FILE *f;

	if (peer_gid == gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	buf[0] = '\n';
	n = fread(buf + 1, 1, sizeof(buf) - 2, f);
	fclose(f);
	buf[n + 1] = '\0';
	return peer_status_has_group(buf, gid);
}

int peer_check(int fd, gid_t socket_gid, struct workload_table *workloads,
	       const struct enforcer *enforcer, char *why, size_t why_size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[PATH_MAX];
	int err;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot read the peer's credentials: %s", strerror(-err));
		return err;
	}
	if (cred.uid != 0 && !(socket_gid && peer_in_group(cred.pid, cred.gid, socket_gid))) {
		snprintf(why, why_size,
			 "permission denied: control requests need uid 0%s (peer uid %u)",
			 socket_gid ? " or the socket's group" : "", cred.uid);
		return -EPERM;
	}
	err = cgroup_of_pid(cred.pid, path, sizeof(path));
	if (err) {
		snprintf(why, why_size, "cannot read the cgroup of peer pid %d: %s", cred.pid,
			 strerror(-err));
		return err;
	}
	/* A workload may not lift or change its own restrictions. */
	if (workload_table_find_cgroup(workloads, path)) {
		snprintf(why, why_size,
			 "permission denied: the request comes from inside governed cgroup %.300s",
			 path);
		return -EPERM;
	}
	err = enforcer_task_governed(enforcer, cred.pid);
	if (err) {
		snprintf(why, why_size, "permission denied: %s",
			 err > 0 ? "the request comes from a governed workload's process"
				 : "cannot tell whether the peer is governed");
		return -EPERM;
	}
	return 0;
}
