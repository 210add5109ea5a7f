// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Decisions through the journal store and back: the daemon's sink, replay
 * (filters, times, stats, tree, what-if, export), verify; and at the
 * decision level the damage list of issue 5 (torn tail at every offset of
 * the last decision, flipped bytes, removed / duplicated / reordered
 * decisions, a removed segment, a full disk), each seen by verify while
 * replay returns every intact decision. The store's own mechanics (the
 * chain rewritten without the key, compression, retention) are in
 * test_jstore.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tree.h"

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/export.h"
#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/record.h"
#include "journal/sink.h"
#include "journal/source.h"
#include "journal/store.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"

#define T0 1795871657000000000ull /* 2026-11-28T13:14:17Z */

struct fixture {
	char dir[64];      /* the journal */
	char keydir[64];
	char key[128];
	char policies[128];
	char *out, *err;
	size_t out_len, err_len;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/actgate-test-jreplay-XXXXXX");
	strcpy(fx->keydir, "/tmp/actgate-test-jreplay-key-XXXXXX");
	if (!mkdtemp(fx->dir) || !mkdtemp(fx->keydir))
		return -1;
	snprintf(fx->key, sizeof(fx->key), "%s/journal.key", fx->keydir);
	snprintf(fx->policies, sizeof(fx->policies), "%s/policies", fx->keydir);
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

/* Decision i of a small story: a shell in ci:build execs tools that open and connect. */
static struct journal_record decision(uint32_t i)
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
static void write_with_sink(struct fixture *fx, uint32_t n)
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
static void open_streams(struct fixture *fx, FILE **out, FILE **err)
{
	free(fx->out);
	free(fx->err);
	fx->out = fx->err = NULL;
	*out = open_memstream(&fx->out, &fx->out_len);
	*err = open_memstream(&fx->err, &fx->err_len);
	assert_non_null(*out);
	assert_non_null(*err);
}

static int replay(struct fixture *fx, const struct replay_options *o)
{
	FILE *out, *err;
	int ret;

	free(fx->out);
	free(fx->err);
	fx->out = fx->err = NULL;
	open_streams(fx, &out, &err);
	assert_non_null(out);
	assert_non_null(err);
	ret = replay_execute(o, out, err);
	fclose(out);
	fclose(err);
	return ret;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static size_t json_lines(struct fixture *fx, const struct jquery_filter *f)
{
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1, .filter = f,
				    .output = REPLAY_JSON };

	assert_int_equal(replay(fx, &o), 0);
	return count_lines(fx->out);
}

static void test_sink_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct stat st;

	(void)state;
	write_with_sink(fx, 10);
	/* The key was made outside the journal, for root only. */
	assert_int_equal(stat(fx->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(json_lines(fx, NULL), 10);
	assert_non_null(strstr(fx->out,
		"{\"time\":\"2026-11-28T13:14:18.000Z\",\"time_ns\":1795871658000000000,"
		"\"action\":\"exec\",\"verdict\":\"deny\",\"enforced\":true,\"mode\":\"enforce\","
		"\"reason\":\"rule\",\"workload\":\"ci:build\",\"workload_id\":7,\"cgroup\":99,"
		"\"pid\":1001,\"tgid\":1001,\"ppid\":1000,\"uid\":1000,\"comm\":\"sh\","
		"\"target\":\"/usr/bin/curl\",\"access\":\"\",\"rule\":\"ci:exec.deny[0]\","
		"\"policy\":\"ci\",\"principal\":\"alice\",\"labels\":{\"env\":\"ci\",\"team\":\"a\"},"
		"\"generation\":1}\n"));
	assert_string_equal(fx->err, "");
	/* A second writer (the restarted daemon) continues the same journal. */
	write_with_sink(fx, 10);
	assert_int_equal(json_lines(fx, NULL), 20);
}

/* The store's worker threads block every signal: the daemon's signalfd must get them all. */
static void test_workers_take_no_signal(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct dirent *de;
	size_t others = 0;
	struct jsink *s;
	DIR *d;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long mask;

			if (sscanf(line, "SigBlk: %llx", &mask) != 1)
				continue;
			others++;
			assert_true(mask & (1ull << (SIGTERM - 1)));
			assert_true(mask & (1ull << (SIGHUP - 1)));
			assert_true(mask & (1ull << (SIGINT - 1)));
		}
		fclose(f);
	}
	closedir(d);
	assert_true(others >= 1); /* the compression worker */
	assert_int_equal(jsink_close(s), 0);
}

static void test_filters(void **state)
{
	struct fixture *fx = *state;
	struct jquery_filter f = JQUERY_FILTER_ANY;
	const char *team_b[] = { "team=b" }, *both[] = { "team=b", "env=ci" }, *none[] = { "team" };

	write_with_sink(fx, 20);
	assert_int_equal(json_lines(fx, &f), 20);
	f.since_ns = T0 + 5000000000ull;
	assert_int_equal(json_lines(fx, &f), 15);
	f.until_ns = T0 + 10000000000ull;
	assert_int_equal(json_lines(fx, &f), 5);
	f = JQUERY_FILTER_ANY;
	f.principal = "bob";
	assert_int_equal(json_lines(fx, &f), 10);
	f.principal = "bo";
	assert_int_equal(json_lines(fx, &f), 0);
	f = JQUERY_FILTER_ANY;
	f.labels = team_b;
	f.n_labels = 1;
	assert_int_equal(json_lines(fx, &f), 10);
	f.labels = both;
	f.n_labels = 2;
	assert_int_equal(json_lines(fx, &f), 10);
	f.labels = none; /* "team" alone means an empty value: no record has it */
	f.n_labels = 1;
	assert_int_equal(json_lines(fx, &f), 0);
	f = JQUERY_FILTER_ANY;
	f.rule_glob = "ci:*.deny\\[*\\]";
	assert_int_equal(json_lines(fx, &f), 8);
	f = JQUERY_FILTER_ANY;
	f.target_glob = "/usr/bin/*";
	assert_int_equal(json_lines(fx, &f), 8);
	f = JQUERY_FILTER_ANY;
	f.pid = 1003;
	assert_int_equal(json_lines(fx, &f), 4);
	assert_null(strstr(fx->out, "\"pid\":1002"));
	f.action = ACTGATE_ACTION_CONNECT;
	f.workload_glob = "ci:t*";
	assert_int_equal(json_lines(fx, &f), 2);
}

static void test_parse_time(void **state)
{
	char why[256];
	uint64_t ns;

	(void)state;
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17Z", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0);
	assert_int_equal(jquery_parse_time("2026-11-28t13:14:17.25z", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 + 250000000ull);
	assert_int_equal(jquery_parse_time("2026-11-28T14:14:17+01:00", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0);
	assert_int_equal(jquery_parse_time("2026-11-28T12:44:17.000000001-00:30", 0, &ns, why,
					   sizeof(why)), 0);
	assert_true(ns == T0 + 1);
	assert_int_equal(jquery_parse_time("2026-11-28", 0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - (13 * 3600 + 14 * 60 + 17) * 1000000000ull);
	assert_int_equal(jquery_parse_time("2h", T0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - 7200000000000ull);
	assert_int_equal(jquery_parse_time("30m", T0, &ns, why, sizeof(why)), 0);
	assert_true(ns == T0 - 1800000000000ull);
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "offset"));
	assert_int_equal(jquery_parse_time("2026-02-31T00:00:00Z", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2026-11-28T25:00:00Z", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("yesterday", 0, &ns, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "RFC 3339"));
	assert_int_equal(jquery_parse_time("2x", T0, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2h", 1000, &ns, why, sizeof(why)), -EINVAL);
	assert_int_equal(jquery_parse_time("2026-11-28T13:14:17Zjunk", 0, &ns, why, sizeof(why)),
			 -EINVAL);
}

static void test_stats(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1, .output = REPLAY_STATS };

	write_with_sink(fx, 10);
	assert_int_equal(replay(fx, &o), 0);
	assert_string_equal(fx->out,
			    "WORKLOAD  ACTION    VERDICT              COUNT\n"
			    "ci:build  exec      allow                    2\n"
			    "ci:build  exec      deny                     1\n"
			    "ci:build  open      deny                     1\n"
			    "ci:build  connect   allow                    1\n"
			    "ci:test   exec      allow                    2\n"
			    "ci:test   exec      deny                     1\n"
			    "ci:test   open      deny                     1\n"
			    "ci:test   connect   allow                    1\n"
			    "total                                       10\n");
	o.output = REPLAY_STATS_JSON;
	assert_int_equal(replay(fx, &o), 0);
	assert_int_equal(count_lines(fx->out), 8);
	assert_non_null(strstr(fx->out, "{\"workload\":\"ci:build\",\"action\":\"exec\","
					"\"verdict\":\"allow\",\"enforced\":true,\"count\":2}\n"));
}

static void test_tree(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1, .output = REPLAY_TREE,
				    .tree_workload = "ci:build" };

	write_with_sink(fx, 10);
	assert_int_equal(replay(fx, &o), 0);
	/* 1000 (/bin/sh, parent 900 not seen) is the root; 1001..1004 are its children. */
	assert_string_equal(
		fx->out,
		"workload ci:build\n"
		"1000 /bin/sh (ppid 900, uid 1000)\n"
		"    2026-11-28T13:14:17.000Z  exec              allow         /bin/sh                           ci:exec.default\n"
		"  `- 1001 sh (ppid 1000, uid 1000)\n"
		"         2026-11-28T13:14:18.000Z  exec              deny          /usr/bin/curl                     ci:exec.deny[0]\n"
		"  `- 1002 sh (ppid 1000, uid 1000)\n"
		"         2026-11-28T13:14:19.000Z  open(read)        deny          /etc/shadow                       ci:open.deny[0]\n"
		"  `- 1003 sh (ppid 1000, uid 1000)\n"
		"         2026-11-28T13:14:20.000Z  connect           allow         10.0.0.1:443/tcp                  ci:exec.default\n"
		"  `- 1004 /usr/bin/git (ppid 1000, uid 1000)\n"
		"         2026-11-28T13:14:21.000Z  exec              allow         /usr/bin/git                      ci:exec.default\n");
	o.tree_workload = "nobody";
	assert_int_equal(replay(fx, &o), 0);
	assert_string_equal(fx->out, "");
	assert_non_null(strstr(fx->err, "no matching record"));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_what_if(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1 };
	struct policy_set set = { 0 };
	struct diag_list diags = { 0 };
	struct whatif_totals t;
	char file[256];
	FILE *out, *err;

	write_with_sink(fx, 10);
	assert_int_equal(mkdir(fx->policies, 0700), 0);
	snprintf(file, sizeof(file), "%s/ci.yaml", fx->policies);
	/* curl is allowed now, git denied; only ci:build is selected. */
	write_file(file, "apiVersion: actgate.dev/v1\n"
			 "kind: Policy\n"
			 "metadata: {name: ci2}\n"
			 "spec:\n"
			 "  selector: {workloads: [\"ci:build\"]}\n"
			 "  exec: {default: allow, deny: [/usr/bin/git]}\n"
			 "  open: {default: allow, deny: [/etc/shadow]}\n"
			 "  connect: {default: allow}\n");
	assert_int_equal(policy_load_dir(fx->policies, &set, &diags), 0);
	open_streams(fx, &out, &err);
	assert_int_equal(replay_what_if(&o, &set, false, &t, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(t.records, 10);
	assert_int_equal(t.now_allowed, 1); /* curl */
	assert_int_equal(t.now_denied, 1);  /* git */
	assert_int_equal(t.same, 3);
	assert_int_equal(t.skipped, 5);     /* ci:test: no candidate selects it */
	assert_non_null(strstr(fx->out, "deny->allow   /usr/bin/curl                     ci2:exec.default\n"));
	assert_non_null(strstr(fx->out, "allow->deny   /usr/bin/git                      ci2:exec.deny[0]\n"));
	assert_non_null(strstr(fx->out, "what-if: 10 decisions: 2 would change (1 allow->deny, 1 deny->allow), 3 the same, 5 not decided again"));
	open_streams(fx, &out, &err);
	assert_int_equal(replay_what_if(&o, &set, true, &t, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(count_lines(fx->out), 3);
	assert_non_null(strstr(fx->out, "\"what_if\":\"now-denied\",\"what_if_verdict\":\"deny\","
					"\"what_if_mode\":\"enforce\",\"what_if_rule\":\"ci2:exec.deny[0]\","
					"\"what_if_policy\":\"ci2\"}"));
	assert_non_null(strstr(fx->out, "{\"summary\":true,\"records\":10,\"same\":3,\"now_denied\":1,"
					"\"now_allowed\":1,\"skipped\":5}\n"));
	policy_set_free(&set);
	diag_list_free(&diags);
}

static void test_export(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jquery_filter f = JQUERY_FILTER_ANY;
	struct replay_options o = { .paths = paths, .n_paths = 1, .filter = &f };
	FILE *out, *err;

	write_with_sink(fx, 5);
	open_streams(fx, &out, &err);
	assert_int_equal(export_run(&o, EXPORT_OCSF, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(count_lines(fx->out), 5);
	/* The denied exec: Process Activity / Launch, denied and blocked. */
	assert_non_null(strstr(fx->out,
		"{\"class_uid\":1007,\"class_name\":\"Process Activity\",\"category_uid\":1,"
		"\"category_name\":\"System Activity\",\"activity_id\":1,\"activity_name\":\"Launch\","
		"\"type_uid\":100701,\"time\":1795871658000,\"severity_id\":3,\"severity\":\"Medium\","
		"\"action_id\":2,\"action\":\"Denied\",\"disposition_id\":2,\"disposition\":\"Blocked\","
		"\"status_id\":2,\"status\":\"Failure\",\"metadata\":{\"version\":\"1.1.0\","
		"\"product\":{\"name\":\"actgate\",\"vendor_name\":\"actgate\"}},"
		"\"actor\":{\"process\":{\"pid\":1001,\"tid\":1001,\"name\":\"sh\",\"user\":{\"uid\":\"1000\"}}},"
		"\"process\":{\"file\":{\"path\":\"/usr/bin/curl\"},\"parent_process\":{\"pid\":1000}},"
		"\"message\":\"/usr/bin/curl\",\"unmapped\":{\"workload\":\"ci:build\""));
	assert_non_null(strstr(fx->out, "\"class_uid\":1001,"));
	assert_non_null(strstr(fx->out, "\"file\":{\"path\":\"/etc/shadow\"}"));
	assert_non_null(strstr(fx->out, "\"dst_endpoint\":{\"ip\":\"10.0.0.1\",\"port\":443},"
					"\"connection_info\":{\"protocol_name\":\"tcp\"}"));
	f.action = ACTGATE_ACTION_OPEN;
	open_streams(fx, &out, &err);
	assert_int_equal(export_run(&o, EXPORT_JSONL, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(count_lines(fx->out), 1);
	assert_non_null(strstr(fx->out, "\"target\":\"/etc/shadow\",\"access\":\"read\""));
}

/* ---- damage, at the decision level ---- */

struct frame {
	size_t off, len;
	uint16_t type;
};

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static size_t frames_of(const uint8_t *seg, size_t len, struct frame *f, size_t max)
{
	size_t n = 0;

	for (size_t off = JSTORE_HEADER_SIZE; off + 24 <= len && n < max;) {
		uint32_t plen;
		uint16_t type;

		memcpy(&plen, seg + off + 4, 4);
		memcpy(&type, seg + off + 8, 2);
		f[n++] = (struct frame){ off, 24 + plen, type };
		off += 24 + plen;
	}
	return n;
}

/* A journal in plain segments of `per_segment` decisions, as a crash would leave it (no close). */
static char *write_plain(struct fixture *fx, uint32_t n, uint32_t per_segment, bool close_it)
{
	struct jstore_options o;
	struct jrecord_buf b = { 0 };
	struct jrecord_dict *d;
	struct jstore *js;
	char *seg = NULL;

	assert_int_equal(jrecord_dict_new(&d), 0);
	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_level = 0;
	o.seal_every_records = 0;
	o.seal_every_ms = 0;
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = decision(i);

		/* As the daemon's sink does: strings by reference, defined anew per segment. */
		if (i && per_segment && i % per_segment == 0) {
			assert_int_equal(jstore_rotate(js), 0);
			jrecord_dict_reset(d);
		}
		assert_int_equal(jrecord_encode_dict(&r, d, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
	}
	assert_int_equal(jstore_sync(js), 0);
	assert_true(asprintf(&seg, "%s/journal-%016llx.seg", fx->dir,
			     (unsigned long long)(per_segment ? (n - 1) / per_segment + 1 : 1)) > 0);
	if (close_it) {
		assert_int_equal(jstore_close(js), 0);
	} else {
		/* As a SIGKILL now would leave it: the bytes before the close, put back after. */
		size_t len;
		uint8_t *crash = slurp(seg, &len);

		assert_int_equal(jstore_close(js), 0);
		spit(seg, crash, len);
		free(crash);
	}
	jrecord_buf_free(&b);
	jrecord_dict_free(d);
	return seg;
}

/* Replay's JSON lines; each decision i shows as its target and time. */
static bool has_decision(const char *out, uint32_t i)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "\"time_ns\":%llu,",
		 (unsigned long long)(T0 + (uint64_t)i * 1000000000ull));
	return strstr(out, needle) != NULL;
}

static void expect_replay(struct fixture *fx, uint32_t n, const int *missing, size_t extra)
{
	size_t want = n + extra;

	for (const int *m = missing; *m >= 0; m++)
		want--;
	assert_int_equal(json_lines(fx, NULL), want);
	for (uint32_t i = 0; i < n; i++) {
		bool gone = false;

		for (const int *m = missing; *m >= 0; m++)
			gone |= (uint32_t)*m == i;
		if (has_decision(fx->out, i) == gone)
			fail_msg("decision %u: %s", i, gone ? "replayed though damaged" : "missing");
	}
}

static enum jstore_damage verify(struct fixture *fx, bool with_key)
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

static void test_torn_last_decision(void **state)
{
	struct fixture *fx = *state;
	struct frame f[64];
	size_t len, n;
	uint8_t *orig;
	char *seg;

	seg = write_plain(fx, 12, 0, false);
	orig = slurp(seg, &len);
	n = frames_of(orig, len, f, 64);
	assert_int_equal(f[n - 1].type, JRECORD_TYPE_DECISION);
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	for (size_t keep = 0; keep < f[n - 1].len; keep++) {
		const int missing[] = { 11, -1 };

		spit(seg, orig, f[n - 1].off + keep);
		expect_replay(fx, 12, missing, 0);
		if (keep)
			assert_non_null(strstr(fx->err, "torn"));
		assert_int_equal(verify(fx, true), keep ? JSTORE_DAMAGE_TORN_TAIL : JSTORE_INTACT);
	}
	free(orig);
	free(seg);
}

static void test_damaged_decisions(void **state)
{
	struct fixture *fx = *state;
	struct frame f[64];
	size_t len, n, k;
	uint8_t *orig, *p;
	char *seg;

	seg = write_plain(fx, 12, 0, true);
	orig = slurp(seg, &len);
	n = frames_of(orig, len, f, 64);
	/* Frame k: decision 5 (after the store's open record). */
	for (k = 0; k < n && !(f[k].type == JRECORD_TYPE_DECISION); k++)
		;
	k += 5;
	p = malloc(len + f[k].len);
	assert_non_null(p);

	{ /* A flipped byte in the middle of decision 5's payload. */
		const int missing[] = { 5, -1 };

		memcpy(p, orig, len);
		p[f[k].off + 30] ^= 0x20;
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_CRC);
	}
	{ /* Decision 5 removed. */
		const int missing[] = { 5, -1 };

		memcpy(p, orig, f[k].off);
		memcpy(p + f[k].off, orig + f[k].off + f[k].len, len - f[k].off - f[k].len);
		spit(seg, p, len - f[k].len);
		expect_replay(fx, 12, missing, 0);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* Decision 5 twice: both intact copies replayed, the repeat found. */
		const int missing[] = { -1 };

		memcpy(p, orig, f[k].off + f[k].len);
		memcpy(p + f[k].off + f[k].len, orig + f[k].off, len - f[k].off);
		spit(seg, p, len + f[k].len);
		expect_replay(fx, 12, missing, 1);
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* Decisions 5 and 6 swapped. */
		const int missing[] = { -1 };
		size_t a = f[k].off, la = f[k].len, lb = f[k + 1].len;

		memcpy(p, orig, len);
		memcpy(p + a, orig + a + la, lb);
		memcpy(p + a + lb, orig + a, la);
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_true(strstr(fx->out, "\"time_ns\":1795871663000000000") <
			    strstr(fx->out, "\"time_ns\":1795871662000000000"));
		assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEQUENCE);
	}
	{ /* A decision payload the decoder refuses, in an intact frame (CRC redone). */
		const int missing[] = { 5, -1 };
		uint32_t crc;

		memcpy(p, orig, len);
		p[f[k].off + 20] = 9; /* payload version */
		/* The reader trusts CRC-32C; recompute it as a forger would. */
		crc = 0xffffffffu;
		for (size_t i = f[k].off; i < f[k].off + f[k].len - 4; i++) {
			crc ^= p[i];
			for (int b = 0; b < 8; b++)
				crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
		}
		crc ^= 0xffffffffu;
		memcpy(p + f[k].off + f[k].len - 4, &crc, 4);
		spit(seg, p, len);
		expect_replay(fx, 12, missing, 0);
		assert_non_null(strstr(fx->err, "skipped a malformed decision: payload version 9"));
		/* Verify sees the edit through the chain (the seal at the close). */
		assert_int_equal(verify(fx, false), JSTORE_DAMAGE_CHAIN);
	}
	free(p);
	free(orig);
	free(seg);
}

/* The decision that defines the strings is damaged: the later ones come back, their texts lost. */
static void test_damaged_definitions(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 0, -1 };
	struct frame f[64];
	size_t len, n, k;
	uint8_t *p;
	char *seg;

	seg = write_plain(fx, 12, 0, true);
	p = slurp(seg, &len);
	n = frames_of(p, len, f, 64);
	for (k = 0; k < n && f[k].type != JRECORD_TYPE_DECISION; k++)
		;
	assert_int_equal(p[f[k].off + 21], JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
	p[f[k].off + 30] ^= 0x01;
	spit(seg, p, len);
	expect_replay(fx, 12, missing, 0);
	assert_non_null(strstr(fx->out, "\"workload\":\"<lost string 1>\""));
	assert_non_null(strstr(fx->err, "of its texts are lost"));
	/* Decisions 5.. define what decisions 0..4 did not use: those texts are whole. */
	assert_int_equal(verify(fx, true), JSTORE_DAMAGE_CRC);
	free(p);
	free(seg);
}

/* The sink rotates, and every segment defines its own strings: a segment reads alone. */
static void test_sink_rotation(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10 };
	const char *paths[1];
	struct replay_options o = { .paths = paths, .n_paths = 1, .output = REPLAY_JSON };
	char path[256];
	struct jsink *s;
	size_t lines;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (uint32_t i = 0; i < 30000; i++) {
		struct journal_record r = decision(i);
		char target[64];

		snprintf(target, sizeof(target), "/srv/file-%u", i % 3000); /* many strings */
		r.target = target;
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	assert_int_equal(jsink_close(s), 0);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 3);
	assert_int_equal(access(path, R_OK), 0); /* at least three segments */
	paths[0] = path;
	assert_int_equal(replay(fx, &o), 0);
	lines = count_lines(fx->out);
	assert_true(lines > 1000);
	assert_string_equal(fx->err, "");
	assert_null(strstr(fx->out, "<lost string"));
	assert_non_null(strstr(fx->out, "\"target\":\"/srv/file-"));
	paths[0] = fx->dir;
	assert_int_equal(json_lines(fx, NULL), 30000);
	assert_string_equal(fx->err, "");
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
}

static void test_removed_segment(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 4, 5, 6, 7, -1 };
	char *seg, path[256];

	seg = write_plain(fx, 12, 4, true); /* segments 1, 2, 3 */
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg", fx->dir, 2);
	assert_int_equal(unlink(path), 0);
	expect_replay(fx, 12, missing, 0);
	assert_int_equal(verify(fx, true), JSTORE_DAMAGE_SEGMENT_MISSING);
	free(seg);
}

static struct { int fail; } disk;

static ssize_t failing_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	if (disk.fail) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, len);
}

static void test_full_disk(void **state)
{
	struct fixture *fx = *state;
	const int missing[] = { 3, 4, -1 };
	struct jstore_options o;
	struct jrecord_buf b = { 0 };
	struct jstore_stats st;
	struct jstore *js;

	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.buffer_bytes = 0;
	o.write = failing_write;
	assert_int_equal(jstore_open(&js, &o), 0);
	for (uint32_t i = 0; i < 8; i++) {
		struct journal_record r = decision(i);

		disk.fail = i == 3 || i == 4;
		assert_int_equal(jrecord_encode(&r, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len),
				 disk.fail ? -ENOSPC : 0);
	}
	jstore_stats(js, &st);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.gaps, 1);
	assert_int_equal(jstore_close(js), 0);
	expect_replay(fx, 8, missing, 0);
	assert_non_null(strstr(fx->err, "2 decisions lost from"));
	assert_non_null(strstr(fx->err, "No space left on device"));
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
	jrecord_buf_free(&b);
}

static void test_follow_across_rotation(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	volatile int stop = 0;
	struct jsource_options so = { .follow = true, .poll_ms = 1, .stop = &stop };
	struct jrecord_buf b = { 0 };
	struct journal_record rec;
	struct jstore_options o;
	struct jsource *src;
	struct jstore *js;
	uint64_t seen = 0;

	assert_int_equal(jstore_key_create(fx->key), 0);
	jstore_options_init(&o);
	o.dir = fx->dir;
	o.key_path = fx->key;
	o.compress_inline = true;
	assert_int_equal(jstore_open(&js, &o), 0);
	/* Following an empty journal waits; records then come as they are written. */
	assert_int_equal(jsource_open(&src, paths, 1, &so), 0);
	for (uint32_t i = 0; i < 9; i++) {
		struct journal_record r = decision(i);

		assert_int_equal(jrecord_encode(&r, &b), 0);
		assert_int_equal(jstore_append(js, JRECORD_TYPE_DECISION, b.p, b.len), 0);
		assert_int_equal(jstore_flush(js), 0);
		if (i % 3 == 2)
			assert_int_equal(jstore_rotate(js), 0); /* compressed at once */
		while (seen <= i) {
			assert_int_equal(jsource_next(src, &rec), 1);
			assert_true(rec.time_ns == T0 + seen * 1000000000ull);
			seen++;
		}
	}
	stop = 1;
	assert_int_equal(jsource_next(src, &rec), 0);
	jsource_close(src);
	assert_int_equal(jstore_close(js), 0);
	jrecord_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sink_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_take_no_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_across_rotation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
