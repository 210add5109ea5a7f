/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Workload names and labels as `actgate run` gives them, and what selectors see of them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity/workload.h"

static void expect_label(const char *key, const char *value, int err, const char *why_has)
{
	char why[256] = "";

	if (workload_label_check(key, value, why, sizeof(why)) != err)
		fail_msg("label %s=%s: expected %d (%s)", key, value, err, why);
	if (why_has && !strstr(why, why_has))
		fail_msg("label %s=%s: \"%s\" does not say \"%s\"", key, value, why, why_has);
}

static void test_label_keys(void **state)
{
	char long_key[LABEL_KEY_MAX + 2];

	(void)state;
	expect_label("team", "build", 0, NULL);
	expect_label("app.kubernetes.io/name", "x", 0, NULL);
	expect_label("9lives", "", 0, NULL);
	expect_label("A-b_c", "v", 0, NULL);
	/* As selectors name them: from a letter or digit. */
	expect_label(".hidden", "v", -EINVAL, "starting with a letter or digit");
	expect_label("-x", "v", -EINVAL, "label key \"-x\"");
	expect_label("/x", "v", -EINVAL, NULL);
	expect_label("", "v", -EINVAL, NULL);
	expect_label("a b", "v", -EINVAL, NULL);
	expect_label("a=b", "v", -EINVAL, NULL);
	memset(long_key, 'k', LABEL_KEY_MAX);
	long_key[LABEL_KEY_MAX] = '\0';
	expect_label(long_key, "v", 0, NULL);
	long_key[LABEL_KEY_MAX] = 'k';
	long_key[LABEL_KEY_MAX + 1] = '\0';
	expect_label(long_key, "v", -EINVAL, "1 to 63");
	/* The key check alone, as the policy parser uses it on selectors. */
	assert_true(workload_label_key_valid("ci.repo/name-1_x", 16));
	assert_false(workload_label_key_valid("", 0));
	assert_false(workload_label_key_valid("a b", 3));
}

static void test_label_values(void **state)
{
	char value[LABEL_VALUE_MAX + 2];

	(void)state;
	expect_label("repo", "org/actgate", 0, NULL);
	expect_label("who", "caf\xc3\xa9 au lait", 0, NULL);
	memset(value, 'v', LABEL_VALUE_MAX);
	value[LABEL_VALUE_MAX] = '\0';
	expect_label("k", value, 0, NULL);
	value[LABEL_VALUE_MAX] = 'v';
	value[LABEL_VALUE_MAX + 1] = '\0';
	expect_label("k", value, -EINVAL, "longer than 255");
	/* ',' and '=' separate labels in the journal; control bytes break lines. */
	expect_label("k", "a,b", -EINVAL, "','");
	expect_label("k", "a=b", -EINVAL, NULL);
	expect_label("k", "a\tb", -EINVAL, "control");
	expect_label("k", "a\nb", -EINVAL, NULL);
	expect_label("k", "a\x7f", -EINVAL, NULL);
}

static void test_labels_canonical_and_split(void **state)
{
	struct workload_label *list = NULL;
	char *a, *b, *c, *text = NULL;
	size_t count = 99;

	(void)state;
	a = workload_labels_add("", "team", "build");
	assert_non_null(a);
	b = workload_labels_add(a, "repo", "org/x");
	assert_non_null(b);
	c = workload_labels_add(b, "z", "");
	assert_non_null(c);
	assert_string_equal(c, "repo=org/x,team=build,z=");
	errno = 0;
	assert_null(workload_labels_add(c, "team", "web"));
	assert_int_equal(errno, EINVAL);

	assert_int_equal(workload_labels_split(c, &list, &count, &text), 0);
	assert_int_equal(count, 3);
	assert_string_equal(list[0].key, "repo");
	assert_string_equal(list[0].value, "org/x");
	assert_string_equal(list[1].key, "team");
	assert_string_equal(list[1].value, "build");
	assert_string_equal(list[2].key, "z");
	assert_string_equal(list[2].value, "");
	free(list);
	free(text);

	assert_int_equal(workload_labels_split("", &list, &count, &text), 0);
	assert_int_equal(count, 0);
	free(list);
	free(text);
	free(a);
	free(b);
	free(c);
}

static void test_identity(void **state)
{
	struct workload w = { .name = (char *)"ci:job", .cgroup_path = (char *)"/actgate/ci_job-7" };
	struct workload_label labels[] = { { "team", "build" } };
	struct workload_identity id;

	(void)state;
	w.label_list = labels;
	w.label_count = 1;
	id = workload_identity_of(&w);
	assert_string_equal(id.name, "ci:job");
	/* Selectors take cgroup paths without the leading '/'. */
	assert_string_equal(id.cgroup, "actgate/ci_job-7");
	assert_ptr_equal(id.labels, labels);
	assert_int_equal(id.label_count, 1);
}

static void test_names(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(workload_name_check("ci:job-1", why, sizeof(why)), 0);
	assert_int_equal(workload_name_check("a@b+c/d.e_f", why, sizeof(why)), 0);
	assert_int_equal(workload_name_check(":x", why, sizeof(why)), -EINVAL);
	assert_int_equal(workload_name_check("a b", why, sizeof(why)), -EINVAL);
	assert_int_equal(workload_name_check("", why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_keys),
		cmocka_unit_test(test_label_values),
		cmocka_unit_test(test_labels_canonical_and_split),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("workload", tests, NULL, NULL);
}
