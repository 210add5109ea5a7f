/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A YAML tree with positions, shared by policy.c and policytest.c. libyaml's
 * event API feeds it (the document API would resolve aliases silently, and
 * both refuse them); every problem becomes a diagnostic at the position of
 * the offending node.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util/io.h"
#include "util/yamltree.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

/* ---- the tree ---- */

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

static int ynode_append(struct ynode *parent, struct ynode *child)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **items = realloc(parent->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = child;
	return 0;
}

bool ynode_is(const struct ynode *n, const char *s)
{
	return n->len == strlen(s) && !memcmp(n->text, s, n->len);
}

const char *ynode_describe(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	switch (n->type) {
	case YSCALAR_NULL:
		return "an empty value";
	case YSCALAR_BOOL:
		return "a boolean";
	case YSCALAR_INT:
		return "an integer";
	case YSCALAR_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

bool ytree_all_digits(const char *s, const char *digits)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(digits, *s))
			return false;
	return true;
}

/*
 * libyaml leaves typing to the application. Plain scalars that the YAML 1.2
 * core schema reads as null, booleans or numbers are not strings, so that
 * "name: 123" or "default: true" are reported rather than taken as text.
 * YAML 1.1's wider rules (yes/no, sexagesimal 1:20) are not applied: they
 * would turn some IPv6 addresses into numbers.
 */
static enum yscalar_type plain_scalar_type(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
	static const char *const specials[] = { ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN" };
	const char *p = s;
	bool mantissa = false;

	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(s, nulls[i]))
			return YSCALAR_NULL;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!strcmp(s, bools[i]))
			return YSCALAR_BOOL;
	if ((!strncmp(s, "0x", 2) && ytree_all_digits(s + 2, "0123456789abcdefABCDEF")) ||
	    (!strncmp(s, "0o", 2) && ytree_all_digits(s + 2, "01234567")))
		return YSCALAR_INT;

	if (*p == '+' || *p == '-')
		p++;
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (!strcmp(p, specials[i]) && (p == s || i < 3))
			return YSCALAR_FLOAT;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p))
			p++;
		if (!*p)
			return YSCALAR_INT;
		mantissa = true;
	}
	if (*p == '.') {
		p++;
		if (isdigit((unsigned char)*p))
			mantissa = true;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!mantissa)
		return YSCALAR_STRING;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return YSCALAR_STRING;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p ? YSCALAR_STRING : YSCALAR_FLOAT;
}

/* ---- diagnostics ---- */

void ytree_report(struct ytree_ctx *ctx, enum diag_severity sev, struct source_pos pos,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == DIAG_ERROR)
		ctx->errors++;
	if (diag_add(ctx->diags, sev, ctx->file, pos.line, pos.col, "%s", msg))
		ctx->oom = -ENOMEM;
}

bool ytree_is_control(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	return c < 0x20 || c == 0x7f ||
	       (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		(unsigned char)s[i + 1] <= 0x9f);
}

/* Is there a control character? If so, name it ("\\x0a", "U+009B") and its byte (from 1). */
bool ytree_find_control(const char *s, size_t len, char name[8], size_t *at)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!ytree_is_control(s, len, i))
			continue;
		if (c == 0xc2) /* the first byte of a C1 control */
			snprintf(name, 8, "U+%04X", (unsigned char)s[i + 1]);
		else
			snprintf(name, 8, "\\x%02x", c);
		*at = i + 1;
		return true;
	}
	return false;
}

const char *ytree_quote(struct ytree_quoted *q, const char *s, size_t len)
{
	size_t o = 0;

	q->s[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Room for the longest escape (6 bytes, \u0094), then the cut marker (5). */
		if (o + 10 >= sizeof(q->s)) {
			/* Cut at a character boundary, not inside a UTF-8 sequence. */
			while (o > 1 && ((unsigned char)q->s[o - 1] & 0xc0) == 0x80)
				o--;
			if (o > 1 && (unsigned char)q->s[o - 1] >= 0xc0)
				o--;
			memcpy(q->s + o, "\"...", 5);
			return q->s;
		}
		if (c == '"' || c == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)c;
		} else if (!ytree_is_control(s, len, i)) {
			q->s[o++] = (char)c;
		} else if (c == 0xc2) {
			/* Both bytes go: the second alone is CSI to some terminals. */
			o += (size_t)snprintf(q->s + o, sizeof(q->s) - o, "\\u%04x",
					      (unsigned char)s[++i]);
		} else {
			o += (size_t)snprintf(q->s + o, sizeof(q->s) - o, "\\x%02x", c);
		}
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	return q->s;
}

/* ---- generic checks ---- */

bool ytree_expect_kind(struct ytree_ctx *ctx, const struct ynode *n, enum ynode_kind kind,
		       const char *where)
{
	if (n->kind == kind)
		return true;
	error_at(ctx, n->pos, "%s: expected %s, found %s", where,
		 kind == YNODE_MAP ? "a mapping" : "a list", ynode_describe(n));
	return false;
}

bool ytree_expect_string(struct ytree_ctx *ctx, const struct ynode *n, const char *where)
{
	if (n->kind == YNODE_SCALAR && n->type == YSCALAR_STRING)
		return true;
	if (n->kind == YNODE_SCALAR)
		error_at(ctx, n->pos, "%s: expected a string, found %s (quote it to make it a string)",
			 where, ynode_describe(n));
	else
		error_at(ctx, n->pos, "%s: expected a string, found %s", where, ynode_describe(n));
	return false;
}

bool ytree_duplicate_key(struct ytree_ctx *ctx, const struct ynode *map, size_t i,
			 const char *where)
{
	const struct ynode *k = map->items[i];
	struct ytree_quoted q;

	for (size_t j = 0; j < i; j += 2)
		if (ynode_is(map->items[j], k->text)) {
			error_at(ctx, k->pos, "duplicate key %s in %s (first at line %u)",
				 ytree_quote(&q, k->text, k->len), where, map->items[j]->pos.line);
			return true;
		}
	return false;
}

void ytree_map_fields(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
		      const char *const keys[], size_t nkeys, const struct ynode *key_nodes[],
		      const struct ynode *values[])
{
	char allowed[256] = "";

	for (size_t k = 0; k < nkeys; k++) {
		key_nodes[k] = NULL;
		values[k] = NULL;
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
			 k ? ", " : "", keys[k]);
	}

	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *key = map->items[i];
		struct ytree_quoted q;
		size_t k;

		if (key->kind != YNODE_SCALAR) {
			error_at(ctx, key->pos, "%s: keys must be strings, found %s", where,
				 ynode_describe(key));
			continue;
		}
		for (k = 0; k < nkeys; k++)
			if (ynode_is(key, keys[k]))
				break;
		if (k == nkeys) {
			const char *near = NULL;

			/* The usual slip is the case: apiversion, Kind. */
			for (size_t j = 0; j < nkeys && !near; j++)
				if (!strcasecmp(key->text, keys[j]))
					near = keys[j];
			error_at(ctx, key->pos, "unknown key %s in %s%s%s%s; allowed keys: %s",
				 ytree_quote(&q, key->text, key->len), where,
				 near ? " (did you mean \"" : "", near ? near : "",
				 near ? "\"?)" : "", allowed);
			continue;
		}
		if (values[k]) {
			error_at(ctx, key->pos, "duplicate key %s in %s (first at line %u)",
				 ytree_quote(&q, key->text, key->len), where,
				 key_nodes[k]->pos.line);
			continue;
		}
		key_nodes[k] = key;
		values[k] = map->items[i + 1];
	}
}

/* ---- YAML events to trees ---- */

struct tree_builder {
	struct ynode *root;
	struct ynode *stack[YTREE_MAX_DEPTH];
	size_t depth;
	bool rejected; /* an anchor, alias or tag was reported: do not check the document */
};

static int builder_add(struct ytree_ctx *ctx, struct tree_builder *b, const yaml_event_t *ev,
		       enum ynode_kind kind)
{
	struct ynode *n;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	struct source_pos pos = { ev->start_mark.line + 1, ev->start_mark.column + 1 };
	struct ytree_quoted q;
	int ret;

	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}

	/*
	 * Aliases let one rule or case stand in several places under one
	 * position, and nested ones let a small file expand into a huge one
	 * ("billion laughs"); a policy, and a test reviewed next to it, are
	 * easier to read written out.
	 */
	if (ev->type == YAML_ALIAS_EVENT) {
		const char *name = (const char *)ev->data.alias.anchor;

		error_at(ctx, pos,
			 "YAML aliases are not supported (*%s); write the value out, or quote "
			 "text that starts with '*'",
			 name);
		b->rejected = true;
	} else if (anchor) {
		/* libyaml restricts anchor names to [0-9A-Za-z_-]: safe to print. */
		error_at(ctx, pos,
			 "YAML anchors are not supported (&%s); quote text that starts with '&'",
			 (const char *)anchor);
		b->rejected = true;
	}
	/* Only "!" and !!str, on scalars, keep the meaning of the text unchanged. */
	if (tag && !(kind == YNODE_SCALAR && (!strcmp((const char *)tag, "!") ||
					      !strcmp((const char *)tag, YAML_STR_TAG)))) {
		error_at(ctx, pos, "YAML tags are not supported (%s)",
			 ytree_quote(&q, (const char *)tag, strlen((const char *)tag)));
		b->rejected = true;
	}

	if (kind != YNODE_SCALAR && b->depth == YTREE_MAX_DEPTH) {
		error_at(ctx, pos, "nested deeper than %d levels", YTREE_MAX_DEPTH);
		return -EINVAL;
	}

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = kind;
	n->pos = pos;
	if (ev->type == YAML_SCALAR_EVENT) {
		n->len = ev->data.scalar.length;
		n->text = malloc(n->len + 1);
		if (!n->text) {
			free(n);
			return -ENOMEM;
		}
		memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		n->type = YSCALAR_STRING;
		if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			n->type = plain_scalar_type(n->text);
	} else if (ev->type == YAML_ALIAS_EVENT) {
		/* A stand-in keeps keys and values paired; aliases are refused, so is the file. */
		n->type = YSCALAR_NULL;
		n->text = strdup("");
		if (!n->text) {
			free(n);
			return -ENOMEM;
		}
	}

	if (b->depth == 0) {
		ynode_free(b->root); /* only one root per document; defensive */
		b->root = n;
	} else if ((ret = ynode_append(b->stack[b->depth - 1], n))) {
		ynode_free(n);
		return ret;
	}
	if (kind != YNODE_SCALAR)
		b->stack[b->depth++] = n;
	return 0;
}

/* The position of a libyaml reader error, given as a byte offset. */
static struct source_pos offset_pos(const char *text, size_t len, size_t offset)
{
	struct source_pos pos = { 1, 1 };

	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else {
			pos.col++;
		}
	}
	return pos;
}

static void report_yaml_error(struct ytree_ctx *ctx, const yaml_parser_t *parser, const char *text,
			      size_t len)
{
	struct source_pos pos = { parser->problem_mark.line + 1, parser->problem_mark.column + 1 };
	const char *problem = parser->problem ? parser->problem : "unknown error";

	if (parser->error == YAML_READER_ERROR) {
		pos = offset_pos(text, len, parser->problem_offset);
		error_at(ctx, pos, "invalid YAML input: %s", problem);
	} else if (parser->context) {
		error_at(ctx, pos, "YAML syntax error: %s (%s at line %zu col %zu)", problem,
			 parser->context, parser->context_mark.line + 1,
			 parser->context_mark.column + 1);
	} else {
		error_at(ctx, pos, "YAML syntax error: %s", problem);
	}
}

int ytree_parse(struct ytree_ctx *ctx, const char *text, size_t len,
		ytree_document_fn on_document, void *arg, size_t *documents)
{
	struct tree_builder b = { 0 };
	yaml_parser_t parser;
	yaml_event_t event;
	bool done = false;
	int err = 0;

	*documents = 0;
	if (len > YTREE_MAX_BYTES) {
		error_at(ctx, (struct source_pos){ 0, 0 },
			 "%s is larger than the limit of %d bytes", ctx->what, YTREE_MAX_BYTES);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done && !err) {
		if (!yaml_parser_parse(&parser, &event)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				err = -ENOMEM;
				break;
			}
			report_yaml_error(ctx, &parser, text, len);
			err = -EINVAL;
			break;
		}

		switch (event.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b = (struct tree_builder){ 0 };
			break;
		case YAML_DOCUMENT_END_EVENT: {
			struct ynode *root = b.root;

			b.root = NULL;
			/* An empty document ("---" at the end of a file) says nothing. */
			if (root && !(root->kind == YNODE_SCALAR && root->type == YSCALAR_NULL &&
				      !root->len && !b.rejected)) {
				(*documents)++;
				err = on_document(arg, root, b.rejected);
			}
			ynode_free(root);
			break;
		}
		case YAML_MAPPING_START_EVENT:
			err = builder_add(ctx, &b, &event, YNODE_MAP);
			break;
		case YAML_SEQUENCE_START_EVENT:
			err = builder_add(ctx, &b, &event, YNODE_SEQ);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			err = builder_add(ctx, &b, &event, YNODE_SCALAR);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (b.depth)
				b.depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&event);
	}

	ynode_free(b.root);
	yaml_parser_delete(&parser);
	return err;
}

const char *ytree_read_error(int err)
{
	if (err == -EINVAL)
		return "not a regular file";
	return strerror(-err);
}

int ytree_read_file(const char *path, char **text, size_t *len)
{
	const size_t max = YTREE_MAX_BYTES;
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd, err = 0;

	*text = NULL;
	*len = 0;
	/*
	 * Non-blocking, so that a FIFO or a device named like a policy cannot
	 * hang the reader (the daemon's load and reload use it too); only a
	 * regular file is read.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto cleanup;
	}
	buf = malloc(max + 2);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* One byte past max tells a file that is too long from one that just fits. */
	err = read_full(fd, buf, max + 1, &n);
	if (err)
		goto cleanup;
	buf[n] = '\0';
	/*
	 * Keep only what the file holds: the daemon keeps every policy file's
	 * text for as long as the policy runs, and a megabyte each for files
	 * of some kilobytes came to 100 MB with 100 files.
	 */
	*text = malloc(n + 1);
	if (!*text) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(*text, buf, n + 1);
	*len = n;

cleanup:
	free(buf);
	close(fd);
	return err;
}

/* ---- directories of YAML files ---- */

bool ytree_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && !strcmp(name + n - s, suffix);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ytree_read_dir(DIR *d, bool (*keep)(const char *), char ***names, size_t *count)
{
	char **found = NULL;
	size_t n = 0;
	struct dirent *de;
	int err = 0;

	*names = NULL;
	*count = 0;
	while ((errno = 0, de = readdir(d))) {
		char **grown;

		if (!keep(de->d_name))
			continue;
		grown = realloc(found, (n + 1) * sizeof(*found));
		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		found = grown;
		found[n] = strdup(de->d_name);
		if (!found[n]) {
			err = -ENOMEM;
			goto cleanup;
		}
		n++;
	}
	if (errno) {
		err = -errno;
		goto cleanup;
	}
	if (n)
		qsort(found, n, sizeof(*found), name_cmp);
	*names = found;
	*count = n;
	return 0;

cleanup:
	ytree_free_names(found, n);
	return err;
}

void ytree_free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
