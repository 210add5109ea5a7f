/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect rules by name: what policy check says about a bad name, and how a
 * workload's lookups are decided (policy/names.h) across wildcards, case,
 * trailing dots, deny rules, several policies and `when:` overlays.
 */
#include <netinet/in.h>
#include <unistd.h>

#include "test_policy.h"

#include "actgate/abi.h"
#include "policy/compile.h"
#include "policy/evaluate.h"
#include "policy/names.h"
#include "policy/policytest.h"

/* Decide name for workload "w" under the policy text (and signals). */
static int decide(const char *text, const struct signal_view *signals, const char *name,
		  struct name_decision *d)
{
	struct workload_identity id = { .name = "w" };
	struct parsed p = { 0 };
	struct name_matcher *m = NULL;
	int ret;

	parse(&p, text);
	if (p.ret) {
		char *out = printed(&p.diags);

		fprintf(stderr, "%s", out);
		free(out);
	}
	assert_int_equal(p.ret, 0);
	assert_int_equal(name_matcher_build_for(&p.set, &id, signals, &m), 0);
	ret = name_matcher_decide(m, name, d);
	name_matcher_free(m);
	parsed_free(&p);
	return ret;
}

#define ONE(connect) HEAD "  connect: " connect "\n"

static void expect_lookup(const char *text, const char *name, uint8_t verdict, uint8_t reason,
			  const char *rule)
{
	struct name_decision d;

	assert_int_equal(decide(text, NULL, name, &d), 0);
	assert_int_equal(d.verdict, verdict);
	assert_int_equal(d.reason, reason);
	assert_string_equal(d.rule, rule);
}

static void test_exact_and_case(void **state)
{
	const char *t = ONE("{default: deny, allow: [\"GitHub.com:443\"]}");
	struct name_decision d;

	(void)state;
	assert_int_equal(decide(t, NULL, "github.com", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(d.reason, ACTGATE_REASON_RULE);
	assert_string_equal(d.rule, "t:connect.allow[0]");
	assert_int_equal(d.port_count, 1);
	assert_int_equal(d.ports[0].port_lo, 443);
	assert_int_equal(d.ports[0].port_hi, 443);
	assert_int_equal(d.ports[0].protocol, 0);

	expect_lookup(t, "GITHUB.COM", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");
	/* The root's trailing dot is the same name. */
	expect_lookup(t, "github.com.", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");
	assert_int_equal(decide(t, NULL, "api.github.com", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(d.reason, ACTGATE_REASON_NAME);
	assert_string_equal(d.rule, "t:connect.default");
	assert_int_equal(d.port_count, 0);
	expect_lookup(t, "github.co", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.default");
	expect_lookup(t, "xgithub.com", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.default");
}

static void test_wildcard_depth(void **state)
{
	const char *t = ONE("{default: deny, allow: [\"*.githubusercontent.com:443\"]}");

	(void)state;
	expect_lookup(t, "raw.githubusercontent.com", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");
	expect_lookup(t, "a.b.githubusercontent.com", ACTGATE_VERDICT_ALLOW,
		      ACTGATE_REASON_RULE, "t:connect.allow[0]");
	/* Not the suffix itself, and not a name that merely ends the same. */
	expect_lookup(t, "githubusercontent.com", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.default");
	expect_lookup(t, "evilgithubusercontent.com", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.default");
}

static void test_deny_beats_allow(void **state)
{
	/* The more specific name decides; at the same name, deny wins a tie. */
	const char *t = ONE("{default: deny, allow: [\"*.example.com\"], "
			    "deny: [gist.example.com, \"*.bad.example.com\"]}");
	const char *ports = ONE("{default: deny, allow: [example.com], "
				"deny: [{to: \"example.com:25\", protocol: tcp}]}");
	struct name_decision d;

	(void)state;
	expect_lookup(t, "raw.example.com", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");
	expect_lookup(t, "gist.example.com", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.deny[0]");
	expect_lookup(t, "x.bad.example.com", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.deny[1]");
	/* *.bad.example.com does not cover bad.example.com: *.example.com does. */
	expect_lookup(t, "bad.example.com", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");

	/* A deny on one port leaves the rest: the lookup goes ahead, without 25/tcp. */
	assert_int_equal(decide(ports, NULL, "example.com", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(d.rule, "t:connect.allow[0]");
	assert_int_equal(d.port_count, 3);
	assert_int_equal(d.ports[0].protocol, IPPROTO_TCP);
	assert_int_equal(d.ports[0].port_lo, 0);
	assert_int_equal(d.ports[0].port_hi, 24);
	assert_int_equal(d.ports[1].protocol, IPPROTO_TCP);
	assert_int_equal(d.ports[1].port_lo, 26);
	assert_int_equal(d.ports[1].port_hi, 65535);
	assert_int_equal(d.ports[2].protocol, IPPROTO_UDP);
	assert_int_equal(d.ports[2].port_lo, 0);
	assert_int_equal(d.ports[2].port_hi, 65535);
}

static void test_default_allow(void **state)
{
	const char *t = ONE("{default: allow, deny: [\"*.attacker.example\"]}");
	struct name_decision d;

	(void)state;
	assert_int_equal(decide(t, NULL, "deb.debian.org", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(d.reason, ACTGATE_REASON_DEFAULT);
	assert_string_equal(d.rule, "t:connect.default");
	assert_int_equal(d.port_count, 1);
	assert_int_equal(d.ports[0].port_hi, 65535);
	expect_lookup(t, "secret.attacker.example", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.deny[0]");
	/* No connect section: everything allowed, lookups too. */
	expect_lookup(HEAD, "anything.example", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_DEFAULT,
		      "t:connect.default");
}

static void test_several_policies(void **state)
{
	/* Policies compose by intersection: both must allow, each its own ports. */
	static const char text[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: base}\n"
		"spec:\n  selector: {workloads: [\"*\"]}\n"
		"  connect: {default: deny, allow: [\"*.example.com\"]}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: team}\n"
		"spec:\n  selector: {workloads: [\"w\"]}\n"
		"  connect: {default: deny, allow: [\"api.example.com:443\", "
		"\"other.org:443\"]}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: watch}\n"
		"spec:\n  selector: {workloads: [\"w\"]}\n  mode: audit\n"
		"  connect: {default: allow, deny: [api.example.com]}\n";
	struct name_decision d;

	(void)state;
	assert_int_equal(decide(text, NULL, "api.example.com", &d), 0);
	/* The audit policy's would-be denial is what is recorded; the lookup goes ahead. */
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(d.mode, ACTGATE_MODE_AUDIT);
	assert_string_equal(d.rule, "watch:connect.deny[0]");
	assert_int_equal(d.port_count, 1);
	assert_int_equal(d.ports[0].port_lo, 443);
	assert_int_equal(d.ports[0].port_hi, 443);
	/* base denies other.org, team allows it: denied by base's default. */
	assert_int_equal(decide(text, NULL, "other.org", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(d.mode, ACTGATE_MODE_ENFORCE);
	assert_string_equal(d.rule, "base:connect.default");
	/* team does not list www.example.com. */
	assert_int_equal(decide(text, NULL, "www.example.com", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(d.rule, "team:connect.default");
}

static void test_when_overlay(void **state)
{
	static const char text[] = HEAD
		"  connect:\n"
		"    default: deny\n"
		"    allow: [registry.npmjs.org, \"pypi.org:443\"]\n"
		"    when:\n"
		"      - signals: {ci.trust: untrusted}\n"
		"        deny: [registry.npmjs.org]\n"
		"      - signals: {ci.trust: internal}\n"
		"        allow: [\"git.internal.example:22\"]\n";
	static const struct signal_value untrusted_v[] = { { "ci.trust", "untrusted" } };
	static const struct signal_value internal_v[] = { { "ci.trust", "internal" } };
	struct signal_view untrusted = { untrusted_v, 1 }, internal = { internal_v, 1 };
	struct name_decision d;

	(void)state;
	expect_lookup(text, "registry.npmjs.org", ACTGATE_VERDICT_ALLOW, ACTGATE_REASON_RULE,
		      "t:connect.allow[0]");
	assert_int_equal(decide(text, &untrusted, "registry.npmjs.org", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(d.rule, "t:connect.when[0].deny[0]");
	assert_int_equal(decide(text, &untrusted, "pypi.org", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_ALLOW);
	expect_lookup(text, "git.internal.example", ACTGATE_VERDICT_DENY, ACTGATE_REASON_NAME,
		      "t:connect.default");
	assert_int_equal(decide(text, &internal, "git.internal.example", &d), 0);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(d.rule, "t:connect.when[1].allow[0]");
	assert_int_equal(d.ports[0].port_lo, 22);
}

static void test_bad_lookup_names(void **state)
{
	const char *t = ONE("{default: allow}");
	struct name_decision d;
	char long_label[80], long_name[300];

	(void)state;
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".com");
	for (size_t i = 0; i < 254; i += 2)
		memcpy(long_name + i, "a.", 2);
	strcpy(long_name + 254, "com");
	assert_int_equal(decide(t, NULL, "a..b", &d), -EINVAL);
	assert_int_equal(d.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(decide(t, NULL, "", &d), -EINVAL);
	assert_int_equal(decide(t, NULL, "*.example.com", &d), -EINVAL);
	assert_int_equal(decide(t, NULL, "a b.example", &d), -EINVAL);
	assert_int_equal(decide(t, NULL, long_label, &d), -EINVAL);
	assert_int_equal(decide(t, NULL, long_name, &d), -EINVAL);
	assert_int_equal(decide(t, NULL, "-a.example", &d), -EINVAL);
	assert_int_equal(decide(t, NULL, "_http.example", &d), 0);
}

static void test_parse_model(void **state)
{
	static const char text[] = HEAD
		"  connect:\n"
		"    default: deny\n"
		"    allow: [127.0.0.1, \"GitHub.com.:443\", {to: \"*.npmjs.org\", protocol: tcp},"
		" \"[::1]:8080\", unix:/run/x.sock]\n";
	struct parsed p = { 0 };
	const struct net_rules *c;

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	c = &p.set.policies[0].connect;
	/* Addresses stay address rules; names go beside them; indices are shared. */
	assert_int_equal(c->count, 2);
	assert_int_equal(c->rules[0].index, 0);
	assert_int_equal(c->rules[1].index, 3);
	assert_int_equal(c->unix_count, 1);
	assert_int_equal(c->name_count, 2);
	assert_string_equal(c->name_rules[0].name, "github.com");
	assert_string_equal(c->name_rules[0].text, "GitHub.com.:443");
	assert_false(c->name_rules[0].wildcard);
	assert_int_equal(c->name_rules[0].port_lo, 443);
	assert_int_equal(c->name_rules[0].index, 1);
	assert_int_equal(c->name_rules[0].pos.line, 8);
	assert_string_equal(c->name_rules[1].name, "npmjs.org");
	assert_true(c->name_rules[1].wildcard);
	assert_int_equal(c->name_rules[1].protocol, IPPROTO_TCP);
	assert_int_equal(c->name_rules[1].port_hi, 65535);
	assert_int_equal(c->name_rules[1].index, 2);
	parsed_free(&p);
}

static void test_check_errors(void **state)
{
	char spec[512];

	(void)state;
	expect_spec_error("  connect: {allow: [\"a..example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: empty label (two dots in a "
			  "row, or a leading dot) (at byte 2 of \"a..example.com\")\n");
	expect_spec_error("  connect: {allow: [\"a.*.example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: a wildcard '*' must be the "
			  "whole first label, as in \"*.example.com\" (at byte 2 of "
			  "\"a.*.example.com\")\n");
	expect_spec_error("  connect: {allow: [\"*example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: a wildcard '*' must be the "
			  "whole first label, as in \"*.example.com\" (at byte 0 of "
			  "\"*example.com\")\n");
	expect_spec_error("  connect: {allow: [\"*\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: a wildcard needs a suffix, "
			  "as in \"*.example.com\" (at byte 0 of \"*\")\n");
	expect_spec_error("  connect: {deny: [bad!name.example]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: bad label: '!' is not allowed "
			  "in a name (letters, digits, '-' and '_') (at byte 3 of "
			  "\"bad!name.example\")\n");
	expect_spec_error("  connect: {allow: [\"example.com:0\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: port 0 is out of range "
			  "1-65535 (at byte 12 of \"example.com:0\")\n");
	snprintf(spec, sizeof(spec), "  connect: {allow: [\"%0*d.example.com\"]}", 64, 0);
	expect_spec_error(spec, "t.yaml:6:21: error: spec.connect.allow[0]: label "
				"\"0000000000000000...\" is 64 bytes long; the limit is 63 (at byte 0 "
				"of \"0000000000000000000000000000000000000000000000000000000000000000"
				".example.com\")\n");
	expect_spec_error("  connect: {allow: [\"-a.example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: bad label \"-a\": a label may "
			  "not start with '-' (at byte 0 of \"-a.example.com\")\n");
	expect_spec_error("  connect: {allow: [\"www.a-.example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: bad label \"a-\": a label may "
			  "not end with '-' (at byte 4 of \"www.a-.example.com\")\n");
	/* One trailing dot is the root; a second is an empty label. */
	expect_spec_error("  connect: {allow: [\"a.example.com..\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: empty label (two dots in a "
			  "row, or a leading dot) (at byte 14 of \"a.example.com..\")\n");
	expect_spec_error("  connect: {allow: [\"*.*.example.com\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: a wildcard '*' must be the "
			  "whole first label, as in \"*.example.com\" (at byte 2 of "
			  "\"*.*.example.com\")\n");
	expect_spec_error("  connect: {allow: [\"a.example.com:443-80\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: port range 443-80 is reversed: "
			  "write LO-HI with LO <= HI (at byte 14 of \"a.example.com:443-80\")\n");
	/* In an overlay, at the rule in it. */
	expect_spec_error("  connect:\n"
			  "    default: deny\n"
			  "    when:\n"
			  "      - signals: {trust: high}\n"
			  "        allow: [ok.example, \"a..example.com\"]",
			  "t.yaml:10:29: error: spec.connect.when[0].allow[1]: empty label (two dots "
			  "in a row, or a leading dot) (at byte 2 of \"a..example.com\")\n");
	/* A name and its spelling with another case are one target. */
	expect_spec_error("  connect: {allow: [github.com, GITHUB.com.]}",
			  "t.yaml:6:33: error: spec.connect.allow[1]: duplicate rule: "
			  "\"GITHUB.com.\" is the same as spec.connect.allow[0] \"github.com\" "
			  "(line 6)\n");
	expect_spec_error("  connect: {allow: [github.com], deny: [github.com]}",
			  "t.yaml:6:41: error: spec.connect.deny[0]: \"github.com\" contradicts "
			  "spec.connect.allow[0] (line 6): the same target is both allowed and "
			  "denied, so the allow rule can never match; remove one of them\n");
}

static void test_name_too_long(void **state)
{
	char name[300], spec[400];
	struct parsed p = { 0 };
	char text[1024];
	char *out;

	(void)state;
	for (size_t i = 0; i < 250; i += 2)
		memcpy(name + i, "a.", 2);
	strcpy(name + 250, "com"); /* 253 bytes: the limit */
	snprintf(spec, sizeof(spec), "  connect: {allow: [\"%s\"]}\n", name);
	snprintf(text, sizeof(text), "%s%s", HEAD, spec);
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	parsed_free(&p);

	strcpy(name + 250, "comm"); /* 254 */
	snprintf(spec, sizeof(spec), "  connect: {allow: [\"%s\"]}\n", name);
	snprintf(text, sizeof(text), "%s%s", HEAD, spec);
	parse(&p, text);
	assert_int_equal(p.ret, -EINVAL);
	out = printed(&p.diags);
	assert_non_null(strstr(out, "t.yaml:6:21: error: spec.connect.allow[0]: name is 254 bytes "
				    "long; the limit is 253"));
	free(out);
	parsed_free(&p);
}

/* policy_compile's messages for text, "" when it compiles. */
static char *compiled(const char *text, int *ret)
{
	struct parsed p = { 0 };
	struct policy_image img;
	struct diag_list diags = { 0 };
	char *out;

	parse(&p, text);
	assert_int_equal(p.ret, 0);
	*ret = policy_compile(&p.set, 1, resolve_path_stat, NULL, &img, &diags);
	if (!*ret)
		policy_image_free(&img);
	out = printed(&diags);
	diag_list_free(&diags);
	parsed_free(&p);
	return out;
}

static void test_compile(void **state)
{
	int ret;
	char *out;

	(void)state;
	/* Allow rules by name compile: they are left out of the address maps. */
	out = compiled(ONE("{default: deny, allow: [127.0.0.1, \"github.com:443\"]}"), &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(out, "");
	free(out);
	/* A deny by name under a section with nothing allowed by address: nothing to weaken. */
	out = compiled(ONE("{default: deny, allow: [\"*.example.com\"], deny: [gist.example.com]}"),
		       &ret);
	assert_int_equal(ret, 0);
	free(out);
	/* Where addresses are allowed, a deny by name would be a silent downgrade. */
	out = compiled(ONE("{default: allow, deny: [\"*.attacker.example\"]}"), &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(out, "t.yaml:6:36: error: t:connect.deny[0]: deny rule by name "
				 "\"*.attacker.example\" cannot be enforced yet: this daemon does not "
				 "answer the workloads' lookups, and this connect section allows IP "
				 "destinations (an allow default or an address allow rule), so a connect "
				 "to the name's addresses would be allowed; deny its addresses, or make "
				 "the section's default deny and allow only what is needed\n");
	free(out);
	out = compiled(ONE("{default: deny, allow: [10.0.0.0/8], deny: [evil.example]}"), &ret);
	assert_int_equal(ret, -EINVAL);
	free(out);
}

/* name_rules_check_no_resolver's messages for text (the daemon's load, policy check --resolve). */
static char *unresolved(const char *text, int *ret)
{
	struct parsed p = { 0 };
	struct diag_list diags = { 0 };
	char *out;

	parse(&p, text);
	assert_int_equal(p.ret, 0);
	*ret = name_rules_check_no_resolver(&p.set, &diags);
	out = printed(&diags);
	diag_list_free(&diags);
	parsed_free(&p);
	return out;
}

/*
 * While nothing answers the workloads' lookups, an allow rule by name would
 * allow nothing: refused at the rule, in the base and in overlays alike.
 */
static void test_no_resolver(void **state)
{
	int ret;
	char *out;

	(void)state;
	out = unresolved(ONE("{default: deny, allow: [127.0.0.1, \"github.com:443\"]}"), &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(out, "t.yaml:6:47: error: t:connect.allow[1]: allow rule by name "
				 "\"github.com:443\" cannot be honoured: no resolver answers the "
				 "workloads' lookups (actgated.yaml has no resolver: section), so no "
				 "address would be learned for the name and every connect the rule is "
				 "meant to allow would be denied; configure the resolver, or allow the "
				 "addresses (docs/egress.md)\n");
	free(out);
	out = unresolved(HEAD "  connect:\n"
			      "    default: deny\n"
			      "    when:\n"
			      "      - signals: {trust: high}\n"
			      "        allow: [\"*.example.com\"]\n",
			 &ret);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "t.yaml:10:17: error: t:connect.when[0].allow[0]: allow rule "
				    "by name \"*.example.com\" cannot be honoured: no resolver"));
	free(out);
	/* Addresses only, and a deny by name where nothing is allowed: nothing to refuse. */
	out = unresolved(ONE("{default: deny, allow: [10.0.0.0/8:443], deny: [evil.example]}"),
			 &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(out, "");
	free(out);
}

/* A decision's rule id names, in the compiled image, the rule the decision names. */
static void test_rule_ids(void **state)
{
	static const char text[] = HEAD
		"  connect:\n"
		"    default: deny\n"
		"    allow: [127.0.0.1, \"github.com:443\", \"*.example.com\"]\n"
		"    when:\n"
		"      - signals: {ci.trust: untrusted}\n"
		"        default: deny\n"
		"        allow: [pypi.org]\n";
	static const struct signal_value v[] = { { "ci.trust", "untrusted" } };
	struct signal_view untrusted = { v, 1 };
	static const char *const names[] = { "github.com", "a.example.com", "pypi.org", "x.org" };
	struct workload_identity id = { .name = "w" };
	struct parsed p = { 0 };
	struct diag_list diags = { 0 };
	struct policy_image img;
	struct name_matcher *m;
	struct name_decision d;
	char buf[192];

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(policy_compile(&p.set, 1, resolve_path_stat, NULL, &img, &diags), 0);
	assert_int_equal(name_matcher_build_for(&p.set, &id, &untrusted, &m), 0);
	assert_true(name_matcher_has_rules(m));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(name_matcher_decide(m, names[i], &d), 0);
		assert_int_equal(policy_image_rule_name(&img, name_decision_rule_id(&img, &d), buf,
							sizeof(buf)), 0);
		assert_string_equal(buf, d.rule);
	}
	assert_string_equal(d.rule, "t:connect.when[0].default");
	name_matcher_free(m);
	policy_image_free(&img);
	diag_list_free(&diags);
	parsed_free(&p);
}

/* The evaluator: a connect made for a name, and a lookup, as policy test decides them. */
static void test_evaluate(void **state)
{
	static const char text[] = HEAD
		"  connect:\n"
		"    default: deny\n"
		"    allow: [\"github.com:443\", 127.0.0.1]\n"
		"    deny: [10.0.0.0/8, \"*.evil.example\"]\n";
	struct workload_identity id = { .name = "w" };
	struct eval_action a = { .action = ACTGATE_ACTION_CONNECT, .port = 443,
				 .addr = { [10] = 0xff, [11] = 0xff, 140, 82, 112, 3 } };
	struct parsed p = { 0 };
	struct eval_result r;
	char why[128];

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	/* No name: the address rules and the default, as before. */
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(r.rule, "t:connect.default");
	/* Made for github.com: its rule allows, as a learned address. */
	a.name = "GitHub.com.";
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(r.reason, ACTGATE_REASON_LEARNED);
	assert_string_equal(r.rule, "t:connect.allow[0]");
	/* Not on another port. */
	a.port = 80;
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(r.rule, "t:connect.default");
	/* An address deny beats a name allow. */
	a.port = 443;
	a.addr[12] = 10;
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(r.reason, ACTGATE_REASON_RULE);
	assert_string_equal(r.rule, "t:connect.deny[0]");
	/* A name deny beats an address allow. */
	a.addr[12] = 127;
	a.addr[15] = 1;
	a.name = "x.evil.example";
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(r.rule, "t:connect.deny[1]");
	/* A bad name is refused, with the reason. */
	a.name = "a..b";
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bad name \"a..b\": empty label (two dots in a row, or a "
				 "leading dot)");

	/* A lookup. */
	a = (struct eval_action){ .action = ACTGATE_ACTION_RESOLVE, .name = "github.com" };
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(r.reason, ACTGATE_REASON_RULE);
	assert_string_equal(r.rule, "t:connect.allow[0]");
	assert_string_equal(r.policy, "t");
	a.name = "secret.evil.example";
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(r.reason, ACTGATE_REASON_NAME);
	assert_string_equal(r.rule, "t:connect.deny[1]");
	a.name = NULL;
	assert_int_equal(policy_evaluate(&p.set, &id, NULL, &a, &r, why, sizeof(why)), -EINVAL);
	parsed_free(&p);
}

/* policy test: resolve cases and target_name, and what a failing case prints. */
static void test_policytest(void **state)
{
	static const char policy[] = HEAD
		"  connect: {default: deny, allow: [\"github.com:443\", \"*.npmjs.org:443\"]}\n";
	static const char tests[] =
		"apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\n"
		"spec:\n  policies: [p.yaml]\n  cases:\n"
		"    - {name: lookup, workload: w, action: resolve, target: GitHub.com, expect: allow,"
		" rule: \"t:connect.allow[0]\"}\n"
		"    - {name: exfil, workload: w, action: resolve, target: x.attacker.example,"
		" expect: deny, rule: \"t:connect.default\"}\n"
		"    - {name: learned, workload: w, action: connect, target: \"140.82.112.3:443\","
		" target_name: github.com, expect: allow, rule: \"t:connect.allow[0]\"}\n"
		"    - {name: raw ip, workload: w, action: connect, target: \"140.82.112.3:443\","
		" expect: deny}\n"
		"    - {name: wrong, workload: w, action: resolve, target: registry.npmjs.org,"
		" expect: deny}\n";
	static const char bad[] =
		"apiVersion: actgate.dev/v1\nkind: PolicyTest\nmetadata: {name: t}\n"
		"spec:\n  policies: [p.yaml]\n  cases:\n"
		"    - {workload: w, action: resolve, target: \"a..b\", expect: deny}\n"
		"    - {workload: w, action: exec, target: /x, target_name: a.b, expect: deny}\n"
		"    - {workload: w, action: resolve, target: a.b, expect: deny, protocol: tcp}\n";
	char dir[] = "/tmp/actgate-names-XXXXXX", path[64], *out = NULL;
	struct policytest_totals totals = { 0 };
	struct policytest_file tf = { 0 };
	struct diag_list diags = { 0 };
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(policy, f);
	fclose(f);
	assert_int_equal(policytest_parse_buffer("t.test.yaml", dir, tests, strlen(tests), &tf,
						 &diags), 0);
	f = open_memstream(&out, &len);
	assert_int_equal(policytest_run(&tf, false, f, &totals), 0);
	fclose(f);
	assert_int_equal(totals.passed, 4);
	assert_int_equal(totals.failed, 1);
	assert_string_equal(out, "FAIL t.test.yaml:11: wrong: expected deny, got allow by rule "
				 "t:connect.allow[1] (*.npmjs.org:443) of policy t (mode enforce)\n");
	free(out);
	policytest_file_free(&tf);
	diag_list_free(&diags);

	memset(&tf, 0, sizeof(tf));
	diags = (struct diag_list){ 0 };
	assert_int_equal(policytest_parse_buffer("t.test.yaml", dir, bad, strlen(bad), &tf, &diags),
			 -EINVAL);
	out = printed(&diags);
	assert_string_equal(out,
		"t.test.yaml:7:46: error: spec.cases[0].target: empty label (two dots in a row, or a "
		"leading dot) (at byte 2 of \"a..b\")\n"
		"t.test.yaml:8:60: error: spec.cases[1].target_name: only connect cases to an IP "
		"address have a target_name (a resolve case names its name in target)\n"
		"t.test.yaml:9:75: error: spec.cases[2].protocol: only connect cases to an IP address "
		"have a protocol\n");
	free(out);
	policytest_file_free(&tf);
	diag_list_free(&diags);
	unlink(path);
	rmdir(dir);
}

static void test_rule_matches(void **state)
{
	struct name_rule exact = { .name = (char *)"example.com" };
	struct name_rule wild = { .name = (char *)"example.com", .wildcard = true };
	struct name_rule longer = { .name = (char *)"b.example.com", .wildcard = true };

	(void)state;
	assert_true(name_rule_matches_name(&exact, "example.com"));
	assert_false(name_rule_matches_name(&exact, "a.example.com"));
	assert_false(name_rule_matches_name(&wild, "example.com"));
	assert_true(name_rule_matches_name(&wild, "a.example.com"));
	assert_true(name_rule_matches_name(&wild, "a.b.example.com"));
	assert_false(name_rule_matches_name(&wild, "aexample.com"));
	assert_true(name_rule_more_specific(&exact, &wild));
	assert_false(name_rule_more_specific(&wild, &exact));
	assert_true(name_rule_more_specific(&longer, &wild));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_case),
		cmocka_unit_test(test_wildcard_depth),
		cmocka_unit_test(test_deny_beats_allow),
		cmocka_unit_test(test_default_allow),
		cmocka_unit_test(test_several_policies),
		cmocka_unit_test(test_when_overlay),
		cmocka_unit_test(test_bad_lookup_names),
		cmocka_unit_test(test_parse_model),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_rule_matches),
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_no_resolver),
		cmocka_unit_test(test_rule_ids),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_policytest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
