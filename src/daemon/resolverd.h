/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The resolver's place in actgated (docs/egress.md): who asked (the
 * source address bpf/steer.bpf.c gave the workload's lookup), and the
 * asker's decisions, learning and records (resolvehost.h) against the
 * running generation, the signals and the journal.
 */
#ifndef ACTGATE_DAEMON_RESOLVERD_H
#define ACTGATE_DAEMON_RESOLVERD_H

#include "daemon/dnsserver.h"
#include "daemon/runtime.h"

/* The host of the daemon's dns_server; ctx is the daemon. */
struct dns_server_host resolverd_host(struct daemon *d);

/*
 * The workload whose steered lookups come from source ip4 (network
 * order): the one live workload whose id's low bits it holds; NULL when
 * none does, or more than one (then nobody is guessed).
 */
struct workload *resolverd_workload_of(struct daemon *d, uint32_t ip4);

#endif /* ACTGATE_DAEMON_RESOLVERD_H */
