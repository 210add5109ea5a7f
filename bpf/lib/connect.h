/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect decisions that more than one hook makes: an IP destination
 * against the connect rules (match_net), and a path-bound unix socket
 * (check_unix_peer). bpf/net.bpf.c decides connects and sends with them,
 * bpf/receive.bpf.c sockets received from another process.
 */
#ifndef ACTGATE_BPF_LIB_CONNECT_H
#define ACTGATE_BPF_LIB_CONNECT_H

#include "lib/decide.h"
#include "lib/governance.h"
#include "lib/grant.h"
#include "lib/kernel.h"
#include "lib/record.h"
#include "lib/verdict.h"
#include "maps.h"

#define AF_UNIX 1
/* struct sockaddr_un: the family, then up to 108 bytes of path. */
#define SUN_PATH_OFFSET 2
#define SUN_PATH_MAX 108

/*
 * Find the first port rule of the longest matching prefix that covers port
 * and protocol (a rule's protocol 0 covers every protocol); the compiler
 * ordered them so that the first match is the answer.
 */
static __always_inline int match_net(__u32 policy_id, const __u8 addr[16], __u16 port,
				     __u16 protocol, struct verdict *v)
{
	struct actgate_net_key key = {};
	struct actgate_net_rules *rules;
	struct actgate_port_rule *r;
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
		r = &rules->rule[i];
		if (port < r->port_lo || port > r->port_hi)
			continue;
		if (r->protocol && r->protocol != protocol)
			continue;
		v->verdict = r->verdict;
		v->mode = r->mode;
		v->record = r->record;
		v->rule_id = r->rule_id;
		v->reason = ACTGATE_REASON_RULE;
		return 1;
	}
	return 0;
}

/*
 * An address the workload learned from the answer to an allowed lookup
 * (abi.h, struct actgate_learned): the first live port slot that covers
 * port and protocol allows, with reason learned; its name_id goes into
 * the record. An expired slot is as good as none.
 */
static __always_inline int match_learned(__u64 workload_id, __u32 policy_id, const __u8 addr[16],
					 __u16 port, __u16 protocol, struct verdict *v,
					 __u32 *name_id)
{
	struct actgate_learned_key key = {};
	struct actgate_learned *l;
	__u64 now;
	__u32 i;

	key.workload_id = workload_id;
	key.policy_id = policy_id;
	__builtin_memcpy(key.addr, addr, 16);
	l = bpf_map_lookup_elem(&learned, &key);
	if (!l)
		return 0;
	now = bpf_ktime_get_boot_ns();
	for (i = 0; i < ACTGATE_LEARNED_PORTS; i++) {
		struct actgate_learned_port *p = &l->port[i];

		if (p->expires_boot_ns <= now)
			continue;
		if (port < p->port_lo || port > p->port_hi)
			continue;
		if (p->protocol && p->protocol != protocol)
			continue;
		v->verdict = ACTGATE_VERDICT_ALLOW;
		v->mode = p->mode;
		v->record = p->record;
		v->rule_id = p->rule_id;
		v->reason = ACTGATE_REASON_LEARNED;
		*name_id = p->name_id;
		return 1;
	}
	return 0;
}

/*
 * Unix sockets named by a path: decided by the inode of the socket file the
 * peer is bound to (path rules of action connect, slot 0), so a hardlink, a
 * bind mount or a relative name reaches the same rule. Abstract and unnamed
 * sockets have no path and are not governed by connect rules. The record
 * carries the peer's bound name (sun_path, as the binder wrote it); access
 * is 0, or ACTGATE_ACCESS_RECEIVED for a socket received already connected.
 */
static __always_inline int check_unix_peer(struct sock *peer, __u8 access)
{
	struct unix_sock *u = (struct unix_sock *)peer;
	struct path_decision pd = {};
	struct actgate_decision *rec;
	struct unix_address *ua;
	struct vfsmount *mnt;
	struct dentry *dentry;
	__u64 len;
	long n;

	if (!governing_workload(&pd.g))
		return 0;
	/* container_of(peer, struct unix_sock, sk): sk is the first member. */
	dentry = BPF_CORE_READ(u, path.dentry);
	if (!dentry)
		return 0;
	mnt = BPF_CORE_READ(u, path.mnt);
	decide_path(ACTGATE_ACTION_CONNECT, mnt, dentry, ACTGATE_ACCESS_WHOLE, 0, &pd);
	rec = begin_path_record(ACTGATE_ACTION_CONNECT, access, &pd);
	if (!rec)
		return verdict_errno(&pd.v);
	rec->family = AF_UNIX;
	/*
	 * addr->len counts the family and, for a path, the NUL: read no more
	 * than the name holds, and never more than sun_path.
	 */
	ua = BPF_CORE_READ(u, addr);
	len = ua ? BPF_CORE_READ(ua, len) : 0;
	if (len > SUN_PATH_OFFSET) {
		len -= SUN_PATH_OFFSET;
		if (len > SUN_PATH_MAX)
			len = SUN_PATH_MAX;
		/* Restate the bound in the register passed: 1..108 fits in 7 bits. */
		asm volatile("%[len] &= 0x7f" : [len] "+r"(len));
		n = bpf_probe_read_kernel_str(rec->target_path, len, ua->name[0].sun_path);
		if (n > 0)
			rec->path_len = n;
		else
			rec->path_error = n;
	}
	submit_decision(rec, &pd.v);
	return verdict_errno(&pd.v);
}

/*
 * A raw or packet socket (enum actgate_socket_kind) under policy pol: the
 * connect section's sockets list allows it (listed), else its default
 * denies.
 */
static __always_inline void decide_socket_kind(const struct actgate_policy *pol, __u8 kind,
					       struct verdict *v)
{
	const struct actgate_decision_slot *s;

	if (kind >= ACTGATE_ACCESS_SLOTS)
		return;
	s = &pol->action[ACTGATE_ACTION_CONNECT].dflt[kind];
	take_decision(v, s, s->verdict == ACTGATE_VERDICT_ALLOW ? ACTGATE_REASON_RULE
							       : ACTGATE_REASON_DEFAULT);
}

/*
 * An IP destination of a governed task (addr as ::ffff:a.b.c.d for IPv4):
 * the address rules, else what the workload learned from allowed lookups,
 * else the connect section's default, then grants;
 * recorded as a connect with access (0, or ACTGATE_ACCESS_RECEIVED for a
 * received socket). Returns 0 or the verdict's -errno.
 */
static __always_inline int decide_ip_destination(struct governance *g, __u16 family,
						 const __u8 addr[16], __u16 port, __u16 protocol,
						 __u8 access)
{
	struct actgate_policy *pol;
	struct actgate_decision *rec;
	struct verdict v = {};
	__u64 workload_id;
	__u32 policy_id, name_id = 0;

	pol = governing_policy(g, &policy_id, &workload_id, &v);
	/* An address rule decides first: an address deny beats anything learned. */
	if (pol && (!pol->action[ACTGATE_ACTION_CONNECT].has_rules ||
		    !match_net(policy_id, addr, port, protocol, &v)) &&
	    !match_learned(workload_id, policy_id, addr, port, protocol, &v, &name_id))
		decide_default(&pol->action[ACTGATE_ACTION_CONNECT], &v);
	if (pol)
		apply_net_grant(g, addr, port, &v);
	rec = wants_record(&v) ? begin_record(ACTGATE_ACTION_CONNECT, g->cgroup_id, workload_id,
					      policy_id, pol, &v)
			       : NULL;
	if (rec) {
		rec->signal_generation = g->signal_generation;
		rec->family = family;
		rec->port = port;
		rec->protocol = protocol;
		rec->access = access;
		rec->ino = name_id;
		__builtin_memcpy(rec->addr, addr, 16);
		submit_decision(rec, &v);
	}
	return verdict_errno(&v);
}

/*
 * A raw or packet socket of a governed task, created or received: decided
 * by the connect section's sockets list (decide_socket_kind) and recorded
 * as a connect to ACTGATE_CONNECT_SOCKET, with its type (and the ethertype
 * of a packet socket, or the protocol of a raw one). Returns 0 or -errno.
 */
static __always_inline int decide_socket_creation(struct governance *g, __u8 kind, __u16 family,
						  __u32 type, __u16 protocol, __u8 access)
{
	struct actgate_policy *pol;
	struct actgate_decision *rec;
	struct verdict v = {};
	__u64 workload_id;
	__u32 policy_id;

	pol = governing_policy(g, &policy_id, &workload_id, &v);
	if (pol)
		decide_socket_kind(pol, kind, &v);
	rec = wants_record(&v) ? begin_record(ACTGATE_ACTION_CONNECT, g->cgroup_id, workload_id,
					      policy_id, pol, &v)
			       : NULL;
	if (rec) {
		rec->signal_generation = g->signal_generation;
		rec->family = family;
		rec->dev = ACTGATE_CONNECT_SOCKET;
		rec->ino = type;
		rec->access = access;
		if (kind == ACTGATE_SOCKET_PACKET)
			rec->port = bpf_ntohs(protocol); /* the ethertype, in network order there */
		else
			rec->protocol = protocol;
		submit_decision(rec, &v);
	}
	return verdict_errno(&v);
}

#endif /* ACTGATE_BPF_LIB_CONNECT_H */
