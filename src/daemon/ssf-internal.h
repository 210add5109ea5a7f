/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the receiver's files share (ssf.h): the stream state, the push
 * server (ssf-push.c), the HTTP client (ssf-poll.c: polls, the
 * transmitter's configuration and key set) and verification (ssf-verify.c).
 */
#ifndef ACTGATE_DAEMON_SSF_INTERNAL_H
#define ACTGATE_DAEMON_SSF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/ssf.h"

struct MHD_Daemon;
struct ssf_keys;
struct ssf_xfer;
struct push_conn;

/* Tags of the receiver's epoll set: the kind in the high half, an index or fd below. */
#define SSF_TAG_PUSH (1ull << 32)
#define SSF_TAG_CURL (2ull << 32)

/* Backoff of a failing poll or fetch: doubled from the first to the last. */
#define SSF_BACKOFF_FIRST_MS 1000u
#define SSF_BACKOFF_MAX_MS 300000u
/* A refresh of a fetched key set for an unknown kid: at most this often. */
#define SSF_KID_REFRESH_MIN_MS 10000u
/* An answer from a transmitter (configuration, keys, poll) is at most this big. */
#define SSF_FETCH_MAX_BYTES (4u << 20)
/* Acknowledgements not yet taken by the transmitter, at most (the poll waits beyond). */
#define SSF_MAX_PENDING_ACKS 10000u
/* Refusals logged: at most this many a window, the rest counted in one line. */
#define SSF_LOG_PER_WINDOW 20u
#define SSF_LOG_WINDOW_MS 10000u

enum ssf_fetch {
	SSF_FETCH_CONFIG,   /* /.well-known/ssf-configuration */
	SSF_FETCH_STREAM,   /* its configuration_endpoint: the poll endpoint */
	SSF_FETCH_JWKS,
	SSF_FETCH_POLL,
	SSF_NR_FETCH,
};

/* A SET refused on a poll stream, told to the transmitter in the next request's setErrs. */
struct ssf_set_err {
	char *jti;
	enum ssf_err err;
	char *description;
};

struct ssf_stream {
	struct ssf *r;
	size_t index;
	const struct ssf_transmitter *t;
	char *bearer;              /* the bearer token file's first line; NULL: none */
	char *jwks_uri;            /* configured or discovered; NULL: jwks_file */
	char *poll_url;            /* configured or discovered */
	char *stream_url;          /* the configuration's configuration_endpoint */
	bool ready;                /* keys and endpoint known */
	struct ssf_keys *keys;
	uint64_t keys_loaded_ns;   /* boot clock */
	uint64_t keys_next_ns;     /* the scheduled refresh */
	/* push */
	struct MHD_Daemon *mhd;
	int listen_fd;
	char *unix_path;           /* removed at close */
	double tokens;             /* the rate limit's bucket */
	uint64_t tokens_ns;
	struct push_conn *waiting; /* connections suspended for a key refresh */
	/* the HTTP client */
	struct ssf_xfer *xfer[SSF_NR_FETCH];
	uint64_t next_ns[SSF_NR_FETCH]; /* when to start it; 0: not scheduled */
	uint32_t backoff_ms[SSF_NR_FETCH];
	/* poll */
	char **acks;               /* applied, not yet acknowledged (persisted) */
	size_t ack_count, ack_cap;
	size_t acks_in_flight;     /* the first acks sent with the poll under way */
	struct ssf_set_err *errs;
	size_t err_count, errs_in_flight;
	bool more_available;
	/* health */
	uint64_t accepted, refused[SSF_NR_ERRS], polls, poll_failures;
	uint64_t last_event_wall_ns, last_error_wall_ns, last_verification_wall_ns;
	char last_event[160];      /* "JTI TYPE" */
	char last_error[256];
	char stream_status[96];    /* from stream-updated events: enabled, paused, disabled */
	uint64_t log_window_ns, log_count, log_suppressed; /* refusals logged per window */
};

struct ssf {
	const struct ssf_config *cfg;
	const char *state_dir;
	struct ssf_host host;
	int epoll_fd;
	void *curl;                /* CURLM * */
	uint64_t curl_timer_ns;    /* 0: none */
	struct ssf_stream *streams;
	size_t count;
};

/* ---- ssf.c ---- */

/*
 * Take one SET (a compact JWS) from stream st: verified, checked against
 * what the transmitter may send, then handled (verification and
 * stream-updated events) or applied through the host. jti receives the
 * token's jti (for acknowledgements; "" when unknown). Returns SSF_OK when
 * applied (or taken), an ssf_err with why when refused (nothing changed),
 * or -EAGAIN when it names an unknown key and a key refresh has started.
 */
int ssf_take(struct ssf_stream *st, const char *token, size_t len, char *jti, size_t jti_size,
	     char *why, size_t why_size);

/* Note a refusal in the stream's health and the log. */
void ssf_note_error(struct ssf_stream *st, enum ssf_err err, const char *why);

/* Start fetching now (a refresh of the keys for an unknown kid, a poll with acks to give). */
void ssf_schedule(struct ssf_stream *st, enum ssf_fetch f, uint64_t at_ns);

/* ---- ssf-push.c ---- */

int ssf_push_open(struct ssf_stream *st);
void ssf_push_run(struct ssf_stream *st);
/* ms until the server has timer work (an idle connection to close); -1: none */
long ssf_push_timeout_ms(const struct ssf_stream *st);
/* The key refresh ended: offer the suspended requests again. */
void ssf_push_resume(struct ssf_stream *st);
void ssf_push_close(struct ssf_stream *st);

/* ---- ssf-poll.c (libcurl's multi interface on the receiver's epoll set) ---- */

int ssf_client_open(struct ssf *r);
/* Start what is due; deal with what finished. */
void ssf_client_run(struct ssf *r, uint64_t tag, uint32_t events);
void ssf_client_close(struct ssf *r);
/* The earliest thing due, boot clock ns; 0: none. */
uint64_t ssf_client_next_ns(const struct ssf *r);
/*
 * Is the stream ready (keys known, and for a poll stream its endpoint)? The
 * first poll is scheduled when it becomes so: at open when both come from
 * the configuration, else when the last fetch that was missing ends.
 */
void ssf_check_ready(struct ssf_stream *st);
/* Read STATE_DIR/ssf-NAME.acks into st->acks. 0, or -errno with why. */
int ssf_acks_load(struct ssf_stream *st, char *why, size_t why_size);

/* ---- ssf-verify.c ---- */

/* Replace st's keys by the JWK set in text. 0, or -errno with why (the old keys stay). */
int ssf_keys_set(struct ssf_stream *st, const char *text, size_t len, char *why, size_t why_size);
void ssf_keys_free(struct ssf_keys *k);
/* How many keys st holds. */
size_t ssf_keys_count(const struct ssf_keys *k);

/*
 * Verify a compact JWS for st: signature, alg, iss, aud, iat, jti replay.
 * SSF_OK with the payload (malloc'd JSON text) in *payload; else an
 * ssf_err with why. *unknown_kid says the key it names is not in the set.
 */
enum ssf_err ssf_verify(struct ssf_stream *st, const char *token, size_t len, char **payload,
			size_t *payload_len, bool *unknown_kid, char *why, size_t why_size);

#endif /* ACTGATE_DAEMON_SSF_INTERNAL_H */
