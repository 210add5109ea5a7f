/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "daemon/ingest.h"
#include "daemon/ssfhost.h"

static int apply(void *ctx, const struct ssf_transmitter *t, const char *payload, size_t len,
		 char *why, size_t why_size)
{
	size_t effects = 0, revoked = 0;
	char label[64];

	snprintf(label, sizeof(label), "ssf %s", t->name);
	return ingest_token(ctx, label, payload, len, &effects, &revoked, why, why_size);
}

struct ssf_host ssf_host_for(struct signalctl *s)
{
	return (struct ssf_host){ .ctx = s, .apply = apply };
}
