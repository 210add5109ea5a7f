/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The running daemon's state. daemon_run (daemon.c) owns the one struct
 * daemon and lends it to the modules that serve it: records.c (decision
 * records into the journal), generation.c (policy generations), workloads.c
 * (the workload table), adopt.c (taking over pins), control_socket.c,
 * verbs.c and status.c (the control socket). Nothing here is global.
 */
#ifndef ACTGATE_DAEMON_RUNTIME_H
#define ACTGATE_DAEMON_RUNTIME_H

#include <linux/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actgate/abi.h"
#include "daemon/config.h"
#include "daemon/discovery.h"
#include "daemon/journalwatch.h"
#include "daemon/notify.h"
#include "daemon/pathwatch.h"
#include "daemon/signalctl.h"
#include "daemon/spool.h"
#include "identity/workload.h"
#include "kernel/enforcer.h"
#include "kernel/state.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"

struct jsink;
struct ssf;
struct dns_server;
struct learned_table;

#define CONTROL_MAX_CLIENTS 256

/* What an event of the loop's epoll set is about (its data.u64). */
enum daemon_event {
	EVENT_POSIX_SIGNAL = 1, /* the signalfd: SIGTERM, SIGINT, SIGHUP */
	EVENT_RECORDS,          /* the ring buffer has records */
	EVENT_CONTROL_LISTEN,   /* a client connects */
	EVENT_PATHS,            /* inotify: a name on the way to a rule's path */
	EVENT_MOUNTS,           /* the mount table changed */
	EVENT_SSF,              /* the SSF receiver's epoll set (ssf.h) */
	EVENT_DNS,              /* the resolver's epoll set (dnsserver.h) */
	EVENT_CLIENT = 1000,    /* + the index of a client that sent something */
};

/* A connection to the control socket, and what it sent that is not a whole line yet. */
struct control_client {
	int fd; /* -1: a free slot */
	char *buf;
	size_t len;
};

/*
 * A loaded policy: the files' bytes as they were read, the set parsed from
 * them and the image compiled from it. The bytes are kept so that a rule
 * path that comes to resolve differently is compiled again from the same
 * policy, without taking edits made to the files since (those wait for a
 * reload).
 */
struct generation {
	struct policy_sources sources;
	struct policy_set set;
	struct policy_image image;
};

struct daemon {
	const struct daemon_config *cfg;
	/* The same settings, which a reload changes (reload.c), and where they came from. */
	struct daemon_config *settings;
	const struct config_source *config_source;
	struct notify notify; /* systemd (notify.h) */
	struct generation current;
	/*
	 * The generation a reload replaced: its rules stay in the kernel until
	 * unload_at_ns (programs that read its header just before the swap may
	 * still look them up), and its names until the next reload, for records
	 * it decided that are still in the ring buffer.
	 */
	struct generation previous;
	int64_t previous_unload_at_ns; /* 0: not in the kernel */
	struct enforcer enforcer;
	struct jsink *journal;
	struct workload_table workloads;
	struct pathwatch paths;
	uint64_t path_check_at_ns; /* when to check the rule paths again; 0: not due */
	bool path_rewatch;        /* and to watch their ways again (something changed there) */
	uint64_t path_poll_at_ns; /* the next check where inotify cannot watch; 0: not set */
	char cgroup_mount[PATH_MAX];
	int epoll_fd;
	int listen_fd;
	int posix_signal_fd; /* signalfd of SIGTERM, SIGINT, SIGHUP */
	struct control_client clients[CONTROL_MAX_CLIENTS];
	uint64_t next_workload_id;
	int64_t boot_to_wall_ns; /* add to a boot-clock time to get wall-clock time */
	gid_t socket_gid;        /* --socket-group; 0: root alone */
	struct signalctl signalctl; /* signal store, revocations, grants (signalctl.h) */
	struct spool spool;         /* --spool-dir */
	struct discovery discovery; /* units and containers under --watch-cgroup roots */
	/* Drop counts (the pinned map's, cumulative) as last logged and saved. */
	uint64_t dropped_seen[ACTGATE_NR_ACTIONS];
	uint64_t dropped_while_down; /* found at adoption: dropped while no daemon ran */
	/* The rule names of the generation an adopted set held (its image is gone). */
	struct rule_names adopted_names;
	uint32_t names_generation; /* the generation whose names are saved */
	bool stopping;
	struct journalwatch journal_watch; /* segments removed under us; the head kept */
	struct exportd exportd; /* the configured export sinks' followers (exportd.h) */
	struct ssf *ssf;            /* the SSF receiver (ssf.h); NULL until started */
	struct dns_server *dns;     /* the resolver's sockets (dnsserver.h); NULL: none */
	struct learned_table *learned; /* what workloads learned (learned.h); NULL: no resolver */
};

/*
 * Write the state file (kernel/state.h) that a restarted daemon adopts
 * (adopt.c). A failure is logged and enforcement goes on; what it costs is
 * named in the message.
 */
void runtime_save(struct daemon *d);

#endif /* ACTGATE_DAEMON_RUNTIME_H */
