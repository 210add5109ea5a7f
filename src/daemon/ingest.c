/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/control.h"
#include "daemon/ingest.h"
#include "daemon/revocation.h"
#include "signals/caep.h"
#include "signals/jose.h"
#include "signals/resolve.h"
#include "util/clock.h"
#include "util/log.h"

/* Tokens taken at once, remembered for their replay window. */
#define INGEST_SEEN_MAX 65536

static int refuse(struct ingest_result *res, const char *code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct ingest_result *res, const char *code, int err, const char *fmt, ...)
{
	va_list ap;

	res->err_code = code;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return err;
}

static int add_change(struct ingest_result *res, const char *line)
{
	char **grown = realloc(res->changes, (res->change_count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	res->changes = grown;
	res->changes[res->change_count] = strdup(line);
	if (!res->changes[res->change_count])
		return -ENOMEM;
	res->change_count++;
	return 0;
}

void ingest_result_free(struct ingest_result *res)
{
	for (size_t i = 0; i < res->change_count; i++)
		free(res->changes[i]);
	free(res->changes);
	res->changes = NULL;
	res->change_count = 0;
}

/* Running workloads a revocation of scope/subject would reach now (for --dry-run). */
static size_t running_under(const struct workload_table *live, enum signal_scope scope,
			    const char *subject)
{
	size_t n = 0;

	for (size_t i = 0; i < live->count; i++)
		if ((scope == SIGNAL_PRINCIPAL && !strcmp(live->items[i].principal, subject)) ||
		    (scope == SIGNAL_WORKLOAD && !strcmp(live->items[i].name, subject)))
			n++;
	return n;
}

/*
 * What one event changed (revoked[k]: workloads flagged by its k-th
 * effect; NULL for a dry run, which counts what a revocation would reach
 * now): "principal alice@example.com revoked: 2 workloads; ...".
 */
static void describe_event(const struct signalctl *s, const struct resolved_event *ev,
			   const size_t *revoked, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < ev->count && n < size; k++) {
		const struct resolved_effect *e = &ev->effects[k];
		const char *scope = signal_scope_name(e->scope);

		if (n)
			n += (size_t)snprintf(buf + n, size - n, "; ");
		if (n >= size)
			break;
		if (e->kind == RESOLVED_REVOKE) {
			size_t count = revoked ? revoked[k] :
						 running_under(s->host.workloads, e->scope, e->subject);

			n += (size_t)snprintf(buf + n, size - n, "%s %s revoked: %zu running "
					      "workload%s", scope, e->subject, count,
					      count == 1 ? "" : "s");
		} else if (e->scope == SIGNAL_HOST) {
			n += (size_t)snprintf(buf + n, size - n, "host %s=%s", e->name, e->value);
		} else {
			n += (size_t)snprintf(buf + n, size - n, "%s %s %s=%s", scope, e->subject,
					      e->name, e->value);
		}
	}
	if (!ev->count && n < size)
		snprintf(buf + n, size - n, "nothing");
}

/*
 * The plan applied whole: every signal it sets in one store change (one
 * generation), then its revocations. revoked[i][k]: what the k-th effect of
 * event i flagged. A store or kernel refusal of the signals changes nothing.
 */
static int apply_plan(struct signalctl *s, const struct caep_set *set,
		      const struct signal_plan *plan, const char *source, size_t **revoked,
		      struct ingest_result *res)
{
	struct signal_store old = { 0 };
	uint64_t now = boot_ns();
	bool changed = false;
	char why[512];
	int err;

	err = signalctl_snapshot(s, &old);
	if (err)
		return refuse(res, JOSE_ERR_INVALID_REQUEST, err, "out of memory");
	for (size_t i = 0; i < plan->count; i++)
		for (size_t k = 0; k < plan->events[i].count; k++) {
			const struct resolved_effect *e = &plan->events[i].effects[k];

			if (e->kind != RESOLVED_SET_SIGNAL)
				continue;
			err = signal_store_set(&s->store, e->scope, e->subject, e->name, e->value,
					       source, 0, now, why, sizeof(why));
			if (err < 0) {
				signal_store_free(&s->store);
				s->store = old;
				return refuse(res, JOSE_ERR_INVALID_REQUEST, err, "%s", why);
			}
			changed |= err > 0;
		}
	if (changed) {
		err = signalctl_commit(s, &old, why, sizeof(why));
		if (err)
			return refuse(res, JOSE_ERR_INVALID_REQUEST, err, "%s", why);
	}
	signal_store_free(&old);
	for (size_t i = 0; i < plan->count; i++)
		for (size_t k = 0; k < plan->events[i].count; k++) {
			const struct resolved_effect *e = &plan->events[i].effects[k];

			char reason[512];

			if (e->kind != RESOLVED_REVOKE)
				continue;
			/* The revocation says which event of whom made it. */
			snprintf(reason, sizeof(reason), "%s %.200s from %.200s (jti %.64s)",
				 caep_event_name(plan->events[i].event->kind), plan->events[i].subject,
				 set->issuer, set->id);
			res->effects++;
			err = revocation_add(s, e->scope, e->subject, reason, &revoked[i][k]);
			res->revoked += revoked[i][k];
			if (err)
				/* The signals and earlier revocations stay: a revocation is never undone. */
				return refuse(res, JOSE_ERR_INVALID_REQUEST, err == -EIO ? -EIO : err,
					      "revoking %s %s: %s", signal_scope_name(e->scope),
					      e->subject, strerror(-err));
		}
	for (size_t i = 0; i < plan->count; i++)
		for (size_t k = 0; k < plan->events[i].count; k++)
			res->effects += plan->events[i].effects[k].kind == RESOLVED_SET_SIGNAL;
	return 0;
}

/* One journal record per event that changed something. */
static void journal_events(struct signalctl *s, const struct caep_set *set,
			   const struct signal_plan *plan, size_t **revoked)
{
	for (size_t i = 0; i < plan->count && s->host.journal; i++) {
		const struct resolved_event *ev = &plan->events[i];
		struct journal_record r = { 0 };
		char target[1024];

		if (!ev->count)
			continue;
		describe_event(s, ev, revoked[i], target, sizeof(target));
		r.action = ACTGATE_ACTION_SIGNAL;
		r.verdict = ACTGATE_VERDICT_ALLOW;
		r.mode = ACTGATE_MODE_ENFORCE;
		r.reason = ACTGATE_REASON_SIGNAL;
		r.workload = (char *)(ev->count && ev->effects[0].scope == SIGNAL_WORKLOAD ?
					      ev->effects[0].subject : "");
		r.principal = ev->principal ? ev->principal : (char *)"";
		r.labels = (char *)"";
		r.policy = (char *)"";
		r.rule = (char *)"";
		r.target = target;
		r.signal_generation = s->store.generation;
		r.event_id = set->id;
		r.issuer = set->issuer;
		r.event_type = (char *)caep_event_name(ev->event->kind);
		r.subject = ev->subject;
		s->host.journal(s->host.ctx, &r);
	}
}

/* A signed token verified against its issuer's keys; the payload's text in *payload. */
static int verify_signed(struct signalctl *s, const char *text, size_t len, unsigned flags,
			 struct jose_verified *v, const struct trust_issuer **issuer_out,
			 struct ingest_result *res)
{
	struct jose_error je;
	struct trust_issuer *is;
	struct jose_expect x;
	json_t *jti;
	int err;

	err = jose_unverified_issuer(text, len, res->issuer, sizeof(res->issuer), &je);
	if (err)
		return refuse(res, je.code, err, "%s", je.reason);
	is = trust_issuer(&s->trust, res->issuer);
	if (!is)
		return refuse(res, JOSE_ERR_INVALID_ISSUER, -EINVAL,
			      "issuer \"%.200s\" is not in the trust file%s", res->issuer,
			      s->trust.issuer_count ? "" : " (no signals_trust file, or no issuers in it)");
	x = (struct jose_expect){ .issuer = is->issuer, .audience = is->audience,
				  .typ = "secevent+jwt", .now = (int64_t)(wall_ns() / 1000000000ull),
				  .skew_s = is->skew_s, .max_age_s = is->max_age_s,
				  .require_iat = true };
	err = jose_verify(&is->keys, text, len, &x, v, &je);
	if (err)
		return refuse(res, je.code, err, "%s", je.reason);
	jti = json_object_get(v->claims, "jti");
	if (!json_is_string(jti) || json_string_length(jti) == 0 ||
	    json_string_length(jti) > JTI_MAX_LEN)
		return refuse(res, JOSE_ERR_INVALID_REQUEST, -EINVAL,
			      "the token has no \"jti\" string of 1 to %d bytes", JTI_MAX_LEN);
	snprintf(res->id, sizeof(res->id), "%s", json_string_value(jti));
	if (!s->seen.buckets && jti_cache_init(&s->seen, INGEST_SEEN_MAX))
		return refuse(res, JOSE_ERR_INVALID_REQUEST, -ENOMEM, "out of memory");
	if (jti_cache_seen(&s->seen, is->issuer, res->id, x.now))
		return refuse(res, JOSE_ERR_INVALID_REQUEST, -EINVAL,
			      "jti \"%.200s\" from %.200s was taken already: a replayed token",
			      res->id, is->issuer);
	(void)flags;
	*issuer_out = is;
	return 0;
}

/* Hold a taken token's jti until its iat can no longer be accepted. */
static void remember(struct signalctl *s, const struct trust_issuer *is,
		     const struct jose_verified *v, const char *id)
{
	int64_t now = (int64_t)(wall_ns() / 1000000000ull);
	json_t *iat = json_object_get(v->claims, "iat");
	int64_t from = json_is_integer(iat) ? (int64_t)json_integer_value(iat) : now;
	int err = jti_cache_add(&s->seen, is->issuer, id, from + is->max_age_s + 2 * is->skew_s,
				now);

	if (err)
		log_warn("signals", "jti %s from %s: not remembered (%s): a replay of it within "
			 "%lld s would be taken", id, is->issuer,
			 err == -ENOSPC ? "the replay cache is full" : strerror(-err),
			 (long long)(is->max_age_s + 2 * is->skew_s));
}

static void log_refusal(const char *label, const struct ingest_result *res)
{
	log_warn("signals", "%s: token%s%s refused (%s), nothing changed: %s", label,
		 res->id[0] ? " " : "", res->id, res->err_code ? res->err_code : "?", res->why);
}

int ingest_token(struct signalctl *s, const char *label, const char *text, size_t len,
		 unsigned flags, struct ingest_result *res)
{
	const struct trust_issuer *issuer = NULL;
	struct jose_verified v = { 0 };
	struct diag_list diags = { 0 };
	struct signal_plan plan = { 0 };
	struct caep_set set = { 0 };
	size_t **revoked = NULL;
	char line[1536], source[SIGNAL_SOURCE_MAX + 1], reason[512];
	const char *payload = text;
	size_t payload_len = len;
	int err;

	*res = (struct ingest_result){ 0 };
	if (jose_is_compact(text, len)) {
		res->signed_token = true;
		err = verify_signed(s, text, len, flags, &v, &issuer, res);
		if (err)
			goto out;
		payload = v.payload;
		payload_len = v.payload_len;
	} else if (flags & INGEST_SIGNED_ONLY) {
		err = refuse(res, JOSE_ERR_INVALID_REQUEST, -EINVAL,
			     "not a compact JWS: only signed tokens are taken here");
		goto out;
	}
	err = caep_parse(label, payload, payload_len, &set, &diags);
	if (err) {
		res->err_code = JOSE_ERR_INVALID_REQUEST;
		diag_first_error(&diags, "the event token is not valid", res->why,
				 sizeof(res->why));
		goto out;
	}
	snprintf(res->issuer, sizeof(res->issuer), "%s", set.issuer);
	snprintf(res->id, sizeof(res->id), "%s", set.id);
	err = signal_resolve(&set, &s->trust, s->host.workloads, &plan, res->why,
			     sizeof(res->why));
	if (err) {
		res->err_code = JOSE_ERR_INVALID_REQUEST;
		res->unknown_subject = err == -ENOENT;
		goto out;
	}
	err = -ENOMEM;
	revoked = calloc(plan.count + 1, sizeof(*revoked));
	if (!revoked)
		goto out;
	for (size_t i = 0; i < plan.count; i++) {
		revoked[i] = calloc(plan.events[i].count + 1, sizeof(**revoked));
		if (!revoked[i])
			goto out;
	}
	if (!(flags & INGEST_DRY_RUN)) {
		snprintf(source, sizeof(source), "caep %.240s", set.issuer);
		err = apply_plan(s, &set, &plan, source, revoked, res);
		if (err && err != -EIO)
			goto out;
		if (issuer)
			remember(s, issuer, &v, res->id);
		journal_events(s, &set, &plan, revoked);
		if (err)
			goto out;
	}
	err = 0;
	for (size_t i = 0; i < plan.count && !err; i++) {
		const struct resolved_event *ev = &plan.events[i];
		char what[1024];

		describe_event(s, ev, flags & INGEST_DRY_RUN ? NULL : revoked[i], what,
			       sizeof(what));
		snprintf(line, sizeof(line), "%s %s: %s%s%s%s", caep_event_name(ev->event->kind),
			 ev->subject, flags & INGEST_DRY_RUN ? "would change " : "", what,
			 ev->note ? " (" : "", ev->note ? ev->note : "");
		if (ev->note)
			strncat(line, ")", sizeof(line) - strlen(line) - 1);
		err = add_change(res, line);
	}
	if (err)
		goto out;
	if (!(flags & INGEST_DRY_RUN) && signalctl_save(s, reason, sizeof(reason))) {
		/* In force (a revocation is never undone for a full disk), but said so. */
		snprintf(res->why, sizeof(res->why), "applied, but not saved (a restarted daemon "
			 "would not know it): %s", reason);
		err = -EIO;
		goto out;
	}
	if (!(flags & INGEST_DRY_RUN))
		for (size_t i = 0; i < res->change_count; i++)
			log_info("signals", "%s: %s token %s from %s: %s", label,
				 res->signed_token ? "signed" : "unsigned", set.id, set.issuer,
				 res->changes[i]);
out:
	if (err == -ENOMEM && !res->why[0])
		snprintf(res->why, sizeof(res->why), "out of memory");
	if (err && err != -EIO) {
		if (!res->err_code)
			res->err_code = JOSE_ERR_INVALID_REQUEST;
		log_refusal(label, res);
	} else if (err == -EIO) {
		log_error("signals", "%s: %s", label, res->why);
	}
	for (size_t i = 0; revoked && i < plan.count; i++)
		free(revoked[i]);
	free(revoked);
	signal_plan_free(&plan);
	caep_set_free(&set);
	diag_list_free(&diags);
	jose_verified_free(&v);
	return err;
}

int ingest_load_trust(struct signalctl *s, const char *path)
{
	struct diag_list diags = { 0 };
	int err = trust_load(path, &s->trust, &diags);

	log_diags(&diags);
	diag_list_free(&diags);
	if (!err)
		log_info("signals", "%s: %zu issuers, %zu principals, device_id %s", path,
			 s->trust.issuer_count, s->trust.principal_count,
			 s->trust.device_id ? s->trust.device_id : "(none)");
	return err;
}

void ingest_verb(struct signalctl *s, int fd, const struct json_msg *msg)
{
	struct ingest_result res;
	const char *token, *dry;
	struct json_out j;
	bool bad = false;
	char key[32];
	int err;

	token = control_string(msg, "token", &bad);
	if (bad || !token) {
		control_reply_error(fd, "signal-ingest: \"token\" (a compact JWS, or the SET "
					"payload as a string) is required");
		return;
	}
	dry = json_msg_string(msg, "dry_run");
	if (dry && strcmp(dry, "true") && strcmp(dry, "false")) {
		control_reply_error(fd, "signal-ingest: \"dry_run\" is true or false");
		return;
	}
	err = ingest_token(s, "<token>", token, strlen(token),
			   dry && !strcmp(dry, "true") ? INGEST_DRY_RUN : 0, &res);
	if (err) {
		/* -EIO: applied but not saved (why says so); anything else changed nothing. */
		if (err == -EIO)
			control_reply_error(fd, "signal-ingest: %s", res.why);
		else
			control_reply_error(fd, "signal-ingest: refused, nothing changed (%s): %s",
					    res.err_code, res.why);
		ingest_result_free(&res);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	json_add_u64(&j, "effects", res.effects);
	json_add_u64(&j, "revoked", res.revoked);
	json_add_bool(&j, "signed", res.signed_token);
	json_add_string(&j, "issuer", res.issuer);
	json_add_string(&j, "jti", res.id);
	for (size_t i = 0; i < res.change_count; i++) {
		snprintf(key, sizeof(key), "change.%zu", i);
		json_add_string(&j, key, res.changes[i]);
	}
	control_reply_send(fd, &j);
	ingest_result_free(&res);
}
