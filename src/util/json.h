/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * JSON in and out. Output: a small writer with correct string escaping.
 * Input: one JSON object per line (control-socket messages), parsed with
 * libyaml (JSON is YAML flow style) into a flat list of members whose values
 * are strings, numbers, booleans, or one level of string->string object
 * (labels). Anything else is rejected with a message.
 */
#ifndef ACTGATE_JSON_H
#define ACTGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- output ---- */

struct json_out {
	char *buf;
	size_t len;
	size_t cap;
	bool need_comma;
	int error; /* first -errno, sticky */
};

void json_out_init(struct json_out *j);         /* then json_object_begin */
/* Empty the text (and clear a sticky error), keeping the buffer for the next line. */
void json_out_reset(struct json_out *j);
void json_object_begin(struct json_out *j);
void json_object_end(struct json_out *j);
void json_key_object_begin(struct json_out *j, const char *key); /* "key":{ */
void json_add_string(struct json_out *j, const char *key, const char *value); /* NULL -> null */
void json_add_u64(struct json_out *j, const char *key, uint64_t value);
void json_add_i64(struct json_out *j, const char *key, int64_t value);
void json_add_bool(struct json_out *j, const char *key, bool value);
/* Write the text followed by '\n' to out; 0 or -errno (including a sticky error). */
int json_out_write_line(struct json_out *j, FILE *out);
void json_out_free(struct json_out *j);

/* ---- input ---- */

/* The longest message json_msg_parse accepts, in bytes. */
#define JSON_MSG_MAX 65536

enum json_value_type {
	JSON_STRING = 1, /* also numbers and booleans, kept as their text */
	JSON_OBJECT = 2, /* string -> string, one level */
	JSON_NULL = 3,
};

struct json_member {
	char *key;
	enum json_value_type type;
	char *value;             /* JSON_STRING */
	struct json_member *members; /* JSON_OBJECT */
	size_t member_count;
};

struct json_msg {
	struct json_member *members;
	size_t count;
};

/*
 * Parse one object. On error returns -EINVAL and writes a message into err
 * (e.g. "line 1 col 12: expected a string value for \"labels.team\"").
 * Duplicate keys are an error. Keys must be strings; values of nested
 * objects must be strings; arrays are refused. \u escapes of surrogates
 * (characters above U+FFFF) are refused because libyaml cannot decode them:
 * send such characters as UTF-8. msg is empty on error.
 */
int json_msg_parse(const char *text, size_t len, struct json_msg *msg, char *err, size_t err_size);
const struct json_member *json_msg_get(const struct json_msg *msg, const char *key);
/* The string value of key, or NULL when absent or not a string. */
const char *json_msg_string(const struct json_msg *msg, const char *key);
void json_msg_free(struct json_msg *msg);

#endif /* ACTGATE_JSON_H */
