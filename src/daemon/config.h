/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgated's options (main.c reads them from the command line; defaults in util/paths.h). */
#ifndef ACTGATE_DAEMON_CONFIG_H
#define ACTGATE_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	const char *state_dir;     /* the daemon's own state (kernel/state.h) */
	uint64_t events_bytes;     /* ring buffer size for new pins; 0: the default */
	bool verbose;
};

#endif /* ACTGATE_DAEMON_CONFIG_H */
