/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A chained hash table keyed by issuer and jti, with a plain unseeded hash:
 * only tokens whose signature verified reach the cache, so whoever chooses
 * the jtis is a trusted transmitter, not someone out to make chains long.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "signals/jti.h"

struct jti_entry {
	struct jti_entry *next;
	int64_t expires;
	char key[]; /* issuer '\0' jti '\0' */
};

static uint64_t hash_key(const char *issuer, const char *jti)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = issuer; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* "a" + "bc" is not "ab" + "c" */
	for (const char *p = jti; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static bool same(const struct jti_entry *e, const char *issuer, const char *jti)
{
	size_t n = strlen(issuer);

	return !strcmp(e->key, issuer) && !strcmp(e->key + n + 1, jti);
}

int jti_cache_init(struct jti_cache *c, size_t max)
{
	*c = (struct jti_cache){ 0 };
	c->max = max ? max : 1;
	/* About one entry a bucket when full. */
	c->nbuckets = 64;
	while (c->nbuckets < c->max && c->nbuckets < (1u << 20))
		c->nbuckets *= 2;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	return c->buckets ? 0 : -ENOMEM;
}

int jti_cache_seen(const struct jti_cache *c, const char *issuer, const char *jti, int64_t now)
{
	const struct jti_entry *e = c->buckets[hash_key(issuer, jti) & (c->nbuckets - 1)];

	for (; e; e = e->next)
		if (same(e, issuer, jti) && e->expires > now)
			return 1;
	return 0;
}

size_t jti_cache_expire(struct jti_cache *c, int64_t now)
{
	size_t dropped = 0;

	for (size_t b = 0; b < c->nbuckets; b++) {
		struct jti_entry **pp = &c->buckets[b];

		while (*pp) {
			struct jti_entry *e = *pp;

			if (e->expires > now) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e);
			dropped++;
		}
	}
	c->count -= dropped;
	return dropped;
}

int jti_cache_add(struct jti_cache *c, const char *issuer, const char *jti, int64_t expires,
		  int64_t now)
{
	size_t ilen = strlen(issuer), jlen = strlen(jti), b;
	struct jti_entry *e;

	if (jlen == 0 || jlen > JTI_MAX_LEN)
		return -EINVAL;
	if (jti_cache_seen(c, issuer, jti, now))
		return -EEXIST;
	if (c->count >= c->max && jti_cache_expire(c, now) == 0)
		return -ENOSPC;
	e = malloc(sizeof(*e) + ilen + jlen + 2);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, issuer, ilen + 1);
	memcpy(e->key + ilen + 1, jti, jlen + 1);
	e->expires = expires;
	b = hash_key(issuer, jti) & (c->nbuckets - 1);
	/* An expired entry of the same key is left behind: jti_cache_expire takes it. */
	e->next = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	return 0;
}

void jti_cache_free(struct jti_cache *c)
{
	for (size_t b = 0; c->buckets && b < c->nbuckets; b++) {
		struct jti_entry *e = c->buckets[b];

		while (e) {
			struct jti_entry *next = e->next;

			free(e);
			e = next;
		}
	}
	free(c->buckets);
	*c = (struct jti_cache){ 0 };
}
