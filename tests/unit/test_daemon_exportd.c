/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's own export (daemon/exportd.h): the configuration file's
 * `export` list with file:line:col errors, and the followers it starts
 * shipping a journal to a file sink, with their lag in status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "daemon/config.h"
#include "daemon/exportd.h"
#include "test_journal.h"
#include "test_export.h"

static int parse(const char *text, struct daemon_config *c, struct diag_list *diags)
{
	*c = (struct daemon_config){ 0 };
	*diags = (struct diag_list){ 0 };
	return config_parse_buffer("actgated.yaml", text, strlen(text), c, diags);
}

static const char *diag_text(const struct diag_list *d, size_t i)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s:%u:%u: %s", d->items[i].file, d->items[i].line,
		 d->items[i].col, d->items[i].message);
	return buf;
}

static void test_export_config(void **state)
{
	struct daemon_config c, copy = { 0 };
	struct diag_list d;
	char buf[512];

	(void)state;
	assert_int_equal(parse("journal_dir: /j\n"
			       "export:\n"
			       "  - name: siem\n"
			       "    sink: syslog+tls://siem.example:6514?ca=/etc/actgate/ca.pem\n"
			       "    format: ocsf\n"
			       "    overflow: drop\n"
			       "    batch: 100\n"
			       "    queue: 1000\n"
			       "  - name: otel\n"
			       "    sink: otlp+http://127.0.0.1:4318/v1/logs\n"
			       "    cursor: /var/lib/x/otel.cursor\n",
			       &c, &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(c.export.count, 2);
	assert_string_equal(c.export.sinks[0].name, "siem");
	assert_int_equal(c.export.sinks[0].format, JEXPORT_OCSF);
	assert_int_equal(c.export.sinks[0].overflow, JEXPORT_OVERFLOW_DROP);
	assert_int_equal(c.export.sinks[0].batch, 100);
	assert_int_equal(c.export.sinks[0].queue, 1000);
	assert_null(c.export.sinks[0].cursor);
	assert_int_equal(c.export.sinks[1].format, JEXPORT_JSONL);
	assert_string_equal(c.export.sinks[1].cursor, "/var/lib/x/otel.cursor");
	assert_true(c.given & (1u << CONFIG_EXPORT));
	config_format(&c, CONFIG_EXPORT, buf, sizeof(buf));
	assert_string_equal(buf, "siem=syslog+tls://siem.example:6514?ca=/etc/actgate/ca.pem,"
				 "otel=otlp+http://127.0.0.1:4318/v1/logs");
	config_take(&copy, &c, CONFIG_EXPORT);
	assert_int_equal(copy.export.count, 2);
	assert_true(config_differs(&copy, &c, CONFIG_EXPORT));
	daemon_config_free(&c);
	daemon_config_free(&copy);
	diag_list_free(&d);
}

static void test_export_config_errors(void **state)
{
	struct daemon_config c;
	struct diag_list d;

	(void)state;
	assert_int_equal(parse("export:\n"
			       "  - name: Bad Name\n"
			       "    sink: kafka://x\n"
			       "  - name: ok\n"
			       "    sink: stdout\n"
			       "    format: xml\n"
			       "    colour: red\n"
			       "  - name: ok\n"
			       "    sink: file:/x\n"
			       "    cursor: relative\n"
			       "    batch: 0\n"
			       "  - sink: stdout\n",
			       &c, &d), -EINVAL);
	assert_int_equal(d.count, 8);
	assert_string_equal(diag_text(&d, 0),
			    "actgated.yaml:2:11: export[0].name: \"Bad Name\": 1 to 32 of a-z, 0-9, _ and -");
	assert_non_null(strstr(diag_text(&d, 1), "actgated.yaml:3:11: export[0].sink: \"kafka://x\": expected stdout"));
	assert_non_null(strstr(diag_text(&d, 2), "actgated.yaml:6:13: export[1].format: \"xml\": expected jsonl or ocsf"));
	assert_non_null(strstr(diag_text(&d, 3), "actgated.yaml:7:5:"));
	assert_non_null(strstr(diag_text(&d, 3), "colour"));
	assert_string_equal(diag_text(&d, 4), "actgated.yaml:8:11: export[2].name: ok: a name used before");
	assert_string_equal(diag_text(&d, 5), "actgated.yaml:10:13: export[2].cursor: an absolute path is needed");
	assert_non_null(strstr(diag_text(&d, 6), "actgated.yaml:11:12: export[2].batch: 0: expected a whole number from 1"));
	assert_non_null(strstr(diag_text(&d, 7), "actgated.yaml:12:5: export[3]: name is required"));
	daemon_config_free(&c);
	diag_list_free(&d);
}

/* The follower threads ship the journal; status shows them caught up. */
static void test_exportd_follows(void **state)
{
	struct fixture *fx = *state;
	struct exportd_sink_config sc = { .name = "local", .batch = 16 };
	struct exportd_config cfg = { .sinks = &sc, .count = 1 };
	struct jsink_config jc = { .dir = fx->dir, .key_path = fx->key };
	struct exportd x;
	struct json_out j;
	struct jstore_stats js;
	struct jsink *s;
	char sink[160], out[128], *text = NULL, *st = NULL;

	snprintf(out, sizeof(out), "%s/out.jsonl", fx->keydir);
	snprintf(sink, sizeof(sink), "file:%s", out);
	sc.sink = sink;
	assert_int_equal(jsink_open(&s, &jc), 0);
	append_range(s, 0, 300, 10, 0);
	assert_int_equal(exportd_start(&x, &cfg, fx->dir, fx->keydir), 0);
	text = wait_lines(out, 300);
	assert_int_equal(count_lines(text), 300);
	free(text);
	jstore_stats(jsink_store(s), &js);
	json_out_init(&j);
	json_object_begin(&j);
	/* Caught up: wait for the follower to have read the seals after the last decision too. */
	for (int i = 0; i < 400; i++) {
		json_out_reset(&j);
		json_object_begin(&j);
		exportd_status(&x, js.next_seq, &j);
		json_object_end(&j);
		free(st);
		st = strndup(j.buf, j.len); /* json_out's text has no NUL */
		assert_non_null(st);
		if (strstr(st, "\"export.local.lag_records\":0,"))
			break;
		poll(NULL, 0, 25);
	}
	assert_non_null(strstr(st, "\"export.local.sink\":\"file:"));
	assert_non_null(strstr(st, "\"export.local.running\":\"yes\""));
	assert_non_null(strstr(st, "\"export.local.exported\":300,"));
	assert_non_null(strstr(st, "\"export.local.lag_records\":0,"));
	assert_non_null(strstr(st, "\"export.local.lag_seconds\":0,"));
	assert_non_null(strstr(st, "\"export.local.errors\":0,"));
	/* More decisions while it follows: they reach the file too. */
	append_range(s, 300, 100, 10, 0);
	text = wait_lines(out, 400);
	assert_int_equal(count_lines(text), 400);
	free(text);
	exportd_stop(&x);
	assert_int_equal(jsink_close(s), 0);
	/* The cursor in the state directory says so. */
	snprintf(out, sizeof(out), "%s/export-local.cursor", fx->keydir);
	text = slurp(out, NULL);
	assert_non_null(strstr(text, "\nexported 400\n"));
	free(text);
	json_out_free(&j);
	free(st);
}

/* The number after "key": in st (-1 if absent). */
static long long status_number(const char *st, const char *key)
{
	const char *p = strstr(st, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* A sink that refuses: status shows the decisions waiting as lag, the errors, the last one. */
static void test_exportd_lag(void **state)
{
	struct fixture *fx = *state;
	struct exportd_sink_config sc = { .name = "down", .sink = "syslog+unix:/nonexistent/actgate.sock" };
	struct exportd_config cfg = { .sinks = &sc, .count = 1 };
	struct jsink_config jc = { .dir = fx->dir, .key_path = fx->key };
	struct exportd x;
	struct json_out j;
	struct jstore_stats js;
	struct jsink *s;
	char *st = NULL;

	assert_int_equal(jsink_open(&s, &jc), 0);
	append_range(s, 0, 50, 10, 0);
	jstore_stats(jsink_store(s), &js);
	assert_int_equal(exportd_start(&x, &cfg, fx->dir, fx->keydir), 0);
	json_out_init(&j);
	/* Until it has read everything and tried at least once. */
	for (int i = 0; i < 400; i++) {
		json_out_reset(&j);
		json_object_begin(&j);
		exportd_status(&x, js.next_seq, &j);
		json_object_end(&j);
		free(st);
		st = strndup(j.buf, j.len);
		assert_non_null(st);
		if (status_number(st, "\"export.down.errors\":") >= 1 &&
		    status_number(st, "\"export.down.queued\":") >= 50)
			break;
		poll(NULL, 0, 25);
	}
	assert_non_null(strstr(st, "\"export.down.running\":\"yes\""));
	assert_int_equal(status_number(st, "\"export.down.exported\":"), 0);
	assert_true(status_number(st, "\"export.down.errors\":") >= 1);
	/* Every decision (and the seals among them) waits: queued, or not read yet. */
	assert_true(status_number(st, "\"export.down.lag_records\":") >= 50);
	assert_true(status_number(st, "\"export.down.lag_seconds\":") >= 0);
	assert_non_null(strstr(st, "\"export.down.last_error\":\"/nonexistent/actgate.sock: No such file"));
	exportd_stop(&x);
	assert_int_equal(jsink_close(s), 0);
	json_out_free(&j);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_config),
		cmocka_unit_test(test_export_config_errors),
		cmocka_unit_test_setup_teardown(test_exportd_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exportd_lag, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
