/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/signalctl.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/log.h"

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

int signalctl_snapshot(const struct signalctl *s, struct signal_store *old)
{
	return store_clone(&s->store, old);
}

int signalctl_commit(struct signalctl *s, struct signal_store *old, char *why, size_t why_size)
{
	char again[512];
	int err = s->host.rebind(s->host.ctx, why, why_size);

	if (!err) {
		signal_store_free(old);
		signalctl_bound(s);
		return 0;
	}
	old->generation = s->store.generation + 1;
	signal_store_free(&s->store);
	s->store = *old;
	*old = (struct signal_store){ 0 };
	if (s->host.rebind(s->host.ctx, again, sizeof(again)))
		log_error("signals", "cannot bind the workloads again after a refused change: %s",
			  again);
	signalctl_bound(s);
	return err;
}

int signalctl_view(const struct signalctl *s, const struct workload *w, struct signal_view *view)
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
static char *signals_read(const struct signalctl *s, const struct workload *w)
{
	const struct policy_set *set = s->host.policy_set(s->host.ctx);
	struct workload_identity id = workload_identity_of(w);
	struct policy_selection *sel = NULL;
	struct signal_view view = { 0 };
	const char *names[256];
	size_t n = 0, count = 0, len = 0;
	char *out = NULL;
	FILE *mem = NULL;

	if (signalctl_view(s, w, &view))
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

static void remember(struct signalctl *s, const struct workload *w)
{
	struct signalctl_binding *b = &s->ring[s->ring_next];
	char *signals = signals_read(s, w);

	if (!signals)
		return; /* out of memory: its records name no signals */
	if (!*signals) {
		free(signals);
		signals = NULL;
	}
	free(b->signals);
	b->workload_id = w->id;
	b->generation = s->store.generation;
	b->signals = signals;
	b->used = true;
	s->ring_next = (s->ring_next + 1) % SIGNALCTL_BINDINGS;
}

void signalctl_bound(struct signalctl *s)
{
	for (size_t i = 0; i < s->host.workloads->count; i++)
		remember(s, &s->host.workloads->items[i]);
}

static const char *find_binding(const struct signalctl *s, uint64_t workload_id,
				uint64_t generation)
{
	/* Newest first: a record is most likely about the latest binding. */
	for (size_t k = 1; k <= SIGNALCTL_BINDINGS; k++) {
		const struct signalctl_binding *b =
			&s->ring[(s->ring_next + SIGNALCTL_BINDINGS - k) % SIGNALCTL_BINDINGS];

		if (!b->used)
			break;
		if (b->workload_id == workload_id && b->generation == generation)
			return b->signals ? b->signals : "";
	}
	return NULL;
}

const char *signalctl_workload_signals(const struct signalctl *s, uint64_t workload_id)
{
	return find_binding(s, workload_id, s->store.generation);
}

const char *signalctl_record_signals(const struct signalctl *s, const struct actgate_decision *rec)
{
	return find_binding(s, rec->workload_id, rec->signal_generation);
}

int signalctl_set_workload_flags(struct signalctl *s, const struct workload *w, uint32_t flags)
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

/* ---- the verbs ---- */

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

/* What signal-set and signal-clear answer: the store's generation, and whether it moved. */
int signalctl_save(struct signalctl *s, char *why, size_t why_size)
{
	int err = s->host.save ? s->host.save(s->host.ctx, why, why_size) : 0;

	if (err)
		log_error("signals", "cannot save the signals and revocations: %s; a restarted daemon "
				     "would not know the latest change", why);
	return err;
}

/* The change is in force: saved, then acknowledged (or said to be in force but not saved). */
static void reply_changed(struct signalctl *s, int fd, const char *verb, bool changed)
{
	struct json_out j;
	char why[1024];

	/* Also when nothing changed: a signal set again has a new expiry. */
	if (signalctl_save(s, why, sizeof(why))) {
		control_reply_error(fd, "%s: in force, but not saved (a restarted daemon would not "
					"know it): %s", verb, why);
		return;
	}

	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	json_add_bool(&j, "changed", changed);
	control_reply_send(fd, &j);
}

void signalctl_verb_set(struct signalctl *s, int fd, const struct json_msg *msg)
{
	struct signal_store old = { 0 };
	enum signal_scope scope;
	const char *subject, *name, *value, *ttl;
	uint64_t ttl_ns = 0;
	char why[768];
	bool bad = false;
	int ret;

	if (parse_scope(msg, &scope, &subject, why, sizeof(why))) {
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
	if (ret > 0 && signalctl_commit(s, &old, why, sizeof(why))) {
		control_reply_error(fd, "signal-set: refused, nothing changed: %s", why);
		return;
	}
	signal_store_free(&old);
	log_info("signals", "%s%s%s %s=%s (generation %llu)", signal_scope_name(scope),
		 subject ? " " : "", subject ? subject : "", name, value,
		 (unsigned long long)s->store.generation);
	reply_changed(s, fd, "signal-set", ret > 0);
}

void signalctl_verb_clear(struct signalctl *s, int fd, const struct json_msg *msg)
{
	struct signal_store old = { 0 };
	enum signal_scope scope;
	const char *subject, *name;
	char why[768];
	bool bad = false;
	int ret;

	if (parse_scope(msg, &scope, &subject, why, sizeof(why))) {
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
	if (ret > 0 && signalctl_commit(s, &old, why, sizeof(why))) {
		control_reply_error(fd, "signal-clear: refused, nothing changed: %s", why);
		return;
	}
	signal_store_free(&old);
	reply_changed(s, fd, "signal-clear", ret > 0);
}

void signalctl_verb_list(struct signalctl *s, int fd, const struct json_msg *msg)
{
	uint64_t now = boot_ns();
	struct json_out j;
	char key[32];

	(void)msg;
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
			control_add_count(&j, "expires_in_ms",
					  (sg->expires_ns - now + 999999) / 1000000);
		json_add_string(&j, "source", sg->source ? sg->source : "");
		json_object_end(&j);
	}
	control_reply_send(fd, &j);
}

int signalctl_workload_started(struct signalctl *s, const struct workload *w, uint64_t ttl_ns)
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

/* ---- timer ---- */

void signalctl_tick(struct signalctl *s)
{
	uint64_t now = boot_ns();
	char why[768];

	if (signal_store_next_expiry(&s->store) && signal_store_next_expiry(&s->store) <= now &&
	    signal_store_expire(&s->store, now)) {
		if (s->host.rebind(s->host.ctx, why, sizeof(why)))
			log_error("signals", "after signals expired: cannot bind the workloads again: "
					     "%s (retrying)", why);
		signalctl_bound(s);
	}
}

int signalctl_timeout_ms(const struct signalctl *s, int max_ms)
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

/* ---- lifetime ---- */

void signalctl_init(struct signalctl *s, const struct signalctl_host *host)
{
	memset(s, 0, sizeof(*s));
	s->host = *host;
}

void signalctl_grant_free(struct signalctl_grant *g)
{
	free(g->workload);
	free(g->target);
	free(g->reason);
}

void signalctl_free(struct signalctl *s)
{
	signal_store_free(&s->store);
	for (size_t i = 0; i < s->grant_count; i++)
		signalctl_grant_free(&s->grants[i]);
	free(s->grants);
	for (size_t i = 0; i < s->revoked_count; i++) {
		free(s->revoked[i].subject);
		free(s->revoked[i].reason);
	}
	free(s->revoked);
	for (size_t i = 0; i < SIGNALCTL_BINDINGS; i++)
		free(s->ring[i].signals);
	trust_free(&s->trust);
	jti_cache_free(&s->seen);
	memset(s, 0, sizeof(*s));
}
