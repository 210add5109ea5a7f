/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the export tests share (test_journal_export*.c): a journal written
 * while the follower runs, decisions numbered by their pid, and the lines a
 * receiver got checked: every decision once, in order, gaps where they were.
 * Include after test_journal.h.
 */
#ifndef ACTGATE_TEST_EXPORT_H
#define ACTGATE_TEST_EXPORT_H

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal/export.h"
#include "journal/source.h"

/* Decision i: pid i, its time T0 + i, a target of its own. */
static inline struct journal_record numbered_decision(uint32_t i, char target[48])
{
	struct journal_record r = decision(i);

	r.time_ns = T0 + i;
	r.pid = r.tgid = i;
	snprintf(target, 48, "/srv/data/file-%u", i);
	r.target = target;
	return r;
}

/* Decisions [first, first + n) through the daemon's sink, flushed every `every`, napping nap_ms. */
static inline void append_range(struct jsink *s, uint32_t first, uint32_t n, unsigned every,
				unsigned nap_ms)
{
	for (uint32_t i = first; i < first + n; i++) {
		char target[48];
		struct journal_record r = numbered_decision(i, target);

		jsink_append(s, &r);
		if (i % every == every - 1) {
			jsink_flush(s);
			jsink_tick(s);
			if (nap_ms)
				poll(NULL, 0, (int)nap_ms);
		}
	}
	jsink_flush(s);
}

/* A whole file, NUL-terminated (NULL when missing). */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + n, 1, 4096, f);

		n += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* The number after "key": in a JSON line (or after key= in a syslog SD); -1 if absent. */
static inline long long member(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

struct received {
	size_t decisions, gaps, duplicates, lines;
	long long lost;      /* from gap events */
	long long first_gap_after; /* the pid of the decision before the first gap (-1: none) */
	bool in_order;
	long long next_pid;  /* the pid expected next */
};

/*
 * Lines with a decision's "pid": and "seq": (JSONL, or inside a syslog or
 * OTLP line, escaped or not). dedup: a line whose seq came before is a
 * duplicate (counted, skipped): at least once with deduplication by id.
 */
static inline struct received check_lines(const char *text, bool dedup, const char *pid_key,
					   const char *seq_key)
{
	struct received r = { .in_order = true, .first_gap_after = -1 };
	long long last_seq = 0;
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		long long seq = member(copy, seq_key);

		assert_non_null(copy);
		r.lines++;
		if (seq > 0 && dedup && seq <= last_seq) {
			r.duplicates++;
		} else if (strstr(copy, "gap")) {
			r.gaps++;
			if (r.first_gap_after < 0)
				r.first_gap_after = r.next_pid - 1;
			const char *l = strstr(copy, "lost");

			if (l)
				r.lost += member(l, "lost\\\":") > 0 ? member(l, "lost\\\":")
								       : member(l, "lost\":");
		} else {
			long long pid = member(copy, pid_key);

			if (pid >= 0) {
				if (pid != r.next_pid)
					r.in_order = false;
				r.next_pid = pid + 1;
				r.decisions++;
			}
		}
		if (seq > last_seq)
			last_seq = seq;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return r;
}

/* A follower in a child process (killed or stopped by the caller). */
static inline pid_t start_follower(const struct jexport_config *c)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *devnull = fopen("/dev/null", "we");
		struct jexport_config cc = *c;

		cc.err = devnull;
		_exit(jexport_run(&cc) ? 1 : 0);
	}
	return pid;
}

static inline int wait_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

#endif /* ACTGATE_TEST_EXPORT_H */

/*
 * The follower killed with SIGKILL `kills` times while a writer journals
 * `n` decisions (small segments: rotation and compression on the way),
 * then run once more, not following, until caught up. Returns how many
 * kills found the cursor moved on since the one before (the follower was
 * shipping when killed).
 */
static inline unsigned stream_with_kills(struct fixture *fx, const struct jexport_config *c,
					 uint32_t n, unsigned kills)
{
	struct jexport_cursor cur;
	uint64_t last_exported = 0;
	unsigned progressed = 0;
	char why[256];
	pid_t writer = fork();

	assert_true(writer >= 0);
	if (writer == 0) {
		struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
					    .segment_max_bytes = 32 << 10 };
		struct jsink *s;

		if (jsink_open(&s, &cfg))
			_exit(1);
		append_range(s, 0, n, 16, 4);
		_exit(jsink_close(s) ? 1 : 0);
	}
	srand(18);
	for (unsigned k = 0; k < kills; k++) {
		pid_t f = start_follower(c);

		/*
		 * Killed once it shipped something since the last kill (at most
		 * ~30 s: slow under valgrind or a loaded machine), or once it has
		 * everything: a kill mid-stream without depending on the speed.
		 */
		for (int i = 0; i < 3000 && c->cursor_path; i++) {
			if (!jexport_cursor_load(c->cursor_path, &cur, why, sizeof(why)) &&
			    (cur.exported > last_exported || cur.exported >= n))
				break;
			poll(NULL, 0, 10);
		}
		poll(NULL, 0, rand() % 40);
		assert_int_equal(kill(f, SIGKILL), 0);
		assert_true(WIFSIGNALED(wait_status(f)));
		if (c->cursor_path && !jexport_cursor_load(c->cursor_path, &cur, why, sizeof(why)) &&
		    cur.exported > last_exported) {
			progressed++;
			last_exported = cur.exported;
		}
	}
	assert_int_equal(wait_status(writer), 0);
	struct jexport_config last = *c;

	last.follow = false;
	assert_int_equal(wait_status(start_follower(&last)), 0);
	return progressed;
}

/* Wait (at most ~20 s: a bound for a stuck receiver, not a measurement) for lines in a file. */
static inline char *wait_lines(const char *path, size_t lines)
{
	for (int i = 0; i < 400; i++) {
		char *text = slurp(path, NULL);

		if (text && count_lines(text) >= lines)
			return text;
		free(text);
		poll(NULL, 0, 50);
	}
	return slurp(path, NULL);
}
