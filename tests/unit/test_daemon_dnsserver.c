/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The resolver's sockets (daemon/dnsserver.c) on loopback: an asker the
 * host cannot identify is REFUSED over UDP and TCP without a decision;
 * an identified one is decided (a denied name REFUSED and recorded, never
 * forwarded); with no upstream, SERVFAIL; a TCP asker
 * may send several queries on one connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "daemon/dnsmsg.h"
#include "daemon/dnsserver.h"
#include "dns_build.h"

struct host_state {
	bool identify;         /* identify every asker */
	int identified, decided, records;
	uint8_t last_rcode;
	uint8_t last_verdict;
};

static int t_identify(void *ctx, const struct sockaddr *peer, socklen_t peer_len, bool tcp,
		      struct dns_asker *a)
{
	struct host_state *h = ctx;

	(void)tcp;
	assert_int_equal(peer->sa_family, AF_INET);
	assert_int_equal(peer_len, sizeof(struct sockaddr_in));
	if (!h->identify)
		return -ENOENT;
	h->identified++;
	a->workload = h;
	return 0;
}

static int t_decide(void *ctx, const char *name, struct name_decision *d)
{
	struct host_state *h = ((struct dns_asker *)ctx)->workload;

	h->decided++;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->verdict = ACTGATE_VERDICT_DENY;
	d->reason = ACTGATE_REASON_NAME;
	return 0;
}

static int t_learn(void *ctx, const struct dns_address *addr, uint32_t ttl,
		   const struct name_decision *d)
{
	(void)ctx, (void)addr, (void)ttl, (void)d;
	fail_msg("nothing is allowed here, nothing may be learned");
	return -EPERM;
}

static void t_record(void *ctx, const struct name_decision *d, uint8_t rcode)
{
	struct host_state *h = ((struct dns_asker *)ctx)->workload;

	h->records++;
	h->last_verdict = d->verdict;
	h->last_rcode = rcode;
}

struct fixture {
	struct host_state h;
	struct resolver_config cfg;
	struct dns_server *s;
};

/* with_upstream: 127.0.0.2:53, where nothing answers (no test here forwards). */
static void start(struct fixture *f, bool with_identify, bool with_upstream)
{
	char why[128];
	char text[32];
	int err = -EADDRINUSE;

	memset(f, 0, sizeof(*f));
	f->cfg.enabled = true;
	f->cfg.ttl_min = 5;
	f->cfg.ttl_max = 3600;
	f->cfg.learned_max = 1024;
	if (with_upstream)
		assert_int_equal(resolver_parse_endpoint("127.0.0.2", 53, &f->cfg.upstream, why,
							 sizeof(why)), 0);
	/* A free port: another test run may hold one. */
	for (int i = 0; i < 20 && err == -EADDRINUSE; i++) {
		snprintf(text, sizeof(text), "127.0.0.1:%d", 20000 + (getpid() * 7 + i * 131) % 30000);
		assert_int_equal(resolver_parse_endpoint(text, 0, &f->cfg.listen, why, sizeof(why)), 0);
		err = dns_server_open(&f->s, &f->cfg,
				      &(struct dns_server_host){
					      .ctx = &f->h,
					      .identify = with_identify ? t_identify : NULL,
					      .ops = { t_decide, t_learn, t_record } });
	}
	assert_int_equal(err, 0);
}

/* Serve until the socket fd has a reply (the server runs in this thread). */
static void pump(struct fixture *f, int fd)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		dns_server_run(f->s);
		if (poll(&p, 1, 10) > 0)
			return;
	}
	fail_msg("no reply");
}

static int udp_ask(struct fixture *f, const char *name, uint8_t *reply, size_t size)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct dns_build b;
	ssize_t n;

	assert_true(fd >= 0);
	db_query(&b, 0x4242, name, DNS_TYPE_A);
	assert_int_equal(sendto(fd, b.buf, b.len, 0, (struct sockaddr *)&f->cfg.listen.addr,
				f->cfg.listen.len),
			 (ssize_t)b.len);
	pump(f, fd);
	n = recv(fd, reply, size, 0);
	close(fd);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(reply[0] << 8 | reply[1], 0x4242);
	return (int)n;
}

static void test_unidentified_udp(void **state)
{
	struct fixture f;
	struct dns_server_counts c;
	uint8_t reply[512];

	(void)state;
	start(&f, false, true);
	udp_ask(&f, "github.com", reply, sizeof(reply));
	assert_int_equal(dns_rcode(reply), DNS_RCODE_REFUSED);
	/* No identify at all: nothing decided, nothing recorded. */
	assert_int_equal(f.h.decided, 0);
	dns_server_counts(f.s, &c);
	assert_int_equal(c.unidentified, 1);
	assert_int_equal(c.queries, 1);
	dns_server_close(f.s);

	start(&f, true, true); /* identify installed, but it does not know the asker */
	udp_ask(&f, "github.com", reply, sizeof(reply));
	assert_int_equal(dns_rcode(reply), DNS_RCODE_REFUSED);
	dns_server_counts(f.s, &c);
	assert_int_equal(c.unidentified, 1);
	assert_int_equal(f.h.decided, 0);
	dns_server_close(f.s);
}

static void test_identified_denied(void **state)
{
	struct fixture f;
	uint8_t reply[512];

	(void)state;
	start(&f, true, true);
	f.h.identify = true;
	udp_ask(&f, "secret.attacker.example", reply, sizeof(reply));
	assert_int_equal(dns_rcode(reply), DNS_RCODE_REFUSED);
	assert_int_equal(f.h.identified, 1);
	assert_int_equal(f.h.decided, 1);
	assert_int_equal(f.h.records, 1);
	assert_int_equal(f.h.last_verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(f.h.last_rcode, DNS_RCODE_REFUSED);
	dns_server_close(f.s);
}

static void test_no_upstream(void **state)
{
	struct fixture f;
	struct dns_server_counts c;
	uint8_t reply[512];

	(void)state;
	start(&f, true, false);
	f.h.identify = true; /* no upstream: nothing to forward to */
	udp_ask(&f, "github.com", reply, sizeof(reply));
	assert_int_equal(dns_rcode(reply), DNS_RCODE_SERVFAIL);
	dns_server_counts(f.s, &c);
	assert_int_equal(c.no_upstream, 1);
	dns_server_close(f.s);
}

static void test_tcp(void **state)
{
	struct fixture f;
	struct dns_server_counts c;
	uint8_t reply[514];
	int fd;

	(void)state;
	start(&f, true, true);
	f.h.identify = true;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&f.cfg.listen.addr, f.cfg.listen.len), 0);
	/* Two queries on one connection, the first sent in two pieces. */
	for (int round = 0; round < 2; round++) {
		struct dns_build b;
		uint8_t head[2];
		size_t got = 0, len;

		db_query(&b, (uint16_t)(0x100 + round), "x.example", DNS_TYPE_AAAA);
		head[0] = (uint8_t)(b.len >> 8);
		head[1] = (uint8_t)b.len;
		assert_int_equal(send(fd, head, 2, 0), 2);
		if (!round) {
			dns_server_run(f.s);
			usleep(1000);
		}
		assert_int_equal(send(fd, b.buf, b.len, 0), (ssize_t)b.len);
		while (got < 2) {
			ssize_t n;

			pump(&f, fd);
			n = recv(fd, reply + got, sizeof(reply) - got, 0);
			assert_true(n > 0);
			got += (size_t)n;
		}
		len = (size_t)reply[0] << 8 | reply[1];
		while (got < 2 + len) {
			ssize_t n;

			pump(&f, fd);
			n = recv(fd, reply + got, sizeof(reply) - got, 0);
			assert_true(n > 0);
			got += (size_t)n;
		}
		assert_int_equal(reply[2] << 8 | reply[3], 0x100 + round);
		assert_int_equal(dns_rcode(reply + 2), DNS_RCODE_REFUSED);
	}
	close(fd);
	assert_int_equal(f.h.decided, 2);
	dns_server_counts(f.s, &c);
	assert_int_equal(c.queries, 2);
	dns_server_close(f.s);
}

/* Shorter than a header: no reply at all, counted. */
static void test_runt(void **state)
{
	struct fixture f;
	struct dns_server_counts c;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	start(&f, true, true);
	assert_int_equal(sendto(fd, "abc", 3, 0, (struct sockaddr *)&f.cfg.listen.addr,
				f.cfg.listen.len), 3);
	for (int i = 0; i < 50; i++) {
		dns_server_run(f.s);
		dns_server_counts(f.s, &c);
		if (c.dropped)
			break;
		usleep(2000);
	}
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.queries, 0);
	close(fd);
	dns_server_close(f.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unidentified_udp),
		cmocka_unit_test(test_identified_denied),
		cmocka_unit_test(test_no_upstream),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_runt),
	};

	return cmocka_run_group_tests_name("dnsserver", tests, NULL, NULL);
}
