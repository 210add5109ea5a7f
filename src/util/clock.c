/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include "util/clock.h"

uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
