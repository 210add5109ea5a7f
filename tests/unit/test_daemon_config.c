/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's settings (daemon/config.c): the file's keys and their checks
 * with file:line:col, flags overriding the file, the defaults, a missing
 * default file against a missing --config file, and what differs between
 * two configurations (what a reload reports).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "util/paths.h"

static int parse(const char *text, struct daemon_config *c, struct diag_list *diags)
{
	*c = (struct daemon_config){ 0 };
	*diags = (struct diag_list){ 0 };
	return config_parse_buffer("actgated.yaml", text, strlen(text), c, diags);
}

/* "file:line:col: message" of diagnostic i. */
static const char *diag_text(const struct diag_list *d, size_t i)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s:%u:%u: %s", d->items[i].file, d->items[i].line,
		 d->items[i].col, d->items[i].message);
	return buf;
}

static void test_every_key(void **state)
{
	struct daemon_config c;
	struct diag_list d;

	(void)state;
	assert_int_equal(parse("policy_dir: /p\n"
			       "journal_dir: /j\n"
			       "journal_key: /k/key\n"
			       "fsync_every: 50\n"
			       "fsync_interval: 2s\n"
			       "journal_retain_bytes: 104857600\n"
			       "journal_retain_age: 7d\n"
			       "socket: /run/s.sock\n"
			       "socket_group: actgate\n"
			       "cgroup_parent: /ag\n"
			       "spool_dir: /spool\n"
			       "watch_cgroups: [/system.slice, /kubepods.slice]\n"
			       "pin_dir: /sys/fs/bpf/x\n"
			       "state_dir: /state\n"
			       "ring_buffer_size: 65536\n"
			       "verbose: true\n"
			       "export: [{name: local, sink: stdout}]\n"
			       "signals_trust: /etc/actgate/trust.yaml\n",
			       &c, &d),
			 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(c.policy_dir, "/p");
	assert_string_equal(c.journal_dir, "/j");
	assert_string_equal(c.journal_key, "/k/key");
	assert_int_equal(c.fsync_every_records, 50);
	assert_int_equal(c.fsync_every_ms, 2000);
	assert_int_equal(c.retain_max_bytes, 104857600);
	assert_int_equal(c.retain_max_age_ms, 7ull * 24 * 3600 * 1000);
	assert_string_equal(c.socket_path, "/run/s.sock");
	assert_string_equal(c.socket_group, "actgate");
	assert_string_equal(c.cgroup_parent, "/ag");
	assert_string_equal(c.spool_dir, "/spool");
	assert_int_equal(c.watch_count, 2);
	assert_string_equal(c.watch_cgroups[1], "/kubepods.slice");
	assert_string_equal(c.pin_dir, "/sys/fs/bpf/x");
	assert_string_equal(c.state_dir, "/state");
	assert_int_equal(c.events_bytes, 65536);
	assert_true(c.verbose);
	assert_int_equal(c.export.count, 1);
	assert_string_equal(c.export.sinks[0].name, "local");
	assert_string_equal(c.export.sinks[0].sink, "stdout");
	assert_null(c.export.sinks[0].cursor);
	assert_string_equal(c.signals_trust, "/etc/actgate/trust.yaml");
	assert_int_equal(c.given, (1u << CONFIG_NR_SETTINGS) - 1);
	daemon_config_free(&c);
	diag_list_free(&d);
}

static void test_errors_at_their_position(void **state)
{
	struct daemon_config c;
	struct diag_list d;

	(void)state;
	assert_int_equal(parse("# comment\n"
			       "policy_dir: relative\n"
			       "fsync_every: 0\n"
			       "PolicyDir: /x\n"
			       "watch_cgroups: [/ok, /a/../b]\n"
			       "ring_buffer_size: 1000\n"
			       "verbose: yes\n"
			       "socket_group: 12\n"
			       "fsync_interval: 10\n"
			       "journal_retain_bytes: 1\n",
			       &c, &d),
			 -EINVAL);
	assert_int_equal(d.errors, 8);
	assert_string_equal(diag_text(&d, 0), "actgated.yaml:2:13: policy_dir: \"relative\": an "
					      "absolute path is needed");
	assert_string_equal(diag_text(&d, 1), "actgated.yaml:3:14: fsync_every: \"0\": expected a "
					      "whole number from 1 to 4294967295");
	assert_non_null(strstr(diag_text(&d, 2), "actgated.yaml:4:1: unknown key \"PolicyDir\""));
	assert_non_null(strstr(diag_text(&d, 3), "actgated.yaml:5:22: watch_cgroups[1]:"));
	assert_non_null(strstr(diag_text(&d, 4), "actgated.yaml:6:19: ring_buffer_size:"));
	assert_string_equal(diag_text(&d, 5), "actgated.yaml:7:10: verbose: expected true or false, "
					      "found a string");
	/* A group number is a group: 12 parses. A bare number is not a duration here. */
	assert_non_null(strstr(diag_text(&d, 6), "actgated.yaml:9:17: fsync_interval: expected a "
						 "string, found an integer"));
	assert_non_null(strstr(diag_text(&d, 7), "actgated.yaml:10:23: journal_retain_bytes:"));
	assert_string_equal(c.socket_group, "12");
	daemon_config_free(&c);
	diag_list_free(&d);
}

static void test_shape(void **state)
{
	struct daemon_config c;
	struct diag_list d;

	(void)state;
	/* Comments only, or nothing: no setting, no error. */
	assert_int_equal(parse("# nothing set\n", &c, &d), 0);
	assert_int_equal(c.given, 0);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("", &c, &d), 0);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("- policy_dir\n", &c, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].message, "expected a mapping"));
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("policy_dir: /a\n---\npolicy_dir: /b\n", &c, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].message, "2 YAML documents"));
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("policy_dir: /a\npolicy_dir: /b\n", &c, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].message, "duplicate key"));
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("policy_dir: &x /a\n", &c, &d), -EINVAL);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("watch_cgroups: [/1, /2, /3, /4, /5, /6, /7, /8, /9, /10, /11, /12, "
			       "/13, /14, /15, /16, /17]\n", &c, &d),
			 -EINVAL);
	assert_non_null(strstr(d.items[0].message, "at most 16"));
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("spool_dir: \"/a\\tb\"\n", &c, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].message, "control character"));
	daemon_config_free(&c);
	diag_list_free(&d);
}

static void test_flags(void **state)
{
	struct daemon_config f = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(config_set_flag(&f, CONFIG_FSYNC_INTERVAL, "250", why, sizeof(why)), 0);
	assert_int_equal(f.fsync_every_ms, 250);
	assert_int_equal(config_set_flag(&f, CONFIG_FSYNC_EVERY, "0", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--fsync-every 0: expected a whole number from 1 to 4294967295");
	/* Flags may be relative to the working directory, except the pins and the state. */
	assert_int_equal(config_set_flag(&f, CONFIG_POLICY_DIR, "policies", why, sizeof(why)), 0);
	assert_int_equal(config_set_flag(&f, CONFIG_PIN_DIR, "pins", why, sizeof(why)), -EINVAL);
	assert_int_equal(config_set_flag(&f, CONFIG_CGROUP_PARENT, "/", why, sizeof(why)), -EINVAL);
	for (int i = 0; i < CONFIG_MAX_WATCH; i++)
		assert_int_equal(config_set_flag(&f, CONFIG_WATCH_CGROUPS, "/w", why, sizeof(why)), 0);
	assert_int_equal(config_set_flag(&f, CONFIG_WATCH_CGROUPS, "/w", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--watch-cgroup: at most 16");
	daemon_config_free(&f);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/actgate-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_resolve(void **state)
{
	struct daemon_config flags = { 0 }, out = { 0 };
	struct config_source src = { .flags = &flags };
	struct diag_list d = { 0 };
	char why[256], *path;

	(void)state;
	path = write_temp("policy_dir: /file/policies\njournal_dir: /file/journal\n"
			  "watch_cgroups: [/from-file]\n");
	assert_int_equal(config_set_flag(&flags, CONFIG_JOURNAL_DIR, "/flag/journal", why,
					 sizeof(why)), 0);
	assert_int_equal(config_set_flag(&flags, CONFIG_WATCH_CGROUPS, "/from-flag", why,
					 sizeof(why)), 0);
	src.path = path;
	assert_int_equal(config_resolve(&src, &out, &d), 0);
	assert_string_equal(out.policy_dir, "/file/policies");   /* the file */
	assert_string_equal(out.journal_dir, "/flag/journal");   /* the flag overrides */
	assert_int_equal(out.watch_count, 1);                    /* a list: replaced, not merged */
	assert_string_equal(out.watch_cgroups[0], "/from-flag");
	assert_string_equal(out.socket_path, DEFAULT_SOCKET_PATH); /* the default */
	assert_string_equal(out.pin_dir, DEFAULT_PIN_DIR);
	assert_null(out.socket_group);
	daemon_config_free(&out);

	/* A missing default file is no error; a missing --config file is. */
	unlink(path);
	src.required = false;
	assert_int_equal(config_resolve(&src, &out, &d), 0);
	assert_string_equal(out.policy_dir, DEFAULT_POLICY_DIR);
	daemon_config_free(&out);
	src.required = true;
	assert_int_equal(config_resolve(&src, &out, &d), -ENOENT);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].message, "cannot read configuration file"));
	daemon_config_free(&out);
	diag_list_free(&d);
	daemon_config_free(&flags);
	free(path);
}

static void test_differs(void **state)
{
	struct daemon_config a, b;
	struct diag_list d;
	char text[256];

	(void)state;
	assert_int_equal(parse("policy_dir: /p\nfsync_every: 5\nwatch_cgroups: [/a]\n", &a, &d), 0);
	diag_list_free(&d);
	assert_int_equal(parse("policy_dir: /p\nfsync_every: 6\nwatch_cgroups: [/a, /b]\n", &b, &d),
			 0);
	diag_list_free(&d);
	assert_false(config_differs(&a, &b, CONFIG_POLICY_DIR));
	assert_true(config_differs(&a, &b, CONFIG_FSYNC_EVERY));
	assert_true(config_differs(&a, &b, CONFIG_WATCH_CGROUPS));
	assert_false(config_differs(&a, &b, CONFIG_SOCKET_GROUP));
	config_format(&b, CONFIG_WATCH_CGROUPS, text, sizeof(text));
	assert_string_equal(text, "/a,/b");
	config_format(&b, CONFIG_SOCKET_GROUP, text, sizeof(text));
	assert_string_equal(text, "(none)");
	/* What a reload may change live; the rest waits for a restart. */
	assert_true(config_live(CONFIG_POLICY_DIR));
	assert_true(config_live(CONFIG_SOCKET_GROUP));
	assert_true(config_live(CONFIG_SPOOL_DIR));
	assert_false(config_live(CONFIG_JOURNAL_DIR));
	assert_false(config_live(CONFIG_WATCH_CGROUPS));
	config_take(&a, &b, CONFIG_WATCH_CGROUPS);
	assert_int_equal(a.watch_count, 2);
	assert_int_equal(b.watch_count, 0);
	daemon_config_free(&a);
	daemon_config_free(&b);
}

static void test_resolver_section(void **state)
{
	struct daemon_config c;
	struct diag_list d;
	char buf[64];

	(void)state;
	/* Absent: no resolver. Present but empty: the defaults. */
	assert_int_equal(parse("verbose: true\n", &c, &d), 0);
	assert_false(c.resolver.enabled);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("resolver: {}\n", &c, &d), 0);
	assert_true(c.resolver.enabled);
	resolver_format_endpoint(&c.resolver.listen, buf, sizeof(buf));
	assert_string_equal(buf, RESOLVER_DEFAULT_LISTEN);
	assert_int_equal(c.resolver.upstream.len, 0);
	assert_int_equal(c.resolver.ttl_min, RESOLVER_DEFAULT_TTL_MIN);
	assert_int_equal(c.resolver.ttl_max, RESOLVER_DEFAULT_TTL_MAX);
	assert_int_equal(c.resolver.learned_max, RESOLVER_DEFAULT_LEARNED_MAX);
	daemon_config_free(&c);
	diag_list_free(&d);

	assert_int_equal(parse("resolver:\n"
			       "  listen: 127.0.0.2:5353\n"
			       "  upstream: 10.0.0.2\n"
			       "  ttl_min: 1s\n"
			       "  ttl_max: 10m\n"
			       "  learned_max: 1024\n",
			       &c, &d),
			 0);
	assert_true(c.resolver.enabled);
	resolver_format_endpoint(&c.resolver.listen, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.2:5353");
	resolver_format_endpoint(&c.resolver.upstream, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.2:53");
	assert_int_equal(c.resolver.ttl_min, 1);
	assert_int_equal(c.resolver.ttl_max, 600);
	assert_int_equal(c.resolver.learned_max, 1024);
	daemon_config_free(&c);
	diag_list_free(&d);

	assert_int_equal(parse("resolver:\n"
			       "  listen: 10.1.2.3:53\n"
			       "  upstream: \"[::1\"\n"
			       "  ttl_min: 500ms\n"
			       "  learned_max: 3\n"
			       "  port: 5\n",
			       &c, &d),
			 -EINVAL);
	assert_int_equal(d.errors, 5);
	assert_non_null(strstr(diag_text(&d, 0), "actgated.yaml:2:11: resolver.listen: an IPv4 "
						 "loopback address"));
	assert_non_null(strstr(diag_text(&d, 1), "actgated.yaml:3:13: resolver.upstream: "
						 "\"[::1\": expected ADDRESS:PORT"));
	assert_non_null(strstr(diag_text(&d, 2), "actgated.yaml:4:12: resolver.ttl_min: a whole "
						 "number of seconds"));
	assert_non_null(strstr(diag_text(&d, 3), "actgated.yaml:5:16: resolver.learned_max: "));
	assert_non_null(strstr(diag_text(&d, 4), "actgated.yaml:6:3: unknown key \"port\""));
	assert_false(c.resolver.enabled);
	daemon_config_free(&c);
	diag_list_free(&d);

	/* IPv6, and the workloads' source block, are no place for the resolver. */
	assert_int_equal(parse("resolver: {listen: \"[::1]:53\"}\n", &c, &d), -EINVAL);
	assert_non_null(strstr(diag_text(&d, 0), "an IPv4 loopback address"));
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("resolver: {listen: 127.128.0.1:53}\n", &c, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("resolver: {ttl_min: 2h, ttl_max: 1h}\n", &c, &d), -EINVAL);
	assert_non_null(strstr(diag_text(&d, 0), "ttl_min (7200s) is above ttl_max (3600s)"));
	daemon_config_free(&c);
	diag_list_free(&d);
	/* The port is needed for listen; upstream takes 53. */
	assert_int_equal(parse("resolver: {listen: 127.0.0.1}\n", &c, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	daemon_config_free(&c);
	diag_list_free(&d);
	assert_int_equal(parse("resolver: {listen: 127.0.0.1:53, upstream: 127.0.0.1:53}\n", &c,
			       &d), -EINVAL);
	assert_non_null(strstr(diag_text(&d, 0), "the resolver's own address"));
	daemon_config_free(&c);
	diag_list_free(&d);
}

static void test_resolv_conf(void **state)
{
	char path[] = "/tmp/actgate-resolvconf-XXXXXX", why[128], buf[64];
	struct resolver_endpoint listen, up;
	int fd = mkstemp(path);
	const char *text = "# comment\nsearch example\nnameserver 127.0.0.153\n"
			   "nameserver bogus\nnameserver 2001:db8::1\nnameserver 10.0.0.1\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(resolver_parse_endpoint("127.0.0.153:53", 0, &listen, why, sizeof(why)), 0);
	/* The resolver itself and what does not parse are passed over. */
	assert_int_equal(resolver_upstream_from_resolv_conf(path, &listen, &up), 0);
	resolver_format_endpoint(&up, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:53");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "options ndots:1\n", 16), 16);
	close(fd);
	assert_int_equal(resolver_upstream_from_resolv_conf(path, &listen, &up), -ENOENT);
	assert_int_equal(up.len, 0);
	unlink(path);
	assert_int_equal(resolver_upstream_from_resolv_conf(path, &listen, &up), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors_at_their_position),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_differs),
		cmocka_unit_test(test_resolver_section),
		cmocka_unit_test(test_resolv_conf),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
