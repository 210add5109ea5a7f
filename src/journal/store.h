/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The journal store: an append-only, tamper-evident store of opaque typed
 * payloads in segment files (docs/journal-store.md is the byte-exact format).
 *
 * - Every record is framed (marker, length, type, sequence number, CRC-32C);
 *   a torn or damaged stretch is skipped by readers, who resynchronise on the
 *   next intact frame.
 * - Each segment is hashed with SHA-256 as a running chain; a segment header
 *   holds the SHA-256 of the whole previous segment, and numbered seal
 *   records, at a bounded interval and closing every segment, hold the chain
 *   value so far plus an HMAC-SHA256 of it under a key kept outside the
 *   journal directory: edits, removals, reordering, stripped seals and a
 *   rewrite of the whole chain without the key are detected by
 *   jstore_verify().
 * - Segments rotate by size and age, closed segments are gzip-compressed,
 *   old ones are removed by total size and age (a "retire" record says so
 *   first, so a removal by anybody else is still detected).
 * - A full disk costs records, never consistency: a failed write is cut off
 *   again, the records are counted, and the next successful write starts with
 *   a "gap" record saying how many were lost.
 *
 * Functions returning int give 0 (or a count) on success and -errno on
 * failure; errors are logged once, prefixed "journal: ".
 */
#ifndef ACTGATE_JSTORE_H
#define ACTGATE_JSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/*
 * 3: the header holds the writer's version (192 bytes). 2 (128 bytes) is
 * still read, never written; 1 (seals optional and unnumbered) is not read.
 */
#define JSTORE_FORMAT_VERSION 3
#define JSTORE_HEADER_SIZE 192    /* what this writer writes: version 3's */
#define JSTORE_HEADER_SIZE_V2 128 /* version 2's */
#define JSTORE_HEADER_MAX JSTORE_HEADER_SIZE
#define JSTORE_WRITER_SIZE 64     /* the writer's version in a version-3 header, NUL-padded */
#define JSTORE_FRAME_OVERHEAD 24 /* marker, length, type, flags, seq before; CRC after */
#define JSTORE_MAX_PAYLOAD (1u << 20)
#define JSTORE_HASH_SIZE 32

/* Record types: 1..JSTORE_TYPE_USER_MAX are the caller's; the rest are the store's own. */
#define JSTORE_TYPE_USER_MAX 0xfeffu
#define JSTORE_TYPE_SEAL 0xff01u   /* chain value + HMAC (struct jstore_seal) */
#define JSTORE_TYPE_GAP 0xff02u    /* records lost to a failed write (struct jstore_gap) */
#define JSTORE_TYPE_RETIRE 0xff03u /* old segments about to be removed by retention */
#define JSTORE_TYPE_OPEN 0xff04u   /* a writer opened the store (after a crash: what it cut) */

/*
 * Seals are part of the format (docs/journal-store.md, "Seals"): in every
 * segment at most JSTORE_SEAL_MAX_RECORDS records (of any type but a seal)
 * follow the header or a seal before the next seal; every segment but the
 * newest ends with a seal flagged SEGMENT_END; seals are numbered 1, 2, 3,
 * ... over the whole store. Verify reports a break of any of these as
 * damage. The writer also seals a record at most JSTORE_SEAL_MAX_MS after
 * writing it (while it runs and its caller ticks): a bound verify cannot
 * check, since records carry no time the store knows.
 */
#define JSTORE_SEAL_MAX_RECORDS 10000u
#define JSTORE_SEAL_MAX_MS 60000u

/* Seal flags */
#define JSTORE_SEAL_SEGMENT_END 0x1u /* the last record of its segment */
#define JSTORE_SEAL_STORE_CLOSE 0x2u /* written by jstore_close(): a clean shutdown */
#define JSTORE_SEAL_RECOVERED 0x4u   /* written by the next writer to close the segment a
				      * crashed one left open (with SEGMENT_END) */
/* Open-record flags */
#define JSTORE_OPEN_UNCLEAN 0x1u /* the previous writer did not close the store */

#define JSTORE_MAX_COMPRESS_THREADS 8

#define JSTORE_KEY_MIN 16
#define JSTORE_KEY_MAX 128

/* The seal key: raw bytes of a key file (jstore_key_create makes one). */
struct jstore_key {
	uint8_t bytes[JSTORE_KEY_MAX];
	size_t len;
};

/*
 * Load a key file (JSTORE_KEY_MIN..JSTORE_KEY_MAX bytes, used as they are).
 * If journal_dir is given, a key file inside it (or in a directory below it)
 * is refused with -EINVAL: whoever can rewrite the journal must not find the
 * key next to it. Warns when the file is readable by group or others.
 */
int jstore_key_load(const char *path, const char *journal_dir, struct jstore_key *key);
/* Create a key file of 32 random bytes, mode 0600; -EEXIST if it exists. */
int jstore_key_create(const char *path);

/* ---- writer ---- */

struct jstore_options {
	const char *dir;      /* created if missing (the last component only, mode 0750) */
	const char *key_path; /* required; must not be inside dir */
	uint8_t host_id[16];  /* written into segment headers (see jstore_host_ids) */
	uint8_t boot_id[16];

	uint64_t segment_max_bytes;  /* rotate before a segment passes this (default 16 MiB) */
	uint64_t segment_max_age_ms; /* and when it is this old (default 1 h; 0: no age limit) */
	uint64_t retain_max_bytes;   /* all segments together (default 1 GiB; 0: no limit) */
	uint64_t retain_max_age_ms;  /* closed segments older than this go (default 0: keep) */

	uint32_t seal_every_records; /* a seal after this many records (default, and at most,
				      * JSTORE_SEAL_MAX_RECORDS; 0: that) */
	uint32_t seal_every_ms;      /* or when the oldest unsealed record is this old
				      * (default 1000; at most JSTORE_SEAL_MAX_MS; 0: that) */
	uint32_t fsync_every_records; /* fdatasync after this many records (default 1000; 0: no) */
	uint32_t fsync_every_ms;      /* or this long after the first unsynced one (default 100) */
	size_t buffer_bytes;          /* records are written when this much is queued (default
				       * 64 KiB; 0: each append is written at once) */
	int compress_level;           /* zlib level for closed segments, 1..9 (default 1: the
				       * fastest, ~31 bytes a decision; 6: ~24 at a third of the
				       * speed); 0: keep them plain */
	bool compress_inline;         /* compress in the caller's thread at rotation (default:
				       * worker threads do it) */
	unsigned compress_threads;    /* those workers (default 1, at most
				       * JSTORE_MAX_COMPRESS_THREADS): compression, not the
				       * appends, bounds a sustained rate */

	/* For tests: a clock (ns of the clock asked for) and a write(2) stand-in; NULL: the real */
	uint64_t (*clock)(void *ctx, clockid_t which);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	void *hook_ctx;
};

struct jstore_stats {
	uint64_t records;         /* caller records written (not counting buffered ones) */
	uint64_t buffered;        /* caller records queued in memory, not yet written */
	uint64_t lost;            /* caller records that could not be written, in total */
	uint64_t lost_unreported; /* of those, not yet announced by a gap record */
	uint64_t seals, gaps, fsyncs;
	uint64_t segment_seq;     /* the segment being written (0: none open, after a failure) */
	uint64_t segment_bytes;   /* its size, with what is queued (0: none open) */
	uint64_t next_seq;        /* sequence number of the next record */
	uint64_t segments_compressed, segments_removed, bytes_removed;
	uint64_t recovered_bytes_cut; /* torn tail cut off when this writer opened the store */
	int last_error;           /* -errno of the last failed write; 0 once writing works */
};

struct jstore;

/* Defaults (see the fields); dir and key_path stay NULL, ids zero. */
void jstore_options_init(struct jstore_options *o);
/* This machine's /etc/machine-id and boot_id, 16 bytes each; -errno (ids zeroed) if unreadable */
int jstore_host_ids(uint8_t host_id[16], uint8_t boot_id[16]);

/*
 * Open the store for appending: lock the directory (-EBUSY if another writer
 * holds it), recover after a crash (a torn tail is cut off and logged;
 * damage in the middle is left for jstore_verify to report), and start a new
 * segment whose header continues the chain. Its first record is an OPEN
 * record saying what recovery did.
 */
int jstore_open(struct jstore **out, const struct jstore_options *o);
/*
 * Append one record (type 1..JSTORE_TYPE_USER_MAX, len <= JSTORE_MAX_PAYLOAD).
 * The record is queued and written once buffer_bytes are queued, a seal or
 * an fsync falls due, or on jstore_flush. 0 when queued or written; -EINVAL
 * for a bad type or size (nothing counted); -errno when the write it
 * triggered failed: then every record of that write, this one included, is
 * counted as lost (stats.lost) and the file is as it was before.
 */
int jstore_append(struct jstore *js, uint16_t type, const void *payload, size_t len);
/* Write what is queued (and fdatasync if the fsync policy says so). */
int jstore_flush(struct jstore *js);
/* Write what is queued and fdatasync now. */
int jstore_sync(struct jstore *js);
/* Seal now (a no-op when nothing was written since the last seal). */
int jstore_seal(struct jstore *js);
/* Close the segment (with a seal) and start the next one. */
int jstore_rotate(struct jstore *js);
/*
 * Time-driven work for an idle store: writes queued records and seals, syncs
 * and rotates when their time has come, runs retention after compression.
 * Call it at least every fsync_every_ms.
 */
int jstore_tick(struct jstore *js);
void jstore_stats(const struct jstore *js, struct jstore_stats *st);
/* Block until the compression workers are idle (tests, shutdown). */
void jstore_wait_compressed(struct jstore *js);
/*
 * Write what is queued, seal (STORE_CLOSE), sync, compress the last segment
 * and free js. Returns the first error met; js is freed either way.
 */
int jstore_close(struct jstore *js);

/* ---- reader ---- */

/* One record as read; pointers stay valid until the next jstore_read. */
struct jstore_record {
	uint16_t type;
	uint32_t len;
	const uint8_t *payload;
	uint64_t seq;          /* record sequence number, over the whole store */
	uint64_t segment_seq;  /* from the segment header (0 if the header is damaged) */
	const char *segment_writer; /* the writer's version from the header; "" when it has none
				     * (version 2, or a damaged header) */
	const char *segment;   /* the file's path */
	uint64_t offset;       /* of the frame in the segment's uncompressed bytes */
	uint64_t index;        /* of the record among its segment's intact records, from 0 */
};

struct jstore_reader_options {
	bool include_internal; /* also return the store's own records (seal, gap, retire, open) */
	FILE *log;             /* where skipped damage is reported ("prefix: ..."); NULL: nowhere */
	const char *prefix;    /* default "journal" */
};

struct jstore_reader_stats {
	uint64_t segments, records, damaged_regions, damaged_bytes, torn_tail_bytes;
};

struct jstore_reader;

/*
 * Read one or more paths, each a journal directory (its segments, in order)
 * or a segment file (plain or compressed, told apart by content). NULL opts:
 * defaults. -ENOENT etc. for a path that cannot be opened (reported to
 * opts->log), -ENOMEM.
 */
int jstore_reader_open(struct jstore_reader **out, const char *const *paths, size_t n_paths,
		       const struct jstore_reader_options *opts);
/*
 * The next intact record: 1, 0 at the end, -errno on an I/O error (reported).
 * Damage is skipped (and reported to opts->log): a torn tail, a bad frame or
 * CRC, an undecompressible rest of a compressed segment.
 */
int jstore_read(struct jstore_reader *r, struct jstore_record *rec);
void jstore_reader_stats(const struct jstore_reader *r, struct jstore_reader_stats *st);
void jstore_reader_close(struct jstore_reader *r);

/* ---- peek ---- */

/* How far jstore_peek reads into a segment at most (uncompressed bytes): a header, the store's
 * open record and the largest summary (journal/summary.h) fit. */
#define JSTORE_PEEK_BYTES (128u << 10)

struct jstore_peek {
	uint64_t segment_seq;      /* from its header */
	uint64_t first_record_seq; /* from its header */
	uint16_t type;             /* the first caller record's type; 0: none in the first bytes */
	uint64_t seq;              /* its sequence number */
	uint32_t len;
	uint8_t *payload;          /* a copy; free() it */
};

/*
 * The header and the first caller record of one segment file (plain or
 * gzip), from its first JSTORE_PEEK_BYTES bytes only: frames from the
 * header on must be intact, the store's own are passed over. For a reader
 * that decides from them whether to read the rest; reading and verifying
 * stay jstore_read's and jstore_verify's. 0; -EBADMSG when the header is not
 * an intact version-2 or -3 header without flags; -errno.
 */
int jstore_peek(const char *path, struct jstore_peek *out);

/* ---- verify ---- */

enum jstore_damage {
	JSTORE_INTACT = 0,
	JSTORE_DAMAGE_IO,               /* a file could not be read */
	JSTORE_DAMAGE_HEADER,           /* segment header: bad magic, version, size or CRC */
	JSTORE_DAMAGE_FRAME,            /* bytes that are no frame: marker, length, type, flags */
	JSTORE_DAMAGE_CRC,              /* a well-formed frame whose CRC does not match */
	JSTORE_DAMAGE_TORN_TAIL,        /* the last segment ends inside a record (a crash) */
	JSTORE_DAMAGE_COMPRESSION,      /* a compressed segment is corrupt or cut short */
	JSTORE_DAMAGE_SEQUENCE,         /* numbers skip or repeat: removed, duplicated, reordered */
	JSTORE_DAMAGE_CHAIN,            /* SHA-256 differs from a seal's or the next header's */
	JSTORE_DAMAGE_SEGMENT_MISSING,  /* a segment (or several) is missing */
	JSTORE_DAMAGE_SEGMENT_ORDER,    /* a segment repeats or comes out of order */
	JSTORE_DAMAGE_SEAL,             /* a seal's HMAC (or its content) is wrong */
	JSTORE_DAMAGE_SEAL_KEY,         /* a seal made with another key */
	JSTORE_DAMAGE_SEAL_MISSING,     /* seals removed: numbers skip, too many records
					 * without one, a segment not closed by one */
	JSTORE_DAMAGE_BEHIND_HEAD,      /* the journal lacks, or differs from, the last seal
					 * its writer kept outside it (struct jstore_head) */
};

const char *jstore_damage_name(enum jstore_damage d); /* "crc", "chain", ... */

#define JSTORE_VERIFY_PARTIAL 0x1u /* the paths may start after segment 1 without a retire record */
/*
 * The writer closed the store (or the copy was taken from closed segments):
 * the newest segment must end with a closing seal too, so records after its
 * last seal are damage (seal-missing) instead of an unsealed tail.
 */
#define JSTORE_VERIFY_CLOSED 0x2u

struct jstore_verify_result {
	/* The first damage found, in reading order. */
	enum jstore_damage damage;
	char message[256];
	char segment[4096];     /* path of the segment holding it */
	uint64_t segment_seq;
	uint64_t offset;        /* in the segment's uncompressed bytes */
	uint64_t record_index;  /* of the record at or after it, among the segment's intact ones */
	uint64_t record_seq;    /* the sequence number expected there */
	/* Totals */
	uint64_t damages;       /* every damage found (each region, mismatch, ...) */
	uint64_t segments, records, user_records, seals, seals_checked, gaps, lost, opens,
		unclean_opens, retired_segments;
	uint64_t unsealed_records; /* after the last seal of the newest segment: only CRCs, the
				    * numbering and the chain protect them */
	uint64_t last_seal;        /* the number of the last seal read (0: none) */
	bool key_checked;          /* a key was given: the seals' HMACs were checked */
};

/*
 * Check framing, CRCs, numbering, the chain within and across segments and,
 * with a key, every seal's HMAC. 0 when intact; -EBADMSG when damaged (res
 * says where and what first); -errno (-ENOENT, -ENOMEM) when it could not run.
 */
int jstore_verify(const char *const *paths, size_t n_paths, const struct jstore_key *key,
		  unsigned flags, struct jstore_verify_result *res);

/*
 * The head: the last seal a writer wrote and synced, kept outside the
 * journal (actgated keeps it in its state directory) so that removing the
 * newest segments, or every one, is found: jstore_verify_against reports
 * a journal that lacks that seal, or holds another one under its number,
 * as JSTORE_DAMAGE_BEHIND_HEAD. seal 0: nothing sealed yet.
 */
struct jstore_head {
	uint64_t seal;       /* its number */
	uint64_t sealed_seq; /* the last record it covers */
	uint64_t segment;    /* the segment holding it */
	uint8_t chain[JSTORE_HASH_SIZE];
};

/* The head as of the last fdatasync of the store (jstore_sync makes one now). */
void jstore_head(const struct jstore *js, struct jstore_head *out);
/*
 * Segments this writer knows of that are gone: the active one unlinked
 * (no name left), closed ones no longer in the directory in either form.
 * Returns how many (0 when all are there) with the first one's number in
 * *first, or -errno.
 */
int jstore_missing_segments(struct jstore *js, uint64_t *first);

#define JSTORE_HEAD_SIZE 512 /* the head file is at most this long */
/* Write the head to path (a temporary file renamed over it, synced). 0 or -errno. */
int jstore_head_save(const char *path, const struct jstore_head *head);
/* Read a head file: 0, -ENOENT, or -EINVAL with the reason in why. */
int jstore_head_load(const char *path, struct jstore_head *head, char *why, size_t why_size);
/*
 * jstore_verify, and the journal must also hold head's seal (its number,
 * the record it covers, its segment and chain value): a journal that ends
 * before it, or whose seal of that number differs, was cut or rewritten
 * since the head was kept. head NULL: jstore_verify.
 */
int jstore_verify_against(const char *const *paths, size_t n_paths, const struct jstore_key *key,
			  unsigned flags, const struct jstore_head *head,
			  struct jstore_verify_result *res);

/* ---- the store's own record payloads, decoded (all little-endian on disk) ---- */

struct jstore_seal {
	uint64_t time_ns;    /* wall clock */
	uint64_t sealed_seq; /* the last record covered (the seal's own seq - 1) */
	uint64_t number;     /* 1, 2, 3, ... over the whole store */
	uint32_t flags;      /* JSTORE_SEAL_* */
	uint8_t key_id[8];
	uint8_t chain[JSTORE_HASH_SIZE];
	uint8_t hmac[JSTORE_HASH_SIZE];
};
struct jstore_gap {
	uint64_t time_ns, lost, first_lost_ns, last_lost_ns;
	uint32_t error; /* errno of the first failed write */
};
struct jstore_retire {
	uint64_t time_ns, first_kept_segment, segments, bytes;
};
struct jstore_open_info {
	uint64_t time_ns, previous_segment, cut_bytes, damaged_bytes;
	uint32_t flags; /* JSTORE_OPEN_* */
};

/* Decode a store record's payload: 0, or -EINVAL if the size is wrong. */
int jstore_decode_seal(const void *payload, size_t len, struct jstore_seal *out);
int jstore_decode_gap(const void *payload, size_t len, struct jstore_gap *out);
int jstore_decode_retire(const void *payload, size_t len, struct jstore_retire *out);
int jstore_decode_open(const void *payload, size_t len, struct jstore_open_info *out);

#endif /* ACTGATE_JSTORE_H */
