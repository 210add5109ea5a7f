/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy tests: what `actgate policy test` prints. Every test works in a
 * fresh temporary directory (the current directory while it runs), so that
 * file names in messages are short and exact.
 */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tree.h"

#include "actgate/abi.h"
#include "policy/policytest.h"

/* A policy with a port range, IPv6, subtree rules, and an audit policy beside it. */
static const char *const policy_yaml =
	"apiVersion: actgate.dev/v1\n"
	"kind: Policy\n"
	"metadata: {name: ci}\n"
	"spec:\n"
	"  selector: {workloads: [\"ci:*\", \"both\"]}\n"
	"  exec: {default: deny, allow: [/usr/bin/], deny: [/usr/bin/curl]}\n"
	"  open: {deny: [/root/.ssh/]}\n"
	"  connect: {default: deny, allow: [\"10.0.0.0/8:8000-8999\", \"[2001:db8::/32]:443\"]}\n"
	"---\n"
	"apiVersion: actgate.dev/v1\n"
	"kind: Policy\n"
	"metadata: {name: watch}\n"
	"spec:\n"
	"  selector: {workloads: [\"agent:*\", \"both\"]}\n"
	"  mode: audit\n"
	"  exec: {deny: [/usr/bin/sudo]}\n";

/* Cases start on line 7. */
#define HEAD                                                                                   \
	"apiVersion: actgate.dev/v1\n"                                                         \
	"kind: PolicyTest\n"                                                                   \
	"metadata: {name: t}\n"                                                                \
	"spec:\n"                                                                              \
	"  policies: [p.yaml]\n"                                                               \
	"  cases:\n"

struct fixture {
	char dir[64];
	int old_cwd;
};

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/actgate-policytest-XXXXXX");
	fx->old_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->old_cwd < 0 || !mkdtemp(fx->dir) || chdir(fx->dir)) {
		free(fx);
		return -1;
	}
	write_file("p.yaml", policy_yaml);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int err = fchdir(fx->old_cwd);

	close(fx->old_cwd);
	remove_tree(fx->dir);
	free(fx);
	return err;
}

/* Parse name, which must have errors: everything diag_print says about it. */
static char *errors_of(const char *name)
{
	struct policytest_file tf = { 0 };
	struct diag_list diags = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(policytest_parse_file(name, &tf, &diags), -EINVAL);
	/* An invalid file yields nothing to run. */
	assert_int_equal(tf.doc_count, 0);
	assert_null(tf.docs);
	diag_print(&diags, f);
	fclose(f);
	diag_list_free(&diags);
	return out;
}

static void expect_errors(const char *text, const char *expected)
{
	char *got;

	write_file("t.test.yaml", text);
	got = errors_of("t.test.yaml");
	assert_string_equal(got, expected);
	free(got);
}

/* Parse (must succeed) and run name: the lines printed. */
static char *run_file(const char *name, bool verbose, struct policytest_totals *totals)
{
	struct policytest_file tf = { 0 };
	struct diag_list diags = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	err = policytest_parse_file(name, &tf, &diags);
	diag_print(&diags, stderr);
	assert_int_equal(err, 0);
	assert_int_equal(diags.count, 0);
	diag_list_free(&diags);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	*totals = (struct policytest_totals){ 0 };
	assert_int_equal(policytest_run(&tf, verbose, f, totals), 0);
	fclose(f);
	policytest_file_free(&tf);
	return out;
}

static void expect_run(const char *cases, const char *expected, size_t passed, size_t failed)
{
	struct policytest_totals totals;
	char *text, *got;

	assert_int_equal(asprintf(&text, HEAD "%s", cases) > 0, 1);
	write_file("t.test.yaml", text);
	free(text);
	got = run_file("t.test.yaml", false, &totals);
	assert_string_equal(got, expected);
	assert_int_equal(totals.passed, passed);
	assert_int_equal(totals.failed, failed);
	free(got);
}

/* ---- passing ---- */

static void test_passing_file(void **state)
{
	struct policytest_totals totals;
	char *got;

	(void)state;
	write_file("t.test.yaml",
		   HEAD
		   "    - name: curl\n"
		   "      workload: \"ci:build\"\n"
		   "      action: exec\n"
		   "      target: /usr/bin/curl\n"
		   "      expect: deny\n"
		   "      rule: \"ci:exec.deny[0]\"\n"
		   "      mode: enforce\n"
		   "    - {workload: \"ci:b\", action: exec, target: /usr/bin/make, expect: allow}\n"
		   "    - {workload: \"ci:b\", action: exec, target: /opt/x, expect: deny,"
		   " rule: \"ci:exec.default\"}\n"
		   /* Targets are normalised as policies are. */
		   "    - {workload: \"ci:b\", action: exec, target: \"//usr/bin/./curl\","
		   " expect: deny, rule: \"ci:exec.deny[0]\"}\n"
		   "    - {workload: \"ci:b\", action: open, target: /root/.ssh, expect: deny,"
		   " rule: \"ci:open.deny[0]\"}\n"
		   "    - {workload: \"ci:b\", action: open, target: /root/.sshd, expect: allow,"
		   " rule: \"ci:open.default\"}\n"
		   /* The port range, at both ends and just outside. */
		   "    - {workload: \"ci:b\", action: connect, target: \"10.1.2.3:8000\","
		   " expect: allow, rule: \"ci:connect.allow[0]\"}\n"
		   "    - {workload: \"ci:b\", action: connect, target: \"10.1.2.3:8999\","
		   " expect: allow, rule: \"ci:connect.allow[0]\"}\n"
		   "    - {workload: \"ci:b\", action: connect, target: \"10.1.2.3:9000\","
		   " expect: deny, rule: \"ci:connect.default\"}\n"
		   "    - {workload: \"ci:b\", action: connect, target: \"[2001:db8:1::5]:443\","
		   " expect: allow, rule: \"ci:connect.allow[1]\"}\n"
		   "    - {workload: \"agent:a\", action: exec, target: /usr/bin/sudo, expect: deny,"
		   " mode: audit}\n"
		   "---\n"
		   "apiVersion: actgate.dev/v1\n"
		   "kind: PolicyTest\n"
		   "metadata: {name: second}\n"
		   "spec:\n"
		   "  policies: [.]\n"
		   "  cases:\n"
		   "    - {workload: \"agent:a\", action: exec, target: /bin/true, expect: allow,"
		   " rule: \"watch:exec.default\"}\n");
	got = run_file("t.test.yaml", false, &totals);
	assert_string_equal(got, "");
	assert_int_equal(totals.passed, 12);
	assert_int_equal(totals.failed, 0);
	free(got);

	/* --verbose: every case, with what decided it. */
	got = run_file("t.test.yaml", true, &totals);
	assert_int_equal(totals.passed, 12);
	assert_non_null(strstr(got, "PASS t.test.yaml:7: curl: deny by rule ci:exec.deny[0] "
				    "(/usr/bin/curl) of policy ci (mode enforce)\n"));
	assert_non_null(strstr(got, "PASS t.test.yaml:18: case 6: allow for read by rule ci:open.default "
				    "(no rule matched) of policy ci (mode enforce)\n"));
	assert_non_null(strstr(got, "PASS t.test.yaml:22: case 10: allow by rule "
				    "ci:connect.allow[1] ([2001:db8::/32]:443) of policy ci (mode "
				    "enforce)\n"));
	assert_non_null(strstr(got, "PASS t.test.yaml:31: case 1: allow by rule "
				    "watch:exec.default (no rule matched) of policy watch (mode "
				    "audit)\n"));
	free(got);
}

/* ---- failing ---- */

static void test_failing_case(void **state)
{
	(void)state;
	expect_run("    - name: curl is allowed\n"
		   "      workload: \"ci:build\"\n"
		   "      action: exec\n"
		   "      target: /usr/bin/curl\n"
		   "      expect: allow\n",
		   "FAIL t.test.yaml:7: curl is allowed: expected allow, got deny by rule "
		   "ci:exec.deny[0] (/usr/bin/curl) of policy ci (mode enforce)\n",
		   0, 1);
	/* A subtree rule is shown as written, with its '/'; a default says so. */
	expect_run("    - {workload: \"ci:b\", action: exec, target: /usr/bin/ls, expect: deny}\n"
		   "    - {workload: \"ci:b\", action: connect, target: \"10.1.2.3:7999\","
		   " expect: allow}\n"
		   "    - {workload: \"ci:b\", action: open, target: /etc/shadow, expect: allow}\n",
		   "FAIL t.test.yaml:7: case 1: expected deny, got allow by rule ci:exec.allow[0] "
		   "(/usr/bin/) of policy ci (mode enforce)\n"
		   "FAIL t.test.yaml:8: case 2: expected allow, got deny by rule ci:connect.default "
		   "(no rule matched) of policy ci (mode enforce)\n",
		   1, 2);
}

static void test_rule_and_mode_mismatch(void **state)
{
	(void)state;
	/* The right verdict for the wrong reason is a failure. */
	expect_run("    - {name: r, workload: \"ci:b\", action: exec, target: /usr/bin/curl,"
		   " expect: deny, rule: \"ci:exec.default\"}\n"
		   "    - {name: m, workload: \"agent:a\", action: exec, target: /usr/bin/sudo,"
		   " expect: deny, mode: enforce}\n"
		   "    - {name: rm, workload: \"agent:a\", action: exec, target: /usr/bin/sudo,"
		   " expect: deny, rule: \"watch:exec.deny[0]\", mode: enforce}\n"
		   "    - {name: ok, workload: \"agent:a\", action: exec, target: /usr/bin/sudo,"
		   " expect: deny, rule: \"watch:exec.deny[0]\", mode: audit}\n",
		   "FAIL t.test.yaml:7: r: expected deny (rule ci:exec.default), got deny by rule "
		   "ci:exec.deny[0] (/usr/bin/curl) of policy ci (mode enforce)\n"
		   "FAIL t.test.yaml:8: m: expected deny (mode enforce), got deny by rule "
		   "watch:exec.deny[0] (/usr/bin/sudo) of policy watch (mode audit)\n"
		   "FAIL t.test.yaml:9: rm: expected deny (rule watch:exec.deny[0], mode enforce), "
		   "got deny by rule watch:exec.deny[0] (/usr/bin/sudo) of policy watch (mode "
		   "audit)\n",
		   1, 3);
}

static void test_unselected_workload(void **state)
{
	(void)state;
	expect_run("    - {name: nobody, workload: nobody, action: exec, target: /bin/sh,"
		   " expect: deny}\n"
		   "    - {name: two, workload: both, action: exec, target: /usr/bin/sudo,"
		   " expect: allow, rule: \"ci:exec.allow[0]\"}\n",
		   "FAIL t.test.yaml:7: nobody: expected deny, but no policy selects workload "
		   "\"nobody\"\n"
		   "FAIL t.test.yaml:8: two: expected allow (rule ci:exec.allow[0]), got deny by rule "
		   "watch:exec.deny[0] (/usr/bin/sudo) of policy watch (mode audit); 2 policies "
		   "composed\n",
		   0, 2);
}

/* The keys of the later language: identity, signals, accesses, protocols, unix sockets. */
static void test_identity_and_kinds(void **state)
{
	(void)state;
	write_file("q.yaml",
		   "apiVersion: actgate.dev/v1\n"
		   "kind: Policy\n"
		   "metadata: {name: q}\n"
		   "spec:\n"
		   "  selector: {labels: {team: build}, cgroups: [\"ci.slice/*\"]}\n"
		   "  open: {deny: [{path: /srv/, access: write}]}\n"
		   "  connect:\n"
		   "    deny: [{to: \"10.0.0.0/8:53\", protocol: udp}, unix:/run/docker.sock]\n"
		   "    when: [{signals: {risk: high}, default: deny}]\n");
	write_file("t.test.yaml",
		   "apiVersion: actgate.dev/v1\n"
		   "kind: PolicyTest\n"
		   "metadata: {name: t}\n"
		   "spec:\n"
		   "  policies: [q.yaml]\n"
		   "  cases:\n"
		   "    - {name: w, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " action: open, target: /srv/a, access: [read, write], expect: deny,"
		   " rule: \"q:open.deny[0]\"}\n"
		   "    - {name: r, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " action: open, target: /srv/a, access: read, expect: allow}\n"
		   "    - {name: u, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " action: connect, target: \"10.1.1.1:53\", protocol: udp, expect: deny}\n"
		   "    - {name: t, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " action: connect, target: \"10.1.1.1:53\", expect: allow}\n"
		   "    - {name: s, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " action: connect, target: \"unix:/run/docker.sock\", expect: deny,"
		   " rule: \"q:connect.deny[1]\"}\n"
		   "    - {name: h, workload: j, labels: {team: build}, cgroup: ci.slice/j,"
		   " signals: {risk: high}, action: connect, target: \"192.0.2.1:443\","
		   " expect: deny, rule: \"q:connect.when[0].default\"}\n"
		   "    - {name: x, workload: j, labels: {team: web}, cgroup: ci.slice/j,"
		   " action: connect, target: \"192.0.2.1:443\", expect: allow}\n");
	{
		struct policytest_totals totals;
		char *got = run_file("t.test.yaml", false, &totals);

		assert_string_equal(got, "FAIL t.test.yaml:13: x: expected allow, but no policy "
					 "selects workload \"j\"\n");
		assert_int_equal(totals.passed, 6);
		assert_int_equal(totals.failed, 1);
		free(got);
	}
}

/* A case says whether its file was written; exec's written: deny decides on that. */
static void test_written_cases(void **state)
{
	(void)state;
	write_file("d.yaml",
		   "apiVersion: actgate.dev/v1\n"
		   "kind: Policy\n"
		   "metadata: {name: d}\n"
		   "spec:\n"
		   "  selector: {workloads: [w]}\n"
		   "  exec: {allow: [/usr/bin/], deny: [/usr/bin/curl], written: deny}\n");
	write_file("t.test.yaml",
		   "apiVersion: actgate.dev/v1\n"
		   "kind: PolicyTest\n"
		   "metadata: {name: t}\n"
		   "spec:\n"
		   "  policies: [d.yaml]\n"
		   "  cases:\n"
		   "    - {name: a, workload: w, action: exec, target: /usr/bin/ls, expect: allow}\n"
		   "    - {name: b, workload: w, action: exec, target: /usr/bin/ls, written: true,"
		   " expect: deny, rule: \"d:exec.written\"}\n"
		   "    - {name: c, workload: w, action: open, target: /tmp/x, access: exec-map,"
		   " written: true, expect: deny, rule: \"d:exec.written\"}\n"
		   "    - {name: d, workload: w, action: open, target: /usr/bin/curl,"
		   " access: exec-map, expect: deny, rule: \"d:exec.deny[0]\"}\n"
		   "    - {name: e, workload: w, action: open, target: /tmp/x, access: read,"
		   " written: true, expect: allow}\n"
		   "    - {name: f, workload: w, action: exec, target: /usr/bin/ls, written: false,"
		   " expect: allow}\n");
	{
		struct policytest_totals totals;
		char *got = run_file("t.test.yaml", false, &totals);

		assert_string_equal(got, "");
		assert_int_equal(totals.passed, 6);
		assert_int_equal(totals.failed, 0);
		free(got);
	}
	expect_errors(HEAD "    - {workload: w, action: connect, target: \"10.0.0.1:443\", written: true,"
		      " expect: allow}\n"
		      "    - {workload: w, action: exec, target: /x, written: yes, expect: allow}\n",
		      "t.test.yaml:7:71: error: spec.cases[0].written: only exec and open cases are "
		      "about a file\n"
		      "t.test.yaml:8:56: error: spec.cases[1].written: expected true or false, "
		      "found a string\n");
}

static void test_errors_new_keys(void **state)
{
	(void)state;
	expect_errors(HEAD
		      "    - {workload: w, action: exec, target: /bin/sh, access: read, expect: deny}\n"
		      "    - {workload: w, action: open, target: /a, protocol: tcp, expect: deny}\n"
		      "    - {workload: w, action: open, target: /a, access: [read, append], expect: deny}\n"
		      "    - {workload: w, cgroup: /ci.slice, labels: {\"-x\": y}, action: open,"
		      " target: /a, expect: deny}\n"
		      "    - {workload: w, signals: [risk], action: connect, target: \"unix:x\","
		      " expect: deny}\n",
		      "t.test.yaml:7:60: error: spec.cases[0].access: only open cases have an access\n"
		      "t.test.yaml:8:57: error: spec.cases[1].protocol: only connect cases to an IP "
		      "address have a protocol\n"
		      "t.test.yaml:9:62: error: spec.cases[2].access: expected read, write, create or "
		      "exec-map, found \"append\"\n"
		      "t.test.yaml:10:29: error: spec.cases[3].cgroup: a cgroup path is relative to the "
		      "cgroup2 root: leave out the leading '/'\n"
		      "t.test.yaml:10:49: error: spec.cases[3].labels: \"-x\" is not a valid label key\n"
		      "t.test.yaml:11:30: error: spec.cases[4].signals: expected a mapping, found a "
		      "list\n"
		      "t.test.yaml:11:63: error: spec.cases[4].target: path must be absolute (start "
		      "with '/'): \"unix:x\"\n");
}

/*
 * A commission's own asks (docs/delegation.md): --allow rules and --policy
 * names, decided by the agent's delegate: (with its when:), and a rule it
 * gives lifts the agent's deny for that child alone; a refused commission
 * passes only as deny with rule delegation.
 */
static void test_delegation_cases(void **state)
{
	static const char policies[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: agent}\nspec:\n"
		"  selector: {workloads: [\"agent:*\"]}\n"
		"  exec: {default: allow}\n"
		"  connect: {default: deny, allow: [\"10.0.0.1:443\"]}\n"
		"  delegate:\n"
		"    - workloads: [\"tool:*\"]\n"
		"      policies: [extra]\n"
		"    - workloads: [\"tool:deploy\"]\n"
		"      allow: {connect: [\"10.9.9.9:443\"], exec: [/usr/bin/kubectl]}\n"
		"      when: {region: eu}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: extra}\nspec:\n"
		"  selector: {workloads: [\"nobody\"]}\n"
		"  exec: {deny: [/usr/bin/rm]}\n";
	struct policytest_totals totals;
	char *got;

	(void)state;
	write_file("d.yaml", policies);
	write_file("t.test.yaml",
		   "apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\nspec:\n"
		   "  policies: [d.yaml]\n  cases:\n"
		   /* 7: the rule asked for and given */
		   "    - {name: a, chain: [\"agent:1\"], workload: \"tool:deploy\", signals: {region: eu},"
		   " allow: [\"connect:10.9.9.9:443\"], action: connect, target: \"10.9.9.9:443\","
		   " expect: allow, rule: delegate}\n"
		   /* 8: another port of the same host is not given */
		   "    - {name: b, chain: [\"agent:1\"], workload: \"tool:deploy\", signals: {region: eu},"
		   " allow: [\"connect:10.9.9.9:443\"], action: connect, target: \"10.9.9.9:444\","
		   " expect: deny, rule: \"agent:connect.default\"}\n"
		   /* 9: when: does not hold: refused */
		   "    - {name: c, chain: [\"agent:1\"], workload: \"tool:deploy\", signals: {region: us},"
		   " allow: [\"connect:10.9.9.9:443\"], action: connect, target: \"10.9.9.9:443\","
		   " expect: deny, rule: delegation}\n"
		   /* 10: an exec rule, by its path */
		   "    - {name: d, chain: [\"agent:1\"], workload: \"tool:deploy\", signals: {region: eu},"
		   " allow: [\"exec:/usr/bin/kubectl\"], action: exec, target: /usr/bin/kubectl,"
		   " expect: allow}\n"
		   /* 11: --policy extra composes it in: its deny holds */
		   "    - {name: e, chain: [\"agent:1\"], workload: \"tool:x\", policies: [extra],"
		   " action: exec, target: /usr/bin/rm, expect: deny, rule: \"extra:exec.deny[0]\"}\n"
		   /* 12: a refused commission expected to act fails, saying why */
		   "    - {name: f, chain: [\"agent:1\"], workload: \"tool:x\", policies: [agent],"
		   " action: exec, target: /usr/bin/ls, expect: allow}\n"
		   /* 13: a refusal without rule delegation is not taken for any deny */
		   "    - {name: g, chain: [\"agent:1\"], workload: \"tool:x\","
		   " allow: [\"connect:10.9.9.9\"], action: exec, target: /usr/bin/ls, expect: deny}\n");
	got = run_file("t.test.yaml", false, &totals);
	assert_int_equal(totals.passed, 5);
	assert_int_equal(totals.failed, 2);
	assert_non_null(strstr(got, "FAIL t.test.yaml:12: f: expected allow, but the commission is "
				    "refused: agent:1 may not commission tool:x: policy agent's "
				    "delegate: does not allow it"));
	assert_non_null(strstr(got, "FAIL t.test.yaml:13: g: expected deny, but the commission is "
				    "refused"));
	free(got);

	/* What a commission asks for needs a chain, and rules must parse. */
	expect_errors("apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\nspec:\n"
		      "  policies: [d.yaml]\n  cases:\n"
		      "    - {workload: w, allow: [\"exec:/bin/sh\"], action: exec, target: /bin/sh,"
		      " expect: deny}\n"
		      "    - {chain: [a], workload: w, allow: [\"fly:/x\", \"exec:sh\", \"connect:nope\"],"
		      " policies: [3], action: exec, target: /bin/sh, expect: deny}\n",
		      "t.test.yaml:7:28: error: spec.cases[0].allow: the commission's --allow rules "
		      "need a chain: the workloads that commissioned this one\n"
		      "t.test.yaml:8:41: error: spec.cases[1].allow[0]: \"fly:/x\": expected exec:PATH, "
		      "open:PATH or connect:ADDRESS[:PORT]\n"
		      "t.test.yaml:8:51: error: spec.cases[1].allow[1]: \"exec:sh\": expected an "
		      "absolute path\n"
		      "t.test.yaml:8:62: error: spec.cases[1].allow[2]: \"connect:nope\": \"nope\": "
		      "not an IPv4 address\n"
		      "t.test.yaml:8:90: error: spec.cases[1].policies[0]: expected a string, found an "
		      "integer (quote it to make it a string)\n");
}

/* ---- invalid files ---- */

static void test_errors_document(void **state)
{
	(void)state;
	expect_errors("apiVersion: actgate.dev/v2\n"
		      "kind: Policy\n"
		      "metadata: {nmae: t}\n"
		      "spec: {policies: [p.yaml], cases: [], Cases: 1}\n"
		      "extra: 1\n",
		      "t.test.yaml:1:13: error: apiVersion: expected \"actgate.dev/v1\", found "
		      "\"actgate.dev/v2\"\n"
		      "t.test.yaml:2:7: error: kind: expected \"PolicyTest\", found \"Policy\" (a "
		      "policy: name it in spec.policies of a test)\n"
		      "t.test.yaml:3:11: error: missing required key \"name\" in metadata\n"
		      "t.test.yaml:3:12: error: unknown key \"nmae\" in metadata; allowed keys: "
		      "name\n"
		      "t.test.yaml:4:35: error: spec.cases: no cases; a test needs at least one\n"
		      "t.test.yaml:4:39: error: unknown key \"Cases\" in spec (did you mean "
		      "\"cases\"?); allowed keys: policies, cases\n"
		      "t.test.yaml:5:1: error: unknown key \"extra\" in the test; allowed keys: "
		      "apiVersion, kind, metadata, spec\n");
	expect_errors("kind: PolicyTest\nspec: {cases: {}}\n",
		      "t.test.yaml:1:1: error: missing required key \"apiVersion\"\n"
		      "t.test.yaml:1:1: error: missing required key \"metadata\"\n"
		      "t.test.yaml:2:7: error: missing required key \"policies\" in spec\n"
		      "t.test.yaml:2:15: error: spec.cases: expected a list, found a mapping\n");
	expect_errors("[1]\n", "t.test.yaml:1:1: error: expected a PolicyTest mapping at the top "
				   "of the document, found a list\n");
	expect_errors("---\n", "t.test.yaml: error: no test documents\n");
	expect_errors(HEAD "    - {workload: \"ci:b\", action: exec, target: /x, expect: [deny]\n",
		      "t.test.yaml:8:1: error: YAML syntax error: did not find expected ',' or '}' "
		      "(while parsing a flow mapping at line 7 col 7)\n");
	expect_errors(HEAD "    - &c {workload: \"ci:b\", action: exec, target: /x, expect: deny}\n"
			   "    - *c\n",
		      "t.test.yaml:7:7: error: YAML anchors are not supported (&c); quote text "
		      "that starts with '&'\n"
		      "t.test.yaml:8:7: error: YAML aliases are not supported (*c); write the value "
		      "out, or quote text that starts with '*'\n");
}

static void test_errors_cases(void **state)
{
	(void)state;
	expect_errors(HEAD
		      "    - {name: a, workload: \"ci x\", action: tamper, target: /x, expect: allow}\n"
		      "    - {name: a, workload: \"ci:b\", action: exec, target: usr/bin/curl,"
		      " expect: denied, mode: Enforce}\n"
		      "    - {workload: 12, action: connect, target: \"::1:80\", expect: deny,"
		      " rule: true}\n"
		      "    - {workload: \"ci:b\", action: connect, target: \"10.0.0.1\", expect: deny}\n"
		      "    - {workload: \"ci:b\", action: open, target: /a/../b, expect: deny, x: 1}\n"
		      "    - {name: \"\\e[31m\"}\n"
		      "    - 5\n",
		      "t.test.yaml:7:27: error: spec.cases[0].workload: workload name \"ci x\": use "
		      "letters, digits and ._:@+/- and start with a letter or digit\n"
		      "t.test.yaml:7:43: error: spec.cases[0].action: expected exec, open, connect or resolve, "
		      "found \"tamper\"\n"
		      "t.test.yaml:8:14: error: spec.cases[1].name: duplicate case name \"a\" (first "
		      "at line 7)\n"
		      "t.test.yaml:8:57: error: spec.cases[1].target: path must be absolute (start "
		      "with '/'): \"usr/bin/curl\"\n"
		      "t.test.yaml:8:79: error: spec.cases[1].expect: expected allow or deny, found "
		      "\"denied\"\n"
		      "t.test.yaml:8:93: error: spec.cases[1].mode: expected enforce or audit, found "
		      "\"Enforce\"\n"
		      "t.test.yaml:9:18: error: spec.cases[2].workload: expected a string, found an "
		      "integer (quote it to make it a string)\n"
		      "t.test.yaml:9:47: error: spec.cases[2].target: \"::1:80\": expected IPV4:PORT, "
		      "or [IPV6]:PORT with brackets\n"
		      "t.test.yaml:9:77: error: spec.cases[2].rule: expected a string, found a boolean "
		      "(quote it to make it a string)\n"
		      "t.test.yaml:10:51: error: spec.cases[3].target: \"10.0.0.1\": expected "
		      "IPV4:PORT, or [IPV6]:PORT with brackets\n"
		      "t.test.yaml:11:48: error: spec.cases[4].target: \"..\" in a path is ambiguous "
		      "with symlinks; write the path without it: \"/a/../b\"\n"
		      "t.test.yaml:11:71: error: unknown key \"x\" in spec.cases[4]; allowed keys: "
		      "name, workload, cgroup, labels, signals, action, target, access, protocol, "
		      "expect, rule, mode, written, chain, policies, allow, target_name\n"
		      "t.test.yaml:12:7: error: missing required key \"workload\" in spec.cases[5]\n"
		      "t.test.yaml:12:7: error: missing required key \"action\" in spec.cases[5]\n"
		      "t.test.yaml:12:7: error: missing required key \"target\" in spec.cases[5]\n"
		      "t.test.yaml:12:7: error: missing required key \"expect\" in spec.cases[5]\n"
		      "t.test.yaml:12:14: error: spec.cases[5].name: \"\\x1b[31m\" contains a control "
		      "character\n"
		      "t.test.yaml:13:7: error: spec.cases[6]: expected a mapping, found an integer\n");
	/* Duplicates across the documents of one file, too. */
	expect_errors(HEAD "    - {name: a, workload: \"ci:b\", action: exec, target: /x, expect: deny}\n"
			   "---\n" HEAD
			   "    - {name: a, workload: \"ci:b\", action: exec, target: /y, expect: deny}\n",
		      "t.test.yaml:15:14: error: spec.cases[0].name: duplicate case name \"a\" (first "
		      "at line 7)\n");
}

static void test_errors_policies(void **state)
{
	(void)state;
	/* A policy's own errors, at its own positions, after the test file's. */
	write_file("bad.yaml", "apiVersion: actgate.dev/v1\n"
			       "kind: Policy\n"
			       "metadata: {name: bad}\n"
			       "spec:\n"
			       "  selector: {workloads: [\"x:*\"]}\n"
			       "  exec: {deny: [usr/bin/curl]}\n");
	assert_int_equal(mkdir("empty", 0700), 0);
	write_file("empty/only.test.yaml", "");
	expect_errors("apiVersion: actgate.dev/v1\n"
		      "kind: PolicyTest\n"
		      "metadata: {name: t}\n"
		      "spec:\n"
		      "  policies: [bad.yaml, missing.yaml, empty, 3]\n"
		      "  cases:\n"
		      "    - {workload: \"ci:b\", action: exec, target: /x, expect: deny}\n",
		      "t.test.yaml:5:24: error: spec.policies[1]: cannot read \"missing.yaml\": No "
		      "such file or directory\n"
		      "t.test.yaml:5:38: error: spec.policies[2]: no policy files (*.yaml, *.yml "
		      "other than *.test.yaml) in \"empty\"\n"
		      "t.test.yaml:5:45: error: spec.policies[3]: expected a string, found an integer "
		      "(quote it to make it a string)\n"
		      "bad.yaml:6:17: error: spec.exec.deny[0]: path must be absolute (start with "
		      "'/'): \"usr/bin/curl\"\n");
	/* Policies are checked across files too: one name twice. */
	write_file("again.yaml", policy_yaml);
	expect_errors(HEAD "    - {workload: \"ci:b\", action: exec, target: /x, expect: deny}\n"
			   "---\n"
			   "apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: u}\n"
			   "spec:\n  policies: [p.yaml, again.yaml]\n  cases:\n"
			   "    - {workload: \"ci:b\", action: exec, target: /x, expect: deny}\n",
		      "again.yaml:1:1: error: policy name \"ci\" is already used at p.yaml:1\n"
		      "again.yaml:10:1: error: policy name \"watch\" is already used at p.yaml:10\n");
	expect_errors("apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\n"
		      "spec: {policies: [], cases: [{workload: w, action: exec, target: /x,"
		      " expect: deny}]}\n",
		      "t.test.yaml:4:18: error: spec.policies: expected at least one policy file or "
		      "directory\n");
	{
		char *got = errors_of("nope.test.yaml");

		assert_string_equal(got, "nope.test.yaml: error: cannot read test file: No such "
					 "file or directory\n");
		free(got);
	}
}

/* ---- the command's view: paths, directories, the closing line ---- */

static char *run_paths(char *const paths[], size_t n, int expect_ret,
		       struct policytest_totals *totals, char **errors)
{
	char *out = NULL, *err_text = NULL;
	size_t len = 0, err_len = 0;
	FILE *o = open_memstream(&out, &len), *e = open_memstream(&err_text, &err_len);

	assert_non_null(o);
	assert_non_null(e);
	assert_int_equal(policytest_run_paths(paths, n, false, o, e, totals), expect_ret);
	fclose(o);
	fclose(e);
	*errors = err_text;
	return out;
}

static void test_run_paths(void **state)
{
	struct policytest_totals totals;
	char *paths[] = { "tests", "more.test.yaml" };
	char *out, *errors;

	(void)state;
	assert_int_equal(mkdir("tests", 0700), 0);
	/* A policies entry that is a directory takes its policies, not the tests beside them. */
	write_file("tests/p.yaml", policy_yaml);
	write_file("tests/a.test.yaml",
		   "apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: a}\n"
		   "spec:\n  policies: [.]\n  cases:\n"
		   "    - {workload: \"ci:b\", action: exec, target: /usr/bin/curl, expect: deny}\n"
		   "    - {workload: \"ci:b\", action: exec, target: /usr/bin/ls, expect: deny}\n");
	write_file("tests/b.test.yml",
		   "apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: b}\n"
		   "spec:\n  policies: [p.yaml]\n  cases:\n"
		   "    - {workload: \"ci:b\", action: open, target: /etc/passwd, expect: allow}\n");
	write_file("tests/.hidden.test.yaml", "not: read\n");
	write_file("tests/notes.txt", "not: a test\n");
	write_file("more.test.yaml", HEAD "    - {workload: w, action: exec, target: x, expect: deny}\n");

	out = run_paths(paths, 2, -EINVAL, &totals, &errors);
	assert_string_equal(out, "FAIL tests/a.test.yaml:8: case 2: expected deny, got allow by "
				 "rule ci:exec.allow[0] (/usr/bin/) of policy ci (mode enforce)\n"
				 "2 passed, 1 failed, 1 invalid file\n");
	assert_string_equal(errors, "more.test.yaml:7:43: error: spec.cases[0].target: path must "
				    "be absolute (start with '/'): \"x\"\n");
	assert_int_equal(totals.passed, 2);
	assert_int_equal(totals.failed, 1);
	assert_int_equal(totals.invalid_files, 1);
	free(out);
	free(errors);

	/* All valid: 0, even with a failing case (the command's exit status looks at totals). */
	out = run_paths(paths, 1, 0, &totals, &errors);
	assert_string_equal(errors, "");
	assert_int_equal(totals.failed, 1);
	free(out);
	free(errors);

	/* A directory without tests is an error, not an empty success. */
	paths[0] = "empty";
	assert_int_equal(mkdir("empty", 0700), 0);
	out = run_paths(paths, 1, -EINVAL, &totals, &errors);
	assert_string_equal(out, "0 passed, 0 failed, 1 invalid file\n");
	assert_string_equal(errors, "empty: error: no test files (*.test.yaml, *.test.yml)\n");
	free(out);
	free(errors);
}

/* The tests shipped for the shipped policies pass (run from the repository's top). */
static void test_shipped_tests(void **state)
{
	struct fixture *fx = *state;
	struct policytest_totals totals;
	char *paths[] = { "policies/" };
	char *out, *errors;

	assert_int_equal(fchdir(fx->old_cwd), 0);
	out = run_paths(paths, 1, 0, &totals, &errors);
	assert_string_equal(errors, "");
	assert_int_equal(totals.failed, 0);
	assert_true(totals.passed >= 16);
	/* Two files, each with at least 8 cases. */
	assert_non_null(strstr(out, " passed, 0 failed\n"));
	free(out);
	free(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_and_mode_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unselected_workload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_and_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_written_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegation_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_new_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_tests, setup, teardown),
	};

	return cmocka_run_group_tests_name("policytest", tests, NULL, NULL);
}
