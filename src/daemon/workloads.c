/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/revocation.h"
#include "daemon/workloads.h"
#include "identity/cgroup.h"
#include "identity/identity.h"
#include "signals/grants.h"
#include "util/duration.h"
#include "util/log.h"

/* ---- binding: a workload's effective policy in a generation ---- */

int workloads_bind(struct daemon *d, struct generation *g, const struct workload *w, bool write,
		   uint32_t *policy_id, char *why, size_t why_size)
{
	struct workload_identity id = workload_identity_of(w);
	struct policy_selection *sel = NULL;
	struct signal_view signals = { 0 };
	struct diag_list diags = { 0 };
	size_t count = 0, index;
	bool added = false;
	int err;

	/* The signals w sees: a change of them binds every workload again (workloads_rebind). */
	err = signalctl_view(&d->signalctl, w, &signals);
	if (err)
		goto fail;
	err = policy_selection_of(&g->set, &id, &signals, &sel, &count);
	if (err == -ENOENT) {
		snprintf(why, why_size,
			 "no policy in %s selects workload \"%s\" (cgroup %s, labels {%s})",
			 d->cfg->policy_dir, w->name, id.cgroup ? id.cgroup : "?", w->labels);
		goto out;
	}
	if (err)
		goto fail;
	err = policy_image_effective(&g->image, sel, count, &index, &added, &diags);
	if (err == -EINVAL) {
		diag_first_error(&diags, "the policy cannot be compiled", why, why_size);
		goto out;
	}
	if (err == -ENOSPC) {
		snprintf(why, why_size,
			 "generation %u has no policy id left (%u effective policies); reload the "
			 "policies to start a new one",
			 g->image.generation, POLICY_MAX_PER_GENERATION);
		goto out;
	}
	if (err)
		goto fail;
	if (added && write) {
		err = enforcer_load_policy(&d->enforcer, &g->image, &g->image.policies[index]);
		if (err) {
			const struct effective_policy *ep = &g->image.policies[index];

			/* A hash map says E2BIG when full, an LPM trie ENOSPC. */
			if (err == -E2BIG || err == -ENOSPC)
				snprintf(why, why_size,
					 "the kernel's rule maps are full: workload \"%s\"'s policy "
					 "has %zu path and %zu connect entries, and they hold %u and "
					 "%u for the policies of every workload, running and "
					 "previous generation together",
					 w->name, ep->path_count, ep->net_count,
					 POLICY_MAX_PATH_ENTRIES * POLICY_GENERATIONS_IN_KERNEL,
					 POLICY_MAX_NET_ENTRIES * POLICY_GENERATIONS_IN_KERNEL);
			/* Not in the kernel whole: the next workload with this key tries again. */
			enforcer_unload_policy(&d->enforcer, &g->image, ep);
			policy_image_drop_last(&g->image);
			if (err == -E2BIG || err == -ENOSPC)
				goto out;
			goto fail;
		}
	}
	*policy_id = g->image.policies[index].policy_id;
	if (added)
		malloc_trim(0); /* the compile's temporaries: see generation_release_memory */
	goto out;
fail:
	snprintf(why, why_size, "cannot set up the policy of workload \"%s\": %s", w->name,
		 strerror(-err));
out:
	log_diags(&diags);
	diag_list_free(&diags);
	free((void *)signals.values);
	free(sel);
	return err;
}

char *workloads_policy_names(const struct generation *g, uint32_t policy_id)
{
	int n = policy_image_policy_names(&g->image, policy_id, NULL, 0);
	char *names = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (names)
		policy_image_policy_names(&g->image, policy_id, names, (size_t)n + 1);
	return names;
}

int workloads_cgroup_fs_path(const struct daemon *d, const char *cgroup_path, char *out,
			     size_t size)
{
	int n = snprintf(out, size, "%s%s", d->cgroup_mount, cgroup_path);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int workloads_bind_all(struct daemon *d, struct generation *g, bool write, uint32_t *ids,
		       char *why, size_t why_size)
{
	char reason[768];

	for (size_t i = 0; i < d->workloads.count; i++) {
		const struct workload *w = &d->workloads.items[i];
		int err = workloads_bind(d, g, w, write, &ids[i], reason, sizeof(reason));

		if (err) {
			snprintf(why, why_size, "workload \"%s\" (id %llu): %s", w->name,
				 (unsigned long long)w->id, reason);
			return err;
		}
	}
	return 0;
}

int workloads_swap(struct daemon *d, const struct generation *g, const uint32_t *ids)
{
	char **names = calloc(d->workloads.count + 1, sizeof(*names));
	size_t i;
	int err = 0;

	for (i = 0; names && i < d->workloads.count; i++) {
		names[i] = workloads_policy_names(g, ids[i]);
		if (!names[i])
			break;
	}
	if (!names || i < d->workloads.count) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];

		err = enforcer_add_workload(&d->enforcer, w->cgroup_id, w->id, ids[i]);
		if (err) {
			while (i-- > 0) {
				w = &d->workloads.items[i];
				enforcer_add_workload(&d->enforcer, w->cgroup_id, w->id, w->policy_id);
			}
			goto out;
		}
	}
	for (i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];

		w->policy_id = ids[i];
		free(w->policies);
		w->policies = names[i];
		names[i] = NULL;
	}
out:
	for (i = 0; names && i < d->workloads.count; i++)
		free(names[i]);
	free(names);
	return err;
}

int workloads_rebind(struct daemon *d, char *why, size_t why_size)
{
	uint64_t before = d->enforcer.signal_generation;
	uint32_t *ids = calloc(d->workloads.count + 1, sizeof(*ids));
	int err;

	if (!ids) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	/* New effective policies are written before anything points at them. */
	err = workloads_bind_all(d, &d->current, true, ids, why, why_size);
	if (err)
		goto out;
	d->enforcer.signal_generation = d->signalctl.store.generation;
	err = workloads_swap(d, &d->current, ids);
	if (err) {
		d->enforcer.signal_generation = before;
		snprintf(why, why_size, "cannot point the workloads at their policies: %s",
			 strerror(-err));
	}
out:
	free(ids);
	return err;
}

/* ---- actgate run ---- */

/* A cgroup directory name derived from the workload name: readable, unique by id. */
static void cgroup_leaf_name(const char *name, uint64_t id, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = name; *p && n + 1 < size && n < 64; p++) {
		char c = *p;

		out[n++] = (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
						  (c >= '0' && c <= '9') || c == '.' || c == '-' ||
						  c == '_'
					  ? c
					  : '_');
	}
	snprintf(out + n, size - n, "-%llu", (unsigned long long)id);
}

static int parse_labels(const struct json_member *m, char **labels, char *why, size_t why_size)
{
	char *acc = strdup("");

	if (!acc)
		return -ENOMEM;
	if (m && m->type != JSON_MSG_OBJECT && m->type != JSON_MSG_NULL) {
		snprintf(why, why_size, "\"labels\" must be an object of strings");
		free(acc);
		return -EINVAL;
	}
	if (m && m->type == JSON_MSG_OBJECT && m->member_count > LABELS_MAX) {
		snprintf(why, why_size, "at most %d labels", LABELS_MAX);
		free(acc);
		return -EINVAL;
	}
	for (size_t i = 0; m && m->type == JSON_MSG_OBJECT && i < m->member_count; i++) {
		const struct json_member *l = &m->members[i];
		char *next;

		if (l->type != JSON_MSG_STRING) {
			snprintf(why, why_size, "label %s: the value must be a string", l->key);
			free(acc);
			return -EINVAL;
		}
		if (workload_label_check(l->key, l->value, why, why_size)) {
			free(acc);
			return -EINVAL;
		}
		next = workload_labels_add(acc, l->key, l->value);
		free(acc);
		if (!next) {
			snprintf(why, why_size, "label %s given twice", l->key);
			return -EINVAL;
		}
		acc = next;
	}
	*labels = acc;
	return 0;
}

/* The request's "ttl_ms" (0: none). */
static int run_ttl(const struct json_msg *msg, uint64_t *ttl_ns, char *why, size_t why_size)
{
	const struct json_member *ttl = json_msg_get(msg, "ttl_ms");

	*ttl_ns = 0;
	if (ttl && (ttl->type != JSON_MSG_STRING ||
		    grant_parse_ms(ttl->value, DURATION_MAX_NS / 1000000, ttl_ns, why, why_size))) {
		if (ttl->type != JSON_MSG_STRING)
			snprintf(why, why_size, "\"ttl_ms\" must be a number");
		return -EINVAL;
	}
	return 0;
}

void workloads_verb_run(struct daemon *d, int fd, const struct json_msg *msg)
{
	const char *name = json_msg_string(msg, "workload");
	const char *principal = json_msg_string(msg, "principal");
	struct workload w = { .owner_fd = fd };
	char why[1024], leaf[128], path[PATH_MAX], fs_path[PATH_MAX];
	struct json_out j;
	uint64_t ttl_ns;
	int err;

	if (!name) {
		control_reply_error(fd, "run: \"workload\" (a string) is required");
		return;
	}
	if (workload_name_check(name, why, sizeof(why)) ||
	    (principal && workload_principal_check(principal, why, sizeof(why)))) {
		control_reply_error(fd, "run: %s", why);
		return;
	}
	if (run_ttl(msg, &ttl_ns, why, sizeof(why)) ||
	    revocation_check_run(&d->signalctl, name, principal, why, sizeof(why)) ||
	    parse_labels(json_msg_get(msg, "labels"), &w.labels, why, sizeof(why))) {
		control_reply_error(fd, "run: %s", why);
		return;
	}
	w.id = d->next_workload_id++;
	cgroup_leaf_name(name, w.id, leaf, sizeof(leaf));
	if (snprintf(path, sizeof(path), "%s/%s", d->cfg->cgroup_parent, leaf) >= (int)sizeof(path) ||
	    workloads_cgroup_fs_path(d, path, fs_path, sizeof(fs_path))) {
		control_reply_error(fd, "run: cgroup path too long");
		goto fail;
	}
	w.name = strdup(name);
	w.principal = strdup(principal ? principal : "");
	w.cgroup_path = strdup(path);
	if (!w.name || !w.principal || !w.cgroup_path ||
	    workload_labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text)) {
		control_reply_error(fd, "run: out of memory");
		goto fail;
	}
	/* Selected by its name, labels and the cgroup it is about to get. */
	if (workloads_bind(d, &d->current, &w, true, &w.policy_id, why, sizeof(why))) {
		control_reply_error(fd, "run: %s", why);
		goto fail;
	}
	w.policies = workloads_policy_names(&d->current, w.policy_id);
	if (!w.policies) {
		control_reply_error(fd, "run: out of memory");
		goto fail;
	}
	if (mkdir(fs_path, 0755) < 0) {
		err = -errno;
		log_error("run", "cannot create cgroup %s: %s", fs_path, strerror(-err));
		control_reply_error(fd, "run: cannot create cgroup %s: %s", fs_path, strerror(-err));
		goto fail;
	}
	err = cgroup_id_at(fs_path, &w.cgroup_id);
	if (err) {
		control_reply_error(fd, "run: cannot read the id of cgroup %s: %s", fs_path,
				    strerror(-err));
		goto fail_rmdir;
	}
	/*
	 * Governed before the reply: the client moves its child into the cgroup
	 * only after this answer, so the workload's first action is policed.
	 */
	err = enforcer_add_workload(&d->enforcer, w.cgroup_id, w.id, w.policy_id);
	if (err) {
		control_reply_error(fd, "run: cannot register the workload in the kernel: %s",
				    strerror(-err));
		goto fail_rmdir;
	}
	/* Its expiry (--ttl) too is in the kernel before the reply. */
	err = signalctl_workload_started(&d->signalctl, &w, ttl_ns);
	if (err) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		control_reply_error(fd, "run: cannot set the workload's time to live: %s",
				    strerror(-err));
		goto fail_rmdir;
	}
	if (workload_table_add(&d->workloads, &w) < 0) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		control_reply_error(fd, "run: out of memory");
		goto fail_rmdir;
	}
	/* Before the reply: a workload whose command runs is one a restart knows. */
	runtime_save(d);
	log_info("run", "workload %s (id %llu, policies %s, labels {%s}) in cgroup %s", name,
		 (unsigned long long)w.id, w.policies, w.labels, path);

	control_reply_ok(&j);
	json_add_u64(&j, "workload_id", w.id);
	json_add_string(&j, "cgroup", path);
	json_add_string(&j, "cgroup_dir", fs_path);
	json_add_string(&j, "policies", w.policies);
	control_reply_send(fd, &j);
	return;
fail_rmdir:
	rmdir(fs_path);
fail:
	workload_clear(&w);
}

/* ---- removal ---- */

void workloads_sweep(struct daemon *d)
{
	bool removed = false;

	for (size_t i = 0; i < d->workloads.count;) {
		struct workload *w = &d->workloads.items[i];
		char fs_path[PATH_MAX];

		if (w->discovered) {
			/* Not ours to remove: it goes once its runtime removed the cgroup. */
			if (!workloads_cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) &&
			    access(fs_path, F_OK) < 0 && errno == ENOENT) {
				log_info("discovery", "%s (%s) is gone", w->name, w->cgroup_path);
				enforcer_remove_workload(&d->enforcer, w->cgroup_id);
				workload_table_remove(&d->workloads, w);
				removed = true;
				continue;
			}
			i++;
			continue;
		}
		if (w->owner_fd >= 0) {
			i++;
			continue;
		}
		/* The workload may have made cgroups of its own below: they go first. */
		if (workloads_cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) ||
		    cgroup_remove_tree(fs_path)) {
			i++;
			continue;
		}
		enforcer_remove_workload(&d->enforcer, w->cgroup_id);
		workload_table_remove(&d->workloads, w);
		removed = true;
	}
	if (removed)
		runtime_save(d);
}

/* ---- workloads the daemon did not start (discovery.h) ---- */

/*
 * A workload the daemon did not start (discovery.h): a watched root, or a
 * unit or container found below one. Governed in the kernel before this
 * returns. -ENOENT when no policy selects it (why says), else -errno.
 */
static int add_discovered(struct daemon *d, const char *name, const char *labels,
			  const char *cgroup_path, char *why, size_t why_size)
{
	struct workload w = { .owner_fd = -1, .discovered = true };
	char fs_path[PATH_MAX];
	int err = -ENOMEM;

	w.id = d->next_workload_id++;
	w.name = strdup(name);
	w.principal = strdup("");
	w.labels = strdup(labels);
	w.cgroup_path = strdup(cgroup_path);
	if (!w.name || !w.principal || !w.labels || !w.cgroup_path ||
	    workload_labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text)) {
		snprintf(why, why_size, "out of memory");
		goto fail;
	}
	err = workloads_cgroup_fs_path(d, cgroup_path, fs_path, sizeof(fs_path));
	if (!err)
		err = cgroup_id_at(fs_path, &w.cgroup_id);
	if (err) {
		snprintf(why, why_size, "cannot read the id of cgroup %s: %s", cgroup_path,
			 strerror(-err));
		goto fail;
	}
	err = workloads_bind(d, &d->current, &w, true, &w.policy_id, why, why_size);
	if (err)
		goto fail;
	w.policies = workloads_policy_names(&d->current, w.policy_id);
	if (!w.policies) {
		err = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto fail;
	}
	err = enforcer_add_workload(&d->enforcer, w.cgroup_id, w.id, w.policy_id);
	if (!err)
		err = signalctl_workload_started(&d->signalctl, &w, 0);
	if (!err) {
		err = workload_table_add(&d->workloads, &w);
		if (err)
			enforcer_remove_workload(&d->enforcer, w.cgroup_id);
	}
	if (err) {
		snprintf(why, why_size, "cannot register it in the kernel: %s", strerror(-err));
		goto fail;
	}
	log_info("discovery", "workload %s (id %llu, policies %s, labels {%s}) in cgroup %s", name,
		 (unsigned long long)w.id, w.policies, w.labels, cgroup_path);
	runtime_save(d); /* a restarted daemon adopts it (mark_discovered) */
	return 0;
fail:
	workload_clear(&w);
	return err;
}

static bool discovery_known(void *ctx, const char *cgroup_path)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->workloads.count; i++)
		if (!strcmp(d->workloads.items[i].cgroup_path, cgroup_path))
			return true;
	return false;
}

static int discovery_found(void *ctx, const char *cgroup_path, const struct cgroup_identity *id)
{
	struct daemon *d = ctx;
	char *labels = strdup(""), why[1024];
	int err;

	for (size_t i = 0; labels && i < id->label_count; i++) {
		char *next = workload_labels_add(labels, id->labels[i].key, id->labels[i].value);

		free(labels);
		labels = next;
	}
	if (!labels)
		return -ENOMEM;
	err = add_discovered(d, id->name, labels, cgroup_path, why, sizeof(why));
	if (err && err != -ENOENT)
		log_error("discovery", "%s (%s): %s", cgroup_path, id->name, why);
	free(labels);
	return err;
}

/*
 * Workloads adopted from the previous daemon's state that discovery made:
 * a watched root under its root name, or a unit or container below one
 * under the name its path gives. The state file does not say so; the
 * names do, and their cgroups must never be removed by the sweep.
 */
static void mark_discovered(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	char name[WORKLOAD_NAME_MAX + 64];

	for (size_t i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];
		struct cgroup_identity id;

		for (size_t r = 0; r < cfg->watch_count && !w->discovered; r++) {
			const char *root = cfg->watch_cgroups[r];

			discovery_root_name(root, name, sizeof(name));
			if (!strcmp(w->cgroup_path, root))
				w->discovered = !strcmp(w->name, name);
			else if (cgroup_path_within(w->cgroup_path, root) &&
				 !identity_parse_cgroup(w->cgroup_path, &id) && id.kind != IDENTITY_NONE)
				w->discovered = !strcmp(w->name, id.name);
		}
	}
}

int workloads_watch_roots(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	struct discovery_host host = { .ctx = d, .cgroup_mount = d->cgroup_mount,
				       .known = discovery_known, .found = discovery_found };
	char own[PATH_MAX], name[WORKLOAD_NAME_MAX + 64], why[1024];
	int err;

	if (!cfg->watch_count)
		return 0;
	mark_discovered(d);
	err = cgroup_of_pid(getpid(), own, sizeof(own));
	if (err) {
		log_error("discovery", "cannot read actgated's own cgroup: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < cfg->watch_count; i++) {
		const char *root = cfg->watch_cgroups[i];

		if (cgroup_path_within(own, root)) {
			log_error("discovery",
				  "--watch-cgroup %s: actgated runs in %s, below it, and would govern "
				  "itself; run it in a cgroup of its own (Slice= in its unit)",
				  root, own);
			return -EINVAL;
		}
		discovery_root_name(root, name, sizeof(name));
		if (discovery_known(d, root))
			continue; /* adopted from the previous daemon (mark_discovered) */
		err = add_discovered(d, name, "", root, why, sizeof(why));
		if (err) {
			log_error("discovery", "--watch-cgroup %s: %s%s", root, why,
				  err == -ENOENT ? " (write a policy selecting it: the default for "
						   "cgroups not identified yet)" : "");
			return err;
		}
	}
	discovery_init(&d->discovery, &host, cfg->watch_cgroups, cfg->watch_count);
	/* Before ready: what is already there is identified before we say we enforce. */
	discovery_tick(&d->discovery);
	return 0;
}

void workloads_release(struct daemon *d, int fd)
{
	for (size_t i = 0; i < d->workloads.count; i++) {
		if (d->workloads.items[i].owner_fd == fd)
			d->workloads.items[i].owner_fd = -1;
	}
}
