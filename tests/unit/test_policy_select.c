/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Applying a parsed policy (select.c): which workloads its selector picks,
 * which `when:` overlays hold under signals and what the section's default
 * is then, and the names its rules carry in records.
 */
#include "test_policy.h"

#include "actgate/abi.h"

static void test_selects(void **state)
{
	static const char text[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: ci}\n"
		"spec: {selector: {workloads: [\"ci:*\", \"build-?\", \"job[0-9]\"]}}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: all}\n"
		"spec: {selector: {workloads: [\"*/agent\"]}}\n";
	struct workload_identity id = { .name = "ci:1" };
	struct parsed p = { 0 };
	const struct policy *ci;
	size_t found[4];

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	ci = &p.set.policies[0];
	assert_true(selects(ci, "ci:"));
	assert_true(selects(ci, "ci:job/1"));  /* '*' crosses '/' (no flags) */
	assert_true(selects(ci, "build-7"));
	assert_true(selects(ci, "job3"));
	assert_false(selects(ci, "job33"));
	assert_false(selects(ci, "CI:x"));
	assert_false(selects(ci, "xci:1"));
	assert_false(selects(ci, "build-"));

	assert_int_equal(policy_set_select(&p.set, &id, found, 4), 1);
	assert_int_equal(found[0], 0);
	id.name = "nobody";
	assert_int_equal(policy_set_select(&p.set, &id, found, 4), 0);
	/* Both select it: they compose, in set order. */
	id.name = "ci:x/agent";
	assert_int_equal(policy_set_select(&p.set, &id, found, 4), 2);
	assert_int_equal(found[0], 0);
	assert_int_equal(found[1], 1);
	/* The count is whole even when the room is not. */
	assert_int_equal(policy_set_select(&p.set, &id, found, 1), 2);
	parsed_free(&p);
}

static void test_cgroup_and_label_selectors(void **state)
{
	static const char text[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: svc}\n"
		"spec: {selector: {cgroups: [\"system.slice/*.service\"]}}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: team}\n"
		"spec: {selector: {labels: {team: build, repo: \"org/*\"}}}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: both}\n"
		"spec: {selector: {workloads: [\"ci:*\"], labels: {team: build}}}\n";
	static const struct workload_label build_org[] = { { "team", "build" },
							  { "repo", "org/app" } };
	static const struct workload_label build_only[] = { { "team", "build" } };
	struct parsed p = { 0 };
	const struct policy *svc, *team, *both;
	struct workload_identity id = { 0 };

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	svc = &p.set.policies[0];
	team = &p.set.policies[1];
	both = &p.set.policies[2];
	assert_int_equal(team->selector.label_count, 2);

	id.name = "x";
	id.cgroup = "system.slice/nginx.service";
	assert_true(policy_selects(svc, &id));
	id.cgroup = "user.slice/nginx.service";
	assert_false(policy_selects(svc, &id));
	id.cgroup = NULL; /* not known: not selected by cgroup */
	assert_false(policy_selects(svc, &id));

	id.labels = build_org;
	id.label_count = 2;
	assert_true(policy_selects(team, &id));
	assert_false(policy_selects(both, &id)); /* the name does not match */
	id.name = "ci:1";
	assert_true(policy_selects(both, &id));
	id.labels = build_only; /* repo missing: every label must be there */
	id.label_count = 1;
	assert_false(policy_selects(team, &id));
	assert_true(policy_selects(both, &id));
	parsed_free(&p);
}

static void test_overlays(void **state)
{
	static const char text[] = HEAD
		"  connect:\n"
		"    default: allow\n"
		"    deny: [169.254.169.254]\n"
		"    when:\n"
		"      - signals: {risk: high}\n"
		"        default: deny\n"
		"        allow: [\"10.0.0.0/8:443\"]\n"
		"      - signals: {assurance: [low, none], ci.event: pull_request}\n"
		"        deny: [\"10.0.0.0/8:22\"]\n"
		"      - signals: {maintenance: \"on\"}\n"
		"        default: allow\n";
	static const struct signal_value high[] = { { "risk", "high" } };
	static const struct signal_value low_pr[] = { { "assurance", "none" },
						       { "ci.event", "pull_request" },
						       { "maintenance", "on" } };
	struct signal_view none = { 0 }, v_high = { high, 1 }, v_low = { low_pr, 2 },
			   v_all = { low_pr, 3 };
	struct parsed p = { 0 };
	const struct net_rules *c;
	int from;

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	c = &p.set.policies[0].connect;
	assert_int_equal(c->overlay_count, 3);
	assert_int_equal(c->count, 3);
	assert_int_equal(c->rules[0].overlay, POLICY_BASE);
	assert_int_equal(c->rules[1].overlay, 0);
	assert_int_equal(c->rules[2].overlay, 1);
	assert_int_equal(c->overlays[1].condition_count, 2);
	assert_int_equal(c->overlays[1].conditions[0].value_count, 2);
	assert_true(c->overlays[0].has_default);
	assert_false(c->overlays[1].has_default);

	assert_int_equal(policy_overlays_active(c->overlays, 3, &none), 0);
	assert_int_equal(policy_overlays_active(c->overlays, 3, NULL), 0);
	assert_int_equal(policy_overlays_active(c->overlays, 3, &v_high), 1);
	/* Every condition must hold: ci.event alone is not enough. */
	assert_int_equal(policy_overlays_active(c->overlays, 3, &v_low), 2);
	assert_int_equal(policy_overlays_active(c->overlays, 3, &v_all), 6);

	assert_int_equal(policy_section_default(ACTGATE_VERDICT_ALLOW, c->overlays, 3, 0, &from),
			 ACTGATE_VERDICT_ALLOW);
	assert_int_equal(from, POLICY_BASE);
	assert_int_equal(policy_section_default(ACTGATE_VERDICT_ALLOW, c->overlays, 3, 1, &from),
			 ACTGATE_VERDICT_DENY);
	assert_int_equal(from, 0);
	/* Deny wins among active overlays' defaults, wherever it is. */
	assert_int_equal(policy_section_default(ACTGATE_VERDICT_ALLOW, c->overlays, 3, 5, &from),
			 ACTGATE_VERDICT_DENY);
	assert_int_equal(from, 0);
	assert_int_equal(policy_section_default(ACTGATE_VERDICT_DENY, c->overlays, 3, 4, &from),
			 ACTGATE_VERDICT_ALLOW);
	assert_int_equal(from, 2);

	assert_true(policy_overlay_in_force(POLICY_BASE, 0));
	assert_false(policy_overlay_in_force(1, 1));
	assert_true(policy_overlay_in_force(1, 2));

	parsed_free(&p);
}

static void test_rule_names(void **state)
{
	char name[128];

	(void)state;
	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_CONNECT, 0, ACTGATE_VERDICT_ALLOW,
			 0);
	assert_string_equal(name, "p:connect.when[0].allow[0]");
	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_OPEN, 2, RULE_DEFAULT, 0);
	assert_string_equal(name, "p:open.when[2].default");
	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_EXEC, POLICY_BASE,
			 ACTGATE_VERDICT_DENY, 3);
	assert_string_equal(name, "p:exec.deny[3]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selects),
		cmocka_unit_test(test_cgroup_and_label_selectors),
		cmocka_unit_test(test_overlays),
		cmocka_unit_test(test_rule_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
