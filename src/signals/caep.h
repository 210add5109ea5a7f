/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * CAEP and RISC events in: a Security Event Token's payload (RFC 8417), as
 * JSON, checked and read into events with their subjects as the token names
 * them (RFC 9493 subject identifiers, and the Shared Signals Framework's
 * complex subjects). What an event changes on this host is decided apart
 * (signals/resolve.h), against what actgate knows. Only strict JSON is taken
 * (util/json.h); docs/signals.md lists the event types and subject formats;
 * anything else is refused with a file:line:col message, and a refused
 * token changes nothing.
 */
#ifndef ACTGATE_CAEP_H
#define ACTGATE_CAEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"

#define CAEP_EVENT_PREFIX "https://schemas.openid.net/secevent/caep/event-type/"
#define RISC_EVENT_PREFIX "https://schemas.openid.net/secevent/risc/event-type/"
/* Tokens are a few KiB; the bound keeps a hostile file from costing much to refuse. */
#define CAEP_TOKEN_MAX (1024 * 1024)
/* An identifier's member (an email, an iss, a sub) in bytes. */
#define CAEP_ID_MAX 255
/* Identifiers in one "aliases" subject, claims in one token-claims-change. */
#define CAEP_ALIASES_MAX 16
#define CAEP_CLAIMS_MAX 32

enum caep_event_kind {
	CAEP_SESSION_REVOKED,
	CAEP_TOKEN_CLAIMS_CHANGE,
	CAEP_CREDENTIAL_CHANGE,
	CAEP_ASSURANCE_LEVEL_CHANGE,
	CAEP_DEVICE_COMPLIANCE_CHANGE,
	CAEP_RISK_LEVEL_CHANGE,
	CAEP_SESSION_ESTABLISHED,
	CAEP_SESSION_PRESENTED,
	RISC_ACCOUNT_DISABLED,
	RISC_ACCOUNT_PURGED,
	RISC_CREDENTIAL_COMPROMISE,
	CAEP_EVENT_KINDS,
};

/* Subject identifier formats (RFC 9493 section 3, and SSF's jwt_id and saml_assertion_id). */
enum caep_id_format {
	CAEP_ID_EMAIL,        /* a: the address */
	CAEP_ID_ISS_SUB,      /* a: iss, b: sub */
	CAEP_ID_OPAQUE,       /* a: id */
	CAEP_ID_DID,          /* a: url */
	CAEP_ID_PHONE_NUMBER, /* a: phone_number */
	CAEP_ID_ACCOUNT,      /* a: uri ("acct:...") */
	CAEP_ID_URI,          /* a: uri */
	CAEP_ID_JWT_ID,       /* a: iss, b: jti: a token, not anyone */
	CAEP_ID_SAML,         /* a: issuer, b: assertion_id: an assertion, not anyone */
	CAEP_ID_FORMATS,
};

struct caep_id {
	enum caep_id_format format;
	char *a;
	char *b; /* NULL for one-member formats */
};

/* One identifier, or several naming the same thing ("aliases"); count 0: absent. */
struct caep_ident {
	struct caep_id *ids;
	size_t count;
};

/* A simple subject is CAEP_ROLE_SIMPLE alone; a complex one has some of the others. */
enum caep_role {
	CAEP_ROLE_SIMPLE,
	CAEP_ROLE_USER,
	CAEP_ROLE_DEVICE,
	CAEP_ROLE_SESSION,
	CAEP_ROLE_APPLICATION,
	CAEP_ROLE_TENANT,
	CAEP_ROLE_ORG_UNIT,
	CAEP_ROLE_GROUP,
	CAEP_ROLES,
};

struct caep_subject {
	struct caep_ident role[CAEP_ROLES];
};

struct caep_event {
	enum caep_event_kind kind;
	struct caep_subject subject;
	/*
	 * The value the event gives its signal, lowercased: credential-change's
	 * change_type, assurance-level-change's current_level,
	 * device-compliance-change's current_status, risk-level-change's
	 * current_level; NULL for the others.
	 */
	char *value;
	/* token-claims-change: the claims as "name=value" (strings, numbers, booleans). */
	char **claims;
	size_t claim_count;
};

struct caep_set {
	char *issuer; /* iss */
	char *id;     /* jti */
	struct caep_event *events;
	size_t count;
};

/*
 * Parse one SET payload (JSON) named name in messages. Returns 0 with the
 * events in out; -EINVAL after adding errors to diags (out is empty);
 * -ENOMEM.
 */
int caep_parse(const char *name, const char *text, size_t len, struct caep_set *out,
	       struct diag_list *diags);

/* "caep/session-revoked", "risc/account-disabled". */
const char *caep_event_name(enum caep_event_kind kind);
/* The member names of a format: "email", "iss_sub", ...; and back (-EINVAL). */
const char *caep_id_format_name(enum caep_id_format f);
int caep_id_format_parse(const char *name, enum caep_id_format *f);
/* "user", "device", ...; "" for CAEP_ROLE_SIMPLE. */
const char *caep_role_name(enum caep_role r);

/*
 * An identifier as text: "email alice@example.com", "iss_sub
 * https://idp.example.com/ 99beb27c", "opaque dMTlD|16"; a subject: its
 * roles' identifiers, "user iss_sub ... + device iss_sub ...", aliases
 * joined by " = ". Cut short to fit size (always NUL-terminated).
 */
void caep_id_describe(const struct caep_id *id, char *buf, size_t size);
void caep_subject_describe(const struct caep_subject *s, char *buf, size_t size);

void caep_subject_free(struct caep_subject *s);
void caep_set_free(struct caep_set *s);

#endif /* ACTGATE_CAEP_H */
