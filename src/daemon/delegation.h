/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Delegation (docs/delegation.md): a governed workload starts a sub-workload
 * with `actgate run` from inside itself. The control socket serves a
 * governed peer this one request and nothing else; the peer is known by
 * the kernel's mark on its task (else its cgroup), never by what it says.
 * The child is a cgroup nested under its parent's; its key holds its
 * parent's policies (attenuation) and only what the parent's spec.delegate
 * allows beyond them (kernel grants); its time never outlives its parent's;
 * it is orphaned (denied, parent-ended) when its parent ends, unless
 * delegate: lets it outlive it. Every request of a governed peer, allowed
 * or refused, is recorded (action delegate, reason delegation) with the
 * chain of authority.
 */
#ifndef ACTGATE_DAEMON_DELEGATION_H
#define ACTGATE_DAEMON_DELEGATION_H

#include <stddef.h>

#include "daemon/runtime.h"

/*
 * A request line from a peer that peer_check refused: when the peer is a
 * process of a governed workload (by its task mark, else its cgroup), the
 * request is served here (run) or refused and recorded (anything else),
 * and 0 is returned. -ENOENT when the peer is not one this serves (the
 * caller replies peer_check's refusal).
 */
int delegation_handle_line(struct daemon *d, int fd, const char *line, size_t len);

/*
 * The control connection fd closed: the workloads it ran have ended, and
 * their sub-workloads that may not outlive them are orphaned in the kernel
 * (ACTGATE_WORKLOAD_PARENT_ENDED), with every workload below them.
 */
void delegation_owner_closed(struct daemon *d, int fd);

#endif /* ACTGATE_DAEMON_DELEGATION_H */
