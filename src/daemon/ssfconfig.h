/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The `ssf:` section of actgated's configuration file: one entry per
 * Shared Signals transmitter (an identity provider) whose Security Event
 * Tokens the daemon receives, pushed to it (RFC 8935) or polled (RFC 8936).
 * Checked whole at parse time with file:line:col errors; the receiver
 * (ssf.h) takes the entries as they are.
 */
#ifndef ACTGATE_DAEMON_SSFCONFIG_H
#define ACTGATE_DAEMON_SSFCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/yamltree.h"

#define SSF_MAX_TRANSMITTERS 16
#define SSF_MAX_EVENT_TYPES 32
#define SSF_NAME_MAX 32

/* Defaults of the limits (docs/ssf.md lists them). */
#define SSF_DEFAULT_MAX_REQUEST_BYTES 65536u
#define SSF_DEFAULT_RATE 50u          /* pushed requests a second, a burst of as many */
#define SSF_DEFAULT_MAX_EVENTS 100u   /* maxEvents of a poll request */
#define SSF_DEFAULT_POLL_INTERVAL_MS 30000u
#define SSF_DEFAULT_JWKS_REFRESH_MS 3600000u

enum ssf_delivery {
	SSF_PUSH = 1,
	SSF_POLL = 2,
};

struct ssf_transmitter {
	char *name;          /* [a-z0-9-], for logs, status and the state file */
	char *issuer;        /* the SETs' iss, exactly */
	char *audience;      /* the SETs' aud must contain it */
	char *jwks_file;     /* the transmitter's keys, read from a file ... */
	char *jwks_uri;      /* ... or fetched (https), or found by configuration_url */
	char *configuration_url; /* its /.well-known/ssf-configuration */
	enum ssf_delivery delivery;
	char *listen;        /* push: "HOST:PORT" or "unix:/PATH" */
	char *tls_certificate, *tls_key; /* push: PEM files; needed off loopback */
	char *poll_url;      /* poll: the endpoint (or from configuration_url) */
	char *bearer_token_file; /* push: what the transmitter must present; poll: what we send */
	uint32_t max_request_bytes;
	uint32_t rate;       /* push: requests a second */
	uint32_t max_events; /* poll: maxEvents */
	uint32_t poll_interval_ms;
	uint32_t jwks_refresh_ms;
	char **events;       /* event type URIs it may deliver; none listed: any */
	size_t event_count;
	unsigned line;       /* where it was configured, for messages */
};

struct ssf_config {
	struct ssf_transmitter *items;
	size_t count;
};

/* Parse the value of the `ssf:` key into c (zeroed); errors go through ctx. */
void ssf_config_parse(struct ytree_ctx *ctx, const struct ynode *list, struct ssf_config *c);

/* Is url https://, or http:// to a loopback host (a test transmitter, a local proxy)? */
bool ssf_url_acceptable(const char *url);

void ssf_config_free(struct ssf_config *c);

#endif /* ACTGATE_DAEMON_SSFCONFIG_H */
