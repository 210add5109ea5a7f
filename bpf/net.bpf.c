/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect: IPv4 and IPv6 destinations, matched by address prefix, port and
 * protocol; unix sockets, matched by the socket file they reach.
 */
#include "lib/connect.h"
#include "lib/decide.h"
#include "lib/failure.h"
#include "lib/governance.h"
#include "lib/grant.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/steer.h"
#include "lib/verdict.h"
#include "maps.h"

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3
#define INADDR_LOOPBACK 0x7f000001

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_MPTCP 262

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
 * The unspecified address is no destination of its own: the kernel sends to
 * an address it picks, so judge that one. IPv4 (and ::ffff:0.0.0.0, which an
 * IPv6 socket hands to IPv4): the route lookup takes the socket's bound
 * source address as the destination, and 127.0.0.1 when it has none
 * (ip_route_output_key_hash_rcu: "if (!fl4->daddr) fl4->daddr =
 * fl4->saddr"); a task bound to one of the host's addresses would otherwise
 * reach it unjudged. IPv6 "::": ::1 (tcp_v6_connect, __ip6_datagram_connect
 * and udpv6_sendmsg), or ::ffff:127.0.0.1 on a socket bound to a v4-mapped
 * address, which those connect paths pick.
 */
static __always_inline void unspecified_to_loopback(struct sock *sk, __u8 addr[16])
{
	__u32 *w = (__u32 *)addr;
	__be32 saddr;

	if (w[0] | w[1])
		return;
	if (w[2] == bpf_htonl(0xffff) && w[3] == 0) {
		saddr = BPF_CORE_READ((struct inet_sock *)sk, inet_saddr);
		w[3] = saddr ? saddr : bpf_htonl(INADDR_LOOPBACK);
		return;
	}
	if (w[2] | w[3])
		return;
	if (BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[2]) == bpf_htonl(0xffff)) {
		w[2] = bpf_htonl(0xffff);
		w[3] = bpf_htonl(INADDR_LOOPBACK);
	} else {
		w[3] = bpf_htonl(1);
	}
}

/*
 * Decide a destination address for a governed task: a connect(2), or a
 * datagram (or TCP Fast Open) sent to an explicit address, which needs no
 * connect(2) at all (send: the address came with a send).
 */
static __always_inline int check_destination(struct socket *sock, struct sockaddr *address,
					     int addrlen, int send)
{
	struct governance g = {};
	__u8 addr[16] = {};
	struct sock *sk;
	__u16 family, port = 0, protocol;

	if (!governing_workload(&g))
		return 0;

	sk = BPF_CORE_READ(sock, sk);
	family = BPF_CORE_READ(address, sa_family);
	/*
	 * A send reads AF_UNSPEC as the socket's own family: udp_sendmsg and
	 * raw_sendmsg take the address of a sockaddr_in whose family is
	 * AF_UNSPEC, and rawv6_sendmsg that of a sockaddr_in6. (connect(2)
	 * with AF_UNSPEC disconnects; an IPv6 UDP send with it uses the
	 * connected destination, judged at its connect.)
	 */
	if (send && family == AF_UNSPEC) {
		__u16 own = BPF_CORE_READ(sk, __sk_common.skc_family);

		if (own == AF_INET || (own == AF_INET6 && BPF_CORE_READ(sk, sk_type) == SOCK_RAW))
			family = own;
	}
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		/* A short address is refused by the kernel after us; nothing to match. */
		if (addrlen < (int)sizeof(sin))
			return 0;
		if (bpf_probe_read_kernel(&sin, sizeof(sin), address))
			count_failure(ACTGATE_FAILURE_ADDRESS_READ);
		addr[10] = 0xff;
		addr[11] = 0xff;
		__builtin_memcpy(&addr[12], &sin.sin_addr.s_addr, 4);
		port = bpf_ntohs(sin.sin_port);
	} else if (family == AF_INET6) {
		struct sockaddr_in6_min sin6 = {};

		if (addrlen < (int)sizeof(sin6))
			return 0;
		if (bpf_probe_read_kernel(&sin6, sizeof(sin6), address))
			count_failure(ACTGATE_FAILURE_ADDRESS_READ);
		__builtin_memcpy(addr, sin6.addr, 16);
		port = bpf_ntohs(sin6.port);
	} else {
		/*
		 * Other families (netlink, AF_UNSPEC of a connect) are not
		 * governed by connect rules; unix sockets are decided by the
		 * unix hooks below, on the socket they reach.
		 */
		return 0;
	}
	unspecified_to_loopback(sk, addr);
	/* MPTCP is TCP on the wire and to the policy. */
	protocol = BPF_CORE_READ(sk, sk_protocol);
	if (protocol == IPPROTO_MPTCP)
		protocol = IPPROTO_TCP;
	/*
	 * A lookup that bpf/steer.bpf.c sends to the resolver right after this
	 * hook: the resolver decides it by name and records it, so the server
	 * the workload named is not judged here (same test as the steering:
	 * lib/steer.h).
	 */
	if (family == AF_INET && port == DNS_PORT &&
	    (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP)) {
		struct actgate_steer_conf conf;
		__u32 src_ip4;
		int governed;

		if (steer_target(&conf, &src_ip4, &governed))
			return 0;
	}

	return decide_ip_destination(&g, family, addr, port, protocol, 0);
}

SEC("lsm/socket_connect")
int BPF_PROG(check_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return check_destination(sock, address, addrlen, 0);
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
	return check_destination(sock, name, BPF_CORE_READ(msg, msg_namelen), 1);
}

/*
 * Sockets that choose their destination in the packet rather than in a
 * sockaddr: a raw IP socket (IP_HDRINCL, IPPROTO_RAW: the header is the
 * task's own) and a packet socket (a whole frame, to any host of the
 * link) would carry data past every address rule. Their creation is
 * decided instead, by the connect section's sockets list (denied unless
 * listed). __sock_create calls this hook for socket(2), socketpair(2) and
 * io_uring's IORING_OP_SOCKET alike, after turning the legacy (AF_INET,
 * SOCK_PACKET) into AF_PACKET; sockets the kernel makes for itself (kern)
 * are not the task's. Ping sockets (SOCK_DGRAM, IPPROTO_ICMP) name their
 * destination in a sockaddr and are judged by the address rules.
 */
SEC("lsm/socket_create")
int BPF_PROG(check_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct governance g = {};
	__u8 kind;

	if (ret)
		return ret;
	if (kern)
		return 0;
	if (family == AF_PACKET)
		kind = ACTGATE_SOCKET_PACKET;
	else if ((family == AF_INET || family == AF_INET6) && type == SOCK_RAW)
		kind = ACTGATE_SOCKET_RAW;
	else
		return 0;
	if (!governing_workload(&g))
		return 0;
	return decide_socket_creation(&g, kind, family, type, (__u16)protocol, 0);
}

/* connect(2) of a stream or seqpacket socket; other is the listening peer. */
SEC("lsm/unix_stream_connect")
int BPF_PROG(check_unix_connect, struct sock *sock, struct sock *other, struct sock *newsk, int ret)
{
	if (ret)
		return ret;
	return check_unix_peer(other, 0);
}

/*
 * A datagram to a unix socket: connect(2) of a datagram socket, and every
 * send, connected or to an explicit address.
 */
SEC("lsm/unix_may_send")
int BPF_PROG(check_unix_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return check_unix_peer(BPF_CORE_READ(other, sk), 0);
}
