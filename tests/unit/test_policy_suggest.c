/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Suggested policies: collapsing by level, floors, current denials kept, determinism. */
#include <linux/types.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "actgate/abi.h"
#include "policy/evaluate.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/suggest.h"

static struct journal_record rec(uint8_t action, const char *target, uint8_t access)
{
	return (struct journal_record){
		.time_ns = 1795871657000000000ull,
		.action = action,
		.verdict = ACTGATE_VERDICT_DENY,
		.mode = ACTGATE_MODE_AUDIT,
		.reason = ACTGATE_REASON_DEFAULT,
		.access = access,
		.workload = (char *)"ci:build",
		.principal = (char *)"",
		.labels = (char *)"team=a",
		.policy = (char *)"audit",
		.rule = (char *)"audit:open.default",
		.target = (char *)target,
	};
}

#define R ACTGATE_ACCESS_READ
#define W ACTGATE_ACCESS_WRITE
#define C ACTGATE_ACCESS_CREATE
#define X ACTGATE_ACCESS_EXEC_MAP

struct obs {
	uint8_t action;
	const char *target;
	uint8_t access;
};

/* A build job: a shell, a compiler reading sources and writing objects, a test, a registry. */
static const struct obs job[] = {
	{ ACTGATE_ACTION_EXEC, "/bin/busybox", 0 },
	{ ACTGATE_ACTION_EXEC, "/work/ws/tools/run-tests", 0 },
	{ ACTGATE_ACTION_OPEN, "/work/ws/src/a.c", R },
	{ ACTGATE_ACTION_OPEN, "/work/ws/src/b.c", R },
	{ ACTGATE_ACTION_OPEN, "/work/ws/src/c.c", R },
	{ ACTGATE_ACTION_OPEN, "/work/ws/src/include/d.h", R },
	{ ACTGATE_ACTION_OPEN, "/work/ws/vendor/lib.c", R },
	{ ACTGATE_ACTION_OPEN, "/work/ws/build/a.o", W | C },
	{ ACTGATE_ACTION_OPEN, "/work/ws/build/b.o", W | C },
	{ ACTGATE_ACTION_OPEN, "/work/ws/dist/app.tar", W | C },
	{ ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu/libc.so.6", R | X },
	{ ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu/libm.so.6", R | X },
	{ ACTGATE_ACTION_OPEN, "/etc/ld.so.cache", R },
	{ ACTGATE_ACTION_OPEN, "/etc/passwd", R },
	{ ACTGATE_ACTION_OPEN, "/etc/group", R },
	{ ACTGATE_ACTION_OPEN, "/etc/hosts", R },
	{ ACTGATE_ACTION_OPEN, "/etc/ssl/certs/ca.pem", R },
	{ ACTGATE_ACTION_OPEN, "/home/alice/proj/a", R },
	{ ACTGATE_ACTION_OPEN, "/home/alice/proj/b", R },
	{ ACTGATE_ACTION_OPEN, "/home/alice/proj/c", R },
	{ ACTGATE_ACTION_OPEN, "/tmp/tmp.x1/out", R | W | C },
	{ ACTGATE_ACTION_OPEN, "/dev/null", R | W },
	{ ACTGATE_ACTION_CONNECT, "127.0.0.1:5000/tcp", 0 },
	{ ACTGATE_ACTION_CONNECT, "[::1]:53/udp", 0 },
	{ ACTGATE_ACTION_CONNECT, "unix:/run/registry.sock", 0 },
};
#define JOB_COUNT (sizeof(job) / sizeof(job[0]))

static const char *const current_text =
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: now}\n"
	"spec:\n"
	"  selector: {workloads: [\"ci:*\"]}\n"
	"  exec: {default: allow}\n"
	"  open:\n"
	"    default: allow\n"
	"    deny: [/work/ws/secrets/, {path: /work/ws/src/include/, access: write},\n"
	"           /work/ws/vendor/,\n"
	"           /home/alice/proj/key, /usr/lib/x86_64-linux-gnu/]\n";

static void parse_or_fail(const char *text, struct policy_set *set)
{
	struct diag_list diags = { 0 };
	int err = policy_parse_buffer("t.yaml", text, strlen(text), set, &diags);

	if (err || diags.warnings || diags.errors) {
		diag_print(&diags, stderr);
		fprintf(stderr, "%s", text);
	}
	assert_int_equal(err, 0);
	assert_int_equal(diags.warnings, 0);
	diag_list_free(&diags);
}

/* The suggestion for job (order: the records from first to last, or reversed), as text. */
static char *suggest_text(enum suggest_level level, bool reversed, const struct policy_set *cur,
			  struct suggest_result *keep)
{
	struct suggest_options o = { .level = level, .current = cur };
	struct suggest_meta m = { .name = "job", .level = level };
	const char *glob = "ci:*";
	struct suggest_result res;
	struct suggest *s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(suggest_new(&s), 0);
	for (size_t k = 0; k < 2; k++) /* each thing twice: counts say 2 */
		for (size_t i = 0; i < JOB_COUNT; i++) {
			const struct obs *b = &job[reversed ? JOB_COUNT - 1 - i : i];
			struct journal_record r = rec(b->action, b->target, b->access);

			assert_int_equal(suggest_add(s, &r), 1);
		}
	assert_int_equal(suggest_build(s, &o, &res), 0);
	m.workload_globs = &glob;
	m.workload_glob_count = 1;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(suggest_write_policy(f, &res, &m), 0);
	fclose(f);
	suggest_free(s);
	if (keep)
		*keep = res;
	else
		suggest_result_free(&res);
	return text;
}

static const struct suggest_rule *find(const struct suggest_result *r, uint8_t action,
				       const char *path, bool subtree, bool deny)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->rules[i].action == action && r->rules[i].path &&
		    !strcmp(r->rules[i].path, path) && r->rules[i].subtree == subtree &&
		    r->rules[i].deny == deny)
			return &r->rules[i];
	return NULL;
}

static uint8_t decide(const struct policy_set *set, uint8_t action, const char *path,
		      uint8_t access)
{
	struct workload_label l = { "team", "a" };
	struct workload_identity id = { .name = "ci:build", .labels = &l, .label_count = 1 };
	struct eval_action a = { .action = action, .path = path, .access = access };
	struct eval_result r;
	char why[256];

	assert_int_equal(policy_evaluate(set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	return r.verdict;
}

/* Every recorded action is allowed by the suggestion, at every level. */
static void test_allows_what_happened(void **state)
{
	(void)state;
	for (int level = SUGGEST_EXACT; level <= SUGGEST_COARSE; level++) {
		struct policy_set set = { 0 };
		char *text = suggest_text((enum suggest_level)level, false, NULL, NULL);

		parse_or_fail(text, &set);
		for (size_t i = 0; i < JOB_COUNT; i++) {
			if (job[i].action == ACTGATE_ACTION_CONNECT)
				continue;
			for (unsigned b = 0; b < 4; b++)
				if (job[i].access & (1u << b) || (!job[i].access && b == 0))
					assert_int_equal(decide(&set, job[i].action, job[i].target,
								(uint8_t)(1u << b)),
							 ACTGATE_VERDICT_ALLOW);
		}
		/* ...and not what did not. */
		assert_int_equal(decide(&set, ACTGATE_ACTION_EXEC, "/tmp/tool", 0), ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/root/.ssh/id_ed25519", R),
				 ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/etc/shadow", R),
				 ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/home/alice/.ssh/id_rsa", R),
				 ACTGATE_VERDICT_DENY);
		policy_set_free(&set);
		free(text);
	}
}

/* Never /, never /etc whole, never a home directory whole, at any level. */
static void test_floors_hold(void **state)
{
	(void)state;
	for (int level = SUGGEST_EXACT; level <= SUGGEST_COARSE; level++) {
		struct suggest_result r;
		char *text = suggest_text((enum suggest_level)level, false, NULL, &r);

		for (size_t i = 0; i < r.count; i++) {
			const struct suggest_rule *x = &r.rules[i];

			if (!x->path || !x->subtree)
				continue;
			assert_string_not_equal(x->path, "/");
			assert_string_not_equal(x->path, "/etc");
			assert_string_not_equal(x->path, "/home");
			assert_string_not_equal(x->path, "/home/alice");
			assert_string_not_equal(x->path, "/root");
			assert_string_not_equal(x->path, "/usr");
		}
		/* Four files of /etc stay four rules; one in /etc/ssl may become /etc/ssl/. */
		assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/etc/passwd", false, false));
		if (level == SUGGEST_COARSE) {
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/etc/ssl", true, false));
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/home/alice/proj", true, false));
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/work", true, false));
		}
		if (level == SUGGEST_BALANCED) {
			/* The workspace: where the job creates files, merged. */
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/work/ws", true, false));
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu", true,
					     false));
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/home/alice/proj", true, false));
		}
		if (level == SUGGEST_EXACT) {
			/* Only where files are created: a new file has no identity yet. */
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/work/ws/build", true, false));
			assert_null(find(&r, ACTGATE_ACTION_OPEN, "/work/ws", true, false));
			assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/work/ws/src/a.c", false, false));
		}
		/* Temporary directories change names on every run: the temporary tree. */
		assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/tmp", true, false));
		/* Programs are listed one by one. */
		assert_non_null(find(&r, ACTGATE_ACTION_EXEC, "/bin/busybox", false, false));
		suggest_result_free(&r);
		free(text);
	}
}

/* A file created directly in a floor is not allowed, and is reported. */
static void test_create_in_floor_reported(void **state)
{
	struct suggest_options o = { .level = SUGGEST_COARSE };
	struct journal_record r = rec(ACTGATE_ACTION_OPEN, "/etc/new.conf", W | C);
	struct suggest_result res;
	struct suggest *s;

	(void)state;
	assert_int_equal(suggest_new(&s), 0);
	assert_int_equal(suggest_add(s, &r), 1);
	assert_int_equal(suggest_build(s, &o, &res), 0);
	assert_null(find(&res, ACTGATE_ACTION_OPEN, "/etc", true, false));
	assert_int_equal(res.problem_count, 1);
	assert_non_null(strstr(res.problems[0], "/etc/new.conf"));
	suggest_result_free(&res);
	suggest_free(s);
}

/* An extra floor from the options holds too. */
static void test_extra_floor(void **state)
{
	const char *floors[] = { "/work" , "/work/*" };
	struct suggest_options o = { .level = SUGGEST_COARSE, .floors = floors, .floor_count = 2 };
	struct journal_record r1 = rec(ACTGATE_ACTION_OPEN, "/work/ws/a/b/c", R);
	struct suggest_result res;
	struct suggest *s;

	(void)state;
	assert_int_equal(suggest_new(&s), 0);
	assert_int_equal(suggest_add(s, &r1), 1);
	assert_int_equal(suggest_build(s, &o, &res), 0);
	assert_null(find(&res, ACTGATE_ACTION_OPEN, "/work/ws", true, false));
	assert_non_null(find(&res, ACTGATE_ACTION_OPEN, "/work/ws/a", true, false));
	suggest_result_free(&res);
	suggest_free(s);
}

/* A process's own /proc files cannot be named: /proc, unless it is a floor. */
static void test_per_process_files(void **state)
{
	const char *floors[] = { "/proc" };
	struct suggest_options o = { .level = SUGGEST_EXACT };
	struct journal_record r = rec(ACTGATE_ACTION_OPEN, "/proc/1234/status", R);
	struct suggest_result res;
	struct suggest *s;

	(void)state;
	assert_int_equal(suggest_new(&s), 0);
	assert_int_equal(suggest_add(s, &r), 1);
	assert_int_equal(suggest_build(s, &o, &res), 0);
	assert_non_null(find(&res, ACTGATE_ACTION_OPEN, "/proc", true, false));
	assert_int_equal(res.problem_count, 0);
	suggest_result_free(&res);
	o.floors = floors;
	o.floor_count = 1;
	assert_int_equal(suggest_build(s, &o, &res), 0);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.problem_count, 1);
	suggest_result_free(&res);
	suggest_free(s);
}

/* What the current policy denies under a directory the suggestion allows stays denied. */
static void test_denied_directories_stay_denied(void **state)
{
	struct policy_set cur = { 0 }, set = { 0 };
	struct suggest_result r;
	char *text;

	(void)state;
	parse_or_fail(current_text, &cur);
	for (int level = SUGGEST_BALANCED; level <= SUGGEST_COARSE; level++) {
		text = suggest_text((enum suggest_level)level, false, &cur, &r);
		parse_or_fail(text, &set);
		/* Kept as deny rules... */
		assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/work/ws/secrets", true, true));
		assert_non_null(find(&r, ACTGATE_ACTION_OPEN, "/home/alice/proj/key", false, true));
		/* ...so the suggestion denies them although it allows their directory. */
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/work/ws/secrets/token", R),
				 ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/home/alice/proj/key", R),
				 ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/work/ws/src/include/d.h", W),
				 ACTGATE_VERDICT_DENY);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/work/ws/src/include/d.h", R),
				 ACTGATE_VERDICT_ALLOW);
		/* A file used under a denied directory: allowed by itself, the rest denied. */
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/work/ws/vendor/lib.c", R),
				 ACTGATE_VERDICT_ALLOW);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/work/ws/vendor/other.c", R),
				 ACTGATE_VERDICT_DENY);
		/* A directory the current policy denies whole is never allowed whole... */
		assert_null(find(&r, ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu", true, false));
		assert_null(find(&r, ACTGATE_ACTION_OPEN, "/usr/lib", true, false));
		/* ...the files used there are allowed one by one, the rest stays denied. */
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu/libc.so.6", R),
				 ACTGATE_VERDICT_ALLOW);
		assert_int_equal(decide(&set, ACTGATE_ACTION_OPEN, "/usr/lib/x86_64-linux-gnu/libz.so", R),
				 ACTGATE_VERDICT_DENY);
		policy_set_free(&set);
		suggest_result_free(&r);
		free(text);
	}
	policy_set_free(&cur);
}

/* The same decisions in another order give the same text. */
static void test_deterministic(void **state)
{
	struct policy_set cur = { 0 };

	(void)state;
	parse_or_fail(current_text, &cur);
	for (int level = SUGGEST_EXACT; level <= SUGGEST_COARSE; level++) {
		char *a = suggest_text((enum suggest_level)level, false, &cur, NULL);
		char *b = suggest_text((enum suggest_level)level, true, &cur, NULL);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	policy_set_free(&cur);
}

/* Comments count decisions and give an example; connect keeps address, port and protocol. */
static void test_comments_and_connect(void **state)
{
	char *text = suggest_text(SUGGEST_EXACT, false, NULL, NULL);

	(void)state;
	assert_non_null(strstr(text, "# 2 decisions, e.g. /bin/busybox; the file itself\n"
				     "      - \"/bin/busybox\"\n"));
	assert_non_null(strstr(text, "- {to: \"127.0.0.1:5000\", protocol: tcp}"));
	assert_non_null(strstr(text, "- {to: \"[::1]:53\", protocol: udp}"));
	assert_non_null(strstr(text, "- {unix: \"/run/registry.sock\"}"));
	free(text);
	text = suggest_text(SUGGEST_COARSE, false, NULL, NULL);
	assert_non_null(strstr(text, "- {to: \"127.0.0.1\", protocol: tcp}"));
	assert_non_null(strstr(text, "- {to: \"::1\", protocol: udp}"));
	free(text);
}

/* Enforced denials did not happen: they teach nothing. */
static void test_enforced_denials_ignored(void **state)
{
	struct journal_record r = rec(ACTGATE_ACTION_EXEC, "/usr/bin/curl", 0);
	struct suggest *s;

	(void)state;
	assert_int_equal(suggest_new(&s), 0);
	r.mode = ACTGATE_MODE_ENFORCE;
	assert_int_equal(suggest_add(s, &r), 0);
	r.mode = ACTGATE_MODE_AUDIT;
	r.reason = ACTGATE_REASON_SELF_PROTECTION;
	assert_int_equal(suggest_add(s, &r), 0);
	r.reason = ACTGATE_REASON_RULE;
	r.verdict = ACTGATE_VERDICT_ALLOW;
	r.mode = ACTGATE_MODE_ENFORCE;
	assert_int_equal(suggest_add(s, &r), 1);
	assert_int_equal(suggest_taken(s), 1);
	suggest_free(s);
}

/* Records that carry a name (issue 15): rules by name, checked by policy check and the evaluator. */
static void test_names(void **state)
{
	struct journal_record r[5] = {
		rec(ACTGATE_ACTION_CONNECT, "140.82.112.3:443/tcp", 0),
		rec(ACTGATE_ACTION_CONNECT, "140.82.112.4:443/tcp", 0),
		rec(ACTGATE_ACTION_RESOLVE, "", 0),
		rec(ACTGATE_ACTION_RESOLVE, "", 0),
		rec(ACTGATE_ACTION_CONNECT, "10.0.0.1:8080/tcp", 0),
	};
	struct suggest_options o = { .level = SUGGEST_EXACT };
	struct suggest_meta m = { .name = "job", .level = SUGGEST_EXACT };
	const char *glob = "ci:*";
	struct eval_action a = { .action = ACTGATE_ACTION_CONNECT, .port = 443,
				 .addr = { [10] = 0xff, [11] = 0xff, 140, 82, 112, 9 } };
	struct workload_identity id = { .name = "ci:build" };
	struct policy_set set = { 0 };
	struct suggest_result res;
	struct eval_result er;
	struct suggest *s;
	char *text = NULL, why[128];
	size_t len = 0;
	FILE *f;

	(void)state;
	r[0].reason = r[1].reason = ACTGATE_REASON_LEARNED;
	r[0].target_name = (char *)"GitHub.com";
	r[1].target_name = (char *)"github.com.";
	r[2].reason = r[3].reason = ACTGATE_REASON_NAME; /* audited refusals: they went ahead */
	r[2].target_name = (char *)"github.com";
	r[3].target_name = (char *)"pypi.org";
	assert_int_equal(suggest_new(&s), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(suggest_add(s, &r[i]), 1);
	/* A refusal that was enforced did not happen. */
	r[3].mode = ACTGATE_MODE_ENFORCE;
	assert_int_equal(suggest_add(s, &r[3]), 0);
	assert_int_equal(suggest_build(s, &o, &res), 0);
	m.workload_globs = &glob;
	m.workload_glob_count = 1;
	f = open_memstream(&text, &len);
	assert_int_equal(suggest_write_policy(f, &res, &m), 0);
	fclose(f);
	/* Both connects by the name, its lookup counted with them; pypi.org looked up only. */
	assert_non_null(strstr(text, "# 3 decisions, e.g. github.com:443/tcp; the name, port and "
				     "protocol used\n      - {to: \"github.com:443\", protocol: tcp}\n"));
	assert_non_null(strstr(text, "the name was looked up; no connection to it was recorded\n"
				     "      - {to: \"pypi.org\"}\n"));
	assert_non_null(strstr(text, "- {to: \"10.0.0.1:8080\", protocol: tcp}"));
	assert_null(strstr(text, "140.82.112"));
	/* The suggestion is a valid policy that allows github.com on 443 by name only. */
	parse_or_fail(text, &set);
	a.name = "github.com";
	assert_int_equal(policy_evaluate(&set, &id, NULL, &a, &er, why, sizeof(why)), 0);
	assert_int_equal(er.verdict, ACTGATE_VERDICT_ALLOW);
	a.name = NULL;
	assert_int_equal(policy_evaluate(&set, &id, NULL, &a, &er, why, sizeof(why)), 0);
	assert_int_equal(er.verdict, ACTGATE_VERDICT_DENY);
	a = (struct eval_action){ .action = ACTGATE_ACTION_RESOLVE, .name = "pypi.org" };
	assert_int_equal(policy_evaluate(&set, &id, NULL, &a, &er, why, sizeof(why)), 0);
	assert_int_equal(er.verdict, ACTGATE_VERDICT_ALLOW);
	policy_set_free(&set);
	free(text);
	suggest_result_free(&res);
	suggest_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allows_what_happened),
		cmocka_unit_test(test_floors_hold),
		cmocka_unit_test(test_create_in_floor_reported),
		cmocka_unit_test(test_extra_floor),
		cmocka_unit_test(test_per_process_files),
		cmocka_unit_test(test_denied_directories_stay_denied),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_comments_and_connect),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_enforced_denials_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
