/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The resolver's listening sockets (docs/egress.md): DNS over UDP and TCP
 * on the configured loopback address, every query answered with
 * resolver_answer for the workload that asked. Who asked is the host's
 * (identify): an asker it cannot identify is answered REFUSED, never
 * guessed, and counted. The sockets are non-blocking and live in an epoll
 * set of their own (dns_server_fd), which the daemon's loop watches.
 */
#ifndef ACTGATE_DAEMON_DNSSERVER_H
#define ACTGATE_DAEMON_DNSSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/resolver.h"
#include "daemon/resolverconfig.h"
#include "util/json.h"

#define DNS_SERVER_MAX_TCP 32      /* TCP connections at once; the oldest goes first */
#define DNS_SERVER_TCP_IDLE_MS 5000 /* a TCP asker must send its query within this */
#define DNS_SERVER_TIMEOUT_MS 2000  /* how long an upstream may take */

/*
 * The workload a query came from. Not the server it named: a lookup is
 * forwarded to the configured upstream only, never to a server of the
 * workload's choosing, which could answer an allowed name with any
 * address it wants learned (docs/egress.md).
 */
struct dns_asker {
	void *workload;                /* the host's (opaque here) */
};

struct dns_server_host {
	void *ctx;
	/*
	 * Who sent a query from peer (its address and port) over TCP or UDP:
	 * 0 with *a filled, or -errno (-ENOENT: not a workload the host
	 * knows). NULL: no asker can be identified, every query is REFUSED.
	 */
	int (*identify)(void *ctx, const struct sockaddr *peer, socklen_t peer_len, bool tcp,
			struct dns_asker *a);
	/* After the answer to an identified asker (NULL: nothing to do). */
	void (*done)(void *ctx, struct dns_asker *a);
	/* decide, learn and record, called with the asker as their ctx. */
	struct resolver_ops ops;
};

struct dns_server_counts {
	uint64_t queries;      /* answered, whatever the answer */
	uint64_t unidentified; /* REFUSED: the asker could not be identified */
	uint64_t no_upstream;  /* SERVFAIL: no upstream configured or found */
	uint64_t dropped;      /* not answered: too short, or the reply could not be sent */
};

struct dns_server;

/*
 * Bind both sockets on cfg->listen; lookups go to cfg->upstream (len 0:
 * none: every lookup that is not refused is answered SERVFAIL). 0, or
 * -errno (logged).
 */
int dns_server_open(struct dns_server **out, const struct resolver_config *cfg,
		    const struct dns_server_host *host);

/* The epoll set's fd (readable: call dns_server_run). */
int dns_server_fd(const struct dns_server *s);

/* Serve what is ready, without blocking on a workload (upstreams: bounded). */
void dns_server_run(struct dns_server *s);

void dns_server_counts(const struct dns_server *s, struct dns_server_counts *c);

/* "resolver.*" keys for `actgate status`. */
void dns_server_status(const struct dns_server *s, struct json_out *j);

void dns_server_close(struct dns_server *s);

#endif /* ACTGATE_DAEMON_DNSSERVER_H */
