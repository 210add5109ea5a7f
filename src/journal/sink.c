/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal/record.h"
#include "journal/sink.h"
#include "journal/store.h"
#include "journal/summary.h"
#include "util/clock.h"
#include "util/log.h"

#define MODULE "journal"

/*
 * The sink rotates segments itself (the store's own size and age limits are
 * off): strings are defined per segment (journal/record.h), and the
 * dictionary must start again exactly when a segment does, which only the
 * one who rotates knows before encoding the next decision.
 */
/*
 * 4 MiB (about 50,000 decisions): a segment is what a summary lets a query
 * skip, so its size is the grain of a selective replay (one workload of a
 * hundred, one hour of a day: docs/journal-format.md, "Segment summaries");
 * 16 MiB made such a query read three times what it printed. The cost is a
 * header, a closing seal and the string table's definitions per segment.
 */
#define SEGMENT_MAX_BYTES (4ull << 20)
#define SEGMENT_MAX_AGE_NS (3600ull * 1000000000ull)
/* Room for one more decision with all its definitions: the check is made before encoding. */
#define RECORD_ROOM (256u << 10)

struct jsink {
	struct jstore *js;
	struct jrecord_buf buf;
	struct jrecord_dict *dict;
	/*
	 * The segment whose string table the dictionary mirrors, 0 when it
	 * mirrors none (texts then go inline); the segment a failed write left
	 * the dictionary out of step with (never used again for references);
	 * and the store's loss count when it was last checked.
	 */
	uint64_t dict_segment;
	uint64_t stale_segment;
	uint64_t dict_lost;
	uint64_t segment_started_ns; /* monotonic */
	uint64_t segment_max_bytes;
	uint64_t segment_appends; /* decisions appended to the segment: an empty one never rotates */
	char *dir;
	char *key_path;
	uint64_t unencodable; /* records the encoder refused (a bug, never expected) */
	/*
	 * The summary of the segment being written (journal/summary.h), written
	 * at rotation as the next segment's first record. Only a summary that is
	 * exactly its segment is written: none for a segment that lost a record
	 * or holds a gap record (the store's counts moved since it started), or
	 * that a store-started segment opened with a decision this did not see
	 * (sum_poison: appended while no segment was open).
	 */
	struct jsummary sum;
	bool sum_valid, sum_poison;
	uint64_t sum_lost, sum_gaps; /* the store's counts when the segment started */
	/*
	 * Summaries appended: the store counts them among its records, the
	 * sink's counts are decisions. (One lost to a failed write is counted
	 * lost by the store, and stays subtracted here: a full disk's counts
	 * may be one off per segment.)
	 */
	uint64_t summaries;
	struct jrecord_buf sum_buf;
};

/* mkdir -p for the key's directory: 0700 for the last component, so only root reads it. */
static int make_key_dir(const char *key_path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", key_path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * The segment the previous writer (a daemon stopped, crashed or upgraded)
 * left last was closed by the store's open; nobody summarised it. Read back
 * (at most a segment, once per start), its summary goes first into the new
 * segment as a rotation's would, so a restart leaves no segment replay
 * must read whole. Built from what a reader gets from the file, it is what
 * verify recomputes. Any failure: no summary (the segment is read whole).
 */
static void summarise_previous(struct jsink *s)
{
	struct jstore_stats st;
	struct jsummary prev;
	char path[PATH_MAX];
	uint64_t seg;

	jstore_stats(s->js, &st);
	if (st.segment_seq < 2)
		return;
	seg = st.segment_seq - 1;
	snprintf(path, sizeof(path), "%s/journal-%016llx.seg", s->dir, (unsigned long long)seg);
	/* Compressed already, or being compressed: the reader falls back to the .gz. */
	if (jsummary_of_file(path, seg, &prev))
		return;
	if (prev.decisions && !jsummary_encode(&prev, &s->sum_buf) &&
	    !jstore_append(s->js, JSUMMARY_TYPE, s->sum_buf.p, s->sum_buf.len))
		s->summaries++;
	jsummary_free(&prev);
}

int jsink_open(struct jsink **out, const struct jsink_config *cfg)
{
	struct jstore_options o;
	struct jsink *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir = strdup(cfg->dir);
	s->key_path = strdup(cfg->key_path ? cfg->key_path : DEFAULT_JOURNAL_KEY);
	if (!s->dir || !s->key_path) {
		err = -ENOMEM;
		goto out;
	}
	if (access(s->key_path, F_OK) < 0 && errno == ENOENT) {
		err = make_key_dir(s->key_path);
		if (err) {
			log_error(MODULE, "seal key %s: cannot create its directory: %s", s->key_path,
				  strerror(-err));
			goto out;
		}
		err = jstore_key_create(s->key_path); /* logs its failures */
		if (err)
			goto out;
		log_info(MODULE, "created the seal key %s", s->key_path);
	}
	s->segment_max_bytes = cfg->segment_max_bytes ? cfg->segment_max_bytes : SEGMENT_MAX_BYTES;
	if (s->segment_max_bytes < 2 * RECORD_ROOM)
		s->segment_max_bytes = 2 * RECORD_ROOM;
	err = jrecord_dict_new(&s->dict);
	if (err)
		goto out;
	jstore_options_init(&o);
	o.dir = s->dir;
	o.key_path = s->key_path;
	o.segment_max_bytes = UINT64_MAX; /* rotated here: see SEGMENT_MAX_BYTES */
	o.segment_max_age_ms = 0;
	if (cfg->fsync_every_records)
		o.fsync_every_records = cfg->fsync_every_records;
	if (cfg->fsync_every_ms)
		o.fsync_every_ms = cfg->fsync_every_ms;
	if (cfg->retain_max_bytes)
		o.retain_max_bytes = cfg->retain_max_bytes;
	o.retain_max_age_ms = cfg->retain_max_age_ms;
	o.write = cfg->write;
	o.hook_ctx = cfg->hook_ctx;
	/* Unknown ids only leave the header fields zero: not worth refusing to start. */
	jstore_host_ids(o.host_id, o.boot_id);
	err = jstore_open(&s->js, &o); /* logs its failures */
	s->segment_started_ns = mono_ns();
	if (!err)
		summarise_previous(s);
out:
	if (err) {
		jrecord_dict_free(s->dict);
		free(s->dir);
		free(s->key_path);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

/*
 * Before a decision is encoded: make the dictionary mirror exactly the
 * string table of the segment the decision will land in. A new segment
 * starts an empty one. A failed write (a full disk) may have taken
 * definitions with it, so after one the dictionary is never used again in
 * that segment: the sink starts a new segment, and until it can, writes
 * every text inline (a decision that stands alone, wherever it lands).
 * Renumbering inside the segment is what must never happen: a reader keeps
 * the first definition of an id, so later decisions would be refused or
 * read another decision's texts. The segment is also rotated here when it
 * is full or old. Returns whether the dictionary may be used.
 */
/*
 * Right after the rotation that closed segment old: its summary, first in
 * the new segment, when it is exactly what old holds.
 */
static void write_summary(struct jsink *s, uint64_t old, const struct jstore_stats *st)
{
	if (!s->sum_valid || s->sum.segment != old || !st->segment_seq || st->segment_seq == old ||
	    st->lost != s->sum_lost || st->gaps != s->sum_gaps || !s->sum.decisions)
		return;
	if (jsummary_encode(&s->sum, &s->sum_buf))
		return; /* no memory: the segment is read whole, nothing worse */
	if (!jstore_append(s->js, JSUMMARY_TYPE, s->sum_buf.p, s->sum_buf.len))
		s->summaries++;
	s->sum_valid = false;
}

/* A segment the sink has not seen yet: its summary starts empty. */
static void start_summary(struct jsink *s, const struct jstore_stats *st)
{
	jsummary_free(&s->sum);
	jsummary_init(&s->sum, st->segment_seq);
	s->sum_valid = st->segment_seq && !s->sum_poison;
	s->sum_poison = false;
	s->sum_lost = st->lost;
	s->sum_gaps = st->gaps;
}

static bool prepare(struct jsink *s, bool check_age, uint64_t *segment)
{
	struct jstore_stats st;
	bool rotate;

	jstore_stats(s->js, &st);
	for (int tries = 0; tries < 2; tries++) {
		if (st.lost != s->dict_lost) {
			s->dict_lost = st.lost;
			s->stale_segment = st.segment_seq;
			s->dict_segment = 0;
			jrecord_dict_reset(s->dict);
		}
		/*
		 * A stale segment is replaced at once, a full or old one once used. With
		 * none open the store tries to start one at the next append: texts go
		 * inline until this sees it.
		 */
		rotate = (st.segment_seq && st.segment_seq == s->stale_segment) ||
			 (s->segment_appends > 0 &&
			  (st.segment_bytes + RECORD_ROOM > s->segment_max_bytes ||
			   jrecord_dict_count(s->dict) >= JRECORD_STRINGS_MAX ||
			   /* The age only from the tick: no clock read per record. */
			   (check_age && mono_ns() - s->segment_started_ns >= SEGMENT_MAX_AGE_NS)));
		if (!rotate || tries)
			break;
		uint64_t old = st.segment_seq;

		(void)jstore_rotate(s->js); /* a failure is counted and logged by the store */
		jstore_stats(s->js, &st);
		write_summary(s, old, &st);
		jstore_stats(s->js, &st);
	}
	if (st.segment_seq != s->sum.segment)
		start_summary(s, &st);
	*segment = st.segment_seq;
	if (st.segment_seq && st.segment_seq != s->stale_segment &&
	    st.segment_seq != s->dict_segment) {
		/* A segment started since the last failed write: its table starts empty. */
		jrecord_dict_reset(s->dict);
		s->dict_segment = st.segment_seq;
		s->segment_started_ns = mono_ns();
		s->segment_appends = 0;
	}
	return s->dict_segment && s->dict_segment == st.segment_seq;
}

void jsink_append(struct jsink *s, const struct journal_record *r)
{
	uint64_t segment;
	int err;

	if (!s)
		return;
	if (prepare(s, false, &segment))
		err = jrecord_encode_dict(r, s->dict, &s->buf); /* resets it on failure */
	else
		err = jrecord_encode(r, &s->buf);
	if (err) {
		if (s->dict_segment) {
			/* The dictionary was reset: in this segment it would number anew. */
			s->stale_segment = s->dict_segment;
			s->dict_segment = 0;
		}
		if (!s->unencodable++)
			log_error(MODULE, "a decision could not be encoded (action %u, verdict %u): %s",
				  r->action, r->verdict, strerror(-err));
		return;
	}
	/*
	 * A failed write is counted as lost and logged by the store itself; the
	 * definitions it held are gone too, which the next prepare() sees in the
	 * store's loss count.
	 */
	err = jstore_append(s->js, JRECORD_TYPE_DECISION, s->buf.p, s->buf.len);
	s->segment_appends++;
	if (!segment)
		s->sum_poison = true; /* it lands in a segment this append makes the store start */
	else if (!err && s->sum_valid && jsummary_add(&s->sum, r))
		s->sum_valid = false;
	/* A failed write shows in the store's loss count, which write_summary checks. */
}

void jsink_flush(struct jsink *s)
{
	if (!s)
		return;
	(void)jstore_flush(s->js);
}

void jsink_tick(struct jsink *s)
{
	if (!s)
		return;
	(void)jstore_tick(s->js);
	uint64_t segment;

	/* An idle journal still rotates by age. */
	prepare(s, true, &segment);
}

/*
 * The store's records written, but the summaries: decisions. (Until a
 * summary still queued is written, the figure is one short; the sink
 * flushes after every drain.)
 */
static uint64_t decisions_written(const struct jsink *s, const struct jstore_stats *st)
{
	return st->records > s->summaries ? st->records - s->summaries : 0;
}

void jsink_counts(const struct jsink *s, uint64_t *written, uint64_t *lost)
{
	struct jstore_stats st;

	jstore_stats(s->js, &st);
	*written = decisions_written(s, &st);
	*lost = st.lost + s->unencodable;
}

void jsink_status(const struct jsink *s, struct json_out *j)
{
	struct jstore_stats st;

	jstore_stats(s->js, &st);
	json_add_u64(j, "records_written", decisions_written(s, &st));
	/* Decided in the kernel (and enforced) but not in the journal. */
	json_add_u64(j, "records_unwritten", st.lost + s->unencodable);
	json_add_u64(j, "journal_lost_unreported", st.lost_unreported);
	json_add_string(j, "journal_error", st.last_error ? strerror(-st.last_error) : "");
	json_add_u64(j, "journal_gaps", st.gaps);
	json_add_u64(j, "journal_segment", st.segment_seq);
	json_add_u64(j, "journal_next_seq", st.next_seq);
	json_add_u64(j, "journal_seals", st.seals);
	json_add_string(j, "journal", s->dir);
	json_add_string(j, "journal_key", s->key_path);
}

const char *jsink_dir(const struct jsink *s)
{
	return s->dir;
}

struct jstore *jsink_store(struct jsink *s)
{
	return s ? s->js : NULL;
}

int jsink_close(struct jsink *s)
{
	int err;

	if (!s)
		return 0;
	err = jstore_close(s->js);
	jrecord_buf_free(&s->buf);
	jrecord_buf_free(&s->sum_buf);
	jsummary_free(&s->sum);
	jrecord_dict_free(s->dict);
	free(s->dir);
	free(s->key_path);
	free(s);
	return err;
}
