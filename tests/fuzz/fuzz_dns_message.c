/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the resolver's DNS wire format (daemon/dnsmsg.c):
 * workloads write the queries and any upstream the answers.
 *
 *   make fuzz   (or build/fuzz/fuzz_dns_message -max_total_time=60 CORPUS_DIR)
 *
 * Properties checked beyond "no crash":
 * - a query that parses has a name of printable bytes without empty labels,
 *   and the refusal written for it parses back as its answer, with nothing
 *   to learn and rcode REFUSED;
 * - the input read as an answer to a fixed question (and to its own
 *   question when it has one) yields only A (4 bytes) and AAAA addresses,
 *   at most DNS_ANSWER_MAX_ADDRS, a chain of at most DNS_CHAIN_MAX hops;
 * - a refusal is all-or-nothing: an error leaves no addresses.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/dnsmsg.h"
#include "fuzz_check.h"

static void check_answer(const uint8_t *data, size_t size, const struct dns_question *q)
{
	struct dns_answer a;
	int err = dns_parse_answer(data, size, q, &a);

	if (err) {
		CHECK(err == -EINVAL || err == -E2BIG);
		return;
	}
	CHECK(a.count <= DNS_ANSWER_MAX_ADDRS);
	CHECK(a.chain <= DNS_CHAIN_MAX);
	CHECK(a.id == q->id);
	for (size_t i = 0; i < a.count; i++)
		CHECK(a.addrs[i].family == AF_INET || a.addrs[i].family == AF_INET6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
					 6, 'g', 'i', 't', 'h', 'u', 'b', 3, 'c', 'o', 'm', 0,
					 0, 1, 0, 1 };
	struct dns_question q, fq;
	uint8_t out[DNS_UDP_MAX];

	CHECK(dns_parse_query(fixed, sizeof(fixed), &fq) == 0);
	if (size >= 2) { /* the upstream answers with the id it was asked */
		fq.id = (uint16_t)(data[0] << 8 | data[1]);
	}
	check_answer(data, size, &fq);

	if (dns_parse_query(data, size, &q) == 0) {
		size_t n = strlen(q.name);
		struct dns_answer a;
		int len;

		CHECK(n > 0 && n <= DNS_TEXT_NAME_MAX);
		CHECK(strstr(q.name, "..") == NULL && (n == 1 || q.name[0] != '.'));
		CHECK(q.end <= size);
		len = dns_write_refusal(data, &q, DNS_RCODE_REFUSED, out, sizeof(out));
		CHECK(len == (int)q.end);
		CHECK(dns_parse_answer(out, (size_t)len, &q, &a) == 0);
		CHECK(a.rcode == DNS_RCODE_REFUSED && a.count == 0);
		check_answer(data, size, &q);
	} else if (size >= DNS_HEADER_LEN) {
		CHECK(dns_write_error(data, size, out, sizeof(out)) == DNS_HEADER_LEN);
		CHECK(dns_rcode(out) == DNS_RCODE_FORMERR);
	}
	return 0;
}
