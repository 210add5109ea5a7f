/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "signals/store.h"
#include "util/yamltree.h"

static const char *const scope_names[] = { "host", "principal", "workload" };

const char *signal_scope_name(enum signal_scope scope)
{
	return (unsigned)scope < 3 ? scope_names[scope] : "?";
}

int signal_scope_parse(const char *text, enum signal_scope *scope)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!strcmp(text, scope_names[i])) {
			*scope = (enum signal_scope)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* 1 to max bytes without control characters; what names it in why. */
static bool printable(const char *s, size_t max, const char *what, char *why, size_t why_size)
{
	size_t len = s ? strlen(s) : 0, at;
	char ctl[8];

	if (len == 0 || len > max) {
		snprintf(why, why_size, "%s must be 1 to %zu bytes long", what, max);
		return false;
	}
	if (ytree_find_control(s, len, ctl, &at)) {
		snprintf(why, why_size, "%s contains a control character (%s) at byte %zu", what,
			 ctl, at);
		return false;
	}
	return true;
}

int signal_check(enum signal_scope scope, const char *subject, const char *name,
		 const char *value, const char *source, char *why, size_t why_size)
{
	if ((unsigned)scope > SIGNAL_WORKLOAD) {
		snprintf(why, why_size, "unknown scope %d", (int)scope);
		return -EINVAL;
	}
	if (scope == SIGNAL_HOST && subject) {
		snprintf(why, why_size, "a host signal has no subject");
		return -EINVAL;
	}
	if (scope != SIGNAL_HOST &&
	    !printable(subject, SIGNAL_SUBJECT_MAX,
		       scope == SIGNAL_WORKLOAD ? "the workload" : "the principal", why, why_size))
		return -EINVAL;
	if (!name || !policy_valid_signal_name(name, strlen(name))) {
		snprintf(why, why_size,
			 "\"%.64s\" is not a valid signal name: lowercase letters, digits, '_', '.' "
			 "and '-', starting with a letter, at most %d characters",
			 name ? name : "", POLICY_SIGNAL_NAME_MAX);
		return -EINVAL;
	}
	if (value && !printable(value, POLICY_SIGNAL_VALUE_MAX, "the value", why, why_size))
		return -EINVAL;
	if (source && !printable(source, SIGNAL_SOURCE_MAX, "the source", why, why_size))
		return -EINVAL;
	return 0;
}

static bool same_subject(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct signal *find(const struct signal_store *st, enum signal_scope scope,
			   const char *subject, const char *name)
{
	for (size_t i = 0; i < st->count; i++) {
		struct signal *s = &st->items[i];

		if (s->scope == scope && same_subject(s->subject, subject) && !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static void signal_free(struct signal *s)
{
	free(s->subject);
	free(s->name);
	free(s->value);
	free(s->source);
}

int signal_store_set(struct signal_store *st, enum signal_scope scope, const char *subject,
		     const char *name, const char *value, const char *source, uint64_t ttl_ns,
		     uint64_t now_ns, char *why, size_t why_size)
{
	struct signal fresh = { .scope = scope, .set_ns = now_ns };
	struct signal *old;
	int err;

	if (!value) {
		snprintf(why, why_size, "the value is missing");
		return -EINVAL;
	}
	err = signal_check(scope, subject, name, value, source, why, why_size);
	if (err)
		return err;
	fresh.expires_ns = ttl_ns ? now_ns + ttl_ns : 0;
	if (fresh.expires_ns && fresh.expires_ns < now_ns) {
		snprintf(why, why_size, "the time to live is too long");
		return -EINVAL;
	}
	old = find(st, scope, subject, name);
	if (old && !strcmp(old->value, value)) {
		/* The same fact again: it lives on, nothing a policy sees changed. */
		old->expires_ns = fresh.expires_ns;
		old->set_ns = now_ns;
		return 0;
	}
	if (!old && st->count >= SIGNAL_MAX_COUNT) {
		snprintf(why, why_size, "the store holds %d signals already; clear some first",
			 SIGNAL_MAX_COUNT);
		return -EINVAL;
	}
	fresh.subject = subject ? strdup(subject) : NULL;
	fresh.name = strdup(name);
	fresh.value = strdup(value);
	fresh.source = strdup(source ? source : "");
	if ((subject && !fresh.subject) || !fresh.name || !fresh.value || !fresh.source)
		goto nomem;
	if (!old && st->count == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct signal *items = realloc(st->items, cap * sizeof(*items));

		if (!items)
			goto nomem;
		st->items = items;
		st->cap = cap;
	}
	if (old) {
		signal_free(old);
		*old = fresh;
	} else {
		st->items[st->count++] = fresh;
	}
	st->generation++;
	return 1;

nomem:
	signal_free(&fresh);
	snprintf(why, why_size, "out of memory");
	return -ENOMEM;
}

static void remove_at(struct signal_store *st, size_t i)
{
	signal_free(&st->items[i]);
	st->items[i] = st->items[--st->count];
}

int signal_store_clear(struct signal_store *st, enum signal_scope scope, const char *subject,
		       const char *name)
{
	struct signal *s = find(st, scope, subject, name);

	if (!s)
		return 0;
	remove_at(st, (size_t)(s - st->items));
	st->generation++;
	return 1;
}

static bool expired(const struct signal *s, uint64_t now_ns)
{
	return s->expires_ns && s->expires_ns <= now_ns;
}

size_t signal_store_expire(struct signal_store *st, uint64_t now_ns)
{
	size_t removed = 0;

	for (size_t i = 0; i < st->count;) {
		if (expired(&st->items[i], now_ns)) {
			remove_at(st, i);
			removed++;
		} else {
			i++;
		}
	}
	if (removed)
		st->generation++;
	return removed;
}

uint64_t signal_store_next_expiry(const struct signal_store *st)
{
	uint64_t next = 0;

	for (size_t i = 0; i < st->count; i++) {
		uint64_t e = st->items[i].expires_ns;

		if (e && (!next || e < next))
			next = e;
	}
	return next;
}

/* Does signal s apply to this workload, and how strongly (higher wins)? -1: not at all. */
static int applies(const struct signal *s, const char *workload, const char *principal)
{
	switch (s->scope) {
	case SIGNAL_HOST:
		return 0;
	case SIGNAL_PRINCIPAL:
		return principal && !strcmp(s->subject, principal) ? 1 : -1;
	case SIGNAL_WORKLOAD:
		return workload && !strcmp(s->subject, workload) ? 2 : -1;
	}
	return -1;
}

int signal_store_view(const struct signal_store *st, const char *workload, const char *principal,
		      uint64_t now_ns, struct signal_view *view)
{
	struct signal_value *values = calloc(st->count ? st->count : 1, sizeof(*values));
	int *rank = calloc(st->count ? st->count : 1, sizeof(*rank));
	size_t n = 0;

	*view = (struct signal_view){ 0 };
	if (!values || !rank) {
		free(values);
		free(rank);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->count; i++) {
		const struct signal *s = &st->items[i];
		int r = applies(s, workload, principal);
		size_t k;

		if (r < 0 || expired(s, now_ns))
			continue;
		for (k = 0; k < n && strcmp(values[k].name, s->name); k++)
			;
		if (k == n) {
			values[n] = (struct signal_value){ s->name, s->value };
			rank[n++] = r;
		} else if (r > rank[k]) {
			values[k].value = s->value;
			rank[k] = r;
		}
	}
	free(rank);
	view->values = values;
	view->count = n;
	return 0;
}

void signal_store_free(struct signal_store *st)
{
	for (size_t i = 0; i < st->count; i++)
		signal_free(&st->items[i]);
	free(st->items);
	*st = (struct signal_store){ 0 };
}
