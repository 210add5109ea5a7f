/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The DNS wire format of the resolver (daemon/dnsmsg.c): queries, answers, CNAME chains. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/dnsmsg.h"
#include "dns_build.h"

static const uint8_t ip1[4] = { 127, 0, 0, 21 };
static const uint8_t ip2[4] = { 127, 0, 0, 22 };
static const uint8_t ip6[16] = { [15] = 1 };

static void test_query(void **state)
{
	struct dns_build b;
	struct dns_question q;

	(void)state;
	db_query(&b, 0x1234, "GitHub.COM", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_string_equal(q.name, "github.com"); /* lowercased */
	assert_int_equal(q.end, b.len);

	/* A response, two questions, an answer record, a compressed name: not a query. */
	db_header(&b, 1, 0x8100, 1, 0, 0, 0);
	db_question(&b, "a.example", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), -EINVAL);
	db_header(&b, 1, 0x0100, 2, 0, 0, 0);
	db_question(&b, "a.example", DNS_TYPE_A);
	db_question(&b, "b.example", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), -EINVAL);
	db_header(&b, 1, 0x0100, 1, 1, 0, 0);
	db_question(&b, "a.example", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), -EINVAL);
	db_header(&b, 1, 0x0100, 1, 0, 0, 0);
	db_question(&b, "@", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), -EINVAL);

	/* A label holding a dot never reads as two labels. */
	db_query(&b, 1, "x", DNS_TYPE_A);
	b.buf[13] = '.';
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), -EINVAL);
	/* Truncated: header only, question cut. */
	db_query(&b, 1, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len - 1, &q), -EINVAL);
	assert_int_equal(dns_parse_query(b.buf, 11, &q), -EINVAL);
}

static void test_refusal(void **state)
{
	struct dns_build b;
	struct dns_question q;
	struct dns_answer a;
	uint8_t out[512];
	int n;

	(void)state;
	db_query(&b, 0xbeef, "secret.attacker.example", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(b.buf, b.len, &q), 0);
	n = dns_write_refusal(b.buf, &q, DNS_RCODE_REFUSED, out, sizeof(out));
	assert_int_equal(n, (int)b.len);
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(out[0] << 8 | out[1], 0xbeef);
	assert_true(out[2] & 0x80); /* QR */
	assert_true(out[2] & 0x01); /* RD copied */
	assert_int_equal(out[7], 0); /* no answers */
	/* It answers q: the parser takes it, with nothing to learn. */
	assert_int_equal(dns_parse_answer(out, (size_t)n, &q, &a), 0);
	assert_int_equal(a.rcode, DNS_RCODE_REFUSED);
	assert_int_equal(a.count, 0);
	assert_int_equal(dns_write_refusal(b.buf, &q, DNS_RCODE_REFUSED, out, 12), -ENOSPC);

	n = dns_write_error(b.buf, b.len, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(dns_rcode(out), DNS_RCODE_FORMERR);
	assert_int_equal(dns_write_error(b.buf, 5, out, sizeof(out)), -EINVAL);
}

static void answer_header(struct dns_build *b, uint16_t id, const char *name, uint16_t type,
			  uint16_t an)
{
	db_header(b, id, 0x8180, 1, an, 0, 0);
	db_question(b, name, type);
}

static void test_answer_a_aaaa(void **state)
{
	struct dns_build b, qb;
	struct dns_question q;
	struct dns_answer a;

	(void)state;
	db_query(&qb, 7, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	answer_header(&b, 7, "GITHUB.com", DNS_TYPE_A, 3);
	db_a(&b, "@", 300, ip1);
	db_a(&b, "github.com", 30, ip2);
	db_aaaa(&b, "@", 60, ip6);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), 0);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.addrs[0].family, AF_INET);
	assert_memory_equal(a.addrs[0].addr, ip1, 4);
	assert_int_equal(a.addrs[0].ttl, 300);
	assert_int_equal(a.addrs[1].ttl, 30);
	assert_int_equal(a.addrs[2].family, AF_INET6);
	assert_memory_equal(a.addrs[2].addr, ip6, 16);

	/* Another id, another question, a query: not an answer to q. */
	answer_header(&b, 8, "github.com", DNS_TYPE_A, 0);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);
	answer_header(&b, 7, "github.org", DNS_TYPE_A, 0);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);
	answer_header(&b, 7, "github.com", DNS_TYPE_AAAA, 0);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);
	db_query(&b, 7, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);

	/* A record of the wrong length, a cut record. */
	answer_header(&b, 7, "github.com", DNS_TYPE_A, 1);
	db_a(&b, "@", 300, ip1);
	b.buf[b.len - 5] = 3; /* rdlength 3, one byte left over */
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);
	answer_header(&b, 7, "github.com", DNS_TYPE_A, 1);
	db_a(&b, "@", 300, ip1);
	assert_int_equal(dns_parse_answer(b.buf, b.len - 1, &q, &a), -EINVAL);
}

/* Records for names the workload did not ask for are never learned. */
static void test_answer_other_names(void **state)
{
	struct dns_build b, qb;
	struct dns_question q;
	struct dns_answer a;

	(void)state;
	db_query(&qb, 9, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	answer_header(&b, 9, "github.com", DNS_TYPE_A, 3);
	db_a(&b, "evil.example", 300, ip2);
	db_a(&b, "github.com.evil.example", 300, ip2);
	db_a(&b, "@", 300, ip1);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), 0);
	assert_int_equal(a.count, 1);
	assert_memory_equal(a.addrs[0].addr, ip1, 4);
}

/* The chain from the name asked, in any order; TTL the lowest along it. */
static void test_answer_cname(void **state)
{
	struct dns_build b, qb;
	struct dns_question q;
	struct dns_answer a;

	(void)state;
	db_query(&qb, 10, "www.example.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	answer_header(&b, 10, "www.example.com", DNS_TYPE_A, 4);
	db_a(&b, "edge.cdn.example", 600, ip1);
	db_cname(&b, "lb.example.net", 40, "edge.cdn.example");
	db_cname(&b, "@", 500, "lb.example.net");
	db_a(&b, "unrelated.example", 600, ip2);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), 0);
	assert_int_equal(a.chain, 2);
	assert_int_equal(a.count, 1);
	assert_memory_equal(a.addrs[0].addr, ip1, 4);
	assert_int_equal(a.addrs[0].ttl, 40);

	/* A loop ends the walk; nothing past it is invented. */
	answer_header(&b, 10, "www.example.com", DNS_TYPE_A, 2);
	db_cname(&b, "@", 500, "x.example");
	db_cname(&b, "x.example", 500, "www.example.com");
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), 0);
	assert_int_equal(a.chain, 1);
	assert_int_equal(a.count, 0);

	/* A chain longer than DNS_CHAIN_MAX: refused whole. */
	char from[32], to[32];

	answer_header(&b, 10, "www.example.com", DNS_TYPE_A, DNS_CHAIN_MAX + 1);
	for (int i = 0; i <= DNS_CHAIN_MAX; i++) {
		snprintf(from, sizeof(from), "c%d.example", i);
		snprintf(to, sizeof(to), "c%d.example", i + 1);
		db_cname(&b, i ? from : "@", 60, to);
	}
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -E2BIG);
}

/* Compression pointers go backwards only: a pointer to itself is no loop. */
static void test_answer_pointer_loop(void **state)
{
	struct dns_build b, qb;
	struct dns_question q;
	struct dns_answer a;
	size_t at;

	(void)state;
	db_query(&qb, 11, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	answer_header(&b, 11, "github.com", DNS_TYPE_A, 1);
	at = b.len;
	db_a(&b, "@", 1, ip1);
	b.buf[at] = 0xc0 | (uint8_t)(at >> 8);
	b.buf[at + 1] = (uint8_t)at;
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -EINVAL);
}

static void test_answer_too_many(void **state)
{
	struct dns_build b, qb;
	struct dns_question q;
	struct dns_answer a;

	(void)state;
	db_query(&qb, 12, "github.com", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	answer_header(&b, 12, "github.com", DNS_TYPE_A, DNS_ANSWER_MAX_ADDRS + 1);
	for (int i = 0; i <= DNS_ANSWER_MAX_ADDRS; i++)
		db_a(&b, "@", 60, ip1);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), -E2BIG);
	/* A TTL with the top bit set counts as zero (RFC 2181). */
	answer_header(&b, 12, "github.com", DNS_TYPE_A, 1);
	db_a(&b, "@", 0x80000001u, ip1);
	assert_int_equal(dns_parse_answer(b.buf, b.len, &q, &a), 0);
	assert_int_equal(a.addrs[0].ttl, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_answer_a_aaaa),
		cmocka_unit_test(test_answer_other_names),
		cmocka_unit_test(test_answer_cname),
		cmocka_unit_test(test_answer_pointer_loop),
		cmocka_unit_test(test_answer_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
