/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * JSON in and out.
 *
 * Out (json.c): a small writer whose output is valid JSON whatever bytes it
 * is given; no library promises that.
 *
 * In (json-read.c): one reader for every JSON actgate takes, jansson held to
 * strict JSON (RFC 8259): duplicate keys, comments, unquoted keys, single
 * quotes, trailing commas, NaN, text after the value, invalid UTF-8 and lone
 * surrogates are refused with "line L, column C: why"; \u escapes decode,
 * surrogate pairs included. json_doc_* gives the parsed value with the
 * positions of its members (CAEP tokens); json_msg_* flattens one
 * control-socket message into members whose values are strings, numbers,
 * booleans, null, or one level of string->string object (labels).
 */
#ifndef ACTGATE_JSON_H
#define ACTGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/diag.h"

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
/* "key":[ ... ]: elements are json_array_add_string or json_object_begin/end. */
void json_key_array_begin(struct json_out *j, const char *key);
void json_array_end(struct json_out *j);
void json_array_add_string(struct json_out *j, const char *value); /* NULL -> "" */
void json_add_u64(struct json_out *j, const char *key, uint64_t value);
void json_add_i64(struct json_out *j, const char *key, int64_t value);
void json_add_bool(struct json_out *j, const char *key, bool value);
/* Write the text followed by '\n' to out; 0 or -errno (including a sticky error). */
int json_out_write_line(struct json_out *j, FILE *out);
void json_out_free(struct json_out *j);

/* ---- input ---- */

struct json_t; /* jansson's value: only the files that look inside include <jansson.h> */

/* Why a text was refused. */
struct json_read_error {
	unsigned line; /* 1-based; 0 when the message is about the whole text (empty) */
	unsigned col;  /* in characters, as jansson counts them */
	char what[320]; /* jansson's words, with bytes outside printable ASCII as \xHH */
};

/*
 * A text parsed whole, kept beside its value: jansson keeps no positions,
 * so a message about a member finds its place in the text (json_doc_members).
 */
struct json_doc {
	const char *text; /* the caller's, not copied: it must outlive the doc */
	size_t len;
	struct json_t *root;
	size_t root_off; /* where the root value starts */
};

/*
 * Parse text (len bytes, no NUL needed) as one strict JSON value of any
 * kind. Returns 0 with doc filled (json_doc_free it); -EINVAL with err
 * filled; -ENOMEM. Strings never hold NUL (\u0000 is refused).
 */
int json_doc_read(struct json_doc *doc, const char *text, size_t len, struct json_read_error *err);
void json_doc_free(struct json_doc *doc);

/* One member of an object, with where its key and its value start in the text. */
struct json_doc_member {
	const char *key; /* the object's own copy */
	struct json_t *value;
	size_t key_off;
	size_t value_off;
};

/*
 * The members of obj, a value of doc whose text starts at off, in the order
 * of the text; this parses obj's text once more. Returns 0 with *members (to free(); NULL when empty) and
 * *count; -ENOMEM; -EINVAL when off is not where obj starts.
 */
int json_doc_members(const struct json_doc *doc, struct json_t *obj, size_t off,
		     struct json_doc_member **members, size_t *count);

/*
 * Where each element of arr, an array of doc whose text starts at off,
 * starts in the text: *offsets (to free(); NULL when empty), *count. 0,
 * -ENOMEM, or -EINVAL when off is not where arr starts.
 */
int json_doc_elements(const struct json_doc *doc, struct json_t *arr, size_t off,
		      size_t **offsets, size_t *count);

/* Line and column (1-based, columns in characters) of a byte offset of doc's text. */
struct source_pos json_doc_pos(const struct json_doc *doc, size_t off);

/* "an object", "an array", "a string", "an integer", "a number", "a boolean", "null". */
const char *json_describe(const struct json_t *v);

/* The longest message json_msg_parse accepts, in bytes. */
#define JSON_MSG_MAX 65536

/* Named apart from jansson's JSON_STRING, JSON_OBJECT, ...: both are in scope in the reader. */
enum json_msg_type {
	JSON_MSG_STRING = 1, /* also numbers and booleans, as text (json_msg_parse) */
	JSON_MSG_OBJECT = 2, /* string -> string, one level */
	JSON_MSG_NULL = 3,
};

struct json_member {
	char *key;
	enum json_msg_type type;
	char *value;             /* JSON_MSG_STRING */
	struct json_member *members; /* JSON_MSG_OBJECT */
	size_t member_count;
};

struct json_msg {
	struct json_member *members; /* in the order of the text */
	size_t count;
};

/*
 * Parse one message: an object, at most JSON_MSG_MAX bytes. On error
 * returns -EINVAL and writes a message into err ("line 1, column 12:
 * expected a string value for \"labels.team\", found an integer"); -ENOMEM
 * ("out of memory"). Values of nested objects must be strings; arrays are
 * refused. Integers come as their decimal text (within int64), other
 * numbers in the fewest digits that read back the same, always with a '.'
 * or an exponent (2.50 is "2.5", 1e3 "1e+03", 1.0 "1.0"), so that they
 * never pass for an integer;
 * true and false as "true" and "false". msg is empty on error.
 */
int json_msg_parse(const char *text, size_t len, struct json_msg *msg, char *err, size_t err_size);
const struct json_member *json_msg_get(const struct json_msg *msg, const char *key);
/* The string value of key, or NULL when absent or not a string. */
const char *json_msg_string(const struct json_msg *msg, const char *key);
void json_msg_free(struct json_msg *msg);

#endif /* ACTGATE_JSON_H */
