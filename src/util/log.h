/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Log lines for people: "<program>: <module>: <message>" on stderr, which
 * systemd's journal collects for the daemon. An error is logged once, where
 * it is handled. When stderr is journald's stream ($JOURNAL_STREAM names its
 * device and inode), each line starts with its syslog priority, "<3>" for an
 * error, "<4>" a warning, "<6>" the rest, so that the journal keeps the
 * severity (sd-daemon(3)).
 */
#ifndef ACTGATE_LOG_H
#define ACTGATE_LOG_H

#define log_error(module, ...) log_line("error", module, __VA_ARGS__)
#define log_warn(module, ...) log_line("warning", module, __VA_ARGS__)
#define log_info(module, ...) log_line(NULL, module, __VA_ARGS__)

#include <stdbool.h>

#include "util/diag.h"

/* Is fd the stream $JOURNAL_STREAM ("DEV:INO") names? */
bool log_stream_is_journal(const char *journal_stream, int fd);

/* Diagnostics (file:line:col: ...) as log lines, each with its priority for journald. */
void log_diags(const struct diag_list *list);

void log_line(const char *severity, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* ACTGATE_LOG_H */
