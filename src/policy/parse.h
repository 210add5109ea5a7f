/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading policy files: YAML documents into the model of policy.h, with
 * every error as file:line:col. The sections' grammar is in sections.c,
 * targets in target.c.
 */
#ifndef ACTGATE_POLICY_PARSE_H
#define ACTGATE_POLICY_PARSE_H

#include <stddef.h>

#include "policy/policy.h"
#include "util/diag.h"

/*
 * Parse every YAML document of one file into set (appending). Errors and
 * warnings go to diags as "file:line:col: ..."; returns 0 when the file had
 * no errors, -EINVAL when it had any (set is then left as it was: a file
 * contributes all of its policies or none), -errno when it cannot be read
 * (also reported in diags, without a position).
 */
int policy_parse_file(const char *path, struct policy_set *set, struct diag_list *diags);

/* The same for text held in memory; name is used in messages. */
int policy_parse_buffer(const char *name, const char *text, size_t len,
			struct policy_set *set, struct diag_list *diags);

/*
 * Checks across files: duplicate policy names. Returns -EINVAL after adding
 * errors to diags, 0 otherwise.
 */
int policy_set_validate(const struct policy_set *set, struct diag_list *diags);

/*
 * Load every *.yaml / *.yml file of a directory (sorted by name), then
 * validate the set. Same return convention as policy_parse_file, and
 * -ENOENT when the directory holds no policy file; on any error the set is
 * emptied.
 */
int policy_load_dir(const char *dir, struct policy_set *set, struct diag_list *diags);

/*
 * The same in two steps, for a daemon that compiles one directory's
 * policies again later without reading it again (the files may have been
 * edited since; only `actgate policy reload` takes edits): read the files'
 * bytes (sorted by name; -ENOENT when there is none, -errno when one cannot
 * be read, each reported in diags), then parse and validate them (same
 * convention as policy_load_dir). Names are the files' paths.
 */
struct policy_source {
	char *name;
	char *text;
	size_t len;
};

struct policy_sources {
	struct policy_source *items;
	size_t count;
};

int policy_sources_read_dir(const char *dir, struct policy_sources *src, struct diag_list *diags);
int policy_load_sources(const struct policy_sources *src, struct policy_set *set,
			struct diag_list *diags);
void policy_sources_free(struct policy_sources *src);

#endif /* ACTGATE_POLICY_PARSE_H */
