/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics collected while reading outside input: file:line:col: message. */
#ifndef ACTGATE_DIAG_H
#define ACTGATE_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* A source position, 1-based, for error messages and for rule names. */
struct source_pos {
	unsigned line;
	unsigned col;
};

enum diag_severity {
	DIAG_WARNING = 1,
	DIAG_ERROR = 2,
};

struct diag {
	enum diag_severity severity;
	char *file;
	unsigned line; /* 0 when the message is about the whole file */
	unsigned col;
	char *message;
};

struct diag_list {
	struct diag *items;
	size_t count;
	size_t errors;
	size_t warnings;
};

/* Append one diagnostic (printf-style). Returns 0 or -ENOMEM. */
int diag_add(struct diag_list *list, enum diag_severity severity, const char *file,
	     unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * Order the diagnostics from index from on by position (line, then column),
 * keeping the order of those at one position, so that a file's messages
 * read top to bottom however they were found. Returns 0 or -ENOMEM (the
 * list is then left as it was).
 */
int diag_sort(struct diag_list *list, size_t from);

/* Print every diagnostic as "file:line:col: error: message\n". */
void diag_print(const struct diag_list *list, FILE *out);

/*
 * The first error of the list, as "file:line:col: message" (or "file:
 * message" without a position), into why; fallback when it holds none.
 */
void diag_first_error(const struct diag_list *list, const char *fallback, char *why,
		      size_t why_size);

void diag_list_free(struct diag_list *list);

#endif /* ACTGATE_DIAG_H */
