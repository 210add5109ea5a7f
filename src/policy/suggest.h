/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A least-privilege policy suggested from recorded decisions (`actgate
 * policy suggest`, docs/policy-suggest.md): decisions are collected as
 * observations (what was executed, opened with which accesses, connected
 * to), then turned into allow rules, collapsed to directories as far as the
 * level says and never above a floor, keeping the current policy's deny
 * rules under every directory it allows; then written as the repository's
 * policy YAML, each rule commented with what it covers. No file is read or
 * written here: the verb (cli/suggest.c) feeds records and prints.
 */
#ifndef ACTGATE_POLICY_SUGGEST_H
#define ACTGATE_POLICY_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal/decision.h"
#include "policy/policy.h"

enum suggest_level {
	SUGGEST_EXACT = 0,    /* every file by itself; directories only where files are created */
	SUGGEST_BALANCED = 1, /* the job's workspaces, package trees, directories of many files */
	SUGGEST_COARSE = 2,   /* one directory below the nearest floor */
};

/* "exact", "balanced", "coarse" <-> the level: 0 or -EINVAL. */
int suggest_level_from_name(const char *name, enum suggest_level *level);
const char *suggest_level_name(enum suggest_level level);

/*
 * The floors every suggestion keeps: directories that are never allowed
 * whole (fnmatch(3) with FNM_PATHNAME, on the path without a trailing '/'):
 * the root, /etc, home directories, and the trees whose every child is a
 * different concern (/usr, /var, /dev, /sys, /run).
 */
extern const char *const suggest_default_floors[];
extern const size_t suggest_default_floor_count;

#define SUGGEST_MIN_FILES 3

struct suggest_options {
	enum suggest_level level;
	const char *const *floors; /* more floors (globs as above) besides the defaults */
	size_t floor_count;
	unsigned min_files;        /* balanced: files of one directory that make it a rule; 0: 3 */
	/*
	 * The policies in force now (NULL: none): a directory their deny
	 * rules cover is never allowed whole, and their deny rules under a
	 * directory the suggestion allows are kept as deny rules.
	 */
	const struct policy_set *current;
};

struct suggest;

int suggest_new(struct suggest **out);
void suggest_free(struct suggest *s);

/*
 * Take one recorded decision. Only what happened is taken: an allow, or a
 * deny in audit mode (what enforcement would have stopped); an enforced
 * deny did not happen and stays denied. Returns 1 when taken, 0 when not
 * (not an exec, open or connect; an enforced deny; a decision made outside
 * the policy language; no path), -ENOMEM.
 */
int suggest_add(struct suggest *s, const struct journal_record *rec);
/* Would suggest_add take rec? */
bool suggest_takes(const struct journal_record *rec);

/* How many decisions were taken. */
size_t suggest_taken(const struct suggest *s);

struct suggest_rule {
	uint8_t action;   /* ACTGATE_ACTION_EXEC, _OPEN or _CONNECT */
	bool deny;        /* a deny rule kept from the current policy */
	char *path;       /* exec, open, unix connect: normalised, no trailing '/' (but "/") */
	bool subtree;
	uint8_t access;   /* open: enum actgate_access bits */
	char *to;         /* IP connect: "ADDR:PORT", "ADDR", "[V6]:PORT" */
	bool unix_socket; /* connect: path is a unix socket */
	uint8_t protocol; /* IP connect: IPPROTO_TCP, IPPROTO_UDP, 0 for any */
	uint64_t count;   /* decisions it covers */
	char *example;    /* one recorded target it covers (for a kept deny: its rule) */
	uint8_t example_access; /* open: the accesses the example asked for */
	const char *why;  /* static text: why this rule and not a narrower one */
};

struct suggest_result {
	struct suggest_rule *rules; /* sorted: action, deny after allow, path or address */
	size_t count;
	uint8_t sockets;            /* connect.sockets: 1 << enum actgate_socket_kind */
	uint64_t socket_count;
	/* What could not be allowed without breaking a floor, one line each. */
	char **problems;
	size_t problem_count;
	/* The distinct workload names seen, sorted, and the labels ("k=v,k=v") of each. */
	char **workloads;
	char **workload_labels;
	size_t workload_count;
	uint64_t taken;
	uint64_t first_ns, last_ns;
};

/*
 * The rules for what s holds, under o. Deterministic: the same
 * observations, in any order, give the same rules. 0 or -ENOMEM.
 */
int suggest_build(const struct suggest *s, const struct suggest_options *o,
		  struct suggest_result *r);
void suggest_result_free(struct suggest_result *r);

/* The policy's header: its name, selector and what it was made from. */
struct suggest_meta {
	const char *name;             /* metadata.name */
	const char *const *workload_globs; /* spec.selector.workloads */
	size_t workload_glob_count;
	const char *const *labels;    /* spec.selector.labels as "K=GLOB" */
	size_t label_count;
	const char *source;           /* a line saying what it was made from */
	enum suggest_level level;
};

/*
 * The policy as YAML (kind Policy, mode enforce, every section default
 * deny), each rule with a comment: the decisions it covers and an
 * example. 0, or -EIO when out fails.
 */
int suggest_write_policy(FILE *out, const struct suggest_result *r, const struct suggest_meta *m);

/* A YAML double-quoted scalar for any text (escapes '"', '\\' and controls). */
void suggest_write_quoted(FILE *out, const char *text);

#endif /* ACTGATE_POLICY_SUGGEST_H */
