/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Whom actgated takes signed events from, and what their subjects mean
 * here: the file named by signals_trust in the daemon's configuration
 * (docs/signals.md), YAML:
 *
 *   device_id: e9297990-14d2-42ec-a4a9-4036db86509a   # this host, as IdPs name it
 *   principals:                # one person's identifiers -> one principal
 *     alice@example.com:
 *       - {format: email, email: alice@example.com}
 *       - {format: iss_sub, iss: "https://idp.example.com/", sub: "99beb27c"}
 *   issuers:                   # transmitters whose signed tokens are taken
 *     - issuer: https://idp.example.com/
 *       audience: https://actgate.example.com/
 *       jwks_file: /etc/actgate/idp.jwks.json
 *       max_age: 15m           # how old a token's iat may be (default 15m)
 *       clock_skew: 60s        # how far clocks may disagree (default 60s)
 *
 * Every key is optional; unknown keys, a principal twice, an identifier
 * mapped to two principals and an issuer twice are errors (file:line:col).
 */
#ifndef ACTGATE_SIGNALS_TRUST_H
#define ACTGATE_SIGNALS_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "signals/caep.h"
#include "signals/jose.h"
#include "util/diag.h"

#define TRUST_MAX_ISSUERS 16
#define TRUST_MAX_PRINCIPALS 4096
#define TRUST_MAX_ALIASES 16
#define TRUST_DEFAULT_MAX_AGE_S (15 * 60)
#define TRUST_DEFAULT_SKEW_S 60
/* A token with an unknown kid reads the issuer's key file again at most this often. */
#define TRUST_REFRESH_INTERVAL_S 5

struct trust_issuer {
	char *issuer;
	char *audience;  /* NULL: aud is not checked (docs say why to set it) */
	char *jwks_file;
	int64_t max_age_s;
	int64_t skew_s;
	struct jose_keys keys; /* loaded by trust_load */
};

struct trust_principal {
	char *name;
	struct caep_id *ids;
	size_t count;
};

struct signal_trust {
	char *device_id; /* NULL: none; device events are then for no device here */
	struct trust_principal *principals;
	size_t principal_count;
	struct trust_issuer *issuers;
	size_t issuer_count;
};

/*
 * Parse a trust file's text (name labels messages) into t (zeroed); keys are
 * not loaded. 0; -EINVAL after adding errors to diags (t empty); -ENOMEM.
 */
int trust_parse(const char *name, const char *text, size_t len, struct signal_trust *t,
		struct diag_list *diags);

/* Read and parse path, and load every issuer's keys. As trust_parse; -errno of reading. */
int trust_load(const char *path, struct signal_trust *t, struct diag_list *diags);

/* The issuer entry for iss; NULL when it is not trusted. */
struct trust_issuer *trust_issuer(struct signal_trust *t, const char *iss);

/* The principal an identifier is mapped to; NULL when none. Emails compare case-insensitively. */
const char *trust_principal_of(const struct signal_trust *t, const struct caep_id *id);

/* Whether a principal name is one the file maps identifiers to. */
bool trust_knows_principal(const struct signal_trust *t, const char *name);

void trust_free(struct signal_trust *t);

#endif /* ACTGATE_SIGNALS_TRUST_H */
