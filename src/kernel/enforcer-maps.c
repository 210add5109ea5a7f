/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The enforcer's map writes (enforcer.h): policy images in and out, old
 * generations purged, workloads (and the governed-bucket counts the
 * programs' fast exit reads), grants, and the files self-protection guards. Loading, attaching, pinning and
 * adoption stay in enforcer.c.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "actgate.skel.h"
#include "kernel/enforcer-internal.h"
#include "kernel/enforcer.h"
#include "kernel/protect.h"
#include "policy/compile.h"
#include "util/log.h"

/* Delete keys collected from map (key_size bytes each); those already gone are fine. */
static long delete_keys(struct bpf_map *map, const uint8_t *keys, size_t count, size_t key_size)
{
	long removed = 0;

	for (size_t i = 0; i < count; i++) {
		int err = bpf_map__delete_elem(map, keys + i * key_size, key_size, 0);

		if (!err)
			removed++;
		else if (err != -ENOENT)
			return err;
	}
	return removed;
}

/*
 * The keys of map for which stale(key) holds. Collected before any is
 * deleted: deleting while walking a hash map with get_next_key may restart
 * the walk from the first key.
 */
static int collect_keys(struct bpf_map *map, bool (*stale)(const void *key, uint32_t keep),
			uint32_t keep, uint8_t **keys, size_t *count)
{
	size_t key_size = bpf_map__key_size(map), cap = 0;
	uint8_t cur[64], next[64];
	bool first = true;
	int err;

	*keys = NULL;
	*count = 0;
	if (key_size > sizeof(cur))
		return -E2BIG;
	for (;;) {
		err = bpf_map__get_next_key(map, first ? NULL : cur, next, key_size);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		first = false;
		memcpy(cur, next, key_size);
		if (!stale(cur, keep))
			continue;
		if (*count == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			uint8_t *n = realloc(*keys, ncap * key_size);

			if (!n)
				return -ENOMEM;
			*keys = n;
			cap = ncap;
		}
		memcpy(*keys + *count * key_size, cur, key_size);
		(*count)++;
	}
}

static uint32_t generation_of_id(uint32_t policy_id)
{
	return policy_id_generation(policy_id);
}

static bool stale_policy(const void *key, uint32_t keep)
{
	uint32_t id;

	memcpy(&id, key, sizeof(id));
	return generation_of_id(id) != keep;
}

static bool stale_path(const void *key, uint32_t keep)
{
	const struct actgate_path_key *k = key;

	return generation_of_id(k->policy_id) != keep;
}

static bool stale_net(const void *key, uint32_t keep)
{
	const struct actgate_net_key *k = key;

	/* Big-endian in the key: LPM matches bytes from the first one. */
	return generation_of_id(be32toh(k->policy_id)) != keep;
}

long enforcer_purge_generations(struct enforcer *e, uint32_t keep)
{
	struct {
		struct bpf_map *map;
		bool (*stale)(const void *key, uint32_t keep);
	} order[] = {
		/* Headers first: from then on nothing reaches the rules. */
		{ e->skel->maps.policies, stale_policy },
		{ e->skel->maps.path_rules, stale_path },
		{ e->skel->maps.net_rules, stale_net },
	};
	long total = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		uint8_t *keys = NULL;
		size_t count = 0;
		long n;
		int err = collect_keys(order[i].map, order[i].stale, keep, &keys, &count);

		n = err ? err : delete_keys(order[i].map, keys, count, bpf_map__key_size(order[i].map));
		free(keys);
		if (n < 0) {
			log_error("bpf", "cannot remove old entries of %s: %s",
				  bpf_map__name(order[i].map), strerror((int)-n));
			return n;
		}
		total += n;
	}
	return total;
}

static bool any_key(const void *key, uint32_t keep)
{
	(void)key;
	(void)keep;
	return true;
}

int enforcer_workload_cgroups(struct enforcer *e, uint64_t **ids, size_t *count)
{
	uint8_t *keys = NULL;
	int err = collect_keys(e->skel->maps.workloads, any_key, 0, &keys, count);

	if (err) {
		free(keys);
		*ids = NULL;
		*count = 0;
		return err;
	}
	*ids = (uint64_t *)keys;
	return 0;
}

static int update(struct bpf_map *map, const void *key, const void *value, const char *what)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), value,
				       bpf_map__value_size(map), BPF_ANY);

	if (err)
		log_error("bpf", "cannot write %s: %s", what, strerror(-err));
	return err;
}

/*
 * The path verdict cache (bpf/lib/cache.h) holds what rules decided; after
 * rules are written or removed, the daemon's epoch moves, and every entry
 * made before is forgotten. Only the daemon writes this counter.
 */
static int forget_path_verdicts(struct enforcer *e)
{
	__u32 which = 1; /* PATH_EPOCH_DAEMON */
	__u64 epoch = 0;
	int err = bpf_map__lookup_elem(e->skel->maps.path_cache_epoch, &which, sizeof(which),
				       &epoch, sizeof(epoch), 0);

	if (err)
		return err;
	epoch++;
	return update(e->skel->maps.path_cache_epoch, &which, &epoch, "the path cache's epoch");
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
	err = update(e->skel->maps.policies, &ep->policy_id, &ep->header, "a policy");
	if (err)
		return err;
	return forget_path_verdicts(e);
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
	if (forget_path_verdicts(e))
		log_warn("bpf", "the path cache may keep verdicts of removed rules until the next change");
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

/*
 * governed_buckets (abi.h): the programs skip the workloads lookup of a
 * cgroup whose bucket counts 0, so a key is counted before it is written
 * and uncounted after it is deleted. Only the daemon writes either map.
 * A count left too high (a daemon gone between the two steps) costs a
 * lookup, never a decision; enforcer_start recounts adopted pins.
 */
static int count_workload_key(struct enforcer *e, uint64_t cgroup_id, int delta)
{
	__u32 bucket = ACTGATE_GOVERNED_BUCKET(cgroup_id), n = 0;
	struct bpf_map *map = e->skel->maps.governed_buckets;
	int err = bpf_map__lookup_elem(map, &bucket, sizeof(bucket), &n, sizeof(n), 0);

	if (err)
		return err;
	if (delta < 0 && n == 0)
		return 0;
	n += delta;
	return bpf_map__update_elem(map, &bucket, sizeof(bucket), &n, sizeof(n), BPF_ANY);
}

/* Write a workloads entry; is_new: the key is not there yet (counted first). */
static int write_workload(struct enforcer *e, uint64_t cgroup_id,
			  const struct actgate_workload *wl, bool is_new)
{
	int err;

	if (is_new) {
		err = count_workload_key(e, cgroup_id, 1);
		if (err) {
			log_error("bpf", "cannot count a workload in its bucket: %s", strerror(-err));
			return err;
		}
	}
	err = update(e->skel->maps.workloads, &cgroup_id, wl, "a workload");
	if (err && is_new)
		count_workload_key(e, cgroup_id, -1);
	return err;
}

/* Make every bucket count exactly the workloads keys in it (adopted pins). */
int enforcer_recount_workload_keys(struct enforcer *e)
{
	struct bpf_map *map = e->skel->maps.governed_buckets;
	uint64_t *ids = NULL;
	uint32_t *count;
	size_t n = 0;
	int err;

	count = calloc(ACTGATE_GOVERNED_BUCKETS, sizeof(*count));
	if (!count)
		return -ENOMEM;
	err = enforcer_workload_cgroups(e, &ids, &n);
	for (size_t i = 0; !err && i < n; i++)
		count[ACTGATE_GOVERNED_BUCKET(ids[i])]++;
	for (__u32 b = 0; !err && b < ACTGATE_GOVERNED_BUCKETS; b++) {
		__u32 now = 0;

		err = bpf_map__lookup_elem(map, &b, sizeof(b), &now, sizeof(now), 0);
		if (!err && now != count[b])
			err = bpf_map__update_elem(map, &b, sizeof(b), &count[b], sizeof(count[b]),
						   BPF_ANY);
	}
	free(ids);
	free(count);
	return err;
}

int enforcer_add_workload(struct enforcer *e, uint64_t cgroup_id, uint64_t workload_id,
			  uint32_t policy_id)
{
	struct actgate_workload wl = { 0 };
	bool is_new = false;

	/* Only the daemon writes this map, so reading then writing is not a race. */
	if (enforcer_get_workload(e, cgroup_id, &wl)) {
		memset(&wl, 0, sizeof(wl));
		is_new = true;
	}
	wl.workload_id = workload_id;
	wl.policy_id = policy_id;
	wl.signal_generation = e->signal_generation;
	return write_workload(e, cgroup_id, &wl, is_new);
}

int enforcer_get_workload(const struct enforcer *e, uint64_t cgroup_id, struct actgate_workload *wl)
{
	return bpf_map__lookup_elem(e->skel->maps.workloads, &cgroup_id, sizeof(cgroup_id), wl,
				    sizeof(*wl), 0);
}

int enforcer_put_workload(struct enforcer *e, uint64_t cgroup_id, const struct actgate_workload *wl)
{
	struct actgate_workload old;

	return write_workload(e, cgroup_id, wl, enforcer_get_workload(e, cgroup_id, &old) != 0);
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

int enforcer_put_learned(struct enforcer *e, const struct actgate_learned_key *key,
			 const struct actgate_learned *val)
{
	return update(e->skel->maps.learned, key, val, "a learned address");
}

int enforcer_remove_learned(struct enforcer *e, const struct actgate_learned_key *key)
{
	int err = bpf_map__delete_elem(e->skel->maps.learned, key, sizeof(*key), 0);

	if (err && err != -ENOENT) {
		log_error("bpf", "cannot remove a learned address: %s", strerror(-err));
		return err;
	}
	return 0;
}

int enforcer_clear_learned(struct enforcer *e)
{
	struct bpf_map *map = e->skel->maps.learned;
	struct actgate_learned_key key;
	int err;

	/* Always the first key: each one found is deleted, so the walk cannot lose its place. */
	while (!(err = bpf_map__get_next_key(map, NULL, &key, sizeof(key)))) {
		err = bpf_map__delete_elem(map, &key, sizeof(key), 0);
		if (err && err != -ENOENT)
			break;
	}
	if (err == -ENOENT)
		return 0;
	log_error("bpf", "cannot empty the learned map: %s", strerror(-err));
	return err;
}

int enforcer_remove_workload(struct enforcer *e, uint64_t cgroup_id)
{
	int err = bpf_map__delete_elem(e->skel->maps.workloads, &cgroup_id, sizeof(cgroup_id), 0);

	if (err == -ENOENT)
		return 0;
	if (err) {
		log_error("bpf", "cannot remove workload of cgroup %llu: %s",
			  (unsigned long long)cgroup_id, strerror(-err));
		return err;
	}
	/* Gone from workloads: uncounting it now cannot hide a key. */
	err = count_workload_key(e, cgroup_id, -1);
	if (err)
		log_warn("bpf", "cannot uncount workload of cgroup %llu: %s",
			 (unsigned long long)cgroup_id, strerror(-err));
	return 0;
}


int enforcer_protect(struct enforcer *e, const struct protect_set *set)
{
	struct bpf_map *map = e->skel->maps.protected_files;
	uint8_t *keys = NULL;
	size_t count = 0;
	int err;

	/* What an earlier daemon protected, collected before this one's entries go in. */
	err = collect_keys(map, any_key, 0, &keys, &count);
	for (size_t i = 0; !err && i < set->count; i++)
		err = update(map, &set->entries[i].key, &set->entries[i].flags, "a protected file");
	/* Then the keys no longer named: their places are not actgate's any more. */
	for (size_t i = 0; !err && i < count; i++) {
		const struct actgate_protect_key *k =
			(const void *)(keys + i * sizeof(struct actgate_protect_key));

		if (protect_contains(set, k))
			continue;
		err = bpf_map__delete_elem(map, k, sizeof(*k), 0);
		if (err == -ENOENT)
			err = 0;
	}
	free(keys);
	if (err)
		log_error("bpf", "cannot write the protected files: %s", strerror(-err));
	return err;
}
