/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The Shared Signals receiver: one stream per configured transmitter
 * (ssfconfig.h), its Security Event Tokens pushed to an HTTP endpoint (RFC
 * 8935, ssf-push.c) or polled (RFC 8936, ssf-poll.c), verified against the
 * transmitter's keys (ssf-verify.c) before anything is applied, then
 * handed to the host, which applies them as `actgate signal ingest` does.
 *
 * Everything runs on the daemon's event loop: the HTTP server and client
 * sockets sit in one epoll set of the receiver's own (ssf_fd), which the
 * daemon watches like any other descriptor; no thread touches its state.
 */
#ifndef ACTGATE_DAEMON_SSF_H
#define ACTGATE_DAEMON_SSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/ssfconfig.h"
#include "util/json.h"

/* The error codes of RFC 8935 section 2.4, as a push answer or a poll setErrs carries them. */
enum ssf_err {
	SSF_OK = 0,
	SSF_INVALID_REQUEST,
	SSF_INVALID_KEY,
	SSF_INVALID_ISSUER,
	SSF_INVALID_AUDIENCE,
	SSF_AUTHENTICATION_FAILED,
	SSF_ACCESS_DENIED,
	SSF_NR_ERRS,
};

/* "invalid_request", ...; "" for SSF_OK. */
const char *ssf_err_name(enum ssf_err e);

/* What the receiver does with a verified event token. */
struct ssf_host {
	void *ctx;
	/*
	 * Apply the payload (JSON) of a verified SET from t. 0: applied; -EIO:
	 * applied but not saved (why says); any other -errno: refused, nothing
	 * changed (why says).
	 */
	int (*apply)(void *ctx, const struct ssf_transmitter *t, const char *payload, size_t len,
		     char *why, size_t why_size);
};

struct ssf;

/*
 * Open every stream of cfg (which must outlive the receiver): listening
 * sockets bound, keys read, first polls and fetches scheduled. state_dir
 * holds the poll streams' unacknowledged acknowledgements. 0, or -errno
 * after logging what failed (nothing is left open).
 */
int ssf_open(struct ssf **out, const struct ssf_config *cfg, const char *state_dir,
	     const struct ssf_host *host);

/* The descriptor to watch for input (an epoll set); -1 when no stream is configured. */
int ssf_fd(const struct ssf *r);

/* Serve what is ready and what is due; never blocks. */
void ssf_run(struct ssf *r);

/* How long the loop may sleep before ssf_run has work, in ms (capped at max_ms). */
int ssf_timeout_ms(const struct ssf *r, int max_ms);

/* Each stream's health as flat "ssf.NAME.KEY" members (status verb). */
void ssf_status(const struct ssf *r, struct json_out *j);

void ssf_close(struct ssf *r);

/* ---- the push request path, for the fuzz target and the tests ---- */

struct ssf_request {
	const char *method;
	const char *content_type;  /* NULL: none sent */
	const char *authorization; /* NULL: none sent */
	const char *body;
	size_t body_len;
	bool body_too_large;       /* more than max_request_bytes came or was announced */
};

struct ssf_response {
	unsigned int status;       /* HTTP status */
	char body[512];            /* JSON, or "" */
};

/*
 * Answer one pushed request on stream index (a push stream), as RFC 8935
 * says: 202, or 400 with {"err", "description"}; 405, 413, 415 or 429 for
 * what is wrong with the HTTP request itself. Returns 1, with no answer,
 * when the token names a key the stream does not know and a refresh of its
 * fetched key set has started: offer the request again when it ends (the
 * push server suspends the connection meanwhile); else 0.
 */
int ssf_push_request(struct ssf *r, size_t index, const struct ssf_request *rq,
		     struct ssf_response *rs);

#endif /* ACTGATE_DAEMON_SSF_H */
