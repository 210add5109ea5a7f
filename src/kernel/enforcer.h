/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel side seen from userspace: load and attach the BPF LSM
 * programs and pin them (src/pins.h), or adopt the pins a previous daemon
 * left; write the policy image and the workload table into their maps, and
 * hand decision records to a callback.
 */
#ifndef ACTGATE_ENFORCER_H
#define ACTGATE_ENFORCER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"
#include "policy/compile.h"

struct actgate_bpf;
struct bpf_link;

/* Called for every record drained from the ring buffer. Return 0 to go on. */
typedef int (*record_handler_fn)(const struct actgate_decision *rec, size_t size, void *ctx);

#define ENFORCER_MAX_PROGRAMS 64

struct enforcer_config {
	const char *pin_dir;
	/* The ring buffer's size when the pins are made (a power of 2, at least a
	 * page); 0: ACTGATE_EVENTS_BYTES. Adopted pins keep theirs. */
	uint64_t events_bytes;
	bool verbose;
	/* The cgroup2 mount: bpf/steer.bpf.c's programs attach to its root. */
	const char *cgroup_root;
	/*
	 * Attach bpf/steer.bpf.c's programs: the daemon runs the resolver.
	 * Without it they would only cost every connect and datagram on the
	 * host a run that changes nothing, so they are not attached (and
	 * detached from adopted pins that have them).
	 */
	bool steering;
};

struct enforcer {
	struct actgate_bpf *skel;
	/* Made by this daemon (not adopted): the links, pinned under pin_dir/links. */
	struct bpf_link *links[ENFORCER_MAX_PROGRAMS];
	size_t link_count;
	int pin_fd;   /* the pin directory, locked (flock) while this daemon runs */
	char cgroup_root[4096]; /* enforcer_config.cgroup_root */
	bool adopted; /* the pins were there: nothing was loaded or attached, unless upgraded */
	bool upgraded; /* they were another build's, replaced make-before-break (adopted too) */
	bool steering; /* bpf/steer.bpf.c's programs are attached (and pinned) */
	struct actgate_meta meta; /* as found (adopted) or as written */
	/*
	 * The ring buffer, read in place (mmap) rather than through libbpf's
	 * ring_buffer, whose consumer position moves as each record is handed
	 * over: here it moves only in enforcer_commit, once the records are in
	 * the journal, so that a daemon killed in between loses none of them
	 * (the next one reads them again from the pinned ring buffer).
	 */
	int events_fd;
	uint64_t *consumer_pos; /* the consumer page (read-write) */
	uint64_t *producer_pos; /* the producer page, then the data once (read-only) */
	uint8_t *data;
	size_t events_size;
	/*
	 * A record that wraps past the data's end, made whole. The kernel
	 * lets the data be mapped twice in a row, which makes every record
	 * whole in place, but the second mapping counts as much again in the
	 * daemon's resident size (32 MiB for the default 16 MiB); wrapping
	 * records are rare, and this grows only for a longer one than before.
	 */
	uint8_t *wrapped;
	size_t wrapped_cap;
	size_t page_size;
	uint64_t read_pos; /* records up to here have been handed over */
	record_handler_fn handler;
	void *handler_ctx;
	/*
	 * The signal store's generation that enforcer_add_workload stamps into
	 * the entries it writes (decision records carry it): the caller sets
	 * it before pointing workloads at policies chosen under it.
	 */
	uint64_t signal_generation;
	/*
	 * After an upgrade: the records the overlap decided twice (bpf/maps.h,
	 * overlap). A record whose thread's previous record is the other
	 * build's (the overlap byte differs) of the same decision is that
	 * decision again, and not handed over; dedup holds
	 * each thread's last record (by thread id modulo its size) for records
	 * up to overlap_end_ns. NULL when not upgraded.
	 */
	struct enforcer_dedup *dedup;
	uint64_t overlap_end_ns;
	uint64_t overlap_duplicates;
};

#define ENFORCER_DEDUP_SLOTS 4096
struct enforcer_dedup {
	uint32_t pid;
	bool used;
	uint8_t overlap;
	uint64_t hash; /* of the decision: every field but the time and the overlap byte */
};

/*
 * Can this kernel enforce? Checks that the BPF LSM is active. Returns 0, or
 * -EOPNOTSUPP with the reason in why.
 */
int enforcer_probe(char *why, size_t why_size);

/*
 * Lock the pin directory; adopt the pin set there (check that it is ours:
 * ABI version and BPF build, every map and link present and of the
 * expected kind; then reuse its maps, loading and attaching nothing), or
 * when there is none, load, attach and pin every program and map; pins of
 * another BPF build of this ABI version are upgraded make-before-break
 * (enforcer-upgrade.c; adopted and upgraded set, the maps carried over).
 * The steering programs only with cfg->steering: adopted pins that lack
 * them are replaced as in an upgrade, and their links are removed from
 * adopted pins that have them without it (e->steering says which). Either
 * way the meta map names this process as the daemon to protect. -errno,
 * logged with the reason and the way out; -EBUSY while another daemon holds
 * the pins, -EPROTO for an incompatible or incomplete pin set.
 */
int enforcer_start(struct enforcer *e, const struct enforcer_config *cfg,
		   record_handler_fn handler, void *handler_ctx);

/* Is prog attached to a cgroup (bpf/steer.bpf.c) rather than an LSM hook? */
struct bpf_program;
bool enforcer_cgroup_program(const struct bpf_program *prog);

/*
 * Where the resolver listens, for bpf/steer.bpf.c (abi.h, struct
 * actgate_steer_conf); ip4 0: steer nothing. Network order. -EPROTO for an
 * address while the steering programs are not attached: the connect
 * decision would let lookups through that nothing steers.
 */
int enforcer_set_steering(struct enforcer *e, uint32_t ip4, uint16_t port);

/* Name the daemon that self-protection guards (0 at a clean stop: none). */
int enforcer_set_daemon(struct enforcer *e, uint32_t tgid);

/*
 * Write one effective policy: its rules first, then the policy header that
 * makes them reachable, so that no lookup sees a header without its rules.
 */
int enforcer_load_policy(struct enforcer *e, const struct policy_image *img,
			 const struct effective_policy *ep);

/* Write every effective policy of an image, each as enforcer_load_policy does. */
int enforcer_load_image(struct enforcer *e, const struct policy_image *img);

/*
 * Remove an effective policy's entries, or an image's: the headers first,
 * so that from then on nothing reaches the rules. Only once no program can
 * still be using them: a program that read the old header before a swap
 * looks up its rules after it (see the daemon's grace period). Entries
 * already gone are fine (a failed load may have written part).
 */
void enforcer_unload_policy(struct enforcer *e, const struct policy_image *img,
			    const struct effective_policy *ep);
void enforcer_unload_image(struct enforcer *e, const struct policy_image *img);

/*
 * Remove every policy header and rule whose policy id is not of generation
 * keep (headers first): what an adopted set holds from generations whose
 * images died with the previous daemon. Returns how many entries went, or
 * -errno.
 */
long enforcer_purge_generations(struct enforcer *e, uint32_t keep);

/*
 * Point a workload at a policy (one map update: an action sees the old
 * entry or the new one). An existing entry keeps its flags (revoked,
 * grants) and expiry; the signal generation is e->signal_generation.
 */
int enforcer_add_workload(struct enforcer *e, uint64_t cgroup_id, uint64_t workload_id,
			  uint32_t policy_id);
/* A workload's whole entry: read it, and write it back changed (one update). */
int enforcer_get_workload(const struct enforcer *e, uint64_t cgroup_id, struct actgate_workload *wl);
int enforcer_put_workload(struct enforcer *e, uint64_t cgroup_id, const struct actgate_workload *wl);

/*
 * Does the kernel count task pid as governed (it carries a workload mark,
 * wherever its cgroup is now)? 1, 0, or -errno (the task is gone, ...).
 */
int enforcer_task_governed(const struct enforcer *e, int pid);

/*
 * The workload (the key of its workloads entry) the kernel's mark on the
 * task behind pidfd names: 1 with *workload_cgroup_id, 0 when the task
 * has no mark, or -errno. (Delegation: who asks, as the kernel knows it.)
 */
int enforcer_task_workload(const struct enforcer *e, int pidfd, uint64_t *workload_cgroup_id);

/*
 * Point the mark of the task behind pidfd at another workload (a
 * sub-workload it was moved into); its exec memos are dropped, they were
 * decided under the old one. 0 or -errno.
 */
int enforcer_task_rehome(struct enforcer *e, int pidfd, uint64_t workload_cgroup_id);

struct protect_set;
/*
 * Make the protected_files map hold exactly set (kernel/protect.h): its
 * entries written first, then those an earlier daemon left that set does
 * not name removed. 0 or -errno (logged).
 */
int enforcer_protect(struct enforcer *e, const struct protect_set *set);

/* Time-bound grants (bpf/lib/grant.h): add or replace one, remove one (gone is fine). */
int enforcer_put_grant(struct enforcer *e, const struct actgate_grant_key *key,
		       const struct actgate_grant *grant);
int enforcer_remove_grant(struct enforcer *e, const struct actgate_grant_key *key);
int enforcer_remove_workload(struct enforcer *e, uint64_t cgroup_id);

/*
 * The learned map (abi.h, struct actgate_learned), written by the
 * daemon's learned set (daemon/learned.h) alone: add or replace one entry,
 * remove one (gone is fine), remove all (a daemon that starts does not
 * know the names of what an earlier one learned).
 */
int enforcer_put_learned(struct enforcer *e, const struct actgate_learned_key *key,
			 const struct actgate_learned *val);
int enforcer_remove_learned(struct enforcer *e, const struct actgate_learned_key *key);
int enforcer_clear_learned(struct enforcer *e);

/* The cgroup ids in the workloads map (*ids malloc'd), for reconciliation. */
int enforcer_workload_cgroups(struct enforcer *e, uint64_t **ids, size_t *count);

/*
 * The file descriptor to poll for records; the drain call, which hands every
 * complete record to the handler and returns how many (or -errno); and the
 * commit that gives their space back to the kernel (call it once they are
 * written: until then a restarted daemon reads them again).
 */
int enforcer_events_fd(const struct enforcer *e);
int enforcer_drain(struct enforcer *e);
void enforcer_commit(struct enforcer *e);

/* Records lost because the ring buffer was full, per action. */
int enforcer_dropped(const struct enforcer *e, uint64_t dropped[ACTGATE_NR_ACTIONS]);

/*
 * What the programs could not do and went on without, counted in the kernel
 * per reason since the pins were made (an adopted set keeps counting):
 * counts[f] for every enum actgate_failure f (include/actgate/abi.h says
 * what each costs). 0, or -errno with counts unspecified.
 */
int enforcer_read_failures(const struct enforcer *e, uint64_t counts[ACTGATE_NR_FAILURES]);

/*
 * A failure's name for people and scripts ("task-mark", "child-mark",
 * "record-slot", "address-read", "name-read"); NULL for an unknown one.
 */
const char *enforcer_failure_name(unsigned int failure);

/*
 * Close everything this process holds. The pins stay, and with them the
 * programs and maps: enforcement goes on (pins_detach ends it).
 */
void enforcer_stop(struct enforcer *e);

#endif /* ACTGATE_ENFORCER_H */
