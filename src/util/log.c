/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"


void log_line(const char *severity, const char *module, const char *fmt, ...)
{
	int saved_errno = errno; /* so that callers may log then use errno (%m) */
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (severity)
		fprintf(stderr, "%s: %s: %s: %s\n", program_invocation_short_name, module, severity,
			text);
	else
		fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, module, text);
	errno = saved_errno;
}
