// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* actgate replay: filters, the exact table and JSON output, and failures. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_tree.h"

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/replay.h"
#include "journal/decision.h"
#include "journal/sink.h"

struct fixture {
	char dir[64];      /* the journal */
	char keydir[64];   /* its seal key, kept outside it */
	char key[128];
	char path[128];    /* its first segment, compressed when the sink closed it */
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

static void set(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	assert_non_null(*field);
}

/* Four records that between them exercise every column and every filter. */
static void make_records(struct journal_record r[4])
{
	memset(r, 0, 4 * sizeof(*r));

	r[0].time_ns = 1795871657123456789ull;
	r[0].action = ACTGATE_ACTION_EXEC;
	r[0].verdict = ACTGATE_VERDICT_DENY;
	r[0].mode = ACTGATE_MODE_ENFORCE;
	r[0].reason = ACTGATE_REASON_RULE;
	r[0].workload_id = 7;
	r[0].cgroup_id = 12345;
	r[0].pid = 100;
	r[0].tgid = 101;
	r[0].ppid = 1;
	r[0].uid = 1000;
	r[0].generation = 3;
	strcpy(r[0].comm, "curl");
	set(&r[0].workload, "ci-runner");
	set(&r[0].principal, "alice@example.com");
	set(&r[0].labels, "env=ci,team=infra");
	set(&r[0].policy, "ci-runner");
	set(&r[0].rule, "ci-runner:exec.deny[0]");
	set(&r[0].target, "/usr/bin/curl");

	r[1].time_ns = 1795871658000000000ull;
	r[1].action = ACTGATE_ACTION_OPEN;
	r[1].verdict = ACTGATE_VERDICT_ALLOW;
	r[1].mode = ACTGATE_MODE_AUDIT;
	r[1].reason = ACTGATE_REASON_DEFAULT;
	r[1].workload_id = 8;
	r[1].cgroup_id = 2;
	r[1].pid = 4194304;
	r[1].tgid = 4194304;
	r[1].ppid = 2;
	r[1].generation = 1;
	strcpy(r[1].comm, "cat");
	set(&r[1].workload, "web-frontend-long-name-x");
	set(&r[1].policy, "web");
	set(&r[1].rule, "web:open.default");
	set(&r[1].target, "/etc/passwd");
	r[1].access = ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE;

	r[2].time_ns = 1795871659999999999ull;
	r[2].action = ACTGATE_ACTION_CONNECT;
	r[2].verdict = ACTGATE_VERDICT_DENY;
	r[2].mode = ACTGATE_MODE_AUDIT;
	r[2].reason = ACTGATE_REASON_RULE;
	r[2].workload_id = 7;
	r[2].cgroup_id = 12345;
	r[2].pid = 7;
	r[2].tgid = 7;
	r[2].ppid = 1;
	r[2].uid = 1000;
	r[2].generation = 4;
	strcpy(r[2].comm, "nc");
	set(&r[2].workload, "ci-runner");
	set(&r[2].principal, "bob");
	set(&r[2].labels, "b=2,a=1,,=x,c,a=3,d=e=f");
	set(&r[2].policy, "ci-runner");
	set(&r[2].target, "10.0.0.1:443/tcp");

	/* Hostile text: a newline and an escape sequence must not forge a row. */
	r[3].action = ACTGATE_ACTION_EXEC;
	strcpy(r[3].comm, "\xff");
	set(&r[3].rule, "x");
	set(&r[3].target, "/tmp/evil\nFAKE ROW\x1b[2J\\");
}

/* n records through the daemon's sink, record i being r[pick(i)]. */
static int write_records(struct fixture *fx, struct journal_record *r, size_t n,
			 size_t (*pick)(size_t))
{
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	uint64_t written, lost;
	struct jsink *s;

	if (jsink_open(&s, &cfg))
		return -1;
	for (size_t i = 0; i < n; i++)
		jsink_append(s, &r[pick ? pick(i) : i]);
	jsink_counts(s, &written, &lost);
	if (jsink_close(s) || lost)
		return -1;
	return 0;
}

static int setup(void **state)
{
	struct journal_record r[4];
	struct fixture *fx = calloc(1, sizeof(*fx));
	int i, err;

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/actgate-test-replay-XXXXXX");
	strcpy(fx->keydir, "/tmp/actgate-test-replay-key-XXXXXX");
	if (!mkdtemp(fx->dir) || !mkdtemp(fx->keydir))
		return -1;
	snprintf(fx->key, sizeof(fx->key), "%s/journal.key", fx->keydir);
	snprintf(fx->path, sizeof(fx->path), "%s/journal-%016x.seg.gz", fx->dir, 1);
	make_records(r);
	err = write_records(fx, r, 4, NULL);
	for (i = 0; i < 4; i++)
		journal_record_clear(&r[i]);
	if (err)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	remove_tree(fx->dir);
	remove_tree(fx->keydir);
	free(fx->out);
	free(fx->err);
	free(fx);
	return 0;
}

/* Run replay on path with f; output and messages land in fx->out and fx->err. */
static int run(struct fixture *fx, const char *path, const struct jquery_filter *f, bool json)
{
	struct replay_options o = { .paths = &path, .n_paths = 1, .filter = f,
				    .output = json ? REPLAY_JSON : REPLAY_TABLE };
	FILE *out, *err;
	int ret;

	free(fx->out);
	free(fx->err);
	fx->out = fx->err = NULL;
	out = open_memstream(&fx->out, &fx->out_len);
	err = open_memstream(&fx->err, &fx->err_len);
	assert_non_null(out);
	assert_non_null(err);
	ret = replay_execute(&o, out, err);
	fclose(out);
	fclose(err);
	return ret;
}

#define HEADER                                                                                   \
	"TIME                      WORKLOAD              PID  ACTION            VERDICT       TARGET      " \
	"                      RULE\n"
#define ROW0                                                                                     \
	"2026-11-28T13:14:17.123Z  ci-runner             100  exec              deny          /usr/bin/cur" \
	"l                     ci-runner:exec.deny[0]\n"
#define ROW1                                                                                     \
	"2026-11-28T13:14:18.000Z  web-frontend-long-name-x  4194304  open(read,write)  allow(audit)  /etc" \
	"/passwd                       web:open.default\n"
#define ROW2                                                                                     \
	"2026-11-28T13:14:19.999Z  ci-runner               7  connect           deny(audit)   10.0.0.1:443" \
	"/tcp                  -\n"
#define ROW3                                                                                     \
	"1970-01-01T00:00:00.000Z  -                       0  exec              allow         /tmp/evil\\x" \
	"0aFAKE ROW\\x1b[2J\\\\    x\n"

#define JSON0                                                                                    \
	"{\"time\":\"2026-11-28T13:14:17.123Z\",\"time_ns\":1795871657123456789,\"action\":\"exec\"," \
	"\"verdict\":\"deny\",\"enforced\":true,\"mode\":\"enforce\",\"reason\":\"rule\","          \
	"\"workload\":\"ci-runner\",\"workload_id\":7,\"cgroup\":12345,\"pid\":100,\"tgid\":101,"   \
	"\"ppid\":1,\"uid\":1000,\"comm\":\"curl\",\"target\":\"/usr/bin/curl\",\"access\":\"\","     \
	"\"rule\":\"ci-runner:exec.deny[0]\",\"policy\":\"ci-runner\","                            \
	"\"principal\":\"alice@example.com\",\"labels\":{\"env\":\"ci\",\"team\":\"infra\"},"       \
	"\"generation\":3}\n"
#define JSON1                                                                                    \
	"{\"time\":\"2026-11-28T13:14:18.000Z\",\"time_ns\":1795871658000000000,\"action\":\"open\"," \
	"\"verdict\":\"allow\",\"enforced\":false,\"mode\":\"audit\",\"reason\":\"default\","       \
	"\"workload\":\"web-frontend-long-name-x\",\"workload_id\":8,\"cgroup\":2,\"pid\":4194304," \
	"\"tgid\":4194304,\"ppid\":2,\"uid\":0,\"comm\":\"cat\",\"target\":\"/etc/passwd\","        \
	"\"access\":\"read,write\","                                                              \
	"\"rule\":\"web:open.default\",\"policy\":\"web\",\"principal\":\"\",\"labels\":{},"         \
	"\"generation\":1}\n"
#define JSON2                                                                                    \
	"{\"time\":\"2026-11-28T13:14:19.999Z\",\"time_ns\":1795871659999999999,"                  \
	"\"action\":\"connect\",\"verdict\":\"deny\",\"enforced\":false,\"mode\":\"audit\","         \
	"\"reason\":\"rule\",\"workload\":\"ci-runner\",\"workload_id\":7,\"cgroup\":12345,"        \
	"\"pid\":7,\"tgid\":7,\"ppid\":1,\"uid\":1000,\"comm\":\"nc\","                              \
	"\"target\":\"10.0.0.1:443/tcp\",\"access\":\"\",\"rule\":\"\",\"policy\":\"ci-runner\","     \
	"\"principal\":\"bob\",\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"\",\"d\":\"e=f\"},"       \
	"\"generation\":4}\n"
#define JSON3                                                                                    \
	"{\"time\":\"1970-01-01T00:00:00.000Z\",\"time_ns\":0,\"action\":\"exec\","                \
	"\"verdict\":\"allow\",\"enforced\":true,\"mode\":\"enforce\",\"reason\":\"default\","      \
	"\"workload\":\"\",\"workload_id\":0,\"cgroup\":0,\"pid\":0,\"tgid\":0,\"ppid\":0,"         \
	"\"uid\":0,\"comm\":\"\\ufffd\",\"target\":\"/tmp/evil\\u000aFAKE ROW\\u001b[2J\\\\\","     \
	"\"access\":\"\",\"rule\":\"x\",\"policy\":\"\",\"principal\":\"\",\"labels\":{},\"generation\":0}\n"

static void test_format_time(void **state)
{
	char buf[JQUERY_TIME_SIZE];

	(void)state;
	jquery_format_time(1795871657123456789ull, buf);
	assert_string_equal(buf, "2026-11-28T13:14:17.123Z");
	jquery_format_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	jquery_format_time(1999999999ull, buf);
	assert_string_equal(buf, "1970-01-01T00:00:01.999Z");
	jquery_format_time(UINT64_MAX, buf);
	assert_string_equal(buf, "2554-07-21T23:34:33.709Z");
}

static void test_filter_match(void **state)
{
	struct journal_record r[4];
	struct jquery_filter f = JQUERY_FILTER_ANY;
	int i;

	(void)state;
	make_records(r);
	for (i = 0; i < 4; i++) {
		assert_true(jquery_match(NULL, &r[i]));
		assert_true(jquery_match(&f, &r[i]));
	}
	f.workload_glob = "ci-*";
	assert_true(jquery_match(&f, &r[0]));
	assert_false(jquery_match(&f, &r[1]));
	assert_true(jquery_match(&f, &r[2]));
	assert_false(jquery_match(&f, &r[3])); /* no workload */
	f.workload_glob = "*";
	assert_true(jquery_match(&f, &r[3]));
	f.workload_glob = "web-[a-f]*-x";
	assert_true(jquery_match(&f, &r[1]));
	f.workload_glob = "ci-runne";
	assert_false(jquery_match(&f, &r[0]));
	f.workload_glob = NULL;
	f.action = ACTGATE_ACTION_CONNECT;
	assert_false(jquery_match(&f, &r[0]));
	assert_true(jquery_match(&f, &r[2]));
	f.action = -1;
	f.verdict = ACTGATE_VERDICT_ALLOW;
	assert_false(jquery_match(&f, &r[0]));
	assert_true(jquery_match(&f, &r[1]));
	assert_false(jquery_match(&f, &r[2]));
	assert_true(jquery_match(&f, &r[3]));
	f.workload_glob = "ci-*";
	assert_false(jquery_match(&f, &r[1]));
	for (i = 0; i < 4; i++)
		journal_record_clear(&r[i]);
}

static void test_table(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run(fx, fx->dir, NULL, false), 0);
	assert_string_equal(fx->out, HEADER ROW0 ROW1 ROW2 ROW3);
	assert_string_equal(fx->err, "");
}

static void test_json(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run(fx, fx->path, NULL, true), 0);
	assert_string_equal(fx->out, JSON0 JSON1 JSON2 JSON3);
	assert_string_equal(fx->err, "");
}

static void test_filters_in_output(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;

	f.workload_glob = "ci-*";
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_string_equal(fx->out, HEADER ROW0 ROW2);
	assert_int_equal(run(fx, fx->dir, &f, true), 0);
	assert_string_equal(fx->out, JSON0 JSON2);

	f.workload_glob = NULL;
	f.action = ACTGATE_ACTION_CONNECT;
	assert_int_equal(run(fx, fx->dir, &f, true), 0);
	assert_string_equal(fx->out, JSON2);

	f.action = -1;
	f.verdict = ACTGATE_VERDICT_ALLOW;
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_string_equal(fx->out, HEADER ROW1 ROW3);

	f.workload_glob = "ci-*";
	f.action = ACTGATE_ACTION_EXEC;
	f.verdict = ACTGATE_VERDICT_DENY;
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_string_equal(fx->out, HEADER ROW0);

	/* No match is success: the header alone, or nothing at all. */
	f.workload_glob = "nobody";
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_string_equal(fx->out, HEADER);
	assert_int_equal(run(fx, fx->dir, &f, true), 0);
	assert_string_equal(fx->out, "");
	assert_string_equal(fx->err, "");
}

static void test_failures(void **state)
{
	struct fixture *fx = *state;
	const char *dir = fx->dir;
	struct replay_options o = { .paths = &dir, .n_paths = 1, .output = REPLAY_JSON };
	char path[128], expect[512];
	FILE *full, *err;
	char *said = NULL;
	size_t said_len;

	snprintf(path, sizeof(path), "%s/none", fx->dir);
	assert_int_equal(run(fx, path, NULL, false), -ENOENT);
	snprintf(expect, sizeof(expect), "actgate: replay: %s: No such file or directory\n", path);
	assert_string_equal(fx->err, expect);
	assert_string_equal(fx->out, "");

	/* A directory without a journal says what it looked for. */
	snprintf(path, sizeof(path), "%s/empty", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(run(fx, path, NULL, false), -ENOENT);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: %s: no journal here (no journal-*.seg files)\n", path);
	assert_string_equal(fx->err, expect);

	snprintf(path, sizeof(path), "%s/passwd", fx->dir);
	full = fopen(path, "we");
	assert_non_null(full);
	fputs("root:x:0:0::/root:/bin/sh\n", full);
	fclose(full);
	assert_int_equal(run(fx, path, NULL, true), -EINVAL);
	snprintf(expect, sizeof(expect), "actgate: replay: %s: not an actgate journal segment\n",
		 path);
	assert_string_equal(fx->err, expect);
	assert_string_equal(fx->out, "");

	/* Output that cannot be written is a failure, reported once. */
	full = fopen("/dev/full", "we");
	if (!full)
		skip();
	err = open_memstream(&said, &said_len);
	assert_non_null(err);
	assert_int_equal(replay_execute(&o, full, err), -ENOSPC);
	fclose(full);
	fclose(err);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: writing the output: No space left on device\n");
	assert_string_equal(said, expect);
	free(said);
}

/* Every fourth record is the open. */
static size_t mostly_exec(size_t i)
{
	return i % 4 == 1 ? 1 : 0;
}

static void test_many_records_stream(void **state)
{
	struct fixture *fx = *state;
	struct journal_record r[4];
	struct jquery_filter f = JQUERY_FILTER_ANY;
	char *p;
	int i, lines = 0;

	make_records(r);
	assert_int_equal(write_records(fx, r, 20000, mostly_exec), 0);
	f.action = ACTGATE_ACTION_OPEN;
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	for (p = fx->out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 1 + 1 + 5000); /* header, the setup's open, 5000 more */
	for (i = 0; i < 4; i++)
		journal_record_clear(&r[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_filter_match),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_in_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_records_stream, setup, teardown),
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
