/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "actgate.skel.h"
#include "enforcer.h"
#include "log.h"

#define LSM_LIST_PATH "/sys/kernel/security/lsm"

/* The handler and its context, reached from libbpf's ring-buffer callback. */
struct drain_ctx {
	record_handler_fn handler;
	void *ctx;
};

/*
 * libbpf's print callback takes no context pointer, so verbosity has to live
 * in a file-scope variable; it is set once, before the first libbpf call.
 */
static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int enforcer_probe(char *why, size_t why_size)
{
	char lsms[512] = "";
	size_t n;
	FILE *f;

	f = fopen(LSM_LIST_PATH, "re");
	if (!f) {
		snprintf(why, why_size, "%s: %s (is securityfs mounted?)", LSM_LIST_PATH,
			 strerror(errno));
		return -EOPNOTSUPP;
	}
	n = fread(lsms, 1, sizeof(lsms) - 1, f);
	fclose(f);
	lsms[n] = '\0';
	/* The list is comma-separated, e.g. "lockdown,capability,landlock,bpf". */
	for (char *save = NULL, *tok = strtok_r(lsms, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		if (strcmp(tok, "bpf") == 0)
			return 0;
	}
	snprintf(why, why_size,
		 "the BPF LSM is not active (active: %s); boot with lsm=...,bpf on the kernel "
		 "command line",
		 lsms[0] ? lsms : "none");
	return -EOPNOTSUPP;
}

static struct drain_ctx *drain_ctx_new(record_handler_fn handler, void *ctx)
{
	struct drain_ctx *d = calloc(1, sizeof(*d));

	if (d) {
		d->handler = handler;
		d->ctx = ctx;
	}
	return d;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct drain_ctx *d = ctx;
	const struct actgate_decision *rec = data;

	if (size < ACTGATE_DECISION_FIXED_SIZE || rec->hdr.abi_version != ACTGATE_ABI_VERSION ||
	    rec->hdr.type != ACTGATE_RECORD_DECISION) {
		log_warn("bpf", "skipping a record of %zu bytes with an unknown layout", size);
		return 0;
	}
	return d->handler(rec, size, d->ctx);
}

int enforcer_start(struct enforcer *e, record_handler_fn handler, void *handler_ctx, bool verbose)
{
	struct drain_ctx *dctx = NULL;
	int err;

	memset(e, 0, sizeof(*e));
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);

	e->skel = actgate_bpf__open();
	if (!e->skel) {
		err = -errno;
		log_error("bpf", "cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	/* The self-protection programs guard this process. */
	e->skel->rodata->daemon_tgid = (__u32)getpid();
	err = actgate_bpf__load(e->skel);
	if (err) {
		log_error("bpf", "cannot load the BPF programs: %s (run with --verbose for the "
				 "verifier log)",
			  strerror(-err));
		goto fail;
	}
	err = actgate_bpf__attach(e->skel);
	if (err) {
		log_error("bpf", "cannot attach the LSM programs: %s", strerror(-err));
		goto fail;
	}
	dctx = drain_ctx_new(handler, handler_ctx);
	if (!dctx) {
		err = -ENOMEM;
		goto fail;
	}
	e->events = ring_buffer__new(bpf_map__fd(e->skel->maps.events), on_event, dctx, NULL);
	if (!e->events) {
		err = -errno;
		log_error("bpf", "cannot open the events ring buffer: %s", strerror(-err));
		goto fail;
	}
	/* Owned by the ring buffer's callback from here on; freed in enforcer_stop. */
	e->drain_ctx = dctx;
	return 0;
fail:
	free(dctx);
	actgate_bpf__destroy(e->skel);
	e->skel = NULL;
	return err;
}

static int update(struct bpf_map *map, const void *key, const void *value, const char *what)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), value,
				       bpf_map__value_size(map), BPF_ANY);

	if (err)
		log_error("bpf", "cannot write %s: %s", what, strerror(-err));
	return err;
}

int enforcer_load_policy(struct enforcer *e, const struct policy_image *img,
			 const struct effective_policy *ep)
{
	size_t i;
	int err;

	for (i = ep->path_first; i < ep->path_first + ep->path_count; i++) {
		err = update(e->skel->maps.path_rules, &img->paths[i].key, &img->paths[i].value,
			     "a path rule");
		if (err)
			return err;
	}
	for (i = ep->net_first; i < ep->net_first + ep->net_count; i++) {
		err = update(e->skel->maps.net_rules, &img->nets[i].key, &img->nets[i].value,
			     "a connect rule");
		if (err)
			return err;
	}
	return update(e->skel->maps.policies, &ep->policy_id, &ep->header, "a policy");
}

int enforcer_load_image(struct enforcer *e, const struct policy_image *img)
{
	for (size_t i = 0; i < img->policy_count; i++) {
		int err = enforcer_load_policy(e, img, &img->policies[i]);

		if (err)
			return err;
	}
	return 0;
}

/* Deleting what is already gone is fine: a failed load may have written part. */
static void delete_key(struct bpf_map *map, const void *key, const char *what)
{
	int err = bpf_map__delete_elem(map, key, bpf_map__key_size(map), 0);

	if (err && err != -ENOENT)
		log_warn("bpf", "cannot delete %s: %s", what, strerror(-err));
}

static void unload_rules(struct enforcer *e, const struct policy_image *img,
			 const struct effective_policy *ep)
{
	size_t i;

	for (i = ep->path_first; i < ep->path_first + ep->path_count; i++)
		delete_key(e->skel->maps.path_rules, &img->paths[i].key, "a path rule");
	for (i = ep->net_first; i < ep->net_first + ep->net_count; i++)
		delete_key(e->skel->maps.net_rules, &img->nets[i].key, "a connect rule");
}

void enforcer_unload_policy(struct enforcer *e, const struct policy_image *img,
			    const struct effective_policy *ep)
{
	delete_key(e->skel->maps.policies, &ep->policy_id, "a policy");
	unload_rules(e, img, ep);
}

void enforcer_unload_image(struct enforcer *e, const struct policy_image *img)
{
	size_t i;

	/* Every header first: from then on nothing reaches any of the rules. */
	for (i = 0; i < img->policy_count; i++)
		delete_key(e->skel->maps.policies, &img->policies[i].policy_id, "a policy");
	for (i = 0; i < img->policy_count; i++)
		unload_rules(e, img, &img->policies[i]);
}

int enforcer_add_workload(struct enforcer *e, uint64_t cgroup_id, uint64_t workload_id,
			  uint32_t policy_id)
{
	struct actgate_workload wl = { 0 };

	/* Only the daemon writes this map, so reading then writing is not a race. */
	if (enforcer_get_workload(e, cgroup_id, &wl))
		memset(&wl, 0, sizeof(wl));
	wl.workload_id = workload_id;
	wl.policy_id = policy_id;
	wl.signal_generation = e->signal_generation;
	return update(e->skel->maps.workloads, &cgroup_id, &wl, "a workload");
}

int enforcer_get_workload(const struct enforcer *e, uint64_t cgroup_id, struct actgate_workload *wl)
{
	return bpf_map__lookup_elem(e->skel->maps.workloads, &cgroup_id, sizeof(cgroup_id), wl,
				    sizeof(*wl), 0);
}

int enforcer_put_workload(struct enforcer *e, uint64_t cgroup_id, const struct actgate_workload *wl)
{
	return update(e->skel->maps.workloads, &cgroup_id, wl, "a workload");
}

int enforcer_task_governed(const struct enforcer *e, int pid)
{
	struct actgate_task_mark mark;
	/* Task storage maps are keyed by a pidfd from userspace. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), err;

	if (pidfd < 0)
		return -errno;
	err = bpf_map__lookup_elem(e->skel->maps.task_marks, &pidfd, sizeof(pidfd), &mark,
				   sizeof(mark), 0);
	close(pidfd);
	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

int enforcer_put_grant(struct enforcer *e, const struct actgate_grant_key *key,
		       const struct actgate_grant *grant)
{
	return update(e->skel->maps.grants, key, grant, "a grant");
}

int enforcer_remove_grant(struct enforcer *e, const struct actgate_grant_key *key)
{
	int err = bpf_map__delete_elem(e->skel->maps.grants, key, sizeof(*key), 0);

	if (err && err != -ENOENT) {
		log_error("bpf", "cannot remove a grant: %s", strerror(-err));
		return err;
	}
	return 0;
}

int enforcer_remove_workload(struct enforcer *e, uint64_t cgroup_id)
{
	int err = bpf_map__delete_elem(e->skel->maps.workloads, &cgroup_id, sizeof(cgroup_id), 0);

	if (err && err != -ENOENT) {
		log_error("bpf", "cannot remove workload of cgroup %llu: %s",
			  (unsigned long long)cgroup_id, strerror(-err));
		return err;
	}
	return 0;
}

int enforcer_events_fd(const struct enforcer *e)
{
	return ring_buffer__epoll_fd(e->events);
}

int enforcer_drain(struct enforcer *e)
{
	int n = ring_buffer__consume(e->events);

	return n < 0 ? n : 0;
}

int enforcer_dropped(const struct enforcer *e, uint64_t dropped[ACTGATE_ACTION_COUNT])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *per_cpu;
	uint32_t action;
	int err = 0;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (action = 0; action < ACTGATE_ACTION_COUNT; action++) {
		dropped[action] = 0;
		err = bpf_map__lookup_elem(e->skel->maps.dropped, &action, sizeof(action), per_cpu,
					   sizeof(*per_cpu) * (size_t)ncpus, 0);
		if (err)
			break;
		for (int cpu = 0; cpu < ncpus; cpu++)
			dropped[action] += per_cpu[cpu];
	}
	free(per_cpu);
	return err;
}

void enforcer_stop(struct enforcer *e)
{
	ring_buffer__free(e->events);
	free(e->drain_ctx);
	actgate_bpf__destroy(e->skel);
	memset(e, 0, sizeof(*e));
}
