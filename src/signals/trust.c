/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The trust file is read with the YAML tree the policies use (util/yamltree.h),
 * so its errors read the same: file:line:col, every one reported, and a file
 * with any error changes nothing (the daemon keeps running without it only at
 * start, where it refuses to start instead).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity/workload.h"
#include "signals/trust.h"
#include "util/duration.h"
#include "util/yamltree.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

struct trust_ctx {
	struct ytree_ctx yt;
	struct signal_trust *t;
};

/* A printable string scalar of 1 to max bytes, or NULL (reported). */
static char *string_of(struct trust_ctx *c, const struct ynode *n, const char *where, size_t max)
{
	struct ytree_quoted q;
	char ctl[8], *s;
	size_t at;

	if (!ytree_expect_string(&c->yt, n, where))
		return NULL;
	if (n->len == 0 || n->len > max || strlen(n->text) != n->len ||
	    ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(&c->yt, n->pos, "%s: %s: expected 1 to %zu printable bytes", where,
			 ytree_quote(&q, n->text, n->len), max);
		return NULL;
	}
	s = strdup(n->text);
	if (!s)
		c->yt.oom = -ENOMEM;
	return s;
}

static bool duration_of(struct trust_ctx *c, const struct ynode *n, const char *where,
			int64_t *out_s)
{
	char why[256];
	uint64_t ns;

	if (!ytree_expect_string(&c->yt, n, where))
		return false;
	if (duration_parse(n->text, &ns, why, sizeof(why)) || ns < 1000000000ull ||
	    ns > 7ull * 86400 * 1000000000ull) {
		error_at(&c->yt, n->pos, "%s: expected a duration of 1s to 7d (\"90s\", \"15m\")",
			 where);
		return false;
	}
	*out_s = (int64_t)(ns / 1000000000ull);
	return true;
}

/* One identifier of a principal: {format: F, MEMBER: ...} as in a token. */
static bool parse_alias(struct trust_ctx *c, const struct ynode *n, const char *where,
			struct caep_id *id)
{
	static const char *const keys[] = { "format", "email", "iss", "sub", "id", "url",
					    "phone_number", "uri" };
	const struct ynode *knodes[8], *vals[8];
	enum caep_id_format f;
	size_t errors = c->yt.errors;
	char what[300];

	*id = (struct caep_id){ 0 };
	if (!ytree_expect_kind(&c->yt, n, YNODE_MAP, where))
		return false;
	ytree_map_fields(&c->yt, n, where, keys, 8, knodes, vals);
	if (c->yt.errors != errors)
		return false;
	if (!vals[0] || !ytree_expect_string(&c->yt, vals[0], where) ||
	    caep_id_format_parse(vals[0]->text, &f) || f == CAEP_ID_JWT_ID || f == CAEP_ID_SAML) {
		error_at(&c->yt, n->pos, "%s: \"format\" is one of email, iss_sub, opaque, did, "
			 "phone_number, account, uri", where);
		return false;
	}
	id->format = f;
	{
		/* The member(s) each format has, as in caep.c's table. */
		static const int member_of[CAEP_ID_FORMATS][2] = {
			[CAEP_ID_EMAIL] = { 1, 0 },   [CAEP_ID_ISS_SUB] = { 2, 3 },
			[CAEP_ID_OPAQUE] = { 4, 0 },  [CAEP_ID_DID] = { 5, 0 },
			[CAEP_ID_PHONE_NUMBER] = { 6, 0 }, [CAEP_ID_ACCOUNT] = { 7, 0 },
			[CAEP_ID_URI] = { 7, 0 },
		};
		int a = member_of[f][0], b = member_of[f][1];

		for (int k = 1; k < 8; k++)
			if (vals[k] && k != a && k != b) {
				error_at(&c->yt, vals[k]->pos, "%s: a %s identifier has no \"%s\"",
					 where, caep_id_format_name(f), keys[k]);
				return false;
			}
		if (!vals[a] || (b && !vals[b])) {
			error_at(&c->yt, n->pos, "%s: a %s identifier needs \"%s\"%s%s%s", where,
				 caep_id_format_name(f), keys[a], b ? " and \"" : "",
				 b ? keys[b] : "", b ? "\"" : "");
			return false;
		}
		snprintf(what, sizeof(what), "%s.%s", where, keys[a]);
		id->a = string_of(c, vals[a], what, CAEP_ID_MAX);
		if (b) {
			snprintf(what, sizeof(what), "%s.%s", where, keys[b]);
			id->b = string_of(c, vals[b], what, CAEP_ID_MAX);
		}
	}
	if (!id->a || (f == CAEP_ID_ISS_SUB && !id->b)) {
		free(id->a);
		free(id->b);
		*id = (struct caep_id){ 0 };
		return false;
	}
	return true;
}

static bool same_id(const struct caep_id *x, const struct caep_id *y)
{
	if (x->format != y->format)
		return false;
	if (x->format == CAEP_ID_EMAIL)
		return !strcasecmp(x->a, y->a);
	return !strcmp(x->a, y->a) &&
	       ((!x->b && !y->b) || (x->b && y->b && !strcmp(x->b, y->b)));
}

static void parse_principals(struct trust_ctx *c, const struct ynode *map)
{
	struct signal_trust *t = c->t;

	if (!ytree_expect_kind(&c->yt, map, YNODE_MAP, "principals"))
		return;
	if (map->count / 2 > TRUST_MAX_PRINCIPALS) {
		error_at(&c->yt, map->pos, "principals: at most %d", TRUST_MAX_PRINCIPALS);
		return;
	}
	t->principals = calloc(map->count / 2 + 1, sizeof(*t->principals));
	if (!t->principals) {
		c->yt.oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		struct trust_principal *p = &t->principals[t->principal_count];
		char where[240], why[256];

		if (ytree_duplicate_key(&c->yt, map, i, "principals"))
			continue;
		if (!ytree_expect_string(&c->yt, k, "principals"))
			continue;
		snprintf(where, sizeof(where), "principals.%.180s", k->text);
		if (workload_principal_check(k->text, why, sizeof(why))) {
			error_at(&c->yt, k->pos, "%s: %s", where, why);
			continue;
		}
		if (!ytree_expect_kind(&c->yt, v, YNODE_SEQ, where))
			continue;
		if (v->count == 0 || v->count > TRUST_MAX_ALIASES) {
			error_at(&c->yt, v->pos, "%s: 1 to %d identifiers", where, TRUST_MAX_ALIASES);
			continue;
		}
		p->name = strdup(k->text);
		p->ids = calloc(v->count, sizeof(*p->ids));
		if (!p->name || !p->ids) {
			free(p->name);
			free(p->ids);
			*p = (struct trust_principal){ 0 };
			c->yt.oom = -ENOMEM;
			return;
		}
		t->principal_count++;
		for (size_t j = 0; j < v->count; j++) {
			char at[264];
			const char *other;

			snprintf(at, sizeof(at), "%s[%zu]", where, j);
			if (!parse_alias(c, v->items[j], at, &p->ids[p->count]))
				continue;
			/* One identifier, one principal: two would make a token's effect ambiguous. */
			other = trust_principal_of(t, &p->ids[p->count]);
			if (other) {
				error_at(&c->yt, v->items[j]->pos,
					 "%s: this identifier is already %s's", at, other);
				free(p->ids[p->count].a);
				free(p->ids[p->count].b);
				continue;
			}
			p->count++;
		}
	}
}

static void parse_issuer(struct trust_ctx *c, const struct ynode *n, const char *where)
{
	static const char *const keys[] = { "issuer", "audience", "jwks_file", "max_age",
					    "clock_skew" };
	const struct ynode *knodes[5], *vals[5];
	struct signal_trust *t = c->t;
	struct trust_issuer *is = &t->issuers[t->issuer_count];
	size_t errors = c->yt.errors;
	char what[96];

	if (!ytree_expect_kind(&c->yt, n, YNODE_MAP, where))
		return;
	ytree_map_fields(&c->yt, n, where, keys, 5, knodes, vals);
	if (c->yt.errors != errors)
		return;
	if (!vals[0] || !vals[2]) {
		error_at(&c->yt, n->pos, "%s: \"issuer\" and \"jwks_file\" are required", where);
		return;
	}
	*is = (struct trust_issuer){ .max_age_s = TRUST_DEFAULT_MAX_AGE_S,
				     .skew_s = TRUST_DEFAULT_SKEW_S };
	snprintf(what, sizeof(what), "%s.issuer", where);
	is->issuer = string_of(c, vals[0], what, 255);
	if (vals[1]) {
		snprintf(what, sizeof(what), "%s.audience", where);
		is->audience = string_of(c, vals[1], what, 255);
	}
	snprintf(what, sizeof(what), "%s.jwks_file", where);
	is->jwks_file = string_of(c, vals[2], what, 4095);
	if (is->jwks_file && is->jwks_file[0] != '/')
		error_at(&c->yt, vals[2]->pos, "%s: expected an absolute path", what);
	if (vals[3]) {
		snprintf(what, sizeof(what), "%s.max_age", where);
		duration_of(c, vals[3], what, &is->max_age_s);
	}
	if (vals[4]) {
		snprintf(what, sizeof(what), "%s.clock_skew", where);
		duration_of(c, vals[4], what, &is->skew_s);
	}
	if (is->issuer && trust_issuer(t, is->issuer))
		error_at(&c->yt, vals[0]->pos, "%s: issuer %s is given twice", what, is->issuer);
	/* Counted even when wrong: trust_free frees what was set. */
	t->issuer_count++;
}

static int parse_document(void *arg, const struct ynode *root, bool rejected)
{
	static const char *const keys[] = { "device_id", "principals", "issuers" };
	const struct ynode *knodes[3], *vals[3];
	struct trust_ctx *c = arg;

	if (rejected)
		return 0;
	if (root->kind == YNODE_SCALAR && root->type == YSCALAR_NULL)
		return 0;
	if (!ytree_expect_kind(&c->yt, root, YNODE_MAP, "the trust file"))
		return 0;
	ytree_map_fields(&c->yt, root, "the trust file", keys, 3, knodes, vals);
	if (vals[0])
		c->t->device_id = string_of(c, vals[0], "device_id", CAEP_ID_MAX);
	if (vals[1])
		parse_principals(c, vals[1]);
	if (vals[2] && ytree_expect_kind(&c->yt, vals[2], YNODE_SEQ, "issuers")) {
		if (vals[2]->count > TRUST_MAX_ISSUERS) {
			error_at(&c->yt, vals[2]->pos, "issuers: at most %d", TRUST_MAX_ISSUERS);
			return c->yt.oom;
		}
		c->t->issuers = calloc(vals[2]->count + 1, sizeof(*c->t->issuers));
		if (!c->t->issuers)
			return -ENOMEM;
		for (size_t i = 0; i < vals[2]->count; i++) {
			char where[32];

			snprintf(where, sizeof(where), "issuers[%zu]", i);
			parse_issuer(c, vals[2]->items[i], where);
		}
	}
	return c->yt.oom;
}

int trust_parse(const char *name, const char *text, size_t len, struct signal_trust *t,
		struct diag_list *diags)
{
	struct trust_ctx c = { .yt = { .file = name, .what = "trust file", .diags = diags },
			       .t = t };
	size_t documents = 0, first = diags->count;
	int err;

	*t = (struct signal_trust){ 0 };
	err = ytree_parse(&c.yt, text, len, parse_document, &c, &documents);
	if (diag_sort(diags, first))
		err = err ?: -ENOMEM;
	if (!err && c.yt.oom)
		err = c.yt.oom;
	if (!err && documents > 1)
		error_at(&c.yt, (struct source_pos){ 0, 0 },
			 "%zu YAML documents; the trust file is one mapping", documents);
	if (!err && c.yt.errors)
		err = -EINVAL;
	if (err)
		trust_free(t);
	return err;
}

int trust_load(const char *path, struct signal_trust *t, struct diag_list *diags)
{
	struct ytree_ctx yt = { .file = path, .what = "trust file", .diags = diags };
	char *text = NULL, why[1024];
	size_t len = 0;
	int err;

	*t = (struct signal_trust){ 0 };
	err = ytree_read_file(path, &text, &len);
	if (err) {
		ytree_report(&yt, DIAG_ERROR, (struct source_pos){ 0, 0 }, "%s",
			     ytree_read_error(err));
		return err;
	}
	err = trust_parse(path, text, len, t, diags);
	free(text);
	for (size_t i = 0; !err && i < t->issuer_count; i++) {
		struct trust_issuer *is = &t->issuers[i];

		err = jose_keys_load_file(&is->keys, is->jwks_file, why, sizeof(why));
		if (err)
			ytree_report(&yt, DIAG_ERROR, (struct source_pos){ 0, 0 },
				     "issuer %s: its keys: %s", is->issuer, why);
		else
			is->keys.refresh_interval_s = TRUST_REFRESH_INTERVAL_S;
	}
	if (err)
		trust_free(t);
	return err;
}

struct trust_issuer *trust_issuer(struct signal_trust *t, const char *iss)
{
	for (size_t i = 0; i < t->issuer_count; i++)
		if (t->issuers[i].issuer && !strcmp(t->issuers[i].issuer, iss))
			return &t->issuers[i];
	return NULL;
}

const char *trust_principal_of(const struct signal_trust *t, const struct caep_id *id)
{
	for (size_t i = 0; i < t->principal_count; i++)
		for (size_t j = 0; j < t->principals[i].count; j++)
			if (same_id(&t->principals[i].ids[j], id))
				return t->principals[i].name;
	return NULL;
}

bool trust_knows_principal(const struct signal_trust *t, const char *name)
{
	for (size_t i = 0; i < t->principal_count; i++)
		if (!strcmp(t->principals[i].name, name))
			return true;
	return false;
}

void trust_free(struct signal_trust *t)
{
	for (size_t i = 0; i < t->principal_count; i++) {
		for (size_t j = 0; j < t->principals[i].count; j++) {
			free(t->principals[i].ids[j].a);
			free(t->principals[i].ids[j].b);
		}
		free(t->principals[i].ids);
		free(t->principals[i].name);
	}
	free(t->principals);
	for (size_t i = 0; i < t->issuer_count; i++) {
		free(t->issuers[i].issuer);
		free(t->issuers[i].audience);
		free(t->issuers[i].jwks_file);
		jose_keys_free(&t->issuers[i].keys);
	}
	free(t->issuers);
	free(t->device_id);
	*t = (struct signal_trust){ 0 };
}
