// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#define MS 1000000ull
#define SEC (1000 * MS)

static const struct unit {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "d", 24 * 3600 * SEC }, { "h", 3600 * SEC }, { "m", 60 * SEC },
	{ "s", SEC },             { "ms", MS },        { "", SEC },
};

int duration_parse(const char *text, uint64_t *ns, char *why, size_t why_size)
{
	const char *p = text;
	uint64_t value = 0;

	if (!text || !*text) {
		snprintf(why, why_size, "empty duration; write a number and a unit, like 30s or 5m");
		return -EINVAL;
	}
	if (!isdigit((unsigned char)*p)) {
		snprintf(why, why_size, "\"%.32s\": a duration starts with a number, like 30s or 5m",
			 text);
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		value = value * 10 + (uint64_t)(*p - '0');
		if (value > DURATION_MAX_NS) {
			snprintf(why, why_size, "\"%.32s\" is too long; at most 366d", text);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name))
			continue;
		if (value == 0) {
			snprintf(why, why_size, "\"%.32s\": a duration must be more than zero", text);
			return -EINVAL;
		}
		if (value > DURATION_MAX_NS / units[i].ns) {
			snprintf(why, why_size, "\"%.32s\" is too long; at most 366d", text);
			return -EINVAL;
		}
		*ns = value * units[i].ns;
		return 0;
	}
	snprintf(why, why_size, "\"%.32s\": unknown unit \"%.8s\"; use ms, s, m, h or d", text, p);
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
