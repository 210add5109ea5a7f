/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decision records from the kernel's ring buffer into the journal, enriched
 * with what the kernel does not know: the workload's name, labels and
 * principal, the names of the policy and rule that decided (from the
 * generation that decided, or the names an adopted generation left), and
 * the signals the workload's policies read.
 */
#ifndef ACTGATE_DAEMON_RECORDS_H
#define ACTGATE_DAEMON_RECORDS_H

#include <linux/types.h>
#include <stddef.h>

#include "actgate/abi.h"
#include "daemon/runtime.h"

/* The enforcer's callback for one record (ctx: the daemon): queued for the journal. */
int records_journal(const struct actgate_decision *rec, size_t size, void *ctx);

/*
 * A record the daemon decided itself (an applied signal event,
 * signalctl_host.journal, a delegation; ctx: the daemon), stamped now unless
 * stamped already, and written at once: no ring buffer holds it.
 */
struct journal_record;
void records_write_daemon(void *ctx, struct journal_record *r);

/* Take every waiting record from the kernel and write them to the journal at once. */
void records_drain(struct daemon *d);

/* Log and save the drop counts when they have grown: the ring buffer was full. */
void records_check_dropped(struct daemon *d);

#endif /* ACTGATE_DAEMON_RECORDS_H */
