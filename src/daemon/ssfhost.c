/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "daemon/ingest.h"
#include "daemon/ssfhost.h"

static int apply(void *ctx, const struct ssf_transmitter *t, const char *payload, size_t len,
		 char *why, size_t why_size)
{
	struct ingest_result res;
	char label[64];
	int err;

	/*
	 * The receiver verified the token against the transmitter's own keys
	 * (its JWKS, not the trust file's issuers): the payload goes through the
	 * one path the CLI and the spool take, as the claims it verified.
	 */
	snprintf(label, sizeof(label), "ssf %s", t->name);
	err = ingest_token(ctx, label, payload, len, 0, &res);
	snprintf(why, why_size, "%s", res.why);
	ingest_result_free(&res);
	return err;
}

struct ssf_host ssf_host_for(struct signalctl *s)
{
	return (struct ssf_host){ .ctx = s, .apply = apply };
}
