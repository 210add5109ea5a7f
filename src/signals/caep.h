/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * CAEP / Shared Signals events in: a Security Event Token's payload (RFC
 * 8417), as JSON, checked and mapped to what actgate does with it: signals
 * set on a principal or a workload, and revocations. Only strict JSON is
 * taken (util/json.h). docs/signals.md lists the event types and their
 * mapping; anything else is refused with a file:line:col message, and a
 * refused event changes nothing.
 */
#ifndef ACTGATE_CAEP_H
#define ACTGATE_CAEP_H

#include <stddef.h>

#include "signals/store.h"
#include "util/diag.h"

#define CAEP_EVENT_PREFIX "https://schemas.openid.net/secevent/caep/event-type/"
/* Tokens are a few KiB; the bound keeps a hostile file from costing much to refuse. */
#define CAEP_TOKEN_MAX (1024 * 1024)

enum caep_effect_kind {
	CAEP_SET_SIGNAL = 1, /* set name = value on the subject */
	CAEP_REVOKE = 2,     /* revoke the subject: deny all it does from now on */
};

struct caep_effect {
	enum caep_effect_kind kind;
	enum signal_scope scope; /* SIGNAL_PRINCIPAL or SIGNAL_WORKLOAD */
	char *subject;           /* the principal or workload name */
	char *name;              /* CAEP_SET_SIGNAL */
	char *value;             /* CAEP_SET_SIGNAL */
	char *event;             /* the event type's short name: "session-revoked" */
	char *reason;            /* for records: "caep session-revoked from ISSUER" */
};

struct caep_set {
	char *issuer; /* iss */
	char *id;     /* jti */
	struct caep_effect *effects;
	size_t count;
};

/*
 * Parse one SET payload (JSON) named name in messages. Returns 0 with the
 * effects in out; -EINVAL after adding errors to diags (out is empty);
 * -ENOMEM.
 */
int caep_parse(const char *name, const char *text, size_t len, struct caep_set *out,
	       struct diag_list *diags);

/* "email alice@example.com" style description of an effect, for --dry-run and logs. */
int caep_effect_describe(const struct caep_effect *e, char *buf, size_t size);

void caep_set_free(struct caep_set *s);

#endif /* ACTGATE_CAEP_H */
