/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* actgated: the daemon, from start to stop (the modules it drives: runtime.h). */
#ifndef ACTGATE_DAEMON_H
#define ACTGATE_DAEMON_H

#include "daemon/config.h"

/*
 * Load the policy, attach and pin the programs (or adopt the pins a previous
 * daemon left), serve until SIGTERM/SIGINT. A stop, clean or not, leaves the
 * pins: enforcement goes on until the next daemon adopts them or `actgate
 * detach` removes them. Returns 0 after a clean stop, -errno when it could
 * not start (logged).
 */
int daemon_run(struct daemon_config *cfg, const struct config_source *src);

/*
 * Parse, validate and compile the policies as daemon_run would (cfg is the
 * configuration already resolved from src); 0 when good.
 */
int daemon_check_config(const struct daemon_config *cfg, const struct config_source *src);

#endif /* ACTGATE_DAEMON_H */
