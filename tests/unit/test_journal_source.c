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

/* ---- the documented decoder reads what replay reads ---- */

/* A payload built by hand: what a writer (or a forger with the key) could put in a frame. */
struct pb {
	uint8_t b[256];
	size_t n;
};

static void pb_varint(struct pb *p, uint64_t v)
{
	while (v >= 0x80) {
		p->b[p->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p->b[p->n++] = (uint8_t)v;
}

static void pb_uint(struct pb *p, unsigned f, uint64_t v)
{
	pb_varint(p, (uint64_t)f << 1);
	pb_varint(p, v);
}

static void pb_text(struct pb *p, unsigned f, const char *s)
{
	pb_varint(p, (uint64_t)f << 1 | 1);
	pb_varint(p, strlen(s));
	memcpy(p->b + p->n, s, strlen(s));
	p->n += strlen(s);
}

/* Version, then fields 1 to 5: a denied exec at T0 + i. */
static void pb_head(struct pb *p, uint64_t i)
{
	p->n = 0;
	p->b[p->n++] = 1;
	pb_uint(p, 1, T0 + i);
	pb_uint(p, 2, 1);
	pb_uint(p, 3, 1);
	pb_uint(p, 4, 0);
	pb_uint(p, 5, 1);
}

/* One canonical line per decision: the numbers, then every text in hex ("-": not recorded). */
static void canonical(FILE *out, const struct journal_record *r)
{
	const char *texts[] = { r->comm, r->workload, r->principal, r->labels, r->policy, r->rule,
				r->target, r->signals };

	fprintf(out, "D %llu %u %u %u %u %llu %llu %u %u %u %u %u %u %llu",
		(unsigned long long)r->time_ns, r->action, r->verdict, r->mode, r->reason,
		(unsigned long long)r->workload_id, (unsigned long long)r->cgroup_id, r->pid,
		r->tgid, r->ppid, r->uid, r->generation, r->access,
		(unsigned long long)r->signal_generation);
	for (size_t k = 0; k < 8; k++) {
		fputc(' ', out);
		if (!texts[k]) {
			fputc('-', out);
			continue;
		}
		for (const unsigned char *c = (const unsigned char *)texts[k]; *c; c++)
			fprintf(out, "%02x", *c);
	}
	fputc('\n', out);
}

static const char decoder_driver[] =
	"\n"
	"for d, lost in decisions(sys.argv[1], open(sys.argv[2], 'rb').read()):\n"
	"    nums = [d[k] for k in ('time_ns', 'action', 'verdict', 'mode', 'reason',\n"
	"            'workload_id', 'cgroup_id', 'pid', 'tgid', 'ppid', 'uid', 'generation',\n"
	"            'access', 'signal_generation')]\n"
	"    texts = [d[k].hex() for k in ('comm', 'workload', 'principal', 'labels', 'policy',\n"
	"             'rule', 'target')]\n"
	"    print('D', *nums, *texts, '-' if d['signals'] is None else d['signals'].hex())\n";

/* The first ```python block of a document of the project, appended to out. */
static void python_block(const char *rel, FILE *out)
{
	const char *self = __FILE__;
	size_t root_len = strlen(self) - strlen("tests/unit/test_journal_source.c");
	char path[512], line[512];
	bool inside = false;
	FILE *in;

	snprintf(path, sizeof(path), "%.*s%s", (int)root_len, self, rel);
	in = fopen(path, "re");
	assert_non_null(in);
	while (fgets(line, sizeof(line), in)) {
		if (!strcmp(line, "```python\n"))
			inside = true;
		else if (inside && !strncmp(line, "```", 3))
			break;
		else if (inside)
			fputs(line, out);
	}
	fclose(in);
	assert_true(inside);
}

/*
 * journal-store.md's reader and journal-format.md's decoder, put together as
 * an independent reader would, decode a journal of every kind of decision
 * (texts inline and by reference across segments, odd bytes, recorded and
 * unrecorded signals, unknown fields, lost strings, malformed payloads)
 * exactly as replay's source does.
 */
static void test_documented_decoder(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jsource_options so = { .prefix = "test" };
	struct jrecord_buf b = { 0 };
	struct jsource_stats st;
	struct journal_record rec;
	struct jstore_options o;
	struct jrecord_dict *d;
	struct jsource *src;
	struct jstore *js;
	char script[256], cmd[1024], *c_out = NULL, *py_out;
	size_t c_len = 0, py_len = 0, py_cap = 1 << 20;
	FILE *f, *p;
	struct pb pb;

	if (system("python3 -c '' 2>/dev/null") != 0)
		skip(); /* no Python here: nothing to run the documented decoder with */
	assert_int_equal(jrecord_dict_new(&d), 0);
	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_level = 1;
	o.compress_inline = true;
	o.seal_every_records = 7;
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t i = 0; i < 120; i++) {
		struct journal_record r = decision(i);
		char signals[32];

		if (i && i % 40 == 0) {
			assert_int_equal(jstore_rotate(js), 0);
			jrecord_dict_reset(d);
		}
		r.reason = (uint8_t)(i % 11);
		r.mode = i % 4 == 1 ? ACTGATE_MODE_AUDIT : ACTGATE_MODE_ENFORCE;
		if (i % 3 == 0)
			r.tgid = r.pid + 7;
		if (r.action == ACTGATE_ACTION_OPEN)
			r.access = (uint8_t)(i % 32 ? i % 32 : 1);
		if (i % 7 == 0) {
			snprintf(signals, sizeof(signals), "risk=low,x=%u", i);
			r.signals = signals;
			r.signal_generation = i;
		} else if (i % 7 == 1) {
			r.signals = ""; /* recorded: none */
		}
		if (i % 11 == 3)
			r.target = "/tmp/\xff\x01\xc3\xa9\x7f\"q\\\xe2\x80\xa8";
		if (i % 13 == 5)
			snprintf(r.comm, sizeof(r.comm), "a-long-comm-%04u", i);
		assert_int_equal(jrecord_encode_dict(&r, d, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
		if (i != 60)
			continue;
		/* Written by hand, in the middle of segment 2 (its strings 1.. defined). */
		pb_head(&pb, 1000); /* unknown fields 30 and 31, a non-minimal pid: accepted */
		pb_uint(&pb, 30, 5);
		pb_text(&pb, 31, "later");
		pb_varint(&pb, 8 << 1);
		pb.b[pb.n++] = 0x85;
		pb.b[pb.n++] = 0x00;
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
		pb_head(&pb, 1001); /* strings never defined: the decision stays, its texts lost */
		pb_uint(&pb, 16, 12345);
		pb_uint(&pb, 17, 60000);
		pb_uint(&pb, 22, 1);
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
		pb.n = 0; /* string 1 defined again, differently: malformed, the first stays */
		pb.b[pb.n++] = 1;
		pb_text(&pb, 15, "\x01\x03zzz");
		pb_uint(&pb, 1, T0 + 1002);
		pb_uint(&pb, 2, 1);
		pb_uint(&pb, 3, 1);
		pb_uint(&pb, 4, 0);
		pb_uint(&pb, 5, 1);
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
		pb_head(&pb, 1003); /* a field twice: malformed */
		pb_uint(&pb, 8, 1);
		pb_uint(&pb, 8, 2);
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
		pb_head(&pb, 1004); /* a pid above 32 bits: malformed */
		pb_uint(&pb, 8, 1ull << 32);
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
		pb.n = 0; /* another payload version: malformed */
		pb.b[pb.n++] = 2;
		assert_int_equal(jstore_append(js, 1, pb.b, pb.n), 0);
	}
	assert_int_equal(jstore_close(js), 0);
	jrecord_buf_free(&b);
	jrecord_dict_free(d);

	/* What replay's source reads, one canonical line per decision. */
	f = open_memstream(&c_out, &c_len);
	assert_non_null(f);
	assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
	while (jsource_next(src, &rec) == 1)
		canonical(f, &rec);
	jsource_stats(src, &st);
	jsource_close(src);
	fclose(f);
	assert_int_equal(st.records, 122);
	assert_int_equal(st.malformed, 4);
	assert_int_equal(st.unresolved, 1);
	/* comm "<lost string 123" (cut to its 16 bytes), workload "<lost string 60000>" */
	assert_non_null(strstr(c_out, " 3c6c6f737420737472696e6720313233 "
				      "3c6c6f737420737472696e672036303030303e "));

	/* What the documents' Python reads. */
	snprintf(script, sizeof(script), "%s/decoder.py", fx->keydir);
	f = fopen(script, "we");
	assert_non_null(f);
	python_block("docs/journal-store.md", f);
	python_block("docs/journal-format.md", f);
	fputs(decoder_driver, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 %s %s %s 2>/dev/null | grep '^D '", script, fx->dir,
		 fx->key);
	p = popen(cmd, "r");
	assert_non_null(p);
	py_out = malloc(py_cap);
	assert_non_null(py_out);
	py_len = fread(py_out, 1, py_cap - 1, p);
	py_out[py_len] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(py_out, c_out);
	free(py_out);
	free(c_out);
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
		cmocka_unit_test_setup_teardown(test_documented_decoder, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal/source", tests, NULL, NULL);
}
