/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Workloads known to the daemon: a name, labels and the commissioning
 * principal, bound to one cgroup and to the effective policy of the
 * policies that select it. Validation of the names a client sends lives
 * here too, so the CLI can check before it asks.
 */
#ifndef ACTGATE_WORKLOAD_H
#define ACTGATE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* A workload label, as `actgate run --label KEY=VALUE` gives it. */
struct workload_label {
	const char *key;
	const char *value;
};

/* What selectors match against. */
struct workload_identity {
	const char *name;
	const char *cgroup; /* relative to the cgroup2 root, no leading '/'; NULL: unknown */
	const struct workload_label *labels;
	size_t label_count;
};

#define WORKLOAD_NAME_MAX 128
#define LABEL_KEY_MAX 63
#define LABEL_VALUE_MAX 255
#define LABELS_MAX 32
#define PRINCIPAL_MAX 255

struct workload {
	uint64_t id;
	char *name;
	char *principal;   /* "" when none */
	char *labels;      /* canonical "k=v,k=v", sorted by key; "" when none */
	/* The same labels split, for selectors: keys and values point into label_text. */
	struct workload_label *label_list;
	size_t label_count;
	char *label_text;
	char *cgroup_path; /* relative to the cgroup2 root, with a leading '/' */
	uint64_t cgroup_id;
	uint32_t policy_id; /* its effective policy */
	char *policies;    /* the names of the policies composing it, joined by ',' */
	int owner_fd;      /* control connection of `actgate run`; -1 once it closed */
	bool discovered;   /* found under a watched root (discovery.h): its cgroup is not ours */
	/*
	 * A sub-workload (docs/delegation.md): the workload that commissioned
	 * it (0: none), the policies it was given with --policy besides its
	 * parent's (joined by ','; NULL: none), whether it may outlive its
	 * parent, and its chain of authority as records carry it (NULL: none).
	 */
	uint64_t parent_id;
	char *delegated_policies;
	bool outlive;
	char *chain;
};

struct workload_table {
	struct workload *items;
	size_t count;
	size_t cap;
};

/*
 * Validators: 0, or -EINVAL with the reason in why.
 * Names: 1-128 of [A-Za-z0-9._:@+/-], starting with a letter or digit.
 * Label keys: [A-Za-z0-9][A-Za-z0-9._/-]*, at most 63 (as policy selectors
 * name them); values: 0-255 printable bytes (no control characters; UTF-8
 * is fine) without ',' or '=', which separate labels in the journal.
 * Principals: 1-255 printable bytes.
 */
/* Is this a valid label key: [A-Za-z0-9]([A-Za-z0-9._/-]*), at most 63? */
bool workload_label_key_valid(const char *s, size_t len);

int workload_name_check(const char *name, char *why, size_t why_size);
int workload_label_check(const char *key, const char *value, char *why, size_t why_size);
int workload_principal_check(const char *principal, char *why, size_t why_size);

/*
 * Add "k=v" to a canonical label string (sorted, unique keys). Returns a new
 * string or NULL with errno set (EINVAL for a duplicate key).
 */
char *workload_labels_add(const char *labels, const char *key, const char *value);

/*
 * Split a canonical label string into *list (count pairs) whose keys and
 * values point into *text (both allocated; free them). 0 or -ENOMEM.
 */
int workload_labels_split(const char *labels, struct workload_label **list, size_t *count,
			  char **text);

/* The identity policy selectors match: name, cgroup path (no leading '/'), labels. */
struct workload_identity workload_identity_of(const struct workload *w);

/* Add a workload (the table takes the strings' ownership only on success). */
int workload_table_add(struct workload_table *t, const struct workload *w);
/* Free a workload's strings (one not in a table) and zero it. */
void workload_clear(struct workload *w);
struct workload *workload_table_find_id(struct workload_table *t, uint64_t id);
/* The workload whose cgroup is path or an ancestor of it (deepest), or NULL. */
struct workload *workload_table_find_cgroup(struct workload_table *t, const char *cgroup_path);
void workload_table_remove(struct workload_table *t, struct workload *w);
void workload_table_free(struct workload_table *t);

#endif /* ACTGATE_WORKLOAD_H */
