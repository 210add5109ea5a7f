/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Discovery of workloads the daemon did not start: the cgroup trees below
 * the watched roots (`actgated --watch-cgroup`) are scanned, and every
 * cgroup whose path names a systemd unit or a container (identity.h) is
 * handed to the daemon to become a workload. Until then, and for cgroups
 * nothing identifies, the watched root itself is a workload
 * ("unidentified:ROOT") with whatever policy selects that name: the kernel's
 * ancestor walk makes it govern every cgroup below from its first action.
 */
#ifndef ACTGATE_DISCOVERY_H
#define ACTGATE_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"

#define DISCOVERY_MAX_ROOTS 16
#define DISCOVERY_MAX_DEPTH 16 /* levels below a root that are scanned */

struct discovery_host {
	void *ctx;
	const char *cgroup_mount;
	/* Is there a workload for this cgroup path already? */
	bool (*known)(void *ctx, const char *cgroup_path);
	/* Make one: 0, -ENOENT when no policy selects it, another -errno (logged). */
	int (*found)(void *ctx, const char *cgroup_path, const struct cgroup_identity *id);
};

struct discovery {
	struct discovery_host host;
	const char *roots[DISCOVERY_MAX_ROOTS]; /* cgroup paths, '/' first */
	size_t root_count;
	char **ignored; /* identified, but no policy selects them: not asked again */
	size_t ignored_count;
	uint64_t next_scan_ns;
};

/* The workload name of a watched root: "unidentified:ROOT". */
void discovery_root_name(const char *root, char *out, size_t size);

void discovery_init(struct discovery *dc, const struct discovery_host *host,
		    const char *const *roots, size_t count);
/* Scan the trees when a scan is due (every 250 ms). */
void discovery_tick(struct discovery *dc);
void discovery_free(struct discovery *dc);

#endif /* ACTGATE_DISCOVERY_H */
