/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading the journal store: segment files (plain or gzip) turned into a
 * stream of events (a segment starts, an intact record, damage skipped, a
 * segment ends) that jstore_read, jstore_verify and recovery consume. The
 * reader resynchronises on the next frame marker after damage, so every
 * intact record is still returned.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "journal/store-internal.h"

/* ---- reader ---- */

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
	if (memcmp(f, jstore_frame_marker, 4)) {
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
	if (crc != jstore_crc_of(f, *flen - 4)) {
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
	int64_t avail = ensure(r, JSTORE_HEADER_MAX);
	const uint8_t *h;
	size_t len;

	if (avail < 0)
		return (int)avail;
	/* Version 3's header is longer than version 2's: its first bytes say which. */
	len = jstore_header_len(r->buf + r->start, (size_t)avail);
	r->hdr_len = len;
	r->hdr_raw_len = (size_t)avail < len ? (size_t)avail : len;
	memcpy(r->hdr_raw, r->buf + r->start, r->hdr_raw_len);
	memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr_ok = false;
	r->skipped = false;
	r->stats.segments++;
	push_event(r, EV_SEGMENT);
	if (r->hdr_raw_len < len) {
		enum jstore_damage kind = r->gz && r->z_why[0] ? JSTORE_DAMAGE_COMPRESSION
					  : r->last && !r->gz  ? JSTORE_DAMAGE_TORN_TAIL
							       : JSTORE_DAMAGE_HEADER;

		push_damage(r, kind, 0, r->hdr_raw_len,
			    "the segment header is cut short: %zu of %zu bytes%s%s", r->hdr_raw_len,
			    len, r->z_why[0] ? "; " : "", r->z_why);
		r->z_reported = r->z_why[0] != '\0';
		r->start = r->end;
		r->state = RS_SEG_END;
		return 0;
	}
	h = r->hdr_raw;
	jstore_header_decode(h, len, &r->hdr);
	r->start += len;
	r->state = RS_FRAMES;
	if (memcmp(h, jstore_header_magic, 8)) {
		push_damage(r, JSTORE_DAMAGE_HEADER, 0, len,
			    "not a journal segment header (bad magic); reading records anyway");
	} else if (!jstore_header_intact(h, len)) {
		push_damage(r, JSTORE_DAMAGE_HEADER, 0, len,
			    "segment header CRC mismatch; reading records anyway");
	} else if (!((r->hdr.version == 3 && r->hdr.size == JSTORE_HEADER_SIZE) ||
		     (r->hdr.version == 2 && r->hdr.size == JSTORE_HEADER_SIZE_V2))) {
		/*
		 * An intact header of another version: its records may be framed
		 * or sealed differently (version 1's seals were optional), so none
		 * is read rather than misread. Versions 2 and 3 differ only in
		 * the header (3 holds the writer's version): both are read.
		 */
		push_damage(
			r, JSTORE_DAMAGE_HEADER, 0, len,
			"segment format version %u (header size %u): this actgate reads versions 2 "
			"and %d; its records are skipped",
			r->hdr.version, r->hdr.size, JSTORE_FORMAT_VERSION);
		r->skipped = true;
		r->state = RS_SKIP;
	} else if (r->hdr.flags) {
		/* No flag is defined: one set is a later writer's feature, unknown here. */
		push_damage(r, JSTORE_DAMAGE_HEADER, 0, len,
			    "segment header flags %#x: unknown to this actgate; its records are "
			    "skipped",
			    r->hdr.flags);
		r->skipped = true;
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
			m = memmem(r->buf + r->start + from, r->end - r->start - from,
				   jstore_frame_marker, sizeof(jstore_frame_marker));
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
int jstore_next_event(struct jstore_reader *r, struct event **out)
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

		if (!jstore_parse_seg_name(de->d_name, &suffix))
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

/* Is path "X.seg" with an "X.seg.gz" beside it? */
static bool has_gz(const char *path)
{
	size_t len = strlen(path);
	struct stat st;
	char *gz;
	bool there;

	if (len <= strlen(SEG_SUFFIX) || strcmp(path + len - strlen(SEG_SUFFIX), SEG_SUFFIX))
		return false;
	if (asprintf(&gz, "%s.gz", path) < 0)
		return false;
	there = stat(gz, &st) == 0;
	free(gz);
	return there;
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
			/*
			 * A plain segment compressed (and removed) since whoever named it
			 * listed it: read from its .gz, as open_source does.
			 */
			if (err == -ENOENT && has_gz(paths[i]))
				err = add_file(r, &cap, strdup(paths[i]));
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
		int err = jstore_next_event(r, &e);

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
			rec->segment_writer = r->hdr_ok ? r->hdr.writer : "";
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
