/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel side seen from userspace: load and attach the BPF LSM
 * programs, write the policy image and the workload table into their maps,
 * and hand decision records to a callback.
 */
#ifndef ACTGATE_ENFORCER_H
#define ACTGATE_ENFORCER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "compile.h"

struct actgate_bpf;
struct ring_buffer;

/* Called for every record drained from the ring buffer. Return 0 to go on. */
typedef int (*record_handler_fn)(const struct actgate_decision *rec, size_t size, void *ctx);

struct enforcer {
	struct actgate_bpf *skel;
	struct ring_buffer *events;
	void *drain_ctx; /* the handler and its context, owned here */
	/*
	 * The signal store's generation that enforcer_add_workload stamps into
	 * the entries it writes (decision records carry it): the caller sets
	 * it before pointing workloads at policies chosen under it.
	 */
	uint64_t signal_generation;
};

/*
 * Can this kernel enforce? Checks that the BPF LSM is active. Returns 0, or
 * -EOPNOTSUPP with the reason in why.
 */
int enforcer_probe(char *why, size_t why_size);

/* Open, load and attach every program. -errno, logged with the reason. */
int enforcer_start(struct enforcer *e, record_handler_fn handler, void *handler_ctx, bool verbose);

/*
 * Write one effective policy: its rules first, then the policy header that
 * makes them reachable, so that no lookup sees a header without its rules.
 */
int enforcer_load_policy(struct enforcer *e, const struct policy_image *img,
			 const struct effective_policy *ep);

/* Write every effective policy of an image, each as enforcer_load_policy does. */
int enforcer_load_image(struct enforcer *e, const struct policy_image *img);

/*
 * Remove an effective policy's entries, or an image's: the headers first,
 * so that from then on nothing reaches the rules. Only once no program can
 * still be using them: a program that read the old header before a swap
 * looks up its rules after it (see the daemon's grace period). Entries
 * already gone are fine (a failed load may have written part).
 */
void enforcer_unload_policy(struct enforcer *e, const struct policy_image *img,
			    const struct effective_policy *ep);
void enforcer_unload_image(struct enforcer *e, const struct policy_image *img);

/*
 * Point a workload at a policy (one map update: an action sees the old
 * entry or the new one). An existing entry keeps its flags (revoked,
 * grants) and expiry; the signal generation is e->signal_generation.
 */
int enforcer_add_workload(struct enforcer *e, uint64_t cgroup_id, uint64_t workload_id,
			  uint32_t policy_id);
/* A workload's whole entry: read it, and write it back changed (one update). */
int enforcer_get_workload(const struct enforcer *e, uint64_t cgroup_id, struct actgate_workload *wl);
int enforcer_put_workload(struct enforcer *e, uint64_t cgroup_id, const struct actgate_workload *wl);

/*
 * Does the kernel count task pid as governed (it carries a workload mark,
 * wherever its cgroup is now)? 1, 0, or -errno (the task is gone, ...).
 */
int enforcer_task_governed(const struct enforcer *e, int pid);

/* Time-bound grants (bpf/grant.h): add or replace one, remove one (gone is fine). */
int enforcer_put_grant(struct enforcer *e, const struct actgate_grant_key *key,
		       const struct actgate_grant *grant);
int enforcer_remove_grant(struct enforcer *e, const struct actgate_grant_key *key);
int enforcer_remove_workload(struct enforcer *e, uint64_t cgroup_id);

/* The file descriptor to poll for records, and the drain call. */
int enforcer_events_fd(const struct enforcer *e);
int enforcer_drain(struct enforcer *e);

/* Records lost because the ring buffer was full, per action. */
int enforcer_dropped(const struct enforcer *e, uint64_t dropped[ACTGATE_ACTION_COUNT]);

void enforcer_stop(struct enforcer *e);

#endif /* ACTGATE_ENFORCER_H */
