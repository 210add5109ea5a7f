/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * spec.delegate (policy/delegate.c): its parse and errors, the delegation
 * decision the daemon enforces, a sub-workload's key (attenuation), and
 * policy test cases with a chain.
 */
#include "test_policy.h"

#include "policy/compile.h"
#include "policy/delegate.h"
#include "policy/policytest.h"

#define AGENT                                                         \
	"apiVersion: actgate.dev/v1\n"                                \
	"kind: Policy\n"                                              \
	"metadata: {name: agent}\n"                                   \
	"spec:\n"                                                     \
	"  selector: {workloads: [\"agent:*\"]}\n"                     \
	"  delegate:\n"                                               \
	"    - workloads: [\"tool:*\"]\n"                              \
	"      policies: [tool-read]\n"                               \
	"    - workloads: [\"tool:deploy\"]\n"                         \
	"      allow: {connect: [\"10.0.0.5:443\"], exec: [/bin/x]}\n" \
	"      when: {region: eu}\n"                                  \
	"      outlive: true\n"                                       \
	"---\n"                                                       \
	"apiVersion: actgate.dev/v1\n"                                \
	"kind: Policy\n"                                              \
	"metadata: {name: tool-read}\n"                               \
	"spec:\n"                                                     \
	"  selector: {workloads: [\"tool:read\"]}\n"                   \
	"  exec: {default: deny}\n"                                   \
	"---\n"                                                       \
	"apiVersion: actgate.dev/v1\n"                                \
	"kind: Policy\n"                                              \
	"metadata: {name: plain}\n"                                   \
	"spec:\n"                                                     \
	"  selector: {workloads: [\"plain:*\"]}\n"

static void test_parse(void **state)
{
	struct parsed p = { 0 };
	const struct policy_delegate *d;

	(void)state;
	parse(&p, AGENT);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.count, 3);
	d = p.set.policies[0].delegate;
	assert_non_null(d);
	assert_int_equal(d->count, 2);
	assert_int_equal(d->entries[0].policy_count, 1);
	assert_string_equal(d->entries[0].policies[0], "tool-read");
	assert_false(d->entries[0].outlive);
	assert_int_equal(d->entries[1].allow_count, 2);
	assert_int_equal(d->entries[1].allow[0].action, ACTGATE_ACTION_CONNECT);
	assert_string_equal(d->entries[1].allow[0].target, "10.0.0.5:443");
	assert_int_equal(d->entries[1].allow[1].action, ACTGATE_ACTION_EXEC);
	assert_int_equal(d->entries[1].when.condition_count, 1);
	assert_true(d->entries[1].outlive);
	assert_null(p.set.policies[1].delegate);
	parsed_free(&p);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_spec_error("  delegate: []",
			  "t.yaml:6:13: error: spec.delegate: the list is empty; leave it out "
			  "(children then get the attenuation alone)\n");
	expect_spec_error("  delegate: [{policies: [a]}]",
			  "t.yaml:6:14: error: spec.delegate[0]: missing required key \"workloads\" "
			  "(the child names)\n");
	expect_spec_error("  delegate: [{workloads: [x], allow: {network: [a]}}]",
			  "t.yaml:6:39: error: spec.delegate[0].allow: unknown section \"network\"; "
			  "expected exec, open or connect\n");
	expect_spec_error("  delegate: [{workloads: [x], allow: {exec: [bin/x]}}]",
			  "t.yaml:6:46: error: spec.delegate[0].allow.exec[0]: \"bin/x\": expected an "
			  "absolute path\n");
	expect_spec_error("  delegate: [{workloads: [x], allow: {connect: [10.0.0.1]}}]",
			  "t.yaml:6:49: error: spec.delegate[0].allow.connect[0]: \"10.0.0.1\": "
			  "expected ADDRESS:PORT\n");
	expect_spec_error("  delegate: [{workloads: [x], outlive: maybe}]",
			  "t.yaml:6:40: error: spec.delegate[0].outlive: expected true or false\n");
	expect_spec_error("  delegate: [{workloads: [x], colour: red}]",
			  "t.yaml:6:31: error: unknown key \"colour\" in spec.delegate[0]; allowed "
			  "keys: workloads, policies, allow, when, outlive\n");
}

/* Decide with the policies named, under region=REGION (NULL: unset). */
static int decide(const struct policy_set *set, const char *parents, const char *child,
		  const char *policy, const char *allow, const char *region, bool *outlive,
		  char *why)
{
	const struct policy *ps[4];
	size_t n = 0;
	struct signal_value sv = { .name = "region", .value = region };
	struct signal_view view = { .values = &sv, .count = region ? 1 : 0 };
	struct delegate_rule rule = { .action = ACTGATE_ACTION_CONNECT, .target = (char *)allow };
	struct delegation_request req = { .child = child, .policies = &policy,
					  .policy_count = policy ? 1 : 0, .allow = &rule,
					  .allow_count = allow ? 1 : 0 };

	for (size_t i = 0; i < set->count; i++)
		if (strstr(parents, set->policies[i].name))
			ps[n++] = &set->policies[i];
	return delegation_decide(ps, n, &req, &view, outlive, why, 384);
}

static void test_decide(void **state)
{
	struct parsed p = { 0 };
	char why[384];
	bool outlive;

	(void)state;
	parse(&p, AGENT);
	assert_int_equal(p.ret, 0);
	/* Without delegate: attenuation only: any name, no --allow. */
	assert_int_equal(decide(&p.set, "plain", "anything", "tool-read", NULL, NULL, &outlive,
				why), 0);
	assert_false(outlive);
	assert_int_equal(decide(&p.set, "plain", "tool:deploy", NULL, "10.0.0.5:443", "eu",
				&outlive, why), -EPERM);
	assert_non_null(strstr(why, "no policy of the parent has a delegate: section"));
	/* With it: names, policies, rules and when: */
	assert_int_equal(decide(&p.set, "agent", "tool:read", "tool-read", NULL, NULL, &outlive,
				why), 0);
	assert_false(outlive);
	assert_int_equal(decide(&p.set, "agent", "other", NULL, NULL, NULL, &outlive, why),
			 -EPERM);
	assert_string_equal(why, "policy agent's delegate: does not allow it: no entry names "
				 "child \"other\"");
	assert_int_equal(decide(&p.set, "agent", "tool:read", "plain", NULL, NULL, &outlive, why),
			 -EPERM);
	assert_int_equal(decide(&p.set, "agent", "tool:deploy", NULL, "10.0.0.5:443", NULL,
				&outlive, why), -EPERM);
	assert_non_null(strstr(why, "when: does not hold"));
	assert_int_equal(decide(&p.set, "agent", "tool:deploy", NULL, "10.0.0.5:443", "us",
				&outlive, why), -EPERM);
	assert_int_equal(decide(&p.set, "agent", "tool:deploy", NULL, "10.0.0.5:443", "eu",
				&outlive, why), 0);
	assert_true(outlive);
	assert_int_equal(decide(&p.set, "agent", "tool:deploy", NULL, "10.0.0.6:443", "eu",
				&outlive, why), -EPERM);
	/* A policy without delegate: beside one with it has no say. */
	assert_int_equal(decide(&p.set, "agent plain", "tool:read", NULL, NULL, NULL, &outlive,
				why), 0);
	parsed_free(&p);
}

/* What a commission's record keeps: the signals the parents' delegate: when:s name. */
static void test_signals_read(void **state)
{
	struct parsed p = { 0 };
	const struct policy *ps[3];
	struct signal_value sv[3] = { { "risk", "low" }, { "region", "eu" }, { "zone", "b" } };
	struct signal_view view = { .values = sv, .count = 3 };
	char *got;

	(void)state;
	parse(&p, AGENT);
	assert_int_equal(p.ret, 0);
	for (size_t i = 0; i < 3; i++)
		ps[i] = &p.set.policies[i];
	/* agent's when: names region (risk and zone are not read); twice counts once. */
	ps[1] = &p.set.policies[0];
	got = delegation_signals_read(ps, 2, &view);
	assert_string_equal(got, "region=eu");
	free(got);
	/* Not set: left out. */
	view.count = 1;
	got = delegation_signals_read(ps, 2, &view);
	assert_string_equal(got, "");
	free(got);
	/* No delegate: at all. */
	ps[0] = &p.set.policies[2];
	got = delegation_signals_read(ps, 1, NULL);
	assert_string_equal(got, "");
	free(got);
	parsed_free(&p);
}

static void test_merge(void **state)
{
	struct parsed p = { 0 };
	struct policy_selection a[1] = { { .index = 2 } }, b[1] = { { .index = 0 } };
	struct policy_selection *m = NULL;
	size_t n = 0;
	char why[128];

	(void)state;
	parse(&p, AGENT);
	a[0].active[ACTGATE_ACTION_EXEC] = 7;
	b[0].active[ACTGATE_ACTION_EXEC] = 1;
	assert_int_equal(delegation_merge(&p.set, a, 1, b, 1, "tool-read,plain", NULL, &m, &n,
					  why, sizeof(why)), 0);
	/* Sorted, each once, the parent's entry kept. */
	assert_int_equal(n, 3);
	assert_int_equal(m[0].index, 0);
	assert_int_equal(m[1].index, 1);
	assert_int_equal(m[2].index, 2);
	assert_int_equal(m[2].active[ACTGATE_ACTION_EXEC], 7);
	free(m);
	assert_int_equal(delegation_merge(&p.set, a, 1, NULL, 0, "nope", NULL, &m, &n, why,
					  sizeof(why)), -ESRCH);
	assert_string_equal(why, "policy \"nope\" is not loaded");
	assert_int_equal(delegation_merge(&p.set, NULL, 0, NULL, 0, NULL, NULL, &m, &n, why,
					  sizeof(why)), -ENOENT);
	parsed_free(&p);
}

/* policy test: a case with a chain is decided under the policies above it too. */
static void test_policytest_chain(void **state)
{
	char dir[] = "/tmp/actgate-delegation-XXXXXX", path[128], *out = NULL;
	struct policytest_totals totals;
	size_t len = 0;
	FILE *f, *mem;
	char *files[1];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(AGENT, f);
	fputs("  exec: {deny: [/bin/rm]}\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/p.test.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\n"
	      "spec:\n  policies: [p.yaml]\n  cases:\n"
	      "    - {name: own, chain: [\"agent:1\"], workload: \"tool:read\", action: exec, "
	      "target: /bin/ls, expect: deny, rule: \"tool-read:exec.default\"}\n"
	      "    - {name: parent, chain: [\"plain:1\"], workload: \"x\", action: exec, "
	      "target: /bin/rm, expect: deny, rule: \"plain:exec.deny[0]\"}\n"
	      "    - {name: refused, chain: [\"agent:1\"], workload: \"other\", action: exec, "
	      "target: /bin/ls, expect: allow}\n",
	      f);
	fclose(f);
	files[0] = path;
	mem = open_memstream(&out, &len);
	assert_int_equal(policytest_run_paths(files, 1, false, mem, stderr, &totals), 0);
	fclose(mem);
	assert_int_equal(totals.passed, 2);
	assert_int_equal(totals.failed, 1);
	assert_non_null(strstr(out, "refused: expected allow, but the commission is refused: "
				    "agent:1 may not commission other: policy agent's delegate: does "
				    "not allow it"));
	free(out);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_signals_read),
		cmocka_unit_test(test_policytest_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
