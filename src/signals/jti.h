/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Tokens already taken, by issuer and jti, so that a replayed token is
 * refused. An entry lives as long as its token could still be accepted
 * (its iat plus the accepted age and skew, or its exp): past that, the token
 * is refused for its age anyway. The cache is bounded: when it is full of
 * live entries a new token is refused (-ENOSPC), never let in by forgetting
 * one that could be replayed. It holds no clock: callers pass the time.
 */
#ifndef ACTGATE_SIGNALS_JTI_H
#define ACTGATE_SIGNALS_JTI_H

#include <stddef.h>
#include <stdint.h>

#define JTI_MAX_LEN 255

struct jti_entry;

struct jti_cache {
	struct jti_entry **buckets;
	size_t nbuckets;
	size_t count;
	size_t max;
};

/* An empty cache of at most max entries. 0 or -ENOMEM. */
int jti_cache_init(struct jti_cache *c, size_t max);

/* 1 when issuer's jti is held (and not expired by now), 0 when not. */
int jti_cache_seen(const struct jti_cache *c, const char *issuer, const char *jti, int64_t now);

/*
 * Hold issuer's jti until expires (seconds, as now). 0; -EEXIST when it is
 * already held; -ENOSPC when the cache is full of entries that have not
 * expired; -EINVAL for an empty or too long jti; -ENOMEM.
 */
int jti_cache_add(struct jti_cache *c, const char *issuer, const char *jti, int64_t expires,
		  int64_t now);

/* Drop what expired by now; returns how many. */
size_t jti_cache_expire(struct jti_cache *c, int64_t now);

void jti_cache_free(struct jti_cache *c);

#endif /* ACTGATE_SIGNALS_JTI_H */
