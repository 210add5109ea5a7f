/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A SET payload is the one JSON that comes from outside the host, so it is
 * read by the strict reader (util/json.h: jansson; duplicate keys, comments
 * and trailing text refused) and each member is then checked here, with its
 * position in the text for messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <linux/types.h>

#include "signals/caep.h"
#include "util/json.h"
/* Not for reading: its report, quote and control-character helpers serve any outside text. */
#include "util/yamltree.h"

/*
 * Errors reported for one token, at most: more say nothing new, and each
 * costs a walk of the text to find its line (a 1 MiB token could hold
 * 100,000 unknown keys). The rest are counted.
 */
#define CAEP_ERRORS_SHOWN 20

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
	struct json_doc doc;
	struct caep_set *out;
	int fatal; /* -errno that stops the checks (-ENOMEM) */
};

/* A value of the token and where its text starts. */
struct node {
	json_t *v; /* NULL: absent */
	size_t off;
};

/* A subject as actgate names it. */
struct subject {
	enum signal_scope scope;
	char *name;
	size_t off;
};

static void error_at(struct caep_ctx *c, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error at byte off of the token. */
static void error_at(struct caep_ctx *c, size_t off, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (c->yt.errors >= CAEP_ERRORS_SHOWN) {
		c->yt.errors++; /* the token stays refused */
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ytree_report(&c->yt, DIAG_ERROR, json_doc_pos(&c->doc, off), "%s", msg);
}

static char *dup_or_oom(struct caep_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->fatal = -ENOMEM;
	return d;
}

static bool expect_string(struct caep_ctx *c, struct node n, const char *where)
{
	if (json_is_string(n.v))
		return true;
	error_at(c, n.off, "%s: expected a string, found %s", where, json_describe(n.v));
	return false;
}

static bool expect_object(struct caep_ctx *c, struct node n, const char *where)
{
	if (json_is_object(n.v))
		return true;
	error_at(c, n.off, "%s: expected an object, found %s", where, json_describe(n.v));
	return false;
}

/* A string field that must be printable and bounded; NULL (reported) otherwise. */
static const char *text_field(struct caep_ctx *c, struct node n, const char *what, size_t max)
{
	size_t len, at;
	const char *s;
	char ctl[8];

	if (!expect_string(c, n, what))
		return NULL;
	s = json_string_value(n.v);
	len = json_string_length(n.v);
	if (len == 0 || len > max) {
		error_at(c, n.off, "%s: expected 1 to %zu bytes", what, max);
		return NULL;
	}
	if (ytree_find_control(s, len, ctl, &at)) {
		error_at(c, n.off, "%s: control character (%s) at byte %zu", what, ctl, at);
		return NULL;
	}
	return s;
}

static bool is_text(struct node n, const char *s)
{
	return json_is_string(n.v) && !strcmp(json_string_value(n.v), s);
}

/*
 * The members of the object obj that are among keys: vals[i] for keys[i]
 * (v NULL when absent). Any other key is an error; a key given twice never
 * gets here (the reader refuses it). False when the members cannot be had.
 */
static bool object_fields(struct caep_ctx *c, struct node obj, const char *where,
			  const char *const keys[], size_t nkeys, struct node vals[])
{
	struct json_doc_member *m;
	char allowed[256] = "";
	struct ytree_quoted q;
	size_t n, k;
	int err;

	for (k = 0; k < nkeys; k++) {
		vals[k] = (struct node){ 0 };
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
			 k ? ", " : "", keys[k]);
	}
	err = json_doc_members(&c->doc, obj.v, obj.off, &m, &n);
	if (err == -EINVAL)
		/* Not reached: the text was just read whole; a refusal still says why. */
		error_at(c, obj.off, "%s: its members' places in the text were not found", where);
	else if (err)
		c->fatal = err;
	if (err)
		return false;
	for (size_t i = 0; i < n; i++) {
		k = 0;
		while (k < nkeys && strcmp(m[i].key, keys[k]))
			k++;
		if (k == nkeys)
			error_at(c, m[i].key_off, "unknown key %s in %s; allowed keys: %s",
				 ytree_quote(&q, m[i].key, strlen(m[i].key)), where, allowed);
		else
			vals[k] = (struct node){ m[i].value, m[i].value_off };
	}
	free(m);
	return true;
}

/*
 * A subject identifier (RFC 9493): email and iss_sub name a principal,
 * opaque names a workload. Fills s (name allocated); false when refused.
 */
static bool parse_subject(struct caep_ctx *c, struct node obj, const char *where,
			  struct subject *s)
{
	static const char *const keys[] = { "format", "email", "iss", "sub", "id" };
	struct node vals[5];
	const char *a, *b, *format;
	char what[96];
	struct ytree_quoted q;

	s->off = obj.off;
	if (!expect_object(c, obj, where) || !object_fields(c, obj, where, keys, 5, vals))
		return false;
	if (!vals[0].v) {
		error_at(c, obj.off, "missing required key \"format\" in %s", where);
		return false;
	}
	snprintf(what, sizeof(what), "%s.format", where);
	if (!expect_string(c, vals[0], what))
		return false;
	format = json_string_value(vals[0].v);
	if (is_text(vals[0], "email") && vals[1].v && !vals[2].v && !vals[3].v && !vals[4].v) {
		snprintf(what, sizeof(what), "%s.email", where);
		a = text_field(c, vals[1], what, SIGNAL_SUBJECT_MAX);
		if (!a)
			return false;
		if (!strchr(a, '@')) {
			error_at(c, vals[1].off, "%s: %s is not an email address", what,
				 ytree_quote(&q, a, strlen(a)));
			return false;
		}
		s->scope = SIGNAL_PRINCIPAL;
		s->name = dup_or_oom(c, a);
		return s->name != NULL;
	}
	if (is_text(vals[0], "iss_sub") && vals[2].v && vals[3].v && !vals[1].v && !vals[4].v) {
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
			c->fatal = -ENOMEM;
			return false;
		}
		return true;
	}
	if (is_text(vals[0], "opaque") && vals[4].v && !vals[1].v && !vals[2].v && !vals[3].v) {
		snprintf(what, sizeof(what), "%s.id", where);
		a = text_field(c, vals[4], what, SIGNAL_SUBJECT_MAX);
		if (!a)
			return false;
		s->scope = SIGNAL_WORKLOAD;
		s->name = dup_or_oom(c, a);
		return s->name != NULL;
	}
	if (is_text(vals[0], "email") || is_text(vals[0], "iss_sub") || is_text(vals[0], "opaque"))
		error_at(c, obj.off, "%s: a subject of format %s has exactly the members %s", where,
			 format,
			 is_text(vals[0], "email")   ? "format and email" :
			 is_text(vals[0], "iss_sub") ? "format, iss and sub" :
						       "format and id");
	else
		error_at(c, vals[0].off,
			 "%s: subject format %s is not supported; use email or iss_sub (a principal) "
			 "or opaque (a workload name)",
			 what, ytree_quote(&q, format, json_string_length(vals[0].v)));
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
static void parse_event(struct caep_ctx *c, const struct json_doc_member *m,
			const struct subject *top, const char *issuer)
{
	struct node vals[COMMON_COUNT + 6], obj = { m->value, m->value_off };
	const struct event_type *t = NULL;
	struct caep_effect e = { 0 };
	struct subject own = { 0 };
	const struct subject *s = top;
	char where[160], what[200];
	struct ytree_quoted q;
	size_t errors = c->yt.errors, prefix = strlen(CAEP_EVENT_PREFIX);

	if (strlen(m->key) > prefix && !strncmp(m->key, CAEP_EVENT_PREFIX, prefix))
		for (size_t i = 0; i < EVENT_TYPE_COUNT && !t; i++)
			if (!strcmp(m->key + prefix, event_types[i].name))
				t = &event_types[i];
	if (!t) {
		error_at(c, m->key_off,
			 "events: unknown event type %s; actgate takes " CAEP_EVENT_PREFIX
			 "{session-revoked, credential-change, assurance-level-change, "
			 "device-compliance-change, risk-level-change}",
			 ytree_quote(&q, m->key, strlen(m->key)));
		return;
	}
	snprintf(where, sizeof(where), "events.%s", t->name);
	if (!expect_object(c, obj, where) ||
	    !object_fields(c, obj, where, t->fields, t->field_count, vals))
		return;
	for (size_t r = 0; t->required[r]; r++)
		for (size_t f = 0; f < t->field_count; f++)
			if (!strcmp(t->fields[f], t->required[r]) && !vals[f].v)
				error_at(c, obj.off, "missing required key \"%s\" in %s",
					 t->required[r], where);
	if (vals[0].v) {
		snprintf(what, sizeof(what), "%s.subject", where);
		if (!parse_subject(c, vals[0], what, &own))
			goto cleanup;
		if (top && (top->scope != own.scope || strcmp(top->name, own.name))) {
			error_at(c, vals[0].off,
				 "%s: the event's subject differs from the token's sub_id (line %u); "
				 "give one subject", what, json_doc_pos(&c->doc, top->off).line);
			goto cleanup;
		}
		s = &own;
	}
	if (!s) {
		error_at(c, obj.off,
			 "%s: no subject: give the token a sub_id or the event a subject", where);
		goto cleanup;
	}
	if (vals[1].v && !json_is_integer(vals[1].v))
		error_at(c, vals[1].off, "%s.event_timestamp: expected an integer (seconds "
			 "since the epoch), found %s", where, json_describe(vals[1].v));
	e.kind = t->signal ? CAEP_SET_SIGNAL : CAEP_REVOKE;
	e.scope = s->scope;
	if (t->signal) {
		size_t f = 0;
		const char *v;
		char *lower;

		while (strcmp(t->fields[f], t->value_field))
			f++;
		snprintf(what, sizeof(what), "%s.%s", where, t->value_field);
		if (!vals[f].v)
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
			error_at(c, vals[f].off, "%s: unknown value %s", what,
				 ytree_quote(&q, v, strlen(v)));
			free(lower);
			goto cleanup;
		}
		e.value = lower;
		e.name = dup_or_oom(c, t->signal);
	}
	if (c->yt.errors != errors || c->fatal || c->yt.oom)
		goto cleanup;
	e.subject = dup_or_oom(c, s->name);
	e.event = dup_or_oom(c, t->name);
	if (asprintf(&e.reason, "caep %s from %s", t->name, issuer) < 0) {
		e.reason = NULL;
		c->fatal = -ENOMEM;
	}
	if (c->fatal || add_effect(c, &e)) {
		c->fatal = -ENOMEM;
		goto cleanup;
	}
	e = (struct caep_effect){ 0 };

cleanup:
	effect_free(&e);
	free(own.name);
}

/* The SET claims (RFC 8417 section 2.2) and the SSF sub_id. */
static void parse_token(struct caep_ctx *c)
{
	static const char *const keys[] = { "iss", "jti", "iat", "aud", "events", "sub_id", "txn",
					    "toe" };
	struct node root = { c->doc.root, c->doc.root_off }, vals[8];
	struct json_doc_member *events = NULL;
	struct subject top = { 0 };
	const char *issuer = NULL, *id = NULL;
	size_t count = 0;
	int err;

	if (!json_is_object(root.v)) {
		error_at(c, root.off, "expected a Security Event Token payload (a JSON "
			 "object), found %s", json_describe(root.v));
		return;
	}
	if (!object_fields(c, root, "the token", keys, 8, vals))
		return;
	if (!vals[0].v)
		error_at(c, root.off, "missing required key \"iss\"");
	else
		issuer = text_field(c, vals[0], "iss", 255);
	if (!vals[1].v)
		error_at(c, root.off, "missing required key \"jti\"");
	else
		id = text_field(c, vals[1], "jti", 255);
	if (!vals[2].v)
		error_at(c, root.off, "missing required key \"iat\"");
	else if (!json_is_integer(vals[2].v))
		error_at(c, vals[2].off, "iat: expected an integer (seconds since the epoch), "
			 "found %s", json_describe(vals[2].v));
	if (vals[5].v && !parse_subject(c, vals[5], "sub_id", &top))
		goto cleanup;
	if (!vals[4].v) {
		error_at(c, root.off, "missing required key \"events\"");
		goto cleanup;
	}
	if (!expect_object(c, vals[4], "events"))
		goto cleanup;
	err = json_doc_members(&c->doc, vals[4].v, vals[4].off, &events, &count);
	if (err == -EINVAL)
		error_at(c, vals[4].off, "events: its members' places in the text were not found");
	else if (err)
		c->fatal = err;
	if (err)
		goto cleanup;
	if (count == 0) {
		error_at(c, vals[4].off, "events: no event");
		goto cleanup;
	}
	if (!issuer || !id)
		goto cleanup;
	c->out->issuer = dup_or_oom(c, issuer);
	c->out->id = dup_or_oom(c, id);
	for (size_t i = 0; i < count && !c->fatal && !c->yt.oom; i++)
		parse_event(c, &events[i], vals[5].v ? &top : NULL, issuer);

cleanup:
	free(events);
	free(top.name);
}

int caep_parse(const char *name, const char *text, size_t len, struct caep_set *out,
	       struct diag_list *diags)
{
	struct caep_ctx c = { .yt = { .file = name, .diags = diags }, .out = out };
	size_t first_diag = diags->count;
	struct json_read_error re;
	int err;

	*out = (struct caep_set){ 0 };
	if (len > CAEP_TOKEN_MAX) {
		ytree_report(&c.yt, DIAG_ERROR, (struct source_pos){ 0, 0 },
			     "an event token is at most %d bytes; this is %zu", CAEP_TOKEN_MAX, len);
		err = -EINVAL;
		goto out;
	}
	err = json_doc_read(&c.doc, text, len, &re);
	if (err == -EINVAL)
		ytree_report(&c.yt, DIAG_ERROR, (struct source_pos){ re.line, re.col }, "%s",
			     re.what);
	if (err)
		goto out;
	parse_token(&c);
	err = diag_sort(diags, first_diag);
	if (!err && c.yt.errors > CAEP_ERRORS_SHOWN)
		ytree_report(&c.yt, DIAG_ERROR, (struct source_pos){ 0, 0 },
			     "%zu more errors not shown", c.yt.errors - CAEP_ERRORS_SHOWN);
	if (!err)
		err = c.fatal ? c.fatal : c.yt.oom;
	if (!err && c.yt.errors)
		err = -EINVAL;

out:
	json_doc_free(&c.doc);
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
