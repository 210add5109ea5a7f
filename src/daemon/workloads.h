/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's workloads: binding each to its effective policy in a
 * generation, `actgate run` (the verb run), the workloads discovery finds
 * under --watch-cgroup roots, and their removal once they are gone.
 */
#ifndef ACTGATE_DAEMON_WORKLOADS_H
#define ACTGATE_DAEMON_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/runtime.h"
#include "identity/workload.h"
#include "util/json.h"

/*
 * The effective policy of workload w in generation g: the composition of
 * every policy that selects w, each with the overlays its signals make
 * active. Compiled into g's image when no workload had that key yet; it is
 * then written to the kernel (when write is set; a reload writes the whole
 * image at once) before anything points at it. Returns 0 with *policy_id,
 * or -errno with the reason in why.
 */
int workloads_bind(struct daemon *d, struct generation *g, const struct workload *w, bool write,
		   uint32_t *policy_id, char *why, size_t why_size);

/*
 * Bind every live workload in generation g (workloads_bind): ids[i] is the
 * effective policy of workload i. On failure why names the workload.
 */
int workloads_bind_all(struct daemon *d, struct generation *g, bool write, uint32_t *ids,
		       char *why, size_t why_size);

/*
 * Point every workload at its policy of ids (one atomic map update each,
 * so each workload sees its old policy or its new one, never a mix). On
 * failure those already moved are put back, and the workloads are as
 * they were.
 */
int workloads_swap(struct daemon *d, const struct generation *g, const uint32_t *ids);

/*
 * The signals changed: bind every workload again in the current generation
 * and point each at its policy with one map update, as a reload does. Each
 * entry is stamped with the store's new generation. 0, or -errno with why.
 */
int workloads_rebind(struct daemon *d, char *why, size_t why_size);

/* The names of the policies of an effective policy, joined by ',' (malloc'd). */
char *workloads_policy_names(const struct generation *g, uint32_t policy_id);

/* The file-system path of a cgroup path. 0 or -ENAMETOOLONG. */
int workloads_cgroup_fs_path(const struct daemon *d, const char *cgroup_path, char *out,
			     size_t size);

/* Helpers of the verb run that a sub-workload's run (delegation.c) shares. */
void workloads_cgroup_leaf_name(const char *name, uint64_t id, char *out, size_t size);
int workloads_parse_labels(const struct json_member *m, char **labels, char *why,
			   size_t why_size);
int workloads_run_ttl(const struct json_msg *msg, uint64_t *ttl_ns, char *why, size_t why_size);

/* The verb run: a new cgroup, governed before the reply (keys checked by verbs.c). */
void workloads_verb_run(struct daemon *d, int fd, const struct json_msg *msg);

/* The client that ran workloads is gone (fd closed): they may go once empty. */
void workloads_release(struct daemon *d, int fd);

/*
 * A workload whose `actgate run` is gone is removed once its cgroup is
 * empty; until then it stays governed, so stray descendants stay policed.
 * One that discovery found goes once its runtime removed the cgroup.
 */
void workloads_sweep(struct daemon *d);

/*
 * Each watched root becomes the workload "unidentified:ROOT", so that the
 * kernel governs every cgroup below it from its first action, before a
 * scan identifies it; then discovery starts. A root no policy selects, or
 * one that holds actgated itself, refuses the start: never a watched root
 * that is not policed. 0 or -errno (logged).
 */
int workloads_watch_roots(struct daemon *d);

#endif /* ACTGATE_DAEMON_WORKLOADS_H */
