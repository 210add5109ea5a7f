/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/log.h"

/* syslog(3)'s priorities, as journald reads them from a "<N>" prefix (sd-daemon(3)). */
#define PRIORITY_ERR 3
#define PRIORITY_WARNING 4
#define PRIORITY_INFO 6

bool log_stream_is_journal(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!journal_stream ||
	    sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/*
 * Whether stderr is journald's stream is asked once: the answer holds for
 * the life of the process (stderr is never redirected after start), and an
 * fstat per line would cost more than the line.
 */
static bool stderr_is_journal(void)
{
	static int to_journal = -1;

	if (to_journal < 0)
		to_journal = log_stream_is_journal(getenv("JOURNAL_STREAM"), 2);
	return to_journal;
}

void log_diags(const struct diag_list *list)
{
	int saved_errno = errno;

	for (size_t i = 0; i < list->count; i++) {
		/* One diagnostic at a time, each line with its own priority. */
		struct diag_list one = { .items = &list->items[i], .count = 1 };

		if (stderr_is_journal())
			fprintf(stderr, "<%d>", list->items[i].severity == DIAG_ERROR ? PRIORITY_ERR
										: PRIORITY_WARNING);
		diag_print(&one, stderr);
	}
	errno = saved_errno;
}

void log_line(const char *severity, const char *module, const char *fmt, ...)
{
	int saved_errno = errno; /* so that callers may log then use errno (%m) */
	char text[1024], prefix[8] = "";
	bool to_journal = stderr_is_journal();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (to_journal)
		snprintf(prefix, sizeof(prefix), "<%d>",
			 !severity ? PRIORITY_INFO
			 : severity[0] == 'e' ? PRIORITY_ERR : PRIORITY_WARNING);
	if (severity)
		fprintf(stderr, "%s%s: %s: %s: %s\n", prefix, program_invocation_short_name, module,
			severity, text);
	else
		fprintf(stderr, "%s%s: %s: %s\n", prefix, program_invocation_short_name, module, text);
	errno = saved_errno;
}
