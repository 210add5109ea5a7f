/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's settings (config.h): one table, and the checks that flags and
 * the configuration file share, so that a value the file may hold is
 * exactly a value the flag takes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "util/duration.h"
#include "util/paths.h"
#include "util/yamltree.h"

enum config_type {
	TYPE_PATH,    /* an absolute path */
	TYPE_CGROUP,  /* an absolute cgroup path below the root */
	TYPE_NAME,    /* a group name or number */
	TYPE_COUNT,   /* a whole number 1..UINT32_MAX */
	TYPE_MS,      /* flag: milliseconds; file: a duration ("100ms") */
	TYPE_AGE,     /* a duration, kept in ms */
	TYPE_BYTES,   /* a whole number of bytes */
	TYPE_RING,    /* a power of 2 from the page size to 1 GiB */
	TYPE_BOOL,
};

struct setting_info {
	const char *key;
	const char *flag; /* NULL: only in the file */
	enum config_type type;
	bool list;        /* the file takes a list; the flag repeats */
	/*
	 * What a reload (SIGHUP, `actgate reload`) applies in a running daemon.
	 * The rest shape what was built at start (the journal store, the socket,
	 * the pins, the cgroup tree, the watched roots) and take a restart.
	 */
	bool live;
};

static const struct setting_info settings[CONFIG_NR_SETTINGS] = {
	[CONFIG_POLICY_DIR] = { "policy_dir", "--policy-dir", TYPE_PATH, false, true },
	[CONFIG_JOURNAL_DIR] = { "journal_dir", "--journal-dir", TYPE_PATH, false, false },
	[CONFIG_JOURNAL_KEY] = { "journal_key", "--journal-key", TYPE_PATH, false, false },
	[CONFIG_FSYNC_EVERY] = { "fsync_every", "--fsync-every", TYPE_COUNT, false, false },
	[CONFIG_FSYNC_INTERVAL] = { "fsync_interval", "--fsync-interval", TYPE_MS, false, false },
	[CONFIG_JOURNAL_RETAIN_BYTES] = { "journal_retain_bytes", NULL, TYPE_BYTES, false, false },
	[CONFIG_JOURNAL_RETAIN_AGE] = { "journal_retain_age", NULL, TYPE_AGE, false, false },
	[CONFIG_SOCKET] = { "socket", "--socket", TYPE_PATH, false, false },
	[CONFIG_SOCKET_GROUP] = { "socket_group", "--socket-group", TYPE_NAME, false, true },
	[CONFIG_CGROUP_PARENT] = { "cgroup_parent", "--cgroup-parent", TYPE_CGROUP, false, false },
	[CONFIG_SPOOL_DIR] = { "spool_dir", "--spool-dir", TYPE_PATH, false, true },
	[CONFIG_WATCH_CGROUPS] = { "watch_cgroups", "--watch-cgroup", TYPE_CGROUP, true, false },
	[CONFIG_PIN_DIR] = { "pin_dir", "--pin-dir", TYPE_PATH, false, false },
	[CONFIG_STATE_DIR] = { "state_dir", "--state-dir", TYPE_PATH, false, false },
	[CONFIG_RING_BUFFER_SIZE] = { "ring_buffer_size", "--ring-buffer-size", TYPE_RING, false,
				      false },
	[CONFIG_VERBOSE] = { "verbose", "--verbose", TYPE_BOOL, false, false },
	/* A list of mappings, parsed by daemon/exportd.c (the type is not used). */
	[CONFIG_EXPORT] = { "export", NULL, TYPE_PATH, true, false },
	[CONFIG_SIGNALS_TRUST] = { "signals_trust", "--signals-trust", TYPE_PATH, false, false },
};

/* The smallest retention limit taken: one segment's worth would retire at every rotation. */
#define RETAIN_MIN_BYTES (64ull << 20)

const char *config_key(enum config_setting s)
{
	return settings[s].key;
}

const char *config_flag(enum config_setting s)
{
	return settings[s].flag;
}

bool config_live(enum config_setting s)
{
	return settings[s].live;
}

/* The string field of a string setting; NULL for the others. */
static const char **string_field(struct daemon_config *c, enum config_setting s)
{
	switch (s) {
	case CONFIG_POLICY_DIR:
		return &c->policy_dir;
	case CONFIG_JOURNAL_DIR:
		return &c->journal_dir;
	case CONFIG_JOURNAL_KEY:
		return &c->journal_key;
	case CONFIG_SOCKET:
		return &c->socket_path;
	case CONFIG_SOCKET_GROUP:
		return &c->socket_group;
	case CONFIG_CGROUP_PARENT:
		return &c->cgroup_parent;
	case CONFIG_SPOOL_DIR:
		return &c->spool_dir;
	case CONFIG_PIN_DIR:
		return &c->pin_dir;
	case CONFIG_STATE_DIR:
		return &c->state_dir;
	case CONFIG_SIGNALS_TRUST:
		return &c->signals_trust;
	default:
		return NULL;
	}
}

static uint64_t number_value(const struct daemon_config *c, enum config_setting s)
{
	switch (s) {
	case CONFIG_FSYNC_EVERY:
		return c->fsync_every_records;
	case CONFIG_FSYNC_INTERVAL:
		return c->fsync_every_ms;
	case CONFIG_JOURNAL_RETAIN_BYTES:
		return c->retain_max_bytes;
	case CONFIG_JOURNAL_RETAIN_AGE:
		return c->retain_max_age_ms;
	case CONFIG_RING_BUFFER_SIZE:
		return c->events_bytes;
	case CONFIG_VERBOSE:
		return c->verbose;
	default:
		return 0;
	}
}

static void set_number(struct daemon_config *c, enum config_setting s, uint64_t v)
{
	switch (s) {
	case CONFIG_FSYNC_EVERY:
		c->fsync_every_records = (uint32_t)v;
		break;
	case CONFIG_FSYNC_INTERVAL:
		c->fsync_every_ms = (uint32_t)v;
		break;
	case CONFIG_JOURNAL_RETAIN_BYTES:
		c->retain_max_bytes = v;
		break;
	case CONFIG_JOURNAL_RETAIN_AGE:
		c->retain_max_age_ms = v;
		break;
	case CONFIG_RING_BUFFER_SIZE:
		c->events_bytes = v;
		break;
	case CONFIG_VERBOSE:
		c->verbose = v != 0;
		break;
	default:
		break;
	}
}

static int whole_number(const char *text, unsigned long long *v)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(text, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A cgroup path as --cgroup-parent and --watch-cgroup take it: absolute, below the root. */
static bool valid_cgroup(const char *path)
{
	return path[0] == '/' && path[1] && !ends_with(path, "/") && !strstr(path, "//") &&
	       !strstr(path, "/../") && !strstr(path, "/./") && !ends_with(path, "/..") &&
	       !ends_with(path, "/.");
}

/*
 * Check text as a value of s (from a flag, or from the file with from_file:
 * durations then take units) into *num or, for strings, leave it to the
 * caller. 0, or -EINVAL with why (without the flag's or key's name).
 */
static int check_value(enum config_setting s, const char *text, bool from_file, uint64_t *num,
		       char *why, size_t why_size)
{
	unsigned long long v = 0;
	long page = sysconf(_SC_PAGESIZE);
	char dwhy[128];
	uint64_t ns;

	switch (settings[s].type) {
	case TYPE_PATH:
		/* Flags may be relative to the working directory; the file's paths may not. */
		if (text[0] != '/' && (from_file || s == CONFIG_PIN_DIR || s == CONFIG_STATE_DIR)) {
			snprintf(why, why_size, "an absolute path is needed");
			return -EINVAL;
		}
		return 0;
	case TYPE_CGROUP:
		if (!valid_cgroup(text)) {
			snprintf(why, why_size, "an absolute cgroup path below the root such as /actgate");
			return -EINVAL;
		}
		return 0;
	case TYPE_NAME:
		if (!text[0] || strchr(text, ':') || strchr(text, '\n') || strlen(text) > 64) {
			snprintf(why, why_size, "a group name or number");
			return -EINVAL;
		}
		return 0;
	case TYPE_COUNT:
		if (whole_number(text, &v) || v == 0 || v > UINT32_MAX) {
			snprintf(why, why_size, "expected a whole number from 1 to %u", UINT32_MAX);
			return -EINVAL;
		}
		*num = v;
		return 0;
	case TYPE_MS:
		if (!from_file) {
			if (whole_number(text, &v) || v == 0 || v > UINT32_MAX) {
				snprintf(why, why_size, "expected a whole number of milliseconds from 1 "
					 "to %u", UINT32_MAX);
				return -EINVAL;
			}
			*num = v;
			return 0;
		}
		/* a duration in the file */
		__attribute__((fallthrough));
	case TYPE_AGE:
		if (duration_parse(text, &ns, dwhy, sizeof(dwhy))) {
			snprintf(why, why_size, "%s (a duration such as 100ms, 30s, 7d)", dwhy);
			return -EINVAL;
		}
		if (ns % 1000000) {
			snprintf(why, why_size, "a whole number of milliseconds is needed");
			return -EINVAL;
		}
		if (settings[s].type == TYPE_MS && ns / 1000000 > UINT32_MAX) {
			snprintf(why, why_size, "at most %ums", UINT32_MAX);
			return -EINVAL;
		}
		*num = ns / 1000000;
		return 0;
	case TYPE_BYTES:
		if (whole_number(text, &v) || v < RETAIN_MIN_BYTES) {
			snprintf(why, why_size, "expected a whole number of bytes, at least %llu",
				 RETAIN_MIN_BYTES);
			return -EINVAL;
		}
		*num = v;
		return 0;
	case TYPE_RING:
		if (whole_number(text, &v) || text[0] == '0' || v < (unsigned long long)page ||
		    v > (1ull << 30) || (v & (v - 1))) {
			snprintf(why, why_size, "a power of 2 from the page size (%ld) to 1073741824",
				 page);
			return -EINVAL;
		}
		*num = v;
		return 0;
	case TYPE_BOOL:
		*num = 1;
		return 0;
	}
	return -EINVAL;
}

static int add_watch(struct daemon_config *c, const char *text)
{
	const char **list;
	char *copy;

	if (c->watch_count == CONFIG_MAX_WATCH)
		return -E2BIG;
	list = realloc((void *)c->watch_cgroups, (c->watch_count + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	c->watch_cgroups = list;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	list[c->watch_count++] = copy;
	return 0;
}

static void free_watch(struct daemon_config *c)
{
	for (size_t i = 0; i < c->watch_count; i++)
		free((char *)c->watch_cgroups[i]);
	free((void *)c->watch_cgroups);
	c->watch_cgroups = NULL;
	c->watch_count = 0;
}

/* Set s to a checked value: text for strings and lists, num for the others. */
static int store_value(struct daemon_config *c, enum config_setting s, const char *text,
		       uint64_t num)
{
	const char **field = string_field(c, s);

	c->given |= 1u << s;
	if (s == CONFIG_WATCH_CGROUPS)
		return add_watch(c, text);
	if (field) {
		char *copy = strdup(text);

		if (!copy)
			return -ENOMEM;
		free((char *)*field);
		*field = copy;
		return 0;
	}
	set_number(c, s, num);
	return 0;
}

int config_set_flag(struct daemon_config *c, enum config_setting s, const char *text, char *why,
		    size_t why_size)
{
	char reason[256];
	uint64_t num = 0;
	int err;

	if (s == CONFIG_WATCH_CGROUPS && c->watch_count == CONFIG_MAX_WATCH) {
		snprintf(why, why_size, "%s: at most %d", settings[s].flag, CONFIG_MAX_WATCH);
		return -EINVAL;
	}
	err = check_value(s, text, false, &num, reason, sizeof(reason));
	if (err) {
		snprintf(why, why_size, "%s %s: %s", settings[s].flag, text, reason);
		return err;
	}
	err = store_value(c, s, text, num);
	if (err)
		snprintf(why, why_size, "%s: %s", settings[s].flag, strerror(-err));
	return err;
}

/* ---- the file ---- */

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

/* One value of the file for setting s (a list's item: one at a time). */
static void parse_scalar(struct ytree_ctx *ctx, struct daemon_config *c, enum config_setting s,
			 const struct ynode *n, const char *where)
{
	enum config_type type = settings[s].type;
	struct ytree_quoted q;
	char why[256], ctl[8];
	uint64_t num = 0;
	size_t at;
	int err;

	if (type == TYPE_BOOL) {
		if (n->kind != YNODE_SCALAR || n->type != YSCALAR_BOOL) {
			error_at(ctx, n->pos, "%s: expected true or false, found %s", where,
				 ynode_describe(n));
			return;
		}
		c->given |= 1u << s;
		c->verbose = !strcmp(n->text, "true") || !strcmp(n->text, "True") ||
			     !strcmp(n->text, "TRUE");
		return;
	}
	if (type == TYPE_COUNT || type == TYPE_BYTES || type == TYPE_RING) {
		if (n->kind != YNODE_SCALAR || n->type != YSCALAR_INT) {
			error_at(ctx, n->pos, "%s: expected a whole number, found %s", where,
				 ynode_describe(n));
			return;
		}
	} else if (type == TYPE_NAME && n->kind == YNODE_SCALAR && n->type == YSCALAR_INT) {
		/* A group number is a group too. */
	} else if (!ytree_expect_string(ctx, n, where)) {
		return;
	}
	if (strlen(n->text) != n->len || ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: %s contains a control character", where,
			 ytree_quote(&q, n->text, n->len));
		return;
	}
	if (check_value(s, n->text, true, &num, why, sizeof(why))) {
		error_at(ctx, n->pos, "%s: %s: %s", where, ytree_quote(&q, n->text, n->len), why);
		return;
	}
	err = store_value(c, s, n->text, num);
	if (err)
		ctx->oom = err;
}

static void parse_setting(struct ytree_ctx *ctx, struct daemon_config *c, enum config_setting s,
			  const struct ynode *v)
{
	const char *key = settings[s].key;

	if (s == CONFIG_EXPORT) {
		c->given |= 1u << s;
		exportd_config_parse(ctx, &c->export, v);
		return;
	}
	if (!settings[s].list) {
		parse_scalar(ctx, c, s, v, key);
		return;
	}
	if (!ytree_expect_kind(ctx, v, YNODE_SEQ, key))
		return;
	if (v->count > CONFIG_MAX_WATCH) {
		error_at(ctx, v->pos, "%s: at most %d entries, found %zu", key, CONFIG_MAX_WATCH,
			 v->count);
		return;
	}
	c->given |= 1u << s;
	for (size_t i = 0; i < v->count; i++) {
		char where[64];

		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		parse_scalar(ctx, c, s, v->items[i], where);
	}
}

struct parse_state {
	struct ytree_ctx *ctx;
	struct daemon_config *c;
};

static int parse_document(void *arg, const struct ynode *root, bool rejected)
{
	struct parse_state *st = arg;
	/* The settings' keys, then the `ssf:` and `resolver:` sections' (ssfconfig.c, resolverconfig.c). */
	const char *keys[CONFIG_NR_SETTINGS + 2];
	const struct ynode *knodes[CONFIG_NR_SETTINGS + 2], *vals[CONFIG_NR_SETTINGS + 2];

	if (rejected)
		return 0;
	if (root->kind == YNODE_SCALAR && root->type == YSCALAR_NULL)
		return 0; /* only comments */
	if (!ytree_expect_kind(st->ctx, root, YNODE_MAP, "the configuration"))
		return 0;
	for (size_t i = 0; i < CONFIG_NR_SETTINGS; i++)
		keys[i] = settings[i].key;
	keys[CONFIG_NR_SETTINGS] = "ssf";
	keys[CONFIG_NR_SETTINGS + 1] = "resolver";
	ytree_map_fields(st->ctx, root, "the configuration", keys, CONFIG_NR_SETTINGS + 2, knodes,
			 vals);
	for (size_t i = 0; i < CONFIG_NR_SETTINGS; i++)
		if (vals[i])
			parse_setting(st->ctx, st->c, (enum config_setting)i, vals[i]);
	if (vals[CONFIG_NR_SETTINGS])
		ssf_config_parse(st->ctx, vals[CONFIG_NR_SETTINGS], &st->c->ssf);
	if (vals[CONFIG_NR_SETTINGS + 1])
		resolver_config_parse(st->ctx, vals[CONFIG_NR_SETTINGS + 1], &st->c->resolver);
	return st->ctx->oom;
}

int config_parse_buffer(const char *name, const char *text, size_t len, struct daemon_config *c,
			struct diag_list *diags)
{
	struct ytree_ctx ctx = { .file = name, .what = "configuration file", .diags = diags };
	struct parse_state st = { .ctx = &ctx, .c = c };
	size_t documents = 0, first = diags->count;
	int err;

	err = ytree_parse(&ctx, text, len, parse_document, &st, &documents);
	if (diag_sort(diags, first)) /* top to bottom, however they were found */
		err = err ?: -ENOMEM;
	if (!err && ctx.oom)
		err = ctx.oom;
	if (!err && documents > 1) {
		error_at(&ctx, (struct source_pos){ 0, 0 },
			 "%zu YAML documents; the configuration is one mapping", documents);
	}
	if (!err && ctx.errors)
		err = -EINVAL;
	return err;
}

/* ---- resolving ---- */

static int set_default(struct daemon_config *c, enum config_setting s, const char *value)
{
	const char **field = string_field(c, s);
	char *copy;

	if (*field)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	*field = copy;
	return 0;
}

void config_take(struct daemon_config *dst, struct daemon_config *src, enum config_setting s)
{
	const char **to = string_field(dst, s), **from = string_field(src, s);

	if (s == CONFIG_EXPORT) {
		exportd_config_free(&dst->export);
		dst->export = src->export;
		src->export = (struct exportd_config){ 0 };
	} else if (s == CONFIG_WATCH_CGROUPS) {
		free_watch(dst);
		dst->watch_cgroups = src->watch_cgroups;
		dst->watch_count = src->watch_count;
		src->watch_cgroups = NULL;
		src->watch_count = 0;
	} else if (to) {
		free((char *)*to);
		*to = *from;
		*from = NULL;
	} else {
		set_number(dst, s, number_value(src, s));
	}
	if (src->given & (1u << s))
		dst->given |= 1u << s;
}

static int copy_setting(struct daemon_config *dst, const struct daemon_config *src,
			enum config_setting s)
{
	const char **from = string_field((struct daemon_config *)src, s);
	int err;

	if (s == CONFIG_EXPORT) {
		err = exportd_config_copy(&dst->export, &src->export);
		if (err)
			return err;
	} else if (s == CONFIG_WATCH_CGROUPS) {
		free_watch(dst);
		for (size_t i = 0; i < src->watch_count; i++) {
			err = add_watch(dst, src->watch_cgroups[i]);
			if (err)
				return err;
		}
	} else if (from) {
		const char **to = string_field(dst, s);
		char *copy = NULL;

		if (*from && !(copy = strdup(*from)))
			return -ENOMEM;
		free((char *)*to);
		*to = copy;
	} else {
		set_number(dst, s, number_value(src, s));
	}
	dst->given |= 1u << s;
	return 0;
}

int config_resolve(const struct config_source *src, struct daemon_config *out,
		   struct diag_list *diags)
{
	int err = 0;

	if (src->path) {
		char *text = NULL;
		size_t len = 0;

		err = ytree_read_file(src->path, &text, &len);
		if (err == -ENOENT && !src->required) {
			err = 0; /* no file: the defaults and flags */
		} else if (err) {
			if (diag_add(diags, DIAG_ERROR, src->path, 0, 0,
				     "cannot read configuration file: %s", ytree_read_error(err)))
				err = -ENOMEM;
			return err;
		} else {
			err = config_parse_buffer(src->path, text, len, out, diags);
			free(text);
			if (err)
				return err;
		}
	}
	for (size_t i = 0; src->flags && i < CONFIG_NR_SETTINGS; i++)
		if (src->flags->given & (1u << i)) {
			err = copy_setting(out, src->flags, (enum config_setting)i);
			if (err)
				return err;
		}
	if ((err = set_default(out, CONFIG_POLICY_DIR, DEFAULT_POLICY_DIR)) ||
	    (err = set_default(out, CONFIG_JOURNAL_DIR, DEFAULT_JOURNAL_DIR)) ||
	    (err = set_default(out, CONFIG_JOURNAL_KEY, DEFAULT_JOURNAL_KEY)) ||
	    (err = set_default(out, CONFIG_SOCKET, DEFAULT_SOCKET_PATH)) ||
	    (err = set_default(out, CONFIG_CGROUP_PARENT, DEFAULT_CGROUP_PARENT)) ||
	    (err = set_default(out, CONFIG_PIN_DIR, DEFAULT_PIN_DIR)) ||
	    (err = set_default(out, CONFIG_STATE_DIR, DEFAULT_STATE_DIR)))
		return err;
	return 0;
}

bool config_differs(const struct daemon_config *a, const struct daemon_config *b,
		    enum config_setting s)
{
	const char **sa = string_field((struct daemon_config *)a, s);
	const char **sb = string_field((struct daemon_config *)b, s);

	if (s == CONFIG_EXPORT)
		return exportd_config_differs(&a->export, &b->export);
	if (s == CONFIG_WATCH_CGROUPS) {
		if (a->watch_count != b->watch_count)
			return true;
		for (size_t i = 0; i < a->watch_count; i++)
			if (strcmp(a->watch_cgroups[i], b->watch_cgroups[i]))
				return true;
		return false;
	}
	if (sa)
		return (*sa == NULL) != (*sb == NULL) || (*sa && strcmp(*sa, *sb));
	return number_value(a, s) != number_value(b, s);
}

void config_format(const struct daemon_config *c, enum config_setting s, char *buf, size_t size)
{
	const char **str = string_field((struct daemon_config *)c, s);
	size_t n = 0;

	if (s == CONFIG_EXPORT) {
		exportd_config_format(&c->export, buf, size);
	} else if (s == CONFIG_WATCH_CGROUPS) {
		buf[0] = '\0';
		for (size_t i = 0; i < c->watch_count && n < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? "," : "",
					      c->watch_cgroups[i]);
		if (!c->watch_count)
			snprintf(buf, size, "(none)");
	} else if (str) {
		snprintf(buf, size, "%s", *str ? *str : "(none)");
	} else if (s == CONFIG_VERBOSE) {
		snprintf(buf, size, "%s", c->verbose ? "true" : "false");
	} else if (number_value(c, s) == 0) {
		snprintf(buf, size, "(default)");
	} else {
		snprintf(buf, size, "%llu%s", (unsigned long long)number_value(c, s),
			 settings[s].type == TYPE_MS || settings[s].type == TYPE_AGE ? "ms" : "");
	}
}

void daemon_config_free(struct daemon_config *c)
{
	for (size_t i = 0; i < CONFIG_NR_SETTINGS; i++) {
		const char **field = string_field(c, (enum config_setting)i);

		if (field)
			free((char *)*field);
	}
	free_watch(c);
	exportd_config_free(&c->export);
	ssf_config_free(&c->ssf);
	*c = (struct daemon_config){ 0 };
}
