/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The `resolver:` section of actgated's configuration file (docs/egress.md):
 * where the daemon answers its governed workloads' DNS, where it forwards a
 * lookup that named no server of its own, and the bounds of what it learns.
 * Checked whole at parse time with file:line:col errors. Without the
 * section the daemon answers no lookups.
 */
#ifndef ACTGATE_DAEMON_RESOLVERCONFIG_H
#define ACTGATE_DAEMON_RESOLVERCONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/yamltree.h"

/* Defaults (docs/actgated.8 lists them). */
#define RESOLVER_DEFAULT_LISTEN "127.0.0.153:53"
#define RESOLVER_DEFAULT_TTL_MIN 5u        /* seconds */
#define RESOLVER_DEFAULT_TTL_MAX 3600u     /* seconds */
#define RESOLVER_DEFAULT_LEARNED_MAX 65536u
#define RESOLVER_LEARNED_MAX_LIMIT 262144u /* ACTGATE_MAX_LEARNED: the kernel map's size */
#define RESOLVER_TTL_LIMIT (7u * 24 * 3600)   /* ttl_max at most a week */

struct resolver_endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
};

struct resolver_config {
	bool enabled;                 /* the section is present */
	struct resolver_endpoint listen;   /* a loopback address and port */
	struct resolver_endpoint upstream; /* len 0: none configured */
	uint32_t ttl_min, ttl_max;    /* seconds */
	uint32_t learned_max;         /* entries of the learned map */
	unsigned line;                /* where the section began, for messages */
};

/*
 * Parse "ADDR:PORT" ("127.0.0.1:53", "[::1]:53"; the port may be left out
 * when default_port is not 0) into e. 0, or -EINVAL with why.
 */
int resolver_parse_endpoint(const char *text, uint16_t default_port, struct resolver_endpoint *e,
			    char *why, size_t why_size);

/* "ADDR:PORT" of e, as resolver_parse_endpoint reads it. */
void resolver_format_endpoint(const struct resolver_endpoint *e, char *buf, size_t size);

/*
 * The upstream when the configuration names none: the first `nameserver`
 * of a resolv.conf (path) that is not the resolver's own address, port 53.
 * 0, -ENOENT (none), or -errno reading the file.
 */
int resolver_upstream_from_resolv_conf(const char *path, const struct resolver_endpoint *listen,
				       struct resolver_endpoint *out);

/* Parse the value of the `resolver:` key into c (zeroed); errors go through ctx. */
void resolver_config_parse(struct ytree_ctx *ctx, const struct ynode *map,
			   struct resolver_config *c);

/* Do a and b differ (a reload compares them: the section takes a restart)? */
bool resolver_config_differs(const struct resolver_config *a, const struct resolver_config *b);

#endif /* ACTGATE_DAEMON_RESOLVERCONFIG_H */
