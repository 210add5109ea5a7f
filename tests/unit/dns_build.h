/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Writing DNS messages for the tests (the resolver's unit tests and the
 * test responder): a query, and an answer of A, AAAA and CNAME records with
 * names written out in full or as a compression pointer to the question.
 */
#ifndef ACTGATE_TEST_DNS_BUILD_H
#define ACTGATE_TEST_DNS_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dns_build {
	uint8_t buf[4096];
	size_t len;
};

static inline void db_u16(struct dns_build *b, uint16_t v)
{
	b->buf[b->len++] = (uint8_t)(v >> 8);
	b->buf[b->len++] = (uint8_t)v;
}

static inline void db_u32(struct dns_build *b, uint32_t v)
{
	db_u16(b, (uint16_t)(v >> 16));
	db_u16(b, (uint16_t)v);
}

/* "a.example.com" as wire labels; "@" writes a pointer to the question's name. */
static inline void db_name(struct dns_build *b, const char *name)
{
	if (strcmp(name, "@") == 0) {
		db_u16(b, 0xc000 | 12);
		return;
	}
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b->buf[b->len++] = (uint8_t)l;
		memcpy(b->buf + b->len, name, l);
		b->len += l;
		name += l + (dot ? 1 : 0);
	}
	b->buf[b->len++] = 0;
}

/* Header: id, flags, and the four section counts. */
static inline void db_header(struct dns_build *b, uint16_t id, uint16_t flags, uint16_t qd,
			     uint16_t an, uint16_t ns, uint16_t ar)
{
	b->len = 0;
	db_u16(b, id);
	db_u16(b, flags);
	db_u16(b, qd);
	db_u16(b, an);
	db_u16(b, ns);
	db_u16(b, ar);
}

static inline void db_question(struct dns_build *b, const char *name, uint16_t type)
{
	db_name(b, name);
	db_u16(b, type);
	db_u16(b, 1);
}

static inline void db_query(struct dns_build *b, uint16_t id, const char *name, uint16_t type)
{
	db_header(b, id, 0x0100, 1, 0, 0, 0);
	db_question(b, name, type);
}

static inline void db_a(struct dns_build *b, const char *owner, uint32_t ttl, const uint8_t a[4])
{
	db_name(b, owner);
	db_u16(b, 1);
	db_u16(b, 1);
	db_u32(b, ttl);
	db_u16(b, 4);
	memcpy(b->buf + b->len, a, 4);
	b->len += 4;
}

static inline void db_aaaa(struct dns_build *b, const char *owner, uint32_t ttl,
			   const uint8_t a[16])
{
	db_name(b, owner);
	db_u16(b, 28);
	db_u16(b, 1);
	db_u32(b, ttl);
	db_u16(b, 16);
	memcpy(b->buf + b->len, a, 16);
	b->len += 16;
}

static inline void db_cname(struct dns_build *b, const char *owner, uint32_t ttl,
			    const char *target)
{
	size_t at;

	db_name(b, owner);
	db_u16(b, 5);
	db_u16(b, 1);
	db_u32(b, ttl);
	at = b->len;
	db_u16(b, 0);
	db_name(b, target);
	b->buf[at] = (uint8_t)((b->len - at - 2) >> 8);
	b->buf[at + 1] = (uint8_t)(b->len - at - 2);
}

#endif /* ACTGATE_TEST_DNS_BUILD_H */
