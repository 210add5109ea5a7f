/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The receiver's side of token verification: each stream's key set and the
 * call into signals/jose.h, which checks signatures, alg, iss, aud, iat and
 * jti replay and names the RFC 8935 error of a refusal.
 *
 * Until signals/jose.h is merged, every token is refused (invalid_key):
 * the receiver fails closed, never applying an unverified token.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ssf-internal.h"
#include "util/clock.h"

struct ssf_keys {
	json_t *set;
	size_t count;
};

int ssf_keys_set(struct ssf_stream *st, const char *text, size_t len, char *why, size_t why_size)
{
	json_error_t jerr;
	json_t *set = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *keys;
	struct ssf_keys *k;

	if (!set) {
		snprintf(why, why_size, "not JSON: %d:%d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	keys = json_object_get(set, "keys");
	if (!json_is_array(keys) || !json_array_size(keys)) {
		snprintf(why, why_size, "not a JWK set (no \"keys\" list, or an empty one)");
		json_decref(set);
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		json_decref(set);
		return -ENOMEM;
	}
	k->set = set;
	k->count = json_array_size(keys);
	ssf_keys_free(st->keys);
	st->keys = k;
	st->keys_loaded_ns = boot_ns();
	return 0;
}

void ssf_keys_free(struct ssf_keys *k)
{
	if (!k)
		return;
	json_decref(k->set);
	free(k);
}

size_t ssf_keys_count(const struct ssf_keys *k)
{
	return k ? k->count : 0;
}

enum ssf_err ssf_verify(struct ssf_stream *st, const char *token, size_t len, char **payload,
			size_t *payload_len, bool *unknown_kid, char *why, size_t why_size)
{
	(void)st;
	(void)token;
	(void)len;
	*payload = NULL;
	*payload_len = 0;
	*unknown_kid = false;
	snprintf(why, why_size, "no signature verification in this build");
	return SSF_INVALID_KEY;
}
