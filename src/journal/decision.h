/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One decision as the journal keeps it (struct journal_record: the kernel's
 * record plus what the daemon knew), and its vocabulary: the names of
 * actions, verdicts, modes, reasons and accesses as the journal, replay's
 * output and the command line spell them, and a kernel record's target as
 * the journal names it. The codec (record.h) turns a journal_record into a
 * store payload and back.
 */
#ifndef ACTGATE_JOURNAL_DECISION_H
#define ACTGATE_JOURNAL_DECISION_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actgate/abi.h"

/* One decision as the journal keeps it: the kernel record plus what the daemon knew. */
struct journal_record {
	uint64_t time_ns;     /* wall clock, ns since the epoch (UTC) */
	uint8_t action;       /* enum actgate_action */
	uint8_t verdict;      /* enum actgate_verdict */
	uint8_t mode;         /* enum actgate_mode; enforced = verdict applied = (mode == ENFORCE) */
	uint8_t reason;       /* enum actgate_reason */
	uint64_t workload_id;
	uint64_t cgroup_id;
	uint32_t pid, tgid, ppid, uid;
	uint32_t generation;
	uint8_t access;       /* open: the enum actgate_access bits asked for; else 0 */
	char comm[17];
	/* Owned strings; never NULL after a decode (empty when unknown). */
	char *workload;   /* workload name */
	char *principal;  /* --delegated-by */
	char *labels;     /* "k=v,k=v" sorted by key */
	char *policy;     /* policy name */
	char *rule;       /* e.g. "ci-runner:exec.deny[0]" or "ci-runner:exec.default" */
	char *target;     /* exec/open: path; connect: "1.2.3.4:443/tcp", "[::1]:80/tcp",
			   * "unix:/run/x.sock", or a socket created: "raw:ipv4/icmp",
			   * "packet:raw/0x0003" */
	/*
	 * What the daemon knew of signals when the verdict was made (issue 4):
	 * the signal store's generation, and the signals the deciding policy
	 * read, "name=value,name=value" sorted by name. Owned; NULL when the
	 * journal did not record them (a daemon older than the signals did not).
	 */
	uint64_t signal_generation;
	char *signals;
	/*
	 * Texts that only some records carry (journal fields 24 to 29), left
	 * out when empty; never NULL after a decode (empty when absent).
	 * target_name: the DNS name a lookup asked for, or the name whose
	 * answer allowed a connect's address (egress). chain: who commissioned
	 * a sub-workload, "principal > workload#id > sub#id" (delegation).
	 * event_id, issuer, event_type, subject: the jti, iss, event type and
	 * subject of an applied signal event; its target says what it changed.
	 */
	char *target_name;
	char *chain;
	char *event_id;
	char *issuer;
	char *event_type;
	char *subject;
	/*
	 * Not a journal field: the version of the actgate that wrote the
	 * record, from its segment's header (jsource sets it; NULL or "" when
	 * unknown: a version-2 segment). Not owned: the source's, like the rest.
	 */
	const char *writer_version;
};

/* Free rec's strings and zero it. */
void journal_record_clear(struct journal_record *rec);

/* A record's text field as printed: "" where the journal had none. */
static inline const char *or_empty(const char *s)
{
	return s ? s : "";
}

/*
 * The target of a kernel decision record of size bytes, as the journal
 * names it, into out (JOURNAL_TARGET_SIZE is always enough): exec and open
 * the path (or "inode:MAJ:MIN:INO (path unavailable: ...)"); connect
 * "1.2.3.4:443/tcp", "[::1]:80/udp" or, for a unix socket, "unix:/run/x.sock",
 * and for the creation of a raw or packet socket "raw:ipv4/icmp" or
 * "packet:raw/0x0003";
 * tamper what was attempted ("signal 9 to actgated").
 */
#define JOURNAL_TARGET_SIZE (ACTGATE_PATH_BUF + 64)
void journal_decision_target(const struct actgate_decision *rec, size_t size, char *out,
			     size_t out_size);

/* Names used in the journal, in replay output and on the command line. */
const char *action_name(uint8_t action);   /* "exec", "open", "connect", "tamper", "resolve", "delegate", "signal", "?" */
const char *verdict_name(uint8_t verdict); /* "allow", "deny" */
const char *mode_name(uint8_t mode);       /* "enforce", "audit" */
const char *reason_name(uint8_t reason);   /* "default", "rule", "no-policy", "orphan", "self-protection",
						    * "too-deep", "revoked", "expired", "grant",
						    * "grant-expired", "disconnected", "written" */
/*
 * Access bits as names joined by ',' in the order read, write, create,
 * exec-map, link, received ("read,write"; "" for none), into buf (ACCESS_NAMES_SIZE
 * is always enough). Bits without a name make it fail: -EINVAL.
 */
#define ACCESS_NAMES_SIZE 48
int access_names(uint8_t access, char *buf, size_t size);

/*
 * The kernel's doors (enum actgate_kernel_door) as spec.kernel.allow and
 * tamper records name them: "modules", "kexec", "core-pattern", "modprobe",
 * "uevent-helper", "binfmt-misc", "poweroff-cmd", "mem-devices"; NULL for
 * another number. kernel_door_from_name: 0, or -EINVAL for another name.
 */
const char *kernel_door_name(uint32_t door);
int kernel_door_from_name(const char *name, uint32_t *door);

/* Reverse lookups: 0 on success, -EINVAL for an unknown name. */
int action_from_name(const char *name, uint8_t *action);
int verdict_from_name(const char *name, uint8_t *verdict);
int mode_from_name(const char *name, uint8_t *mode);
int reason_from_name(const char *name, uint8_t *reason);
/* "read,write" -> bits; "" -> 0. Each name once; -EINVAL otherwise. */
int access_from_names(const char *names, uint8_t *access);

#endif /* ACTGATE_JOURNAL_DECISION_H */
