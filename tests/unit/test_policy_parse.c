/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading policy files: documents, keys, YAML, files and directories, as a
 * user who writes a policy file sees them: the parsed model and the exact
 * diagnostics. The sections' grammar is test_policy_sections.c's.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "test_policy.h"
#include "test_tree.h"

#include "actgate/abi.h"

static void test_brief_example(void **state)
{
	static const char text[] =
		"apiVersion: actgate.dev/v1\n"
		"kind: Policy\n"
		"metadata: {name: ci-runner}\n"
		"spec:\n"
		"  selector: {workloads: [\"ci:*\"]}       # globs on workload names\n"
		"  mode: enforce                          # enforce | audit\n"
		"  exec:    {default: allow, deny: [/usr/bin/curl], allow: [/usr/bin/]}\n"
		"  open:    {default: allow, deny: [/etc/shadow, /root/.ssh/]}\n"
		"  connect: {default: deny,  allow: [\"127.0.0.1\", \"10.0.0.0/8:443\", \"[::1]:8080\"]}\n";
	static const uint8_t v4_127[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	static const uint8_t v4_10[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 0 };
	static const uint8_t v6_1[16] = { [15] = 1 };
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	assert_int_equal(p.set.count, 1);
	pol = &p.set.policies[0];

	assert_string_equal(pol->name, "ci-runner");
	assert_string_equal(pol->file, "t.yaml");
	assert_int_equal(pol->pos.line, 1);
	assert_int_equal(pol->pos.col, 1);
	assert_int_equal(pol->selector.workload_glob_count, 1);
	assert_string_equal(pol->selector.workload_globs[0], "ci:*");
	assert_int_equal(pol->mode, ACTGATE_MODE_ENFORCE);

	/* exec: allow rules first, then deny; each keeps its own list index. */
	assert_true(pol->exec.present);
	assert_int_equal(pol->exec.default_verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(pol->exec.default_pos.line, 7);
	assert_int_equal(pol->exec.default_pos.col, 22);
	assert_int_equal(pol->exec.count, 2);
	assert_string_equal(pol->exec.rules[0].path, "/usr/bin");
	assert_true(pol->exec.rules[0].subtree);
	assert_int_equal(pol->exec.rules[0].verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(pol->exec.rules[0].index, 0);
	assert_int_equal(pol->exec.rules[0].pos.line, 7);
	assert_int_equal(pol->exec.rules[0].pos.col, 60);
	assert_string_equal(pol->exec.rules[1].path, "/usr/bin/curl");
	assert_false(pol->exec.rules[1].subtree);
	assert_int_equal(pol->exec.rules[1].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(pol->exec.rules[1].index, 0);
	assert_int_equal(pol->exec.rules[1].pos.line, 7);
	assert_int_equal(pol->exec.rules[1].pos.col, 36);

	assert_true(pol->open.present);
	assert_int_equal(pol->open.count, 2);
	assert_string_equal(pol->open.rules[0].path, "/etc/shadow");
	assert_false(pol->open.rules[0].subtree);
	assert_string_equal(pol->open.rules[1].path, "/root/.ssh");
	assert_true(pol->open.rules[1].subtree);
	assert_int_equal(pol->open.rules[1].index, 1);
	assert_int_equal(pol->open.rules[1].verdict, ACTGATE_VERDICT_DENY);

	assert_true(pol->connect.present);
	assert_int_equal(pol->connect.default_verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(pol->connect.default_pos.line, 9);
	assert_int_equal(pol->connect.default_pos.col, 22);
	assert_int_equal(pol->connect.count, 3);
	assert_string_equal(pol->connect.rules[0].text, "127.0.0.1");
	assert_memory_equal(pol->connect.rules[0].addr, v4_127, 16);
	assert_int_equal(pol->connect.rules[0].prefix_len, 128);
	assert_int_equal(pol->connect.rules[0].port_lo, 0);
	assert_int_equal(pol->connect.rules[0].port_hi, 65535);
	assert_int_equal(pol->connect.rules[0].pos.col, 37);
	assert_memory_equal(pol->connect.rules[1].addr, v4_10, 16);
	assert_int_equal(pol->connect.rules[1].prefix_len, 104);
	assert_int_equal(pol->connect.rules[1].port_lo, 443);
	assert_int_equal(pol->connect.rules[1].port_hi, 443);
	assert_int_equal(pol->connect.rules[1].index, 1);
	assert_memory_equal(pol->connect.rules[2].addr, v6_1, 16);
	assert_int_equal(pol->connect.rules[2].prefix_len, 128);
	assert_int_equal(pol->connect.rules[2].port_lo, 8080);
	assert_int_equal(pol->connect.rules[2].port_hi, 8080);
	assert_int_equal(pol->connect.rules[2].verdict, ACTGATE_VERDICT_ALLOW);
	parsed_free(&p);
}

static void test_block_style_and_audit(void **state)
{
	static const char text[] =
		"# comment\n"
		"apiVersion: \"actgate.dev/v1\"\n"
		"kind: 'Policy'\n"
		"metadata:\n"
		"  name: a0-b\n"
		"spec:\n"
		"  mode: audit\n"
		"  selector:\n"
		"    workloads:\n"
		"      - \"agent:*\"\n"
		"      - tools:x\n"
		"  connect:\n"
		"    deny:\n"
		"      - 127.0.0.1\n"         /* plain scalars that look like */
		"      - ::1\n"               /* numbers to a careless reader */
		"      - 10.0.0.0/8:443\n"
		"      - 1:2:3:4:5:6:7:8\n"   /* YAML 1.1 would read sexagesimal */
		"      - 192.168.0.0/16:1024-65535\n"
		"      - 2001:db8::/32\n"
		"      - \"[2001:db8::/32]:443\"\n"
		"      - ::ffff:10.0.0.0/104\n";
	struct parsed p = { 0 };
	const struct policy *pol;

	(void)state;
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.diags.count, 0);
	pol = &p.set.policies[0];
	assert_string_equal(pol->name, "a0-b");
	assert_int_equal(pol->mode, ACTGATE_MODE_AUDIT);
	assert_int_equal(pol->pos.line, 2);
	assert_int_equal(pol->selector.workload_glob_count, 2);
	assert_string_equal(pol->selector.workload_globs[1], "tools:x");
	assert_int_equal(pol->connect.count, 8);
	assert_int_equal(pol->connect.default_verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(pol->connect.default_pos.line, 12);
	assert_int_equal(pol->connect.rules[1].prefix_len, 128);
	assert_int_equal(pol->connect.rules[1].addr[15], 1);
	assert_int_equal(pol->connect.rules[1].pos.line, 15);
	assert_int_equal(pol->connect.rules[1].pos.col, 9);
	assert_int_equal(pol->connect.rules[3].addr[0], 0);
	assert_int_equal(pol->connect.rules[3].addr[1], 1);
	assert_int_equal(pol->connect.rules[3].addr[15], 8);
	assert_int_equal(pol->connect.rules[4].prefix_len, 96 + 16);
	assert_int_equal(pol->connect.rules[4].port_lo, 1024);
	assert_int_equal(pol->connect.rules[4].port_hi, 65535);
	assert_int_equal(pol->connect.rules[5].prefix_len, 32);
	assert_int_equal(pol->connect.rules[5].addr[0], 0x20);
	assert_int_equal(pol->connect.rules[5].addr[1], 0x01);
	assert_int_equal(pol->connect.rules[5].port_lo, 0);
	assert_int_equal(pol->connect.rules[6].prefix_len, 32);
	assert_int_equal(pol->connect.rules[6].port_lo, 443);
	assert_int_equal(pol->connect.rules[7].prefix_len, 104);
	assert_int_equal(pol->connect.rules[7].addr[10], 0xff);
	assert_int_equal(pol->connect.rules[7].addr[12], 10);
	parsed_free(&p);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error(HEAD "foo: 1\n",
		     "t.yaml:6:1: error: unknown key \"foo\" in the policy; allowed keys: "
		     "apiVersion, kind, metadata, spec\n");
	expect_spec_error("  exec: {default: deny, alow: [/bin/]}",
			  "t.yaml:6:25: error: unknown key \"alow\" in spec.exec; allowed keys: "
			  "default, allow, deny, when, written\n");
	expect_spec_error("  network: {}",
			  "t.yaml:6:3: error: unknown key \"network\" in spec; allowed keys: "
			  "selector, mode, record, exec, open, connect, kernel, delegate\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t, labels: {}}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:21: error: unknown key \"labels\" in metadata; allowed keys: name\n");
	/* Quoted text is cut at a character boundary, never inside UTF-8. */
	{
		struct parsed p = { 0 };
		char text[512], key[128] = "";
		const char *m, *cut;

		for (int i = 0; i < 60; i++)
			strcat(key, "\xc3\xa9"); /* é */
		snprintf(text, sizeof(text), "%s%s: 1\n", HEAD, key);
		parse(&p, text);
		assert_int_equal(p.diags.errors, 1);
		m = p.diags.items[0].message;
		assert_memory_equal(m, "unknown key \"\xc3\xa9", 15);
		cut = strstr(m, "\"... in the policy");
		assert_non_null(cut);
		assert_int_equal((cut - (m + 13)) % 2, 0);
		assert_true(cut - (m + 13) < 100);
		parsed_free(&p);
	}
	expect_spec_error("  connect: {Default: deny}",
			  "t.yaml:6:13: error: unknown key \"Default\" in spec.connect (did you mean "
			  "\"default\"?); allowed keys: default, allow, deny, when, sockets\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w], names: [x]}}\n",
		     "t.yaml:4:35: error: unknown key \"names\" in spec.selector; allowed keys: "
		     "workloads, cgroups, labels\n");
}

/* spec.kernel: the doors a policy opens, each once, by name. */
static void test_kernel_doors(void **state)
{
	struct parsed p = { 0 };

	(void)state;
	parse(&p, HEAD "  kernel: {allow: [core-pattern, mem-devices, modules]}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.count, 1);
	assert_int_equal(p.set.policies[0].kernel_allow,
			 (1u << ACTGATE_KERNEL_CORE_PATTERN) | (1u << ACTGATE_KERNEL_MEM_DEVICES) |
				 (1u << ACTGATE_KERNEL_MODULES));
	parsed_free(&p);
	memset(&p, 0, sizeof(p));
	parse(&p, HEAD "  exec: {}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.policies[0].kernel_allow, 0);
	parsed_free(&p);

	expect_spec_error("  kernel: {allow: [modules, core_pattern]}",
			  "t.yaml:6:29: error: spec.kernel.allow[1]: unknown door \"core_pattern\"; "
			  "expected modules, kexec, core-pattern, modprobe, uevent-helper, "
			  "binfmt-misc, poweroff-cmd or mem-devices\n");
	expect_spec_error("  kernel: {allow: [kexec, kexec]}",
			  "t.yaml:6:27: error: spec.kernel.allow[1]: \"kexec\" is already in the list\n");
	expect_spec_error("  kernel: {allow: []}",
			  "t.yaml:6:19: error: spec.kernel.allow: the list is empty; name a door, or "
			  "leave spec.kernel out (every door is then refused)\n");
	expect_spec_error("  kernel: {}",
			  "t.yaml:6:11: error: missing required key \"allow\" in spec.kernel\n");
	expect_spec_error("  kernel: {allow: modules}",
			  "t.yaml:6:19: error: spec.kernel.allow: expected a list, found a string\n");
	expect_spec_error("  kernel: {allow: [modules], deny: [kexec]}",
			  "t.yaml:6:30: error: unknown key \"deny\" in spec.kernel; allowed keys: "
			  "allow\n");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_spec_error("  mode: audit\n  mode: enforce",
			  "t.yaml:7:3: error: duplicate key \"mode\" in spec (first at line 6)\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nkind: Policy\n"
		     "metadata: {name: t}\nspec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:1: error: duplicate key \"kind\" in the policy (first at line 2)\n");
	expect_spec_error("  open: {deny: [/a], deny: [/b]}",
			  "t.yaml:6:22: error: duplicate key \"deny\" in spec.open (first at line 6)\n");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_spec_error("  exec: {allow: {/bin/: x}}",
			  "t.yaml:6:17: error: spec.exec.allow: expected a list, found a mapping\n");
	expect_spec_error("  exec: [/bin/]",
			  "t.yaml:6:9: error: spec.exec: expected a mapping, found a list\n");
	expect_spec_error("  mode: 1",
			  "t.yaml:6:9: error: spec.mode: expected a string, found an integer "
			  "(quote it to make it a string)\n");
	expect_spec_error("  mode: true",
			  "t.yaml:6:9: error: spec.mode: expected a string, found a boolean "
			  "(quote it to make it a string)\n");
	expect_spec_error("  exec: {default: 1.5}",
			  "t.yaml:6:19: error: spec.exec.default: expected a string, found a number "
			  "(quote it to make it a string)\n");
	expect_spec_error("  exec: {default: [deny]}",
			  "t.yaml:6:19: error: spec.exec.default: expected a string, found a list\n");
	expect_spec_error("  exec:",
			  "t.yaml:6:8: error: spec.exec: expected a mapping, found an empty value\n");
	expect_spec_error("  connect: {allow: [443]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: expected a string, found an "
			  "integer (quote it to make it a string)\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: 123}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:18: error: metadata.name: expected a string, found an integer "
		     "(quote it to make it a string)\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: x\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:11: error: metadata: expected a mapping, found a string\n");
	expect_error("- apiVersion: actgate.dev/v1\n",
		     "t.yaml:1:1: error: expected a Policy mapping at the top of the document, "
		     "found a list\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: \"ci:*\"}}\n",
		     "t.yaml:4:30: error: spec.selector.workloads: expected a list, found a string\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w]}, {a: b}: c}\n",
		     "t.yaml:4:36: error: spec: keys must be strings, found a mapping\n");
	/* Quoting makes any scalar a string; !!str does too. */
	{
		struct parsed p = { 0 };

		parse(&p, "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: !!str 123}\n"
			  "spec: {selector: {workloads: ['1', \"true\"]}, mode: !!str audit}\n");
		assert_int_equal(p.ret, 0);
		assert_string_equal(p.set.policies[0].name, "123");
		assert_string_equal(p.set.policies[0].selector.workload_globs[1], "true");
		parsed_free(&p);
	}
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_spec_error("  mode: monitor",
			  "t.yaml:6:9: error: spec.mode: expected enforce or audit, found \"monitor\"\n");
	expect_spec_error("  record: some",
			  "t.yaml:6:11: error: spec.record: expected all, deny, none or strict, found \"some\"\n");
	expect_spec_error("  open: {default: block}",
			  "t.yaml:6:19: error: spec.open.default: expected allow or deny, found \"block\"\n");
	expect_error("apiVersion: actgate.dev/v2\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:1:13: error: apiVersion: expected \"actgate.dev/v1\", found "
		     "\"actgate.dev/v2\"\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:2:7: error: kind: expected \"Policy\", found \"policy\"\n");
}

static void test_missing_keys(void **state)
{
	(void)state;
	expect_error("kind: Policy\nmetadata: {name: t}\nspec: {selector: {workloads: [w]}}\n",
		     "t.yaml:1:1: error: missing required key \"apiVersion\"\n");
	expect_error("apiVersion: actgate.dev/v1\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:1:1: error: missing required key \"kind\"\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nspec: {selector: {workloads: [w]}}\n",
		     "t.yaml:1:1: error: missing required key \"metadata\"\n");
	/* At the position of the enclosing mapping. */
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:11: error: missing required key \"name\" in metadata\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n",
		     "t.yaml:1:1: error: missing required key \"spec\"\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec:\n  mode: audit\n",
		     "t.yaml:5:3: error: missing required key \"selector\" in spec\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec:\n  selector: {}\n",
		     "t.yaml:5:13: error: spec.selector selects nothing: give workloads, cgroups or "
		     "labels\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec:\n  selector: {workloads: []}\n",
		     "t.yaml:5:25: error: spec.selector.workloads: the list is empty; name at "
		     "least one workload glob\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec:\n  selector: {workloads: [\"\"]}\n",
		     "t.yaml:5:26: error: spec.selector.workloads[0]: empty workload glob\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec:\n  selector: {workloads: [\"ci\\n*\"]}\n",
		     "t.yaml:5:26: error: spec.selector.workloads[0]: workload glob contains a "
		     "control character (\\x0a) at byte 3: \"ci\\x0a*\"\n");
}

static void test_names(void **state)
{
	static const char *const good[] = {
		"a", "0", "ci-runner", "a1-b2-c3",
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0", /* 63 */
	};
	static const char *const bad[] = {
		"Ci", "-a", "a-", "a_b", "a.b", "a b", "\"\"", "caf\xc3\xa9",
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01", /* 64 */
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct parsed p = { 0 };

		snprintf(text, sizeof(text),
			 "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: '%s'}\n"
			 "spec: {selector: {workloads: [w]}}\n", good[i]);
		parse(&p, text);
		assert_int_equal(p.ret, 0);
		assert_string_equal(p.set.policies[0].name, good[i]);
		parsed_free(&p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parsed p = { 0 };

		snprintf(text, sizeof(text),
			 "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata:\n  name: %s\n"
			 "spec: {selector: {workloads: [w]}}\n", bad[i]);
		parse(&p, text);
		assert_int_equal(p.ret, -EINVAL);
		assert_int_equal(p.diags.errors, 1);
		assert_int_equal(p.diags.items[0].line, 4);
		assert_int_equal(p.diags.items[0].col, 9);
		assert_non_null(strstr(p.diags.items[0].message, "is not a valid name"));
		parsed_free(&p);
	}
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: Web_1}\n"
		     "spec: {selector: {workloads: [w]}}\n",
		     "t.yaml:3:18: error: metadata.name: \"Web_1\" is not a valid name: use "
		     "lowercase letters, digits and '-', begin and end with a letter or digit, at "
		     "most 63 characters\n");
}

static void test_selector_errors(void **state)
{
	(void)state;
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
		     "spec: {selector: {cgroups: [\"/system.slice/x\"]}}\n",
		     "t.yaml:4:29: error: spec.selector.cgroups[0]: cgroup globs are relative to the "
		     "cgroup2 root; write \"/system.slice/x\" without the leading '/'\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
		     "spec: {selector: {}}\n",
		     "t.yaml:4:18: error: spec.selector selects nothing: give workloads, cgroups or "
		     "labels\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
		     "spec: {selector: {labels: {\"-x\": y}}}\n",
		     "t.yaml:4:28: error: spec.selector.labels: \"-x\" is not a valid label key: "
		     "letters, digits, '.', '_', '/' and '-', starting with a letter or digit, at "
		     "most 63 characters\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
		     "spec: {selector: {labels: {x: \"\"}}}\n",
		     "t.yaml:4:31: error: spec.selector.labels.x: empty label glob\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
		     "spec: {selector: {labels: {}}}\n",
		     "t.yaml:4:27: error: spec.selector.labels: the mapping is empty; name at least "
		     "one label\n");
}

static void test_yaml_errors(void **state)
{
	(void)state;
	expect_error(HEAD "  exec: {deny: [/a]\n",
		     "t.yaml:7:1: error: YAML syntax error: did not find expected ',' or '}' "
		     "(while parsing a flow mapping at line 6 col 9)\n");
	expect_error("apiVersion: actgate.dev/v1\n  kind: Policy\n",
		     "t.yaml:2:7: error: YAML syntax error: mapping values are not allowed in "
		     "this context\n");
	expect_error("apiVersion: actgate.dev/v1\n\tkind: Policy\n",
		     "t.yaml:2:1: error: YAML syntax error: found a tab character that violates "
		     "indentation (while scanning a plain scalar at line 1 col 13)\n");
	/* Bytes that are not UTF-8: libyaml's reader gives an offset, not a mark. */
	expect_error("apiVersion: actgate.dev/v1\nkind: \xff\n",
		     "t.yaml:2:7: error: invalid YAML input: invalid leading UTF-8 octet\n");
	/* The IPv6 form with a port must be quoted in a flow list. */
	expect_spec_error("  connect: {allow: [[::1]:80]}",
			  "t.yaml:6:22: error: YAML syntax error: did not find expected node content "
			  "(while parsing a flow node at line 6 col 22)\n");
}

static void test_anchors_aliases_tags(void **state)
{
	(void)state;
	expect_spec_error("  exec: {deny: &bad [/bin/sh]}",
			  "t.yaml:6:16: error: YAML anchors are not supported (&bad); quote text "
			  "that starts with '&'\n");
	{
		struct parsed p = { 0 };
		char *out;

		parse(&p, HEAD "  exec: {deny: &d [/bin/sh]}\n  open: {deny: *d}\n");
		out = printed(&p.diags);
		assert_string_equal(out,
				    "t.yaml:6:16: error: YAML anchors are not supported (&d); quote "
				    "text that starts with '&'\n"
				    "t.yaml:7:16: error: YAML aliases are not supported (*d); write the "
				    "value out, or quote text that starts with '*'\n");
		assert_int_equal(p.ret, -EINVAL);
		assert_int_equal(p.set.count, 0);
		free(out);
		parsed_free(&p);
	}
	/* An unquoted glob starting with '*' is an alias to YAML. */
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [*]}}\n",
		     "t.yaml:4:32: error: YAML syntax error: did not find expected alphabetic or "
		     "numeric character (while scanning an alias at line 4 col 31)\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [*x]}}\n",
		     "t.yaml:4:31: error: YAML aliases are not supported (*x); write the value "
		     "out, or quote text that starts with '*'\n");
	expect_spec_error("  mode: !!int 1",
			  "t.yaml:6:9: error: YAML tags are not supported (\"tag:yaml.org,2002:int\")\n");
	expect_spec_error("  exec: !custom {}",
			  "t.yaml:6:9: error: YAML tags are not supported (\"!custom\")\n");
}

static void test_empty_files(void **state)
{
	(void)state;
	expect_error("", "t.yaml: error: no policy documents\n");
	expect_error("# only a comment\n\n", "t.yaml: error: no policy documents\n");
	expect_error("---\n...\n", "t.yaml: error: no policy documents\n");
	/* A document that is a value, not a mapping, is not empty. */
	expect_error("~\n", "t.yaml:1:1: error: expected a Policy mapping at the top of the "
			    "document, found an empty value\n");
}

static const char doc_a[] =
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
	"spec: {selector: {workloads: [\"a:*\"]}}\n";

static const char doc_b[] =
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: b}\n"
	"spec: {selector: {workloads: [\"b:*\"]}}\n";

static void test_multi_document(void **state)
{
	struct parsed p = { 0 };
	char text[1024];

	(void)state;
	/* Two good documents, an empty trailing one. */
	snprintf(text, sizeof(text), "%s---\n%s---\n", doc_a, doc_b);
	parse(&p, text);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.set.count, 2);
	assert_string_equal(p.set.policies[0].name, "a");
	assert_string_equal(p.set.policies[1].name, "b");
	assert_int_equal(p.set.policies[1].pos.line, 6);
	assert_int_equal(p.set.policies[1].pos.col, 1);

	/* A file whose second document is bad adds nothing, even its good first. */
	snprintf(text, sizeof(text),
		 "%s---\napiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: c}\n"
		 "spec: {selector: {workloads: [\"c:*\"]}, mode: strict}\n", doc_a);
	p.ret = policy_parse_buffer("bad.yaml", text, strlen(text), &p.set, &p.diags);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_string_equal(p.diags.items[0].file, "bad.yaml");
	assert_int_equal(p.diags.items[0].line, 9);
	assert_int_equal(p.diags.items[0].col, 46);
	assert_int_equal(p.set.count, 2);
	assert_string_equal(p.set.policies[0].name, "a");
	assert_string_equal(p.set.policies[1].name, "b");

	/* Errors in several documents are all reported. */
	diag_list_free(&p.diags);
	snprintf(text, sizeof(text), "%s---\nkind: x\n---\nfoo: 1\n", doc_a);
	p.ret = policy_parse_buffer("bad.yaml", text, strlen(text), &p.set, &p.diags);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 4 + 5);
	assert_int_equal(p.set.count, 2);

	/* A syntax error in the second document: the first does not load either. */
	diag_list_free(&p.diags);
	snprintf(text, sizeof(text), "%s---\n[\n", doc_a);
	p.ret = policy_parse_buffer("bad.yaml", text, strlen(text), &p.set, &p.diags);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.set.count, 2);
	parsed_free(&p);
}

static void test_duplicate_names_across_files(void **state)
{
	struct parsed p = { 0 };
	char *out;

	(void)state;
	p.ret = policy_parse_buffer("one.yaml", doc_a, strlen(doc_a), &p.set, &p.diags);
	assert_int_equal(p.ret, 0);
	p.ret = policy_parse_buffer("two.yaml", doc_b, strlen(doc_b), &p.set, &p.diags);
	assert_int_equal(p.ret, 0);
	assert_int_equal(policy_set_validate(&p.set, &p.diags), 0);
	assert_int_equal(p.diags.count, 0);

	{
		static const char again[] = "# the same name again\n---\n"
			"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
			"spec: {selector: {workloads: [\"x\"]}}\n";

		p.ret = policy_parse_buffer("three.yaml", again, strlen(again), &p.set, &p.diags);
	}
	assert_int_equal(p.ret, 0);
	assert_int_equal(policy_set_validate(&p.set, &p.diags), -EINVAL);
	out = printed(&p.diags);
	assert_string_equal(out, "three.yaml:3:1: error: policy name \"a\" is already used at "
				 "one.yaml:1\n");
	free(out);

	/* A third one names the first too; the set itself is left to the caller. */
	diag_list_free(&p.diags);
	p.ret = policy_parse_buffer("four.yaml", doc_a, strlen(doc_a), &p.set, &p.diags);
	assert_int_equal(p.ret, 0);
	assert_int_equal(policy_set_validate(&p.set, &p.diags), -EINVAL);
	out = printed(&p.diags);
	assert_string_equal(out, "three.yaml:3:1: error: policy name \"a\" is already used at "
				 "one.yaml:1\n"
				 "four.yaml:1:1: error: policy name \"a\" is already used at "
				 "one.yaml:1\n");
	assert_int_equal(p.set.count, 4);
	free(out);
	parsed_free(&p);
}

static void test_limits(void **state)
{
	struct parsed p = { 0 };
	char *text;
	size_t n = 0;

	(void)state;
	/* Deep nesting is refused before it costs anything. */
	text = malloc(4096);
	assert_non_null(text);
	for (int i = 0; i < 40; i++)
		text[n++] = '[';
	text[n] = '\0';
	parse(&p, text);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.diags.items[0].col, 33);
	assert_string_equal(p.diags.items[0].message, "nested deeper than 32 levels");
	parsed_free(&p);
	free(text);

	/* So are files over 1 MiB. */
	text = calloc(1, 1024 * 1024 + 2);
	assert_non_null(text);
	memset(text, '#', 1024 * 1024 + 1);
	p.ret = policy_parse_buffer("big.yaml", text, 1024 * 1024 + 1, &p.set, &p.diags);
	assert_int_equal(p.ret, -EINVAL);
	assert_string_equal(p.diags.items[0].message,
			    "policy file is larger than the limit of 1048576 bytes");
	parsed_free(&p);
	free(text);
}

/* ---- files and directories ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_parse_file(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX";
	struct parsed p = { 0 };
	char path[512], *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "a.yaml", doc_a);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_int_equal(policy_parse_file(path, &p.set, &p.diags), 0);
	assert_int_equal(p.set.count, 1);
	assert_string_equal(p.set.policies[0].file, path);

	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(policy_parse_file(path, &p.set, &p.diags), -ENOENT);
	assert_int_equal(p.set.count, 1);
	out = printed(&p.diags);
	assert_non_null(strstr(out, "/missing.yaml: error: cannot read policy file: No such file "
				    "or directory\n"));
	free(out);
	assert_int_equal(policy_parse_file(dir, &p.set, &p.diags), -EISDIR);
	parsed_free(&p);
	remove_tree(dir);
}

static void test_load_dir(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX";
	struct parsed p = { 0 };
	char path[512], *out;

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* Empty directory. */
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -ENOENT);
	out = printed(&p.diags);
	assert_non_null(strstr(out, ": error: no policy files (*.yaml, *.yml) in the policy directory\n"));
	free(out);
	diag_list_free(&p.diags);

	/* Name order, *.yaml and *.yml only, not recursive, no hidden files. */
	write_file(dir, "20-b.yml", doc_b);
	write_file(dir, "10-a.yaml", doc_a);
	write_file(dir, "notes.txt", "not yaml: [");
	write_file(dir, ".hidden.yaml", "not yaml: [");
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(path, "x.yaml", "not yaml: [");
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), 0);
	assert_int_equal(p.diags.count, 0);
	assert_int_equal(p.set.count, 2);
	assert_string_equal(p.set.policies[0].name, "a");
	assert_string_equal(p.set.policies[1].name, "b");
	snprintf(path, sizeof(path), "%s/10-a.yaml", dir);
	assert_string_equal(p.set.policies[0].file, path);
	policy_set_free(&p.set);

	/* A duplicate name across files empties the set. */
	write_file(dir, "30-c.yaml", "# again\n" "apiVersion: actgate.dev/v1\nkind: Policy\n"
				     "metadata: {name: b}\nspec: {selector: {workloads: [x]}}\n");
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -EINVAL);
	assert_int_equal(p.set.count, 0);
	assert_null(p.set.policies);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.diags.items[0].line, 2);
	assert_int_equal(p.diags.items[0].col, 1);
	snprintf(path, sizeof(path), "policy name \"b\" is already used at %s/20-b.yml:1", dir);
	assert_string_equal(p.diags.items[0].message, path);
	diag_list_free(&p.diags);

	/* A bad file empties the set too, and every file's errors are reported. */
	write_file(dir, "30-c.yaml", "kind: Policy\n");
	write_file(dir, "sub.yaml", "[");
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -EINVAL);
	assert_int_equal(p.set.count, 0);
	assert_int_equal(p.diags.errors, 4);
	diag_list_free(&p.diags);

	remove_tree(dir);

	/* A missing directory is named. */
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -ENOENT);
	out = printed(&p.diags);
	snprintf(path, sizeof(path), "%s: error: cannot open policy directory: No such file or "
				     "directory\n", dir);
	assert_string_equal(out, path);
	free(out);
	parsed_free(&p);
}

/*
 * A FIFO named like a policy is refused, not opened for a blocking read: the
 * daemon's load and reload use this reader, and a writer that never comes
 * would hang them. alarm() turns a regression into a failure, not a hang.
 */
static void test_not_regular_files(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX";
	struct parsed p = { 0 };
	char path[512], *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.yaml", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(20);
	assert_int_equal(policy_parse_file(path, &p.set, &p.diags), -EINVAL);
	out = printed(&p.diags);
	assert_non_null(strstr(out, "/fifo.yaml: error: cannot read policy file: not a regular file\n"));
	free(out);
	diag_list_free(&p.diags);

	write_file(dir, "a.yaml", doc_a);
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -EINVAL);
	assert_int_equal(p.set.count, 0);
	assert_int_equal(p.diags.errors, 1);
	alarm(0);
	parsed_free(&p);
	remove_tree(dir);
}

static void test_shipped_policies(void **state)
{
	static const char *const files[] = { "policies/ci-runner.yaml", "policies/agent-sandbox.yaml" };
	struct parsed p = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK))
			skip(); /* run from the repository's top directory */
		assert_int_equal(policy_parse_file(files[i], &p.set, &p.diags), 0);
	}
	assert_int_equal(p.diags.count, 0);
	assert_int_equal(policy_set_validate(&p.set, &p.diags), 0);
	assert_string_equal(p.set.policies[0].name, "ci-runner");
	assert_int_equal(p.set.policies[0].mode, ACTGATE_MODE_ENFORCE);
	assert_int_equal(p.set.policies[0].connect.default_verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(p.set.policies[1].name, "agent-sandbox");
	assert_int_equal(p.set.policies[1].mode, ACTGATE_MODE_AUDIT);
	assert_true(selects(&p.set.policies[0], "ci:build-42"));
	assert_true(selects(&p.set.policies[1], "agent:claude"));
	parsed_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brief_example),
		cmocka_unit_test(test_kernel_doors),
		cmocka_unit_test(test_block_style_and_audit),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_selector_errors),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_anchors_aliases_tags),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_duplicate_names_across_files),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_not_regular_files),
		cmocka_unit_test(test_shipped_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
