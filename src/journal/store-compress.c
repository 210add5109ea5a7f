/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Closed segments to gzip. Threads: a jstore is used by one thread; it may
 * start worker threads of its own that compress closed segments (files the
 * writer no longer touches) and report back through a mutex-protected
 * queue, which the writer reaps between appends.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "journal/store-internal.h"
#include "util/log.h"

/* Compress segment seq to NAME.seg.gz (a temporary name, fsync, rename), then remove NAME.seg. */
static int compress_file(const struct jstore_options *o, int dirfd, uint64_t seq,
			 uint64_t *gz_bytes)
{
	char plain[SEG_NAME_MAX], gz[SEG_NAME_MAX], tmp[SEG_NAME_MAX + 1];
	uint8_t *in = NULL, *out = NULL;
	int fin = -1, fout = -1, err = 0, zret = Z_OK;
	uint64_t written = 0;
	bool z_live = false;
	z_stream z;

	jstore_seg_name(plain, sizeof(plain), seq, SEG_SUFFIX);
	jstore_seg_name(gz, sizeof(gz), seq, GZ_SUFFIX);
	snprintf(tmp, sizeof(tmp), "." SEG_PREFIX "%016" PRIx64 TMP_SUFFIX, seq);
	in = malloc(READ_CHUNK);
	out = malloc(READ_CHUNK);
	if (!in || !out) {
		err = -ENOMEM;
		goto out;
	}
	fin = openat(dirfd, plain, O_RDONLY | O_CLOEXEC);
	if (fin < 0) {
		err = -errno;
		goto out;
	}
	fout = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fout < 0) {
		err = -errno;
		goto out;
	}
	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip stream, so that zcat and every language's gzip reader can read it. */
	if (deflateInit2(&z, o->compress_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	z_live = true;
	while (zret != Z_STREAM_END) {
		ssize_t n;
		int flush;

		do
			n = read(fin, in, READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			size_t produced;

			z.next_out = out;
			z.avail_out = READ_CHUNK;
			zret = deflate(&z, flush);
			if (zret == Z_STREAM_ERROR) {
				err = -EIO;
				goto out;
			}
			produced = READ_CHUNK - z.avail_out;
			err = jstore_write_or_cut(o, fout, out, produced, written);
			if (err)
				goto out;
			written += produced;
		} while (z.avail_out == 0);
	}
	if (fsync(fout) < 0 || close(fout) < 0) {
		fout = -1;
		err = -errno;
		goto out;
	}
	fout = -1;
	if (renameat(dirfd, tmp, dirfd, gz) < 0 || fsync(dirfd) < 0) {
		err = -errno;
		goto out;
	}
	/* The compressed copy is durable: the plain one may go. */
	if (unlinkat(dirfd, plain, 0) < 0 || fsync(dirfd) < 0) {
		err = -errno;
		goto out;
	}
	*gz_bytes = written;
out:
	if (z_live)
		deflateEnd(&z);
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (err)
		unlinkat(dirfd, tmp, 0);
	free(in);
	free(out);
	return err;
}

void *jstore_compress_worker(void *arg)
{
	struct jstore *js = arg;

	pthread_mutex_lock(&js->mu);
	for (;;) {
		struct job_done d = { 0 };

		while (!js->stop && !js->n_jobs)
			pthread_cond_wait(&js->cv, &js->mu);
		if (!js->n_jobs)
			break;
		d.seq = js->jobs[0];
		memmove(js->jobs, js->jobs + 1, --js->n_jobs * sizeof(*js->jobs));
		js->busy++;
		pthread_mutex_unlock(&js->mu);
		d.err = compress_file(&js->o, js->dirfd, d.seq, &d.bytes);
		pthread_mutex_lock(&js->mu);
		js->busy--;
		if (js->n_done < js->cap_done) {
			js->done[js->n_done++] = d;
			__atomic_store_n(&js->done_flag, 1, __ATOMIC_RELEASE);
		}
		pthread_cond_broadcast(&js->cv);
	}
	pthread_mutex_unlock(&js->mu);
	return NULL;
}

static void compressed(struct jstore *js, const struct job_done *d)
{
	struct seginfo *s = jstore_find_seg(js, d->seq);

	if (!s)
		return;
	if (d->err) {
		char path[PATH_MAX];

		s->state = SEG_PLAIN;
		jstore_segment_path(js, path, sizeof(path), d->seq, SEG_SUFFIX);
		log_warn(MODULE, "%s: cannot compress: %s; it stays uncompressed for now", path,
			 strerror(-d->err));
		return;
	}
	s->state = SEG_GZ;
	s->bytes = d->bytes;
	js->st.segments_compressed++;
}

/* Take the worker's results, then apply retention. */
void jstore_reap(struct jstore *js)
{
	struct job_done d[8];
	size_t n;

	do {
		pthread_mutex_lock(&js->mu);
		n = js->n_done < 8 ? js->n_done : 8;
		memcpy(d, js->done, n * sizeof(*d));
		memmove(js->done, js->done + n, (js->n_done - n) * sizeof(*d));
		js->n_done -= n;
		if (!js->n_done)
			__atomic_store_n(&js->done_flag, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&js->mu);
		for (size_t i = 0; i < n; i++)
			compressed(js, &d[i]);
	} while (n == 8);
	jstore_retention(js);
}

/* Hand every closed plain segment to the compressor (or compress it now). */
void jstore_schedule_compression(struct jstore *js)
{
	if (!js->o.compress_level)
		return;
	for (size_t i = 0; i < js->n_segs; i++) {
		struct seginfo *s = &js->segs[i];

		if (s->state != SEG_PLAIN)
			continue;
		if (!js->worker_started) {
			struct job_done d = { .seq = s->seq };

			d.err = compress_file(&js->o, js->dirfd, s->seq, &d.bytes);
			compressed(js, &d);
			continue;
		}
		pthread_mutex_lock(&js->mu);
		/* Room for every result, so that the worker never has to drop one. */
		if (js->n_jobs == js->cap_jobs ||
		    js->n_done + js->n_jobs + js->busy + 1 >= js->cap_done) {
			pthread_mutex_unlock(&js->mu);
			break;
		}
		js->jobs[js->n_jobs++] = s->seq;
		s->state = SEG_QUEUED;
		pthread_cond_broadcast(&js->cv);
		pthread_mutex_unlock(&js->mu);
	}
}

void jstore_wait_compressed(struct jstore *js)
{
	if (js->worker_started) {
		pthread_mutex_lock(&js->mu);
		while (js->n_jobs || js->busy)
			pthread_cond_wait(&js->cv, &js->mu);
		pthread_mutex_unlock(&js->mu);
	}
	jstore_reap(js);
}
