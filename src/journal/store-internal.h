/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the journal store's files share (store-*.c); not for use outside
 * them: the public interface is journal/store.h. The store is cut the way
 * its jobs are: store-format.c (the bytes: little-endian fields, CRC-32C,
 * names, hashing, the segment header, the store's own records), store-key.c
 * (seal keys), store-reader.c, store-verify.c, store-writer.c (appending,
 * sealing, rotation, retention), store-compress.c (closed segments to gzip,
 * in worker threads) and store-open.c (scan, recover, start, close).
 * docs/journal-store.md is the byte-exact format.
 */
#ifndef ACTGATE_JOURNAL_STORE_INTERNAL_H
#define ACTGATE_JOURNAL_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "journal/store.h"

#define MODULE "journal"

extern const uint8_t jstore_header_magic[8];
/* Starts every frame; readers look for it to resynchronise after damage. */
extern const uint8_t jstore_frame_marker[4];

#define SEAL_SIZE 104
#define SEAL_MAC_INPUT 72 /* the seal's bytes before its HMAC */
#define GAP_SIZE 40
#define RETIRE_SIZE 32
#define OPEN_SIZE 40

#define SEG_PREFIX "journal-"
#define SEG_SUFFIX ".seg"
#define GZ_SUFFIX ".seg.gz"
#define TMP_SUFFIX ".seg.gz.tmp"
#define LOCK_NAME ".lock"
#define SEG_NAME_MAX 64

#define READ_CHUNK (1u << 20)

/* ---- little-endian fields ---- */

static inline void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- store-format.c ---- */

uint32_t jstore_crc_of(const uint8_t *p, size_t n);
void jstore_seg_name(char *buf, size_t size, uint64_t seq, const char *suffix);
uint64_t jstore_parse_seg_name(const char *name, const char **suffix);

EVP_MD *jstore_sha256_md(void);
int jstore_digest_copy_final(EVP_MD_CTX *scratch, const EVP_MD_CTX *from, uint8_t out[32]);
int jstore_hmac_of(const struct jstore_key *key, const uint8_t *data, size_t n, uint8_t out[32]);
int jstore_key_id_of(const struct jstore_key *key, uint8_t id[8]);

struct seg_header {
	uint16_t version;
	uint16_t size;
	uint32_t flags;
	uint8_t host_id[16];
	uint8_t boot_id[16];
	uint64_t first_time_ns;
	uint64_t seq;
	uint64_t first_record_seq;
	uint8_t prev_chain[32];
	uint64_t first_seal; /* the number of the segment's first seal */
	char writer[JSTORE_WRITER_SIZE]; /* version 3: the writer's version; "" in version 2 */
};

/* A whole frame (JSTORE_FRAME_OVERHEAD + len bytes at f) around payload. */
void jstore_frame_encode(uint8_t *f, uint16_t type, uint64_t seq, const void *payload,
			 uint32_t len);
/* A seal's payload from s (its HMAC computed with key and stored in s->hmac too). */
int jstore_encode_seal(const struct jstore_key *key, struct jstore_seal *s,
		       uint8_t out[SEAL_SIZE]);

/* A version-3 header (JSTORE_HEADER_SIZE bytes) from h; h->writer is cut to fit. */
void jstore_header_encode(const struct seg_header *h, uint8_t out[JSTORE_HEADER_SIZE]);
/*
 * How long the header starting with the avail bytes at in is: version 3's
 * size when its magic, version and size say so, else version 2's (the
 * length a damaged or older header is read and reported with).
 */
size_t jstore_header_len(const uint8_t *in, size_t avail);
/* Is the header of len bytes (jstore_header_len) intact: magic and CRC? */
bool jstore_header_intact(const uint8_t *in, size_t len);
/* Decode len bytes (jstore_header_len): version 2's fields, and the writer in version 3. */
void jstore_header_decode(const uint8_t *in, size_t len, struct seg_header *h);

/* ---- store-reader.c: what verify and recovery read through ---- */

enum ev_kind {
	EV_SEGMENT,     /* a segment starts: hdr, hdr_ok, hdr_raw */
	EV_RECORD,      /* an intact frame */
	EV_DAMAGE,      /* skipped or suspicious bytes */
	EV_SEGMENT_END, /* after its last byte */
	EV_END,
};

struct event {
	enum ev_kind kind;
	/* EV_RECORD */
	const uint8_t *frame;
	size_t frame_len;
	uint16_t type;
	uint32_t len;
	uint64_t seq;
	/* EV_RECORD, EV_DAMAGE */
	uint64_t offset;
	uint64_t index;
	/* EV_DAMAGE */
	enum jstore_damage damage;
	uint64_t length;
	char why[192];
};

enum reader_state { RS_NEXT_SEGMENT, RS_HEADER, RS_FRAMES, RS_SKIP, RS_SEG_END, RS_DONE };

struct jstore_reader {
	struct jstore_reader_options opts;
	char **files;
	size_t n_files, next_file;

	/* The current segment */
	const char *path;
	bool last; /* the last file given: its damaged end is a torn tail, if plain */
	int fd;
	bool gz, z_live, z_done, src_eof, z_reported;
	char z_why[128];
	z_stream z;
	uint8_t *zin;
	struct seg_header hdr;
	bool hdr_ok;
	bool skipped; /* an intact header of another version or with unknown flags */
	uint8_t hdr_raw[JSTORE_HEADER_MAX];
	size_t hdr_raw_len;
	size_t hdr_len; /* the header's length by its version (jstore_header_len) */
	uint64_t index;

	/* The segment's uncompressed bytes buf[start, end) are at offset base + start. */
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t base;

	/* A damaged stretch being skipped */
	bool in_damage;
	uint64_t damage_start;
	enum jstore_damage damage_kind;
	char damage_why[128];

	enum reader_state state;
	struct event queue[3];
	size_t q_head, q_len;
	struct jstore_reader_stats stats;
	int io_error;
};

int jstore_next_event(struct jstore_reader *r, struct event **out);

/* ---- store-writer.c, store-compress.c, store-open.c: the writer ---- */

enum seg_state { SEG_ACTIVE, SEG_PLAIN, SEG_QUEUED, SEG_GZ };

struct seginfo {
	uint64_t seq;
	uint64_t first_time_ns; /* from its header: when it was started */
	uint64_t bytes;         /* on disk */
	enum seg_state state;
};

/* The writer's counters that a failed write rolls back. */
struct wstate {
	uint64_t next_seq;
	uint64_t next_seal;      /* the number of the next seal */
	uint64_t since_seal;     /* records (of any type but a seal) since the last seal */
	uint64_t first_unsealed; /* monotonic ns of the first of them */
};

struct job_done {
	uint64_t seq;
	uint64_t bytes;
	int err;
};

/* What recovery found, for the OPEN record. */
struct open_info {
	uint64_t previous_segment, cut_bytes, damaged_bytes;
	bool unclean;
};

struct jstore {
	struct jstore_options o;
	char *dir;
	int dirfd, lockfd, fd;
	struct jstore_key key;
	uint8_t key_id[8];
	EVP_MD *md;
	EVP_MD_CTX *chain;     /* the active segment so far, queued bytes up to `hashed` included */
	EVP_MD_CTX *committed; /* the same, as of the last successful write */
	EVP_MD_CTX *scratch;

	uint64_t seg_seq;       /* the active segment, or the last one when fd < 0 */
	uint64_t seg_bytes;     /* the active segment's size on disk */
	uint64_t seg_user;      /* caller records in it */
	uint64_t seg_opened;    /* monotonic ns */
	uint8_t prev_chain[32]; /* fd < 0: the hash the next header carries */
	/*
	 * Recovery found the last segment without a closing seal (its writer
	 * crashed): the running hash of its header and intact frames, and its
	 * size. The seal is appended before the next segment starts.
	 */
	EVP_MD_CTX *unclosed;
	uint64_t unclosed_seq, unclosed_bytes;

	/* Queued frames, not yet written */
	uint8_t *buf;
	size_t len, cap, hashed;
	uint64_t buf_user, buf_seals, buf_gap;
	bool buf_open; /* the OPEN record is queued */

	struct wstate w, c;   /* working and committed */
	uint64_t unsynced;    /* caller records written since the last fdatasync */
	uint64_t dirty_since; /* monotonic ns of the first of them (or of a queued one) */

	uint64_t first_lost_ns, last_lost_ns;
	int first_lost_err;
	bool failing;
	struct open_info open_info;
	bool open_pending; /* the OPEN record is still to be written */

	struct seginfo *segs; /* oldest first; the active one last */
	size_t n_segs, cap_segs;

	/* The compression workers */
	pthread_t workers[JSTORE_MAX_COMPRESS_THREADS];
	unsigned n_workers, busy;
	bool worker_started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t *jobs;
	size_t n_jobs, cap_jobs;
	struct job_done *done;
	size_t n_done, cap_done;
	int done_flag; /* atomic: results wait in done[] */

	/*
	 * The last seal queued (its head), written (committed) and written
	 * and synced: the head jstore_head() reports.
	 */
	struct jstore_head queued_head, written_head, synced_head;

	struct jstore_stats st;
};

uint64_t jstore_now(const struct jstore *js, clockid_t which);
int jstore_write_or_cut(const struct jstore_options *o, int fd, const uint8_t *p, size_t n,
			uint64_t size);
int jstore_fsync_dir(struct jstore *js);
void jstore_segment_path(const struct jstore *js, char *buf, size_t size, uint64_t seq,
			 const char *suffix);
int jstore_flush_internal(struct jstore *js, bool force_sync);
int jstore_push_seg(struct jstore *js, const struct seginfo *s);
struct seginfo *jstore_find_seg(struct jstore *js, uint64_t seq);
int jstore_open_next_segment(struct jstore *js);
int jstore_close_segment(struct jstore *js, uint32_t seal_flags);
int jstore_seal_unclosed(struct jstore *js);
void jstore_retention(struct jstore *js);

void *jstore_compress_worker(void *arg);
void jstore_reap(struct jstore *js);
void jstore_schedule_compression(struct jstore *js);

#endif /* ACTGATE_JOURNAL_STORE_INTERNAL_H */
