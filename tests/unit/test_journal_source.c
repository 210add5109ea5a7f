/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decisions read back from damaged journals (through replay's JSON lines,
 * which jsource feeds): the damage list of issue 5 at the decision level (a torn tail at every offset of the last
 * decision, flipped bytes, removed / duplicated / reordered decisions, lost
 * string definitions, a removed segment, a full disk), each seen by verify
 * while every intact decision is still returned; and following a journal
 * across rotation. The store's own mechanics are in test_journal_store.c.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_journal.h"
#include "journal/record.h"
#include "journal/source.h"

/* ---- damage, at the decision level ---- */

struct frame {
	size_t off, len;
	uint16_t type;
};

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static size_t frames_of(const uint8_t *seg, size_t len, struct frame *f, size_t max)
{
	size_t n = 0;

	for (size_t off = JSTORE_HEADER_SIZE; off + 24 <= len && n < max;) {
		uint32_t plen;
		uint16_t type;

		memcpy(&plen, seg + off + 4, 4);
		memcpy(&type, seg + off + 8, 2);
		f[n++] = (struct frame){ off, 24 + plen, type };
		off += 24 + plen;
	}
	return n;
}

/* A journal in plain segments of `per_segment` decisions, as a crash would leave it (no close). */
static char *write_plain(struct fixture *fx, uint32_t n, uint32_t per_segment, bool close_it)
{
	struct jstore_options o;
	struct jrecord_buf b = { 0 };
	struct jrecord_dict *d;
	struct jstore *js;
	char *seg = NULL;

	assert_int_equal(jrecord_dict_new(&d), 0);
	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_level = 0;
	o.seal_every_records = 0;
	o.seal_every_ms = 0;
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = decision(i);

		/* As the daemon's sink does: strings by reference, defined anew per segment. */
		if (i && per_segment && i % per_segment == 0) {
			assert_int_equal(jstore_rotate(js), 0);
			jrecord_dict_reset(d);
		}
		assert_int_equal(jrecord_encode_dict(&r, d, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
	}
	assert_int_equal(jstore_sync(js), 0);
	assert_true(asprintf(&seg, "%s/journal-%016llx.seg", fx->dir,
			     (unsigned long long)(per_segment ? (n - 1) / per_segment + 1 : 1)) > 0);
	if (close_it) {
		assert_int_equal(jstore_close(js), 0);
	} else {
		/* As a SIGKILL now would leave it: the bytes before the close, put back after. */
		size_t len;
		uint8_t *crash = slurp(seg, &len);

		assert_int_equal(jstore_close(js), 0);
		spit(seg, crash, len);
		free(crash);
	}
	jrecord_buf_free(&b);
	jrecord_dict_free(d);
	return seg;
}

/* Replay's JSON lines; each decision i shows as its target and time. */
static bool has_decision(const char *out, uint32_t i)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "\"time_ns\":%llu,",
		 (unsigned long long)(T0 + (uint64_t)i * 1000000000ull));
	return strstr(out, needle) != NULL;
}

static void expect_replay(struct fixture *fx, uint32_t n, const int *missing, size_t extra)
{
	size_t want = n + extra;

	for (const int *m = missing; *m >= 0; m++)
		want--;
	assert_int_equal(json_lines(fx, NULL), want);
	for (uint32_t i = 0; i < n; i++) {
		bool gone = false;

		for (const int *m = missing; *m >= 0; m++)
			gone |= (uint32_t)*m == i;
		if (has_decision(fx->out, i) == gone)
			fail_msg("decision %u: %s", i, gone ? "replayed though damaged" : "missing");
	}
}

static void test_torn_last_decision(void **state)
{
	struct fixture *fx = *state;
	struct frame f[64];
	size_t len, n;
	uint8_t *orig;
	char *seg;

	seg = write_plain(fx, 12, 0, false);
	orig = slurp(seg, &len);
	n = frames_of(orig, len, f, 64);
	assert_int_equal(f[n - 1].type, JRECORD_TYPE_DECISION);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	for (size_t keep = 0; keep < f[n - 1].len; keep++) {
		const int missing[] = { 11, -1 };

		spit(seg, orig, f[n - 1].off + keep);
		expect_replay(fx, 12, missing, 0);
		if (keep)
			assert_non_null(strstr(fx->err, "torn"));
		assert_int_equal(verify(fx, true), keep ? JSTORE_DAMAGE_TORN_TAIL : JSTORE_INTACT);
	}
	free(orig);
	free(seg);
}

static void test_damaged_decisions(void **state)
{
	struct fixture *fx = *state;
	struct frame f[64];
	size_t len, n, k;
	uint8_t *orig, *p;
	char *seg;

	seg = write_plain(fx, 12, 0, true);
	orig = slurp(seg, &len);
	n = frames_of(orig, len, f, 64);
	/* Frame k: decision 5 (after the store's open record). */
	for (k = 0; k < n && !(f[k].type == JRECORD_TYPE_DECISION); k++)
		;
	k += 5;
	p = malloc(len + f[k].len);
	assert_non_null(p);

	{ /* A flipped byte in the middle of decision 5's payload. */
		const int missing[] = { 5, -1 };

		memcpy(p, orig, len);
		p[f[k].off + 30] ^= 0x20;
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_CRC);
	}
	{ /* Decision 5 removed. */
		const int missing[] = { 5, -1 };

		memcpy(p, orig, f[k].off);
		memcpy(p + f[k].off, orig + f[k].off + f[k].len, len - f[k].off - f[k].len);
		spit(seg, p, len - f[k].len);
		expect_replay(fx, 12, missing, 0);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* Decision 5 twice: both intact copies replayed, the repeat found. */
		const int missing[] = { -1 };

		memcpy(p, orig, f[k].off + f[k].len);
		memcpy(p + f[k].off + f[k].len, orig + f[k].off, len - f[k].off);
		spit(seg, p, len + f[k].len);
		expect_replay(fx, 12, missing, 1);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* Decisions 5 and 6 swapped. */
		const int missing[] = { -1 };
		size_t a = f[k].off, la = f[k].len, lb = f[k + 1].len;

		memcpy(p, orig, len);
		memcpy(p + a, orig + a + la, lb);
		memcpy(p + a + lb, orig + a, la);
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_true(strstr(fx->out, "\"time_ns\":1795871663000000000") <
			    strstr(fx->out, "\"time_ns\":1795871662000000000"));
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* A decision payload the decoder refuses, in an intact frame (CRC redone). */
		const int missing[] = { 5, -1 };
		uint32_t crc;

		memcpy(p, orig, len);
		p[f[k].off + 20] = 9; /* payload version */
		/* The reader trusts CRC-32C; recompute it as a forger would. */
		crc = 0xffffffffu;
		for (size_t i = f[k].off; i < f[k].off + f[k].len - 4; i++) {
			crc ^= p[i];
			for (int b = 0; b < 8; b++)
				crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
		}
		crc ^= 0xffffffffu;
		memcpy(p + f[k].off + f[k].len - 4, &crc, 4);
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_non_null(strstr(fx->err, "skipped a malformed decision: payload version 9"));
		/* Verify sees the edit through the chain (the seal at the close). */
		assert_int_equal(verify(fx, false), JSTORE_DAMAGE_CHAIN);
	}
	free(p);
	free(orig);
	free(seg);
}

/* The decision that defines the strings is damaged: the later ones come back, their texts lost. */
static void test_damaged_definitions(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 0, -1 };
	struct frame f[64];
	size_t len, n, k;
	uint8_t *p;
	char *seg;

	seg = write_plain(fx, 12, 0, true);
	p = slurp(seg, &len);
	n = frames_of(p, len, f, 64);
	for (k = 0; k < n && f[k].type != JRECORD_TYPE_DECISION; k++)
		;
	assert_int_equal(p[f[k].off + 21], JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
	p[f[k].off + 30] ^= 0x01;
	spit(seg, p, len);
	expect_replay(fx, 12, missing, 0);
	assert_non_null(strstr(fx->out, "\"workload\":\"<lost string 1>\""));
	assert_non_null(strstr(fx->err, "of its texts are lost"));
	/* Decisions 5.. define what decisions 0..4 did not use: those texts are whole. */
	assert_int_equal(verify(fx, true), JSTORE_DAMAGE_CRC);
	free(p);
	free(seg);
}

static void test_removed_segment(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 4, 5, 6, 7, -1 };
	char *seg, path[256];

	seg = write_plain(fx, 12, 4, true); /* segments 1, 2, 3 */
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg", fx->dir, 2);
	assert_int_equal(unlink(path), 0);
	expect_replay(fx, 12, missing, 0);
	assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEGMENT_MISSING);
	free(seg);
}

static struct { int fail; } disk;

static ssize_t failing_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	if (disk.fail) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, len);
}

static void test_full_disk(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 3, 4, -1 };
	struct jstore_options o;
	struct jrecord_buf b = { 0 };
	struct jstore_stats st;
	struct jstore *js;

	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.buffer_bytes = 0;
	o.write = failing_write;
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t i = 0; i < 8; i++) {
		struct journal_record r = decision(i);

		disk.fail = i == 3 || i == 4;
		assert_int_equal(jrecord_encode(&r, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len),
				 disk.fail ? -ENOSPC : 0);
	}
	jstore_stats(js, &st);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.gaps, 1);
	assert_int_equal(jstore_close(js), 0);
	expect_replay(fx, 8, missing, 0);
	assert_non_null(strstr(fx->err, "2 decisions lost from"));
	assert_non_null(strstr(fx->err, "No space left on device"));
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	jrecord_buf_free(&b);
}

static void test_follow_across_rotation(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	volatile int stop = 0;
	struct jsource_options so = { .follow = true, .poll_ms = 1, .stop = &stop };
	struct jrecord_buf b = { 0 };
	struct journal_record rec;
	struct jstore_options o;
	struct jsource *src;
	struct jstore *js;
	uint64_t seen = 0;

	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_inline = true;
	assert_int_equal(jstore_open(&js, &o), 0);
	/* Following an empty journal waits; records then come as they are written. */
	assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
	for (uint32_t i = 0; i < 9; i++) {
		struct journal_record r = decision(i);

		assert_int_equal(jrecord_encode(&r, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
		assert_int_equal(jstore_flush(js), 0);
		if (i % 3 == 2)
			assert_int_equal(jstore_rotate(js), 0); /* compressed at once */
		while (seen <= i) {
			assert_int_equal(jsource_next(src, &rec), 1);
			assert_true(rec.time_ns == T0 + seen * 1000000000ull);
			seen++;
		}
	}
	stop = 1;
	assert_int_equal(jsource_next(src, &rec), 0);
	jsource_close(src);
	assert_int_equal(jstore_close(js), 0);
	jrecord_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_torn_last_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_across_rotation, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal/source", tests, NULL, NULL);
}
