// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The JSON writer's exact output and the control-socket message reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json.h"

/* The text of a one-member object {"k": value}, NUL-terminated. */
static char *write_one(const char *value)
{
	struct json_out j;
	char *text;

	json_out_init(&j);
	json_object_begin(&j);
	json_add_string(&j, "k", value);
	json_object_end(&j);
	assert_int_equal(j.error, 0);
	text = strndup(j.buf, j.len);
	assert_non_null(text);
	json_out_free(&j);
	return text;
}

static void assert_written(const char *value, const char *expected)
{
	char *text = write_one(value);

	assert_string_equal(text, expected);
	free(text);
}

static void test_escape_specials(void **state)
{
	(void)state;
	assert_written("plain", "{\"k\":\"plain\"}");
	assert_written("", "{\"k\":\"\"}");
	assert_written("a\"b\\c/d", "{\"k\":\"a\\\"b\\\\c/d\"}");
}

static void test_escape_control(void **state)
{
	(void)state;
	assert_written("\n\t\r\b\f", "{\"k\":\"\\u000a\\u0009\\u000d\\u0008\\u000c\"}");
	assert_written("\x01\x1b[31m\x1f", "{\"k\":\"\\u0001\\u001b[31m\\u001f\"}");
	assert_written("del\x7f", "{\"k\":\"del\\u007f\"}");
	/* C1 controls and YAML's extra line breaks (NEL, LS, PS) travel escaped. */
	assert_written("\xc2\x85\xc2\x9b", "{\"k\":\"\\u0085\\u009b\"}");
	assert_written("a\xe2\x80\xa8" "b\xe2\x80\xa9", "{\"k\":\"a\\u2028b\\u2029\"}");
	assert_written("\xef\xbf\xbe\xef\xbf\xbf", "{\"k\":\"\\ufffe\\uffff\"}");
}

static void test_utf8_valid_passes(void **state)
{
	(void)state;
	assert_written("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0",
		       "{\"k\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0\"}");
	assert_written("\xf4\x8f\xbf\xbf", "{\"k\":\"\xf4\x8f\xbf\xbf\"}"); /* U+10FFFF */
}

static void test_utf8_invalid_replaced(void **state)
{
	(void)state;
	assert_written("a\xff" "b", "{\"k\":\"a\\ufffdb\"}");
	assert_written("\xc3", "{\"k\":\"\\ufffd\"}");                   /* truncated */
	assert_written("\xc3(", "{\"k\":\"\\ufffd(\"}");                 /* bad continuation */
	assert_written("\xc0\xaf", "{\"k\":\"\\ufffd\\ufffd\"}");         /* overlong '/' */
	assert_written("\xe0\x80\xaf", "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}"); /* overlong */
	assert_written("\xed\xa0\x80", "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}"); /* surrogate */
	assert_written("\xf4\x90\x80\x80", "{\"k\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}");
	assert_written("\x80x", "{\"k\":\"\\ufffdx\"}");
	assert_written("\xe2\x82", "{\"k\":\"\\ufffd\\ufffd\"}");
}

static void test_writer_values(void **state)
{
	struct json_out j;

	(void)state;
	json_out_init(&j);
	json_object_begin(&j);
	json_add_string(&j, "s", "x");
	json_add_string(&j, "n", NULL);
	json_add_u64(&j, "u", UINT64_MAX);
	json_add_i64(&j, "i", INT64_MIN);
	json_add_bool(&j, "t", true);
	json_add_bool(&j, "f", false);
	json_key_object_begin(&j, "o\"");
	json_add_string(&j, "a", "1");
	json_add_string(&j, "b", "2");
	json_object_end(&j);
	json_key_object_begin(&j, "e");
	json_object_end(&j);
	json_add_u64(&j, "z", 0);
	json_object_end(&j);
	assert_int_equal(j.error, 0);
	assert_int_equal(j.len, strlen("{\"s\":\"x\",\"n\":null,\"u\":18446744073709551615,"
				       "\"i\":-9223372036854775808,\"t\":true,\"f\":false,"
				       "\"o\\\"\":{\"a\":\"1\",\"b\":\"2\"},\"e\":{},\"z\":0}"));
	assert_memory_equal(j.buf, "{\"s\":\"x\",\"n\":null,\"u\":18446744073709551615,"
				   "\"i\":-9223372036854775808,\"t\":true,\"f\":false,"
				   "\"o\\\"\":{\"a\":\"1\",\"b\":\"2\"},\"e\":{},\"z\":0}", j.len);
	json_out_free(&j);
}

static void test_write_line_and_reset(void **state)
{
	struct json_out j;
	char *mem = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&mem, &size);
	assert_non_null(f);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_u64(&j, "a", 1);
	json_object_end(&j);
	assert_int_equal(json_out_write_line(&j, f), 0);
	json_out_reset(&j);
	json_object_begin(&j);
	json_add_string(&j, "b", "2");
	json_object_end(&j);
	assert_int_equal(json_out_write_line(&j, f), 0);
	/* A sticky error is returned instead of writing half a line. */
	j.error = -ENOMEM;
	assert_int_equal(json_out_write_line(&j, f), -ENOMEM);
	fclose(f);
	assert_string_equal(mem, "{\"a\":1}\n{\"b\":\"2\"}\n");
	free(mem);
	json_out_free(&j);
}

static void test_writer_output_parses_back(void **state)
{
	const char *values[] = { "a\"b\\c", "\n\t\x01\x7f", "caf\xc3\xa9", "\xff\xfe",
				 "\xe2\x80\xa8", "\xc2\x85", "\xef\xbf\xbf" };
	const char *expect[] = { "a\"b\\c", "\n\t\x01\x7f", "caf\xc3\xa9",
				 "\xef\xbf\xbd\xef\xbf\xbd", "\xe2\x80\xa8", "\xc2\x85",
				 "\xef\xbf\xbf" };
	struct json_msg msg;
	char err[256], *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		text = write_one(values[i]);
		assert_int_equal(json_msg_parse(text, strlen(text), &msg, err, sizeof(err)), 0);
		assert_string_equal(json_msg_string(&msg, "k"), expect[i]);
		json_msg_free(&msg);
		free(text);
	}
}

static void test_parse_members(void **state)
{
	const char *text =
		" {\"verb\": \"signal-set\", \"ttl\":30, \"neg\":-1.5e+3, \"on\":true,"
		"\"off\":false, \"none\":null, \"q\":\"true\", \"empty\":\"\","
		"\"labels\":{\"team\":\"infra\", \"env\":\"ci\"}, \"nolabels\":{},"
		"\"esc\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\xc3\xa9\"}\r\n";
	const struct json_member *m;
	struct json_msg msg;
	char err[256];

	(void)state;
	assert_int_equal(json_msg_parse(text, strlen(text), &msg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(msg.count, 11);
	assert_string_equal(json_msg_string(&msg, "verb"), "signal-set");
	assert_string_equal(json_msg_string(&msg, "ttl"), "30");
	assert_string_equal(json_msg_string(&msg, "neg"), "-1.5e+3");
	assert_string_equal(json_msg_string(&msg, "on"), "true");
	assert_string_equal(json_msg_string(&msg, "off"), "false");
	assert_string_equal(json_msg_string(&msg, "q"), "true");
	assert_string_equal(json_msg_string(&msg, "empty"), "");
	m = json_msg_get(&msg, "none");
	assert_non_null(m);
	assert_int_equal(m->type, JSON_NULL);
	assert_null(m->value);
	assert_null(json_msg_string(&msg, "none"));
	assert_null(json_msg_string(&msg, "missing"));
	assert_null(json_msg_get(&msg, "missing"));
	m = json_msg_get(&msg, "labels");
	assert_non_null(m);
	assert_int_equal(m->type, JSON_OBJECT);
	assert_null(json_msg_string(&msg, "labels"));
	assert_int_equal(m->member_count, 2);
	assert_string_equal(m->members[0].key, "team");
	assert_string_equal(m->members[0].value, "infra");
	assert_int_equal(m->members[0].type, JSON_STRING);
	assert_string_equal(m->members[1].key, "env");
	assert_string_equal(m->members[1].value, "ci");
	m = json_msg_get(&msg, "nolabels");
	assert_int_equal(m->type, JSON_OBJECT);
	assert_int_equal(m->member_count, 0);
	assert_string_equal(json_msg_string(&msg, "esc"),
			    "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xc3\xa9");
	json_msg_free(&msg);
	assert_int_equal(msg.count, 0);
	assert_null(msg.members);
}

static void test_parse_empty_object_and_no_err_buffer(void **state)
{
	struct json_msg msg;

	(void)state;
	assert_int_equal(json_msg_parse("{}", 2, &msg, NULL, 0), 0);
	assert_int_equal(msg.count, 0);
	json_msg_free(&msg);
	assert_int_equal(json_msg_parse("[]", 2, &msg, NULL, 0), -EINVAL);
	/* Only len bytes count: what follows is not read. */
	assert_int_equal(json_msg_parse("{\"a\":1} junk", 7, &msg, NULL, 0), 0);
	assert_string_equal(json_msg_string(&msg, "a"), "1");
	json_msg_free(&msg);
}

struct bad_case {
	const char *text;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{ "", "empty input" },
	{ " \n\t", "empty input" },
	{ "[1]", "line 1 col 1: expected a JSON object, found an array" },
	{ "\"x\"", "line 1 col 1: expected a JSON object, found a string" },
	{ "  42", "line 1 col 3: expected a JSON object, found a number or literal" },
	{ "a: b", "line 1 col 1: expected a JSON object, found a number or literal" },
	{ "{\"a\":[1]}", "line 1 col 6: value of \"a\" is an array; arrays are not accepted" },
	{ "{\"a\":{\"b\":{\"c\":\"d\"}}}",
	  "line 1 col 11: expected a string value for \"a.b\", found an object (only one level "
	  "of nesting is allowed)" },
	{ "{\"l\":{\"n\":1}}",
	  "line 1 col 11: expected a string value for \"l.n\", found a number or literal" },
	{ "{\"l\":{\"n\":[]}}", "line 1 col 11: expected a string value for \"l.n\", found an array" },
	{ "{\"a\":1,\"a\":2}", "line 1 col 8: duplicate key \"a\"" },
	{ "{\"l\":{\"x\":\"1\",\n \"x\":\"2\"}}", "line 2 col 2: duplicate key \"l.x\"" },
	{ "{\"a\":&x 1}", "line 1 col 6: YAML anchors are not JSON" },
	{ "{\"a\":*x}", "line 1 col 6: YAML aliases are not JSON" },
	{ "{\"a\":!!str 1}", "line 1 col 6: YAML tags are not JSON" },
	{ "{\"a\":1}\n---\n{\"b\":2}", "line 2 col 1: more than one document: expected one JSON object" },
	{ "{\"a\":1}\n...\n", "line 2 col 1: more than one document: expected one JSON object" },
	{ "{\"a\":1} x", "line 1 col 9: unexpected text after the object" },
	{ "{\"a\":1}{\"b\":2}", "line 1 col 8: unexpected text after the object" },
	{ "{1:\"a\"}", "line 1 col 2: expected a string key, found a number or literal" },
	{ "{a:1}", "line 1 col 2: expected a string key, found a number or literal" },
	{ "{{\"a\":1}:1}", "line 1 col 2: expected a string key, found an object" },
	{ "{\"l\":{x:\"1\"}}", "line 1 col 7: expected a string key, found a number or literal" },
	{ "{\"a\":1,}", "line 1 col 8: trailing comma before the closing bracket" },
	{ "{,}", "line 1 col 2: unexpected ','" },
	{ "{\"a\":yes}",
	  "line 1 col 6: invalid value for \"a\": expected a string, number, true, false or null" },
	{ "{\"a\":01}",
	  "line 1 col 6: invalid value for \"a\": expected a string, number, true, false or null" },
	{ "{\"a\"}", "line 1 col 5: missing value for \"a\"" },
	{ "{\"a\":1 \"b\":2}", "line 1 col 8: expected ',', ':' or a closing bracket before this" },
	{ "{\"a\":'x'}", "line 1 col 6: single-quoted strings are not JSON" },
	{ "{\"a\":1 # c\n}", "line 1 col 8: comments are not JSON" },
	{ "{\"a\":?}", "line 1 col 6: unexpected character '?'" },
	{ "{\"a\":\"x\\u0000\"}", "line 1 col 8: \\u0000 (NUL) is not allowed in a string" },
	{ "{\"a\":\"\\ud83d\\ude00\"}",
	  "line 1 col 7: surrogate escapes (\\ud800-\\udfff) are not supported; send characters "
	  "above U+FFFF as UTF-8" },
	{ "{\"a\":\"\\x41\"}", "line 1 col 7: invalid escape \"\\x\" in a string" },
	{ "{\"a\":\"\\u12\"}", "line 1 col 7: \\u must be followed by four hex digits" },
	{ "{\"a\":\"x\ty\"}", "line 1 col 8: control character 0x09 in a string (write it as \\u0009)" },
	{ "{\"a\":\"x\ny\"}", "line 1 col 8: control character 0x0a in a string (write it as \\u000a)" },
	{ "{\"a\":\"\xc2\x85\"}",
	  "line 1 col 7: control character U+0085 in a string (write it as \\u0085)" },
	{ "{\"a\":\"\xe2\x80\xa8\"}",
	  "line 1 col 7: line separator U+2028 in a string (write it as \\u2028)" },
	{ "{\"a\":\"\xff\"}", "line 1 col 7: invalid leading UTF-8 octet" },
	{ "{\"\xc3\xa9\":\"\xc3\x28\"}", "line 1 col 8: invalid trailing UTF-8 octet" },
	{ "{\"a\":\"x", "line 1 col 6: unterminated string" },
	{ "{\"a\":1", "line 1 col 7: unexpected end of input: the object is not closed" },
	{ "{\"a\":1]", "line 1 col 7: did not find expected ',' or '}' (while parsing a flow mapping)" },
	{ "\xef\xbb\xbf{}", "line 1 col 1: expected a JSON object" },
};

static void test_parse_errors(void **state)
{
	struct json_msg msg;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		int ret = json_msg_parse(bad_cases[i].text, strlen(bad_cases[i].text), &msg, err,
					 sizeof(err));

		if (ret != -EINVAL || strcmp(err, bad_cases[i].error))
			fail_msg("case %zu <%s>: got %d \"%s\", expected \"%s\"", i,
				 bad_cases[i].text, ret, err, bad_cases[i].error);
		assert_int_equal(msg.count, 0);
		assert_null(msg.members);
	}
}

static void test_parse_nul_byte_in_text(void **state)
{
	static const char text[] = "{\"a\":\"x\0\"}";
	struct json_msg msg;
	char err[256];

	(void)state;
	assert_int_equal(json_msg_parse(text, sizeof(text) - 1, &msg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1 col 8: control character 0x00 in a string (write it as \\u0000)");
}

/* The text need not be NUL-terminated: nothing past len is read (run under SAN=1). */
static void test_parse_reads_only_len(void **state)
{
	static const char *texts[] = { "{\"a\":1}..", "{\"a\":1}-", "{\"a\":\"\\u12", "{\"a\":\"\xe2\x80" };
	static const char *errors[] = {
		"line 1 col 8: unexpected text after the object",
		"line 1 col 8: unexpected text after the object",
		"line 1 col 7: \\u must be followed by four hex digits",
		"line 1 col 6: unterminated string",
	};
	struct json_msg msg;
	char err[256], *exact;
	size_t i, n;

	(void)state;
	for (i = 0; i < 4; i++) {
		n = strlen(texts[i]);
		exact = malloc(n);
		assert_non_null(exact);
		memcpy(exact, texts[i], n);
		assert_int_equal(json_msg_parse(exact, n, &msg, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, errors[i]);
		free(exact);
	}
}

static void test_parse_size_limit(void **state)
{
	struct json_msg msg;
	char err[256], *text;
	size_t n;

	(void)state;
	/* {"k":"xxx...x"} exactly JSON_MSG_MAX bytes is accepted, one more is not. */
	text = malloc(JSON_MSG_MAX + 2);
	assert_non_null(text);
	memset(text, 'x', JSON_MSG_MAX + 1);
	memcpy(text, "{\"k\":\"", 6);
	n = JSON_MSG_MAX;
	memcpy(text + n - 2, "\"}", 2);
	assert_int_equal(json_msg_parse(text, n, &msg, err, sizeof(err)), 0);
	assert_int_equal(strlen(json_msg_string(&msg, "k")), JSON_MSG_MAX - 8);
	json_msg_free(&msg);
	memcpy(text + n - 2, "x\"}", 3);
	assert_int_equal(json_msg_parse(text, n + 1, &msg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "message is 65537 bytes, over the 65536-byte limit");
	free(text);
}

static void test_parse_error_truncated_into_small_buffer(void **state)
{
	struct json_msg msg;
	char err[12];

	(void)state;
	assert_int_equal(json_msg_parse("[", 1, &msg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1 col ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_control),
		cmocka_unit_test(test_utf8_valid_passes),
		cmocka_unit_test(test_utf8_invalid_replaced),
		cmocka_unit_test(test_writer_values),
		cmocka_unit_test(test_write_line_and_reset),
		cmocka_unit_test(test_writer_output_parses_back),
		cmocka_unit_test(test_parse_members),
		cmocka_unit_test(test_parse_empty_object_and_no_err_buffer),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_nul_byte_in_text),
		cmocka_unit_test(test_parse_reads_only_len),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_error_truncated_into_small_buffer),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
