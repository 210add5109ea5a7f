/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/cgroup.h"
#include "identity/workload.h"

static int all_chars_in(const char *s, const char *extra)
{
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	}
	return 1;
}

int workload_name_check(const char *name, char *why, size_t why_size)
{
	size_t len = strlen(name);

	if (len == 0 || len > WORKLOAD_NAME_MAX) {
		snprintf(why, why_size, "a workload name has 1 to %d characters", WORKLOAD_NAME_MAX);
		return -EINVAL;
	}
	if (!isalnum((unsigned char)name[0]) || !all_chars_in(name, "._:@+/-")) {
		snprintf(why, why_size,
			 "workload name \"%s\": use letters, digits and ._:@+/- and start with a "
			 "letter or digit",
			 name);
		return -EINVAL;
	}
	return 0;
}

bool workload_label_key_valid(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '/' ||
		      s[i] == '-'))
			return false;
	return true;
}

int workload_label_check(const char *key, const char *value, char *why, size_t why_size)
{
	size_t klen = strlen(key), vlen = strlen(value);

	if (!workload_label_key_valid(key, klen)) {
		snprintf(why, why_size,
			 "label key \"%.64s%s\": 1 to %d of letters, digits and ._/-, starting with a "
			 "letter or digit",
			 key, klen > 64 ? "..." : "", LABEL_KEY_MAX);
		return -EINVAL;
	}
	if (vlen > LABEL_VALUE_MAX) {
		snprintf(why, why_size, "label %s: the value is longer than %d bytes", key,
			 LABEL_VALUE_MAX);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++) {
		/* ',' and '=' separate labels in the journal; control bytes break lines. */
		if (*p == ',' || *p == '=' || iscntrl((unsigned char)*p)) {
			snprintf(why, why_size,
				 "label %s: the value may not contain ',', '=' or control characters",
				 key);
			return -EINVAL;
		}
	}
	return 0;
}

int workload_principal_check(const char *principal, char *why, size_t why_size)
{
	size_t len = strlen(principal);

	if (len == 0 || len > PRINCIPAL_MAX) {
		snprintf(why, why_size, "a principal has 1 to %d bytes", PRINCIPAL_MAX);
		return -EINVAL;
	}
	for (const char *p = principal; *p; p++) {
		if (iscntrl((unsigned char)*p)) {
			snprintf(why, why_size, "a principal may not contain control characters");
			return -EINVAL;
		}
	}
	return 0;
}

char *workload_labels_add(const char *labels, const char *key, const char *value)
{
	size_t klen = strlen(key), total = strlen(labels) + klen + strlen(value) + 3;
	const char *p = labels, *insert_at = NULL;
	char *out;

	/* Find where key sorts, refusing a key that is already there. */
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t plen = strcspn(p, "=");
		int cmp;

		cmp = strncmp(p, key, plen < klen ? plen : klen);
		if (cmp == 0 && plen == klen) {
			errno = EINVAL;
			return NULL;
		}
		if (cmp > 0 || (cmp == 0 && plen > klen)) {
			insert_at = p;
			break;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	out = malloc(total);
	if (!out)
		return NULL;
	if (!insert_at) {
		snprintf(out, total, "%s%s%s=%s", labels, labels[0] ? "," : "", key, value);
	} else {
		size_t before = (size_t)(insert_at - labels);

		snprintf(out, total, "%.*s%s=%s,%s", (int)before, labels, key, value, insert_at);
	}
	return out;
}

int workload_labels_split(const char *labels, struct workload_label **list, size_t *count,
			  char **text)
{
	size_t n = 0, cap = 1;
	char *p, *pair;

	*list = NULL;
	*count = 0;
	*text = strdup(labels);
	for (const char *c = labels; *c; c++)
		cap += *c == ',';
	*list = calloc(cap, sizeof(**list));
	if (!*text || !*list) {
		free(*text);
		free(*list);
		*text = NULL;
		*list = NULL;
		return -ENOMEM;
	}
	for (p = *text; p && *p;) {
		char *eq;

		pair = strsep(&p, ",");
		eq = strchr(pair, '=');
		if (eq)
			*eq++ = '\0';
		if (!*pair)
			continue;
		(*list)[n++] = (struct workload_label){ .key = pair, .value = eq ? eq : "" };
	}
	*count = n;
	return 0;
}

struct workload_identity workload_identity_of(const struct workload *w)
{
	/* Selectors take cgroup paths relative to the root, without the leading '/'. */
	const char *cgroup = w->cgroup_path;

	while (cgroup && *cgroup == '/')
		cgroup++;
	return (struct workload_identity){ .name = w->name, .cgroup = cgroup,
					   .labels = w->label_list, .label_count = w->label_count };
}

int workload_table_add(struct workload_table *t, const struct workload *w)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct workload *items = realloc(t->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		t->items = items;
		t->cap = cap;
	}
	t->items[t->count++] = *w;
	return 0;
}

struct workload *workload_table_find_id(struct workload_table *t, uint64_t id)
{
	for (size_t i = 0; i < t->count; i++) {
		if (t->items[i].id == id)
			return &t->items[i];
	}
	return NULL;
}

struct workload *workload_table_find_cgroup(struct workload_table *t, const char *cgroup_path)
{
	struct workload *best = NULL;

	for (size_t i = 0; i < t->count; i++) {
		struct workload *w = &t->items[i];

		if (cgroup_path_within(cgroup_path, w->cgroup_path) &&
		    (!best || strlen(w->cgroup_path) > strlen(best->cgroup_path)))
			best = w;
	}
	return best;
}

void workload_clear(struct workload *w)
{
	free(w->name);
	free(w->principal);
	free(w->labels);
	free(w->label_list);
	free(w->label_text);
	free(w->cgroup_path);
	free(w->policies);
	free(w->delegated_policies);
	free(w->chain);
	memset(w, 0, sizeof(*w));
	w->owner_fd = -1;
}

void workload_table_remove(struct workload_table *t, struct workload *w)
{
	size_t i = (size_t)(w - t->items);

	workload_clear(w);
	memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof(*w));
	t->count--;
}

void workload_table_free(struct workload_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		workload_clear(&t->items[i]);
	free(t->items);
	memset(t, 0, sizeof(*t));
}
