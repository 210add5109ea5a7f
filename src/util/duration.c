/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/duration.h"

#define MS 1000000ull
#define SEC (1000 * MS)

static const struct unit {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "d", 24 * 3600 * SEC }, { "h", 3600 * SEC }, { "m", 60 * SEC },
	{ "s", SEC },             { "ms", MS },        { "", SEC },
};

/* The unit that text starts with (the longest name that matches), or NULL. */
static const struct unit *unit_at(const char *text, size_t *len)
{
	const struct unit *best = NULL;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++) {
		size_t n = strlen(units[i].name);

		if (strncmp(text, units[i].name, n) == 0 && (!best || n > *len)) {
			best = &units[i];
			*len = n;
		}
	}
	return best;
}

/*
 * Terms in decreasing units ("1h30m", as duration_format writes them, so
 * that what a message prints can be typed back); a bare number is seconds
 * and stands alone.
 */
int duration_parse(const char *text, uint64_t *ns, char *why, size_t why_size)
{
	const struct unit *prev = NULL;
	const char *p = text;
	uint64_t total = 0;

	if (!text || !*text) {
		snprintf(why, why_size, "empty duration; write a number and a unit, like 30s or 5m");
		return -EINVAL;
	}
	while (*p) {
		const struct unit *u;
		uint64_t value = 0;
		size_t len = 0;

		if (!isdigit((unsigned char)*p)) {
			snprintf(why, why_size,
				 prev ? "\"%.32s\": unknown unit \"%.8s\"; use ms, s, m, h or d"
				      : "\"%.32s\": a duration starts with a number, like 30s or 5m",
				 text, p);
			return -EINVAL;
		}
		for (; isdigit((unsigned char)*p); p++) {
			value = value * 10 + (uint64_t)(*p - '0');
			if (value > DURATION_MAX_NS)
				goto too_long;
		}
		u = *p ? unit_at(p, &len) : (prev ? NULL : &units[sizeof(units) / sizeof(units[0]) - 1]);
		if (!u) {
			snprintf(why, why_size,
				 *p ? "\"%.32s\": unknown unit \"%.8s\"; use ms, s, m, h or d"
				    : "\"%.32s\": the last number has no unit%s",
				 text, *p ? p : "");
			return -EINVAL;
		}
		if (prev && u->ns >= prev->ns) {
			snprintf(why, why_size,
				 "\"%.32s\": units must go from the largest to the smallest, each once, "
				 "like 1h30m",
				 text);
			return -EINVAL;
		}
		p += len;
		if (value > DURATION_MAX_NS / u->ns || total + value * u->ns > DURATION_MAX_NS)
			goto too_long;
		total += value * u->ns;
		prev = u;
	}
	if (total == 0) {
		snprintf(why, why_size, "\"%.32s\": a duration must be more than zero", text);
		return -EINVAL;
	}
	*ns = total;
	return 0;
too_long:
	snprintf(why, why_size, "\"%.32s\" is too long; at most 366d", text);
	return -EINVAL;
}

void duration_format(uint64_t ns, char *buf, size_t size)
{
	size_t used = 0;

	if (ns % SEC) {
		snprintf(buf, size, "%llums", (unsigned long long)(ns / MS));
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < 4 && used < size; i++) {
		uint64_t n = ns / units[i].ns;

		if (!n)
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%llu%s", (unsigned long long)n,
					 units[i].name);
		ns -= n * units[i].ns;
	}
	if (!buf[0])
		snprintf(buf, size, "0s");
}
