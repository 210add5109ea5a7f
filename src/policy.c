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
#include <netinet/in.h>
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

/* "allow" or "deny" into *verdict; false (reported) otherwise. */
static bool parse_verdict(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
			  uint8_t *verdict)
{
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, value, what))
		return false;
	if (ynode_is(value, "allow"))
		*verdict = ACTGATE_VERDICT_ALLOW;
	else if (ynode_is(value, "deny"))
		*verdict = ACTGATE_VERDICT_DENY;
	else {
		error_at(ctx, value->pos, "%s: expected allow or deny, found %s", what,
			 ytree_quote(&q, value->text, value->len));
		return false;
	}
	return true;
}

/* spec.mode and a rule's mode: enforce or audit. */
static void parse_mode(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
		       uint8_t *mode)
{
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, value, what))
		return;
	if (ynode_is(value, "enforce"))
		*mode = ACTGATE_MODE_ENFORCE;
	else if (ynode_is(value, "audit"))
		*mode = ACTGATE_MODE_AUDIT;
	else
		error_at(ctx, value->pos, "%s: expected enforce or audit, found %s", what,
			 ytree_quote(&q, value->text, value->len));
}

/* spec.record and a rule's record: all, deny or none. */
static void parse_record(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
			 uint8_t *record)
{
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, value, what))
		return;
	if (ynode_is(value, "all"))
		*record = ACTGATE_RECORD_ALL;
	else if (ynode_is(value, "deny"))
		*record = ACTGATE_RECORD_DENY;
	else if (ynode_is(value, "none"))
		*record = ACTGATE_RECORD_NONE;
	else
		error_at(ctx, value->pos, "%s: expected all, deny or none, found %s", what,
			 ytree_quote(&q, value->text, value->len));
}

static const char *const access_names[ACTGATE_ACCESS_SLOTS] = { "read", "write", "create",
								"exec-map" };

/* An open rule's access: one name or a list of them; at least one. */
static uint8_t parse_access(struct ytree_ctx *ctx, const struct ynode *value, const char *what)
{
	const struct ynode *const *items = &value;
	size_t count = 1;
	uint8_t mask = 0;

	if (value->kind == YNODE_SEQ) {
		items = (const struct ynode *const *)value->items;
		count = value->count;
		if (count == 0) {
			error_at(ctx, value->pos,
				 "%s: the list is empty, so the rule would match nothing; name at least "
				 "one of read, write, create, exec-map (or leave access out for all)",
				 what);
			return 0;
		}
	}
	for (size_t i = 0; i < count; i++) {
		const struct ynode *n = items[i];
		struct ytree_quoted q;
		unsigned slot;

		if (!ytree_expect_string(ctx, n, what))
			return 0;
		for (slot = 0; slot < ACTGATE_ACCESS_SLOTS; slot++)
			if (ynode_is(n, access_names[slot]))
				break;
		if (slot == ACTGATE_ACCESS_SLOTS) {
			error_at(ctx, n->pos,
				 "%s: unknown access %s; expected read, write, create or exec-map", what,
				 ytree_quote(&q, n->text, n->len));
			return 0;
		}
		if (mask & (1u << slot)) {
			error_at(ctx, n->pos, "%s: access %s is listed twice", what,
				 access_names[slot]);
			return 0;
		}
		mask |= (uint8_t)(1u << slot);
	}
	return mask;
}

/* A connect rule's protocol: tcp or udp. */
static bool parse_protocol(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
			   uint8_t *protocol)
{
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, value, what))
		return false;
	if (ynode_is(value, "tcp"))
		*protocol = IPPROTO_TCP;
	else if (ynode_is(value, "udp"))
		*protocol = IPPROTO_UDP;
	else {
		error_at(ctx, value->pos, "%s: expected tcp or udp, found %s%s", what,
			 ytree_quote(&q, value->text, value->len),
			 " (leave protocol out for a rule on every protocol)");
		return false;
	}
	return true;
}

/*
 * One accepted rule as duplicate and contradiction checks see it, whatever
 * its kind. Rules conflict only within one scope (the base rules, or one
 * overlay), for the same kind of target (path, unix path, address) and the
 * same key (path or address, prefix, ports and protocol).
 */
struct rule_ref {
	const struct ynode *node; /* the target as written, for messages */
	char where[96];           /* "spec.open.when[0].deny[2]" */
	int scope;                /* POLICY_BASE or the overlay */
	uint8_t kind;             /* 0 path, 1 unix path, 2 address */
	uint8_t verdict;
	uint8_t access;           /* accesses covered; address rules: 1 */
	bool subtree;
	const void *key;          /* equal keys (and subtree flags) name the same target */
	size_t key_len;
	uint8_t net_key[16 + 1 + 2 + 2 + 1]; /* address, prefix length, ports, protocol */
};

static int rule_ref_cmp(const void *a, const void *b, void *arg)
{
	const struct rule_ref *refs = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct rule_ref *x = &refs[ia], *y = &refs[ib];
	int c;

	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->subtree != y->subtree)
		return x->subtree ? 1 : -1;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	c = memcmp(x->key, y->key, x->key_len);
	if (c)
		return c;
	return ia < ib ? -1 : ia > ib; /* then as written */
}

static bool rule_ref_same(const struct rule_ref *x, const struct rule_ref *y)
{
	return x->scope == y->scope && x->kind == y->kind && x->subtree == y->subtree &&
	       x->key_len == y->key_len && !memcmp(x->key, y->key, x->key_len);
}

/* Messages show the other rule's text too when it was written differently. */
static bool written_alike(const struct rule_ref *a, const struct rule_ref *b)
{
	return a->node->len == b->node->len && !memcmp(a->node->text, b->node->text, a->node->len);
}

/* The accesses of mask as "read, write", for messages. */
static const char *access_list(uint8_t mask, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned slot = 0; slot < ACTGATE_ACCESS_SLOTS; slot++)
		if (mask & (1u << slot))
			o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s",
					      o ? ", " : "", access_names[slot]);
	return buf;
}

static void report_conflict(struct ytree_ctx *ctx, const struct rule_ref *r,
			    const struct rule_ref *o, uint8_t overlap, uint8_t action)
{
	struct ytree_quoted q, qo;
	char accesses[48] = "", names[40];
	bool alike = written_alike(r, o);

	if (action == ACTGATE_ACTION_OPEN && overlap != ACTGATE_ACCESS_ALL)
		snprintf(accesses, sizeof(accesses), " for %s",
			 access_list(overlap, names, sizeof(names)));
	if (r->verdict == o->verdict)
		error_at(ctx, r->node->pos, "%s: duplicate rule%s: %s is the same as %s%s%s (line %u)",
			 r->where, accesses, ytree_quote(&q, r->node->text, r->node->len),
			 o->where, alike ? "" : " ",
			 alike ? "" : ytree_quote(&qo, o->node->text, o->node->len),
			 o->node->pos.line);
	else
		/*
		 * Deny would win every tie, so the allow rule could never decide
		 * anything: the policy says two things, and one of them is dead.
		 */
		error_at(ctx, r->node->pos,
			 "%s: %s contradicts %s%s%s (line %u)%s: the same target is both allowed and "
			 "denied, so the allow rule can never match; remove one of them",
			 r->where, ytree_quote(&q, r->node->text, r->node->len), o->where,
			 alike ? "" : " ", alike ? "" : ytree_quote(&qo, o->node->text, o->node->len),
			 o->node->pos.line, accesses);
}

/*
 * The same target twice in one scope is an error: in one list a duplicate, in
 * allow and deny a contradiction (deny wins every tie, so the allow rule is
 * dead). For open rules only overlapping accesses count. Sorting first keeps
 * this O(n log n): a policy file is outside input, and pairwise checks of a
 * long list take minutes. Each rule is compared with the union of the
 * accesses already seen per verdict, reporting against the first rule seen.
 */
static void report_duplicates(struct ytree_ctx *ctx, uint8_t action, struct rule_ref *refs,
			      size_t n)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (!idx) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), rule_ref_cmp, refs);

	for (size_t g = 0, end; g < n; g = end) {
		uint8_t seen[2] = { 0, 0 };
		const struct rule_ref *seen_by[2][ACTGATE_ACCESS_SLOTS] = { { NULL } };

		for (end = g + 1; end < n && rule_ref_same(&refs[idx[g]], &refs[idx[end]]); end++)
			;
		for (size_t k = g; k < end; k++) {
			const struct rule_ref *r = &refs[idx[k]];
			uint8_t same = r->access & seen[r->verdict];
			uint8_t other = r->access & seen[!r->verdict];
			unsigned slot;

			if (same) {
				slot = (unsigned)__builtin_ctz(same);
				report_conflict(ctx, r, seen_by[r->verdict][slot], same, action);
			} else if (other) {
				slot = (unsigned)__builtin_ctz(other);
				report_conflict(ctx, r, seen_by[!r->verdict][slot], other, action);
			}
			for (slot = 0; slot < ACTGATE_ACCESS_SLOTS; slot++)
				if ((r->access >> slot & 1) && !seen_by[r->verdict][slot])
					seen_by[r->verdict][slot] = r;
			seen[r->verdict] |= r->access;
		}
	}
	free(idx);
}

/* Growable arrays of one section's rules while it is read. */
struct section_build {
	const char *section;      /* "spec.open" */
	uint8_t action;
	const struct policy *policy; /* mode and record defaults */
	struct path_rule *paths;  /* exec/open rules, or connect's unix rules */
	size_t path_count, path_cap;
	struct net_rule *nets;
	size_t net_count, net_cap;
	struct rule_ref *refs;
	size_t ref_count, ref_cap;
};

static int grow_array(void **items, size_t *cap, size_t count, size_t item_size)
{
	size_t new_cap;
	void *p;

	if (count < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 16;
	p = realloc(*items, new_cap * item_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = new_cap;
	return 0;
}

static struct rule_ref *new_ref(struct ytree_ctx *ctx, struct section_build *b)
{
	if (grow_array((void **)&b->refs, &b->ref_cap, b->ref_count, sizeof(*b->refs))) {
		ctx->oom = -ENOMEM;
		return NULL;
	}
	memset(&b->refs[b->ref_count], 0, sizeof(b->refs[0]));
	return &b->refs[b->ref_count++];
}

/*
 * Paths whose inodes are a process's own (/proc/self/..., /proc/1234/...):
 * resolved by the daemon, they name the daemon's files, never the workload's.
 */
static bool names_own_process(const char *path)
{
	const char *rest;

	if (strncmp(path, "/proc/", 6))
		return false;
	rest = path + 6;
	if (!strncmp(rest, "self", 4) && (rest[4] == '/' || !rest[4]))
		return true;
	if (!strncmp(rest, "thread-self", 11) && (rest[11] == '/' || !rest[11]))
		return true;
	if (!isdigit((unsigned char)*rest))
		return false;
	while (isdigit((unsigned char)*rest))
		rest++;
	return *rest == '/' || !*rest;
}

/* A path target (text, len) into r; false (reported) when it is not one. */
static bool parse_path_rule(struct ytree_ctx *ctx, const struct ynode *n, const char *text,
			    size_t len, const char *what, struct path_rule *r)
{
	char err[256];
	struct ytree_quoted q;
	int ret = policy_parse_path_target(text, len, r, err, sizeof(err));

	if (ret == -ENOMEM)
		ctx->oom = ret;
	if (ret) {
		error_at(ctx, n->pos, "%s: %s: %s", what, err, ytree_quote(&q, n->text, n->len));
		return false;
	}
	if (names_own_process(r->path)) {
		error_at(ctx, n->pos,
			 "%s: %s names a process's own /proc files; the daemon resolves rules to "
			 "files when it loads them, so this would name the daemon's own and never "
			 "match a workload's (a subtree rule on /proc/ covers every process)",
			 what, ytree_quote(&q, n->text, n->len));
		free(r->path);
		r->path = NULL;
		return false;
	}
	return true;
}

static void add_path_ref(struct ytree_ctx *ctx, struct section_build *b, const struct ynode *n,
			 const char *what, const struct path_rule *r, uint8_t kind)
{
	struct rule_ref *ref = new_ref(ctx, b);

	if (!ref)
		return;
	snprintf(ref->where, sizeof(ref->where), "%s", what);
	ref->node = n;
	ref->scope = r->overlay;
	ref->kind = kind;
	ref->verdict = r->verdict;
	ref->access = r->access;
	ref->subtree = r->subtree;
	ref->key = r->path;
	ref->key_len = strlen(r->path);
}

static void keep_path_rule(struct ytree_ctx *ctx, struct section_build *b, const struct ynode *n,
			   const char *what, struct path_rule *r, uint8_t kind)
{
	if (r->verdict == ACTGATE_VERDICT_ALLOW && r->subtree && !strcmp(r->path, "/") &&
	    kind == 0)
		warn_at(ctx, r->pos,
			"%s: \"/\" allows everything; only more specific deny rules still apply",
			what);
	if (grow_array((void **)&b->paths, &b->path_cap, b->path_count, sizeof(*b->paths))) {
		free(r->path);
		ctx->oom = -ENOMEM;
		return;
	}
	b->paths[b->path_count++] = *r;
	/* The ref points at the kept copy of the path: it outlives r. */
	add_path_ref(ctx, b, n, what, &b->paths[b->path_count - 1], kind);
}

static void keep_net_rule(struct ytree_ctx *ctx, struct section_build *b, const struct ynode *n,
			  const char *what, struct net_rule *r)
{
	struct rule_ref *ref;

	if (grow_array((void **)&b->nets, &b->net_cap, b->net_count, sizeof(*b->nets))) {
		free(r->text);
		ctx->oom = -ENOMEM;
		return;
	}
	b->nets[b->net_count++] = *r;
	ref = new_ref(ctx, b);
	if (!ref)
		return;
	snprintf(ref->where, sizeof(ref->where), "%s", what);
	ref->node = n;
	ref->scope = r->overlay;
	ref->kind = 2;
	ref->verdict = r->verdict;
	ref->access = 1;
	memcpy(ref->net_key, r->addr, 16);
	ref->net_key[16] = r->prefix_len;
	ref->net_key[17] = (uint8_t)(r->port_lo >> 8);
	ref->net_key[18] = (uint8_t)r->port_lo;
	ref->net_key[19] = (uint8_t)(r->port_hi >> 8);
	ref->net_key[20] = (uint8_t)r->port_hi;
	ref->net_key[21] = r->protocol;
	ref->key = ref->net_key;
	ref->key_len = sizeof(ref->net_key);
}

#define UNIX_PREFIX "unix:"

/*
 * A connect target: an address rule, or "unix:PATH". text is NUL-free
 * (checked by the caller).
 */
static void parse_connect_target(struct ytree_ctx *ctx, struct section_build *b,
				 const struct ynode *n, const char *text, const char *what,
				 struct net_rule *r, bool unix_only)
{
	char err[256];

	if (unix_only || !strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX))) {
		struct path_rule pr = { .verdict = r->verdict, .access = ACTGATE_ACCESS_WHOLE,
					.mode = r->mode, .record = r->record, .overlay = r->overlay,
					.index = r->index, .pos = r->pos };
		const char *path = unix_only ? text : text + strlen(UNIX_PREFIX);

		if (parse_path_rule(ctx, n, path, strlen(path), what, &pr))
			keep_path_rule(ctx, b, n, what, &pr, 1);
		return;
	}
	if (policy_parse_net_target(text, r, err, sizeof(err))) {
		error_at(ctx, n->pos, "%s: %s", what, err);
		return;
	}
	r->text = strdup(text);
	if (!r->text) {
		ctx->oom = -ENOMEM;
		return;
	}
	keep_net_rule(ctx, b, n, what, r);
}

/*
 * One entry of an allow: or deny: list: a target written alone, or a
 * mapping of the target and its options.
 */
static void parse_rule_entry(struct ytree_ctx *ctx, struct section_build *b, const struct ynode *n,
			     const char *what, uint8_t verdict, int overlay, unsigned index)
{
	static const char *const path_keys[] = { "path", "mode", "record", "access" };
	static const char *const net_keys[] = { "to", "unix", "protocol", "mode", "record" };
	const struct ynode *knodes[5], *vals[5] = { NULL }, *target = n;
	uint8_t mode = b->policy->mode, record = b->policy->record;
	uint8_t access = b->action == ACTGATE_ACTION_OPEN ? ACTGATE_ACCESS_ALL : ACTGATE_ACCESS_WHOLE;
	uint8_t protocol = 0;
	bool connect = b->action == ACTGATE_ACTION_CONNECT, unix_only = false;
	char sub[128];
	struct ytree_quoted q;
	size_t errors = ctx->errors;

	if (n->kind == YNODE_MAP) {
		if (connect) {
			ytree_map_fields(ctx, n, what, net_keys, 5, knodes, vals);
			if (vals[0] && vals[1]) {
				error_at(ctx, knodes[1]->pos,
					 "%s: a rule has one target: \"to\" (an address) or \"unix\" "
					 "(a socket path), not both", what);
				return;
			}
			target = vals[0] ? vals[0] : vals[1];
			unix_only = vals[1] != NULL;
			if (!target) {
				error_at(ctx, n->pos, "missing required key \"to\" (or \"unix\") in %s",
					 what);
				return;
			}
			if (vals[2]) {
				snprintf(sub, sizeof(sub), "%s.protocol", what);
				if (unix_only)
					error_at(ctx, knodes[2]->pos,
						 "%s: unix socket rules take no protocol", sub);
				else
					parse_protocol(ctx, vals[2], sub, &protocol);
			}
			vals[0] = vals[3];
			vals[1] = vals[4];
		} else {
			size_t nkeys = b->action == ACTGATE_ACTION_OPEN ? 4 : 3;

			ytree_map_fields(ctx, n, what, path_keys, nkeys, knodes, vals);
			target = vals[0];
			if (!target) {
				error_at(ctx, n->pos, "missing required key \"path\" in %s", what);
				return;
			}
			if (vals[3]) {
				snprintf(sub, sizeof(sub), "%s.access", what);
				access = parse_access(ctx, vals[3], sub);
			}
			vals[0] = vals[1];
			vals[1] = vals[2];
		}
		if (vals[0]) {
			snprintf(sub, sizeof(sub), "%s.mode", what);
			parse_mode(ctx, vals[0], sub, &mode);
		}
		if (vals[1]) {
			snprintf(sub, sizeof(sub), "%s.record", what);
			parse_record(ctx, vals[1], sub, &record);
		}
	}
	if (!ytree_expect_string(ctx, target, what) || ctx->errors != errors)
		return;
	if (connect) {
		struct net_rule r = { .verdict = verdict, .protocol = protocol, .mode = mode,
				      .record = record, .overlay = overlay, .index = index,
				      .pos = target->pos };

		/* A NUL inside the scalar would hide the rest of it from the parser. */
		if (strlen(target->text) != target->len) {
			error_at(ctx, target->pos, "%s: target contains a NUL character: %s", what,
				 ytree_quote(&q, target->text, target->len));
			return;
		}
		parse_connect_target(ctx, b, target, target->text, what, &r, unix_only);
	} else {
		struct path_rule r = { .verdict = verdict, .access = access, .mode = mode,
				       .record = record, .overlay = overlay, .index = index,
				       .pos = target->pos };

		if (parse_path_rule(ctx, target, target->text, target->len, what, &r))
			keep_path_rule(ctx, b, target, what, &r, 0);
	}
}

/* The allow: and deny: lists of a section or an overlay. */
static void parse_rule_lists(struct ytree_ctx *ctx, struct section_build *b, const char *where,
			     const struct ynode *lists[2], int overlay)
{
	for (uint8_t v = 0; v < 2; v++) {
		const struct ynode *list = lists[v];
		char what[96];

		if (!list)
			continue;
		snprintf(what, sizeof(what), "%s.%s", where, verdict_name(v));
		if (!ytree_expect_kind(ctx, list, YNODE_SEQ, what))
			continue;
		for (size_t i = 0; i < list->count; i++) {
			snprintf(what, sizeof(what), "%s.%s[%zu]", where, verdict_name(v), i);
			parse_rule_entry(ctx, b, list->items[i], what, v, overlay, (unsigned)i);
		}
	}
}

/* Signal names: [a-z][a-z0-9_.-]*, at most 63. */
static bool valid_signal_name(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* A value a signal may have: printable, at most 255 bytes. */
static bool valid_signal_value(struct ytree_ctx *ctx, const struct ynode *n, const char *what)
{
	char ctl[8];
	size_t at;

	if (!ytree_expect_string(ctx, n, what))
		return false;
	if (n->len == 0 || n->len > 255) {
		error_at(ctx, n->pos, "%s: a signal value is 1 to 255 bytes long", what);
		return false;
	}
	if (has_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: control character (%s) at byte %zu", what, ctl, at);
		return false;
	}
	return true;
}

/* signals: {NAME: VALUE | [VALUE, ...], ...} */
static void parse_conditions(struct ytree_ctx *ctx, const struct ynode *map, const char *where,
			     struct policy_overlay *o)
{
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	if (map->count == 0) {
		error_at(ctx, map->pos, "%s: no condition; name at least one signal and its value",
			 where);
		return;
	}
	o->conditions = calloc(map->count / 2, sizeof(*o->conditions));
	if (!o->conditions) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct ynode *const *values = &v;
		struct signal_match *m = &o->conditions[o->condition_count];
		size_t nvalues = 1;
		char what[160];

		if (!ytree_expect_string(ctx, k, where))
			continue;
		if (!valid_signal_name(k->text, k->len)) {
			error_at(ctx, k->pos,
				 "%s: %s is not a valid signal name: use lowercase letters, digits, "
				 "'_', '.' and '-', starting with a letter, at most 63 characters",
				 where, ytree_quote(&q, k->text, k->len));
			continue;
		}
		for (size_t j = 0; j < i; j += 2)
			if (ynode_is(map->items[j], k->text)) {
				error_at(ctx, k->pos, "duplicate key %s in %s (first at line %u)",
					 ytree_quote(&q, k->text, k->len), where,
					 map->items[j]->pos.line);
				goto next;
			}
		snprintf(what, sizeof(what), "%s.%s", where, k->text);
		if (v->kind == YNODE_SEQ) {
			values = (const struct ynode *const *)v->items;
			nvalues = v->count;
			if (nvalues == 0) {
				error_at(ctx, v->pos,
					 "%s: the list is empty, so the condition could never hold", what);
				continue;
			}
		}
		m->name = strdup(k->text);
		m->values = calloc(nvalues, sizeof(*m->values));
		m->pos = k->pos;
		o->condition_count++;
		if (!m->name || !m->values) {
			ctx->oom = -ENOMEM;
			return;
		}
		for (size_t j = 0; j < nvalues; j++) {
			if (!valid_signal_value(ctx, values[j], what))
				continue;
			m->values[m->value_count] = strdup(values[j]->text);
			if (!m->values[m->value_count]) {
				ctx->oom = -ENOMEM;
				return;
			}
			m->value_count++;
		}
next:;
	}
}

/* spec.SECTION.when: a list of overlays. */
static void parse_overlays(struct ytree_ctx *ctx, struct section_build *b,
			   const struct ynode *list, struct policy_overlay **out, size_t *count)
{
	static const char *const keys[] = { "signals", "default", "allow", "deny" };
	char where[64];

	snprintf(where, sizeof(where), "%s.when", b->section);
	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, where))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos, "%s: the list is empty; leave \"when\" out instead", where);
		return;
	}
	if (list->count > POLICY_MAX_OVERLAYS) {
		error_at(ctx, list->pos, "%s: %zu overlays; a section may have at most %d", where,
			 list->count, POLICY_MAX_OVERLAYS);
		return;
	}
	*out = calloc(list->count, sizeof(**out));
	if (!*out) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *map = list->items[i], *knodes[4], *vals[4];
		struct policy_overlay *o = &(*out)[i];
		char here[96], what[128];

		*count = i + 1;
		snprintf(here, sizeof(here), "%s[%zu]", where, i);
		o->pos = map->pos;
		if (!ytree_expect_kind(ctx, map, YNODE_MAP, here))
			continue;
		ytree_map_fields(ctx, map, here, keys, 4, knodes, vals);
		snprintf(what, sizeof(what), "%s.signals", here);
		if (!vals[0])
			error_at(ctx, map->pos, "missing required key \"signals\" in %s", here);
		else
			parse_conditions(ctx, vals[0], what, o);
		if (vals[1]) {
			snprintf(what, sizeof(what), "%s.default", here);
			o->has_default = parse_verdict(ctx, vals[1], what, &o->default_verdict);
			o->default_pos = vals[1]->pos;
		}
		if (!vals[1] && !(vals[2] && vals[2]->kind == YNODE_SEQ && vals[2]->count) &&
		    !(vals[3] && vals[3]->kind == YNODE_SEQ && vals[3]->count)) {
			error_at(ctx, map->pos,
				 "%s: the overlay changes nothing; give it a default, allow or deny "
				 "rules", here);
			continue;
		}
		parse_rule_lists(ctx, b, here, &vals[2], (int)i);
	}
}

/*
 * A section (exec, open, connect): a mapping of default, allow, deny and
 * when. The default is named at the section key when not written.
 */
static void parse_section(struct ytree_ctx *ctx, const struct ynode *key, const struct ynode *map,
			  struct section_build *b, uint8_t *default_verdict,
			  struct policy_pos *default_pos, struct policy_overlay **overlays,
			  size_t *overlay_count)
{
	static const char *const keys[] = { "default", "allow", "deny", "when" };
	const struct ynode *knodes[4], *vals[4];
	char what[64];

	*default_verdict = ACTGATE_VERDICT_ALLOW;
	*default_pos = key->pos;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, b->section))
		return;
	ytree_map_fields(ctx, map, b->section, keys, 4, knodes, vals);
	if (vals[0]) {
		snprintf(what, sizeof(what), "%s.default", b->section);
		parse_verdict(ctx, vals[0], what, default_verdict);
		*default_pos = vals[0]->pos;
	}
	parse_rule_lists(ctx, b, b->section, &vals[1], POLICY_BASE);
	if (vals[3])
		parse_overlays(ctx, b, vals[3], overlays, overlay_count);
	report_duplicates(ctx, b->action, b->refs, b->ref_count);
}

static void section_build_free(struct section_build *b)
{
	free(b->refs);
	b->refs = NULL;
}

static void parse_path_section(struct ytree_ctx *ctx, const struct ynode *key,
			       const struct ynode *map, const char *where, uint8_t action,
			       const struct policy *p, struct path_rules *out)
{
	struct section_build b = { .section = where, .action = action, .policy = p };

	out->present = true;
	parse_section(ctx, key, map, &b, &out->default_verdict, &out->default_pos,
		      &out->overlays, &out->overlay_count);
	out->rules = b.paths;
	out->count = b.path_count;
	section_build_free(&b);
}

static void parse_net_section(struct ytree_ctx *ctx, const struct ynode *key,
			      const struct ynode *map, const char *where, const struct policy *p,
			      struct net_rules *out)
{
	struct section_build b = { .section = where, .action = ACTGATE_ACTION_CONNECT,
				   .policy = p };

	out->present = true;
	parse_section(ctx, key, map, &b, &out->default_verdict, &out->default_pos,
		      &out->overlays, &out->overlay_count);
	out->rules = b.nets;
	out->count = b.net_count;
	out->unix_rules = b.paths;
	out->unix_count = b.path_count;
	section_build_free(&b);
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

/* A glob of a selector: a non-empty string without control characters; strdup'ed into *out. */
static bool parse_glob(struct ytree_ctx *ctx, const struct ynode *n, const char *what,
		       const char *kind, char **out)
{
	char ctl[8];
	size_t at;
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, n, what))
		return false;
	if (n->len == 0) {
		error_at(ctx, n->pos, "%s: empty %s", what, kind);
		return false;
	}
	if (has_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: %s contains a control character (%s) at byte %zu: %s",
			 what, kind, ctl, at, ytree_quote(&q, n->text, n->len));
		return false;
	}
	*out = strdup(n->text);
	if (!*out) {
		ctx->oom = -ENOMEM;
		return false;
	}
	return true;
}

/* spec.selector.workloads or .cgroups: a non-empty list of globs. */
static void parse_glob_list(struct ytree_ctx *ctx, const struct ynode *list, const char *where,
			    const char *kind, char ***globs, size_t *count)
{
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, where))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos, "%s: the list is empty; name at least one %s", where, kind);
		return;
	}
	*globs = calloc(list->count, sizeof(**globs));
	if (!*globs) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		char what[64];

		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!parse_glob(ctx, n, what, kind, &(*globs)[*count]))
			continue;
		(*count)++;
		if (!strcmp(kind, "cgroup glob") && n->text[0] == '/') {
			/* Relative to the cgroup2 root, as /proc/PID/cgroup shows it minus "0::/". */
			error_at(ctx, n->pos,
				 "%s: cgroup globs are relative to the cgroup2 root; write %s without "
				 "the leading '/'",
				 what, ytree_quote(&q, n->text, n->len));
		}
	}
}

/* Label keys: [A-Za-z0-9]([A-Za-z0-9._/-]*), at most 63 (as `actgate run --label` takes). */
bool policy_valid_label_key(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '/' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* spec.selector.labels: {KEY: GLOB, ...} */
static void parse_label_selector(struct ytree_ctx *ctx, const struct ynode *map,
				 struct policy_selector *sel)
{
	const char *where = "spec.selector.labels";
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	if (map->count == 0) {
		error_at(ctx, map->pos, "%s: the mapping is empty; name at least one label", where);
		return;
	}
	sel->labels = calloc(map->count / 2, sizeof(*sel->labels));
	if (!sel->labels) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		struct label_match *m = &sel->labels[sel->label_count];
		char what[128];

		if (!ytree_expect_string(ctx, k, where))
			continue;
		if (!policy_valid_label_key(k->text, k->len)) {
			error_at(ctx, k->pos,
				 "%s: %s is not a valid label key: letters, digits, '.', '_', '/' and "
				 "'-', starting with a letter or digit, at most 63 characters",
				 where, ytree_quote(&q, k->text, k->len));
			continue;
		}
		for (size_t j = 0; j < i; j += 2)
			if (ynode_is(map->items[j], k->text)) {
				error_at(ctx, k->pos, "duplicate key %s in %s (first at line %u)",
					 ytree_quote(&q, k->text, k->len), where,
					 map->items[j]->pos.line);
				goto next;
			}
		snprintf(what, sizeof(what), "%s.%s", where, k->text);
		if (!parse_glob(ctx, v, what, "label glob", &m->glob))
			continue;
		m->key = strdup(k->text);
		m->pos = k->pos;
		sel->label_count++;
		if (!m->key) {
			ctx->oom = -ENOMEM;
			return;
		}
next:;
	}
}

static void parse_selector(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "workloads", "cgroups", "labels" };
	const struct ynode *knodes[3], *vals[3];
	struct policy_selector *sel = &p->selector;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec.selector"))
		return;
	ytree_map_fields(ctx, map, "spec.selector", keys, 3, knodes, vals);
	if (!vals[0] && !vals[1] && !vals[2]) {
		error_at(ctx, map->pos,
			 "spec.selector selects nothing: give workloads, cgroups or labels");
		return;
	}
	if (vals[0])
		parse_glob_list(ctx, vals[0], "spec.selector.workloads", "workload glob",
				&sel->workload_globs, &sel->workload_glob_count);
	if (vals[1])
		parse_glob_list(ctx, vals[1], "spec.selector.cgroups", "cgroup glob",
				&sel->cgroup_globs, &sel->cgroup_glob_count);
	if (vals[2])
		parse_label_selector(ctx, vals[2], sel);
}

static void parse_spec(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "selector", "mode", "record", "exec", "open",
					    "connect" };
	const struct ynode *knodes[6], *vals[6];

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

	/* Before the sections: a rule's mode and record default to these. */
	if (vals[1])
		parse_mode(ctx, vals[1], "spec.mode", &p->mode);
	if (vals[2])
		parse_record(ctx, vals[2], "spec.record", &p->record);
	if (vals[3])
		parse_path_section(ctx, knodes[3], vals[3], "spec.exec", ACTGATE_ACTION_EXEC, p,
				   &p->exec);
	if (vals[4])
		parse_path_section(ctx, knodes[4], vals[4], "spec.open", ACTGATE_ACTION_OPEN, p,
				   &p->open);
	if (vals[5])
		parse_net_section(ctx, knodes[5], vals[5], "spec.connect", p, &p->connect);
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_path_rules(struct path_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rules[i].path);
	free(rules);
}

static void free_overlays(struct policy_overlay *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < o[i].condition_count; j++) {
			free(o[i].conditions[j].name);
			free_strings(o[i].conditions[j].values, o[i].conditions[j].value_count);
		}
		free(o[i].conditions);
	}
	free(o);
}

static void policy_free(struct policy *p)
{
	struct policy_selector *sel = &p->selector;

	free(p->name);
	free(p->file);
	free_strings(sel->workload_globs, sel->workload_glob_count);
	free_strings(sel->cgroup_globs, sel->cgroup_glob_count);
	for (size_t i = 0; i < sel->label_count; i++) {
		free(sel->labels[i].key);
		free(sel->labels[i].glob);
	}
	free(sel->labels);
	free_path_rules(p->exec.rules, p->exec.count);
	free_overlays(p->exec.overlays, p->exec.overlay_count);
	free_path_rules(p->open.rules, p->open.count);
	free_overlays(p->open.overlays, p->open.overlay_count);
	for (size_t i = 0; i < p->connect.count; i++)
		free(p->connect.rules[i].text);
	free(p->connect.rules);
	free_path_rules(p->connect.unix_rules, p->connect.unix_count);
	free_overlays(p->connect.overlays, p->connect.overlay_count);
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

static bool any_glob_matches(char *const *globs, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return true;
	return false;
}

static const char *label_value(const struct workload_identity *id, const char *key)
{
	for (size_t i = 0; i < id->label_count; i++)
		if (!strcmp(id->labels[i].key, key))
			return id->labels[i].value;
	return NULL;
}

bool policy_selects(const struct policy *p, const struct workload_identity *id)
{
	const struct policy_selector *sel = &p->selector;

	if (sel->workload_glob_count &&
	    !any_glob_matches(sel->workload_globs, sel->workload_glob_count, id->name ? id->name : ""))
		return false;
	/* A workload whose cgroup is not known is not selected by cgroup. */
	if (sel->cgroup_glob_count &&
	    (!id->cgroup || !any_glob_matches(sel->cgroup_globs, sel->cgroup_glob_count, id->cgroup)))
		return false;
	for (size_t i = 0; i < sel->label_count; i++) {
		const char *v = label_value(id, sel->labels[i].key);

		if (!v || fnmatch(sel->labels[i].glob, v, 0) != 0)
			return false;
	}
	return true;
}

size_t policy_set_select(const struct policy_set *set, const struct workload_identity *id,
			 size_t *indices, size_t max)
{
	size_t found = 0;

	for (size_t i = 0; i < set->count; i++) {
		if (!policy_selects(&set->policies[i], id))
			continue;
		if (found < max)
			indices[found] = i;
		found++;
	}
	return found;
}

static const char *signal_of(const struct signal_view *signals, const char *name)
{
	for (size_t i = 0; signals && i < signals->count; i++)
		if (!strcmp(signals->values[i].name, name))
			return signals->values[i].value;
	return NULL;
}

bool policy_overlay_holds(const struct policy_overlay *o, const struct signal_view *signals)
{
	for (size_t i = 0; i < o->condition_count; i++) {
		const struct signal_match *m = &o->conditions[i];
		const char *v = signal_of(signals, m->name);
		bool any = false;

		for (size_t j = 0; v && j < m->value_count && !any; j++)
			any = !strcmp(m->values[j], v);
		if (!any)
			return false; /* an unset signal has no value, so matches none */
	}
	return true;
}

uint32_t policy_overlays_active(const struct policy_overlay *overlays, size_t count,
				const struct signal_view *signals)
{
	uint32_t active = 0;

	for (size_t i = 0; i < count && i < POLICY_MAX_OVERLAYS; i++)
		if (policy_overlay_holds(&overlays[i], signals))
			active |= 1u << i;
	return active;
}

uint8_t policy_section_default(uint8_t base_default, const struct policy_overlay *overlays,
			       size_t count, uint32_t active, int *default_overlay)
{
	int allow_from = POLICY_BASE;

	for (size_t i = 0; i < count && i < POLICY_MAX_OVERLAYS; i++) {
		if (!((active >> i) & 1) || !overlays[i].has_default)
			continue;
		if (overlays[i].default_verdict == ACTGATE_VERDICT_DENY) {
			*default_overlay = (int)i;
			return ACTGATE_VERDICT_DENY;
		}
		if (allow_from == POLICY_BASE)
			allow_from = (int)i;
	}
	*default_overlay = allow_from;
	return allow_from == POLICY_BASE ? base_default : ACTGATE_VERDICT_ALLOW;
}

static const char *section_name(uint8_t action)
{
	switch (action) {
	case ACTGATE_ACTION_EXEC:
		return "exec";
	case ACTGATE_ACTION_OPEN:
		return "open";
	case ACTGATE_ACTION_CONNECT:
		return "connect";
	}
	return "?";
}

int rule_name_format(char *buf, size_t size, const char *policy, uint8_t action, int overlay,
		     int verdict, unsigned index)
{
	char scope[32] = "";

	if (overlay != POLICY_BASE)
		snprintf(scope, sizeof(scope), ".when[%d]", overlay);
	if (verdict == RULE_DEFAULT)
		return snprintf(buf, size, "%s:%s%s.default", policy, section_name(action), scope);
	return snprintf(buf, size, "%s:%s%s.%s[%u]", policy, section_name(action), scope,
			verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow", index);
}

void policy_set_free(struct policy_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		policy_free(&set->policies[i]);
	free(set->policies);
	*set = (struct policy_set){ 0 };
}
