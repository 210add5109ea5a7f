/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Adoption of the pins a previous daemon left (the programs, links and
 * maps under --pin-dir keep enforcing while no daemon runs), and the
 * reconciliation of its workloads with what is there now.
 */
#ifndef ACTGATE_DAEMON_ADOPT_H
#define ACTGATE_DAEMON_ADOPT_H

#include "daemon/runtime.h"

/*
 * Take over from a daemon that died or stopped: its workloads from the state
 * file, the records its ring buffer kept, the drops it missed; then the
 * policy on disk as the next generation, like a reload, and the older
 * generations out of the maps. Until the reload succeeds the adopted maps
 * go on enforcing the generation the previous daemon left, so a failure here
 * (logged) stops this daemon but never enforcement. 0 or -errno.
 */
int adopt_pins(struct daemon *d);

#endif /* ACTGATE_DAEMON_ADOPT_H */
