/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "daemon/notify.h"
#include "util/clock.h"
#include "util/log.h"

/* Send one notification; a failure is logged once per kind of message, never fatal. */
static void send_state(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_state(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* 0: no $NOTIFY_SOCKET (not started by systemd); < 0: systemd is not listening. */
	r = sd_notify(0, msg);
	if (r < 0)
		log_warn("systemd", "sd_notify(%.40s...): %s", msg, strerror(-r));
}

void notify_init(struct notify *n)
{
	uint64_t usec = 0;

	*n = (struct notify){ 0 };
	/* > 0: WatchdogSec= is set for this process; ping at half the interval, as systemd advises. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec) {
		n->watchdog_every_ns = usec * 1000 / 2;
		n->watchdog_next_ns = mono_ns();
		log_info("systemd", "watchdog: pinging every %llu ms",
			 (unsigned long long)(n->watchdog_every_ns / 1000000));
	}
}

void notify_ready(const char *status)
{
	send_state("READY=1\nSTATUS=%s", status);
}

void notify_status(const char *status)
{
	send_state("STATUS=%s", status);
}

void notify_reloading(void)
{
	struct timespec ts;

	/* systemd (253+) pairs RELOADING=1 with the monotonic time it was sent at. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	send_state("RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
}

void notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping; enforcement goes on from the pins");
}

void notify_watchdog_tick(struct notify *n)
{
	uint64_t now;

	if (!n->watchdog_every_ns)
		return;
	now = mono_ns();
	if (now < n->watchdog_next_ns)
		return;
	send_state("WATCHDOG=1");
	n->watchdog_next_ns = now + n->watchdog_every_ns;
}

int notify_timeout_ms(const struct notify *n, int timeout_ms)
{
	uint64_t now, left_ms;

	if (!n->watchdog_every_ns)
		return timeout_ms;
	now = mono_ns();
	left_ms = now >= n->watchdog_next_ns ? 0 : (n->watchdog_next_ns - now) / 1000000 + 1;
	if (timeout_ms < 0 || left_ms < (uint64_t)timeout_ms)
		return (int)left_ms;
	return timeout_ms;
}
