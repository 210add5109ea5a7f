/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The `resolver:` section (resolverconfig.h). The listen address must be a
 * loopback one: the resolver decides lookups for the workloads of this
 * host only, and an address off the host would let anyone on the network
 * ask it (and, from the answers it forwards, learn what it learns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "daemon/resolverconfig.h"
#include "util/duration.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

_Static_assert(RESOLVER_LEARNED_MAX_LIMIT == ACTGATE_MAX_LEARNED, "the learned map's size");

enum field {
	F_LISTEN,
	F_UPSTREAM,
	F_TTL_MIN,
	F_TTL_MAX,
	F_LEARNED_MAX,
	F_NR,
};

static const char *const field_keys[F_NR] = {
	[F_LISTEN] = "listen",
	[F_UPSTREAM] = "upstream",
	[F_TTL_MIN] = "ttl_min",
	[F_TTL_MAX] = "ttl_max",
	[F_LEARNED_MAX] = "learned_max",
};

static int parse_port(const char *text, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int resolver_parse_endpoint(const char *text, uint16_t default_port, struct resolver_endpoint *e,
			    char *why, size_t why_size)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_text = NULL;
	uint16_t port = default_port;
	bool bracketed = text[0] == '[';
	size_t n;

	memset(e, 0, sizeof(*e));
	if (bracketed) {
		const char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		n = (size_t)(close - text - 1);
		port_text = close[1] ? close + 2 : NULL;
		text++;
	} else {
		const char *colon = strchr(text, ':');

		n = colon ? (size_t)(colon - text) : strlen(text);
		port_text = colon ? colon + 1 : NULL;
	}
	if (!n || n >= sizeof(host))
		goto bad;
	memcpy(host, text, n);
	host[n] = '\0';
	if (port_text ? parse_port(port_text, &port) : !port)
		goto bad;
	if (bracketed) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e->addr;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		e->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e->addr;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		e->len = sizeof(*s4);
	}
	return 0;
bad:
	memset(e, 0, sizeof(*e));
	snprintf(why, why_size, "expected ADDRESS:PORT (an IPv4 address, or an IPv6 one in "
		 "brackets: [::1]:53)%s", default_port ? "; the port may be left out" : "");
	return -EINVAL;
}

void resolver_format_endpoint(const struct resolver_endpoint *e, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (e->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&e->addr;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (e->addr.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&e->addr;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(s4->sin_port));
	} else {
		snprintf(buf, size, "(none)");
	}
}

/*
 * 127.0.0.0/8 outside 127.128.0.0/9, where the workloads' lookups come
 * from (abi.h, ACTGATE_STEER_NET). IPv4 only: the steering gives each
 * workload a source address of its own, which only 127.0.0.0/8 has room for.
 */
static bool loopback(const struct resolver_endpoint *e)
{
	uint32_t a;

	if (e->addr.ss_family != AF_INET)
		return false;
	a = ntohl(((const struct sockaddr_in *)&e->addr)->sin_addr.s_addr);
	return (a >> 24) == 127 && (a & ~ACTGATE_STEER_MASK) != ACTGATE_STEER_NET;
}

static void take_endpoint(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
			  uint16_t default_port, struct resolver_endpoint *e)
{
	struct ytree_quoted q;
	char why[160];

	if (!ytree_expect_string(ctx, n, where))
		return;
	if (strlen(n->text) != n->len ||
	    resolver_parse_endpoint(n->text, default_port, e, why, sizeof(why)))
		error_at(ctx, n->pos, "%s: %s: %s", where, ytree_quote(&q, n->text, n->len),
			 strlen(n->text) != n->len ? "contains a NUL" : why);
}

/* A whole number of seconds, written as a duration ("30s", "1h"). */
static void take_seconds(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
			 uint32_t *out)
{
	char why[128];
	uint64_t ns;

	if (!ytree_expect_string(ctx, n, where))
		return;
	if (duration_parse(n->text, &ns, why, sizeof(why))) {
		error_at(ctx, n->pos, "%s: %s (a duration such as 30s, 5m, 1h)", where, why);
		return;
	}
	if (ns % 1000000000ull || ns / 1000000000ull > RESOLVER_TTL_LIMIT) {
		error_at(ctx, n->pos, "%s: a whole number of seconds from 1s to 7d", where);
		return;
	}
	*out = (uint32_t)(ns / 1000000000ull);
}

void resolver_config_parse(struct ytree_ctx *ctx, const struct ynode *map,
			   struct resolver_config *c)
{
	const struct ynode *keys[F_NR], *vals[F_NR];
	char why[160];
	size_t errors = ctx->errors;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "resolver"))
		return;
	ytree_map_fields(ctx, map, "resolver", field_keys, F_NR, keys, vals);
	c->line = map->pos.line;
	c->ttl_min = RESOLVER_DEFAULT_TTL_MIN;
	c->ttl_max = RESOLVER_DEFAULT_TTL_MAX;
	c->learned_max = RESOLVER_DEFAULT_LEARNED_MAX;
	resolver_parse_endpoint(RESOLVER_DEFAULT_LISTEN, 0, &c->listen, why, sizeof(why));
	if (vals[F_LISTEN]) {
		take_endpoint(ctx, vals[F_LISTEN], "resolver.listen", 0, &c->listen);
		if (c->listen.len && !loopback(&c->listen))
			error_at(ctx, vals[F_LISTEN]->pos, "resolver.listen: an IPv4 loopback "
				 "address below 127.128.0.0 is needed: the resolver answers this "
				 "host's workloads only, and 127.128.0.0/9 is where their "
				 "lookups come from");
	}
	if (vals[F_UPSTREAM])
		take_endpoint(ctx, vals[F_UPSTREAM], "resolver.upstream", 53, &c->upstream);
	if (vals[F_TTL_MIN])
		take_seconds(ctx, vals[F_TTL_MIN], "resolver.ttl_min", &c->ttl_min);
	if (vals[F_TTL_MAX])
		take_seconds(ctx, vals[F_TTL_MAX], "resolver.ttl_max", &c->ttl_max);
	if (vals[F_LEARNED_MAX]) {
		const struct ynode *n = vals[F_LEARNED_MAX];
		unsigned long long v = 0;
		char *end = NULL;

		if (n->kind == YNODE_SCALAR && n->type == YSCALAR_INT) {
			errno = 0;
			v = strtoull(n->text, &end, 10);
		}
		if (!end || errno || *end || v < 16 || v > RESOLVER_LEARNED_MAX_LIMIT)
			error_at(ctx, n->pos, "resolver.learned_max: expected a whole number from 16 "
				 "to %u", RESOLVER_LEARNED_MAX_LIMIT);
		else
			c->learned_max = (uint32_t)v;
	}
	if (ctx->errors == errors && c->ttl_min > c->ttl_max)
		error_at(ctx, (vals[F_TTL_MIN] ? vals[F_TTL_MIN] : vals[F_TTL_MAX])->pos,
			 "resolver: ttl_min (%us) is above ttl_max (%us)", c->ttl_min, c->ttl_max);
	if (ctx->errors == errors && c->upstream.len &&
	    !memcmp(&c->upstream, &c->listen, sizeof(c->listen)))
		error_at(ctx, vals[F_UPSTREAM]->pos, "resolver.upstream: the resolver's own "
			 "address; lookups would come back to it");
	c->enabled = ctx->errors == errors;
}

int resolver_upstream_from_resolv_conf(const char *path, const struct resolver_endpoint *listen,
				       struct resolver_endpoint *out)
{
	FILE *f = fopen(path, "re");
	char line[512], why[160];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err == -ENOENT && fgets(line, sizeof(line), f)) {
		char addr[INET6_ADDRSTRLEN + 3], text[INET6_ADDRSTRLEN + 8];

		if (sscanf(line, " nameserver %47s", addr) != 1)
			continue;
		/* resolv.conf writes IPv6 bare ("::1"); the endpoint form brackets it. */
		snprintf(text, sizeof(text), strchr(addr, ':') ? "[%s]" : "%s", addr);
		if (resolver_parse_endpoint(text, 53, out, why, sizeof(why)))
			continue;
		if (out->len == listen->len && !memcmp(&out->addr, &listen->addr, listen->len))
			continue;
		err = 0;
	}
	fclose(f);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

bool resolver_config_differs(const struct resolver_config *a, const struct resolver_config *b)
{
	return a->enabled != b->enabled || memcmp(&a->listen, &b->listen, sizeof(a->listen)) ||
	       memcmp(&a->upstream, &b->upstream, sizeof(a->upstream)) ||
	       a->ttl_min != b->ttl_min || a->ttl_max != b->ttl_max ||
	       a->learned_max != b->learned_max;
}
