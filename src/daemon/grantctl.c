/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/grantctl.h"
#include "journal/decision.h"
#include "policy/compile.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/log.h"

/* An expired grant stays in the kernel this long, so denials name it (grant-expired). */
#define GRANT_KEEP_EXPIRED_NS (60ull * 1000000000ull)

static void grant_drop(struct signalctl *s, size_t i)
{
	enforcer_remove_grant(s->host.enforcer, &s->grants[i].key);
	signalctl_grant_free(&s->grants[i]);
	s->grants[i] = s->grants[--s->grant_count];
}

static int grant_reserve(struct signalctl *s, size_t more)
{
	size_t cap = s->grant_cap ? s->grant_cap : 16;
	struct signalctl_grant *grown;

	if (s->grant_count + more > SIGNALCTL_MAX_GRANTS)
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

int grantctl_add(struct signalctl *s, const struct workload *w, const struct grant_target *gt,
		 uint64_t expires_boot_ns, const char *reason, uint32_t *id)
{
	struct signalctl_grant *g;
	struct actgate_grant value;
	int err = grant_reserve(s, 1);

	if (err)
		return err;
	g = &s->grants[s->grant_count];
	*g = (struct signalctl_grant){ .id = ++s->next_grant_id, .workload_id = w->id,
				    .expires_boot_ns = expires_boot_ns, .key = gt->key };
	g->key.workload_id = w->id;
	g->workload = strdup(w->name);
	g->target = strdup(gt->text);
	g->reason = strdup(reason);
	value = (struct actgate_grant){ .expires_boot_ns = expires_boot_ns, .grant_id = g->id };
	if (!g->workload || !g->target || !g->reason) {
		signalctl_grant_free(g);
		return -ENOMEM;
	}
	/* The grant before the flag: a lookup never finds the flag without it. */
	err = enforcer_put_grant(s->host.enforcer, &g->key, &value);
	if (err) {
		signalctl_grant_free(g);
		return err;
	}
	s->grant_count++;
	err = signalctl_set_workload_flags(s, w, ACTGATE_WORKLOAD_HAS_GRANTS);
	if (err) {
		grant_drop(s, s->grant_count - 1);
		return err;
	}
	*id = g->id;
	return 0;
}

void grantctl_verb_grant(struct signalctl *s, int fd, const struct json_msg *msg)
{
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

	name = control_string(msg, "workload", &bad);
	action_text = control_string(msg, "action", &bad);
	target = control_string(msg, "target", &bad);
	ttl = control_string(msg, "ttl_ms", &bad);
	reason = control_string(msg, "reason", &bad);
	if (bad || !name || !action_text || !target || !ttl || !reason) {
		control_reply_error(fd, "grant: \"workload\", \"action\", \"target\", \"ttl_ms\" and "
					"\"reason\" are required");
		return;
	}
	if (grant_action_parse(action_text, &action)) {
		control_reply_error(fd, "grant: unknown action \"%.32s\" (exec, open, connect)",
				    action_text);
		return;
	}
	if (workload_name_check(name, why, sizeof(why)) ||
	    grant_parse_ms(ttl, DURATION_MAX_NS / 1000000, &ttl_ns, why, sizeof(why)) ||
	    grant_reason_check(reason, why, sizeof(why)) ||
	    grant_target_parse(action, target, resolve_path_stat, NULL, &gt, why, sizeof(why))) {
		control_reply_error(fd, "grant: %s", why);
		return;
	}
	/* names: no kernel key to hold it, and no resolver here to honour it. */
	if (gt.name[0]) {
		control_reply_error(fd, "grant: %s: a connect grant by name is not enforced by this "
				    "daemon (it does not answer the workloads' lookups); grant the "
				    "address instead", gt.text);
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
		control_reply_error(fd, "grant: %s",
				    err == -ENOSPC ? "too many grants" : strerror(-err));
		return;
	}
	now = boot_ns();
	first = s->grant_count;
	for (size_t i = 0; i < t->count; i++) {
		struct workload *w = &t->items[i];
		struct signalctl_grant *g = &s->grants[s->grant_count];
		struct actgate_grant value;

		if (strcmp(w->name, name))
			continue;
		*g = (struct signalctl_grant){ .id = ++s->next_grant_id, .workload_id = w->id,
					    .expires_boot_ns = now + ttl_ns, .key = gt.key };
		g->key.workload_id = w->id;
		g->workload = strdup(w->name);
		g->target = strdup(gt.text);
		g->reason = strdup(reason);
		value = (struct actgate_grant){ .expires_boot_ns = g->expires_boot_ns,
						.grant_id = g->id };
		if (!g->workload || !g->target || !g->reason) {
			signalctl_grant_free(g);
			err = -ENOMEM;
			break;
		}
		/* The grant before the flag: a lookup never finds the flag without it. */
		err = enforcer_put_grant(s->host.enforcer, &g->key, &value);
		if (err) {
			signalctl_grant_free(g);
			break;
		}
		s->grant_count++;
		added++;
		err = signalctl_set_workload_flags(s, w, ACTGATE_WORKLOAD_HAS_GRANTS);
		if (err)
			break;
	}
	if (err) {
		/* Take back this request's grants; the flag alone is harmless. */
		while (s->grant_count > first)
			grant_drop(s, s->grant_count - 1);
		control_reply_error(fd, "grant: cannot write the grant to the kernel: %s",
				    strerror(-err));
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
		signalctl_grant_free(&s->grants[i]);
		memmove(&s->grants[i], &s->grants[i + 1],
			(s->grant_count - i - 1) * sizeof(s->grants[0]));
		s->grant_count--;
		first--;
	}
	/*
	 * Durable before acknowledged: a grant a restarted daemon would not
	 * know could no longer be listed or removed, so one that cannot be
	 * saved is taken back (replaced grants stay replaced: their key is the
	 * new grant's, whose kernel entry goes with it, which only narrows).
	 */
	err = signalctl_save(s, why, sizeof(why));
	if (err) {
		while (s->grant_count > first)
			grant_drop(s, s->grant_count - 1);
		control_reply_error(fd, "grant: cannot save it in the state directory, so it is not "
					"granted: %s", why);
		return;
	}
	for (size_t k = first; k < s->grant_count; k++) {
		size_t n = strlen(ids);

		snprintf(ids + n, sizeof(ids) - n, "%s%u", k > first ? "," : "", s->grants[k].id);
		log_info("grant", "grant %u: workload %s (id %llu) may %s %s for %llu ms: %s",
			 s->grants[k].id, name, (unsigned long long)s->grants[k].workload_id,
			 action_name(action), gt.text, (unsigned long long)(ttl_ns / 1000000),
			 reason);
	}
	control_reply_ok(&j);
	json_add_string(&j, "grants", ids);
	json_add_string(&j, "target", gt.text);
	json_add_u64(&j, "workloads", added);
	json_add_u64(&j, "expires_in_ms", ttl_ns / 1000000);
	control_reply_send(fd, &j);
}

void grantctl_verb_list(struct signalctl *s, int fd, const struct json_msg *msg)
{
	uint64_t now = boot_ns();
	struct json_out j;
	char key[32];

	(void)msg;
	control_reply_ok(&j);
	for (size_t i = 0; i < s->grant_count; i++) {
		const struct signalctl_grant *g = &s->grants[i];

		snprintf(key, sizeof(key), "grant.%zu", i);
		json_key_object_begin(&j, key);
		control_add_count(&j, "id", g->id);
		json_add_string(&j, "workload", g->workload);
		control_add_count(&j, "workload_id", g->workload_id);
		json_add_string(&j, "action", action_name(g->key.action));
		json_add_string(&j, "target", g->target);
		json_add_string(&j, "reason", g->reason);
		if (g->expires_boot_ns == GRANT_NEVER)
			json_add_string(&j, "expires_in_ms", "never");
		else if (g->expires_boot_ns > now)
			control_add_count(&j, "expires_in_ms",
					  (g->expires_boot_ns - now + 999999) / 1000000);
		else
			json_add_string(&j, "expires_in_ms", "expired");
		json_object_end(&j);
	}
	control_reply_send(fd, &j);
}

void grantctl_verb_remove(struct signalctl *s, int fd, const struct json_msg *msg)
{
	const char *id_text;
	struct json_out j;
	uint64_t id_ns;
	char why[1024];
	bool bad = false;

	id_text = control_string(msg, "id", &bad);
	/* An id is a whole number; grant_parse_ms checks the digits and the range. */
	if (bad || !id_text || grant_parse_ms(id_text, UINT32_MAX, &id_ns, why, sizeof(why))) {
		control_reply_error(fd, "grant-remove: \"id\" must be a grant id (a positive number)");
		return;
	}
	for (size_t i = 0; i < s->grant_count; i++) {
		struct signalctl_grant g = s->grants[i];

		if (g.id != id_ns / 1000000)
			continue;
		/*
		 * Saved without it first: the grant stays in force until the file
		 * no longer holds it, so that a restart cannot bring back a grant
		 * whose removal was acknowledged.
		 */
		s->grants[i] = s->grants[--s->grant_count];
		if (signalctl_save(s, why, sizeof(why))) {
			s->grants[s->grant_count] = s->grants[i];
			s->grants[i] = g;
			s->grant_count++;
			control_reply_error(fd, "grant-remove: cannot save the removal, so grant %u "
						"stays: %s", g.id, why);
			return;
		}
		enforcer_remove_grant(s->host.enforcer, &g.key);
		signalctl_grant_free(&g);
		log_info("grant", "grant %u removed", g.id);
		control_reply_ok(&j);
		control_reply_send(fd, &j);
		return;
	}
	control_reply_error(fd, "grant-remove: no grant %s", id_text);
}

void grantctl_tick(struct signalctl *s)
{
	uint64_t now = boot_ns();
	size_t dropped = 0;
	char why[1024];

	for (size_t i = 0; i < s->grant_count;) {
		const struct signalctl_grant *g = &s->grants[i];

		if (!workload_table_find_id(s->host.workloads, g->workload_id) ||
		    grant_forgotten(g->expires_boot_ns, GRANT_KEEP_EXPIRED_NS, now)) {
			grant_drop(s, i);
			dropped++;
		} else {
			i++;
		}
	}
	/* Only tidies the file: what went was expired or had no workload (logged if it fails). */
	if (dropped)
		signalctl_save(s, why, sizeof(why));
}

void grantctl_restore(struct signalctl *s)
{
	size_t restored = 0, gone = 0;
	char why[1024];
	int err;

	for (size_t i = 0; i < s->grant_count;) {
		struct signalctl_grant *g = &s->grants[i];
		const struct workload *w = workload_table_find_id(s->host.workloads, g->workload_id);
		struct actgate_grant value = { .expires_boot_ns = g->expires_boot_ns,
					       .grant_id = g->id };

		if (!w || strcmp(w->name, g->workload)) {
			log_info("grant", "grant %u: workload %s (id %llu) is gone; dropped", g->id,
				 g->workload, (unsigned long long)g->workload_id);
			grant_drop(s, i);
			gone++;
			continue;
		}
		/* The kernel usually has it (the pinned map); written again, it surely does. */
		err = enforcer_put_grant(s->host.enforcer, &g->key, &value);
		if (!err)
			err = signalctl_set_workload_flags(s, w, ACTGATE_WORKLOAD_HAS_GRANTS);
		if (err)
			log_error("grant", "grant %u: cannot write it to the kernel again: %s; the "
					   "kernel keeps what it had", g->id, strerror(-err));
		restored++;
		i++;
	}
	if (restored || gone)
		log_info("state", "restored %zu grants (%zu dropped with their workloads)", restored,
			 gone);
	if (gone)
		signalctl_save(s, why, sizeof(why));
}

bool grantctl_rule_name(const struct actgate_decision *rec, char *rule, size_t size)
{
	if (rec->reason != ACTGATE_REASON_GRANT && rec->reason != ACTGATE_REASON_GRANT_EXPIRED)
		return false;
	snprintf(rule, size, "grant:%u", rec->rule_id);
	return true;
}
