/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Compiler: policy text -> effective policies -> map contents, against a
 * fake file system; and the map contents, looked up as the kernel does,
 * against the userspace evaluator.
 */
#include <linux/types.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "policy/compile.h"
#include "policy/evaluate.h"
#include "policy/parse.h"
#include "policy/policy.h"

/* ---- the fake file system ---- */

struct fake_file {
	const char *path;
	uint64_t ino;
	uint32_t type;
	int error; /* returned instead when non-zero */
};

static const struct fake_file fake_fs[] = {
	{ "/usr/bin", 100, S_IFDIR, 0 },
	{ "/usr/bin/curl", 101, S_IFREG, 0 },
	{ "/usr/bin/curl-alias", 101, S_IFREG, 0 }, /* a hardlink: same inode */
	{ "/usr/bin/ls", 102, S_IFREG, 0 },
	{ "/usr", 103, S_IFDIR, 0 },
	{ "/etc/shadow", 200, S_IFREG, 0 },
	{ "/etc", 201, S_IFDIR, 0 },
	{ "/root/.ssh", 300, S_IFDIR, 0 },
	{ "/secret", 400, S_IFREG, -EACCES },
	{ "/run", 500, S_IFDIR, 0 },
	{ "/run/docker.sock", 501, S_IFSOCK, 0 },
	{ "/run/secrets", 502, S_IFDIR, 0 },
	{ "/run/secrets/a.sock", 503, S_IFSOCK, 0 },
	{ "/run/plain", 504, S_IFREG, 0 },
	{ "/srv", 600, S_IFDIR, 0 },
	{ "/srv/cache", 601, S_IFDIR, 0 },
	{ "/srv/cache/f", 602, S_IFREG, 0 },
	{ "/proc/self/environ", 700, S_IFREG, 0 },
	{ "/", 2, S_IFDIR, 0 },
	{ NULL, 0, 0, 0 },
};

static int fake_resolve(const char *path, struct resolved_path *out, void *ctx)
{
	(void)ctx;
	for (const struct fake_file *f = fake_fs; f->path; f++) {
		if (strcmp(f->path, path) != 0)
			continue;
		if (f->error)
			return f->error;
		out->dev = 8;
		out->ino = f->ino;
		out->type = f->type;
		return 0;
	}
	return -ENOENT;
}

/* ---- helpers ---- */

struct compiled {
	struct policy_set set;
	struct policy_image img;
	struct diag_list diags;
	int err;
};

#define HEADER(name, selector)                                                             \
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: " name "}\n"           \
	"spec:\n  selector: " selector "\n"

/* Parse text (whole documents) and compile it as generation 7. */
static void compile_docs(struct compiled *c, const char *text)
{
	memset(c, 0, sizeof(*c));
	if (policy_parse_buffer("t.yaml", text, strlen(text), &c->set, &c->diags)) {
		diag_print(&c->diags, stderr);
		fail_msg("the test policy does not parse");
	}
	c->err = policy_compile(&c->set, 7, fake_resolve, NULL, &c->img, &c->diags);
}

/* One policy "p" selecting workload "w", with spec lines. */
static void compile_text(struct compiled *c, const char *spec)
{
	char text[8192];
	int n = snprintf(text, sizeof(text), HEADER("p", "{workloads: [w]}") "%s", spec);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	compile_docs(c, text);
}

static void compiled_free(struct compiled *c)
{
	policy_image_free(&c->img);
	policy_set_free(&c->set);
	diag_list_free(&c->diags);
}

/* The effective policy of a workload (by name, labels, signals); NULL when refused. */
static const struct effective_policy *effective_of(struct compiled *c,
						   const struct workload_identity *id,
						   const struct signal_view *signals, int *err,
						   bool *added)
{
	struct policy_selection *sel = NULL;
	size_t count = 0, index = 0;
	bool was_added = false;

	*err = policy_selection_of(&c->set, id, signals, &sel, &count);
	if (!*err)
		*err = policy_image_effective(&c->img, sel, count, &index, &was_added, &c->diags);
	free(sel);
	if (added)
		*added = was_added;
	return *err ? NULL : &c->img.policies[index];
}

static const struct effective_policy *effective_named(struct compiled *c, const char *name)
{
	struct workload_identity id = { .name = name };
	const struct effective_policy *ep;
	int err;

	ep = effective_of(c, &id, NULL, &err, NULL);
	if (!ep) {
		diag_print(&c->diags, stderr);
		fail_msg("no effective policy for %s: %s", name, strerror(-err));
	}
	return ep;
}

static const struct image_path_entry *find_path(const struct compiled *c,
						const struct effective_policy *ep, uint8_t action,
						uint8_t kind, uint64_t ino)
{
	for (size_t i = ep->path_first; i < ep->path_first + ep->path_count; i++) {
		const struct image_path_entry *e = &c->img.paths[i];

		assert_int_equal(e->key.policy_id, ep->policy_id);
		if (e->key.action == action && e->key.kind == kind && e->key.ino == ino)
			return e;
	}
	return NULL;
}

static const struct image_net_entry *find_net(const struct compiled *c,
					      const struct effective_policy *ep,
					      unsigned prefixlen, const uint8_t addr[16])
{
	for (size_t i = ep->net_first; i < ep->net_first + ep->net_count; i++) {
		const struct image_net_entry *e = &c->img.nets[i];

		if (e->key.prefixlen == prefixlen && memcmp(e->key.addr, addr, 16) == 0)
			return e;
	}
	return NULL;
}

/* The name of a rule id, for assertions. */
static const char *name_of(const struct compiled *c, uint32_t rule_id)
{
	static char buf[4][256];
	static unsigned next;
	char *b = buf[next++ % 4];

	if (policy_image_rule_name(&c->img, rule_id, b, 256))
		snprintf(b, 256, "(no rule %u)", rule_id);
	return b;
}

static void expect_slot(const struct compiled *c, const struct actgate_decision_slot *s,
			uint8_t verdict, uint8_t mode, const char *rule)
{
	if (!s->set || s->verdict != verdict || s->mode != mode || strcmp(name_of(c, s->rule_id), rule))
		fail_msg("expected %s %s by %s, got %s%s %s by %s", verdict ? "deny" : "allow",
			 mode ? "(audit)" : "(enforce)", rule, s->set ? "" : "unset ",
			 s->verdict ? "deny" : "allow", s->mode ? "(audit)" : "(enforce)",
			 name_of(c, s->rule_id));
}

static const uint8_t v4_prefix[12] = { [10] = 0xff, [11] = 0xff };

static void v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memcpy(out, v4_prefix, 12);
	out[12] = a;
	out[13] = b;
	out[14] = c;
	out[15] = d;
}

/* ---- single policies ---- */

static void test_exec_rules(void **state)
{
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;
	char name[64];

	(void)state;
	compile_text(&c, "  exec: {default: deny, deny: [/usr/bin/curl], allow: [/usr/bin/]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.generation, 7);
	/* No workload yet: nothing compiled for the kernel. */
	assert_int_equal(c.img.policy_count, 0);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->policy_id, policy_id_of(7, 0));
	assert_int_equal(ep->policy_id, (7u << 16) | 1);
	assert_int_equal(ep->header.generation, 7);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_EXEC].has_rules, 1);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_EXEC].has_subtree_rules, 1);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_EXEC].has_deny_rules, 1);
	for (int s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
		if (s != ACTGATE_EXEC_WRITTEN_SLOT)
			expect_slot(&c, &ep->header.action[ACTGATE_ACTION_EXEC].dflt[s],
				    ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE, "p:exec.default");
	/* No `written:`: the written slot is not set, nothing asks the kernel to look. */
	assert_int_equal(ep->header.action[ACTGATE_ACTION_EXEC].dflt[ACTGATE_EXEC_WRITTEN_SLOT].set, 0);
	/* Sections not written: allow by default, no rules, no walk. */
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_OPEN].dflt[0], ACTGATE_VERDICT_ALLOW,
		    ACTGATE_MODE_ENFORCE, "p:open.default");
	assert_int_equal(ep->header.action[ACTGATE_ACTION_OPEN].has_rules, 0);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_CONNECT].has_rules, 0);
	assert_int_equal(ep->path_count, 2);
	assert_int_equal(ep->net_count, 0);

	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	assert_int_equal(e->key.dev, 8);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "p:exec.deny[0]");
	/* Exec has one slot. */
	assert_int_equal(e->value.slot[1].set, 0);
	assert_int_equal(e->value.slot[3].set, 0);
	assert_int_equal(e->value.slot[0].record, ACTGATE_RECORD_ALL);

	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_SUBTREE, 100);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		    "p:exec.allow[0]");
	assert_int_equal(policy_image_rule_name(&c.img, 0, name, sizeof(name)), -ENOENT);
	assert_string_equal(name, "");
	assert_int_equal(policy_image_rule_name(&c.img, 99999, name, sizeof(name)), -ENOENT);
	assert_string_equal(policy_image_rule_policy(&c.img, e->value.slot[0].rule_id), "p");
	assert_null(policy_image_rule_policy(&c.img, 0));
	compiled_free(&c);
}

static void test_same_inode_deny_wins(void **state)
{
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;

	(void)state;
	/* Two names for one inode, allowed under one and denied under the other. */
	compile_text(&c, "  mode: audit\n  record: deny\n"
			 "  open: {allow: [/usr/bin/curl-alias], deny: [/usr/bin/curl]}\n");
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->path_count, 1);
	e = find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	for (int s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		expect_slot(&c, &e->value.slot[s], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
			    "p:open.deny[0]");
		assert_int_equal(e->value.slot[s].record, ACTGATE_RECORD_DENY);
	}
	assert_int_equal(ep->header.action[ACTGATE_ACTION_OPEN].dflt[0].record, ACTGATE_RECORD_DENY);
	compiled_free(&c);
}

static void test_missing_path_warns(void **state)
{
	const struct effective_policy *ep;
	struct compiled c;

	(void)state;
	compile_text(&c, "  open: {deny: [/etc/shadow, /does/not/exist]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.diags.errors, 0);
	assert_int_equal(c.diags.warnings, 1);
	assert_int_equal(c.diags.items[0].line, 6);
	assert_non_null(strstr(c.diags.items[0].message, "spec.open.deny[1]: /does/not/exist"));
	assert_non_null(strstr(c.diags.items[0].message, "no such file"));
	assert_int_equal(c.img.checked_path_rules, 1);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->path_count, 1);
	compiled_free(&c);
}

static void test_subtree_on_file_refused(void **state)
{
	struct compiled c;

	(void)state;
	compile_text(&c, "  open: {deny: [/etc/shadow/]}\n");
	assert_int_equal(c.err, -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "/etc/shadow/: a trailing '/'"));
	assert_non_null(strstr(c.diags.items[0].message, "not a directory"));
	/* Nothing half-built is left behind. */
	assert_int_equal(c.img.rule_count, 0);
	assert_null(c.img.rules);
	assert_null(c.img.resolved);
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

static void test_unix_rules(void **state)
{
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect:\n    default: deny\n"
			 "    deny: [unix:/run/docker.sock]\n"
			 "    allow: [\"unix:/run/secrets/\", {unix: /run/secrets/a.sock, mode: audit}]\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.diags.count, 0);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->header.action[ACTGATE_ACTION_CONNECT].has_rules, 1);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_CONNECT].has_subtree_rules, 1);
	assert_int_equal(ep->net_count, 0);
	assert_int_equal(ep->path_count, 3);
	e = find_path(&c, ep, ACTGATE_ACTION_CONNECT, ACTGATE_PATH_EXACT, 501);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "p:connect.deny[0]");
	assert_int_equal(e->value.slot[1].set, 0);
	e = find_path(&c, ep, ACTGATE_ACTION_CONNECT, ACTGATE_PATH_SUBTREE, 502);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		    "p:connect.allow[0]");
	e = find_path(&c, ep, ACTGATE_ACTION_CONNECT, ACTGATE_PATH_EXACT, 503);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_AUDIT,
		    "p:connect.allow[1]");
	/* Not in exec or open. */
	assert_null(find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_EXACT, 501));
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_CONNECT].dflt[0], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "p:connect.default");
	compiled_free(&c);
}

static void test_unix_rule_not_a_socket(void **state)
{
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect: {deny: [unix:/run/plain, \"unix:/run/docker.sock/\"]}\n");
	assert_int_equal(c.err, -EINVAL);
	assert_int_equal(c.diags.errors, 2);
	assert_non_null(strstr(c.diags.items[0].message, "unix:/run/plain is not a unix socket"));
	assert_non_null(strstr(c.diags.items[1].message, "unix:/run/docker.sock/: a trailing '/'"));
	compiled_free(&c);
}

static void test_proc_self_refused(void **state)
{
	static const char *const own[] = { "/proc/self/environ", "/proc/1234/mem",
					   "/proc/thread-self", "/proc/42" };
	struct compiled c;

	(void)state;
	/* The parser refuses such paths; rules built elsewhere reach the compiler. */
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		compile_text(&c, "  open: {deny: [/etc/shadow]}\n");
		assert_int_equal(c.err, 0);
		policy_image_free(&c.img);
		free(c.set.policies[0].open.rules[0].path);
		c.set.policies[0].open.rules[0].path = strdup(own[i]);
		assert_non_null(c.set.policies[0].open.rules[0].path);
		assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags),
				 -EINVAL);
		assert_int_equal(c.diags.errors, 1);
		assert_non_null(strstr(c.diags.items[0].message, own[i]));
		assert_non_null(strstr(c.diags.items[0].message, "the daemon's own"));
		compiled_free(&c);
	}
	/* /proc itself, /proc/sys, /proc/selfish are other files. */
	compile_text(&c, "  open: {deny: [/etc/shadow]}\n");
	policy_image_free(&c.img);
	free(c.set.policies[0].open.rules[0].path);
	c.set.policies[0].open.rules[0].path = strdup("/proc/selfish");
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), 0);
	assert_int_equal(c.diags.errors, 0);
	assert_int_equal(c.diags.warnings, 1); /* it does not exist here */
	compiled_free(&c);
}

static void test_open_accesses(void **state)
{
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;

	(void)state;
	compile_text(&c, "  open:\n    allow: [/srv/]\n"
			 "    deny: [{path: /srv/cache/, access: write}, "
			 "{path: /srv/cache/f, access: [create, exec-map], mode: audit}]\n");
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	e = find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_SUBTREE, 600);
	assert_non_null(e);
	for (int s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
		expect_slot(&c, &e->value.slot[s], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
			    "p:open.allow[0]");
	/* Only write is decided at /srv/cache: the others fall through to /srv. */
	e = find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_SUBTREE, 601);
	assert_non_null(e);
	assert_int_equal(e->value.slot[0].set, 0);
	expect_slot(&c, &e->value.slot[1], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "p:open.deny[0]");
	assert_int_equal(e->value.slot[2].set, 0);
	assert_int_equal(e->value.slot[3].set, 0);
	e = find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_EXACT, 602);
	assert_non_null(e);
	assert_int_equal(e->value.slot[0].set, 0);
	assert_int_equal(e->value.slot[1].set, 0);
	expect_slot(&c, &e->value.slot[2], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		    "p:open.deny[1]");
	expect_slot(&c, &e->value.slot[3], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		    "p:open.deny[1]");
	compiled_free(&c);
}

/* ---- composition ---- */

static const char two_exec_policies[] =
	HEADER("a", "{workloads: [\"both\", \"a*\"]}")
	"  mode: audit\n"
	"  exec: {deny: [/usr/bin/curl]}\n"
	"---\n"
	HEADER("b", "{workloads: [\"both\", \"b*\"]}")
	"  exec: {default: deny, allow: [/usr/bin/]}\n";

static void test_compose_two_policies(void **state)
{
	const struct effective_policy *ep, *only_a;
	const struct image_path_entry *e;
	struct compiled c;
	char names[64];

	(void)state;
	compile_docs(&c, two_exec_policies);
	assert_int_equal(c.err, 0);
	only_a = effective_named(&c, "alone");
	assert_int_equal(only_a->sel_count, 1);
	ep = effective_named(&c, "both");
	assert_int_equal(ep->sel_count, 2);
	assert_int_not_equal(ep->policy_id, only_a->policy_id);
	assert_int_equal(policy_image_policy_names(&c.img, ep->policy_id, names, sizeof(names)), 3);
	assert_string_equal(names, "a,b");

	/* The composed default: b's enforced deny beats a's allow. */
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_EXEC].dflt[0], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "b:exec.default");
	/* curl: a denies (audited), b allows by its directory rule: the deny, rank 1, wins. */
	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		    "a:exec.deny[0]");
	/*
	 * /usr/bin/: a allows by default, b by its rule: a tie, and the
	 * earlier policy's decision is the one recorded.
	 */
	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_SUBTREE, 100);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_AUDIT,
		    "a:exec.default");
	assert_int_equal(ep->path_count, 2);
	compiled_free(&c);
}

/* spec.kernel composes as intersection: a door is open only when every policy opens it. */
static void test_compose_kernel_doors(void **state)
{
	static const char docs[] =
		HEADER("a", "{workloads: [\"both\", \"a*\"]}")
		"  kernel: {allow: [core-pattern, modules]}\n"
		"---\n"
		HEADER("b", "{workloads: [\"both\", \"b*\", \"none\"]}")
		"  kernel: {allow: [modules, kexec]}\n"
		"---\n"
		HEADER("c", "{workloads: [\"none\"]}")
		"  exec: {}\n";
	struct compiled c;

	(void)state;
	compile_docs(&c, docs);
	assert_int_equal(c.err, 0);
	assert_int_equal(effective_named(&c, "alone")->header.kernel_allow,
			 (1u << ACTGATE_KERNEL_CORE_PATTERN) | (1u << ACTGATE_KERNEL_MODULES));
	assert_int_equal(effective_named(&c, "both")->header.kernel_allow,
			 1u << ACTGATE_KERNEL_MODULES);
	assert_int_equal(effective_named(&c, "none")->header.kernel_allow, 0);
	compiled_free(&c);
}

static void test_compose_enforce_beats_audit(void **state)
{
	const char *text =
		HEADER("watch", "{workloads: [w]}")
		"  mode: audit\n"
		"  exec: {deny: [/usr/bin/curl, /usr/bin/]}\n"
		"---\n"
		HEADER("block", "{workloads: [w]}")
		"  exec: {deny: [/usr/bin/curl]}\n"
		"---\n"
		HEADER("late", "{workloads: [w]}")
		"  exec: {deny: [{path: /usr/bin/curl, mode: audit}]}\n";
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;

	(void)state;
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->sel_count, 3);
	/* The enforced deny of the second policy beats the audited ones around it. */
	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "block:exec.deny[0]");
	/* The rest of /usr/bin: watch's audited deny beats two allowing defaults. */
	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_SUBTREE, 100);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		    "watch:exec.deny[1]");
	/* Defaults: all allow; the first one is recorded. */
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_EXEC].dflt[0], ACTGATE_VERDICT_ALLOW,
		    ACTGATE_MODE_AUDIT, "watch:exec.default");
	compiled_free(&c);
}

static void test_compose_accesses(void **state)
{
	const char *text =
		HEADER("reader", "{workloads: [w]}")
		"  open: {deny: [{path: /srv/, access: write}]}\n"
		"---\n"
		HEADER("writer", "{workloads: [w]}")
		"  open: {default: deny, allow: [{path: /srv/, access: [read, write]}]}\n";
	const struct effective_policy *ep;
	const struct image_path_entry *e;
	struct compiled c;

	(void)state;
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	e = find_path(&c, ep, ACTGATE_ACTION_OPEN, ACTGATE_PATH_SUBTREE, 600);
	assert_non_null(e);
	/* read: reader's default allow and writer's allow tie: reader's is recorded. */
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		    "reader:open.default");
	/* write: reader denies. */
	expect_slot(&c, &e->value.slot[1], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "reader:open.deny[0]");
	/* create, exec-map: no rule of either names them here: unset, the defaults decide. */
	assert_int_equal(e->value.slot[2].set, 0);
	assert_int_equal(e->value.slot[3].set, 0);
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_OPEN].dflt[2], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "writer:open.default");
	compiled_free(&c);
}

static void test_selection(void **state)
{
	const char *text =
		HEADER("by-label", "{labels: {team: build, repo: \"org/*\"}}")
		"  exec: {deny: [/usr/bin/curl]}\n"
		"---\n"
		HEADER("by-cgroup", "{cgroups: [\"actgate/*\"]}")
		"  exec: {deny: [/usr/bin/ls]}\n";
	static const struct workload_label build[] = { { "repo", "org/x" }, { "team", "build" } };
	static const struct workload_label web[] = { { "team", "web" } };
	struct workload_identity id = { .name = "job", .cgroup = "actgate/job-1", .labels = build,
					.label_count = 2 };
	struct policy_selection *sel = NULL;
	struct compiled c;
	size_t count = 0;

	(void)state;
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	assert_int_equal(policy_selection_of(&c.set, &id, NULL, &sel, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(sel[0].index, 0);
	assert_int_equal(sel[1].index, 1);
	free(sel);
	id.labels = web;
	id.label_count = 1;
	assert_int_equal(policy_selection_of(&c.set, &id, NULL, &sel, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(sel[0].index, 1);
	free(sel);
	id.cgroup = "system.slice/x";
	assert_int_equal(policy_selection_of(&c.set, &id, NULL, &sel, &count), -ENOENT);
	assert_null(sel);
	assert_int_equal(count, 0);
	compiled_free(&c);
}

static void test_effective_shared_by_key(void **state)
{
	struct workload_identity a1 = { .name = "a1" }, a2 = { .name = "a2" }, b = { .name = "b1" };
	const struct effective_policy *ep;
	uint32_t first_id;
	struct compiled c;
	size_t paths;
	bool added;
	int err;

	(void)state;
	compile_docs(&c, two_exec_policies);
	assert_int_equal(c.err, 0);
	ep = effective_of(&c, &a1, NULL, &err, &added);
	assert_non_null(ep);
	assert_true(added);
	first_id = ep->policy_id;
	paths = c.img.path_count;
	/* Another workload with the same key: the same policy, nothing new. */
	ep = effective_of(&c, &a2, NULL, &err, &added);
	assert_non_null(ep);
	assert_false(added);
	assert_int_equal(ep->policy_id, first_id);
	assert_int_equal(c.img.path_count, paths);
	ep = effective_of(&c, &b, NULL, &err, &added);
	assert_true(added);
	assert_int_equal(ep->policy_id, policy_id_of(7, 1));
	assert_int_equal(c.img.policy_count, 2);
	assert_ptr_equal(policy_image_find(&c.img, policy_id_of(7, 1)), ep);
	assert_null(policy_image_find(&c.img, policy_id_of(7, 2)));
	assert_null(policy_image_find(&c.img, policy_id_of(8, 0)));
	assert_null(policy_image_find(&c.img, 0));
	/* Taken back (its kernel write failed): compiled again for the next one. */
	policy_image_drop_last(&c.img);
	assert_int_equal(c.img.policy_count, 1);
	assert_int_equal(c.img.path_count, paths);
	ep = effective_of(&c, &b, NULL, &err, &added);
	assert_true(added);
	assert_int_equal(ep->policy_id, policy_id_of(7, 1));
	compiled_free(&c);
}

/* ---- connect ---- */

static void test_connect_push_down(void **state)
{
	uint8_t ten[16], ten_one[16];
	const struct effective_policy *ep;
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	v4(ten, 10, 0, 0, 0);
	v4(ten_one, 10, 1, 0, 0);
	compile_text(&c, "  connect: {default: deny, allow: [\"10.0.0.0/8:443\"], "
			 "deny: [\"10.1.0.0/16\"]}\n");
	assert_int_equal(c.err, 0);
	assert_int_equal(c.img.checked_net_entries, 2);
	ep = effective_named(&c, "w");
	assert_int_equal(ep->net_count, 2);
	assert_int_equal(ep->header.action[ACTGATE_ACTION_CONNECT].has_rules, 1);

	e = find_net(&c, ep, 32 + 96 + 8, ten);
	assert_non_null(e);
	/* The policy id is stored big-endian so that the trie matches it first. */
	assert_int_equal(e->key.policy_id, htonl(policy_id_of(7, 0)));
	assert_int_equal(e->value.count, 1);
	assert_int_equal(e->value.rule[0].port_lo, 443);
	assert_int_equal(e->value.rule[0].port_hi, 443);
	assert_int_equal(e->value.rule[0].protocol, 0);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "p:connect.allow[0]");

	/*
	 * The /16 is denied whole, its own rule first; the /8 rule under it
	 * would decide nothing (the deny covers every port), so it is left out.
	 */
	e = find_net(&c, ep, 32 + 96 + 16, ten_one);
	assert_non_null(e);
	assert_int_equal(e->value.count, 1);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(e->value.rule[0].port_lo, 0);
	assert_int_equal(e->value.rule[0].port_hi, 65535);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "p:connect.deny[0]");
	compiled_free(&c);
}

static void test_connect_ports_order(void **state)
{
	uint8_t lo[16];
	const struct effective_policy *ep;
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	v4(lo, 127, 0, 0, 1);
	/* Same prefix: the narrower port range first. */
	compile_text(&c, "  connect: {default: deny, allow: [\"127.0.0.1:1-1000\"], "
			 "deny: [\"127.0.0.1:80\"]}\n");
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	e = find_net(&c, ep, 32 + 128, lo);
	assert_non_null(e);
	assert_int_equal(e->value.count, 2);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(e->value.rule[0].port_lo, 80);
	assert_int_equal(e->value.rule[0].port_hi, 80);
	assert_int_equal(e->value.rule[1].verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(e->value.rule[1].port_lo, 1);
	assert_int_equal(e->value.rule[1].port_hi, 1000);
	compiled_free(&c);
}

static void test_connect_protocols(void **state)
{
	uint8_t ten[16];
	const struct effective_policy *ep;
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	v4(ten, 10, 0, 0, 0);
	/* A rule with a protocol wins over one without, for the same prefix and ports. */
	compile_text(&c, "  connect:\n    default: allow\n"
			 "    deny: [\"10.0.0.0/8:53\"]\n"
			 "    allow: [{to: \"10.0.0.0/8:53\", protocol: udp, mode: audit, record: none}]\n");
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	e = find_net(&c, ep, 32 + 96 + 8, ten);
	assert_non_null(e);
	assert_int_equal(e->value.count, 2);
	assert_int_equal(e->value.rule[0].protocol, IPPROTO_UDP);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(e->value.rule[0].mode, ACTGATE_MODE_AUDIT);
	assert_int_equal(e->value.rule[0].record, ACTGATE_RECORD_NONE);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "p:connect.allow[0]");
	assert_int_equal(e->value.rule[1].protocol, 0);
	assert_int_equal(e->value.rule[1].verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(e->value.rule[1].mode, ACTGATE_MODE_ENFORCE);
	compiled_free(&c);
}

static void test_connect_compose(void **state)
{
	const char *text =
		HEADER("a", "{workloads: [w]}")
		"  connect: {default: allow, deny: [\"10.0.0.0/8:22\"]}\n"
		"---\n"
		HEADER("b", "{workloads: [w]}")
		"  connect: {default: deny, allow: [\"10.0.0.0/8:443\"]}\n";
	const struct effective_policy *ep;
	const struct image_net_entry *e;
	struct compiled c;
	uint8_t ten[16];

	(void)state;
	v4(ten, 10, 0, 0, 0);
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	expect_slot(&c, &ep->header.action[ACTGATE_ACTION_CONNECT].dflt[0], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "b:connect.default");
	e = find_net(&c, ep, 32 + 96 + 8, ten);
	assert_non_null(e);
	/*
	 * Port 22: a's rule and b's default both deny: the earlier wins.
	 * Port 443: a's default and b's rule both allow: the earlier again.
	 * Every other port: b's default, the composed default: left out.
	 */
	assert_int_equal(e->value.count, 2);
	assert_int_equal(e->value.rule[0].port_lo, 22);
	assert_int_equal(e->value.rule[0].verdict, ACTGATE_VERDICT_DENY);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "a:connect.deny[0]");
	assert_int_equal(e->value.rule[1].port_lo, 443);
	assert_int_equal(e->value.rule[1].port_hi, 443);
	assert_int_equal(e->value.rule[1].verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(name_of(&c, e->value.rule[1].rule_id), "a:connect.default");
	compiled_free(&c);
}

/*
 * One strict policy makes every decision of the workloads it selects strict,
 * whichever policy's decision is recorded; alone, the other keeps its own.
 */
static void test_compose_strict(void **state)
{
	const char *text =
		HEADER("a", "{workloads: [w, lax]}")
		"  record: none\n"
		"  exec: {deny: [/usr/bin/curl]}\n"
		"  connect: {default: allow, deny: [\"10.0.0.0/8:22\"]}\n"
		"---\n"
		HEADER("b", "{workloads: [w]}")
		"  record: strict\n"
		"  connect: {allow: [\"10.0.0.0/8:443\"]}\n";
	const struct effective_policy *ep, *lax;
	const struct image_path_entry *e;
	const struct image_net_entry *n;
	struct compiled c;
	uint8_t ten[16];

	(void)state;
	v4(ten, 10, 0, 0, 0);
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	lax = effective_named(&c, "lax");
	assert_int_equal(lax->header.action[ACTGATE_ACTION_EXEC].dflt[0].record, ACTGATE_RECORD_NONE);
	e = find_path(&c, lax, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	assert_int_equal(e->value.slot[0].record, ACTGATE_RECORD_NONE);

	ep = effective_named(&c, "w");
	for (int a = 0; a < ACTGATE_NR_POLICY_ACTIONS; a++)
		for (int s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
			assert_int_equal(ep->header.action[a].dflt[s].record, ACTGATE_RECORD_STRICT);
	/* a's deny of curl decides, and is strict all the same. */
	e = find_path(&c, ep, ACTGATE_ACTION_EXEC, ACTGATE_PATH_EXACT, 101);
	assert_non_null(e);
	expect_slot(&c, &e->value.slot[0], ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		    "a:exec.deny[0]");
	assert_int_equal(e->value.slot[0].record, ACTGATE_RECORD_STRICT);
	n = find_net(&c, ep, 32 + 96 + 8, ten);
	assert_non_null(n);
	assert_true(n->value.count > 0);
	for (unsigned r = 0; r < n->value.count; r++)
		assert_int_equal(n->value.rule[r].record, ACTGATE_RECORD_STRICT);
	compiled_free(&c);
}

/* Append n connect rules "10.0.0.1:(first + i)" to policy p (the parser's lists stay short). */
static void add_port_rules(struct policy *p, unsigned first, unsigned n, uint8_t verdict)
{
	struct net_rule *rules = realloc(p->connect.rules, (p->connect.count + n) * sizeof(*rules));

	assert_non_null(rules);
	p->connect.rules = rules;
	for (unsigned i = 0; i < n; i++) {
		struct net_rule *r = &rules[p->connect.count];

		memset(r, 0, sizeof(*r));
		assert_true(asprintf(&r->text, "10.0.0.1:%u", first + i) > 0);
		v4(r->addr, 10, 0, 0, 1);
		r->prefix_len = 128;
		r->port_lo = r->port_hi = (uint16_t)(first + i);
		r->verdict = verdict;
		r->mode = p->mode;
		r->record = p->record;
		r->overlay = POLICY_BASE;
		r->index = (unsigned)p->connect.count;
		r->pos = (struct source_pos){ 6, 3 };
		p->connect.count++;
	}
}

static void test_connect_too_many(void **state)
{
	const char *text = HEADER("a", "{workloads: [w]}")
			   "  connect: {default: allow}\n"
			   "---\n"
			   HEADER("b", "{workloads: [w]}")
			   "  connect: {default: allow}\n";
	struct workload_identity id = { .name = "w" };
	uint8_t one[16];
	struct compiled c;
	bool added;
	int err;

	(void)state;
	v4(one, 10, 0, 0, 1);
	/* 32 decisions under one prefix fit; 33 do not. */
	compile_text(&c, "  connect: {default: deny}\n");
	policy_image_free(&c.img);
	add_port_rules(&c.set.policies[0], 1, ACTGATE_NET_RULES_PER_PREFIX, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), 0);
	assert_int_equal(find_net(&c, effective_named(&c, "w"), 32 + 128, one)->value.count,
			 ACTGATE_NET_RULES_PER_PREFIX);
	policy_image_free(&c.img);
	add_port_rules(&c.set.policies[0], 100, 1, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "10.0.0.1:1: 33 port decisions"));
	assert_non_null(strstr(c.diags.items[0].message, "prefix 10.0.0.1/32"));
	assert_non_null(strstr(c.diags.items[0].message, "at most 32"));
	compiled_free(&c);

	/*
	 * Two policies of 20 each are fine alone, and too many composed: each
	 * one's denials decide over the other's allowing default.
	 */
	compile_docs(&c, text);
	policy_image_free(&c.img);
	add_port_rules(&c.set.policies[0], 1, 20, ACTGATE_VERDICT_DENY);
	add_port_rules(&c.set.policies[1], 1001, 20, ACTGATE_VERDICT_DENY);
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), 0);
	assert_null(effective_of(&c, &id, NULL, &err, &added));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "40 port decisions"));
	assert_non_null(strstr(c.diags.items[0].message, "of policies a, b"));
	/* Refused: the image is as it was. */
	assert_int_equal(c.img.policy_count, 0);
	assert_int_equal(c.img.net_count, 0);
	compiled_free(&c);
}

/* Any path exists: a file whose inode is a hash of its path. */
static int any_file(const char *path, struct resolved_path *out, void *ctx)
{
	uint64_t h = 1469598103934665603ULL;

	(void)ctx;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	out->dev = 8;
	out->ino = h;
	out->type = S_IFREG;
	return 0;
}

/*
 * A policy with more rules of a kind than the kernel's map holds for one
 * policy is refused when it is compiled (the daemon's load), naming the
 * limit: not at `actgate run`, when the map would be found full.
 */
static void test_capacity_refused(void **state)
{
	const unsigned over = POLICY_MAX_NET_ENTRIES + 1;
	struct policy *p;
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect: {default: deny}\n  open: {default: allow}\n");
	assert_int_equal(c.err, 0);
	policy_image_free(&c.img);
	p = &c.set.policies[0];
	/* One /32 each: every rule its own prefix, its own kernel entry. */
	p->connect.rules = calloc(over, sizeof(*p->connect.rules));
	assert_non_null(p->connect.rules);
	for (unsigned i = 0; i < over; i++) {
		struct net_rule *r = &p->connect.rules[i];

		assert_true(asprintf(&r->text, "10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff) > 0);
		v4(r->addr, 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		r->prefix_len = 128;
		r->port_hi = 65535;
		r->verdict = ACTGATE_VERDICT_ALLOW;
		r->overlay = POLICY_BASE;
		r->index = i;
		r->pos = (struct source_pos){ 6, 3 };
	}
	p->connect.count = over;
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "policy p: connect rules on 1048577 address "
							 "prefixes; the kernel holds at most 1048576"));
	/* One fewer fits. */
	diag_list_free(&c.diags);
	c.diags = (struct diag_list){ 0 };
	free(p->connect.rules[over - 1].text);
	p->connect.count--;
	assert_int_equal(policy_compile(&c.set, 7, fake_resolve, NULL, &c.img, &c.diags), 0);
	policy_image_free(&c.img);

	/* The same for path rules (open rules on files). */
	for (unsigned i = 0; i < p->connect.count; i++)
		free(p->connect.rules[i].text);
	p->connect.count = 0;
	p->open.rules = calloc(over, sizeof(*p->open.rules));
	assert_non_null(p->open.rules);
	for (unsigned i = 0; i < over; i++) {
		struct path_rule *r = &p->open.rules[i];

		assert_true(asprintf(&r->path, "/data/f%u", i) > 0);
		r->verdict = ACTGATE_VERDICT_DENY;
		r->access = ACTGATE_ACCESS_WHOLE;
		r->overlay = POLICY_BASE;
		r->index = i;
		r->pos = (struct source_pos){ 7, 3 };
	}
	p->open.count = over;
	assert_int_equal(policy_compile(&c.set, 7, any_file, NULL, &c.img, &c.diags), -EINVAL);
	assert_int_equal(c.diags.errors, 1);
	assert_non_null(strstr(c.diags.items[0].message, "policy p: 1048577 path rules"));
	assert_non_null(strstr(c.diags.items[0].message, "the kernel holds at most 1048576"));
	compiled_free(&c);
}

static void test_ipv6_rule(void **state)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	const struct effective_policy *ep;
	const struct image_net_entry *e;
	struct compiled c;

	(void)state;
	compile_text(&c, "  connect: {allow: [\"[::1]:8080\"]}\n");
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "w");
	e = find_net(&c, ep, 32 + 128, v6lo);
	assert_non_null(e);
	assert_int_equal(e->value.count, 1);
	assert_int_equal(e->value.rule[0].port_lo, 8080);
	compiled_free(&c);
}

static void test_net_precedence(void **state)
{
	struct net_rule r[4] = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		r[i].prefix_len = 104;
		r[i].port_lo = 443;
		r[i].port_hi = 443;
	}
	r[0].prefix_len = 112;        /* longer prefix */
	r[1].protocol = IPPROTO_TCP;  /* a protocol */
	r[2].verdict = ACTGATE_VERDICT_DENY;
	assert_true(net_rule_more_specific(&r[0], &r[1]));
	assert_false(net_rule_more_specific(&r[1], &r[0]));
	assert_true(net_rule_more_specific(&r[1], &r[2])); /* protocol before deny */
	assert_true(net_rule_more_specific(&r[2], &r[3])); /* deny before allow */
	r[2].verdict = ACTGATE_VERDICT_ALLOW;
	assert_true(net_rule_more_specific(&r[2], &r[3])); /* then the earlier */
	assert_false(net_rule_more_specific(&r[3], &r[2]));
	r[3].port_hi = 444;
	assert_true(net_rule_more_specific(&r[2], &r[3])); /* narrower ports */
}

/* ---- overlays ---- */

static void test_overlays(void **state)
{
	static const struct signal_value risky[] = { { "risk", "high" } };
	struct signal_view high = { risky, 1 };
	struct workload_identity id = { .name = "w" };
	const struct effective_policy *calm_ep, *high_ep;
	const struct image_net_entry *e;
	struct compiled c;
	uint8_t ten[16], md[16];
	uint32_t calm_id;
	int err;

	(void)state;
	v4(ten, 10, 0, 0, 0);
	v4(md, 169, 254, 169, 254);
	compile_text(&c, "  connect:\n    default: allow\n    deny: [169.254.169.254]\n"
			 "    when:\n      - signals: {risk: high}\n        default: deny\n"
			 "        allow: [\"10.0.0.0/8:443\"]\n");
	assert_int_equal(c.err, 0);
	calm_ep = effective_of(&c, &id, NULL, &err, NULL);
	assert_non_null(calm_ep);
	calm_id = calm_ep->policy_id;
	assert_int_equal(calm_ep->sel[0].active[ACTGATE_ACTION_CONNECT], 0);
	expect_slot(&c, &calm_ep->header.action[ACTGATE_ACTION_CONNECT].dflt[0],
		    ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE, "p:connect.default");
	assert_int_equal(calm_ep->net_count, 1); /* the overlay's rule is not in force */
	assert_null(find_net(&c, calm_ep, 32 + 96 + 8, ten));

	high_ep = effective_of(&c, &id, &high, &err, NULL);
	assert_non_null(high_ep);
	assert_int_not_equal(high_ep->policy_id, calm_id);
	assert_int_equal(high_ep->sel[0].active[ACTGATE_ACTION_CONNECT], 1);
	expect_slot(&c, &high_ep->header.action[ACTGATE_ACTION_CONNECT].dflt[0],
		    ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE, "p:connect.when[0].default");
	assert_int_equal(high_ep->net_count, 2);
	e = find_net(&c, high_ep, 32 + 96 + 8, ten);
	assert_non_null(e);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "p:connect.when[0].allow[0]");
	e = find_net(&c, high_ep, 32 + 128, md);
	assert_non_null(e);
	/* Under the overlay's deny default the metadata deny still names itself. */
	assert_int_equal(e->value.count, 1);
	assert_string_equal(name_of(&c, e->value.rule[0].rule_id), "p:connect.deny[0]");
	compiled_free(&c);
}

/* ---- ids and generations ---- */

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
	assert_int_equal(effective_named(&c, "w")->policy_id, 0xffff0001u);
	assert_int_equal(c.img.paths[0].key.policy_id, 0xffff0001u);
	assert_int_equal(policy_id_generation(0xffff0001u), 65535);
	assert_int_equal(policy_id_index(0xffff0001u), 0);
	assert_int_equal(policy_id_index(0), (size_t)-1);
	compiled_free(&c);
}

static void test_ids_run_out(void **state)
{
	struct workload_identity id = { .name = "w" };
	struct compiled c;
	bool added;
	int err;

	(void)state;
	compile_text(&c, "  exec: {deny: [/usr/bin/curl]}\n");
	assert_int_equal(c.err, 0);
	/* A generation full of other keys (none of them this one). */
	c.img.policies = calloc(POLICY_MAX_PER_GENERATION, sizeof(*c.img.policies));
	assert_non_null(c.img.policies);
	c.img.policy_cap = POLICY_MAX_PER_GENERATION;
	c.img.policy_count = POLICY_MAX_PER_GENERATION - 1;
	/* The last id: 0xffff in the low half. */
	assert_non_null(effective_of(&c, &id, NULL, &err, &added));
	assert_int_equal(c.img.policies[POLICY_MAX_PER_GENERATION - 1].policy_id, (7u << 16) | 0xffff);
	policy_image_drop_last(&c.img);
	c.img.policy_count = POLICY_MAX_PER_GENERATION;
	assert_null(effective_of(&c, &id, NULL, &err, &added));
	assert_int_equal(err, -ENOSPC);
	compiled_free(&c);
}

static void test_bad_keys(void **state)
{
	struct policy_selection sel[2] = { { .index = 1 }, { .index = 0 } };
	struct compiled c;
	size_t index;
	bool added;

	(void)state;
	compile_docs(&c, two_exec_policies);
	assert_int_equal(policy_image_effective(&c.img, sel, 2, &index, &added, &c.diags), -EINVAL);
	sel[1].index = 2;
	assert_int_equal(policy_image_effective(&c.img, sel, 2, &index, &added, &c.diags), -EINVAL);
	assert_int_equal(policy_image_effective(&c.img, sel, 0, &index, &added, &c.diags), -EINVAL);
	assert_int_equal(c.img.policy_count, 0);
	compiled_free(&c);
}

/* ---- the maps, looked up as the kernel does, against the evaluator ---- */

/* A resolver where every path exists: files have a '.' in their last part, sockets end in .sock. */
static uint64_t hash_path(const char *path)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h | 1;
}

static int any_resolve(const char *path, struct resolved_path *out, void *ctx)
{
	const char *last = strrchr(path, '/');
	size_t len = strlen(path);

	(void)ctx;
	out->dev = 9;
	out->ino = hash_path(path);
	out->type = len > 5 && !strcmp(path + len - 5, ".sock") ? S_IFSOCK
		    : strchr(last, '.')                         ? S_IFREG
								: S_IFDIR;
	return 0;
}

static const struct image_path_entry *lookup_path(const struct compiled *c,
						  const struct effective_policy *ep, uint8_t action,
						  uint8_t kind, const char *path, size_t len)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, path);
	for (size_t i = ep->path_first; i < ep->path_first + ep->path_count; i++) {
		const struct image_path_entry *e = &c->img.paths[i];

		if (e->key.action == action && e->key.kind == kind && e->key.ino == hash_path(buf))
			return e;
	}
	return NULL;
}

/*
 * The kernel's walk: exact, the subtree of the file itself, then each
 * directory above. *by_default: no entry decided (the default did).
 */
static struct actgate_decision_slot kernel_path_walk(const struct compiled *c,
						     const struct effective_policy *ep,
						     uint8_t action, const char *path, unsigned slot,
						     bool *by_default)
{
	const struct image_path_entry *e;
	size_t len = strlen(path);

	*by_default = false;
	e = lookup_path(c, ep, action, ACTGATE_PATH_EXACT, path, len);
	if (e && e->value.slot[slot].set)
		return e->value.slot[slot];
	for (;;) {
		e = lookup_path(c, ep, action, ACTGATE_PATH_SUBTREE, path, len);
		if (e && e->value.slot[slot].set)
			return e->value.slot[slot];
		if (len <= 1)
			break;
		while (len > 0 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--;
	}
	*by_default = true;
	return ep->header.action[action].dflt[slot];
}

static struct actgate_decision_slot kernel_path_slot(const struct compiled *c,
						     const struct effective_policy *ep,
						     uint8_t action, const char *path, unsigned slot)
{
	bool by_default;

	return kernel_path_walk(c, ep, action, path, slot, &by_default);
}

static int slot_rank(const struct actgate_decision_slot *s)
{
	return policy_decision_rank(s->verdict, s->mode);
}

/* bpf/lib/drift.h, apply_written: `written:` on a written file when it outranks d. */
static void kernel_written(const struct effective_policy *ep, bool written,
			   struct actgate_decision_slot *d)
{
	const struct actgate_decision_slot *w =
		&ep->header.action[ACTGATE_ACTION_EXEC].dflt[ACTGATE_EXEC_WRITTEN_SLOT];

	if (written && w->set && slot_rank(w) > slot_rank(d))
		*d = *w;
}

/* bpf/lib/drift.h, check_exec_file. */
static struct actgate_decision_slot kernel_exec(const struct compiled *c,
						const struct effective_policy *ep, const char *path,
						bool written)
{
	struct actgate_decision_slot d = kernel_path_slot(c, ep, ACTGATE_ACTION_EXEC, path, 0);

	kernel_written(ep, written, &d);
	return d;
}

/* bpf/lib/drift.h, decide_exec_map: exec's deny rules and `written:` on a mapping. */
static void kernel_exec_door(const struct compiled *c, const struct effective_policy *ep,
			     const char *path, bool written, struct actgate_decision_slot *k)
{
	const struct actgate_action_policy *ap = &ep->header.action[ACTGATE_ACTION_EXEC];
	struct actgate_decision_slot ex = { 0 };
	bool by_default = false;

	if (!ap->has_deny_rules && !ap->dflt[ACTGATE_EXEC_WRITTEN_SLOT].set)
		return;
	if (ap->has_deny_rules) {
		ex = kernel_path_walk(c, ep, ACTGATE_ACTION_EXEC, path, 0, &by_default);
		if (ex.verdict == ACTGATE_VERDICT_DENY && by_default)
			ex.verdict = ACTGATE_VERDICT_ALLOW;
	}
	kernel_written(ep, written, &ex);
	if (slot_rank(&ex) > slot_rank(k))
		*k = ex;
}

/* The kernel's connect: the longest prefix, then its first matching port rule. */
static struct actgate_decision_slot kernel_net_slot(const struct compiled *c,
						    const struct effective_policy *ep,
						    const uint8_t addr[16], uint16_t port,
						    uint8_t protocol)
{
	const struct image_net_entry *best = NULL;

	for (size_t i = ep->net_first; i < ep->net_first + ep->net_count; i++) {
		const struct image_net_entry *e = &c->img.nets[i];
		struct net_rule probe = { .prefix_len = (uint8_t)(e->key.prefixlen - 32) };

		memcpy(probe.addr, e->key.addr, 16);
		if (net_rule_contains(&probe, addr, 128) &&
		    (!best || e->key.prefixlen > best->key.prefixlen))
			best = e;
	}
	for (uint32_t i = 0; best && i < best->value.count; i++) {
		const struct actgate_port_rule *r = &best->value.rule[i];

		if (port < r->port_lo || port > r->port_hi || (r->protocol && r->protocol != protocol))
			continue;
		return (struct actgate_decision_slot){ .rule_id = r->rule_id, .verdict = r->verdict,
						       .mode = r->mode, .record = r->record,
						       .set = 1 };
	}
	return ep->header.action[ACTGATE_ACTION_CONNECT].dflt[0];
}

/* Several accesses: the first of the highest rank, in slot order. */
static struct actgate_decision_slot kernel_open(const struct compiled *c,
						const struct effective_policy *ep, const char *path,
						uint8_t access)
{
	struct actgate_decision_slot best = { 0 };
	bool have = false;

	for (unsigned s = 0; s < ACTGATE_ACCESS_SLOTS; s++) {
		struct actgate_decision_slot d;

		if (!(access & (1u << s)))
			continue;
		d = kernel_path_slot(c, ep, ACTGATE_ACTION_OPEN, path, s);
		if (!have || policy_decision_rank(d.verdict, d.mode) >
				     policy_decision_rank(best.verdict, best.mode))
			best = d;
		have = true;
	}
	return best;
}

static const char cross_policies[] =
	HEADER("base", "{workloads: [\"*\"]}")
	"  exec: {default: deny, allow: [/usr/bin/, /opt/], deny: [/usr/bin/curl, /opt/x/]}\n"
	"  open:\n"
	"    allow: [/srv/]\n"
	"    deny: [{path: /srv/ro/, access: [write, create]}, /etc/shadow, "
	"{path: /srv/lib/a.so, access: exec-map, mode: audit}]\n"
	"    when:\n"
	"      - signals: {risk: high}\n"
	"        default: deny\n"
	"        deny: [{path: /srv/, access: write}]\n"
	"  connect:\n"
	"    default: deny\n"
	"    allow: [\"10.0.0.0/8:443\", \"10.0.0.0/8:8000-8999\", {to: \"10.1.0.0/16:53\", protocol: udp},"
	" unix:/run/app/, \"[2001:db8::/32]:443\"]\n"
	"    deny: [\"10.1.0.0/16\", unix:/run/app/admin.sock, \"10.1.2.3:443\"]\n"
	"    sockets: [raw, packet]\n"
	"---\n"
	HEADER("watch", "{labels: {team: \"*\"}}")
	"  mode: audit\n"
	"  exec: {deny: [/usr/bin/, /opt/x/y/], written: deny}\n"
	"  open: {default: deny, allow: [/srv/lib/, {path: /etc/, access: read}]}\n"
	"  connect:\n"
	"    default: allow\n"
	"    deny: [\"10.0.0.0/8:8080\", {to: \"10.1.0.0/16:53\", protocol: tcp}, unix:/run/app/x.sock]\n"
	"    sockets: [raw]\n"
	"    when:\n"
	"      - signals: {risk: high}\n"
	"        deny: [\"0.0.0.0/0:22\"]\n"
	"---\n"
	HEADER("strict", "{labels: {team: build}}")
	"  exec: {deny: [{path: /opt/tool, mode: audit}], allow: [/usr/bin/curl], written: deny}\n"
	"  open: {deny: [{path: /srv/lib/, access: exec-map}, {path: /etc/, access: write}]}\n"
	"  connect: {allow: [\"10.0.0.0/8:8080\"], deny: [\"10.0.0.0/8:8000-8100\", "
	"\"0.0.0.0/0:25\", unix:/run/app/]}\n";

static void compare_one(const struct compiled *c, const char *what,
			const struct actgate_decision_slot *k, const struct eval_result *r)
{
	char rule[256];

	policy_image_rule_name(&c->img, k->rule_id, rule, sizeof(rule));
	if (k->verdict != r->verdict || k->mode != r->mode || k->record != r->record ||
	    strcmp(rule, r->rule))
		fail_msg("%s: the maps give %s%s by %s, the evaluator %s%s by %s", what,
			 k->verdict ? "deny" : "allow", k->mode ? "(audit)" : "", rule,
			 r->verdict ? "deny" : "allow", r->mode ? "(audit)" : "", r->rule);
}

static void test_maps_agree_with_evaluator(void **state)
{
	static const char *const paths[] = {
		"/usr/bin/curl", "/usr/bin/ls", "/usr/bin", "/usr/local/bin/x", "/opt/tool",
		"/opt/x/y/z", "/opt/x", "/opt/other", "/srv/ro/f.txt", "/srv/lib/a.so",
		"/srv/lib/b.so", "/srv/data/f.txt", "/srv", "/etc/shadow", "/etc/passwd.txt",
		"/home/u/f.txt",
	};
	static const char *const sockets[] = { "/run/app/admin.sock", "/run/app/x.sock",
					       "/run/app/y.sock", "/run/other.sock" };
	static const char *const targets[] = {
		"10.0.0.1:443", "10.1.2.3:443", "10.1.2.4:443", "10.1.0.9:53", "10.2.0.1:53",
		"10.0.0.1:8080", "10.0.0.1:8050", "10.0.0.1:8500", "10.1.0.1:8080", "1.2.3.4:22",
		"1.2.3.4:25", "10.0.0.1:22", "[2001:db8::1]:443", "[2001:db8::1]:80", "[::1]:443",
	};
	static const struct workload_label build[] = { { "team", "build" } };
	static const struct workload_label web[] = { { "team", "web" } };
	static const struct signal_value risky[] = { { "risk", "high" } };
	const struct signal_view high = { risky, 1 };
	const struct signal_view *views[] = { NULL, &high };
	const struct workload_identity ids[] = {
		{ .name = "plain" },
		{ .name = "web", .labels = web, .label_count = 1 },
		{ .name = "build", .labels = build, .label_count = 1 },
	};
	struct compiled c;
	size_t compared = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(policy_parse_buffer("t.yaml", cross_policies, strlen(cross_policies),
					     &c.set, &c.diags), 0);
	assert_int_equal(policy_compile(&c.set, 3, any_resolve, NULL, &c.img, &c.diags), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (size_t v = 0; v < 2; v++) {
			const struct effective_policy *ep;
			struct eval_result r;
			char why[256], what[320];
			int err;

			ep = effective_of(&c, &ids[i], views[v], &err, NULL);
			if (!ep) {
				diag_print(&c.diags, stderr);
				fail_msg("%s: %s", ids[i].name, strerror(-err));
			}
			for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
				for (int w = 0; w < 2; w++) {
					struct eval_action a = { .action = ACTGATE_ACTION_EXEC, .path = paths[p],
								 .written = w };
					struct actgate_decision_slot k = kernel_exec(&c, ep, paths[p], w);

					assert_int_equal(policy_evaluate(&c.set, &ids[i], views[v], &a, &r, why,
									 sizeof(why)), 0);
					snprintf(what, sizeof(what), "%s%s: exec %s%s", ids[i].name,
						 v ? " (risk high)" : "", paths[p], w ? " (written)" : "");
					compare_one(&c, what, &k, &r);
					compared++;
					for (uint8_t access = 1; access <= ACTGATE_ACCESS_ALL; access++) {
						a = (struct eval_action){ .action = ACTGATE_ACTION_OPEN,
									  .path = paths[p], .access = access,
									  .written = w };
						k = kernel_open(&c, ep, paths[p], access);
						if (access & ACTGATE_ACCESS_EXEC_MAP)
							kernel_exec_door(&c, ep, paths[p], w, &k);
						assert_int_equal(policy_evaluate(&c.set, &ids[i], views[v], &a,
										 &r, why, sizeof(why)), 0);
						snprintf(what, sizeof(what), "%s%s: open %s access 0x%x%s",
							 ids[i].name, v ? " (risk high)" : "", paths[p], access,
							 w ? " (written)" : "");
						compare_one(&c, what, &k, &r);
						compared++;
					}
				}
			}
			for (size_t s = 0; s < sizeof(sockets) / sizeof(sockets[0]); s++) {
				struct eval_action a = { .action = ACTGATE_ACTION_CONNECT,
							 .path = sockets[s], .unix_socket = true };
				struct actgate_decision_slot k =
					kernel_path_slot(&c, ep, ACTGATE_ACTION_CONNECT, sockets[s], 0);

				assert_int_equal(policy_evaluate(&c.set, &ids[i], views[v], &a, &r, why,
								 sizeof(why)), 0);
				snprintf(what, sizeof(what), "%s%s: connect unix:%s", ids[i].name,
					 v ? " (risk high)" : "", sockets[s]);
				compare_one(&c, what, &k, &r);
				compared++;
			}
			for (uint8_t kind = ACTGATE_SOCKET_RAW; kind <= ACTGATE_SOCKET_PACKET;
			     kind++) {
				struct eval_action a = { .action = ACTGATE_ACTION_CONNECT,
							 .socket = kind };
				const struct actgate_decision_slot *k =
					&ep->header.action[ACTGATE_ACTION_CONNECT].dflt[kind];

				assert_int_equal(policy_evaluate(&c.set, &ids[i], views[v], &a, &r, why,
								 sizeof(why)), 0);
				snprintf(what, sizeof(what), "%s%s: socket kind %u", ids[i].name,
					 v ? " (risk high)" : "", kind);
				compare_one(&c, what, k, &r);
				compared++;
			}
			for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
				for (int udp = 0; udp < 2; udp++) {
					struct eval_action a = { .action = ACTGATE_ACTION_CONNECT,
								 .protocol = udp ? IPPROTO_UDP
										 : IPPROTO_TCP };
					struct actgate_decision_slot k;

					assert_int_equal(eval_parse_connect_target(targets[t], a.addr,
										   &a.port, why,
										   sizeof(why)), 0);
					k = kernel_net_slot(&c, ep, a.addr, a.port, a.protocol);
					assert_int_equal(policy_evaluate(&c.set, &ids[i], views[v], &a,
									 &r, why, sizeof(why)), 0);
					snprintf(what, sizeof(what), "%s%s: connect %s/%s", ids[i].name,
						 v ? " (risk high)" : "", targets[t], udp ? "udp" : "tcp");
					compare_one(&c, what, &k, &r);
					compared++;
				}
			}
		}
	}
	/*
	 * Every combination was looked at: 16 paths x 16, 4 unix sockets, 2
	 * socket kinds, 15 targets x 2, 6 times.
	 */
	assert_int_equal(compared, 6 * (16 * 2 * 16 + 4 + 2 + 30));
	compiled_free(&c);
}

/* Raw and packet sockets: each policy denies what its sockets list leaves out. */
static void test_socket_kinds(void **state)
{
	const char *text =
		HEADER("lists", "{workloads: [w, v]}")
		"  connect: {sockets: [raw]}\n"
		"---\n"
		HEADER("watch", "{workloads: [w]}")
		"  mode: audit\n"
		"  record: deny\n"
		"  exec: {}\n";
	const struct effective_policy *ep;
	const struct actgate_action_policy *ap;
	struct compiled c;

	(void)state;
	compile_docs(&c, text);
	assert_int_equal(c.err, 0);
	ep = effective_named(&c, "v");
	ap = &ep->header.action[ACTGATE_ACTION_CONNECT];
	expect_slot(&c, &ap->dflt[ACTGATE_SOCKET_RAW], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		    "lists:connect.sockets.raw");
	expect_slot(&c, &ap->dflt[ACTGATE_SOCKET_PACKET], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "lists:connect.sockets.packet");
	/* The address default is untouched. */
	expect_slot(&c, &ap->dflt[0], ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		    "lists:connect.default");
	/* Composed: watch lists nothing, so raw is denied there, audited, in its record setting. */
	ep = effective_named(&c, "w");
	ap = &ep->header.action[ACTGATE_ACTION_CONNECT];
	expect_slot(&c, &ap->dflt[ACTGATE_SOCKET_RAW], ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		    "watch:connect.sockets.raw");
	assert_int_equal(ap->dflt[ACTGATE_SOCKET_RAW].record, ACTGATE_RECORD_DENY);
	expect_slot(&c, &ap->dflt[ACTGATE_SOCKET_PACKET], ACTGATE_VERDICT_DENY,
		    ACTGATE_MODE_ENFORCE, "lists:connect.sockets.packet");
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
		cmocka_unit_test(test_unix_rules),
		cmocka_unit_test(test_unix_rule_not_a_socket),
		cmocka_unit_test(test_proc_self_refused),
		cmocka_unit_test(test_open_accesses),
		cmocka_unit_test(test_compose_two_policies),
		cmocka_unit_test(test_compose_kernel_doors),
		cmocka_unit_test(test_compose_enforce_beats_audit),
		cmocka_unit_test(test_compose_accesses),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_effective_shared_by_key),
		cmocka_unit_test(test_connect_push_down),
		cmocka_unit_test(test_connect_ports_order),
		cmocka_unit_test(test_connect_protocols),
		cmocka_unit_test(test_connect_compose),
		cmocka_unit_test(test_compose_strict),
		cmocka_unit_test(test_connect_too_many),
		cmocka_unit_test(test_ipv6_rule),
		cmocka_unit_test(test_net_precedence),
		cmocka_unit_test(test_overlays),
		cmocka_unit_test(test_generation_range),
		cmocka_unit_test(test_ids_run_out),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_maps_agree_with_evaluator),
		cmocka_unit_test(test_socket_kinds),
		cmocka_unit_test(test_capacity_refused),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
