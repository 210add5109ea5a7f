/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Compiler: policy text -> map contents, against a fake file system. */
#include <linux/types.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "policy.h"

/* The fake file system: path -> (dev, ino, is_dir); anything else is ENOENT. */
struct fake_file {
	const char *path;
	uint32_t dev;
	uint64_t ino;
	int is_dir;
	int error; /* returned instead when non-zero */
};

static const struct fake_file fake_fs[] = {
	{ "/usr/bin", 8, 100, 1, 0 },
	{ "/usr/bin/curl", 8, 101, 0, 0 },
	{ "/usr/bin/curl-alias", 8, 101, 0, 0 }, /* a hardlink: same inode */
	{ "/etc/shadow", 8, 200, 0, 0 },
	{ "/root/.ssh", 8, 300, 1, 0 },
	{ "/secret", 8, 400, 0, -EACCES },
	{ NULL, 0, 0, 0, 0 },
};

static int fake_resolve(const char *path, uint32_t *dev, uint64_t *ino, int *is_dir, void *ctx)
{
	(void)ctx;
	for (const struct fake_file *f = fake_fs; f->path; f++) {
		if (strcmp(f->path, path) != 0)
			continue;
		if (f->error)
			return f->error;
		*dev = f->dev;
		*ino = f->ino;
		*is_dir = f->is_dir;
		return 0;
	}
	return -ENOENT;
}

struct compiled {
	struct policy_set set;
	struct policy_image img;
	struct diag_list diags;
	int err;
};

static void compile_text(struct compiled *c, const char *spec)
{
	char text[4096];
	int n;

	memset(c, 0, sizeof(*c));
	n = snprintf(text, sizeof(text),
		     "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: p}\n"
		     "spec:\n  selector: {workloads: [\"w\"]}\n%s",
		     spec);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(policy_parse_buffer("t.yaml", text, (size_t)n, &c->set, &c->diags), 0);
	c->err = policy_compile(&c->set, 7, fake_resolve, NULL, &c->img, &c->diags);
}

static void compiled_free(struct compiled *c)
{
	policy_image_free(&c->img);
	policy_set_free(&c->set);
	diag_list_free(&c->diags);
}

static const struct image_path_entry *find_path(const struct policy_image *img, uint8_t action,
						uint8_t kind, uint64_t ino)
{
	for (size_t i = 0; i < img->path_count; i++) {
		const struct image_path_entry *e = &img->paths[i];

		if (e->key.action == action && e->key.kind == kind && e->key.ino == ino)
			return e;
	}
	return NULL;
}

static void test_exec_rules(void **state)
{
	struct compiled c;
	const struct image_path_entry *e;

	(void)state;
	compile_text(&c, "  exec: {default: deny, deny: [/usr/bin/curl], allow: [/usr/bin/]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.policy_count, 1);
	assert_int_equal(c.img.generation, 7);
	assert_int_equal(c.img.policies[0].generation, 7);
	assert_int_equal(c.img.policies[0].mode, ACTGATE_MODE_ENFORCE);
	assert_int_equal(c.img.policies[0].record, ACTGATE_RECORD_ALL);
	assert_int_equal(c.img.policies[0].action[ACTGATE_ACTION_EXEC].default_verdict,
			 ACTGATE_VERDICT_DENY);
	assert_int_equal(c.img.policies[0].action[ACTGATE_ACTION_EXEC].has_rules, 1);
	assert_int_equal(c.img.policies[0].action[ACTGATE_ACTION_EXEC].has_subtree_rules, 1);
	/* Sections not written: allow by default, no rules, no walk. */
	assert_int_equal(c.img.policies[0].action[ACTGATE_ACTION_OPEN].default_verdict,
			 ACTGATE_VERDICT_ALLOW);
	assert_int_equal(c.img.policies[0].action[ACTGATE_ACTION_OPEN].has_rules, 0);
	assert_int_equal(c.img.path_count, 2);

	e = find_path(&c.img, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	/* Generation 7, first policy. */
	assert_int_equal(e->key.policy_id, (7u << 16) | 1);
	assert_int_equal(e->key.dev, 8);
	assert_int_equal(e->value.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(policy_image_rule_name(&c.img, e->value.rule_id), "p:exec.deny[0]");

	e = find_path(&c.img, ACTGATE_ACTION_EXEC, ACTGATE_PATH_SUBTREE, 100);
	assert_non_null(e);
	assert_int_equal(e->value.verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(policy_image_rule_name(&c.img, e->value.rule_id), "p:exec.allow[0]");
	assert_string_equal(
		policy_image_rule_name(&c.img,
				       c.img.policies[0].action[ACTGATE_ACTION_EXEC].default_rule_id),
		"p:exec.default");
	assert_null(policy_image_rule_name(&c.img, 0));
	assert_null(policy_image_rule_name(&c.img, 9999));
	compiled_free(&c);
}

static void test_same_inode_deny_wins(void **state)
{
	struct compiled c;
	const struct image_path_entry *e;

	(void)state;
	/* Two names for one inode, allowed under one and denied under the other. */
	compile_text(&c, "  mode: audit\n  record: deny\n"
			 "  open: {allow: [/usr/bin/curl-alias], deny: [/usr/bin/curl]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.policies[0].mode, ACTGATE_MODE_AUDIT);
	assert_int_equal(c.img.policies[0].record, ACTGATE_RECORD_DENY);
	assert_int_equal(c.img.path_count, 1);
	e = find_path(&c.img, ACTGATE_ACTION_OPEN, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	assert_int_equal(e->value.verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(policy_image_rule_name(&c.img, e->value.rule_id), "p:open.deny[0]");
	compiled_free(&c);
}

static void test_missing_path_warns(void **state)
{
	struct compiled c;

	(void)state;
	compile_text(&c, "  open: {deny: [/etc/shadow, /does/not/exist]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.path_count, 1);
	assert_int_equal(c.diags.errors, 0);
	assert_int_equal(c.diags.warnings, 1);
	assert_int_equal(c.diags.items[0].line, 6);
	assert_non_null(strstr(c.diags.items[0].message, "/does/not/exist"));
	compiled_free(&c);
}

static void test_subtree_on_file_refused(void **state)
{
	struct compiled c;

	(void)state;
	compile_text(&c, "  open: {deny: [/etc/shadow/]}\n");
	assert_int_equal(c.err, -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "not a directory"));
	/* Nothing half-built is left behind. */
	assert_int_equal(c.img.path_count, 0);
	assert_int_equal(c.img.policy_count, 0);
	assert_null(c.img.policies);
	compiled_free(&c);
}

static void test_unresolvable_refused(void **state)
{
	struct compiled c;

	(void)state;
	compile_text(&c, "  exec: {deny: [/secret]}\n");
	assert_int_equal(c.err, -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "Permission denied"));
	compiled_free(&c);
}

static const struct image_net_entry *find_net(const struct policy_image *img, unsigned prefixlen,
					      const uint8_t addr[16])
{
	for (size_t i = 0; i < img->net_count; i++) {
		if (img->nets[i].key.prefixlen == prefixlen &&
		    memcmp(img->nets[i].key.addr, addr, 16) == 0)
			return &img->nets[i];
	}
	return NULL;
}

static void test_connect_push_down(void **state)
{
	static const uint8_t ten[16] = { [10] = 0xff, [11] = 0xff, [12] = 10 };
	static const uint8_t ten_one[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1 };
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect: {default: deny, allow: [\"10.0.0.0/8:443\"], "
			 "deny: [\"10.1.0.0/16\"]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.net_count, 2);

	e = find_net(&c.img, 32 + 96 + 8, ten);
	assert_non_null(e);
	/* The policy id is stored big-endian so that the trie matches it first. */
	assert_int_equal(e->key.policy_id, __builtin_bswap32(policy_id_of(7, 0)));
	assert_int_equal(e->value.count, 1);
	assert_int_equal(e->value.rule[0].port_lo, 443);
	assert_int_equal(e->value.rule[0].port_hi, 443);

	/* The /16 carries its own rule first, then the /8 rule that covers it. */
	e = find_net(&c.img, 32 + 96 + 16, ten_one);
	assert_non_null(e);
	assert_int_equal(e->value.count, 2);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(e->value.rule[0].port_lo, 0);
	assert_int_equal(e->value.rule[0].port_hi, 65535);
	assert_string_equal(policy_image_rule_name(&c.img, e->value.rule[0].rule_id),
			    "p:connect.deny[0]");
	assert_int_equal(e->value.rule[1].verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(policy_image_rule_name(&c.img, e->value.rule[1].rule_id),
			    "p:connect.allow[0]");
	compiled_free(&c);
}

static void test_connect_ports_order(void **state)
{
	static const uint8_t lo[16] = { [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1 };
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	/* Same prefix: the narrower port range first; deny first on a tie. */
	compile_text(&c, "  connect: {allow: [\"127.0.0.1:1-1000\", \"127.0.0.1:80\"], "
			 "deny: [\"127.0.0.1:80\"]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.net_count, 1);
	e = find_net(&c.img, 32 + 128, lo);
	assert_non_null(e);
	assert_int_equal(e->value.count, 3);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(e->value.rule[1].verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(e->value.rule[1].port_lo, 80);
	assert_int_equal(e->value.rule[2].port_hi, 1000);
	compiled_free(&c);
}

static void test_connect_too_many_overlaps(void **state)
{
	char spec[2048];
	size_t n = 0;
	struct compiled c;

	(void)state;
	n += (size_t)snprintf(spec + n, sizeof(spec) - n, "  connect: {allow: [");
	for (int i = 1; i <= ACTGATE_NET_RULES_PER_PREFIX + 1; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s\"10.0.0.1:%d\"",
				      i > 1 ? ", " : "", i);
	snprintf(spec + n, sizeof(spec) - n, "]}\n");
	compile_text(&c, spec);
	assert_int_equal(c.err, -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "at most 16"));
	compiled_free(&c);
}

static void test_ipv6_rule(void **state)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect: {allow: [\"[::1]:8080\"]}\n");
	assert_int_equal(c.err, 0);
	e = find_net(&c.img, 32 + 128, v6lo);
	assert_non_null(e);
	assert_int_equal(e->value.rule[0].port_lo, 8080);
	compiled_free(&c);
}

static void test_two_policies_ids(void **state)
{
	const char *text = "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: a}\n"
			   "spec:\n  selector: {workloads: [a]}\n  exec: {deny: [/usr/bin/curl]}\n"
			   "---\n"
			   "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: b}\n"
			   "spec:\n  selector: {workloads: [b]}\n  exec: {deny: [/usr/bin/curl]}\n";
	struct compiled c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(policy_parse_buffer("t.yaml", text, strlen(text), &c.set, &c.diags), 0);
	assert_int_equal(policy_compile(&c.set, 1, fake_resolve, NULL, &c.img, &c.diags), 0);
	/* The same inode under two policies: two keys, one per policy id. */
	assert_int_equal(c.img.path_count, 2);
	assert_int_equal(c.img.paths[0].key.policy_id, policy_id_of(1, 0));
	assert_int_equal(c.img.paths[1].key.policy_id, policy_id_of(1, 1));
	assert_int_equal(policy_id_generation(c.img.paths[1].key.policy_id), 1);
	assert_int_equal(policy_id_index(c.img.paths[1].key.policy_id), 1);
	assert_string_equal(policy_image_rule_name(&c.img, c.img.paths[1].value.rule_id),
			    "b:exec.deny[0]");
	compiled_free(&c);
}

static void test_generation_range(void **state)
{
	struct compiled c;

	(void)state;
	/* Generations live in 16 bits of the policy id: 0 and 65536 are refused. */
	compile_text(&c, "  exec: {deny: [/usr/bin/curl]}\n");
	assert_int_equal(c.err, 0);
	policy_image_free(&c.img);
	assert_int_equal(policy_compile(&c.set, 0, fake_resolve, NULL, &c.img, &c.diags), -ERANGE);
	assert_int_equal(policy_compile(&c.set, 65536, fake_resolve, NULL, &c.img, &c.diags),
			 -ERANGE);
	assert_int_equal(policy_compile(&c.set, 65535, fake_resolve, NULL, &c.img, &c.diags), 0);
	assert_int_equal(c.img.paths[0].key.policy_id, 0xffff0001u);
	assert_int_equal(policy_id_index(0), (size_t)-1);
	compiled_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_rules),
		cmocka_unit_test(test_same_inode_deny_wins),
		cmocka_unit_test(test_missing_path_warns),
		cmocka_unit_test(test_subtree_on_file_refused),
		cmocka_unit_test(test_unresolvable_refused),
		cmocka_unit_test(test_connect_push_down),
		cmocka_unit_test(test_connect_ports_order),
		cmocka_unit_test(test_connect_too_many_overlaps),
		cmocka_unit_test(test_ipv6_rule),
		cmocka_unit_test(test_two_policies_ids),
		cmocka_unit_test(test_generation_range),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
