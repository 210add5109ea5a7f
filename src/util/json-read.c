/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * JSON in: the one reader, for control-socket messages and CAEP tokens.
 *
 * jansson (2.14 in bookworm) rather than json-c (0.16): jansson holds input
 * to RFC 8259 as it comes (no comments, single quotes, trailing commas, NaN
 * or Infinity, nothing after the value), validates UTF-8, decodes \u
 * surrogate pairs and refuses lone surrogates, refuses a key given twice at
 * any depth (JSON_REJECT_DUPLICATES), refuses \u0000 unless asked
 * (JSON_ALLOW_NUL), so every string is a C string, bounds nesting (2048),
 * and gives every error a line, a column and a byte position. json-c 0.16,
 * tried on these same inputs, keeps the last of two equal keys silently,
 * takes single quotes and NaN even with JSON_TOKENER_STRICT, turns a lone
 * surrogate into U+FFFD, and says where it stopped only as a byte offset.
 * A CAEP token is JSON from outside the host: a second key or a comment
 * must not slip through one parser and mean something else to another.
 *
 * jansson keeps no positions of values. json_doc_members finds them again
 * in the text: it steps over whitespace and the ',' and ':' between
 * members, and lets jansson itself measure each key and value (a value
 * parsed alone with JSON_DISABLE_EOF_CHECK reports how many bytes it took),
 * so the grammar stays jansson's alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json.h"

/* Strict JSON, any value at the top (callers say what they expected), no key twice. */
#define READ_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
/* One value of an already accepted text, to learn where it ends. */
#define MEASURE_FLAGS (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK)

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t skip_space(const struct json_doc *doc, size_t off)
{
	while (off < doc->len && is_space(doc->text[off]))
		off++;
	return off;
}

/* jansson's message, made safe to print: its "near '...'" quotes the input. */
static void copy_printable(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src && o + 5 < size; src++) {
		unsigned char b = (unsigned char)*src;

		if (b >= 0x20 && b < 0x7f)
			dst[o++] = (char)b;
		else
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", b);
	}
	dst[o] = '\0';
}

struct source_pos json_doc_pos(const struct json_doc *doc, size_t off)
{
	struct source_pos pos = { 1, 1 };

	for (size_t i = 0; i < off && i < doc->len; i++) {
		unsigned char b = (unsigned char)doc->text[i];

		if (b == '\n') {
			pos.line++;
			pos.col = 1;
		} else if ((b & 0xc0) != 0x80) {
			pos.col++; /* count characters, as jansson does: not UTF-8 continuation bytes */
		}
	}
	return pos;
}

int json_doc_read(struct json_doc *doc, const char *text, size_t len, struct json_read_error *err)
{
	struct source_pos pos;
	json_error_t e;
	const char *nul;

	*doc = (struct json_doc){ .text = text, .len = len };
	*err = (struct json_read_error){ 0 };
	doc->root_off = skip_space(doc, 0);
	if (doc->root_off == len) {
		/* jansson would say "unexpected token near end of file" at column 0. */
		snprintf(err->what, sizeof(err->what), "empty input");
		return -EINVAL;
	}
	/*
	 * A NUL byte is valid nowhere in JSON, but jansson 2.14 drops one that
	 * directly follows a number, true, false or null (its lookahead buffer
	 * reads NUL as "empty"), so {"a":1\0} would pass. Refused first.
	 */
	nul = memchr(text, '\0', len);
	if (nul) {
		pos = json_doc_pos(doc, (size_t)(nul - text));
		err->line = pos.line;
		err->col = pos.col;
		snprintf(err->what, sizeof(err->what), "a NUL byte is not allowed in JSON");
		return -EINVAL;
	}
	doc->root = json_loadb(text, len, READ_FLAGS, &e);
	if (doc->root)
		return 0;
	switch (json_error_code(&e)) {
	case json_error_out_of_memory:
		snprintf(err->what, sizeof(err->what), "out of memory");
		return -ENOMEM;
	case json_error_null_character:
		/* jansson's own words name a flag of its API. */
		snprintf(err->what, sizeof(err->what), "\\u0000 (NUL) is not allowed in a string");
		break;
	default:
		copy_printable(err->what, sizeof(err->what), e.text);
		break;
	}
	if (e.line > 0) {
		err->line = (unsigned)e.line;
		/* Column 0 is jansson's "just after a newline": the line's first column. */
		err->col = e.column > 0 ? (unsigned)e.column : 1;
	}
	return -EINVAL;
}

void json_doc_free(struct json_doc *doc)
{
	json_decref(doc->root);
	doc->root = NULL;
}

/* The end of the value that starts at off (an accepted text's), or 0 with *err set. */
static size_t value_end(const struct json_doc *doc, size_t off, json_t **value, int *err)
{
	json_error_t e;
	json_t *v = json_loadb(doc->text + off, doc->len - off, MEASURE_FLAGS, &e);

	if (!v) {
		*err = json_error_code(&e) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
		return 0;
	}
	if (value)
		*value = v;
	else
		json_decref(v);
	/* Saved on success too: the bytes the value took (numbers give back their lookahead). */
	return off + (size_t)e.position;
}

int json_doc_members(const struct json_doc *doc, struct json_t *obj, size_t off,
		     struct json_doc_member **members, size_t *count)
{
	size_t n = json_object_size(obj), i;
	struct json_doc_member *m = NULL;
	json_t *key = NULL;
	void *iter;
	int err = -EINVAL;

	*members = NULL;
	*count = 0;
	off = skip_space(doc, off);
	if (!json_is_object(obj) || off >= doc->len || doc->text[off] != '{')
		return -EINVAL;
	off++;
	if (n) {
		m = calloc(n, sizeof(*m));
		if (!m)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		off = skip_space(doc, off);
		if (i) {
			if (off >= doc->len || doc->text[off] != ',')
				goto fail;
			off = skip_space(doc, off + 1);
		}
		m[i].key_off = off;
		off = value_end(doc, off, &key, &err);
		if (!off)
			goto fail;
		/* The key as decoded (escapes and all) finds the member and its own copy of the key. */
		iter = json_is_string(key) ? json_object_iter_at(obj, json_string_value(key)) : NULL;
		json_decref(key);
		if (!iter)
			goto fail;
		m[i].key = json_object_iter_key(iter);
		m[i].value = json_object_iter_value(iter);
		off = skip_space(doc, off);
		if (off >= doc->len || doc->text[off] != ':')
			goto fail;
		m[i].value_off = skip_space(doc, off + 1);
		off = value_end(doc, m[i].value_off, NULL, &err);
		if (!off)
			goto fail;
	}
	*members = m;
	*count = n;
	return 0;

fail:
	free(m);
	return err;
}

int json_doc_elements(const struct json_doc *doc, struct json_t *arr, size_t off,
		      size_t **offsets, size_t *count)
{
	size_t n = json_array_size(arr), *o = NULL;
	int err = -EINVAL;

	*offsets = NULL;
	*count = 0;
	off = skip_space(doc, off);
	if (!json_is_array(arr) || off >= doc->len || doc->text[off] != '[')
		return -EINVAL;
	off++;
	if (n) {
		o = calloc(n, sizeof(*o));
		if (!o)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		off = skip_space(doc, off);
		if (i) {
			if (off >= doc->len || doc->text[off] != ',')
				goto fail;
			off = skip_space(doc, off + 1);
		}
		o[i] = off;
		off = value_end(doc, off, NULL, &err);
		if (!off)
			goto fail;
	}
	*offsets = o;
	*count = n;
	return 0;

fail:
	free(o);
	return err;
}

const char *json_describe(const struct json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* ---- control-socket messages ---- */

struct msg_ctx {
	const struct json_doc *doc;
	char *err;
	size_t err_size;
};

static int fail(struct msg_ctx *c, struct source_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One error as "line L, column C: what" (no position when line is 0). */
static int fail(struct msg_ctx *c, struct source_pos pos, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->err || !c->err_size)
		return -EINVAL;
	if (pos.line)
		n = snprintf(c->err, c->err_size, "line %u, column %u: ", pos.line, pos.col);
	if (n >= 0 && (size_t)n < c->err_size) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A key quoted for a message: printable ASCII as is, the rest \xHH, cut at 64 bytes. */
static const char *key_quote(char *dst, size_t size, const char *s)
{
	size_t len = strlen(s);
	char cut[68];

	if (len > 64) {
		memcpy(cut, s, 64);
		memcpy(cut + 64, "...", 4);
		s = cut;
	}
	copy_printable(dst, size, s);
	return dst;
}

/*
 * A real number in the fewest digits that read back as the same double,
 * with a '.' or an exponent kept, so that it never reads as an integer.
 */
static void real_text(double d, char *buf, size_t size)
{
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, size, "%.*g", digits, d);
		if (strtod(buf, NULL) == d)
			break; /* 17 significant digits always read back */
	}
	if (!strpbrk(buf, ".e"))
		snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

/* A scalar's text as a message member holds it; NULL for what is not a scalar. */
static char *scalar_text(const json_t *v)
{
	char num[40];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(num);
	case JSON_REAL:
		real_text(json_real_value(v), num, sizeof(num));
		return strdup(num);
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	default:
		return NULL;
	}
}

/* The members of obj in text order, and room for as many message members. */
static int members_and_room(struct msg_ctx *c, json_t *obj, size_t off,
			    struct json_doc_member **m, size_t *n, struct json_member **room)
{
	int err = json_doc_members(c->doc, obj, off, m, n);

	if (err || !*n)
		return err;
	*room = calloc(*n, sizeof(**room));
	if (*room)
		return 0;
	free(*m);
	*m = NULL;
	return -ENOMEM;
}

/* The members of a nested object (labels): string keys to string values. */
static int take_labels(struct msg_ctx *c, struct json_member *parent, json_t *obj, size_t off)
{
	struct json_doc_member *m = NULL;
	char q[300], pq[300];
	size_t n, i;
	int err;

	err = members_and_room(c, obj, off, &m, &n, &parent->members);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct json_member *l = &parent->members[i];

		if (!json_is_string(m[i].value)) {
			err = fail(c, json_doc_pos(c->doc, m[i].value_off),
				   "expected a string value for \"%s.%s\", found %s%s",
				   key_quote(pq, sizeof(pq), parent->key),
				   key_quote(q, sizeof(q), m[i].key), json_describe(m[i].value),
				   json_is_object(m[i].value) ? " (only one level of nesting is allowed)"
							      : "");
			goto out;
		}
		l->type = JSON_MSG_STRING;
		l->key = strdup(m[i].key);
		l->value = strdup(json_string_value(m[i].value));
		parent->member_count++;
		if (!l->key || !l->value) {
			err = -ENOMEM;
			goto out;
		}
	}
out:
	free(m);
	return err;
}

static int take_members(struct msg_ctx *c, struct json_msg *msg)
{
	struct json_doc_member *m = NULL;
	char q[300];
	size_t n, i;
	int err;

	err = members_and_room(c, c->doc->root, c->doc->root_off, &m, &n, &msg->members);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct json_member *mm = &msg->members[i];

		mm->key = strdup(m[i].key);
		msg->count++;
		if (!mm->key) {
			err = -ENOMEM;
			goto out;
		}
		switch (json_typeof(m[i].value)) {
		case JSON_OBJECT:
			mm->type = JSON_MSG_OBJECT;
			err = take_labels(c, mm, m[i].value, m[i].value_off);
			break;
		case JSON_ARRAY:
			err = fail(c, json_doc_pos(c->doc, m[i].value_off),
				   "value of \"%s\" is an array; arrays are not accepted",
				   key_quote(q, sizeof(q), m[i].key));
			break;
		case JSON_NULL:
			mm->type = JSON_MSG_NULL;
			break;
		default:
			mm->type = JSON_MSG_STRING;
			mm->value = scalar_text(m[i].value);
			if (!mm->value)
				err = -ENOMEM;
			break;
		}
		if (err)
			goto out;
	}
out:
	free(m);
	return err;
}

int json_msg_parse(const char *text, size_t len, struct json_msg *msg, char *err, size_t err_size)
{
	struct json_doc doc = { 0 };
	struct msg_ctx c = { .doc = &doc, .err = err, .err_size = err_size };
	struct json_read_error re;
	int ret;

	memset(msg, 0, sizeof(*msg));
	if (err && err_size)
		err[0] = '\0';
	if (len > JSON_MSG_MAX) {
		ret = fail(&c, (struct source_pos){ 0, 0 },
			   "message is %zu bytes, over the %d-byte limit", len, JSON_MSG_MAX);
		goto out;
	}
	ret = json_doc_read(&doc, text, len, &re);
	if (ret == -EINVAL)
		fail(&c, (struct source_pos){ re.line, re.col }, "%s", re.what);
	if (ret)
		goto out;
	if (!json_is_object(doc.root)) {
		ret = fail(&c, json_doc_pos(&doc, doc.root_off), "expected a JSON object, found %s",
			   json_describe(doc.root));
		goto out;
	}
	ret = take_members(&c, msg);
	if (ret == -EINVAL && err && err_size && !err[0])
		/* Not reached: the text was just read whole; said rather than left blank. */
		fail(&c, (struct source_pos){ 0, 0 }, "a member's place in the text was not found");

out:
	json_doc_free(&doc);
	if (ret == -ENOMEM && err && err_size)
		snprintf(err, err_size, "out of memory");
	if (ret)
		json_msg_free(msg);
	return ret;
}

const struct json_member *json_msg_get(const struct json_msg *msg, const char *key)
{
	size_t i;

	for (i = 0; i < msg->count; i++)
		if (!strcmp(msg->members[i].key, key))
			return &msg->members[i];
	return NULL;
}

const char *json_msg_string(const struct json_msg *msg, const char *key)
{
	const struct json_member *m = json_msg_get(msg, key);

	return m && m->type == JSON_MSG_STRING ? m->value : NULL;
}

static void members_free(struct json_member *members, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(members[i].key);
		free(members[i].value);
		members_free(members[i].members, members[i].member_count);
	}
	free(members);
}

void json_msg_free(struct json_msg *msg)
{
	members_free(msg->members, msg->count);
	memset(msg, 0, sizeof(*msg));
}
