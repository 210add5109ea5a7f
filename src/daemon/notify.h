/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What actgated tells systemd (Type=notify, sd_notify(3)): READY=1 only once
 * the policy is live in the kernel, a STATUS= line after every change of
 * generation, RELOADING=1 with MONOTONIC_USEC= before a reload and READY=1
 * after it, WATCHDOG=1 from the main loop when the unit has WatchdogSec=,
 * STOPPING=1 at the stop. Without $NOTIFY_SOCKET all of it does nothing.
 */
#ifndef ACTGATE_DAEMON_NOTIFY_H
#define ACTGATE_DAEMON_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct notify {
	uint64_t watchdog_every_ns; /* 0: no watchdog */
	uint64_t watchdog_next_ns;  /* monotonic */
	/* What the last STATUS= line said, so that a change sends a new one. */
	uint32_t shown_generation;
	size_t shown_workloads;
};

/* Read WATCHDOG_USEC (sd_watchdog_enabled): ping at half the interval. */
void notify_init(struct notify *n);

/* READY=1 with a STATUS= line. */
void notify_ready(const char *status);
/* A STATUS= line alone. */
void notify_status(const char *status);
/* RELOADING=1 and MONOTONIC_USEC= (the reload starts now). */
void notify_reloading(void);
void notify_stopping(void);

/* WATCHDOG=1 when due; the loop calls this every round. */
void notify_watchdog_tick(struct notify *n);

/* The longest the loop may sleep so that the next ping is on time (-1: no limit). */
int notify_timeout_ms(const struct notify *n, int timeout_ms);

#endif /* ACTGATE_DAEMON_NOTIFY_H */
