/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The DNS wire format for the resolver (dnsmsg.h). */
#include "daemon/dnsmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
/* Jumps a compressed name may take: each must go backwards, so this only
 * bounds the work on a long message; a valid name needs at most 127. */
#define DNS_MAX_JUMPS 128

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 'a' - 'A') : c;
}

/*
 * Read the name at *off into wire (lowercased, uncompressed) and move *off
 * past it. compression: pointers allowed, each strictly before the label
 * it replaces (so no loop can form). Returns 0 or -EINVAL.
 */
static int read_name(const uint8_t *msg, size_t len, size_t *off, bool compression,
		     uint8_t wire[DNS_WIRE_NAME_MAX], size_t *wire_len)
{
	size_t pos = *off, out = 0, after = 0;
	unsigned jumps = 0;

	for (;;) {
		if (pos >= len)
			return -EINVAL;
		uint8_t l = msg[pos];

		if ((l & 0xc0) == 0xc0) {
			if (!compression || pos + 1 >= len || ++jumps > DNS_MAX_JUMPS)
				return -EINVAL;
			size_t to = (size_t)(l & 0x3f) << 8 | msg[pos + 1];

			if (to >= pos)
				return -EINVAL;
			if (!after)
				after = pos + 2;
			pos = to;
			continue;
		}
		if (l & 0xc0) /* 0x40 and 0x80: extended label types, obsolete */
			return -EINVAL;
		if (out + 1 + l > DNS_WIRE_NAME_MAX || pos + 1 + l > len)
			return -EINVAL;
		wire[out++] = l;
		for (size_t i = 0; i < l; i++)
			wire[out++] = lower(msg[pos + 1 + i]);
		pos += 1 + l;
		if (l == 0)
			break;
	}
	*off = after ? after : pos;
	*wire_len = out;
	return 0;
}

/* The wire name as text; labels of printable bytes other than '.' only. */
static int wire_to_text(const uint8_t *wire, size_t wire_len, char *text, size_t size)
{
	size_t pos = 0, out = 0;

	if (wire_len == 1) { /* the root */
		if (size < 2)
			return -EINVAL;
		memcpy(text, ".", 2);
		return 0;
	}
	while (pos < wire_len && wire[pos]) {
		uint8_t l = wire[pos++];

		if (out && out + 1 < size)
			text[out++] = '.';
		for (size_t i = 0; i < l; i++, pos++) {
			uint8_t c = wire[pos];

			if (c <= 0x20 || c >= 0x7f || c == '.' || out + 1 >= size)
				return -EINVAL;
			text[out++] = (char)c;
		}
	}
	text[out] = '\0';
	return 0;
}

static bool same_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q)
{
	size_t off = DNS_HEADER_LEN;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if ((q->flags & DNS_FLAG_QR) || DNS_OPCODE(q->flags) != 0)
		return -EINVAL;
	/* One question, no answers or authority; at most an OPT record (EDNS). */
	if (get16(msg + 4) != 1 || get16(msg + 6) != 0 || get16(msg + 8) != 0 ||
	    get16(msg + 10) > 1)
		return -EINVAL;
	if (read_name(msg, len, &off, false, q->wire, &q->wire_len) ||
	    wire_to_text(q->wire, q->wire_len, q->name, sizeof(q->name)))
		return -EINVAL;
	if (off + 4 > len)
		return -EINVAL;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->end = off + 4;
	return 0;
}

struct rr {
	uint8_t owner[DNS_WIRE_NAME_MAX];
	size_t owner_len;
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	size_t rdata;      /* offset of the rdata in the message */
	uint16_t rdlen;
};

/* Read the record at *off and move past it. */
static int read_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *rr)
{
	if (read_name(msg, len, off, true, rr->owner, &rr->owner_len) || *off + 10 > len)
		return -EINVAL;
	rr->type = get16(msg + *off);
	rr->class = get16(msg + *off + 2);
	rr->ttl = get32(msg + *off + 4);
	/* RFC 2181 8: a TTL with the top bit set is read as zero. */
	if (rr->ttl & 0x80000000u)
		rr->ttl = 0;
	rr->rdlen = get16(msg + *off + 8);
	rr->rdata = *off + 10;
	if (rr->rdata + rr->rdlen > len)
		return -EINVAL;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

/* Skip the records of one section; *off after them. */
static int skip_records(const uint8_t *msg, size_t len, size_t *off, unsigned count)
{
	struct rr rr;

	for (unsigned i = 0; i < count; i++)
		if (read_rr(msg, len, off, &rr))
			return -EINVAL;
	return 0;
}

int dns_parse_answer(const uint8_t *msg, size_t len, const struct dns_question *q,
		     struct dns_answer *out)
{
	uint8_t chain[DNS_CHAIN_MAX + 1][DNS_WIRE_NAME_MAX];
	size_t chain_len[DNS_CHAIN_MAX + 1];
	uint32_t chain_ttl[DNS_CHAIN_MAX + 1]; /* lowest TTL to reach chain[i] */
	size_t names = 1, off = DNS_HEADER_LEN, answers_at;
	unsigned ancount;
	uint8_t qwire[DNS_WIRE_NAME_MAX];
	size_t qwire_len;
	struct rr rr;

	memset(out, 0, sizeof(*out));
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	uint16_t flags = get16(msg + 2);

	out->id = get16(msg);
	out->rcode = (uint8_t)(flags & 0xf);
	out->truncated = flags & DNS_FLAG_TC;
	if (!(flags & DNS_FLAG_QR) || out->id != q->id || DNS_OPCODE(flags) != 0 ||
	    get16(msg + 4) != 1)
		return -EINVAL;
	if (read_name(msg, len, &off, true, qwire, &qwire_len) || off + 4 > len ||
	    !same_name(qwire, qwire_len, q->wire, q->wire_len) || get16(msg + off) != q->qtype ||
	    get16(msg + off + 2) != q->qclass)
		return -EINVAL;
	off += 4;
	ancount = get16(msg + 6);
	answers_at = off;
	/* The whole message must be well formed, not only the part we use. */
	if (skip_records(msg, len, &off, ancount + (unsigned)get16(msg + 8) + get16(msg + 10)))
		return -EINVAL;

	memcpy(chain[0], q->wire, q->wire_len);
	chain_len[0] = q->wire_len;
	chain_ttl[0] = UINT32_MAX;
	/*
	 * Follow the chain: each pass over the answers looks for the CNAME of
	 * the last name found. Records may come in any order, so a pass per
	 * hop; a name seen before ends the walk (a loop answers nothing more).
	 */
	for (;;) {
		size_t at = answers_at;
		bool next = false;

		for (unsigned i = 0; i < ancount && !next; i++) {
			uint8_t target[DNS_WIRE_NAME_MAX];
			size_t target_len, rd;

			if (read_rr(msg, len, &at, &rr))
				return -EINVAL;
			if (rr.type != DNS_TYPE_CNAME || rr.class != DNS_CLASS_IN ||
			    !same_name(rr.owner, rr.owner_len, chain[names - 1], chain_len[names - 1]))
				continue;
			rd = rr.rdata;
			if (read_name(msg, rr.rdata + rr.rdlen, &rd, true, target, &target_len) ||
			    rd != rr.rdata + rr.rdlen)
				return -EINVAL;
			for (size_t k = 0; k < names; k++)
				if (same_name(chain[k], chain_len[k], target, target_len))
					goto walked;
			if (names > DNS_CHAIN_MAX)
				return -E2BIG;
			memcpy(chain[names], target, target_len);
			chain_len[names] = target_len;
			chain_ttl[names] = rr.ttl < chain_ttl[names - 1] ? rr.ttl : chain_ttl[names - 1];
			names++;
			next = true;
		}
		if (!next)
			break;
	}
walked:
	out->chain = names - 1;
	off = answers_at;
	for (unsigned i = 0; i < ancount; i++) {
		struct dns_address *a;
		size_t k;

		if (read_rr(msg, len, &off, &rr))
			return -EINVAL;
		if (rr.class != DNS_CLASS_IN || (rr.type != DNS_TYPE_A && rr.type != DNS_TYPE_AAAA))
			continue;
		for (k = 0; k < names; k++)
			if (same_name(rr.owner, rr.owner_len, chain[k], chain_len[k]))
				break;
		if (k == names)
			continue;
		if (rr.rdlen != (rr.type == DNS_TYPE_A ? 4 : 16))
			return -EINVAL;
		if (out->count == DNS_ANSWER_MAX_ADDRS)
			return -E2BIG;
		a = &out->addrs[out->count++];
		a->family = rr.type == DNS_TYPE_A ? AF_INET : AF_INET6;
		memcpy(a->addr, msg + rr.rdata, rr.rdlen);
		a->ttl = rr.ttl < chain_ttl[k] ? rr.ttl : chain_ttl[k];
	}
	return 0;
}

int dns_write_refusal(const uint8_t *msg, const struct dns_question *q, uint8_t rcode,
		      uint8_t *out, size_t out_size)
{
	if (q->end > out_size || q->end < DNS_HEADER_LEN)
		return -ENOSPC;
	put16(out, q->id);
	put16(out + 2, (uint16_t)(DNS_FLAG_QR | (q->flags & DNS_FLAG_RD) | DNS_FLAG_RA |
				  (rcode & 0xf)));
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + DNS_HEADER_LEN, msg + DNS_HEADER_LEN, q->end - DNS_HEADER_LEN);
	return (int)q->end;
}

int dns_write_error(const uint8_t *msg, size_t len, uint8_t *out, size_t out_size)
{
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	if (out_size < DNS_HEADER_LEN)
		return -ENOSPC;
	memset(out, 0, DNS_HEADER_LEN);
	memcpy(out, msg, 2);
	put16(out + 2, (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | DNS_RCODE_FORMERR));
	return DNS_HEADER_LEN;
}

uint8_t dns_rcode(const uint8_t *msg)
{
	return msg[3] & 0xf;
}
