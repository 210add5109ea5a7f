/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Connect: IPv4 and IPv6 destinations, matched by address prefix and port. */
#include "common.h"

#define AF_INET 2
#define AF_INET6 10

/* Find the first port rule of the longest matching prefix that covers port. */
static __always_inline int match_net(__u32 policy_id, const __u8 addr[16], __u16 port,
				     struct verdict *v)
{
	struct actgate_net_key key = {};
	struct actgate_net_rules *rules;
	__u32 i;

	key.prefixlen = 32 + 128;
	key.policy_id = bpf_htonl(policy_id);
	__builtin_memcpy(key.addr, addr, 16);
	rules = bpf_map_lookup_elem(&net_rules, &key);
	if (!rules)
		return 0;
	for (i = 0; i < ACTGATE_NET_RULES_PER_PREFIX; i++) {
		if (i >= rules->count)
			break;
		if (port < rules->rule[i].port_lo || port > rules->rule[i].port_hi)
			continue;
		v->verdict = rules->rule[i].verdict;
		v->rule_id = rules->rule[i].rule_id;
		v->reason = ACTGATE_REASON_RULE;
		return 1;
	}
	return 0;
}

/*
 * The IPv6 address fields the kernel requires: family, port, flow info and
 * address (SIN6_LEN_RFC2133, 24 bytes). connect(2) accepts an IPv6 address of
 * this length without the scope id, so reading the full sockaddr_in6 (28)
 * would let a short address through unchecked.
 */
struct sockaddr_in6_min {
	__u16 family;
	__be16 port;
	__be32 flowinfo;
	__u8 addr[16];
};

/*
 * Decide a destination address for a governed task: a connect(2), or a
 * datagram (or TCP Fast Open) sent to an explicit address, which needs no
 * connect(2) at all.
 */
static __always_inline int check_destination(struct socket *sock, struct sockaddr *address,
					     int addrlen)
{
	struct governance g;
	struct actgate_policy *pol;
	struct actgate_decision *rec;
	struct verdict v = {};
	__u8 addr[16] = {};
	__u64 workload_id;
	__u32 policy_id;
	__u16 family, port = 0;
	__u8 mode = ACTGATE_MODE_ENFORCE;

	if (!governing_workload(&g))
		return 0;

	family = BPF_CORE_READ(address, sa_family);
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		/* A short address is refused by the kernel after us; nothing to match. */
		if (addrlen < (int)sizeof(sin))
			return 0;
		bpf_probe_read_kernel(&sin, sizeof(sin), address);
		addr[10] = 0xff;
		addr[11] = 0xff;
		__builtin_memcpy(&addr[12], &sin.sin_addr.s_addr, 4);
		port = bpf_ntohs(sin.sin_port);
	} else if (family == AF_INET6) {
		struct sockaddr_in6_min sin6 = {};

		if (addrlen < (int)sizeof(sin6))
			return 0;
		bpf_probe_read_kernel(&sin6, sizeof(sin6), address);
		__builtin_memcpy(addr, sin6.addr, 16);
		port = bpf_ntohs(sin6.port);
	} else {
		/* Other families (unix, netlink, AF_UNSPEC) are not governed by connect rules yet. */
		return 0;
	}

	pol = governing_policy(&g, &policy_id, &workload_id, &v);
	if (pol) {
		mode = pol->mode;
		if (!pol->action[ACTGATE_ACTION_CONNECT].has_rules ||
		    !match_net(policy_id, addr, port, &v))
			decide_default(&pol->action[ACTGATE_ACTION_CONNECT], &v);
	}

	rec = wants_record(pol, &v) ? begin_record(ACTGATE_ACTION_CONNECT, g.cgroup_id, workload_id,
						  policy_id, pol, mode, &v)
				    : NULL;
	if (rec) {
		rec->family = family;
		rec->port = port;
		rec->protocol = BPF_CORE_READ(sock, sk, sk_protocol);
		__builtin_memcpy(rec->addr, addr, 16);
		submit_record(rec);
	}
	return verdict_errno(mode, &v);
}

SEC("lsm/socket_connect")
int BPF_PROG(check_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return check_destination(sock, address, addrlen);
}

/*
 * sendto(2)/sendmsg(2) with a destination: an unconnected UDP socket reaches
 * any address this way, and TCP Fast Open (MSG_FASTOPEN) connects without
 * connect(2). The kernel has copied the address in by now. Most sends carry
 * no address and leave at the first test.
 */
SEC("lsm/socket_sendmsg")
int BPF_PROG(check_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sockaddr *name;

	if (ret)
		return ret;
	name = BPF_CORE_READ(msg, msg_name);
	if (!name)
		return 0;
	return check_destination(sock, name, BPF_CORE_READ(msg, msg_namelen));
}
