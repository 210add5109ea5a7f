/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate replay: the exact table and JSON output, filters, --stats, --tree,
 * --what-if, and failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_journal.h"
#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/query.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"

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

/* The journal holds the four records. */
static int setup_four_records(void **state)
{
	struct journal_record r[4];
	int i, err = setup(state);

	if (err)
		return err;
	make_records(r);
	err = write_records(*state, r, 4, NULL);
	for (i = 0; i < 4; i++)
		journal_record_clear(&r[i]);
	return err;
}

/* Run replay on path with f; output and messages land in fx->out and fx->err. */
static int run(struct fixture *fx, const char *path, const struct jquery_filter *f, bool json)
{
	struct replay_options o = { .paths = &path, .n_paths = 1, .filter = f,
				    .output = json ? REPLAY_JSON : REPLAY_TABLE };

	return replay(fx, &o);
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
	char path[128];

	/* A segment file given by name, compressed when the sink closed it. */
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 1);
	assert_int_equal(run(fx, path, NULL, true), 0);
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

/*
 * What-if for sub-workloads (docs/delegation.md): a record's chain names the
 * workloads above it, whose policies decide too (attenuation); a decision a
 * grant made (a delegated rule) stays the grant's; a delegate record is
 * decided again under the candidate's delegate: sections and the signals it
 * kept; a refusal for another cause, or a chain that does not name the
 * workload, is not decided again.
 */
static void test_what_if_delegation(void **state)
{
	static const char agent[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: agent}\nspec:\n"
		"  selector: {workloads: [\"agent:*\"]}\n"
		"  connect: {default: allow, deny: [\"10.0.0.9:443\"]}\n"
		"  delegate:\n"
		"    - workloads: [\"tool:*\"]\n"
		"%s";
	static const char deploy_entry[] =
		"    - workloads: [\"tool:deploy\"]\n"
		"      allow: {connect: [\"10.0.0.9:443\"]}\n"
		"      when: {region: eu}\n";
	static const char tool[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: tool-net}\nspec:\n"
		"  selector: {workloads: [\"tool:net\"]}\n"
		"  connect: {default: deny, allow: [\"10.0.0.9:443\"]}\n";
	struct fixture *fx = *state;
	struct journal_record r[5];
	struct eval_result res;
	char file[256], text[1024], why[256];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 5; i++) {
		r[i].mode = ACTGATE_MODE_ENFORCE;
		set(&r[i].target, "10.0.0.9:443/tcp");
		r[i].action = ACTGATE_ACTION_CONNECT;
	}
	/* tool:net's connect, denied by its agent's rule though its own allows it. */
	set(&r[0].workload, "tool:net");
	r[0].workload_id = 5;
	set(&r[0].chain, "- > agent:a#3[agent;] > tool:net#5[agent,tool-net;]");
	r[0].verdict = ACTGATE_VERDICT_DENY;
	r[0].reason = ACTGATE_REASON_RULE;
	set(&r[0].rule, "agent:connect.deny[0]");
	/* tool:deploy's, allowed by the grant its agent's delegate: gave it. */
	set(&r[1].workload, "tool:deploy");
	r[1].workload_id = 6;
	set(&r[1].chain, "- > agent:a#3[agent;] > tool:deploy#6[agent;]");
	r[1].verdict = ACTGATE_VERDICT_ALLOW;
	r[1].reason = ACTGATE_REASON_GRANT;
	set(&r[1].rule, "grant:1");
	/* The commission of tool:deploy with the rule, under region=eu. */
	set(&r[2].workload, "agent:a");
	r[2].workload_id = 3;
	r[2].action = ACTGATE_ACTION_DELEGATE;
	r[2].reason = ACTGATE_REASON_DELEGATION;
	r[2].verdict = ACTGATE_VERDICT_ALLOW;
	set(&r[2].rule, "delegate");
	set(&r[2].target, "run tool:deploy --allow connect:10.0.0.9:443");
	set(&r[2].signals, "region=eu");
	set(&r[2].chain, "- > agent:a#3[agent;region=eu] > tool:deploy#6[agent;]");
	/* A commission refused because the agent was revoked: not delegate:'s. */
	set(&r[3].workload, "agent:a");
	r[3].workload_id = 3;
	r[3].action = ACTGATE_ACTION_DELEGATE;
	r[3].reason = ACTGATE_REASON_DELEGATION;
	r[3].verdict = ACTGATE_VERDICT_DENY;
	set(&r[3].rule, "the parent is revoked, orphaned or past its time");
	set(&r[3].target, "run tool:x");
	set(&r[3].chain, "- > agent:a#3[agent;]");
	/* A chain that does not name the record's workload. */
	set(&r[4].workload, "tool:net");
	r[4].workload_id = 7;
	set(&r[4].chain, "- > agent:a#3[agent;] > tool:net#5[agent,tool-net;]");
	r[4].verdict = ACTGATE_VERDICT_DENY;
	r[4].reason = ACTGATE_REASON_RULE;
	set(&r[4].rule, "agent:connect.deny[0]");

	assert_int_equal(mkdir(fx->policies, 0700), 0);
	for (int round = 0; round < 2; round++) {
		struct policy_set ps = { 0 };
		struct diag_list diags = { 0 };

		snprintf(file, sizeof(file), "%s/agent.yaml", fx->policies);
		snprintf(text, sizeof(text), agent, round ? "" : deploy_entry);
		write_file(file, text);
		snprintf(file, sizeof(file), "%s/tool.yaml", fx->policies);
		write_file(file, tool);
		assert_int_equal(policy_load_dir(fx->policies, &ps, &diags), 0);

		assert_int_equal(whatif_decide(&ps, &r[0], &res, why, sizeof(why)), WHATIF_SAME);
		assert_string_equal(res.rule, "agent:connect.deny[0]");
		assert_int_equal(whatif_decide(&ps, &r[1], &res, why, sizeof(why)), WHATIF_SAME);
		assert_string_equal(res.rule, "grant:1");
		if (!round) {
			assert_int_equal(whatif_decide(&ps, &r[2], &res, why, sizeof(why)),
					 WHATIF_SAME);
			assert_string_equal(res.rule, "delegate");
		} else {
			/* Without the entry for tool:deploy, the commission would be refused. */
			assert_int_equal(whatif_decide(&ps, &r[2], &res, why, sizeof(why)),
					 WHATIF_NOW_DENIED);
			assert_non_null(strstr(res.rule, "policy agent's delegate: does not allow it"));
		}
		assert_int_equal(whatif_decide(&ps, &r[3], &res, why, sizeof(why)), WHATIF_SKIPPED);
		assert_non_null(strstr(why, "a cause other than delegate:"));
		assert_int_equal(whatif_decide(&ps, &r[4], &res, why, sizeof(why)), WHATIF_SKIPPED);
		assert_string_equal(why, "the chain does not name workload tool:net#7");
		/* A tool denied because its agent ended: no candidate policy lifts that. */
		r[0].reason = ACTGATE_REASON_PARENT_ENDED;
		assert_int_equal(whatif_decide(&ps, &r[0], &res, why, sizeof(why)), WHATIF_SKIPPED);
		r[0].reason = ACTGATE_REASON_RULE;
		policy_set_free(&ps);
		diag_list_free(&diags);
	}
	/* The commission again, with region=us in force when it was made. */
	{
		struct policy_set ps = { 0 };
		struct diag_list diags = { 0 };

		snprintf(text, sizeof(text), agent, deploy_entry);
		snprintf(file, sizeof(file), "%s/agent.yaml", fx->policies);
		write_file(file, text);
		assert_int_equal(policy_load_dir(fx->policies, &ps, &diags), 0);
		set(&r[2].signals, "region=us");
		assert_int_equal(whatif_decide(&ps, &r[2], &res, why, sizeof(why)),
				 WHATIF_NOW_DENIED);
		assert_non_null(strstr(res.rule, "when:"));
		policy_set_free(&ps);
		diag_list_free(&diags);
	}
	for (int i = 0; i < 5; i++)
		journal_record_clear(&r[i]);
}

/* Records of egress: a lookup refused, one allowed, a connect made for a name, a raw-IP connect. */
static void make_name_records(struct journal_record r[4])
{
	memset(r, 0, 4 * sizeof(*r));
	for (int i = 0; i < 4; i++) {
		r[i].time_ns = 1795871657000000000ull + (uint64_t)i * 1000000000ull;
		r[i].mode = ACTGATE_MODE_ENFORCE;
		r[i].pid = 50;
		set(&r[i].workload, "ci:build");
		set(&r[i].policy, "ci");
	}
	r[0].action = ACTGATE_ACTION_RESOLVE;
	r[0].verdict = ACTGATE_VERDICT_DENY;
	r[0].reason = ACTGATE_REASON_NAME;
	set(&r[0].rule, "ci:connect.default");
	set(&r[0].target_name, "secret.attacker.example");
	r[1].action = ACTGATE_ACTION_RESOLVE;
	r[1].verdict = ACTGATE_VERDICT_ALLOW;
	r[1].reason = ACTGATE_REASON_RULE;
	set(&r[1].rule, "ci:connect.allow[0]");
	set(&r[1].target, "github.com");
	set(&r[1].target_name, "github.com");
	r[2].action = ACTGATE_ACTION_CONNECT;
	r[2].verdict = ACTGATE_VERDICT_ALLOW;
	r[2].reason = ACTGATE_REASON_LEARNED;
	set(&r[2].rule, "ci:connect.allow[0]");
	set(&r[2].target, "140.82.112.3:443/tcp");
	set(&r[2].target_name, "github.com");
	r[3].action = ACTGATE_ACTION_CONNECT;
	r[3].verdict = ACTGATE_VERDICT_DENY;
	r[3].reason = ACTGATE_REASON_DEFAULT;
	set(&r[3].rule, "ci:connect.default");
	set(&r[3].target, "140.82.112.3:443/tcp");
}

static void test_names(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct replay_options o = { .paths = paths, .n_paths = 1 };
	struct jquery_filter f = { .action = -1, .verdict = -1, .pid = -1 };
	struct journal_record r[4];
	struct policy_set set = { 0 };
	struct diag_list diags = { 0 };
	struct whatif_totals t;
	char file[256];
	FILE *out, *err;

	make_name_records(r);
	assert_int_equal(write_records(fx, r, 4, NULL), 0);
	for (int i = 0; i < 4; i++)
		journal_record_clear(&r[i]);

	/* The table shows the name: a lookup's alone, a connect's beside its address. */
	assert_int_equal(run(fx, fx->dir, NULL, false), 0);
	assert_string_equal(fx->out, HEADER
		"2026-11-28T13:14:17.000Z  ci:build               50  resolve           deny          "
		"secret.attacker.example           ci:connect.default\n"
		"2026-11-28T13:14:18.000Z  ci:build               50  resolve           allow         "
		"github.com                        ci:connect.allow[0]\n"
		"2026-11-28T13:14:19.000Z  ci:build               50  connect           allow         "
		"140.82.112.3:443/tcp (github.com)  ci:connect.allow[0]\n"
		"2026-11-28T13:14:20.000Z  ci:build               50  connect           deny          "
		"140.82.112.3:443/tcp              ci:connect.default\n");

	/* --target finds records by their name too. */
	f.target_glob = "*.attacker.example";
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_int_equal(count_lines(fx->out), 2);
	assert_non_null(strstr(fx->out, "secret.attacker.example"));
	f.target_glob = "github.com";
	assert_int_equal(run(fx, fx->dir, &f, false), 0);
	assert_int_equal(count_lines(fx->out), 3);
	assert_null(strstr(fx->out, ":443/tcp  "));

	/* What-if: lookups and connects made for names, decided again by name rules. */
	assert_int_equal(mkdir(fx->policies, 0700), 0);
	snprintf(file, sizeof(file), "%s/ci.yaml", fx->policies);
	write_file(file, "apiVersion: actgate.dev/v1\n"
			 "kind: Policy\n"
			 "metadata: {name: ci}\n"
			 "spec:\n"
			 "  selector: {workloads: [\"ci:*\"]}\n"
			 "  connect: {default: deny, allow: [\"*.attacker.example\"]}\n");
	assert_int_equal(policy_load_dir(fx->policies, &set, &diags), 0);
	open_streams(fx, &out, &err);
	assert_int_equal(replay_what_if(&o, &set, false, &t, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(t.records, 4);
	assert_int_equal(t.now_allowed, 1); /* the attacker's name, now listed */
	assert_int_equal(t.now_denied, 2);  /* github.com: its lookup and its connect */
	assert_int_equal(t.same, 1);        /* the raw-IP connect */
	assert_int_equal(t.skipped, 0);
	assert_non_null(strstr(fx->out, "deny->allow   secret.attacker.example           ci:connect.allow[0]\n"));
	assert_non_null(strstr(fx->out, "allow->deny   140.82.112.3:443/tcp (github.com)  ci:connect.default\n"));
	policy_set_free(&set);
	diag_list_free(&diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup_four_records, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup_four_records, teardown),
		cmocka_unit_test_setup_teardown(test_filters_in_output, setup_four_records, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup_four_records, teardown),
		cmocka_unit_test_setup_teardown(test_many_records_stream, setup_four_records, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_if_delegation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli/replay", tests, NULL, NULL);
}
