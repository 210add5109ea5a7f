/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The sections of a policy (sections.c): exec, open and connect, their
 * defaults, rules, rule options, overlays' grammar, and the checks across a
 * section's rules (duplicates, contradictions), through the parser, with the
 * exact diagnostics.
 */
#include <netinet/in.h>

#include "test_policy.h"

#include "actgate/abi.h"

static void test_defaults(void **state)
{
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, HEAD "  open: {}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.count, 1);
	pol = &p.set.policies[0];
	assert_int_equal(pol->mode, ACTGATE_MODE_ENFORCE);
	assert_int_equal(pol->record, ACTGATE_RECORD_ALL);
	assert_false(pol->exec.present);
	assert_int_equal(pol->exec.default_verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(pol->exec.count, 0);
	assert_false(pol->connect.present);
	assert_int_equal(pol->connect.default_verdict, ACTGATE_VERDICT_ALLOW);
	/* A written section without default: allow, named at the section key. */
	assert_true(pol->open.present);
	assert_int_equal(pol->open.default_verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(pol->open.default_pos.line, 6);
	assert_int_equal(pol->open.default_pos.col, 3);
	parsed_free(&p);
}

static void test_record(void **state)
{
	static const struct {
		const char *text;
		uint8_t record;
	} cases[] = {
		{ "  record: all\n", ACTGATE_RECORD_ALL },
		{ "  record: deny\n", ACTGATE_RECORD_DENY },
		{ "  record: none\n", ACTGATE_RECORD_NONE },
		{ "  record: strict\n", ACTGATE_RECORD_STRICT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p = { 0 };
		char text[256];

		snprintf(text, sizeof(text), HEAD "%s", cases[i].text);
		parse(&p, text);
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.set.policies[0].record, cases[i].record);
		parsed_free(&p);
	}
}

/* strict is the policy's alone, and under it no rule sets its own record. */
static void test_record_strict_errors(void **state)
{
	struct parsed p = { 0 };

	(void)state;
	expect_spec_error("  exec: {deny: [{path: /bin/sh, record: strict}]}",
			  "t.yaml:6:41: error: spec.exec.deny[0].record: strict applies to a whole "
			  "policy: write it as spec.record\n");
	expect_spec_error("  record: strict\n  open: {allow: [{path: /etc/, record: none}]}",
			  "t.yaml:7:40: error: spec.open.allow[0].record: spec.record is strict, "
			  "which every decision of the policy follows; a rule may not set its own "
			  "record\n");
	expect_spec_error("  record: always",
			  "t.yaml:6:11: error: spec.record: expected all, deny, none or strict, "
			  "found \"always\"\n");
	/* Its rules follow it. */
	parse(&p, HEAD "  record: strict\n  exec: {deny: [/bin/sh]}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].exec.rules[0].record, ACTGATE_RECORD_STRICT);
	parsed_free(&p);
}

static void test_path_errors_in_file(void **state)
{
	char *text;
	size_t n;

	(void)state;
	expect_spec_error("  exec: {deny: [bin/sh]}",
			  "t.yaml:6:17: error: spec.exec.deny[0]: path must be absolute "
			  "(start with '/'): \"bin/sh\"\n");
	expect_spec_error("  open: {allow: [/etc/x, /a/../b]}",
			  "t.yaml:6:26: error: spec.open.allow[1]: \"..\" in a path is ambiguous "
			  "with symlinks; write the path without it: \"/a/../b\"\n");
	/* A NUL written as an escape reaches the parser inside the scalar. */
	expect_spec_error("  open: {deny: [\"/etc/sha\\0dow\"]}",
			  "t.yaml:6:17: error: spec.open.deny[0]: path contains a control "
			  "character (\\x00) at byte 9: \"/etc/sha\\x00dow\"\n");
	expect_spec_error("  open: {deny: [\"/etc/\\e[31m\"]}",
			  "t.yaml:6:17: error: spec.open.deny[0]: path contains a control "
			  "character (\\x1b) at byte 6: \"/etc/\\x1b[31m\"\n");
	expect_spec_error("  open: {deny: [\"/etc/\\u009b31m\"]}",
			  "t.yaml:6:17: error: spec.open.deny[0]: path contains a control "
			  "character (U+009B) at byte 6: \"/etc/\\u009b31m\"\n");

	text = malloc(8192);
	assert_non_null(text);
	strcpy(text, HEAD "  exec:\n    deny:\n      - /");
	n = strlen(text);
	memset(text + n, 'x', 4095);
	strcpy(text + n + 4095, "\n");
	{
		struct parsed p = { 0 };

		parse(&p, text);
		assert_int_equal(p.ret, -EINVAL);
		assert_int_equal(p.diags.errors, 1);
		assert_int_equal(p.diags.items[0].line, 8);
		assert_int_equal(p.diags.items[0].col, 9);
		assert_non_null(strstr(p.diags.items[0].message,
				       "spec.exec.deny[0]: path is 4096 bytes long; the limit is 4095: \"/xxx"));
		parsed_free(&p);
	}
	free(text);
}

static void test_net_errors_in_file(void **state)
{
	(void)state;
	expect_spec_error("  connect: {allow: [10.1.0.0/8]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: host bits set; did you mean "
			  "10.0.0.0/8?\n");
	expect_spec_error("  connect: {allow: [\"10.0.0.0/8:0\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: port 0 is out of range 1-65535\n");
	/* A target with a letter is a name (test_policy_names.c), checked as one. */
	expect_spec_error("  connect: {deny: [-x.example.com]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: bad label \"-x\": a label may "
			  "not start with '-' (at byte 0 of \"-x.example.com\")\n");
	expect_spec_error("  connect: {deny: [\"1.2.3.4:9-1\"]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: port range 9-1 is reversed: "
			  "write LO-HI with LO <= HI\n");
	expect_spec_error("  connect: {deny: [10.0.0.0/40]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: bad prefix length \"/40\": "
			  "expected 0-32\n");
	expect_spec_error("  connect: {deny: [\"1.2.3.4\\0:80\"]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: target contains a NUL "
			  "character: \"1.2.3.4\\x00:80\"\n");
}

static void test_duplicate_rules(void **state)
{
	(void)state;
	/* The same path, however written, twice in one list. */
	expect_spec_error("  exec: {deny: [/usr/bin/curl, //usr/bin/./curl]}",
			  "t.yaml:6:32: error: spec.exec.deny[1]: duplicate rule: "
			  "\"//usr/bin/./curl\" is the same as spec.exec.deny[0] \"/usr/bin/curl\" "
			  "(line 6)\n");
	expect_spec_error("  open:\n    deny:\n      - /a/\n      - /b\n      - /a/",
			  "t.yaml:10:9: error: spec.open.deny[2]: duplicate rule: \"/a/\" is the "
			  "same as spec.open.deny[0] (line 8)\n");
	/* Exact and subtree rules on one path are different rules. */
	{
		struct parsed p = { 0 };

		parse(&p, HEAD "  open: {deny: [/etc, /etc/]}\n");
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.diags.count, 0);
		parsed_free(&p);
	}
	/* The same address and ports, written two ways. */
	expect_spec_error("  connect:\n    allow:\n      - 10.0.0.1/32:443\n      - \"[::ffff:10.0.0.1/128]:443\"",
			  "t.yaml:9:9: error: spec.connect.allow[1]: duplicate rule: "
			  "\"[::ffff:10.0.0.1/128]:443\" is the same as spec.connect.allow[0] "
			  "\"10.0.0.1/32:443\" (line 8)\n");
	/* Three of one: each later one names the first. */
	{
		struct parsed p = { 0 };
		char *out;

		parse(&p, HEAD "  connect: {deny: [\"::1\", \"[::1]\", \"::1\"], allow: [\"::1/128\"]}\n");
		out = printed(&p.diags);
		assert_string_equal(out,
				    "t.yaml:6:20: error: spec.connect.deny[0]: \"::1\" contradicts "
				    "spec.connect.allow[0] \"::1/128\" (line 6): the same target is both "
				    "allowed and denied, so the allow rule can never match; remove one of "
				    "them\n"
				    "t.yaml:6:27: error: spec.connect.deny[1]: duplicate rule: \"[::1]\" "
				    "is the same as spec.connect.deny[0] \"::1\" (line 6)\n"
				    "t.yaml:6:36: error: spec.connect.deny[2]: duplicate rule: \"::1\" "
				    "is the same as spec.connect.deny[0] (line 6)\n");
		assert_int_equal(p.ret, -EINVAL);
		free(out);
		parsed_free(&p);
	}
}

/*
 * Many address rules: their duplicate check must see each rule's own key
 * while the list grows (it once read keys through pointers into the moved
 * array, and refused valid lists of a few hundred rules).
 */
static void test_many_net_rules(void **state)
{
	const size_t n = 1000;
	size_t cap = sizeof(HEAD) + 64 + (n + 1) * 32, off = 0;
	char *text = malloc(cap), *out;
	struct parsed p = { 0 };

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "%s  connect:\n    allow:\n", HEAD);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, "      - \"10.0.%zu.%zu:%zu\"\n", i >> 8,
					i & 0xff, 1 + i);
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	assert_int_equal(p.set.policies[0].connect.count, n);
	parsed_free(&p);

	/* One more, the same as the 700th: one error, naming that one. */
	snprintf(text + off, cap - off, "      - \"10.0.2.187:700\"\n");
	parse(&p, text);
	out = printed(&p.diags);
	assert_string_equal(out, "t.yaml:1008:9: error: spec.connect.allow[1000]: duplicate rule: "
				 "\"10.0.2.187:700\" is the same as spec.connect.allow[699] "
				 "(line 707)\n");
	assert_int_equal(p.ret, -EINVAL);
	free(out);
	parsed_free(&p);
	free(text);
}

static void test_warnings(void **state)
{
	static const char text[] = HEAD
		"  exec:\n"
		"    default: deny\n"
		"    allow: [/]\n"
		"    deny: [/usr/bin/curl]\n";
	struct parsed p = { 0 };
	char *out;

	(void)state;
	parse(&p, text);
	out = printed(&p.diags);
	assert_string_equal(out,
			    "t.yaml:8:13: warning: spec.exec.allow[0]: \"/\" allows everything; "
			    "only more specific deny rules still apply\n");
	/* Warnings do not stop a policy from loading. */
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.warnings, 1);
	assert_int_equal(p.diags.errors, 0);
	assert_int_equal(p.set.count, 1);
	free(out);
	parsed_free(&p);
}

/* Rules that can never decide anything are errors: the policy says two things. */
static void test_contradictions(void **state)
{
	(void)state;
	expect_spec_error("  open: {allow: [/etc/shadow, /tmp/], deny: [/etc//shadow]}",
			  "t.yaml:6:46: error: spec.open.deny[0]: \"/etc//shadow\" contradicts "
			  "spec.open.allow[0] \"/etc/shadow\" (line 6): the same target is both "
			  "allowed and denied, so the allow rule can never match; remove one of them\n");
	expect_spec_error("  connect: {allow: [\"10.0.0.0/8:443\"], deny: [\"10.0.0.0/8:443\"]}",
			  "t.yaml:6:47: error: spec.connect.deny[0]: \"10.0.0.0/8:443\" contradicts "
			  "spec.connect.allow[0] (line 6): the same target is both allowed and denied, "
			  "so the allow rule can never match; remove one of them\n");
	/* Only the accesses both rules cover count. */
	expect_spec_error("  open:\n"
			  "    allow: [{path: /srv/, access: [read, write]}]\n"
			  "    deny: [{path: /srv/, access: [write, create]}]",
			  "t.yaml:8:19: error: spec.open.deny[0]: \"/srv/\" contradicts "
			  "spec.open.allow[0] (line 7) for write: the same target is both allowed and "
			  "denied, so the allow rule can never match; remove one of them\n");
	expect_spec_error("  open: {deny: [/srv/, {path: /srv/, access: exec-map}]}",
			  "t.yaml:6:31: error: spec.open.deny[1]: duplicate rule for exec-map: "
			  "\"/srv/\" is the same as spec.open.deny[0] (line 6)\n");
	{
		/* Disjoint accesses, other protocols, other scopes: all fine. */
		struct parsed p = { 0 };

		parse(&p, HEAD
		      "  open:\n"
		      "    allow: [{path: /srv/, access: read}]\n"
		      "    deny: [{path: /srv/, access: [write, create]}]\n"
		      "  connect:\n"
		      "    allow: [{to: \"10.0.0.1:53\", protocol: udp}]\n"
		      "    deny: [\"10.0.0.1:53\", {to: \"10.0.0.1:53\", protocol: tcp}]\n"
		      "    when:\n"
		      "      - signals: {risk: high}\n"
		      "        allow: [\"10.0.0.1:53\"]\n");
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.diags.count, 0);
		parsed_free(&p);
	}
}

/* Rule entries written as mappings: options per rule. */
static void test_rule_mappings(void **state)
{
	static const char text[] = HEAD
		"  mode: audit\n"
		"  record: deny\n"
		"  exec:\n"
		"    deny: [/usr/bin/curl, {path: /usr/bin/wget, mode: enforce, record: all}]\n"
		"  open:\n"
		"    deny:\n"
		"      - {path: /etc/, access: [write, create]}\n"
		"      - {path: /tmp/, access: exec-map, record: none}\n"
		"      - /root/\n"
		"  connect:\n"
		"    default: deny\n"
		"    allow:\n"
		"      - {to: \"10.0.0.0/8:53\", protocol: udp}\n"
		"      - unix:/run/app.sock\n"
		"      - {unix: /run/secrets/, mode: enforce}\n"
		"      - 127.0.0.1\n";
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	pol = &p.set.policies[0];
	assert_int_equal(pol->exec.count, 2);
	assert_int_equal(pol->exec.rules[0].mode, ACTGATE_MODE_AUDIT); /* the policy's */
	assert_int_equal(pol->exec.rules[0].record, ACTGATE_RECORD_DENY);
	assert_int_equal(pol->exec.rules[0].access, ACTGATE_ACCESS_WHOLE);
	assert_int_equal(pol->exec.rules[1].mode, ACTGATE_MODE_ENFORCE);
	assert_int_equal(pol->exec.rules[1].record, ACTGATE_RECORD_ALL);
	assert_string_equal(pol->exec.rules[1].path, "/usr/bin/wget");
	assert_int_equal(pol->exec.rules[1].overlay, POLICY_BASE);

	assert_int_equal(pol->open.count, 3);
	assert_int_equal(pol->open.rules[0].access, ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_CREATE);
	assert_true(pol->open.rules[0].subtree);
	assert_int_equal(pol->open.rules[1].access, ACTGATE_ACCESS_EXEC_MAP);
	assert_int_equal(pol->open.rules[1].record, ACTGATE_RECORD_NONE);
	assert_int_equal(pol->open.rules[2].access, ACTGATE_ACCESS_ALL);

	/* Address and unix rules share the list's indices. */
	assert_int_equal(pol->connect.count, 2);
	assert_int_equal(pol->connect.rules[0].protocol, IPPROTO_UDP);
	assert_int_equal(pol->connect.rules[0].port_lo, 53);
	assert_int_equal(pol->connect.rules[0].index, 0);
	assert_int_equal(pol->connect.rules[1].protocol, 0);
	assert_int_equal(pol->connect.rules[1].index, 3);
	assert_int_equal(pol->connect.unix_count, 2);
	assert_string_equal(pol->connect.unix_rules[0].path, "/run/app.sock");
	assert_false(pol->connect.unix_rules[0].subtree);
	assert_int_equal(pol->connect.unix_rules[0].index, 1);
	assert_int_equal(pol->connect.unix_rules[0].access, ACTGATE_ACCESS_WHOLE);
	assert_string_equal(pol->connect.unix_rules[1].path, "/run/secrets");
	assert_true(pol->connect.unix_rules[1].subtree);
	assert_int_equal(pol->connect.unix_rules[1].mode, ACTGATE_MODE_ENFORCE);
	parsed_free(&p);
}

static void test_rule_mapping_errors(void **state)
{
	(void)state;
	expect_spec_error("  open: {deny: [{path: /etc/, access: [read, append]}]}",
			  "t.yaml:6:46: error: spec.open.deny[0].access: unknown access \"append\"; "
			  "expected read, write, create or exec-map\n");
	expect_spec_error("  open: {deny: [{path: /etc/, access: []}]}",
			  "t.yaml:6:39: error: spec.open.deny[0].access: the list is empty, so the "
			  "rule would match nothing; name at least one of read, write, create, "
			  "exec-map (or leave access out for all)\n");
	expect_spec_error("  open: {deny: [{path: /etc/, access: [read, read]}]}",
			  "t.yaml:6:46: error: spec.open.deny[0].access: access read is listed twice\n");
	expect_spec_error("  exec: {deny: [{path: /bin/sh, access: read}]}",
			  "t.yaml:6:33: error: unknown key \"access\" in spec.exec.deny[0]; allowed "
			  "keys: path, mode, record\n");
	expect_spec_error("  exec: {deny: [{mode: audit}]}",
			  "t.yaml:6:17: error: missing required key \"path\" in spec.exec.deny[0]\n");
	expect_spec_error("  exec: {deny: [{path: /bin/sh, mode: watch}]}",
			  "t.yaml:6:39: error: spec.exec.deny[0].mode: expected enforce or audit, "
			  "found \"watch\"\n");
	expect_spec_error("  connect: {deny: [{to: 10.0.0.1, protocol: icmp}]}",
			  "t.yaml:6:45: error: spec.connect.deny[0].protocol: expected tcp or udp, "
			  "found \"icmp\" (leave protocol out for a rule on every protocol)\n");
	expect_spec_error("  connect: {deny: [{unix: /run/x.sock, protocol: tcp}]}",
			  "t.yaml:6:40: error: spec.connect.deny[0].protocol: unix socket rules take "
			  "no protocol\n");
	expect_spec_error("  connect: {deny: [{to: 10.0.0.1, unix: /run/x.sock}]}",
			  "t.yaml:6:35: error: spec.connect.deny[0]: a rule has one target: \"to\" (an "
			  "address) or \"unix\" (a socket path), not both\n");
	expect_spec_error("  connect: {deny: [\"unix:run/x.sock\"]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: path must be absolute (start "
			  "with '/'): \"unix:run/x.sock\"\n");
	expect_spec_error("  open: {deny: [/proc/self/environ]}",
			  "t.yaml:6:17: error: spec.open.deny[0]: \"/proc/self/environ\" names a "
			  "process's own /proc files; the daemon resolves rules to files when it "
			  "loads them, so this would name the daemon's own and never match a "
			  "workload's (a subtree rule on /proc/ covers every process)\n");
	expect_spec_error("  open: {deny: [/proc/1234/]}",
			  "t.yaml:6:17: error: spec.open.deny[0]: \"/proc/1234/\" names a process's "
			  "own /proc files; the daemon resolves rules to files when it loads them, so "
			  "this would name the daemon's own and never match a workload's (a subtree "
			  "rule on /proc/ covers every process)\n");
	{
		struct parsed p = { 0 };

		/* Not a process's directory: fine. */
		parse(&p, HEAD "  open: {deny: [/proc/sys/, /proc/selfish, /proc/]}\n");
		assert_int_equal(p.ret, 0);
		parsed_free(&p);
	}
}

static void test_overlay_errors(void **state)
{
	(void)state;
	expect_spec_error("  exec: {when: [{default: deny}]}",
			  "t.yaml:6:17: error: missing required key \"signals\" in spec.exec.when[0]\n");
	expect_spec_error("  exec: {when: [{signals: {risk: high}}]}",
			  "t.yaml:6:17: error: spec.exec.when[0]: the overlay changes nothing; give it "
			  "a default, allow or deny rules\n");
	expect_spec_error("  exec: {when: [{signals: {}, default: deny}]}",
			  "t.yaml:6:27: error: spec.exec.when[0].signals: no condition; name at least "
			  "one signal and its value\n");
	expect_spec_error("  exec: {when: [{signals: {Risk: high}, default: deny}]}",
			  "t.yaml:6:28: error: spec.exec.when[0].signals: \"Risk\" is not a valid "
			  "signal name: use lowercase letters, digits, '_', '.' and '-', starting with a "
			  "letter, at most 63 characters\n");
	expect_spec_error("  exec: {when: [{signals: {risk: []}, default: deny}]}",
			  "t.yaml:6:34: error: spec.exec.when[0].signals.risk: the list is empty, so "
			  "the condition could never hold\n");
	expect_spec_error("  exec: {when: [{signals: {risk: 3}, default: deny}]}",
			  "t.yaml:6:34: error: spec.exec.when[0].signals.risk: expected a string, "
			  "found an integer (quote it to make it a string)\n");
	expect_spec_error("  exec: {when: []}",
			  "t.yaml:6:16: error: spec.exec.when: the list is empty; leave \"when\" out "
			  "instead\n");
	expect_spec_error("  exec: {when: [{signals: {risk: high}, deny: [/a, /a]}]}",
			  "t.yaml:6:52: error: spec.exec.when[0].deny[1]: duplicate rule: \"/a\" is the "
			  "same as spec.exec.when[0].deny[0] (line 6)\n");
}

/* connect's sockets: the raw and packet sockets allowed, by name. */
static void test_sockets(void **state)
{
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, HEAD "  connect: {default: deny, sockets: [packet, raw]}\n");
	assert_int_equal(p.ret, 0);
	pol = &p.set.policies[0];
	assert_int_equal(pol->connect.sockets,
			 (1u << ACTGATE_SOCKET_RAW) | (1u << ACTGATE_SOCKET_PACKET));
	assert_int_equal(pol->connect.sockets_pos.line, 6);
	assert_int_equal(pol->connect.sockets_pos.col, 37);
	parsed_free(&p);
	/* Not written, or an empty list: none. */
	parse(&p, HEAD "  connect: {sockets: []}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].connect.sockets, 0);
	parsed_free(&p);
	parse(&p, HEAD "  connect: {default: allow}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].connect.sockets, 0);
	parsed_free(&p);

	expect_spec_error("  connect: {sockets: [raw, icmp]}",
			  "t.yaml:6:28: error: spec.connect.sockets[1]: unknown socket kind \"icmp\"; "
			  "expected raw (SOCK_RAW of IPv4 and IPv6) or packet (AF_PACKET)\n");
	expect_spec_error("  connect: {sockets: [raw, raw]}",
			  "t.yaml:6:28: error: spec.connect.sockets[1]: socket kind raw is listed "
			  "twice\n");
	expect_spec_error("  connect: {sockets: raw}",
			  "t.yaml:6:22: error: spec.connect.sockets: expected a list, found a "
			  "string\n");
	expect_spec_error("  connect: {sockets: [{raw: yes}]}",
			  "t.yaml:6:23: error: spec.connect.sockets[0]: expected a string, found a "
			  "mapping\n");
	/* Only connect has it, and not in an overlay: overlays change addresses only. */
	expect_spec_error("  exec: {sockets: [raw]}",
			  "t.yaml:6:10: error: unknown key \"sockets\" in spec.exec; allowed keys: "
			  "default, allow, deny, when, written\n");
	expect_spec_error("  connect: {when: [{signals: {risk: low}, default: deny, sockets: [raw]}]}",
			  "t.yaml:6:58: error: unknown key \"sockets\" in spec.connect.when[0]; "
			  "allowed keys: signals, default, allow, deny\n");
}

/* exec's written: allow or deny, in the section itself only. */
static void test_written(void **state)
{
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, HEAD "  exec: {default: allow, written: deny}\n");
	assert_int_equal(p.ret, 0);
	pol = &p.set.policies[0];
	assert_int_equal(pol->exec.written, ACTGATE_VERDICT_DENY);
	assert_int_equal(pol->exec.written_pos.line, 6);
	assert_int_equal(pol->exec.written_pos.col, 35);
	parsed_free(&p);
	/* Not written, or allow: no opinion. */
	parse(&p, HEAD "  exec: {written: allow}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].exec.written, ACTGATE_VERDICT_ALLOW);
	parsed_free(&p);
	parse(&p, HEAD "  exec: {default: deny}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].exec.written, ACTGATE_VERDICT_ALLOW);
	parsed_free(&p);

	expect_spec_error("  exec: {written: maybe}",
			  "t.yaml:6:19: error: spec.exec.written: expected allow or deny, found "
			  "\"maybe\"\n");
	expect_spec_error("  exec: {written: [deny]}",
			  "t.yaml:6:19: error: spec.exec.written: expected a string, found a list\n");
	expect_spec_error("  exec: {written: deny, written: allow}",
			  "t.yaml:6:25: error: duplicate key \"written\" in spec.exec (first at line "
			  "6)\n");
	/* exec only, and not in an overlay: it is about files, not signals. */
	expect_spec_error("  open: {written: deny}",
			  "t.yaml:6:10: error: unknown key \"written\" in spec.open; allowed keys: "
			  "default, allow, deny, when\n");
	expect_spec_error("  connect: {written: deny}",
			  "t.yaml:6:13: error: unknown key \"written\" in spec.connect; allowed keys: "
			  "default, allow, deny, when, sockets\n");
	expect_spec_error("  exec: {when: [{signals: {risk: low}, default: deny, written: deny}]}",
			  "t.yaml:6:55: error: unknown key \"written\" in spec.exec.when[0]; "
			  "allowed keys: signals, default, allow, deny\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_record_strict_errors),
		cmocka_unit_test(test_path_errors_in_file),
		cmocka_unit_test(test_net_errors_in_file),
		cmocka_unit_test(test_duplicate_rules),
		cmocka_unit_test(test_many_net_rules),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_contradictions),
		cmocka_unit_test(test_rule_mappings),
		cmocka_unit_test(test_rule_mapping_errors),
		cmocka_unit_test(test_overlay_errors),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
