/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A delegation token (docs/delegation.md, "The principal from outside"): an
 * OAuth token-exchange style JWT (RFC 8693) that says who commissioned a
 * workload. `actgate run --delegation-token FILE` carries it; actgated
 * verifies it against its delegation trust file (delegation_trust: the one
 * issuer, the audience and the JWKS) with signals/jose.h before the workload
 * starts: signature, iss, aud, exp (required) and nbf. Its sub becomes the
 * workload's principal; its act chain (RFC 8693 section 4.1) and jti are
 * recorded. A may_act claim (section 4.2) names who may act: its sub must be
 * the workload's name. Without a trust file every token is refused: a
 * principal is never taken on a token nobody can check.
 */
#ifndef ACTGATE_SIGNALS_DELEGTOKEN_H
#define ACTGATE_SIGNALS_DELEGTOKEN_H

#include <stddef.h>
#include <stdint.h>

/* How deep an act claim may nest, and how long a token file may be. */
#define DELEGTOKEN_ACT_MAX 8
#define DELEGTOKEN_MAX_BYTES (16 * 1024)

struct delegation_token {
	char *issuer;  /* iss */
	char *subject; /* sub: the principal */
	char *jti;     /* "" when the token has none */
	char *act;     /* the actors, outermost (earliest) first, joined by ','; "" when none */
	int64_t exp;
};

/*
 * Verify token (len bytes) for workload at time now (seconds) against the
 * trust file at trust_path (NULL: none configured). 0 with out filled
 * (delegation_token_free it); -EPERM (no trust configured), -EINVAL (the
 * token or the trust file refused) with the reason in why; -ENOMEM.
 */
int delegation_token_verify(const char *trust_path, const char *token, size_t len,
			    const char *workload, int64_t now, struct delegation_token *out,
			    char *why, size_t why_size);

void delegation_token_free(struct delegation_token *t);

/* "SUB[iss=ISS;act=A,B;jti=J]": the principal link of a chain (docs/journal-format.md). */
char *delegation_token_link(const struct delegation_token *t);

#endif /* ACTGATE_SIGNALS_DELEGTOKEN_H */
