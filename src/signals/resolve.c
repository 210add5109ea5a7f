/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading a subject errs on the side of denying: a session actgate cannot
 * tell apart from its user's other sessions revokes every workload of that
 * user here, and an alias that names a principal counts even when its other
 * aliases name nothing. What it never does is act on a name nothing here
 * has: that would report success for an event that protected nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "signals/resolve.h"

struct resolve_ctx {
	const struct signal_trust *trust;
	const struct workload_table *live;
	struct resolved_event *out;
	char *why;
	size_t why_size;
	int err;
};

static void fail(struct resolve_ctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct resolve_ctx *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->err)
		return;
	c->err = err;
	if (err == -ENOMEM) {
		snprintf(c->why, c->why_size, "out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(c->why, c->why_size, fmt, ap);
	va_end(ap);
}

static char *dup(struct resolve_ctx *c, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		fail(c, -ENOMEM, " ");
	return d;
}

static void note(struct resolve_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct resolve_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(c->out->note);
	c->out->note = dup(c, buf);
}

static void add(struct resolve_ctx *c, enum resolved_kind kind, enum signal_scope scope,
		const char *subject, const char *name, const char *value)
{
	struct resolved_event *ev = c->out;
	struct resolved_effect *grown = NULL, e = { .kind = kind, .scope = scope };

	if (c->err)
		return;
	e.subject = dup(c, subject);
	e.name = dup(c, name);
	e.value = dup(c, value);
	if (!c->err)
		grown = realloc(ev->effects, (ev->count + 1) * sizeof(*grown));
	if (!grown) {
		free(e.subject);
		free(e.name);
		free(e.value);
		fail(c, -ENOMEM, " ");
		return;
	}
	ev->effects = grown;
	ev->effects[ev->count++] = e;
}

static bool principal_running(const struct workload_table *live, const char *name)
{
	for (size_t i = 0; i < live->count; i++)
		if (live->items[i].principal && !strcmp(live->items[i].principal, name))
			return true;
	return false;
}

static const struct workload *workload_named(const struct workload_table *live, const char *name)
{
	for (size_t i = 0; i < live->count; i++)
		if (!strcmp(live->items[i].name, name))
			return &live->items[i];
	return NULL;
}

static bool has_session(const struct workload *w, const char *session)
{
	for (size_t i = 0; i < w->label_count; i++)
		if (!strcmp(w->label_list[i].key, RESOLVE_SESSION_LABEL) &&
		    !strcmp(w->label_list[i].value, session))
			return true;
	return false;
}

/* The name an identifier gives a principal when the trust file does not map it. */
static void natural_name(const struct caep_id *id, char *buf, size_t size)
{
	if (id->format == CAEP_ID_ISS_SUB)
		/* One string per principal: the issuer, '#', the subject at that issuer. */
		snprintf(buf, size, "%s#%s", id->a, id->b);
	else if (id->format == CAEP_ID_JWT_ID || id->format == CAEP_ID_SAML)
		buf[0] = '\0'; /* a token or an assertion: never a principal */
	else
		snprintf(buf, size, "%s", id->a);
}

/*
 * The principal an identifier (or its aliases) names: the trust file's
 * mapping first, else a principal some running workload has. NULL when
 * none; two aliases naming two principals is an error.
 */
static const char *principal_of(struct resolve_ctx *c, const struct caep_ident *in, char *buf,
				size_t size)
{
	const char *found = NULL;

	for (size_t i = 0; i < in->count && !c->err; i++) {
		const char *p = c->trust ? trust_principal_of(c->trust, &in->ids[i]) : NULL;
		char natural[520];

		if (!p) {
			natural_name(&in->ids[i], natural, sizeof(natural));
			if (natural[0] && principal_running(c->live, natural))
				p = natural;
		}
		if (!p)
			continue;
		if (found && strcmp(found, p)) {
			fail(c, -EINVAL, "the subject's aliases name two principals, %s and %s",
			     found, p);
			return NULL;
		}
		snprintf(buf, size, "%s", p);
		found = buf;
	}
	return found;
}

/* Whether an identifier (or an alias) names this host's device. */
static bool is_this_device(const struct resolve_ctx *c, const struct caep_ident *in)
{
	const char *dev = c->trust ? c->trust->device_id : NULL;

	for (size_t i = 0; dev && i < in->count; i++) {
		const struct caep_id *id = &in->ids[i];

		if (!strcmp(id->a, dev) || (id->format == CAEP_ID_ISS_SUB && !strcmp(id->b, dev)))
			return true;
	}
	return false;
}

static void not_known(struct resolve_ctx *c)
{
	fail(c, -ENOENT, "subject %s names nothing actgate knows (no running workload has it "
	     "as its name, session label or principal, and the trust file maps it to no "
	     "principal): nothing was changed", c->out->subject);
}

/* The device role says another host: true (noted) when the event is not for this one. */
static bool for_another_device(struct resolve_ctx *c, const struct caep_subject *s)
{
	const struct caep_ident *dev = &s->role[CAEP_ROLE_DEVICE];
	char one[600];

	if (!dev->count || is_this_device(c, dev))
		return false;
	caep_id_describe(&dev->ids[0], one, sizeof(one));
	if (c->trust && c->trust->device_id)
		note(c, "device %s is not this host (device_id %s): nothing to change here", one,
		     c->trust->device_id);
	else
		note(c, "device %s: this host has no device_id (trust file), so no device event "
		     "is for it: nothing to change here", one);
	return true;
}

/*
 * Who a signal or revocation is for: a user (principal), else a simple
 * subject read as a principal, a running workload's name, or this host's
 * device. false (c->err set) when nothing is known.
 */
static bool target_of(struct resolve_ctx *c, const struct caep_subject *s,
		      enum signal_scope *scope, char *name, size_t size)
{
	const struct caep_ident *user = &s->role[CAEP_ROLE_USER];
	const struct caep_ident *simple = &s->role[CAEP_ROLE_SIMPLE];
	const struct caep_ident *in = user->count ? user : simple;

	if (in->count && principal_of(c, in, name, size)) {
		*scope = SIGNAL_PRINCIPAL;
		free(c->out->principal);
		c->out->principal = dup(c, name);
		return !c->err;
	}
	if (c->err)
		return false;
	for (size_t i = 0; i < simple->count; i++)
		if (simple->ids[i].format == CAEP_ID_OPAQUE &&
		    workload_named(c->live, simple->ids[i].a)) {
			*scope = SIGNAL_WORKLOAD;
			snprintf(name, size, "%s", simple->ids[i].a);
			return true;
		}
	if ((simple->count && is_this_device(c, simple)) ||
	    (s->role[CAEP_ROLE_DEVICE].count && is_this_device(c, &s->role[CAEP_ROLE_DEVICE]))) {
		*scope = SIGNAL_HOST;
		name[0] = '\0';
		return true;
	}
	not_known(c);
	return false;
}

static void session_revoked(struct resolve_ctx *c, const struct caep_event *e)
{
	const struct caep_subject *s = &e->subject;
	const struct caep_ident *session = &s->role[CAEP_ROLE_SESSION];
	const struct caep_ident *simple = &s->role[CAEP_ROLE_SIMPLE], *sess;
	char name[520];
	size_t found = 0;
	enum signal_scope scope;

	if (for_another_device(c, s))
		return;
	/* A session: the workloads labelled with it. */
	sess = session->count ? session : simple;

	for (size_t i = 0; i < sess->count; i++) {
		if (sess->ids[i].format != CAEP_ID_OPAQUE)
			continue;
		for (size_t w = 0; w < c->live->count; w++)
			if (has_session(&c->live->items[w], sess->ids[i].a)) {
				add(c, RESOLVED_REVOKE, SIGNAL_WORKLOAD, c->live->items[w].name,
				    NULL, NULL);
				found++;
			}
	}
	if (found)
		return;
	if (!target_of(c, s, &scope, name, sizeof(name)))
		return;
	if (scope == SIGNAL_HOST) {
		note(c, "this host's device alone names no session or user to revoke: nothing "
		     "to change here");
		return;
	}
	if (session->count) {
		char one[600];

		caep_id_describe(&session->ids[0], one, sizeof(one));
		note(c, "session %s is not one actgate can tell apart: every workload of %s %s is "
		     "revoked", one, signal_scope_name(scope), name);
	}
	add(c, RESOLVED_REVOKE, scope, name, NULL, NULL);
}

/* A claim's signal: "claim." and the claim's name (a URI's last segment), lowercased. */
static bool claim_signal(const char *claim, char *name, size_t size, const char **value)
{
	const char *eq = strchr(claim, '='), *start = claim, *p;
	size_t n;

	*value = eq + 1;
	for (p = claim; p < eq; p++)
		if (*p == '/' || *p == '#' || *p == ':')
			start = p + 1;
	n = (size_t)(eq - start);
	if (n == 0 || n + 6 >= size)
		return false;
	memcpy(name, "claim.", 6);
	for (size_t i = 0; i < n; i++)
		name[6 + i] = (char)tolower((unsigned char)start[i]);
	name[6 + n] = '\0';
	return policy_valid_signal_name(name, n + 6);
}

static void set_signals(struct resolve_ctx *c, const struct caep_event *e, const char *signal)
{
	enum signal_scope scope;
	char name[520];

	if (!target_of(c, &e->subject, &scope, name, sizeof(name)))
		return;
	if (signal) {
		add(c, RESOLVED_SET_SIGNAL, scope, scope == SIGNAL_HOST ? NULL : name, signal,
		    e->value);
		return;
	}
	for (size_t i = 0; i < e->claim_count && !c->err; i++) {
		char sig[POLICY_SIGNAL_NAME_MAX + 1];
		const char *value;

		if (!claim_signal(e->claims[i], sig, sizeof(sig), &value)) {
			fail(c, -EINVAL, "claim \"%.*s\" cannot name a signal (claim.NAME: lowercase "
			     "letters, digits, '_', '.' and '-', at most %d bytes)",
			     (int)(strchr(e->claims[i], '=') - e->claims[i]), e->claims[i],
			     POLICY_SIGNAL_NAME_MAX);
			return;
		}
		add(c, RESOLVED_SET_SIGNAL, scope, scope == SIGNAL_HOST ? NULL : name, sig, value);
	}
}

static void device_compliance(struct resolve_ctx *c, const struct caep_event *e)
{
	const struct caep_subject *s = &e->subject;
	const struct caep_ident *dev = s->role[CAEP_ROLE_DEVICE].count ?
					       &s->role[CAEP_ROLE_DEVICE] :
					       &s->role[CAEP_ROLE_SIMPLE];
	char one[600];

	if (!dev->count) {
		note(c, "the subject names no device: nothing to change here");
		return;
	}
	if (!is_this_device(c, dev)) {
		caep_id_describe(&dev->ids[0], one, sizeof(one));
		if (c->trust && c->trust->device_id)
			note(c, "device %s is not this host (device_id %s): nothing to change here",
			     one, c->trust->device_id);
		else
			note(c, "device %s: this host has no device_id (trust file), so no device "
			     "event is for it: nothing to change here", one);
		return;
	}
	add(c, RESOLVED_SET_SIGNAL, SIGNAL_HOST, NULL, "device-compliance", e->value);
}

static void revoke_account(struct resolve_ctx *c, const struct caep_event *e)
{
	enum signal_scope scope;
	char name[520];

	if (!target_of(c, &e->subject, &scope, name, sizeof(name)))
		return;
	if (scope == SIGNAL_HOST)
		note(c, "this host's device is no account to revoke: nothing to change here");
	else
		add(c, RESOLVED_REVOKE, scope, name, NULL, NULL);
}

static void resolve_event(struct resolve_ctx *c, const struct caep_event *e)
{
	char subject[1024];

	caep_subject_describe(&e->subject, subject, sizeof(subject));
	c->out->event = e;
	c->out->subject = dup(c, subject);
	switch (e->kind) {
	case CAEP_SESSION_REVOKED:
		session_revoked(c, e);
		break;
	case CAEP_TOKEN_CLAIMS_CHANGE:
		set_signals(c, e, NULL);
		break;
	case CAEP_CREDENTIAL_CHANGE:
		set_signals(c, e, "credential");
		break;
	case CAEP_ASSURANCE_LEVEL_CHANGE:
		set_signals(c, e, "assurance");
		break;
	case CAEP_RISK_LEVEL_CHANGE:
		set_signals(c, e, "risk");
		break;
	case CAEP_DEVICE_COMPLIANCE_CHANGE:
		device_compliance(c, e);
		break;
	case CAEP_SESSION_ESTABLISHED:
	case CAEP_SESSION_PRESENTED:
		note(c, "informational: actgate changes nothing for it");
		break;
	case RISC_ACCOUNT_DISABLED:
	case RISC_ACCOUNT_PURGED:
	case RISC_CREDENTIAL_COMPROMISE:
		revoke_account(c, e);
		break;
	default:
		fail(c, -EINVAL, "event kind %d is not known", (int)e->kind);
	}
}

int signal_resolve(const struct caep_set *set, const struct signal_trust *trust,
		   const struct workload_table *live, struct signal_plan *plan, char *why,
		   size_t why_size)
{
	struct resolve_ctx c = { .trust = trust, .live = live, .why = why, .why_size = why_size };

	*plan = (struct signal_plan){ 0 };
	plan->events = calloc(set->count ? set->count : 1, sizeof(*plan->events));
	if (!plan->events) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->count && !c.err; i++) {
		c.out = &plan->events[plan->count++];
		resolve_event(&c, &set->events[i]);
		if (c.err && c.err != -ENOMEM) {
			char inner[768];

			snprintf(inner, sizeof(inner), "%s", why);
			snprintf(why, why_size, "%s: %s", caep_event_name(set->events[i].kind),
				 inner);
		}
	}
	if (c.err)
		signal_plan_free(plan);
	return c.err;
}

void resolved_effect_describe(const struct resolved_effect *e, char *buf, size_t size)
{
	const char *scope = signal_scope_name(e->scope);

	if (e->kind == RESOLVED_REVOKE)
		snprintf(buf, size, "revoke %s %s", scope, e->subject ? e->subject : "");
	else if (e->scope == SIGNAL_HOST)
		snprintf(buf, size, "set host %s=%s", e->name, e->value);
	else
		snprintf(buf, size, "set %s %s %s=%s", scope, e->subject, e->name, e->value);
}

void signal_plan_free(struct signal_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		struct resolved_event *ev = &plan->events[i];

		for (size_t k = 0; k < ev->count; k++) {
			free(ev->effects[k].subject);
			free(ev->effects[k].name);
			free(ev->effects[k].value);
		}
		free(ev->effects);
		free(ev->subject);
		free(ev->principal);
		free(ev->note);
	}
	free(plan->events);
	*plan = (struct signal_plan){ 0 };
}
