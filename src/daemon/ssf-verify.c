/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The receiver's side of token verification: each stream's key set, its
 * replay cache, and the call into signals/jose.h, which checks the
 * signature, alg, typ, iss, aud and iat and names the RFC 8935 error of a
 * refusal.
 *
 * A jwks_file is read again by jose.h itself when a token names a kid the
 * set lacks (at most every SSF_KID_REFRESH_MIN_MS). A fetched set cannot be
 * fetched there without blocking the loop: its refresh hook only notes that
 * one is wanted, the token is refused for now (invalid_key), and the caller
 * (ssf_take) starts the fetch and offers the token again when it ends.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ssf-internal.h"
#include "signals/jose.h"
#include "signals/jti.h"
#include "signals/jwks.h"
#include "util/clock.h"

/* iat may be this far in the future (clocks differ) ... */
#define SSF_SKEW_S 300
/* ... and this far in the past: a polled SET may wait at the transmitter a while. */
#define SSF_MAX_AGE_S (24 * 3600)
/* jtis held against replay: a stream's worth of a day's events at a sustained rate. */
#define SSF_REPLAY_MAX 100000

struct ssf_keys {
	struct jose_keys keys;
	struct jti_cache replay;
	bool refresh_wanted; /* a fetched set lacked a token's kid */
	bool fetched;        /* jwks_uri: refreshed by ssf-poll.c, not by jose.h */
};

static int want_fetch(void *ctx, struct jwks *fresh, char *why, size_t why_size)
{
	struct ssf_keys *k = ctx;

	(void)fresh;
	k->refresh_wanted = true;
	snprintf(why, why_size, "the key set is being fetched again");
	return -EAGAIN;
}

static int keys_new(struct ssf_stream *st, struct ssf_keys **out)
{
	struct ssf_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (jti_cache_init(&k->replay, SSF_REPLAY_MAX)) {
		free(k);
		return -ENOMEM;
	}
	k->keys.refresh_interval_s = SSF_KID_REFRESH_MIN_MS / 1000;
	k->fetched = st->t->jwks_file == NULL;
	if (k->fetched) {
		k->keys.refresh = want_fetch;
		k->keys.refresh_ctx = k;
	}
	*out = k;
	return 0;
}

int ssf_keys_set(struct ssf_stream *st, const char *text, size_t len, char *why, size_t why_size)
{
	struct jwks fresh = { 0 };
	int err;

	if (!st->keys && (err = keys_new(st, &st->keys)))
		return err;
	if (st->t->jwks_file && !st->keys->keys.refresh) {
		/* From now on jose.h reads the file again for an unknown kid. */
		struct jose_keys loaded = { 0 };

		err = jose_keys_load_file(&loaded, st->t->jwks_file, why, why_size);
		if (err)
			return err;
		loaded.refresh_interval_s = st->keys->keys.refresh_interval_s;
		jose_keys_free(&st->keys->keys);
		st->keys->keys = loaded;
		st->keys_loaded_ns = boot_ns();
		return 0;
	}
	err = jwks_parse(&fresh, text, len, why, why_size);
	if (err)
		return err;
	jwks_move(&st->keys->keys.set, &fresh);
	jwks_free(&fresh);
	st->keys_loaded_ns = boot_ns();
	return 0;
}

void ssf_keys_free(struct ssf_keys *k)
{
	if (!k)
		return;
	jose_keys_free(&k->keys);
	jti_cache_free(&k->replay);
	free(k);
}

size_t ssf_keys_count(const struct ssf_keys *k)
{
	return k ? k->keys.set.count : 0;
}

static enum ssf_err err_from(const char *code)
{
	for (int e = SSF_INVALID_REQUEST; e < SSF_NR_ERRS; e++)
		if (code && !strcmp(code, ssf_err_name((enum ssf_err)e)))
			return (enum ssf_err)e;
	return SSF_INVALID_REQUEST;
}

enum ssf_err ssf_verify(struct ssf_stream *st, const char *token, size_t len, char **payload,
			size_t *payload_len, bool *unknown_kid, char *why, size_t why_size)
{
	struct jose_expect expect = { .issuer = st->t->issuer, .audience = st->t->audience,
				      .typ = "secevent+jwt", .now = (int64_t)(wall_ns() / 1000000000ull),
				      .skew_s = SSF_SKEW_S, .max_age_s = SSF_MAX_AGE_S,
				      .require_iat = true };
	struct jose_verified v = { 0 };
	struct jose_error jerr = { 0 };
	const char *jti;
	json_t *iat;
	int err;

	*payload = NULL;
	*payload_len = 0;
	*unknown_kid = false;
	if (!st->keys) {
		snprintf(why, why_size, "the transmitter's keys are not known yet");
		return SSF_INVALID_KEY;
	}
	st->keys->refresh_wanted = false;
	err = jose_verify(&st->keys->keys, token, len, &expect, &v, &jerr);
	if (err) {
		*unknown_kid = st->keys->refresh_wanted;
		snprintf(why, why_size, "%s", err == -ENOMEM ? "out of memory" : jerr.reason);
		return err == -ENOMEM ? SSF_INVALID_REQUEST : err_from(jerr.code);
	}
	jti = json_string_value(json_object_get(v.claims, "jti"));
	iat = json_object_get(v.claims, "iat");
	if (!jti || !jti[0] || strlen(jti) > JTI_MAX_LEN) {
		snprintf(why, why_size, "the SET has no jti (or one over %d bytes)", JTI_MAX_LEN);
		err = SSF_INVALID_REQUEST;
		goto out;
	}
	jti_cache_expire(&st->keys->replay, expect.now);
	err = jti_cache_add(&st->keys->replay, st->t->issuer, jti,
			    (int64_t)json_integer_value(iat) + SSF_MAX_AGE_S + SSF_SKEW_S, expect.now);
	if (err == -EEXIST) {
		snprintf(why, why_size, "jti %.200s was taken already (a replayed SET)", jti);
		err = SSF_INVALID_REQUEST;
		goto out;
	} else if (err) {
		snprintf(why, why_size, "jti %.200s cannot be held against replay: %s", jti,
			 strerror(-err));
		err = SSF_INVALID_REQUEST;
		goto out;
	}
	*payload = v.payload;
	*payload_len = v.payload_len;
	v.payload = NULL;
	err = SSF_OK;
out:
	jose_verified_free(&v);
	return (enum ssf_err)err;
}
