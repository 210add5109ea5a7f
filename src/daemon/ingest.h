/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * CAEP event tokens (signals/caep.h) applied to the daemon's signals: from
 * the signal-ingest verb and from the spool directory (spool.c). A token is
 * applied whole: every signal it sets lands in one store change (one
 * generation), then its revocations.
 */
#ifndef ACTGATE_DAEMON_INGEST_H
#define ACTGATE_DAEMON_INGEST_H

#include <stddef.h>

#include "daemon/signalctl.h"
#include "util/json.h"

/*
 * Parse and apply one token (name labels its diagnostics: a file name or
 * "<token>"); effects and revoked count what it did. 0, or -errno with why:
 * -EIO when it was applied but could not be saved (signalctl_save), any
 * other error when it changed nothing.
 */
int ingest_token(struct signalctl *s, const char *name, const char *text, size_t len,
		 size_t *effects, size_t *revoked, char *why, size_t why_size);

/* The verb signal-ingest (keys checked by verbs.c). */
void ingest_verb(struct signalctl *s, int fd, const struct json_msg *msg);

#endif /* ACTGATE_DAEMON_INGEST_H */
