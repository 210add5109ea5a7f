/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The userspace evaluator: precedence as docs/policy.md states it. */
#include <linux/types.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "actgate/abi.h"
#include "policy/evaluate.h"
#include "policy/parse.h"
#include "policy/policy.h"

static const char *const policy_text =
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: ci}\n"
	"spec:\n"
	"  selector: {workloads: [\"ci:*\"]}\n"
	"  exec: {default: deny, allow: [/usr/bin/, /opt/tool], deny: [/usr/bin/curl, /usr/bin/x/]}\n"
	"  open: {default: allow, deny: [/etc/shadow, /root/.ssh/, /data/], "
	"allow: [/data/public/],\n"
	"         when: [{signals: {maintenance: \"on\"}, allow: [/data/]}]}\n"
	"  connect: {default: deny, allow: [\"10.0.0.0/8:443\", \"127.0.0.1\", \"[::1]:8000-8100\"], "
	"deny: [\"10.1.0.0/16\", \"127.0.0.1:22\"], sockets: [packet]}\n"
	"---\n"
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: watch}\n"
	"spec:\n"
	"  selector: {workloads: [\"agent:*\", \"both\"]}\n"
	"  mode: audit\n"
	"  exec: {deny: [/usr/bin/sudo, /usr/bin/su]}\n"
	"---\n"
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: also}\n"
	"spec:\n"
	"  selector: {workloads: [\"both\"]}\n"
	"  exec: {deny: [/usr/bin/su, {path: /usr/bin/doas, mode: audit}, /usr/bin/pkexec]}\n"
	"---\n"
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: files}\n"
	"spec:\n"
	"  selector: {labels: {team: build}, cgroups: [\"ci.slice/*\"]}\n"
	"  open:\n"
	"    default: deny\n"
	"    allow: [{path: /srv/, access: [read, exec-map]}, {path: /srv/bin/, access: exec-map}]\n"
	"    deny: [{path: /srv/, access: [write, create]}, {path: /srv/ro/, access: read}]\n"
	"  connect:\n"
	"    default: allow\n"
	"    deny: [{to: \"10.0.0.0/8:53\", protocol: udp}, unix:/run/docker.sock, \"unix:/run/x/\"]\n"
	"    allow: [{unix: /run/x/ok.sock, record: none}]\n"
	"    when:\n"
	"      - signals: {risk: [high, critical]}\n"
	"        default: deny\n"
	"        allow: [\"10.0.0.0/8:443\"]\n";

static struct policy_set set;

static int setup(void **state)
{
	struct diag_list diags = { 0 };
	int err;

	(void)state;
	err = policy_parse_buffer("t.yaml", policy_text, strlen(policy_text), &set, &diags);
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	return err;
}

static int teardown(void **state)
{
	(void)state;
	policy_set_free(&set);
	return 0;
}

static int eval_as(const char *workload, const struct signal_view *signals,
		   const struct eval_action *a, struct eval_result *r, char *why, size_t why_size)
{
	struct workload_identity id = { .name = workload };

	return policy_evaluate(&set, &id, signals, a, r, why, why_size);
}

static void check(const char *what, const struct eval_result *r, uint8_t verdict,
		  const char *rule)
{
	if (r->verdict != verdict || strcmp(r->rule, rule) != 0)
		fail_msg("%s: expected %s by %s, got %s by %s", what, verdict ? "deny" : "allow",
			 rule, r->verdict ? "deny" : "allow", r->rule);
}

static void expect_path(const char *workload, uint8_t action, const char *path, uint8_t verdict,
			const char *rule)
{
	struct eval_action a = { .action = action, .path = path };
	struct eval_result r;
	char why[256];

	assert_int_equal(eval_as(workload, NULL, &a, &r, why, sizeof(why)), 0);
	check(path, &r, verdict, rule);
}

static void expect_connect(const char *target, uint8_t verdict, const char *rule)
{
	struct eval_action a = { .action = ACTGATE_ACTION_CONNECT };
	struct eval_result r;
	char why[256];

	assert_int_equal(eval_parse_connect_target(target, a.addr, &a.port, why, sizeof(why)), 0);
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), 0);
	check(target, &r, verdict, rule);
}

static void test_exec_precedence(void **state)
{
	(void)state;
	/* Exact beats the subtree it lies in. */
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/usr/bin/curl", ACTGATE_VERDICT_DENY,
		    "ci:exec.deny[0]");
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/usr/bin/ls", ACTGATE_VERDICT_ALLOW,
		    "ci:exec.allow[0]");
	/* The nearest directory wins over one further up. */
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/usr/bin/x/y/z", ACTGATE_VERDICT_DENY,
		    "ci:exec.deny[1]");
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/opt/tool", ACTGATE_VERDICT_ALLOW,
		    "ci:exec.allow[1]");
	/* An exact rule does not cover what lies below it. */
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/opt/tool/inner", ACTGATE_VERDICT_DENY,
		    "ci:exec.default");
	expect_path("ci:x", ACTGATE_ACTION_EXEC, "/usr/binary", ACTGATE_VERDICT_DENY,
		    "ci:exec.default");
}

static void test_open_precedence(void **state)
{
	(void)state;
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/etc/shadow", ACTGATE_VERDICT_DENY,
		    "ci:open.deny[0]");
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/etc/passwd", ACTGATE_VERDICT_ALLOW,
		    "ci:open.default");
	/* A subtree rule covers the directory itself. */
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/root/.ssh", ACTGATE_VERDICT_DENY,
		    "ci:open.deny[1]");
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/root/.ssh/", ACTGATE_VERDICT_DENY,
		    "ci:open.deny[1]");
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/root/.ssh/keys/id", ACTGATE_VERDICT_DENY,
		    "ci:open.deny[1]");
	/* A deeper allow wins over a directory rule above it. */
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/data/secret", ACTGATE_VERDICT_DENY,
		    "ci:open.deny[2]");
	expect_path("ci:x", ACTGATE_ACTION_OPEN, "/data/public/readme", ACTGATE_VERDICT_ALLOW,
		    "ci:open.allow[0]");
}

static void test_too_deep(void **state)
{
	static char path[2 * (ACTGATE_MAX_PATH_WALK + 2) + 16];
	struct eval_action a = { .action = ACTGATE_ACTION_OPEN, .path = path };
	struct eval_result r;
	char why[256];
	size_t n = 0;

	(void)state;
	/*
	 * The walk takes one step per ancestor: below /data/public, a file with
	 * ACTGATE_MAX_PATH_WALK directories between them is the first it cannot
	 * decide.
	 */
	n += (size_t)snprintf(path + n, sizeof(path) - n, "/data/public");
	for (int i = 0; i < ACTGATE_MAX_PATH_WALK + 1; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/a");
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(r.reason, ACTGATE_REASON_TOO_DEEP);
	assert_string_equal(r.rule, "");
	/* 60 levels down is well within reach: the directory rule decides. */
	path[strlen("/data/public") + 2 * 60] = '\0';
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.reason, ACTGATE_REASON_RULE);
	assert_string_equal(r.rule, "ci:open.allow[0]");
}

static void test_connect_precedence(void **state)
{
	(void)state;
	expect_connect("10.2.3.4:443", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[0]");
	expect_connect("10.2.3.4:80", ACTGATE_VERDICT_DENY, "ci:connect.default");
	/* The longer prefix wins over the port rule of the shorter one. */
	expect_connect("10.1.3.4:443", ACTGATE_VERDICT_DENY, "ci:connect.deny[0]");
	/* Same prefix: the narrower port range wins. */
	expect_connect("127.0.0.1:22", ACTGATE_VERDICT_DENY, "ci:connect.deny[1]");
	expect_connect("127.0.0.1:23", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[1]");
	expect_connect("[::1]:8000", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[2]");
	expect_connect("[::1]:8101", ACTGATE_VERDICT_DENY, "ci:connect.default");
	/* An IPv4-mapped IPv6 address is the IPv4 address. */
	expect_connect("[::ffff:127.0.0.1]:23", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[1]");
	expect_connect("[::2]:8000", ACTGATE_VERDICT_DENY, "ci:connect.default");
}

static void test_mode_and_selection(void **state)
{
	struct eval_action a = { .action = ACTGATE_ACTION_EXEC, .path = "/usr/bin/sudo" };
	struct eval_result r;
	char why[256];

	(void)state;
	assert_int_equal(eval_as("agent:1", NULL, &a, &r, why, sizeof(why)), 0);
	assert_int_equal(r.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(r.mode, ACTGATE_MODE_AUDIT);
	assert_int_equal(r.reason, ACTGATE_REASON_RULE);
	assert_string_equal(r.policy, "watch");
	assert_string_equal(r.rule, "watch:exec.deny[0]");
	assert_int_equal(r.policy_count, 1);

	assert_int_equal(eval_as("nobody", NULL, &a, &r, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "no policy selects workload \"nobody\"");
	a.path = "relative";
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), -EINVAL);
	a.action = 9;
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), -EINVAL);
}

/* Every selecting policy applies: an enforced deny beats an audited one, which beats allow. */
static void test_composition(void **state)
{
	struct eval_action a = { .action = ACTGATE_ACTION_EXEC };
	struct eval_result r;
	char why[256];

	(void)state;
	/* watch (audit) denies, also allows: denied, not enforced. */
	a.path = "/usr/bin/sudo";
	assert_int_equal(eval_as("both", NULL, &a, &r, why, sizeof(why)), 0);
	check("sudo", &r, ACTGATE_VERDICT_DENY, "watch:exec.deny[0]");
	assert_int_equal(r.mode, ACTGATE_MODE_AUDIT);
	assert_int_equal(r.policy_count, 2);
	/* Both deny: the enforced one decides, though it comes second. */
	a.path = "/usr/bin/su";
	assert_int_equal(eval_as("both", NULL, &a, &r, why, sizeof(why)), 0);
	check("su", &r, ACTGATE_VERDICT_DENY, "also:exec.deny[0]");
	assert_int_equal(r.mode, ACTGATE_MODE_ENFORCE);
	/* A rule's own mode: audited although its policy enforces. */
	a.path = "/usr/bin/doas";
	assert_int_equal(eval_as("both", NULL, &a, &r, why, sizeof(why)), 0);
	check("doas", &r, ACTGATE_VERDICT_DENY, "also:exec.deny[1]");
	assert_int_equal(r.mode, ACTGATE_MODE_AUDIT);
	a.path = "/usr/bin/pkexec";
	assert_int_equal(eval_as("both", NULL, &a, &r, why, sizeof(why)), 0);
	check("pkexec", &r, ACTGATE_VERDICT_DENY, "also:exec.deny[2]");
	assert_int_equal(r.mode, ACTGATE_MODE_ENFORCE);
	/* All allow: the first policy's decision names it. */
	a.path = "/usr/bin/ls";
	assert_int_equal(eval_as("both", NULL, &a, &r, why, sizeof(why)), 0);
	check("ls", &r, ACTGATE_VERDICT_ALLOW, "watch:exec.default");
}

/* One strict policy makes every decision for its workloads strict, as the compiler does. */
static void test_strict_composes(void **state)
{
	static const char text[] =
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: lax}\n"
		"spec:\n  selector: {workloads: [w, alone]}\n  record: none\n"
		"  exec: {deny: [/usr/bin/curl]}\n"
		"---\n"
		"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: strict}\n"
		"spec:\n  selector: {workloads: [w]}\n  record: strict\n";
	struct workload_identity w = { .name = "w" }, alone = { .name = "alone" };
	struct eval_action a = { .action = ACTGATE_ACTION_EXEC, .path = "/usr/bin/curl" };
	struct diag_list diags = { 0 };
	struct policy_set two = { 0 };
	struct eval_result r;
	char why[256];

	(void)state;
	assert_int_equal(policy_parse_buffer("s.yaml", text, strlen(text), &two, &diags), 0);
	assert_int_equal(policy_evaluate(&two, &alone, NULL, &a, &r, why, sizeof(why)), 0);
	check("curl alone", &r, ACTGATE_VERDICT_DENY, "lax:exec.deny[0]");
	assert_int_equal(r.record, ACTGATE_RECORD_NONE);
	assert_int_equal(policy_evaluate(&two, &w, NULL, &a, &r, why, sizeof(why)), 0);
	check("curl", &r, ACTGATE_VERDICT_DENY, "lax:exec.deny[0]");
	assert_int_equal(r.record, ACTGATE_RECORD_STRICT);
	a.path = "/usr/bin/ls";
	assert_int_equal(policy_evaluate(&two, &w, NULL, &a, &r, why, sizeof(why)), 0);
	check("ls", &r, ACTGATE_VERDICT_ALLOW, "lax:exec.default");
	assert_int_equal(r.record, ACTGATE_RECORD_STRICT);
	policy_set_free(&two);
	diag_list_free(&diags);
}

static void expect_files(uint8_t action, const char *path, uint8_t access, uint8_t protocol,
			 const struct signal_view *signals, uint8_t verdict, const char *rule)
{
	static const struct workload_label build[] = { { "team", "build" } };
	struct workload_identity id = { .name = "job", .cgroup = "ci.slice/job-1", .labels = build,
					.label_count = 1 };
	struct eval_action a = { .action = action, .path = path, .access = access,
				 .protocol = protocol };
	struct eval_result r;
	char why[256];

	if (action == ACTGATE_ACTION_CONNECT && path[0] != '/') {
		assert_int_equal(eval_parse_connect_target(path, a.addr, &a.port, why, sizeof(why)),
				 0);
		a.path = NULL;
	} else if (action == ACTGATE_ACTION_CONNECT) {
		a.unix_socket = true;
	}
	assert_int_equal(policy_evaluate(&set, &id, signals, &a, &r, why, sizeof(why)), 0);
	check(path, &r, verdict, rule);
}

static void test_accesses(void **state)
{
	(void)state;
	expect_files(ACTGATE_ACTION_OPEN, "/srv/a", ACTGATE_ACCESS_READ, 0, NULL,
		     ACTGATE_VERDICT_ALLOW, "files:open.allow[0]");
	expect_files(ACTGATE_ACTION_OPEN, "/srv/a", 0, 0, NULL, ACTGATE_VERDICT_ALLOW,
		     "files:open.allow[0]"); /* no access given: read */
	expect_files(ACTGATE_ACTION_OPEN, "/srv/a", ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE, 0,
		     NULL, ACTGATE_VERDICT_DENY, "files:open.deny[0]");
	/* Nearer directory rule for read only; write still falls to /srv/. */
	expect_files(ACTGATE_ACTION_OPEN, "/srv/ro/f", ACTGATE_ACCESS_READ, 0, NULL,
		     ACTGATE_VERDICT_DENY, "files:open.deny[1]");
	expect_files(ACTGATE_ACTION_OPEN, "/srv/ro/f", ACTGATE_ACCESS_EXEC_MAP, 0, NULL,
		     ACTGATE_VERDICT_ALLOW, "files:open.allow[0]");
	expect_files(ACTGATE_ACTION_OPEN, "/srv/bin/tool", ACTGATE_ACCESS_EXEC_MAP, 0, NULL,
		     ACTGATE_VERDICT_ALLOW, "files:open.allow[1]");
	/* Denied accesses: the first one (read before write) names the decision. */
	expect_files(ACTGATE_ACTION_OPEN, "/srv/ro/f", ACTGATE_ACCESS_ALL, 0, NULL,
		     ACTGATE_VERDICT_DENY, "files:open.deny[1]");
	expect_files(ACTGATE_ACTION_OPEN, "/etc/passwd", ACTGATE_ACCESS_READ, 0, NULL,
		     ACTGATE_VERDICT_DENY, "files:open.default");
}

static const char drift_text[] =
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: drift}\n"
	"spec:\n"
	"  selector: {workloads: [\"drift\", \"both\"]}\n"
	"  exec: {default: deny, allow: [/usr/bin/], deny: [/usr/bin/curl, /opt/x/], written: deny}\n"
	"---\n"
	"apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: watch}\n"
	"spec:\n"
	"  selector: {workloads: [\"watched\", \"both\"]}\n"
	"  mode: audit\n"
	"  exec: {written: deny}\n";

static void expect_drift(const struct policy_set *s, const char *workload, uint8_t action,
			 const char *path, uint8_t access, bool written, uint8_t verdict,
			 uint8_t mode, uint8_t reason, const char *rule)
{
	struct workload_identity id = { .name = workload };
	struct eval_action a = { .action = action, .path = path, .access = access,
				 .written = written };
	struct eval_result r;
	char why[256], what[128];

	snprintf(what, sizeof(what), "%s: %s %s%s", workload,
		 action == ACTGATE_ACTION_EXEC ? "exec" : "open", path, written ? " (written)" : "");
	assert_int_equal(policy_evaluate(s, &id, NULL, &a, &r, why, sizeof(why)), 0);
	check(what, &r, verdict, rule);
	if (r.mode != mode || r.reason != reason)
		fail_msg("%s: expected mode %u reason %u, got mode %u reason %u", what, mode, reason,
			 r.mode, r.reason);
	/* The access whose decision it is: one of those asked for. */
	if (action == ACTGATE_ACTION_OPEN && !(r.access & access))
		fail_msg("%s: access 0x%x, not among 0x%x", what, r.access, access);
}

/* exec's written: deny, and exec deny rules on executable mappings. */
static void test_written_and_exec_map(void **state)
{
	const uint8_t deny = ACTGATE_VERDICT_DENY, allow = ACTGATE_VERDICT_ALLOW;
	const uint8_t enforce = ACTGATE_MODE_ENFORCE, audit = ACTGATE_MODE_AUDIT;
	const uint8_t exec = ACTGATE_ACTION_EXEC, open = ACTGATE_ACTION_OPEN;
	const uint8_t map = ACTGATE_ACCESS_EXEC_MAP;
	struct diag_list diags = { 0 };
	struct policy_set s = { 0 };

	(void)state;
	assert_int_equal(policy_parse_buffer("d.yaml", drift_text, strlen(drift_text), &s, &diags), 0);
	diag_list_free(&diags);
	/* Written beats an allow rule, whatever the path. */
	expect_drift(&s, "drift", exec, "/usr/bin/ls", 0, false, allow, enforce,
		     ACTGATE_REASON_RULE, "drift:exec.allow[0]");
	expect_drift(&s, "drift", exec, "/usr/bin/ls", 0, true, deny, enforce,
		     ACTGATE_REASON_WRITTEN, "drift:exec.written");
	/* An enforced deny already decides: a tie keeps the rule. */
	expect_drift(&s, "drift", exec, "/usr/bin/curl", 0, true, deny, enforce,
		     ACTGATE_REASON_RULE, "drift:exec.deny[0]");
	expect_drift(&s, "drift", exec, "/tmp/x", 0, true, deny, enforce, ACTGATE_REASON_DEFAULT,
		     "drift:exec.default");
	/* Mapping executable: the exec default has no say, a deny rule has. */
	expect_drift(&s, "drift", open, "/usr/lib/libc.so.6", map, false, allow, enforce,
		     ACTGATE_REASON_DEFAULT, "drift:open.default");
	expect_drift(&s, "drift", open, "/usr/bin/curl", map, false, deny, enforce,
		     ACTGATE_REASON_RULE, "drift:exec.deny[0]");
	expect_drift(&s, "drift", open, "/opt/x/lib.so", ACTGATE_ACCESS_READ | map, false, deny,
		     enforce, ACTGATE_REASON_RULE, "drift:exec.deny[1]");
	/* Reading a denied program is open's business. */
	expect_drift(&s, "drift", open, "/usr/bin/curl", ACTGATE_ACCESS_READ, false, allow, enforce,
		     ACTGATE_REASON_DEFAULT, "drift:open.default");
	/* A written file: its mapping is denied, reading it is not. */
	expect_drift(&s, "drift", open, "/tmp/x", map, true, deny, enforce, ACTGATE_REASON_WRITTEN,
		     "drift:exec.written");
	expect_drift(&s, "drift", open, "/tmp/x", ACTGATE_ACCESS_READ, true, allow, enforce,
		     ACTGATE_REASON_DEFAULT, "drift:open.default");
	/* An audited written: deny audits; with an enforcing policy beside it, that one decides. */
	expect_drift(&s, "watched", exec, "/bin/sh", 0, true, deny, audit, ACTGATE_REASON_WRITTEN,
		     "watch:exec.written");
	expect_drift(&s, "watched", exec, "/bin/sh", 0, false, allow, audit, ACTGATE_REASON_DEFAULT,
		     "watch:exec.default");
	expect_drift(&s, "both", exec, "/usr/bin/ls", 0, true, deny, enforce,
		     ACTGATE_REASON_WRITTEN, "drift:exec.written");
	expect_drift(&s, "both", open, "/srv/app.so", map, true, deny, enforce,
		     ACTGATE_REASON_WRITTEN, "drift:exec.written");
	policy_set_free(&s);
}

static void test_connect_kinds(void **state)
{
	static const struct signal_value risky[] = { { "risk", "critical" } };
	static const struct signal_value calm[] = { { "risk", "low" } };
	struct signal_view high = { risky, 1 }, low = { calm, 1 };

	(void)state;
	expect_files(ACTGATE_ACTION_CONNECT, "10.0.0.2:53", 0, IPPROTO_UDP, NULL,
		     ACTGATE_VERDICT_DENY, "files:connect.deny[0]");
	expect_files(ACTGATE_ACTION_CONNECT, "10.0.0.2:53", 0, IPPROTO_TCP, NULL,
		     ACTGATE_VERDICT_ALLOW, "files:connect.default");
	expect_files(ACTGATE_ACTION_CONNECT, "10.0.0.2:53", 0, 0, NULL, ACTGATE_VERDICT_ALLOW,
		     "files:connect.default"); /* no protocol given: tcp */
	expect_files(ACTGATE_ACTION_CONNECT, "/run/docker.sock", 0, 0, NULL, ACTGATE_VERDICT_DENY,
		     "files:connect.deny[1]");
	expect_files(ACTGATE_ACTION_CONNECT, "/run/x/other.sock", 0, 0, NULL,
		     ACTGATE_VERDICT_DENY, "files:connect.deny[2]");
	expect_files(ACTGATE_ACTION_CONNECT, "/run/x/ok.sock", 0, 0, NULL, ACTGATE_VERDICT_ALLOW,
		     "files:connect.allow[0]");
	expect_files(ACTGATE_ACTION_CONNECT, "/run/user.sock", 0, 0, NULL, ACTGATE_VERDICT_ALLOW,
		     "files:connect.default");
	/* The overlay holds under risk high or critical: its default and rules join. */
	expect_files(ACTGATE_ACTION_CONNECT, "192.0.2.1:443", 0, 0, &high, ACTGATE_VERDICT_DENY,
		     "files:connect.when[0].default");
	expect_files(ACTGATE_ACTION_CONNECT, "10.1.1.1:443", 0, 0, &high, ACTGATE_VERDICT_ALLOW,
		     "files:connect.when[0].allow[0]");
	expect_files(ACTGATE_ACTION_CONNECT, "/run/user.sock", 0, 0, &high, ACTGATE_VERDICT_DENY,
		     "files:connect.when[0].default");
	expect_files(ACTGATE_ACTION_CONNECT, "192.0.2.1:443", 0, 0, &low, ACTGATE_VERDICT_ALLOW,
		     "files:connect.default");
}

static void expect_socket(const char *workload, uint8_t kind, uint8_t verdict, uint8_t mode,
			  uint8_t reason, const char *rule)
{
	struct eval_action a = { .action = ACTGATE_ACTION_CONNECT, .socket = kind };
	struct eval_result r;
	char why[256];

	assert_int_equal(eval_as(workload, NULL, &a, &r, why, sizeof(why)), 0);
	check(rule, &r, verdict, rule);
	assert_int_equal(r.mode, mode);
	assert_int_equal(r.reason, reason);
}

/* Raw and packet sockets: allowed only when every policy lists them. */
static void test_socket_kinds(void **state)
{
	struct eval_action a = { .action = ACTGATE_ACTION_CONNECT, .socket = 7 };
	struct eval_result r;
	char why[256];

	(void)state;
	expect_socket("ci:x", ACTGATE_SOCKET_RAW, ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		      ACTGATE_REASON_DEFAULT, "ci:connect.sockets.raw");
	expect_socket("ci:x", ACTGATE_SOCKET_PACKET, ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
		      ACTGATE_REASON_RULE, "ci:connect.sockets.packet");
	/* A policy without a connect section lists none; in audit mode, audited. */
	expect_socket("agent:x", ACTGATE_SOCKET_RAW, ACTGATE_VERDICT_DENY, ACTGATE_MODE_AUDIT,
		      ACTGATE_REASON_DEFAULT, "watch:connect.sockets.raw");
	/* Composed: the enforced deny of "also" beats the audited one of "watch". */
	expect_socket("both", ACTGATE_SOCKET_PACKET, ACTGATE_VERDICT_DENY, ACTGATE_MODE_ENFORCE,
		      ACTGATE_REASON_DEFAULT, "also:connect.sockets.packet");
	assert_int_equal(eval_as("ci:x", NULL, &a, &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown socket kind 7");
}

/* The unspecified address is judged as the loopback address the kernel reaches. */
static void test_unspecified_addresses(void **state)
{
	(void)state;
	expect_connect("0.0.0.0:80", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[1]");
	expect_connect("0.0.0.0:22", ACTGATE_VERDICT_DENY, "ci:connect.deny[1]");
	expect_connect("[::ffff:0.0.0.0]:22", ACTGATE_VERDICT_DENY, "ci:connect.deny[1]");
	expect_connect("[::]:8000", ACTGATE_VERDICT_ALLOW, "ci:connect.allow[2]");
	expect_connect("[::]:80", ACTGATE_VERDICT_DENY, "ci:connect.default");
}

static void test_overlay_ties(void **state)
{
	static const struct signal_value on[] = { { "maintenance", "on" } };
	struct signal_view maintenance = { on, 1 };
	struct eval_action a = { .action = ACTGATE_ACTION_OPEN, .path = "/data/x" };
	struct eval_result r;
	char why[256];

	(void)state;
	/* An overlay's allow on the same directory as a base deny: deny wins the tie. */
	assert_int_equal(eval_as("ci:x", &maintenance, &a, &r, why, sizeof(why)), 0);
	check("/data/x", &r, ACTGATE_VERDICT_DENY, "ci:open.deny[2]");
}

static void test_selection_by_label_and_cgroup(void **state)
{
	static const struct workload_label other[] = { { "team", "web" } };
	struct workload_identity id = { .name = "job", .cgroup = "ci.slice/job-1", .labels = other,
					.label_count = 1 };
	struct eval_action a = { .action = ACTGATE_ACTION_OPEN, .path = "/srv/a" };
	struct eval_result r;
	char why[256];

	(void)state;
	assert_int_equal(policy_evaluate(&set, &id, NULL, &a, &r, why, sizeof(why)), -ENOENT);
	id.labels = NULL;
	id.label_count = 0;
	assert_int_equal(policy_evaluate(&set, &id, NULL, &a, &r, why, sizeof(why)), -ENOENT);
}

static void test_parse_connect_target(void **state)
{
	static const char *const bad[] = {
		"10.0.0.1",   "10.0.0.1:",   "10.0.0.1:65536", "10.0.0.1:-1", "::1:80",
		"[::1]80",    "[::1]",       "[10.0.0.1]:80",  "host:80",     "10.0.0.256:1",
		"[::1]:+80",  "10.0.0.1:8a",
	};
	uint8_t addr[16];
	uint16_t port;
	char why[256];

	(void)state;
	assert_int_equal(eval_parse_connect_target("1.2.3.4:65535", addr, &port, why, sizeof(why)),
			 0);
	assert_int_equal(port, 65535);
	assert_int_equal(addr[10], 0xff);
	assert_int_equal(addr[12], 1);
	assert_int_equal(addr[15], 4);
	assert_int_equal(eval_parse_connect_target("[2001:db8::1]:0", addr, &port, why, sizeof(why)),
			 0);
	assert_int_equal(port, 0);
	assert_int_equal(addr[0], 0x20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (eval_parse_connect_target(bad[i], addr, &port, why, sizeof(why)) != -EINVAL)
			fail_msg("accepted bad target %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_precedence),
		cmocka_unit_test(test_open_precedence),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_connect_precedence),
		cmocka_unit_test(test_mode_and_selection),
		cmocka_unit_test(test_composition),
		cmocka_unit_test(test_strict_composes),
		cmocka_unit_test(test_accesses),
		cmocka_unit_test(test_written_and_exec_map),
		cmocka_unit_test(test_connect_kinds),
		cmocka_unit_test(test_overlay_ties),
		cmocka_unit_test(test_socket_kinds),
		cmocka_unit_test(test_unspecified_addresses),
		cmocka_unit_test(test_selection_by_label_and_cgroup),
		cmocka_unit_test(test_parse_connect_target),
	};

	return cmocka_run_group_tests_name("evaluate", tests, setup, teardown);
}
