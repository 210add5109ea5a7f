/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Durations as people write them on the command line: 90s, 5m, 2h, 1d, 250ms. */
#ifndef ACTGATE_DURATION_H
#define ACTGATE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_NS (366ull * 24 * 3600 * 1000000000ull) /* a year and a day */

/*
 * A positive whole number followed by a unit: ms, s, m, h or d (a bare
 * number is seconds), or several such terms from the largest unit to the
 * smallest, each unit once ("1h30m", "1m30s": what duration_format prints).
 * Returns 0 with *ns set, or -EINVAL with the reason in why: empty, no
 * number, an unknown unit, units out of order, zero, or more than
 * DURATION_MAX_NS.
 */
int duration_parse(const char *text, uint64_t *ns, char *why, size_t why_size);

/* "1h30m", "250ms", "2d": the shortest exact spelling, for messages. */
void duration_format(uint64_t ns, char *buf, size_t size);

#endif /* ACTGATE_DURATION_H */
