/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The export follower (journal/export.h): the journal read as it grows
 * (journal/source.h, resumed from the cursor), events queued, batches sent,
 * the cursor saved after each batch the sink accepted.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal/export.h"
#include "journal/source.h"
#include "journal/store.h"

struct follower {
	const struct jexport_config *c;
	struct jocsf_host host;
	struct jexport_sink *sink;
	struct jsource *src;
	struct jexport_cursor cursor;
	struct jexport_event *q; /* q[0] is the oldest */
	size_t n, cap;
	unsigned backoff_ms;
	uint64_t next_try_ms;
	bool failing, stalled;
	/* Dropped from a full queue and not yet said by a gap event. */
	uint64_t dropped, dropped_first, dropped_last, dropped_segment;
};

static void say(const struct follower *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct follower *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->c->err)
		return;
	fprintf(f->c->err, "%s: ", f->c->prefix ? f->c->prefix : "actgate: export");
	va_start(ap, fmt);
	vfprintf(f->c->err, fmt, ap);
	va_end(ap);
	fputc('\n', f->c->err);
	fflush(f->c->err);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void jexport_config_init(struct jexport_config *c)
{
	memset(c, 0, sizeof(*c));
	c->format = JEXPORT_JSONL;
	c->follow = true;
	c->poll_ms = 200;
	c->batch_max = 256;
	c->queue_max = 4096;
	c->overflow = JEXPORT_OVERFLOW_BLOCK;
	c->backoff_min_ms = 200;
	c->backoff_max_ms = 30000;
	c->prefix = "actgate: export";
}

void jexport_status_init(struct jexport_status *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
}

#define STATUS(f, stmt)                                        \
	do {                                                   \
		if ((f)->c->status) {                          \
			struct jexport_status *st_ = (f)->c->status; \
			pthread_mutex_lock(&st_->lock);        \
			stmt;                                  \
			pthread_mutex_unlock(&st_->lock);      \
		}                                              \
	} while (0)

static bool stopped(const struct follower *f)
{
	return f->c->stop && *f->c->stop;
}

/* Sleep up to ms, in slices, ending early when asked to stop. */
static void nap(const struct follower *f, uint64_t ms)
{
	while (ms && !stopped(f)) {
		uint64_t slice = ms < 50 ? ms : 50;

		poll(NULL, 0, (int)slice);
		ms -= slice;
	}
}

static int push(struct follower *f, struct jexport_event *ev)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct jexport_event *bigger = realloc(f->q, cap * sizeof(*f->q));

		if (!bigger) {
			jexport_event_free(ev);
			return -ENOMEM;
		}
		f->q = bigger;
		f->cap = cap;
	}
	f->q[f->n++] = *ev;
	STATUS(f, st_->queued = f->n);
	return 0;
}

static void pop(struct follower *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jexport_event_free(&f->q[i]);
	/* Not with nothing left: q is NULL before the first push (memmove's arguments are nonnull). */
	if (f->n > n)
		memmove(f->q, f->q + n, (f->n - n) * sizeof(*f->q));
	f->n -= n;
	STATUS(f, st_->queued = f->n);
}

static int push_gap(struct follower *f, uint64_t seq, uint64_t segment, uint64_t time_ns,
		    const struct jstore_gap *gap, uint64_t first, uint64_t last, const char *reason)
{
	struct jexport_event ev;
	int err = jexport_event_gap(f->c->format, &f->host, seq, time_ns, gap, first, last, reason,
				    &ev);

	if (err)
		return err;
	ev.segment = segment;
	STATUS(f, st_->gaps++);
	return push(f, &ev);
}

/* journal/source.h's on_gap: queued in order, before the decision that follows. */
static int on_gap(void *ctx, const struct jstore_gap *gap, uint64_t first, uint64_t last,
		  const char *segment)
{
	struct follower *f = ctx;
	uint64_t seq, seg;

	jsource_position(f->src, &seq, &seg);
	if (gap) {
		say(f, "%s: %" PRIu64 " decisions the daemon could not journal: exported as a gap",
		    segment, gap->lost);
		return push_gap(f, seq, seg, gap->time_ns, gap, 0, 0, "journal-write-failed");
	}
	say(f, "%s: store records %" PRIu64 "..%" PRIu64 " are missing (removed by retention "
	    "before they were exported, or damaged): exported as a gap", segment, first, last);
	return push_gap(f, last, seg, wall_ns(), NULL, first, last, "missing");
}

/* A full queue under overflow "drop": the oldest events go, counted, said by one gap event. */
static void drop_oldest(struct follower *f)
{
	size_t n = f->n - f->c->queue_max + f->c->batch_max;

	if (n > f->n)
		n = f->n;
	for (size_t i = 0; i < n; i++) {
		if (!f->dropped)
			f->dropped_first = f->q[i].seq;
		f->dropped_last = f->q[i].seq;
		f->dropped_segment = f->q[i].segment;
		f->dropped++;
	}
	STATUS(f, st_->dropped += n);
	say(f, "queue full (%zu events) while the sink refuses: dropped the oldest %zu", f->n, n);
	pop(f, n);
}

/*
 * A gap event for what was dropped, placed first: what is still queued
 * came after it.
 */
static int say_dropped(struct follower *f)
{
	struct jexport_event ev;
	int err;

	if (!f->dropped)
		return 0;
	err = jexport_event_gap(f->c->format, &f->host, f->dropped_last, wall_ns(), NULL,
				f->dropped_first, f->dropped_last, "export-queue-overflow", &ev);
	if (err)
		return err;
	ev.segment = f->dropped_segment;
	err = push(f, &ev);
	if (err)
		return err;
	memmove(f->q + 1, f->q, (f->n - 1) * sizeof(*f->q));
	f->q[0] = ev;
	f->dropped = 0;
	STATUS(f, st_->gaps++);
	return 0;
}

/* One batch to the sink: 1 sent (cursor saved), 0 refused (retry later), -errno fatal. */
static int send_batch(struct follower *f)
{
	size_t n = f->n < f->c->batch_max ? f->n : f->c->batch_max;
	char why[320], cwhy[320];
	int err;

	err = f->sink->ops->send(f->sink, f->q, n, why, sizeof(why));
	if (err) {
		if (!f->failing)
			say(f, "%s sink: %s: retrying with backoff", f->sink->ops->kind, why);
		f->failing = true;
		f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : f->c->backoff_min_ms;
		if (f->backoff_ms > f->c->backoff_max_ms)
			f->backoff_ms = f->c->backoff_max_ms;
		f->next_try_ms = now_ms() + f->backoff_ms;
		STATUS(f, {
			st_->send_errors++;
			snprintf(st_->last_error, sizeof(st_->last_error), "%.200s", why);
		});
		return 0;
	}
	if (f->failing)
		say(f, "%s sink: accepting again", f->sink->ops->kind);
	f->failing = false;
	f->backoff_ms = 0;
	f->next_try_ms = 0;
	f->cursor.seq = f->q[n - 1].seq;
	f->cursor.segment = f->q[n - 1].segment;
	f->cursor.offset = f->sink->offset;
	f->cursor.exported += n;
	if (f->c->cursor_path) {
		err = jexport_cursor_save(f->c->cursor_path, &f->cursor, cwhy, sizeof(cwhy));
		if (err) {
			say(f, "%s: saving the cursor: %s", f->c->cursor_path, cwhy);
			return err;
		}
	}
	STATUS(f, {
		st_->exported = f->cursor.exported;
		st_->exported_seq = f->cursor.seq;
		st_->exported_time_ns = f->q[n - 1].time_ns;
		st_->last_error[0] = '\0';
	});
	pop(f, n);
	return 1;
}

static int start(struct follower *f)
{
	const struct jexport_config *c = f->c;
	char why[600];
	int err;

	/* A host without a machine id exports without one (device.uid absent), said once. */
	if (jocsf_host_read(&f->host, why, sizeof(why)))
		say(f, "%s: exporting without it", why);
	if (strlen(c->sink) >= sizeof(f->cursor.sink)) {
		say(f, "sink spec too long");
		return -EINVAL;
	}
	if (c->cursor_path) {
		err = jexport_cursor_load(c->cursor_path, &f->cursor, why, sizeof(why));
		if (err == -ENOENT) {
			memset(&f->cursor, 0, sizeof(f->cursor));
		} else if (err) {
			say(f, "%s: %s", c->cursor_path, why);
			return err;
		} else if (strcmp(f->cursor.sink, c->sink)) {
			say(f, "%s: the cursor belongs to the sink \"%s\", not \"%s\" (one cursor per sink)",
			    c->cursor_path, f->cursor.sink, c->sink);
			return -EINVAL;
		}
	}
	snprintf(f->cursor.sink, sizeof(f->cursor.sink), "%s", c->sink);
	STATUS(f, {
		st_->exported = f->cursor.exported;
		st_->exported_seq = f->cursor.seq;
	});
	err = jexport_sink_open(c->sink, &f->host, f->cursor.offset, &f->sink, why, sizeof(why));
	if (err) {
		say(f, "sink %s: %s", c->sink, why);
		return err;
	}
	const char *paths[] = { c->journal_dir };
	struct jsource_options so = {
		.err = c->err,
		.prefix = c->prefix ? c->prefix : "actgate: export",
		.follow = true,
		.idle_return = true,
		.resume_seq = f->cursor.seq,
		.resume_segment = f->cursor.segment,
		.on_gap = on_gap,
		.gap_ctx = f,
	};
	/* Nothing exported yet: from the journal's first segment, whatever its number. */
	return jsource_open(&f->src, paths, 1, &so);
}

int jexport_run(const struct jexport_config *c)
{
	struct follower f = { .c = c };
	struct journal_record rec;
	bool idle = false;
	int err;

	err = start(&f);
	STATUS(&f, st_->running = !err);
	while (!err) {
		uint64_t now = now_ms();
		bool full = f.n >= c->queue_max;

		if (stopped(&f)) {
			/* One last try, no retries: the cursor says what was accepted. */
			if (f.n && !f.failing)
				err = send_batch(&f) < 0 ? -EIO : 0;
			break;
		}
		if (f.n && (f.n >= c->batch_max || idle || full) && now >= f.next_try_ms) {
			err = send_batch(&f);
			if (err < 0)
				break;
			if (err == 0 && !c->follow) {
				err = -EIO;
				break;
			}
			if (f.failing)
				STATUS(&f, st_->retries++);
			err = 0;
			if (!f.failing && f.dropped)
				err = say_dropped(&f);
			continue;
		}
		if (full) {
			if (c->overflow == JEXPORT_OVERFLOW_DROP) {
				drop_oldest(&f);
				continue;
			}
			/* Block: the journal keeps what is not read yet. */
			if (!f.stalled)
				STATUS(&f, st_->queue_full++);
			f.stalled = true;
			nap(&f, f.next_try_ms > now ? f.next_try_ms - now : 1);
			continue;
		}
		f.stalled = false;
		if (idle) {
			if (!c->follow && !f.n)
				break;
			nap(&f, c->poll_ms);
			idle = false;
		}
		err = jsource_next(f.src, &rec);
		{
			uint64_t seq, seg;

			jsource_position(f.src, &seq, &seg);
			STATUS(&f, st_->read_seq = seq);
		}
		if (err == -EAGAIN) {
			idle = true;
			err = 0;
		} else if (err == 1) {
			struct jexport_event ev;
			uint64_t seq, seg;

			jsource_position(f.src, &seq, &seg);
			err = jexport_event_decision(&rec, c->format, &f.host, seq, &ev);
			if (!err) {
				ev.segment = seg;
				err = push(&f, &ev);
			}
		} else if (err == 0) {
			break;
		}
	}
	if (err == -ENOMEM)
		say(&f, "%s", strerror(ENOMEM));
	STATUS(&f, st_->running = false);
	pop(&f, f.n);
	free(f.q);
	jsource_close(f.src);
	jexport_sink_close(f.sink);
	return err;
}
