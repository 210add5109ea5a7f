/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A transmitter's keys, read with the strict JSON reader (util/json.h) and
 * built into OpenSSL public keys through EVP_PKEY_fromdata, then checked
 * (EVP_PKEY_public_check: an EC point on the curve, an RSA modulus that is
 * odd and of a sane size) before anything is verified with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "signals/jwks.h"
#include "util/base64url.h"
#include "util/io.h"
#include "util/json.h"

/* Members that only a private key has: their presence means the key leaked. */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

/* A base64url member of key, decoded into buf (size bytes at most). */
static int b64_member(json_t *key, const char *name, const char *where, unsigned char *buf,
		      size_t size, size_t *len, char *why, size_t why_size)
{
	json_t *v = json_object_get(key, name);
	const char *s;
	size_t slen, bad;

	if (!v) {
		snprintf(why, why_size, "%s: missing required member \"%s\"", where, name);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		snprintf(why, why_size, "%s.%s: expected a string, found %s", where, name,
			 json_describe(v));
		return -EINVAL;
	}
	s = json_string_value(v);
	slen = json_string_length(v);
	if (slen == 0 || BASE64URL_DECODED_MAX(slen) > size) {
		snprintf(why, why_size, "%s.%s: expected 1 to %zu bytes of base64url", where, name,
			 size / 3 * 4);
		return -EINVAL;
	}
	if (base64url_decode(s, slen, buf, len, &bad)) {
		snprintf(why, why_size, "%s.%s: not base64url (RFC 4648 section 5, no padding) "
			 "at character %zu", where, name, bad);
		return -EINVAL;
	}
	return 0;
}

/* An optional string member: 0 with *out (NULL when absent), or -EINVAL. */
static int string_member(json_t *key, const char *name, const char *where, const char **out,
			 char *why, size_t why_size)
{
	json_t *v = json_object_get(key, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		snprintf(why, why_size, "%s.%s: expected a string, found %s", where, name,
			 json_describe(v));
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int checked_key(EVP_PKEY *pkey, EVP_PKEY **out, const char *where, char *why,
		       size_t why_size)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		snprintf(why, why_size, "%s: not a valid public key", where);
		return -EINVAL;
	}
	*out = pkey;
	return 0;
}

static int from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out, const char *where,
		       char *why, size_t why_size)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	EVP_PKEY *pkey = NULL;
	int ok;

	ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	if (!ok) {
		EVP_PKEY_free(pkey);
		snprintf(why, why_size, "%s: not a valid %s public key", where, type);
		return -EINVAL;
	}
	return checked_key(pkey, out, where, why, why_size);
}

static int rsa_key(json_t *key, const char *where, EVP_PKEY **out, char *why, size_t why_size)
{
	unsigned char n[JWK_RSA_MAX_BITS / 8 + 3], e[16];
	size_t nlen, elen;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int err;

	err = b64_member(key, "n", where, n, sizeof(n), &nlen, why, why_size);
	if (!err)
		err = b64_member(key, "e", where, e, sizeof(e), &elen, why, why_size);
	if (err)
		return err;
	err = -ENOMEM;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn || !be || !bld)
		goto out;
	err = -EINVAL;
	if (BN_num_bits(bn) < JWK_RSA_MIN_BITS || BN_num_bits(bn) > JWK_RSA_MAX_BITS) {
		snprintf(why, why_size, "%s.n: a %d-bit modulus; actgate takes RSA keys of %d to "
			 "%d bits", where, BN_num_bits(bn), JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS);
		goto out;
	}
	if (!BN_is_odd(be) || BN_num_bits(be) < 2 || BN_num_bits(be) > 64) {
		snprintf(why, why_size, "%s.e: not a valid RSA public exponent", where);
		goto out;
	}
	err = -ENOMEM;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	err = from_params("RSA", bld, out, where, why, why_size);
out:
	if (err == -ENOMEM)
		snprintf(why, why_size, "out of memory");
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return err;
}

static int ec_key(json_t *key, const char *where, EVP_PKEY **out, char *why, size_t why_size)
{
	unsigned char point[65], buf[40];
	OSSL_PARAM_BLD *bld = NULL;
	size_t len;
	int err;

	point[0] = 0x04; /* uncompressed: x then y */
	err = b64_member(key, "x", where, buf, sizeof(buf), &len, why, why_size);
	if (err)
		return err;
	if (len != 32) {
		snprintf(why, why_size, "%s.x: %zu bytes; a P-256 coordinate is 32", where, len);
		return -EINVAL;
	}
	memcpy(point + 1, buf, 32);
	err = b64_member(key, "y", where, buf, sizeof(buf), &len, why, why_size);
	if (err)
		return err;
	if (len != 32) {
		snprintf(why, why_size, "%s.y: %zu bytes; a P-256 coordinate is 32", where, len);
		return -EINVAL;
	}
	memcpy(point + 33, buf, 32);
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						     "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
					      sizeof(point))) {
		OSSL_PARAM_BLD_free(bld);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = from_params("EC", bld, out, where, why, why_size);
	OSSL_PARAM_BLD_free(bld);
	return err;
}

/* Whether a key's key_ops (RFC 7517 4.3) allow verifying; absent: yes. */
static int ops_allow_verify(json_t *key, const char *where, bool *allow, char *why,
			    size_t why_size)
{
	json_t *ops = json_object_get(key, "key_ops"), *op;
	size_t i;

	*allow = true;
	if (!ops)
		return 0;
	if (!json_is_array(ops)) {
		snprintf(why, why_size, "%s.key_ops: expected an array, found %s", where,
			 json_describe(ops));
		return -EINVAL;
	}
	*allow = false;
	json_array_foreach(ops, i, op) {
		if (!json_is_string(op)) {
			snprintf(why, why_size, "%s.key_ops[%zu]: expected a string, found %s",
				 where, i, json_describe(op));
			return -EINVAL;
		}
		if (!strcmp(json_string_value(op), "verify"))
			*allow = true;
	}
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* One member of "keys": kept in out, skipped (counted), or -EINVAL. */
static int parse_key(json_t *key, const char *where, struct jwks *out, char *why,
		     size_t why_size)
{
	const char *kty, *kid, *alg, *use, *crv;
	struct jwk k = { 0 };
	bool verify;
	int err;

	if (!json_is_object(key)) {
		snprintf(why, why_size, "%s: expected an object, found %s", where,
			 json_describe(key));
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_get(key, private_members[i])) {
			snprintf(why, why_size, "%s: holds the private member \"%s\": this key "
				 "must be considered leaked; publish only public keys",
				 where, private_members[i]);
			return -EINVAL;
		}
	err = string_member(key, "kty", where, &kty, why, why_size);
	if (!err)
		err = string_member(key, "kid", where, &kid, why, why_size);
	if (!err)
		err = string_member(key, "alg", where, &alg, why, why_size);
	if (!err)
		err = string_member(key, "use", where, &use, why, why_size);
	if (!err)
		err = string_member(key, "crv", where, &crv, why, why_size);
	if (!err)
		err = ops_allow_verify(key, where, &verify, why, why_size);
	if (err)
		return err;
	if (!kty) {
		snprintf(why, why_size, "%s: missing required member \"kty\"", where);
		return -EINVAL;
	}
	if (kid && (!kid[0] || strlen(kid) > JWK_KID_MAX || !printable(kid))) {
		snprintf(why, why_size, "%s.kid: expected 1 to %d printable characters", where,
			 JWK_KID_MAX);
		return -EINVAL;
	}
	/* Not ours to use: an encryption key, another type, another algorithm. */
	if ((use && strcmp(use, "sig")) || !verify)
		goto skip;
	if (!strcmp(kty, "RSA")) {
		if (alg && strcmp(alg, "RS256") && strcmp(alg, "PS256"))
			goto skip;
		k.type = JWK_RSA;
		err = rsa_key(key, where, (EVP_PKEY **)&k.pkey, why, why_size);
	} else if (!strcmp(kty, "EC")) {
		if (!crv) {
			snprintf(why, why_size, "%s: missing required member \"crv\"", where);
			return -EINVAL;
		}
		if (strcmp(crv, "P-256") || (alg && strcmp(alg, "ES256")))
			goto skip;
		k.type = JWK_EC_P256;
		err = ec_key(key, where, (EVP_PKEY **)&k.pkey, why, why_size);
	} else {
		goto skip;
	}
	if (err)
		return err;
	for (size_t i = 0; kid && i < out->count; i++)
		if (out->keys[i].kid && !strcmp(out->keys[i].kid, kid)) {
			snprintf(why, why_size, "%s.kid: \"%s\" names two keys", where, kid);
			err = -EINVAL;
			goto fail;
		}
	err = -ENOMEM;
	k.kid = kid ? strdup(kid) : NULL;
	k.alg = alg ? strdup(alg) : NULL;
	if ((kid && !k.kid) || (alg && !k.alg))
		goto fail;
	{
		struct jwk *grown = realloc(out->keys, (out->count + 1) * sizeof(*grown));

		if (!grown)
			goto fail;
		out->keys = grown;
	}
	out->keys[out->count++] = k;
	return 0;
fail:
	if (err == -ENOMEM)
		snprintf(why, why_size, "out of memory");
	free(k.kid);
	free(k.alg);
	EVP_PKEY_free((EVP_PKEY *)k.pkey);
	return err;
skip:
	out->skipped++;
	return 0;
}

int jwks_parse(struct jwks *out, const char *text, size_t len, char *why, size_t why_size)
{
	struct json_read_error re;
	struct json_doc doc = { 0 };
	json_t *keys, *key;
	char where[32];
	size_t i;
	int err;

	*out = (struct jwks){ 0 };
	if (len > JWKS_MAX_BYTES) {
		snprintf(why, why_size, "a key set is at most %d bytes; this is %zu",
			 JWKS_MAX_BYTES, len);
		return -EINVAL;
	}
	err = json_doc_read(&doc, text, len, &re);
	if (err == -EINVAL)
		snprintf(why, why_size, "line %u, column %u: %s", re.line, re.col, re.what);
	else if (err)
		snprintf(why, why_size, "out of memory");
	if (err)
		return err;
	err = -EINVAL;
	if (!json_is_object(doc.root)) {
		snprintf(why, why_size, "expected a JWK Set (an object with \"keys\"), found %s",
			 json_describe(doc.root));
		goto out;
	}
	keys = json_object_get(doc.root, "keys");
	if (!keys && json_object_get(doc.root, "kty")) {
		err = parse_key(doc.root, "the key", out, why, why_size);
		goto out;
	}
	if (!keys) {
		snprintf(why, why_size, "missing required member \"keys\"");
		goto out;
	}
	if (!json_is_array(keys) || json_array_size(keys) > JWKS_MAX_KEYS) {
		snprintf(why, why_size, "keys: expected an array of at most %d keys, found %s",
			 JWKS_MAX_KEYS, json_describe(keys));
		goto out;
	}
	err = 0;
	json_array_foreach(keys, i, key) {
		snprintf(where, sizeof(where), "keys[%zu]", i);
		err = parse_key(key, where, out, why, why_size);
		if (err)
			break;
	}
out:
	json_doc_free(&doc);
	if (err)
		jwks_free(out);
	return err;
}

int jwks_load_file(struct jwks *out, const char *path, char *why, size_t why_size)
{
	char *text = NULL, inner[512];
	size_t got = 0;
	int fd, err;

	*out = (struct jwks){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	text = malloc(JWKS_MAX_BYTES + 1);
	err = text ? read_full(fd, text, JWKS_MAX_BYTES + 1, &got) : -ENOMEM;
	close(fd);
	if (err) {
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto out;
	}
	err = jwks_parse(out, text, got, inner, sizeof(inner));
	if (err)
		snprintf(why, why_size, "%s: %s", path, inner);
out:
	free(text);
	return err;
}

const struct jwk *jwks_find(const struct jwks *set, const char *kid)
{
	if (!kid)
		return set->count == 1 ? &set->keys[0] : NULL;
	for (size_t i = 0; i < set->count; i++)
		if (set->keys[i].kid && !strcmp(set->keys[i].kid, kid))
			return &set->keys[i];
	return NULL;
}

void jwks_move(struct jwks *dst, struct jwks *src)
{
	jwks_free(dst);
	*dst = *src;
	*src = (struct jwks){ 0 };
}

void jwks_free(struct jwks *set)
{
	for (size_t i = 0; i < set->count; i++) {
		free(set->keys[i].kid);
		free(set->keys[i].alg);
		EVP_PKEY_free((EVP_PKEY *)set->keys[i].pkey);
	}
	free(set->keys);
	*set = (struct jwks){ 0 };
}
