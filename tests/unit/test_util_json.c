/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
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

/*
 * Whatever bytes the writer is given, the reader takes its text back and
 * reads what was written, with each invalid byte as U+FFFD.
 */
static void test_writer_output_parses_back(void **state)
{
	const char *values[] = { "a\"b\\c", "\n\t\x01\x7f", "caf\xc3\xa9", "\xff\xfe",
				 "\xe2\x80\xa8", "\xc2\x85", "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
				 "\xed\xa0\x80", "\x1b[31mred\x9b" };
	const char *expect[] = { "a\"b\\c", "\n\t\x01\x7f", "caf\xc3\xa9",
				 "\xef\xbf\xbd\xef\xbf\xbd", "\xe2\x80\xa8", "\xc2\x85",
				 "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
				 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "\x1b[31mred\xef\xbf\xbd" };
	char every[256], want[0x80 + 3 * 0x80];
	struct json_msg msg;
	char err[256], *text;
	size_t i, o = 0;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		text = write_one(values[i]);
		if (json_msg_parse(text, strlen(text), &msg, err, sizeof(err)))
			fail_msg("value %zu: %s refused: %s", i, text, err);
		assert_string_equal(json_msg_string(&msg, "k"), expect[i]);
		json_msg_free(&msg);
		free(text);
	}

	/* Every byte but NUL, in order: no two high bytes in a row make UTF-8. */
	for (i = 1; i < 256; i++) {
		every[i - 1] = (char)i;
		if (i < 0x80)
			want[o++] = (char)i;
		else
			o += (size_t)sprintf(want + o, "\xef\xbf\xbd");
	}
	every[255] = '\0';
	text = write_one(every);
	assert_int_equal(json_msg_parse(text, strlen(text), &msg, err, sizeof(err)), 0);
	assert_int_equal(strlen(json_msg_string(&msg, "k")), o);
	assert_memory_equal(json_msg_string(&msg, "k"), want, o);
	json_msg_free(&msg);
	free(text);
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
	/* Members keep the order of the text. */
	assert_string_equal(msg.members[0].key, "verb");
	assert_string_equal(msg.members[10].key, "esc");
	assert_string_equal(json_msg_string(&msg, "verb"), "signal-set");
	assert_string_equal(json_msg_string(&msg, "ttl"), "30");
	assert_string_equal(json_msg_string(&msg, "neg"), "-1.5e+03");
	assert_string_equal(json_msg_string(&msg, "on"), "true");
	assert_string_equal(json_msg_string(&msg, "off"), "false");
	assert_string_equal(json_msg_string(&msg, "q"), "true");
	assert_string_equal(json_msg_string(&msg, "empty"), "");
	m = json_msg_get(&msg, "none");
	assert_non_null(m);
	assert_int_equal(m->type, JSON_MSG_NULL);
	assert_null(m->value);
	assert_null(json_msg_string(&msg, "none"));
	assert_null(json_msg_string(&msg, "missing"));
	assert_null(json_msg_get(&msg, "missing"));
	m = json_msg_get(&msg, "labels");
	assert_non_null(m);
	assert_int_equal(m->type, JSON_MSG_OBJECT);
	assert_null(json_msg_string(&msg, "labels"));
	assert_int_equal(m->member_count, 2);
	assert_string_equal(m->members[0].key, "team");
	assert_string_equal(m->members[0].value, "infra");
	assert_int_equal(m->members[0].type, JSON_MSG_STRING);
	assert_string_equal(m->members[1].key, "env");
	assert_string_equal(m->members[1].value, "ci");
	m = json_msg_get(&msg, "nolabels");
	assert_int_equal(m->type, JSON_MSG_OBJECT);
	assert_int_equal(m->member_count, 0);
	assert_string_equal(json_msg_string(&msg, "esc"),
			    "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xc3\xa9");
	json_msg_free(&msg);
	assert_int_equal(msg.count, 0);
	assert_null(msg.members);
}

/* Integers as their decimal text; other numbers never pass for an integer. */
static void test_parse_numbers(void **state)
{
	const char *text = "{\"max\":9223372036854775807, \"min\":-9223372036854775808,"
			   " \"zero\":-0, \"e\":1e3, \"tenth\":0.1, \"third\":0.3333333333333333,"
			   " \"frac\":2.50, \"one\":1.0, \"neg0\":-0.0, \"big\":1E300}";
	struct json_msg msg;
	char err[256];

	(void)state;
	assert_int_equal(json_msg_parse(text, strlen(text), &msg, err, sizeof(err)), 0);
	assert_string_equal(json_msg_string(&msg, "max"), "9223372036854775807");
	assert_string_equal(json_msg_string(&msg, "min"), "-9223372036854775808");
	assert_string_equal(json_msg_string(&msg, "zero"), "0");
	assert_string_equal(json_msg_string(&msg, "e"), "1e+03");
	assert_string_equal(json_msg_string(&msg, "tenth"), "0.1");
	assert_string_equal(json_msg_string(&msg, "third"), "0.3333333333333333");
	assert_string_equal(json_msg_string(&msg, "frac"), "2.5");
	assert_string_equal(json_msg_string(&msg, "one"), "1.0");
	assert_string_equal(json_msg_string(&msg, "neg0"), "-0.0");
	assert_string_equal(json_msg_string(&msg, "big"), "1e+300");
	json_msg_free(&msg);
}

/* \u escapes decode, pairs included: characters above U+FFFF are taken, escaped or raw. */
static void test_parse_surrogate_pairs(void **state)
{
	const char *text = "{\"emoji\":\"\\ud83d\\ude00\", \"upper\":\"\\uD83D\\uDE00\","
			   " \"max\":\"\\udbff\\udfff\", \"raw\":\"\xf0\x9f\x98\x80\","
			   " \"\\ud83d\\ude00\":\"key\", \"bmp\":\"\\uffff\\u0001\"}";
	struct json_msg msg;
	char err[256];

	(void)state;
	if (json_msg_parse(text, strlen(text), &msg, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_string_equal(json_msg_string(&msg, "emoji"), "\xf0\x9f\x98\x80");
	assert_string_equal(json_msg_string(&msg, "upper"), "\xf0\x9f\x98\x80");
	assert_string_equal(json_msg_string(&msg, "max"), "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	assert_string_equal(json_msg_string(&msg, "raw"), "\xf0\x9f\x98\x80");
	assert_string_equal(json_msg_string(&msg, "\xf0\x9f\x98\x80"), "key");
	assert_string_equal(json_msg_string(&msg, "bmp"), "\xef\xbf\xbf\x01");
	json_msg_free(&msg);
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

/* Each refusal with its words, as the daemon replies them and the CLI prints them. */
static const struct bad_case bad_cases[] = {
	/* Not one object. */
	{ "", "empty input" },
	{ " \n\t", "empty input" },
	{ "[1]", "line 1, column 1: expected a JSON object, found an array" },
	{ "\"x\"", "line 1, column 1: expected a JSON object, found a string" },
	{ "  42", "line 1, column 3: expected a JSON object, found an integer" },
	{ "\n null", "line 2, column 2: expected a JSON object, found null" },
	/* Shapes a message may not have. */
	{ "{\"a\":[1]}", "line 1, column 6: value of \"a\" is an array; arrays are not accepted" },
	{ "{\"a\":{\"b\":{\"c\":\"d\"}}}",
	  "line 1, column 11: expected a string value for \"a.b\", found an object (only one level "
	  "of nesting is allowed)" },
	{ "{\"l\":{\"n\":1}}", "line 1, column 11: expected a string value for \"l.n\", found an integer" },
	{ "{\"l\":{\"n\":[]}}", "line 1, column 11: expected a string value for \"l.n\", found an array" },
	{ "{\"l\":\n  {\"a\":\"1\", \"n\":null}}",
	  "line 2, column 17: expected a string value for \"l.n\", found null" },
	{ "{\"\\u00e9\\u001b\":[]}",
	  "line 1, column 17: value of \"\\xc3\\xa9\\x1b\" is an array; arrays are not accepted" },
	/* Duplicate keys, at the top and nested. */
	{ "{\"a\":1,\"a\":2}", "line 1, column 10: duplicate object key near '\"a\"'" },
	{ "{\"a\":1,\"\\u0061\":2}", "line 1, column 15: duplicate object key near '\"\\u0061\"'" },
	{ "{\"l\":{\"x\":\"1\",\n \"x\":\"2\"}}", "line 2, column 4: duplicate object key near '\"x\"'" },
	/* Comments, unquoted keys, single quotes, YAML. */
	{ "{\"a\":1 # c\n}", "line 1, column 8: '}' expected near '#'" },
	{ "{\"a\":1 // c\n}", "line 1, column 8: '}' expected near '/'" },
	{ "/* c */ {}", "line 1, column 1: invalid token near '/'" },
	{ "{a:1}", "line 1, column 2: string or '}' expected near 'a'" },
	{ "{\"l\":{x:\"1\"}}", "line 1, column 7: string or '}' expected near 'x'" },
	{ "{1:\"a\"}", "line 1, column 2: string or '}' expected near '1'" },
	{ "{\"a\":'x'}", "line 1, column 6: invalid token near '''" },
	{ "{'a':1}", "line 1, column 2: string or '}' expected near '''" },
	{ "a: b", "line 1, column 1: invalid token near 'a'" },
	{ "{\"a\":&x 1}", "line 1, column 6: invalid token near '&'" },
	{ "{\"a\":yes}", "line 1, column 8: invalid token near 'yes'" },
	/* Trailing commas and what JSON's grammar lacks. */
	{ "{\"a\":1,}", "line 1, column 8: string or '}' expected near '}'" },
	{ "{,}", "line 1, column 2: string or '}' expected near ','" },
	{ "{\"a\"}", "line 1, column 5: ':' expected near '}'" },
	{ "{\"a\":1 \"b\":2}", "line 1, column 10: '}' expected near '\"b\"'" },
	{ "{\"a\":NaN}", "line 1, column 8: invalid token near 'NaN'" },
	{ "{\"a\":-Infinity}", "line 1, column 6: invalid token near '-'" },
	{ "{\"a\":01}", "line 1, column 6: invalid token near '0'" },
	{ "{\"a\":+1}", "line 1, column 6: invalid token near '+'" },
	{ "{\"a\":.5}", "line 1, column 6: invalid token near '.'" },
	{ "{\"a\":9223372036854775808}",
	  "line 1, column 24: too big integer near '9223372036854775808'" },
	{ "{\"a\":1e400}", "line 1, column 10: real number overflow near '1e400'" },
	/* Anything after the object. */
	{ "{\"a\":1} x", "line 1, column 9: end of file expected near 'x'" },
	{ "{\"a\":1}{\"b\":2}", "line 1, column 8: end of file expected near '{'" },
	{ "{\"a\":1}\n---\n{\"b\":2}", "line 2, column 1: end of file expected near '-'" },
	{ "{\"a\":1},", "line 1, column 8: end of file expected near ','" },
	/* Strings: escapes, surrogates, controls, UTF-8. */
	{ "{\"a\":\"x\\u0000\"}", "line 1, column 14: \\u0000 (NUL) is not allowed in a string" },
	{ "{\"a\":\"\\ud83d\"}", "line 1, column 13: invalid Unicode '\\uD83D' near '\"\\ud83d\"'" },
	{ "{\"a\":\"\\ude00\"}", "line 1, column 13: invalid Unicode '\\uDE00' near '\"\\ude00\"'" },
	{ "{\"a\":\"\\ud83dx\"}", "line 1, column 14: invalid Unicode '\\uD83D' near '\"\\ud83dx\"'" },
	{ "{\"a\":\"\\ud83d\\u0041\"}",
	  "line 1, column 19: invalid Unicode '\\uD83D\\u0041' near '\"\\ud83d\\u0041\"'" },
	{ "{\"\\udfff\":1}", "line 1, column 9: invalid Unicode '\\uDFFF' near '\"\\udfff\"'" },
	{ "{\"a\":\"\\x41\"}", "line 1, column 8: invalid escape near '\"\\x'" },
	{ "{\"a\":\"\\u12\"}", "line 1, column 11: invalid escape near '\"\\u12\"'" },
	{ "{\"a\":\"x\ty\"}", "line 1, column 7: control character 0x9 near '\"x'" },
	{ "{\"a\":\"x\ny\"}", "line 1, column 7: unexpected newline near '\"x'" },
	{ "{\"a\":\"\x1b[2J\"}", "line 1, column 6: control character 0x1b near '\"'" },
	{ "{\"a\":\"\xff\"}", "line 1, column 6: unable to decode byte 0xff near '\"'" },
	{ "{\"\xc3\xa9\":\"\xc3\x28\"}", "line 1, column 6: unable to decode byte 0xc3 near '\"'" },
	{ "{\"a\":\"\xed\xa0\x80\"}", "line 1, column 6: unable to decode byte 0xed near '\"'" },
	{ "{\"a\":\"\xc0\xaf\"}", "line 1, column 6: unable to decode byte 0xc0 near '\"'" },
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", "line 1, column 6: unable to decode byte 0xf4 near '\"'" },
	{ "\xef\xbb\xbf{}", "line 1, column 1: invalid token near '\\xef\\xbb\\xbf'" },
	/* Cut short. */
	{ "{\"a\":\"x", "line 1, column 7: premature end of input near '\"x'" },
	{ "{\"a\":1", "line 1, column 6: '}' expected near end of file" },
	{ "{\"a\":1\n", "line 2, column 1: '}' expected near end of file" },
	{ "{\"a\":1]", "line 1, column 7: '}' expected near ']'" },
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

/* A raw NUL byte is valid nowhere: jansson alone would drop one after a number or literal. */
static void test_parse_nul_byte_in_text(void **state)
{
	static const struct {
		const char text[16];
		size_t len;
		const char *error;
	} cases[] = {
		{ "{\"a\":\"x\0\"}", 10, "line 1, column 8: a NUL byte is not allowed in JSON" },
		{ "{\"a\":1}\0", 8, "line 1, column 8: a NUL byte is not allowed in JSON" },
		{ "{\"a\":1\0}", 8, "line 1, column 7: a NUL byte is not allowed in JSON" },
		{ "{\"a\":true\0}", 11, "line 1, column 10: a NUL byte is not allowed in JSON" },
		{ "\0{}", 3, "line 1, column 1: a NUL byte is not allowed in JSON" },
	};
	struct json_msg msg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(json_msg_parse(cases[i].text, cases[i].len, &msg, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].error);
	}
}

/* The text need not be NUL-terminated: nothing past len is read (run under SAN=1). */
static void test_parse_reads_only_len(void **state)
{
	static const char *texts[] = { "{\"a\":1}..", "{\"a\":1}-", "{\"a\":\"\\u12", "{\"a\":\"\xe2\x80",
				       "{\"a\":12", "{\"a\":tru" };
	static const char *errors[] = {
		"line 1, column 8: end of file expected near '.'",
		"line 1, column 8: end of file expected near '-'",
		"line 1, column 10: invalid escape near '\"\\u12'",
		"line 1, column 6: unable to decode byte 0xe2 near '\"'",
		"line 1, column 7: '}' expected near end of file",
		"line 1, column 8: invalid token near 'tru'",
	};
	struct json_msg msg;
	char err[256], *exact;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
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
	assert_string_equal(err, "line 1, col");
}

/* Members found again in the text: keys and values where they start, escapes or not. */
static void test_doc_member_positions(void **state)
{
	const char *text = "\n  {\"a\" : [1, {\"x\": \"}\"}],\n\t\"\\u00e9t\\u00e9\":\"\xc3\xa9\", \"n\":-12e1 ,"
			   "\"o\":{}\n}";
	struct json_doc_member *m, *none;
	struct json_read_error re;
	struct json_doc doc;
	struct source_pos p;
	size_t n;

	(void)state;
	assert_int_equal(json_doc_read(&doc, text, strlen(text), &re), 0);
	assert_int_equal(doc.root_off, 3);
	assert_int_equal(json_doc_members(&doc, doc.root, doc.root_off, &m, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(m[0].key, "a");
	assert_string_equal(json_describe(m[0].value), "an array");
	p = json_doc_pos(&doc, m[0].key_off);
	assert_int_equal(p.line, 2);
	assert_int_equal(p.col, 4);
	p = json_doc_pos(&doc, m[0].value_off);
	assert_int_equal(p.col, 10);
	assert_string_equal(m[1].key, "\xc3\xa9t\xc3\xa9");
	p = json_doc_pos(&doc, m[1].key_off);
	assert_int_equal(p.line, 3);
	assert_int_equal(p.col, 2);
	p = json_doc_pos(&doc, m[1].value_off);
	assert_int_equal(p.col, 18);
	assert_string_equal(m[2].key, "n");
	assert_string_equal(json_describe(m[2].value), "a number");
	assert_int_equal(m[3].value_off, strlen(text) - 4);
	/* The wrong place for an object is refused, not guessed at. */
	assert_int_equal(json_doc_members(&doc, m[3].value, m[2].value_off, &none, &n), -EINVAL);
	assert_null(none);
	free(m);
	json_doc_free(&doc);
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
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_surrogate_pairs),
		cmocka_unit_test(test_parse_empty_object_and_no_err_buffer),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_nul_byte_in_text),
		cmocka_unit_test(test_parse_reads_only_len),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_error_truncated_into_small_buffer),
		cmocka_unit_test(test_doc_member_positions),
	};

	return cmocka_run_group_tests_name("util/json", tests, NULL, NULL);
}
