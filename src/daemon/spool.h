/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The CAEP spool (`actgated --spool-dir`): event tokens dropped into the
 * directory are applied (ingest.c) and removed; a refused one moves to
 * DIR/rejected/ where an operator can read it. Files whose name starts
 * with '.' are being written (write, then rename into place) and wait.
 */
#ifndef ACTGATE_DAEMON_SPOOL_H
#define ACTGATE_DAEMON_SPOOL_H

#include <stdint.h>

#include "daemon/signalctl.h"

struct spool {
	const char *dir; /* NULL: no spool */
	uint64_t next_scan_ns;
};

/* Create dir (NULL: no spool) when missing. 0 or -errno (logged). */
int spool_init(struct spool *sp, const char *dir);
/* Timer work: read the spool when a scan is due (every 200 ms). */
void spool_tick(struct spool *sp, struct signalctl *s);

#endif /* ACTGATE_DAEMON_SPOOL_H */
