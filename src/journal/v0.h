/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The decision journal, version 0: one text line per decision in
 * JOURNAL_DIR/decisions.log, tab-separated fields, escaped (see
 * docs/journal-format.md). A line is either complete (ends in '\n') or a torn
 * tail that readers skip. The durable segmented format replaces this later.
 */
#ifndef ACTGATE_JOURNAL_H
#define ACTGATE_JOURNAL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actgate/abi.h"
#include "journal/decision.h"

#define JOURNAL_FILE_NAME "decisions.log"
#define JOURNAL_MAGIC_LINE "#actgate-journal 0"
/*
 * Fields per record line, the end mark included (docs/journal-format.md).
 * Lines written before the access field was added have one less; readers
 * take both.
 */
#define JOURNAL_FIELDS 21
#define JOURNAL_FIELDS_WITHOUT_ACCESS 20
/*
 * The last field of every record. A line cut short by a crash and later
 * completed by the writer's '\n' lacks it, so it is never mistaken for a
 * record with a truncated target.
 */
#define JOURNAL_END_MARK "."

struct journal_writer {
	FILE *file;
	char *path;
	/* Lines appended with journal_append_deferred, written by journal_flush. */
	char *pending;
	size_t pending_len;
	size_t pending_cap;
	size_t pending_records;
};

/*
 * Open (creating dir and file if needed) for appending. -errno on failure;
 * -EINVAL (with a message on stderr naming the file) when the file exists and
 * is not a version-0 journal. Only the last component of dir is created.
 */
int journal_writer_open(struct journal_writer *w, const char *dir);
/*
 * Append one record as one line with one write(2), so that a concurrent
 * reader sees whole lines. -EINVAL for an enum value that has no name,
 * -errno when the write fails (a partial line is cut off again).
 */
int journal_append(struct journal_writer *w, const struct journal_record *r);
/*
 * Batching for the daemon: queue the record's line in memory; journal_flush
 * writes every queued line with one write(2). On failure the whole batch is
 * cut off again (no partial line remains) and *lost says how many records it
 * held. Both return 0 or -errno.
 */
int journal_append_deferred(struct journal_writer *w, const struct journal_record *r);
int journal_flush(struct journal_writer *w, size_t *lost);

/* Flushes what is queued (best effort), then closes. */
void journal_writer_close(struct journal_writer *w);

struct journal_reader {
	FILE *file;
	char *path;
	char *line;
	size_t line_cap;
	unsigned long line_no;
	unsigned long skipped; /* malformed or torn lines skipped, each reported once (to err) */
	FILE *err;             /* where messages go (stderr); NULL: nowhere */
	const char *prefix;    /* messages start "prefix: path..."; must outlive the reader */
};

/*
 * Open a journal: a directory (reads DIR/decisions.log) or a file.
 * -errno on failure, already reported on stderr with the file's name
 * ("actgate: journal: PATH: why"); -EINVAL when it is not a version-0
 * journal. An empty file (or one holding only part of the first line, as a
 * crash while creating it leaves it) is an empty journal.
 */
int journal_reader_open(struct journal_reader *r, const char *path);
/* The same, with messages (also the skipped-line warnings) sent to err as "prefix: ...". */
int journal_reader_open_err(struct journal_reader *r, const char *path, FILE *err,
			    const char *prefix);
/*
 * Read the next record into rec (whose strings are replaced; free with
 * journal_record_clear). 1 when a record was read, 0 at the end, -errno on an
 * I/O error (reported, like open failures). Malformed lines and a torn last
 * line are skipped, counted and reported.
 */
int journal_read(struct journal_reader *r, struct journal_record *rec);
void journal_reader_close(struct journal_reader *r);

/*
 * One record as its journal line, '\n' included, in a malloc'd buffer
 * (NUL-terminated; len counts up to the '\n').
 * 0, -EINVAL for an enum value that has no name, or -ENOMEM.
 */
int journal_format_line(const struct journal_record *r, char **line, size_t *len);
/*
 * Parse one line (without its '\n') into rec, which must be zeroed or
 * cleared; on success rec owns new strings. 0, -EINVAL with the reason in
 * why (e.g. "field pid: not a decimal number"), or -ENOMEM.
 */
int journal_parse_line(const char *line, size_t len, struct journal_record *rec, char *why,
		       size_t why_size);

#endif /* ACTGATE_JOURNAL_H */
