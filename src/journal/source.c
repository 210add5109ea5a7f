/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/query.h"
#include "journal/record.h"
#include "journal/source.h"
#include "journal/store.h"
#include "journal/summary.h"

struct item {
	char *path;
	bool is_dir;
	/* A directory planned with summaries: the segment files to read (the rest skipped). */
	char **files;
	size_t n_files;
};

struct jsource {
	struct jsource_options o;
	struct item *items;
	size_t n_items, cur;
	bool cur_open;
	struct jstore_reader *store;
	struct jrecord_buf arena;
	/* The strings defined so far in the segment being read. */
	struct jrecord_table *table;
	uint64_t table_segment;
	char *table_path;
	const char *table_seen; /* the reader's pointer for it: the quick test per record */
	/* The prefilter's workload glob against the segment's strings: 0 not yet, 1 yes, 2 no. */
	uint8_t *wl_match;
	uint32_t wl_max;
	char *scratch;
	size_t scratch_cap;
	struct jsource_stats st;
	/* Following: where the last store record was. */
	uint64_t last_seq, last_segment;
	bool following;
	bool polled; /* idle_return: reopened once since the last record returned */
};

static void say(const struct jsource *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct jsource *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o.err)
		return;
	fprintf(s->o.err, "%s: ", s->o.prefix);
	va_start(ap, fmt);
	vfprintf(s->o.err, fmt, ap);
	va_end(ap);
	fputc('\n', s->o.err);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A directory's segment files from segment min on, sorted, "x.seg" kept over
 * "x.seg.gz" (the store reader's order). 0 with *names (n of them), -errno.
 */
static int list_segments(const char *dir, uint64_t min, char ***out, size_t *n_out)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int err = 0;
	DIR *d = opendir(dir);

	*out = NULL;
	*n_out = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned long long seg;
		char tail[8] = "";

		if (sscanf(de->d_name, "journal-%16llx.%7s", &seg, tail) != 2 ||
		    strlen(de->d_name) < 8 + 16 + 4 || (strcmp(tail, "seg") && strcmp(tail, "seg.gz")) ||
		    seg < min)
			continue;
		if (n == cap) {
			char **bigger = realloc(names, (cap = cap ? 2 * cap : 8) * sizeof(*names));

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			names = bigger;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (!err && n) {
		/* Sorted, "x.seg" before "x.seg.gz"; keep one file per segment. */
		size_t kept = 0;

		qsort(names, n, sizeof(*names), strcmp_ptr);
		for (size_t i = 0; i < n; i++) {
			if (kept && !strncmp(names[i], names[kept - 1], strlen(names[kept - 1]))) {
				free(names[i]);
				continue;
			}
			names[kept++] = names[i];
		}
		n = kept;
	}
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return err;
	}
	*out = names;
	*n_out = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool dir_has_segments(const char *dir)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, "journal-", 8) && strstr(de->d_name, ".seg");
	closedir(d);
	return found;
}

static int add_item(struct jsource *s, const char *path, bool is_dir)
{
	struct item *bigger = realloc(s->items, (s->n_items + 1) * sizeof(*s->items));

	if (!bigger)
		return -ENOMEM;
	s->items = bigger;
	s->items[s->n_items] = (struct item){ .path = strdup(path), .is_dir = is_dir };
	if (!s->items[s->n_items].path)
		return -ENOMEM;
	s->n_items++;
	return 0;
}

/*
 * A file given by name is read as a segment when its first bytes say so
 * (plain or gzip: a copied segment may have lost its name), or when it is
 * too short to say (a segment cut short in its header, which the store's
 * reader then reports).
 */
static int check_file(struct jsource *s, const char *path)
{
	static const uint8_t magic[8] = { 'A', 'C', 'T', 'G', 'J', 'R', 'N', 'L' };
	uint8_t head[sizeof(magic)];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = -errno;
		say(s, "%s: %s", path, strerror(-err));
		return err;
	}
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		say(s, "%s: %s", path, strerror(-err));
	} else if (memcmp(head, magic, (size_t)n) &&
		   !(n >= 2 && head[0] == 0x1f && head[1] == 0x8b)) {
		say(s, "%s: not an actgate journal segment", path);
		err = -EINVAL;
	}
	close(fd);
	return err;
}

/*
 * The summary of segment file names[i - 1] is the first caller record of
 * names[i] (written by the sink at rotation). It is used when it parses and
 * names the segment both headers say it follows; otherwise it is reported
 * and the segment read.
 */
static bool summary_skips(struct jsource *s, const struct jstore_peek *prev,
			  const struct jstore_peek *next, const char *prev_path)
{
	struct jsummary sum;
	char why[160];
	bool skip;

	if (!prev->segment_seq || !next->segment_seq || next->type != JSUMMARY_TYPE)
		return false;
	if (jsummary_decode(next->payload, next->len, &sum, why, sizeof(why))) {
		s->st.summaries_ignored++;
		say(s, "%s: its summary (record %" PRIu64 " of the next segment) is malformed: %s; the "
		    "segment is read whole", prev_path, next->seq, why);
		return false;
	}
	if (sum.segment != prev->segment_seq || next->segment_seq != prev->segment_seq + 1) {
		s->st.summaries_ignored++;
		say(s, "%s: its summary (record %" PRIu64 " of the next segment) names segment %" PRIu64
		    ", the headers say %" PRIu64 " followed by %" PRIu64 "; the segment is read whole",
		    prev_path, next->seq, sum.segment, prev->segment_seq, next->segment_seq);
		jsummary_free(&sum);
		return false;
	}
	/* Gap records are reported by whoever reads them: such a segment is read. */
	skip = !sum.gaps && !jsummary_may_match(&sum, s->o.prefilter);
	if (skip) {
		s->st.segments_skipped++;
		s->st.skipped += sum.decisions;
	}
	jsummary_free(&sum);
	return skip;
}

static bool summaries_apply(const struct jsource_options *o)
{
	const struct jquery_filter *f = o->prefilter;

	if (!f || o->read_all || o->follow || o->on_gap)
		return false;
	return f->since_ns || f->until_ns || f->action >= 0 || f->verdict >= 0 ||
	       f->workload_glob || f->principal || f->n_labels || f->rule_glob || f->target_glob;
}

/* A directory's segments to read for the prefilter: those no summary excludes. */
static int plan_dir(struct jsource *s, struct item *it)
{
	struct jstore_peek *peeks = NULL;
	char **names;
	size_t n, kept = 0;
	int err = list_segments(it->path, 0, &names, &n);

	if (err)
		return err;
	if (n > 1 && !(peeks = calloc(n, sizeof(*peeks))))
		err = -ENOMEM;
	/* A file that cannot be peeked is read, and its damage reported, by the reader. */
	for (size_t i = 0; i < n && peeks && !err; i++)
		if (jstore_peek(names[i], &peeks[i]) == -ENOMEM)
			err = -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		if (peeks && i + 1 < n && summary_skips(s, &peeks[i], &peeks[i + 1], names[i])) {
			free(names[i]);
			continue;
		}
		names[kept++] = names[i];
	}
	for (size_t i = 0; peeks && i < n; i++)
		free(peeks[i].payload);
	free(peeks);
	if (err) {
		/* names[0, kept) kept, the rest not yet looked at or freed as skipped */
		free_names(names, n);
		return err;
	}
	it->files = names;
	it->n_files = kept;
	return 0;
}

int jsource_open(struct jsource **out, const char *const *paths, size_t n_paths,
		 const struct jsource_options *o)
{
	struct jsource *s = calloc(1, sizeof(*s));
	int err = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	err = jrecord_table_new(&s->table);
	if (err) {
		free(s);
		return err;
	}
	s->o = *o;
	if (!s->o.prefix)
		s->o.prefix = "actgate";
	if (!s->o.poll_ms)
		s->o.poll_ms = 250;
	for (size_t i = 0; i < n_paths && !err; i++) {
		bool followed = o->follow && i + 1 == n_paths;
		struct stat st;

		if (stat(paths[i], &st) < 0) {
			err = -errno;
			say(s, "%s: %s", paths[i], strerror(-err));
		} else if (S_ISDIR(st.st_mode)) {
			/* Followed, an empty directory is a journal that has not started yet. */
			if (!followed && !dir_has_segments(paths[i])) {
				say(s, "%s: no journal here (no journal-*.seg files)", paths[i]);
				err = -ENOENT;
			}
			if (!err)
				err = add_item(s, paths[i], true);
		} else if (followed) {
			say(s, "%s: --follow needs a journal directory, not a file", paths[i]);
			err = -EINVAL;
		} else {
			err = check_file(s, paths[i]);
			if (!err)
				err = add_item(s, paths[i], false);
		}
	}
	if (err == -ENOMEM)
		say(s, "%s", strerror(ENOMEM));
	/*
	 * Summaries let a query skip whole closed segments; a follower reads
	 * everything, and so does a filter a summary cannot answer (none, or
	 * only a pid).
	 */
	for (size_t i = 0; i < s->n_items && !err && summaries_apply(o); i++)
		if (s->items[i].is_dir && (err = plan_dir(s, &s->items[i])))
			say(s, "%s: %s", s->items[i].path, strerror(-err));
	if (!err && (o->resume_seq || o->resume_segment)) {
		if (!o->follow) {
			say(s, "resuming needs following a journal directory");
			err = -EINVAL;
		} else {
			/* Straight to following, from the position given. */
			s->last_seq = o->resume_seq;
			s->last_segment = o->resume_segment;
			s->following = true;
			s->polled = false;
			s->cur = s->n_items;
		}
	}
	if (err) {
		jsource_close(s);
		return err;
	}
	*out = s;
	return 0;
}

static void close_current(struct jsource *s)
{
	if (!s->cur_open)
		return;
	if (s->store) {
		struct jstore_reader_stats rs;

		jstore_reader_stats(s->store, &rs);
		s->st.damaged_regions += rs.damaged_regions;
		jstore_reader_close(s->store);
		s->store = NULL;
		s->table_seen = NULL; /* its paths are gone; a new reader's may reuse the memory */
	}
	s->cur_open = false;
}

static int open_store(struct jsource *s, const char *const *paths, size_t n, bool quiet)
{
	struct jstore_reader_options ro = {
		.include_internal = true,
		.log = quiet ? NULL : s->o.err,
		.prefix = s->o.prefix,
	};

	return jstore_reader_open(&s->store, paths, n, &ro);
}

static int open_current(struct jsource *s)
{
	const struct item *it = &s->items[s->cur];
	const char *p = it->path;
	int err = it->files ? open_store(s, (const char *const *)it->files, it->n_files, false)
			    : open_store(s, &p, 1, false);

	if (!err)
		s->cur_open = true;
	return err;
}

/* A new segment (or file) starts a new string table. */
static int track_segment(struct jsource *s, const struct jstore_record *jr)
{
	if (jr->segment == s->table_seen && jr->segment_seq == s->table_segment)
		return 0;
	s->table_seen = jr->segment;
	if (s->table_path && jr->segment_seq == s->table_segment && !strcmp(jr->segment, s->table_path))
		return 0;
	jrecord_table_reset(s->table);
	if (s->wl_match && s->wl_max)
		memset(s->wl_match, 0, s->wl_max + 1);
	s->wl_max = 0;
	free(s->table_path);
	s->table_path = strdup(jr->segment);
	s->table_segment = jr->segment_seq;
	return s->table_path ? 0 : -ENOMEM;
}

/*
 * Does the prefilter's workload glob exclude this decision, by its workload
 * read without decoding it? Most decisions name their workload by a string
 * id: the glob's answer is kept per id for the segment, so a filtered scan
 * matches each workload name once, not once per decision. false when the
 * quick look cannot tell (the decision is then decoded).
 */
static bool workload_excluded(struct jsource *s, const struct jstore_record *jr)
{
	const uint8_t *text;
	uint32_t id;
	size_t n;
	bool match;

	if (jrecord_peek_text(jr->payload, jr->len, s->table, JF_WORKLOAD, &id, &text, &n) < 0)
		return false;
	if (id && s->wl_match && s->wl_match[id])
		return s->wl_match[id] == 2;
	if (n + 1 > s->scratch_cap) {
		char *bigger = realloc(s->scratch, n + 1);

		if (!bigger)
			return false;
		s->scratch = bigger;
		s->scratch_cap = n + 1;
	}
	memcpy(s->scratch, text, n);
	s->scratch[n] = '\0';
	match = fnmatch(s->o.prefilter->workload_glob, s->scratch, 0) == 0;
	if (id && !s->wl_match)
		s->wl_match = calloc(JRECORD_STRINGS_MAX + 1, 1);
	if (id && s->wl_match) {
		s->wl_match[id] = match ? 1 : 2;
		if (id > s->wl_max)
			s->wl_max = id;
	}
	return !match;
}

/* A store record: a decision (1), a gap reported (0: read on), or another record skipped (0). */
static int take_store_record(struct jsource *s, const struct jstore_record *jr,
			     struct journal_record *rec)
{
	char why[160], t1[JQUERY_TIME_SIZE], t2[JQUERY_TIME_SIZE];
	struct jstore_gap gap;

	/*
	 * Numbers run on over the whole store from 1: a jump is records a
	 * follower never saw (retention, damage), said before what follows.
	 */
	if (s->o.on_gap && jr->seq > s->last_seq + 1) {
		int err = s->o.on_gap(s->o.gap_ctx, NULL, s->last_seq + 1, jr->seq - 1, jr->segment);

		if (err)
			return err < 0 ? err : -ECANCELED;
	}
	s->last_seq = jr->seq;
	s->last_segment = jr->segment_seq;
	if (jr->type == JRECORD_TYPE_DECISION) {
		const struct jquery_filter *f = s->o.prefilter;
		struct jrecord_head h;
		int err;

		/* A record with definitions never passes the peek: it is always decoded. */
		if (f && jrecord_peek(jr->payload, jr->len, &h) &&
		    ((f->since_ns && h.time_ns < f->since_ns) ||
		     (f->until_ns && h.time_ns >= f->until_ns) ||
		     (f->action >= 0 && h.action != f->action) ||
		     (f->verdict >= 0 && h.verdict != f->verdict) ||
		     (f->workload_glob && workload_excluded(s, jr)))) {
			s->st.prefiltered++;
			return 0;
		}
		unsigned unresolved;

		err = jrecord_decode_table(jr->payload, jr->len, s->table, rec, &s->arena, &unresolved,
					   why, sizeof(why));
		if (err == -ENOMEM)
			return err;
		if (err) {
			s->st.malformed++;
			say(s, "%s: record %" PRIu64 " (offset %" PRIu64 "): skipped a malformed decision: %s",
			    jr->segment, jr->seq, jr->offset, why);
			return 0;
		}
		if (unresolved) {
			s->st.unresolved++;
			say(s, "%s: record %" PRIu64 " (offset %" PRIu64 "): %u of its texts are lost "
			    "(their definition, earlier in the segment, is damaged or was not read)",
			    jr->segment, jr->seq, jr->offset, unresolved);
		}
		rec->writer_version = jr->segment_writer;
		s->st.records++;
		return 1;
	}
	if (jr->type == JSTORE_TYPE_GAP && !jstore_decode_gap(jr->payload, jr->len, &gap)) {
		s->st.lost += gap.lost;
		jquery_format_time(gap.first_lost_ns, t1);
		jquery_format_time(gap.last_lost_ns, t2);
		say(s, "%s: %" PRIu64 " decision%s lost from %s to %s: the journal could not be written (%s)",
		    jr->segment, gap.lost, gap.lost == 1 ? "" : "s", t1, t2, strerror((int)gap.error));
		if (s->o.on_gap) {
			int err = s->o.on_gap(s->o.gap_ctx, &gap, 0, 0, jr->segment);

			if (err)
				return err < 0 ? err : -ECANCELED;
		}
	}
	return 0;
}

/* Sleep a poll interval; false when asked to stop. */
static bool follow_wait(struct jsource *s)
{
	if (s->o.stop && *s->o.stop)
		return false;
	poll(NULL, 0, (int)s->o.poll_ms);
	return !(s->o.stop && *s->o.stop);
}

/*
 * Following: open the segments from the last one read on (by name, so that
 * a rotation in between is found; the plain file if it is still there, else
 * its gzip). Records already returned are skipped by sequence number.
 */
static int follow_reopen(struct jsource *s)
{
	const char *dir = s->items[s->n_items - 1].path;
	char **names;
	size_t n;
	int err = list_segments(dir, s->last_segment, &names, &n);

	if (!err && n) {
		err = open_store(s, (const char *const *)names, n, true);
		if (!err)
			s->cur_open = true;
	}
	free_names(names, n);
	/* A file compressed and removed between the listing and the open: next round. */
	return err == -ENOENT ? 0 : err;
}

int jsource_next(struct jsource *s, struct journal_record *rec)
{
	for (;;) {
		struct jstore_record jr;
		int ret;

		if (s->cur >= s->n_items) {
			if (!s->o.follow || !s->n_items)
				return 0;
			/* Follow: poll the last directory again from where we are. */
			s->following = true;
			if (s->o.idle_return) {
				/* Looked once since the last record: nothing new yet. */
				if (s->polled) {
					s->polled = false;
					return -EAGAIN;
				}
				s->polled = true;
			} else if (!follow_wait(s)) {
				return 0;
			}
			s->cur = s->n_items - 1;
			ret = follow_reopen(s);
			if (ret < 0)
				return ret;
			if (!s->cur_open) {
				s->cur = s->n_items;
				continue;
			}
		} else if (!s->cur_open) {
			ret = open_current(s);
			if (ret)
				return ret;
		}
		while ((ret = jstore_read(s->store, &jr)) > 0) {
			ret = track_segment(s, &jr);
			if (ret < 0)
				break;
			if (s->following && jr.seq <= s->last_seq) {
				/* Returned before; its definitions are needed again. */
				if (jr.type == JRECORD_TYPE_DECISION)
					(void)jrecord_table_feed(s->table, jr.payload, jr.len,
								 NULL, 0);
				continue;
			}
			ret = take_store_record(s, &jr, rec);
			if (ret)
				break;
		}
		if (ret > 0) {
			s->polled = false;
			return 1;
		}
		if (ret < 0)
			return ret;
		close_current(s);
		s->cur++;
	}
}

void jsource_stats(const struct jsource *s, struct jsource_stats *st)
{
	*st = s->st;
}

void jsource_position(const struct jsource *s, uint64_t *seq, uint64_t *segment)
{
	*seq = s->last_seq;
	*segment = s->last_segment;
}

void jsource_close(struct jsource *s)
{
	if (!s)
		return;
	if (s->cur < s->n_items)
		close_current(s);
	for (size_t i = 0; i < s->n_items; i++) {
		free(s->items[i].path);
		free_names(s->items[i].files, s->items[i].n_files);
	}
	free(s->items);
	jrecord_buf_free(&s->arena);
	jrecord_table_free(s->table);
	free(s->wl_match);
	free(s->scratch);
	free(s->table_path);
	free(s);
}
