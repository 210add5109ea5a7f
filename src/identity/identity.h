/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Identity sources besides `actgate run --workload`: what a cgroup path
 * says about who runs in it (systemd units, containers of docker,
 * containerd/CRI, CRI-O, podman, Kubernetes pods), and what a CI system's
 * environment says about the job (GitHub Actions, GitLab CI).
 */
#ifndef ACTGATE_IDENTITY_H
#define ACTGATE_IDENTITY_H

#include <stddef.h>

#include "identity/workload.h"

enum identity_kind {
	IDENTITY_NONE = 0,      /* nothing recognised */
	IDENTITY_SYSTEMD = 1,   /* "systemd:foo.service" */
	IDENTITY_CONTAINER = 2, /* "container:<64 hex>" */
};

#define IDENTITY_LABELS_MAX 3

struct cgroup_identity {
	enum identity_kind kind;
	char name[WORKLOAD_NAME_MAX + 1];
	/* Labels: runtime=docker|containerd|crio|podman, pod-uid=UUID, unit=... */
	struct {
		char key[LABEL_KEY_MAX + 1];
		char value[LABEL_VALUE_MAX + 1];
	} labels[IDENTITY_LABELS_MAX];
	size_t label_count;
};

/*
 * What the cgroup path (relative to the cgroup2 root, with or without a
 * leading '/') names, from its last component (and, for a container, the
 * pod among its ancestors):
 *   .../docker-ID.scope, .../docker/ID             container:ID, runtime=docker
 *   .../cri-containerd-ID.scope, .../kubepods/.../ID container:ID, runtime=containerd
 *   .../crio-ID.scope                               container:ID, runtime=crio
 *   .../libpod-ID.scope, .../libpod-ID              container:ID, runtime=podman
 *   a kubepods...-podUID.slice or kubepods/.../podUID ancestor: pod-uid=UID
 *   .../foo.service, .../foo.scope                  systemd:foo.service
 * ID is 64 lowercase hex digits; a Kubernetes pod UID is a UUID (in systemd
 * slice names with '_' for '-'). Returns 0 with out filled (kind NONE when
 * nothing is recognised), -EINVAL for a path that is not a cgroup path
 * (empty components, "." or "..", control characters) or too long.
 */
int identity_parse_cgroup(const char *path, struct cgroup_identity *out);

/* The CI job an environment describes (getenv-like lookups). */
struct ci_context {
	const char *system;     /* "github", "gitlab"; NULL when none */
	const char *repository; /* GITHUB_REPOSITORY, CI_PROJECT_PATH */
	const char *run_id;     /* GITHUB_RUN_ID, CI_PIPELINE_ID */
	const char *job;        /* GITHUB_JOB, CI_JOB_ID */
	const char *actor;      /* GITHUB_ACTOR, GITLAB_USER_LOGIN */
	char principal[PRINCIPAL_MAX + 1]; /* "github:ACTOR", "gitlab:LOGIN"; "" when none */
};

typedef const char *(*env_lookup_fn)(const char *name, void *ctx);

/*
 * Read the CI context: GitHub Actions when GITHUB_ACTIONS=true, else GitLab
 * when GITLAB_CI=true; nothing otherwise. Values are checked as label
 * values (and the actor as a principal): -EINVAL with why naming the
 * variable when one is not usable, so that a job is never labelled wrong.
 */
int identity_ci_context(env_lookup_fn lookup, void *ctx, struct ci_context *out, char *why,
			size_t why_size);

#endif /* ACTGATE_IDENTITY_H */
