/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy tests: YAML files of kind PolicyTest that name policy files and
 * list actions with the verdict each should get (docs/policy-tests.md).
 * Parsing (policytest-parse.c) checks a test file the way parse.c checks a
 * policy, with every problem reported as file:line:col; running
 * (policytest.c) decides each case with the userspace evaluator
 * (evaluate.h), the kernel's precedence, and reports each case that did not
 * get what it expected, saying what decided instead.
 */
#ifndef ACTGATE_POLICYTEST_H
#define ACTGATE_POLICYTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/evaluate.h"
#include "policy/policy.h"
#include "util/diag.h"

#define POLICYTEST_API_VERSION POLICY_API_VERSION
#define POLICYTEST_KIND "PolicyTest"

/* One case: an action of a workload and the decision it should get. */
struct policytest_case {
	char *name;             /* spec.cases[i].name, or "case N" (N from 1 in its document) */
	struct source_pos pos;  /* where the case starts, for FAIL lines */
	char *workload;
	char **chain;           /* the workloads that commissioned it, outermost first */
	size_t chain_count;
	/* What the commission asked for (actgate run --policy, --allow), with chain only. */
	char **asked_policies;
	size_t asked_policy_count;
	struct delegate_rule *asked_allow; /* targets owned here */
	size_t asked_allow_count;
	char *cgroup;           /* relative to the cgroup2 root; NULL: not given */
	struct workload_label *labels; /* strings owned here */
	size_t label_count;
	struct signal_value *signals;  /* strings owned here */
	size_t signal_count;
	char *target;           /* as written, for messages */
	char *path;             /* exec and open: the target normalised as policies are */
	char *lookup_name;      /* resolve: the target; IP connect: target_name (NULL: not
				 * given); normalised as policies are (policy/names.h) */
	struct eval_action action; /* action.path points at path */
	uint8_t expect;         /* enum actgate_verdict */
	char *rule;             /* the deciding rule's name as the journal gives it; NULL: any */
	int mode;               /* enum actgate_mode of the deciding policy; -1: any */
};

/*
 * A connect rule's target as actgate run --allow takes it ("ADDR",
 * "ADDR:PORT", "[V6]:PORT", "V6"): the address as ::ffff:a.b.c.d for IPv4,
 * and the port (0: every port). 0, or -EINVAL with why.
 */
int policytest_asked_connect(const char *text, uint8_t addr[16], uint16_t *port, char *why,
			     size_t why_size);

/* One PolicyTest document: the policy set its cases are decided under. */
struct policytest_doc {
	char *name;             /* metadata.name */
	struct policy_set policies;
	struct policytest_case *cases;
	size_t case_count;
};

struct policytest_file {
	char *path;             /* as given: FAIL lines name it */
	struct policytest_doc *docs;
	size_t doc_count;
};

struct policytest_totals {
	size_t passed;
	size_t failed;
	size_t invalid_files;   /* files that could not be read or had errors: not run */
};

/*
 * Parse and check one test file and load the policies each of its documents
 * names (relative paths from the test file's directory; a directory means its
 * *.yaml and *.yml files, not *.test.yaml / *.test.yml). Errors and warnings,
 * the policies' own included, go to diags. Returns 0; -EINVAL when there was
 * any error (tf is then left empty); -ENOMEM. A file that cannot be read is
 * -EINVAL too, with the reason in diags.
 */
int policytest_parse_file(const char *path, struct policytest_file *tf, struct diag_list *diags);

/*
 * The same for text in memory: name is used in messages and FAIL lines,
 * base_dir resolves relative policy paths ("." when NULL).
 */
int policytest_parse_buffer(const char *name, const char *base_dir, const char *text, size_t len,
			    struct policytest_file *tf, struct diag_list *diags);

/*
 * Decide every case of tf. Prints "FAIL file:line: NAME: ..." for each case
 * that did not get what it expected (and "PASS ..." for the others when
 * verbose) to out, and adds to totals. Returns 0 (a failing case is not an
 * error of the run).
 */
int policytest_run(const struct policytest_file *tf, bool verbose, FILE *out,
		   struct policytest_totals *totals);

/* Is name a test file's name: *.test.yaml or *.test.yml, not hidden? */
bool policytest_is_test_name(const char *name);

/*
 * The test files of a directory, sorted by name (byte order), as
 * "dir/name". Returns 0 (possibly with *count 0) or -errno; *paths is to be
 * freed with each of its strings.
 */
int policytest_list_dir(const char *dir, char ***paths, size_t *count);

/*
 * What `actgate policy test PATH...` does: each path is a test file or a
 * directory of them; every file is parsed and run, diagnostics go to err,
 * FAIL/PASS lines and the closing "N passed, N failed" to out. Returns 0
 * when every file was valid (cases may still have failed: see totals),
 * -EINVAL when any path or file was not, -ENOMEM.
 */
int policytest_run_paths(char *const paths[], size_t count, bool verbose, FILE *out, FILE *err,
			 struct policytest_totals *totals);

void policytest_file_free(struct policytest_file *tf);

#endif /* ACTGATE_POLICYTEST_H */
