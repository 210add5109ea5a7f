/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a token's events change on this host: each event's subject read
 * against what actgate knows (the trust file's device id and principals,
 * and the workloads running now) and turned into effects on the signal
 * store and the revocations. Nothing is changed here; the daemon applies
 * the plan (daemon/ingest.c), and `signal ingest --dry-run` prints it.
 *
 * A subject that names nothing actgate knows refuses the token (-ENOENT,
 * why names it): never an effect on a name no workload can have. A device
 * other than this host, and the informational session-established and
 * session-presented, are understood and change nothing (their note says so).
 * docs/signals.md has the table of what each event does.
 */
#ifndef ACTGATE_SIGNALS_RESOLVE_H
#define ACTGATE_SIGNALS_RESOLVE_H

#include <stddef.h>

#include "identity/workload.h"
#include "signals/caep.h"
#include "signals/store.h"
#include "signals/trust.h"

/* The label that names a workload's session, matched by session subjects. */
#define RESOLVE_SESSION_LABEL "session"

enum resolved_kind {
	RESOLVED_SET_SIGNAL = 1, /* set name = value on the subject */
	RESOLVED_REVOKE = 2,     /* revoke the subject: every action denied from now on */
};

struct resolved_effect {
	enum resolved_kind kind;
	enum signal_scope scope;
	char *subject; /* principal or workload name; NULL for the host */
	char *name;    /* RESOLVED_SET_SIGNAL */
	char *value;
};

struct resolved_event {
	const struct caep_event *event; /* in the set resolved */
	struct resolved_effect *effects;
	size_t count;
	char *subject;   /* the subject as the token names it (caep_subject_describe) */
	char *principal; /* the principal it was read as; NULL when none */
	char *note;      /* how it was read, or why it changes nothing; NULL when plain */
};

struct signal_plan {
	struct resolved_event *events;
	size_t count;
};

/*
 * Resolve every event of set. trust may be NULL (no trust file: no device
 * id, no mapped principals); live is the workloads running now. 0 with plan
 * filled (signal_plan_free it); -ENOENT or -EINVAL with why (plan empty);
 * -ENOMEM.
 */
int signal_resolve(const struct caep_set *set, const struct signal_trust *trust,
		   const struct workload_table *live, struct signal_plan *plan, char *why,
		   size_t why_size);

/* "revoke principal alice@example.com", "set host device-compliance=not-compliant". */
void resolved_effect_describe(const struct resolved_effect *e, char *buf, size_t size);

void signal_plan_free(struct signal_plan *plan);

#endif /* ACTGATE_SIGNALS_RESOLVE_H */
