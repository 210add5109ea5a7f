/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Signed tokens in: a compact JWS (RFC 7515) verified against a
 * transmitter's keys (signals/jwks.h) and its claims checked (RFC 7519), for
 * Security Event Tokens (RFC 8417) and delegation JWTs alike.
 *
 * Only RS256, PS256 and ES256 are taken. Refused, each with an RFC 8935
 * error code and a reason: a token that is not three strict base64url parts,
 * a header or payload that is not strict JSON (util/json.h: duplicate
 * members refused, so no two readers can see different claims), alg "none",
 * HMAC (HS*) and any other algorithm, a "crit" header (no extension is
 * understood), an algorithm the key was not published for, a kid not in the
 * set after one refresh, a bad signature, a wrong iss or aud, an iat outside
 * the accepted window, an exp or nbf that says the token is not valid now.
 * Keys named by the token itself (jwk, jku, x5u, x5c) are never used.
 * Nothing here keeps a clock: the caller passes the time.
 */
#ifndef ACTGATE_SIGNALS_JOSE_H
#define ACTGATE_SIGNALS_JOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signals/jwks.h"

struct json_t; /* jansson's value */

/* A token is a few KiB; the bound keeps a hostile one cheap to refuse. */
#define JOSE_TOKEN_MAX (256 * 1024)

/* RFC 8935 section 2.3 error codes (the "err" of a push answer). */
#define JOSE_ERR_INVALID_REQUEST "invalid_request"
#define JOSE_ERR_INVALID_KEY "invalid_key"
#define JOSE_ERR_INVALID_ISSUER "invalid_issuer"
#define JOSE_ERR_INVALID_AUDIENCE "invalid_audience"
#define JOSE_ERR_AUTHENTICATION_FAILED "authentication_failed"
#define JOSE_ERR_ACCESS_DENIED "access_denied"

struct jose_error {
	const char *code; /* one of JOSE_ERR_*; NULL when there is no error */
	char reason[512]; /* for logs and the answer's "description" */
};

/*
 * Re-read a key set into fresh (empty on entry): a file read again, a
 * jwks_uri fetched again. 0, or -errno with the reason in why (the keys in
 * use are kept).
 */
typedef int (*jose_refresh_fn)(void *ctx, struct jwks *fresh, char *why, size_t why_size);

/* A transmitter's keys and how to get them again when they rotate. */
struct jose_keys {
	struct jwks set;
	jose_refresh_fn refresh; /* NULL: the set never changes */
	void *refresh_ctx;
	/*
	 * At most one refresh per this many seconds (0: no limit): tokens with
	 * made-up kids must not turn into a fetch each.
	 */
	int64_t refresh_interval_s;
	int64_t refreshed_at; /* the time of the last refresh, in the caller's seconds */
	bool refreshed;       /* whether there was one */
};

/* What a token must say. */
struct jose_expect {
	const char *issuer;   /* iss must equal it; NULL: any string (then check it) */
	const char *audience; /* aud (a string or an array) must hold it; NULL: not checked */
	const char *typ;      /* the header's typ must equal it (case-insensitively, with or
			       * without "application/"); NULL: not checked */
	int64_t now;          /* seconds since the epoch */
	int64_t skew_s;       /* how far iat may be ahead and exp/nbf behind */
	int64_t max_age_s;    /* how far iat may be in the past; 0: not checked */
	bool require_iat;
	bool require_exp;
};

/* What a verified token holds. */
struct jose_verified {
	struct json_t *header;
	struct json_t *claims;
	char *payload; /* the payload's JSON text, NUL-terminated (for positioned messages) */
	size_t payload_len;
	char alg[8];
	const struct jwk *key; /* in keys->set: valid until its next refresh */
};

/* Load a key set from a JWKS file, with a refresh that reads the file again. */
int jose_keys_load_file(struct jose_keys *keys, const char *path, char *why, size_t why_size);
void jose_keys_free(struct jose_keys *keys);

/*
 * Verify token (len bytes, no NUL needed) with keys and check its claims
 * against expect. 0 with out filled (jose_verified_free it); -EINVAL (also
 * for a refused token) with err filled and out empty; -ENOMEM. A kid not in
 * the set refreshes it once (keys->refresh) and looks again.
 */
int jose_verify(struct jose_keys *keys, const char *token, size_t len,
		const struct jose_expect *expect, struct jose_verified *out,
		struct jose_error *err);

/* jose_verify giving only the claims (json_decref them). */
int jose_verify_compact(struct jose_keys *keys, const char *token, size_t len,
			const struct jose_expect *expect, struct json_t **claims,
			struct jose_error *err);

void jose_verified_free(struct jose_verified *v);

/*
 * The iss claim of a token NOT verified, to choose whose keys verify it:
 * nothing else may be read from it. 0 with the issuer in iss; -EINVAL with
 * err filled (a token that is not a compact JWS with a string iss).
 */
int jose_unverified_issuer(const char *token, size_t len, char *iss, size_t iss_size,
			   struct jose_error *err);

/* Whether text looks like a compact JWS (three base64url parts) rather than JSON. */
bool jose_is_compact(const char *text, size_t len);

#endif /* ACTGATE_SIGNALS_JOSE_H */
