/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Descriptors a governed task receives from another process: over a unix
 * socket (SCM_RIGHTS) or taken with pidfd_getfd. They never pass the hooks
 * that decide an open or a connect (the sender made them), so each is
 * judged here, on file_receive, as what it stands for:
 * - a file that a path reaches: an open of that file with the descriptor's
 *   accesses (read, write), by the open rules;
 * - a connected IP socket: a connect to its peer's address, port and
 *   protocol; a connected unix socket: a connect to the peer's socket file;
 * - a raw or packet socket: its creation, by the connect section's
 *   sockets list.
 * The record is the open's or the connect's, its access carrying
 * ACTGATE_ACCESS_RECEIVED. Refused, the descriptor is not installed:
 * recvmsg(2) drops it and sets MSG_CTRUNC, pidfd_getfd(2) fails with EPERM.
 *
 * Not judged, and why: files on the kernel's internal mounts (pipes,
 * eventfds, memfds, anonymous inodes; no path reaches them, so no open
 * rule can name them); O_PATH descriptors (every use of one, an openat or
 * an execveat through it, meets its own hook); unconnected and listening
 * sockets (their connects and sends meet socket_connect and
 * socket_sendmsg); a unix socket whose peer has closed (the peer's socket
 * file is gone with it; the connection reaches nobody, though what the peer
 * wrote before closing can still be read, as if relayed).
 */
#include "lib/connect.h"
#include "lib/decide.h"
#include "lib/governance.h"
#include "lib/grant.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

/* include/linux/fs.h, stat.h, net.h, tcp_states.h, socket.h: stable values, not in BTF. */
#define SOCK_RAW 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define IPPROTO_TCP 6
#define IPPROTO_MPTCP 262
/* fs/mount.h: the namespace of mounts the kernel made for itself (kern_mount). */
#define MNT_NS_INTERNAL ((void *)-22L)

/* A received file: an open of it, with the descriptor's accesses. */
static __always_inline int receive_file(struct file *file)
{
	struct path_decision pd = {};
	struct actgate_decision *rec;
	struct vfsmount *mnt = file->f_path.mnt;
	struct dentry *dentry = file->f_path.dentry;
	__u32 fmode = file->f_mode;
	__u8 asked = 0;

	if (fmode & FMODE_PATH)
		return 0;
	if (BPF_CORE_READ(container_of(mnt, struct mount, mnt), mnt_ns) == MNT_NS_INTERNAL)
		return 0;
	if (!governing_workload(&pd.g))
		return 0;
	if (fmode & FMODE_READ)
		asked |= ACTGATE_ACCESS_READ;
	if (fmode & FMODE_WRITE)
		asked |= ACTGATE_ACCESS_WRITE;
	if (!asked)
		asked = ACTGATE_ACCESS_READ;
	decide_path_btf(ACTGATE_ACTION_OPEN, mnt, dentry, asked, 0, &pd);
	rec = begin_path_record(ACTGATE_ACTION_OPEN, asked | ACTGATE_ACCESS_RECEIVED, &pd);
	if (rec) {
		record_dentry_path(rec, mnt, dentry);
		submit_decision(rec, &pd.v);
	}
	return verdict_errno(&pd.v);
}

/* A received raw or packet socket: its creation. */
static __always_inline int receive_socket_kind(__u8 kind, __u16 family, __u16 type,
					       __u16 protocol)
{
	struct governance g = {};

	if (!governing_workload(&g))
		return 0;
	return decide_socket_creation(&g, kind, family, type, protocol, ACTGATE_ACCESS_RECEIVED);
}

/* A received connected IP socket: a connect to its peer. */
static __always_inline int receive_ip_socket(struct sock *sk, __u16 family)
{
	struct governance g = {};
	__u8 addr[16] = {};
	__u32 *w = (__u32 *)addr;
	__u16 port, protocol;
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return 0;
	if (family == AF_INET) {
		addr[10] = 0xff;
		addr[11] = 0xff;
		w[3] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		if (!w[3])
			return 0;
	} else {
		BPF_CORE_READ_INTO(&addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		if (!(w[0] | w[1] | w[2] | w[3]))
			return 0;
	}
	if (!governing_workload(&g))
		return 0;
	port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	protocol = BPF_CORE_READ(sk, sk_protocol);
	if (protocol == IPPROTO_MPTCP)
		protocol = IPPROTO_TCP;
	return decide_ip_destination(&g, family, addr, port, protocol, ACTGATE_ACCESS_RECEIVED);
}

static __always_inline int receive_socket(struct file *file)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct sock *peer;
	__u16 family, type;

	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	type = BPF_CORE_READ(sk, sk_type);
	if (family == AF_PACKET)
		return receive_socket_kind(ACTGATE_SOCKET_PACKET, family, type,
					   BPF_CORE_READ(sk, sk_protocol));
	if ((family == AF_INET || family == AF_INET6) && type == SOCK_RAW)
		return receive_socket_kind(ACTGATE_SOCKET_RAW, family, type,
					   BPF_CORE_READ(sk, sk_protocol));
	if (family == AF_INET || family == AF_INET6)
		return receive_ip_socket(sk, family);
	if (family == AF_UNIX) {
		/* container_of(sk, struct unix_sock, sk): sk is the first member. */
		peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		if (peer)
			return check_unix_peer(peer, ACTGATE_ACCESS_RECEIVED);
	}
	return 0;
}

SEC("lsm/file_receive")
int BPF_PROG(check_receive, struct file *file, int ret)
{
	if (ret)
		return ret;
	if ((file->f_inode->i_mode & S_IFMT) == S_IFSOCK)
		return receive_socket(file);
	return receive_file(file);
}
