/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * DNS steering (docs/egress.md): a governed workload whose policy has
 * rules by name has every lookup it sends to port 53 (UDP or TCP, any
 * server) rewritten to the resolver in actgated, from a source address
 * that names the workload (abi.h, struct actgate_steer_conf), and the
 * replies read back as from the server it named. Attached to the cgroup
 * root, so that every cgroup below, made before or after, is covered; the
 * programs leave at once for a task that is no workload's.
 *
 * Return 1 lets the call go on (rewritten or not), 0 fails it with EPERM.
 */
#include "lib/steer.h"
#include "maps.h"

#define AF_INET 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Remember what the socket named, for its replies and getpeername(2). */
static __always_inline void remember(struct bpf_sock_addr *ctx)
{
	struct actgate_steered orig = { .ip4 = ctx->user_ip4, .port = (__u16)ctx->user_port };
	__u64 cookie = bpf_get_socket_cookie(ctx);

	bpf_map_update_elem(&steered, &cookie, &orig, BPF_ANY);
}

/*
 * Is this destination the resolver's, or DNS? A governed task reaching the
 * resolver's own address must come from its own source too, whether its
 * policy has names or not: nobody asks as another workload.
 */
static __always_inline int to_resolver(const struct bpf_sock_addr *ctx,
				       const struct actgate_steer_conf *conf)
{
	return ctx->user_ip4 == conf->resolver_ip4 && (__u16)ctx->user_port == conf->resolver_port;
}

/*
 * Is this call one to steer? 1 when the destination is DNS and the
 * workload's lookups are steered (the destination is rewritten to the
 * resolver, the original remembered) or when it names the resolver itself;
 * 0 when the call is none of the steering's business. src_ip4: the
 * workload's own source for the resolver.
 */
static __always_inline int steer_destination(struct bpf_sock_addr *ctx, __u32 *src_ip4)
{
	struct actgate_steer_conf conf = {};
	int governed, steer;

	steer = steer_target(&conf, src_ip4, &governed);
	if (!governed || !conf.enabled)
		return 0;
	if (steer && ctx->user_port == bpf_htons(DNS_PORT)) {
		remember(ctx);
		ctx->user_ip4 = conf.resolver_ip4;
		ctx->user_port = conf.resolver_port;
		return 1;
	}
	return to_resolver(ctx, &conf);
}

SEC("cgroup/connect4")
int steer_connect4(struct bpf_sock_addr *ctx)
{
	struct sockaddr_in src = {};
	struct bpf_sock *sk;
	__u32 src_ip4 = 0;

	if (ctx->protocol != IPPROTO_UDP && ctx->protocol != IPPROTO_TCP)
		return 1;
	if (!steer_destination(ctx, &src_ip4))
		return 1;
	/*
	 * The workload's own source: bound here (port 0: the kernel picks it
	 * after us), or, on a socket bound already, checked. A socket bound
	 * to another source cannot reach the resolver.
	 */
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = src_ip4;
	if (bpf_bind(ctx, (struct sockaddr *)&src, sizeof(src)) == 0)
		return 1;
	sk = ctx->sk;
	if (!sk)
		return 0;
	return sk->src_ip4 == src_ip4;
}

/* A datagram sent to an address (sendto, sendmsg): UDP only. */
SEC("cgroup/sendmsg4")
int steer_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 src_ip4 = 0;

	if (!steer_destination(ctx, &src_ip4))
		return 1;
	ctx->msg_src_ip4 = src_ip4;
	return 1;
}

/* Replies from the resolver read as from the server the socket named. */
static __always_inline int as_named(struct bpf_sock_addr *ctx)
{
	struct actgate_steer_conf *conf;
	struct actgate_steered *orig;
	__u32 zero = 0;
	__u64 cookie;

	conf = bpf_map_lookup_elem(&resolver_steer, &zero);
	if (!conf || !conf->enabled || !to_resolver(ctx, conf))
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	orig = bpf_map_lookup_elem(&steered, &cookie);
	if (!orig)
		return 1;
	ctx->user_ip4 = orig->ip4;
	ctx->user_port = orig->port;
	return 1;
}

SEC("cgroup/recvmsg4")
int steer_recvmsg4(struct bpf_sock_addr *ctx)
{
	return as_named(ctx);
}

SEC("cgroup/getpeername4")
int steer_getpeername4(struct bpf_sock_addr *ctx)
{
	return as_named(ctx);
}

/*
 * IPv6: the resolver listens on IPv4 and a source address per workload
 * exists only in 127.0.0.0/8, so a steered workload's lookups over IPv6
 * are refused (EPERM) rather than let through unjudged: its resolver
 * must be an IPv4 one (as /etc/resolv.conf names it).
 */
static __always_inline int refuse_dns6(struct bpf_sock_addr *ctx)
{
	struct actgate_steer_conf conf = {};
	__u32 src_ip4 = 0;
	int governed;

	if (ctx->user_port != bpf_htons(DNS_PORT))
		return 1;
	return !steer_target(&conf, &src_ip4, &governed);
}

SEC("cgroup/connect6")
int steer_connect6(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol != IPPROTO_UDP && ctx->protocol != IPPROTO_TCP)
		return 1;
	return refuse_dns6(ctx);
}

SEC("cgroup/sendmsg6")
int steer_sendmsg6(struct bpf_sock_addr *ctx)
{
	return refuse_dns6(ctx);
}
