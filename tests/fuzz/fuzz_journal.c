/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the journal's readers. A journal file is outside
 * input: a responder replays and verifies segments copied from a host that
 * may have been compromised.
 *
 *   make build/fuzz/fuzz_journal
 *   build/fuzz/fuzz_journal -max_total_time=60 CORPUS_DIR tests/fuzz/seeds/journal
 *
 * The first input byte picks what the rest is:
 *   0: a segment file as it lies on disk, read as replay reads it (jsource:
 *      the store's framing, then each decision through the segment's string
 *      table) and checked by verify with a key;
 *   1: the same bytes, gzip-compressed first, so that the decompressing
 *      reader sees content that inflates;
 *   2: decision payloads, each a length byte then that many bytes, framed
 *      into an intact segment with the store's own framing (store-internal.h:
 *      header and CRCs right): what someone who recomputes CRCs can write;
 *      read as in 0;
 *   3: one decision payload, decoded alone;
 *   4: one segment summary payload (journal/summary.h), decoded alone.
 *
 * Properties checked beyond "no crash":
 * - every decision returned has its texts (signals aside) and names for its
 *   action, verdict and mode; reading never fails on a readable file;
 * - of intact frames, each decision is returned or counted as malformed;
 * - verify gives intact or damaged (with a kind that has a name), never an error;
 *   so does the check of segment summaries; peeking a segment never fails
 *   on a readable file but by a damaged header;
 * - an accepted summary encodes again to a summary that decodes and
 *   compares equal, and encodes to the same bytes again; an empty one
 *   matches no filter;
 * - an accepted payload encodes again (inline, and through a fresh string
 *   table) and decodes to the same record; the writer's bytes are canonical;
 *   jrecord_peek and jrecord_peek_text agree with the decoder.
 *
 * Seeds (tests/fuzz/seeds/journal/): a segment the daemon's sink wrote
 * (format version 2, its seal made with the key below, so that mutations
 * reach the HMAC check), in modes 0 and 1 and torn in its seal, its decision
 * payloads in mode 2, and one in mode 3.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "journal/decision.h"
#include "journal/query.h"
#include "journal/record.h"
#include "journal/source.h"
#include "journal/store-internal.h"
#include "journal/store.h"
#include "journal/summary.h"
#include "fuzz_check.h"

/* ---- what a decision must look like, and when two are the same ---- */

static bool text_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_equal(const struct journal_record *a, const struct journal_record *b)
{
	CHECK(a->time_ns == b->time_ns);
	CHECK(a->action == b->action && a->verdict == b->verdict);
	CHECK(a->mode == b->mode && a->reason == b->reason);
	CHECK(a->workload_id == b->workload_id && a->cgroup_id == b->cgroup_id);
	CHECK(a->pid == b->pid && a->tgid == b->tgid && a->ppid == b->ppid);
	CHECK(a->uid == b->uid && a->generation == b->generation && a->access == b->access);
	CHECK(a->signal_generation == b->signal_generation);
	CHECK(!strcmp(a->comm, b->comm));
	CHECK(text_equal(a->workload, b->workload));
	CHECK(text_equal(a->principal, b->principal));
	CHECK(text_equal(a->labels, b->labels));
	CHECK(text_equal(a->policy, b->policy));
	CHECK(text_equal(a->rule, b->rule));
	CHECK(text_equal(a->target, b->target));
	CHECK(text_equal(a->signals, b->signals));
}

static void check_decision(const struct journal_record *r)
{
	char access[ACCESS_NAMES_SIZE];

	CHECK(strcmp(action_name(r->action), "?") != 0);
	CHECK(strcmp(verdict_name(r->verdict), "?") != 0);
	CHECK(strcmp(mode_name(r->mode), "?") != 0);
	CHECK(access_names(r->access, access, sizeof(access)) == 0);
	CHECK(strnlen(r->comm, sizeof(r->comm)) <= 16);
	CHECK(r->workload && r->principal && r->labels && r->policy && r->rule && r->target);
}

/* ---- a journal file, read as replay and verify read it ---- */

static int memfd_with(const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create("journal-segment", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* Read the file; st says what came back (all zero when it was refused). */
static void read_file(const uint8_t *data, size_t size, struct jsource_stats *st)
{
	static const struct jstore_key key = { .bytes = "fuzz-journal-seal-key-32-bytes!", .len = 32 };
	struct jsource_options so = { .err = NULL, .prefix = "fuzz" };
	struct jstore_verify_result *res = malloc(sizeof(*res));
	struct journal_record rec;
	struct jsource *src;
	uint64_t n = 0;
	char path[64];
	const char *p = path;
	int fd = memfd_with(data, size, path), ret;

	CHECK(res);
	memset(st, 0, sizeof(*st));
	ret = jsource_open(&src, &p, 1, &so);
	/* Refused only when its first bytes are neither a segment's nor gzip's. */
	CHECK(ret == 0 || ret == -EINVAL);
	if (ret == 0) {
		while ((ret = jsource_next(src, &rec)) == 1) {
			check_decision(&rec);
			n++;
		}
		CHECK(ret == 0);
		jsource_stats(src, st);
		CHECK(st->records == n);
		jsource_close(src);
	}
	/* With a key, so that the seals' HMACs are checked too. */
	ret = jstore_verify(&p, 1, &key, 0, res);
	CHECK(ret == 0 || ret == -EBADMSG);
	CHECK((ret == 0) == (res->damages == 0));
	CHECK(ret == 0 || strcmp(jstore_damage_name(res->damage), "?") != 0);
	free(res);
	{
		struct jsummary_verify_result *sr = malloc(sizeof(*sr));
		struct jstore_peek peek;

		CHECK(sr);
		ret = jsummary_verify(&p, 1, sr);
		CHECK(ret == 0 || ret == -EBADMSG);
		CHECK((ret == 0) == (sr->wrong == 0));
		free(sr);
		ret = jstore_peek(path, &peek);
		CHECK(ret == 0 || ret == -EBADMSG);
		free(peek.payload);
	}
	close(fd);
}

static void fuzz_segment(const uint8_t *data, size_t size)
{
	struct jsource_stats st;

	read_file(data, size, &st);
}

static void fuzz_gzip_segment(const uint8_t *data, size_t size)
{
	uLongf gz_cap = compressBound((uLong)size) + 64, gz_len;
	uint8_t *gz = malloc(gz_cap);
	struct jsource_stats st;
	z_stream z = { 0 };

	CHECK(gz);
	/* 15 + 16: a gzip member, as the store writes closed segments. */
	CHECK(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (uint8_t *)data;
	z.avail_in = (uInt)size;
	z.next_out = gz;
	z.avail_out = (uInt)gz_cap;
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	gz_len = gz_cap - z.avail_out;
	deflateEnd(&z);
	read_file(gz, gz_len, &st);
	free(gz);
}

/* ---- decision payloads framed into an intact segment ---- */

static void fuzz_framed_payloads(const uint8_t *data, size_t size)
{
	struct seg_header h = { .version = JSTORE_FORMAT_VERSION, .size = JSTORE_HEADER_SIZE,
				.seq = 1, .first_record_seq = 1 };
	/* Each payload costs at most its framing more than its length byte. */
	size_t cap = JSTORE_HEADER_SIZE + size * (1 + JSTORE_FRAME_OVERHEAD), len, n = 0;
	uint8_t *seg = calloc(1, cap);
	struct jsource_stats st;

	CHECK(seg);
	jstore_header_encode(&h, seg);
	len = JSTORE_HEADER_SIZE;
	while (size) {
		size_t plen = data[0] < size - 1 ? data[0] : size - 1;
		uint8_t *f = seg + len;

		/* Framed as the writer frames a record (store-writer.c), CRC and all. */
		memcpy(f, jstore_frame_marker, 4);
		put_u32(f + 4, (uint32_t)plen);
		put_u16(f + 8, JRECORD_TYPE_DECISION);
		put_u16(f + 10, 0);
		put_u64(f + 12, ++n);
		memcpy(f + 20, data + 1, plen);
		put_u32(f + 20 + plen, jstore_crc_of(f, 20 + plen));
		len += JSTORE_FRAME_OVERHEAD + plen;
		data += 1 + plen;
		size -= 1 + plen;
	}
	read_file(seg, len, &st);
	/* Every frame is intact: each decision comes back or is refused, none is lost. */
	CHECK(st.records + st.malformed == n);
	free(seg);
}

/* ---- one decision payload ---- */

static void fuzz_payload(const uint8_t *data, size_t size)
{
	struct journal_record a = { 0 }, b = { 0 }, c;
	struct jrecord_buf enc = { 0 }, enc2 = { 0 }, arena = { 0 };
	struct jrecord_table *table = NULL;
	struct jrecord_dict *dict = NULL;
	struct jrecord_head h;
	unsigned unresolved = 0;
	char why[160];
	int peeked = jrecord_peek(data, size, &h);

	why[0] = '\0';
	if (jrecord_decode(data, size, &a, why, sizeof(why))) {
		CHECK(why[0] != '\0');
		CHECK(a.workload == NULL && a.target == NULL);
		return;
	}
	check_decision(&a);
	CHECK(!peeked || (h.time_ns == a.time_ns && h.action == a.action && h.verdict == a.verdict));
	/* The prefilter's quick look at the workload agrees with the decoder when it answers. */
	{
		const uint8_t *text;
		uint32_t id;
		size_t n;
		int r;

		CHECK(jrecord_table_new(&table) == 0);
		r = jrecord_peek_text(data, size, table, JF_WORKLOAD, &id, &text, &n);
		CHECK(r < 0 || (id == 0 && n == strlen(a.workload) && !memcmp(text, a.workload, n)));
		jrecord_table_free(table);
		table = NULL;
	}
	/* Encoded again, inline: the same record, and the writer's bytes are canonical. */
	CHECK(jrecord_encode(&a, &enc) == 0);
	CHECK(jrecord_decode(enc.p, enc.len, &b, why, sizeof(why)) == 0);
	check_equal(&a, &b);
	CHECK(jrecord_encode(&b, &enc2) == 0);
	CHECK(enc.len == enc2.len && !memcmp(enc.p, enc2.p, enc.len));
	CHECK(jrecord_peek(enc.p, enc.len, &h) == 1 && h.time_ns == a.time_ns);
	/* Through a string table, as the sink writes: the same record again. */
	CHECK(jrecord_dict_new(&dict) == 0 && jrecord_table_new(&table) == 0);
	CHECK(jrecord_encode_dict(&a, dict, &enc) == 0);
	CHECK(jrecord_decode_table(enc.p, enc.len, table, &c, &arena, &unresolved, why,
				   sizeof(why)) == 0);
	CHECK(unresolved == 0);
	check_equal(&a, &c);
	jrecord_table_free(table);
	jrecord_dict_free(dict);
	jrecord_buf_free(&arena);
	jrecord_buf_free(&enc);
	jrecord_buf_free(&enc2);
	journal_record_clear(&a);
	journal_record_clear(&b);
}

/* ---- one summary payload ---- */

static void fuzz_summary(const uint8_t *data, size_t size)
{
	struct jquery_filter any = JQUERY_FILTER_ANY;
	struct jrecord_buf enc = { 0 }, enc2 = { 0 };
	struct jsummary a, b;
	char why[320];

	why[0] = '\0';
	if (jsummary_decode(data, size, &a, why, sizeof(why))) {
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(jsummary_may_match(&a, &any) == (a.decisions > 0));
	CHECK(jsummary_encode(&a, &enc) == 0);
	CHECK(jsummary_decode(enc.p, enc.len, &b, why, sizeof(why)) == 0);
	CHECK(jsummary_compare(&a, &b, why, sizeof(why)) == 0);
	CHECK(jsummary_encode(&b, &enc2) == 0);
	CHECK(enc.len == enc2.len && !memcmp(enc.p, enc2.p, enc.len));
	jsummary_free(&a);
	jsummary_free(&b);
	jrecord_buf_free(&enc);
	jrecord_buf_free(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_segment(data + 1, size - 1);
		break;
	case 1:
		fuzz_gzip_segment(data + 1, size - 1);
		break;
	case 2:
		fuzz_framed_payloads(data + 1, size - 1);
		break;
	case 3:
		fuzz_payload(data + 1, size - 1);
		break;
	case 4:
		fuzz_summary(data + 1, size - 1);
		break;
	}
	return 0;
}
