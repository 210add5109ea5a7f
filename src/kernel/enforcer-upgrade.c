/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A pin set of another BPF build (same ABI version) replaced
 * make-before-break (docs/upgrades.md): this build's object is loaded on the
 * pinned maps it can carry over, its programs attached beside the pinned
 * ones and seen running, its complete set pinned in a staging directory
 * beside the pin directory, and the two directories swapped by one
 * renameat2(RENAME_EXCHANGE); only then are the previous build's pins
 * removed, which detaches its programs. Until the swap, any failure removes
 * what this build made and leaves the previous set as it was, enforcing.
 * Between attach and detach both builds' programs run on every hook, and an
 * action is allowed only when both allow it.
 *
 * The LSM links cannot be switched in place: BPF_LINK_UPDATE is not
 * implemented for tracing links (which LSM links are) on 6.1 or 6.12, so
 * new links are made and the old ones dropped.
 */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "actgate.skel.h"
#include "kernel/enforcer-internal.h"
#include "kernel/pins.h"
#include "util/clock.h"
#include "util/log.h"

#define UPGRADE_MAX_MAPS 64

/* How a map of this build gets its contents. */
enum carry {
	CARRY_FRESH, /* a new map: new in this build, or scratch whose contents need not carry */
	CARRY_REUSE, /* the pinned map itself, shared by both builds' programs */
	CARRY_COPY,  /* a new map (another size or flags) filled from the pinned one */
};

struct upgrade {
	struct enforcer *e;
	const struct enforcer_config *cfg;
	enum carry carry[UPGRADE_MAX_MAPS];
	int old_fd[UPGRADE_MAX_MAPS]; /* CARRY_COPY: the pinned map */
	size_t counts[3];             /* per enum carry */
	char staging[PATH_MAX];
	int staging_fd;
};

/*
 * Maps whose contents the programs write and the daemon cannot rebuild:
 * the task marks (no list of tasks to rebuild them from), the ring buffer
 * (records not yet journaled) and the drop counts. Carried over in place,
 * or the upgrade is refused.
 */
static bool kernel_state(const struct actgate_bpf *skel, const struct bpf_map *map)
{
	return map == skel->maps.task_marks || map == skel->maps.events ||
	       map == skel->maps.dropped;
}

/* Maps the daemon alone writes: copied entry by entry when only their size or flags changed. */
static bool copyable(const struct actgate_bpf *skel, const struct bpf_map *map)
{
	return map == skel->maps.workloads || map == skel->maps.policies ||
	       map == skel->maps.path_rules || map == skel->maps.net_rules ||
	       map == skel->maps.grants || map == skel->maps.governed_buckets;
}

/* Decide, for every map but meta, where its contents come from; reuse the pinned ones that fit. */
static int plan_maps(struct upgrade *u, char *why, size_t why_size)
{
	struct actgate_bpf *skel = u->e->skel;
	char path[PATH_MAX];
	struct bpf_map *map;
	size_t i = 0;
	int err;

	bpf_object__for_each_map(map, skel->obj) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		char layout[512];
		int fd;

		if (i == UPGRADE_MAX_MAPS) {
			snprintf(why, why_size, "more than %d maps", UPGRADE_MAX_MAPS);
			return -E2BIG;
		}
		u->carry[i] = CARRY_FRESH;
		/*
		 * The meta map says which build the set is, overlap marks this
		 * build's records: both are always this build's own.
		 */
		if (map == skel->maps.meta || map == skel->maps.overlap) {
			i++;
			continue;
		}
		err = pins_path(u->cfg->pin_dir, PINS_MAPS, bpf_map__name(map), path, sizeof(path));
		if (err) {
			snprintf(why, why_size, "pin directory %.400s: path too long", u->cfg->pin_dir);
			return err;
		}
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			if (err != -ENOENT) {
				snprintf(why, why_size, "%.400s: %s", path, strerror(-err));
				return err;
			}
			if (kernel_state(skel, map)) {
				snprintf(why, why_size,
					 "the pinned set has no map %s, whose contents this build must "
					 "carry over", bpf_map__name(map));
				return -EPROTO;
			}
			u->counts[CARRY_FRESH]++; /* new in this build */
			i++;
			continue;
		}
		err = enforcer_check_pinned_map(map, fd, path, map == skel->maps.events, layout,
						sizeof(layout));
		if (!err) {
			err = bpf_map__reuse_fd(map, fd);
			close(fd);
			if (err) {
				snprintf(why, why_size, "cannot reuse %.400s: %s", path, strerror(-err));
				return err;
			}
			u->carry[i++] = CARRY_REUSE;
			u->counts[CARRY_REUSE]++;
			continue;
		}
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    info.type == (__u32)bpf_map__type(map) &&
		    info.key_size == bpf_map__key_size(map) &&
		    info.value_size == bpf_map__value_size(map) && copyable(skel, map)) {
			u->old_fd[i] = fd;
			u->carry[i++] = CARRY_COPY;
			u->counts[CARRY_COPY]++;
			continue;
		}
		close(fd);
		if (kernel_state(skel, map) || copyable(skel, map)) {
			snprintf(why, why_size, "%s, and its contents cannot be carried over", layout);
			return -EPROTO;
		}
		u->counts[CARRY_FRESH]++; /* scratch or counters of another layout */
		i++;
	}
	return 0;
}

/* Every entry of the pinned map old_fd into map (the daemon alone writes these). */
static int copy_map(int old_fd, const struct bpf_map *map, char *why, size_t why_size)
{
	size_t ksize = bpf_map__key_size(map), vsize = bpf_map__value_size(map);
	void *key = calloc(1, ksize), *next = calloc(1, ksize), *value = calloc(1, vsize);
	int new_fd = bpf_map__fd(map), err = 0;
	void *prev = NULL;

	if (!key || !next || !value) {
		err = -ENOMEM;
		goto out;
	}
	while (bpf_map_get_next_key(old_fd, prev, next) == 0) {
		memcpy(key, next, ksize);
		prev = key;
		if (bpf_map_lookup_elem(old_fd, key, value)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			break;
		}
		if (bpf_map_update_elem(new_fd, key, value, BPF_ANY)) {
			err = -errno;
			break;
		}
	}
	if (!err && errno != ENOENT)
		err = -errno;
out:
	if (err)
		snprintf(why, why_size, "cannot copy the pinned map %s into this build's: %s",
			 bpf_map__name(map), strerror(-err));
	free(key);
	free(next);
	free(value);
	return err;
}

static int copy_maps(struct upgrade *u, char *why, size_t why_size)
{
	struct bpf_map *map;
	size_t i = 0;
	int err;

	bpf_object__for_each_map(map, u->e->skel->obj) {
		if (u->carry[i] == CARRY_COPY) {
			err = copy_map(u->old_fd[i], map, why, why_size);
			if (err)
				return err;
		}
		i++;
	}
	return 0;
}

/* How many times the program prog_fd has run (bpf_enable_stats must be on). */
static int run_count(int prog_fd, __u64 *count)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*count = info.run_cnt;
	return 0;
}

/*
 * Are this build's programs live? Every link must hold its program on an
 * LSM hook; and the file_open program must be seen running: its run count
 * (kept while statistics are enabled) grows over an open made here.
 */
static int check_live(struct upgrade *u, char *why, size_t why_size)
{
	struct enforcer *e = u->e;
	struct bpf_program *prog;
	__u64 before = 0, after = 0;
	size_t i = 0;
	int stats_fd, fd, err = 0;

	bpf_object__for_each_program(prog, e->skel->obj) {
		struct bpf_link_info link = { 0 };
		struct bpf_prog_info pi = { 0 };
		__u32 len = sizeof(link), plen = sizeof(pi);

		if (enforcer_cgroup_program(prog) && !e->steering)
			continue; /* not attached without a resolver (enforcer_attach_all) */
		if (i >= e->link_count ||
		    bpf_obj_get_info_by_fd(bpf_link__fd(e->links[i]), &link, &len) ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pi, &plen) ||
		    link.type != (enforcer_cgroup_program(prog) ? BPF_LINK_TYPE_CGROUP
								: BPF_LINK_TYPE_TRACING) ||
		    link.prog_id != pi.id) {
			snprintf(why, why_size, "the link of %s does not hold it on its hook",
				 bpf_program__name(prog));
			return -EPROTO;
		}
		i++;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot enable BPF statistics to see the programs run: %s",
			 strerror(-err));
		return err;
	}
	err = run_count(bpf_program__fd(e->skel->progs.check_open), &before);
	if (!err) {
		fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		err = run_count(bpf_program__fd(e->skel->progs.check_open), &after);
	}
	close(stats_fd);
	if (err) {
		snprintf(why, why_size, "cannot read check_open's run count: %s", strerror(-err));
		return err;
	}
	if (after <= before) {
		snprintf(why, why_size, "check_open did not run on an open after it was attached");
		return -EPROTO;
	}
	return 0;
}

/* Every map into staging (a map may have several pins), meta last: the set is complete. */
static int pin_maps(struct upgrade *u, char *why, size_t why_size)
{
	struct actgate_bpf *skel = u->e->skel;
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, skel->obj) {
		if (map == skel->maps.meta)
			continue;
		err = pins_path(u->staging, PINS_MAPS, bpf_map__name(map), path, sizeof(path));
		if (!err && bpf_obj_pin(bpf_map__fd(map), path))
			err = -errno;
		if (err) {
			snprintf(why, why_size, "cannot pin %.400s: %s", path, strerror(-err));
			return err;
		}
	}
	err = pins_path(u->staging, NULL, PINS_META, path, sizeof(path));
	if (!err && bpf_obj_pin(bpf_map__fd(skel->maps.meta), path))
		err = -errno;
	if (err)
		snprintf(why, why_size, "cannot pin %.400s: %s", path, strerror(-err));
	return err;
}

/* Set this build's overlap flag (its records' overlap byte). */
static int set_overlap(struct enforcer *e, __u32 on)
{
	__u32 zero = 0;

	return bpf_map__update_elem(e->skel->maps.overlap, &zero, sizeof(zero), &on, sizeof(on),
				    BPF_ANY);
}

/* Undo what this build made before the swap: its pins go, and with its links its programs. */
static void remove_staging(struct upgrade *u)
{
	char why[512] = "";
	int err;

	if (u->staging_fd < 0)
		return;
	err = pins_clear(u->staging_fd, why, sizeof(why));
	if (!err && rmdir(u->staging) < 0) {
		err = -errno;
		snprintf(why, sizeof(why), "%s", strerror(-err));
	}
	if (err)
		log_error("bpf", "cannot remove %s after a failed upgrade: %s; the next start of "
				 "actgated removes it", u->staging, why);
	close(u->staging_fd);
	u->staging_fd = -1;
}

/*
 * After the swap the previous set is in the staging directory, still locked
 * by e->pin_fd: remove its pins (its links are the last references to its
 * programs) and wait until its programs are gone.
 */
static void retire_previous(struct upgrade *u, const __u32 *old_ids, size_t old_count)
{
	struct enforcer *e = u->e;
	char why[512] = "";
	int err;

	err = pins_clear(e->pin_fd, why, sizeof(why));
	if (!err && rmdir(u->staging) < 0) {
		err = -errno;
		snprintf(why, sizeof(why), "cannot remove %.300s: %s", u->staging, strerror(-err));
	}
	if (!err)
		err = pins_wait_detached(old_ids, old_count, why, sizeof(why));
	if (err)
		log_error("bpf", "this build enforces from %s, but the previous build's set in %s "
				 "could not be removed (%s): both builds' programs stay attached until "
				 "the next start of actgated removes it", u->cfg->pin_dir, u->staging, why);
	close(e->pin_fd);
	e->pin_fd = u->staging_fd; /* the directory now at pin_dir, locked before the swap */
	u->staging_fd = -1;
}

int enforcer_upgrade(struct enforcer *e, const struct enforcer_config *cfg,
		     const struct actgate_meta *previous, char *why, size_t why_size)
{
	struct upgrade u = { .e = e, .cfg = cfg, .staging_fd = -1 };
	char prev_hex[13], ours_hex[13];
	__u32 old_ids[128];
	size_t old_count = 0;
	int err;

	for (size_t i = 0; i < UPGRADE_MAX_MAPS; i++)
		u.old_fd[i] = -1;
	err = pins_staging_path(cfg->pin_dir, u.staging, sizeof(u.staging));
	if (err) {
		snprintf(why, why_size, "pin directory %.400s: path too long", cfg->pin_dir);
		return err;
	}
	err = plan_maps(&u, why, why_size);
	if (err)
		goto out;
	err = actgate_bpf__load(e->skel);
	if (err) {
		snprintf(why, why_size,
			 "cannot load this build's BPF programs: %s (run with --verbose for the verifier log)",
			 strerror(-err));
		goto out;
	}
	err = copy_maps(&u, why, why_size);
	if (err)
		goto out;
	e->meta.abi_version = ACTGATE_ABI_VERSION;
	e->meta.daemon_tgid = (__u32)getpid();
	e->meta.created_ns = wall_ns();
	e->meta.events_bytes = bpf_map__max_entries(e->skel->maps.events);
	err = enforcer_build_id(e->meta.build_id);
	if (!err)
		err = enforcer_write_meta(e);
	if (err) {
		snprintf(why, why_size, "cannot write this build's meta map: %s", strerror(-err));
		goto out;
	}
	/*
	 * While both builds' programs run, an action the first to run allows
	 * is recorded by both; this build's records say which is which, and
	 * the drain journals the action once.
	 */
	err = set_overlap(e, 1);
	if (err) {
		snprintf(why, why_size, "cannot write the overlap map: %s", strerror(-err));
		goto out;
	}
	e->dedup = calloc(ENFORCER_DEDUP_SLOTS, sizeof(*e->dedup));
	if (!e->dedup) {
		err = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	e->overlap_end_ns = UINT64_MAX;
	err = pins_lock(u.staging, &u.staging_fd, why, why_size);
	if (err)
		goto out;
	if (mkdirat(u.staging_fd, PINS_MAPS, 0700) < 0 || mkdirat(u.staging_fd, PINS_LINKS, 0700) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s/{maps,links}: %s", u.staging, strerror(-err));
		goto out;
	}
	/* From here both builds' programs run on every hook. */
	err = enforcer_attach_all(u.e, u.staging, why, why_size); /* beside the pinned ones */
	if (!err)
		err = check_live(&u, why, why_size);
	if (!err)
		err = pin_maps(&u, why, why_size);
	if (err)
		goto out;
	pins_linked_programs(cfg->pin_dir, old_ids, sizeof(old_ids) / sizeof(old_ids[0]),
			     &old_count);
	/* One step: whoever looks at pin_dir finds the previous set whole or this one whole. */
	if (renameat2(AT_FDCWD, u.staging, AT_FDCWD, cfg->pin_dir, RENAME_EXCHANGE) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot swap %s and %s: %s", u.staging, cfg->pin_dir,
			 strerror(-err));
		goto out;
	}
	retire_previous(&u, old_ids, old_count);
	/* The previous build's programs are gone: this build's records stand alone from here. */
	err = set_overlap(e, 0);
	if (err) {
		log_error("bpf", "cannot clear the overlap map (%s): this build's records go on "
				 "saying they overlap another build's, which costs nothing while "
				 "none runs", strerror(-err));
		err = 0;
	}
	e->overlap_end_ns = boot_ns();
	enforcer_hex12(previous->build_id, prev_hex);
	enforcer_hex12(e->meta.build_id, ours_hex);
	log_info("bpf", "upgraded the pins at %s from BPF build %s to %s without a gap: this build's "
			"%zu programs were attached and seen running before the previous build's %zu "
			"were detached; maps carried over %zu, copied %zu, new %zu",
		 cfg->pin_dir, prev_hex, ours_hex, e->link_count, old_count,
		 u.counts[CARRY_REUSE], u.counts[CARRY_COPY], u.counts[CARRY_FRESH]);
out:
	if (err)
		remove_staging(&u);
	for (size_t i = 0; i < UPGRADE_MAX_MAPS; i++)
		if (u.old_fd[i] >= 0)
			close(u.old_fd[i]);
	return err;
}
