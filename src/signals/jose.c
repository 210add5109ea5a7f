/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The signature is checked before any claim is looked at: what an unsigned
 * payload says (a wrong aud, an old iat) is no one's word, so a forged token
 * is always refused as forged. Which key verifies is decided by the key set
 * and the header's alg together: an RSA key verifies only RS256/PS256, an
 * EC P-256 key only ES256, and a key published with an alg only that alg,
 * so a public key can never be used as an HMAC secret or under another
 * scheme than its owner chose.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "signals/jose.h"
#include "util/base64url.h"
#include "util/json.h"

/* The header's size bound: a header is a few members. */
#define JOSE_HEADER_MAX 4096

enum jose_alg { ALG_RS256, ALG_PS256, ALG_ES256 };

static const char *const alg_names[] = { [ALG_RS256] = "RS256", [ALG_PS256] = "PS256",
					 [ALG_ES256] = "ES256" };

static int fail(struct jose_error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct jose_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int out_of_memory(struct jose_error *e)
{
	e->code = JOSE_ERR_INVALID_REQUEST;
	snprintf(e->reason, sizeof(e->reason), "out of memory");
	return -ENOMEM;
}

/* A text for a message: at most 64 bytes of s, bytes outside printable ASCII as '?'. */
static const char *shown(const char *s, char buf[72])
{
	size_t i = 0;

	for (; s[i] && i < 64; i++)
		buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

struct parts {
	const char *text[3]; /* header, payload, signature */
	size_t len[3];
	size_t signing_len; /* header '.' payload: what the signature covers */
};

static int split(const char *token, size_t len, struct parts *p, struct jose_error *e)
{
	size_t start = 0, n = 0;

	/* A token read from a file or a body may end with a line break. */
	while (len && isspace((unsigned char)token[len - 1]))
		len--;
	if (len == 0)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token is empty");
	if (len > JOSE_TOKEN_MAX)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "a token is at most %d bytes; this is %zu",
			    JOSE_TOKEN_MAX, len);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && token[i] != '.')
			continue;
		if (n == 3)
			return fail(e, JOSE_ERR_INVALID_REQUEST,
				    "not a compact JWS: more than three dot-separated parts "
				    "(an encrypted JWE is not taken)");
		p->text[n] = token + start;
		p->len[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != 3)
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "not a compact JWS: expected three dot-separated parts, found %zu", n);
	for (size_t i = 0; i < 3; i++)
		if (p->len[i] == 0)
			return fail(e, JOSE_ERR_INVALID_REQUEST, "not a compact JWS: its %s is empty%s",
				    i == 0 ? "header" : i == 1 ? "payload" : "signature",
				    i == 2 ? " (an unsigned token is not taken)" : "");
	p->signing_len = p->len[0] + 1 + p->len[1];
	return 0;
}

/* Decode one part into a new NUL-terminated buffer. */
static int decode_part(const struct parts *p, int i, unsigned char **out, size_t *out_len,
		       struct jose_error *e)
{
	static const char *const names[] = { "header", "payload", "signature" };
	unsigned char *buf = malloc(BASE64URL_DECODED_MAX(p->len[i]) + 1);
	size_t bad;

	if (!buf)
		return out_of_memory(e);
	if (base64url_decode(p->text[i], p->len[i], buf, out_len, &bad)) {
		free(buf);
		if (bad == p->len[i])
			return fail(e, JOSE_ERR_INVALID_REQUEST,
				    "the token's %s is not base64url: its length or last "
				    "character is wrong", names[i]);
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "the token's %s is not base64url (RFC 4648 section 5, no padding): "
			    "character %zu", names[i], bad);
	}
	buf[*out_len] = '\0';
	*out = buf;
	return 0;
}

/* A decoded part as strict JSON, an object: the value is the caller's. */
static int part_json(const char *what, const unsigned char *text, size_t len, json_t **out,
		     struct jose_error *e)
{
	struct json_doc doc = { 0 };
	struct json_read_error re;
	int err = json_doc_read(&doc, (const char *)text, len, &re);

	if (err == -ENOMEM)
		return out_of_memory(e);
	if (err)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token's %s is not valid JSON: line %u, "
			    "column %u: %s", what, re.line, re.col, re.what);
	if (!json_is_object(doc.root)) {
		fail(e, JOSE_ERR_INVALID_REQUEST, "the token's %s: expected a JSON object, found %s",
		     what, json_describe(doc.root));
		json_doc_free(&doc);
		return -EINVAL;
	}
	*out = doc.root;
	return 0;
}

static int check_header(json_t *h, const struct jose_expect *x, enum jose_alg *alg,
			const char **kid, struct jose_error *e)
{
	json_t *a = json_object_get(h, "alg"), *k = json_object_get(h, "kid");
	json_t *t = json_object_get(h, "typ");
	const char *name, *typ;
	char buf[72];
	size_t i = 0;

	if (!a || !json_is_string(a))
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token's header has no \"alg\" string");
	name = json_string_value(a);
	if (!strcasecmp(name, "none"))
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "alg \"%s\": an unsigned token is never taken", shown(name, buf));
	if (!strncmp(name, "HS", 2))
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "alg \"%s\": HMAC is not taken (a transmitter's keys are public; "
			    "use RS256, PS256 or ES256)", shown(name, buf));
	while (i < sizeof(alg_names) / sizeof(alg_names[0]) && strcmp(name, alg_names[i]))
		i++;
	if (i == sizeof(alg_names) / sizeof(alg_names[0]))
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "alg \"%s\" is not taken; actgate verifies RS256, PS256 and ES256",
			    shown(name, buf));
	*alg = (enum jose_alg)i;
	if (json_object_get(h, "crit"))
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "the token's header has \"crit\": actgate understands no JWS extension");
	if (k && (!json_is_string(k) || json_string_length(k) == 0 ||
		  json_string_length(k) > JWK_KID_MAX))
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "the token's \"kid\": expected a string of 1 to %d bytes", JWK_KID_MAX);
	*kid = k ? json_string_value(k) : NULL;
	if (t && !json_is_string(t))
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token's \"typ\": expected a string");
	if (x->typ) {
		typ = t ? json_string_value(t) : "";
		/* RFC 7515 4.1.9: "application/" may be left out; media types are case-insensitive. */
		if (!strncasecmp(typ, "application/", 12))
			typ += 12;
		if (strcasecmp(typ, x->typ))
			return fail(e, JOSE_ERR_INVALID_REQUEST,
				    "the token's typ is \"%s\"; expected \"%s\"",
				    t ? shown(json_string_value(t), buf) : "", x->typ);
	}
	return 0;
}

/* The key for kid, refreshing the set once when it is not there. */
static int find_key(struct jose_keys *keys, const char *kid, const struct jose_expect *x,
		    const struct jwk **key, struct jose_error *e)
{
	char why[512], buf[72];
	struct jwks fresh = { 0 };
	const char *after = "";
	int err;

	*key = jwks_find(&keys->set, kid);
	if (*key)
		return 0;
	if (keys->refresh && !(keys->refresh_interval_s && keys->refreshed &&
			       x->now - keys->refreshed_at < keys->refresh_interval_s)) {
		keys->refreshed = true;
		keys->refreshed_at = x->now;
		err = keys->refresh(keys->refresh_ctx, &fresh, why, sizeof(why));
		if (err == -ENOMEM) {
			jwks_free(&fresh);
			return out_of_memory(e);
		}
		if (err) {
			jwks_free(&fresh);
			return fail(e, JOSE_ERR_INVALID_KEY,
				    "kid \"%s\" is not in the key set, and reading the keys again "
				    "failed: %s", kid ? shown(kid, buf) : "", why);
		}
		jwks_move(&keys->set, &fresh);
		*key = jwks_find(&keys->set, kid);
		if (*key)
			return 0;
		after = " (after reading the keys again)";
	} else if (keys->refresh) {
		after = " (the keys were read again too recently to try once more)";
	}
	if (!kid)
		return fail(e, JOSE_ERR_INVALID_KEY,
			    "the token names no kid and the key set has %zu keys%s",
			    keys->set.count, after);
	return fail(e, JOSE_ERR_INVALID_KEY, "kid \"%s\" is not in the key set%s",
		    shown(kid, buf), after);
}

static bool key_fits(const struct jwk *k, enum jose_alg alg)
{
	if (k->alg && strcmp(k->alg, alg_names[alg]))
		return false;
	return alg == ALG_ES256 ? k->type == JWK_EC_P256 : k->type == JWK_RSA;
}

/* ES256 signs r || s (RFC 7518 3.4); OpenSSL verifies a DER ECDSA-Sig-Value. */
static int ecdsa_der(const unsigned char *sig, unsigned char **der, size_t *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	int n;

	*der = NULL;
	if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return -ENOMEM;
	}
	n = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -ENOMEM;
	*der_len = (size_t)n;
	return 0;
}

/* 1: the signature holds; 0: it does not; -ENOMEM. */
static int signature_holds(const struct jwk *k, enum jose_alg alg, const char *input,
			   size_t input_len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	int ok = 0;

	if (!md)
		return -ENOMEM;
	if (alg == ALG_ES256) {
		if (sig_len != 64)
			goto out;
		if (ecdsa_der(sig, &der, &sig_len)) {
			ok = -ENOMEM;
			goto out;
		}
		sig = der;
	} else if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
		goto out;
	}
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k->pkey) != 1)
		goto out;
	if (alg == ALG_RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	/* RFC 7518 3.5: MGF1 with SHA-256, a salt as long as the hash. */
	if (alg == ALG_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, input_len) == 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return ok;
}

/* A NumericDate claim: 0 with *out and *present, or -EINVAL. */
static int time_claim(json_t *claims, const char *name, int64_t *out, bool *present,
		      struct jose_error *e)
{
	json_t *v = json_object_get(claims, name);
	double d;

	*present = v != NULL;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	d = json_is_real(v) ? json_real_value(v) : -1;
	if (d < 0 || d > 9e15)
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "claim \"%s\": expected seconds since the epoch, found %s", name,
			    json_describe(v));
	*out = (int64_t)d;
	return 0;
}

static int check_audience(json_t *aud, const char *want, struct jose_error *e)
{
	json_t *a;
	size_t i;

	if (!aud)
		return fail(e, JOSE_ERR_INVALID_AUDIENCE, "the token has no \"aud\"; expected \"%s\"",
			    want);
	if (json_is_string(aud)) {
		if (!strcmp(json_string_value(aud), want))
			return 0;
	} else if (json_is_array(aud)) {
		json_array_foreach(aud, i, a) {
			if (!json_is_string(a))
				return fail(e, JOSE_ERR_INVALID_REQUEST,
					    "claim \"aud\"[%zu]: expected a string, found %s", i,
					    json_describe(a));
			if (!strcmp(json_string_value(a), want))
				return 0;
		}
	} else {
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "claim \"aud\": expected a string or an array, found %s",
			    json_describe(aud));
	}
	return fail(e, JOSE_ERR_INVALID_AUDIENCE, "the token is not for audience \"%s\"", want);
}

static int check_claims(json_t *c, const struct jose_expect *x, struct jose_error *e)
{
	json_t *iss = json_object_get(c, "iss");
	int64_t iat = 0, exp = 0, nbf = 0;
	bool has_iat, has_exp, has_nbf;
	char buf[72];
	int err;

	if (iss && !json_is_string(iss))
		return fail(e, JOSE_ERR_INVALID_REQUEST, "claim \"iss\": expected a string, found %s",
			    json_describe(iss));
	if (x->issuer && !iss)
		return fail(e, JOSE_ERR_INVALID_ISSUER, "the token has no \"iss\"; expected \"%s\"",
			    x->issuer);
	if (x->issuer && strcmp(json_string_value(iss), x->issuer))
		return fail(e, JOSE_ERR_INVALID_ISSUER, "issuer \"%s\" is not \"%s\"",
			    shown(json_string_value(iss), buf), x->issuer);
	if (x->audience) {
		err = check_audience(json_object_get(c, "aud"), x->audience, e);
		if (err)
			return err;
	}
	err = time_claim(c, "iat", &iat, &has_iat, e);
	if (!err)
		err = time_claim(c, "exp", &exp, &has_exp, e);
	if (!err)
		err = time_claim(c, "nbf", &nbf, &has_nbf, e);
	if (err)
		return err;
	if (x->require_iat && !has_iat)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token has no \"iat\"");
	if (x->require_exp && !has_exp)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token has no \"exp\"");
	if (has_iat && iat > x->now + x->skew_s)
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "iat is %lld s in the future (at most %lld s of clock skew is taken)",
			    (long long)(iat - x->now), (long long)x->skew_s);
	if (has_iat && x->max_age_s && iat < x->now - x->max_age_s - x->skew_s)
		return fail(e, JOSE_ERR_INVALID_REQUEST,
			    "iat is %lld s in the past (tokens are taken for %lld s)",
			    (long long)(x->now - iat), (long long)x->max_age_s);
	if (has_exp && x->now >= exp + x->skew_s)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token expired %lld s ago",
			    (long long)(x->now - exp));
	if (has_nbf && nbf > x->now + x->skew_s)
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token is not valid for %lld s more",
			    (long long)(nbf - x->now));
	return 0;
}

int jose_verify(struct jose_keys *keys, const char *token, size_t len,
		const struct jose_expect *expect, struct jose_verified *out,
		struct jose_error *e)
{
	unsigned char *header_text = NULL, *sig = NULL, *payload = NULL;
	size_t header_len, sig_len, payload_len;
	const struct jwk *key = NULL;
	const char *kid = NULL;
	enum jose_alg alg = ALG_RS256;
	struct parts p;
	char buf[72];
	int err, holds;

	*out = (struct jose_verified){ 0 };
	*e = (struct jose_error){ 0 };
	err = split(token, len, &p, e);
	if (err)
		return err;
	if (p.len[0] > BASE64URL_ENCODED_LEN(JOSE_HEADER_MAX))
		return fail(e, JOSE_ERR_INVALID_REQUEST, "the token's header is over %d bytes",
			    JOSE_HEADER_MAX);
	err = decode_part(&p, 0, &header_text, &header_len, e);
	if (!err)
		err = part_json("header", header_text, header_len, &out->header, e);
	if (!err)
		err = check_header(out->header, expect, &alg, &kid, e);
	if (!err)
		err = find_key(keys, kid, expect, &key, e);
	if (err)
		goto out;
	if (!key_fits(key, alg)) {
		err = fail(e, JOSE_ERR_INVALID_KEY, "key \"%s\" is %s%s%s; the token says %s",
			   key->kid ? shown(key->kid, buf) : "(no kid)",
			   key->type == JWK_RSA ? "an RSA key" : "an EC P-256 key",
			   key->alg ? " for " : "", key->alg ? key->alg : "", alg_names[alg]);
		goto out;
	}
	err = decode_part(&p, 2, &sig, &sig_len, e);
	if (err)
		goto out;
	holds = signature_holds(key, alg, token, p.signing_len, sig, sig_len);
	if (holds < 0) {
		err = out_of_memory(e);
		goto out;
	}
	if (!holds) {
		err = fail(e, JOSE_ERR_INVALID_KEY, "the %s signature does not verify with key \"%s\"",
			   alg_names[alg], key->kid ? shown(key->kid, buf) : "(no kid)");
		goto out;
	}
	err = decode_part(&p, 1, &payload, &payload_len, e);
	if (!err)
		err = part_json("payload", payload, payload_len, &out->claims, e);
	if (!err)
		err = check_claims(out->claims, expect, e);
	if (err)
		goto out;
	out->payload = (char *)payload;
	out->payload_len = payload_len;
	payload = NULL;
	snprintf(out->alg, sizeof(out->alg), "%s", alg_names[alg]);
	out->key = key;
out:
	free(header_text);
	free(sig);
	free(payload);
	if (err)
		jose_verified_free(out);
	return err;
}

int jose_verify_compact(struct jose_keys *keys, const char *token, size_t len,
			const struct jose_expect *expect, struct json_t **claims,
			struct jose_error *err)
{
	struct jose_verified v;
	int ret = jose_verify(keys, token, len, expect, &v, err);

	*claims = NULL;
	if (ret)
		return ret;
	*claims = v.claims;
	v.claims = NULL;
	jose_verified_free(&v);
	return 0;
}

void jose_verified_free(struct jose_verified *v)
{
	json_decref(v->header);
	json_decref(v->claims);
	free(v->payload);
	*v = (struct jose_verified){ 0 };
}

int jose_unverified_issuer(const char *token, size_t len, char *iss, size_t iss_size,
			   struct jose_error *e)
{
	unsigned char *payload = NULL;
	json_t *claims = NULL, *v;
	size_t payload_len;
	struct parts p;
	int err;

	*e = (struct jose_error){ 0 };
	err = split(token, len, &p, e);
	if (!err)
		err = decode_part(&p, 1, &payload, &payload_len, e);
	if (!err)
		err = part_json("payload", payload, payload_len, &claims, e);
	if (err)
		goto out;
	v = json_object_get(claims, "iss");
	if (!v || !json_is_string(v))
		err = fail(e, JOSE_ERR_INVALID_ISSUER, "the token has no \"iss\" string");
	else if (json_string_length(v) >= iss_size)
		err = fail(e, JOSE_ERR_INVALID_ISSUER, "the token's \"iss\" is over %zu bytes",
			   iss_size - 1);
	else
		snprintf(iss, iss_size, "%s", json_string_value(v));
out:
	json_decref(claims);
	free(payload);
	return err;
}

bool jose_is_compact(const char *text, size_t len)
{
	size_t dots = 0;

	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.')
			dots++;
		else if (!isalnum(c) && c != '-' && c != '_')
			return false;
	}
	return dots == 2;
}

/* The refresh of a key set read from a file: the same file, read again. */
static int refresh_file(void *ctx, struct jwks *fresh, char *why, size_t why_size)
{
	return jwks_load_file(fresh, ctx, why, why_size);
}

int jose_keys_load_file(struct jose_keys *keys, const char *path, char *why, size_t why_size)
{
	char *copy;
	int err;

	*keys = (struct jose_keys){ 0 };
	copy = strdup(path);
	if (!copy) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = jwks_load_file(&keys->set, path, why, why_size);
	if (err) {
		free(copy);
		return err;
	}
	keys->refresh = refresh_file;
	keys->refresh_ctx = copy;
	return 0;
}

void jose_keys_free(struct jose_keys *keys)
{
	jwks_free(&keys->set);
	if (keys->refresh == refresh_file)
		free(keys->refresh_ctx);
	*keys = (struct jose_keys){ 0 };
}
