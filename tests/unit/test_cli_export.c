/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate export: OCSF events and JSON lines, filtered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_journal.h"
#include "cli/export.h"

static void test_export(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->dir };
	struct jquery_filter f = JQUERY_FILTER_ANY;
	struct replay_options o = { .paths = paths, .n_paths = 1, .filter = &f };
	FILE *out, *err;

	write_with_sink(fx, 5);
	open_streams(fx, &out, &err);
	assert_int_equal(export_run(&o, EXPORT_OCSF, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(count_lines(fx->out), 5);
	/* The denied exec: Process Activity / Launch, denied and blocked (the mapping: test_journal_ocsf). */
	assert_non_null(strstr(fx->out,
		"{\"class_uid\":1007,\"class_name\":\"Process Activity\",\"category_uid\":1,"
		"\"category_name\":\"System Activity\",\"activity_id\":1,\"activity_name\":\"Launch\","
		"\"type_uid\":100701,\"type_name\":\"Process Activity: Launch\",\"time\":1795871658000,"));
	assert_non_null(strstr(fx->out, "\"action_id\":2,\"action\":\"Denied\",\"disposition_id\":2,"
					"\"disposition\":\"Blocked\""));
	assert_non_null(strstr(fx->out, "\"process\":{\"pid\":1001,\"name\":\"curl\","));
	assert_non_null(strstr(fx->out, "\"file\":{\"name\":\"curl\",\"path\":\"/usr/bin/curl\","));
	assert_non_null(strstr(fx->out, "\"device\":{\"type_id\":0,\"type\":\"Unknown\",\"hostname\":"));
	assert_non_null(strstr(fx->out, "\"class_uid\":1001,"));
	assert_non_null(strstr(fx->out, "\"file\":{\"name\":\"shadow\",\"path\":\"/etc/shadow\","));
	assert_non_null(strstr(fx->out, "\"dst_endpoint\":{\"ip\":\"10.0.0.1\",\"port\":443},"
					"\"connection_info\":{\"direction_id\":2,\"direction\":\"Outbound\","
					"\"protocol_name\":\"tcp\",\"protocol_num\":6,"));
	f.action = ACTGATE_ACTION_OPEN;
	open_streams(fx, &out, &err);
	assert_int_equal(export_run(&o, EXPORT_JSONL, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(count_lines(fx->out), 1);
	assert_non_null(strstr(fx->out, "\"target\":\"/etc/shadow\",\"access\":\"read\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli/export", tests, NULL, NULL);
}
