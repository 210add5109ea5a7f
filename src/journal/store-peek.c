/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A segment's header and first caller record, read from its first bytes
 * only (store.h, jstore_peek): what a reader needs to decide whether to read
 * the rest. A compressed segment is inflated only as far as those bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

#include "journal/store-internal.h"

/* The first bytes of the segment file at path, uncompressed: how many, or -errno. */
static ssize_t read_prefix(const char *path, uint8_t *out, size_t want)
{
	uint8_t in[16384];
	size_t got = 0;
	bool gz = false, live = false;
	z_stream z = { 0 };
	ssize_t n, ret = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		do
			n = read(fd, in, sizeof(in));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (!got && !live && n >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
			gz = true;
			if (inflateInit2(&z, 15 + 32) != Z_OK) {
				ret = -ENOMEM;
				goto out;
			}
			live = true;
		}
		if (!gz) {
			size_t take = (size_t)n < want - got ? (size_t)n : want - got;

			memcpy(out + got, in, take);
			got += take;
		} else {
			int zr;

			z.next_in = in;
			z.avail_in = (uInt)n;
			z.next_out = out + got;
			z.avail_out = (uInt)(want - got);
			zr = inflate(&z, Z_NO_FLUSH);
			got = want - z.avail_out;
			/* Damage past what was inflated is the full reader's to report. */
			if (zr != Z_OK && zr != Z_BUF_ERROR)
				break;
		}
		if (got == want)
			break;
	}
	ret = (ssize_t)got;
out:
	if (live)
		inflateEnd(&z);
	close(fd);
	return ret;
}

/*
 * Parse the prefix: the header, then frames to the first caller record.
 * 0; 1 when a frame runs past the prefix and *more bytes would hold it;
 * -errno.
 */
static int parse(const uint8_t *buf, size_t got, bool whole, struct jstore_peek *out, size_t *more)
{
	size_t at, hlen = jstore_header_len(buf, got);
	struct seg_header h;

	if (got < hlen || !jstore_header_intact(buf, hlen))
		return -EBADMSG;
	jstore_header_decode(buf, hlen, &h);
	if (h.flags || !((h.version == 3 && h.size == JSTORE_HEADER_SIZE) ||
			 (h.version == 2 && h.size == JSTORE_HEADER_SIZE_V2)))
		return -EBADMSG;
	out->segment_seq = h.seq;
	out->first_record_seq = h.first_record_seq;
	/* Intact frames in a row from the header, the store's own skipped: the first caller's. */
	for (at = hlen; at + JSTORE_FRAME_OVERHEAD <= got;) {
		const uint8_t *f = buf + at;
		uint32_t len = get_u32(f + 4);
		uint16_t type = get_u16(f + 8);
		size_t flen = JSTORE_FRAME_OVERHEAD + (size_t)len;

		if (memcmp(f, jstore_frame_marker, 4) || len > JSTORE_MAX_PAYLOAD || !type ||
		    get_u16(f + 10))
			break;
		if (flen > got - at) {
			if (!whole && at + flen <= JSTORE_PEEK_BYTES) {
				*more = at + flen;
				return 1;
			}
			break;
		}
		if (get_u32(f + flen - 4) != jstore_crc_of(f, flen - 4))
			break;
		if (type <= JSTORE_TYPE_USER_MAX) {
			out->type = type;
			out->seq = get_u64(f + 12);
			out->len = len;
			out->payload = malloc(len ? len : 1);
			if (!out->payload)
				return -ENOMEM;
			memcpy(out->payload, f + 20, len);
			break;
		}
		at += flen;
	}
	return 0;
}

int jstore_peek(const char *path, struct jstore_peek *out)
{
	/* A summary is a few hundred bytes, mostly: start small, read on only for a long one. */
	size_t want = 8192, more = 0;
	uint8_t *buf = NULL;
	int err;

	*out = (struct jstore_peek){ 0 };
	for (;;) {
		ssize_t got;

		free(buf);
		buf = malloc(want);
		if (!buf)
			return -ENOMEM;
		got = read_prefix(path, buf, want);
		if (got < 0) {
			err = (int)got;
			break;
		}
		err = parse(buf, (size_t)got, (size_t)got < want, out, &more);
		if (err != 1)
			break;
		want = more;
	}
	free(buf);
	if (err < 0) {
		free(out->payload);
		*out = (struct jstore_peek){ 0 };
	}
	return err;
}
