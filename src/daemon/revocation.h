/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Revocation: a workload name or a principal that may not act any more.
 * Every live workload it names, and every workload nested below one, is
 * flagged revoked in the kernel (every action denied from then on), and
 * `actgate run` refuses to start it again. Revocations live in struct
 * signalctl (signalctl.h), are saved with the signals (signalstate.h) and
 * last, across restarts and reboots, until revoke-clear.
 */
#ifndef ACTGATE_DAEMON_REVOCATION_H
#define ACTGATE_DAEMON_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/signalctl.h"
#include "signals/store.h"
#include "util/json.h"

/*
 * Revoke subject (SIGNAL_WORKLOAD: a workload name; SIGNAL_PRINCIPAL) for
 * reason; count is how many live workloads were flagged. 0, -ENOMEM, or
 * -EIO when some could not be flagged in the kernel (the others are).
 */
int revocation_add(struct signalctl *s, enum signal_scope scope, const char *subject,
		   const char *reason, size_t *count);

/*
 * Add a revocation to the list only (nothing live is flagged): for one read
 * back at start (signalstate.c). 0 or -ENOMEM.
 */
int revocation_append(struct signalctl *s, enum signal_scope scope, const char *subject,
		      const char *reason, uint64_t at_boot_ns);

/*
 * Take subject's revocation out of the list: new workloads of that name or
 * principal may start again; workloads already revoked stay revoked (their
 * flag in the kernel is not lifted). 1 when there was one, 0 otherwise.
 */
int revocation_clear(struct signalctl *s, enum signal_scope scope, const char *subject);

/*
 * For `run`: may a workload of this name and principal (NULL: none) start?
 * 0, or -EPERM with why.
 */
int revocation_check_run(const struct signalctl *s, const char *name, const char *principal,
			 char *why, size_t why_size);

/* The verbs revoke, revoke-clear and revoke-list (keys checked by verbs.c). */
void revocation_verb_revoke(struct signalctl *s, int fd, const struct json_msg *msg);
void revocation_verb_clear(struct signalctl *s, int fd, const struct json_msg *msg);
void revocation_verb_list(struct signalctl *s, int fd, const struct json_msg *msg);

#endif /* ACTGATE_DAEMON_REVOCATION_H */
