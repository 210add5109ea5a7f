/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics: collected while reading outside input, printed once by the caller. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"

int diag_add(struct diag_list *list, enum diag_severity severity, const char *file,
	     unsigned line, unsigned col, const char *fmt, ...)
{
	struct diag *items;
	char *message = NULL;
	char *file_copy = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM; /* vasprintf leaves message undefined on failure */

	file_copy = strdup(file ? file : "<input>");
	if (!file_copy)
		goto nomem;

	items = realloc(list->items, (list->count + 1) * sizeof(*items));
	if (!items)
		goto nomem;
	list->items = items;
	items[list->count++] = (struct diag){
		.severity = severity,
		.file = file_copy,
		.line = line,
		.col = col,
		.message = message,
	};
	if (severity == DIAG_ERROR)
		list->errors++;
	else
		list->warnings++;
	return 0;

nomem:
	free(file_copy);
	free(message);
	return -ENOMEM;
}

struct diag_seq {
	struct diag d;
	size_t seq;
};

static int diag_seq_cmp(const void *a, const void *b)
{
	const struct diag_seq *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	/* qsort is not stable: the sequence number keeps it so. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int diag_sort(struct diag_list *list, size_t from)
{
	struct diag_seq *tmp;
	size_t n;

	if (from >= list->count)
		return 0;
	n = list->count - from;
	tmp = calloc(n, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		tmp[i] = (struct diag_seq){ .d = list->items[from + i], .seq = i };
	qsort(tmp, n, sizeof(*tmp), diag_seq_cmp);
	for (size_t i = 0; i < n; i++)
		list->items[from + i] = tmp[i].d;
	free(tmp);
	return 0;
}

void diag_print(const struct diag_list *list, FILE *out)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct diag *d = &list->items[i];
		const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";

		/* Line 0 is a message about the whole file (unreadable, empty). */
		if (d->line == 0)
			fprintf(out, "%s: %s: %s\n", d->file, sev, d->message);
		else if (d->col == 0)
			fprintf(out, "%s:%u: %s: %s\n", d->file, d->line, sev, d->message);
		else
			fprintf(out, "%s:%u:%u: %s: %s\n", d->file, d->line, d->col, sev, d->message);
	}
}

void diag_list_free(struct diag_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].file);
		free(list->items[i].message);
	}
	free(list->items);
	*list = (struct diag_list){ 0 };
}

void diag_first_error(const struct diag_list *list, const char *fallback, char *why,
		      size_t why_size)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct diag *e = &list->items[i];

		if (e->severity != DIAG_ERROR)
			continue;
		if (e->line)
			snprintf(why, why_size, "%s:%u:%u: %s", e->file, e->line, e->col, e->message);
		else
			snprintf(why, why_size, "%s: %s", e->file, e->message);
		return;
	}
	snprintf(why, why_size, "%s", fallback);
}
