/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The sections of a policy (exec, open, connect): their defaults, their
 * allow and deny lists of rules (a target alone, or a mapping with options),
 * their `when:` overlays, and the checks across rules of one section
 * (duplicates, contradictions). docs/policy.md describes what is checked.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/policy.h"
#include "policy/sections.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)
#define warn_at(ctx, pos, ...) ytree_report(ctx, DIAG_WARNING, pos, __VA_ARGS__)

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
void policy_parse_mode(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
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

/* spec.record and a rule's record: all, deny, none or strict. */
void policy_parse_record(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
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
	else if (ynode_is(value, "strict"))
		*record = ACTGATE_RECORD_STRICT;
	else
		error_at(ctx, value->pos, "%s: expected all, deny, none or strict, found %s", what,
			 ytree_quote(&q, value->text, value->len));
}

/*
 * A rule's own record, against the policy's: strict recording is a promise
 * about every action of the workloads a policy selects (none succeeds
 * unrecorded), so it is the policy's alone, and under it no rule records less.
 */
static void check_rule_record(struct ytree_ctx *ctx, const struct ynode *value, const char *what,
			      uint8_t policy_record, uint8_t record)
{
	if (record == ACTGATE_RECORD_STRICT)
		error_at(ctx, value->pos,
			 "%s: strict applies to a whole policy: write it as spec.record", what);
	else if (policy_record == ACTGATE_RECORD_STRICT)
		error_at(ctx, value->pos,
			 "%s: spec.record is strict, which every decision of the policy follows; "
			 "a rule may not set its own record", what);
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
	uint8_t kind;             /* 0 path, 1 unix path, 2 address, 3 name */
	uint8_t verdict;
	uint8_t access;           /* accesses covered; address rules: 1 */
	bool subtree;
	const void *key;          /* equal keys (and subtree flags) name the same target:
				   * the path; address rules' is net_key (ref_key) */
	size_t key_len;
	uint8_t net_key[16 + 1 + 2 + 2 + 1]; /* address, prefix length, ports, protocol */
	char *owned_key;          /* name rules: wildcard, ports, protocol, name (malloc'd) */
};

/*
 * An address rule's key lives in its ref, and refs move when their array
 * grows: it is found through the ref, never kept as a pointer into it.
 */
static const void *ref_key(const struct rule_ref *r)
{
	return r->kind == 2 ? r->net_key : r->key; /* a name's key is its own allocation */
}

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
	c = memcmp(ref_key(x), ref_key(y), x->key_len);
	if (c)
		return c;
	return ia < ib ? -1 : ia > ib; /* then as written */
}

static bool rule_ref_same(const struct rule_ref *x, const struct rule_ref *y)
{
	return x->scope == y->scope && x->kind == y->kind && x->subtree == y->subtree &&
	       x->key_len == y->key_len && !memcmp(ref_key(x), ref_key(y), x->key_len);
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
	struct name_rule *names;  /* connect's rules by name */
	size_t name_count, name_cap;
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

/* snprintf(out, size, "%s", what) without the format: once per rule. */
static void copy_where(char *out, size_t size, const char *what)
{
	size_t n = strnlen(what, size - 1);

	memcpy(out, what, n);
	out[n] = '\0';
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
	if (policy_path_names_own_process(r->path)) {
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
	copy_where(ref->where, sizeof(ref->where), what);
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
	copy_where(ref->where, sizeof(ref->where), what);
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
	ref->key_len = sizeof(ref->net_key);
}

static void keep_name_rule(struct ytree_ctx *ctx, struct section_build *b, const struct ynode *n,
			   const char *what, struct name_rule *r)
{
	size_t len = strlen(r->name);
	struct rule_ref *ref;
	char *key;

	if (grow_array((void **)&b->names, &b->name_cap, b->name_count, sizeof(*b->names))) {
		free(r->text);
		free(r->name);
		ctx->oom = -ENOMEM;
		return;
	}
	b->names[b->name_count++] = *r;
	ref = new_ref(ctx, b);
	key = malloc(6 + len);
	if (!ref || !key) {
		free(key);
		ctx->oom = -ENOMEM;
		return;
	}
	key[0] = (char)r->wildcard;
	key[1] = (char)(r->port_lo >> 8);
	key[2] = (char)r->port_lo;
	key[3] = (char)(r->port_hi >> 8);
	key[4] = (char)r->port_hi;
	key[5] = (char)r->protocol;
	memcpy(key + 6, r->name, len);
	copy_where(ref->where, sizeof(ref->where), what);
	ref->node = n;
	ref->scope = r->overlay;
	ref->kind = 3;
	ref->verdict = r->verdict;
	ref->access = 1;
	ref->owned_key = key;
	ref->key = key;
	ref->key_len = 6 + len;
}

/* A connect target written as a name: "github.com:443", "*.example.com". */
static void parse_name_target(struct ytree_ctx *ctx, struct section_build *b,
			      const struct ynode *n, const char *text, const char *what,
			      const struct net_rule *nr)
{
	struct name_rule r = { .verdict = nr->verdict, .protocol = nr->protocol, .mode = nr->mode,
			       .record = nr->record, .overlay = nr->overlay, .index = nr->index,
			       .pos = nr->pos };
	struct ytree_quoted q;
	size_t at;
	char err[256];
	int ret = policy_parse_name_target(text, &r, err, sizeof(err), &at);

	if (ret == -ENOMEM)
		ctx->oom = ret;
	if (ret) {
		error_at(ctx, n->pos, "%s: %s (at byte %zu of %s)", what, err, at,
			 ytree_quote(&q, n->text, n->len));
		return;
	}
	r.text = strdup(text);
	if (!r.text) {
		free(r.name);
		ctx->oom = -ENOMEM;
		return;
	}
	keep_name_rule(ctx, b, n, what, &r);
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
	if (policy_target_is_name(text)) {
		parse_name_target(ctx, b, n, text, what, r);
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
			policy_parse_mode(ctx, vals[0], sub, &mode);
		}
		if (vals[1]) {
			size_t before = ctx->errors;

			snprintf(sub, sizeof(sub), "%s.record", what);
			policy_parse_record(ctx, vals[1], sub, &record);
			if (ctx->errors == before)
				check_rule_record(ctx, vals[1], sub, b->policy->record, record);
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

/*
 * what = "LIST[i]", LIST being what's first base bytes. Every rule gets one,
 * for its messages, and snprintf for each was a sixth of a 100,000-rule
 * policy's load; the result is the same, truncation included.
 */
static void set_index(char *what, size_t size, size_t base, size_t i)
{
	char digits[24];
	size_t n = 0, k = i;

	do {
		digits[n++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	if (base + n + 2 >= size) {
		snprintf(what + base, size - base, "[%zu]", i);
		return;
	}
	what[base++] = '[';
	while (n)
		what[base++] = digits[--n];
	what[base++] = ']';
	what[base] = '\0';
}

/* The allow: and deny: lists of a section or an overlay. */
static void parse_rule_lists(struct ytree_ctx *ctx, struct section_build *b, const char *where,
			     const struct ynode *lists[2], int overlay)
{
	for (uint8_t v = 0; v < 2; v++) {
		const struct ynode *list = lists[v];
		char what[96];
		size_t base;

		if (!list)
			continue;
		snprintf(what, sizeof(what), "%s.%s", where, verdict_name(v));
		if (!ytree_expect_kind(ctx, list, YNODE_SEQ, what))
			continue;
		base = strlen(what);
		for (size_t i = 0; i < list->count; i++) {
			set_index(what, sizeof(what), base, i);
			parse_rule_entry(ctx, b, list->items[i], what, v, overlay, (unsigned)i);
		}
	}
}

/* A value a signal may have: printable, at most 255 bytes. */
static bool valid_signal_value(struct ytree_ctx *ctx, const struct ynode *n, const char *what)
{
	char ctl[8];
	size_t at;

	if (!ytree_expect_string(ctx, n, what))
		return false;
	if (n->len == 0 || n->len > POLICY_SIGNAL_VALUE_MAX) {
		error_at(ctx, n->pos, "%s: a signal value is 1 to %d bytes long", what,
			 POLICY_SIGNAL_VALUE_MAX);
		return false;
	}
	if (ytree_find_control(n->text, n->len, ctl, &at)) {
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
		if (!policy_valid_signal_name(k->text, k->len)) {
			error_at(ctx, k->pos,
				 "%s: %s is not a valid signal name: use lowercase letters, digits, "
				 "'_', '.' and '-', starting with a letter, at most 63 characters",
				 where, ytree_quote(&q, k->text, k->len));
			continue;
		}
		if (ytree_duplicate_key(ctx, map, i, where))
			continue;
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
 * connect's sockets: a list of the raw and packet socket kinds the policy
 * allows its workloads to create, by name, each at most once.
 */
static void parse_sockets(struct ytree_ctx *ctx, const struct ynode *list, const char *section,
			  uint8_t *sockets)
{
	char what[96];

	snprintf(what, sizeof(what), "%s.sockets", section);
	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, what))
		return;
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		struct ytree_quoted q;
		unsigned kind;

		snprintf(what, sizeof(what), "%s.sockets[%zu]", section, i);
		if (!ytree_expect_string(ctx, n, what))
			continue;
		for (kind = ACTGATE_SOCKET_RAW; kind <= ACTGATE_SOCKET_PACKET; kind++)
			if (ynode_is(n, policy_socket_kind_name(kind)))
				break;
		if (kind > ACTGATE_SOCKET_PACKET) {
			error_at(ctx, n->pos,
				 "%s: unknown socket kind %s; expected raw (SOCK_RAW of IPv4 and "
				 "IPv6) or packet (AF_PACKET)", what, ytree_quote(&q, n->text, n->len));
			continue;
		}
		if (*sockets & (1u << kind)) {
			error_at(ctx, n->pos, "%s: socket kind %s is listed twice", what,
				 policy_socket_kind_name(kind));
			continue;
		}
		*sockets |= (uint8_t)(1u << kind);
	}
}

/*
 * A section (exec, open, connect): a mapping of default, allow, deny and
 * when, and for connect sockets. The default is named at the section key
 * when not written.
 */
static void parse_section(struct ytree_ctx *ctx, const struct ynode *key, const struct ynode *map,
			  struct section_build *b, uint8_t *default_verdict,
			  struct source_pos *default_pos, struct policy_overlay **overlays,
			  size_t *overlay_count, uint8_t *sockets, struct source_pos *sockets_pos,
			  struct path_rules *exec)
{
	/* The fifth key is the section's own: connect's sockets, exec's written. */
	const char *const keys[] = { "default", "allow", "deny", "when",
				     exec ? "written" : "sockets" };
	const struct ynode *knodes[5], *vals[5] = { NULL };
	char what[64];

	*default_verdict = ACTGATE_VERDICT_ALLOW;
	*default_pos = key->pos;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, b->section))
		return;
	ytree_map_fields(ctx, map, b->section, keys, sockets || exec ? 5 : 4, knodes, vals);
	if (exec && vals[4]) {
		snprintf(what, sizeof(what), "%s.written", b->section);
		exec->written_pos = vals[4]->pos;
		parse_verdict(ctx, vals[4], what, &exec->written);
	}
	if (sockets && vals[4]) {
		*sockets_pos = vals[4]->pos;
		parse_sockets(ctx, vals[4], b->section, sockets);
	}
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
	for (size_t i = 0; i < b->ref_count; i++)
		free(b->refs[i].owned_key);
	free(b->refs);
	b->refs = NULL;
}

void policy_parse_path_section(struct ytree_ctx *ctx, const struct ynode *key,
			       const struct ynode *map, const char *where, uint8_t action,
			       const struct policy *p, struct path_rules *out)
{
	struct section_build b = { .section = where, .action = action, .policy = p };

	out->present = true;
	parse_section(ctx, key, map, &b, &out->default_verdict, &out->default_pos,
		      &out->overlays, &out->overlay_count, NULL, NULL,
		      action == ACTGATE_ACTION_EXEC ? out : NULL);
	out->rules = b.paths;
	out->count = b.path_count;
	section_build_free(&b);
}

void policy_parse_net_section(struct ytree_ctx *ctx, const struct ynode *key,
			      const struct ynode *map, const char *where, const struct policy *p,
			      struct net_rules *out)
{
	struct section_build b = { .section = where, .action = ACTGATE_ACTION_CONNECT,
				   .policy = p };

	out->present = true;
	parse_section(ctx, key, map, &b, &out->default_verdict, &out->default_pos,
		      &out->overlays, &out->overlay_count, &out->sockets, &out->sockets_pos, NULL);
	out->rules = b.nets;
	out->count = b.net_count;
	out->unix_rules = b.paths;
	out->unix_count = b.path_count;
	out->name_rules = b.names;
	out->name_count = b.name_count;
	section_build_free(&b);
}
