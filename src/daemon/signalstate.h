/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the daemon was told that must outlive it: the signal store and the
 * revocations (by workload name and by principal), kept in
 * STATE_DIR/signals and replaced whole (util/io.h's write_file_atomic) on
 * every change, before the change is acknowledged. A starting daemon reads
 * it back before it serves a request, so a principal revoked before a
 * restart or a reboot stays revoked until `actgate revoke --clear`.
 *
 * The file is text, one item per line, fields separated by tabs (no field
 * can hold a tab or a line break: every one is checked as a request's is):
 *   actgate-signals 2
 *   signal SCOPE SUBJECT NAME VALUE SOURCE SET-NS EXPIRES-NS
 *   revocation SCOPE SUBJECT REASON AT-NS
 *   grant-ids LAST-ID
 *   grant ID WORKLOAD-ID WORKLOAD KEY TARGET REASON EXPIRES-NS
 *   end
 * SCOPE is host, principal or workload (SUBJECT empty for host); times are
 * wall-clock ns since the epoch (the store's boot-clock times do not survive
 * a reboot); EXPIRES-NS 0 never expires. A grant's KEY is its kernel key
 * (struct actgate_grant_key) in hex, so that it names the same inode or
 * address it named when granted, whatever its path leads to now; grants
 * name workloads by id, so a grant outlives a restart of the daemon (its
 * workload adopted) but not its workload or a reboot (grantctl_restore).
 * Grants are kept expired or not: the kernel checks their expiry, and an
 * expired grant stays a minute so that denials name it, then goes.
 * Version 1 files (no grants) are read too.
 */
#ifndef ACTGATE_DAEMON_SIGNALSTATE_H
#define ACTGATE_DAEMON_SIGNALSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/signalctl.h"

#define SIGNALSTATE_FILE_NAME "signals"
#define SIGNALSTATE_MAGIC "actgate-signals 2"
#define SIGNALSTATE_MAGIC_V1 "actgate-signals 1"

/*
 * Write s's signals (those not expired), revocations and grants into dir. 0, or
 * -errno with the reason in why.
 */
int signalstate_save(const struct signalctl *s, const char *dir, char *why, size_t why_size);

/*
 * Read dir's file into s, whose store, revocations and grants are empty:
 * signals that expired meanwhile are left out; grants are listed only (the
 * kernel is told by grantctl_restore, once the workloads are known). 0; -ENOENT when there is none (s
 * unchanged); -EINVAL for a file that is not exactly what signalstate_save
 * writes, with "PATH:LINE: what" in why (s unchanged); -errno otherwise.
 */
int signalstate_load(struct signalctl *s, const char *dir, char *why, size_t why_size);

/* The part of signalstate_load that tests reach: text, its name for messages, and the clocks. */
int signalstate_parse(struct signalctl *s, const char *text, size_t len, const char *name,
		      uint64_t now_wall_ns, uint64_t now_boot_ns, char *why, size_t why_size);

#endif /* ACTGATE_DAEMON_SIGNALSTATE_H */
