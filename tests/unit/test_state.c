/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's state file: what state_save writes state_load reads back
 * whole, and anything else is refused with the file, the line and the reason.
 */
#include <linux/types.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/state.h"
#include "policy/compile.h"

static void add_workload(struct workload_table *t, uint64_t id, uint64_t cgroup_id,
			 uint32_t policy_id, const char *name, const char *principal,
			 const char *labels, const char *cgroup, const char *policies)
{
	struct workload w = { .id = id, .cgroup_id = cgroup_id, .policy_id = policy_id,
			      .owner_fd = 3 };

	w.name = strdup(name);
	w.principal = strdup(principal);
	w.labels = strdup(labels);
	w.cgroup_path = strdup(cgroup);
	w.policies = strdup(policies);
	assert_int_equal(workload_labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text), 0);
	assert_int_equal(workload_table_add(t, &w), 0);
}

static void test_round_trip(void **unused)
{
	char dir[] = "/tmp/actgate-state-XXXXXX", why[1024] = "", path[PATH_MAX];
	uint64_t dropped[ACTGATE_NR_ACTIONS] = { 0, 1, 22, 333, 0 };
	struct workload_table t = { 0 };
	struct daemon_state st;
	struct stat sb;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	add_workload(&t, 70, 9001, policy_id_of(3, 0), "ci:build-1", "alice@example.com",
		     "team=infra,tier=1", "/actgate/ci_build-1-70", "ci-runner");
	add_workload(&t, 71, 9002, policy_id_of(3, 1), "agent:x", "", "", "/actgate/agent_x-71",
		     "agents,common");
	assert_int_equal(state_save(dir, 3, 72, dropped, &t, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/" STATE_FILE_NAME ".tmp", dir);
	assert_int_equal(stat(path, &sb), -1); /* renamed into place */

	assert_int_equal(state_load(dir, &st, why, sizeof(why)), 0);
	assert_int_equal(st.generation, 3);
	assert_int_equal(st.next_workload_id, 72);
	assert_memory_equal(st.dropped, dropped, sizeof(dropped));
	assert_int_equal(st.workloads.count, 2);
	assert_int_equal(st.workloads.items[0].id, 70);
	assert_int_equal(st.workloads.items[0].cgroup_id, 9001);
	assert_int_equal(st.workloads.items[0].policy_id, policy_id_of(3, 0));
	assert_string_equal(st.workloads.items[0].name, "ci:build-1");
	assert_string_equal(st.workloads.items[0].principal, "alice@example.com");
	assert_string_equal(st.workloads.items[0].labels, "team=infra,tier=1");
	assert_int_equal(st.workloads.items[0].label_count, 2);
	assert_string_equal(st.workloads.items[0].cgroup_path, "/actgate/ci_build-1-70");
	assert_string_equal(st.workloads.items[1].policies, "agents,common");
	assert_string_equal(st.workloads.items[1].principal, "");
	/* No control connection survives a restart: swept once their cgroups empty. */
	assert_int_equal(st.workloads.items[0].owner_fd, -1);
	state_free(&st);

	assert_int_equal(state_remove(dir), 0);
	assert_int_equal(state_load(dir, &st, why, sizeof(why)), -ENOENT);
	assert_int_equal(state_remove(dir), 0);
	workload_table_free(&t);
	rmdir(dir);
}

/* parse TEXT: expect err, and why to contain WHAT */
static void expect_refused(const char *text, const char *what)
{
	struct daemon_state st;
	char why[1024] = "";
	int err = state_parse(text, strlen(text), "S", &st, why, sizeof(why));

	if (err != -EINVAL)
		fail_msg("accepted (%d): %s", err, text);
	if (!strstr(why, what))
		fail_msg("\"%s\" does not say \"%s\" for: %s", why, what, text);
	assert_int_equal(st.workloads.count, 0);
}

#define HEAD "actgate-state 1\ngeneration\t3\nnext-workload-id\t100\ndropped\t0\t0\t0\t0\n"
#define W(rest) "workload\t" rest "\n"

static void test_refusals(void **unused)
{
	struct daemon_state st;
	char why[256], good[512];

	(void)unused;
	snprintf(good, sizeof(good), HEAD W("7\t8\t%u\tci:a\t\tk=v\t/actgate/a\tp") "end\n",
		 policy_id_of(3, 0));
	assert_int_equal(state_parse(good, strlen(good), "S", &st, why, sizeof(why)), 0);
	assert_int_equal(st.workloads.count, 1);
	state_free(&st);

	expect_refused("", "S:1: the last line is not complete");
	expect_refused("actgate-state 2\n", "S:1: not an actgate state file");
	expect_refused(HEAD, "S:5: the file ends before \"end\"");
	expect_refused(HEAD "end", "S:1: the last line is not complete");
	expect_refused(HEAD "end\nmore\n", "S:6: text after \"end\"");
	expect_refused(HEAD "\nend\n", "S:5: an empty line");
	expect_refused("actgate-state 1\ngeneration\t0\n", "S:2: expected \"generation\"");
	expect_refused("actgate-state 1\ngeneration\t65536\n", "S:2:");
	expect_refused("actgate-state 1\ngeneration\t3\nnext-workload-id\t-1\n", "S:3:");
	expect_refused("actgate-state 1\ngeneration\t3\nnext-workload-id\t9\ndropped\t1\n",
		       "S:4: expected \"dropped\" and 4 counts");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\t\t/actgate/a") "end\n",
		       "S:5: expected \"workload\" and 8 tab-separated fields");
	/* 131073 is policy 1 of generation 2: the state says generation 3. */
	expect_refused(HEAD W("7\t8\t131073\tci:a\t\t\t/actgate/a\tp") "end\n",
		       "S:5: policy id 131073 is of generation 2, not 3");
	expect_refused(HEAD W("7\t8\t196608\tci:a\t\t\t/actgate/a\tp") "end\n",
		       "is not a policy id");
	expect_refused(HEAD W("0\t8\t196609\tci:a\t\t\t/actgate/a\tp") "end\n",
		       "workload id \"0\"");
	expect_refused(HEAD W("07\t8\t196609\tci:a\t\t\t/actgate/a\tp") "end\n", "workload id");
	expect_refused(HEAD W("100\t8\t196609\tci:a\t\t\t/actgate/a\tp") "end\n",
		       "not below next-workload-id");
	expect_refused(HEAD W("7\t8\t196609\t:bad\t\t\t/actgate/a\tp") "end\n",
		       "workload name \":bad\"");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\tb=1,a=2\t/actgate/a\tp") "end\n",
		       "not in canonical form");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\t\tactgate/a\tp") "end\n",
		       "not an absolute cgroup path");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\t\t/actgate/../x\tp") "end\n",
		       "not an absolute cgroup path");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\t\t/actgate/a\t") "end\n",
		       "policies are missing");
	expect_refused(HEAD W("7\t8\t196609\tci:a\t\t\t/actgate/a\tp")
			       W("7\t9\t196609\tci:b\t\t\t/actgate/b\tp") "end\n",
		       "S:6: workload 7 (cgroup 9) is there twice");
}

static void expect_names_refused(const char *text, const char *what)
{
	struct rule_names n;
	char why[512] = "";

	if (state_parse_names(text, strlen(text), "N", &n, why, sizeof(why)) != -EINVAL)
		fail_msg("accepted: %s", text);
	if (!strstr(why, what))
		fail_msg("\"%s\" does not say \"%s\" for: %s", why, what, text);
}

static void test_names(void **unused)
{
	const char *good = "actgate-names 1\ngeneration\t4\nrules\t5\n"
			   "1\tci\tci:exec.default\n3\tci\tci:open.deny[0]\nend\n";
	struct rule_names n;
	char why[256];

	(void)unused;
	assert_int_equal(state_parse_names(good, strlen(good), "N", &n, why, sizeof(why)), 0);
	assert_int_equal(n.generation, 4);
	assert_int_equal(n.count, 5);
	assert_string_equal(n.rule[3], "ci:open.deny[0]");
	assert_string_equal(n.policy[1], "ci");
	assert_null(n.rule[2]);
	rule_names_free(&n);

	expect_names_refused("actgate-names 2\n", "N:1: not an actgate names file");
	expect_names_refused("actgate-names 1\ngeneration\t4\nrules\t5\n3\tci\tx\n1\tci\ty\nend\n",
			     "N:5: expected an increasing rule id");
	expect_names_refused("actgate-names 1\ngeneration\t4\nrules\t5\n5\tci\tx\nend\n",
			     "N:4:");
	expect_names_refused("actgate-names 1\ngeneration\t4\nrules\t5\n", "ends before");
	expect_names_refused("actgate-names 1\ngeneration\t4\nrules\t5\nend", "not a complete");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
