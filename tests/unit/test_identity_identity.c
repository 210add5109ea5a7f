/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Identity from cgroup paths (systemd units, containers, pods) and CI environments. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "identity/identity.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID_ "1234abcd-5678-90ef-1234-567890abcdef"

static const char *label(const struct cgroup_identity *c, const char *key)
{
	for (size_t i = 0; i < c->label_count; i++)
		if (!strcmp(c->labels[i].key, key))
			return c->labels[i].value;
	return NULL;
}

static void test_containers(void **state)
{
	static const struct {
		const char *path;
		const char *runtime;
		const char *pod;
	} good[] = {
		{ "/system.slice/docker-" ID ".scope", "docker", NULL },
		{ "/docker/" ID, "docker", NULL },
		{ "system.slice/crio-" ID ".scope", "crio", NULL },
		{ "/machine.slice/libpod-" ID ".scope", "podman", NULL },
		{ "/libpod_parent/libpod-" ID, "podman", NULL },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
		  "1234abcd_5678_90ef_1234_567890abcdef.slice/cri-containerd-" ID ".scope",
		  "containerd", UID_ },
		{ "/kubepods/burstable/pod" UID_ "/" ID, "containerd", UID_ },
		{ "/kubepods.slice/kubepods-pod1234abcd_5678_90ef_1234_567890abcdef.slice/crio-" ID
		  ".scope", "crio", UID_ },
	};
	struct cgroup_identity c;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(identity_parse_cgroup(good[i].path, &c), 0);
		assert_int_equal(c.kind, IDENTITY_CONTAINER);
		assert_string_equal(c.name, "container:" ID);
		assert_string_equal(label(&c, "runtime"), good[i].runtime);
		if (good[i].pod)
			assert_string_equal(label(&c, "pod-uid"), good[i].pod);
		else
			assert_null(label(&c, "pod-uid"));
	}
}

static void test_systemd_and_nothing(void **state)
{
	static const char *const nothing[] = {
		"/", "", "/user.slice",
		"/docker/" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"/kubepods/burstable/podnot-a-uid/xyz", "/actgate/ci_job-42",
	};
	struct cgroup_identity c;

	(void)state;
	assert_int_equal(identity_parse_cgroup("/system.slice/nginx.service", &c), 0);
	assert_int_equal(c.kind, IDENTITY_SYSTEMD);
	assert_string_equal(c.name, "systemd:nginx.service");
	assert_string_equal(label(&c, "unit"), "nginx.service");
	assert_int_equal(identity_parse_cgroup("user.slice/user-1000.slice/session-3.scope", &c), 0);
	assert_string_equal(c.name, "systemd:session-3.scope");
	/* Not a container id (too short, too long): a plain systemd scope. */
	assert_int_equal(identity_parse_cgroup("/system.slice/docker-0123.scope", &c), 0);
	assert_int_equal(c.kind, IDENTITY_SYSTEMD);
	assert_int_equal(identity_parse_cgroup("/system.slice/docker-" ID "0.scope", &c), 0);
	assert_int_equal(c.kind, IDENTITY_SYSTEMD);
	/* A unit name that is no workload name (a '\' escape) is not taken. */
	assert_int_equal(identity_parse_cgroup("/system.slice/a\\x2db.service", &c), 0);
	assert_int_equal(c.kind, IDENTITY_NONE);
	for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
		assert_int_equal(identity_parse_cgroup(nothing[i], &c), 0);
		assert_int_equal(c.kind, IDENTITY_NONE);
	}
}

static void test_bad_paths(void **state)
{
	static const char *const bad[] = { "/a//b", "/a/../b", "/./a", "/a/\n/b", "a/b/", NULL };
	struct cgroup_identity c;
	char deep[64 * 2 + 8] = "";

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		if (!strcmp(bad[i], "a/b/"))
			continue; /* a trailing '/' ends the last component: fine */
		assert_int_equal(identity_parse_cgroup(bad[i], &c), -EINVAL);
	}
	assert_int_equal(identity_parse_cgroup(NULL, &c), -EINVAL);
	for (int i = 0; i < 65; i++)
		strcat(deep, "/a");
	assert_int_equal(identity_parse_cgroup(deep, &c), -EINVAL);
}

struct env {
	const char *const *pairs; /* name, value, ..., NULL */
};

static const char *lookup(const char *name, void *ctx)
{
	const struct env *e = ctx;

	for (size_t i = 0; e->pairs[i]; i += 2)
		if (!strcmp(e->pairs[i], name))
			return e->pairs[i + 1];
	return NULL;
}

static void test_ci(void **state)
{
	static const char *const github[] = { "GITHUB_ACTIONS", "true", "GITHUB_REPOSITORY",
					      "acme/app", "GITHUB_RUN_ID", "991", "GITHUB_ACTOR",
					      "alice", NULL };
	static const char *const gitlab[] = { "GITLAB_CI", "true", "CI_PROJECT_PATH", "grp/proj",
					      "CI_PIPELINE_ID", "17", "CI_JOB_ID", "3",
					      "GITLAB_USER_LOGIN", "bob", NULL };
	static const char *const none[] = { "GITHUB_REPOSITORY", "acme/app", NULL };
	static const char *const bad[] = { "GITHUB_ACTIONS", "true", "GITHUB_REPOSITORY",
					   "a,b", NULL };
	static const char *const bad_actor[] = { "GITLAB_CI", "true", "GITLAB_USER_LOGIN",
						 "x\ty", NULL };
	struct env e = { github };
	struct ci_context c;
	char why[256];

	(void)state;
	assert_int_equal(identity_ci_context(lookup, &e, &c, why, sizeof(why)), 0);
	assert_string_equal(c.system, "github");
	assert_string_equal(c.repository, "acme/app");
	assert_string_equal(c.run_id, "991");
	assert_null(c.job);
	assert_string_equal(c.principal, "github:alice");
	e.pairs = gitlab;
	assert_int_equal(identity_ci_context(lookup, &e, &c, why, sizeof(why)), 0);
	assert_string_equal(c.system, "gitlab");
	assert_string_equal(c.repository, "grp/proj");
	assert_string_equal(c.job, "3");
	assert_string_equal(c.principal, "gitlab:bob");
	e.pairs = none; /* GITHUB_ACTIONS unset: not a GitHub job */
	assert_int_equal(identity_ci_context(lookup, &e, &c, why, sizeof(why)), 0);
	assert_null(c.system);
	assert_string_equal(c.principal, "");
	e.pairs = bad;
	assert_int_equal(identity_ci_context(lookup, &e, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "$GITHUB_REPOSITORY: "));
	e.pairs = bad_actor;
	assert_int_equal(identity_ci_context(lookup, &e, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "$GITLAB_USER_LOGIN: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_systemd_and_nothing),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_ci),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
