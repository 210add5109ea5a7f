/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Signed tokens: keys made here with libcrypto, tokens signed here
 * (jws_sign.h), every algorithm taken and every refusal with its RFC 8935
 * code; key sets, their refresh, and the jti replay cache.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "jws_sign.h"
#include "signals/jose.h"
#include "signals/jti.h"
#include "util/base64url.h"

#define ISS "https://idp.example.com"
#define AUD "https://actgate.example.com"
#define NOW 1700000000

struct fixture {
	EVP_PKEY *rsa, *ec, *rsa2;
	struct jose_keys keys;
	char dir[64];
	char path[128];
};

static struct fixture *fx;

static char *jwks_of(const char *a, const char *b)
{
	char *out;

	assert_true(asprintf(&out, "{\"keys\":[%s%s%s]}", a, b ? "," : "", b ? b : "") > 0);
	return out;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The fixture's key set file: its RSA key as "r1" (any alg) and its EC key as "e1". */
static void write_keys(EVP_PKEY *rsa, const char *rsa_kid)
{
	char *r = jws_test_jwk(rsa, rsa_kid, NULL), *e = jws_test_jwk(fx->ec, "e1", "ES256");
	char *set = jwks_of(r, e);

	write_text(fx->path, set);
	free(r);
	free(e);
	free(set);
}

static int setup(void **state)
{
	char why[512];

	(void)state;
	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->rsa = jws_test_key("rsa");
	fx->rsa2 = jws_test_key("rsa");
	fx->ec = jws_test_key("ec");
	assert_non_null(fx->rsa);
	assert_non_null(fx->rsa2);
	assert_non_null(fx->ec);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/actgate-jose-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/jwks.json", fx->dir);
	write_keys(fx->rsa, "r1");
	if (jose_keys_load_file(&fx->keys, fx->path, why, sizeof(why)))
		fail_msg("%s", why);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	jose_keys_free(&fx->keys);
	unlink(fx->path);
	rmdir(fx->dir);
	EVP_PKEY_free(fx->rsa);
	EVP_PKEY_free(fx->rsa2);
	EVP_PKEY_free(fx->ec);
	free(fx);
	return 0;
}

static struct jose_expect expect(void)
{
	return (struct jose_expect){ .issuer = ISS, .audience = AUD, .typ = "secevent+jwt",
				     .now = NOW, .skew_s = 60, .max_age_s = 600,
				     .require_iat = true };
}

static const char *claims_text(void)
{
	return "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000000,\"jti\":\"j1\","
	       "\"events\":{}}";
}

static void verify_ok(const char *token, const struct jose_expect *x)
{
	struct jose_verified v;
	struct jose_error e;
	int err = jose_verify(&fx->keys, token, strlen(token), x, &v, &e);

	if (err)
		fail_msg("refused (%s): %s", e.code, e.reason);
	assert_null(e.code);
	assert_string_equal(json_string_value(json_object_get(v.claims, "jti")), "j1");
	assert_non_null(v.payload);
	assert_int_equal(strlen(v.payload), v.payload_len);
	jose_verified_free(&v);
}

static void refused(const char *token, const struct jose_expect *x, const char *code,
		    const char *reason_part)
{
	struct jose_verified v;
	struct jose_error e;

	assert_non_null(token);
	assert_int_equal(jose_verify(&fx->keys, token, strlen(token), x, &v, &e), -EINVAL);
	assert_null(v.claims);
	assert_null(v.payload);
	assert_non_null(e.code);
	if (strcmp(e.code, code) || !strstr(e.reason, reason_part))
		fail_msg("expected %s with \"%s\", got %s: %s", code, reason_part, e.code, e.reason);
}

static void test_algorithms(void **state)
{
	struct jose_expect x = expect();
	char *t;

	(void)state;
	t = jws_test_sign(fx->rsa, "RS256", "r1", NULL, claims_text());
	verify_ok(t, &x);
	free(t);
	t = jws_test_sign(fx->rsa, "PS256", "r1", NULL, claims_text());
	verify_ok(t, &x);
	free(t);
	t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims_text());
	verify_ok(t, &x);
	/* A trailing line break (a token in a file) is taken. */
	{
		char *nl;

		assert_true(asprintf(&nl, "%s\n", t) > 0);
		verify_ok(nl, &x);
		free(nl);
	}
	free(t);
	/* A verified token gives its claims. */
	{
		struct jose_error e;
		json_t *c = NULL;

		t = jws_test_sign(fx->rsa, "RS256", "r1", NULL, claims_text());
		assert_int_equal(jose_verify_compact(&fx->keys, t, strlen(t), &x, &c, &e), 0);
		assert_string_equal(json_string_value(json_object_get(c, "iss")), ISS);
		json_decref(c);
		free(t);
	}
}

static void test_refused_algorithms(void **state)
{
	struct jose_expect x = expect();
	char *t, *u;

	(void)state;
	t = jws_test_sign(fx->rsa, "none", "r1", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "signature is empty");
	/* alg none with a signature anyway (some libraries ignore it) */
	assert_true(asprintf(&u, "%sAAAA", t) > 0);
	refused(u, &x, JOSE_ERR_INVALID_REQUEST, "alg \"none\": an unsigned token is never taken");
	free(u);
	free(t);
	t = jws_test_sign(fx->rsa, "none", "r1", "{\"alg\":\"NONE\",\"kid\":\"r1\"}", claims_text());
	assert_true(asprintf(&u, "%sAAAA", t) > 0);
	refused(u, &x, JOSE_ERR_INVALID_REQUEST, "unsigned token");
	free(u);
	free(t);
	/* HS256 keyed with the RSA public key: the algorithm-confusion forgery. */
	t = jws_test_sign(fx->rsa, "HS256", "r1", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "HMAC is not taken");
	free(t);
	t = jws_test_sign(fx->rsa, "RS256", "r1", "{\"alg\":\"RS512\",\"kid\":\"r1\"}",
			  claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "alg \"RS512\" is not taken");
	free(t);
	t = jws_test_sign(fx->rsa, "RS256", "r1", "{\"kid\":\"r1\"}", claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "no \"alg\"");
	free(t);
	t = jws_test_sign(fx->rsa, "RS256", "r1",
			  "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"secevent+jwt\","
			  "\"crit\":[\"b64\"],\"b64\":false}", claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "\"crit\"");
	free(t);
}

static void test_key_mismatch(void **state)
{
	struct jose_expect x = expect();
	char *t;

	(void)state;
	/* An EC key's kid on an RSA-signed token. */
	t = jws_test_sign(fx->rsa, "RS256", "e1", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_KEY, "key \"e1\" is an EC P-256 key for ES256; the token says RS256");
	free(t);
	/* An RSA key's kid on an ES256 token. */
	t = jws_test_sign(fx->ec, "ES256", "r1", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_KEY, "is an RSA key; the token says ES256");
	free(t);
	/* Signed with another RSA key under a kid the set knows. */
	t = jws_test_sign(fx->rsa2, "RS256", "r1", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_KEY, "the RS256 signature does not verify with key \"r1\"");
	free(t);
	/* An RS256 signature presented as PS256. */
	{
		char *rs = jws_test_sign(fx->rsa, "RS256", "r1",
					 "{\"alg\":\"PS256\",\"kid\":\"r1\",\"typ\":\"secevent+jwt\"}",
					 claims_text());

		refused(rs, &x, JOSE_ERR_INVALID_KEY, "PS256 signature does not verify");
		free(rs);
	}
	/* No kid: the set has two keys, so none is chosen. */
	t = jws_test_sign(fx->rsa, "RS256", NULL, NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_KEY, "names no kid and the key set has 2 keys");
	free(t);
}

static void test_tampered(void **state)
{
	struct jose_expect x = expect();
	char *t, *dot, *forged, *p;

	(void)state;
	t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims_text());
	/* Another payload under the first one's signature. */
	{
		const char *other = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				    "\",\"iat\":1700000000,\"jti\":\"j2\",\"events\":{}}";

		p = jws_test_b64((const unsigned char *)other, strlen(other));
	}
	dot = strchr(t, '.');
	assert_true(asprintf(&forged, "%.*s.%s%s", (int)(dot - t), t, p, strrchr(t, '.')) > 0);
	refused(forged, &x, JOSE_ERR_INVALID_KEY, "signature does not verify");
	free(forged);
	free(p);
	/* The signature three bytes short (four characters out of its middle), and one bit changed. */
	assert_true(asprintf(&forged, "%.*s%s", (int)strlen(t) - 6, t, t + strlen(t) - 2) > 0);
	refused(forged, &x, JOSE_ERR_INVALID_KEY, "signature does not verify");
	free(forged);
	forged = strdup(t);
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
	refused(forged, &x, JOSE_ERR_INVALID_KEY, "signature does not verify");
	free(forged);
	free(t);
}

static void test_malformed(void **state)
{
	struct jose_expect x = expect();
	char *t, *bad;

	(void)state;
	refused("", &x, JOSE_ERR_INVALID_REQUEST, "empty");
	refused("abc.def", &x, JOSE_ERR_INVALID_REQUEST, "expected three dot-separated parts, found 2");
	refused("a.b.c.d.e", &x, JOSE_ERR_INVALID_REQUEST, "more than three");
	refused("{\"iss\":\"x\"}", &x, JOSE_ERR_INVALID_REQUEST, "found 1");
	refused("e30.e30.", &x, JOSE_ERR_INVALID_REQUEST, "signature is empty");
	refused("e30=.e30.AAAA", &x, JOSE_ERR_INVALID_REQUEST, "header is not base64url");
	refused("e+0.e30.AAAA", &x, JOSE_ERR_INVALID_REQUEST, "character 1");
	/* "e31" decodes to "{}" with a non-zero left-over bit: another spelling of e30. */
	refused("e31.e30.AAAA", &x, JOSE_ERR_INVALID_REQUEST, "length or last character");
	refused("WzFd.e30.AAAA", &x, JOSE_ERR_INVALID_REQUEST, "expected a JSON object, found an array");
	refused("bm90IGpzb24.e30.AAAA", &x, JOSE_ERR_INVALID_REQUEST, "header is not valid JSON");
	/* A header with "alg" twice: the strict reader refuses it. */
	t = jws_test_sign(fx->rsa, "RS256", "r1", "{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"r1\"}",
			  claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "header is not valid JSON");
	free(t);
	/* A signed payload that is not strict JSON is still refused. */
	t = jws_test_sign(fx->rsa, "RS256", "r1", NULL,
			  "{\"iss\":\"" ISS "\",\"iss\":\"https://evil.example\"}");
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "payload is not valid JSON");
	free(t);
	t = jws_test_sign(fx->rsa, "RS256", "r1", NULL, "[1]");
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "payload: expected a JSON object");
	free(t);
	/* A typ that is not a SET's. */
	t = jws_test_sign(fx->rsa, "RS256", "r1", "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}",
			  claims_text());
	refused(t, &x, JOSE_ERR_INVALID_REQUEST, "typ is \"JWT\"; expected \"secevent+jwt\"");
	free(t);
	t = jws_test_sign(fx->rsa, "RS256", "r1",
			  "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"application/SECEVENT+JWT\"}",
			  claims_text());
	verify_ok(t, &x);
	free(t);
	/* A JWE (five parts) is not taken. */
	bad = strdup("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d");
	refused(bad, &x, JOSE_ERR_INVALID_REQUEST, "JWE");
	free(bad);
}

static void claims_refused(const char *claims, const struct jose_expect *x, const char *code,
			   const char *part)
{
	char *t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims);

	refused(t, x, code, part);
	free(t);
}

static void claims_ok(const char *claims, const struct jose_expect *x)
{
	char *t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims);

	verify_ok(t, x);
	free(t);
}

static void test_claims(void **state)
{
	struct jose_expect x = expect();

	(void)state;
	claims_refused("{\"iss\":\"https://evil.example\",\"aud\":\"" AUD "\",\"iat\":1700000000,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_ISSUER,
		       "issuer \"https://evil.example\" is not \"" ISS "\"");
	claims_refused("{\"aud\":\"" AUD "\",\"iat\":1700000000,\"jti\":\"j1\"}", &x,
		       JOSE_ERR_INVALID_ISSUER, "no \"iss\"");
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"https://other\",\"iat\":1700000000,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_AUDIENCE, "not for audience");
	claims_refused("{\"iss\":\"" ISS "\",\"iat\":1700000000,\"jti\":\"j1\"}", &x,
		       JOSE_ERR_INVALID_AUDIENCE, "no \"aud\"");
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"],\"iat\":1700000000,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_AUDIENCE, "not for audience");
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":[\"a\",7],\"iat\":1700000000,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST, "\"aud\"[1]");
	claims_ok("{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"" AUD "\"],\"iat\":1700000000,"
		  "\"jti\":\"j1\"}", &x);
	/* iat: 60 s of skew ahead, 600 s (+ skew) behind. */
	claims_ok("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000060,\"jti\":\"j1\"}", &x);
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000061,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST, "61 s in the future");
	claims_ok("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1699999340,\"jti\":\"j1\"}", &x);
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1699999339,"
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST, "661 s in the past");
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"jti\":\"j1\"}", &x,
		       JOSE_ERR_INVALID_REQUEST, "no \"iat\"");
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":\"1700000000\","
		       "\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST, "claim \"iat\"");
	/* exp, when present, must be ahead (less the skew). */
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000000,"
		       "\"exp\":1699999940,\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST,
		       "expired 60 s ago");
	claims_ok("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000000,"
		  "\"exp\":1699999941,\"jti\":\"j1\"}", &x);
	claims_refused("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1700000000,"
		       "\"nbf\":1700000100,\"jti\":\"j1\"}", &x, JOSE_ERR_INVALID_REQUEST,
		       "not valid for 100 s more");
	x.require_exp = true;
	claims_refused(claims_text(), &x, JOSE_ERR_INVALID_REQUEST, "no \"exp\"");
	/* Without an issuer or audience to expect, neither is checked. */
	x = expect();
	x.issuer = NULL;
	x.audience = NULL;
	claims_ok("{\"iss\":\"https://any\",\"iat\":1700000000,\"jti\":\"j1\"}", &x);
}

/* A refresh that counts its calls and reads the fixture's file. */
static int counted_refresh(void *ctx, struct jwks *fresh, char *why, size_t why_size)
{
	(*(int *)ctx)++;
	return jwks_load_file(fresh, fx->path, why, why_size);
}

static void test_rotation(void **state)
{
	struct jose_expect x = expect();
	struct jose_keys keys = { 0 };
	char why[512], *t;
	int calls = 0;

	(void)state;
	assert_int_equal(jwks_load_file(&keys.set, fx->path, why, sizeof(why)), 0);
	keys.refresh = counted_refresh;
	keys.refresh_ctx = &calls;
	keys.refresh_interval_s = 30;
	/* The transmitter rotates to rsa2 as "r2": unknown until the set is read again. */
	write_keys(fx->rsa2, "r2");
	t = jws_test_sign(fx->rsa2, "RS256", "r2", NULL, claims_text());
	{
		char *old = jws_test_sign(fx->rsa, "RS256", "r1", NULL, claims_text());
		struct jose_verified v;
		struct jose_error e;

		assert_int_equal(jose_verify(&keys, t, strlen(t), &x, &v, &e), 0);
		jose_verified_free(&v);
		assert_int_equal(calls, 1);
		/* The old key is gone with the old set. */
		x.now += 10;
		assert_int_equal(jose_verify(&keys, old, strlen(old), &x, &v, &e), -EINVAL);
		assert_string_equal(e.code, JOSE_ERR_INVALID_KEY);
		assert_non_null(strstr(e.reason, "kid \"r1\" is not in the key set (the keys "
					"were read again too recently"));
		/* At most one refresh per 30 s: made-up kids cost no read each. */
		assert_int_equal(calls, 1);
		x.now += 30;
		assert_int_equal(jose_verify(&keys, old, strlen(old), &x, &v, &e), -EINVAL);
		assert_non_null(strstr(e.reason, "after reading the keys again"));
		assert_int_equal(calls, 2);
		free(old);
		jwks_free(&keys.set);
	}
	free(t);
	/* A refresh that fails keeps the keys in use. */
	write_text(fx->path, "{\"keys\": [");
	x = expect();
	x.now += 1000;
	x.max_age_s = 0;
	t = jws_test_sign(fx->rsa, "RS256", "r9", NULL, claims_text());
	refused(t, &x, JOSE_ERR_INVALID_KEY, "reading the keys again failed");
	free(t);
	t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims_text());
	verify_ok(t, &x);
	free(t);
	write_keys(fx->rsa, "r1");
}

static void jwks_refused(const char *text, const char *part)
{
	struct jwks set;
	char why[512];

	assert_int_equal(jwks_parse(&set, text, strlen(text), why, sizeof(why)), -EINVAL);
	assert_int_equal(set.count, 0);
	if (!strstr(why, part))
		fail_msg("expected \"%s\", got: %s", part, why);
}

static void test_jwks(void **state)
{
	char *r = jws_test_jwk(fx->rsa, "r1", "RS256"), *e = jws_test_jwk(fx->ec, "e1", NULL);
	char *text, why[512], bad[600];
	EVP_PKEY *small = jws_test_key("rsa1024");
	struct jwks set;

	(void)state;
	/* Other types, other uses and other algorithms are skipped, not used. */
	assert_true(asprintf(&text, "{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},"
				    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"},%s]}", r, e) > 0);
	/* "k" is a private member: an oct key in the set refuses it. */
	jwks_refused(text, "keys[1]: holds the private member \"k\"");
	free(text);
	assert_true(asprintf(&text, "{\"keys\":[%s,{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
				    "\"x\":\"AAAA\"},{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\","
				    "\"e\":\"AQAB\"},%s]}", r, e) > 0);
	assert_int_equal(jwks_parse(&set, text, strlen(text), why, sizeof(why)), 0);
	assert_int_equal(set.count, 2);
	assert_int_equal(set.skipped, 2);
	assert_string_equal(jwks_find(&set, "r1")->alg, "RS256");
	assert_int_equal(jwks_find(&set, "e1")->type, JWK_EC_P256);
	assert_null(jwks_find(&set, "nope"));
	assert_null(jwks_find(&set, NULL));
	jwks_free(&set);
	free(text);
	/* A single JWK is a set of one, found without a kid. */
	assert_int_equal(jwks_parse(&set, e, strlen(e), why, sizeof(why)), 0);
	assert_non_null(jwks_find(&set, NULL));
	jwks_free(&set);
	/* Two keys with one kid. */
	text = jwks_of(r, r);
	jwks_refused(text, "keys[1].kid: \"r1\" names two keys");
	free(text);
	/* An RSA key under 2048 bits. */
	{
		char *s = jws_test_jwk(small, "s", NULL);

		text = jwks_of(s, NULL);
		jwks_refused(text, "a 1024-bit modulus");
		free(text);
		free(s);
	}
	/* An EC point that is not on the curve. */
	snprintf(bad, sizeof(bad), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"x\","
		 "\"x\":\"%s\",\"y\":\"%s\"}]}",
		 "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	jwks_refused(bad, "keys[0]: not a valid");
	jwks_refused("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
		     "keys[0].x: 3 bytes; a P-256 coordinate is 32");
	jwks_refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}", "keys[0]: missing required member \"e\"");
	jwks_refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"A+AB\",\"e\":\"AQAB\"}]}", "keys[0].n: not base64url");
	jwks_refused("{\"keys\":[{\"kty\":\"RSA\",\"kid\":7}]}", "keys[0].kid: expected a string");
	jwks_refused("{\"keys\":{}}", "keys: expected an array");
	jwks_refused("{\"keys\":[],\"keys\":[]}", "duplicate");
	jwks_refused("[]", "expected a JWK Set");
	jwks_refused("{}", "missing required member \"keys\"");
	free(r);
	free(e);
	EVP_PKEY_free(small);
}

static void test_unverified_issuer(void **state)
{
	struct jose_error e;
	char iss[256], *t;

	(void)state;
	t = jws_test_sign(fx->ec, "ES256", "e1", NULL, claims_text());
	assert_int_equal(jose_unverified_issuer(t, strlen(t), iss, sizeof(iss), &e), 0);
	assert_string_equal(iss, ISS);
	assert_true(jose_is_compact(t, strlen(t)));
	free(t);
	t = jws_test_sign(fx->ec, "ES256", "e1", NULL, "{\"jti\":\"x\"}");
	assert_int_equal(jose_unverified_issuer(t, strlen(t), iss, sizeof(iss), &e), -EINVAL);
	assert_string_equal(e.code, JOSE_ERR_INVALID_ISSUER);
	free(t);
	assert_false(jose_is_compact("{\"iss\":1}", 9));
	assert_false(jose_is_compact("a.b", 3));
	assert_true(jose_is_compact("a.b.c\n", 6));
}

static void test_jti_cache(void **state)
{
	struct jti_cache c;

	(void)state;
	assert_int_equal(jti_cache_init(&c, 3), 0);
	assert_int_equal(jti_cache_add(&c, ISS, "a", 100, 10), 0);
	assert_int_equal(jti_cache_seen(&c, ISS, "a", 10), 1);
	assert_int_equal(jti_cache_add(&c, ISS, "a", 100, 20), -EEXIST);
	/* The same jti from another issuer is another token. */
	assert_int_equal(jti_cache_seen(&c, "https://other", "a", 10), 0);
	assert_int_equal(jti_cache_add(&c, "https://other", "a", 50, 10), 0);
	/* issuer "ab" + jti "c" is not issuer "a" + jti "bc". */
	assert_int_equal(jti_cache_add(&c, "x", "yz", 200, 10), 0);
	assert_int_equal(jti_cache_seen(&c, "xy", "z", 10), 0);
	/* Full of live entries: refused, nothing forgotten. */
	assert_int_equal(jti_cache_add(&c, ISS, "b", 100, 20), -ENOSPC);
	assert_int_equal(jti_cache_seen(&c, ISS, "a", 20), 1);
	/* Past its expiry an entry is gone and its slot free. */
	assert_int_equal(jti_cache_seen(&c, "https://other", "a", 50), 0);
	assert_int_equal(jti_cache_add(&c, ISS, "b", 100, 60), 0);
	assert_int_equal(c.count, 3);
	assert_int_equal(jti_cache_add(&c, ISS, "", 100, 60), -EINVAL);
	assert_int_equal(jti_cache_expire(&c, 1000), 3);
	assert_int_equal(c.count, 0);
	assert_int_equal(jti_cache_add(&c, ISS, "a", 2000, 1000), 0);
	jti_cache_free(&c);
}

static void test_base64url(void **state)
{
	unsigned char out[16];
	char enc[32];
	size_t n, bad;

	(void)state;
	for (size_t len = 0; len <= 7; len++) {
		const unsigned char in[] = "\xfb\xff\x00\x10\x83\x7f\x01";

		base64url_encode(in, len, enc);
		assert_int_equal(strlen(enc), BASE64URL_ENCODED_LEN(len));
		assert_int_equal(base64url_decode(enc, strlen(enc), out, &n, &bad), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
	}
	base64url_encode((const unsigned char *)"\xfb\xff", 2, enc);
	assert_string_equal(enc, "-_8");
	assert_int_equal(base64url_decode("-_9", 3, out, &n, &bad), -EINVAL);
	assert_int_equal(base64url_decode("ab=", 3, out, &n, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	assert_int_equal(base64url_decode("abcde", 5, out, &n, &bad), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_refused_algorithms),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_jwks),
		cmocka_unit_test(test_unverified_issuer),
		cmocka_unit_test(test_jti_cache),
		cmocka_unit_test(test_base64url),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
