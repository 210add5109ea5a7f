// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target for the JSON reader and writer.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *       tests/fuzz/fuzz_json.c src/json.c -lyaml -o build/fuzz_json
 *   build/fuzz_json -max_total_time=60 CORPUS_DIR
 *
 * Properties checked beyond "no crash":
 * - a rejected message always comes with a message;
 * - an accepted message, written back with the writer, parses to the same members;
 * - the writer's output for any bytes parses; writing what was parsed and
 *   parsing that gives the same value; valid UTF-8 comes back unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		case JSON_STRING:
			json_add_string(j, m->key, m->value);
			break;
		case JSON_NULL:
			json_add_string(j, m->key, NULL);
			break;
		case JSON_OBJECT:
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
		if (x->type == JSON_STRING)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reader(data, size);
	check_writer(data, size);
	return 0;
}
