/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Time-bound grants (docs/signals.md): one action a running workload's
 * policy denies, allowed until an expiry the kernel checks itself. The
 * daemon keeps the list (in struct signalctl, signalctl.h) to show and
 * remove grants, saved with the signals (signalstate.h) before a change is
 * acknowledged, and drops each from the kernel a while after it expired
 * or its workload went.
 */
#ifndef ACTGATE_DAEMON_GRANTCTL_H
#define ACTGATE_DAEMON_GRANTCTL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "actgate/abi.h"
#include "daemon/signalctl.h"
#include "util/json.h"

/* The verbs grant, grant-list and grant-remove (keys checked by verbs.c). */
void grantctl_verb_grant(struct signalctl *s, int fd, const struct json_msg *msg);
void grantctl_verb_list(struct signalctl *s, int fd, const struct json_msg *msg);
void grantctl_verb_remove(struct signalctl *s, int fd, const struct json_msg *msg);

/*
 * One grant for workload w, written to the kernel (a sub-workload's rule
 * that its parent's delegate: allowed, delegation.c), until
 * expires_boot_ns or, with GRANT_NEVER, for the workload's life; saved
 * with the next save. 0 with *id, or -errno (nothing changed).
 */
struct grant_target;
int grantctl_add(struct signalctl *s, const struct workload *w, const struct grant_target *gt,
		 uint64_t expires_boot_ns, const char *reason, uint32_t *id);

/* Timer work: drop the grants whose workload went or that expired a minute ago. */
void grantctl_tick(struct signalctl *s);

/*
 * After a start, once the workloads are known (adopted): the grants the
 * state file listed (signalstate_load) are written to the kernel again,
 * with the expiry they had, and those whose workload is gone are dropped.
 * Before any request is served.
 */
void grantctl_restore(struct signalctl *s);

/* A decision a grant made: its name ("grant:ID") into rule, and true. */
bool grantctl_rule_name(const struct actgate_decision *rec, char *rule, size_t size);

#endif /* ACTGATE_DAEMON_GRANTCTL_H */
