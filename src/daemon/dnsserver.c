/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The resolver's listening sockets (dnsserver.h). */
#include "daemon/dnsserver.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "daemon/dnsmsg.h"
#include "util/log.h"

/* Datagrams served in one run: a flood of them must not starve the daemon's loop. */
#define UDP_BATCH 64

enum { TAG_UDP = 0, TAG_TCP_LISTEN = 1, TAG_CLIENT = 2 };

struct tcp_client {
	int fd;                        /* -1: a free slot */
	uint64_t since_ms;             /* accepted, or last answered */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	size_t have;                   /* bytes of buf read so far */
	uint8_t buf[2 + DNS_UDP_MAX];  /* the length prefix, then the query */
};

struct dns_server {
	struct resolver_config cfg;
	struct dns_server_host host;
	int epoll_fd, udp_fd, tcp_fd;
	struct dns_server_counts counts;
	struct tcp_client *clients[DNS_SERVER_MAX_TCP];
	uint8_t reply[2 + DNS_UDP_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int add_fd(int epoll_fd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int dns_server_open(struct dns_server **out, const struct resolver_config *cfg,
		    const struct dns_server_host *host)
{
	const struct sockaddr *addr = (const struct sockaddr *)&cfg->listen.addr;
	struct dns_server *s = calloc(1, sizeof(*s));
	char where[64];
	int one = 1, err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->host = *host;
	resolver_format_endpoint(&cfg->listen, where, sizeof(where));
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->udp_fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->tcp_fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->epoll_fd < 0 || s->udp_fd < 0 || s->tcp_fd < 0) {
		err = -errno;
		log_error("resolver", "cannot create sockets: %s", strerror(-err));
		goto fail;
	}
	/* A restarted daemon binds again at once, past its predecessor's TIME_WAIT. */
	if (setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->udp_fd, addr, cfg->listen.len) || bind(s->tcp_fd, addr, cfg->listen.len) ||
	    listen(s->tcp_fd, 64)) {
		err = -errno;
		log_error("resolver", "cannot listen on %s: %s", where, strerror(-err));
		goto fail;
	}
	if ((err = add_fd(s->epoll_fd, s->udp_fd, TAG_UDP)) ||
	    (err = add_fd(s->epoll_fd, s->tcp_fd, TAG_TCP_LISTEN))) {
		log_error("resolver", "epoll: %s", strerror(-err));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	dns_server_close(s);
	return err;
}

int dns_server_fd(const struct dns_server *s)
{
	return s ? s->epoll_fd : -1;
}

/* A reply the resolver gives itself, with no decision (the asker or the server unknown). */
static int refuse(const uint8_t *msg, size_t len, uint8_t rcode, uint8_t *out, size_t size)
{
	struct dns_question q;

	if (dns_parse_query(msg, len, &q))
		return dns_write_error(msg, len, out, size);
	return dns_write_refusal(msg, &q, rcode, out, size);
}

/* The reply to one query from peer, into out; its length or -errno (nothing to send). */
static int answer(struct dns_server *s, const struct sockaddr *peer, socklen_t peer_len, bool tcp,
		  const uint8_t *msg, size_t len, uint8_t *out, size_t size)
{
	struct resolver_limits lim = { .ttl_min = s->cfg.ttl_min, .ttl_max = s->cfg.ttl_max,
				       .timeout_ms = DNS_SERVER_TIMEOUT_MS };
	struct dns_asker a;
	int r;

	memset(&a, 0, sizeof(a));
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	if (!s->host.identify || s->host.identify(s->host.ctx, peer, peer_len, tcp, &a)) {
		s->counts.unidentified++;
		return refuse(msg, len, DNS_RCODE_REFUSED, out, size);
	}
	if (!s->cfg.upstream.len) {
		s->counts.no_upstream++;
		r = refuse(msg, len, DNS_RCODE_SERVFAIL, out, size);
	} else {
		r = resolver_answer(&lim, &s->host.ops, &a,
				    (const struct sockaddr *)&s->cfg.upstream.addr, s->cfg.upstream.len,
				    tcp, msg, len, out, size);
	}
	if (s->host.done)
		s->host.done(s->host.ctx, &a);
	return r;
}

static void serve_udp(struct dns_server *s)
{
	uint8_t query[DNS_UDP_MAX];

	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		ssize_t n = recvfrom(s->udp_fd, query, sizeof(query), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &peer_len);
		int r;

		if (n < 0)
			return; /* EAGAIN: all served; anything else: the next datagram */
		r = answer(s, (struct sockaddr *)&peer, peer_len, false, query, (size_t)n, s->reply,
			   DNS_UDP_MAX);
		if (r < 0 || sendto(s->udp_fd, s->reply, (size_t)r, MSG_DONTWAIT,
				    (struct sockaddr *)&peer, peer_len) != r) {
			s->counts.dropped++;
			continue;
		}
		s->counts.queries++;
	}
}

static void drop_client(struct dns_server *s, size_t i)
{
	close(s->clients[i]->fd);
	free(s->clients[i]);
	s->clients[i] = NULL;
}

static void accept_tcp(struct dns_server *s)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(s->tcp_fd, (struct sockaddr *)&peer, &peer_len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t slot = DNS_SERVER_MAX_TCP, oldest = 0;

		if (fd < 0)
			return;
		for (size_t i = 0; i < DNS_SERVER_MAX_TCP; i++) {
			if (!s->clients[i]) {
				slot = i;
				break;
			}
			if (s->clients[i]->since_ms < s->clients[oldest]->since_ms)
				oldest = i;
		}
		/* Full: the oldest connection goes, so no asker can hold every slot. */
		if (slot == DNS_SERVER_MAX_TCP) {
			drop_client(s, oldest);
			s->counts.dropped++;
			slot = oldest;
		}
		s->clients[slot] = malloc(sizeof(struct tcp_client));
		if (!s->clients[slot] || add_fd(s->epoll_fd, fd, TAG_CLIENT + slot)) {
			free(s->clients[slot]);
			s->clients[slot] = NULL;
			close(fd);
			continue;
		}
		s->clients[slot]->fd = fd;
		s->clients[slot]->since_ms = now_ms();
		s->clients[slot]->peer = peer;
		s->clients[slot]->peer_len = peer_len;
		s->clients[slot]->have = 0;
	}
}

/* Read what a TCP asker sent; answer each whole query (RFC 1035 4.2.2, RFC 7766). */
static void serve_client(struct dns_server *s, size_t i)
{
	struct tcp_client *c = s->clients[i];

	for (;;) {
		size_t need = c->have < 2 ? 2 : 2 + ((size_t)c->buf[0] << 8 | c->buf[1]);
		ssize_t n;
		int r;

		if (c->have < need) {
			n = recv(c->fd, c->buf + c->have, need - c->have, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				drop_client(s, i); /* closed, or an error */
				return;
			}
			c->have += (size_t)n;
			continue;
		}
		if (need == 2) {
			drop_client(s, i); /* a zero-length message: nothing to answer */
			return;
		}
		r = answer(s, (struct sockaddr *)&c->peer, c->peer_len, true, c->buf + 2, need - 2,
			   s->reply + 2, DNS_UDP_MAX);
		c->have = 0;
		c->since_ms = now_ms();
		if (r < 0) {
			s->counts.dropped++;
			drop_client(s, i);
			return;
		}
		s->reply[0] = (uint8_t)(r >> 8);
		s->reply[1] = (uint8_t)r;
		/* An asker that does not read its answer loses the connection, not the daemon time. */
		if (send(c->fd, s->reply, (size_t)r + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != r + 2) {
			s->counts.dropped++;
			drop_client(s, i);
			return;
		}
		s->counts.queries++;
	}
}

void dns_server_run(struct dns_server *s)
{
	struct epoll_event events[16];
	uint64_t now;
	int n;

	if (!s)
		return;
	n = epoll_wait(s->epoll_fd, events, 16, 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = events[i].data.u64;

		if (tag == TAG_UDP)
			serve_udp(s);
		else if (tag == TAG_TCP_LISTEN)
			accept_tcp(s);
		else if (tag - TAG_CLIENT < DNS_SERVER_MAX_TCP && s->clients[tag - TAG_CLIENT])
			serve_client(s, tag - TAG_CLIENT);
	}
	now = now_ms();
	for (size_t i = 0; i < DNS_SERVER_MAX_TCP; i++)
		if (s->clients[i] && now - s->clients[i]->since_ms > DNS_SERVER_TCP_IDLE_MS)
			drop_client(s, i);
}

void dns_server_counts(const struct dns_server *s, struct dns_server_counts *c)
{
	*c = s ? s->counts : (struct dns_server_counts){ 0 };
}

void dns_server_status(const struct dns_server *s, struct json_out *j)
{
	char where[64];

	if (!s) {
		json_add_string(j, "resolver", "off (no resolver: section in the configuration)");
		return;
	}
	resolver_format_endpoint(&s->cfg.listen, where, sizeof(where));
	json_add_string(j, "resolver", where);
	resolver_format_endpoint(&s->cfg.upstream, where, sizeof(where));
	json_add_string(j, "resolver.upstream", where);
	json_add_u64(j, "resolver.queries", s->counts.queries);
	json_add_u64(j, "resolver.unidentified", s->counts.unidentified);
	json_add_u64(j, "resolver.no_upstream", s->counts.no_upstream);
	json_add_u64(j, "resolver.dropped", s->counts.dropped);
}

void dns_server_close(struct dns_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < DNS_SERVER_MAX_TCP; i++)
		if (s->clients[i])
			drop_client(s, i);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s);
}
