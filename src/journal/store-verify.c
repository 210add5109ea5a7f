/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Verifying the journal store: the reader's events checked for numbering,
 * the SHA-256 chain within and across segments, and with the key every
 * seal's HMAC. The first damage found is reported in full, the rest counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "journal/store-internal.h"

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
	/* The seal rules (docs/journal-store.md, "Seals") */
	unsigned flags;          /* JSTORE_VERIFY_* */
	bool have_seal;
	uint64_t expected_seal;  /* the number the next seal must have */
	bool seg_checked;        /* the segment's records were read: the rules apply */
	uint64_t span;           /* records since the header or the last seal */
	bool closed;             /* the last record read was a seal with SEGMENT_END */
	bool after_close;        /* a record after it was reported */
	uint64_t seg_end_offset; /* after the last intact frame */
	uint64_t seg_records;    /* intact frames in the segment */
	const struct jstore_head *head; /* jstore_verify_against: the seal it names */
	bool head_seen;
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
		if (v->have_seal && h->first_seal != v->expected_seal)
			note(v, JSTORE_DAMAGE_SEAL_MISSING, 104, 0,
			     "the segment's first seal is number %" PRIu64 " where %" PRIu64
			     " was next: seals were %s",
			     h->first_seal, v->expected_seal,
			     h->first_seal > v->expected_seal ? "removed" : "repeated");
		v->expected_seal = h->first_seal;
		v->have_seal = true;
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
	/* A segment skipped for its version, or cut short in its header, is damage enough. */
	v->seg_checked = !r->skipped && r->hdr_raw_len == r->hdr_len;
	v->span = 0;
	v->closed = v->after_close = false;
	v->seg_end_offset = r->hdr_raw_len;
	v->seg_records = 0;
}

/*
 * At the end of a segment: every segment but the newest one read must end
 * with a seal that closes it (the newest too with JSTORE_VERIFY_CLOSED);
 * the records after the newest one's last seal are its unsealed tail.
 */
static void verify_segment_end(struct verifier *v)
{
	bool newest = v->r->last;

	if (!v->seg_checked || v->closed)
		return;
	if (!newest)
		note(v, JSTORE_DAMAGE_SEAL_MISSING, v->seg_end_offset, v->seg_records,
		     "the segment does not end with a seal that closes it (%" PRIu64
		     " records after its last seal): seals were removed, or records added",
		     v->span);
	else if (v->flags & JSTORE_VERIFY_CLOSED)
		note(v, JSTORE_DAMAGE_SEAL_MISSING, v->seg_end_offset, v->seg_records,
		     "the newest segment does not end with a seal that closes it (%" PRIu64
		     " records after its last seal), and the journal was to be closed",
		     v->span);
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
	if (v->have_seal && seal.number != v->expected_seal) {
		if (seal.number > v->expected_seal)
			note(v, JSTORE_DAMAGE_SEAL_MISSING, e->offset, e->index,
			     "seal %" PRIu64 " where %" PRIu64 " was next: seals %" PRIu64
			     "..%" PRIu64 " are missing",
			     seal.number, v->expected_seal, v->expected_seal, seal.number - 1);
		else
			note(v, JSTORE_DAMAGE_SEAL_MISSING, e->offset, e->index,
			     "seal %" PRIu64 " where %" PRIu64
			     " was next: a seal is repeated or out of order",
			     seal.number, v->expected_seal);
	}
	if (v->head && seal.number == v->head->seal) {
		v->head_seen = true;
		if (seal.sealed_seq != v->head->sealed_seq || !v->r->hdr_ok ||
		    v->r->hdr.seq != v->head->segment || memcmp(seal.chain, v->head->chain, 32))
			note(v, JSTORE_DAMAGE_BEHIND_HEAD, e->offset, e->index,
			     "seal %" PRIu64 " is not the one kept outside the journal (that one "
			     "covers records to %" PRIu64 " in segment %" PRIu64
			     " with another chain value): the journal was rewritten since",
			     seal.number, v->head->sealed_seq, v->head->segment);
	}
	v->expected_seal = seal.number + 1;
	v->have_seal = true;
	v->res->last_seal = seal.number;
	if (seal.flags & JSTORE_SEAL_SEGMENT_END)
		v->closed = true;
	if (seal.sealed_seq + 1 != e->seq)
		note(v, JSTORE_DAMAGE_SEAL, e->offset, e->index,
		     "seal %" PRIu64 " says it covers up to record %" PRIu64, e->seq,
		     seal.sealed_seq);
	hash_flush(v);
	if (jstore_digest_copy_final(v->scratch, v->ctx, head) == 0 && memcmp(head, seal.chain, 32))
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
	if (jstore_hmac_of(v->key, payload, SEAL_MAC_INPUT, mac) == 0 &&
	    CRYPTO_memcmp(mac, seal.hmac, 32))
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
	if (v->closed && !v->after_close) {
		v->after_close = true;
		note(v, JSTORE_DAMAGE_SEAL_MISSING, e->offset, e->index,
		     "record %" PRIu64 " follows the seal that closed its segment: it was added "
		     "after the segment was closed",
		     e->seq);
	}
	v->seg_records++;
	v->seg_end_offset = e->offset + e->frame_len;
	if (e->type == JSTORE_TYPE_SEAL) {
		v->span = 0;
	} else if (++v->span == (uint64_t)JSTORE_SEAL_MAX_RECORDS + 1 && v->seg_checked) {
		note(v, JSTORE_DAMAGE_SEAL_MISSING, e->offset, e->index,
		     "more than %u records without a seal (the format seals at least every %u): "
		     "seals were removed",
		     JSTORE_SEAL_MAX_RECORDS, JSTORE_SEAL_MAX_RECORDS);
	}
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
	return jstore_verify_against(paths, n_paths, key, flags, NULL, res);
}

int jstore_verify_against(const char *const *paths, size_t n_paths, const struct jstore_key *key,
			  unsigned flags, const struct jstore_head *head,
			  struct jstore_verify_result *res)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct verifier v = { .res = res, .key = key, .flags = flags, .head = head };
	struct event *e;
	int err;

	memset(res, 0, sizeof(*res));
	res->key_checked = key != NULL;
	err = jstore_reader_open(&v.r, paths, n_paths, &ro);
	if (err)
		return err;
	v.md = jstore_sha256_md();
	v.ctx = EVP_MD_CTX_new();
	v.scratch = EVP_MD_CTX_new();
	v.hbuf = malloc(HBUF_SIZE);
	if (!v.md || !v.ctx || !v.scratch || !v.hbuf || (key && jstore_key_id_of(key, v.key_id))) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		err = jstore_next_event(v.r, &e);
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
			verify_segment_end(&v);
			if (v.seg_open) {
				hash_flush(&v);
				jstore_digest_copy_final(v.scratch, v.ctx, v.prev_chain);
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
	if (head && !v.head_seen) {
		/* Reported where it is missing: after the last record read. */
		if (!res->damages) {
			res->damage = JSTORE_DAMAGE_BEHIND_HEAD;
			snprintf(res->segment, sizeof(res->segment), "%s", v.r->path ? v.r->path : "");
			res->segment_seq = v.prev_seq;
			res->offset = v.seg_end_offset;
			res->record_index = v.seg_records;
			res->record_seq = v.expected_seq;
			snprintf(res->message, sizeof(res->message),
				 "the journal ends before seal %" PRIu64 " (records to %" PRIu64
				 ", segment %" PRIu64 ") that its writer kept outside it: "
				 "records or segments were removed",
				 head->seal, head->sealed_seq, head->segment);
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
