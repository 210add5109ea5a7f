// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Policy parsing and validation. yamltree.c reads the file into a small
 * tree with positions (refusing anchors, aliases and tags); the tree is then
 * checked key by key into struct policy. Every
 * problem becomes a diagnostic at the position of the offending scalar, and
 * checking goes on after an error so that one run reports them all.
 *
 * docs/policy.md is the user-facing description of everything checked here.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy.h"
#include "yamltree.h"

#define POLICY_NAME_MAX 63
#define POLICY_PATH_MAX 4095 /* PATH_MAX less the NUL */

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)
#define warn_at(ctx, pos, ...) ytree_report(ctx, DIAG_WARNING, pos, __VA_ARGS__)

/* ---- single rules ---- */

/* Is there a control character? If so, name it ("\\x0a", "U+009B") and its byte (from 1). */
static bool has_control(const char *s, size_t len, char name[8], size_t *at)
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
	if (!ytree_all_digits(digits, "0123456789")) {
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
		if (strlen(len_text) > 3 || !ytree_all_digits(len_text, "0123456789") ||
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
static void parse_default(struct ytree_ctx *ctx, const struct ynode *value, const char *where,
			  uint8_t *verdict)
{
	char what[64];
	struct ytree_quoted q;

	*verdict = ACTGATE_VERDICT_ALLOW;
	if (!value)
		return;
	snprintf(what, sizeof(what), "%s.default", where);
	if (!ytree_expect_string(ctx, value, what))
		return;
	if (ynode_is(value, "allow"))
		*verdict = ACTGATE_VERDICT_ALLOW;
	else if (ynode_is(value, "deny"))
		*verdict = ACTGATE_VERDICT_DENY;
	else
		error_at(ctx, value->pos, "%s: expected allow or deny, found %s", what,
			 ytree_quote(&q, value->text, value->len));
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
static bool parse_section(struct ytree_ctx *ctx, const struct ynode *key, const struct ynode *map,
			  const char *where, uint8_t *default_verdict, struct policy_pos *default_pos,
			  struct section *sec)
{
	static const char *const keys[] = { "default", "allow", "deny" };
	const struct ynode *knodes[3], *vals[3];

	*default_verdict = ACTGATE_VERDICT_ALLOW;
	*default_pos = key->pos;
	*sec = (struct section){ .where = where };
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return false;
	ytree_map_fields(ctx, map, where, keys, 3, knodes, vals);
	parse_default(ctx, vals[0], where, default_verdict);
	if (vals[0])
		*default_pos = vals[0]->pos;

	sec->list[ACTGATE_VERDICT_ALLOW] = vals[1];
	sec->list[ACTGATE_VERDICT_DENY] = vals[2];
	for (uint8_t v = 0; v < 2; v++) {
		char what[64];

		snprintf(what, sizeof(what), "%s.%s", where, verdict_name(v));
		if (sec->list[v] && !ytree_expect_kind(ctx, sec->list[v], YNODE_SEQ, what))
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
static void report_duplicates(struct ytree_ctx *ctx, const struct section *sec,
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
			struct ytree_quoted q, qo;
			bool alike;

			if (!o) {
				first[r->verdict] = r;
				continue;
			}
			alike = written_alike(r, o);
			error_at(ctx, r->node->pos,
				 "%s.%s[%u]: duplicate rule: %s is the same as %s.%s[%u]%s%s (line %u)",
				 sec->where, verdict_name(r->verdict), r->index,
				 ytree_quote(&q, r->node->text, r->node->len), sec->where,
				 verdict_name(o->verdict), o->index, alike ? "" : " ",
				 alike ? "" : ytree_quote(&qo, o->node->text, o->node->len),
				 o->node->pos.line);
		}
		if (first[ACTGATE_VERDICT_ALLOW] && first[ACTGATE_VERDICT_DENY]) {
			const struct rule_ref *d = first[ACTGATE_VERDICT_DENY];
			const struct rule_ref *a = first[ACTGATE_VERDICT_ALLOW];
			bool alike = written_alike(d, a);
			struct ytree_quoted q, qa;

			warn_at(ctx, d->node->pos,
				"%s.deny[%u]: %s is also %s.allow[%u]%s%s (line %u); deny wins",
				sec->where, d->index, ytree_quote(&q, d->node->text, d->node->len),
				sec->where, a->index, alike ? "" : " ",
				alike ? "" : ytree_quote(&qa, a->node->text, a->node->len),
				a->node->pos.line);
		}
	}
	free(idx);
}

static void parse_path_section(struct ytree_ctx *ctx, const struct ynode *key,
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
			struct ytree_quoted q;
			int ret;

			snprintf(what, sizeof(what), "%s.%s[%zu]", where, verdict_name(v), i);
			if (!ytree_expect_string(ctx, n, what))
				continue;
			ret = policy_parse_path_target(n->text, n->len, &r, err, sizeof(err));
			if (ret == -ENOMEM)
				ctx->oom = ret;
			if (ret) {
				error_at(ctx, n->pos, "%s: %s: %s", what, err,
					 ytree_quote(&q, n->text, n->len));
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

static void parse_net_section(struct ytree_ctx *ctx, const struct ynode *key,
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
			struct ytree_quoted q;

			snprintf(what, sizeof(what), "%s.%s[%zu]", where, verdict_name(v), i);
			if (!ytree_expect_string(ctx, n, what))
				continue;
			/* A NUL inside the scalar would hide the rest of it from the parser. */
			if (strlen(n->text) != n->len) {
				error_at(ctx, n->pos, "%s: address contains a NUL character: %s", what,
					 ytree_quote(&q, n->text, n->len));
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

static void parse_metadata(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "name" };
	const struct ynode *knodes[1], *vals[1];
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "metadata"))
		return;
	ytree_map_fields(ctx, map, "metadata", keys, 1, knodes, vals);
	if (!vals[0]) {
		error_at(ctx, map->pos, "missing required key \"name\" in metadata");
		return;
	}
	if (!ytree_expect_string(ctx, vals[0], "metadata.name"))
		return;
	if (!valid_name(vals[0]->text, vals[0]->len)) {
		error_at(ctx, vals[0]->pos,
			 "metadata.name: %s is not a valid name: use lowercase letters, digits and '-', "
			 "begin and end with a letter or digit, at most %d characters",
			 ytree_quote(&q, vals[0]->text, vals[0]->len), POLICY_NAME_MAX);
		return;
	}
	p->name = strdup(vals[0]->text);
	if (!p->name)
		ctx->oom = -ENOMEM;
}

static void parse_selector(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "workloads" };
	const struct ynode *knodes[1], *vals[1], *list;
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec.selector"))
		return;
	ytree_map_fields(ctx, map, "spec.selector", keys, 1, knodes, vals);
	list = vals[0];
	if (!list) {
		error_at(ctx, map->pos, "missing required key \"workloads\" in spec.selector");
		return;
	}
	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, "spec.selector.workloads"))
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
		if (!ytree_expect_string(ctx, n, what))
			continue;
		if (n->len == 0) {
			error_at(ctx, n->pos, "%s: empty workload glob", what);
			continue;
		}
		if (has_control(n->text, n->len, ctl, &at)) {
			error_at(ctx, n->pos,
				 "%s: workload glob contains a control character (%s) at byte %zu: %s",
				 what, ctl, at, ytree_quote(&q, n->text, n->len));
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

static void parse_spec(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "selector", "mode", "record", "exec", "open",
					    "connect" };
	const struct ynode *knodes[6], *vals[6];
	struct ytree_quoted q;

	p->mode = ACTGATE_MODE_ENFORCE;
	p->record = ACTGATE_RECORD_ALL;
	/* Absent sections still need a place to name their default from. */
	p->exec.default_pos = p->open.default_pos = p->connect.default_pos = map->pos;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec"))
		return;
	ytree_map_fields(ctx, map, "spec", keys, 6, knodes, vals);

	if (vals[0])
		parse_selector(ctx, vals[0], p);
	else
		error_at(ctx, map->pos, "missing required key \"selector\" in spec");

	if (vals[1] && ytree_expect_string(ctx, vals[1], "spec.mode")) {
		if (ynode_is(vals[1], "enforce"))
			p->mode = ACTGATE_MODE_ENFORCE;
		else if (ynode_is(vals[1], "audit"))
			p->mode = ACTGATE_MODE_AUDIT;
		else
			error_at(ctx, vals[1]->pos, "spec.mode: expected enforce or audit, found %s",
				 ytree_quote(&q, vals[1]->text, vals[1]->len));
	}
	if (vals[2] && ytree_expect_string(ctx, vals[2], "spec.record")) {
		if (ynode_is(vals[2], "all"))
			p->record = ACTGATE_RECORD_ALL;
		else if (ynode_is(vals[2], "deny"))
			p->record = ACTGATE_RECORD_DENY;
		else if (ynode_is(vals[2], "none"))
			p->record = ACTGATE_RECORD_NONE;
		else
			error_at(ctx, vals[2]->pos,
				 "spec.record: expected all, deny or none, found %s",
				 ytree_quote(&q, vals[2]->text, vals[2]->len));
	}
	if (vals[3])
		parse_path_section(ctx, knodes[3], vals[3], "spec.exec", &p->exec);
	if (vals[4])
		parse_path_section(ctx, knodes[4], vals[4], "spec.open", &p->open);
	if (vals[5])
		parse_net_section(ctx, knodes[5], vals[5], "spec.connect", &p->connect);
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
static void parse_document(struct ytree_ctx *ctx, const struct ynode *root, struct policy *p)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	const struct ynode *knodes[4], *vals[4];
	struct ytree_quoted q;

	p->pos = root->pos;
	p->file = strdup(ctx->file);
	if (!p->file) {
		ctx->oom = -ENOMEM;
		return;
	}
	if (root->kind != YNODE_MAP) {
		error_at(ctx, root->pos, "expected a Policy mapping at the top of the document, found %s",
			 ynode_describe(root));
		return;
	}
	ytree_map_fields(ctx, root, "the policy", keys, 4, knodes, vals);

	if (!vals[0])
		error_at(ctx, root->pos, "missing required key \"apiVersion\"");
	else if (ytree_expect_string(ctx, vals[0], "apiVersion") &&
		 !ynode_is(vals[0], POLICY_API_VERSION))
		error_at(ctx, vals[0]->pos, "apiVersion: expected \"%s\", found %s", POLICY_API_VERSION,
			 ytree_quote(&q, vals[0]->text, vals[0]->len));

	if (!vals[1])
		error_at(ctx, root->pos, "missing required key \"kind\"");
	else if (ytree_expect_string(ctx, vals[1], "kind") && !ynode_is(vals[1], POLICY_KIND))
		error_at(ctx, vals[1]->pos, "kind: expected \"%s\", found %s", POLICY_KIND,
			 ytree_quote(&q, vals[1]->text, vals[1]->len));

	if (vals[2])
		parse_metadata(ctx, vals[2], p);
	else
		error_at(ctx, root->pos, "missing required key \"metadata\"");

	if (vals[3])
		parse_spec(ctx, vals[3], p);
	else
		error_at(ctx, root->pos, "missing required key \"spec\"");
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

/* What policy_parse_buffer keeps while ytree_parse hands it documents. */
struct parse_state {
	struct ytree_ctx *ctx;
	struct policy *parsed;
	size_t count;
};

static int add_document(void *arg, const struct ynode *root, bool rejected)
{
	struct parse_state *st = arg;
	size_t errors = st->ctx->errors;
	struct policy p = { 0 };
	struct policy *grown;

	if (!rejected)
		parse_document(st->ctx, root, &p);
	if (st->ctx->oom) {
		policy_free(&p);
		return st->ctx->oom;
	}
	if (rejected || st->ctx->errors != errors) {
		policy_free(&p);
		return 0;
	}
	grown = realloc(st->parsed, (st->count + 1) * sizeof(*st->parsed));
	if (!grown) {
		policy_free(&p);
		return -ENOMEM;
	}
	st->parsed = grown;
	st->parsed[st->count++] = p;
	return 0;
}

int policy_parse_buffer(const char *name, const char *text, size_t len, struct policy_set *set,
			struct diag_list *diags)
{
	struct ytree_ctx ctx = { .file = name, .what = "policy file", .diags = diags };
	struct parse_state st = { .ctx = &ctx };
	size_t first_diag = diags->count, documents = 0;
	int err;

	err = ytree_parse(&ctx, text, len, add_document, &st, &documents);
	if (err)
		goto cleanup;

	if (ctx.errors == 0 && documents == 0) {
		error_at(&ctx, (struct policy_pos){ 0, 0 }, "no policy documents");
		err = -EINVAL;
	} else if (ctx.errors) {
		err = -EINVAL;
	} else {
		err = append_policies(set, st.parsed, st.count);
		if (!err)
			st.count = 0; /* now owned by set */
	}

cleanup:
	if (!err && ctx.oom)
		err = ctx.oom;
	if (diag_sort(diags, first_diag) && !err)
		err = -ENOMEM;
	for (size_t i = 0; i < st.count; i++)
		policy_free(&st.parsed[i]);
	free(st.parsed);
	return err;
}

int policy_parse_file(const char *path, struct policy_set *set, struct diag_list *diags)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	/* One byte past the limit is read, so that policy_parse_buffer sees "too long". */
	err = ytree_read_file(path, &text, &len);
	if (err) {
		if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read policy file: %s",
			     strerror(-err)))
			err = -ENOMEM;
		return err;
	}
	err = policy_parse_buffer(path, text, len, set, diags);
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
	/* Editors' and tools' hidden files (.x.yaml.swp, .#x.yaml) are not policies. */
	if (name[0] == '.')
		return false;
	/* Policy tests live beside their policies (docs/policy-tests.md). */
	if (ytree_has_suffix(name, ".test.yaml") || ytree_has_suffix(name, ".test.yml"))
		return false;
	return ytree_has_suffix(name, ".yaml") || ytree_has_suffix(name, ".yml");
}

int policy_load_dir(const char *dir, struct policy_set *set, struct diag_list *diags)
{
	char **names = NULL;
	size_t count = 0;
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
	err = ytree_read_dir(d, is_policy_file, &names, &count);
	if (err == -ENOMEM)
		goto cleanup;
	if (err) {
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

	/* Every file is read, so that one run reports every file's errors. */
	for (size_t i = 0; i < count; i++) {
		char *path;
		int ret;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			err = -ENOMEM;
			goto cleanup;
		}
		ret = policy_parse_file(path, set, diags);
		free(path);
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
	ytree_free_names(names, count);
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
