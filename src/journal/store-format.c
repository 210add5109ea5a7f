/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The bytes of the journal store (docs/journal-store.md): little-endian
 * fields, CRC-32C, the names of damage kinds and segment files, hashing, the
 * payloads of the store's own records and the segment header.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "journal/store-internal.h"

const uint8_t jstore_header_magic[8] = { 'A', 'C', 'T', 'G', 'J', 'R', 'N', 'L' };
/* Starts every frame; readers look for it to resynchronise after damage. */
const uint8_t jstore_frame_marker[4] = { 0xa7, 'J', 'R', 0xc5 };

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

uint32_t jstore_crc_of(const uint8_t *p, size_t n)
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
	[JSTORE_DAMAGE_SEAL_MISSING] = "seal-missing",
	[JSTORE_DAMAGE_BEHIND_HEAD] = "behind-head",
};

const char *jstore_damage_name(enum jstore_damage d)
{
	if ((size_t)d < sizeof(damage_names) / sizeof(damage_names[0]) && damage_names[d])
		return damage_names[d];
	return "?";
}

void jstore_seg_name(char *buf, size_t size, uint64_t seq, const char *suffix)
{
	snprintf(buf, size, SEG_PREFIX "%016" PRIx64 "%s", seq, suffix);
}

/* The sequence number in a segment file name, or 0 when it is not one (suffix says which). */
uint64_t jstore_parse_seg_name(const char *name, const char **suffix)
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

EVP_MD *jstore_sha256_md(void)
{
	return EVP_MD_fetch(NULL, "SHA256", NULL);
}

int jstore_digest_copy_final(EVP_MD_CTX *scratch, const EVP_MD_CTX *from, uint8_t out[32])
{
	unsigned int n = 0;

	if (!EVP_MD_CTX_copy_ex(scratch, from) || !EVP_DigestFinal_ex(scratch, out, &n) || n != 32)
		return -EIO;
	return 0;
}

int jstore_hmac_of(const struct jstore_key *key, const uint8_t *data, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, data, n, out, &len) || len != 32)
		return -EIO;
	return 0;
}

/* A key's public name: the first 8 bytes of HMAC-SHA256(key, "actgate-jstore-key-id"). */
int jstore_key_id_of(const struct jstore_key *key, uint8_t id[8])
{
	static const char label[] = "actgate-jstore-key-id";
	uint8_t mac[32];
	int err = jstore_hmac_of(key, (const uint8_t *)label, sizeof(label) - 1, mac);

	if (!err)
		memcpy(id, mac, 8);
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
	out->number = get_u64(p + 16);
	out->flags = get_u32(p + 24);
	memcpy(out->key_id, p + 32, 8);
	memcpy(out->chain, p + 40, 32);
	memcpy(out->hmac, p + 72, 32);
	return 0;
}

int jstore_encode_seal(const struct jstore_key *key, struct jstore_seal *s,
		       uint8_t out[SEAL_SIZE])
{
	int err;

	memset(out, 0, SEAL_SIZE);
	put_u64(out, s->time_ns);
	put_u64(out + 8, s->sealed_seq);
	put_u64(out + 16, s->number);
	put_u32(out + 24, s->flags);
	/* 28..31: zero */
	memcpy(out + 32, s->key_id, 8);
	memcpy(out + 40, s->chain, 32);
	err = jstore_hmac_of(key, out, SEAL_MAC_INPUT, out + SEAL_MAC_INPUT);
	if (!err)
		memcpy(s->hmac, out + SEAL_MAC_INPUT, 32);
	return err;
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

/* ---- frames ---- */

void jstore_frame_encode(uint8_t *f, uint16_t type, uint64_t seq, const void *payload,
			 uint32_t len)
{
	memcpy(f, jstore_frame_marker, 4);
	put_u32(f + 4, len);
	put_u16(f + 8, type);
	put_u16(f + 10, 0);
	put_u64(f + 12, seq);
	if (len)
		memcpy(f + 20, payload, len);
	put_u32(f + 20 + len, jstore_crc_of(f, 20 + (size_t)len));
}

/* ---- segment header ---- */

void jstore_header_encode(const struct seg_header *h, uint8_t out[JSTORE_HEADER_SIZE])
{
	size_t wlen = strnlen(h->writer, JSTORE_WRITER_SIZE - 1);

	memset(out, 0, JSTORE_HEADER_SIZE);
	memcpy(out, jstore_header_magic, 8);
	put_u16(out + 8, h->version);
	put_u16(out + 10, h->size);
	put_u32(out + 12, h->flags);
	memcpy(out + 16, h->host_id, 16);
	memcpy(out + 32, h->boot_id, 16);
	put_u64(out + 48, h->first_time_ns);
	put_u64(out + 56, h->seq);
	put_u64(out + 64, h->first_record_seq);
	memcpy(out + 72, h->prev_chain, 32);
	put_u64(out + 104, h->first_seal);
	memcpy(out + 112, h->writer, wlen); /* 112..175, NUL-padded; 176..187: zero */
	put_u32(out + JSTORE_HEADER_SIZE - 4, jstore_crc_of(out, JSTORE_HEADER_SIZE - 4));
}

size_t jstore_header_len(const uint8_t *in, size_t avail)
{
	if (avail >= 12 && !memcmp(in, jstore_header_magic, 8) && get_u16(in + 8) == 3 &&
	    get_u16(in + 10) == JSTORE_HEADER_SIZE)
		return JSTORE_HEADER_SIZE;
	return JSTORE_HEADER_SIZE_V2;
}

bool jstore_header_intact(const uint8_t *in, size_t len)
{
	return !memcmp(in, jstore_header_magic, 8) && get_u32(in + len - 4) == jstore_crc_of(in, len - 4);
}

void jstore_header_decode(const uint8_t *in, size_t len, struct seg_header *h)
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
	h->first_seal = get_u64(in + 104);
	memset(h->writer, 0, sizeof(h->writer));
	if (len == JSTORE_HEADER_SIZE) {
		/* printable ASCII up to the first NUL; anything else ends it (a reader prints it) */
		for (size_t i = 0; i < JSTORE_WRITER_SIZE - 1 && in[112 + i] >= 0x21 && in[112 + i] <= 0x7e; i++)
			h->writer[i] = (char)in[112 + i];
	}
}
