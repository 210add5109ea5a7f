// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parsing and validation: what a user who writes a policy file sees,
 * i.e. the parsed model and the exact "file:line:col: severity: message"
 * diagnostics. Positions are 1-based (line, column of the offending scalar).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/parse.h"
#include "policy/policy.h"

/* Five lines; spec keys written after it start on line 6, column 3. */
#define HEAD                                   \
	"apiVersion: actgate.dev/v1\n"         \
	"kind: Policy\n"                       \
	"metadata: {name: t}\n"                \
	"spec:\n"                              \
	"  selector: {workloads: [\"w\"]}\n"

struct parsed {
	struct policy_set set;
	struct diag_list diags;
	int ret;
};

static void parse(struct parsed *p, const char *text)
{
	p->ret = policy_parse_buffer("t.yaml", text, strlen(text), &p->set, &p->diags);
}

static void parsed_free(struct parsed *p)
{
	policy_set_free(&p->set);
	diag_list_free(&p->diags);
}

/* Everything diag_print shows, as one string (caller frees). */
static char *printed(const struct diag_list *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	diag_print(d, f);
	fclose(f);
	return buf;
}

/* The text must fail with exactly one error, printed exactly as expected. */
static void expect_error(const char *text, const char *expected_line)
{
	struct parsed p = { 0 };
	char *out;

	parse(&p, text);
	out = printed(&p.diags);
	assert_string_equal(out, expected_line);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.set.count, 0);
	free(out);
	parsed_free(&p);
}

/* The same for a single spec line appended to HEAD (line 6). */
static void expect_spec_error(const char *spec_line, const char *expected_line)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s\n", HEAD, spec_line);
	expect_error(text, expected_line);
}

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

static void test_path_normalisation(void **state)
{
	static const struct {
		const char *in;
		const char *path;
		bool subtree;
	} cases[] = {
		{ "/usr/bin/curl", "/usr/bin/curl", false },
		{ "/usr/bin/", "/usr/bin", true },
		{ "//usr///bin//", "/usr/bin", true },
		{ "/usr/./bin/./x", "/usr/bin/x", false },
		{ "/usr/bin/.", "/usr/bin", false },
		{ "/", "/", true },
		{ "//", "/", true },
		{ "/.", "/", false },
		{ "/a.b/..c/c..", "/a.b/..c/c..", false },
		{ "/.ssh/", "/.ssh", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct path_rule r = { 0 };
		char err[256];

		assert_int_equal(policy_parse_path_target(cases[i].in, strlen(cases[i].in), &r, err,
							  sizeof(err)),
				 0);
		assert_string_equal(r.path, cases[i].path);
		assert_int_equal(r.subtree, cases[i].subtree);
		free(r.path);
	}
}

static void test_path_errors(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *err;
	} cases[] = {
		{ "", 0, "empty path" },
		{ "bin/sh", 6, "path must be absolute (start with '/')" },
		{ "./x", 3, "path must be absolute (start with '/')" },
		{ "/a/../b", 7, "\"..\" in a path is ambiguous with symlinks; write the path without it" },
		{ "/a/..", 5, "\"..\" in a path is ambiguous with symlinks; write the path without it" },
		{ "/a\nb", 4, "path contains a control character (\\x0a) at byte 3" },
		{ "/a\0b", 4, "path contains a control character (\\x00) at byte 3" },
		{ "/a\x7f", 3, "path contains a control character (\\x7f) at byte 3" },
		{ "/a\xc2\x9b", 4, "path contains a control character (U+009B) at byte 3" },
	};
	struct path_rule r = { 0 };
	char err[256], *longpath;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(policy_parse_path_target(cases[i].in, cases[i].len, &r, err,
							  sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_null(r.path);
	}

	/* 4095 bytes is the longest path (PATH_MAX with its NUL). */
	longpath = malloc(4097);
	assert_non_null(longpath);
	longpath[0] = '/';
	memset(longpath + 1, 'a', 4095);
	longpath[4095] = '\0';
	assert_int_equal(policy_parse_path_target(longpath, 4095, &r, err, sizeof(err)), 0);
	assert_int_equal(strlen(r.path), 4095);
	free(r.path);
	longpath[4095] = 'a';
	longpath[4096] = '\0';
	assert_int_equal(policy_parse_path_target(longpath, 4096, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "path is 4096 bytes long; the limit is 4095");
	free(longpath);
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

static void test_net_targets(void **state)
{
	static const struct {
		const char *in;
		uint8_t addr0, addr12, addr15;
		uint8_t prefix;
		uint16_t lo, hi;
	} ok[] = {
		{ "127.0.0.1", 0, 127, 1, 128, 0, 65535 },
		{ "0.0.0.0/0", 0, 0, 0, 96, 0, 65535 },
		{ "10.0.0.0/8", 0, 10, 0, 104, 0, 65535 },
		{ "10.0.0.1:443", 0, 10, 1, 128, 443, 443 },
		{ "10.0.0.0/8:443", 0, 10, 0, 104, 443, 443 },
		{ "10.0.0.0/8:1-65535", 0, 10, 0, 104, 1, 65535 },
		{ "10.0.0.1:8000-8080", 0, 10, 1, 128, 8000, 8080 },
		{ "::1", 0, 0, 1, 128, 0, 65535 },
		{ "::/0", 0, 0, 0, 0, 0, 65535 },
		{ "2001:db8::/32", 0x20, 0, 0, 32, 0, 65535 },
		{ "[::1]:8080", 0, 0, 1, 128, 8080, 8080 },
		{ "[::1]", 0, 0, 1, 128, 0, 65535 },
		{ "[2001:db8::/32]:443", 0x20, 0, 0, 32, 443, 443 },
		{ "[fe80::/10]:1-1023", 0xfe, 0, 0, 10, 1, 1023 },
		{ "::ffff:10.0.0.1", 0, 10, 1, 128, 0, 65535 },
	};
	static const struct {
		const char *in;
		const char *err;
	} bad[] = {
		{ "", "empty address" },
		{ "10.0.0.0/33", "bad prefix length \"/33\": expected 0-32" },
		{ "::/129", "bad prefix length \"/129\": expected 0-128" },
		{ "2001:db8::/32:443", "bad prefix length \"/32:443\": expected 0-128 (an IPv6 "
				       "address with a port must be bracketed: \"[2001:db8::/32]:443\")" },
		{ "10.0.0.0/", "bad prefix length \"/\": expected 0-32" },
		{ "10.0.0.0/x", "bad prefix length \"/x\": expected 0-32" },
		{ "10.0.0.0/-1", "bad prefix length \"/-1\": expected 0-32" },
		{ "10.1.0.0/8", "host bits set; did you mean 10.0.0.0/8?" },
		{ "10.1.0.0/8:443", "host bits set; did you mean 10.0.0.0/8:443?" },
		{ "2001:db8::1/32", "host bits set; did you mean 2001:db8::/32?" },
		{ "[2001:db8::1/32]:443", "host bits set; did you mean [2001:db8::/32]:443?" },
		{ "10.0.0.1:0", "port 0 is out of range 1-65535" },
		{ "10.0.0.1:65536", "port 65536 is out of range 1-65535" },
		{ "10.0.0.1:99999999", "bad port \"99999999\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:http", "bad port \"http\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:+80", "bad port \"+80\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:", "missing port after ':'" },
		{ "10.0.0.1:443-80", "port range 443-80 is reversed: write LO-HI with LO <= HI" },
		{ "10.0.0.1:80-", "bad port \"\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:-80", "bad port \"\": expected a number 1-65535 or a range LO-HI" },
		{ "10.0.0.1:1-2-3", "bad port \"2-3\": expected a number 1-65535 or a range LO-HI" },
		{ "example.com", "\"example.com\" is a host name; connect rules take IP addresses "
				 "(what a name resolves to changes over time and from one resolver to another)" },
		{ "localhost:80", "\"localhost\" is a host name; connect rules take IP addresses "
				  "(what a name resolves to changes over time and from one resolver to another)" },
		{ "10.0.0", "\"10.0.0\" is not an IPv4 or IPv6 address" },
		{ "010.0.0.1", "\"010.0.0.1\" is not an IPv4 or IPv6 address" },
		{ "1.2.3.4.5", "\"1.2.3.4.5\" is not an IPv4 or IPv6 address" },
		{ "2001:db8::g", "\"2001:db8::g\" is not an IPv6 address (with a port, bracket it: \"[::1]:8080\")" },
		{ "[10.0.0.1]:80", "brackets are for IPv6 addresses; write an IPv4 address as 10.0.0.1:443" },
		{ "[::1", "missing ']' after a bracketed IPv6 address" },
		{ "[::1]80", "expected \":PORT\" after ']'" },
		{ ":80", "missing address" },
		{ "/8", "missing address" },
		{ "10.0.0.1\t", "address contains a control character (\\x09) at byte 9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct net_rule r = { 0 };
		char err[256] = "";

		if (policy_parse_net_target(ok[i].in, &r, err, sizeof(err)))
			fail_msg("%s: %s", ok[i].in, err);
		assert_int_equal(r.addr[0], ok[i].addr0);
		assert_int_equal(r.addr[12], ok[i].addr12);
		assert_int_equal(r.addr[15], ok[i].addr15);
		assert_int_equal(r.prefix_len, ok[i].prefix);
		assert_int_equal(r.port_lo, ok[i].lo);
		assert_int_equal(r.port_hi, ok[i].hi);
		/* IPv4 rules live in ::ffff:0:0/96, IPv6 ones do not unless written so. */
		if (ok[i].prefix >= 96 && strchr(ok[i].in, '.'))
			assert_int_equal(r.addr[10] & r.addr[11], 0xff);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_rule r = { 0 };
		char err[256] = "";

		assert_int_equal(policy_parse_net_target(bad[i].in, &r, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
}

static void test_net_errors_in_file(void **state)
{
	(void)state;
	expect_spec_error("  connect: {allow: [10.1.0.0/8]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: host bits set; did you mean "
			  "10.0.0.0/8?\n");
	expect_spec_error("  connect: {allow: [\"10.0.0.0/8:0\"]}",
			  "t.yaml:6:21: error: spec.connect.allow[0]: port 0 is out of range 1-65535\n");
	expect_spec_error("  connect: {deny: [example.com]}",
			  "t.yaml:6:20: error: spec.connect.deny[0]: \"example.com\" is a host name; "
			  "connect rules take IP addresses (what a name resolves to changes over "
			  "time and from one resolver to another)\n");
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
	char name[128];
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

	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_CONNECT, 0, ACTGATE_VERDICT_ALLOW,
			 0);
	assert_string_equal(name, "p:connect.when[0].allow[0]");
	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_OPEN, 2, RULE_DEFAULT, 0);
	assert_string_equal(name, "p:open.when[2].default");
	policy_rule_name(name, sizeof(name), "p", ACTGATE_ACTION_EXEC, POLICY_BASE,
			 ACTGATE_VERDICT_DENY, 3);
	assert_string_equal(name, "p:exec.deny[3]");
	parsed_free(&p);
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

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error(HEAD "foo: 1\n",
		     "t.yaml:6:1: error: unknown key \"foo\" in the policy; allowed keys: "
		     "apiVersion, kind, metadata, spec\n");
	expect_spec_error("  exec: {default: deny, alow: [/bin/]}",
			  "t.yaml:6:25: error: unknown key \"alow\" in spec.exec; allowed keys: "
			  "default, allow, deny, when\n");
	expect_spec_error("  network: {}",
			  "t.yaml:6:3: error: unknown key \"network\" in spec; allowed keys: "
			  "selector, mode, record, exec, open, connect\n");
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
			  "\"default\"?); allowed keys: default, allow, deny, when\n");
	expect_error("apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: t}\n"
		     "spec: {selector: {workloads: [w], names: [x]}}\n",
		     "t.yaml:4:35: error: unknown key \"names\" in spec.selector; allowed keys: "
		     "workloads, cgroups, labels\n");
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
			  "t.yaml:6:11: error: spec.record: expected all, deny or none, found \"some\"\n");
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

static bool selects(const struct policy *p, const char *name)
{
	struct workload_identity id = { .name = name };

	return policy_selects(p, &id);
}

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
	assert_true(workload_label_key_valid("ci.repo/name-1_x", 16));
	assert_false(workload_label_key_valid("", 0));
	assert_false(workload_label_key_valid("a b", 3));
}

static void test_diag_print(void **state)
{
	struct diag_list d = { 0 };
	char *out;

	(void)state;
	assert_int_equal(diag_add(&d, DIAG_ERROR, "p.yaml", 3, 7, "bad %s", "thing"), 0);
	assert_int_equal(diag_add(&d, DIAG_WARNING, "p.yaml", 1, 2, "odd"), 0);
	assert_int_equal(diag_add(&d, DIAG_ERROR, "dir", 0, 0, "whole file"), 0);
	assert_int_equal(d.errors, 2);
	assert_int_equal(d.warnings, 1);
	out = printed(&d);
	assert_string_equal(out, "p.yaml:3:7: error: bad thing\n"
				 "p.yaml:1:2: warning: odd\n"
				 "dir: error: whole file\n");
	free(out);
	assert_int_equal(diag_sort(&d, 1), 0);
	assert_string_equal(d.items[0].message, "bad thing");
	assert_string_equal(d.items[1].message, "whole file");
	assert_string_equal(d.items[2].message, "odd");
	diag_list_free(&d);
	assert_int_equal(d.count, 0);
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

static void remove_tree(const char *dir, const char *const names[], size_t n)
{
	char path[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
		rmdir(path);
	}
	rmdir(dir);
}

static void test_parse_file(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX";
	static const char *const names[] = { "a.yaml" };
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
	remove_tree(dir, names, 1);
}

static void test_load_dir(void **state)
{
	char dir[] = "/tmp/actgate-test-XXXXXX";
	static const char *const names[] = { "20-b.yml", "10-a.yaml", "notes.txt", ".hidden.yaml",
					     "30-c.yaml", "sub.yaml", "sub" };
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

	snprintf(path, sizeof(path), "%s/sub/x.yaml", dir);
	unlink(path);
	remove_tree(dir, names, sizeof(names) / sizeof(names[0]));

	/* A missing directory is named. */
	assert_int_equal(policy_load_dir(dir, &p.set, &p.diags), -ENOENT);
	out = printed(&p.diags);
	snprintf(path, sizeof(path), "%s: error: cannot open policy directory: No such file or "
				     "directory\n", dir);
	assert_string_equal(out, path);
	free(out);
	parsed_free(&p);
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
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_block_style_and_audit),
		cmocka_unit_test(test_path_normalisation),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_path_errors_in_file),
		cmocka_unit_test(test_net_targets),
		cmocka_unit_test(test_net_errors_in_file),
		cmocka_unit_test(test_duplicate_rules),
		cmocka_unit_test(test_many_net_rules),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_contradictions),
		cmocka_unit_test(test_rule_mappings),
		cmocka_unit_test(test_rule_mapping_errors),
		cmocka_unit_test(test_overlays),
		cmocka_unit_test(test_overlay_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_anchors_aliases_tags),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_duplicate_names_across_files),
		cmocka_unit_test(test_selects),
		cmocka_unit_test(test_cgroup_and_label_selectors),
		cmocka_unit_test(test_diag_print),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_shipped_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
