// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A SET payload is JSON, which libyaml reads as YAML flow style, so the
 * policy files' tree (yamltree.c) parses it, with positions for messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "signals/caep.h"
#include "util/yamltree.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

/* What every CAEP event may carry besides its own fields. */
#define COMMON_FIELDS "subject", "event_timestamp", "initiating_entity", "reason_admin", "reason_user"
#define COMMON_COUNT 5

enum event_kind {
	EV_SESSION_REVOKED,
	EV_CREDENTIAL_CHANGE,
	EV_ASSURANCE_LEVEL_CHANGE,
	EV_DEVICE_COMPLIANCE_CHANGE,
	EV_RISK_LEVEL_CHANGE,
};

struct event_type {
	const char *name;        /* after CAEP_EVENT_PREFIX */
	const char *signal;      /* the signal it sets; NULL: a revocation */
	const char *value_field; /* the field that is the signal's value */
	const char *const *values; /* the values that field may have; NULL: any */
	const char *fields[COMMON_COUNT + 6]; /* every field allowed, common ones first */
	size_t field_count;
	const char *required[3];
};

static const char *const change_types[] = { "create", "revoke", "update", "delete", NULL };
static const char *const compliance[] = { "compliant", "not-compliant", NULL };
static const char *const risk_levels[] = { "low", "medium", "high", NULL };

static const struct event_type event_types[] = {
	[EV_SESSION_REVOKED] = { "session-revoked", NULL, NULL, NULL, { COMMON_FIELDS },
				 COMMON_COUNT, { NULL } },
	[EV_CREDENTIAL_CHANGE] = { "credential-change", "credential", "change_type", change_types,
				   { COMMON_FIELDS, "credential_type", "change_type",
				     "friendly_name", "x509_issuer", "x509_serial", "fido2_aaguid" },
				   COMMON_COUNT + 6, { "credential_type", "change_type", NULL } },
	[EV_ASSURANCE_LEVEL_CHANGE] = { "assurance-level-change", "assurance", "current_level",
					NULL,
					{ COMMON_FIELDS, "namespace", "current_level",
					  "previous_level", "change_direction" },
					COMMON_COUNT + 4, { "namespace", "current_level", NULL } },
	[EV_DEVICE_COMPLIANCE_CHANGE] = { "device-compliance-change", "device-compliance",
					  "current_status", compliance,
					  { COMMON_FIELDS, "current_status", "previous_status" },
					  COMMON_COUNT + 2, { "current_status", NULL } },
	[EV_RISK_LEVEL_CHANGE] = { "risk-level-change", "risk", "current_level", risk_levels,
				   { COMMON_FIELDS, "current_level", "previous_level", "risk_reason",
				     "principal" },
				   COMMON_COUNT + 4, { "current_level", NULL } },
};

#define EVENT_TYPE_COUNT (sizeof(event_types) / sizeof(event_types[0]))

struct caep_ctx {
	struct ytree_ctx yt;
	struct caep_set *out;
	size_t documents;
};

/* A subject as actgate names it. */
struct subject {
	enum signal_scope scope;
	char *name;
	struct source_pos pos;
};

static char *dup_or_oom(struct caep_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->yt.oom = -ENOMEM;
	return d;
}

/* A string field that must be printable and bounded; NULL (reported) otherwise. */
static const char *text_field(struct caep_ctx *c, const struct ynode *n, const char *what,
			      size_t max)
{
	char ctl[8];
	size_t at;

	if (!ytree_expect_string(&c->yt, n, what))
		return NULL;
	if (n->len == 0 || n->len > max) {
		error_at(&c->yt, n->pos, "%s: expected 1 to %zu bytes", what, max);
		return NULL;
	}
	if (ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(&c->yt, n->pos, "%s: control character (%s) at byte %zu", what, ctl, at);
		return NULL;
	}
	return n->text;
}

/*
 * A subject identifier (RFC 9493): email and iss_sub name a principal,
 * opaque names a workload. Fills s (name allocated); false when refused.
 */
static bool parse_subject(struct caep_ctx *c, const struct ynode *map, const char *where,
			  struct subject *s)
{
	static const char *const keys[] = { "format", "email", "iss", "sub", "id" };
	const struct ynode *knodes[5], *vals[5];
	const char *a, *b;
	char what[96];
	struct ytree_quoted q;

	s->pos = map->pos;
	if (!ytree_expect_kind(&c->yt, map, YNODE_MAP, where))
		return false;
	ytree_map_fields(&c->yt, map, where, keys, 5, knodes, vals);
	if (!vals[0]) {
		error_at(&c->yt, map->pos, "missing required key \"format\" in %s", where);
		return false;
	}
	snprintf(what, sizeof(what), "%s.format", where);
	if (!ytree_expect_string(&c->yt, vals[0], what))
		return false;
	if (ynode_is(vals[0], "email") && vals[1] && !vals[2] && !vals[3] && !vals[4]) {
		snprintf(what, sizeof(what), "%s.email", where);
		a = text_field(c, vals[1], what, SIGNAL_SUBJECT_MAX);
		if (!a)
			return false;
		if (!strchr(a, '@')) {
			error_at(&c->yt, vals[1]->pos, "%s: %s is not an email address", what,
				 ytree_quote(&q, vals[1]->text, vals[1]->len));
			return false;
		}
		s->scope = SIGNAL_PRINCIPAL;
		s->name = dup_or_oom(c, a);
		return s->name != NULL;
	}
	if (ynode_is(vals[0], "iss_sub") && vals[2] && vals[3] && !vals[1] && !vals[4]) {
		snprintf(what, sizeof(what), "%s.iss", where);
		a = text_field(c, vals[2], what, SIGNAL_SUBJECT_MAX / 2);
		snprintf(what, sizeof(what), "%s.sub", where);
		b = text_field(c, vals[3], what, SIGNAL_SUBJECT_MAX / 2 - 1);
		if (!a || !b)
			return false;
		/* One string per principal: the issuer, '#', the subject at that issuer. */
		s->scope = SIGNAL_PRINCIPAL;
		if (asprintf(&s->name, "%s#%s", a, b) < 0) {
			s->name = NULL;
			c->yt.oom = -ENOMEM;
			return false;
		}
		return true;
	}
	if (ynode_is(vals[0], "opaque") && vals[4] && !vals[1] && !vals[2] && !vals[3]) {
		snprintf(what, sizeof(what), "%s.id", where);
		a = text_field(c, vals[4], what, SIGNAL_SUBJECT_MAX);
		if (!a)
			return false;
		s->scope = SIGNAL_WORKLOAD;
		s->name = dup_or_oom(c, a);
		return s->name != NULL;
	}
	if (ynode_is(vals[0], "email") || ynode_is(vals[0], "iss_sub") || ynode_is(vals[0], "opaque"))
		error_at(&c->yt, map->pos,
			 "%s: a subject of format %s has exactly the members %s", where,
			 vals[0]->text,
			 ynode_is(vals[0], "email")   ? "format and email" :
			 ynode_is(vals[0], "iss_sub") ? "format, iss and sub" :
							"format and id");
	else
		error_at(&c->yt, vals[0]->pos,
			 "%s: subject format %s is not supported; use email or iss_sub (a principal) "
			 "or opaque (a workload name)",
			 what, ytree_quote(&q, vals[0]->text, vals[0]->len));
	return false;
}

static bool one_of(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

static int add_effect(struct caep_ctx *c, struct caep_effect *e)
{
	struct caep_set *out = c->out;
	struct caep_effect *grown = realloc(out->effects, (out->count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	out->effects = grown;
	out->effects[out->count++] = *e;
	return 0;
}

static void effect_free(struct caep_effect *e)
{
	free(e->subject);
	free(e->name);
	free(e->value);
	free(e->event);
	free(e->reason);
}

/* One member of "events": its type URI (key) and its payload (value). */
static void parse_event(struct caep_ctx *c, const struct ynode *key, const struct ynode *map,
			const struct subject *top, const char *issuer)
{
	const struct ynode *knodes[COMMON_COUNT + 6], *vals[COMMON_COUNT + 6];
	const struct event_type *t = NULL;
	struct caep_effect e = { 0 };
	struct subject own = { 0 };
	const struct subject *s = top;
	char where[160], what[200];
	struct ytree_quoted q;
	size_t errors = c->yt.errors, prefix = strlen(CAEP_EVENT_PREFIX);

	if (!ytree_expect_string(&c->yt, key, "events"))
		return;
	if (key->len > prefix && !strncmp(key->text, CAEP_EVENT_PREFIX, prefix))
		for (size_t i = 0; i < EVENT_TYPE_COUNT && !t; i++)
			if (!strcmp(key->text + prefix, event_types[i].name))
				t = &event_types[i];
	if (!t) {
		error_at(&c->yt, key->pos,
			 "events: unknown event type %s; actgate takes " CAEP_EVENT_PREFIX
			 "{session-revoked, credential-change, assurance-level-change, "
			 "device-compliance-change, risk-level-change}",
			 ytree_quote(&q, key->text, key->len));
		return;
	}
	snprintf(where, sizeof(where), "events.%s", t->name);
	if (!ytree_expect_kind(&c->yt, map, YNODE_MAP, where))
		return;
	ytree_map_fields(&c->yt, map, where, t->fields, t->field_count, knodes, vals);
	for (size_t r = 0; t->required[r]; r++)
		for (size_t f = 0; f < t->field_count; f++)
			if (!strcmp(t->fields[f], t->required[r]) && !vals[f])
				error_at(&c->yt, map->pos, "missing required key \"%s\" in %s",
					 t->required[r], where);
	if (vals[0]) {
		snprintf(what, sizeof(what), "%s.subject", where);
		if (!parse_subject(c, vals[0], what, &own))
			goto cleanup;
		if (top && (top->scope != own.scope || strcmp(top->name, own.name))) {
			error_at(&c->yt, vals[0]->pos,
				 "%s: the event's subject differs from the token's sub_id (line %u); "
				 "give one subject", what, top->pos.line);
			goto cleanup;
		}
		s = &own;
	}
	if (!s) {
		error_at(&c->yt, map->pos,
			 "%s: no subject: give the token a sub_id or the event a subject", where);
		goto cleanup;
	}
	if (vals[1] && vals[1]->type != YSCALAR_INT)
		error_at(&c->yt, vals[1]->pos, "%s.event_timestamp: expected an integer (seconds "
			 "since the epoch), found %s", where, ynode_describe(vals[1]));
	e.kind = t->signal ? CAEP_SET_SIGNAL : CAEP_REVOKE;
	e.scope = s->scope;
	if (t->signal) {
		size_t f = 0;
		const char *v;
		char *lower;

		while (strcmp(t->fields[f], t->value_field))
			f++;
		snprintf(what, sizeof(what), "%s.%s", where, t->value_field);
		if (!vals[f])
			goto cleanup; /* reported as missing above */
		v = text_field(c, vals[f], what, POLICY_SIGNAL_VALUE_MAX);
		if (!v)
			goto cleanup;
		/* Levels come as LOW or low; policies compare exactly, so one spelling. */
		lower = dup_or_oom(c, v);
		if (!lower)
			goto cleanup;
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (t->values && !one_of(lower, t->values)) {
			error_at(&c->yt, vals[f]->pos, "%s: unknown value %s", what,
				 ytree_quote(&q, vals[f]->text, vals[f]->len));
			free(lower);
			goto cleanup;
		}
		e.value = lower;
		e.name = dup_or_oom(c, t->signal);
	}
	if (c->yt.errors != errors || c->yt.oom)
		goto cleanup;
	e.subject = dup_or_oom(c, s->name);
	e.event = dup_or_oom(c, t->name);
	if (asprintf(&e.reason, "caep %s from %s", t->name, issuer) < 0) {
		e.reason = NULL;
		c->yt.oom = -ENOMEM;
	}
	if (c->yt.oom || add_effect(c, &e)) {
		c->yt.oom = -ENOMEM;
		goto cleanup;
	}
	e = (struct caep_effect){ 0 };

cleanup:
	effect_free(&e);
	free(own.name);
}

/* The SET claims (RFC 8417 section 2.2) and the SSF sub_id. */
static void parse_token(struct caep_ctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "iss", "jti", "iat", "aud", "events", "sub_id", "txn",
					    "toe" };
	const struct ynode *knodes[8], *vals[8];
	struct subject top = { 0 };
	const char *issuer = NULL, *id = NULL;

	if (root->kind != YNODE_MAP) {
		error_at(&c->yt, root->pos, "expected a Security Event Token payload (a JSON "
			 "object), found %s", ynode_describe(root));
		return;
	}
	ytree_map_fields(&c->yt, root, "the token", keys, 8, knodes, vals);
	if (!vals[0])
		error_at(&c->yt, root->pos, "missing required key \"iss\"");
	else
		issuer = text_field(c, vals[0], "iss", 255);
	if (!vals[1])
		error_at(&c->yt, root->pos, "missing required key \"jti\"");
	else
		id = text_field(c, vals[1], "jti", 255);
	if (!vals[2])
		error_at(&c->yt, root->pos, "missing required key \"iat\"");
	else if (vals[2]->kind != YNODE_SCALAR || vals[2]->type != YSCALAR_INT)
		error_at(&c->yt, vals[2]->pos, "iat: expected an integer (seconds since the epoch), "
			 "found %s", ynode_describe(vals[2]));
	if (vals[5] && !parse_subject(c, vals[5], "sub_id", &top))
		goto cleanup;
	if (!vals[4]) {
		error_at(&c->yt, root->pos, "missing required key \"events\"");
		goto cleanup;
	}
	if (!ytree_expect_kind(&c->yt, vals[4], YNODE_MAP, "events"))
		goto cleanup;
	if (vals[4]->count == 0) {
		error_at(&c->yt, vals[4]->pos, "events: no event");
		goto cleanup;
	}
	if (!issuer || !id)
		goto cleanup;
	c->out->issuer = dup_or_oom(c, issuer);
	c->out->id = dup_or_oom(c, id);
	for (size_t i = 0; i + 1 < vals[4]->count && !c->yt.oom; i += 2)
		parse_event(c, vals[4]->items[i], vals[4]->items[i + 1], vals[5] ? &top : NULL,
			    issuer);

cleanup:
	free(top.name);
}

static int on_document(void *arg, const struct ynode *root, bool rejected)
{
	struct caep_ctx *c = arg;

	if (++c->documents > 1) {
		error_at(&c->yt, root->pos, "one event token per input; this is a second one");
		return 0;
	}
	if (!rejected)
		parse_token(c, root);
	return c->yt.oom;
}

int caep_parse(const char *name, const char *text, size_t len, struct caep_set *out,
	       struct diag_list *diags)
{
	struct caep_ctx c = { .yt = { .file = name, .what = "event", .diags = diags }, .out = out };
	size_t documents = 0, first_diag = diags->count;
	int err;

	*out = (struct caep_set){ 0 };
	err = ytree_parse(&c.yt, text, len, on_document, &c, &documents);
	if (diag_sort(diags, first_diag) && !err)
		err = -ENOMEM;
	if (!err && documents == 0) {
		error_at(&c.yt, (struct source_pos){ 0, 0 }, "no event token");
		err = -EINVAL;
	}
	if (!err && c.yt.oom)
		err = c.yt.oom;
	if (!err && c.yt.errors)
		err = -EINVAL;
	if (err)
		caep_set_free(out);
	return err;
}

int caep_effect_describe(const struct caep_effect *e, char *buf, size_t size)
{
	if (e->kind == CAEP_REVOKE)
		return snprintf(buf, size, "revoke %s %s (%s)", signal_scope_name(e->scope),
				e->subject, e->reason);
	return snprintf(buf, size, "signal %s %s %s=%s (%s)", signal_scope_name(e->scope),
			e->subject, e->name, e->value, e->reason);
}

void caep_set_free(struct caep_set *s)
{
	for (size_t i = 0; i < s->count; i++)
		effect_free(&s->effects[i]);
	free(s->effects);
	free(s->issuer);
	free(s->id);
	*s = (struct caep_set){ 0 };
}
