/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * JSON out. The writer produces valid JSON whatever bytes it is given:
 * invalid UTF-8 becomes U+FFFD, so a hostile path or comm cannot break a
 * consumer's parser. Libraries (jansson included) refuse such strings or
 * pass them through, so the writer stays ours; the reader is json-read.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

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
 * DEL, C1) and the line breaks NEL, LS and PS, because a terminal or a
 * line-oriented tool may act on them (and JavaScript before ES2019 ends a
 * line at LS and PS), and the noncharacters U+FFFE/U+FFFF, which some
 * decoders refuse.
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

void json_key_array_begin(struct json_out *j, const char *key)
{
	out_key(j, key);
	out_char(j, '[');
	j->need_comma = false;
}

void json_array_end(struct json_out *j)
{
	out_char(j, ']');
	j->need_comma = true;
}

void json_array_add_string(struct json_out *j, const char *value)
{
	if (j->need_comma)
		out_char(j, ',');
	out_string(j, value ? value : "");
	j->need_comma = true;
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
