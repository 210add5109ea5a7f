/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Security event tokens applied to the daemon's signals and revocations:
 * one path for the signal-ingest verb (`actgate signal ingest`), the spool
 * directory (spool.c) and the SSF receiver. A token is a compact JWS signed
 * by an issuer of the trust file (signals/trust.h, verified by
 * signals/jose.h, its jti taken once), or the unsigned JSON payload that only
 * the control socket and the spool take. Its events are read
 * (signals/caep.h), resolved against what actgate knows
 * (signals/resolve.h), and applied whole: every signal it sets lands in one
 * store change (one generation), then its revocations; each event that
 * changed something becomes a journal record (action signal). A refused
 * token changes nothing and is logged with its reason.
 */
#ifndef ACTGATE_DAEMON_INGEST_H
#define ACTGATE_DAEMON_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/signalctl.h"
#include "util/json.h"

#define INGEST_DRY_RUN 0x1u     /* say what the token would change; change nothing */
#define INGEST_SIGNED_ONLY 0x2u /* refuse unsigned JSON (tokens from the network) */

struct ingest_result {
	/*
	 * Refused: the RFC 8935 error code (JOSE_ERR_*) and why; NULL when
	 * taken. -EIO from ingest_token (applied, not saved) leaves it NULL.
	 */
	const char *err_code;
	bool unknown_subject; /* refused because a subject names nothing actgate knows */
	char why[1024];
	bool signed_token;
	char issuer[256];
	char id[256];          /* jti */
	char **changes;        /* per event: what it changed (or would), one line each */
	size_t change_count;
	size_t effects, revoked;
};

/*
 * Check, resolve and (unless INGEST_DRY_RUN) apply one token; label names it
 * in messages (a file, "<token>", a peer). 0 with res filled; -EINVAL (or
 * -ENOENT for an unknown subject) when refused, nothing changed; -EIO when
 * applied but not saved (signalctl_save; res->why says so); -ENOMEM.
 * ingest_result_free res either way.
 */
int ingest_token(struct signalctl *s, const char *label, const char *text, size_t len,
		 unsigned flags, struct ingest_result *res);
void ingest_result_free(struct ingest_result *res);

/*
 * Read the trust file (signals_trust) into s->trust, its issuers' keys with
 * it. 0, or -errno after logging every error (the daemon then does not start:
 * without it, signed events would all be refused, or worse, mapped wrong).
 */
int ingest_load_trust(struct signalctl *s, const char *path);

/* The verb signal-ingest (keys checked by verbs.c). */
void ingest_verb(struct signalctl *s, int fd, const struct json_msg *msg);

#endif /* ACTGATE_DAEMON_INGEST_H */
