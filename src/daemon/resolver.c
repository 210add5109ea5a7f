/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One query's decision, forwarding and learning (resolver.h). */
#include "daemon/resolver.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "actgate/abi.h"

static uint32_t clamp_ttl(const struct resolver_limits *lim, uint32_t ttl)
{
	if (ttl < lim->ttl_min)
		return lim->ttl_min;
	return ttl > lim->ttl_max ? lim->ttl_max : ttl;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Send the query to server over UDP and wait for a reply that answers q
 * (a datagram that does not, e.g. a spoofed one, is skipped). Returns the
 * reply's length or -errno (-ETIMEDOUT).
 */
static int forward_udp(const struct resolver_limits *lim, const struct sockaddr *server,
		       socklen_t server_len, const uint8_t *msg, size_t len,
		       const struct dns_question *q, uint8_t *reply, size_t size,
		       struct dns_answer *ans)
{
	long long deadline = now_ms() + lim->timeout_ms;
	int fd = socket(server->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	/* connect: the kernel then drops datagrams from any other address. */
	if (connect(fd, server, server_len) || send(fd, msg, len, 0) != (ssize_t)len) {
		err = -errno;
		goto out;
	}
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0) {
			err = -ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!p.revents)
			continue;
		n = recv(fd, reply, size, 0);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		err = dns_parse_answer(reply, (size_t)n, q, ans);
		if (err == -E2BIG)
			goto out;
		if (err == 0) {
			err = (int)n;
			goto out;
		}
	}
out:
	close(fd);
	return err;
}

/* Read exactly size bytes, or -errno (-EPROTO for an early end). */
static int read_full(int fd, uint8_t *buf, size_t size)
{
	while (size) {
		ssize_t n = recv(fd, buf, size, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EPROTO;
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}

/*
 * The same over TCP (RFC 1035 4.2.2: a two-byte length before each
 * message), for a workload that asked over TCP. The timeout bounds each
 * send and receive.
 */
static int forward_tcp(const struct resolver_limits *lim, const struct sockaddr *server,
		       socklen_t server_len, const uint8_t *msg, size_t len,
		       const struct dns_question *q, uint8_t *reply, size_t size,
		       struct dns_answer *ans)
{
	struct timeval tv = { .tv_sec = lim->timeout_ms / 1000,
			      .tv_usec = (lim->timeout_ms % 1000) * 1000 };
	uint8_t head[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	int fd = socket(server->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n;
	int err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, server, server_len) ||
	    send(fd, head, 2, MSG_MORE | MSG_NOSIGNAL) != 2 ||
	    send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
		err = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	err = read_full(fd, head, 2);
	if (err)
		goto out;
	n = (size_t)head[0] << 8 | head[1];
	if (n > size) {
		err = -EMSGSIZE;
		goto out;
	}
	err = read_full(fd, reply, n);
	if (err)
		goto out;
	err = dns_parse_answer(reply, n, q, ans);
	if (err == 0)
		err = (int)n;
out:
	close(fd);
	return err;
}

int resolver_answer(const struct resolver_limits *lim, const struct resolver_ops *ops, void *ctx,
		    const struct sockaddr *server, socklen_t server_len, bool tcp,
		    const uint8_t *msg, size_t len, uint8_t *out, size_t out_size)
{
	struct dns_question q;
	struct name_decision d;
	struct dns_answer ans;
	int n, err;

	if (dns_parse_query(msg, len, &q))
		return dns_write_error(msg, len, out, out_size);
	memset(&d, 0, sizeof(d));
	err = ops->decide(ctx, q.name, &d);
	if (err || d.verdict != ACTGATE_VERDICT_ALLOW) {
		/* An audited deny goes ahead (recorded as denied); an invalid name never. */
		if (err || d.mode != ACTGATE_MODE_AUDIT) {
			/* A name that could not be decided is recorded as what it got: a deny. */
			if (err) {
				d.verdict = ACTGATE_VERDICT_DENY;
				d.reason = ACTGATE_REASON_NAME;
			}
			ops->record(ctx, &d, DNS_RCODE_REFUSED);
			return dns_write_refusal(msg, &q, DNS_RCODE_REFUSED, out, out_size);
		}
	}
	n = (tcp ? forward_tcp : forward_udp)(lim, server, server_len, msg, len, &q, out,
					      out_size, &ans);
	if (n < 0)
		goto servfail;
	/* Learn first: the workload must not read an address it cannot yet reach. */
	for (size_t i = 0; i < ans.count; i++)
		if (ops->learn(ctx, &ans.addrs[i], clamp_ttl(lim, ans.addrs[i].ttl), &d))
			goto servfail;
	ops->record(ctx, &d, ans.rcode);
	return n;
servfail:
	ops->record(ctx, &d, DNS_RCODE_SERVFAIL);
	return dns_write_refusal(msg, &q, DNS_RCODE_SERVFAIL, out, out_size);
}
