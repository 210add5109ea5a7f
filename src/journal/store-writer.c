/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Writing the journal store: frames queued in memory and written all or
 * nothing, the running chain, seals, the fsync policy, rotation, retention,
 * and the accounting of records a full disk costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "journal/store-internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/version.h"

/* ---- writer ---- */

uint64_t jstore_now(const struct jstore *js, clockid_t which)
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
int jstore_write_or_cut(const struct jstore_options *o, int fd, const uint8_t *p, size_t n,
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

int jstore_fsync_dir(struct jstore *js)
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
	int err = reserve(js, JSTORE_FRAME_OVERHEAD + len);

	if (err)
		return err;
	jstore_frame_encode(js->buf + js->len, type, js->w.next_seq++, payload, (uint32_t)len);
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
	struct jstore_seal seal = {
		.time_ns = jstore_now(js, CLOCK_REALTIME),
		.sealed_seq = js->w.next_seq - 1,
		.number = js->w.next_seal,
		.flags = flags,
	};
	uint8_t p[SEAL_SIZE];
	int err;

	chain_catch_up(js);
	memcpy(seal.key_id, js->key_id, 8);
	err = jstore_digest_copy_final(js->scratch, js->chain, seal.chain);
	if (!err)
		err = jstore_encode_seal(&js->key, &seal, p);
	if (!err)
		err = queue_frame(js, JSTORE_TYPE_SEAL, p, sizeof(p));
	if (err)
		return err;
	js->queued_head = (struct jstore_head){ .seal = seal.number, .sealed_seq = seal.sealed_seq,
						.segment = js->seg_seq };
	memcpy(js->queued_head.chain, seal.chain, JSTORE_HASH_SIZE);
	js->buf_seals++;
	js->w.next_seal++;
	js->w.since_seal = 0;
	js->w.first_unsealed = 0;
	return 0;
}

/*
 * Queue a record that is not a seal. The format allows at most
 * seal_every_records (<= JSTORE_SEAL_MAX_RECORDS) of them after a seal, the
 * store's own records included: when the span is full, a seal goes first.
 */
static int queue_record(struct jstore *js, uint16_t type, const void *payload, size_t len,
			uint64_t now)
{
	int err = 0;

	if (js->w.since_seal >= js->o.seal_every_records)
		err = queue_seal(js, 0);
	if (!err)
		err = queue_frame(js, type, payload, len);
	if (err)
		return err;
	if (!js->w.since_seal++)
		js->w.first_unsealed = now;
	return 0;
}

static int queue_gap(struct jstore *js)
{
	uint8_t p[GAP_SIZE];
	int err;

	memset(p, 0, sizeof(p));
	put_u64(p, jstore_now(js, CLOCK_REALTIME));
	put_u64(p + 8, js->st.lost_unreported);
	put_u64(p + 16, js->first_lost_ns);
	put_u64(p + 24, js->last_lost_ns);
	put_u32(p + 32, (uint32_t)-js->first_lost_err);
	err = queue_record(js, JSTORE_TYPE_GAP, p, sizeof(p), jstore_now(js, CLOCK_MONOTONIC));
	if (!err)
		js->buf_gap = js->st.lost_unreported;
	return err;
}

static void lose(struct jstore *js, uint64_t n, int err)
{
	uint64_t now = jstore_now(js, CLOCK_REALTIME);

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

void jstore_segment_path(const struct jstore *js, char *buf, size_t size, uint64_t seq,
			 const char *suffix)
{
	char name[SEG_NAME_MAX];

	jstore_seg_name(name, sizeof(name), seq, suffix);
	snprintf(buf, size, "%s/%s", js->dir, name);
}

static void write_failed(struct jstore *js, int err, const char *what)
{
	char path[PATH_MAX];

	js->st.last_error = err;
	if (js->failing)
		return;
	js->failing = true;
	jstore_segment_path(js, path, sizeof(path), js->seg_seq, SEG_SUFFIX);
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
	err = jstore_write_or_cut(&js->o, js->fd, js->buf, js->len, js->seg_bytes);
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
	if (js->buf_seals)
		js->written_head = js->queued_head;
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
	js->synced_head = js->written_head;
	js->unsynced = 0;
	js->dirty_since = 0;
	return 0;
}

/* Write what is queued; fdatasync when forced or due. */
int jstore_flush_internal(struct jstore *js, bool force_sync)
{
	int err;

	if (js->fd < 0)
		return 0;
	err = commit(js);
	if (!err && (force_sync || sync_due(js, jstore_now(js, CLOCK_MONOTONIC))))
		err = sync_active(js);
	return err;
}

/* Compression results (and so retention) are taken only here, between appends. */
static void maybe_reap(struct jstore *js)
{
	if (__atomic_load_n(&js->done_flag, __ATOMIC_ACQUIRE))
		jstore_reap(js);
}

int jstore_push_seg(struct jstore *js, const struct seginfo *s)
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

struct seginfo *jstore_find_seg(struct jstore *js, uint64_t seq)
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
	put_u64(p, jstore_now(js, CLOCK_REALTIME));
	put_u64(p + 8, js->open_info.previous_segment);
	put_u64(p + 16, js->open_info.cut_bytes);
	put_u64(p + 24, js->open_info.damaged_bytes);
	put_u32(p + 32, js->open_info.unclean ? JSTORE_OPEN_UNCLEAN : 0);
	err = queue_record(js, JSTORE_TYPE_OPEN, p, sizeof(p), jstore_now(js, CLOCK_MONOTONIC));
	if (!err) {
		js->open_pending = false;
		js->buf_open = true;
	}
	return err;
}

/*
 * Start segment seg_seq + 1, its header continuing the chain from prev_chain
 * (after closing the segment a crashed writer left open, if recovery found one).
 */
int jstore_open_next_segment(struct jstore *js)
{
	struct seg_header h = { .version = JSTORE_FORMAT_VERSION, .size = JSTORE_HEADER_SIZE };
	struct seginfo si = { 0 };
	uint8_t raw[JSTORE_HEADER_SIZE];
	char name[SEG_NAME_MAX];
	int fd, err;

	if (js->unclosed) {
		err = jstore_seal_unclosed(js);
		if (err)
			goto fail;
	}
	memcpy(h.host_id, js->o.host_id, 16);
	memcpy(h.boot_id, js->o.boot_id, 16);
	h.first_time_ns = jstore_now(js, CLOCK_REALTIME);
	h.seq = js->seg_seq + 1;
	h.first_record_seq = js->w.next_seq;
	h.first_seal = js->w.next_seal;
	snprintf(h.writer, sizeof(h.writer), "%s", actgate_version());
	memcpy(h.prev_chain, js->prev_chain, 32);
	jstore_header_encode(&h, raw);
	jstore_seg_name(name, sizeof(name), h.seq, SEG_SUFFIX);
	fd = openat(js->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	err = jstore_write_or_cut(&js->o, fd, raw, sizeof(raw), 0);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (!err)
		err = jstore_fsync_dir(js);
	if (err) {
		close(fd);
		unlinkat(js->dirfd, name, 0);
		goto fail;
	}
	si.seq = h.seq;
	si.first_time_ns = h.first_time_ns;
	si.bytes = sizeof(raw);
	si.state = SEG_ACTIVE;
	err = jstore_push_seg(js, &si);
	if (err) {
		close(fd);
		unlinkat(js->dirfd, name, 0);
		return err;
	}
	js->fd = fd;
	js->seg_seq = h.seq;
	js->seg_bytes = sizeof(raw);
	js->seg_user = 0;
	js->seg_opened = jstore_now(js, CLOCK_MONOTONIC);
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

/* Seal and close the active segment; the next one is started by jstore_open_next_segment. */
int jstore_close_segment(struct jstore *js, uint32_t seal_flags)
{
	struct seginfo *s;
	int err;

	err = queue_seal(js, JSTORE_SEAL_SEGMENT_END | seal_flags);
	if (!err)
		err = jstore_flush_internal(js, true);
	if (err)
		return err;
	err = jstore_digest_copy_final(js->scratch, js->chain, js->prev_chain);
	if (err)
		return err;
	close(js->fd);
	js->fd = -1;
	js->st.segment_seq = 0;
	s = jstore_find_seg(js, js->seg_seq);
	if (s) {
		s->state = SEG_PLAIN;
		s->bytes = js->seg_bytes;
	}
	return 0;
}

static int rotate_internal(struct jstore *js)
{
	int err = jstore_close_segment(js, 0);

	if (err)
		return err;
	err = jstore_open_next_segment(js);
	jstore_schedule_compression(js);
	if (!err)
		jstore_retention(js);
	return err;
}

/*
 * Remove the oldest closed segments while the total is too large or they are
 * too old. A RETIRE record naming the first segment kept is written (and
 * synced) first, so that verify can tell retention from deletion.
 */
void jstore_retention(struct jstore *js)
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
	now = jstore_now(js, CLOCK_REALTIME);
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
	err = queue_record(js, JSTORE_TYPE_RETIRE, p, sizeof(p), jstore_now(js, CLOCK_MONOTONIC));
	if (!err)
		err = jstore_flush_internal(js, true);
	if (err)
		return; /* tried again later */
	for (size_t i = 0; i < k; i++) {
		const struct seginfo *s = &js->segs[i];
		char name[SEG_NAME_MAX];

		jstore_seg_name(name, sizeof(name), s->seq,
				s->state == SEG_GZ ? GZ_SUFFIX : SEG_SUFFIX);
		if (unlinkat(js->dirfd, name, 0) < 0 && errno != ENOENT)
			log_warn(MODULE, "%s/%s: cannot remove: %s", js->dir, name,
				 strerror(errno));
	}
	jstore_fsync_dir(js);
	memmove(js->segs, js->segs + k, (js->n_segs - k) * sizeof(*js->segs));
	js->n_segs -= k;
	js->st.segments_removed += k;
	js->st.bytes_removed += removed_bytes;
}

static bool rotation_due(const struct jstore *js, uint64_t now, size_t next_frame)
{
	uint64_t size = js->seg_bytes + js->len;

	if (js->seg_user + js->buf_user == 0)
		return false; /* never a segment without caller records: no endless rotation */
	if (next_frame && js->w.since_seal >= js->o.seal_every_records)
		next_frame += JSTORE_FRAME_OVERHEAD + SEAL_SIZE; /* queue_record seals first */
	if (size + next_frame + JSTORE_FRAME_OVERHEAD + SEAL_SIZE > js->o.segment_max_bytes)
		return true;
	return js->o.segment_max_age_ms &&
	       now - js->seg_opened >= js->o.segment_max_age_ms * 1000000ull;
}

static bool seal_due(const struct jstore *js, uint64_t now)
{
	if (!js->w.since_seal)
		return false;
	if (js->w.since_seal >= js->o.seal_every_records)
		return true;
	return now - js->w.first_unsealed >= (uint64_t)js->o.seal_every_ms * 1000000ull;
}

int jstore_append(struct jstore *js, uint16_t type, const void *payload, size_t len)
{
	uint64_t now;
	int err = 0;

	if (type == 0 || type > JSTORE_TYPE_USER_MAX || len > JSTORE_MAX_PAYLOAD ||
	    (len && !payload))
		return -EINVAL;
	now = jstore_now(js, CLOCK_MONOTONIC);
	if (js->fd >= 0 && rotation_due(js, now, JSTORE_FRAME_OVERHEAD + len))
		err = rotate_internal(js);
	if (js->fd < 0 && !err)
		err = jstore_open_next_segment(js);
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
		err = queue_record(js, type, payload, len, now);
	if (err) {
		lose(js, 1, err);
		return err;
	}
	js->buf_user++;
	if (!js->dirty_since)
		js->dirty_since = now;
	if (seal_due(js, now))
		err = queue_seal(js, 0);
	if (!err && (js->len >= js->o.buffer_bytes || sync_due(js, now)))
		err = jstore_flush_internal(js, false);
	maybe_reap(js);
	return err;
}

int jstore_flush(struct jstore *js)
{
	int err = jstore_flush_internal(js, false);

	maybe_reap(js);
	return err;
}

int jstore_sync(struct jstore *js)
{
	int err = jstore_flush_internal(js, true);

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
		err = jstore_flush_internal(js, false);
	return err;
}

int jstore_rotate(struct jstore *js)
{
	int err;

	if (js->fd < 0)
		err = jstore_open_next_segment(js);
	else
		err = rotate_internal(js);
	maybe_reap(js);
	return err;
}

int jstore_tick(struct jstore *js)
{
	uint64_t now = jstore_now(js, CLOCK_MONOTONIC);
	int err = 0;

	if (js->fd >= 0 && rotation_due(js, now, 0))
		err = rotate_internal(js);
	if (!err && js->fd >= 0 && seal_due(js, now))
		err = queue_seal(js, 0);
	if (!err && js->fd >= 0 && (js->len || sync_due(js, now)))
		err = jstore_flush_internal(js, false);
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
