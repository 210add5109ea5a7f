/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The journal store: round trips, every kind of damage (each found by
 * verify while the reader still returns every intact record), crash
 * recovery, rotation, retention, compression, a full disk.
 *
 * Segments are read here with a small parser of our own, written from
 * docs/journal-store.md, so the format is checked as documented.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tree.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "journal/store.h"
#include "util/version.h"

#define PAYLOAD_LEN 120

struct fake_clock {
	uint64_t mono, real;
};

/* The write(2) stand-in: fails with fail_errno once `budget` more bytes were written. */
struct fake_disk {
	bool limited;
	size_t budget;
	int fail_errno;
	unsigned calls_failed;
};

struct fixture {
	char root[64];
	char dir[96]; /* root/journal */
	char key[96]; /* root/seal.key: outside the journal */
	char other_key[96];
	struct fake_clock clock;
	struct fake_disk disk;
	struct jstore_key k;
};

struct hooks {
	struct fake_clock *clock;
	struct fake_disk *disk;
};
static struct hooks hooks;

static uint64_t fake_now(void *ctx, clockid_t which)
{
	struct hooks *h = ctx;

	return which == CLOCK_MONOTONIC ? h->clock->mono : h->clock->real;
}

static ssize_t fake_write(void *ctx, int fd, const void *buf, size_t len)
{
	struct hooks *h = ctx;
	struct fake_disk *d = h->disk;
	ssize_t n;

	if (d->limited) {
		if (d->budget == 0) {
			d->calls_failed++;
			errno = d->fail_errno;
			return -1;
		}
		if (len > d->budget)
			len = d->budget; /* a short write first, as a filling disk gives */
	}
	n = write(fd, buf, len);
	if (n > 0 && d->limited)
		d->budget -= (size_t)n;
	return n;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->root, "/tmp/actgate-test-jstore-XXXXXX");
	if (!mkdtemp(fx->root))
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/journal", fx->root);
	snprintf(fx->key, sizeof(fx->key), "%s/seal.key", fx->root);
	snprintf(fx->other_key, sizeof(fx->other_key), "%s/other.key", fx->root);
	if (jstore_key_create(fx->key) || jstore_key_create(fx->other_key) ||
	    jstore_key_load(fx->key, NULL, &fx->k))
		return -1;
	fx->clock.mono = 1000000000ull;
	fx->clock.real = 1795871657000000000ull;
	hooks.clock = &fx->clock;
	hooks.disk = &fx->disk;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	remove_tree(fx->root);
	free(fx);
	return 0;
}

/* Options for deterministic tests: fake clock and disk, plain segments, no timed seals. */
static void test_options(struct fixture *fx, struct jstore_options *o)
{
	jstore_options_init(o);
	o->dir = fx->dir;
	o->key_path = fx->key;
	memset(o->host_id, 0x11, 16);
	memset(o->boot_id, 0x22, 16);
	o->compress_level = 0;
	o->seal_every_records = 50;
	o->seal_every_ms = 0;
	o->fsync_every_ms = 0;
	o->clock = fake_now;
	o->write = fake_write;
	o->hook_ctx = &hooks;
}

/* Payload i: recognisable, ~120 bytes, like an encoded decision. */
static void make_payload(uint32_t i, uint8_t p[PAYLOAD_LEN])
{
	memset(p, 0, PAYLOAD_LEN);
	memcpy(p, "TST1", 4);
	memcpy(p + 4, &i, 4);
	snprintf((char *)p + 8, PAYLOAD_LEN - 8, "exec deny ci-runner-%u pid=%u /usr/bin/tool%u",
		 i % 7, 1000 + i, i % 13);
}

static struct jstore *open_store(const struct jstore_options *o)
{
	struct jstore *js = NULL;

	assert_int_equal(jstore_open(&js, o), 0);
	assert_non_null(js);
	return js;
}

/* Append payloads [first, first + n), each expected to succeed. */
static void append_n(struct jstore *js, uint32_t first, uint32_t n)
{
	uint8_t p[PAYLOAD_LEN];

	for (uint32_t i = first; i < first + n; i++) {
		make_payload(i, p);
		assert_int_equal(jstore_append(js, 7, p, sizeof(p)), 0);
	}
}

/*
 * Read every user record of the paths; check each payload is one we wrote;
 * the payload numbers go to ids (up to max). Returns the count.
 */
static size_t read_ids(const char *const *paths, size_t n_paths, uint32_t *ids, size_t max)
{
	struct jstore_reader *r = NULL;
	struct jstore_record rec;
	size_t n = 0;
	int ret;

	assert_int_equal(jstore_reader_open(&r, paths, n_paths, NULL), 0);
	while ((ret = jstore_read(r, &rec)) == 1) {
		uint8_t want[PAYLOAD_LEN];
		uint32_t id;

		assert_int_equal(rec.type, 7);
		assert_int_equal(rec.len, PAYLOAD_LEN);
		memcpy(&id, rec.payload + 4, 4);
		make_payload(id, want);
		assert_memory_equal(rec.payload, want, PAYLOAD_LEN);
		assert_true(n < max);
		ids[n++] = id;
	}
	assert_int_equal(ret, 0);
	jstore_reader_close(r);
	return n;
}

/* How many user records the reader returns, whatever they hold. */
static size_t count_records(struct fixture *fx)
{
	const char *paths[] = { fx->dir };
	struct jstore_reader *r = NULL;
	struct jstore_record rec;
	size_t n = 0;
	int ret;

	assert_int_equal(jstore_reader_open(&r, paths, 1, NULL), 0);
	while ((ret = jstore_read(r, &rec)) == 1)
		n++;
	assert_int_equal(ret, 0);
	jstore_reader_close(r);
	return n;
}

static size_t read_dir_ids(struct fixture *fx, uint32_t *ids, size_t max)
{
	const char *paths[] = { fx->dir };

	return read_ids(paths, 1, ids, max);
}

/* ids must be 0..n-1 in order, except those listed in `missing` (a -1 terminated list). */
static void assert_ids_except(const uint32_t *ids, size_t n_ids, uint32_t total, const int *missing)
{
	size_t k = 0;

	for (uint32_t i = 0; i < total; i++) {
		bool skip = false;

		for (const int *m = missing; *m >= 0; m++)
			skip = skip || (uint32_t)*m == i;
		if (skip)
			continue;
		assert_true(k < n_ids);
		assert_int_equal(ids[k], i);
		k++;
	}
	assert_int_equal(k, n_ids);
}

static int verify_dir(struct fixture *fx, const struct jstore_key *key,
		      struct jstore_verify_result *res)
{
	const char *paths[] = { fx->dir };

	return jstore_verify(paths, 1, key, 0, res);
}

static void assert_intact(struct fixture *fx)
{
	struct jstore_verify_result res;
	int ret = verify_dir(fx, &fx->k, &res);

	if (ret)
		fprintf(stderr, "verify: %s: %s at %s offset %llu\n",
			jstore_damage_name(res.damage), res.message, res.segment,
			(unsigned long long)res.offset);
	assert_int_equal(ret, 0);
	assert_int_equal(res.damages, 0);
	assert_int_equal(res.damage, JSTORE_INTACT);
}

/* ---- files ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's segment files (full paths, sorted); count in *n. Free with free_list. */
static char **segment_files(struct fixture *fx, size_t *n)
{
	char **list = calloc(4096, sizeof(char *));
	struct dirent *de;
	DIR *d = opendir(fx->dir);

	assert_non_null(d);
	assert_non_null(list);
	*n = 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "journal-", 8))
			continue;
		assert_true(*n < 4096);
		assert_true(asprintf(&list[(*n)++], "%s/%s", fx->dir, de->d_name) > 0);
	}
	closedir(d);
	qsort(list, *n, sizeof(char *), cmp_names);
	return list;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* A copy of every file of the journal directory: the state a crash would leave. */
struct snapshot {
	size_t n;
	char *name[64];
	uint8_t *data[64];
	size_t len[64];
};

static void take_snapshot(struct fixture *fx, struct snapshot *s)
{
	struct dirent *de;
	DIR *d = opendir(fx->dir);

	assert_non_null(d);
	memset(s, 0, sizeof(*s));
	while ((de = readdir(d))) {
		char path[512];

		if (de->d_type != DT_REG)
			continue;
		assert_true(s->n < 64);
		snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
		s->name[s->n] = strdup(de->d_name);
		s->data[s->n] = slurp(path, &s->len[s->n]);
		s->n++;
	}
	closedir(d);
}

/* Make the directory hold exactly the snapshot. */
static void restore_snapshot(struct fixture *fx, const struct snapshot *s)
{
	remove_tree(fx->dir);
	assert_int_equal(mkdir(fx->dir, 0750), 0);
	for (size_t i = 0; i < s->n; i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", fx->dir, s->name[i]);
		spit(path, s->data[i], s->len[i]);
	}
}

static void free_snapshot(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->name[i]);
		free(s->data[i]);
	}
}

/* ---- the format, parsed independently (docs/journal-store.md) ---- */

#define HDR 192    /* version 3 */
#define HDR_V2 128 /* version 2, still read */
#define OVERHEAD 24

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32C, bit by bit, as the format document defines it. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

struct frame {
	size_t off, len;
	uint16_t type;
	uint64_t seq;
};

/* The frames of an intact plain segment. */
static size_t frames_of(const uint8_t *seg, size_t len, struct frame *out, size_t max)
{
	size_t off = HDR, n = 0;

	assert_memory_equal(seg, "ACTGJRNL", 8);
	assert_int_equal(le32(seg + HDR - 4), crc32c(seg, HDR - 4));
	while (off < len) {
		uint32_t plen = le32(seg + off + 4);
		size_t flen = OVERHEAD + plen;

		assert_true(off + flen <= len);
		assert_memory_equal(seg + off, "\xa7JR\xc5", 4);
		assert_int_equal(le32(seg + off + flen - 4), crc32c(seg + off, flen - 4));
		assert_true(n < max);
		out[n].off = off;
		out[n].len = flen;
		out[n].type = (uint16_t)(seg[off + 8] | seg[off + 9] << 8);
		out[n].seq = le64(seg + off + 12);
		n++;
		off += flen;
	}
	assert_int_equal(off, len);
	return n;
}

/* The index of the k-th frame of type 7 (a user record). */
static size_t user_frame(const struct frame *f, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].type == 7 && k-- == 0)
			return i;
	fail_msg("no user frame %zu", k);
	return 0;
}

static void fix_crc(uint8_t *seg, const struct frame *f)
{
	put32(seg + f->off + f->len - 4, crc32c(seg + f->off, f->len - 4));
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore_verify_result res;
	struct jstore_stats st;
	uint32_t ids[600];
	struct jstore *js;
	const int none[] = { -1 };

	test_options(fx, &o);
	js = open_store(&o);
	append_n(js, 0, 500);
	jstore_stats(js, &st);
	assert_int_equal(st.records + st.buffered, 500);
	assert_true(st.buffered > 0); /* less than 64 KiB since the last write */
	assert_int_equal(jstore_flush(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.records, 500);
	assert_int_equal(st.buffered, 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.seals, 10); /* every 50 records */
	assert_int_equal(jstore_close(js), 0);

	assert_int_equal(read_dir_ids(fx, ids, 600), 500);
	assert_ids_except(ids, 500, 500, none);
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.segments, 1);
	assert_int_equal(res.user_records, 500);
	assert_int_equal(res.seals, 11); /* 10 periodic + the closing one */
	assert_int_equal(res.seals_checked, 11);
	assert_int_equal(res.opens, 1);
	assert_int_equal(res.unclean_opens, 0);
	assert_int_equal(res.unsealed_records, 0);
	assert_true(res.key_checked);
}

/* What the documented format promises a reader in another language. */
static void test_format_as_documented(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct frame f[64];
	uint8_t *a, *b, digest[32];
	size_t alen, blen, n, nfiles;
	unsigned int dlen;
	char **files;
	struct jstore *js;

	test_options(fx, &o);
	js = open_store(&o);
	append_n(js, 0, 10);
	assert_int_equal(jstore_rotate(js), 0);
	append_n(js, 10, 10);
	assert_int_equal(jstore_close(js), 0);

	assert_int_equal(crc32c((const uint8_t *)"123456789", 9),
			 0xe3069283); /* the CRC we check with */
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, 2);
	assert_string_equal(strrchr(files[0], '/') + 1, "journal-0000000000000001.seg");
	a = slurp(files[0], &alen);
	b = slurp(files[1], &blen);
	assert_int_equal(a[8] | a[9] << 8, 3);     /* version */
	assert_int_equal(a[10] | a[11] << 8, 192); /* header size */
	/* the writer's version, NUL-padded, then reserved zeros */
	assert_int_equal(strnlen((const char *)a + 112, 64), strlen(actgate_version()));
	assert_memory_equal(a + 112, actgate_version(), strlen(actgate_version()));
	for (size_t i = 112 + strlen(actgate_version()); i < 188; i++)
		assert_int_equal(a[i], 0);
	assert_int_equal(le32(a + 12), 0);         /* flags */
	assert_memory_equal(a + 16, "\x11\x11\x11\x11", 4);
	assert_memory_equal(a + 32, "\x22\x22\x22\x22", 4);
	assert_int_equal(le64(a + 48), fx->clock.real);
	assert_int_equal(le64(a + 56), 1);
	assert_int_equal(le64(a + 64), 1);
	assert_int_equal(le64(a + 104), 1); /* the number of its first seal */
	assert_int_equal(le64(b + 56), 2);
	n = frames_of(a, alen, f, 64);
	assert_int_equal(n, 12); /* open, 10 records, the segment's seal */
	assert_int_equal(f[0].type, 0xff04);
	assert_int_equal(f[11].type, 0xff01);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f[i].seq, i + 1);
	/* The seal: 104 bytes, what it covers, its number, its flags, its chain value. */
	assert_int_equal(f[11].len, 24 + 104);
	assert_int_equal(le64(a + f[11].off + 20 + 8), 11);
	assert_int_equal(le64(a + f[11].off + 20 + 16), 1);
	assert_int_equal(le32(a + f[11].off + 20 + 24), 1); /* closes its segment */
	assert_int_equal(EVP_Digest(a, f[11].off, digest, &dlen, EVP_sha256(), NULL), 1);
	assert_memory_equal(a + f[11].off + 20 + 40, digest, 32);
	/* The HMAC covers the 72 bytes before it. */
	assert_int_equal(jstore_key_load(fx->key, NULL, &fx->k), 0);
	assert_non_null(HMAC(EVP_sha256(), fx->k.bytes, (int)fx->k.len, a + f[11].off + 20, 72,
			     digest, &dlen));
	assert_memory_equal(a + f[11].off + 20 + 72, digest, 32);
	/* The next header names the SHA-256 of this whole segment, and the next seal number. */
	assert_int_equal(EVP_Digest(a, alen, digest, &dlen, EVP_sha256(), NULL), 1);
	assert_memory_equal(b + 72, digest, 32);
	assert_int_equal(le64(b + 64), 13);
	assert_int_equal(le64(b + 104), 2);
	n = frames_of(b, blen, f, 64);
	assert_int_equal(f[n - 1].type, 0xff01);
	assert_int_equal(le64(b + f[n - 1].off + 20 + 16), 2);
	assert_int_equal(le32(b + f[n - 1].off + 20 + 24), 3); /* and the store: a clean close */
	free(a);
	free(b);
	free_list(files, nfiles);
}

/*
 * A crash in the middle of writing the last record, at every byte: verify
 * names the torn tail where that record starts, the reader returns every
 * record before it, and a writer reopening the store cuts it and continues
 * the chain.
 */
static void test_torn_tail_every_offset(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct snapshot crash;
	struct frame f[64];
	char **files, seg[256];
	size_t nfiles, len, n, last_off, last_len;
	uint8_t *data;
	uint32_t ids[64];
	struct jstore *js;

	test_options(fx, &o);
	o.seal_every_records = 0; /* the last record is a caller's */
	js = open_store(&o);
	append_n(js, 0, 20);
	assert_int_equal(jstore_sync(js), 0);
	take_snapshot(fx, &crash); /* as a SIGKILL now would leave it */
	assert_int_equal(jstore_close(js), 0);

	restore_snapshot(fx, &crash);
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, 1);
	snprintf(seg, sizeof(seg), "%s", files[0]);
	free_list(files, nfiles);
	data = slurp(seg, &len);
	n = frames_of(data, len, f, 64);
	assert_int_equal(f[n - 1].type, 7);
	last_off = f[n - 1].off;
	last_len = f[n - 1].len;
	assert_int_equal(last_off + last_len, len);

	for (size_t keep = 1; keep < last_len; keep++) {
		struct jstore_verify_result res;
		const int missing[] = { 19, -1 };
		struct jstore_stats st;
		int ret;

		restore_snapshot(fx, &crash);
		assert_int_equal(truncate(seg, (off_t)(last_off + keep)), 0);

		ret = verify_dir(fx, &fx->k, &res);
		assert_int_equal(ret, -EBADMSG);
		assert_int_equal(res.damage, JSTORE_DAMAGE_TORN_TAIL);
		assert_int_equal(res.offset, last_off);
		assert_string_equal(res.segment, seg);
		assert_int_equal(res.record_index, n - 1);
		assert_int_equal(res.damages, 1);
		assert_int_equal(read_dir_ids(fx, ids, 64), 19);
		assert_ids_except(ids, 19, 20, missing);

		/* The writer comes back: it cuts the tail and continues the chain. */
		js = open_store(&o);
		jstore_stats(js, &st);
		assert_int_equal(st.recovered_bytes_cut, keep);
		append_n(js, 100, 2);
		assert_int_equal(jstore_close(js), 0);
		assert_intact(fx);
		assert_int_equal(read_dir_ids(fx, ids, 64), 21);
		assert_int_equal(ids[18], 18);
		assert_int_equal(ids[19], 100);
		assert_int_equal(ids[20], 101);
	}
	free(data);
	free_snapshot(&crash);
}

/* A clean closed store of plain segments, its files and their bytes: the victim of an edit. */
struct victim {
	char **files;
	size_t nfiles;
	uint8_t *seg;
	size_t len;
	struct frame f[512];
	size_t n;
};

static void make_victim(struct fixture *fx, struct victim *v, uint32_t records,
			uint32_t per_segment)
{
	struct jstore_options o;
	struct jstore *js;

	test_options(fx, &o);
	js = open_store(&o);
	for (uint32_t i = 0; i < records; i += per_segment) {
		append_n(js, i, per_segment);
		if (i + per_segment < records)
			assert_int_equal(jstore_rotate(js), 0);
	}
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	v->files = segment_files(fx, &v->nfiles);
	v->seg = slurp(v->files[0], &v->len);
	v->n = frames_of(v->seg, v->len, v->f, 512);
}

static void free_victim(struct victim *v)
{
	free(v->seg);
	free_list(v->files, v->nfiles);
}

static void expect_damage(struct fixture *fx, enum jstore_damage kind, uint64_t offset,
			  const char *segment)
{
	struct jstore_verify_result res;

	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	if (res.damage != kind)
		fail_msg("damage %s (%s), expected %s", jstore_damage_name(res.damage), res.message,
			 jstore_damage_name(kind));
	assert_int_equal(res.offset, offset);
	if (segment)
		assert_string_equal(res.segment, segment);
	assert_true(res.message[0] != '\0');
}

static void test_flipped_bytes(void **state)
{
	struct fixture *fx = *state;
	const int none[] = { -1 }, lost_10[] = { 10, -1 };
	struct victim v;
	uint32_t ids[128];
	size_t r10, at;

	make_victim(fx, &v, 40, 40);
	r10 = user_frame(v.f, v.n, 10);

	/* In the header (the host id): the header's CRC; every record still reads. */
	v.seg[20] ^= 0x01;
	spit(v.files[0], v.seg, v.len);
	expect_damage(fx, JSTORE_DAMAGE_HEADER, 0, v.files[0]);
	assert_int_equal(read_dir_ids(fx, ids, 128), 40);
	assert_ids_except(ids, 40, 40, none);
	v.seg[20] ^= 0x01;

	/* In a payload, in the CRC itself, in the type: that record's CRC. */
	static const size_t in_frame[] = { 20 + 50, 0 /* the CRC, below */, 8 };
	for (size_t i = 0; i < 3; i++) {
		at = v.f[r10].off + (i == 1 ? v.f[r10].len - 2 : in_frame[i]);
		v.seg[at] ^= 0x40;
		spit(v.files[0], v.seg, v.len);
		expect_damage(fx, JSTORE_DAMAGE_CRC, v.f[r10].off, v.files[0]);
		assert_int_equal(read_dir_ids(fx, ids, 128), 39);
		assert_ids_except(ids, 39, 40, lost_10);
		v.seg[at] ^= 0x40;
	}

	/* In the length, making it impossible, and in the marker: no frame there. */
	static const size_t no_frame[] = { 7, 1 };
	for (size_t i = 0; i < 2; i++) {
		at = v.f[r10].off + no_frame[i];
		v.seg[at] ^= 0x40;
		spit(v.files[0], v.seg, v.len);
		expect_damage(fx, JSTORE_DAMAGE_FRAME, v.f[r10].off, v.files[0]);
		assert_int_equal(read_dir_ids(fx, ids, 128), 39);
		assert_ids_except(ids, 39, 40, lost_10);
		v.seg[at] ^= 0x40;
	}

	/* In the length, keeping it possible: the frame ends elsewhere, so its CRC fails. */
	at = v.f[r10].off + 4;
	v.seg[at] ^= 0x08;
	spit(v.files[0], v.seg, v.len);
	expect_damage(fx, JSTORE_DAMAGE_CRC, v.f[r10].off, v.files[0]);
	assert_int_equal(read_dir_ids(fx, ids, 128), 39);
	assert_ids_except(ids, 39, 40, lost_10);
	v.seg[at] ^= 0x08;

	/* Restored: intact again (so the damage above was the flip's). */
	spit(v.files[0], v.seg, v.len);
	assert_intact(fx);
	free_victim(&v);
}

/*
 * Every byte of a sealed segment, inverted in turn, is damage verify
 * reports: no byte of the file goes unchecked (a VM scenario once saw
 * a damaged copy called intact; this says it was not a byte verify skips).
 */
static void test_every_byte_counts(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct victim v;

	make_victim(fx, &v, 12, 12);
	for (size_t at = 0; at < v.len; at++) {
		v.seg[at] ^= 0xff;
		spit(v.files[0], v.seg, v.len);
		if (verify_dir(fx, &fx->k, &res) != -EBADMSG)
			fail_msg("byte %zu of %zu inverted: verify says intact", at, v.len);
		v.seg[at] ^= 0xff;
	}
	spit(v.files[0], v.seg, v.len);
	assert_intact(fx);
	free_victim(&v);
}

static void test_removed_record(void **state)
{
	struct fixture *fx = *state;
	const int lost_10[] = { 10, -1 };
	struct jstore_verify_result res;
	struct victim v;
	uint32_t ids[128];
	size_t r;

	make_victim(fx, &v, 40, 40);
	r = user_frame(v.f, v.n, 10);
	memmove(v.seg + v.f[r].off, v.seg + v.f[r].off + v.f[r].len,
		v.len - v.f[r].off - v.f[r].len);
	spit(v.files[0], v.seg, v.len - v.f[r].len);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEQUENCE);
	assert_int_equal(res.offset, v.f[r].off); /* where the next record now is */
	assert_int_equal(res.record_seq, v.f[r].seq);
	assert_int_equal(res.record_index, r);
	assert_non_null(strstr(res.message, "missing"));
	assert_int_equal(read_dir_ids(fx, ids, 128), 39);
	assert_ids_except(ids, 39, 40, lost_10);
	free_victim(&v);
}

static void test_duplicated_record(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct victim v;
	uint32_t ids[128];
	uint8_t *copy;
	size_t r, at;

	make_victim(fx, &v, 40, 40);
	r = user_frame(v.f, v.n, 10);
	at = v.f[r].off + v.f[r].len;
	copy = malloc(v.len + v.f[r].len);
	assert_non_null(copy);
	memcpy(copy, v.seg, at);
	memcpy(copy + at, v.seg + v.f[r].off, v.f[r].len);
	memcpy(copy + at + v.f[r].len, v.seg + at, v.len - at);
	spit(v.files[0], copy, v.len + v.f[r].len);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEQUENCE);
	assert_int_equal(res.offset, at);
	assert_non_null(strstr(res.message, "repeated"));
	/* Every intact record, the copy included. */
	assert_int_equal(read_dir_ids(fx, ids, 128), 41);
	assert_int_equal(ids[10], 10);
	assert_int_equal(ids[11], 10);
	assert_int_equal(ids[40], 39);
	free(copy);
	free_victim(&v);
}

static void test_reordered_records(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct victim v;
	uint32_t ids[128];
	uint8_t *copy;
	size_t a, b;

	make_victim(fx, &v, 40, 40);
	a = user_frame(v.f, v.n, 10);
	b = a + 1;
	assert_int_equal(v.f[b].type, 7);
	copy = malloc(v.len);
	assert_non_null(copy);
	memcpy(copy, v.seg, v.len);
	memcpy(copy + v.f[a].off, v.seg + v.f[b].off, v.f[b].len);
	memcpy(copy + v.f[a].off + v.f[b].len, v.seg + v.f[a].off, v.f[a].len);
	spit(v.files[0], copy, v.len);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEQUENCE);
	assert_int_equal(res.offset, v.f[a].off);
	assert_int_equal(res.record_seq, v.f[a].seq);
	assert_int_equal(read_dir_ids(fx, ids, 128), 40);
	assert_int_equal(ids[10], 11);
	assert_int_equal(ids[11], 10);
	free(copy);
	free_victim(&v);
}

static void test_removed_segment(void **state)
{
	struct fixture *fx = *state;
	const int lost_10_19[] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, -1 };
	const int lost_0_9[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1 };
	struct jstore_verify_result res;
	struct victim v;
	uint32_t ids[128];
	uint8_t *second, *first;
	size_t second_len, first_len;

	make_victim(fx, &v, 40, 10); /* 4 segments of 10 records */
	assert_int_equal(v.nfiles, 4);

	/* From the middle */
	second = slurp(v.files[1], &second_len);
	assert_int_equal(unlink(v.files[1]), 0);
	expect_damage(fx, JSTORE_DAMAGE_SEGMENT_MISSING, 0, v.files[2]);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_non_null(strstr(res.message, "segments 2..2 are missing"));
	assert_int_equal(read_dir_ids(fx, ids, 128), 30);
	assert_ids_except(ids, 30, 40, lost_10_19);
	spit(v.files[1], second, second_len);
	assert_intact(fx);

	/* The first: nothing says retention removed it. */
	first = slurp(v.files[0], &first_len);
	assert_int_equal(unlink(v.files[0]), 0);
	expect_damage(fx, JSTORE_DAMAGE_SEGMENT_MISSING, 0, v.files[1]);
	assert_int_equal(read_dir_ids(fx, ids, 128), 30);
	assert_ids_except(ids, 30, 40, lost_0_9);
	/* Unless the caller says the paths are a part on purpose. */
	{
		const char *paths[] = { fx->dir };

		assert_int_equal(jstore_verify(paths, 1, &fx->k, JSTORE_VERIFY_PARTIAL, &res), 0);
	}
	spit(v.files[0], first, first_len);
	assert_intact(fx);
	free(first);
	free(second);
	free_victim(&v);
}

static void test_reordered_segments(void **state)
{
	struct fixture *fx = *state;
	struct victim v;
	uint32_t ids[128];
	const char *paths[4];
	struct jstore_verify_result res;

	make_victim(fx, &v, 40, 10);
	/* Explicit files given in the wrong order */
	paths[0] = v.files[0];
	paths[1] = v.files[2];
	paths[2] = v.files[1];
	paths[3] = v.files[3];
	assert_int_equal(jstore_verify(paths, 4, &fx->k, 0, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEGMENT_MISSING);
	assert_string_equal(res.segment, v.files[2]);
	assert_int_equal(read_ids(paths, 4, ids, 128), 40);
	/* A segment given twice */
	paths[1] = v.files[1];
	paths[2] = v.files[1];
	assert_int_equal(jstore_verify(paths, 4, &fx->k, 0, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEGMENT_ORDER);
	/* The right order verifies */
	for (size_t i = 0; i < 4; i++)
		paths[i] = v.files[i];
	assert_int_equal(jstore_verify(paths, 4, &fx->k, 0, &res), 0);
	free_victim(&v);
}

/* Which frames a forger drops: segment s's k-th frame, of this type. NULL: none. */
typedef bool (*drop_fn)(size_t s, size_t k, uint16_t type);

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/*
 * What a forger without the key can do to plain segments after an edit:
 * drop frames (`drop`), number the rest again from the first segment's
 * first record, make every seal claim the record before it, and recompute
 * every CRC, every seal's chain value and every header's record number and
 * hash of its predecessor. Only the seals' HMACs cannot be redone (and the
 * seal numbers, which the HMACs cover, are left as they are).
 */
static void forge_as(char **files, size_t nfiles, drop_fn drop, unsigned version)
{
	uint8_t prev[32];
	uint64_t seq = 0;
	/* version 3 as written; 1 or 2: version 2's 128-byte header, the writer's version gone */
	size_t ohdr = version == 3 ? HDR : HDR_V2;

	for (size_t s = 0; s < nfiles; s++) {
		size_t len, olen = ohdr, k = 0;
		uint8_t *seg = slurp(files[s], &len), *out = malloc(len);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned int dlen;

		assert_non_null(out);
		memcpy(out, seg, ohdr);
		if (version != 3) {
			memset(out + 112, 0, 12);
			out[8] = (uint8_t)version;
			out[10] = HDR_V2;
		}
		if (s == 0) {
			seq = le64(seg + 64);
		} else {
			put64(out + 64, seq);
			memcpy(out + 72, prev, 32);
		}
		put32(out + ohdr - 4, crc32c(out, ohdr - 4));
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, out, ohdr);
		for (size_t off = HDR; off < len; k++) {
			size_t flen = OVERHEAD + le32(seg + off + 4);
			uint16_t type = (uint16_t)(seg[off + 8] | seg[off + 9] << 8);
			uint8_t *f = out + olen;

			assert_true(off + flen <= len);
			if (!drop || !drop(s, k, type)) {
				memcpy(f, seg + off, flen);
				put64(f + 12, seq);
				if (type == 0xff01) {
					EVP_MD_CTX *c = EVP_MD_CTX_new();

					put64(f + 20 + 8, seq - 1);
					EVP_MD_CTX_copy_ex(c, ctx);
					EVP_DigestFinal_ex(c, f + 20 + 40, &dlen);
					EVP_MD_CTX_free(c);
				}
				put32(f + flen - 4, crc32c(f, flen - 4));
				EVP_DigestUpdate(ctx, f, flen);
				olen += flen;
				seq++;
			}
			off += flen;
		}
		EVP_DigestFinal_ex(ctx, prev, &dlen);
		EVP_MD_CTX_free(ctx);
		spit(files[s], out, olen);
		free(out);
		free(seg);
	}
}

static void forge(char **files, size_t nfiles, drop_fn drop)
{
	forge_as(files, nfiles, drop, 3);
}

static void rewrite_chain(char **files, size_t nfiles)
{
	forge(files, nfiles, NULL);
}

static void test_rewritten_chain_without_key(void **state)
{
	struct fixture *fx = *state;
	struct jstore_key other;
	struct jstore_verify_result res;
	struct victim v;
	size_t r;

	make_victim(fx, &v, 40, 20); /* 2 segments */
	r = user_frame(v.f, v.n, 5);
	/* An edit with the CRC fixed: the chain catches it at the next seal, key or not. */
	memcpy(v.seg + v.f[r].off + 20 + 8, "exec allow", 10);
	fix_crc(v.seg, &v.f[r]);
	spit(v.files[0], v.seg, v.len);
	assert_int_equal(verify_dir(fx, NULL, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_CHAIN);
	assert_true(res.offset > v.f[r].off);
	assert_int_equal(v.f[res.record_index].type, 0xff01);

	/* The first segment's chain redone: the next header's hash of it tells. */
	rewrite_chain(v.files, 1);
	assert_int_equal(verify_dir(fx, NULL, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_CHAIN);
	assert_string_equal(res.segment, v.files[1]);
	assert_int_equal(res.offset, 72);

	/* The whole chain redone: without the key nothing but the HMAC can tell. */
	rewrite_chain(v.files, v.nfiles);
	assert_int_equal(verify_dir(fx, NULL, &res), 0);
	assert_false(res.key_checked);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEAL);
	assert_string_equal(res.segment, v.files[0]);
	assert_int_equal(v.f[res.record_index].type, 0xff01);
	assert_true(res.offset > v.f[r].off);
	/* Seals of another key are told apart from forged ones. */
	assert_int_equal(jstore_key_load(fx->other_key, NULL, &other), 0);
	{
		const char *paths[] = { fx->dir };

		assert_int_equal(jstore_verify(paths, 1, &other, 0, &res), -EBADMSG);
		assert_int_equal(res.damage, JSTORE_DAMAGE_SEAL_KEY);
	}
	/* The reader returns every record, the edited one as it now reads. */
	assert_int_equal(count_records(fx), 40);
	free_victim(&v);
}

static void test_rotation_by_size_and_age(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore_stats st;
	const int none[] = { -1 };
	uint32_t ids[2048];
	size_t nfiles;
	char **files;
	struct jstore *js;

	test_options(fx, &o);
	o.segment_max_bytes = 8192;
	o.segment_max_age_ms = 60000;
	js = open_store(&o);
	append_n(js, 0, 1000); /* ~144 bytes each: ~18 segments */
	jstore_stats(js, &st);
	assert_true(st.segment_seq >= 17 && st.segment_seq <= 20);
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, st.segment_seq);
	for (size_t i = 0; i + 1 < nfiles; i++) {
		struct stat sb;

		assert_int_equal(stat(files[i], &sb), 0);
		assert_true(sb.st_size <= 8192);
		assert_true(sb.st_size > 8192 - 2 * 144 - 120);
	}
	free_list(files, nfiles);

	/* By age: nothing happens before the minute is up, a new segment after it. */
	fx->clock.mono += 59ull * 1000000000ull;
	append_n(js, 1000, 1);
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	nfiles = st.segment_seq;
	fx->clock.mono += 2ull * 1000000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.segment_seq, nfiles + 1);
	/* An idle segment (no records of the caller) is not rotated again. */
	fx->clock.mono += 120ull * 1000000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.segment_seq, nfiles + 1);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	assert_int_equal(read_dir_ids(fx, ids, 2048), 1001);
	assert_ids_except(ids, 1001, 1001, none);
}

static void test_retention_by_size_and_age(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore_stats st;
	uint32_t ids[4096];
	size_t nfiles, n, total = 0;
	char **files;
	struct jstore *js;

	test_options(fx, &o);
	o.segment_max_bytes = 8192;
	o.retain_max_bytes =
		16000; /* ~4 segments of 8 KiB compressed to ~1 KiB, and the open one */
	o.compress_level = 1;
	o.compress_inline = true;
	js = open_store(&o);
	append_n(js, 0, 2000);
	jstore_stats(js, &st);
	assert_true(st.segments_removed > 10);
	files = segment_files(fx, &nfiles);
	for (size_t i = 0; i < nfiles; i++) {
		struct stat sb;

		assert_int_equal(stat(files[i], &sb), 0);
		total += (size_t)sb.st_size;
	}
	assert_true(total <= 16000);
	assert_true(total > 16000 - 8192);
	free_list(files, nfiles);
	assert_int_equal(jstore_close(js), 0);

	/* Retention is not damage: the retire records account for it. */
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	/* What the retire records still there say (the older ones went with their segments) */
	assert_true(res.retired_segments > 0 && res.retired_segments <= st.segments_removed);
	n = read_dir_ids(fx, ids, 4096);
	assert_true(n > 100 && n < 2000);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], 2000 - n + i); /* the newest, in order */

	/* By age: segments that ended more than an hour ago go; younger ones stay. */
	o.retain_max_bytes = 0;
	o.retain_max_age_ms = 3600ull * 1000;
	files = segment_files(fx, &n);
	free_list(files, n);
	js = open_store(&o);
	files = segment_files(fx, &nfiles);
	free_list(files, nfiles);
	assert_int_equal(nfiles, n + 1); /* their start times read back from compressed headers */
	append_n(js, 5000, 10);
	assert_int_equal(jstore_rotate(js), 0);
	fx->clock.real += 3601ull * 1000000000ull;
	append_n(js, 5010, 10);
	assert_int_equal(jstore_rotate(js), 0);
	files = segment_files(fx, &nfiles);
	free_list(files, nfiles);
	assert_int_equal(nfiles, 2); /* the hour-old ones went; the one just closed stays */
	assert_int_equal(jstore_close(js), 0);
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(read_dir_ids(fx, ids, 4096), 10);
	assert_int_equal(ids[0], 5010);
}

static void test_compression_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore_stats st;
	const int none[] = { -1 };
	uint32_t ids[4096];
	size_t nfiles, plain = 0, packed = 0;
	char **files;
	struct jstore *js;

	for (unsigned threads = 0; threads <= 3; threads++) {
		test_options(fx, &o);
		o.segment_max_bytes = 32768;
		o.compress_level = 6;
		o.compress_inline = !threads;
		o.compress_threads = threads;
		remove_tree(fx->dir);
		js = open_store(&o);
		append_n(js, 0, 3000);
		jstore_wait_compressed(js);
		jstore_stats(js, &st);
		assert_true(st.segments_compressed >= 12);
		assert_int_equal(jstore_close(js), 0);

		files = segment_files(fx, &nfiles);
		assert_int_equal(nfiles, st.segments_compressed + 1);
		for (size_t i = 0; i < nfiles; i++) {
			size_t len;
			uint8_t *gz = slurp(files[i], &len);
			/* A plain gzip file: zlib inflates it back to a segment. */
			uint8_t *out = malloc(40000);
			z_stream z = { 0 };

			assert_non_null(strstr(files[i], ".seg.gz"));
			assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
			z.next_in = gz;
			z.avail_in = (uInt)len;
			z.next_out = out;
			z.avail_out = 40000;
			assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
			assert_memory_equal(out, "ACTGJRNL", 8);
			plain += z.total_out;
			packed += len;
			inflateEnd(&z);
			free(out);
			free(gz);
		}
		free_list(files, nfiles);
		assert_true(packed * 3 < plain);
		assert_intact(fx);
		assert_int_equal(read_dir_ids(fx, ids, 4096), 3000);
		assert_ids_except(ids, 3000, 3000, none);
	}
}

static void test_corrupt_compressed_segment(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	uint32_t ids[1024];
	size_t nfiles, len, n;
	uint8_t *gz;
	char **files;
	struct jstore *js;

	test_options(fx, &o);
	o.segment_max_bytes = 32768;
	o.compress_level = 6;
	o.compress_inline = true;
	js = open_store(&o);
	append_n(js, 0, 600);
	assert_int_equal(jstore_close(js), 0);
	files = segment_files(fx, &nfiles);
	assert_true(nfiles >= 3);
	/* Cut the first compressed segment in half. */
	gz = slurp(files[0], &len);
	spit(files[0], gz, len / 2);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_COMPRESSION);
	assert_string_equal(res.segment, files[0]);
	n = read_dir_ids(fx, ids, 1024);
	/* What inflated before the cut, then every later segment. */
	assert_true(n > 600 - 230 && n < 600);
	assert_int_equal(ids[n - 1], 599);
	/* Garbage in the middle: inflate fails there. */
	gz[len / 2] ^= 0xff;
	gz[len / 2 + 1] ^= 0xff;
	spit(files[0], gz, len);
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_true(res.damage == JSTORE_DAMAGE_COMPRESSION || res.damage == JSTORE_DAMAGE_CRC);
	free(gz);
	free_list(files, nfiles);
}

/* The disk fills up: records are counted, the file stays consistent, a gap record follows. */
static void test_full_disk_gap_record(void **state)
{
	struct fixture *fx = *state;
	struct jstore_reader_options ro = { .include_internal = true };
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_reader *r;
	struct jstore_record rec;
	struct jstore_options o;
	struct jstore_stats st;
	struct jstore_gap gap;
	uint8_t p[PAYLOAD_LEN];
	char **files;
	size_t nfiles, gaps = 0, users = 0;
	struct stat before, after;
	struct jstore *js;

	test_options(fx, &o);
	o.buffer_bytes = 0; /* each append is one write */
	js = open_store(&o);
	append_n(js, 0, 10);
	files = segment_files(fx, &nfiles);
	assert_int_equal(stat(files[0], &before), 0);

	/* 100 bytes more fit: the next record is cut short, then nothing goes. */
	fx->disk.limited = true;
	fx->disk.budget = 100;
	fx->disk.fail_errno = ENOSPC;
	for (uint32_t i = 10; i < 15; i++) {
		make_payload(i, p);
		assert_int_equal(jstore_append(js, 7, p, sizeof(p)), -ENOSPC);
	}
	jstore_stats(js, &st);
	assert_int_equal(st.lost, 5);
	assert_int_equal(st.lost_unreported, 5);
	assert_int_equal(st.records, 10);
	assert_int_equal(st.last_error, -ENOSPC);
	assert_int_equal(stat(files[0], &after), 0);
	assert_int_equal(after.st_size, before.st_size); /* the short write was cut off again */
	assert_intact(fx);

	/* Space again: the next record goes out after a gap record. */
	fx->disk.limited = false;
	append_n(js, 15, 5);
	jstore_stats(js, &st);
	assert_int_equal(st.lost, 5);
	assert_int_equal(st.lost_unreported, 0);
	assert_int_equal(st.gaps, 1);
	assert_int_equal(st.last_error, 0);
	assert_int_equal(jstore_close(js), 0);

	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.gaps, 1);
	assert_int_equal(res.lost, 5);
	assert_int_equal(jstore_reader_open(&r, paths, 1, &ro), 0);
	while (jstore_read(r, &rec) == 1) {
		if (rec.type == JSTORE_TYPE_GAP) {
			assert_int_equal(jstore_decode_gap(rec.payload, rec.len, &gap), 0);
			assert_int_equal(gap.lost, 5);
			assert_int_equal(gap.error, ENOSPC);
			assert_int_equal(gap.first_lost_ns, fx->clock.real);
			assert_int_equal(users, 10); /* where the loss happened */
			gaps++;
		} else if (rec.type == 7) {
			users++;
		}
	}
	jstore_reader_close(r);
	assert_int_equal(gaps, 1);
	assert_int_equal(users, 15);
	free_list(files, nfiles);
}

/* The disk is full when a segment must be started: nothing is written, all is counted. */
static void test_full_disk_at_rotation(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore_stats st;
	uint8_t p[PAYLOAD_LEN];
	uint32_t ids[1024];
	struct jstore *js;
	int ret;

	test_options(fx, &o);
	o.segment_max_bytes = 4096;
	js = open_store(&o);
	fx->disk.limited = true;
	fx->disk.budget = 3000;
	fx->disk.fail_errno = ENOSPC;
	for (uint32_t i = 0; i < 100; i++) {
		make_payload(i, p);
		ret = jstore_append(js, 7, p, sizeof(p));
		assert_true(ret == 0 || ret == -ENOSPC);
	}
	jstore_stats(js, &st);
	assert_true(st.lost > 50);
	assert_int_equal(st.records + st.lost + st.buffered, 100);
	fx->disk.limited = false;
	append_n(js, 100, 30);
	assert_int_equal(jstore_close(js), 0);
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.lost, st.lost);
	assert_int_equal(read_dir_ids(fx, ids, 1024), 130 - st.lost);
}

/* The same with a real limit on file size (EFBIG from the kernel instead of ENOSPC). */
static void test_file_size_limit(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore_stats st;
	struct rlimit old, lim;
	uint8_t p[PAYLOAD_LEN];
	uint32_t ids[256];
	struct sigaction ign = { .sa_handler = SIG_IGN }, prev;
	char **files;
	size_t nfiles;
	struct stat sb;
	struct jstore *js;
	int ret = 0;
	uint32_t i;

	test_options(fx, &o);
	o.write = NULL;
	o.buffer_bytes = 0;
	js = open_store(&o);
	append_n(js, 0, 10);
	files = segment_files(fx, &nfiles);
	assert_int_equal(stat(files[0], &sb), 0);
	assert_int_equal(sigaction(SIGXFSZ, &ign, &prev), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 10; i < 30 && ret == 0; i++) {
		make_payload(i, p);
		ret = jstore_append(js, 7, p, sizeof(p));
	}
	assert_int_equal(ret, -EFBIG);
	make_payload(i, p);
	assert_int_equal(jstore_append(js, 7, p, sizeof(p)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &prev, NULL), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.lost, 2);
	append_n(js, 100, 3);
	assert_int_equal(jstore_close(js), 0);
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.lost, 2);
	/* 0..k-1 written, k and k+1 lost (the loop left i = k + 1), then 3 more */
	assert_int_equal(read_dir_ids(fx, ids, 256), i - 1 + 3);
	free_list(files, nfiles);
}

/* ---- seals that cannot be stripped ---- */

static bool drop_seals(size_t s, size_t k, uint16_t type)
{
	(void)s;
	(void)k;
	return type == 0xff01;
}

/* The first seal of the first segment: more seals follow it there. */
static bool drop_first_seal(size_t s, size_t k, uint16_t type)
{
	static size_t at = SIZE_MAX;

	if (s == 0 && k == 0)
		at = SIZE_MAX;
	if (s == 0 && type == 0xff01 && at == SIZE_MAX)
		at = k;
	return s == 0 && k == at;
}

/* The 10th frame of the first segment (a caller's record). */
static bool drop_tenth(size_t s, size_t k, uint16_t type)
{
	return s == 0 && k == 10 && type == 7;
}

static size_t newest_segment;

static bool drop_newest_seals(size_t s, size_t k, uint16_t type)
{
	(void)k;
	return s == newest_segment && type == 0xff01;
}

static enum jstore_damage verify_dir_damage(struct fixture *fx, const struct jstore_key *key,
					    struct jstore_verify_result *res)
{
	int ret = verify_dir(fx, key, res);

	assert_true(ret == 0 || ret == -EBADMSG);
	return ret ? res->damage : JSTORE_INTACT;
}

/*
 * A forger without the key strips seals, numbers the records again, rewrites
 * the chain and turns a deny into an allow: seals are part of the format, so
 * verify finds what is missing, with the key and without it.
 */
static void test_stripped_seals(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct snapshot honest;
	struct victim v;
	size_t r;

	make_victim(fx, &v, 300, 100); /* 3 segments: seals every 50 records and at their ends */
	take_snapshot(fx, &honest);
	r = user_frame(v.f, v.n, 5);

	/* Every seal stripped, the chain rewritten, a deny made an allow. */
	memcpy(v.seg + v.f[r].off + 20 + 8, "exec allow", 10);
	spit(v.files[0], v.seg, v.len);
	forge(v.files, v.nfiles, drop_seals);
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_string_equal(res.segment, v.files[0]);
	assert_non_null(strstr(res.message, "does not end with a seal"));
	assert_int_equal(res.seals, 0);
	assert_int_equal(verify_dir_damage(fx, NULL, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_int_equal(count_records(fx), 300); /* the reader still returns every record */

	/* One seal stripped in the middle: the numbers of the seals after it skip. */
	restore_snapshot(fx, &honest);
	forge(v.files, v.nfiles, drop_first_seal);
	assert_int_equal(verify_dir_damage(fx, NULL, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_string_equal(res.segment, v.files[0]);
	assert_non_null(strstr(res.message, "seals 1..1 are missing"));
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_true(res.damages >= 2); /* and every seal after it fails its HMAC */

	/* A record removed, the rest numbered again, every seal kept: only the key tells. */
	restore_snapshot(fx, &honest);
	forge(v.files, v.nfiles, drop_tenth);
	assert_int_equal(verify_dir_damage(fx, NULL, &res), JSTORE_INTACT);
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_DAMAGE_SEAL);
	assert_string_equal(res.segment, v.files[0]);
	assert_non_null(strstr(res.message, "HMAC mismatch"));

	/* A record added after the seal that closed the first segment, the chain rewritten. */
	restore_snapshot(fx, &honest);
	{
		uint8_t *grown = malloc(v.len + v.f[r].len);

		assert_non_null(grown);
		memcpy(grown, v.seg, v.len);
		memcpy(grown + v.len, v.seg + v.f[r].off, v.f[r].len);
		spit(v.files[0], grown, v.len + v.f[r].len);
		free(grown);
	}
	forge(v.files, v.nfiles, NULL);
	assert_int_equal(verify_dir_damage(fx, NULL, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_string_equal(res.segment, v.files[0]);
	assert_int_equal(res.offset, v.len);
	assert_non_null(strstr(res.message, "follows the seal that closed its segment"));

	restore_snapshot(fx, &honest);
	assert_intact(fx);
	free_snapshot(&honest);
	free_victim(&v);
}

/*
 * What seals do not cover, as documented: the newest segment's records after
 * its last seal (a crashed or running writer leaves up to a seal interval of
 * them) can be changed, or its last seals stripped, without the key; only a
 * journal known to be closed (JSTORE_VERIFY_CLOSED) tells. More than the
 * format's interval without a seal is damage in any segment.
 */
static void test_unsealed_tail(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_options o;
	struct victim v;
	struct jstore *js;
	size_t r;

	make_victim(fx, &v, 300, 100);
	newest_segment = v.nfiles - 1;
	{
		uint8_t *last;
		size_t len, n;
		struct frame f[512];

		/* A deny made an allow in the newest segment, whose seals are stripped. */
		last = slurp(v.files[newest_segment], &len);
		n = frames_of(last, len, f, 512);
		r = user_frame(f, n, 90);
		memcpy(last + f[r].off + 20 + 8, "exec allow", 10);
		spit(v.files[newest_segment], last, len);
		free(last);
	}
	forge(v.files, v.nfiles, drop_newest_seals);
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_INTACT);
	assert_int_equal(res.unsealed_records, 100);
	assert_int_equal(jstore_verify(paths, 1, &fx->k, JSTORE_VERIFY_CLOSED, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEAL_MISSING);
	assert_string_equal(res.segment, v.files[newest_segment]);
	free_victim(&v);

	/* 10001 records without a seal: more than the format allows, even at the end. */
	remove_tree(fx->dir);
	test_options(fx, &o);
	o.seal_every_records = 0; /* the format's interval: JSTORE_SEAL_MAX_RECORDS */
	js = open_store(&o);
	append_n(js, 0, JSTORE_SEAL_MAX_RECORDS + 10);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.seals, 2); /* after the open record and 9999 more; the closing one */
	v.files = segment_files(fx, &v.nfiles);
	newest_segment = 0;
	forge(v.files, v.nfiles, drop_newest_seals);
	assert_int_equal(verify_dir_damage(fx, NULL, &res), JSTORE_DAMAGE_SEAL_MISSING);
	assert_non_null(strstr(res.message, "more than 10000 records without a seal"));
	assert_int_equal(res.record_index, JSTORE_SEAL_MAX_RECORDS);
	free_list(v.files, v.nfiles);
}

/* Segments of another version, or with a header flag this reader does not know, are not read. */
static void test_other_versions_refused(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore *js = NULL;
	size_t nfiles, len;
	char **files;
	uint8_t *seg;

	test_options(fx, &o);
	js = open_store(&o);
	append_n(js, 0, 10);
	assert_int_equal(jstore_close(js), 0);
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, 1);
	seg = slurp(files[0], &len);

	/* Version 1, its header otherwise intact: skipped and reported; not continued. */
	forge_as(files, 1, NULL, 1);
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_DAMAGE_HEADER);
	assert_non_null(strstr(res.message, "version 1"));
	assert_int_equal(res.records, 0);
	assert_int_equal(count_records(fx), 0);
	assert_int_equal(jstore_open(&js, &o), -EPROTO);
	assert_null(js);

	/* A flag set: a later writer's feature, the same answer. */
	put32(seg + 12, 0x1);
	put32(seg + HDR - 4, crc32c(seg, HDR - 4));
	spit(files[0], seg, len);
	assert_int_equal(verify_dir_damage(fx, &fx->k, &res), JSTORE_DAMAGE_HEADER);
	assert_non_null(strstr(res.message, "flags 0x1"));
	assert_int_equal(count_records(fx), 0);
	assert_int_equal(jstore_open(&js, &o), -EPROTO);

	/* As written, it reads and continues. */
	put32(seg + 12, 0);
	put32(seg + HDR - 4, crc32c(seg, HDR - 4));
	spit(files[0], seg, len);
	assert_intact(fx);
	js = open_store(&o);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	free(seg);
	free_list(files, nfiles);
}

/*
 * A journal of version 2 (128-byte headers, no writer's version), as an
 * actgate before version 3 wrote it: read whole, verified (its chain; the
 * HMACs were made over the version-3 bytes this test rewrote, so no key),
 * and continued with a version-3 segment.
 */
static void test_version2_still_read(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_reader *r = NULL;
	struct jstore_record rec;
	struct jstore_options o;
	struct jstore *js = NULL;
	size_t nfiles, len;
	char **files;
	uint8_t *seg;
	int ret;

	test_options(fx, &o);
	js = open_store(&o);
	append_n(js, 0, 10);
	assert_int_equal(jstore_rotate(js), 0);
	append_n(js, 10, 10);
	assert_int_equal(jstore_close(js), 0);
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, 2);
	forge_as(files, nfiles, NULL, 2);
	seg = slurp(files[0], &len);
	assert_int_equal(seg[8], 2);
	assert_int_equal(seg[10], 128);
	free(seg);

	assert_int_equal(verify_dir(fx, NULL, &res), 0);
	assert_int_equal(count_records(fx), 20);
	assert_int_equal(jstore_reader_open(&r, paths, 1, NULL), 0);
	while ((ret = jstore_read(r, &rec)) == 1)
		assert_string_equal(rec.segment_writer, "");
	assert_int_equal(ret, 0);
	jstore_reader_close(r);

	/* Continued: the next segment is version 3, with this writer's version. */
	js = open_store(&o);
	append_n(js, 20, 5);
	assert_int_equal(jstore_close(js), 0);
	assert_int_equal(verify_dir(fx, NULL, &res), 0);
	assert_int_equal(count_records(fx), 25);
	assert_int_equal(jstore_reader_open(&r, paths, 1, NULL), 0);
	for (size_t n = 0; (ret = jstore_read(r, &rec)) == 1; n++)
		assert_string_equal(rec.segment_writer, n < 20 ? "" : actgate_version());
	assert_int_equal(ret, 0);
	jstore_reader_close(r);
	free_list(files, nfiles);
}

/* Killed at any point: reopening resumes the chain, and the OPEN record says it was unclean. */
static void test_reopen_after_crash(void **state)
{
	struct fixture *fx = *state;
	struct jstore_reader_options ro = { .include_internal = true };
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore_open_info info;
	struct jstore_reader *r;
	struct jstore_record rec;
	struct snapshot crash;
	const int none[] = { -1 };
	uint32_t ids[256];
	size_t opens = 0, nfiles;
	char **files;
	struct jstore *js;

	test_options(fx, &o);
	o.compress_level = 6;
	o.compress_inline = true;
	js = open_store(&o);
	append_n(js, 0, 30);
	assert_int_equal(jstore_rotate(js), 0);
	append_n(js, 30, 30);
	assert_int_equal(jstore_sync(js), 0);
	take_snapshot(fx, &crash);
	assert_int_equal(jstore_close(js), 0);
	restore_snapshot(fx, &crash);

	/*
	 * Unsealed records at the end of the newest segment are the crash's (or a
	 * running writer's): intact, and counted as such; damage only for a
	 * journal said to be closed.
	 */
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	assert_int_equal(res.unsealed_records, 30); /* seals every 50 records, and at rotation */
	assert_int_equal(res.last_seal, 1);
	assert_int_equal(jstore_verify(paths, 1, &fx->k, JSTORE_VERIFY_CLOSED, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_SEAL_MISSING);
	assert_int_equal(res.damages, 1);
	js = open_store(&o);
	append_n(js, 60, 30);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	assert_int_equal(read_dir_ids(fx, ids, 256), 90);
	assert_ids_except(ids, 90, 90, none);
	assert_int_equal(jstore_verify(paths, 1, &fx->k, JSTORE_VERIFY_CLOSED, &res), 0);
	/* Seal 1 closed segment 1, 2 the crashed segment 2 (the next writer's), 3 segment 3. */
	assert_int_equal(res.last_seal, 3);
	assert_int_equal(jstore_reader_open(&r, paths, 1, &ro), 0);
	while (jstore_read(r, &rec) == 1) {
		struct jstore_seal seal;

		if (rec.type == JSTORE_TYPE_SEAL && rec.segment_seq == 2) {
			/* The crashed writer's segment, closed by the next writer. */
			assert_int_equal(jstore_decode_seal(rec.payload, rec.len, &seal), 0);
			assert_int_equal(seal.number, 2);
			assert_int_equal(seal.flags, JSTORE_SEAL_SEGMENT_END | JSTORE_SEAL_RECOVERED);
			assert_int_equal(seal.sealed_seq, rec.seq - 1);
		}
		if (rec.type != JSTORE_TYPE_OPEN)
			continue;
		assert_int_equal(jstore_decode_open(rec.payload, rec.len, &info), 0);
		assert_int_equal(info.flags, opens == 0 ? 0 : JSTORE_OPEN_UNCLEAN);
		assert_int_equal(info.previous_segment, opens == 0 ? 0 : 2);
		opens++;
	}
	jstore_reader_close(r);
	assert_int_equal(opens, 2);
	/* Every segment but the last compressed, the last after a clean close too. */
	files = segment_files(fx, &nfiles);
	assert_int_equal(nfiles, 3);
	for (size_t i = 0; i < nfiles; i++)
		assert_non_null(strstr(files[i], ".seg.gz"));
	free_list(files, nfiles);

	/* A crash in the middle of a compression: the .tmp is dropped, the plain one kept. */
	restore_snapshot(fx, &crash);
	{
		char tmp[256];
		uint8_t junk[100] = { 0x1f, 0x8b };

		snprintf(tmp, sizeof(tmp), "%s/.journal-0000000000000002.seg.gz.tmp", fx->dir);
		spit(tmp, junk, sizeof(junk));
		/* And a partial .gz, as if cut between the rename and the removal of the plain one */
		snprintf(tmp, sizeof(tmp), "%s/journal-0000000000000002.seg.gz", fx->dir);
		spit(tmp, junk, sizeof(junk));
	}
	js = open_store(&o);
	append_n(js, 60, 30);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	assert_int_equal(read_dir_ids(fx, ids, 256), 90);
	assert_ids_except(ids, 90, 90, none);
	free_snapshot(&crash);
}

/* Killed while starting a segment: the partial header is a torn tail, removed on reopen. */
static void test_torn_segment_header(void **state)
{
	struct fixture *fx = *state;
	struct jstore_verify_result res;
	struct jstore_options o;
	struct jstore_stats st;
	uint8_t half[60];
	char path[256];
	uint32_t ids[64];
	struct jstore *js;

	test_options(fx, &o);
	js = open_store(&o);
	append_n(js, 0, 20);
	assert_int_equal(jstore_close(js), 0);
	snprintf(path, sizeof(path), "%s/journal-0000000000000002.seg", fx->dir);
	memcpy(half, "ACTGJRNL", 8);
	memset(half + 8, 0, sizeof(half) - 8);
	spit(path, half, sizeof(half));
	assert_int_equal(verify_dir(fx, &fx->k, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_TORN_TAIL);
	assert_string_equal(res.segment, path);
	assert_int_equal(read_dir_ids(fx, ids, 64), 20);
	js = open_store(&o);
	jstore_stats(js, &st);
	assert_int_equal(st.segment_seq, 2);
	assert_int_equal(st.recovered_bytes_cut, sizeof(half));
	append_n(js, 20, 5);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
	assert_int_equal(read_dir_ids(fx, ids, 64), 25);
}

static void test_seal_and_fsync_policy(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore_stats st;
	struct jstore *js;

	test_options(fx, &o);
	o.seal_every_records = 100;
	o.seal_every_ms = 500;
	o.fsync_every_records = 250;
	o.fsync_every_ms = 100;
	o.buffer_bytes = 0;
	js = open_store(&o);
	jstore_stats(js, &st);
	assert_int_equal(st.fsyncs, 1); /* the OPEN record */
	append_n(js, 0, 1000);
	jstore_stats(js, &st);
	assert_int_equal(st.seals, 10);
	assert_int_equal(st.fsyncs, 1 + 4);
	/* By time: one record, then nothing until 100 ms / 500 ms have passed. */
	append_n(js, 1000, 1);
	fx->clock.mono += 99000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.fsyncs, 5);
	fx->clock.mono += 1000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.fsyncs, 6);
	assert_int_equal(st.seals, 10);
	fx->clock.mono += 400000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.seals, 11);
	/* Idle: no more seals or syncs. */
	fx->clock.mono += 5000000000ull;
	assert_int_equal(jstore_tick(js), 0);
	jstore_stats(js, &st);
	assert_int_equal(st.seals, 11);
	assert_int_equal(st.fsyncs, 6);
	assert_int_equal(jstore_close(js), 0);
	assert_intact(fx);
}

static void test_buffered_until_flush(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore_stats st;
	uint32_t ids[64];
	struct jstore *js;

	test_options(fx, &o);
	o.fsync_every_records = 0;
	js = open_store(&o);
	append_n(js, 0, 10);
	jstore_stats(js, &st);
	assert_int_equal(st.buffered, 10);
	assert_int_equal(st.records, 0);
	assert_int_equal(read_dir_ids(fx, ids, 64), 0);
	assert_int_equal(jstore_flush(js), 0);
	assert_int_equal(read_dir_ids(fx, ids, 64), 10);
	assert_int_equal(jstore_close(js), 0);
}

static void test_bad_input_refused(void **state)
{
	struct fixture *fx = *state;
	struct jstore_options o;
	struct jstore *js, *second = NULL;
	char inside[256];
	uint8_t p[8] = { 0 };

	/* A key inside the journal directory */
	test_options(fx, &o);
	assert_int_equal(mkdir(fx->dir, 0750), 0);
	snprintf(inside, sizeof(inside), "%s/seal.key", fx->dir);
	assert_int_equal(jstore_key_create(inside), 0);
	o.key_path = inside;
	assert_int_equal(jstore_open(&js, &o), -EINVAL);
	assert_null(js);
	/* A key too short */
	spit(fx->other_key, p, sizeof(p));
	o.key_path = fx->other_key;
	assert_int_equal(jstore_open(&js, &o), -EINVAL);
	/* A second writer */
	o.key_path = fx->key;
	js = open_store(&o);
	assert_int_equal(jstore_open(&second, &o), -EBUSY);
	assert_null(second);
	/* Types and sizes */
	assert_int_equal(jstore_append(js, 0, p, sizeof(p)), -EINVAL);
	assert_int_equal(jstore_append(js, JSTORE_TYPE_SEAL, p, sizeof(p)), -EINVAL);
	assert_int_equal(jstore_append(js, 1, NULL, JSTORE_MAX_PAYLOAD + 1), -EINVAL);
	assert_int_equal(jstore_append(js, JSTORE_TYPE_USER_MAX, p, 0), 0);
	assert_int_equal(jstore_close(js), 0);
	/* Not a journal: a reader finds nothing and says so. */
	{
		const char *paths[] = { fx->key };
		struct jstore_verify_result res;

		assert_int_equal(jstore_verify(paths, 1, NULL, 0, &res), -EBADMSG);
		assert_int_equal(res.damage,
				 JSTORE_DAMAGE_TORN_TAIL); /* 32 bytes: less than a header */
	}
}

/*
 * The kept head (docs/journal-store.md, "The kept head"): the last synced
 * seal, saved and loaded as text; a journal cut after it, or with its seal
 * changed, is behind-head, which plain verify cannot see; segments removed
 * under the writer are counted.
 */
static void test_kept_head(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_head head, loaded, forged;
	struct jstore_options o;
	struct jstore *js;
	char head_path[PATH_MAX + 16], seg[PATH_MAX + 64], why[256];
	uint64_t first = 99;
	FILE *f;

	test_options(fx, &o);
	js = open_store(&o);
	jstore_head(js, &head);
	assert_int_equal(head.seal, 0);
	append_n(js, 0, 20);
	assert_int_equal(jstore_seal(js), 0);
	jstore_head(js, &head);
	assert_int_equal(head.seal, 0); /* written, not synced yet */
	assert_int_equal(jstore_sync(js), 0);
	jstore_head(js, &head);
	assert_int_equal(head.seal, 1);
	assert_int_equal(head.segment, 1);
	assert_int_equal(head.sealed_seq, 21); /* the open record, then 20 */

	snprintf(head_path, sizeof(head_path), "%s/journal-head", fx->root);
	assert_int_equal(jstore_head_save(head_path, &head), 0);
	assert_int_equal(jstore_head_load(head_path, &loaded, why, sizeof(why)), 0);
	assert_memory_equal(&loaded, &head, sizeof(head));

	/* Later records and segments are fine; the head's seal is still there. */
	assert_int_equal(jstore_rotate(js), 0);
	append_n(js, 20, 5);
	assert_int_equal(jstore_missing_segments(js, &first), 0);
	assert_int_equal(jstore_verify_against(paths, 1, &fx->k, 0, &head, &res), 0);

	/* Another chain value under the head's number: rewritten. */
	forged = head;
	forged.chain[0] ^= 1;
	assert_int_equal(jstore_verify_against(paths, 1, &fx->k, 0, &forged, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_BEHIND_HEAD);
	/* A head the journal never reached: cut. */
	forged = head;
	forged.seal = 40;
	assert_int_equal(jstore_verify_against(paths, 1, &fx->k, 0, &forged, &res), -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_BEHIND_HEAD);
	assert_non_null(strstr(res.message, "ends before seal 40"));

	/* Segment 1 removed under the writer: counted; with it the head's seal is gone. */
	snprintf(seg, sizeof(seg), "%s/journal-0000000000000001.seg", fx->dir);
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(jstore_missing_segments(js, &first), 1);
	assert_int_equal(first, 1);
	assert_int_equal(jstore_verify_against(paths, 1, &fx->k, JSTORE_VERIFY_PARTIAL, &head, &res),
			 -EBADMSG);
	assert_int_equal(res.damage, JSTORE_DAMAGE_BEHIND_HEAD);
	/* Plain verify of what is left, as a part, finds nothing. */
	assert_int_equal(jstore_verify(paths, 1, &fx->k, JSTORE_VERIFY_PARTIAL, &res), 0);
	/* The active segment unlinked too: its descriptor has no name left. */
	snprintf(seg, sizeof(seg), "%s/journal-0000000000000002.seg", fx->dir);
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(jstore_missing_segments(js, &first), 2);
	assert_int_equal(jstore_close(js), 0);

	/* Head files that are not one are refused. */
	f = fopen(head_path, "w");
	assert_non_null(f);
	fputs("actgate-journal-head 1\nseal 1\nrecord 2\nsegment 1\nchain 00\n", f);
	fclose(f);
	assert_int_equal(jstore_head_load(head_path, &loaded, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "64 hexadecimal"));
	f = fopen(head_path, "w");
	assert_non_null(f);
	fputs("seal 1\n", f);
	fclose(f);
	assert_int_equal(jstore_head_load(head_path, &loaded, why, sizeof(why)), -EINVAL);
	assert_int_equal(jstore_head_save(head_path, &head), 0);
	f = fopen(head_path, "a");
	assert_non_null(f);
	fputs("extra\n", f);
	fclose(f);
	assert_int_equal(jstore_head_load(head_path, &loaded, why, sizeof(why)), -EINVAL);
}

/* The reader written in docs/journal-store.md, run against journals the writer made. */
static void test_documented_python_reader(void **state)
{
	struct fixture *fx = *state;
	const char *doc_rel = "docs/journal-store.md", *self = __FILE__;
	char doc[512], script[256], cmd[1024], out[256];
	struct jstore_verify_result res;
	struct jstore_options o;
	size_t root_len = strlen(self) - strlen("tests/unit/test_journal_store.c");
	struct victim v;
	FILE *in, *py, *p;
	bool inside = false;
	char line[512];

	if (system("python3 -c '' 2>/dev/null") != 0)
		skip(); /* no Python here: nothing to run the documented reader with */
	snprintf(doc, sizeof(doc), "%.*s%s", (int)root_len, self, doc_rel);
	snprintf(script, sizeof(script), "%s/reader.py", fx->root);
	in = fopen(doc, "re");
	assert_non_null(in);
	py = fopen(script, "we");
	assert_non_null(py);
	while (fgets(line, sizeof(line), in)) {
		if (!strcmp(line, "```python\n"))
			inside = true;
		else if (inside && !strncmp(line, "```", 3))
			break;
		else if (inside)
			fputs(line, py);
	}
	fclose(in);
	fclose(py);
	assert_true(inside);

	/* Compressed segments, a crash and a resumed chain */
	test_options(fx, &o);
	o.compress_level = 6;
	o.compress_inline = true;
	{
		struct jstore *js = open_store(&o);
		struct snapshot crash;

		append_n(js, 0, 120);
		assert_int_equal(jstore_rotate(js), 0);
		append_n(js, 120, 30);
		assert_int_equal(jstore_sync(js), 0);
		take_snapshot(fx, &crash);
		assert_int_equal(jstore_close(js), 0);
		restore_snapshot(fx, &crash);
		free_snapshot(&crash);
		js = open_store(&o);
		append_n(js, 150, 10);
		assert_int_equal(jstore_close(js), 0);
	}
	assert_int_equal(verify_dir(fx, &fx->k, &res), 0);
	snprintf(cmd, sizeof(cmd), "python3 %s %s %s 2>&1", script, fx->dir, fx->key);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	snprintf(line, sizeof(line), "intact: 160 records, %llu seals\n",
		 (unsigned long long)res.seals);
	assert_string_equal(out, line);

	/* Plain segments, and a forged chain that it must refuse with the key */
	remove_tree(fx->dir);
	make_victim(fx, &v, 40, 20);
	snprintf(cmd, sizeof(cmd), "python3 %s %s %s >/dev/null 2>&1", script, fx->dir, fx->key);
	assert_int_equal(system(cmd), 0);
	memcpy(v.seg + v.f[user_frame(v.f, v.n, 3)].off + 20 + 8, "exec allow", 10);
	spit(v.files[0], v.seg, v.len);
	rewrite_chain(v.files, v.nfiles);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "python3 %s %s >/dev/null 2>&1", script, fx->dir);
	assert_int_equal(system(cmd), 0); /* without the key, the rewrite passes: as documented */
	/* Unless the seals that would tell are stripped: the seal rules need no key. */
	forge(v.files, v.nfiles, drop_seals);
	assert_int_not_equal(system(cmd), 0);
	free_victim(&v);

	/* The crashed writer's segment: an unsealed tail, refused only with --closed. */
	remove_tree(fx->dir);
	{
		struct jstore *js = open_store(&o);

		append_n(js, 0, 30);
		assert_int_equal(jstore_sync(js), 0);
		snprintf(cmd, sizeof(cmd), "python3 %s %s %s >/dev/null 2>&1", script, fx->dir,
			 fx->key);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "python3 %s %s %s --closed >/dev/null 2>&1", script,
			 fx->dir, fx->key);
		assert_int_not_equal(system(cmd), 0);
		assert_int_equal(jstore_close(js), 0);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_as_documented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_byte_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicated_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_chain_without_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stripped_seals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsealed_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_versions_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version2_still_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_size_and_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_by_size_and_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compression_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_compressed_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_gap_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_at_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_segment_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_and_fsync_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_until_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documented_python_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_head, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
