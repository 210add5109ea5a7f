/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/ingest.h"
#include "daemon/revocation.h"
#include "signals/caep.h"
#include "util/clock.h"
#include "util/log.h"

/*
 * A CAEP token applied whole: every signal it sets lands in one store
 * change (one generation), then its revocations. A token refused by the
 * store or the kernel changes nothing.
 */
static int apply_caep(struct signalctl *s, const struct caep_set *set, size_t *revoked, char *why,
		      size_t why_size)
{
	struct signal_store old = { 0 };
	char source[SIGNAL_SOURCE_MAX + 1];
	uint64_t now = boot_ns();
	bool changed = false;
	int err;

	*revoked = 0;
	snprintf(source, sizeof(source), "caep %.240s", set->issuer ? set->issuer : "?");
	err = signalctl_snapshot(s, &old);
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
		err = signalctl_commit(s, &old, why, why_size);
		if (err)
			return err;
	}
	signal_store_free(&old);
	for (size_t i = 0; i < set->count; i++) {
		const struct caep_effect *e = &set->effects[i];
		size_t n = 0;

		if (e->kind != CAEP_REVOKE)
			continue;
		err = revocation_add(s, e->scope, e->subject, e->reason, &n);
		*revoked += n;
		if (err) {
			snprintf(why, why_size, "revoking %s %s: %s", signal_scope_name(e->scope),
				 e->subject, strerror(-err));
			return err;
		}
	}
	return 0;
}

int ingest_token(struct signalctl *s, const char *name, const char *text, size_t len,
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
	if (!err && signalctl_save(s, why, why_size)) {
		/* In force (a revocation is never undone for a full disk), but said so. */
		char saved[512];

		snprintf(saved, sizeof(saved), "%s", why);
		snprintf(why, why_size, "applied, but not saved (a restarted daemon would not know "
					"it): %s", saved);
		err = -EIO;
		goto out;
	}
	if (!err)
		log_info("signals", "%s: CAEP token %s from %s applied: %zu effects, %zu workloads "
			 "revoked (generation %llu)", name, set.id, set.issuer, set.count, *revoked,
			 (unsigned long long)s->store.generation);
out:
	caep_set_free(&set);
	diag_list_free(&diags);
	return err;
}

void ingest_verb(struct signalctl *s, int fd, const struct json_msg *msg)
{
	size_t effects = 0, revoked = 0;
	const char *token;
	struct json_out j;
	char why[1024];
	bool bad = false;
	int err;

	token = control_string(msg, "token", &bad);
	if (bad || !token) {
		control_reply_error(fd, "signal-ingest: \"token\" (the SET payload as a string) "
					"is required");
		return;
	}
	err = ingest_token(s, "<token>", token, strlen(token), &effects, &revoked, why, sizeof(why));
	if (err) {
		/* -EIO: applied but not saved (why says so); anything else changed nothing. */
		control_reply_error(fd, "signal-ingest: %s%s", err == -EIO ? "" : "refused, nothing "
										"changed: ", why);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "generation", s->store.generation);
	json_add_u64(&j, "effects", effects);
	json_add_u64(&j, "revoked", revoked);
	control_reply_send(fd, &j);
}

