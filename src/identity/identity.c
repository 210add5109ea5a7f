/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"
#include "util/yamltree.h"

#define CONTAINER_ID_LEN 64
#define UUID_LEN 36
/* Components of a cgroup path: the kernel examines ACTGATE_MAX_CGROUP_DEPTH levels. */
#define IDENTITY_MAX_DEPTH 64

static bool is_hex_id(const char *s, size_t len)
{
	if (len != CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A UUID, with '-' or (systemd slice names) '_' between its groups; canonical into out. */
static bool is_uuid(const char *s, size_t len, char out[UUID_LEN + 1])
{
	if (len != UUID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? (c != '-' && c != '_')
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = dash ? '-' : c;
	}
	out[len] = '\0';
	return true;
}

static void add_label(struct cgroup_identity *out, const char *key, const char *value)
{
	if (out->label_count == IDENTITY_LABELS_MAX)
		return;
	snprintf(out->labels[out->label_count].key, sizeof(out->labels[0].key), "%s", key);
	snprintf(out->labels[out->label_count].value, sizeof(out->labels[0].value), "%s", value);
	out->label_count++;
}

static bool has_prefix_suffix(const char *s, size_t len, const char *prefix, const char *suffix,
			      const char **mid, size_t *mid_len)
{
	size_t p = strlen(prefix), q = strlen(suffix);

	if (len < p + q || strncmp(s, prefix, p) || strncmp(s + len - q, suffix, q))
		return false;
	*mid = s + p;
	*mid_len = len - p - q;
	return true;
}

/* A pod UID in one component: kubepods[-QOS]-pod<UID>.slice or pod<UID>. */
static bool pod_uid(const char *s, size_t len, char uid[UUID_LEN + 1])
{
	const char *p = NULL;
	size_t n = 0;

	if (len > 6 && !strncmp(s + len - 6, ".slice", 6) && !strncmp(s, "kubepods", 8)) {
		for (size_t i = 0; i + 3 < len; i++) {
			if (!strncmp(s + i, "-pod", 4)) {
				p = s + i + 4;
				n = len - 6 - (i + 4);
			}
		}
	} else if (len > 3 && !strncmp(s, "pod", 3)) {
		p = s + 3;
		n = len - 3;
	}
	return p && is_uuid(p, n, uid);
}

/* The container in the last component (parent: the one before, or NULL). */
static const char *container_runtime(const char *leaf, size_t len, const char *parent,
				     size_t parent_len, bool under_kubepods, const char **id)
{
	static const struct {
		const char *prefix;
		const char *runtime;
	} scopes[] = { { "docker-", "docker" },
		       { "cri-containerd-", "containerd" },
		       { "crio-", "crio" },
		       { "libpod-", "podman" } };
	const char *mid;
	size_t mid_len;

	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		if ((has_prefix_suffix(leaf, len, scopes[i].prefix, ".scope", &mid, &mid_len) ||
		     has_prefix_suffix(leaf, len, scopes[i].prefix, "", &mid, &mid_len)) &&
		    is_hex_id(mid, mid_len)) {
			*id = mid;
			return scopes[i].runtime;
		}
	}
	if (is_hex_id(leaf, len)) {
		*id = leaf;
		if (parent && parent_len == 6 && !strncmp(parent, "docker", 6))
			return "docker";
		if (under_kubepods)
			return "containerd"; /* cgroupfs driver: the runtime is not in the path */
	}
	return NULL;
}

int identity_parse_cgroup(const char *path, struct cgroup_identity *out)
{
	const char *comp[IDENTITY_MAX_DEPTH];
	size_t comp_len[IDENTITY_MAX_DEPTH], n = 0, len;
	char uid[UUID_LEN + 1] = "", ctl[8];
	bool kubepods = false;
	const char *p, *id = NULL, *runtime;
	size_t at;

	memset(out, 0, sizeof(*out));
	if (!path)
		return -EINVAL;
	len = strlen(path);
	if (len > 4096 || ytree_find_control(path, len, ctl, &at))
		return -EINVAL;
	p = path[0] == '/' ? path + 1 : path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);

		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (n == IDENTITY_MAX_DEPTH)
			return -EINVAL;
		comp[n] = p;
		comp_len[n++] = l;
		if (l >= 8 && !strncmp(p, "kubepods", 8))
			kubepods = true;
		if (pod_uid(p, l, uid))
			kubepods = true;
		p += l;
		if (*p == '/')
			p++;
	}
	if (n == 0)
		return 0; /* the root cgroup */
	runtime = container_runtime(comp[n - 1], comp_len[n - 1], n > 1 ? comp[n - 2] : NULL,
				    n > 1 ? comp_len[n - 2] : 0, kubepods, &id);
	if (runtime) {
		out->kind = IDENTITY_CONTAINER;
		snprintf(out->name, sizeof(out->name), "container:%.64s", id);
		add_label(out, "runtime", runtime);
		if (uid[0])
			add_label(out, "pod-uid", uid);
		return 0;
	}
	{
		const char *leaf = comp[n - 1];
		size_t l = comp_len[n - 1];

		if ((l > 8 && !strncmp(leaf + l - 8, ".service", 8)) ||
		    (l > 6 && !strncmp(leaf + l - 6, ".scope", 6))) {
			/* "systemd:" and the unit must make a valid workload name. */
			char name[WORKLOAD_NAME_MAX + 16], why[64];

			snprintf(name, sizeof(name), "systemd:%.*s", (int)l, leaf);
			if (workload_name_check(name, why, sizeof(why)))
				return 0;
			out->kind = IDENTITY_SYSTEMD;
			/* Checked above: at most WORKLOAD_NAME_MAX bytes. */
			memcpy(out->name, name, strlen(name) + 1);
			add_label(out, "unit", name + 8);
		}
	}
	return 0;
}

static const char *value_of(env_lookup_fn lookup, void *ctx, const char *name)
{
	const char *v = lookup(name, ctx);

	return v && v[0] ? v : NULL;
}

static int check(const char *var, const char *value, char *why, size_t why_size)
{
	char reason[256];

	if (value && workload_label_check("ci.value", value, reason, sizeof(reason))) {
		snprintf(why, why_size, "$%s: %s", var, reason);
		return -EINVAL;
	}
	return 0;
}

int identity_ci_context(env_lookup_fn lookup, void *ctx, struct ci_context *out, char *why,
			size_t why_size)
{
	static const struct {
		const char *system, *flag, *repository, *run_id, *job, *actor;
	} systems[] = {
		{ "github", "GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_JOB",
		  "GITHUB_ACTOR" },
		{ "gitlab", "GITLAB_CI", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_JOB_ID",
		  "GITLAB_USER_LOGIN" },
	};
	char reason[256];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]); i++) {
		const char *flag = value_of(lookup, ctx, systems[i].flag);

		if (!flag || strcmp(flag, "true"))
			continue;
		out->system = systems[i].system;
		out->repository = value_of(lookup, ctx, systems[i].repository);
		out->run_id = value_of(lookup, ctx, systems[i].run_id);
		out->job = value_of(lookup, ctx, systems[i].job);
		out->actor = value_of(lookup, ctx, systems[i].actor);
		if (check(systems[i].repository, out->repository, why, why_size) ||
		    check(systems[i].run_id, out->run_id, why, why_size) ||
		    check(systems[i].job, out->job, why, why_size) ||
		    check(systems[i].actor, out->actor, why, why_size))
			return -EINVAL;
		if (out->actor) {
			snprintf(out->principal, sizeof(out->principal), "%s:%s", out->system,
				 out->actor);
			if (workload_principal_check(out->principal, reason, sizeof(reason))) {
				snprintf(why, why_size, "$%s: %s", systems[i].actor, reason);
				return -EINVAL;
			}
		}
		return 0;
	}
	return 0;
}
