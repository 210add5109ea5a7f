/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Journal queries: the record filter and times (query.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal/query.h"
#include "util/duration.h"

bool jquery_labels_have(const char *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	const char *value = eq ? eq + 1 : "";
	size_t vlen = strlen(value);

	for (const char *p = labels; p && *p;) {
		const char *end = strchr(p, ','), *peq;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		peq = memchr(p, '=', len);
		if ((size_t)((peq ? peq : p + len) - p) == klen && !strncmp(p, want, klen)) {
			const char *pv = peq ? peq + 1 : p + len;

			return (size_t)(p + len - pv) == vlen && !strncmp(pv, value, vlen);
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool jquery_match(const struct jquery_filter *f, const struct journal_record *rec)
{
	if (!f)
		return true;
	/* Cheap tests first: a filtered scan is bound by them. */
	if (f->since_ns && rec->time_ns < f->since_ns)
		return false;
	if (f->until_ns && rec->time_ns >= f->until_ns)
		return false;
	if (f->action >= 0 && rec->action != f->action)
		return false;
	if (f->verdict >= 0 && rec->verdict != f->verdict)
		return false;
	if (f->pid >= 0 && rec->pid != (uint64_t)f->pid && rec->tgid != (uint64_t)f->pid)
		return false;
	if (f->workload_glob && fnmatch(f->workload_glob, or_empty(rec->workload), 0) != 0)
		return false;
	if (f->principal && strcmp(f->principal, or_empty(rec->principal)) != 0)
		return false;
	if (f->rule_glob && fnmatch(f->rule_glob, or_empty(rec->rule), 0) != 0)
		return false;
	/* A connect made for a name, and a lookup, are found by the name too. */
	if (f->target_glob && fnmatch(f->target_glob, or_empty(rec->target), 0) != 0 &&
	    (!rec->target_name || !*rec->target_name ||
	     fnmatch(f->target_glob, rec->target_name, 0) != 0))
		return false;
	for (size_t i = 0; i < f->n_labels; i++)
		if (!jquery_labels_have(or_empty(rec->labels), f->labels[i]))
			return false;
	return true;
}

void jquery_format_time(uint64_t time_ns, char buf[JQUERY_TIME_SIZE])
{
	time_t sec = (time_t)(time_ns / 1000000000ull);
	unsigned ms = (unsigned)(time_ns % 1000000000ull / 1000000ull);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) ||
	    !(n = strftime(buf, JQUERY_TIME_SIZE, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, JQUERY_TIME_SIZE, "?");
		return;
	}
	snprintf(buf + n, JQUERY_TIME_SIZE - n, ".%03uZ", ms);
}

/* Times on the command line. */

static bool digits(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

int jquery_parse_time(const char *text, uint64_t now_ns, uint64_t *ns, char *why, size_t why_size)
{
	int year, mon, day, hour = 0, min = 0, sec = 0, oh = 0, om = 0;
	uint64_t frac = 0, scale = 100000000, d;
	const char *p = text;
	struct tm tm = { 0 };
	int64_t t, offset = 0;

	if (text[0] >= '0' && text[0] <= '9' && !(strlen(text) >= 10 && text[4] == '-')) {
		char dwhy[128];

		if (duration_parse(text, &d, dwhy, sizeof(dwhy))) {
			snprintf(why, why_size, "not an RFC 3339 time nor a duration (%s)", dwhy);
			return -EINVAL;
		}
		if (d > now_ns) {
			snprintf(why, why_size, "before 1970");
			return -EINVAL;
		}
		*ns = now_ns - d;
		return 0;
	}
	if (!digits(p, 4, &year) || p[4] != '-' || !digits(p + 5, 2, &mon) || p[7] != '-' ||
	    !digits(p + 8, 2, &day))
		goto bad;
	p += 10;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			goto bad;
		if (!digits(p + 1, 2, &hour) || p[3] != ':' || !digits(p + 4, 2, &min) ||
		    p[6] != ':' || !digits(p + 7, 2, &sec))
			goto bad;
		p += 9;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			for (; *p >= '0' && *p <= '9'; p++) {
				frac += (uint64_t)(*p - '0') * scale;
				scale /= 10;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
			    om > 59)
				goto bad;
			offset = (*p == '-' ? -1 : 1) * ((int64_t)oh * 3600 + om * 60);
			p += 6;
		} else {
			snprintf(why, why_size, "a time needs its offset (Z or +HH:MM)");
			return -EINVAL;
		}
		if (*p)
			goto bad;
	}
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
	    sec > 60)
		goto bad;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	/* timegm normalises 31 February into March: refuse such a date. */
	if (tm.tm_mday != day || tm.tm_mon != mon - 1)
		goto bad;
	t -= offset;
	if (t < 0) {
		snprintf(why, why_size, "before 1970");
		return -EINVAL;
	}
	*ns = (uint64_t)t * 1000000000ull + frac;
	return 0;
bad:
	snprintf(why, why_size,
		 "expected an RFC 3339 time (2026-11-28T13:14:17Z), a date (2026-11-28) or a "
		 "duration back from now (2h, 30m)");
	return -EINVAL;
}
