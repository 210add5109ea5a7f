/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's live state about identity and signals: the signal store,
 * the revocations, the grants, and what each workload's policies read of
 * the store. This file keeps the store and its verbs (signal-set,
 * signal-clear, signal-list) and the timer work of signals that expire;
 * revocation.c, grantctl.c and ingest.c (CAEP tokens, from the control
 * socket and spool.c) change the rest of this state.
 *
 * The daemon owns the workloads and the policy generations; these modules
 * reach them through struct signalctl_host, so that re-evaluating `when:`
 * overlays reuses the daemon's bind-and-swap (no window with a half-written
 * rule set). Every request is checked whole before anything changes; a
 * change that cannot be carried into the kernel is undone, so a refused
 * request leaves the store, the grants and the workloads as they were.
 */
#ifndef ACTGATE_DAEMON_SIGNALCTL_H
#define ACTGATE_DAEMON_SIGNALCTL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "identity/workload.h"
#include "journal/decision.h"
#include "kernel/enforcer.h"
#include "policy/policy.h"
#include "signals/jti.h"
#include "signals/store.h"
#include "signals/trust.h"
#include "util/json.h"

struct signalctl_host {
	void *ctx;
	struct workload_table *workloads;
	struct enforcer *enforcer;
	/* The policy set in force, to name the signals a workload's policies read. */
	const struct policy_set *(*policy_set)(void *ctx);
	/*
	 * Bind every workload again under the current signals and swap those
	 * whose effective policy moved; the workloads are as they were on
	 * failure (-errno, why says). Stamps enforcer->signal_generation.
	 */
	int (*rebind)(void *ctx, char *why, size_t why_size);
	/*
	 * Write the signals and revocations durably (signalstate.h), before a
	 * change of them is acknowledged. 0, or -errno with why.
	 */
	int (*save)(void *ctx, char *why, size_t why_size);
	/*
	 * Write a record the daemon made itself (an applied signal event) to
	 * the journal now (records_write_daemon); NULL: not journaled (tests).
	 */
	void (*journal)(void *ctx, struct journal_record *r);
};

struct signalctl_grant {
	uint32_t id;
	uint64_t workload_id;
	char *workload;  /* its name, for lists */
	char *target;    /* normalised */
	char *reason;
	uint64_t expires_boot_ns;
	struct actgate_grant_key key;
};

struct signalctl_revocation {
	enum signal_scope scope; /* SIGNAL_PRINCIPAL or SIGNAL_WORKLOAD */
	char *subject;
	char *reason;
	uint64_t at_boot_ns;
};

/* What the policies of a workload read of the signals, per signal generation. */
struct signalctl_binding {
	uint64_t workload_id;
	uint64_t generation;
	/*
	 * "name=value,..." sorted by name; NULL when its policies read none
	 * (most workloads: no allocation, so a ring filling with workloads
	 * that read no signals does not grow the heap).
	 */
	char *signals;
	bool used;
};

#define SIGNALCTL_BINDINGS 1024 /* a ring: enough for records still in the ring buffer */
/* The kernel map holds ACTGATE_MAX_GRANTS (bpf/maps.h): keep the two equal. */
#define SIGNALCTL_MAX_GRANTS 16384

struct signalctl {
	struct signalctl_host host;
	struct signal_store store;
	struct signalctl_grant *grants;     /* grantctl.c */
	size_t grant_count, grant_cap;
	uint32_t next_grant_id;
	struct signalctl_revocation *revoked; /* revocation.c */
	size_t revoked_count, revoked_cap;
	struct signalctl_binding ring[SIGNALCTL_BINDINGS];
	size_t ring_next;
	/* Signed events (ingest.c): whom they are taken from, and the jtis already taken. */
	struct signal_trust trust;
	struct jti_cache seen;
};

/* Set up, empty (host is copied). */
void signalctl_init(struct signalctl *s, const struct signalctl_host *host);
void signalctl_free(struct signalctl *s);
/*
 * After a change of the signals or revocations is in force: save it (the
 * host's save). 0, or -errno with why; the change stays in force either way
 * (undoing a revocation because a disk is full would be the wrong way to fail).
 */
int signalctl_save(struct signalctl *s, char *why, size_t why_size);

/* Free what one grant holds (its strings). */
void signalctl_grant_free(struct signalctl_grant *g);

/* The signals workload w sees now; view->values is allocated (free it). 0 or -ENOMEM. */
int signalctl_view(const struct signalctl *s, const struct workload *w, struct signal_view *view);

/* A copy of the store to go back to (signalctl_commit). 0 or -ENOMEM. */
int signalctl_snapshot(const struct signalctl *s, struct signal_store *old);
/*
 * Carry a store change into the kernel: every workload bound again and
 * swapped; old is freed. On failure the store goes back to old (the
 * generation still moves on: it never repeats), the workloads are bound
 * again under it, and why says what was refused.
 */
int signalctl_commit(struct signalctl *s, struct signal_store *old, char *why, size_t why_size);

/* Set flags (ACTGATE_WORKLOAD_*) on w's entry in the kernel. 0 or -errno. */
int signalctl_set_workload_flags(struct signalctl *s, const struct workload *w, uint32_t flags);

/* A new workload is in the kernel: give it its expiry (ttl_ns; 0: none). 0 or -errno. */
int signalctl_workload_started(struct signalctl *s, const struct workload *w, uint64_t ttl_ns);
/* Every workload was (re)bound under the current signals (after a reload). */
void signalctl_bound(struct signalctl *s);

/*
 * Enrich a journal record: the signal generation the kernel stamped and the
 * signals its workload's policies read under it (NULL when unknown).
 */
const char *signalctl_record_signals(const struct signalctl *s, const struct actgate_decision *rec);
/* The signals w's policies read under the current generation ("" when none; NULL: unknown). */
const char *signalctl_workload_signals(const struct signalctl *s, uint64_t workload_id);

/* The verbs signal-set, signal-clear and signal-list (keys checked by verbs.c). */
void signalctl_verb_set(struct signalctl *s, int fd, const struct json_msg *msg);
void signalctl_verb_clear(struct signalctl *s, int fd, const struct json_msg *msg);
void signalctl_verb_list(struct signalctl *s, int fd, const struct json_msg *msg);

/* Timer work: expire signals, and bind the workloads again when some did. */
void signalctl_tick(struct signalctl *s);
/* How long the event loop may sleep before a signal expires, in ms (capped at max_ms). */
int signalctl_timeout_ms(const struct signalctl *s, int max_ms);

#endif /* ACTGATE_DAEMON_SIGNALCTL_H */
