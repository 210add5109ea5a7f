// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parsing and validation. libyaml's event API feeds a small tree of
 * our own (the document API would resolve aliases silently, and we reject
 * them); the tree is then checked key by key into struct policy. Every
 * problem becomes a diagnostic at the position of the offending scalar, and
 * checking goes on after an error so that one run reports them all.
 *
 * docs/policy.md is the user-facing description of everything checked here.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy.h"

/* Policies are small; the bound keeps a hostile file from costing gigabytes of tree. */
#define POLICY_MAX_BYTES (1024 * 1024)
/* A policy nests four levels; the bound keeps recursion over the tree shallow. */
#define YAML_MAX_DEPTH 32
#define POLICY_NAME_MAX 63
#define POLICY_PATH_MAX 4095 /* PATH_MAX less the NUL */

/* ---- a YAML tree with positions ---- */

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
	struct policy_pos pos;
	char *text;             /* scalars: NUL-terminated, may also hold NULs */
	size_t len;
	struct ynode **items;   /* a map holds key, value, key, value, ... */
	size_t count;
	size_t cap;
};

static void ynode_free(struct ynode *n)
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

static bool all_digits(const char *s, const char *digits)
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
	if ((!strncmp(s, "0x", 2) && all_digits(s + 2, "0123456789abcdefABCDEF")) ||
	    (!strncmp(s, "0o", 2) && all_digits(s + 2, "01234567")))
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

struct parse_ctx {
	const char *file;
	struct diag_list *diags;
	size_t errors; /* counted here too: diag_add can fail for lack of memory */
	int oom;       /* -ENOMEM once anything failed to allocate */
};

static void report(struct parse_ctx *ctx, enum diag_severity sev, struct policy_pos pos,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct parse_ctx *ctx, enum diag_severity sev, struct policy_pos pos,
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

#define error_at(ctx, pos, ...) report(ctx, DIAG_ERROR, pos, __VA_ARGS__)
#define warn_at(ctx, pos, ...) report(ctx, DIAG_WARNING, pos, __VA_ARGS__)

/*
 * Text from the input, made safe to print: quoted, control characters
 * escaped (a policy file must not be able to drive the terminal), and cut
 * short when long.
 */
struct quoted {
	char s[100];
};

/* C1 controls, U+0080-U+009F, in UTF-8: some terminals obey them too (0x9b is CSI). */
static bool is_c1_control(const char *s, size_t len, size_t i)
{
	return (unsigned char)s[i] == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
	       (unsigned char)s[i + 1] <= 0x9f;
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
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(q->s + o, sizeof(q->s) - o, "\\x%02x", c);
		} else if (is_c1_control(s, len, i)) {
			o += (size_t)snprintf(q->s + o, sizeof(q->s) - o, "\\u%04x",
					      (unsigned char)s[++i]);
		} else {
			q->s[o++] = (char)c;
		}
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	return q->s;
}

static const char *node_description(const struct ynode *n)
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

static bool expect_kind(struct parse_ctx *ctx, const struct ynode *n, enum ynode_kind kind,
			const char *where)
{
	if (n->kind == kind)
		return true;
	error_at(ctx, n->pos, "%s: expected %s, found %s", where,
		 kind == YNODE_MAP ? "a mapping" : "a list", node_description(n));
	return false;
}

static bool expect_string(struct parse_ctx *ctx, const struct ynode *n, const char *where)
{
	if (n->kind == YNODE_SCALAR && n->type == YSCALAR_STRING)
		return true;
	if (n->kind == YNODE_SCALAR)
		error_at(ctx, n->pos, "%s: expected a string, found %s (quote it to make it a string)",
			 where, node_description(n));
	else
		error_at(ctx, n->pos, "%s: expected a string, found %s", where, node_description(n));
	return false;
}

static bool scalar_is(const struct ynode *n, const char *s)
{
	return n->len == strlen(s) && !memcmp(n->text, s, n->len);
}

/*
 * Check a mapping against the keys it may hold: unknown and duplicate keys
 * are errors. values[i] receives the value of keys[i] (NULL when absent),
 * key_nodes[i] the key itself (for positions).
 */
static void map_fields(struct parse_ctx *ctx, const struct ynode *map, const char *where,
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
		struct quoted q;
		size_t k;

		if (key->kind != YNODE_SCALAR) {
			error_at(ctx, key->pos, "%s: keys must be strings, found %s", where,
				 node_description(key));
			continue;
		}
		for (k = 0; k < nkeys; k++)
			if (scalar_is(key, keys[k]))
				break;
		if (k == nkeys) {
			const char *near = NULL;

			/* The usual slip is the case: apiversion, Kind. */
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

/* ---- single rules ---- */

/* Is there a control character? If so, name it ("\\x0a", "U+009B") and its byte (from 1). */
static bool has_control(const char *s, size_t len, char name[8], size_t *at)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(name, 8, "\\x%02x", c);
		} else if (is_c1_control(s, len, i)) {
			snprintf(name, 8, "U+%04X", (unsigned char)s[i + 1]);
		} else {
			continue;
		}
		*at = i + 1;
		return true;
	}
	return false;
}

int policy_parse_path_target(const char *text, size_t len, struct path_rule *rule, char *err,
			     size_t err_size)
{
	char *out = NULL, ctl[8];
	size_t o = 0, at;
	int ret = -EINVAL;

	if (len == 0) {
		snprintf(err, err_size, "empty path");
		goto cleanup;
	}
	if (len > POLICY_PATH_MAX) {
		snprintf(err, err_size, "path is %zu bytes long; the limit is %d", len,
			 POLICY_PATH_MAX);
		goto cleanup;
	}
	if (has_control(text, len, ctl, &at)) {
		snprintf(err, err_size, "path contains a control character (%s) at byte %zu", ctl,
			 at);
		goto cleanup;
	}
	if (text[0] != '/') {
		/* The daemon resolves rules with no working directory of the workload's. */
		snprintf(err, err_size, "path must be absolute (start with '/')");
		goto cleanup;
	}

	out = malloc(len + 1);
	if (!out) {
		ret = -ENOMEM;
		snprintf(err, err_size, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && text[j] != '/')
			j++;
		if (j - i == 2 && text[i] == '.' && text[i + 1] == '.') {
			/*
			 * Lexically a/b/.. is a, but if b is a symlink the kernel
			 * goes elsewhere; rather than guess, make the user say.
			 */
			snprintf(err, err_size,
				 "\"..\" in a path is ambiguous with symlinks; write the path without it");
			goto cleanup;
		}
		if (j > i && !(j - i == 1 && text[i] == '.')) {
			out[o++] = '/';
			memcpy(out + o, text + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';

	rule->path = out;
	rule->subtree = text[len - 1] == '/';
	return 0;

cleanup:
	free(out);
	return ret;
}

static bool looks_like_hostname(const char *s)
{
	bool letter = false;

	for (; *s; s++) {
		if (isalpha((unsigned char)*s))
			letter = true;
		else if (!isdigit((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	}
	return letter;
}

/* One port number, 1-65535; 0 or -EINVAL with a message. */
static int parse_port(const char *s, size_t len, unsigned long *port, char *err, size_t err_size)
{
	char digits[8];

	if (len == 0 || len >= sizeof(digits)) {
		snprintf(err, err_size, "bad port \"%.*s\": expected a number 1-65535 or a range LO-HI",
			 (int)(len < 16 ? len : 16), s);
		return -EINVAL;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (!all_digits(digits, "0123456789")) {
		snprintf(err, err_size, "bad port \"%s\": expected a number 1-65535 or a range LO-HI",
			 digits);
		return -EINVAL;
	}
	*port = strtoul(digits, NULL, 10);
	if (*port < 1 || *port > 65535) {
		snprintf(err, err_size, "port %s is out of range 1-65535", digits);
		return -EINVAL;
	}
	return 0;
}

/* "443" or "1024-65535"; 0 or -EINVAL with a message. */
static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t err_size)
{
	const char *dash = strchr(s, '-');
	unsigned long l, h;

	if (!*s) {
		snprintf(err, err_size, "missing port after ':'");
		return -EINVAL;
	}
	if (!dash) {
		if (parse_port(s, strlen(s), &l, err, err_size))
			return -EINVAL;
		h = l;
	} else if (parse_port(s, (size_t)(dash - s), &l, err, err_size) ||
		   parse_port(dash + 1, strlen(dash + 1), &h, err, err_size)) {
		return -EINVAL;
	}
	if (l > h) {
		snprintf(err, err_size, "port range %lu-%lu is reversed: write LO-HI with LO <= HI",
			 l, h);
		return -EINVAL;
	}
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

int policy_parse_net_target(const char *text, struct net_rule *rule, char *err, size_t err_size)
{
	/* The longest sensible rule, "[ffff:...:255.255.255.255/128]:65535-65535", fits. */
	char buf[96];
	char *addr, *port = NULL, *len_text = NULL;
	size_t len = strlen(text), at;
	char ctl[8];
	bool bracketed = false, v6;
	unsigned max_len, plen;
	uint8_t a[16] = { 0 };

	if (len == 0) {
		snprintf(err, err_size, "empty address");
		return -EINVAL;
	}
	if (has_control(text, len, ctl, &at)) {
		snprintf(err, err_size, "address contains a control character (%s) at byte %zu",
			 ctl, at);
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		snprintf(err, err_size, "too long for an address rule");
		return -EINVAL;
	}
	memcpy(buf, text, len + 1);
	addr = buf;

	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close) {
			snprintf(err, err_size, "missing ']' after a bracketed IPv6 address");
			return -EINVAL;
		}
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			snprintf(err, err_size, "expected \":PORT\" after ']'");
			return -EINVAL;
		}
		bracketed = true;
	} else {
		char *colon = strchr(buf, ':');

		/* One colon: ADDR:PORT. More: a bare IPv6 address, which takes no port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}

	len_text = strchr(addr, '/');
	if (len_text)
		*len_text++ = '\0';
	if (!*addr) {
		snprintf(err, err_size, "missing address");
		return -EINVAL;
	}
	v6 = strchr(addr, ':') != NULL;

	if (v6) {
		if (inet_pton(AF_INET6, addr, a) != 1) {
			snprintf(err, err_size, "\"%s\" is not an IPv6 address%s", addr,
				 bracketed ? "" : " (with a port, bracket it: \"[::1]:8080\")");
			return -EINVAL;
		}
		max_len = 128;
	} else {
		if (bracketed) {
			snprintf(err, err_size,
				 "brackets are for IPv6 addresses; write an IPv4 address as 10.0.0.1:443");
			return -EINVAL;
		}
		if (inet_pton(AF_INET, addr, a + 12) != 1) {
			if (looks_like_hostname(addr))
				snprintf(err, err_size,
					 "\"%s\" is a host name; connect rules take IP addresses "
					 "(what a name resolves to changes over time and from one resolver to another)",
					 addr);
			else
				snprintf(err, err_size, "\"%s\" is not an IPv4 or IPv6 address", addr);
			return -EINVAL;
		}
		a[10] = a[11] = 0xff; /* IPv4-mapped, ::ffff:a.b.c.d */
		max_len = 32;
	}

	plen = max_len;
	if (len_text) {
		if (strlen(len_text) > 3 || !all_digits(len_text, "0123456789") ||
		    (plen = (unsigned)strtoul(len_text, NULL, 10)) > max_len) {
			bool port_hint = v6 && !bracketed && strchr(len_text, ':');

			snprintf(err, err_size, "bad prefix length \"/%.12s\": expected 0-%u%s",
				 len_text, max_len,
				 port_hint ? " (an IPv6 address with a port must be bracketed: "
					     "\"[2001:db8::/32]:443\")" : "");
			return -EINVAL;
		}
	}
	if (!v6)
		plen += 96;

	for (unsigned bit = plen; bit < 128; bit++) {
		if (a[bit / 8] & (0x80 >> (bit % 8))) {
			char fixed[INET6_ADDRSTRLEN];
			uint8_t m[16];

			memcpy(m, a, sizeof(m));
			for (unsigned b = plen; b < 128; b++)
				m[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			if (v6)
				inet_ntop(AF_INET6, m, fixed, sizeof(fixed));
			else
				inet_ntop(AF_INET, m + 12, fixed, sizeof(fixed));
			snprintf(err, err_size, "host bits set; did you mean %s%s/%u%s%s%s?",
				 bracketed ? "[" : "", fixed, plen - (v6 ? 0 : 96), bracketed ? "]" : "",
				 port ? ":" : "", port ? port : "");
			return -EINVAL;
		}
	}

	rule->port_lo = 0;
	rule->port_hi = 65535;
	if (port && parse_ports(port, &rule->port_lo, &rule->port_hi, err, err_size))
		return -EINVAL;
	memcpy(rule->addr, a, sizeof(rule->addr));
	rule->prefix_len = (uint8_t)plen;
	return 0;
}

/* ---- the sections of a policy ---- */

static const char *verdict_name(uint8_t v)
{
	return v == ACTGATE_VERDICT_DENY ? "deny" : "allow";
}

/* "default: allow|deny" of a section; absent means allow. */
static void parse_default(struct parse_ctx *ctx, const struct ynode *value, const char *where,
			  uint8_t *verdict)
{
	char what[64];
	struct quoted q;

	*verdict = ACTGATE_VERDICT_ALLOW;
	if (!value)
		return;
	snprintf(what, sizeof(what), "%s.default", where);
	if (!expect_string(ctx, value, what))
		return;
	if (scalar_is(value, "allow"))
		*verdict = ACTGATE_VERDICT_ALLOW;
	else if (scalar_is(value, "deny"))
		*verdict = ACTGATE_VERDICT_DENY;
	else
		error_at(ctx, value->pos, "%s: expected allow or deny, found %s", what,
			 quote(&q, value->text, value->len));
}

/* A section (exec, open, connect) as written: its default and its two lists. */
struct section {
	const char *where;           /* "spec.exec", for messages */
	const struct ynode *list[2]; /* index: enum actgate_verdict; NULL when absent */
	size_t total;                /* entries in both lists */
};

/*
 * What every section shares: a mapping of default, allow and deny. Fills
 * the default (allow, named at the section key, when not written) and sec;
 * returns false when there are no rules to read.
 */
static bool parse_section(struct parse_ctx *ctx, const struct ynode *key, const struct ynode *map,
			  const char *where, uint8_t *default_verdict, struct policy_pos *default_pos,
			  struct section *sec)
{
	static const char *const keys[] = { "default", "allow", "deny" };
	const struct ynode *knodes[3], *vals[3];

	*default_verdict = ACTGATE_VERDICT_ALLOW;
	*default_pos = key->pos;
	*sec = (struct section){ .where = where };
	if (!expect_kind(ctx, map, YNODE_MAP, where))
		return false;
	map_fields(ctx, map, where, keys, 3, knodes, vals);
	parse_default(ctx, vals[0], where, default_verdict);
	if (vals[0])
		*default_pos = vals[0]->pos;

	sec->list[ACTGATE_VERDICT_ALLOW] = vals[1];
	sec->list[ACTGATE_VERDICT_DENY] = vals[2];
	for (uint8_t v = 0; v < 2; v++) {
		char what[64];

		snprintf(what, sizeof(what), "%s.%s", where, verdict_name(v));
		if (sec->list[v] && !expect_kind(ctx, sec->list[v], YNODE_SEQ, what))
			sec->list[v] = NULL;
		if (sec->list[v])
			sec->total += sec->list[v]->count;
	}
	return sec->total > 0;
}

/* One accepted rule as duplicate detection sees it, whatever its section. */
struct rule_ref {
	const struct ynode *node; /* as written, for messages */
	uint8_t verdict;
	unsigned index;
	bool subtree;
	const void *key;          /* equal keys (and subtree flags) name the same rule */
	size_t key_len;
	uint8_t net_key[16 + 1 + 2 + 2]; /* address, prefix length, port range */
};

static int rule_ref_cmp(const void *a, const void *b, void *arg)
{
	const struct rule_ref *refs = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct rule_ref *x = &refs[ia], *y = &refs[ib];
	int c;

	if (x->subtree != y->subtree)
		return x->subtree ? 1 : -1;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	c = memcmp(x->key, y->key, x->key_len);
	if (c)
		return c;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1; /* allow before deny */
	return ia < ib ? -1 : ia > ib; /* then as written */
}

static bool rule_ref_same(const struct rule_ref *x, const struct rule_ref *y)
{
	return x->subtree == y->subtree && x->key_len == y->key_len &&
	       !memcmp(x->key, y->key, x->key_len);
}

/* Messages show the other rule's text too when it was written differently. */
static bool written_alike(const struct rule_ref *a, const struct rule_ref *b)
{
	return a->node->len == b->node->len && !memcmp(a->node->text, b->node->text, a->node->len);
}

/*
 * The same rule twice in one list is an error; in both lists of a section a
 * warning, since deny wins. Sorting first keeps this O(n log n): a policy
 * file is outside input, and pairwise checks of a long list take minutes.
 */
static void report_duplicates(struct parse_ctx *ctx, const struct section *sec,
			      struct rule_ref *refs, size_t n)
{
	size_t *idx = malloc(n * sizeof(*idx));

	if (!idx) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), rule_ref_cmp, refs);

	for (size_t g = 0, end; g < n; g = end) {
		const struct rule_ref *first[2] = { NULL, NULL };

		for (end = g + 1; end < n && rule_ref_same(&refs[idx[g]], &refs[idx[end]]); end++)
			;
		for (size_t k = g; k < end; k++) {
			const struct rule_ref *r = &refs[idx[k]], *o = first[r->verdict];
			struct quoted q, qo;
			bool alike;

			if (!o) {
				first[r->verdict] = r;
				continue;
			}
			alike = written_alike(r, o);
			error_at(ctx, r->node->pos,
				 "%s.%s[%u]: duplicate rule: %s is the same as %s.%s[%u]%s%s (line %u)",
				 sec->where, verdict_name(r->verdict), r->index,
				 quote(&q, r->node->text, r->node->len), sec->where,
				 verdict_name(o->verdict), o->index, alike ? "" : " ",
				 alike ? "" : quote(&qo, o->node->text, o->node->len), o->node->pos.line);
		}
		if (first[ACTGATE_VERDICT_ALLOW] && first[ACTGATE_VERDICT_DENY]) {
			const struct rule_ref *d = first[ACTGATE_VERDICT_DENY];
			const struct rule_ref *a = first[ACTGATE_VERDICT_ALLOW];
			bool alike = written_alike(d, a);
			struct quoted q, qa;

			warn_at(ctx, d->node->pos,
				"%s.deny[%u]: %s is also %s.allow[%u]%s%s (line %u); deny wins",
				sec->where, d->index, quote(&q, d->node->text, d->node->len),
				sec->where, a->index, alike ? "" : " ",
				alike ? "" : quote(&qa, a->node->text, a->node->len), a->node->pos.line);
		}
	}
	free(idx);
}

static void parse_path_section(struct parse_ctx *ctx, const struct ynode *key,
			       const struct ynode *map, const char *where, struct path_rules *out)
{
	struct rule_ref *refs = NULL;
	struct section sec;

	out->present = true;
	if (!parse_section(ctx, key, map, where, &out->default_verdict, &out->default_pos, &sec))
		return;
	out->rules = calloc(sec.total, sizeof(*out->rules));
	refs = calloc(sec.total, sizeof(*refs));
	if (!out->rules || !refs) {
		ctx->oom = -ENOMEM;
		goto cleanup;
	}

	for (uint8_t v = 0; v < 2; v++) {
		for (size_t i = 0; sec.list[v] && i < sec.list[v]->count; i++) {
			const struct ynode *n = sec.list[v]->items[i];
			struct path_rule r = { .verdict = v, .index = (unsigned)i, .pos = n->pos };
			char what[64], err[256];
			struct quoted q;
			int ret;

			snprintf(what, sizeof(what), "%s.%s[%zu]", where, verdict_name(v), i);
			if (!expect_string(ctx, n, what))
				continue;
			ret = policy_parse_path_target(n->text, n->len, &r, err, sizeof(err));
			if (ret == -ENOMEM)
				ctx->oom = ret;
			if (ret) {
				error_at(ctx, n->pos, "%s: %s: %s", what, err, quote(&q, n->text, n->len));
				continue;
			}
			if (v == ACTGATE_VERDICT_ALLOW && r.subtree && !strcmp(r.path, "/"))
				warn_at(ctx, r.pos,
					"%s: \"/\" allows everything; only more specific deny rules still apply",
					what);
			refs[out->count] = (struct rule_ref){
				.node = n, .verdict = v, .index = r.index, .subtree = r.subtree,
				.key = r.path, .key_len = strlen(r.path),
			};
			out->rules[out->count++] = r;
		}
	}
	report_duplicates(ctx, &sec, refs, out->count);

cleanup:
	free(refs);
}

static void parse_net_section(struct parse_ctx *ctx, const struct ynode *key,
			      const struct ynode *map, const char *where, struct net_rules *out)
{
	struct rule_ref *refs = NULL;
	struct section sec;

	out->present = true;
	if (!parse_section(ctx, key, map, where, &out->default_verdict, &out->default_pos, &sec))
		return;
	out->rules = calloc(sec.total, sizeof(*out->rules));
	refs = calloc(sec.total, sizeof(*refs));
	if (!out->rules || !refs) {
		ctx->oom = -ENOMEM;
		goto cleanup;
	}

	for (uint8_t v = 0; v < 2; v++) {
		for (size_t i = 0; sec.list[v] && i < sec.list[v]->count; i++) {
			const struct ynode *n = sec.list[v]->items[i];
			struct net_rule r = { .verdict = v, .index = (unsigned)i, .pos = n->pos };
			struct rule_ref *ref = &refs[out->count];
			char what[64], err[256];
			struct quoted q;

			snprintf(what, sizeof(what), "%s.%s[%zu]", where, verdict_name(v), i);
			if (!expect_string(ctx, n, what))
				continue;
			/* A NUL inside the scalar would hide the rest of it from the parser. */
			if (strlen(n->text) != n->len) {
				error_at(ctx, n->pos, "%s: address contains a NUL character: %s", what,
					 quote(&q, n->text, n->len));
				continue;
			}
			if (policy_parse_net_target(n->text, &r, err, sizeof(err))) {
				error_at(ctx, n->pos, "%s: %s", what, err);
				continue;
			}
			r.text = strdup(n->text);
			if (!r.text) {
				ctx->oom = -ENOMEM;
				goto cleanup;
			}
			*ref = (struct rule_ref){ .node = n, .verdict = v, .index = r.index };
			memcpy(ref->net_key, r.addr, 16);
			ref->net_key[16] = r.prefix_len;
			ref->net_key[17] = (uint8_t)(r.port_lo >> 8);
			ref->net_key[18] = (uint8_t)r.port_lo;
			ref->net_key[19] = (uint8_t)(r.port_hi >> 8);
			ref->net_key[20] = (uint8_t)r.port_hi;
			ref->key = ref->net_key;
			ref->key_len = sizeof(ref->net_key);
			out->rules[out->count++] = r;
		}
	}
	report_duplicates(ctx, &sec, refs, out->count);

cleanup:
	free(refs);
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > POLICY_NAME_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static void parse_metadata(struct parse_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "name" };
	const struct ynode *knodes[1], *vals[1];
	struct quoted q;

	if (!expect_kind(ctx, map, YNODE_MAP, "metadata"))
		return;
	map_fields(ctx, map, "metadata", keys, 1, knodes, vals);
	if (!vals[0]) {
		error_at(ctx, map->pos, "missing required key \"name\" in metadata");
		return;
	}
	if (!expect_string(ctx, vals[0], "metadata.name"))
		return;
	if (!valid_name(vals[0]->text, vals[0]->len)) {
		error_at(ctx, vals[0]->pos,
			 "metadata.name: %s is not a valid name: use lowercase letters, digits and '-', "
			 "begin and end with a letter or digit, at most %d characters",
			 quote(&q, vals[0]->text, vals[0]->len), POLICY_NAME_MAX);
		return;
	}
	p->name = strdup(vals[0]->text);
	if (!p->name)
		ctx->oom = -ENOMEM;
}

static void parse_selector(struct parse_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "workloads" };
	const struct ynode *knodes[1], *vals[1], *list;
	struct quoted q;

	if (!expect_kind(ctx, map, YNODE_MAP, "spec.selector"))
		return;
	map_fields(ctx, map, "spec.selector", keys, 1, knodes, vals);
	list = vals[0];
	if (!list) {
		error_at(ctx, map->pos, "missing required key \"workloads\" in spec.selector");
		return;
	}
	if (!expect_kind(ctx, list, YNODE_SEQ, "spec.selector.workloads"))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos,
			 "spec.selector.workloads: the list is empty; name at least one workload glob");
		return;
	}
	p->workload_globs = calloc(list->count, sizeof(*p->workload_globs));
	if (!p->workload_globs) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		char what[64], ctl[8];
		size_t at;

		snprintf(what, sizeof(what), "spec.selector.workloads[%zu]", i);
		if (!expect_string(ctx, n, what))
			continue;
		if (n->len == 0) {
			error_at(ctx, n->pos, "%s: empty workload glob", what);
			continue;
		}
		if (has_control(n->text, n->len, ctl, &at)) {
			error_at(ctx, n->pos,
				 "%s: workload glob contains a control character (%s) at byte %zu: %s",
				 what, ctl, at, quote(&q, n->text, n->len));
			continue;
		}
		p->workload_globs[p->workload_glob_count] = strdup(n->text);
		if (!p->workload_globs[p->workload_glob_count]) {
			ctx->oom = -ENOMEM;
			return;
		}
		p->workload_glob_count++;
	}
}

static void parse_spec(struct parse_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "selector", "mode", "exec", "open", "connect" };
	const struct ynode *knodes[5], *vals[5];
	struct quoted q;

	p->mode = ACTGATE_MODE_ENFORCE;
	/* Absent sections still need a place to name their default from. */
	p->exec.default_pos = p->open.default_pos = p->connect.default_pos = map->pos;
	if (!expect_kind(ctx, map, YNODE_MAP, "spec"))
		return;
	map_fields(ctx, map, "spec", keys, 5, knodes, vals);

	if (vals[0])
		parse_selector(ctx, vals[0], p);
	else
		error_at(ctx, map->pos, "missing required key \"selector\" in spec");

	if (vals[1] && expect_string(ctx, vals[1], "spec.mode")) {
		if (scalar_is(vals[1], "enforce"))
			p->mode = ACTGATE_MODE_ENFORCE;
		else if (scalar_is(vals[1], "audit"))
			p->mode = ACTGATE_MODE_AUDIT;
		else
			error_at(ctx, vals[1]->pos, "spec.mode: expected enforce or audit, found %s",
				 quote(&q, vals[1]->text, vals[1]->len));
	}
	if (vals[2])
		parse_path_section(ctx, knodes[2], vals[2], "spec.exec", &p->exec);
	if (vals[3])
		parse_path_section(ctx, knodes[3], vals[3], "spec.open", &p->open);
	if (vals[4])
		parse_net_section(ctx, knodes[4], vals[4], "spec.connect", &p->connect);
}

static void policy_free(struct policy *p)
{
	free(p->name);
	free(p->file);
	for (size_t i = 0; i < p->workload_glob_count; i++)
		free(p->workload_globs[i]);
	free(p->workload_globs);
	for (size_t i = 0; i < p->exec.count; i++)
		free(p->exec.rules[i].path);
	free(p->exec.rules);
	for (size_t i = 0; i < p->open.count; i++)
		free(p->open.rules[i].path);
	free(p->open.rules);
	for (size_t i = 0; i < p->connect.count; i++)
		free(p->connect.rules[i].text);
	free(p->connect.rules);
	*p = (struct policy){ 0 };
}

/* One document's tree into p; errors are counted in ctx. */
static void parse_document(struct parse_ctx *ctx, const struct ynode *root, struct policy *p)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	const struct ynode *knodes[4], *vals[4];
	struct quoted q;

	p->pos = root->pos;
	p->file = strdup(ctx->file);
	if (!p->file) {
		ctx->oom = -ENOMEM;
		return;
	}
	if (root->kind != YNODE_MAP) {
		error_at(ctx, root->pos, "expected a Policy mapping at the top of the document, found %s",
			 node_description(root));
		return;
	}
	map_fields(ctx, root, "the policy", keys, 4, knodes, vals);

	if (!vals[0])
		error_at(ctx, root->pos, "missing required key \"apiVersion\"");
	else if (expect_string(ctx, vals[0], "apiVersion") && !scalar_is(vals[0], POLICY_API_VERSION))
		error_at(ctx, vals[0]->pos, "apiVersion: expected \"%s\", found %s", POLICY_API_VERSION,
			 quote(&q, vals[0]->text, vals[0]->len));

	if (!vals[1])
		error_at(ctx, root->pos, "missing required key \"kind\"");
	else if (expect_string(ctx, vals[1], "kind") && !scalar_is(vals[1], POLICY_KIND))
		error_at(ctx, vals[1]->pos, "kind: expected \"%s\", found %s", POLICY_KIND,
			 quote(&q, vals[1]->text, vals[1]->len));

	if (vals[2])
		parse_metadata(ctx, vals[2], p);
	else
		error_at(ctx, root->pos, "missing required key \"metadata\"");

	if (vals[3])
		parse_spec(ctx, vals[3], p);
	else
		error_at(ctx, root->pos, "missing required key \"spec\"");
}

/* ---- YAML events to trees ---- */

struct tree_builder {
	struct ynode *root;
	struct ynode *stack[YAML_MAX_DEPTH];
	size_t depth;
	bool rejected; /* an anchor, alias or tag was reported: do not check the document */
};

static int builder_add(struct parse_ctx *ctx, struct tree_builder *b, const yaml_event_t *ev,
		       enum ynode_kind kind)
{
	struct ynode *n;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	struct policy_pos pos = { ev->start_mark.line + 1, ev->start_mark.column + 1 };
	struct quoted q;
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
	 * Aliases let one rule stand in several places under one position, and
	 * nested ones let a small file expand into a huge one ("billion
	 * laughs"); a policy is easier to review written out.
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
			 quote(&q, (const char *)tag, strlen((const char *)tag)));
		b->rejected = true;
	}

	if (kind != YNODE_SCALAR && b->depth == YAML_MAX_DEPTH) {
		error_at(ctx, pos, "nested deeper than %d levels", YAML_MAX_DEPTH);
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
		/* A placeholder keeps keys and values paired; the document is not checked. */
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

static void report_yaml_error(struct parse_ctx *ctx, const yaml_parser_t *parser, const char *text,
			      size_t len)
{
	struct policy_pos pos = { parser->problem_mark.line + 1, parser->problem_mark.column + 1 };
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

static int append_policies(struct policy_set *set, struct policy *add, size_t n)
{
	struct policy *all;

	if (!n)
		return 0;
	all = realloc(set->policies, (set->count + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all + set->count, add, n * sizeof(*add));
	set->policies = all;
	set->count += n;
	return 0;
}

int policy_parse_buffer(const char *name, const char *text, size_t len, struct policy_set *set,
			struct diag_list *diags)
{
	struct parse_ctx ctx = { .file = name, .diags = diags };
	size_t first_diag = diags->count;
	struct tree_builder b = { 0 };
	struct policy *parsed = NULL;
	size_t count = 0, documents = 0;
	yaml_parser_t parser;
	yaml_event_t event;
	bool parser_ready = false, done = false;
	int err = 0;

	if (len > POLICY_MAX_BYTES) {
		error_at(&ctx, (struct policy_pos){ 0, 0 },
			 "policy file is larger than the limit of %d bytes", POLICY_MAX_BYTES);
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
			struct ynode *root = b.root;
			size_t errors = ctx.errors;
			struct policy p = { 0 };
			struct policy *grown;

			b.root = NULL;
			/* An empty document ("---" at the end of a file) says nothing. */
			if (!root || (root->kind == YNODE_SCALAR && root->type == YSCALAR_NULL &&
				      !root->len && !b.rejected)) {
				ynode_free(root);
				break;
			}
			documents++;
			if (!b.rejected)
				parse_document(&ctx, root, &p);
			ynode_free(root);
			if (ctx.oom) {
				policy_free(&p);
				err = ctx.oom;
				yaml_event_delete(&event);
				goto cleanup;
			}
			if (b.rejected || ctx.errors != errors) {
				policy_free(&p);
				break;
			}
			grown = realloc(parsed, (count + 1) * sizeof(*parsed));
			if (!grown) {
				policy_free(&p);
				err = -ENOMEM;
				yaml_event_delete(&event);
				goto cleanup;
			}
			parsed = grown;
			parsed[count++] = p;
			break;
		}
		case YAML_MAPPING_START_EVENT:
			err = builder_add(&ctx, &b, &event, YNODE_MAP);
			break;
		case YAML_SEQUENCE_START_EVENT:
			err = builder_add(&ctx, &b, &event, YNODE_SEQ);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			err = builder_add(&ctx, &b, &event, YNODE_SCALAR);
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

	if (ctx.errors == 0 && documents == 0) {
		error_at(&ctx, (struct policy_pos){ 0, 0 }, "no policy documents");
		err = -EINVAL;
	} else if (ctx.errors) {
		err = -EINVAL;
	} else {
		err = append_policies(set, parsed, count);
		if (!err)
			count = 0; /* now owned by set */
	}

cleanup:
	if (!err && ctx.oom)
		err = ctx.oom;
	if (diag_sort(diags, first_diag) && !err)
		err = -ENOMEM;
	ynode_free(b.root);
	for (size_t i = 0; i < count; i++)
		policy_free(&parsed[i]);
	free(parsed);
	if (parser_ready)
		yaml_parser_delete(&parser);
	return err;
}

int policy_parse_file(const char *path, struct policy_set *set, struct diag_list *diags)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	/* Read one byte past the limit so that policy_parse_buffer sees "too long". */
	text = malloc(POLICY_MAX_BYTES + 2);
	if (!text) {
		err = -ENOMEM;
		goto fail;
	}
	while (len <= POLICY_MAX_BYTES) {
		ssize_t n = read(fd, text + len, POLICY_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	text[len] = '\0';

	err = policy_parse_buffer(path, text, len, set, diags);
	free(text);
	return err;

fail:
	if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read policy file: %s", strerror(-err)))
		err = -ENOMEM;
	if (fd >= 0)
		close(fd);
	free(text);
	return err;
}

static int policy_name_cmp(const void *a, const void *b, void *arg)
{
	const struct policy *policies = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(policies[ia].name, policies[ib].name);

	if (c)
		return c;
	return ia < ib ? -1 : ia > ib; /* the first one loaded is the original */
}

int policy_set_validate(const struct policy_set *set, struct diag_list *diags)
{
	size_t *idx = NULL, n = 0;
	int err = 0;

	/* Sorted, not pairwise: a directory may hold thousands of policies. */
	idx = malloc((set->count ? set->count : 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < set->count; i++)
		if (set->policies[i].name)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), policy_name_cmp, set->policies);

	for (size_t i = 1, first = 0; i < n; i++) {
		const struct policy *p = &set->policies[idx[i]];
		const struct policy *f = &set->policies[idx[first]];

		if (strcmp(p->name, f->name)) {
			first = i;
			continue;
		}
		if (diag_add(diags, DIAG_ERROR, p->file, p->pos.line, p->pos.col,
			     "policy name \"%s\" is already used at %s:%u", p->name, f->file,
			     f->pos.line)) {
			err = -ENOMEM;
			goto cleanup;
		}
		err = -EINVAL;
	}

cleanup:
	free(idx);
	return err;
}

static bool is_policy_file(const char *name)
{
	size_t len = strlen(name);

	/* Editors' and tools' hidden files (.x.yaml.swp, .#x.yaml) are not policies. */
	if (name[0] == '.')
		return false;
	/* Policy tests live beside their policies (docs/policy-tests.md). */
	if ((len > 10 && !strcmp(name + len - 10, ".test.yaml")) ||
	    (len > 9 && !strcmp(name + len - 9, ".test.yml")))
		return false;
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_load_dir(const char *dir, struct policy_set *set, struct diag_list *diags)
{
	char **names = NULL;
	size_t count = 0;
	struct dirent *de;
	DIR *d = NULL;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0, "cannot open policy directory: %s",
			     strerror(-err)))
			err = -ENOMEM;
		goto cleanup;
	}
	while ((errno = 0, de = readdir(d))) {
		char **grown;

		if (!is_policy_file(de->d_name))
			continue;
		grown = realloc(names, (count + 1) * sizeof(*names));
		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		names = grown;
		if (asprintf(&names[count], "%s/%s", dir, de->d_name) < 0) {
			err = -ENOMEM;
			goto cleanup;
		}
		count++;
	}
	if (errno) {
		err = -errno;
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0, "cannot read policy directory: %s",
			     strerror(-err)))
			err = -ENOMEM;
		goto cleanup;
	}
	if (count == 0) {
		err = -ENOENT;
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0,
			     "no policy files (*.yaml, *.yml) in the policy directory"))
			err = -ENOMEM;
		goto cleanup;
	}
	qsort(names, count, sizeof(*names), name_cmp);

	/* Every file is read, so that one run reports every file's errors. */
	for (size_t i = 0; i < count; i++) {
		int ret = policy_parse_file(names[i], set, diags);

		if (ret == -ENOMEM) {
			err = ret;
			goto cleanup;
		}
		if (ret && !err)
			err = ret;
	}
	{
		int ret = policy_set_validate(set, diags);

		if (ret && !err)
			err = ret;
	}

cleanup:
	if (err)
		policy_set_free(set);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return err;
}

bool policy_selects(const struct policy *p, const char *workload)
{
	for (size_t i = 0; i < p->workload_glob_count; i++)
		if (fnmatch(p->workload_globs[i], workload, 0) == 0)
			return true;
	return false;
}

int policy_set_select(const struct policy_set *set, const char *workload,
		      const struct policy **match, const struct policy **other)
{
	*match = NULL;
	if (other)
		*other = NULL;
	for (size_t i = 0; i < set->count; i++) {
		if (!policy_selects(&set->policies[i], workload))
			continue;
		if (*match) {
			if (other)
				*other = &set->policies[i];
			return -EEXIST;
		}
		*match = &set->policies[i];
	}
	return *match ? 0 : -ENOENT;
}

void policy_set_free(struct policy_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		policy_free(&set->policies[i]);
	free(set->policies);
	*set = (struct policy_set){ 0 };
}
