// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Signals, revocations and grants in the daemon (see control_signals.h).
 * Every request is checked whole before anything changes; a change that
 * cannot be carried into the kernel is undone, so a refused request leaves
 * the store, the grants and the workloads as they were.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/control_signals.h"
#include "journal/v0.h"
#include "policy/compile.h"
#include "signals/caep.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/io.h"
#include "util/log.h"

/* An expired grant stays in the kernel this long, so denials name it (grant-expired). */
#define GRANT_KEEP_EXPIRED_NS (60ull * 1000000000ull)
#define SPOOL_SCAN_NS (200ull * 1000000ull)
#define SPOOL_FILE_MAX (JSON_MSG_MAX / 2)

/* ---- the store: snapshots for all-or-nothing changes ---- */

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

static int store_clone(const struct signal_store *src, struct signal_store *dst)
{
	bool failed = false;

	*dst = (struct signal_store){ .generation = src->generation };
	if (!src->count)
		return 0;
	dst->items = calloc(src->count, sizeof(*dst->items));
	if (!dst->items)
		return -ENOMEM;
	dst->cap = src->count;
	for (size_t i = 0; i < src->count; i++) {
		const struct signal *a = &src->items[i];
		struct signal *b = &dst->items[i];

		*b = *a;
		b->subject = dup_or_null(a->subject, &failed);
		b->name = dup_or_null(a->name, &failed);
		b->value = dup_or_null(a->value, &failed);
		b->source = dup_or_null(a->source, &failed);
		dst->count++;
	}
	if (failed) {
		signal_store_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int sigctl_view(const struct sigctl *s, const struct workload *w, struct signal_view *view)
{
	return signal_store_view(&s->store, w->name, w->principal[0] ? w->principal : NULL,
				 boot_ns(), view);
}

/* ---- what a workload's policies read: recorded per signal generation ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void collect(const struct policy_overlay *o, size_t count, const char **names, size_t *n,
		    size_t max)
{
	for (size_t i = 0; i < count; i++)
		for (size_t c = 0; c < o[i].condition_count && *n < max; c++)
			names[(*n)++] = o[i].conditions[c].name;
}

/* "name=value,..." of the signals read by w's selecting policies (malloc'd). */
static char *signals_read(const struct sigctl *s, const struct workload *w)
{
	const struct policy_set *set = s->host.policy_set(s->host.ctx);
	struct workload_identity id = workload_identity_of(w);
	struct policy_selection *sel = NULL;
	struct signal_view view = { 0 };
	const char *names[256];
	size_t n = 0, count = 0, len = 0;
	char *out = NULL;
	FILE *mem = NULL;

	if (sigctl_view(s, w, &view))
		goto out;
	if (policy_selection_of(set, &id, &view, &sel, &count))
		count = 0;
	for (size_t i = 0; i < count; i++) {
		const struct policy *p = &set->policies[sel[i].index];

		collect(p->exec.overlays, p->exec.overlay_count, names, &n, 256);
		collect(p->open.overlays, p->open.overlay_count, names, &n, 256);
		collect(p->connect.overlays, p->connect.overlay_count, names, &n, 256);
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	mem = open_memstream(&out, &len);
	if (!mem)
		goto out;
	for (size_t i = 0, shown = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		for (size_t v = 0; v < view.count; v++) {
			if (strcmp(view.values[v].name, names[i]))
				continue;
			fprintf(mem, "%s%s=%s", shown++ ? "," : "", names[i], view.values[v].value);
			break;
		}
	}
	fclose(mem);
out:
	free(sel);
	free((void *)view.values);
	return out;
}

static void remember(struct sigctl *s, const struct workload *w)
{
	struct sigctl_binding *b = &s->ring[s->ring_next];
	char *signals = signals_read(s, w);

	if (!signals)
		return; /* out of memory: its records name no signals */
	free(b->signals);
	b->workload_id = w->id;
	b->generation = s->store.generation;
	b->signals = signals;
	s->ring_next = (s->ring_next + 1) % SIGCTL_BINDINGS;
}

void sigctl_bound(struct sigctl *s)
{
	for (size_t i = 0; i < s->host.workloads->count; i++)
		remember(s, &s->host.workloads->items[i]);
}

static char *find_binding(const struct sigctl *s, uint64_t workload_id, uint64_t generation)
{
	/* Newest first: a record is most likely about the latest binding. */
	for (size_t k = 1; k <= SIGCTL_BINDINGS; k++) {
		const struct sigctl_binding *b =
			&s->ring[(s->ring_next + SIGCTL_BINDINGS - k) % SIGCTL_BINDINGS];

		if (!b->signals)
			break;
		if (b->workload_id == workload_id && b->generation == generation)
			return b->signals;
	}
	return NULL;
}

const char *sigctl_workload_signals(const struct sigctl *s, uint64_t workload_id)
{
	return find_binding(s, workload_id, s->store.generation);
}

char *sigctl_record_signals(const struct sigctl *s, const struct actgate_decision *rec)
{
	return find_binding(s, rec->workload_id, rec->signal_generation);
}


bool sigctl_grant_rule(const struct sigctl *s, const struct actgate_decision *rec, char *rule,
		       size_t size)
{
	(void)s;
	if (rec->reason != ACTGATE_REASON_GRANT && rec->reason != ACTGATE_REASON_GRANT_EXPIRED)
		return false;
	snprintf(rule, size, "grant:%u", rec->rule_id);
	return true;
}

/*
 * Carry a store change into the kernel: every workload bound again and
 * swapped. On failure the store goes back to old (the generation still
 * moves on: it never repeats) and the workloads are bound again under it.
 */
static int commit_store(struct sigctl *s, struct signal_store *old, char *why, size_t why_size)
{
	char again[512];
	int err = s->host.rebind(s->host.ctx, why, why_size);

	if (!err) {
		signal_store_free(old);
		sigctl_bound(s);
		return 0;
	}
	old->generation = s->store.generation + 1;
	signal_store_free(&s->store);
	s->store = *old;
	*old = (struct signal_store){ 0 };
	if (s->host.rebind(s->host.ctx, again, sizeof(again)))
		log_error("signals", "cannot bind the workloads again after a refused change: %s",
			  again);
	sigctl_bound(s);
	return err;
}

/* ---- revocation ---- */

static bool revocation_matches(const struct sigctl_revocation *r, const struct workload *w)
{
	if (r->scope == SIGNAL_WORKLOAD)
		return !strcmp(w->name, r->subject);
	return w->principal[0] && !strcmp(w->principal, r->subject);
}

static bool under(const char *path, const char *ancestor)
{
	size_t n = strlen(ancestor);

	return !strncmp(path, ancestor, n) && path[n] == '/';
}

static int set_flags(struct sigctl *s, const struct workload *w, uint32_t flags)
{
	struct actgate_workload wl;
	int err = enforcer_get_workload(s->host.enforcer, w->cgroup_id, &wl);

	if (err)
		return err;
	if ((wl.flags & flags) == flags)
		return 0;
	wl.flags |= flags;
	return enforcer_put_workload(s->host.enforcer, w->cgroup_id, &wl);
}

/* Flag every live workload r names, and every workload nested below one. */
static int revoke_live(struct sigctl *s, const struct sigctl_revocation *r, size_t *count)
{
	struct workload_table *t = s->host.workloads;
	int first_err = 0;

	*count = 0;
	for (size_t i = 0; i < t->count; i++) {
		bool hit = revocation_matches(r, &t->items[i]);

		for (size_t a = 0; !hit && a < t->count; a++)
			hit = revocation_matches(r, &t->items[a]) &&
			      under(t->items[i].cgroup_path, t->items[a].cgroup_path);
		if (!hit)
			continue;
		if (set_flags(s, &t->items[i], ACTGATE_WORKLOAD_REVOKED)) {
			if (!first_err)
				first_err = -EIO;
			continue;
		}
		(*count)++;
		log_info("revoke", "workload %s (id %llu) revoked: %s", t->items[i].name,
			 (unsigned long long)t->items[i].id, r->reason);
	}
	return first_err;
}

static int revoke_subject(struct sigctl *s, enum signal_scope scope, const char *subject,
		  const char *reason, size_t *count)
{
	struct sigctl_revocation r = { .scope = scope, .at_boot_ns = boot_ns() };
	int err = 0;
	bool known = false;

	for (size_t i = 0; i < s->revoked_count; i++)
		known |= s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, subject);
	if (!known) {
		if (s->revoked_count == s->revoked_cap) {
			size_t cap = s->revoked_cap ? s->revoked_cap * 2 : 8;
			struct sigctl_revocation *grown = realloc(s->revoked, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			s->revoked = grown;
			s->revoked_cap = cap;
		}
		r.subject = strdup(subject);
		r.reason = strdup(reason);
		if (!r.subject || !r.reason) {
			free(r.subject);
			free(r.reason);
			return -ENOMEM;
		}
		s->revoked[s->revoked_count++] = r;
	}
	for (size_t i = 0; i < s->revoked_count; i++) {
		if (s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, subject)) {
			err = revoke_live(s, &s->revoked[i], count);
			break;
		}
	}
	return err;
}

/* ---- handlers ---- */

static int parse_scope(const struct json_msg *msg, enum signal_scope *scope, const char **subject,
		       char *why, size_t why_size)
{
	bool bad = false;
	const char *text = control_string(msg, "scope", &bad);

	*subject = control_string(msg, "subject", &bad);
	if (bad) {
		snprintf(why, why_size, "\"scope\" and \"subject\" must be strings");
		return -EINVAL;
	}
	*scope = SIGNAL_HOST;
	if (text && signal_scope_parse(text, scope)) {
		snprintf(why, why_size, "unknown scope \"%.32s\" (host, principal, workload)", text);
		return -EINVAL;
	}
	return 0;
}

static void handle_signal_set(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "scope", "subject", "name", "value", "ttl_ms", NULL };
	struct signal_store old = { 0 };
	enum signal_scope scope;
	const char *subject, *name, *value, *ttl;
	uint64_t ttl_ns = 0;
	char why[768];
	bool bad = false;
	int ret;

	if (control_check_keys(msg, keys, why, sizeof(why)) ||
	    parse_scope(msg, &scope, &subject, why, sizeof(why))) {
		control_reply_error(fd, "signal-set: %s", why);
		return;
	}
	name = control_string(msg, "name", &bad);
	value = control_string(msg, "value", &bad);
	ttl = control_string(msg, "ttl_ms", &bad);
	if (bad || !name || !value) {
		control_reply_error(fd, "signal-set: \"name\" and \"value\" (strings) are required");
		return;
	}
	if (ttl && grant_parse_ms(ttl, DURATION_MAX_NS / 1000000, &ttl_ns, why, sizeof(why))) {
		control_reply_error(fd, "signal-set: ttl_ms: %s", why);
		return;
	}
	if (signal_check(scope, subject, name, value, "cli", why, sizeof(why))) {
		control_reply_error(fd, "signal-set: %s", why);
		return;
	}
	if (store_clone(&s->store, &old)) {
		control_reply_error(fd, "signal-set: out of memory");
		return;
	}
	ret = signal_store_set(&s->store, scope, subject, name, value, "cli", ttl_ns, boot_ns(),
			       why, sizeof(why));
	if (ret < 0) {
		signal_store_free(&old);
		control_reply_error(fd, "signal-set: %s", why);
		return;
	}
	if (ret > 0 && commit_store(s, &old, why, sizeof(why))) {
		control_reply_error(fd, "signal-set: refused, nothing changed: %s", why);
		return;
	}
	signal_store_free(&old);
	log_info("signals", "%s%s%s %s=%s (generation %llu)", signal_scope_name(scope),
		 subject ? " " : "", subject ? subject : "", name, value,
		 (unsigned long long)s->store.generation);
	{
		struct json_out j;

		control_reply_ok(&j);
		json_add_u64(&j, "generation", s->store.generation);
		json_add_bool(&j, "changed", ret > 0);
		control_reply_send(fd, &j);
	}
}

static void handle_signal_clear(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "scope", "subject", "name", NULL };
	struct signal_store old = { 0 };
	enum signal_scope scope;
	const char *subject, *name;
	struct json_out j;
	char why[768];
	bool bad = false;
	int ret;

	if (control_check_keys(msg, keys, why, sizeof(why)) ||
	    parse_scope(msg, &scope, &subject, why, sizeof(why))) {
		control_reply_error(fd, "signal-clear: %s", why);
		return;
	}
	name = control_string(msg, "name", &bad);
	if (bad || !name) {
		control_reply_error(fd, "signal-clear: \"name\" (a string) is required");
		return;
	}
	if (signal_check(scope, subject, name, NULL, NULL, why, sizeof(why))) {
		control_reply_error(fd, "signal-clear: %s", why);
		return;
	}
	if (store_clone(&s->store, &old)) {
		control_reply_error(fd, "signal-clear: out of memory");
		return;
	}
	ret = signal_store_clear(&s->store, scope, subject, name);
	if (ret > 0 && commit_store(s, &old, why, sizeof(why))) {
		control_reply_error(fd, "signal-clear: refused, nothing changed: %s", why);
		return;
	}
	signal_store_free(&old);
	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	json_add_bool(&j, "changed", ret > 0);
	control_reply_send(fd, &j);
}

static void handle_signal_list(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { NULL };
	uint64_t now = boot_ns();
	struct json_out j;
	char why[256], key[32];

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "signal-list: %s", why);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	for (size_t i = 0, n = 0; i < s->store.count; i++) {
		const struct signal *sg = &s->store.items[i];

		if (sg->expires_ns && sg->expires_ns <= now)
			continue; /* gone, whether or not the timer removed it yet */
		snprintf(key, sizeof(key), "signal.%zu", n++);
		json_key_object_begin(&j, key);
		json_add_string(&j, "scope", signal_scope_name(sg->scope));
		if (sg->subject)
			json_add_string(&j, "subject", sg->subject);
		json_add_string(&j, "name", sg->name);
		json_add_string(&j, "value", sg->value);
		if (sg->expires_ns)
			control_add_count(&j, "expires_in_ms", (sg->expires_ns - now + 999999) / 1000000);
		json_add_string(&j, "source", sg->source ? sg->source : "");
		json_object_end(&j);
	}
	control_reply_send(fd, &j);
}

/*
 * A CAEP token applied whole: every signal it sets lands in one store
 * change (one generation), then its revocations. A token refused by the
 * store or the kernel changes nothing.
 */
static int apply_caep(struct sigctl *s, const struct caep_set *set, size_t *revoked, char *why,
		      size_t why_size)
{
	struct signal_store old = { 0 };
	char source[SIGNAL_SOURCE_MAX + 1];
	uint64_t now = boot_ns();
	bool changed = false;
	int err;

	*revoked = 0;
	snprintf(source, sizeof(source), "caep %.240s", set->issuer ? set->issuer : "?");
	err = store_clone(&s->store, &old);
	if (err) {
		snprintf(why, why_size, "out of memory");
		return err;
	}
	for (size_t i = 0; i < set->count; i++) {
		const struct caep_effect *e = &set->effects[i];

		if (e->kind != CAEP_SET_SIGNAL)
			continue;
		err = signal_store_set(&s->store, e->scope, e->subject, e->name, e->value, source,
				       0, now, why, why_size);
		if (err < 0) {
			signal_store_free(&s->store);
			s->store = old;
			return err;
		}
		changed |= err > 0;
	}
	if (changed) {
		err = commit_store(s, &old, why, why_size);
		if (err)
			return err;
	}
	signal_store_free(&old);
	for (size_t i = 0; i < set->count; i++) {
		const struct caep_effect *e = &set->effects[i];
		size_t n = 0;

		if (e->kind != CAEP_REVOKE)
			continue;
		err = revoke_subject(s, e->scope, e->subject, e->reason, &n);
		*revoked += n;
		if (err) {
			snprintf(why, why_size, "revoking %s %s: %s", signal_scope_name(e->scope),
				 e->subject, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int ingest_text(struct sigctl *s, const char *name, const char *text, size_t len,
		       size_t *effects, size_t *revoked, char *why, size_t why_size)
{
	struct diag_list diags = { 0 };
	struct caep_set set = { 0 };
	int err = caep_parse(name, text, len, &set, &diags);

	if (err) {
		diag_first_error(&diags, "the event token is not valid", why, why_size);
		goto out;
	}
	*effects = set.count;
	err = apply_caep(s, &set, revoked, why, why_size);
	if (!err)
		log_info("signals", "%s: CAEP token %s from %s applied: %zu effects, %zu workloads "
			 "revoked (generation %llu)", name, set.id, set.issuer, set.count, *revoked,
			 (unsigned long long)s->store.generation);
out:
	caep_set_free(&set);
	diag_list_free(&diags);
	return err;
}

static void handle_signal_ingest(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "token", NULL };
	size_t effects = 0, revoked = 0;
	const char *token;
	struct json_out j;
	char why[1024];
	bool bad = false;

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "signal-ingest: %s", why);
		return;
	}
	token = control_string(msg, "token", &bad);
	if (bad || !token) {
		control_reply_error(fd, "signal-ingest: \"token\" (the SET payload as a string) is required");
		return;
	}
	if (ingest_text(s, "<token>", token, strlen(token), &effects, &revoked, why, sizeof(why))) {
		control_reply_error(fd, "signal-ingest: refused, nothing changed: %s", why);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	json_add_u64(&j, "effects", effects);
	json_add_u64(&j, "revoked", revoked);
	control_reply_send(fd, &j);
}

static void handle_revoke(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "workload", "principal", "reason", NULL };
	const char *workload, *principal, *reason;
	enum signal_scope scope;
	struct json_out j;
	size_t count = 0;
	char why[512];
	bool bad = false;
	int err;

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "revoke: %s", why);
		return;
	}
	workload = control_string(msg, "workload", &bad);
	principal = control_string(msg, "principal", &bad);
	reason = control_string(msg, "reason", &bad);
	if (bad || !workload == !principal) {
		control_reply_error(fd, "revoke: give one of \"workload\" and \"principal\" (strings)");
		return;
	}
	scope = workload ? SIGNAL_WORKLOAD : SIGNAL_PRINCIPAL;
	if ((workload && workload_name_check(workload, why, sizeof(why))) ||
	    (principal && principal_check(principal, why, sizeof(why))) ||
	    (reason && grant_reason_check(reason, why, sizeof(why)))) {
		control_reply_error(fd, "revoke: %s", why);
		return;
	}
	err = revoke_subject(s, scope, workload ? workload : principal, reason ? reason : "revoked by cli",
		     &count);
	if (err) {
		control_reply_error(fd, "revoke: %s (%zu workloads revoked)", strerror(-err), count);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "revoked", count);
	control_reply_send(fd, &j);
}

static void handle_revoke_list(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { NULL };
	uint64_t now = boot_ns();
	struct json_out j;
	char why[256], key[32];

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "revoke-list: %s", why);
		return;
	}
	control_reply_ok(&j);
	for (size_t i = 0; i < s->revoked_count; i++) {
		snprintf(key, sizeof(key), "revocation.%zu", i);
		json_key_object_begin(&j, key);
		json_add_string(&j, "scope", signal_scope_name(s->revoked[i].scope));
		json_add_string(&j, "subject", s->revoked[i].subject);
		json_add_string(&j, "reason", s->revoked[i].reason);
		control_add_count(&j, "age_ms", (now - s->revoked[i].at_boot_ns) / 1000000);
		json_object_end(&j);
	}
	control_reply_send(fd, &j);
}

int sigctl_check_run(const struct sigctl *s, const struct json_msg *msg, const char *name,
		     const char *principal, uint64_t *ttl_ns, char *why, size_t why_size)
{
	const struct json_member *ttl = json_msg_get(msg, "ttl_ms");

	*ttl_ns = 0;
	if (ttl && (ttl->type != JSON_STRING ||
		    grant_parse_ms(ttl->value, DURATION_MAX_NS / 1000000, ttl_ns, why, why_size))) {
		if (ttl->type != JSON_STRING)
			snprintf(why, why_size, "\"ttl_ms\" must be a number");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->revoked_count; i++) {
		const struct sigctl_revocation *r = &s->revoked[i];
		const char *subject = r->scope == SIGNAL_WORKLOAD ? name : principal;

		if (subject && !strcmp(subject, r->subject)) {
			snprintf(why, why_size, "%s \"%s\" is revoked (%s)",
				 signal_scope_name(r->scope), r->subject, r->reason);
			return -EPERM;
		}
	}
	return 0;
}

int sigctl_workload_started(struct sigctl *s, const struct workload *w, uint64_t ttl_ns)
{
	struct actgate_workload wl;
	int err;

	if (ttl_ns) {
		err = enforcer_get_workload(s->host.enforcer, w->cgroup_id, &wl);
		if (err)
			return err;
		wl.expires_boot_ns = boot_ns() + ttl_ns;
		err = enforcer_put_workload(s->host.enforcer, w->cgroup_id, &wl);
		if (err)
			return err;
	}
	remember(s, w);
	return 0;
}

/* ---- grants ---- */

static void grant_free(struct sigctl_grant *g)
{
	free(g->workload);
	free(g->target);
	free(g->reason);
}

static void grant_drop(struct sigctl *s, size_t i)
{
	enforcer_remove_grant(s->host.enforcer, &s->grants[i].key);
	grant_free(&s->grants[i]);
	s->grants[i] = s->grants[--s->grant_count];
}

static int grant_reserve(struct sigctl *s, size_t more)
{
	size_t cap = s->grant_cap ? s->grant_cap : 16;
	struct sigctl_grant *grown;

	if (s->grant_count + more > SIGCTL_MAX_GRANTS)
		return -ENOSPC;
	while (cap < s->grant_count + more)
		cap *= 2;
	if (cap == s->grant_cap)
		return 0;
	grown = realloc(s->grants, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->grants = grown;
	s->grant_cap = cap;
	return 0;
}

static const char *action_of(uint8_t a)
{
	return action_name(a);
}

static void handle_grant(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "workload", "action", "target", "ttl_ms", "reason",
					    NULL };
	struct workload_table *t = s->host.workloads;
	const char *name, *action_text, *target, *ttl, *reason;
	struct grant_target gt;
	uint64_t ttl_ns, now;
	size_t matched = 0, added = 0, first;
	struct json_out j;
	char why[1024], ids[256] = "";
	bool bad = false;
	uint8_t action;
	int err;

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "grant: %s", why);
		return;
	}
	name = control_string(msg, "workload", &bad);
	action_text = control_string(msg, "action", &bad);
	target = control_string(msg, "target", &bad);
	ttl = control_string(msg, "ttl_ms", &bad);
	reason = control_string(msg, "reason", &bad);
	if (bad || !name || !action_text || !target || !ttl || !reason) {
		control_reply_error(fd, "grant: \"workload\", \"action\", \"target\", \"ttl_ms\" and \"reason\" "
			      "are required");
		return;
	}
	if (grant_action_parse(action_text, &action)) {
		control_reply_error(fd, "grant: unknown action \"%.32s\" (exec, open, connect)", action_text);
		return;
	}
	if (workload_name_check(name, why, sizeof(why)) ||
	    grant_parse_ms(ttl, DURATION_MAX_NS / 1000000, &ttl_ns, why, sizeof(why)) ||
	    grant_reason_check(reason, why, sizeof(why)) ||
	    grant_target_parse(action, target, resolve_path_stat, NULL, &gt, why, sizeof(why))) {
		control_reply_error(fd, "grant: %s", why);
		return;
	}
	for (size_t i = 0; i < t->count; i++)
		matched += !strcmp(t->items[i].name, name);
	if (!matched) {
		control_reply_error(fd, "grant: no running workload is named \"%s\"", name);
		return;
	}
	err = grant_reserve(s, matched);
	if (err) {
		control_reply_error(fd, "grant: %s", err == -ENOSPC ? "too many grants" : strerror(-err));
		return;
	}
	now = boot_ns();
	first = s->grant_count;
	for (size_t i = 0; i < t->count; i++) {
		struct workload *w = &t->items[i];
		struct sigctl_grant *g = &s->grants[s->grant_count];
		struct actgate_grant value;

		if (strcmp(w->name, name))
			continue;
		*g = (struct sigctl_grant){ .id = ++s->next_grant_id, .workload_id = w->id,
					    .expires_boot_ns = now + ttl_ns, .key = gt.key };
		g->key.workload_id = w->id;
		g->workload = strdup(w->name);
		g->target = strdup(gt.text);
		g->reason = strdup(reason);
		value = (struct actgate_grant){ .expires_boot_ns = g->expires_boot_ns,
						.grant_id = g->id };
		if (!g->workload || !g->target || !g->reason) {
			grant_free(g);
			err = -ENOMEM;
			break;
		}
		/* The grant before the flag: a lookup never finds the flag without it. */
		err = enforcer_put_grant(s->host.enforcer, &g->key, &value);
		if (err) {
			grant_free(g);
			break;
		}
		s->grant_count++;
		added++;
		err = set_flags(s, w, ACTGATE_WORKLOAD_HAS_GRANTS);
		if (err)
			break;
	}
	if (err) {
		/* Take back this request's grants; the flag alone is harmless. */
		while (s->grant_count > first)
			grant_drop(s, s->grant_count - 1);
		control_reply_error(fd, "grant: cannot write the grant to the kernel: %s", strerror(-err));
		return;
	}
	/* A new grant replaces an older one for the same workload and target. */
	for (size_t i = 0; i < first;) {
		bool same = false;

		for (size_t k = first; k < s->grant_count && !same; k++)
			same = !memcmp(&s->grants[i].key, &s->grants[k].key, sizeof(s->grants[i].key));
		if (!same) {
			i++;
			continue;
		}
		grant_free(&s->grants[i]);
		memmove(&s->grants[i], &s->grants[i + 1],
			(s->grant_count - i - 1) * sizeof(s->grants[0]));
		s->grant_count--;
		first--;
	}
	for (size_t k = first; k < s->grant_count; k++) {
		size_t n = strlen(ids);

		snprintf(ids + n, sizeof(ids) - n, "%s%u", k > first ? "," : "", s->grants[k].id);
		log_info("grant", "grant %u: workload %s (id %llu) may %s %s for %llu ms: %s",
			 s->grants[k].id, name, (unsigned long long)s->grants[k].workload_id,
			 action_of(action), gt.text, (unsigned long long)(ttl_ns / 1000000),
			 reason);
	}
	control_reply_ok(&j);
	json_add_string(&j, "grants", ids);
	json_add_string(&j, "target", gt.text);
	json_add_u64(&j, "workloads", added);
	json_add_u64(&j, "expires_in_ms", ttl_ns / 1000000);
	control_reply_send(fd, &j);
}

static void handle_grant_list(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { NULL };
	uint64_t now = boot_ns();
	struct json_out j;
	char why[256], key[32];

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "grant-list: %s", why);
		return;
	}
	control_reply_ok(&j);
	for (size_t i = 0; i < s->grant_count; i++) {
		const struct sigctl_grant *g = &s->grants[i];

		snprintf(key, sizeof(key), "grant.%zu", i);
		json_key_object_begin(&j, key);
		control_add_count(&j, "id", g->id);
		json_add_string(&j, "workload", g->workload);
		control_add_count(&j, "workload_id", g->workload_id);
		json_add_string(&j, "action", action_of(g->key.action));
		json_add_string(&j, "target", g->target);
		json_add_string(&j, "reason", g->reason);
		if (g->expires_boot_ns > now)
			control_add_count(&j, "expires_in_ms", (g->expires_boot_ns - now + 999999) / 1000000);
		else
			json_add_string(&j, "expires_in_ms", "expired");
		json_object_end(&j);
	}
	control_reply_send(fd, &j);
}

static void handle_grant_remove(struct sigctl *s, int fd, const struct json_msg *msg)
{
	static const char *const keys[] = { "id", NULL };
	const char *id_text;
	struct json_out j;
	uint64_t id_ns;
	char why[256];
	bool bad = false;

	if (control_check_keys(msg, keys, why, sizeof(why))) {
		control_reply_error(fd, "grant-remove: %s", why);
		return;
	}
	id_text = control_string(msg, "id", &bad);
	/* An id is a whole number; grant_parse_ms checks the digits and the range. */
	if (bad || !id_text || grant_parse_ms(id_text, UINT32_MAX, &id_ns, why, sizeof(why))) {
		control_reply_error(fd, "grant-remove: \"id\" must be a grant id (a positive number)");
		return;
	}
	for (size_t i = 0; i < s->grant_count; i++) {
		if (s->grants[i].id != id_ns / 1000000)
			continue;
		log_info("grant", "grant %u removed", s->grants[i].id);
		grant_drop(s, i);
		control_reply_ok(&j);
		control_reply_send(fd, &j);
		return;
	}
	control_reply_error(fd, "grant-remove: no grant %s", id_text);
}

static const struct {
	const char *verb;
	void (*fn)(struct sigctl *s, int fd, const struct json_msg *msg);
} handlers[] = {
	{ "signal-set", handle_signal_set },   { "signal-clear", handle_signal_clear },
	{ "signal-list", handle_signal_list }, { "signal-ingest", handle_signal_ingest },
	{ "revoke", handle_revoke },           { "revoke-list", handle_revoke_list },
	{ "grant", handle_grant },             { "grant-list", handle_grant_list },
	{ "grant-remove", handle_grant_remove },
};

bool sigctl_handles(const char *verb)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(verb, handlers[i].verb))
			return true;
	return false;
}

void sigctl_handle(struct sigctl *s, int fd, const char *verb, const struct json_msg *msg)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(verb, handlers[i].verb))
			handlers[i].fn(s, fd, msg);
}

/* ---- spool ---- */

/* A refused file goes to SPOOL/rejected/, where an operator can read it. */
static void reject_file(struct sigctl *s, const char *name, const char *why)
{
	char dir[4096], from[4096], to[4096 + 256];

	snprintf(dir, sizeof(dir), "%s/rejected", s->spool_dir);
	snprintf(from, sizeof(from), "%s/%s", s->spool_dir, name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	log_error("spool", "%s: refused, moved to %s: %s", from, dir, why);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || rename(from, to) < 0) {
		log_error("spool", "%s: cannot move it aside (%s); removing it", from,
			  strerror(errno));
		unlink(from);
	}
}

static void spool_one(struct sigctl *s, int dirfd, const char *name)
{
	size_t effects = 0, revoked = 0;
	char *text = NULL, why[1024], label[4096];
	struct stat st;
	ssize_t n = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, sizeof(why), "cannot read it: %s", strerror(errno));
		goto reject;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "not a regular file");
		goto reject;
	}
	if (st.st_size > SPOOL_FILE_MAX) {
		snprintf(why, sizeof(why), "%lld bytes: an event token is at most %d",
			 (long long)st.st_size, SPOOL_FILE_MAX);
		goto reject;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		snprintf(why, sizeof(why), "out of memory");
		goto reject;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		snprintf(why, sizeof(why), "short read");
		goto reject;
	}
	text[n] = '\0';
	snprintf(label, sizeof(label), "%s/%s", s->spool_dir, name);
	if (ingest_text(s, label, text, (size_t)n, &effects, &revoked, why, sizeof(why)))
		goto reject;
	if (unlinkat(dirfd, name, 0) < 0)
		log_error("spool", "%s: applied but cannot be removed: %s", label, strerror(errno));
	goto out;
reject:
	reject_file(s, name, why);
out:
	if (fd >= 0)
		close(fd);
	free(text);
}

/* Files whose name starts with '.' are being written (write, then rename into place). */
static void scan_spool(struct sigctl *s)
{
	struct dirent *e;
	DIR *dir = opendir(s->spool_dir);

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "rejected"))
			continue;
		spool_one(s, dirfd(dir), e->d_name);
	}
	closedir(dir);
}

/* ---- timer ---- */

void sigctl_tick(struct sigctl *s)
{
	uint64_t now = boot_ns();
	char why[768];

	if (signal_store_next_expiry(&s->store) && signal_store_next_expiry(&s->store) <= now &&
	    signal_store_expire(&s->store, now)) {
		if (s->host.rebind(s->host.ctx, why, sizeof(why)))
			log_error("signals", "after signals expired: cannot bind the workloads again: "
					     "%s (retrying)", why);
		sigctl_bound(s);
	}
	for (size_t i = 0; i < s->grant_count;) {
		const struct sigctl_grant *g = &s->grants[i];

		if (!workload_table_find_id(s->host.workloads, g->workload_id) ||
		    g->expires_boot_ns + GRANT_KEEP_EXPIRED_NS <= now)
			grant_drop(s, i);
		else
			i++;
	}
	if (s->spool_dir && now >= s->next_spool_scan_ns) {
		scan_spool(s);
		s->next_spool_scan_ns = now + SPOOL_SCAN_NS;
	}
}

int sigctl_timeout_ms(const struct sigctl *s, int max_ms)
{
	uint64_t next = signal_store_next_expiry(&s->store), now = boot_ns();

	if (!next)
		return max_ms;
	if (next <= now)
		return 0;
	if ((next - now) / 1000000 + 1 < (uint64_t)max_ms)
		return (int)((next - now) / 1000000 + 1);
	return max_ms;
}

int sigctl_init(struct sigctl *s, const struct sigctl_host *host, const char *spool_dir)
{
	memset(s, 0, sizeof(*s));
	s->host = *host;
	s->spool_dir = spool_dir;
	if (spool_dir && mkdir(spool_dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;

		log_error("spool", "cannot create %s: %s", spool_dir, strerror(-err));
		return err;
	}
	return 0;
}

void sigctl_free(struct sigctl *s)
{
	signal_store_free(&s->store);
	for (size_t i = 0; i < s->grant_count; i++)
		grant_free(&s->grants[i]);
	free(s->grants);
	for (size_t i = 0; i < s->revoked_count; i++) {
		free(s->revoked[i].subject);
		free(s->revoked[i].reason);
	}
	free(s->revoked);
	for (size_t i = 0; i < SIGCTL_BINDINGS; i++)
		free(s->ring[i].signals);
	memset(s, 0, sizeof(*s));
}
