/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The DNS wire format as the resolver needs it (RFC 1035, 3596): read the
 * one question of a workload's query, read the upstream's answer to it and
 * follow its CNAME chain from the name asked to the A and AAAA records the
 * workload may learn, and write the refusals the resolver answers itself.
 *
 * Everything here comes from outside (a workload's query, any upstream's
 * answer), so every length and offset is checked against the message, name
 * compression may only point backwards, and names are compared in their
 * wire form (length-prefixed labels, ASCII lowercased): a label holding a
 * '.' can never pass for two labels. Nothing here touches a socket.
 */
#ifndef ACTGATE_DNSMSG_H
#define ACTGATE_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_UDP_MAX 65535         /* a DNS message over UDP or TCP is at most this long */
#define DNS_WIRE_NAME_MAX 255     /* a name in wire form, the root's 0 included */
#define DNS_TEXT_NAME_MAX 253     /* the same name as text, without a trailing dot */
#define DNS_CHAIN_MAX 16          /* CNAME hops followed from the name asked */
#define DNS_ANSWER_MAX_ADDRS 64   /* addresses learned from one answer */

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_AAAA = 28,
};

#define DNS_CLASS_IN 1

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_REFUSED = 5,
};

/* The one question of a query (or the question an answer repeats). */
struct dns_question {
	uint16_t id;
	uint16_t flags;        /* the header's second 16 bits, host order */
	uint16_t qtype;
	uint16_t qclass;
	size_t end;            /* offset just after the question in the message */
	uint8_t wire[DNS_WIRE_NAME_MAX]; /* the name, wire form, lowercased */
	size_t wire_len;
	char name[DNS_TEXT_NAME_MAX + 2]; /* the name as text ("." for the root) */
};

/* One address an answer gives for the name asked (through its CNAME chain). */
struct dns_address {
	uint8_t family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];      /* network order; 4 bytes used for AF_INET */
	uint32_t ttl;          /* the lowest TTL along the chain to this record */
};

struct dns_answer {
	uint16_t id;
	uint8_t rcode;
	bool truncated;        /* TC: the answer must be asked again over TCP */
	size_t chain;          /* CNAME hops followed */
	size_t count;
	struct dns_address addrs[DNS_ANSWER_MAX_ADDRS];
};

/*
 * Read a workload's query: a standard query (QR 0, opcode QUERY) with
 * exactly one question, no answer or authority records (an OPT record in
 * the additional section is fine), a name of printable labels without
 * '.', no compression. Returns 0, or -EINVAL when the message is not such
 * a query (a message of at least DNS_HEADER_LEN bytes still gets
 * dns_write_error's FORMERR; a shorter one no answer at all).
 */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q);

/*
 * Read the upstream's answer to q: a response (QR 1) with q's id that
 * repeats q's question. Follows the CNAME chain from q's name (at most
 * DNS_CHAIN_MAX hops, records of class IN only) and collects the A and
 * AAAA records of the names on the chain; records of any other name are
 * not learned (an upstream cannot widen a workload's set beyond the name
 * asked). Returns 0; -EINVAL for a malformed message or one that does not
 * answer q; -E2BIG for more than DNS_ANSWER_MAX_ADDRS addresses or a
 * longer chain (the resolver answers SERVFAIL then, never a partial set).
 */
int dns_parse_answer(const uint8_t *msg, size_t len, const struct dns_question *q,
		     struct dns_answer *out);

/*
 * Write the answer the resolver gives itself to query q (the message it
 * read, msg): q's id, QR and RA set, RD copied, rcode, q's question
 * repeated, nothing else. Returns its length, or -ENOSPC when out is too
 * small.
 */
int dns_write_refusal(const uint8_t *msg, const struct dns_question *q, uint8_t rcode,
		      uint8_t *out, size_t out_size);

/*
 * FORMERR for a message that is not a query we read (at least
 * DNS_HEADER_LEN bytes): its id, no question. Returns the length, -EINVAL
 * for a shorter message (nothing to answer), -ENOSPC for a small out.
 */
int dns_write_error(const uint8_t *msg, size_t len, uint8_t *out, size_t out_size);

/* The rcode of a message of at least DNS_HEADER_LEN bytes. */
uint8_t dns_rcode(const uint8_t *msg);

#endif /* ACTGATE_DNSMSG_H */
