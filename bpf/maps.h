/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The maps every program shares. maps.bpf.c defines them; every other
 * .bpf.c declares them extern, and `bpftool gen object` links them into one
 * set, so the definitions must stay identical: they live only here.
 */
#ifndef ACTGATE_BPF_MAPS_H
#define ACTGATE_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "actgate/abi.h"

#ifdef ACTGATE_DEFINE_MAPS
#define ACTGATE_MAP
#else
#define ACTGATE_MAP extern
#endif

/* Sizes userspace may raise before load (bpf_map__set_max_entries). */
#define ACTGATE_MAX_WORKLOADS 65536
#define ACTGATE_MAX_POLICIES 4096
#define ACTGATE_MAX_PATH_RULES 262144
#define ACTGATE_MAX_NET_RULES 65536
#define ACTGATE_MAX_GRANTS 16384
#define ACTGATE_EVENTS_BYTES (16 << 20)
#define ACTGATE_MAX_PROTECTED 1024
#define ACTGATE_MAX_WRITTEN 262144

/* cgroup id -> governing workload (covers the cgroup's whole subtree). */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, struct actgate_workload);
} workloads SEC(".maps");

/* policy id -> compiled policy header (generation, per-action defaults). */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct actgate_policy);
} policies SEC(".maps");

/*
 * (policy, action, kind, dev, ino) -> a decision per access slot: exec and
 * open rules, and connect rules for unix sockets (keyed by the socket file).
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_PATH_RULES);
	__type(key, struct actgate_path_key);
	__type(value, struct actgate_path_value);
} path_rules SEC(".maps");

/* (policy, address prefix) -> port rules: connect rules. */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ACTGATE_MAX_NET_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct actgate_net_key);
	__type(value, struct actgate_net_rules);
} net_rules SEC(".maps");

/*
 * (workload id, action, target) -> a time-bound grant (see abi.h). A hash,
 * not an LPM trie: grants name one file or one address, and hash maps are
 * usable from every hook on 6.1.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_GRANTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct actgate_grant_key);
	__type(value, struct actgate_grant);
} grants SEC(".maps");

/*
 * Bucket -> how many workloads keys are in it (abi.h, governed_buckets): the
 * cheap first test before a workloads lookup.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACTGATE_GOVERNED_BUCKETS);
	__type(key, __u32);
	__type(value, __u32);
} governed_buckets SEC(".maps");

/*
 * Governance follows the task, not only its cgroup: a task that ever acted
 * under a workload, and every task it forks (task_alloc), carries the
 * workload's cgroup id here, so moving to another cgroup (a write to
 * cgroup.procs, clone3 with CLONE_INTO_CGROUP) does not shed the policy.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct actgate_task_mark);
} task_marks SEC(".maps");

/*
 * The files governed tasks wrote (abi.h, actgate_written_key), for exec's
 * `written: deny`. A hash rather than inode storage: inode storage goes
 * with the in-memory inode, and a root task can evict that (drop_caches)
 * while the file stays on disk. Entries leave when the inode is freed with
 * no name left (bpf/drift.bpf.c); a full map refuses the write.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_WRITTEN);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct actgate_written_key);
	__type(value, struct actgate_written);
} written_files SEC(".maps");

/*
 * (workload id, policy id, address) -> connects allowed by an answer to an allowed
 * lookup (abi.h, struct actgate_learned). A hash, not an LRU: the daemon
 * alone writes it and keeps it within its size (resolver.learned_max),
 * evicting and counting itself, so that no entry is forgotten unseen.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct actgate_learned_key);
	__type(value, struct actgate_learned);
} learned SEC(".maps");

/* Where the resolver listens (abi.h, struct actgate_steer_conf). */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct actgate_steer_conf);
} resolver_steer SEC(".maps");

/*
 * Socket cookie -> the DNS server a steered socket named (abi.h), so that
 * its replies read as from there. LRU: a socket's entry is only wanted
 * while it waits for answers; forgetting an old one costs that socket's
 * reply rewrite, never a decision.
 */
#define ACTGATE_MAX_STEERED 16384
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACTGATE_MAX_STEERED);
	__type(key, __u64);
	__type(value, struct actgate_steered);
} steered SEC(".maps");

/* Decision records for the daemon. */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ACTGATE_EVENTS_BYTES);
} events SEC(".maps");

/*
 * Records that did not fit in the ring buffer, per action. Per-CPU, so that
 * one instruction adds (an atomic add: a task preempted between a load and
 * a store would lose another's count); userspace sums the CPUs.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACTGATE_NR_ACTIONS);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

/*
 * What the programs could not do and went on without, per enum
 * actgate_failure (lib/failure.h); per-CPU like dropped.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACTGATE_NR_FAILURES);
	__type(key, __u32);
	__type(value, __u64);
} failures SEC(".maps");

/*
 * Where a record is built before it is copied into the ring buffer, sized to
 * its path: a decision with its path is 4 KiB, far over the 512-byte BPF
 * stack, and reserving that much ring buffer for every record would hold
 * twenty times fewer of them (what the ring buffer holds is what outlives a
 * daemon restart). A task claims a slot of its CPU for one record
 * (lib/record.h says why a claim, and why this many).
 *
 * names: the readable path of hooks where bpf_d_path is refused, built name
 * by name backwards from the end of its first ACTGATE_PATH_BUF bytes; the
 * rest absorbs the bytes of a name written at the last position, so that
 * every write is in bounds for the verifier (a position below
 * ACTGATE_PATH_BUF, a name of at most 255 bytes).
 */
#define ACTGATE_RECORD_SLOTS 4
struct actgate_record_slot {
	__u64 users;   /* tasks claiming the slot (lib/record.h, record_claim) */
	__u32 index;   /* this slot's key */
	__u32 pad;
	struct actgate_decision rec;
	char names[ACTGATE_PATH_BUF + 256];
};

ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACTGATE_RECORD_SLOTS);
	__type(key, __u32);
	__type(value, struct actgate_record_slot);
} record_slots SEC(".maps");

/*
 * What the pinned set is (struct actgate_meta): its ABI, its BPF build, and
 * the daemon that self-protection guards now. A map rather than a const
 * volatile: the programs outlive the daemon that loaded them, and the next
 * daemon, with another pid, adopts them without loading them again.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct actgate_meta);
} meta SEC(".maps");

/*
 * actgate's own files and directories, their file systems and the daemon's
 * mount namespace (abi.h, struct actgate_protect_key) -> enum
 * actgate_protect_flags: what self-protection keeps governed tasks from
 * changing (bpf/protect.bpf.c, lib/protected.h). Written by the daemon.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACTGATE_MAX_PROTECTED);
	__type(key, struct actgate_protect_key);
	__type(value, __u32);
} protected_files SEC(".maps");

/*
 * 1 while this build's programs run beside a previous build's during an
 * upgrade (src/kernel/enforcer-upgrade.c): their records say so (the
 * record's overlap byte), so that the daemon journals each action once.
 * Never carried over from another build's pins.
 */
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} overlap SEC(".maps");

/*
 * The path verdict cache (bpf/lib/cache.h): what the directory rules of a
 * directory and its ancestors up to the root of its file system decide, per
 * (policy, action, directory), so that an open's cost does not grow with
 * its depth. An entry holds only while nothing it was made from has
 * changed (lib/cache.h, path_seg_valid): it is stamped with the two epochs
 * of path_cache_epoch and the kernel's rename sequence. LRU: a full cache
 * forgets the entries least used, never a decision.
 */
#define ACTGATE_PATH_CACHE_ENTRIES 16384
struct path_seg {
	__u64 kernel_epoch; /* path_cache_epoch[PATH_EPOCH_KERNEL] when made */
	__u64 daemon_epoch; /* path_cache_epoch[PATH_EPOCH_DAEMON] when made */
	__u32 rename_seq;   /* the kernel's rename_lock sequence when made (even) */
	__u16 depth;        /* parent steps from the directory to where the walk ended */
	__u8 decided;       /* slots (1 << slot) some entry decided */
	__u8 end;           /* enum path_seg_end */
	__u16 level[ACTGATE_ACCESS_SLOTS]; /* per decided slot: steps from the directory to its entry */
	struct actgate_decision_slot slot[ACTGATE_ACCESS_SLOTS];
	__u64 check;        /* lib/cache.h, path_seg_check: torn or reused entries fail it */
};

ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACTGATE_PATH_CACHE_ENTRIES);
	__type(key, struct actgate_path_key);
	__type(value, struct path_seg);
} path_cache SEC(".maps");

/*
 * The walk that finds or makes a segment (lib/cache.h, path_seg_get): the
 * segment's directory (its path_cache key), the key being looked up and the
 * walk's position, and the segment. In a walk slot, not on the stack.
 */
struct seg_fill {
	struct actgate_path_key dir_key;
	struct actgate_path_key key; /* kind SUBTREE; dev, ino: the dentry at d */
	struct dentry *d;
	struct super_block *sb;
	struct path_seg seg;
	__u8 uncacheable;
	__u8 pad[7];
};

#define ACTGATE_PATH_WALK_SLOTS 4
struct path_walk_slot {
	__u64 users; /* tasks claiming the slot (lib/cache.h, path_walk_claim) */
	/* The walk by segments (lib/path.h, segment_step): */
	__u64 d;         /* struct dentry *: the start, while at_fs_root is 0 */
	__u64 mnt;       /* struct mount *: the mount the walk is in */
	__u32 policy_id;
	__u32 used;      /* steps spent: one per level up, one per mount crossed */
	__u8 action;
	__u8 at_fs_root; /* the last segment ended at its file system's root */
	__u8 pad[6];
	/*
	 * The next segment's directory's super block and identity, when the
	 * caller read them already (lib/path.h, first_parent_btf); sb 0: not.
	 */
	struct path_known {
		__u64 sb;
		__u64 ino;
		__u32 dev;
		__u32 pad;
	} known;
	struct seg_fill fill; /* the segment of the file system the walk is in */
};

ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACTGATE_PATH_WALK_SLOTS);
	__type(key, __u32);
	__type(value, struct path_walk_slot);
} path_walk_slots SEC(".maps");

/*
 * Two counters that end every entry of path_cache made before they moved:
 * [0] moved by the programs (lib/cache.h says on what: a new directory, a
 * new file system, a rename, a link, a mount), [1] by the daemon after it
 * writes or removes rules.
 */
#define ACTGATE_PATH_EPOCHS 2
ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACTGATE_PATH_EPOCHS);
	__type(key, __u32);
	__type(value, __u64);
} path_cache_epoch SEC(".maps");

/*
 * The opened file's own entries (exact, else subtree: lib/path.h,
 * own_entries) for the last policy that asked, per action, kept with the
 * file's in-memory inode: a governed open of a file opened before reads
 * them here, one storage lookup, instead of two hash lookups in path_rules.
 * They depend on the rules alone (path_rules is keyed by the inode's
 * identity, which an inode keeps for its life; the storage goes with the
 * inode), so an entry holds while path_cache_epoch[PATH_EPOCH_DAEMON] has
 * not moved since it was made. Two CPUs may write one at once, and a reader
 * may copy one being written: the check (lib/path.h, own_entries_check)
 * makes a torn copy a miss. Only where the inode pointer is one the kernel
 * vouches for (file->f_inode of a hook's own file): ancestors' inodes are
 * not, which is why path_cache is a hash.
 */
struct own_entries {
	__u64 daemon_epoch; /* path_cache_epoch[PATH_EPOCH_DAEMON] before the lookups */
	__u32 policy_id;
	__u8 action;
	__u8 pad[3];
	struct actgate_path_value own; /* per slot: the exact entry's, else the subtree entry's */
	__u64 check;
};

/*
 * One entry for open (and exec-map), one for exec: an exec asks both of the
 * same binary, and one entry would be rewritten at every step of it.
 */
#define OWN_ENTRIES_OPEN 0
#define OWN_ENTRIES_EXEC 1
struct file_own {
	struct own_entries by_action[2];
};

ACTGATE_MAP struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct file_own);
} file_own_entries SEC(".maps");

#endif /* ACTGATE_BPF_MAPS_H */
