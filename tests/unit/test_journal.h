/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the journal's tests share (test_journal_*.c, test_cli_replay.c,
 * test_cli_export.c): a journal directory with its seal key kept outside it,
 * a small story of decisions written through the daemon's sink, replay's
 * output caught in memory, and verify's verdict. Include after <cmocka.h>.
 */
#ifndef ACTGATE_TEST_JOURNAL_H
#define ACTGATE_TEST_JOURNAL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay.h"
#include "journal/decision.h"
#include "journal/sink.h"
#include "journal/store.h"
#include "test_tree.h"

#define T0 1795871657000000000ull /* 2026-11-28T13:14:17Z */

struct fixture {
	char dir[64];      /* the journal */
	char keydir[64];
	char key[128];
	char policies[128];
	char *out, *err;
	size_t out_len, err_len;
};

static inline int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/actgate-test-journal-XXXXXX");
	strcpy(fx->keydir, "/tmp/actgate-test-journal-key-XXXXXX");
	if (!mkdtemp(fx->dir) || !mkdtemp(fx->keydir))
		return -1;
	snprintf(fx->key, sizeof(fx->key), "%s/journal.key", fx->keydir);
	snprintf(fx->policies, sizeof(fx->policies), "%s/policies", fx->keydir);
	*state = fx;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *fx = *state;

	remove_tree(fx->dir);
	remove_tree(fx->keydir);
	free(fx->out);
	free(fx->err);
	free(fx);
	return 0;
}

/* Decision i of a small story: a shell in ci:build execs tools that open and connect. */
static inline struct journal_record decision(uint32_t i)
{
	static const char *const targets[] = { "/bin/sh", "/usr/bin/curl", "/etc/shadow",
					       "10.0.0.1:443/tcp", "/usr/bin/git" };
	struct journal_record r = {
		.time_ns = T0 + (uint64_t)i * 1000000000ull,
		.action = i % 5 == 2 ? ACTGATE_ACTION_OPEN :
			  i % 5 == 3 ? ACTGATE_ACTION_CONNECT : ACTGATE_ACTION_EXEC,
		.verdict = i % 5 == 1 || i % 5 == 2 ? ACTGATE_VERDICT_DENY : ACTGATE_VERDICT_ALLOW,
		.reason = ACTGATE_REASON_RULE,
		.workload_id = 7,
		.cgroup_id = 99,
		.pid = 1000 + i % 5,
		.tgid = 1000 + i % 5,
		.ppid = i % 5 == 0 ? 900 : 1000,
		.uid = 1000,
		.generation = 1,
		.access = i % 5 == 2 ? ACTGATE_ACCESS_READ : 0,
		.comm = "sh",
		.workload = i % 10 < 5 ? "ci:build" : "ci:test",
		.principal = i % 10 < 5 ? "alice" : "bob",
		.labels = i % 10 < 5 ? "env=ci,team=a" : "env=ci,team=b",
		.policy = "ci",
		.rule = i % 5 == 1 ? "ci:exec.deny[0]" : i % 5 == 2 ? "ci:open.deny[0]" : "ci:exec.default",
		.target = (char *)targets[i % 5],
	};
	return r;
}

/* n decisions through the daemon's sink. */
static inline void write_with_sink(struct fixture *fx, uint32_t n)
{
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct jsink *s;
	uint64_t written, lost;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = decision(i);

		jsink_append(s, &r);
	}
	jsink_flush(s);
	jsink_counts(s, &written, &lost);
	assert_int_equal(written, n);
	assert_int_equal(lost, 0);
	assert_int_equal(jsink_close(s), 0);
}

/* Fresh output streams into fx->out and fx->err. */
static inline void open_streams(struct fixture *fx, FILE **out, FILE **err)
{
	free(fx->out);
	free(fx->err);
	fx->out = fx->err = NULL;
	*out = open_memstream(&fx->out, &fx->out_len);
	*err = open_memstream(&fx->err, &fx->err_len);
	assert_non_null(*out);
	assert_non_null(*err);
}

static inline int replay(struct fixture *fx, const struct replay_options *o)
{
	FILE *out, *err;
	int ret;

	open_streams(fx, &out, &err);
	ret = replay_execute(o, out, err);
	fclose(out);
	fclose(err);
	return ret;
}

static inline size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Replay's JSON lines of the journal that pass f (in fx->out), counted. */
static inline size_t json_lines(struct fixture *fx, const struct jquery_filter *f)
{
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1, .filter = f,
				    .output = REPLAY_JSON };

	assert_int_equal(replay(fx, &o), 0);
	return count_lines(fx->out);
}

/* What verify says of the journal, with the seal key or without. */
static inline enum jstore_damage verify(struct fixture *fx, bool with_key)
{
	const char *paths[] = { fx->dir };
	struct jstore_verify_result res;
	struct jstore_key key;
	int err;

	assert_int_equal(jstore_key_load(fx->key, NULL, &key), 0);
	err = jstore_verify(paths, 1, with_key ? &key : NULL, 0, &res);
	assert_true(err == 0 || err == -EBADMSG);
	return err ? res.damage : JSTORE_INTACT;
}

#endif /* ACTGATE_TEST_JOURNAL_H */
