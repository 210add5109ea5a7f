/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The ABI shared by the BPF programs and userspace: map keys and values, the
 * decision record, and the enums they use. Only fixed-size types, explicit
 * padding and a size assertion on every struct, so that clang -target bpf and
 * the host compiler agree on every byte.
 *
 * Userspace includes <linux/types.h> before this header; BPF code gets the
 * __u* types from vmlinux.h.
 */
#ifndef ACTGATE_ABI_H
#define ACTGATE_ABI_H

/* Bumped on any change to a layout below; travels in every record. */
#define ACTGATE_ABI_VERSION 3

/* Bounds shared by both sides. */
#define ACTGATE_MAX_CGROUP_DEPTH 64    /* ancestor levels examined per action */
#define ACTGATE_MAX_PATH_WALK 4096     /* ancestor levels walked for directory rules */
#define ACTGATE_PATH_BUF 4096          /* PATH_MAX: the readable path in a record */
#define ACTGATE_NET_RULES_PER_PREFIX 32 /* port rules carried by one CIDR entry */
#define ACTGATE_COMM_LEN 16
/* Records wake the daemon once this much is waiting; it also drains every
 * ACTGATE_DRAIN_INTERVAL_MS. */
#define ACTGATE_WAKEUP_BYTES (256 * 1024)
#define ACTGATE_DRAIN_INTERVAL_MS 50

/*
 * Enums below hold only values that a field can carry; counts, masks and
 * aliases are macros beside them, tied to the enum by a static assertion.
 */
enum actgate_action {
	ACTGATE_ACTION_NONE = 0,
	ACTGATE_ACTION_EXEC = 1,
	ACTGATE_ACTION_OPEN = 2,
	ACTGATE_ACTION_CONNECT = 3,
	ACTGATE_ACTION_TAMPER = 4, /* an attempt on actgate itself; always denied; no policy section */
	/*
	 * Decided and recorded by the daemon, never by a BPF program (no
	 * ring buffer record, no dropped counter): a DNS lookup by a governed
	 * workload (egress by name), a request for a sub-workload (delegation),
	 * and a signal event applied (its record says what changed).
	 */
	ACTGATE_ACTION_RESOLVE = 5,
	ACTGATE_ACTION_DELEGATE = 6,
	ACTGATE_ACTION_SIGNAL = 7,
};
/*
 * Arrays indexed by action: the actions the kernel records (index 0, none,
 * unused), e.g. the pinned dropped counters. Their size is part of the pins'
 * layout: the daemon's actions above never enter it.
 */
#define ACTGATE_NR_ACTIONS 5
_Static_assert(ACTGATE_NR_ACTIONS == ACTGATE_ACTION_TAMPER + 1,
	       "ACTGATE_NR_ACTIONS: the last action the kernel records + 1");
/* Every action a journal record may carry: the last one + 1. */
#define ACTGATE_NR_RECORD_ACTIONS 8
_Static_assert(ACTGATE_NR_RECORD_ACTIONS == ACTGATE_ACTION_SIGNAL + 1,
	       "ACTGATE_NR_RECORD_ACTIONS: the last action + 1");
/* Arrays indexed by action: the actions a policy has sections for (exec, open, connect). */
#define ACTGATE_NR_POLICY_ACTIONS 4
_Static_assert(ACTGATE_NR_POLICY_ACTIONS == ACTGATE_ACTION_CONNECT + 1,
	       "ACTGATE_NR_POLICY_ACTIONS: the last action with a policy section + 1");

/* What a tamper record is about: the record's dev field; ino holds the detail. */
enum actgate_tamper {
	ACTGATE_TAMPER_SIGNAL = 1, /* a signal to actgated; ino: the signal number */
	ACTGATE_TAMPER_PTRACE = 2, /* ptrace or /proc/PID/mem access to actgated */
	ACTGATE_TAMPER_BPF = 3,    /* the bpf() system call; ino: the command */
	ACTGATE_TAMPER_PINS = 4,   /* removing, renaming or unmounting on the bpffs (the
				    * pins); ino: enum actgate_pin_op; target_path: the
				    * name (unlink, rmdir, rename) or the mount point */
	/*
	 * Reaching a process outside the task's workload (and its descendant
	 * workloads): ino is the target's process id << 32 | the signal
	 * (SIGNAL_OUTSIDE) or the PTRACE_MODE_* bits (PTRACE_OUTSIDE; 0 for
	 * PTRACE_TRACEME, where the target is the tracer asked for).
	 */
	ACTGATE_TAMPER_SIGNAL_OUTSIDE = 5,
	ACTGATE_TAMPER_PTRACE_OUTSIDE = 6,
	/*
	 * A door through which the kernel runs or loads code outside every
	 * workload (enum actgate_kernel_door), not allowed by spec.kernel; ino:
	 * the door; target_path: the file, or the module asked for.
	 */
	ACTGATE_TAMPER_KERNEL = 7,
	/*
	 * Changing, locking, mounting over or (the seal key) reading actgate's
	 * own files: the pin, state, policy and journal directories and the
	 * seal key (bpf/protect.bpf.c); ino: enum actgate_file_op;
	 * target_path: the file, from the root of its file system.
	 */
	ACTGATE_TAMPER_FILES = 8,
	/*
	 * Changing how another process runs: its resource limits (prlimit),
	 * nice value, I/O priority, scheduling policy or CPU affinity, or
	 * moving its memory (migrate_pages, move_pages). TASK: actgated,
	 * TASK_OUTSIDE: a process outside the task's workload; ino: the
	 * target's process id << 32 | enum actgate_task_op.
	 */
	ACTGATE_TAMPER_TASK = 9,
	ACTGATE_TAMPER_TASK_OUTSIDE = 10,
};

/* What a governed task tried to change of another process (ACTGATE_TAMPER_TASK*). */
enum actgate_task_op {
	ACTGATE_TASK_RLIMIT = 1,    /* setrlimit/prlimit64 of another process */
	ACTGATE_TASK_NICE = 2,      /* setpriority, the nice value */
	ACTGATE_TASK_IOPRIO = 3,    /* ioprio_set */
	ACTGATE_TASK_SCHEDULER = 4, /* sched_setscheduler/setattr/setparam, sched_setaffinity */
	ACTGATE_TASK_MEMORY = 5,    /* migrate_pages, move_pages */
};

/*
 * The kernel's doors to code outside every workload: a governed task is
 * refused each unless its policy allows it (spec.kernel.allow;
 * actgate_policy.kernel_allow has bit 1 << door).
 */
enum actgate_kernel_door {
	ACTGATE_KERNEL_MODULES = 0,      /* init_module, finit_module, module requests */
	ACTGATE_KERNEL_KEXEC = 1,        /* kexec_load, kexec_file_load */
	ACTGATE_KERNEL_CORE_PATTERN = 2, /* writes to /proc/sys/kernel/core_pattern */
	ACTGATE_KERNEL_MODPROBE = 3,     /* writes to /proc/sys/kernel/modprobe */
	ACTGATE_KERNEL_UEVENT_HELPER = 4, /* /sys/kernel/uevent_helper, /proc/sys/kernel/hotplug */
	ACTGATE_KERNEL_BINFMT_MISC = 5,  /* writes to any file of a binfmt_misc file system */
	ACTGATE_KERNEL_POWEROFF_CMD = 6, /* writes to /proc/sys/kernel/poweroff_cmd */
	ACTGATE_KERNEL_MEM_DEVICES = 7,  /* opening /dev/mem, /dev/kmem, /dev/port (char 1:1, 1:2, 1:4) */
};
#define ACTGATE_NR_KERNEL_DOORS 8
_Static_assert(ACTGATE_NR_KERNEL_DOORS == ACTGATE_KERNEL_MEM_DEVICES + 1,
	       "ACTGATE_NR_KERNEL_DOORS: the last door + 1");

enum actgate_pin_op {
	ACTGATE_PIN_UNLINK = 1,
	ACTGATE_PIN_RMDIR = 2,
	ACTGATE_PIN_RENAME = 3,
	ACTGATE_PIN_UMOUNT = 4,
};

enum actgate_verdict {
	ACTGATE_VERDICT_ALLOW = 0,
	ACTGATE_VERDICT_DENY = 1,
};

enum actgate_mode {
	ACTGATE_MODE_ENFORCE = 0,
	ACTGATE_MODE_AUDIT = 1,
};

/* Which decisions of a policy are recorded. */
enum actgate_record {
	ACTGATE_RECORD_ALL = 0,  /* every decision */
	ACTGATE_RECORD_DENY = 1, /* denials, enforced or audited, only */
	ACTGATE_RECORD_NONE = 2, /* none (tamper attempts are recorded regardless) */
	/*
	 * Every decision, and an action whose record cannot be written (the
	 * ring buffer full, no record slot free) is denied, enforced, and
	 * counted (ACTGATE_FAILURE_UNRECORDED): nothing succeeds unrecorded.
	 */
	ACTGATE_RECORD_STRICT = 3,
};

/*
 * What an open asks for. Each access is decided on its own (a rule names the
 * accesses it covers) and the open is denied when any access it asks for is.
 * Exec and unix-socket connects have no accesses: they use the first slot
 * alone, ACTGATE_ACCESS_WHOLE.
 */
enum actgate_access {
	ACTGATE_ACCESS_READ = 1 << 0,
	ACTGATE_ACCESS_WRITE = 1 << 1,
	ACTGATE_ACCESS_CREATE = 1 << 2,   /* creating a new file, or truncating one */
	ACTGATE_ACCESS_EXEC_MAP = 1 << 3, /* mapping the file executable (mmap PROT_EXEC) */
	/*
	 * Records only, never a slot: the accesses were asked by a hard link
	 * or a rename of the file (bpf/file.bpf.c, check_link and
	 * check_rename), not by an open.
	 */
	ACTGATE_ACCESS_LINK = 1 << 4,
	/*
	 * Records only: the file (or, in a connect record, the socket) was
	 * received from another process (SCM_RIGHTS, pidfd_getfd) and judged
	 * as the open (connect) it stands for (bpf/receive.bpf.c).
	 */
	ACTGATE_ACCESS_RECEIVED = 1 << 5,
};
#define ACTGATE_ACCESS_SLOTS 4 /* slot i decides access 1 << i */
/* Every access a slot decides. */
#define ACTGATE_ACCESS_ALL ((1 << ACTGATE_ACCESS_SLOTS) - 1)
_Static_assert(ACTGATE_ACCESS_ALL == (ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE |
				      ACTGATE_ACCESS_CREATE | ACTGATE_ACCESS_EXEC_MAP),
	       "ACTGATE_ACCESS_ALL: one bit per slot");
/* The one slot of exec and unix connect, which have no accesses: slot 0. */
#define ACTGATE_ACCESS_WHOLE ACTGATE_ACCESS_READ
#define ACTGATE_ACCESS_RECORDED \
	(ACTGATE_ACCESS_ALL | ACTGATE_ACCESS_LINK | ACTGATE_ACCESS_RECEIVED) /* a record's bits */

/*
 * Sockets whose destination connect rules cannot judge, because it is in
 * the packet the task writes rather than in a sockaddr: raw IP sockets
 * (SOCK_RAW of AF_INET and AF_INET6, IP_HDRINCL included) and packet
 * sockets (AF_PACKET, any type). Their creation is decided on its own, by
 * the connect section's `sockets:` list (denied unless listed), from the
 * connect default slots beyond slot 0: slot ACTGATE_SOCKET_RAW for raw,
 * ACTGATE_SOCKET_PACKET for packet.
 */
enum actgate_socket_kind {
	ACTGATE_SOCKET_RAW = 1,
	ACTGATE_SOCKET_PACKET = 2,
};
_Static_assert(ACTGATE_SOCKET_PACKET < ACTGATE_ACCESS_SLOTS, "a connect default slot per socket kind");

/*
 * What a connect record is about: its dev field. 0: a destination (an
 * address, or a unix socket's path); ACTGATE_CONNECT_SOCKET: the creation of
 * a raw or packet socket, with family (AF_INET, AF_INET6, AF_PACKET),
 * protocol (raw: the IP protocol), port (packet: the ethertype, host order)
 * and ino (the socket type: SOCK_RAW, SOCK_DGRAM, SOCK_PACKET).
 */
enum actgate_connect_target {
	ACTGATE_CONNECT_DESTINATION = 0,
	ACTGATE_CONNECT_SOCKET = 1,
};

/* Why a verdict was reached. */
enum actgate_reason {
	ACTGATE_REASON_DEFAULT = 0, /* no rule matched: the policy's default */
	ACTGATE_REASON_RULE = 1,    /* rule_id names the rule */
	ACTGATE_REASON_NO_POLICY = 2, /* governed workload whose policy is missing: denied */
	ACTGATE_REASON_ORPHAN = 3,    /* a task of a workload that no longer exists: denied */
	ACTGATE_REASON_SELF_PROTECTION = 4, /* an attempt on actgate itself: denied */
	ACTGATE_REASON_TOO_DEEP = 5,  /* more ancestors than the walk's bound: denied */
	ACTGATE_REASON_REVOKED = 6,   /* the workload (or its principal) is revoked: denied */
	ACTGATE_REASON_EXPIRED = 7,   /* the workload's time (`actgate run --ttl`) is up: denied */
	ACTGATE_REASON_GRANT = 8,     /* allowed by a time-bound grant; rule_id is the grant id */
	ACTGATE_REASON_GRANT_EXPIRED = 9, /* denied; a grant for it existed but has expired
					   * (rule_id is the grant id) */
	/*
	 * Under directory rules, a file reached without its directories (a
	 * disconnected dentry: open_by_handle_at of a file whose directories
	 * are not cached): denied, the rules above it cannot be seen.
	 */
	ACTGATE_REASON_DISCONNECTED = 10,
	/*
	 * exec's `written: deny`: the file's content was written by a governed
	 * task (its inode is in written_files), or it lives on no file system a
	 * path reaches (memfd, SysV shared memory); rule_id names the policy's
	 * written decision. Executing it, and mapping it executable, are denied.
	 */
	ACTGATE_REASON_WRITTEN = 11,
	/*
	 * A connect allowed because its address was learned, for this
	 * workload, from the answer to a lookup of a name a rule allows; the
	 * rule field names that rule, target_name the name (egress).
	 */
	ACTGATE_REASON_LEARNED = 12,
	/*
	 * A lookup refused: the name is valid but no rule of the workload
	 * allows it (the rule field names the deciding default or deny rule).
	 */
	ACTGATE_REASON_NAME = 13,
	/* A sub-workload request outside what the parent's delegate: allows. */
	ACTGATE_REASON_DELEGATION = 14,
	/* A sub-workload whose parent ended, and delegate: does not let it outlive it. */
	ACTGATE_REASON_PARENT_ENDED = 15,
	/* A record of a signal event applied (action signal). */
	ACTGATE_REASON_SIGNAL = 16,
};

/*
 * What a program could not do and went on without, counted per reason in
 * the pinned failures map (index: this enum) since the pins were made.
 * None of them turns a denial into an allow.
 */
enum actgate_failure {
	/*
	 * A governed task's mark could not be created: its cgroup alone
	 * governs it until an action of it creates one, so moving to another
	 * cgroup meanwhile sheds its workload. Task storage refuses for want
	 * of memory, and on 6.1 also when another task was preempted inside a
	 * task storage operation on the same CPU (the helper's per-CPU busy
	 * check, gone for LSM programs since 6.2): seen with preempt=full.
	 */
	ACTGATE_FAILURE_TASK_MARK = 0,
	/*
	 * A governed task's child could not be marked, for the same reasons:
	 * the fork was refused (ENOMEM).
	 */
	ACTGATE_FAILURE_CHILD_MARK = 1,
	/*
	 * A decision was not recorded: every record slot of its CPU was held
	 * by tasks preempted while building a record. The verdict stands.
	 */
	ACTGATE_FAILURE_RECORD_SLOT = 2,
	/*
	 * A destination address could not be read from the kernel's copy of
	 * the sockaddr: the connect or send was decided as the zero address.
	 */
	ACTGATE_FAILURE_ADDRESS_READ = 3,
	/* A name of a record's readable path could not be read: path_error says -EFAULT. */
	ACTGATE_FAILURE_NAME_READ = 4,
	/*
	 * A file a governed task was about to write could not be marked as
	 * written (written_files is full, or out of memory): the write was
	 * refused (ENOSPC) rather than leave a file exec's `written: deny`
	 * would not know.
	 */
	ACTGATE_FAILURE_WRITTEN_MARK = 5,
	/*
	 * An action of a workload under strict recording (record: strict)
	 * was denied because its record could not be written (the ring
	 * buffer was full, or no record slot was free): the denial has no
	 * record of its own, so this count is its only trace. Also counted
	 * as a drop of its action (or a record-slot failure).
	 */
	ACTGATE_FAILURE_UNRECORDED = 6,
};
#define ACTGATE_NR_FAILURES 7
_Static_assert(ACTGATE_NR_FAILURES == ACTGATE_FAILURE_UNRECORDED + 1,
	       "ACTGATE_NR_FAILURES: the last failure + 1");

enum actgate_record_type {
	ACTGATE_RECORD_DECISION = 1,
};

/* Kinds of path rule; a key field so that one map holds both. */
enum actgate_path_kind {
	ACTGATE_PATH_EXACT = 1,   /* the inode itself */
	ACTGATE_PATH_SUBTREE = 2, /* the directory and everything below it */
};

/* actgate_workload.flags */
enum actgate_workload_flags {
	/*
	 * Revoked: every action is denied (reason revoked), enforced and
	 * recorded whatever the policy's mode, before anything else is looked
	 * at: no rule, audit mode or grant lifts it.
	 */
	ACTGATE_WORKLOAD_REVOKED = 1 << 0,
	/* Grants exist for this workload: look them up when its policy denies. */
	ACTGATE_WORKLOAD_HAS_GRANTS = 1 << 1,
};

/*
 * workloads: cgroup id -> the workload governing that cgroup and every
 * descendant cgroup (the programs walk ancestors; the deepest entry wins).
 * The whole value is written with one map update, so an action sees the
 * policy and the signal generation it was compiled under together.
 */
struct actgate_workload {
	__u64 workload_id;
	__u32 policy_id;
	__u32 flags;              /* enum actgate_workload_flags */
	__u64 expires_boot_ns;    /* 0: never; else every action from then on is denied
				   * (reason expired), compared with bpf_ktime_get_boot_ns() */
	__u64 signal_generation;  /* of the signal store the policy was chosen under */
};
_Static_assert(sizeof(struct actgate_workload) == 32, "actgate_workload layout");

/*
 * grants: (workload id, action, target) -> a time-bound exception. A grant
 * turns a deny of the workload's policy into an allow until expires_boot_ns
 * (bpf_ktime_get_boot_ns()): the kernel compares, so a grant ends on time
 * whether or not the daemon runs. Exec and open grants (and unix-socket
 * connects) name a file by inode identity (dev in the kernel's encoding);
 * IP connect grants an address, with port 0 for every port.
 */
enum actgate_grant_kind {
	ACTGATE_GRANT_INODE = 1, /* dev, ino */
	ACTGATE_GRANT_NET = 2,   /* addr (IPv4 as ::ffff:a.b.c.d), port */
};

struct actgate_grant_key {
	__u64 workload_id;
	__u8 action; /* enum actgate_action */
	__u8 kind;   /* enum actgate_grant_kind */
	__u16 port;  /* NET: host order; 0: any port */
	__u32 dev;   /* INODE */
	__u64 ino;   /* INODE */
	__u8 addr[16]; /* NET */
};
_Static_assert(sizeof(struct actgate_grant_key) == 40, "actgate_grant_key layout");

struct actgate_grant {
	__u64 expires_boot_ns;
	__u32 grant_id; /* names the grant in records (rule_id) */
	__u32 pad;
};
_Static_assert(sizeof(struct actgate_grant) == 16, "actgate_grant layout");

/*
 * learned: (workload id, policy id, address) -> what connects to that address the
 * workload may make because the resolver answered it a lookup of an
 * allowed name with it (docs/egress.md). Written by the daemon alone,
 * before the answer goes back to the workload; read by the connect
 * decision after the address rules (an address rule, allow or deny,
 * decides first). Each port slot is one (port range, protocol) of one
 * name's rules, live until expires_boot_ns (bpf_ktime_get_boot_ns(): the
 * kernel compares, so an entry ends on time whether or not the daemon
 * runs); a slot with expires_boot_ns 0 is free. name_id names the name in
 * the connect's record (the record's ino, reason learned); the daemon
 * keeps the names.
 */
#define ACTGATE_LEARNED_PORTS 8
/* The map's size; the daemon keeps it within resolver.learned_max (at most this). */
#define ACTGATE_MAX_LEARNED 262144

struct actgate_learned_key {
	__u64 workload_id;
	/*
	 * The workload's effective policy when it was learned: a reload (new
	 * ids) or a signal that changes the policy leaves every entry learned
	 * under the old rules unreachable, so no entry outlives the name rule
	 * that allowed it.
	 */
	__u32 policy_id;
	__u32 pad;
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
};
_Static_assert(sizeof(struct actgate_learned_key) == 32, "actgate_learned_key layout");

struct actgate_learned_port {
	__u64 expires_boot_ns; /* 0: a free slot */
	__u32 name_id;     /* the name whose answer gave the address (record's ino) */
	__u32 rule_id;     /* the name rule that allowed it (record's rule_id) */
	__u16 port_lo;     /* host order, inclusive */
	__u16 port_hi;
	__u8 protocol;     /* IPPROTO_TCP, IPPROTO_UDP, or 0 for both */
	__u8 mode;         /* enum actgate_mode of the rule */
	__u8 record;       /* enum actgate_record of the rule */
	__u8 pad;
};
_Static_assert(sizeof(struct actgate_learned_port) == 24, "actgate_learned_port layout");

struct actgate_learned {
	struct actgate_learned_port port[ACTGATE_LEARNED_PORTS];
};
_Static_assert(sizeof(struct actgate_learned) == 192, "actgate_learned layout");

/*
 * resolver_steer: where the resolver listens (bpf/steer.bpf.c), written by
 * a daemon that runs one; enabled 0: nothing is steered. A steered
 * workload's DNS (port 53, UDP and TCP, IPv4) goes there from the source
 * address ACTGATE_STEER_NET | (workload id & ACTGATE_STEER_MASK), by which the
 * resolver knows the asker: the programs bind or set that source
 * themselves, so a workload cannot ask as another. 127.128.0.0/9 leaves
 * out the loopback addresses others use (127.0.0.1, 127.0.1.1).
 */
#define ACTGATE_STEER_NET 0x7f800000u  /* 127.128.0.0/9, host order */
#define ACTGATE_STEER_MASK 0x007fffffu
struct actgate_steer_conf {
	__u32 resolver_ip4;  /* network order */
	__u16 resolver_port; /* network order */
	__u16 enabled;
};
_Static_assert(sizeof(struct actgate_steer_conf) == 8, "actgate_steer_conf layout");

/* steered: socket cookie -> the destination the workload named, for its replies. */
struct actgate_steered {
	__u32 ip4;   /* network order */
	__u16 port;  /* network order */
	__u16 pad;
};
_Static_assert(sizeof(struct actgate_steered) == 8, "actgate_steered layout");

/*
 * governed_buckets: how many keys of workloads (cgroup ids) fall in each
 * bucket, the bucket being the id's low bits (cgroup ids are handed out in
 * sequence, so they spread evenly). The programs look a cgroup id up in
 * workloads only when its bucket counts one: an ungoverned task's cgroup
 * and ancestors then cost an array load each instead of a hash lookup.
 * The daemon counts a key before it writes it and uncounts it after it
 * deletes it, so a bucket never reads 0 while one of its keys is there.
 */
#define ACTGATE_GOVERNED_BUCKETS 4096
#define ACTGATE_GOVERNED_BUCKET(cgroup_id) ((__u32)((cgroup_id) & (ACTGATE_GOVERNED_BUCKETS - 1)))

/*
 * What an exec's open of a file decided for mapping that same file
 * executable (ACTGATE_ACCESS_EXEC_MAP), before grants, from the one path
 * walk the open made: the kernel's ELF loader maps the binary and its
 * interpreter right after, and those mappings take this answer instead of
 * walking the same path again. Private to the programs (bpf/lib/decide.h
 * says when an answer holds); file 0: none.
 */
struct actgate_exec_memo {
	__u64 file;      /* the struct file's address */
	__u64 ino;
	__u32 dev;
	__u32 policy_id; /* the workload's policy then: a new generation has new ids */
	__u32 rule_id;
	__u8 verdict;
	__u8 mode;
	__u8 record;
	__u8 reason;
};
_Static_assert(sizeof(struct actgate_exec_memo) == 32, "actgate_exec_memo layout");

#define ACTGATE_EXEC_MEMOS 2 /* the binary and its interpreter (ELF: ld.so) */

/* task_marks: the workload a task belongs to, wherever its cgroup is now. */
struct actgate_task_mark {
	__u64 workload_cgroup_id; /* key of the workloads entry */
	__u32 memo_next;          /* the memo the next exec open writes */
	__u32 pad;
	struct actgate_exec_memo memo[ACTGATE_EXEC_MEMOS];
};
_Static_assert(sizeof(struct actgate_task_mark) == 80, "actgate_task_mark layout");

/*
 * One decision as the compiler precomputed it: verdict, and the mode and
 * record setting of the rule (or default) that gives it. set == 0: this slot
 * does not decide here; look further (a less specific entry, the default).
 */
struct actgate_decision_slot {
	__u32 rule_id; /* names the deciding rule or default */
	__u8 verdict;  /* enum actgate_verdict */
	__u8 mode;     /* enum actgate_mode */
	__u8 record;   /* enum actgate_record */
	__u8 set;
};
_Static_assert(sizeof(struct actgate_decision_slot) == 8, "actgate_decision_slot layout");

/* Per-action part of a compiled policy. */
struct actgate_action_policy {
	__u8 has_rules;         /* 0: skip every lookup, the defaults decide */
	__u8 has_subtree_rules; /* 0: no directory rules, skip the dentry walk */
	/*
	 * exec: some entry decides deny; an executable mapping then looks up
	 * the exec rules too (an exec deny rule denies mapping the file
	 * executable). 0: no exec rule can deny a mapping.
	 */
	__u8 has_deny_rules;
	/*
	 * connect: a rule by name is in force (docs/egress.md): the
	 * workload's DNS is steered to the resolver when one runs
	 * (bpf/steer.bpf.c). Builds before it zeroed this byte as padding.
	 */
	__u8 has_name_rules;
	__u8 pad[4];
	/*
	 * The default per access slot (exec, connect: slot 0); always set.
	 * connect's slots ACTGATE_SOCKET_RAW and _PACKET decide the creation
	 * of such a socket (enum actgate_socket_kind); exec's slot
	 * ACTGATE_EXEC_WRITTEN_SLOT is its `written:` decision, set only when
	 * a policy denies written files.
	 */
	struct actgate_decision_slot dflt[ACTGATE_ACCESS_SLOTS];
};
_Static_assert(sizeof(struct actgate_action_policy) == 40, "actgate_action_policy layout");

/*
 * exec's decision on a file a governed task wrote, or an anonymous one
 * (reason ACTGATE_REASON_WRITTEN): exec's default slot 1, which exec (one
 * slot) leaves free. Not set: no policy of the workload asks.
 */
#define ACTGATE_EXEC_WRITTEN_SLOT 1
_Static_assert(ACTGATE_EXEC_WRITTEN_SLOT < ACTGATE_ACCESS_SLOTS, "exec's written slot is a default slot");

/*
 * policies: policy id -> compiled policy. A workload's policy is the
 * composition of every policy that selects it, with the `when:` overlays
 * that hold for it, precomputed in userspace: the kernel sees one policy.
 */
struct actgate_policy {
	__u32 generation;
	__u32 kernel_allow; /* bit 1 << enum actgate_kernel_door: doors every policy allows */
	struct actgate_action_policy action[ACTGATE_NR_POLICY_ACTIONS]; /* index: enum actgate_action */
};
_Static_assert(sizeof(struct actgate_policy) == 168, "actgate_policy layout");

/*
 * path_rules: (policy, action, kind, inode identity) -> a decision per access
 * slot. Exec rules (action EXEC), open rules (OPEN) and unix-socket connect
 * rules (CONNECT, keyed by the socket file's inode) live here. Paths are
 * matched by inode so that hardlinks, bind mounts, symlinks, relative paths
 * and /proc/self/fd cannot bypass a rule. dev is the kernel's encoding
 * (major << 20 | minor), not userspace's st_dev.
 */
struct actgate_path_key {
	__u32 policy_id;
	__u8 action; /* enum actgate_action */
	__u8 kind;   /* enum actgate_path_kind */
	__u16 pad;
	__u32 dev;
	__u32 pad2;
	__u64 ino;
};
_Static_assert(sizeof(struct actgate_path_key) == 24, "actgate_path_key layout");

struct actgate_path_value {
	struct actgate_decision_slot slot[ACTGATE_ACCESS_SLOTS];
};
_Static_assert(sizeof(struct actgate_path_value) == 32, "actgate_path_value layout");

/*
 * net_rules: an LPM trie keyed by (policy id, IPv6 address). IPv4 lives in
 * the IPv4-mapped range ::ffff:0:0/96, so a v4-mapped IPv6 destination
 * matches the IPv4 rules. prefixlen counts the 32 policy-id bits too, so a
 * lookup never crosses policies.
 */
struct actgate_net_key {
	__u32 prefixlen;
	__u32 policy_id; /* big-endian: LPM matches bytes from the first one */
	__u8 addr[16];
};
_Static_assert(sizeof(struct actgate_net_key) == 24, "actgate_net_key layout");

struct actgate_port_rule {
	__u16 port_lo;  /* host order; 0-65535 for "any port" */
	__u16 port_hi;
	__u8 verdict;   /* enum actgate_verdict */
	__u8 protocol;  /* IPPROTO_TCP, IPPROTO_UDP; 0: any protocol */
	__u8 mode;      /* enum actgate_mode */
	__u8 record;    /* enum actgate_record */
	__u32 rule_id;
};
_Static_assert(sizeof(struct actgate_port_rule) == 12, "actgate_port_rule layout");

/*
 * The longest prefix carries every rule that decides an address under it,
 * its own and those of every shorter prefix that contains it, in the order
 * that makes the first match (on port and protocol) the answer: an LPM trie
 * returns only the longest prefix. No match: the connect default.
 */
struct actgate_net_rules {
	__u32 count;
	struct actgate_port_rule rule[ACTGATE_NET_RULES_PER_PREFIX];
};
_Static_assert(sizeof(struct actgate_net_rules) == 4 + 12 * ACTGATE_NET_RULES_PER_PREFIX,
	       "actgate_net_rules layout");

/*
 * written_files: the files governed tasks wrote (opened for writing,
 * truncated, received open for writing), by inode identity with the
 * inode's generation, so that an inode number reused for another file
 * after a delete is not taken for the written one. Kept while the file
 * exists, whatever the inode cache does; dropped when the inode is freed
 * with no name left (bpf/drift.bpf.c).
 */
struct actgate_written_key {
	__u32 dev;        /* the kernel's encoding, as path keys */
	__u32 generation; /* i_generation */
	__u64 ino;
};
_Static_assert(sizeof(struct actgate_written_key) == 16, "actgate_written_key layout");

struct actgate_written {
	__u64 workload_id; /* the first workload that wrote it (0: an orphan task) */
};
_Static_assert(sizeof(struct actgate_written) == 8, "actgate_written layout");

/* Every record begins with this header. */
struct actgate_record_header {
	__u16 type;        /* enum actgate_record_type */
	__u16 abi_version; /* ACTGATE_ABI_VERSION */
	__u32 size;        /* bytes of the whole record, header included */
	__u64 time_boot_ns; /* bpf_ktime_get_boot_ns() */
};
_Static_assert(sizeof(struct actgate_record_header) == 16, "actgate_record_header layout");

/*
 * One decision. The record is variable-length: target_path holds
 * path_len bytes (NUL included) and the record ends there.
 */
struct actgate_decision {
	struct actgate_record_header hdr;
	__u64 cgroup_id;
	__u64 workload_id;
	__u32 policy_id;
	__u32 rule_id;      /* the rule (reason rule), the grant (grant, grant-expired); else 0 */
	__u32 generation;   /* policy generation that decided */
	__u32 pid;          /* thread id */
	__u32 tgid;         /* process id */
	__u32 ppid;         /* real parent's process id */
	__u32 uid;
	__s32 path_error;   /* <0: the readable path could not be produced */
	__u8 action;        /* enum actgate_action */
	__u8 verdict;       /* enum actgate_verdict */
	__u8 mode;          /* enum actgate_mode: audit means not enforced */
	__u8 reason;        /* enum actgate_reason */
	char comm[ACTGATE_COMM_LEN];
	/* connect target */
	__u16 family;       /* AF_INET, AF_INET6; AF_UNIX: target_path is the socket's */
	__u16 port;         /* host order */
	__u8 protocol;      /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 access;        /* open: the enum actgate_access bits asked for; connect:
			     * ACTGATE_ACCESS_RECEIVED or 0; else 0 */
	/*
	 * 1: written by the programs of a build being upgraded to while the
	 * previous build's were still attached (the overlap map); the other
	 * build's record of the same action is next to it (docs/upgrades.md).
	 * Builds before it zeroed this byte as padding: same layout, same ABI.
	 */
	__u8 overlap;
	__u8 pad[5];
	__u8 addr[16];      /* IPv4 as ::ffff:a.b.c.d */
	/*
	 * exec/open target (tamper: dev is enum actgate_tamper, ino the
	 * detail; an IP connect of reason learned: ino is the name_id of the
	 * learned entry, which the daemon turns into target_name)
	 */
	__u32 dev;
	__u32 path_len;
	__u64 ino;
	__u64 signal_generation; /* the workload's, when it was decided (0: no signal yet) */
	char target_path[ACTGATE_PATH_BUF];
};
_Static_assert(sizeof(struct actgate_decision) == 136 + ACTGATE_PATH_BUF, "actgate_decision layout");

#define ACTGATE_DECISION_FIXED_SIZE (sizeof(struct actgate_decision) - ACTGATE_PATH_BUF)

/*
 * meta: one entry describing the pinned set (src/kernel/pins.h). Written by the
 * daemon that creates the pins and checked by every daemon that adopts
 * them: programs and maps of another ABI or another BPF build are never
 * mixed with ours. The programs read only daemon_tgid.
 */
#define ACTGATE_BUILD_ID_LEN 32 /* SHA-256 of the BPF object */
struct actgate_meta {
	__u32 abi_version;  /* ACTGATE_ABI_VERSION of the build that pinned */
	__u32 daemon_tgid;  /* the actgated self-protection guards; 0: none running */
	__u64 created_ns;   /* CLOCK_REALTIME when the pins were made */
	__u64 events_bytes; /* the ring buffer's size */
	__u8 build_id[ACTGATE_BUILD_ID_LEN];
};
_Static_assert(sizeof(struct actgate_meta) == 56, "actgate_meta layout");

/*
 * protected_files: actgate's own files, which no governed task may change
 * (bpf/protect.bpf.c), written by the daemon at every start from its
 * configured places. Three kinds of key:
 * - INODE (dev, ino): a file or directory and what protects it
 *   (enum actgate_protect_flags);
 * - DEV (dev, ino 0): some entry lives on this file system; the flags of
 *   all its entries together (a file elsewhere needs no walk);
 * - MNTNS (dev 0, ino: the namespace's inode number): the daemon's mount
 *   namespace, where mounts are judged (elsewhere only shared mounts,
 *   whose changes can propagate back).
 * dev is the kernel's encoding (major << 20 | minor); the value a __u32 of flags.
 */
enum actgate_protect_kind {
	ACTGATE_PROTECT_INODE = 1,
	ACTGATE_PROTECT_DEV = 2,
	ACTGATE_PROTECT_MNTNS = 3,
};

enum actgate_protect_flags {
	/* The directory and everything below it on its file system: no write, create,
	 * truncate, unlink, rename, link, lock, chmod, chown or mount. */
	ACTGATE_PROTECT_TREE = 1 << 0,
	/* Not opened at all (the seal key). */
	ACTGATE_PROTECT_SECRET = 1 << 1,
	/* A directory on the way to a protected one: not removed, renamed, mounted over
	 * or unmounted (the next daemon looks for its places by path). */
	ACTGATE_PROTECT_WAY = 1 << 2,
};

struct actgate_protect_key {
	__u32 dev;
	__u32 kind; /* enum actgate_protect_kind */
	__u64 ino;
};
_Static_assert(sizeof(struct actgate_protect_key) == 16, "actgate_protect_key layout");

/* What a governed task tried on actgate's files: the ino of an ACTGATE_TAMPER_FILES record. */
enum actgate_file_op {
	ACTGATE_FILE_WRITE = 1,       /* open for writing or with O_TRUNC */
	ACTGATE_FILE_READ_SECRET = 2, /* open of the seal key */
	ACTGATE_FILE_CREATE = 3,      /* a new name: open(O_CREAT), mknod, mkdir, symlink */
	ACTGATE_FILE_UNLINK = 4,
	ACTGATE_FILE_RMDIR = 5,
	ACTGATE_FILE_RENAME = 6,
	ACTGATE_FILE_LINK = 7,
	ACTGATE_FILE_TRUNCATE = 8,
	ACTGATE_FILE_LOCK = 9,        /* flock, fcntl locks and leases */
	ACTGATE_FILE_CHMOD = 10,
	ACTGATE_FILE_CHOWN = 11,
	ACTGATE_FILE_MOUNT = 12,      /* mount(2) over it, a remount, or MS_MOVE */
	ACTGATE_FILE_UMOUNT = 13,
	ACTGATE_FILE_MOVE_MOUNT = 14, /* move_mount(2) */
};

#endif /* ACTGATE_ABI_H */
