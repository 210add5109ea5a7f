/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Opening the journal store: lock the directory, find the segments, tidy
 * what an interrupted compression left, recover the last segment (cut its
 * torn tail, continue its chain), start the compression workers and the next
 * segment; and closing it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "journal/store-internal.h"
#include "util/log.h"

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
	bool hdr_ok, other_version;
	uint64_t records, last_seq;
	uint16_t last_type;
	uint32_t last_seal_flags;
	uint64_t seals, last_seal; /* how many, and the last one's number */
	bool torn;
	uint64_t torn_at, torn_len, damaged;
	EVP_MD_CTX *ctx;  /* the hash of its header and intact frames (the caller frees it) */
	uint8_t chain[32]; /* its value */
};

/*
 * Just the start time from a segment's header, reading only its first bytes
 * (a directory may hold hundreds of segments). 0 when the header is unreadable.
 */
static uint64_t segment_start_time(int dirfd, const char *name, bool gz)
{
	uint8_t in[4096], h[JSTORE_HEADER_MAX];
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
	if (got < JSTORE_HEADER_SIZE_V2 || got < jstore_header_len(h, got) ||
	    !jstore_header_intact(h, jstore_header_len(h, got)))
		return 0;
	return get_u64(h + 48);
}

static int scan_segment(struct jstore *js, const char *path, struct seg_scan *out)
{
	struct jstore_reader_options ro = { .include_internal = true };
	struct jstore_reader *r;
	struct event *e;
	int err, hash_err = 0;

	memset(out, 0, sizeof(*out));
	out->ctx = EVP_MD_CTX_new();
	if (!out->ctx)
		return -ENOMEM;
	err = jstore_reader_open(&r, &path, 1, &ro);
	if (err)
		return err;
	for (;;) {
		struct jstore_seal seal;

		err = jstore_next_event(r, &e);
		if (err || e->kind == EV_END)
			break;
		switch (e->kind) {
		case EV_SEGMENT:
			out->header_whole = r->hdr_raw_len == r->hdr_len;
			out->hdr = r->hdr;
			out->hdr_ok = r->hdr_ok;
			out->other_version = r->skipped;
			EVP_DigestInit_ex(out->ctx, js->md, NULL);
			EVP_DigestUpdate(out->ctx, r->hdr_raw, r->hdr_raw_len);
			break;
		case EV_RECORD:
			out->records++;
			out->last_seq = e->seq;
			out->last_type = e->type;
			out->last_seal_flags = 0;
			if (e->type == JSTORE_TYPE_SEAL &&
			    !jstore_decode_seal(e->frame + 20, e->len, &seal)) {
				out->last_seal_flags = seal.flags;
				out->last_seal = seal.number;
				out->seals++;
			}
			EVP_DigestUpdate(out->ctx, e->frame, e->frame_len);
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
		case EV_SEGMENT_END:
			hash_err = jstore_digest_copy_final(js->scratch, out->ctx, out->chain);
			break;
		default:
			break;
		}
	}
	jstore_reader_close(r);
	return err ? err : hash_err;
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
		seq = jstore_parse_seg_name(de->d_name, &suffix);
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

		jstore_seg_name(plain, sizeof(plain), f[i].seq, SEG_SUFFIX);
		jstore_seg_name(gz, sizeof(gz), f[i].seq, GZ_SUFFIX);
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
		err = jstore_push_seg(js, &si);
		if (err)
			goto out;
	}
	if (tidied)
		jstore_fsync_dir(js);

	/* The last segment: what the new one continues. */
	while (js->n_segs) {
		struct seginfo *last = &js->segs[js->n_segs - 1];
		char path[PATH_MAX];
		struct seg_scan sc;

		jstore_segment_path(js, path, sizeof(path), last->seq,
				    last->state == SEG_GZ ? GZ_SUFFIX : SEG_SUFFIX);
		err = scan_segment(js, path, &sc);
		if (!err && sc.other_version) {
			/* Not continued: its chain and seals follow other rules. */
			log_error(MODULE,
				  "%s: segment format version %u (flags %#x); this actgate writes "
				  "version %d (docs/journal-store.md, \"Versions\"): move the old "
				  "journal aside",
				  path, sc.hdr.version, sc.hdr.flags, JSTORE_FORMAT_VERSION);
			err = -EPROTO;
		}
		if (err) {
			EVP_MD_CTX_free(sc.ctx);
			goto out;
		}
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
			jstore_fsync_dir(js);
			EVP_MD_CTX_free(sc.ctx);
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
		js->w.next_seal = sc.seals   ? sc.last_seal + 1
				  : sc.hdr_ok ? sc.hdr.first_seal
					      : 1;
		if (!js->w.next_seal)
			js->w.next_seal = 1;
		if (sc.last_type == JSTORE_TYPE_SEAL && (sc.last_seal_flags & JSTORE_SEAL_SEGMENT_END)) {
			EVP_MD_CTX_free(sc.ctx);
		} else if (last->state == SEG_PLAIN) {
			/* Its writer crashed: it gets its closing seal before the next segment starts. */
			js->unclosed = sc.ctx;
			js->unclosed_seq = last->seq;
			js->unclosed_bytes = last->bytes;
		} else {
			log_warn(MODULE,
				 "%s: a compressed segment that does not end with a closing seal "
				 "(left for verify to report)",
				 path);
			EVP_MD_CTX_free(sc.ctx);
		}
		break;
	}
	if (!js->n_segs) {
		js->seg_seq = 0;
		js->w.next_seq = 1;
		js->w.next_seal = 1;
		memset(js->prev_chain, 0, 32);
	}
	js->c = js->w;
out:
	free(f);
	return err;
}

/*
 * Close the segment a crashed writer left open: append a seal flagged
 * SEGMENT_END | RECOVERED whose chain value covers its header and intact
 * frames (what verify hashes), so that every segment but the newest ends
 * with a seal. It vouches for what this writer found there, no more: what
 * was changed in that segment after its last seal, before this writer
 * started, is sealed as found (docs/journal-store.md, "Seals").
 */
int jstore_seal_unclosed(struct jstore *js)
{
	struct jstore_seal seal = {
		.time_ns = jstore_now(js, CLOCK_REALTIME),
		.sealed_seq = js->w.next_seq - 1,
		.number = js->w.next_seal,
		.flags = JSTORE_SEAL_SEGMENT_END | JSTORE_SEAL_RECOVERED,
	};
	uint8_t frame[JSTORE_FRAME_OVERHEAD + SEAL_SIZE], payload[SEAL_SIZE];
	char name[SEG_NAME_MAX];
	struct seginfo *si;
	int fd, err;

	memcpy(seal.key_id, js->key_id, 8);
	err = jstore_digest_copy_final(js->scratch, js->unclosed, seal.chain);
	if (!err)
		err = jstore_encode_seal(&js->key, &seal, payload);
	if (err)
		return err;
	jstore_frame_encode(frame, JSTORE_TYPE_SEAL, js->w.next_seq, payload, SEAL_SIZE);
	jstore_seg_name(name, sizeof(name), js->unclosed_seq, SEG_SUFFIX);
	fd = openat(js->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = jstore_write_or_cut(&js->o, fd, frame, sizeof(frame), js->unclosed_bytes);
	/* Written: the state moves on even if the sync fails (a retry would seal twice). */
	if (!err && fdatasync(fd) < 0)
		log_warn(MODULE, "%s/%s: fdatasync: %s", js->dir, name, strerror(errno));
	close(fd);
	if (err)
		return err;
	EVP_DigestUpdate(js->unclosed, frame, sizeof(frame));
	err = jstore_digest_copy_final(js->scratch, js->unclosed, js->prev_chain);
	if (err)
		return err;
	EVP_MD_CTX_free(js->unclosed);
	js->unclosed = NULL;
	js->w.next_seq++;
	js->w.next_seal++;
	js->c = js->w;
	js->st.seals++;
	si = jstore_find_seg(js, js->unclosed_seq);
	if (si)
		si->bytes += sizeof(frame);
	log_info(MODULE, "%s/%s: closed with a seal (its writer stopped without one)", js->dir,
		 name);
	return 0;
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
	EVP_MD_CTX_free(js->unclosed);
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
	js->md = jstore_sha256_md();
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
	/* Seals at a bounded interval are part of the format: never further apart. */
	if (!js->o.seal_every_records || js->o.seal_every_records > JSTORE_SEAL_MAX_RECORDS)
		js->o.seal_every_records = JSTORE_SEAL_MAX_RECORDS;
	if (!js->o.seal_every_ms || js->o.seal_every_ms > JSTORE_SEAL_MAX_MS)
		js->o.seal_every_ms = JSTORE_SEAL_MAX_MS;
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
		err = jstore_key_id_of(&js->key, js->key_id);
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
		       !pthread_create(&js->workers[js->n_workers], NULL, jstore_compress_worker,
				       js))
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
	err = jstore_open_next_segment(js);
	if (!err)
		err = jstore_flush_internal(js, true);
	if (err && !disk_error(err))
		goto fail;
	/* A full disk does not stop the caller: records are counted until writing works. */
	jstore_schedule_compression(js);
	jstore_retention(js);
	js->st.recovered_bytes_cut = js->open_info.cut_bytes;
	*out = js;
	return 0;
fail:
	free_store(js);
	return err;
}

int jstore_close(struct jstore *js)
{
	int err = 0;

	if (!js)
		return 0;
	if (js->fd >= 0) {
		err = jstore_close_segment(js, JSTORE_SEAL_STORE_CLOSE);
		if (err) {
			/* Left as it is: the next writer recovers it. */
			log_error(MODULE, "%s: cannot close the journal cleanly: %s", js->dir,
				  strerror(-err));
		}
	}
	if (!err)
		jstore_schedule_compression(js);
	if (js->worker_started)
		jstore_wait_compressed(js);
	free_store(js);
	return err;
}
