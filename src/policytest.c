// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy tests (docs/policy-tests.md). A test file is read like a policy
 * file: libyaml's events build a small tree with positions (anchors, aliases
 * and tags are refused, as in policies: a test is reviewed next to the policy
 * it tests and should read the same way), the tree is checked key by key, and
 * checking goes on after an error so that one run reports them all. The
 * cases are then decided by the userspace evaluator, which shares the
 * kernel's precedence; a case that fails says what decided instead and why.
 */
#include <linux/types.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "actgate/abi.h"
#include "compile.h"
#include "journal.h"
#include "policytest.h"
#include "workload.h"

/* The same bounds as a policy file: a test is small, a hostile file must stay cheap. */
#define TEST_MAX_BYTES (1024 * 1024)
#define TEST_MAX_DEPTH 32

/* ---- a YAML tree with positions ---- */

enum tnode_kind {
	TNODE_SCALAR,
	TNODE_MAP,
	TNODE_SEQ,
};

/* What a plain scalar means under the YAML 1.2 core schema, as policy.c reads it. */
enum tscalar_type {
	TSCALAR_STRING,
	TSCALAR_NULL,
	TSCALAR_BOOL,
	TSCALAR_INT,
	TSCALAR_FLOAT,
};

struct tnode {
	enum tnode_kind kind;
	enum tscalar_type type;
	struct policy_pos pos;
	char *text;            /* scalars: NUL-terminated, may also hold NULs */
	size_t len;
	struct tnode **items;  /* a map holds key, value, key, value, ... */
	size_t count;
	size_t cap;
};

static void tnode_free(struct tnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++)
		tnode_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

static int tnode_append(struct tnode *parent, struct tnode *child)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct tnode **items = realloc(parent->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = child;
	return 0;
}

static bool digits_only(const char *s, const char *digits)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(digits, *s))
			return false;
	return true;
}

/*
 * A plain "expect: true" or "name: 12" is not text: report it rather than
 * take it as a string, the way policies are read (YAML 1.2 core schema, not
 * 1.1's yes/no and sexagesimals, which would turn IPv6 addresses into numbers).
 */
static enum tscalar_type plain_type(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
	static const char *const floats[] = { ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN" };
	const char *p = s;
	bool mantissa = false;

	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(s, nulls[i]))
			return TSCALAR_NULL;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!strcmp(s, bools[i]))
			return TSCALAR_BOOL;
	if ((!strncmp(s, "0x", 2) && digits_only(s + 2, "0123456789abcdefABCDEF")) ||
	    (!strncmp(s, "0o", 2) && digits_only(s + 2, "01234567")))
		return TSCALAR_INT;
	if (*p == '+' || *p == '-')
		p++;
	for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++)
		if (!strcmp(p, floats[i]) && (p == s || i < 3))
			return TSCALAR_FLOAT;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p))
			p++;
		if (!*p)
			return TSCALAR_INT;
		mantissa = true;
	}
	if (*p == '.') {
		p++;
		mantissa |= isdigit((unsigned char)*p) != 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!mantissa)
		return TSCALAR_STRING;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return TSCALAR_STRING;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p ? TSCALAR_STRING : TSCALAR_FLOAT;
}

/* ---- diagnostics ---- */

/* A case name seen so far in the file, for duplicates across its documents. */
struct seen_name {
	char *name;
	unsigned line;
};

struct test_ctx {
	const char *file;
	const char *base_dir;
	struct diag_list *diags;
	size_t errors; /* counted here too: diag_add can fail for lack of memory */
	int oom;
	struct seen_name *seen;
	size_t seen_count;
};

static void error_at(struct test_ctx *ctx, struct policy_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_at(struct test_ctx *ctx, struct policy_pos pos, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->errors++;
	if (diag_add(ctx->diags, DIAG_ERROR, ctx->file, pos.line, pos.col, "%s", msg))
		ctx->oom = -ENOMEM;
}

/*
 * Text from the file, safe to print: quoted, control characters escaped (a
 * test file must not be able to drive the terminal), cut short when long.
 */
struct quoted {
	char s[100];
};

static bool is_control_at(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	/* C1 controls (U+0080-U+009F) too: some terminals obey them; 0x9b is CSI. */
	return c < 0x20 || c == 0x7f ||
	       (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		(unsigned char)s[i + 1] <= 0x9f);
}

static const char *quote(struct quoted *q, const char *s, size_t len)
{
	size_t o = 0;

	q->s[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 8 >= sizeof(q->s)) {
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
		} else if (is_control_at(s, len, i)) {
			o += (size_t)snprintf(q->s + o, sizeof(q->s) - o, "\\x%02x", c);
		} else {
			q->s[o++] = (char)c;
		}
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	return q->s;
}

static const char *describe(const struct tnode *n)
{
	if (n->kind == TNODE_MAP)
		return "a mapping";
	if (n->kind == TNODE_SEQ)
		return "a list";
	switch (n->type) {
	case TSCALAR_NULL:
		return "an empty value";
	case TSCALAR_BOOL:
		return "a boolean";
	case TSCALAR_INT:
		return "an integer";
	case TSCALAR_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

static bool expect_kind(struct test_ctx *ctx, const struct tnode *n, enum tnode_kind kind,
			const char *where)
{
	if (n->kind == kind)
		return true;
	error_at(ctx, n->pos, "%s: expected %s, found %s", where,
		 kind == TNODE_MAP ? "a mapping" : "a list", describe(n));
	return false;
}

/*
 * A string that is printed later (case names, workloads, rule names appear
 * in FAIL lines): no control characters, no NULs, not empty.
 */
static bool expect_text(struct test_ctx *ctx, const struct tnode *n, const char *where)
{
	if (n->kind != TNODE_SCALAR) {
		error_at(ctx, n->pos, "%s: expected a string, found %s", where, describe(n));
		return false;
	}
	if (n->type != TSCALAR_STRING) {
		error_at(ctx, n->pos, "%s: expected a string, found %s (quote it to make it a string)",
			 where, describe(n));
		return false;
	}
	if (n->len == 0) {
		error_at(ctx, n->pos, "%s: expected a string, found an empty one", where);
		return false;
	}
	for (size_t i = 0; i < n->len; i++) {
		if (is_control_at(n->text, n->len, i)) {
			struct quoted q;

			error_at(ctx, n->pos, "%s: %s contains a control character", where,
				 quote(&q, n->text, n->len));
			return false;
		}
	}
	return true;
}

static bool scalar_is(const struct tnode *n, const char *s)
{
	return n->len == strlen(s) && !memcmp(n->text, s, n->len);
}

/*
 * Check a mapping against the keys it may hold: unknown and duplicate keys
 * are errors. values[i] receives the value of keys[i], NULL when absent.
 */
static void map_fields(struct test_ctx *ctx, const struct tnode *map, const char *where,
		       const char *const keys[], size_t nkeys, const struct tnode *values[])
{
	const struct tnode *key_nodes[8] = { 0 };
	char allowed[256] = "";

	for (size_t k = 0; k < nkeys; k++) {
		values[k] = NULL;
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
			 k ? ", " : "", keys[k]);
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct tnode *key = map->items[i];
		struct quoted q;
		size_t k;

		if (key->kind != TNODE_SCALAR) {
			error_at(ctx, key->pos, "%s: keys must be strings, found %s", where,
				 describe(key));
			continue;
		}
		for (k = 0; k < nkeys; k++)
			if (scalar_is(key, keys[k]))
				break;
		if (k == nkeys) {
			const char *near = NULL;

			/* The usual slip is the case: apiversion, Expect. */
			for (size_t j = 0; j < nkeys && !near; j++)
				if (!strcasecmp(key->text, keys[j]))
					near = keys[j];
			error_at(ctx, key->pos, "unknown key %s in %s%s%s%s; allowed keys: %s",
				 quote(&q, key->text, key->len), where, near ? " (did you mean \"" : "",
				 near ? near : "", near ? "\"?)" : "", allowed);
			continue;
		}
		if (values[k]) {
			error_at(ctx, key->pos, "duplicate key %s in %s (first at line %u)",
				 quote(&q, key->text, key->len), where, key_nodes[k]->pos.line);
			continue;
		}
		key_nodes[k] = key;
		values[k] = map->items[i + 1];
	}
}

/* One of a few words (action, expect, mode); -1 after reporting anything else. */
static int expect_word(struct test_ctx *ctx, const struct tnode *n, const char *where,
		       const char *const words[], size_t nwords, const char *listed)
{
	struct quoted q;

	if (!expect_text(ctx, n, where))
		return -1;
	for (size_t i = 0; i < nwords; i++)
		if (scalar_is(n, words[i]))
			return (int)i;
	error_at(ctx, n->pos, "%s: expected %s, found %s", where, listed,
		 quote(&q, n->text, n->len));
	return -1;
}

static char *dup_text(struct test_ctx *ctx, const struct tnode *n)
{
	char *s = strdup(n->text);

	if (!s)
		ctx->oom = -ENOMEM;
	return s;
}

/* ---- the policies a document names ---- */

/* A document while it is checked: the files its policies come from, loaded later. */
struct doc_build {
	struct policytest_doc doc;
	char **files;
	size_t file_count;
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && !strcmp(name + n - s, suffix);
}

bool policytest_is_test_name(const char *name)
{
	return name[0] != '.' && (has_suffix(name, ".test.yaml") || has_suffix(name, ".test.yml"));
}

/* A directory's policy files, as policy_load_dir picks them, less the tests kept beside them. */
static bool is_policy_name(const char *name)
{
	return name[0] != '.' && (has_suffix(name, ".yaml") || has_suffix(name, ".yml")) &&
	       !policytest_is_test_name(name);
}

/* "dir/name", without doubling a '/' the user wrote ("policies/"). */
static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *out;

	if (asprintf(&out, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return out;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir whose names pass keep, sorted; 0 or -errno. */
static int list_dir(const char *dir, bool (*keep)(const char *), char ***paths, size_t *count)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	*paths = NULL;
	*count = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		char **grown;

		if (!keep(de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		names = grown;
		names[n] = join_path(dir, de->d_name);
		if (!names[n]) {
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
		qsort(names, n, sizeof(*names), name_cmp);
	*paths = names;
	*count = n;
	names = NULL;
	n = 0;

cleanup:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

int policytest_list_dir(const char *dir, char ***paths, size_t *count)
{
	return list_dir(dir, policytest_is_test_name, paths, count);
}

static int add_file(struct doc_build *db, char *path)
{
	char **grown = realloc(db->files, (db->file_count + 1) * sizeof(*grown));

	if (!grown) {
		free(path);
		return -ENOMEM;
	}
	db->files = grown;
	db->files[db->file_count++] = path;
	return 0;
}

/* One spec.policies entry: a file, or a directory's policy files. */
static void resolve_policy_entry(struct test_ctx *ctx, const struct tnode *n, const char *where,
				 struct doc_build *db)
{
	char *full = NULL, **files = NULL;
	size_t count = 0;
	struct quoted q;
	struct stat st;
	int err;

	if (!expect_text(ctx, n, where))
		return;
	/* Relative to the test file, so that a test and its policies move together. */
	if (n->text[0] == '/' || !strcmp(ctx->base_dir, "."))
		full = strdup(n->text);
	else
		full = join_path(ctx->base_dir, n->text);
	if (!full) {
		ctx->oom = -ENOMEM;
		return;
	}
	if (stat(full, &st)) {
		error_at(ctx, n->pos, "%s: cannot read %s: %s", where, quote(&q, full, strlen(full)),
			 strerror(errno));
		goto cleanup;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (add_file(db, full))
			ctx->oom = -ENOMEM;
		full = NULL;
		goto cleanup;
	}
	err = list_dir(full, is_policy_name, &files, &count);
	if (err == -ENOMEM) {
		ctx->oom = err;
		goto cleanup;
	}
	if (err) {
		error_at(ctx, n->pos, "%s: cannot read directory %s: %s", where,
			 quote(&q, full, strlen(full)), strerror(-err));
		goto cleanup;
	}
	if (count == 0) {
		error_at(ctx, n->pos,
			 "%s: no policy files (*.yaml, *.yml other than *.test.yaml) in %s", where,
			 quote(&q, full, strlen(full)));
		goto cleanup;
	}
	for (size_t i = 0; i < count; i++) {
		if (add_file(db, files[i]))
			ctx->oom = -ENOMEM;
		files[i] = NULL;
	}

cleanup:
	for (size_t i = 0; i < count; i++)
		free(files[i]);
	free(files);
	free(full);
}

/* ---- checking a document ---- */

static const char *const action_words[] = { "exec", "open", "connect" };
static const uint8_t action_values[] = { ACTGATE_ACTION_EXEC, ACTGATE_ACTION_OPEN,
					 ACTGATE_ACTION_CONNECT };
static const char *const verdict_words[] = { "allow", "deny" };
static const uint8_t verdict_values[] = { ACTGATE_VERDICT_ALLOW, ACTGATE_VERDICT_DENY };
static const char *const mode_words[] = { "enforce", "audit" };
static const uint8_t mode_values[] = { ACTGATE_MODE_ENFORCE, ACTGATE_MODE_AUDIT };

static void check_case_name(struct test_ctx *ctx, const struct tnode *n, const char *where)
{
	struct seen_name *grown;
	struct quoted q;

	for (size_t i = 0; i < ctx->seen_count; i++) {
		if (!strcmp(ctx->seen[i].name, n->text)) {
			/* FAIL lines name cases: two of one name would be told apart by line only. */
			error_at(ctx, n->pos, "%s: duplicate case name %s (first at line %u)", where,
				 quote(&q, n->text, n->len), ctx->seen[i].line);
			return;
		}
	}
	grown = realloc(ctx->seen, (ctx->seen_count + 1) * sizeof(*grown));
	if (!grown) {
		ctx->oom = -ENOMEM;
		return;
	}
	ctx->seen = grown;
	ctx->seen[ctx->seen_count].name = strdup(n->text);
	if (!ctx->seen[ctx->seen_count].name) {
		ctx->oom = -ENOMEM;
		return;
	}
	ctx->seen[ctx->seen_count++].line = n->pos.line;
}

static void check_target(struct test_ctx *ctx, const struct tnode *n, const char *where,
			 struct policytest_case *c)
{
	struct path_rule rule = { 0 };
	char why[256];
	struct quoted q;
	int err;

	if (c->action.action == ACTGATE_ACTION_CONNECT) {
		if (eval_parse_connect_target(n->text, c->action.addr, &c->action.port, why,
					      sizeof(why)))
			error_at(ctx, n->pos, "%s: %s", where, why);
		return;
	}
	/* Normalised as policy paths are, so that "//usr/./bin/curl" meets "/usr/bin/curl". */
	err = policy_parse_path_target(n->text, n->len, &rule, why, sizeof(why));
	if (err == -ENOMEM) {
		ctx->oom = err;
		return;
	}
	if (err) {
		error_at(ctx, n->pos, "%s: %s: %s", where, why, quote(&q, n->text, n->len));
		return;
	}
	c->path = rule.path;
	c->action.path = c->path;
}

static void parse_case(struct test_ctx *ctx, const struct tnode *n, size_t index,
		       struct policytest_case *c)
{
	enum { NAME, WORKLOAD, ACTION, TARGET, EXPECT, RULE, MODE, NKEYS };
	static const char *const keys[NKEYS] = { "name",   "workload", "action", "target",
						 "expect", "rule",     "mode" };
	static const char *const required[NKEYS] = { [WORKLOAD] = "workload", [ACTION] = "action",
						     [TARGET] = "target", [EXPECT] = "expect" };
	const struct tnode *vals[NKEYS];
	char where[64], what[96], why[256];
	int word, action = -1;

	c->pos = n->pos;
	c->mode = -1;
	snprintf(where, sizeof(where), "spec.cases[%zu]", index);
	if (asprintf(&c->name, "case %zu", index + 1) < 0) {
		c->name = NULL;
		ctx->oom = -ENOMEM;
		return;
	}
	if (!expect_kind(ctx, n, TNODE_MAP, where))
		return;
	map_fields(ctx, n, where, keys, NKEYS, vals);
	for (size_t k = 0; k < NKEYS; k++)
		if (required[k] && !vals[k])
			error_at(ctx, n->pos, "missing required key \"%s\" in %s", required[k], where);

	snprintf(what, sizeof(what), "%s.name", where);
	if (vals[NAME] && expect_text(ctx, vals[NAME], what)) {
		check_case_name(ctx, vals[NAME], what);
		free(c->name);
		c->name = dup_text(ctx, vals[NAME]);
	}
	snprintf(what, sizeof(what), "%s.workload", where);
	if (vals[WORKLOAD] && expect_text(ctx, vals[WORKLOAD], what)) {
		/* A name actgate run would refuse can never be a workload: say so now. */
		if (workload_name_check(vals[WORKLOAD]->text, why, sizeof(why)))
			error_at(ctx, vals[WORKLOAD]->pos, "%s: %s", what, why);
		c->workload = dup_text(ctx, vals[WORKLOAD]);
	}
	snprintf(what, sizeof(what), "%s.action", where);
	if (vals[ACTION]) {
		action = expect_word(ctx, vals[ACTION], what, action_words, 3,
				     "exec, open or connect");
		if (action >= 0)
			c->action.action = action_values[action];
	}
	snprintf(what, sizeof(what), "%s.target", where);
	if (vals[TARGET] && expect_text(ctx, vals[TARGET], what)) {
		c->target = dup_text(ctx, vals[TARGET]);
		/* What a target must be depends on the action: nothing to say without one. */
		if (action >= 0)
			check_target(ctx, vals[TARGET], what, c);
	}
	snprintf(what, sizeof(what), "%s.expect", where);
	if (vals[EXPECT]) {
		word = expect_word(ctx, vals[EXPECT], what, verdict_words, 2, "allow or deny");
		if (word >= 0)
			c->expect = verdict_values[word];
	}
	snprintf(what, sizeof(what), "%s.rule", where);
	if (vals[RULE] && expect_text(ctx, vals[RULE], what))
		c->rule = dup_text(ctx, vals[RULE]);
	snprintf(what, sizeof(what), "%s.mode", where);
	if (vals[MODE]) {
		word = expect_word(ctx, vals[MODE], what, mode_words, 2, "enforce or audit");
		if (word >= 0)
			c->mode = mode_values[word];
	}
}

static void parse_spec(struct test_ctx *ctx, const struct tnode *n, struct doc_build *db)
{
	static const char *const keys[] = { "policies", "cases" };
	const struct tnode *vals[2];
	char where[64];

	if (!expect_kind(ctx, n, TNODE_MAP, "spec"))
		return;
	map_fields(ctx, n, "spec", keys, 2, vals);

	if (!vals[0]) {
		error_at(ctx, n->pos, "missing required key \"policies\" in spec");
	} else if (expect_kind(ctx, vals[0], TNODE_SEQ, "spec.policies")) {
		if (vals[0]->count == 0)
			error_at(ctx, vals[0]->pos,
				 "spec.policies: expected at least one policy file or directory");
		for (size_t i = 0; i < vals[0]->count && !ctx->oom; i++) {
			snprintf(where, sizeof(where), "spec.policies[%zu]", i);
			resolve_policy_entry(ctx, vals[0]->items[i], where, db);
		}
	}

	if (!vals[1]) {
		error_at(ctx, n->pos, "missing required key \"cases\" in spec");
		return;
	}
	if (!expect_kind(ctx, vals[1], TNODE_SEQ, "spec.cases"))
		return;
	if (vals[1]->count == 0) {
		error_at(ctx, vals[1]->pos, "spec.cases: no cases; a test needs at least one");
		return;
	}
	db->doc.cases = calloc(vals[1]->count, sizeof(*db->doc.cases));
	if (!db->doc.cases) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < vals[1]->count && !ctx->oom; i++) {
		parse_case(ctx, vals[1]->items[i], i, &db->doc.cases[i]);
		db->doc.case_count++;
	}
}

static void parse_document(struct test_ctx *ctx, const struct tnode *root, struct doc_build *db)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	static const char *const meta_keys[] = { "name" };
	const struct tnode *vals[4], *meta[1];
	struct quoted q;

	if (root->kind != TNODE_MAP) {
		error_at(ctx, root->pos,
			 "expected a PolicyTest mapping at the top of the document, found %s",
			 describe(root));
		return;
	}
	map_fields(ctx, root, "the test", keys, 4, vals);

	if (!vals[0])
		error_at(ctx, root->pos, "missing required key \"apiVersion\"");
	else if (expect_text(ctx, vals[0], "apiVersion") &&
		 !scalar_is(vals[0], POLICYTEST_API_VERSION))
		error_at(ctx, vals[0]->pos, "apiVersion: expected \"%s\", found %s",
			 POLICYTEST_API_VERSION, quote(&q, vals[0]->text, vals[0]->len));

	if (!vals[1])
		error_at(ctx, root->pos, "missing required key \"kind\"");
	else if (expect_text(ctx, vals[1], "kind") && !scalar_is(vals[1], POLICYTEST_KIND))
		/* Most likely a policy given where a test was meant: say which is which. */
		error_at(ctx, vals[1]->pos, "kind: expected \"%s\", found %s%s", POLICYTEST_KIND,
			 quote(&q, vals[1]->text, vals[1]->len),
			 scalar_is(vals[1], POLICY_KIND) ?
				 " (a policy: name it in spec.policies of a test)" :
				 "");

	if (!vals[2]) {
		error_at(ctx, root->pos, "missing required key \"metadata\"");
	} else if (expect_kind(ctx, vals[2], TNODE_MAP, "metadata")) {
		map_fields(ctx, vals[2], "metadata", meta_keys, 1, meta);
		if (!meta[0])
			error_at(ctx, vals[2]->pos, "missing required key \"name\" in metadata");
		else if (expect_text(ctx, meta[0], "metadata.name"))
			db->doc.name = dup_text(ctx, meta[0]);
	}

	if (vals[3])
		parse_spec(ctx, vals[3], db);
	else
		error_at(ctx, root->pos, "missing required key \"spec\"");
}

/* ---- YAML events to trees ---- */

struct tree_builder {
	struct tnode *root;
	struct tnode *stack[TEST_MAX_DEPTH];
	size_t depth;
	bool rejected; /* an anchor, alias or tag was reported: do not check the document */
};

static int builder_add(struct test_ctx *ctx, struct tree_builder *b, const yaml_event_t *ev,
		       enum tnode_kind kind)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	struct policy_pos pos = { ev->start_mark.line + 1, ev->start_mark.column + 1 };
	struct quoted q;
	struct tnode *n;
	int err;

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
	/* As in policies: an alias makes one case stand in several places, and nested
	 * ones let a small file expand into a huge one. */
	if (ev->type == YAML_ALIAS_EVENT) {
		error_at(ctx, pos,
			 "YAML aliases are not supported (*%s); write the value out, or quote "
			 "text that starts with '*'",
			 (const char *)ev->data.alias.anchor);
		b->rejected = true;
	} else if (anchor) {
		/* libyaml restricts anchor names to [0-9A-Za-z_-]: safe to print. */
		error_at(ctx, pos, "YAML anchors are not supported (&%s); quote text that starts with '&'",
			 (const char *)anchor);
		b->rejected = true;
	}
	if (tag && !(kind == TNODE_SCALAR && (!strcmp((const char *)tag, "!") ||
					      !strcmp((const char *)tag, YAML_STR_TAG)))) {
		error_at(ctx, pos, "YAML tags are not supported (%s)",
			 quote(&q, (const char *)tag, strlen((const char *)tag)));
		b->rejected = true;
	}
	if (kind != TNODE_SCALAR && b->depth == TEST_MAX_DEPTH) {
		error_at(ctx, pos, "nested deeper than %d levels", TEST_MAX_DEPTH);
		return -EINVAL;
	}

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = kind;
	n->pos = pos;
	if (ev->type == YAML_SCALAR_EVENT || ev->type == YAML_ALIAS_EVENT) {
		/* An alias becomes an empty placeholder: keys and values stay paired. */
		n->len = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.length : 0;
		n->text = malloc(n->len + 1);
		if (!n->text) {
			free(n);
			return -ENOMEM;
		}
		if (n->len)
			memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		n->type = TSCALAR_NULL;
		if (ev->type == YAML_SCALAR_EVENT) {
			n->type = TSCALAR_STRING;
			if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				n->type = plain_type(n->text);
		}
	}

	if (b->depth == 0) {
		tnode_free(b->root); /* one root per document; defensive */
		b->root = n;
	} else if ((err = tnode_append(b->stack[b->depth - 1], n))) {
		tnode_free(n);
		return err;
	}
	if (kind != TNODE_SCALAR)
		b->stack[b->depth++] = n;
	return 0;
}

/* The position of a libyaml reader error, given as a byte offset. */
static struct policy_pos offset_pos(const char *text, size_t len, size_t offset)
{
	struct policy_pos pos = { 1, 1 };

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

static void report_yaml_error(struct test_ctx *ctx, const yaml_parser_t *parser, const char *text,
			      size_t len)
{
	struct policy_pos pos = { parser->problem_mark.line + 1, parser->problem_mark.column + 1 };
	const char *problem = parser->problem ? parser->problem : "unknown error";

	if (parser->error == YAML_READER_ERROR)
		error_at(ctx, offset_pos(text, len, parser->problem_offset),
			 "invalid YAML input: %s", problem);
	else if (parser->context)
		error_at(ctx, pos, "YAML syntax error: %s (%s at line %zu col %zu)", problem,
			 parser->context, parser->context_mark.line + 1,
			 parser->context_mark.column + 1);
	else
		error_at(ctx, pos, "YAML syntax error: %s", problem);
}

/* ---- parsing a file ---- */

static void case_free(struct policytest_case *c)
{
	free(c->name);
	free(c->workload);
	free(c->target);
	free(c->path);
	free(c->rule);
}

static void doc_free(struct policytest_doc *d)
{
	free(d->name);
	policy_set_free(&d->policies);
	for (size_t i = 0; i < d->case_count; i++)
		case_free(&d->cases[i]);
	free(d->cases);
	*d = (struct policytest_doc){ 0 };
}

static void doc_build_free(struct doc_build *db)
{
	doc_free(&db->doc);
	for (size_t i = 0; i < db->file_count; i++)
		free(db->files[i]);
	free(db->files);
	*db = (struct doc_build){ 0 };
}

void policytest_file_free(struct policytest_file *tf)
{
	for (size_t i = 0; i < tf->doc_count; i++)
		doc_free(&tf->docs[i]);
	free(tf->docs);
	free(tf->path);
	*tf = (struct policytest_file){ 0 };
}

/*
 * Load a document's policies, as actgated would load them together: each
 * file whole or not at all, then the checks across files. Returns 0, -EINVAL
 * (the policies' own diagnostics are in diags) or -ENOMEM.
 */
static int load_policies(struct doc_build *db, struct diag_list *diags)
{
	int err = 0, ret;

	for (size_t i = 0; i < db->file_count; i++) {
		ret = policy_parse_file(db->files[i], &db->doc.policies, diags);
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			err = -EINVAL;
	}
	ret = policy_set_validate(&db->doc.policies, diags);
	if (ret == -ENOMEM)
		return ret;
	return ret ? -EINVAL : err;
}

int policytest_parse_buffer(const char *name, const char *base_dir, const char *text, size_t len,
			    struct policytest_file *tf, struct diag_list *diags)
{
	struct test_ctx ctx = { .file = name, .base_dir = base_dir ? base_dir : ".",
				.diags = diags };
	size_t first_diag = diags->count, documents = 0, doc_count = 0;
	struct doc_build *docs = NULL;
	struct tree_builder b = { 0 };
	bool parser_ready = false, done = false;
	yaml_parser_t parser;
	yaml_event_t event;
	int err = 0;

	*tf = (struct policytest_file){ 0 };
	if (len > TEST_MAX_BYTES) {
		error_at(&ctx, (struct policy_pos){ 0, 0 },
			 "test file is larger than the limit of %d bytes", TEST_MAX_BYTES);
		err = -EINVAL;
		goto cleanup;
	}
	if (!yaml_parser_initialize(&parser)) {
		err = -ENOMEM;
		goto cleanup;
	}
	parser_ready = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				err = -ENOMEM;
				goto cleanup;
			}
			report_yaml_error(&ctx, &parser, text, len);
			err = -EINVAL;
			goto cleanup;
		}
		switch (event.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b = (struct tree_builder){ 0 };
			break;
		case YAML_DOCUMENT_END_EVENT: {
			struct tnode *root = b.root;
			struct doc_build *grown;

			b.root = NULL;
			/* An empty document ("---" at the end of a file) says nothing. */
			if (!root || (root->kind == TNODE_SCALAR && root->type == TSCALAR_NULL &&
				      !root->len && !b.rejected)) {
				tnode_free(root);
				break;
			}
			documents++;
			grown = realloc(docs, (doc_count + 1) * sizeof(*docs));
			if (!grown) {
				tnode_free(root);
				err = -ENOMEM;
				break;
			}
			docs = grown;
			docs[doc_count] = (struct doc_build){ 0 };
			if (!b.rejected)
				parse_document(&ctx, root, &docs[doc_count]);
			doc_count++;
			tnode_free(root);
			if (ctx.oom)
				err = ctx.oom;
			break;
		}
		case YAML_MAPPING_START_EVENT:
			err = builder_add(&ctx, &b, &event, TNODE_MAP);
			break;
		case YAML_SEQUENCE_START_EVENT:
			err = builder_add(&ctx, &b, &event, TNODE_SEQ);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			err = builder_add(&ctx, &b, &event, TNODE_SCALAR);
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
		if (err)
			goto cleanup;
	}
	if (ctx.errors == 0 && documents == 0)
		error_at(&ctx, (struct policy_pos){ 0, 0 }, "no test documents");

	/*
	 * The test file's own messages read top to bottom; the policies' come
	 * after them, each file's already in order (sorting all together would
	 * interleave files).
	 */
	if (diag_sort(diags, first_diag)) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < doc_count; i++) {
		int ret = load_policies(&docs[i], diags);

		if (ret == -ENOMEM) {
			err = ret;
			goto cleanup;
		}
		if (ret)
			ctx.errors++;
	}
	if (ctx.errors) {
		err = -EINVAL;
		goto cleanup;
	}
	tf->path = strdup(name);
	tf->docs = calloc(doc_count, sizeof(*tf->docs));
	if (!tf->path || !tf->docs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < doc_count; i++) {
		tf->docs[i] = docs[i].doc;
		docs[i].doc = (struct policytest_doc){ 0 };
	}
	tf->doc_count = doc_count;

cleanup:
	if (!err && ctx.oom)
		err = ctx.oom;
	if (err)
		policytest_file_free(tf);
	tnode_free(b.root);
	for (size_t i = 0; i < doc_count; i++)
		doc_build_free(&docs[i]);
	free(docs);
	for (size_t i = 0; i < ctx.seen_count; i++)
		free(ctx.seen[i].name);
	free(ctx.seen);
	if (parser_ready)
		yaml_parser_delete(&parser);
	return err;
}

int policytest_parse_file(const char *path, struct policytest_file *tf, struct diag_list *diags)
{
	char *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	struct stat st;
	int fd = -1, err;

	*tf = (struct policytest_file){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		goto unreadable;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto unreadable;
	}
	/* One byte past the limit, so that policytest_parse_buffer sees "too long". */
	text = malloc(TEST_MAX_BYTES + 2);
	if (!text) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (len <= TEST_MAX_BYTES) {
		ssize_t n = read(fd, text + len, TEST_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto unreadable;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';

	dir = strdup(path);
	if (!dir) {
		err = -ENOMEM;
		goto cleanup;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0'; /* "/t.test.yaml": the root */
	else
		*slash = '\0';
	err = policytest_parse_buffer(path, dir, text, len, tf, diags);
	goto cleanup;

unreadable:
	if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read test file: %s", strerror(-err)))
		err = -ENOMEM;
	else
		err = -EINVAL;
cleanup:
	if (fd >= 0)
		close(fd);
	free(text);
	free(dir);
	return err;
}

/* ---- running ---- */

/* The text of the rule that decided, as written in its policy ("/usr/bin/", "10.0.0.0/8:443"). */
static const char *rule_text(const struct policy_set *set, const struct eval_result *r,
			     uint8_t action, char *buf, size_t size)
{
	const struct policy *p = NULL;
	char name[EVAL_RULE_NAME_MAX];

	for (size_t i = 0; i < set->count && !p; i++)
		if (!strcmp(set->policies[i].name, r->policy))
			p = &set->policies[i];
	if (!p)
		return NULL;
	if (action == ACTGATE_ACTION_CONNECT) {
		for (size_t i = 0; i < p->connect.count; i++) {
			const struct net_rule *n = &p->connect.rules[i];

			rule_name_format(name, sizeof(name), p->name, action, n->verdict, n->index);
			if (!strcmp(name, r->rule))
				return n->text;
		}
		return NULL;
	}
	{
		const struct path_rules *s = action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;

		for (size_t i = 0; i < s->count; i++) {
			const struct path_rule *pr = &s->rules[i];

			rule_name_format(name, sizeof(name), p->name, action, pr->verdict,
					 pr->index);
			if (strcmp(name, r->rule))
				continue;
			/* Subtree rules are held without their '/': show them as written. */
			snprintf(buf, size, "%s%s", pr->path,
				 pr->subtree && strcmp(pr->path, "/") ? "/" : "");
			return buf;
		}
	}
	return NULL;
}

/* "deny by rule ci:exec.deny[0] (/usr/bin/curl) of policy ci (mode enforce)" */
static void describe_result(char *buf, size_t size, const struct policy_set *set,
			    const struct policytest_case *c, const struct eval_result *r)
{
	char text_buf[PATH_MAX + 2];
	const char *text = NULL;
	char by[EVAL_RULE_NAME_MAX + PATH_MAX + 64];

	if (r->reason == ACTGATE_REASON_TOO_DEEP) {
		snprintf(by, sizeof(by),
			 " (the path has more than %d parent directories, beyond the kernel's walk)",
			 ACTGATE_MAX_PATH_WALK);
	} else {
		if (r->reason == ACTGATE_REASON_RULE)
			text = rule_text(set, r, c->action.action, text_buf, sizeof(text_buf));
		snprintf(by, sizeof(by), " by rule %s (%s)", r->rule,
			 r->reason == ACTGATE_REASON_DEFAULT ? "no rule matched" : text ? text : "?");
	}
	snprintf(buf, size, "%s%s of policy %s (mode %s)", verdict_name(r->verdict), by, r->policy,
		 mode_name(r->mode));
}

/* "deny", "deny (rule ci:exec.deny[0])", "deny (rule ci:exec.deny[0], mode audit)" */
static void describe_expected(char *buf, size_t size, const struct policytest_case *c)
{
	snprintf(buf, size, "%s%s%s%s%s%s", verdict_name(c->expect),
		 c->rule || c->mode >= 0 ? " (" : "", c->rule ? "rule " : "", c->rule ? c->rule : "",
		 c->mode >= 0 ? (c->rule ? ", mode " : "mode ") : "",
		 c->mode >= 0 ? mode_name((uint8_t)c->mode) : "");
	if (c->rule || c->mode >= 0)
		strncat(buf, ")", size - strlen(buf) - 1);
}

int policytest_run(const struct policytest_file *tf, bool verbose, FILE *out,
		   struct policytest_totals *totals)
{
	char expected[EVAL_RULE_NAME_MAX + 64], got[EVAL_RULE_NAME_MAX + PATH_MAX + 256], why[512];

	for (size_t d = 0; d < tf->doc_count; d++) {
		const struct policytest_doc *doc = &tf->docs[d];

		for (size_t i = 0; i < doc->case_count; i++) {
			const struct policytest_case *c = &doc->cases[i];
			struct eval_result r = { 0 };
			bool pass;

			describe_expected(expected, sizeof(expected), c);
			if (policy_evaluate(&doc->policies, c->workload, &c->action, &r, why,
					    sizeof(why))) {
				/* Nothing decided: the reason is the failure. */
				fprintf(out, "FAIL %s:%u: %s: expected %s, but %s\n", tf->path,
					c->pos.line, c->name, expected, why);
				totals->failed++;
				continue;
			}
			pass = r.verdict == c->expect && (!c->rule || !strcmp(c->rule, r.rule)) &&
			       (c->mode < 0 || c->mode == r.mode);
			describe_result(got, sizeof(got), &doc->policies, c, &r);
			if (pass) {
				totals->passed++;
				if (verbose)
					fprintf(out, "PASS %s:%u: %s: %s\n", tf->path, c->pos.line,
						c->name, got);
			} else {
				totals->failed++;
				fprintf(out, "FAIL %s:%u: %s: expected %s, got %s\n", tf->path,
					c->pos.line, c->name, expected, got);
			}
		}
	}
	return 0;
}

/* ---- the command ---- */

/* Parse and run one file; its diagnostics are printed at once, next to its results. */
static int run_file(const char *path, bool verbose, FILE *out, FILE *err,
		    struct policytest_totals *totals)
{
	struct policytest_file tf = { 0 };
	struct diag_list diags = { 0 };
	int ret;

	ret = policytest_parse_file(path, &tf, &diags);
	fflush(out);
	diag_print(&diags, err);
	diag_list_free(&diags);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		totals->invalid_files++;
		return -EINVAL;
	}
	ret = policytest_run(&tf, verbose, out, totals);
	policytest_file_free(&tf);
	return ret;
}

int policytest_run_paths(char *const paths[], size_t count, bool verbose, FILE *out, FILE *err,
			 struct policytest_totals *totals)
{
	int result = 0, ret;

	*totals = (struct policytest_totals){ 0 };
	for (size_t i = 0; i < count; i++) {
		char **files = NULL;
		size_t n = 0;
		struct stat st;

		if (stat(paths[i], &st) || !S_ISDIR(st.st_mode)) {
			/* A file, or nothing there: reading it says which. */
			ret = run_file(paths[i], verbose, out, err, totals);
		} else {
			ret = policytest_list_dir(paths[i], &files, &n);
			if (ret == 0 && n == 0) {
				fflush(out);
				fprintf(err, "%s: error: no test files (*.test.yaml, *.test.yml)\n",
					paths[i]);
				totals->invalid_files++;
				ret = -EINVAL;
			} else if (ret && ret != -ENOMEM) {
				fflush(out);
				fprintf(err, "%s: error: cannot read directory: %s\n", paths[i],
					strerror(-ret));
				totals->invalid_files++;
				ret = -EINVAL;
			}
			for (size_t k = 0; k < n && ret != -ENOMEM; k++) {
				int r = run_file(files[k], verbose, out, err, totals);

				if (r && !ret)
					ret = r;
				if (r == -ENOMEM)
					ret = r;
			}
			for (size_t k = 0; k < n; k++)
				free(files[k]);
			free(files);
		}
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			result = -EINVAL;
	}
	fprintf(out, "%zu passed, %zu failed", totals->passed, totals->failed);
	if (totals->invalid_files)
		fprintf(out, ", %zu invalid file%s", totals->invalid_files,
			totals->invalid_files == 1 ? "" : "s");
	fprintf(out, "\n");
	return result;
}
