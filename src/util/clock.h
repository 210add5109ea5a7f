/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Clocks in nanoseconds. Which clock matters: the kernel stamps decisions in
 * CLOCK_BOOTTIME (bpf_ktime_get_boot_ns), TTLs and signal expiry follow it
 * too (a suspended host does not stretch a grant); timeouts and ticks use
 * CLOCK_MONOTONIC; what people read is CLOCK_REALTIME.
 */
#ifndef ACTGATE_UTIL_CLOCK_H
#define ACTGATE_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_gettime(clock) in ns; clock_gettime cannot fail for these clocks. */
uint64_t clock_ns(clockid_t clock);

static inline uint64_t boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static inline uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

#endif /* ACTGATE_UTIL_CLOCK_H */
