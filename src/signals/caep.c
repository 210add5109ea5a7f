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

#include "policy/policy.h"
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

/* What every event may carry besides its own fields. */
#define COMMON_FIELDS "subject", "event_timestamp", "initiating_entity", "reason_admin", "reason_user"
#define COMMON_COUNT 5

struct event_type {
	const char *prefix;
	const char *name;        /* after the prefix */
	const char *value_field; /* the field that is the event's value; NULL: none */
	const char *const *values; /* the values that field may have; NULL: any */
	const char *fields[COMMON_COUNT + 6]; /* every field allowed, common ones first */
	size_t field_count;
	const char *required[3];
};

static const char *const change_types[] = { "create", "revoke", "update", "delete", NULL };
static const char *const compliance[] = { "compliant", "not-compliant", NULL };
static const char *const risk_levels[] = { "low", "medium", "high", NULL };
static const char *const disabled_reasons[] = { "hijacking", "bulk-account", NULL };

static const struct event_type event_types[CAEP_EVENT_KINDS] = {
	[CAEP_SESSION_REVOKED] = { CAEP_EVENT_PREFIX, "session-revoked", NULL, NULL,
				   { COMMON_FIELDS }, COMMON_COUNT, { NULL } },
	[CAEP_TOKEN_CLAIMS_CHANGE] = { CAEP_EVENT_PREFIX, "token-claims-change", NULL, NULL,
				       { COMMON_FIELDS, "claims" }, COMMON_COUNT + 1,
				       { "claims", NULL } },
	[CAEP_CREDENTIAL_CHANGE] = { CAEP_EVENT_PREFIX, "credential-change", "change_type",
				     change_types,
				     { COMMON_FIELDS, "credential_type", "change_type",
				       "friendly_name", "x509_issuer", "x509_serial", "fido2_aaguid" },
				     COMMON_COUNT + 6, { "credential_type", "change_type", NULL } },
	[CAEP_ASSURANCE_LEVEL_CHANGE] = { CAEP_EVENT_PREFIX, "assurance-level-change",
					  "current_level", NULL,
					  { COMMON_FIELDS, "namespace", "current_level",
					    "previous_level", "change_direction" },
					  COMMON_COUNT + 4, { "namespace", "current_level", NULL } },
	[CAEP_DEVICE_COMPLIANCE_CHANGE] = { CAEP_EVENT_PREFIX, "device-compliance-change",
					    "current_status", compliance,
					    { COMMON_FIELDS, "current_status", "previous_status" },
					    COMMON_COUNT + 2, { "current_status", NULL } },
	[CAEP_RISK_LEVEL_CHANGE] = { CAEP_EVENT_PREFIX, "risk-level-change", "current_level",
				     risk_levels,
				     { COMMON_FIELDS, "current_level", "previous_level",
				       "risk_reason", "principal" },
				     COMMON_COUNT + 4, { "current_level", NULL } },
	[CAEP_SESSION_ESTABLISHED] = { CAEP_EVENT_PREFIX, "session-established", NULL, NULL,
				       { COMMON_FIELDS, "fp_ua", "acr", "amr", "ext_id" },
				       COMMON_COUNT + 4, { NULL } },
	[CAEP_SESSION_PRESENTED] = { CAEP_EVENT_PREFIX, "session-presented", NULL, NULL,
				     { COMMON_FIELDS, "fp_ua", "ext_id" }, COMMON_COUNT + 2,
				     { NULL } },
	[RISC_ACCOUNT_DISABLED] = { RISC_EVENT_PREFIX, "account-disabled", "reason",
				    disabled_reasons, { COMMON_FIELDS, "reason" },
				    COMMON_COUNT + 1, { NULL } },
	[RISC_ACCOUNT_PURGED] = { RISC_EVENT_PREFIX, "account-purged", NULL, NULL,
				  { COMMON_FIELDS }, COMMON_COUNT, { NULL } },
	[RISC_CREDENTIAL_COMPROMISE] = { RISC_EVENT_PREFIX, "credential-compromise", NULL, NULL,
					 { COMMON_FIELDS, "credential_type" }, COMMON_COUNT + 1,
					 { "credential_type", NULL } },
};

static const char *const event_names[CAEP_EVENT_KINDS] = {
	[CAEP_SESSION_REVOKED] = "caep/session-revoked",
	[CAEP_TOKEN_CLAIMS_CHANGE] = "caep/token-claims-change",
	[CAEP_CREDENTIAL_CHANGE] = "caep/credential-change",
	[CAEP_ASSURANCE_LEVEL_CHANGE] = "caep/assurance-level-change",
	[CAEP_DEVICE_COMPLIANCE_CHANGE] = "caep/device-compliance-change",
	[CAEP_RISK_LEVEL_CHANGE] = "caep/risk-level-change",
	[CAEP_SESSION_ESTABLISHED] = "caep/session-established",
	[CAEP_SESSION_PRESENTED] = "caep/session-presented",
	[RISC_ACCOUNT_DISABLED] = "risc/account-disabled",
	[RISC_ACCOUNT_PURGED] = "risc/account-purged",
	[RISC_CREDENTIAL_COMPROMISE] = "risc/credential-compromise",
};

/* Each format's members (RFC 9493 section 3; SSF 1.0 for jwt_id and saml_assertion_id). */
static const struct {
	const char *name;
	const char *members[2];
} id_formats[CAEP_ID_FORMATS] = {
	[CAEP_ID_EMAIL] = { "email", { "email", NULL } },
	[CAEP_ID_ISS_SUB] = { "iss_sub", { "iss", "sub" } },
	[CAEP_ID_OPAQUE] = { "opaque", { "id", NULL } },
	[CAEP_ID_DID] = { "did", { "url", NULL } },
	[CAEP_ID_PHONE_NUMBER] = { "phone_number", { "phone_number", NULL } },
	[CAEP_ID_ACCOUNT] = { "account", { "uri", NULL } },
	[CAEP_ID_URI] = { "uri", { "uri", NULL } },
	[CAEP_ID_JWT_ID] = { "jwt_id", { "iss", "jti" } },
	[CAEP_ID_SAML] = { "saml_assertion_id", { "issuer", "assertion_id" } },
};

static const char *const role_names[CAEP_ROLES] = {
	[CAEP_ROLE_SIMPLE] = "",        [CAEP_ROLE_USER] = "user",
	[CAEP_ROLE_DEVICE] = "device",  [CAEP_ROLE_SESSION] = "session",
	[CAEP_ROLE_APPLICATION] = "application", [CAEP_ROLE_TENANT] = "tenant",
	[CAEP_ROLE_ORG_UNIT] = "org_unit", [CAEP_ROLE_GROUP] = "group",
};

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


const char *caep_event_name(enum caep_event_kind kind)
{
	return (unsigned)kind < CAEP_EVENT_KINDS ? event_names[kind] : "?";
}

const char *caep_id_format_name(enum caep_id_format f)
{
	return (unsigned)f < CAEP_ID_FORMATS ? id_formats[f].name : "?";
}

int caep_id_format_parse(const char *name, enum caep_id_format *f)
{
	for (size_t i = 0; i < CAEP_ID_FORMATS; i++)
		if (!strcmp(name, id_formats[i].name)) {
			*f = (enum caep_id_format)i;
			return 0;
		}
	return -EINVAL;
}

const char *caep_role_name(enum caep_role r)
{
	return (unsigned)r < CAEP_ROLES ? role_names[r] : "?";
}

static bool one_of(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

static void supported_formats(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CAEP_ID_FORMATS && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s, ", id_formats[i].name);
	if (n < size)
		snprintf(buf + n, size - n, "aliases");
}

/* What a member must look like beyond being text, or NULL when it does. */
static const char *member_shape(enum caep_id_format f, const char *member, const char *v)
{
	if (f == CAEP_ID_EMAIL && !strchr(v, '@'))
		return "is not an email address";
	if (f == CAEP_ID_DID && strncmp(v, "did:", 4))
		return "is not a DID URL (did:...)";
	if (f == CAEP_ID_ACCOUNT && strncmp(v, "acct:", 5))
		return "is not an acct: URI";
	if (f == CAEP_ID_PHONE_NUMBER && v[0] != '+')
		return "is not an E.164 phone number (+...)";
	if ((f == CAEP_ID_URI || (f == CAEP_ID_ISS_SUB && !strcmp(member, "iss"))) &&
	    !strchr(v, ':'))
		return "is not a URI";
	return NULL;
}

/* One subject identifier (not aliases): fills id (strings allocated); false when refused. */
static bool parse_id(struct caep_ctx *c, struct node obj, const char *where, struct caep_id *id)
{
	const char *keys[3] = { "format", NULL, NULL }, *v, *shape;
	struct node vals[3];
	enum caep_id_format f;
	char what[200], formats[200];
	struct ytree_quoted q;
	json_t *format;
	size_t nkeys = 1;

	if (!expect_object(c, obj, where))
		return false;
	format = json_object_get(obj.v, "format");
	if (!format) {
		error_at(c, obj.off, "missing required key \"format\" in %s", where);
		return false;
	}
	if (!json_is_string(format) || caep_id_format_parse(json_string_value(format), &f)) {
		supported_formats(formats, sizeof(formats));
		if (json_is_string(format))
			error_at(c, obj.off, "%s: subject format %s is not known; actgate takes %s",
				 where, ytree_quote(&q, json_string_value(format),
						    json_string_length(format)), formats);
		else
			error_at(c, obj.off, "%s.format: expected a string, found %s", where,
				 json_describe(format));
		return false;
	}
	for (size_t m = 0; m < 2 && id_formats[f].members[m]; m++)
		keys[nkeys++] = id_formats[f].members[m];
	if (!object_fields(c, obj, where, keys, nkeys, vals))
		return false;
	*id = (struct caep_id){ .format = f };
	for (size_t m = 1; m < nkeys; m++) {
		snprintf(what, sizeof(what), "%s.%s", where, keys[m]);
		if (!vals[m].v) {
			error_at(c, obj.off, "%s: a subject of format %s needs \"%s\"", where,
				 id_formats[f].name, keys[m]);
			return false;
		}
		v = text_field(c, vals[m], what, CAEP_ID_MAX);
		if (!v)
			return false;
		shape = member_shape(f, keys[m], v);
		if (shape) {
			error_at(c, vals[m].off, "%s: %s %s", what, ytree_quote(&q, v, strlen(v)),
				 shape);
			return false;
		}
		if (m == 1)
			id->a = dup_or_oom(c, v);
		else
			id->b = dup_or_oom(c, v);
	}
	return !c->fatal;
}

static void ident_free(struct caep_ident *n)
{
	for (size_t i = 0; i < n->count; i++) {
		free(n->ids[i].a);
		free(n->ids[i].b);
	}
	free(n->ids);
	*n = (struct caep_ident){ 0 };
}

/* One identifier or "aliases" of several; false when refused (out empty). */
static bool parse_ident(struct caep_ctx *c, struct node obj, const char *where,
			struct caep_ident *out)
{
	static const char *const keys[] = { "format", "identifiers" };
	struct node vals[2];
	size_t *offs = NULL, n = 0;
	char what[200];
	json_t *format = json_is_object(obj.v) ? json_object_get(obj.v, "format") : NULL;
	int err;

	*out = (struct caep_ident){ 0 };
	if (!format || !json_is_string(format) || strcmp(json_string_value(format), "aliases")) {
		out->ids = calloc(1, sizeof(*out->ids));
		if (!out->ids) {
			c->fatal = -ENOMEM;
			return false;
		}
		out->count = 1;
		if (parse_id(c, obj, where, &out->ids[0]))
			return true;
		ident_free(out);
		return false;
	}
	if (!object_fields(c, obj, where, keys, 2, vals))
		return false;
	snprintf(what, sizeof(what), "%s.identifiers", where);
	if (!json_is_array(vals[1].v) || json_array_size(vals[1].v) == 0 ||
	    json_array_size(vals[1].v) > CAEP_ALIASES_MAX) {
		error_at(c, vals[1].v ? vals[1].off : obj.off,
			 "%s: expected an array of 1 to %d subject identifiers", what,
			 CAEP_ALIASES_MAX);
		return false;
	}
	err = json_doc_elements(&c->doc, vals[1].v, vals[1].off, &offs, &n);
	if (err) {
		c->fatal = err == -ENOMEM ? err : 0;
		if (err != -ENOMEM)
			error_at(c, vals[1].off, "%s: its elements were not found in the text", what);
		return false;
	}
	out->ids = calloc(n, sizeof(*out->ids));
	if (!out->ids) {
		free(offs);
		c->fatal = -ENOMEM;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct node e = { json_array_get(vals[1].v, i), offs[i] };
		json_t *ef = json_is_object(e.v) ? json_object_get(e.v, "format") : NULL;
		char at[240];

		snprintf(at, sizeof(at), "%s[%zu]", what, i);
		if (ef && json_is_string(ef) && !strcmp(json_string_value(ef), "aliases")) {
			error_at(c, e.off, "%s: aliases cannot nest", at);
			break;
		}
		if (!parse_id(c, e, at, &out->ids[out->count]))
			break;
		out->count++;
	}
	free(offs);
	if (out->count == n)
		return true;
	/* The one that failed may hold a string already. */
	free(out->ids[out->count].a);
	free(out->ids[out->count].b);
	ident_free(out);
	return false;
}

/* A subject: one identifier (or aliases), or "complex" with identifiers by role. */
static bool parse_subject(struct caep_ctx *c, struct node obj, const char *where,
			  struct caep_subject *s)
{
	const char *keys[CAEP_ROLES];
	struct node vals[CAEP_ROLES];
	json_t *format = json_is_object(obj.v) ? json_object_get(obj.v, "format") : NULL;
	size_t roles = 0;

	*s = (struct caep_subject){ 0 };
	if (!format || !json_is_string(format) || strcmp(json_string_value(format), "complex"))
		return parse_ident(c, obj, where, &s->role[CAEP_ROLE_SIMPLE]);
	keys[0] = "format";
	for (size_t r = 1; r < CAEP_ROLES; r++)
		keys[r] = role_names[r];
	if (!object_fields(c, obj, where, keys, CAEP_ROLES, vals))
		return false;
	for (size_t r = 1; r < CAEP_ROLES; r++) {
		char what[200];

		if (!vals[r].v)
			continue;
		snprintf(what, sizeof(what), "%s.%s", where, role_names[r]);
		if (!parse_ident(c, vals[r], what, &s->role[r])) {
			caep_subject_free(s);
			return false;
		}
		roles++;
	}
	if (!roles) {
		error_at(c, obj.off, "%s: a complex subject names at least one of user, device, "
			 "session, application, tenant, org_unit, group", where);
		return false;
	}
	return true;
}

void caep_subject_free(struct caep_subject *s)
{
	for (size_t r = 0; r < CAEP_ROLES; r++)
		ident_free(&s->role[r]);
}

void caep_id_describe(const struct caep_id *id, char *buf, size_t size)
{
	if (id->b)
		snprintf(buf, size, "%s %s %s", caep_id_format_name(id->format), id->a, id->b);
	else
		snprintf(buf, size, "%s %s", caep_id_format_name(id->format), id->a);
}

void caep_subject_describe(const struct caep_subject *s, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t r = 0; r < CAEP_ROLES && n < size; r++) {
		const struct caep_ident *in = &s->role[r];

		if (!in->count)
			continue;
		if (n)
			n += (size_t)snprintf(buf + n, size - n, " + ");
		if (r != CAEP_ROLE_SIMPLE && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s ", role_names[r]);
		for (size_t i = 0; i < in->count && n < size; i++) {
			char one[600];

			caep_id_describe(&in->ids[i], one, sizeof(one));
			n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " = " : "", one);
		}
	}
}

static int add_event(struct caep_ctx *c, struct caep_event *e)
{
	struct caep_set *out = c->out;
	struct caep_event *grown = realloc(out->events, (out->count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	out->events = grown;
	out->events[out->count++] = *e;
	return 0;
}

static void event_free(struct caep_event *e)
{
	caep_subject_free(&e->subject);
	free(e->value);
	for (size_t i = 0; i < e->claim_count; i++)
		free(e->claims[i]);
	free(e->claims);
}

/* token-claims-change's claims: each "name=value" for strings, numbers and booleans. */
static void parse_claims(struct caep_ctx *c, struct node obj, const char *where,
			 struct caep_event *e)
{
	struct json_doc_member *m = NULL;
	struct ytree_quoted q;
	char ctl[8];
	size_t n = 0, at;
	int err;

	if (!expect_object(c, obj, where))
		return;
	err = json_doc_members(&c->doc, obj.v, obj.off, &m, &n);
	if (err) {
		if (err == -ENOMEM)
			c->fatal = err;
		else
			error_at(c, obj.off, "%s: its members were not found in the text", where);
		return;
	}
	if (n == 0 || n > CAEP_CLAIMS_MAX) {
		error_at(c, obj.off, "%s: expected 1 to %d claims, found %zu", where,
			 CAEP_CLAIMS_MAX, n);
		goto out;
	}
	e->claims = calloc(n, sizeof(*e->claims));
	if (!e->claims) {
		c->fatal = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = m[i].value;
		char *text = NULL;
		int r;

		if (strlen(m[i].key) == 0 || strlen(m[i].key) > CAEP_ID_MAX ||
		    ytree_find_control(m[i].key, strlen(m[i].key), ctl, &at)) {
			error_at(c, m[i].key_off, "%s: a claim name of 1 to %d printable bytes", where,
				 CAEP_ID_MAX);
			continue;
		}
		if (json_is_string(v)) {
			if (!text_field(c, (struct node){ v, m[i].value_off }, where,
					CAEP_ID_MAX))
				continue;
			r = asprintf(&text, "%s=%s", m[i].key, json_string_value(v));
		} else if (json_is_boolean(v)) {
			r = asprintf(&text, "%s=%s", m[i].key, json_is_true(v) ? "true" : "false");
		} else if (json_is_integer(v)) {
			r = asprintf(&text, "%s=%lld", m[i].key, (long long)json_integer_value(v));
		} else {
			error_at(c, m[i].value_off, "%s.%s: %s; a claim actgate can take is a string, "
				 "an integer or a boolean", where,
				 ytree_quote(&q, m[i].key, strlen(m[i].key)), json_describe(v));
			continue;
		}
		if (r < 0) {
			c->fatal = -ENOMEM;
			goto out;
		}
		e->claims[e->claim_count++] = text;
	}
out:
	free(m);
}

/* One member of "events": its type URI (key) and its payload (value). */
static void parse_event(struct caep_ctx *c, const struct json_doc_member *m,
			const struct node *top_node, const struct caep_subject *top)
{
	struct node vals[COMMON_COUNT + 6], obj = { m->value, m->value_off };
	const struct event_type *t = NULL;
	struct caep_event e = { 0 };
	char where[160], what[200];
	struct ytree_quoted q;
	size_t errors = c->yt.errors, k = 0;

	for (; k < CAEP_EVENT_KINDS && !t; k++) {
		size_t plen = strlen(event_types[k].prefix);

		if (!strncmp(m->key, event_types[k].prefix, plen) &&
		    !strcmp(m->key + plen, event_types[k].name))
			t = &event_types[k];
	}
	if (!t) {
		error_at(c, m->key_off,
			 "events: unknown event type %s; actgate takes " CAEP_EVENT_PREFIX
			 "{session-revoked, token-claims-change, credential-change, "
			 "assurance-level-change, device-compliance-change, risk-level-change, "
			 "session-established, session-presented} and " RISC_EVENT_PREFIX
			 "{account-disabled, account-purged, credential-compromise}",
			 ytree_quote(&q, m->key, strlen(m->key)));
		return;
	}
	e.kind = (enum caep_event_kind)(k - 1);
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
		char mine[1024], theirs[1024];

		snprintf(what, sizeof(what), "%s.subject", where);
		if (!parse_subject(c, vals[0], what, &e.subject))
			goto cleanup;
		if (top) {
			caep_subject_describe(&e.subject, mine, sizeof(mine));
			caep_subject_describe(top, theirs, sizeof(theirs));
			if (strcmp(mine, theirs)) {
				error_at(c, vals[0].off,
					 "%s: the event's subject differs from the token's sub_id "
					 "(line %u); give one subject", what,
					 json_doc_pos(&c->doc, top_node->off).line);
				goto cleanup;
			}
		}
	} else if (top) {
		/* The event's own copy of the token's subject: the token's is freed with it. */
		if (!parse_subject(c, *top_node, "sub_id", &e.subject))
			goto cleanup;
	} else {
		error_at(c, obj.off,
			 "%s: no subject: give the token a sub_id or the event a subject", where);
		goto cleanup;
	}
	if (vals[1].v && !json_is_integer(vals[1].v) && !json_is_real(vals[1].v))
		error_at(c, vals[1].off, "%s.event_timestamp: expected a number (seconds "
			 "since the epoch), found %s", where, json_describe(vals[1].v));
	if (t->value_field) {
		size_t f = 0;
		const char *v;

		while (strcmp(t->fields[f], t->value_field))
			f++;
		snprintf(what, sizeof(what), "%s.%s", where, t->value_field);
		if (vals[f].v) {
			v = text_field(c, vals[f], what, POLICY_SIGNAL_VALUE_MAX);
			if (!v)
				goto cleanup;
			/* Levels come as LOW or low; policies compare exactly, so one spelling. */
			e.value = dup_or_oom(c, v);
			if (!e.value)
				goto cleanup;
			for (char *p = e.value; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (t->values && !one_of(e.value, t->values)) {
				error_at(c, vals[f].off, "%s: unknown value %s", what,
					 ytree_quote(&q, v, strlen(v)));
				goto cleanup;
			}
		}
	}
	if (e.kind == CAEP_TOKEN_CLAIMS_CHANGE) {
		size_t f = 0;

		while (strcmp(t->fields[f], "claims"))
			f++;
		if (vals[f].v) {
			snprintf(what, sizeof(what), "%s.claims", where);
			parse_claims(c, vals[f], what, &e);
		}
	}
	if (c->yt.errors != errors || c->fatal || c->yt.oom)
		goto cleanup;
	if (add_event(c, &e)) {
		c->fatal = -ENOMEM;
		goto cleanup;
	}
	e = (struct caep_event){ 0 };

cleanup:
	event_free(&e);
}

/* The SET claims (RFC 8417 section 2.2) and the SSF sub_id. */
static void parse_token(struct caep_ctx *c)
{
	static const char *const keys[] = { "iss", "jti", "iat", "aud", "events", "sub_id", "txn",
					    "toe", "exp", "nbf", "sub" };
	struct node root = { c->doc.root, c->doc.root_off }, vals[11];
	struct json_doc_member *events = NULL;
	struct caep_subject top = { 0 };
	const char *issuer = NULL, *id = NULL;
	size_t count = 0;
	int err;

	if (!json_is_object(root.v)) {
		error_at(c, root.off, "expected a Security Event Token payload (a JSON "
			 "object), found %s", json_describe(root.v));
		return;
	}
	if (!object_fields(c, root, "the token", keys, 11, vals))
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
	/* RFC 8417 2.2: "sub" names the subject only with a format the token's profile defines. */
	if (vals[10].v)
		error_at(c, vals[10].off, "sub: a SET names its subject with sub_id (RFC 9493) or "
			 "in the event; a bare \"sub\" has no format to read it by");
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
		parse_event(c, &events[i], &vals[5], vals[5].v ? &top : NULL);

cleanup:
	free(events);
	caep_subject_free(&top);
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

void caep_set_free(struct caep_set *s)
{
	for (size_t i = 0; i < s->count; i++)
		event_free(&s->events[i]);
	free(s->events);
	free(s->issuer);
	free(s->id);
	*s = (struct caep_set){ 0 };
}
