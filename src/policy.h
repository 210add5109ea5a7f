/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The policy model: what a policy YAML file says, after parsing and
 * validation, before compilation to map contents. Nothing here touches the
 * kernel or the file system beyond reading the policy file.
 */
#ifndef ACTGATE_POLICY_H
#define ACTGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define POLICY_API_VERSION "actgate.dev/v1"
#define POLICY_KIND "Policy"

/* A source position, 1-based, for error messages and for rule names. */
struct policy_pos {
	unsigned line;
	unsigned col;
};

/* An exec or open rule: an absolute path; a trailing '/' means the subtree. */
struct path_rule {
	char *path;    /* normalised: absolute, no "//", no "." or ".." parts;
			* a subtree rule keeps no trailing '/' (except "/") */
	bool subtree;  /* written with a trailing '/' */
	uint8_t verdict; /* enum actgate_verdict */
	unsigned index;  /* position in its allow: or deny: list, from 0 */
	struct policy_pos pos;
};

/* A connect rule: "ADDR[/LEN][:PORT]", IPv6 in brackets when a port follows. */
struct net_rule {
	char *text;      /* as written, for messages and rule names */
	uint8_t addr[16]; /* IPv4 stored IPv4-mapped: ::ffff:a.b.c.d */
	uint8_t prefix_len; /* in the 128-bit space: an IPv4 /8 is 96 + 8 = 104 */
	uint16_t port_lo;  /* 0 and 65535 when no port was written */
	uint16_t port_hi;
	uint8_t verdict;
	unsigned index;
	struct policy_pos pos;
};

struct path_rules {
	bool present;            /* the section was written */
	uint8_t default_verdict; /* ALLOW when the section or its default is absent */
	struct policy_pos default_pos;
	struct path_rule *rules;
	size_t count;
};

struct net_rules {
	bool present;
	uint8_t default_verdict;
	struct policy_pos default_pos;
	struct net_rule *rules;
	size_t count;
};

struct policy {
	char *name;   /* metadata.name: [a-z0-9]([a-z0-9-]*[a-z0-9])?, at most 63 */
	char *file;   /* the file it came from */
	struct policy_pos pos; /* where the document starts */
	char **workload_globs; /* spec.selector.workloads: fnmatch(3) globs */
	size_t workload_glob_count;
	uint8_t mode; /* enum actgate_mode */
	uint8_t record; /* enum actgate_record: which decisions reach the journal */
	struct path_rules exec;
	struct path_rules open;
	struct net_rules connect;
};

struct policy_set {
	struct policy *policies;
	size_t count;
};

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

/* Does the policy select this workload name? */
bool policy_selects(const struct policy *p, const char *workload);

/*
 * The policy governing a workload: exactly one policy must select it.
 * Returns 0 with *match set; -ENOENT when none selects it; -EEXIST when
 * several do (*match and, when other is not NULL, *other name two of them).
 */
int policy_set_select(const struct policy_set *set, const char *workload,
		      const struct policy **match, const struct policy **other);

/*
 * One exec/open path as a policy would hold it ("/usr/bin/", len bytes, may
 * contain NULs, which are rejected): fills rule->path (allocated, normalised)
 * and rule->subtree, nothing else. Returns 0, -EINVAL with a message in err
 * (without the path itself), or -ENOMEM. For targets given outside a policy
 * file, e.g. a grant on the command line.
 */
int policy_parse_path_target(const char *text, size_t len, struct path_rule *rule, char *err,
			     size_t err_size);

/*
 * One connect target as a policy would hold it ("10.0.0.0/8:443",
 * "[::1]:8080"): fills addr, prefix_len, port_lo and port_hi, nothing else.
 * Returns 0 or -EINVAL with a message in err.
 */
int policy_parse_net_target(const char *text, struct net_rule *rule, char *err, size_t err_size);

void policy_set_free(struct policy_set *set);

#endif /* ACTGATE_POLICY_H */
