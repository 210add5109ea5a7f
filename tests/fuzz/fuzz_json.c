/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the JSON reader and writer.
 *
 *   make fuzz   (or build/fuzz/fuzz_json -max_total_time=60 CORPUS_DIR)
 *
 * Properties checked beyond "no crash":
 * - a rejected message always comes with a message;
 * - an accepted message, written back with the writer, parses to the same members;
 * - the writer's output for any bytes parses; writing what was parsed and
 *   parsing that gives the same value; valid UTF-8 comes back unchanged;
 * - in any text the reader accepts, every object's members are found again
 *   in the text, each key at a '"' and each value at a character that starts
 *   a value of its kind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json.h"
#include "fuzz_check.h"

static void write_msg(const struct json_msg *msg, struct json_out *j)
{
	size_t i, k;

	json_out_init(j);
	json_object_begin(j);
	for (i = 0; i < msg->count; i++) {
		const struct json_member *m = &msg->members[i];

		switch (m->type) {
		case JSON_MSG_STRING:
			json_add_string(j, m->key, m->value);
			break;
		case JSON_MSG_NULL:
			json_add_string(j, m->key, NULL);
			break;
		case JSON_MSG_OBJECT:
			json_key_object_begin(j, m->key);
			for (k = 0; k < m->member_count; k++)
				json_add_string(j, m->members[k].key, m->members[k].value);
			json_object_end(j);
			break;
		}
	}
	json_object_end(j);
}

static void check_same(const struct json_msg *a, const struct json_msg *b)
{
	size_t i, k;

	CHECK(a->count == b->count);
	for (i = 0; i < a->count; i++) {
		const struct json_member *x = &a->members[i], *y = &b->members[i];

		CHECK(!strcmp(x->key, y->key));
		CHECK(x->type == y->type);
		CHECK(x->member_count == y->member_count);
		if (x->type == JSON_MSG_STRING)
			CHECK(!strcmp(x->value, y->value));
		for (k = 0; k < x->member_count; k++) {
			CHECK(!strcmp(x->members[k].key, y->members[k].key));
			CHECK(!strcmp(x->members[k].value, y->members[k].value));
		}
	}
}

static void check_reader(const uint8_t *data, size_t size)
{
	struct json_msg msg, again;
	struct json_out j;
	char err[256];
	int ret;

	err[0] = 'x';
	ret = json_msg_parse((const char *)data, size, &msg, err, sizeof(err));
	if (ret) {
		CHECK(ret == -EINVAL || ret == -ENOMEM);
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		CHECK(msg.count == 0 && msg.members == NULL);
		return;
	}
	write_msg(&msg, &j);
	CHECK(j.error == 0);
	if (j.len <= JSON_MSG_MAX) {
		ret = json_msg_parse(j.buf, j.len, &again, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "rewritten message rejected: %s\n%.*s\n", err, (int)j.len, j.buf);
			abort();
		}
		/* Numbers and booleans come back as strings of the same text. */
		check_same(&msg, &again);
		json_msg_free(&again);
	}
	json_out_free(&j);
	json_msg_free(&msg);
}

static void check_writer(const uint8_t *data, size_t size)
{
	struct json_msg msg, again;
	struct json_out j1, j2;
	char err[256], *s;

	s = strndup((const char *)data, size);
	if (!s)
		return;
	json_out_init(&j1);
	json_object_begin(&j1);
	json_add_string(&j1, "k", s);
	json_object_end(&j1);
	CHECK(j1.error == 0);
	if (j1.len <= JSON_MSG_MAX) {
		if (json_msg_parse(j1.buf, j1.len, &msg, err, sizeof(err))) {
			fprintf(stderr, "writer output rejected: %s\n%.*s\n", err, (int)j1.len, j1.buf);
			abort();
		}
		json_out_init(&j2);
		json_object_begin(&j2);
		json_add_string(&j2, "k", json_msg_string(&msg, "k"));
		json_object_end(&j2);
		CHECK(j2.error == 0);
		if (j2.len <= JSON_MSG_MAX) {
			CHECK(json_msg_parse(j2.buf, j2.len, &again, err, sizeof(err)) == 0);
			CHECK(!strcmp(json_msg_string(&msg, "k"), json_msg_string(&again, "k")));
			json_msg_free(&again);
		}
		/* Without a replaced byte, the string comes back exactly. */
		if (!memmem(j1.buf, j1.len, "\\ufffd", 6))
			CHECK(!strcmp(json_msg_string(&msg, "k"), s));
		json_out_free(&j2);
		json_msg_free(&msg);
	}
	json_out_free(&j1);
	free(s);
}

/* Could a value of v's kind start with ch? */
static bool starts_like(const json_t *v, char ch)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return ch == '{';
	case JSON_ARRAY:
		return ch == '[';
	case JSON_STRING:
		return ch == '"';
	case JSON_INTEGER:
	case JSON_REAL:
		return ch == '-' || (ch >= '0' && ch <= '9');
	case JSON_TRUE:
		return ch == 't';
	case JSON_FALSE:
		return ch == 'f';
	default:
		return ch == 'n';
	}
}

static void check_positions(const struct json_doc *doc, json_t *v, size_t off, int depth)
{
	struct json_doc_member *m;
	size_t n;
	int err;

	CHECK(off < doc->len && starts_like(v, doc->text[off]));
	if (!json_is_object(v) || depth > 8)
		return;
	err = json_doc_members(doc, v, off, &m, &n);
	if (err) {
		CHECK(err == -ENOMEM);
		return;
	}
	CHECK(n == json_object_size(v));
	for (size_t i = 0; i < n; i++) {
		CHECK(m[i].key_off < m[i].value_off && doc->text[m[i].key_off] == '"');
		CHECK(i == 0 || m[i - 1].value_off < m[i].key_off);
		CHECK(json_object_get(v, m[i].key) == m[i].value);
		check_positions(doc, m[i].value, m[i].value_off, depth + 1);
	}
	free(m);
}

static void check_doc(const uint8_t *data, size_t size)
{
	struct json_read_error re;
	struct json_doc doc;
	int err = json_doc_read(&doc, (const char *)data, size, &re);

	if (err) {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(re.what[0] != '\0');
		return;
	}
	check_positions(&doc, doc.root, doc.root_off, 0);
	json_doc_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reader(data, size);
	check_writer(data, size);
	check_doc(data, size);
	return 0;
}
