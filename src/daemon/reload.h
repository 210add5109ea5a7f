/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A reload (SIGHUP, or the control verb reload that `actgate reload` and
 * `actgate policy reload` send): the configuration file read again, the
 * settings that can change live applied (policy_dir, socket_group,
 * spool_dir; config.c's table says which), every other changed setting
 * named in the log as one that takes a restart, then the policy directory
 * loaded as a new generation (generation.h). systemd hears RELOADING=1
 * before and READY=1 after. A configuration with an error, or a policy
 * that is refused, changes nothing.
 */
#ifndef ACTGATE_DAEMON_RELOAD_H
#define ACTGATE_DAEMON_RELOAD_H

#include "daemon/runtime.h"
#include "util/json.h"

/*
 * 0 when the new policy is in force, -errno when anything was refused (the
 * running settings and generation stay). report gets every diagnostic and
 * the settings that need a restart (malloc'd text, maybe empty).
 */
int reload_run(struct daemon *d, char **report);

/* The verb reload (keys checked by verbs.c). */
void reload_verb(struct daemon *d, int fd, const struct json_msg *msg);

#endif /* ACTGATE_DAEMON_RELOAD_H */
