/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A JSON Web Key Set (RFC 7517) of public signing keys: RSA (2048 bits or
 * more) and EC P-256, each with its kid, alg and use as published. Keys of
 * other types (oct, OKP, other curves) and keys whose use is not "sig" are
 * skipped and counted, never used: an HMAC secret in a transmitter's set must
 * not become a way to forge its tokens. A key of a kept type that is
 * malformed refuses the whole set (a half-read set would verify some tokens
 * and not others). Private members ("d", "p", ...) refuse the set: whoever
 * published them has leaked the key.
 */
#ifndef ACTGATE_SIGNALS_JWKS_H
#define ACTGATE_SIGNALS_JWKS_H

#include <stddef.h>

/* A JWKS document is a few KiB; the bound keeps a hostile file cheap to refuse. */
#define JWKS_MAX_BYTES (256 * 1024)
#define JWKS_MAX_KEYS 64
#define JWK_KID_MAX 255
#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 8192

struct evp_pkey_st; /* OpenSSL's EVP_PKEY: only jwks.c and jose.c look inside */

enum jwk_type {
	JWK_RSA = 1,     /* RS256, PS256 */
	JWK_EC_P256 = 2, /* ES256 */
};

struct jwk {
	enum jwk_type type;
	char *kid; /* NULL: the key has none */
	char *alg; /* NULL: any algorithm of its type */
	struct evp_pkey_st *pkey;
};

struct jwks {
	struct jwk *keys;
	size_t count;
	size_t skipped; /* keys of other types or uses, not kept */
};

/*
 * Parse a JWKS document ({"keys": [...]}) or a single JWK. Returns 0 with
 * out filled (jwks_free it); -EINVAL with the reason in why ("keys[1].n:
 * ..."; out empty); -ENOMEM.
 */
int jwks_parse(struct jwks *out, const char *text, size_t len, char *why, size_t why_size);

/* jwks_parse of a file; why starts with the path. -errno of reading it too. */
int jwks_load_file(struct jwks *out, const char *path, char *why, size_t why_size);

/*
 * The key named kid; for a token that names none (kid NULL), the set's only
 * key when it has exactly one. NULL when there is none.
 */
const struct jwk *jwks_find(const struct jwks *set, const char *kid);

/* Replace dst's keys by src's (src is left empty); dst's old keys are freed. */
void jwks_move(struct jwks *dst, struct jwks *src);

void jwks_free(struct jwks *set);

#endif /* ACTGATE_SIGNALS_JWKS_H */
