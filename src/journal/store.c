// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The journal store (jstore.h, docs/journal-store.md): segment files of
 * framed records, a running SHA-256 chain, HMAC seals, gzip-compressed closed
 * segments, retention, crash recovery and full-disk accounting.
 *
 * Threads: a jstore is used by one thread; it may start one worker thread of
 * its own that compresses closed segments (files the writer no longer
 * touches) and reports back through a mutex-protected queue.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "journal/store.h"
#include "util/clock.h"
#include "util/io.h"
#include "util/log.h"

#define MODULE "journal"

static const uint8_t header_magic[8] = { 'A', 'C', 'T', 'G', 'J', 'R', 'N', 'L' };
/* Starts every frame; readers look for it to resynchronise after damage. */
static const uint8_t frame_marker[4] = { 0xa7, 'J', 'R', 0xc5 };

#define SEAL_SIZE 96
#define SEAL_MAC_INPUT 64 /* the seal's bytes before its HMAC */
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

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * CRC-32C (Castagnoli: reflected polynomial 0x82f63b78, initial value and
 * final xor 0xffffffff; crc32c("123456789") = 0xe3069283). Chosen over zlib's
 * CRC-32 because x86-64 computes it in hardware (SSE4.2): every record is
 * checked on every read, and this is several times faster there.
 */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static bool crc32c_hw;

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
#if defined(__x86_64__)
	crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p,
							       size_t n)
{
	uint64_t c = crc;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	for (; n; p++, n--)
		crc = __builtin_ia32_crc32qi(crc, *p);
	return crc;
}
#endif

static uint32_t crc_of(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	pthread_once(&crc32c_once, crc32c_init);
#if defined(__x86_64__)
	if (crc32c_hw)
		return ~crc32c_sse42(crc, p, n);
#endif
	for (; n; p++, n--)
		crc = crc32c_table[(crc ^ *p) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- names ---- */

static const char *const damage_names[] = {
	[JSTORE_INTACT] = "intact",
	[JSTORE_DAMAGE_IO] = "io",
	[JSTORE_DAMAGE_HEADER] = "header",
	[JSTORE_DAMAGE_FRAME] = "frame",
	[JSTORE_DAMAGE_CRC] = "crc",
	[JSTORE_DAMAGE_TORN_TAIL] = "torn-tail",
	[JSTORE_DAMAGE_COMPRESSION] = "compression",
	[JSTORE_DAMAGE_SEQUENCE] = "sequence",
	[JSTORE_DAMAGE_CHAIN] = "chain",
	[JSTORE_DAMAGE_SEGMENT_MISSING] = "segment-missing",
	[JSTORE_DAMAGE_SEGMENT_ORDER] = "segment-order",
	[JSTORE_DAMAGE_SEAL] = "seal",
	[JSTORE_DAMAGE_SEAL_KEY] = "seal-key",
};

const char *jstore_damage_name(enum jstore_damage d)
{
	if ((size_t)d < sizeof(damage_names) / sizeof(damage_names[0]) && damage_names[d])
		return damage_names[d];
	return "?";
}

static void seg_name(char *buf, size_t size, uint64_t seq, const char *suffix)
{
	snprintf(buf, size, SEG_PREFIX "%016" PRIx64 "%s", seq, suffix);
}

/* The sequence number in a segment file name, or 0 when it is not one (suffix says which). */
static uint64_t parse_seg_name(const char *name, const char **suffix)
{
	size_t plen = strlen(SEG_PREFIX);
	uint64_t seq = 0;

	if (strncmp(name, SEG_PREFIX, plen) != 0)
		return 0;
	for (size_t i = 0; i < 16; i++) {
		char c = name[plen + i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return 0;
		seq = seq << 4 | (uint64_t)d;
	}
	name += plen + 16;
	if (!strcmp(name, SEG_SUFFIX) || !strcmp(name, GZ_SUFFIX)) {
		*suffix = name;
		return seq;
	}
	return 0;
}

/* ---- hashing ---- */

static EVP_MD *sha256_md(void)
{
	return EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int digest_copy_final(EVP_MD_CTX *scratch, const EVP_MD_CTX *from, uint8_t out[32])
{
	unsigned int n = 0;

	if (!EVP_MD_CTX_copy_ex(scratch, from) || !EVP_DigestFinal_ex(scratch, out, &n) || n != 32)
		return -EIO;
	return 0;
}

static int hmac_of(const struct jstore_key *key, const uint8_t *data, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, data, n, out, &len) || len != 32)
		return -EIO;
	return 0;
}

/* A key's public name: the first 8 bytes of HMAC-SHA256(key, "actgate-jstore-key-id"). */
static int key_id_of(const struct jstore_key *key, uint8_t id[8])
{
	static const char label[] = "actgate-jstore-key-id";
	uint8_t mac[32];
	int err = hmac_of(key, (const uint8_t *)label, sizeof(label) - 1, mac);

	if (!err)
		memcpy(id, mac, 8);
	return err;
}

/* ---- keys ---- */

static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int jstore_key_load(const char *path, const char *journal_dir, struct jstore_key *key)
{
	char real_key[PATH_MAX], real_dir[PATH_MAX];
	uint8_t extra;
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	memset(key, 0, sizeof(*key));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		return err;
	}
	if (journal_dir) {
		if (!realpath(path, real_key) || !realpath(journal_dir, real_dir)) {
			err = -errno;
			log_error(MODULE, "seal key %s: %s", path, strerror(-err));
			goto out;
		}
		if (path_inside(real_key, real_dir)) {
			log_error(
				MODULE,
				"seal key %s: it is inside the journal directory %s: whoever can "
				"rewrite the journal could then forge its seals; keep it elsewhere",
				path, journal_dir);
			err = -EINVAL;
			goto out;
		}
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		log_warn(MODULE, "seal key %s: readable by group or others (mode %04o)", path,
			 (unsigned)(st.st_mode & 07777));
	do
		n = read(fd, key->bytes, sizeof(key->bytes));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		goto out;
	}
	if (n < JSTORE_KEY_MIN || read(fd, &extra, 1) != 0) {
		log_error(MODULE, "seal key %s: must hold %d to %d bytes", path, JSTORE_KEY_MIN,
			  JSTORE_KEY_MAX);
		err = -EINVAL;
		goto out;
	}
	key->len = (size_t)n;
out:
	close(fd);
	if (err)
		OPENSSL_cleanse(key, sizeof(*key));
	return err;
}

int jstore_key_create(const char *path)
{
	uint8_t bytes[32];
	int fd, err = 0;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		err = errno ? -errno : -EIO;
		log_error(MODULE, "seal key %s: no random bytes: %s", path, strerror(-err));
		return err;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		goto out;
	}
	err = write_all(fd, bytes, sizeof(bytes), NULL);
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (err) {
		log_error(MODULE, "seal key %s: %s", path, strerror(-err));
		unlink(path);
	}
out:
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return err;
}

/* ---- decoding the store's own records ---- */

int jstore_decode_seal(const void *payload, size_t len, struct jstore_seal *out)
{
	const uint8_t *p = payload;

	if (len != SEAL_SIZE)
		return -EINVAL;
	out->time_ns = get_u64(p);
	out->sealed_seq = get_u64(p + 8);
	out->flags = get_u32(p + 16);
	memcpy(out->key_id, p + 24, 8);
	memcpy(out->chain, p + 32, 32);
	memcpy(out->hmac, p + 64, 32);
	return 0;
}

int jstore_decode_gap(const void *payload, size_t len, struct jstore_gap *out)
{
	const uint8_t *p = payload;

	if (len != GAP_SIZE)
		return -EINVAL;
	out->time_ns = get_u64(p);
	out->lost = get_u64(p + 8);
	out->first_lost_ns = get_u64(p + 16);
	out->last_lost_ns = get_u64(p + 24);
	out->error = get_u32(p + 32);
	return 0;
}

int jstore_decode_retire(const void *payload, size_t len, struct jstore_retire *out)
{
	const uint8_t *p = payload;

	if (len != RETIRE_SIZE)
		return -EINVAL;
	out->time_ns = get_u64(p);
	out->first_kept_segment = get_u64(p + 8);
	out->segments = get_u64(p + 16);
	out->bytes = get_u64(p + 24);
	return 0;
}

int jstore_decode_open(const void *payload, size_t len, struct jstore_open_info *out)
{
	const uint8_t *p = payload;

	if (len != OPEN_SIZE)
		return -EINVAL;
	out->time_ns = get_u64(p);
	out->previous_segment = get_u64(p + 8);
	out->cut_bytes = get_u64(p + 16);
	out->damaged_bytes = get_u64(p + 24);
	out->flags = get_u32(p + 32);
	return 0;
}

/* ---- segment header ---- */

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
};

static void header_encode(const struct seg_header *h, uint8_t out[JSTORE_HEADER_SIZE])
{
	memset(out, 0, JSTORE_HEADER_SIZE);
	memcpy(out, header_magic, 8);
	put_u16(out + 8, h->version);
	put_u16(out + 10, h->size);
	put_u32(out + 12, h->flags);
	memcpy(out + 16, h->host_id, 16);
	memcpy(out + 32, h->boot_id, 16);
	put_u64(out + 48, h->first_time_ns);
	put_u64(out + 56, h->seq);
	put_u64(out + 64, h->first_record_seq);
	memcpy(out + 72, h->prev_chain, 32);
	put_u32(out + 124, crc_of(out, 124));
}

static void header_decode(const uint8_t in[JSTORE_HEADER_SIZE], struct seg_header *h)
{
	h->version = get_u16(in + 8);
	h->size = get_u16(in + 10);
	h->flags = get_u32(in + 12);
	memcpy(h->host_id, in + 16, 16);
	memcpy(h->boot_id, in + 32, 16);
	h->first_time_ns = get_u64(in + 48);
	h->seq = get_u64(in + 56);
	h->first_record_seq = get_u64(in + 64);
	memcpy(h->prev_chain, in + 72, 32);
}

/* ---- reader ---- */

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
	uint8_t hdr_raw[JSTORE_HEADER_SIZE];
	size_t hdr_raw_len;
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

static void rsay(const struct jstore_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void rsay(const struct jstore_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->opts.log)
		return;
	fprintf(r->opts.log, "%s: ", r->opts.prefix ? r->opts.prefix : MODULE);
	va_start(ap, fmt);
	vfprintf(r->opts.log, fmt, ap);
	va_end(ap);
	fputc('\n', r->opts.log);
}

static struct event *push_event(struct jstore_reader *r, enum ev_kind kind)
{
	struct event *e = &r->queue[(r->q_head + r->q_len++) % 3];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static void push_damage(struct jstore_reader *r, enum jstore_damage kind, uint64_t offset,
			uint64_t length, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void push_damage(struct jstore_reader *r, enum jstore_damage kind, uint64_t offset,
			uint64_t length, const char *fmt, ...)
{
	struct event *e = push_event(r, EV_DAMAGE);
	va_list ap;

	e->damage = kind;
	e->offset = offset;
	e->length = length;
	e->index = r->index;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	r->stats.damaged_regions++;
	r->stats.damaged_bytes += length;
	if (kind == JSTORE_DAMAGE_TORN_TAIL)
		r->stats.torn_tail_bytes += length;
}

static void close_source(struct jstore_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->z_live)
		inflateEnd(&r->z);
	r->z_live = false;
}

static int open_source(struct jstore_reader *r, const char *path)
{
	uint8_t magic[2];
	ssize_t n;

	r->path = path;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 && errno == ENOENT) {
		/* Compressed (and the plain file removed) since the directory was listed. */
		size_t len = strlen(path);

		if (len > strlen(SEG_SUFFIX) &&
		    !strcmp(path + len - strlen(SEG_SUFFIX), SEG_SUFFIX)) {
			char *gz = malloc(len + 4);

			if (!gz)
				return -ENOMEM;
			memcpy(gz, path, len);
			memcpy(gz + len, ".gz", 4);
			r->fd = open(gz, O_RDONLY | O_CLOEXEC);
			if (r->fd >= 0) {
				free(r->files[r->next_file - 1]);
				r->files[r->next_file - 1] = gz;
				r->path = gz;
			} else {
				free(gz);
				errno = ENOENT;
			}
		}
	}
	if (r->fd < 0)
		return -errno;
	r->gz = false;
	r->z_done = r->src_eof = r->z_reported = false;
	r->z_why[0] = '\0';
	do
		n = pread(r->fd, magic, 2, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Told apart by content: a copied segment may have lost its name. */
	if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		memset(&r->z, 0, sizeof(r->z));
		/* 15 + 32: a gzip or a zlib stream, with the largest window. */
		if (inflateInit2(&r->z, 15 + 32) != Z_OK)
			return -ENOMEM;
		r->z_live = true;
		r->gz = true;
	}
	return 0;
}

/* Read more of the segment into buf[end, cap): bytes added, 0 at its end, -errno. */
static int fill(struct jstore_reader *r, size_t want)
{
	size_t need;
	ssize_t n;

	if (r->src_eof)
		return 0;
	if (r->start > 0 && (r->cap - r->end < READ_CHUNK || r->start > r->cap / 2)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->base += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	need = r->end + (want > READ_CHUNK ? want : READ_CHUNK);
	if (need > r->cap) {
		size_t cap = r->cap ? r->cap : 2 * READ_CHUNK;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(r->buf, cap);
		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = cap;
	}
	if (!r->gz) {
		do
			n = read(r->fd, r->buf + r->end, r->cap - r->end);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (n == 0)
			r->src_eof = true;
		r->end += (size_t)n;
		return (int)(n > 0);
	}
	if (!r->zin && !(r->zin = malloc(READ_CHUNK)))
		return -ENOMEM;
	r->z.next_out = r->buf + r->end;
	r->z.avail_out = (uInt)(r->cap - r->end > UINT_MAX ? UINT_MAX : r->cap - r->end);
	while (r->z.next_out == r->buf + r->end) {
		int ret;

		if (r->z.avail_in == 0) {
			do
				n = read(r->fd, r->zin, READ_CHUNK);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return -errno;
			if (n == 0) {
				if (!r->z_done)
					snprintf(r->z_why, sizeof(r->z_why),
						 "the compressed stream is cut short");
				r->src_eof = true;
				break;
			}
			if (r->z_done) {
				snprintf(r->z_why, sizeof(r->z_why),
					 "bytes after the end of the compressed stream");
				r->src_eof = true;
				break;
			}
			r->z.next_in = r->zin;
			r->z.avail_in = (uInt)n;
		}
		if (r->z_done) {
			/* Anything after the stream's end is not ours. */
			snprintf(r->z_why, sizeof(r->z_why),
				 "bytes after the end of the compressed stream");
			r->src_eof = true;
			break;
		}
		ret = inflate(&r->z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END) {
			r->z_done = true;
			if (r->z.next_out != r->buf + r->end)
				break;
			continue;
		}
		if (ret == Z_OK || (ret == Z_BUF_ERROR && r->z.avail_in == 0))
			continue;
		snprintf(r->z_why, sizeof(r->z_why), "the compressed stream is corrupt (%s)",
			 r->z.msg ? r->z.msg : "inflate failed");
		r->src_eof = true;
		break;
	}
	n = r->z.next_out - (r->buf + r->end);
	r->end += (size_t)n;
	return (int)(n > 0);
}

/* Make n bytes from start available (fewer at the segment's end): how many are. */
static int64_t ensure(struct jstore_reader *r, size_t n)
{
	while (r->end - r->start < n) {
		int got = fill(r, n - (r->end - r->start));

		if (got < 0)
			return got;
		if (got == 0 && r->src_eof)
			break;
	}
	return (int64_t)(r->end - r->start);
}

enum frame_check { FRAME_OK, FRAME_SHORT, FRAME_BAD, FRAME_BAD_CRC };

/* Is there an intact frame at buf[start]? Its size in *flen. */
static int check_frame(struct jstore_reader *r, size_t *flen, char *why, size_t why_size)
{
	const uint8_t *f;
	int64_t avail = ensure(r, JSTORE_FRAME_OVERHEAD);
	uint32_t len, crc;
	uint16_t type, flags;

	if (avail < 0)
		return (int)avail;
	if (avail < JSTORE_FRAME_OVERHEAD) {
		snprintf(why, why_size, "%" PRId64 " bytes, less than a record's framing", avail);
		return FRAME_SHORT;
	}
	f = r->buf + r->start;
	len = get_u32(f + 4);
	type = get_u16(f + 8);
	flags = get_u16(f + 10);
	if (memcmp(f, frame_marker, 4)) {
		snprintf(why, why_size, "no record marker");
		return FRAME_BAD;
	}
	if (len > JSTORE_MAX_PAYLOAD || type == 0 || flags != 0) {
		snprintf(why, why_size,
			 "impossible framing (length %" PRIu32 ", type %#x, flags %#x)", len, type,
			 flags);
		return FRAME_BAD;
	}
	*flen = JSTORE_FRAME_OVERHEAD + (size_t)len;
	avail = ensure(r, *flen);
	if (avail < 0)
		return (int)avail;
	if ((size_t)avail < *flen) {
		snprintf(why, why_size, "a record of %zu bytes cut short after %" PRId64, *flen,
			 avail);
		return FRAME_SHORT;
	}
	f = r->buf + r->start;
	crc = get_u32(f + *flen - 4);
	if (crc != crc_of(f, *flen - 4)) {
		snprintf(why, why_size,
			 "CRC mismatch in record %" PRIu64 " (type %#x, %" PRIu32 " bytes)",
			 get_u64(f + 12), type, len);
		return FRAME_BAD_CRC;
	}
	return FRAME_OK;
}

static void end_damage(struct jstore_reader *r, uint64_t at, bool at_eof)
{
	enum jstore_damage kind = r->damage_kind;
	uint64_t len = at - r->damage_start;

	r->in_damage = false;
	if (at_eof && r->gz && r->z_why[0]) {
		push_damage(r, JSTORE_DAMAGE_COMPRESSION, r->damage_start, len,
			    "%s; the last %" PRIu64 " bytes decompressed are no whole record (%s)",
			    r->z_why, len, r->damage_why);
		r->z_reported = true;
		return;
	}
	if (at_eof && r->last && !r->gz) {
		push_damage(r, JSTORE_DAMAGE_TORN_TAIL, r->damage_start, len,
			    "torn tail: %" PRIu64 " bytes after the last intact record (%s)", len,
			    r->damage_why);
		return;
	}
	push_damage(r, kind, r->damage_start, len, "%" PRIu64 " bytes skipped: %s%s", len,
		    r->damage_why, at_eof ? " (up to the end of the segment)" : "");
}

static int step_header(struct jstore_reader *r)
{
	int64_t avail = ensure(r, JSTORE_HEADER_SIZE);
	const uint8_t *h;

	if (avail < 0)
		return (int)avail;
	r->hdr_raw_len = (size_t)avail < JSTORE_HEADER_SIZE ? (size_t)avail : JSTORE_HEADER_SIZE;
	memcpy(r->hdr_raw, r->buf + r->start, r->hdr_raw_len);
	memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr_ok = false;
	r->stats.segments++;
	push_event(r, EV_SEGMENT);
	if (r->hdr_raw_len < JSTORE_HEADER_SIZE) {
		enum jstore_damage kind = r->gz && r->z_why[0] ? JSTORE_DAMAGE_COMPRESSION
					  : r->last && !r->gz  ? JSTORE_DAMAGE_TORN_TAIL
							       : JSTORE_DAMAGE_HEADER;

		push_damage(r, kind, 0, r->hdr_raw_len,
			    "the segment header is cut short: %zu of %d bytes%s%s", r->hdr_raw_len,
			    JSTORE_HEADER_SIZE, r->z_why[0] ? "; " : "", r->z_why);
		r->z_reported = r->z_why[0] != '\0';
		r->start = r->end;
		r->state = RS_SEG_END;
		return 0;
	}
	h = r->hdr_raw;
	header_decode(h, &r->hdr);
	r->start += JSTORE_HEADER_SIZE;
	r->state = RS_FRAMES;
	if (memcmp(h, header_magic, 8)) {
		push_damage(r, JSTORE_DAMAGE_HEADER, 0, JSTORE_HEADER_SIZE,
			    "not a journal segment header (bad magic); reading records anyway");
	} else if (get_u32(h + 124) != crc_of(h, 124)) {
		push_damage(r, JSTORE_DAMAGE_HEADER, 0, JSTORE_HEADER_SIZE,
			    "segment header CRC mismatch; reading records anyway");
	} else if (r->hdr.version != JSTORE_FORMAT_VERSION || r->hdr.size != JSTORE_HEADER_SIZE) {
		/* An intact header of another version: its records may be framed differently. */
		push_damage(
			r, JSTORE_DAMAGE_HEADER, 0, JSTORE_HEADER_SIZE,
			"segment format version %u (header size %u): this actgate reads version %d",
			r->hdr.version, r->hdr.size, JSTORE_FORMAT_VERSION);
		r->state = RS_SKIP;
	} else {
		r->hdr_ok = true;
	}
	return 0;
}

static int step_frames(struct jstore_reader *r)
{
	char why[120];
	size_t flen = 0;
	int ret = check_frame(r, &flen, why, sizeof(why));
	uint64_t at;

	if (ret < 0)
		return ret;
	at = r->base + r->start;
	if (ret == FRAME_OK) {
		const uint8_t *f = r->buf + r->start;
		struct event *e;

		if (r->in_damage)
			end_damage(r, at, false);
		e = push_event(r, EV_RECORD);
		e->frame = f;
		e->frame_len = flen;
		e->len = get_u32(f + 4);
		e->type = get_u16(f + 8);
		e->seq = get_u64(f + 12);
		e->offset = at;
		e->index = r->index++;
		r->start += flen;
		r->stats.records++;
		return 0;
	}
	if (r->end == r->start) {
		/* The end of the segment. */
		if (r->in_damage)
			end_damage(r, at, true);
		r->state = RS_SEG_END;
		return 0;
	}
	if (!r->in_damage) {
		r->in_damage = true;
		r->damage_start = at;
		r->damage_kind = ret == FRAME_BAD_CRC ? JSTORE_DAMAGE_CRC : JSTORE_DAMAGE_FRAME;
		snprintf(r->damage_why, sizeof(r->damage_why), "%s", why);
	}
	/* Look for the next marker; an intact frame there ends the damaged stretch. */
	for (size_t from = 1;; from = 0) {
		const uint8_t *m = NULL;
		int64_t avail;

		if (r->end - r->start > from)
			m = memmem(r->buf + r->start + from, r->end - r->start - from, frame_marker,
				   sizeof(frame_marker));
		if (m) {
			r->start = (size_t)(m - r->buf);
			return 0;
		}
		/* Keep the last 3 bytes: they may begin a marker. */
		if (r->end - r->start > 3)
			r->start = r->end - 3;
		avail = ensure(r, 4);
		if (avail < 0)
			return (int)avail;
		if (avail < 4) {
			r->start = r->end;
			return 0;
		}
	}
}

static int step(struct jstore_reader *r)
{
	int err;

	switch (r->state) {
	case RS_NEXT_SEGMENT:
		if (r->next_file >= r->n_files) {
			push_event(r, EV_END);
			r->state = RS_DONE;
			return 0;
		}
		close_source(r);
		r->start = r->end = 0;
		r->base = 0;
		r->index = 0;
		r->in_damage = false;
		r->last = r->next_file + 1 == r->n_files;
		err = open_source(r, r->files[r->next_file++]);
		if (err) {
			close_source(r);
			push_event(r, EV_SEGMENT);
			r->hdr_ok = false;
			r->hdr_raw_len = 0;
			memset(&r->hdr, 0, sizeof(r->hdr));
			push_damage(r, JSTORE_DAMAGE_IO, 0, 0, "cannot read: %s", strerror(-err));
			r->state = RS_SEG_END;
			return 0;
		}
		r->state = RS_HEADER;
		return 0;
	case RS_HEADER:
		return step_header(r);
	case RS_FRAMES:
		return step_frames(r);
	case RS_SKIP: {
		int64_t avail;

		r->start = r->end;
		avail = ensure(r, READ_CHUNK);
		if (avail < 0)
			return (int)avail;
		if (avail == 0)
			r->state = RS_SEG_END;
		r->start = r->end;
		return 0;
	}
	case RS_SEG_END:
		if (r->gz && r->z_why[0] && !r->z_reported)
			push_damage(r, JSTORE_DAMAGE_COMPRESSION, r->base + r->end, 0, "%s",
				    r->z_why);
		push_event(r, EV_SEGMENT_END);
		r->state = RS_NEXT_SEGMENT;
		return 0;
	case RS_DONE:
		push_event(r, EV_END);
		return 0;
	}
	return -EINVAL;
}

/* The next event; its pointers stay valid until the next call. */
static int next_event(struct jstore_reader *r, struct event **out)
{
	while (r->q_len == 0) {
		int err = step(r);

		if (err) {
			if (!r->io_error)
				rsay(r, "%s: %s", r->path ? r->path : "?", strerror(-err));
			r->io_error = err;
			return err;
		}
	}
	*out = &r->queue[r->q_head];
	r->q_head = (r->q_head + 1) % 3;
	r->q_len--;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(struct jstore_reader *r, size_t *cap, char *path)
{
	if (!path)
		return -ENOMEM;
	if (r->n_files == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **p = realloc(r->files, ncap * sizeof(*p));

		if (!p) {
			free(path);
			return -ENOMEM;
		}
		r->files = p;
		*cap = ncap;
	}
	r->files[r->n_files++] = path;
	return 0;
}

/* A directory's segment files, sorted by sequence number; a plain one wins over its .gz. */
static int add_dir(struct jstore_reader *r, size_t *cap, const char *dir)
{
	size_t first = r->n_files, kept;
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *suffix;
		char *path;

		if (!parse_seg_name(de->d_name, &suffix))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			path = NULL;
		err = add_file(r, cap, path);
		if (err)
			break;
	}
	closedir(d);
	if (err)
		return err;
	/* Names sort by sequence number (fixed-width hex), and "x.seg" before "x.seg.gz". */
	if (r->n_files > first)
		qsort(r->files + first, r->n_files - first, sizeof(char *), cmp_str);
	kept = first;
	for (size_t i = first; i < r->n_files; i++) {
		size_t len = strlen(r->files[i]);

		if (kept > first && len == strlen(r->files[kept - 1]) + 3 &&
		    !strncmp(r->files[i], r->files[kept - 1], len - 3)) {
			free(r->files[i]);
			continue;
		}
		r->files[kept++] = r->files[i];
	}
	r->n_files = kept;
	return 0;
}

int jstore_reader_open(struct jstore_reader **out, const char *const *paths, size_t n_paths,
		       const struct jstore_reader_options *opts)
{
	struct jstore_reader *r = calloc(1, sizeof(*r));
	size_t cap = 0;
	int err = 0;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if (opts)
		r->opts = *opts;
	r->fd = -1;
	for (size_t i = 0; i < n_paths; i++) {
		struct stat st;

		if (stat(paths[i], &st) < 0) {
			err = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			err = add_dir(r, &cap, paths[i]);
		} else {
			err = add_file(r, &cap, strdup(paths[i]));
		}
		if (err) {
			rsay(r, "%s: %s", paths[i], strerror(-err));
			jstore_reader_close(r);
			return err;
		}
	}
	*out = r;
	return 0;
}

int jstore_read(struct jstore_reader *r, struct jstore_record *rec)
{
	struct event *e;

	for (;;) {
		int err = next_event(r, &e);

		if (err)
			return err;
		switch (e->kind) {
		case EV_END:
			return 0;
		case EV_DAMAGE:
			rsay(r, "%s: offset %" PRIu64 ": %s: %s", r->path, e->offset,
			     jstore_damage_name(e->damage), e->why);
			continue;
		case EV_RECORD:
			if (e->type > JSTORE_TYPE_USER_MAX && !r->opts.include_internal)
				continue;
			rec->type = e->type;
			rec->len = e->len;
			rec->payload = e->frame + 20;
			rec->seq = e->seq;
			rec->segment_seq = r->hdr_ok ? r->hdr.seq : 0;
			rec->segment = r->path;
			rec->offset = e->offset;
			rec->index = e->index;
			return 1;
		default:
			continue;
		}
	}
}

void jstore_reader_stats(const struct jstore_reader *r, struct jstore_reader_stats *st)
{
	*st = r->stats;
}

void jstore_reader_close(struct jstore_reader *r)
{
	if (!r)
		return;
	close_source(r);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i]);
	free(r->files);
	free(r->buf);
	free(r->zin);
	free(r);
}

/* ---- verify ---- */

struct verifier {
	struct jstore_verify_result *res;
	struct jstore_reader *r;
	const struct jstore_key *key;
	uint8_t key_id[8];
	EVP_MD *md;
	EVP_MD_CTX *ctx, *scratch;
	bool seg_open;  /* ctx hashes the current segment */
	bool have_prev; /* a segment was read before this one */
	bool prev_hdr_ok;
	uint64_t prev_seq;
	uint8_t prev_chain[32]; /* SHA-256 of the previous segment */
	bool have_expected;
	uint64_t expected_seq;
	bool first_seen;
	uint64_t first_segment; /* its header's number; 0 when that header is damaged */
	uint64_t first_kept;    /* the highest "first kept" of the retire records */
	char first_path[4096];
	/* Frames gathered for hashing: SHA-256 runs faster on large updates than per record. */
	uint8_t *hbuf;
	size_t hlen;
};

#define HBUF_SIZE (256 * 1024)

static void hash_flush(struct verifier *v)
{
	if (v->hlen)
		EVP_DigestUpdate(v->ctx, v->hbuf, v->hlen);
	v->hlen = 0;
}

static void hash_add(struct verifier *v, const uint8_t *p, size_t n)
{
	if (HBUF_SIZE - v->hlen < n)
		hash_flush(v);
	if (n >= HBUF_SIZE) {
		EVP_DigestUpdate(v->ctx, p, n);
		return;
	}
	memcpy(v->hbuf + v->hlen, p, n);
	v->hlen += n;
}

static void note(struct verifier *v, enum jstore_damage kind, uint64_t offset, uint64_t index,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void note(struct verifier *v, enum jstore_damage kind, uint64_t offset, uint64_t index,
		 const char *fmt, ...)
{
	struct jstore_verify_result *res = v->res;
	va_list ap;

	if (res->damages++)
		return;
	res->damage = kind;
	snprintf(res->segment, sizeof(res->segment), "%s", v->r->path ? v->r->path : "");
	res->segment_seq = v->r->hdr_ok ? v->r->hdr.seq : 0;
	res->offset = offset;
	res->record_index = index;
	res->record_seq = v->expected_seq;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

static void verify_segment_start(struct verifier *v)
{
	struct jstore_reader *r = v->r;
	const struct seg_header *h = &r->hdr;
	static const uint8_t zero[32];

	v->res->segments++;
	if (!v->first_seen) {
		v->first_seen = true;
		v->first_segment = r->hdr_ok ? h->seq : 0;
		snprintf(v->first_path, sizeof(v->first_path), "%s", r->path ? r->path : "");
		if (r->hdr_ok && h->seq == 1 && memcmp(h->prev_chain, zero, 32))
			note(v, JSTORE_DAMAGE_CHAIN, 56, 0,
			     "segment 1 names a previous segment's hash: it is not the first "
			     "segment");
	} else if (r->hdr_ok && v->prev_hdr_ok) {
		if (h->seq > v->prev_seq + 1)
			note(v, JSTORE_DAMAGE_SEGMENT_MISSING, 0, 0,
			     "segment %" PRIu64 " follows segment %" PRIu64 ": segments %" PRIu64
			     "..%" PRIu64 " are missing",
			     h->seq, v->prev_seq, v->prev_seq + 1, h->seq - 1);
		else if (h->seq <= v->prev_seq)
			note(v, JSTORE_DAMAGE_SEGMENT_ORDER, 0, 0,
			     "segment %" PRIu64 " follows segment %" PRIu64
			     ": a segment is repeated or out of order",
			     h->seq, v->prev_seq);
		else if (memcmp(h->prev_chain, v->prev_chain, 32))
			note(v, JSTORE_DAMAGE_CHAIN, 72, 0,
			     "the header's hash of segment %" PRIu64
			     " does not match that segment's "
			     "SHA-256: it was changed, or this segment does not follow it",
			     v->prev_seq);
	}
	if (r->hdr_ok) {
		if (v->have_expected && h->first_record_seq != v->expected_seq)
			note(v, JSTORE_DAMAGE_SEQUENCE, 64, 0,
			     "the segment starts at record %" PRIu64 " where %" PRIu64
			     " was next: records were %s",
			     h->first_record_seq, v->expected_seq,
			     h->first_record_seq > v->expected_seq ? "removed" : "repeated");
		v->expected_seq = h->first_record_seq;
		v->have_expected = true;
	}
	EVP_DigestInit_ex(v->ctx, v->md, NULL);
	v->hlen = 0;
	hash_add(v, r->hdr_raw, r->hdr_raw_len);
	v->seg_open = true;
}

static void verify_seal(struct verifier *v, const struct event *e)
{
	const uint8_t *payload = e->frame + 20;
	struct jstore_seal seal;
	uint8_t head[32], mac[32];

	v->res->seals++;
	if (jstore_decode_seal(payload, e->len, &seal)) {
		note(v, JSTORE_DAMAGE_SEAL, e->offset, e->index,
		     "a seal of %" PRIu32 " bytes (not %d)", e->len, SEAL_SIZE);
		return;
	}
	if (seal.sealed_seq + 1 != e->seq)
		note(v, JSTORE_DAMAGE_SEAL, e->offset, e->index,
		     "seal %" PRIu64 " says it covers up to record %" PRIu64, e->seq,
		     seal.sealed_seq);
	hash_flush(v);
	if (digest_copy_final(v->scratch, v->ctx, head) == 0 && memcmp(head, seal.chain, 32))
		note(v, JSTORE_DAMAGE_CHAIN, e->offset, e->index,
		     "the segment up to seal %" PRIu64 " does not hash to the seal's chain value: "
		     "a record before it (since the previous seal) was changed, removed or "
		     "inserted",
		     e->seq);
	if (!v->key)
		return;
	v->res->seals_checked++;
	if (memcmp(seal.key_id, v->key_id, 8)) {
		note(v, JSTORE_DAMAGE_SEAL_KEY, e->offset, e->index,
		     "seal %" PRIu64 " was made with another key (key id %02x%02x%02x%02x...)",
		     e->seq, seal.key_id[0], seal.key_id[1], seal.key_id[2], seal.key_id[3]);
		return;
	}
	if (hmac_of(v->key, payload, SEAL_MAC_INPUT, mac) == 0 && CRYPTO_memcmp(mac, seal.hmac, 32))
		note(v, JSTORE_DAMAGE_SEAL, e->offset, e->index,
		     "seal %" PRIu64 ": HMAC mismatch: the seal, or the chain it vouches for, was "
		     "rewritten without the key",
		     e->seq);
}

static void verify_record(struct verifier *v, const struct event *e)
{
	struct jstore_verify_result *res = v->res;
	const uint8_t *payload = e->frame + 20;

	res->records++;
	if (v->have_expected && e->seq != v->expected_seq) {
		if (e->seq > v->expected_seq)
			note(v, JSTORE_DAMAGE_SEQUENCE, e->offset, e->index,
			     "record %" PRIu64 " follows record %" PRIu64 ": records %" PRIu64
			     "..%" PRIu64 " are missing",
			     e->seq, v->expected_seq - 1, v->expected_seq, e->seq - 1);
		else
			note(v, JSTORE_DAMAGE_SEQUENCE, e->offset, e->index,
			     "record %" PRIu64 " where %" PRIu64
			     " was next: a record is repeated or out "
			     "of order",
			     e->seq, v->expected_seq);
	}
	v->expected_seq = e->seq + 1;
	v->have_expected = true;
	if (e->type <= JSTORE_TYPE_USER_MAX) {
		res->user_records++;
	} else if (e->type == JSTORE_TYPE_SEAL) {
		verify_seal(v, e);
	} else if (e->type == JSTORE_TYPE_GAP) {
		struct jstore_gap gap;

		res->gaps++;
		if (jstore_decode_gap(payload, e->len, &gap) == 0)
			res->lost += gap.lost;
	} else if (e->type == JSTORE_TYPE_RETIRE) {
		struct jstore_retire ret;

		if (jstore_decode_retire(payload, e->len, &ret) == 0 &&
		    ret.first_kept_segment > v->first_kept) {
			v->first_kept = ret.first_kept_segment;
			res->retired_segments += ret.segments;
		}
	} else if (e->type == JSTORE_TYPE_OPEN) {
		struct jstore_open_info info;

		res->opens++;
		if (jstore_decode_open(payload, e->len, &info) == 0 &&
		    (info.flags & JSTORE_OPEN_UNCLEAN))
			res->unclean_opens++;
	}
	if (e->type == JSTORE_TYPE_SEAL)
		res->unsealed_records = 0;
	else
		res->unsealed_records++;
	hash_add(v, e->frame, e->frame_len);
}

int jstore_verify(const char *const *paths, size_t n_paths, const struct jstore_key *key,
		  unsigned flags, struct jstore_verify_result *res)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct verifier v = { .res = res, .key = key };
	struct event *e;
	int err;

	memset(res, 0, sizeof(*res));
	res->key_checked = key != NULL;
	err = jstore_reader_open(&v.r, paths, n_paths, &ro);
	if (err)
		return err;
	v.md = sha256_md();
	v.ctx = EVP_MD_CTX_new();
	v.scratch = EVP_MD_CTX_new();
	v.hbuf = malloc(HBUF_SIZE);
	if (!v.md || !v.ctx || !v.scratch || !v.hbuf || (key && key_id_of(key, v.key_id))) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		err = next_event(v.r, &e);
		if (err) {
			note(&v, JSTORE_DAMAGE_IO, v.r->base + v.r->start, v.r->index,
			     "read error: %s", strerror(-err));
			err = 0;
			break;
		}
		if (e->kind == EV_END)
			break;
		switch (e->kind) {
		case EV_SEGMENT:
			verify_segment_start(&v);
			break;
		case EV_RECORD:
			verify_record(&v, e);
			break;
		case EV_DAMAGE:
			note(&v, e->damage, e->offset, e->index, "%s", e->why);
			break;
		case EV_SEGMENT_END:
			if (v.seg_open) {
				hash_flush(&v);
				digest_copy_final(v.scratch, v.ctx, v.prev_chain);
			}
			v.seg_open = false;
			v.have_prev = true;
			v.prev_hdr_ok = v.r->hdr_ok;
			v.prev_seq = v.r->hdr.seq;
			break;
		default:
			break;
		}
	}
	if (!(flags & JSTORE_VERIFY_PARTIAL) && v.first_segment > 1 &&
	    v.first_kept < v.first_segment) {
		/* Reported where it is: before the first segment. */
		if (!res->damages) {
			res->damage = JSTORE_DAMAGE_SEGMENT_MISSING;
			snprintf(res->segment, sizeof(res->segment), "%s", v.first_path);
			res->segment_seq = v.first_segment;
			res->offset = res->record_index = res->record_seq = 0;
			snprintf(res->message, sizeof(res->message),
				 "the journal starts at segment %" PRIu64
				 ", and no retire record says "
				 "segments 1..%" PRIu64 " were removed by retention",
				 v.first_segment, v.first_segment - 1);
		}
		res->damages++;
	}
out:
	free(v.hbuf);
	EVP_MD_CTX_free(v.ctx);
	EVP_MD_CTX_free(v.scratch);
	EVP_MD_free(v.md);
	jstore_reader_close(v.r);
	if (err)
		return err;
	return res->damages ? -EBADMSG : 0;
}

/* ---- writer ---- */

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
	uint64_t since_seal;     /* records since the last seal */
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

	struct jstore_stats st;
};

static uint64_t now_ns(const struct jstore *js, clockid_t which)
{
	if (js->o.clock)
		return js->o.clock(js->o.hook_ctx, which);
	return clock_ns(which);
}

static ssize_t do_write(const struct jstore_options *o, int fd, const void *p, size_t n)
{
	if (o->write)
		return o->write(o->hook_ctx, fd, p, n);
	return write(fd, p, n);
}

/*
 * Write all of p, or nothing: on failure the file is cut back to `size` (its
 * size before). Its own loop rather than util/io.h's, because every write goes
 * through the fault-injection hook (jstore_options.write) the tests use.
 */
static int write_or_cut(const struct jstore_options *o, int fd, const uint8_t *p, size_t n,
			uint64_t size)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = do_write(o, fd, p + done, n - done);
		int err;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : -EIO;
			if (done && ftruncate(fd, (off_t)size) < 0) {
				/* Readers skip the partial frame as damage; recovery cuts it. */
			}
			return err;
		}
		done += (size_t)got;
	}
	return 0;
}

static int fsync_dir(struct jstore *js)
{
	return fsync(js->dirfd) < 0 ? -errno : 0;
}

static int reserve(struct jstore *js, size_t n)
{
	if (js->cap - js->len < n) {
		size_t cap = js->cap ? js->cap : 64 * 1024;
		uint8_t *p;

		while (cap - js->len < n)
			cap *= 2;
		p = realloc(js->buf, cap);
		if (!p)
			return -ENOMEM;
		js->buf = p;
		js->cap = cap;
	}
	return 0;
}

static int queue_frame(struct jstore *js, uint16_t type, const void *payload, size_t len)
{
	uint8_t *f;
	int err = reserve(js, JSTORE_FRAME_OVERHEAD + len);

	if (err)
		return err;
	f = js->buf + js->len;
	memcpy(f, frame_marker, 4);
	put_u32(f + 4, (uint32_t)len);
	put_u16(f + 8, type);
	put_u16(f + 10, 0);
	put_u64(f + 12, js->w.next_seq++);
	if (len)
		memcpy(f + 20, payload, len);
	put_u32(f + 20 + len, crc_of(f, 20 + len));
	js->len += JSTORE_FRAME_OVERHEAD + len;
	return 0;
}

static void chain_catch_up(struct jstore *js)
{
	if (js->hashed < js->len)
		EVP_DigestUpdate(js->chain, js->buf + js->hashed, js->len - js->hashed);
	js->hashed = js->len;
}

static int queue_seal(struct jstore *js, uint32_t flags)
{
	uint8_t p[SEAL_SIZE], head[32];
	int err;

	chain_catch_up(js);
	err = digest_copy_final(js->scratch, js->chain, head);
	if (err)
		return err;
	memset(p, 0, sizeof(p));
	put_u64(p, now_ns(js, CLOCK_REALTIME));
	put_u64(p + 8, js->w.next_seq - 1);
	put_u32(p + 16, flags);
	memcpy(p + 24, js->key_id, 8);
	memcpy(p + 32, head, 32);
	err = hmac_of(&js->key, p, SEAL_MAC_INPUT, p + 64);
	if (!err)
		err = queue_frame(js, JSTORE_TYPE_SEAL, p, sizeof(p));
	if (err)
		return err;
	js->buf_seals++;
	js->w.since_seal = 0;
	js->w.first_unsealed = 0;
	return 0;
}

static int queue_gap(struct jstore *js)
{
	uint8_t p[GAP_SIZE];
	int err;

	memset(p, 0, sizeof(p));
	put_u64(p, now_ns(js, CLOCK_REALTIME));
	put_u64(p + 8, js->st.lost_unreported);
	put_u64(p + 16, js->first_lost_ns);
	put_u64(p + 24, js->last_lost_ns);
	put_u32(p + 32, (uint32_t)-js->first_lost_err);
	err = queue_frame(js, JSTORE_TYPE_GAP, p, sizeof(p));
	if (!err)
		js->buf_gap = js->st.lost_unreported;
	return err;
}

static void count_record(struct jstore *js, uint64_t now)
{
	if (!js->w.since_seal++)
		js->w.first_unsealed = now;
	if (!js->dirty_since)
		js->dirty_since = now;
}

static void lose(struct jstore *js, uint64_t n, int err)
{
	uint64_t now = now_ns(js, CLOCK_REALTIME);

	if (!n)
		return;
	if (!js->st.lost_unreported) {
		js->first_lost_ns = now;
		js->first_lost_err = err;
	}
	js->last_lost_ns = now;
	js->st.lost += n;
	js->st.lost_unreported += n;
}

static void segment_path(const struct jstore *js, char *buf, size_t size, uint64_t seq,
			 const char *suffix)
{
	char name[SEG_NAME_MAX];

	seg_name(name, sizeof(name), seq, suffix);
	snprintf(buf, size, "%s/%s", js->dir, name);
}

static void write_failed(struct jstore *js, int err, const char *what)
{
	char path[PATH_MAX];

	js->st.last_error = err;
	if (js->failing)
		return;
	js->failing = true;
	segment_path(js, path, sizeof(path), js->seg_seq, SEG_SUFFIX);
	log_error(MODULE,
		  "%s: %s: %s; records that cannot be written are counted as lost until "
		  "writing works again",
		  path, what, strerror(-err));
}

static void write_works(struct jstore *js)
{
	js->st.last_error = 0;
	if (!js->failing)
		return;
	js->failing = false;
	log_info(MODULE,
		 "%s: writing works again; %" PRIu64 " records were lost in all (a gap "
		 "record says how many since the last one)",
		 js->dir, js->st.lost);
}

/* Write the queued frames. On failure the file and the chain are as before, the records lost. */
static int commit(struct jstore *js)
{
	int err;

	if (!js->len)
		return 0;
	err = write_or_cut(&js->o, js->fd, js->buf, js->len, js->seg_bytes);
	if (err) {
		EVP_MD_CTX_copy_ex(js->chain, js->committed);
		js->w = js->c;
		lose(js, js->buf_user, err);
		if (js->buf_open) {
			/* written with the next record that gets through */
			js->open_pending = true;
		}
		js->len = js->hashed = 0;
		js->buf_user = js->buf_seals = js->buf_gap = 0;
		js->buf_open = false;
		write_failed(js, err, "write failed");
		return err;
	}
	chain_catch_up(js);
	EVP_MD_CTX_copy_ex(js->committed, js->chain);
	js->c = js->w;
	js->seg_bytes += js->len;
	js->seg_user += js->buf_user;
	js->st.records += js->buf_user;
	js->st.seals += js->buf_seals;
	if (js->buf_gap) {
		js->st.gaps++;
		js->st.lost_unreported -= js->buf_gap;
	}
	js->unsynced += js->buf_user;
	js->len = js->hashed = 0;
	js->buf_user = js->buf_seals = js->buf_gap = 0;
	js->buf_open = false;
	write_works(js);
	return 0;
}

static bool sync_due(const struct jstore *js, uint64_t now)
{
	uint64_t pending = js->unsynced + js->buf_user;

	if (!pending)
		return false;
	if (js->o.fsync_every_records && pending >= js->o.fsync_every_records)
		return true;
	return js->o.fsync_every_ms && js->dirty_since &&
	       now - js->dirty_since >= (uint64_t)js->o.fsync_every_ms * 1000000ull;
}

static int sync_active(struct jstore *js)
{
	if (fdatasync(js->fd) < 0) {
		int err = -errno;

		write_failed(js, err, "fdatasync failed");
		return err;
	}
	js->st.fsyncs++;
	js->unsynced = 0;
	js->dirty_since = 0;
	return 0;
}

static void reap(struct jstore *js);

/* Write what is queued; fdatasync when forced or due. */
static int flush_internal(struct jstore *js, bool force_sync)
{
	int err;

	if (js->fd < 0)
		return 0;
	err = commit(js);
	if (!err && (force_sync || sync_due(js, now_ns(js, CLOCK_MONOTONIC))))
		err = sync_active(js);
	return err;
}

/* Compression results (and so retention) are taken only here, between appends. */
static void maybe_reap(struct jstore *js)
{
	if (__atomic_load_n(&js->done_flag, __ATOMIC_ACQUIRE))
		reap(js);
}

static int push_seg(struct jstore *js, const struct seginfo *s)
{
	if (js->n_segs == js->cap_segs) {
		size_t cap = js->cap_segs ? js->cap_segs * 2 : 16;
		struct seginfo *p = realloc(js->segs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		js->segs = p;
		js->cap_segs = cap;
	}
	js->segs[js->n_segs++] = *s;
	return 0;
}

static struct seginfo *find_seg(struct jstore *js, uint64_t seq)
{
	for (size_t i = 0; i < js->n_segs; i++)
		if (js->segs[i].seq == seq)
			return &js->segs[i];
	return NULL;
}

static int queue_open_record(struct jstore *js)
{
	uint8_t p[OPEN_SIZE];
	int err;

	memset(p, 0, sizeof(p));
	put_u64(p, now_ns(js, CLOCK_REALTIME));
	put_u64(p + 8, js->open_info.previous_segment);
	put_u64(p + 16, js->open_info.cut_bytes);
	put_u64(p + 24, js->open_info.damaged_bytes);
	put_u32(p + 32, js->open_info.unclean ? JSTORE_OPEN_UNCLEAN : 0);
	err = queue_frame(js, JSTORE_TYPE_OPEN, p, sizeof(p));
	if (!err) {
		js->open_pending = false;
		js->buf_open = true;
	}
	return err;
}

/* Start segment seg_seq + 1, its header continuing the chain from prev_chain. */
static int open_next_segment(struct jstore *js)
{
	struct seg_header h = { .version = JSTORE_FORMAT_VERSION, .size = JSTORE_HEADER_SIZE };
	struct seginfo si = { 0 };
	uint8_t raw[JSTORE_HEADER_SIZE];
	char name[SEG_NAME_MAX];
	int fd, err;

	memcpy(h.host_id, js->o.host_id, 16);
	memcpy(h.boot_id, js->o.boot_id, 16);
	h.first_time_ns = now_ns(js, CLOCK_REALTIME);
	h.seq = js->seg_seq + 1;
	h.first_record_seq = js->w.next_seq;
	memcpy(h.prev_chain, js->prev_chain, 32);
	header_encode(&h, raw);
	seg_name(name, sizeof(name), h.seq, SEG_SUFFIX);
	fd = openat(js->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	err = write_or_cut(&js->o, fd, raw, sizeof(raw), 0);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (!err)
		err = fsync_dir(js);
	if (err) {
		close(fd);
		unlinkat(js->dirfd, name, 0);
		goto fail;
	}
	si.seq = h.seq;
	si.first_time_ns = h.first_time_ns;
	si.bytes = sizeof(raw);
	si.state = SEG_ACTIVE;
	err = push_seg(js, &si);
	if (err) {
		close(fd);
		unlinkat(js->dirfd, name, 0);
		return err;
	}
	js->fd = fd;
	js->seg_seq = h.seq;
	js->seg_bytes = sizeof(raw);
	js->seg_user = 0;
	js->seg_opened = now_ns(js, CLOCK_MONOTONIC);
	EVP_DigestInit_ex(js->chain, js->md, NULL);
	EVP_DigestUpdate(js->chain, raw, sizeof(raw));
	EVP_MD_CTX_copy_ex(js->committed, js->chain);
	js->c = js->w;
	js->st.segment_seq = h.seq;
	if (js->open_pending)
		return queue_open_record(js);
	return 0;
fail:
	write_failed(js, err, "cannot start the next segment");
	return err;
}

/* Compress segment seq to NAME.seg.gz (a temporary name, fsync, rename), then remove NAME.seg. */
static int compress_file(const struct jstore_options *o, int dirfd, uint64_t seq,
			 uint64_t *gz_bytes)
{
	char plain[SEG_NAME_MAX], gz[SEG_NAME_MAX], tmp[SEG_NAME_MAX + 1];
	uint8_t *in = NULL, *out = NULL;
	int fin = -1, fout = -1, err = 0, zret = Z_OK;
	uint64_t written = 0;
	bool z_live = false;
	z_stream z;

	seg_name(plain, sizeof(plain), seq, SEG_SUFFIX);
	seg_name(gz, sizeof(gz), seq, GZ_SUFFIX);
	snprintf(tmp, sizeof(tmp), "." SEG_PREFIX "%016" PRIx64 TMP_SUFFIX, seq);
	in = malloc(READ_CHUNK);
	out = malloc(READ_CHUNK);
	if (!in || !out) {
		err = -ENOMEM;
		goto out;
	}
	fin = openat(dirfd, plain, O_RDONLY | O_CLOEXEC);
	if (fin < 0) {
		err = -errno;
		goto out;
	}
	fout = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fout < 0) {
		err = -errno;
		goto out;
	}
	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip stream, so that zcat and every language's gzip reader can read it. */
	if (deflateInit2(&z, o->compress_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	z_live = true;
	while (zret != Z_STREAM_END) {
		ssize_t n;
		int flush;

		do
			n = read(fin, in, READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			size_t produced;

			z.next_out = out;
			z.avail_out = READ_CHUNK;
			zret = deflate(&z, flush);
			if (zret == Z_STREAM_ERROR) {
				err = -EIO;
				goto out;
			}
			produced = READ_CHUNK - z.avail_out;
			err = write_or_cut(o, fout, out, produced, written);
			if (err)
				goto out;
			written += produced;
		} while (z.avail_out == 0);
	}
	if (fsync(fout) < 0 || close(fout) < 0) {
		fout = -1;
		err = -errno;
		goto out;
	}
	fout = -1;
	if (renameat(dirfd, tmp, dirfd, gz) < 0 || fsync(dirfd) < 0) {
		err = -errno;
		goto out;
	}
	/* The compressed copy is durable: the plain one may go. */
	if (unlinkat(dirfd, plain, 0) < 0 || fsync(dirfd) < 0) {
		err = -errno;
		goto out;
	}
	*gz_bytes = written;
out:
	if (z_live)
		deflateEnd(&z);
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (err)
		unlinkat(dirfd, tmp, 0);
	free(in);
	free(out);
	return err;
}

static void *compress_worker(void *arg)
{
	struct jstore *js = arg;

	pthread_mutex_lock(&js->mu);
	for (;;) {
		struct job_done d = { 0 };

		while (!js->stop && !js->n_jobs)
			pthread_cond_wait(&js->cv, &js->mu);
		if (!js->n_jobs)
			break;
		d.seq = js->jobs[0];
		memmove(js->jobs, js->jobs + 1, --js->n_jobs * sizeof(*js->jobs));
		js->busy++;
		pthread_mutex_unlock(&js->mu);
		d.err = compress_file(&js->o, js->dirfd, d.seq, &d.bytes);
		pthread_mutex_lock(&js->mu);
		js->busy--;
		if (js->n_done < js->cap_done) {
			js->done[js->n_done++] = d;
			__atomic_store_n(&js->done_flag, 1, __ATOMIC_RELEASE);
		}
		pthread_cond_broadcast(&js->cv);
	}
	pthread_mutex_unlock(&js->mu);
	return NULL;
}

static void retention(struct jstore *js);

static void compressed(struct jstore *js, const struct job_done *d)
{
	struct seginfo *s = find_seg(js, d->seq);

	if (!s)
		return;
	if (d->err) {
		char path[PATH_MAX];

		s->state = SEG_PLAIN;
		segment_path(js, path, sizeof(path), d->seq, SEG_SUFFIX);
		log_warn(MODULE, "%s: cannot compress: %s; it stays uncompressed for now", path,
			 strerror(-d->err));
		return;
	}
	s->state = SEG_GZ;
	s->bytes = d->bytes;
	js->st.segments_compressed++;
}

/* Take the worker's results, then apply retention. */
static void reap(struct jstore *js)
{
	struct job_done d[8];
	size_t n;

	do {
		pthread_mutex_lock(&js->mu);
		n = js->n_done < 8 ? js->n_done : 8;
		memcpy(d, js->done, n * sizeof(*d));
		memmove(js->done, js->done + n, (js->n_done - n) * sizeof(*d));
		js->n_done -= n;
		if (!js->n_done)
			__atomic_store_n(&js->done_flag, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&js->mu);
		for (size_t i = 0; i < n; i++)
			compressed(js, &d[i]);
	} while (n == 8);
	retention(js);
}

/* Hand every closed plain segment to the compressor (or compress it now). */
static void schedule_compression(struct jstore *js)
{
	if (!js->o.compress_level)
		return;
	for (size_t i = 0; i < js->n_segs; i++) {
		struct seginfo *s = &js->segs[i];

		if (s->state != SEG_PLAIN)
			continue;
		if (!js->worker_started) {
			struct job_done d = { .seq = s->seq };

			d.err = compress_file(&js->o, js->dirfd, s->seq, &d.bytes);
			compressed(js, &d);
			continue;
		}
		pthread_mutex_lock(&js->mu);
		/* Room for every result, so that the worker never has to drop one. */
		if (js->n_jobs == js->cap_jobs ||
		    js->n_done + js->n_jobs + js->busy + 1 >= js->cap_done) {
			pthread_mutex_unlock(&js->mu);
			break;
		}
		js->jobs[js->n_jobs++] = s->seq;
		s->state = SEG_QUEUED;
		pthread_cond_broadcast(&js->cv);
		pthread_mutex_unlock(&js->mu);
	}
}

void jstore_wait_compressed(struct jstore *js)
{
	if (js->worker_started) {
		pthread_mutex_lock(&js->mu);
		while (js->n_jobs || js->busy)
			pthread_cond_wait(&js->cv, &js->mu);
		pthread_mutex_unlock(&js->mu);
	}
	reap(js);
}

/* Seal and close the active segment; the next one is started by open_next_segment. */
static int close_segment(struct jstore *js, uint32_t seal_flags)
{
	struct seginfo *s;
	int err;

	err = queue_seal(js, JSTORE_SEAL_SEGMENT_END | seal_flags);
	if (!err)
		err = flush_internal(js, true);
	if (err)
		return err;
	err = digest_copy_final(js->scratch, js->chain, js->prev_chain);
	if (err)
		return err;
	close(js->fd);
	js->fd = -1;
	js->st.segment_seq = 0;
	s = find_seg(js, js->seg_seq);
	if (s) {
		s->state = SEG_PLAIN;
		s->bytes = js->seg_bytes;
	}
	return 0;
}

static int rotate_internal(struct jstore *js)
{
	int err = close_segment(js, 0);

	if (err)
		return err;
	err = open_next_segment(js);
	schedule_compression(js);
	if (!err)
		retention(js);
	return err;
}

/*
 * Remove the oldest closed segments while the total is too large or they are
 * too old. A RETIRE record naming the first segment kept is written (and
 * synced) first, so that verify can tell retention from deletion.
 */
static void retention(struct jstore *js)
{
	uint64_t total = 0, removed_bytes = 0, now, max_age;
	size_t k = 0;
	uint8_t p[RETIRE_SIZE];
	int err;

	if (js->fd < 0 || (!js->o.retain_max_bytes && !js->o.retain_max_age_ms))
		return;
	for (size_t i = 0; i < js->n_segs; i++)
		total += js->segs[i].state == SEG_ACTIVE ? js->seg_bytes + js->len
							 : js->segs[i].bytes;
	now = now_ns(js, CLOCK_REALTIME);
	max_age = js->o.retain_max_age_ms * 1000000ull;
	/* Only a prefix: "the first segment kept" must describe what is gone. */
	while (k + 1 < js->n_segs) {
		const struct seginfo *s = &js->segs[k];
		/* A segment ends when the next one starts. */
		uint64_t end = js->segs[k + 1].first_time_ns;
		bool too_big =
			js->o.retain_max_bytes && total - removed_bytes > js->o.retain_max_bytes;
		bool too_old = max_age && end < now && now - end > max_age;

		if ((s->state != SEG_PLAIN && s->state != SEG_GZ) || (!too_big && !too_old))
			break;
		removed_bytes += s->bytes;
		k++;
	}
	if (!k)
		return;
	memset(p, 0, sizeof(p));
	put_u64(p, now);
	put_u64(p + 8, js->segs[k].seq);
	put_u64(p + 16, k);
	put_u64(p + 24, removed_bytes);
	err = queue_frame(js, JSTORE_TYPE_RETIRE, p, sizeof(p));
	if (!err)
		err = flush_internal(js, true);
	if (err)
		return; /* tried again later */
	for (size_t i = 0; i < k; i++) {
		const struct seginfo *s = &js->segs[i];
		char name[SEG_NAME_MAX];

		seg_name(name, sizeof(name), s->seq, s->state == SEG_GZ ? GZ_SUFFIX : SEG_SUFFIX);
		if (unlinkat(js->dirfd, name, 0) < 0 && errno != ENOENT)
			log_warn(MODULE, "%s/%s: cannot remove: %s", js->dir, name,
				 strerror(errno));
	}
	fsync_dir(js);
	memmove(js->segs, js->segs + k, (js->n_segs - k) * sizeof(*js->segs));
	js->n_segs -= k;
	js->st.segments_removed += k;
	js->st.bytes_removed += removed_bytes;
}

/* ---- opening: scan, recover, start ---- */

struct found {
	uint64_t seq;
	bool plain, gz;
};

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Does NAME.seg.gz hold a whole gzip stream of plain_size bytes? */
static bool gz_complete(int dirfd, const char *name, uint64_t plain_size)
{
	uint8_t *in = malloc(READ_CHUNK), *out = malloc(READ_CHUNK);
	uint64_t total = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), ret = Z_OK;
	bool ok = false;
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (fd < 0 || !in || !out || inflateInit2(&z, 15 + 32) != Z_OK)
		goto out_free;
	while (ret != Z_STREAM_END) {
		ssize_t n = read(fd, in, READ_CHUNK);

		if (n <= 0)
			break;
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			z.next_out = out;
			z.avail_out = READ_CHUNK;
			ret = inflate(&z, Z_NO_FLUSH);
			total += READ_CHUNK - z.avail_out;
		} while (ret == Z_OK && z.avail_out == 0);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
			break;
	}
	ok = ret == Z_STREAM_END && total == plain_size;
	inflateEnd(&z);
out_free:
	if (fd >= 0)
		close(fd);
	free(in);
	free(out);
	return ok;
}

/* What a single segment file holds, read the way verify reads it. */
struct seg_scan {
	bool header_whole;
	struct seg_header hdr;
	bool hdr_ok;
	uint64_t records, last_seq;
	uint16_t last_type;
	uint32_t last_seal_flags;
	bool torn;
	uint64_t torn_at, torn_len, damaged;
	uint8_t chain[32];
};

/*
 * Just the start time from a segment's header, reading only its first bytes
 * (a directory may hold hundreds of segments). 0 when the header is unreadable.
 */
static uint64_t segment_start_time(int dirfd, const char *name, bool gz)
{
	uint8_t in[4096], h[JSTORE_HEADER_SIZE];
	size_t got = 0;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, in, sizeof(in));
	close(fd);
	if (n <= 0)
		return 0;
	if (gz) {
		z_stream z;

		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, 15 + 32) != Z_OK)
			return 0;
		z.next_in = in;
		z.avail_in = (uInt)n;
		z.next_out = h;
		z.avail_out = sizeof(h);
		inflate(&z, Z_NO_FLUSH);
		got = sizeof(h) - z.avail_out;
		inflateEnd(&z);
	} else {
		got = (size_t)n < sizeof(h) ? (size_t)n : sizeof(h);
		memcpy(h, in, got);
	}
	if (got < sizeof(h) || memcmp(h, header_magic, 8) || get_u32(h + 124) != crc_of(h, 124))
		return 0;
	return get_u64(h + 48);
}

static int scan_segment(struct jstore *js, const char *path, struct seg_scan *out)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct jstore_reader *r;
	struct event *e;
	int err;

	memset(out, 0, sizeof(*out));
	err = jstore_reader_open(&r, &path, 1, &ro);
	if (err)
		return err;
	for (;;) {
		err = next_event(r, &e);
		if (err || e->kind == EV_END)
			break;
		switch (e->kind) {
		case EV_SEGMENT:
			out->header_whole = r->hdr_raw_len == JSTORE_HEADER_SIZE;
			out->hdr = r->hdr;
			out->hdr_ok = r->hdr_ok;
			EVP_DigestInit_ex(js->scratch, js->md, NULL);
			EVP_DigestUpdate(js->scratch, r->hdr_raw, r->hdr_raw_len);
			break;
		case EV_RECORD:
			out->records++;
			out->last_seq = e->seq;
			out->last_type = e->type;
			out->last_seal_flags = e->type == JSTORE_TYPE_SEAL && e->len == SEAL_SIZE
						       ? get_u32(e->frame + 20 + 16)
						       : 0;
			EVP_DigestUpdate(js->scratch, e->frame, e->frame_len);
			break;
		case EV_DAMAGE:
			if (e->damage == JSTORE_DAMAGE_TORN_TAIL) {
				out->torn = true;
				out->torn_at = e->offset;
				out->torn_len = e->length;
			} else {
				out->damaged += e->length;
				log_warn(MODULE,
					 "%s: offset %" PRIu64
					 ": %s: %s (left for verify to report)",
					 path, e->offset, jstore_damage_name(e->damage), e->why);
			}
			break;
		case EV_SEGMENT_END: {
			unsigned int n = 0;

			EVP_DigestFinal_ex(js->scratch, out->chain, &n);
			break;
		}
		default:
			break;
		}
	}
	jstore_reader_close(r);
	return err;
}

/*
 * Find the segments, tidy what an interrupted compression left, and recover
 * the last segment: cut its torn tail and continue its chain.
 */
static int recover(struct jstore *js)
{
	struct found *f = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool tidied = false;
	DIR *d;
	int dfd, err = 0;

	dfd = dup(js->dirfd);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		const char *suffix;
		uint64_t seq;
		size_t i;

		if (de->d_name[0] == '.' && strstr(de->d_name, TMP_SUFFIX)) {
			/* A compression that did not finish: the plain segment is still there. */
			unlinkat(js->dirfd, de->d_name, 0);
			tidied = true;
			continue;
		}
		seq = parse_seg_name(de->d_name, &suffix);
		if (!seq)
			continue;
		for (i = 0; i < n && f[i].seq != seq; i++)
			;
		if (i == n) {
			if (n == cap) {
				struct found *p =
					realloc(f, (cap = cap ? cap * 2 : 32) * sizeof(*f));

				if (!p) {
					err = -ENOMEM;
					break;
				}
				f = p;
			}
			memset(&f[n], 0, sizeof(f[n]));
			f[n++].seq = seq;
		}
		if (!strcmp(suffix, SEG_SUFFIX))
			f[i].plain = true;
		else
			f[i].gz = true;
	}
	closedir(d);
	if (err)
		goto out;
	if (n)
		qsort(f, n, sizeof(*f), cmp_found);

	for (size_t i = 0; i < n; i++) {
		char plain[SEG_NAME_MAX], gz[SEG_NAME_MAX];
		struct seginfo si = { .seq = f[i].seq };
		struct stat st;

		seg_name(plain, sizeof(plain), f[i].seq, SEG_SUFFIX);
		seg_name(gz, sizeof(gz), f[i].seq, GZ_SUFFIX);
		if (f[i].plain && f[i].gz) {
			/* Stopped between the rename and the removal, or while writing the .gz. */
			if (fstatat(js->dirfd, plain, &st, 0) == 0 &&
			    gz_complete(js->dirfd, gz, (uint64_t)st.st_size)) {
				unlinkat(js->dirfd, plain, 0);
				f[i].plain = false;
			} else {
				unlinkat(js->dirfd, gz, 0);
				f[i].gz = false;
			}
			tidied = true;
		}
		si.state = f[i].plain ? SEG_PLAIN : SEG_GZ;
		if (fstatat(js->dirfd, f[i].plain ? plain : gz, &st, 0) < 0) {
			err = -errno;
			goto out;
		}
		si.bytes = (uint64_t)st.st_size;
		si.first_time_ns =
			segment_start_time(js->dirfd, f[i].plain ? plain : gz, !f[i].plain);
		err = push_seg(js, &si);
		if (err)
			goto out;
	}
	if (tidied)
		fsync_dir(js);

	/* The last segment: what the new one continues. */
	while (js->n_segs) {
		struct seginfo *last = &js->segs[js->n_segs - 1];
		char path[PATH_MAX];
		struct seg_scan sc;

		segment_path(js, path, sizeof(path), last->seq,
			     last->state == SEG_GZ ? GZ_SUFFIX : SEG_SUFFIX);
		err = scan_segment(js, path, &sc);
		if (err)
			goto out;
		if (last->state == SEG_PLAIN && !sc.records && (!sc.header_whole || sc.torn) &&
		    !sc.damaged) {
			/* Stopped while starting this segment: it holds nothing. */
			log_warn(MODULE,
				 "%s: removing an unfinished segment (%" PRIu64
				 " bytes, no records)",
				 path, last->bytes);
			if (unlink(path) < 0) {
				err = -errno;
				goto out;
			}
			js->open_info.cut_bytes += last->bytes;
			js->open_info.unclean = true;
			js->n_segs--;
			fsync_dir(js);
			continue;
		}
		if (sc.torn && last->state == SEG_PLAIN) {
			if (truncate(path, (off_t)sc.torn_at) < 0) {
				err = -errno;
				log_error(MODULE, "%s: cannot cut the torn tail: %s", path,
					  strerror(-err));
				goto out;
			}
			log_warn(MODULE,
				 "%s: cut a torn tail of %" PRIu64 " bytes at offset %" PRIu64
				 " (the writer stopped in the middle of a write)",
				 path, sc.torn_len, sc.torn_at);
			js->open_info.cut_bytes += sc.torn_len;
			last->bytes = sc.torn_at;
		}
		js->open_info.damaged_bytes += sc.damaged;
		js->open_info.previous_segment = last->seq;
		js->open_info.unclean = js->open_info.unclean || sc.last_type != JSTORE_TYPE_SEAL ||
					!(sc.last_seal_flags & JSTORE_SEAL_STORE_CLOSE);
		js->seg_seq = last->seq;
		memcpy(js->prev_chain, sc.chain, 32);
		js->w.next_seq = sc.records  ? sc.last_seq + 1
				 : sc.hdr_ok ? sc.hdr.first_record_seq
					     : 1;
		if (!js->w.next_seq)
			js->w.next_seq = 1;
		break;
	}
	if (!js->n_segs) {
		js->seg_seq = 0;
		js->w.next_seq = 1;
		memset(js->prev_chain, 0, 32);
	}
	js->c = js->w;
out:
	free(f);
	return err;
}

void jstore_options_init(struct jstore_options *o)
{
	memset(o, 0, sizeof(*o));
	o->segment_max_bytes = 16ull << 20;
	o->segment_max_age_ms = 3600ull * 1000;
	o->retain_max_bytes = 1ull << 30;
	o->seal_every_records = 10000;
	o->seal_every_ms = 1000;
	o->fsync_every_records = 1000;
	o->fsync_every_ms = 100;
	o->buffer_bytes = 64 * 1024;
	o->compress_level = 1;
	o->compress_threads = 1;
}

static int read_id(const char *path, uint8_t id[16])
{
	char text[64];
	size_t got = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(text, sizeof(text), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	for (const char *p = text; *p && got < 32; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else if (*p == '-')
			continue;
		else
			break;
		id[got / 2] = (uint8_t)(got % 2 ? id[got / 2] | d : d << 4);
		got++;
	}
	return got == 32 ? 0 : -EINVAL;
}

int jstore_host_ids(uint8_t host_id[16], uint8_t boot_id[16])
{
	int err = read_id("/etc/machine-id", host_id);
	int err2 = read_id("/proc/sys/kernel/random/boot_id", boot_id);

	if (err)
		memset(host_id, 0, 16);
	if (err2)
		memset(boot_id, 0, 16);
	return err ? err : err2;
}

static bool disk_error(int err)
{
	return err == -ENOSPC || err == -EDQUOT || err == -EFBIG || err == -EIO;
}

static void free_store(struct jstore *js)
{
	if (js->worker_started) {
		pthread_mutex_lock(&js->mu);
		js->stop = true;
		pthread_cond_broadcast(&js->cv);
		pthread_mutex_unlock(&js->mu);
		for (unsigned i = 0; i < js->n_workers; i++)
			pthread_join(js->workers[i], NULL);
	}
	pthread_mutex_destroy(&js->mu);
	pthread_cond_destroy(&js->cv);
	if (js->fd >= 0)
		close(js->fd);
	if (js->dirfd >= 0)
		close(js->dirfd);
	if (js->lockfd >= 0)
		close(js->lockfd); /* releases the lock */
	EVP_MD_CTX_free(js->chain);
	EVP_MD_CTX_free(js->committed);
	EVP_MD_CTX_free(js->scratch);
	EVP_MD_free(js->md);
	OPENSSL_cleanse(&js->key, sizeof(js->key));
	free(js->buf);
	free(js->segs);
	free(js->jobs);
	free(js->done);
	free(js->dir);
	free(js);
}

int jstore_open(struct jstore **out, const struct jstore_options *o)
{
	struct jstore *js;
	int err;

	*out = NULL;
	if (!o->dir || !o->key_path || o->compress_level < 0 || o->compress_level > 9 ||
	    o->segment_max_bytes < JSTORE_HEADER_SIZE + 2 * (JSTORE_FRAME_OVERHEAD + SEAL_SIZE)) {
		log_error(MODULE, "bad options: a directory, a key file, a compression level 0..9 "
				  "and segments of at least 512 bytes are needed");
		return -EINVAL;
	}
	js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->o = *o;
	js->fd = js->dirfd = js->lockfd = -1;
	pthread_mutex_init(&js->mu, NULL);
	pthread_cond_init(&js->cv, NULL);
	js->dir = strdup(o->dir);
	js->md = sha256_md();
	js->chain = EVP_MD_CTX_new();
	js->committed = EVP_MD_CTX_new();
	js->scratch = EVP_MD_CTX_new();
	js->cap_jobs = js->cap_done = 64;
	js->jobs = calloc(js->cap_jobs, sizeof(*js->jobs));
	js->done = calloc(js->cap_done, sizeof(*js->done));
	if (!js->dir || !js->md || !js->chain || !js->committed || !js->scratch || !js->jobs ||
	    !js->done) {
		err = -ENOMEM;
		goto fail;
	}
	js->o.dir = js->dir;
	js->o.key_path = NULL; /* not kept: the caller's string */
	if (mkdir(js->dir, 0750) < 0 && errno != EEXIST) {
		err = -errno;
		log_error(MODULE, "%s: cannot create: %s", js->dir, strerror(-err));
		goto fail;
	}
	js->dirfd = open(js->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (js->dirfd < 0) {
		err = -errno;
		log_error(MODULE, "%s: %s", js->dir, strerror(-err));
		goto fail;
	}
	js->lockfd = openat(js->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (js->lockfd < 0 || flock(js->lockfd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error(MODULE, "%s: %s", js->dir,
			  err == -EBUSY ? "another writer has the journal open" : strerror(-err));
		goto fail;
	}
	err = jstore_key_load(o->key_path, js->dir, &js->key);
	if (!err)
		err = key_id_of(&js->key, js->key_id);
	if (err)
		goto fail;
	err = recover(js);
	if (err) {
		log_error(MODULE, "%s: cannot recover: %s", js->dir, strerror(-err));
		goto fail;
	}
	if (js->o.compress_level && !js->o.compress_inline) {
		unsigned want = js->o.compress_threads ? js->o.compress_threads : 1;

		sigset_t all, old;

		if (want > JSTORE_MAX_COMPRESS_THREADS)
			want = JSTORE_MAX_COMPRESS_THREADS;
		/*
		 * The workers take no signal: a caller that blocks its signals later
		 * to read them from a signalfd (the daemon) would otherwise see
		 * SIGTERM or SIGHUP delivered to a worker, whose default action
		 * ends the process.
		 */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		while (js->n_workers < want &&
		       !pthread_create(&js->workers[js->n_workers], NULL, compress_worker, js))
			js->n_workers++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!js->n_workers) {
			err = -EAGAIN;
			log_error(MODULE, "%s: cannot start a compression thread", js->dir);
			goto fail;
		}
		js->worker_started = true;
	}
	js->open_pending = true;
	err = open_next_segment(js);
	if (!err)
		err = flush_internal(js, true);
	if (err && !disk_error(err))
		goto fail;
	/* A full disk does not stop the caller: records are counted until writing works. */
	schedule_compression(js);
	retention(js);
	js->st.recovered_bytes_cut = js->open_info.cut_bytes;
	*out = js;
	return 0;
fail:
	free_store(js);
	return err;
}

static bool rotation_due(const struct jstore *js, uint64_t now, size_t next_frame)
{
	uint64_t size = js->seg_bytes + js->len;

	if (js->seg_user + js->buf_user == 0)
		return false; /* never a segment without caller records: no endless rotation */
	if (size + next_frame + JSTORE_FRAME_OVERHEAD + SEAL_SIZE > js->o.segment_max_bytes)
		return true;
	return js->o.segment_max_age_ms &&
	       now - js->seg_opened >= js->o.segment_max_age_ms * 1000000ull;
}

static bool seal_due(const struct jstore *js, uint64_t now)
{
	if (!js->w.since_seal)
		return false;
	if (js->o.seal_every_records && js->w.since_seal >= js->o.seal_every_records)
		return true;
	return js->o.seal_every_ms &&
	       now - js->w.first_unsealed >= (uint64_t)js->o.seal_every_ms * 1000000ull;
}

int jstore_append(struct jstore *js, uint16_t type, const void *payload, size_t len)
{
	uint64_t now;
	int err = 0;

	if (type == 0 || type > JSTORE_TYPE_USER_MAX || len > JSTORE_MAX_PAYLOAD ||
	    (len && !payload))
		return -EINVAL;
	now = now_ns(js, CLOCK_MONOTONIC);
	if (js->fd >= 0 && rotation_due(js, now, JSTORE_FRAME_OVERHEAD + len))
		err = rotate_internal(js);
	if (js->fd < 0 && !err)
		err = open_next_segment(js);
	if (js->fd < 0 || err) {
		/* The segment could not be closed or started: this record cannot be written. */
		lose(js, 1, err ? err : -EIO);
		return err ? err : -EIO;
	}
	if (js->open_pending)
		err = queue_open_record(js);
	if (!err && js->st.lost_unreported && !js->buf_gap)
		err = queue_gap(js);
	if (!err)
		err = queue_frame(js, type, payload, len);
	if (err) {
		lose(js, 1, err);
		return err;
	}
	js->buf_user++;
	count_record(js, now);
	if (seal_due(js, now))
		err = queue_seal(js, 0);
	if (!err && (js->len >= js->o.buffer_bytes || sync_due(js, now)))
		err = flush_internal(js, false);
	maybe_reap(js);
	return err;
}

int jstore_flush(struct jstore *js)
{
	int err = flush_internal(js, false);

	maybe_reap(js);
	return err;
}

int jstore_sync(struct jstore *js)
{
	int err = flush_internal(js, true);

	maybe_reap(js);
	return err;
}

int jstore_seal(struct jstore *js)
{
	int err = 0;

	if (js->fd < 0)
		return 0;
	if (js->w.since_seal)
		err = queue_seal(js, 0);
	if (!err)
		err = flush_internal(js, false);
	return err;
}

int jstore_rotate(struct jstore *js)
{
	int err;

	if (js->fd < 0)
		err = open_next_segment(js);
	else
		err = rotate_internal(js);
	maybe_reap(js);
	return err;
}

int jstore_tick(struct jstore *js)
{
	uint64_t now = now_ns(js, CLOCK_MONOTONIC);
	int err = 0;

	if (js->fd >= 0 && rotation_due(js, now, 0))
		err = rotate_internal(js);
	if (!err && js->fd >= 0 && seal_due(js, now))
		err = queue_seal(js, 0);
	if (!err && js->fd >= 0 && (js->len || sync_due(js, now)))
		err = flush_internal(js, false);
	maybe_reap(js);
	return err;
}

void jstore_stats(const struct jstore *js, struct jstore_stats *st)
{
	*st = js->st;
	st->buffered = js->buf_user;
	st->next_seq = js->w.next_seq;
	st->segment_seq = js->fd >= 0 ? js->seg_seq : 0;
	st->segment_bytes = js->fd >= 0 ? js->seg_bytes + js->len : 0;
}

int jstore_close(struct jstore *js)
{
	int err = 0;

	if (!js)
		return 0;
	if (js->fd >= 0) {
		err = close_segment(js, JSTORE_SEAL_STORE_CLOSE);
		if (err) {
			/* Left as it is: the next writer recovers it. */
			log_error(MODULE, "%s: cannot close the journal cleanly: %s", js->dir,
				  strerror(-err));
		}
	}
	if (!err)
		schedule_compression(js);
	if (js->worker_started)
		jstore_wait_compressed(js);
	free_store(js);
	return err;
}
