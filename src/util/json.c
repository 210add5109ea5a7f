// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * JSON in and out.
 *
 * The writer produces valid JSON whatever bytes it is given: invalid UTF-8
 * becomes U+FFFD, so a hostile path or comm cannot break a consumer's parser.
 *
 * The reader parses one control-socket message with libyaml (JSON is YAML
 * flow style). libyaml alone accepts far more than JSON (comments, plain
 * words, single quotes, anchors, trailing commas, line folding inside
 * strings), so a small lexical pass first holds the text to JSON's grammar;
 * libyaml then builds the structure and this file checks its shape.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util/json.h"

/* ---- output ---- */

void json_out_init(struct json_out *j)
{
	memset(j, 0, sizeof(*j));
}

void json_out_reset(struct json_out *j)
{
	j->len = 0;
	j->need_comma = false;
	j->error = 0;
}

void json_out_free(struct json_out *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static bool out_reserve(struct json_out *j, size_t more)
{
	size_t cap;
	char *buf;

	if (j->error)
		return false;
	if (more <= j->cap - j->len)
		return true;
	cap = j->cap ? j->cap : 256;
	while (cap - j->len < more) {
		if (cap > SIZE_MAX / 2) {
			j->error = -ENOMEM;
			return false;
		}
		cap *= 2;
	}
	buf = realloc(j->buf, cap);
	if (!buf) {
		j->error = -ENOMEM;
		return false;
	}
	j->buf = buf;
	j->cap = cap;
	return true;
}

static void out_bytes(struct json_out *j, const char *s, size_t n)
{
	if (!out_reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void out_char(struct json_out *j, char c)
{
	out_bytes(j, &c, 1);
}

/*
 * Length of the valid UTF-8 sequence at s (at most avail bytes), 0 when the
 * byte at s does not start one. Overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_valid_len(const unsigned char *s, size_t avail, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters written as \uXXXX although JSON allows them raw: controls (C0,
 * DEL, C1), the noncharacters U+FFFE/U+FFFF, and the line breaks NEL, LS and
 * PS, because YAML (our own reader) treats those as line breaks or rejects
 * them, and a terminal may act on them.
 */
static bool needs_u_escape(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfffe || cp == 0xffff;
}

static void out_string(struct json_out *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, start = 0, len;
	char esc[8];
	uint32_t cp;

	out_char(j, '"');
	while (i < n) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
			i++; /* the common case, kept cheap */
			continue;
		}
		len = utf8_valid_len(s + i, n - i, &cp);
		if (len && cp != '"' && cp != '\\' && !needs_u_escape(cp)) {
			i += len;
			continue;
		}
		out_bytes(j, str + start, i - start);
		if (!len) {
			/* One replacement per invalid byte keeps the output valid JSON. */
			out_bytes(j, "\\ufffd", 6);
			len = 1;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			out_bytes(j, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			out_bytes(j, esc, 6);
		}
		i += len;
		start = i;
	}
	out_bytes(j, str + start, i - start);
	out_char(j, '"');
}

static void out_key(struct json_out *j, const char *key)
{
	if (j->need_comma)
		out_char(j, ',');
	out_string(j, key);
	out_char(j, ':');
	j->need_comma = true;
}

void json_object_begin(struct json_out *j)
{
	if (j->need_comma)
		out_char(j, ',');
	out_char(j, '{');
	j->need_comma = false;
}

void json_object_end(struct json_out *j)
{
	out_char(j, '}');
	j->need_comma = true;
}

void json_key_object_begin(struct json_out *j, const char *key)
{
	out_key(j, key);
	out_char(j, '{');
	j->need_comma = false;
}

void json_add_string(struct json_out *j, const char *key, const char *value)
{
	out_key(j, key);
	if (value)
		out_string(j, value);
	else
		out_bytes(j, "null", 4);
}

void json_add_u64(struct json_out *j, const char *key, uint64_t value)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)value);

	out_key(j, key);
	out_bytes(j, num, (size_t)n);
}

void json_add_i64(struct json_out *j, const char *key, int64_t value)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", (long long)value);

	out_key(j, key);
	out_bytes(j, num, (size_t)n);
}

void json_add_bool(struct json_out *j, const char *key, bool value)
{
	out_key(j, key);
	if (value)
		out_bytes(j, "true", 4);
	else
		out_bytes(j, "false", 5);
}

int json_out_write_line(struct json_out *j, FILE *out)
{
	if (j->error)
		return j->error;
	errno = 0;
	if (fwrite(j->buf, 1, j->len, out) != j->len || putc('\n', out) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

/* ---- input ---- */

struct parse_ctx {
	yaml_parser_t parser;
	bool parser_ready;
	const char *text;
	size_t len;
	char *err;
	size_t err_size;
};

static int fail(struct parse_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Report one error as "line L col C: what" (no position when line is 0). */
static int fail(struct parse_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->err || !c->err_size)
		return -EINVAL;
	if (line)
		n = snprintf(c->err, c->err_size, "line %u col %u: ", line, col);
	if (n >= 0 && (size_t)n < c->err_size) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Line and column (1-based, columns in characters) of a byte offset. */
static void offset_pos(const struct parse_ctx *c, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < c->len; i++) {
		unsigned char b = (unsigned char)c->text[i];

		if (b == '\n') {
			(*line)++;
			*col = 1;
		} else if ((b & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int fail_at(struct parse_ctx *c, size_t off, const char *what)
{
	unsigned line, col;

	offset_pos(c, off, &line, &col);
	return fail(c, line, col, "%s", what);
}

static int fail_mark(struct parse_ctx *c, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_mark(struct parse_ctx *c, const yaml_mark_t *m, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(c, (unsigned)m->line + 1, (unsigned)m->column + 1, "%s", what);
}

/* A key or value quoted for a message: printable ASCII as is, the rest \xHH, cut at 64. */
static const char *msg_quote(char *dst, size_t size, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] && o + 8 < size; i++) {
		unsigned char b = (unsigned char)s[i];

		if (i == 64) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\')
			dst[o++] = (char)b;
		else
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", b);
	}
	dst[o] = '\0';
	return dst;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static unsigned hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return ch - 'A' + 10;
}

static bool is_literal_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '+' || ch == '-' || ch == '.';
}

/*
 * Check the text of one JSON string starting at the opening quote at *pos;
 * leave *pos after the closing quote.
 */
static int lex_string(struct parse_ctx *c, size_t *pos)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t i = *pos + 1;
	char what[96];
	unsigned v;

	while (i < c->len) {
		unsigned char b = s[i];

		if (b == '"') {
			*pos = i + 1;
			return 0;
		}
		if (b < 0x20 || b == 0x7f) {
			snprintf(what, sizeof(what),
				 "control character 0x%02x in a string (write it as \\u%04x)", b, b);
			return fail_at(c, i, what);
		}
		/* YAML folds or refuses these where JSON keeps them: insist on escapes. */
		if (b == 0xc2 && i + 1 < c->len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			snprintf(what, sizeof(what),
				 "control character U+%04X in a string (write it as \\u%04x)",
				 s[i + 1], s[i + 1]);
			return fail_at(c, i, what);
		}
		if (b == 0xe2 && i + 2 < c->len && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			snprintf(what, sizeof(what),
				 "line separator U+%04X in a string (write it as \\u%04x)",
				 0x2000 + s[i + 2] - 0x80, 0x2000 + s[i + 2] - 0x80);
			return fail_at(c, i, what);
		}
		if (b != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= c->len)
			break;
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i += 2;
			continue;
		case 'u':
			break;
		default:
			if (s[i + 1] >= 0x20 && s[i + 1] < 0x7f)
				snprintf(what, sizeof(what), "invalid escape \"\\%c\" in a string",
					 s[i + 1]);
			else
				snprintf(what, sizeof(what), "invalid escape in a string");
			return fail_at(c, i, what);
		}
		if (i + 6 > c->len || !is_hex((char)s[i + 2]) || !is_hex((char)s[i + 3]) ||
		    !is_hex((char)s[i + 4]) || !is_hex((char)s[i + 5]))
			return fail_at(c, i, "\\u must be followed by four hex digits");
		v = (hex_value(s[i + 2]) << 12) | (hex_value(s[i + 3]) << 8) |
		    (hex_value(s[i + 4]) << 4) | hex_value(s[i + 5]);
		if (v == 0)
			return fail_at(c, i, "\\u0000 (NUL) is not allowed in a string");
		/* libyaml refuses surrogate escapes, so pairs cannot be decoded. */
		if (v >= 0xd800 && v <= 0xdfff)
			return fail_at(c, i, "surrogate escapes (\\ud800-\\udfff) are not "
					     "supported; send characters above U+FFFF as UTF-8");
		i += 6;
	}
	return fail_at(c, *pos, "unterminated string");
}

/*
 * Hold the text to JSON's lexical grammar where YAML is more lenient, find
 * the end of the top-level object, and refuse anything after it.
 */
static int lex_check(struct parse_ctx *c)
{
	size_t i = 0, depth = 0;
	char last = 0, what[96];
	int err;

	while (i < c->len && is_ws(c->text[i]))
		i++;
	if (i == c->len)
		return fail(c, 0, 0, "empty input");
	switch (c->text[i]) {
	case '{':
		break;
	case '[':
		return fail_at(c, i, "expected a JSON object, found an array");
	case '"':
		return fail_at(c, i, "expected a JSON object, found a string");
	default:
		if (is_literal_char(c->text[i]))
			return fail_at(c, i, "expected a JSON object, found a number or literal");
		return fail_at(c, i, "expected a JSON object");
	}

	while (i < c->len) {
		char ch = c->text[i];

		if (depth == 0 && last == '}') {
			if (is_ws(ch)) {
				i++;
				continue;
			}
			/* text is not NUL-terminated: compare within len only. */
			if (c->len - i >= 3 && (!memcmp(c->text + i, "---", 3) ||
						!memcmp(c->text + i, "...", 3)))
				return fail_at(c, i, "more than one document: expected one JSON object");
			return fail_at(c, i, "unexpected text after the object");
		}
		if (is_ws(ch)) {
			i++;
			continue;
		}
		/* A value (or key) must follow '{', '[', ',' or ':'; YAML would glue it on. */
		if ((ch == '"' || ch == '{' || ch == '[' || is_literal_char(ch)) && last &&
		    !strchr("{[,:", last))
			return fail_at(c, i, "expected ',', ':' or a closing bracket before this");
		switch (ch) {
		case '"':
			err = lex_string(c, &i);
			if (err)
				return err;
			last = '"';
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (last == ',')
				return fail_at(c, i, "trailing comma before the closing bracket");
			depth--;
			break;
		case ',':
			if (last == ',' || last == '{' || last == '[' || last == ':')
				return fail_at(c, i, "unexpected ','");
			break;
		case ':':
			break;
		case '#':
			return fail_at(c, i, "comments are not JSON");
		case '\'':
			return fail_at(c, i, "single-quoted strings are not JSON");
		case '&':
			return fail_at(c, i, "YAML anchors are not JSON");
		case '*':
			return fail_at(c, i, "YAML aliases are not JSON");
		case '!':
			return fail_at(c, i, "YAML tags are not JSON");
		default:
			if (is_literal_char(ch)) {
				while (i < c->len && is_literal_char(c->text[i]))
					i++;
				last = 'a';
				continue;
			}
			if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
				snprintf(what, sizeof(what), "unexpected character '%c'", ch);
			else
				snprintf(what, sizeof(what), "unexpected byte 0x%02x",
					 (unsigned char)ch);
			return fail_at(c, i, what);
		}
		/* ']' also leaves last as '}' at depth 0: libyaml reports the mismatch. */
		last = ch == ']' ? '}' : ch;
		i++;
	}
	if (depth)
		return fail_at(c, c->len, "unexpected end of input: the object is not closed");
	return 0;
}

static int yaml_failure(struct parse_ctx *c)
{
	const yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "malformed input";
	char what[256];

	if (p->error == YAML_MEMORY_ERROR)
		return fail(c, 0, 0, "out of memory");
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark. */
		snprintf(what, sizeof(what), "%s", problem);
		return fail_at(c, p->problem_offset, what);
	}
	if (p->context)
		return fail_mark(c, &p->problem_mark, "%s (%s)", problem, p->context);
	return fail_mark(c, &p->problem_mark, "%s", problem);
}

/* The next event, with what JSON cannot express refused. */
static int next_event(struct parse_ctx *c, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (!yaml_parser_parse(&c->parser, ev))
		return yaml_failure(c);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		anchor = ev->data.alias.anchor;
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	default:
		break;
	}
	if (ev->type == YAML_ALIAS_EVENT || anchor || tag) {
		int err = fail_mark(c, &ev->start_mark, "YAML %s are not JSON",
				    ev->type == YAML_ALIAS_EVENT ? "aliases" : anchor ? "anchors" : "tags");

		yaml_event_delete(ev);
		return err;
	}
	return 0;
}

static bool is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static const char *event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "an object";
	case YAML_SEQUENCE_START_EVENT:
		return "an array";
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE
			       ? "a string" : "a number or literal";
	default:
		return "something else";
	}
}

static bool scalar_has_nul(const yaml_event_t *ev)
{
	return strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length;
}

/* A key: a double-quoted scalar, not yet among members[0..count). */
static int take_key(struct parse_ctx *c, const yaml_event_t *ev, const char *parent,
		    const struct json_member *members, size_t count, char **key)
{
	const char *k = (const char *)ev->data.scalar.value;
	char q[300], pq[300];
	size_t i;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return fail_mark(c, &ev->start_mark, "expected a string key, found %s",
				 event_kind(ev));
	if (scalar_has_nul(ev))
		return fail_mark(c, &ev->start_mark, "a key contains a NUL character");
	for (i = 0; i < count; i++) {
		if (strcmp(members[i].key, k))
			continue;
		if (parent)
			return fail_mark(c, &ev->start_mark, "duplicate key \"%s.%s\"",
					 msg_quote(pq, sizeof(pq), parent), msg_quote(q, sizeof(q), k));
		return fail_mark(c, &ev->start_mark, "duplicate key \"%s\"",
				 msg_quote(q, sizeof(q), k));
	}
	*key = strdup(k);
	return *key ? 0 : -ENOMEM;
}

static int grow(struct json_member **members, size_t count, size_t *cap)
{
	struct json_member *m;
	size_t ncap;

	if (count < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	m = realloc(*members, ncap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	*members = m;
	*cap = ncap;
	return 0;
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

/* The members of a nested object (labels): string keys to string values. */
static int parse_object(struct parse_ctx *c, struct json_member *parent)
{
	yaml_event_t key_ev, val_ev;
	char q[300], pq[300];
	size_t cap = 0;
	char *key = NULL;
	int err;

	for (;;) {
		err = next_event(c, &key_ev);
		if (err)
			return err;
		if (key_ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key_ev);
			return 0;
		}
		err = take_key(c, &key_ev, parent->key, parent->members, parent->member_count, &key);
		yaml_event_delete(&key_ev);
		if (err)
			return err;

		err = next_event(c, &val_ev);
		if (err)
			goto out;
		if (val_ev.type != YAML_SCALAR_EVENT ||
		    val_ev.data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			err = fail_mark(c, &val_ev.start_mark,
					"expected a string value for \"%s.%s\", found %s%s",
					msg_quote(pq, sizeof(pq), parent->key),
					msg_quote(q, sizeof(q), key), event_kind(&val_ev),
					val_ev.type == YAML_MAPPING_START_EVENT
						? " (only one level of nesting is allowed)" : "");
			goto out_event;
		}
		if (scalar_has_nul(&val_ev)) {
			err = fail_mark(c, &val_ev.start_mark, "a string contains a NUL character");
			goto out_event;
		}
		err = grow(&parent->members, parent->member_count, &cap);
		if (err)
			goto out_event;
		parent->members[parent->member_count] = (struct json_member){
			.key = key,
			.type = JSON_STRING,
			.value = strdup((const char *)val_ev.data.scalar.value),
		};
		key = NULL;
		if (!parent->members[parent->member_count++].value) {
			err = -ENOMEM;
			goto out_event;
		}
		yaml_event_delete(&val_ev);
	}

out_event:
	yaml_event_delete(&val_ev);
out:
	free(key);
	return err;
}

/* One top-level member's value, after its key. */
static int parse_value(struct parse_ctx *c, struct json_member *m)
{
	yaml_event_t ev;
	const char *v;
	char q[300];
	int err;

	err = next_event(c, &ev);
	if (err)
		return err;
	switch (ev.type) {
	case YAML_MAPPING_START_EVENT:
		m->type = JSON_OBJECT;
		err = parse_object(c, m);
		break;
	case YAML_SEQUENCE_START_EVENT:
		err = fail_mark(c, &ev.start_mark, "value of \"%s\" is an array; arrays are not accepted",
				msg_quote(q, sizeof(q), m->key));
		break;
	case YAML_SCALAR_EVENT:
		v = (const char *)ev.data.scalar.value;
		if (ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			if (scalar_has_nul(&ev)) {
				err = fail_mark(c, &ev.start_mark, "a string contains a NUL character");
				break;
			}
		} else if (ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
			   !(!strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "null") ||
			     is_json_number(v))) {
			err = fail_mark(c, &ev.start_mark,
					*v ? "invalid value for \"%s\": expected a string, number, true, false or null"
					   : "missing value for \"%s\"",
					msg_quote(q, sizeof(q), m->key));
			break;
		}
		if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp(v, "null")) {
			m->type = JSON_NULL;
			break;
		}
		m->type = JSON_STRING;
		m->value = strdup(v);
		if (!m->value)
			err = -ENOMEM;
		break;
	default:
		err = fail_mark(c, &ev.start_mark, "expected a value for \"%s\"",
				msg_quote(q, sizeof(q), m->key));
		break;
	}
	yaml_event_delete(&ev);
	return err;
}

static int expect_event(struct parse_ctx *c, yaml_event_type_t type, const char *what)
{
	yaml_event_t ev;
	int err;

	err = next_event(c, &ev);
	if (err)
		return err;
	if (ev.type != type)
		err = fail_mark(c, &ev.start_mark, "%s", what);
	else if (type == YAML_DOCUMENT_START_EVENT && !ev.data.document_start.implicit)
		err = fail_mark(c, &ev.start_mark, "YAML document markers are not JSON");
	yaml_event_delete(&ev);
	return err;
}

static int parse_events(struct parse_ctx *c, struct json_msg *msg)
{
	yaml_event_t ev;
	size_t cap = 0;
	char *key = NULL;
	int err;

	err = expect_event(c, YAML_STREAM_START_EVENT, "expected a JSON object");
	if (err)
		return err;
	err = expect_event(c, YAML_DOCUMENT_START_EVENT, "expected a JSON object");
	if (err)
		return err;
	err = next_event(c, &ev);
	if (err)
		return err;
	if (ev.type != YAML_MAPPING_START_EVENT ||
	    ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE) {
		err = fail_mark(c, &ev.start_mark, "expected a JSON object, found %s",
				event_kind(&ev));
		yaml_event_delete(&ev);
		return err;
	}
	yaml_event_delete(&ev);

	for (;;) {
		err = next_event(c, &ev);
		if (err)
			return err;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		err = take_key(c, &ev, NULL, msg->members, msg->count, &key);
		yaml_event_delete(&ev);
		if (err)
			return err;
		err = grow(&msg->members, msg->count, &cap);
		if (err) {
			free(key);
			return err;
		}
		msg->members[msg->count++] = (struct json_member){ .key = key };
		err = parse_value(c, &msg->members[msg->count - 1]);
		if (err)
			return err;
	}

	err = expect_event(c, YAML_DOCUMENT_END_EVENT, "unexpected text after the object");
	if (err)
		return err;
	return expect_event(c, YAML_STREAM_END_EVENT,
			    "more than one document: expected one JSON object");
}

int json_msg_parse(const char *text, size_t len, struct json_msg *msg, char *err, size_t err_size)
{
	struct parse_ctx c = { .text = text, .len = len, .err = err, .err_size = err_size };
	int ret;

	memset(msg, 0, sizeof(*msg));
	if (err && err_size)
		err[0] = '\0';
	if (len > JSON_MSG_MAX) {
		ret = fail(&c, 0, 0, "message is %zu bytes, over the %d-byte limit", len,
			   JSON_MSG_MAX);
		goto out;
	}
	ret = lex_check(&c);
	if (ret)
		goto out;
	if (!yaml_parser_initialize(&c.parser)) {
		ret = -ENOMEM;
		goto out;
	}
	c.parser_ready = true;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&c.parser, YAML_UTF8_ENCODING);
	ret = parse_events(&c, msg);

out:
	if (c.parser_ready)
		yaml_parser_delete(&c.parser);
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

	return m && m->type == JSON_STRING ? m->value : NULL;
}

void json_msg_free(struct json_msg *msg)
{
	members_free(msg->members, msg->count);
	memset(msg, 0, sizeof(*msg));
}
