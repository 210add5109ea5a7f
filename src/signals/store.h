/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The signal store: typed facts (a name and a value) about the host, a
 * principal or a workload, each optionally expiring. Policies' `when:`
 * overlays read the view a workload has of them (policy.h, struct
 * signal_view); every change bumps the store's generation, which decision
 * records carry. The store holds no clock: callers pass the time.
 */
#ifndef ACTGATE_SIGNALS_STORE_H
#define ACTGATE_SIGNALS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

enum signal_scope {
	SIGNAL_HOST = 0,      /* every workload of this host */
	SIGNAL_PRINCIPAL = 1, /* every workload delegated by this principal */
	SIGNAL_WORKLOAD = 2,  /* one workload, by name */
};

#define SIGNAL_SUBJECT_MAX 255 /* a principal or workload name, in bytes */
#define SIGNAL_SOURCE_MAX 255
#define SIGNAL_MAX_COUNT 4096 /* signals in one store: a bound on outside input */

struct signal {
	enum signal_scope scope;
	char *subject;       /* principal or workload; NULL for the host */
	char *name;
	char *value;
	char *source;        /* who set it: "cli", "caep:ISSUER", ... */
	uint64_t set_ns;     /* when, in the caller's clock */
	uint64_t expires_ns; /* 0: never */
};

struct signal_store {
	struct signal *items;
	size_t count;
	size_t cap;
	uint64_t generation; /* bumped by every change, from 0 */
};

/* "host", "principal", "workload"; and back (-EINVAL for anything else). */
const char *signal_scope_name(enum signal_scope scope);
int signal_scope_parse(const char *text, enum signal_scope *scope);

/*
 * Check a signal before it is set: scope and subject agree (a subject for
 * principal and workload, none for host), the name is a valid signal name,
 * the value 1 to POLICY_SIGNAL_VALUE_MAX bytes without control characters,
 * the subject and source printable and bounded. Returns 0 or -EINVAL with
 * the reason in why.
 */
int signal_check(enum signal_scope scope, const char *subject, const char *name,
		 const char *value, const char *source, char *why, size_t why_size);

/*
 * Set (or replace) a signal; ttl_ns 0 means it does not expire. Returns 1
 * when the store changed (the generation moved), 0 when the same value was
 * already set (its expiry is still renewed), -EINVAL (why says) or -ENOMEM;
 * on error the store is unchanged.
 */
int signal_store_set(struct signal_store *st, enum signal_scope scope, const char *subject,
		     const char *name, const char *value, const char *source, uint64_t ttl_ns,
		     uint64_t now_ns, char *why, size_t why_size);

/* Remove a signal. 1 when it was set, 0 when it was not. */
int signal_store_clear(struct signal_store *st, enum signal_scope scope, const char *subject,
		       const char *name);

/* Remove what expired by now_ns; returns how many (the generation moves when any). */
size_t signal_store_expire(struct signal_store *st, uint64_t now_ns);

/* The earliest expiry still ahead, or 0 when nothing expires. */
uint64_t signal_store_next_expiry(const struct signal_store *st);

/*
 * The signals a workload sees: for each name, the workload's own value wins
 * over its principal's, which wins over the host's; what has expired by
 * now_ns is not seen, whether or not it was removed yet. principal may be
 * NULL. The strings point into the store (valid until its next change);
 * view->values is allocated (free it). Returns 0 or -ENOMEM.
 */
int signal_store_view(const struct signal_store *st, const char *workload, const char *principal,
		      uint64_t now_ns, struct signal_view *view);

void signal_store_free(struct signal_store *st);

#endif /* ACTGATE_SIGNALS_STORE_H */
