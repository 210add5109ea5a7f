/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/revocation.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/log.h"

static bool revocation_matches(const struct signalctl_revocation *r, const struct workload *w)
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

/* Flag every live workload r names, and every workload nested below one. */
static int revoke_live(struct signalctl *s, const struct signalctl_revocation *r, size_t *count)
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
		if (signalctl_set_workload_flags(s, &t->items[i], ACTGATE_WORKLOAD_REVOKED)) {
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

int revocation_append(struct signalctl *s, enum signal_scope scope, const char *subject,
		      const char *reason, uint64_t at_boot_ns)
{
	struct signalctl_revocation r = { .scope = scope, .at_boot_ns = at_boot_ns };

	if (s->revoked_count == s->revoked_cap) {
		size_t cap = s->revoked_cap ? s->revoked_cap * 2 : 8;
		struct signalctl_revocation *grown = realloc(s->revoked, cap * sizeof(*grown));

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
	return 0;
}

int revocation_add(struct signalctl *s, enum signal_scope scope, const char *subject,
		   const char *reason, size_t *count)
{
	bool known = false;
	int err;

	*count = 0;
	for (size_t i = 0; i < s->revoked_count; i++)
		known |= s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, subject);
	if (!known) {
		err = revocation_append(s, scope, subject, reason, boot_ns());
		if (err)
			return err;
	}
	for (size_t i = 0; i < s->revoked_count; i++)
		if (s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, subject))
			return revoke_live(s, &s->revoked[i], count);
	return 0;
}

int revocation_clear(struct signalctl *s, enum signal_scope scope, const char *subject)
{
	for (size_t i = 0; i < s->revoked_count; i++) {
		if (s->revoked[i].scope != scope || strcmp(s->revoked[i].subject, subject))
			continue;
		free(s->revoked[i].subject);
		free(s->revoked[i].reason);
		memmove(&s->revoked[i], &s->revoked[i + 1],
			(s->revoked_count - i - 1) * sizeof(s->revoked[0]));
		s->revoked_count--;
		return 1;
	}
	return 0;
}

/* The subject of a revoke or revoke-clear request: one of "workload" and "principal". */
static int request_subject(const struct json_msg *msg, const char *verb, enum signal_scope *scope,
			   const char **subject, int fd)
{
	const char *workload, *principal;
	char why[512];
	bool bad = false;

	workload = control_string(msg, "workload", &bad);
	principal = control_string(msg, "principal", &bad);
	if (bad || !workload == !principal) {
		control_reply_error(fd, "%s: give one of \"workload\" and \"principal\" (strings)",
				    verb);
		return -EINVAL;
	}
	if ((workload && workload_name_check(workload, why, sizeof(why))) ||
	    (principal && workload_principal_check(principal, why, sizeof(why)))) {
		control_reply_error(fd, "%s: %s", verb, why);
		return -EINVAL;
	}
	*scope = workload ? SIGNAL_WORKLOAD : SIGNAL_PRINCIPAL;
	*subject = workload ? workload : principal;
	return 0;
}

void revocation_verb_revoke(struct signalctl *s, int fd, const struct json_msg *msg)
{
	const char *subject, *reason;
	enum signal_scope scope;
	struct json_out j;
	size_t count = 0;
	char why[1024];
	bool bad = false;
	int err;

	if (request_subject(msg, "revoke", &scope, &subject, fd))
		return;
	reason = control_string(msg, "reason", &bad);
	if (bad || (reason && grant_reason_check(reason, why, sizeof(why)))) {
		control_reply_error(fd, "revoke: %s", bad ? "\"reason\" is a string" : why);
		return;
	}
	err = revocation_add(s, scope, subject, reason ? reason : "revoked by cli", &count);
	if (err) {
		control_reply_error(fd, "revoke: %s (%zu workloads revoked)", strerror(-err), count);
		return;
	}
	if (signalctl_save(s, why, sizeof(why))) {
		control_reply_error(fd, "revoke: in force (%zu workloads revoked), but not saved: a "
					"restarted daemon would not refuse new workloads of %s %s: %s",
				    count, signal_scope_name(scope), subject, why);
		return;
	}
	control_reply_ok(&j);
	json_add_u64(&j, "revoked", count);
	control_reply_send(fd, &j);
}

void revocation_verb_clear(struct signalctl *s, int fd, const struct json_msg *msg)
{
	const struct signalctl_revocation *found = NULL;
	char *subject_copy = NULL, *reason_copy = NULL;
	const char *subject;
	enum signal_scope scope;
	uint64_t at_boot_ns = 0;
	struct json_out j;
	char why[1024];

	if (request_subject(msg, "revoke-clear", &scope, &subject, fd))
		return;
	for (size_t i = 0; i < s->revoked_count; i++)
		if (s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, subject))
			found = &s->revoked[i];
	if (found) {
		/* Kept to put back if the change cannot be saved: a refused clear changes nothing. */
		subject_copy = strdup(found->subject);
		reason_copy = strdup(found->reason);
		at_boot_ns = found->at_boot_ns;
		if (!subject_copy || !reason_copy) {
			control_reply_error(fd, "revoke-clear: out of memory");
			goto out;
		}
		revocation_clear(s, scope, subject);
		if (signalctl_save(s, why, sizeof(why))) {
			/* Back in the list as it was (its workloads were never unflagged). */
			if (revocation_append(s, scope, subject_copy, reason_copy, at_boot_ns))
				log_error("revoke", "%s %s: out of memory putting the revocation back; "
					  "the saved file still holds it", signal_scope_name(scope),
					  subject);
			control_reply_error(fd, "revoke-clear: refused, %s %s stays revoked: cannot "
						"save: %s", signal_scope_name(scope), subject, why);
			goto out;
		}
		log_info("revoke", "%s %s: revocation cleared; new workloads may start",
			 signal_scope_name(scope), subject);
	}
	control_reply_ok(&j);
	json_add_bool(&j, "cleared", found != NULL);
	control_reply_send(fd, &j);
out:
	free(subject_copy);
	free(reason_copy);
}

void revocation_verb_list(struct signalctl *s, int fd, const struct json_msg *msg)
{
	uint64_t now = boot_ns();
	struct json_out j;
	char key[32];

	(void)msg;
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

int revocation_check_run(const struct signalctl *s, const char *name, const char *principal,
			 char *why, size_t why_size)
{
	for (size_t i = 0; i < s->revoked_count; i++) {
		const struct signalctl_revocation *r = &s->revoked[i];
		const char *subject = r->scope == SIGNAL_WORKLOAD ? name : principal;

		if (subject && !strcmp(subject, r->subject)) {
			snprintf(why, why_size, "%s \"%s\" is revoked (%s)",
				 signal_scope_name(r->scope), r->subject, r->reason);
			return -EPERM;
		}
	}
	return 0;
}
