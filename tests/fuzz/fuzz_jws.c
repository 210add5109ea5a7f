/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for signed tokens (compact JWS, signals/jose.h) and key
 * sets (JWKS, signals/jwks.h): both come from the network or a transmitter.
 *
 *   make fuzz   (or build/fuzz/fuzz_jws -max_total_time=60 CORPUS_DIR)
 *
 * The input is verified as a token against a fixed RSA key set, and read
 * as a key set. Properties checked beyond "no crash":
 * - no input verifies (nobody has the key set's private key): a refusal
 *   always has an RFC 8935 code and a reason, and leaves nothing behind;
 * - the unverified issuer is refused or a NUL-terminated string that fits;
 * - a key set that is refused says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals/jose.h"
#include "signals/jwks.h"
#include "fuzz_check.h"

static const char jwks_text[] =
	"{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"k1\", \"alg\": \"RS256\", \"use\": \"sig\", \"e\": "
	"\"AQAB\", \"n\": \"qBttwMSgJsh03QXGE1hsoDYbXds9mGZ5uX5rBccyZe6i2jDAH5vn7onbPhlFd1tfLjJ0qpnk-"
	"OVgF05-UcQDQ5_D-j78WYbIz16TH0k00YydqBrg7XGsT91unU9dzrW4V4EOSSn_-uhx7VX9LqRAGbgFI0yjNz-1Oal"
	"1iQbDJbmsWuwjFR6ytdBZHuzreVcmN0kxQKcIlrCkO6XVT5U-sKNNS0A-drBw005qwMSx19znNwnTc_-SlnbGKQHI5"
	"IdTtZEGzuMR7JEqGrSq2_pQzq8v1dtRBhJDizzRWuyX_Ga0kvItu8egw-KaTZrltl3gFaNfOEMCsM9ldZt0Lk3xfw\"}]}";

static struct jose_keys keys;
static bool keys_ready;

static void check_token(const uint8_t *data, size_t size)
{
	struct jose_expect x = { .issuer = "https://idp.example.com/",
				 .audience = "https://actgate.example.com/",
				 .typ = "secevent+jwt", .now = 1700000000, .skew_s = 60,
				 .max_age_s = 900, .require_iat = true };
	struct jose_verified v = { 0 };
	struct jose_error je = { 0 };
	char iss[256];
	int err;

	if (!keys_ready) {
		char why[256];

		CHECK(jwks_parse(&keys.set, jwks_text, strlen(jwks_text), why, sizeof(why)) == 0);
		keys_ready = true;
	}
	(void)jose_is_compact((const char *)data, size);
	err = jose_verify(&keys, (const char *)data, size, &x, &v, &je);
	CHECK(err == -EINVAL || err == -ENOMEM);
	CHECK(err == -ENOMEM || (je.code && je.reason[0]));
	CHECK(v.header == NULL && v.claims == NULL && v.payload == NULL);
	memset(&je, 0, sizeof(je));
	err = jose_unverified_issuer((const char *)data, size, iss, sizeof(iss), &je);
	if (err)
		CHECK(je.code && je.reason[0]);
	else
		CHECK(memchr(iss, '\0', sizeof(iss)) != NULL);
}

static void check_jwks(const uint8_t *data, size_t size)
{
	struct jwks set = { 0 };
	char why[256] = "";

	if (jwks_parse(&set, (const char *)data, size, why, sizeof(why)))
		CHECK(why[0] != '\0');
	jwks_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_token(data, size);
	check_jwks(data, size);
	return 0;
}
