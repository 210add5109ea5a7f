/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Test-only signing: keys made with libcrypto, their public JWK, and compact
 * JWS tokens signed with them (RS256, PS256, ES256), or deliberately wrong
 * (alg none, HS256 keyed with a public key). Shared by the unit tests and by
 * actprobe's jws-sign (the VM has no openssl command). Never part of actgate.
 * Functions return NULL on failure; strings are malloc'd.
 */
#ifndef ACTGATE_TESTS_JWS_SIGN_H
#define ACTGATE_TESTS_JWS_SIGN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>


/* "rsa" (2048 bits), "rsa1024" (too small: refused), or "ec" (P-256). */
static inline EVP_PKEY *jws_test_key(const char *type)
{
	if (!strcmp(type, "rsa"))
		return EVP_RSA_gen(2048);
	if (!strcmp(type, "rsa1024"))
		return EVP_RSA_gen(1024);
	if (!strcmp(type, "ec"))
		return EVP_EC_gen("P-256");
	return NULL;
}

/* base64url without padding: its own copy, so that actprobe needs no libactgate. */
static inline char *jws_test_b64(const unsigned char *in, size_t n)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 5);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
	return out;
}

static inline char *jws_test_bn_b64(const EVP_PKEY *key, const char *param, int pad)
{
	unsigned char buf[1024];
	BIGNUM *bn = NULL;
	char *out = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return NULL;
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	if (n > 0)
		out = jws_test_b64(buf, (size_t)n);
	BN_free(bn);
	return out;
}

/* The key's public JWK as a JSON object; alg NULL leaves "alg" out, kid NULL "kid". */
static inline char *jws_test_jwk(const EVP_PKEY *key, const char *kid, const char *alg)
{
	char *a = NULL, *b = NULL, *out = NULL, kidm[300] = "", algm[64] = "";
	int ec = EVP_PKEY_is_a(key, "EC");

	a = jws_test_bn_b64(key, ec ? OSSL_PKEY_PARAM_EC_PUB_X : OSSL_PKEY_PARAM_RSA_N, ec ? 32 : 0);
	b = jws_test_bn_b64(key, ec ? OSSL_PKEY_PARAM_EC_PUB_Y : OSSL_PKEY_PARAM_RSA_E, ec ? 32 : 0);
	if (kid)
		snprintf(kidm, sizeof(kidm), "\"kid\":\"%s\",", kid);
	if (alg)
		snprintf(algm, sizeof(algm), "\"alg\":\"%s\",", alg);
	if (a && b && ec &&
	    asprintf(&out, "{%s%s\"use\":\"sig\",\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
		     "\"y\":\"%s\"}", kidm, algm, a, b) < 0)
		out = NULL;
	if (a && b && !ec &&
	    asprintf(&out, "{%s%s\"use\":\"sig\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", kidm,
		     algm, a, b) < 0)
		out = NULL;
	free(a);
	free(b);
	return out;
}

/* The signature of input with key under alg, base64url; "" for none. */
static inline char *jws_test_signature(EVP_PKEY *key, const char *alg, const char *input)
{
	unsigned char sig[1024], *der = NULL, raw[64];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!strcmp(alg, "none"))
		return strdup("");
	if (!strcmp(alg, "HS256")) {
		/* The classic confusion: the public key's encoding used as an HMAC secret. */
		unsigned int len = 0;
		int n = i2d_PUBKEY(key, &der);

		if (n <= 0 || !HMAC(EVP_sha256(), der, n, (const unsigned char *)input,
				    strlen(input), sig, &len))
			len = 0;
		OPENSSL_free(der);
		return len ? jws_test_b64(sig, len) : NULL;
	}
	md = EVP_MD_CTX_new();
	if (!md)
		return NULL;
	ok = EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1;
	if (ok && !strcmp(alg, "RS256"))
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok && !strcmp(alg, "PS256"))
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input,
				  strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return NULL;
	if (!strcmp(alg, "ES256")) {
		/* DER ECDSA-Sig-Value to r || s (RFC 7518 3.4). */
		const unsigned char *p = sig;
		ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);

		if (!s)
			return NULL;
		ok = BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32) == 32 &&
		     BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32) == 32;
		ECDSA_SIG_free(s);
		return ok ? jws_test_b64(raw, 64) : NULL;
	}
	return jws_test_b64(sig, sig_len);
}

/*
 * A compact JWS of payload (JSON text) signed with key under alg: the header
 * is header_json when given, else {"alg":ALG,"kid":KID,"typ":"secevent+jwt"}
 * (kid NULL leaves it out).
 */
static inline char *jws_test_sign(EVP_PKEY *key, const char *alg, const char *kid,
				  const char *header_json, const char *payload)
{
	char header[512], *h = NULL, *p = NULL, *input = NULL, *sig = NULL, *out = NULL;

	if (!header_json) {
		if (kid)
			snprintf(header, sizeof(header),
				 "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"secevent+jwt\"}", alg, kid);
		else
			snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"secevent+jwt\"}",
				 alg);
		header_json = header;
	}
	h = jws_test_b64((const unsigned char *)header_json, strlen(header_json));
	p = jws_test_b64((const unsigned char *)payload, strlen(payload));
	if (h && p && asprintf(&input, "%s.%s", h, p) < 0)
		input = NULL;
	if (input)
		sig = jws_test_signature(key, alg, input);
	if (sig && asprintf(&out, "%s.%s", input, sig) < 0)
		out = NULL;
	free(h);
	free(p);
	free(input);
	free(sig);
	return out;
}

#endif /* ACTGATE_TESTS_JWS_SIGN_H */
