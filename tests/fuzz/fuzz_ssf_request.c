/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the SSF receiver's push request path
 * (ssf_push_request: what a connection's method, Content-Type,
 * Authorization and body come to, before and through token verification).
 *
 *   make fuzz   (or build/fuzz/fuzz_ssf_request -max_total_time=60 CORPUS_DIR)
 *
 * The first input byte picks the method, the Content-Type, the bearer token
 * (right, wrong, missing) and whether the body is said to be too large; the
 * rest is the body. Properties checked beyond "no crash":
 * - nothing is ever applied: no input can carry a signature by the
 *   stream's key (the key's private half is not here), so the host's apply
 *   must never be called;
 * - the answer is one RFC 8935 allows: 400 with a JSON body whose "err" is
 *   one of its codes and a "description", or 405, 413 (with a body), 429;
 *   never 202.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/ssf.h"
#include "util/diag.h"
#include "fuzz_check.h"

/*
 * A P-256 public key whose private half was thrown away once the seeds
 * were signed with it: every signed seed is refused for a reason time
 * cannot change (iat in 2020, another audience, a kid not in the set), so
 * a fuzzer's mutation can only break the signature, never make one.
 */
#define JWKS "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"kid\": \"e1\", \"use\": \"sig\", " \
	"\"alg\": \"ES256\", \"x\": \"S9CkAvps2WwmRlCiI1z1NpmXyjtQ6p9HUpzVn_9Wmqw\", " \
	"\"y\": \"tNJz9Nc6ORHP9fxJYe8IjYR0nWrhZIIFf7JXClmqyJM\"}]}"

static struct ssf *receiver;
static struct daemon_config cfg;

static int never_apply(void *ctx, const struct ssf_transmitter *t, const char *payload,
		       size_t len, char *why, size_t why_size)
{
	(void)ctx;
	(void)t;
	(void)payload;
	(void)len;
	(void)why;
	(void)why_size;
	CHECK(!"an unverified token reached apply");
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	static char dir[] = "/tmp/fuzz-ssf-XXXXXX";
	char yaml[2048], path[256];
	struct diag_list diags = { 0 };
	struct ssf_host host = { .apply = never_apply };

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/jwks.json", dir);
	write_file(path, JWKS);
	snprintf(path, sizeof(path), "%s/bearer", dir);
	write_file(path, "right-token\n");
	snprintf(yaml, sizeof(yaml),
		 "ssf:\n"
		 "  - name: fuzz\n"
		 "    issuer: https://idp.example.com\n"
		 "    audience: https://host.example.com\n"
		 "    jwks_file: %s/jwks.json\n"
		 "    delivery: push\n"
		 "    listen: unix:%s/push.sock\n"
		 "    bearer_token_file: %s/bearer\n"
		 "    rate: 100000\n", dir, dir, dir);
	CHECK(config_parse_buffer("fuzz.yaml", yaml, strlen(yaml), &cfg, &diags) == 0);
	CHECK(ssf_open(&receiver, &cfg.ssf, dir, &host) == 0);
	diag_list_free(&diags);
}

static void check_answer(const struct ssf_response *rs)
{
	static const char *const codes[] = { "invalid_request", "invalid_key", "invalid_issuer",
					     "invalid_audience", "authentication_failed",
					     "access_denied" };
	json_t *o, *err;
	bool known = false;

	CHECK(rs->status == 400 || rs->status == 405 || rs->status == 413 || rs->status == 429);
	if (rs->status != 400 && rs->status != 413) {
		CHECK(rs->body[0] == '\0');
		return;
	}
	o = json_loads(rs->body, JSON_REJECT_DUPLICATES, NULL);
	CHECK(json_is_object(o));
	err = json_object_get(o, "err");
	CHECK(json_is_string(err));
	CHECK(json_is_string(json_object_get(o, "description")));
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		known |= !strcmp(json_string_value(err), codes[i]);
	CHECK(known);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "POST", "GET", "PUT", "" };
	static const char *const types[] = { "application/secevent+jwt",
					     "application/secevent+jwt; charset=utf-8",
					     "application/json", NULL };
	static const char *const auths[] = { "Bearer right-token", "Bearer wrong", "bearer  right-token",
					     NULL };
	struct ssf_request rq = { 0 };
	struct ssf_response rs;
	char *body;

	if (!receiver)
		setup();
	if (!size)
		return 0;
	body = malloc(size);
	CHECK(body);
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	rq.method = methods[data[0] & 3];
	rq.content_type = types[(data[0] >> 2) & 3];
	rq.authorization = auths[(data[0] >> 4) & 3];
	rq.body_too_large = (data[0] & 0xc0) == 0xc0;
	rq.body = body;
	rq.body_len = size - 1;
	/* A fetched key set is not configured: nothing waits for a refresh. */
	CHECK(ssf_push_request(receiver, 0, &rq, &rs) == 0);
	check_answer(&rs);
	free(body);
	return 0;
}
