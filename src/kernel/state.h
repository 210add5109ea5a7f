/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the daemon knows that the pinned maps do not: the workloads' names,
 * labels, principals and cgroups, the policy generation whose ids the maps
 * hold, the next workload id, and the drop counts it has reported. Kept in
 * STATE_DIR/state, replaced whole (written to a temporary file, synced,
 * renamed) on every change, so that a daemon killed at any moment leaves the
 * old file or the new one. A restarted daemon that adopts the pins reads it
 * back (docs/actgated.8, "Restart and adoption").
 *
 * The file is text, one item per line, fields separated by tabs:
 *   actgate-state 1
 *   generation G
 *   next-workload-id N
 *   dropped EXEC OPEN CONNECT TAMPER
 *   workload ID CGROUP-ID POLICY-ID NAME PRINCIPAL LABELS CGROUP-PATH POLICIES
 *   ...
 *   end
 */
#ifndef ACTGATE_STATE_H
#define ACTGATE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "identity/workload.h"
#include "util/paths.h"

#define STATE_FILE_NAME "state"
#define STATE_MAGIC "actgate-state 1"
/*
 * STATE_DIR/names: the rule names of the generation in force, so that the
 * records it decided and the next daemon journals name their rule:
 *   actgate-names 1
 *   generation G
 *   rules N                    (ids below N)
 *   ID POLICY RULE             (increasing ids)
 *   end
 */
#define STATE_NAMES_FILE_NAME "names"
#define STATE_NAMES_MAGIC "actgate-names 1"

struct daemon_state {
	uint32_t generation; /* the policy generation the workloads point at */
	uint64_t next_workload_id;
	uint64_t dropped[ACTGATE_NR_ACTIONS]; /* index: enum actgate_action; 0 unused */
	struct workload_table workloads;        /* owner_fd -1 after a load */
};

/*
 * Can the state be written in dir (created if missing)? Checked before the
 * daemon enforces anything: a daemon that could not hand over to the next
 * one must not start. 0 or -errno, why.
 */
int state_check_dir(const char *dir, char *why, size_t why_size);

/*
 * Write the state atomically into dir (created, mode 0700, if missing).
 * workloads is borrowed. 0 or -errno, with the reason in why.
 */
int state_save(const char *dir, uint32_t generation, uint64_t next_workload_id,
	       const uint64_t dropped[ACTGATE_NR_ACTIONS], const struct workload_table *workloads,
	       char *why, size_t why_size);

/*
 * Read and check dir's state file into st (which the caller frees with
 * state_free). -ENOENT when there is none; -EINVAL for a file that is not
 * exactly what state_save writes, with "PATH:LINE: what" in why; -errno
 * otherwise.
 */
int state_load(const char *dir, struct daemon_state *st, char *why, size_t why_size);

/* Parse a state file's text (the part of state_load that tests reach). */
int state_parse(const char *text, size_t len, const char *name, struct daemon_state *st,
		char *why, size_t why_size);

/* Remove dir's state file; 0 also when there was none. */
int state_remove(const char *dir);

void state_free(struct daemon_state *st);

struct policy_image;

/* One generation's rule names: policy[id] and rule[id], NULL when id has none. */
struct rule_names {
	uint32_t generation;
	size_t count; /* ids below count */
	char **policy;
	char **rule;
};

/* Write img's rule names (as state_save writes, atomically). 0 or -errno, why. */
int state_save_names(const char *dir, const struct policy_image *img, char *why, size_t why_size);
/* Read them back: 0, -ENOENT, or -EINVAL with "PATH:LINE: what" in why. */
int state_load_names(const char *dir, struct rule_names *out, char *why, size_t why_size);
int state_parse_names(const char *text, size_t len, const char *name, struct rule_names *out,
		      char *why, size_t why_size);
void rule_names_free(struct rule_names *n);

#endif /* ACTGATE_STATE_H */
