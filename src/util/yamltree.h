/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The YAML reading that policy files and policy test files share: libyaml's
 * event API feeds a small tree with positions (the document API would
 * resolve aliases silently, and both refuse them), plain scalars are typed
 * under the YAML 1.2 core schema, and the generic checks (kinds, strings,
 * allowed and duplicate keys) report as file:line:col into a diag_list.
 * Names are ynode_* for the tree, ytree_* for the rest.
 */
#ifndef ACTGATE_YAMLTREE_H
#define ACTGATE_YAMLTREE_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

/* Policies and tests are small; the bound keeps a hostile file from costing gigabytes of tree. */
#define YTREE_MAX_BYTES (1024 * 1024)
/* Both kinds of file nest a few levels; the bound keeps recursion over the tree shallow. */
#define YTREE_MAX_DEPTH 32

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ,
};

/* What a scalar means under the YAML 1.2 core schema. */
enum yscalar_type {
	YSCALAR_STRING,
	YSCALAR_NULL,
	YSCALAR_BOOL,
	YSCALAR_INT,
	YSCALAR_FLOAT,
};

struct ynode {
	enum ynode_kind kind;
	enum yscalar_type type; /* scalars */
	struct source_pos pos;
	char *text;             /* scalars: NUL-terminated, may also hold NULs */
	size_t len;
	struct ynode **items;   /* a map holds key, value, key, value, ... */
	size_t count;
	size_t cap;
};

void ynode_free(struct ynode *n);

/* Is n a scalar whose text is exactly s? */
bool ynode_is(const struct ynode *n, const char *s);

/* "a mapping", "a list", "a boolean", ...: what a message says was found. */
const char *ynode_describe(const struct ynode *n);

/* Is s non-empty and made only of characters from digits? */
bool ytree_all_digits(const char *s, const char *digits);

/* Where checks report, and what they found. */
struct ytree_ctx {
	const char *file;
	const char *what;        /* "policy file", "test file": for messages about the whole file */
	struct diag_list *diags;
	size_t errors; /* counted here too: diag_add can fail for lack of memory */
	int oom;       /* -ENOMEM once anything failed to allocate */
};

void ytree_report(struct ytree_ctx *ctx, enum diag_severity sev, struct source_pos pos,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Is byte i of s a control character: C0, DEL, or a C1 control (U+0080-U+009F)
 * in UTF-8, which some terminals obey too (0x9b is CSI)? A C1 control starts
 * with 0xc2; its second byte is s[i + 1].
 */
bool ytree_is_control(const char *s, size_t len, size_t i);

/*
 * The first control character of s, if any: its name for messages
 * ("\\x0a", "U+009B") in name and its byte position (from 1) in *at.
 */
bool ytree_find_control(const char *s, size_t len, char name[8], size_t *at);

/*
 * Text from the input, made safe to print: quoted, control characters
 * escaped (an input file must not be able to drive the terminal), and cut
 * short when long.
 */
struct ytree_quoted {
	char s[100];
};

const char *ytree_quote(struct ytree_quoted *q, const char *s, size_t len);

/* Is n of this kind (a mapping or a list)? If not, an error "WHERE: expected ..., found ...". */
bool ytree_expect_kind(struct ytree_ctx *ctx, const struct ynode *n, enum ynode_kind kind,
		       const char *where);

/* Is n a string scalar? If not, an error (a plain true or 12 is told to quote it). */
bool ytree_expect_string(struct ytree_ctx *ctx, const struct ynode *n, const char *where);

/*
 * Does the key at map->items[i] (a string) repeat an earlier key of the
 * mapping? If so, an error "duplicate key K in WHERE (first at line L)".
 */
bool ytree_duplicate_key(struct ytree_ctx *ctx, const struct ynode *map, size_t i,
			 const char *where);

/*
 * Check a mapping against the keys it may hold: unknown and duplicate keys
 * are errors. values[i] receives the value of keys[i] (NULL when absent),
 * key_nodes[i] the key itself (for positions).
 */
void ytree_map_fields(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
		      const char *const keys[], size_t nkeys, const struct ynode *key_nodes[],
		      const struct ynode *values[]);

/*
 * Called by ytree_parse for each document that says something (an empty one,
 * "---" at the end of a file, is skipped). rejected: an anchor, alias or tag
 * was reported, and the document is not to be checked. The tree is freed
 * after the call. Returns 0 or -errno, which stops the parse.
 */
typedef int (*ytree_document_fn)(void *arg, const struct ynode *root, bool rejected);

/*
 * Parse text, len bytes, into one tree per YAML document. Text longer than
 * YTREE_MAX_BYTES, anchors, aliases and tags other than "!" and !!str on
 * scalars are errors, nesting is bound by YTREE_MAX_DEPTH. *documents counts
 * the documents handed to on_document. Returns 0; -EINVAL after reporting
 * too long a text, a YAML syntax error or too deep a nesting; -ENOMEM; or
 * what on_document returned.
 */
int ytree_parse(struct ytree_ctx *ctx, const char *text, size_t len,
		ytree_document_fn on_document, void *arg, size_t *documents);

/*
 * Read a file whole, up to YTREE_MAX_BYTES and one past them (so that
 * ytree_parse can say "too long"), into *text (NUL-terminated, to be freed)
 * and *len. Returns 0, -EISDIR for a directory, -EINVAL for anything else
 * that is not a regular file (a FIFO, a socket, a device: never read, so they
 * cannot hang the caller), -ENOMEM, or -errno of open or read.
 */
int ytree_read_file(const char *path, char **text, size_t *len);

/* What ytree_read_file's error means, for a message. */
const char *ytree_read_error(int err);

/* Does name end in suffix, with something before it? */
bool ytree_has_suffix(const char *name, const char *suffix);

/*
 * The names in an open directory that pass keep, sorted (byte order), each
 * allocated: the caller joins them to the directory as its messages want.
 * Returns 0 (possibly with *count 0), -ENOMEM, or -errno of a failed readdir.
 */
int ytree_read_dir(DIR *d, bool (*keep)(const char *), char ***names, size_t *count);

void ytree_free_names(char **names, size_t count);

#endif /* ACTGATE_YAMLTREE_H */
