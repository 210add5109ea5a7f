/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's live state about identity and signals, and the control
 * verbs that change it: signal-set, signal-clear, signal-list,
 * signal-ingest (a CAEP token, applied whole or not at all), revoke,
 * revoke-list, grant, grant-list, grant-remove. Also the CAEP spool
 * directory and the timer work (signals that expire, grants that have gone).
 *
 * The daemon owns the workloads and the policy generations; this module
 * reaches them through struct sigctl_host, so that re-evaluating `when:`
 * overlays reuses the daemon's bind-and-swap (no window with a half-written
 * rule set).
 */
#ifndef ACTGATE_CONTROL_SIGNALS_H
#define ACTGATE_CONTROL_SIGNALS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "identity/workload.h"
#include "kernel/enforcer.h"
#include "policy/policy.h"
#include "signals/store.h"
#include "util/json.h"

struct sigctl_host {
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
};

struct sigctl_grant {
	uint32_t id;
	uint64_t workload_id;
	char *workload;  /* its name, for lists */
	char *target;    /* normalised */
	char *reason;
	uint64_t expires_boot_ns;
	struct actgate_grant_key key;
};

struct sigctl_revocation {
	enum signal_scope scope; /* SIGNAL_PRINCIPAL or SIGNAL_WORKLOAD */
	char *subject;
	char *reason;
	uint64_t at_boot_ns;
};

/* What the policies of a workload read of the signals, per signal generation. */
struct sigctl_binding {
	uint64_t workload_id;
	uint64_t generation;
	char *signals; /* "name=value,..." sorted by name; "" when none */
};

#define SIGCTL_BINDINGS 1024 /* a ring: enough for records still in the ring buffer */
/* The kernel map holds ACTGATE_MAX_GRANTS (bpf/maps.h): keep the two equal. */
#define SIGCTL_MAX_GRANTS 16384

struct sigctl {
	struct sigctl_host host;
	struct signal_store store;
	struct sigctl_grant *grants;
	size_t grant_count, grant_cap;
	uint32_t next_grant_id;
	struct sigctl_revocation *revoked;
	size_t revoked_count, revoked_cap;
	struct sigctl_binding ring[SIGCTL_BINDINGS];
	size_t ring_next;
	const char *spool_dir; /* NULL: none */
	uint64_t next_spool_scan_ns;
};

/* Set up (host is copied); spool_dir may be NULL. 0 or -errno (logged). */
int sigctl_init(struct sigctl *s, const struct sigctl_host *host, const char *spool_dir);
void sigctl_free(struct sigctl *s);

/* Is verb one of ours? Then sigctl_handle answers it (keys checked there). */
bool sigctl_handles(const char *verb);
void sigctl_handle(struct sigctl *s, int fd, const char *verb, const struct json_msg *msg);

/* The signals workload w sees now; view->values is allocated (free it). 0 or -ENOMEM. */
int sigctl_view(const struct sigctl *s, const struct workload *w, struct signal_view *view);

/*
 * For `run`: refuse a workload whose name or principal is revoked, and read
 * the request's "ttl_ms" (0: none). 0, or -EINVAL/-EPERM with why.
 */
int sigctl_check_run(const struct sigctl *s, const struct json_msg *msg, const char *name,
		     const char *principal, uint64_t *ttl_ns, char *why, size_t why_size);
/* A new workload is in the kernel: give it its expiry (ttl_ns; 0: none). 0 or -errno. */
int sigctl_workload_started(struct sigctl *s, const struct workload *w, uint64_t ttl_ns);
/* Every workload was (re)bound under the current signals (after a reload). */
void sigctl_bound(struct sigctl *s);

/*
 * Enrich a journal record: the signal generation the kernel stamped and the
 * signals its workload's policies read under it (NULL when unknown). And for
 * a decision a grant made, its name ("grant:ID") into rule: true then.
 */
char *sigctl_record_signals(const struct sigctl *s, const struct actgate_decision *rec);
/* The signals w's policies read under the current generation ("" when none; NULL: unknown). */
const char *sigctl_workload_signals(const struct sigctl *s, uint64_t workload_id);
bool sigctl_grant_rule(const struct sigctl *s, const struct actgate_decision *rec, char *rule,
		       size_t size);

/* Timer work: expire signals (and re-evaluate), drop stale grants, read the spool. */
void sigctl_tick(struct sigctl *s);
/* How long the event loop may sleep before sigctl_tick has work, in ms (capped at max_ms). */
int sigctl_timeout_ms(const struct sigctl *s, int max_ms);

#endif /* ACTGATE_CONTROL_SIGNALS_H */
