/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* policy diff: what a change widens and narrows, rule by rule. */
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/diff.h"
#include "policy/parse.h"
#include "policy/policy.h"

#define HEAD "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: ci}\nspec:\n" \
	     "  selector: {workloads: [\"ci:*\"]}\n"

static const char *const old_text =
	HEAD
	"  exec: {default: deny, allow: [/usr/bin/, /bin/sh], deny: [/usr/bin/curl]}\n"
	"  open:\n"
	"    default: allow\n"
	"    allow: [{path: /srv/, access: [read]}]\n"
	"    deny: [/etc/shadow, {path: /etc/, access: [write, create]}]\n"
	"  connect: {default: deny, allow: [{to: \"10.0.0.0/8:443\", protocol: tcp}]}\n";

static void parse(const char *text, struct policy_set *set)
{
	struct diag_list diags = { 0 };

	assert_int_equal(policy_parse_buffer("t.yaml", text, strlen(text), set, &diags), 0);
	diag_list_free(&diags);
}

/* The one change at where (and kind), or fail. */
static const struct policy_change *expect_change(const struct policy_diff *d, const char *where,
						 enum policy_change_kind kind, const char *old,
						 const char *new)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct policy_change *c = &d->changes[i];

		if (strcmp(c->where, where) || c->kind != kind)
			continue;
		if ((old == NULL) != (c->old == NULL) || (new == NULL) != (c->new == NULL))
			continue;
		if ((old && strcmp(old, c->old)) || (new && strcmp(new, c->new)))
			continue;
		return c;
	}
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  have: %s %s %s -> %s\n", policy_change_name(d->changes[i].kind),
			d->changes[i].where, d->changes[i].old ? d->changes[i].old : "-",
			d->changes[i].new ? d->changes[i].new : "-");
	fail_msg("no %s change at %s", policy_change_name(kind), where);
	return NULL;
}

static void diff(const char *a, const char *b, struct policy_diff *d)
{
	struct policy_set o = { 0 }, n = { 0 };

	parse(a, &o);
	parse(b, &n);
	assert_int_equal(policy_diff_sets(&o, &n, d), 0);
	policy_set_free(&o);
	policy_set_free(&n);
}

static void test_same_is_empty(void **state)
{
	struct policy_diff d;

	(void)state;
	diff(old_text, old_text, &d);
	assert_int_equal(d.count, 0);
	policy_diff_free(&d);
}

static void test_rules_added_and_removed(void **state)
{
	static const char *const new_text =
		HEAD
		"  exec: {default: deny, allow: [/usr/bin/, /tmp/tool], deny: [/usr/bin/curl, /usr/bin/wget]}\n"
		"  open:\n"
		"    default: allow\n"
		"    allow: [{path: /srv/, access: [read]}]\n"
		"    deny: [{path: /etc/, access: [write, create]}]\n"
		"  connect: {default: deny, allow: [{to: \"10.0.0.0/8:443\", protocol: tcp}]}\n";
	struct policy_diff d;

	(void)state;
	diff(old_text, new_text, &d);
	expect_change(&d, "exec.allow", POLICY_WIDENS, NULL, "/tmp/tool");
	expect_change(&d, "exec.allow", POLICY_NARROWS, "/bin/sh", NULL);
	expect_change(&d, "exec.deny", POLICY_NARROWS, NULL, "/usr/bin/wget");
	expect_change(&d, "open.deny", POLICY_WIDENS, "/etc/shadow [read,write,create,exec-map]", NULL);
	assert_int_equal(d.widens, 2);
	assert_int_equal(d.narrows, 2);
	policy_diff_free(&d);
}

static void test_defaults_access_mode(void **state)
{
	static const char *const new_text =
		HEAD
		"  mode: audit\n"
		"  exec: {default: allow, allow: [/usr/bin/, /bin/sh], deny: [/usr/bin/curl]}\n"
		"  open:\n"
		"    default: deny\n"
		"    allow: [{path: /srv/, access: [read, write]}]\n"
		"    deny: [/etc/shadow, {path: /etc/, access: [write]}]\n"
		"  connect: {default: deny, allow: [{to: \"10.0.0.0/8:443\", protocol: tcp}]}\n";
	struct policy_diff d;

	(void)state;
	diff(old_text, new_text, &d);
	expect_change(&d, "mode", POLICY_WIDENS, "enforce", "audit");
	expect_change(&d, "exec.default", POLICY_WIDENS, "deny", "allow");
	expect_change(&d, "open.default", POLICY_NARROWS, "allow", "deny");
	expect_change(&d, "open.allow", POLICY_WIDENS, "/srv/ [read]", "/srv/ [read,write] (mode audit)");
	/* The deny rule on /etc/ lost create: widens. */
	expect_change(&d, "open.deny", POLICY_WIDENS, "/etc/ [write,create]", "/etc/ [write] (mode audit)");
	policy_diff_free(&d);
}

static void test_policies_added_and_removed(void **state)
{
	static const char *const other =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: extra}\nspec:\n"
		"  selector: {workloads: [\"*\"]}\n  exec: {deny: [/usr/bin/ssh]}\n";
	struct policy_set o = { 0 }, n = { 0 };
	struct policy_diff d;

	(void)state;
	parse(old_text, &o);
	parse(old_text, &n);
	parse(other, &n);
	assert_int_equal(policy_diff_sets(&o, &n, &d), 0);
	/* A policy added can only take away: policies compose as intersection. */
	expect_change(&d, "policy", POLICY_NARROWS, NULL, "t.yaml");
	assert_int_equal(d.count, 1);
	policy_diff_free(&d);
	assert_int_equal(policy_diff_sets(&n, &o, &d), 0);
	expect_change(&d, "policy", POLICY_WIDENS, "t.yaml", NULL);
	policy_diff_free(&d);
	policy_set_free(&o);
	policy_set_free(&n);
}

static void test_connect_and_selector(void **state)
{
	static const char *const new_text =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: ci}\nspec:\n"
		"  selector: {workloads: [\"ci:build\"]}\n"
		"  exec: {default: deny, allow: [/usr/bin/, /bin/sh], deny: [/usr/bin/curl]}\n"
		"  open:\n"
		"    default: allow\n"
		"    allow: [{path: /srv/, access: [read]}]\n"
		"    deny: [/etc/shadow, {path: /etc/, access: [write, create]}]\n"
		"  connect: {default: deny, allow: [\"10.0.0.0/8:443\"], sockets: [raw]}\n";
	struct policy_diff d;

	(void)state;
	diff(old_text, new_text, &d);
	expect_change(&d, "selector", POLICY_CHANGES, "workload=ci:*", "workload=ci:build");
	/* Any protocol is another rule than tcp alone: one gone, one new. */
	expect_change(&d, "connect.allow", POLICY_NARROWS, "10.0.0.0/8:443 tcp", NULL);
	expect_change(&d, "connect.allow", POLICY_WIDENS, NULL, "10.0.0.0/8:443");
	expect_change(&d, "connect.sockets", POLICY_WIDENS, "none", "raw");
	policy_diff_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_is_empty),
		cmocka_unit_test(test_rules_added_and_removed),
		cmocka_unit_test(test_defaults_access_mode),
		cmocka_unit_test(test_policies_added_and_removed),
		cmocka_unit_test(test_connect_and_selector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
