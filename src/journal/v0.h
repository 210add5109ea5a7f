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

/* One decision as the journal keeps it: the kernel record plus what the daemon knew. */
struct journal_record {
	uint64_t time_ns;     /* wall clock, ns since the epoch (UTC) */
	uint8_t action;       /* enum actgate_action */
	uint8_t verdict;      /* enum actgate_verdict */
	uint8_t mode;         /* enum actgate_mode; enforced = verdict applied = (mode == ENFORCE) */
	uint8_t reason;       /* enum actgate_reason */
	uint64_t workload_id;
	uint64_t cgroup_id;
	uint32_t pid, tgid, ppid, uid;
	uint32_t generation;
	uint8_t access;       /* open: the enum actgate_access bits asked for; else 0 */
	char comm[17];
	/* Owned strings; never NULL after a read (empty when unknown). */
	char *workload;   /* workload name */
	char *principal;  /* --delegated-by */
	char *labels;     /* "k=v,k=v" sorted by key */
	char *policy;     /* policy name */
	char *rule;       /* e.g. "ci-runner:exec.deny[0]" or "ci-runner:exec.default" */
	char *target;     /* exec/open: path; connect: "1.2.3.4:443/tcp", "[::1]:80/tcp" or
			   * "unix:/run/x.sock" */
	/*
	 * What the daemon knew of signals when the verdict was made (issue 4):
	 * the signal store's generation, and the signals the deciding policy
	 * read, "name=value,name=value" sorted by name. Owned; NULL when the
	 * journal did not record them (the version-0 line format never does).
	 */
	uint64_t signal_generation;
	char *signals;
};

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

/* Free rec's strings and zero it. A record must start zeroed before the first journal_read. */
void journal_record_clear(struct journal_record *rec);

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

/*
 * The target of a kernel decision record of size bytes, as the journal
 * names it, into out (JOURNAL_TARGET_SIZE is always enough): exec and open
 * the path (or "inode:MAJ:MIN:INO (path unavailable: ...)"); connect
 * "1.2.3.4:443/tcp", "[::1]:80/udp" or, for a unix socket, "unix:/run/x.sock";
 * tamper what was attempted ("signal 9 to actgated").
 */
#define JOURNAL_TARGET_SIZE (ACTGATE_PATH_BUF + 64)
void journal_decision_target(const struct actgate_decision *rec, size_t size, char *out,
			     size_t out_size);

/* Names used in the journal, in replay output and on the command line. */
const char *action_name(uint8_t action);   /* "exec", "open", "connect", "tamper", "?" */
const char *verdict_name(uint8_t verdict); /* "allow", "deny" */
const char *mode_name(uint8_t mode);       /* "enforce", "audit" */
const char *reason_name(uint8_t reason);   /* "default", "rule", "no-policy", "orphan", "self-protection",
						    * "too-deep", "revoked", "expired", "grant",
						    * "grant-expired" */
/*
 * Access bits as names joined by ',' in the order read, write, create,
 * exec-map, link ("read,write"; "" for none), into buf (ACCESS_NAMES_SIZE
 * is always enough). Bits without a name make it fail: -EINVAL.
 */
#define ACCESS_NAMES_SIZE 32
int access_names(uint8_t access, char *buf, size_t size);

/* Reverse lookups: 0 on success, -EINVAL for an unknown name. */
int action_from_name(const char *name, uint8_t *action);
int verdict_from_name(const char *name, uint8_t *verdict);
int mode_from_name(const char *name, uint8_t *mode);
int reason_from_name(const char *name, uint8_t *reason);
/* "read,write" -> bits; "" -> 0. Each name once; -EINVAL otherwise. */
int access_from_names(const char *names, uint8_t *access);

#endif /* ACTGATE_JOURNAL_H */
