/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate's own files, guarded in the kernel (bpf/protect.bpf.c): the
 * daemon's pin, state, policy and journal directories and its seal key,
 * named to the programs (kernel/protect.h) at every start, after the pins
 * are made or adopted.
 */
#ifndef ACTGATE_DAEMON_OWNFILES_H
#define ACTGATE_DAEMON_OWNFILES_H

struct daemon;

/*
 * Name the configured places to the kernel. 0, or -errno after logging
 * why: the daemon then does not start (a self-protection that does not
 * hold is not reported as if it did).
 */
int ownfiles_protect(struct daemon *d);

#endif /* ACTGATE_DAEMON_OWNFILES_H */
