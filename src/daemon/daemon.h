/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgated: the daemon's event loop, its state and its control requests. */
#ifndef ACTGATE_DAEMON_H
#define ACTGATE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "util/paths.h"


struct daemon_config {
	const char *policy_dir;
	const char *journal_dir;
	const char *journal_key;      /* seal key, outside journal_dir (NULL: DEFAULT_JOURNAL_KEY) */
	uint32_t fsync_every_records; /* journal fsync policy; 0: the store's default */
	uint32_t fsync_every_ms;
	const char *socket_path;
	const char *cgroup_parent; /* cgroup path under which workloads are created */
	const char *socket_group;  /* NULL: root alone may use the control socket */
	const char *spool_dir;     /* CAEP event files dropped here are ingested; NULL: none */
	const char *const *watch_cgroups; /* cgroup paths scanned for units and containers */
	size_t watch_count;
	const char *pin_dir;       /* bpffs directory of the pinned programs and maps */
	const char *state_dir;     /* the daemon's own state (src/state.h) */
	uint64_t events_bytes;     /* ring buffer size for new pins; 0: the default */
	bool verbose;
};

/*
 * Load the policy, attach and pin the programs (or adopt the pins a previous
 * daemon left), serve until SIGTERM/SIGINT. A stop, clean or not, leaves the
 * pins: enforcement goes on until the next daemon adopts them or `actgate
 * detach` removes them. Returns 0 after a clean stop, -errno when it could
 * not start (logged).
 */
int daemon_run(const struct daemon_config *cfg);

/* Parse, validate and compile the policies as daemon_run would; 0 when good. */
int daemon_check_config(const struct daemon_config *cfg);

#endif /* ACTGATE_DAEMON_H */
