/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The policy model: what a policy YAML file says, after parsing and
 * validation, before compilation to map contents. Nothing here touches the
 * kernel or the file system beyond reading the policy file.
 */
#ifndef ACTGATE_POLICY_H
#define ACTGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "actgate/abi.h"
#include "identity/workload.h"
#include "util/diag.h"

#define POLICY_API_VERSION "actgate.dev/v1"
#define POLICY_KIND "Policy"

/* Which overlay a rule belongs to: POLICY_BASE, or an index into its section's overlays. */
#define POLICY_BASE (-1)

/*
 * An exec or open rule, or a unix-socket connect rule: an absolute path; a
 * trailing '/' means the subtree.
 */
struct path_rule {
	char *path;    /* normalised: absolute, no "//", no "." or ".." parts;
			* a subtree rule keeps no trailing '/' (except "/") */
	bool subtree;  /* written with a trailing '/' */
	uint8_t verdict; /* enum actgate_verdict */
	uint8_t access;  /* enum actgate_access bits: open rules name them (all when not
			  * written); exec and unix rules hold ACTGATE_ACCESS_WHOLE */
	uint8_t mode;    /* enum actgate_mode: the rule's own, else the policy's */
	uint8_t record;  /* enum actgate_record: the rule's own, else the policy's */
	int overlay;     /* POLICY_BASE or the index of its `when:` overlay */
	unsigned index;  /* position in its allow: or deny: list, from 0 */
	struct source_pos pos;
};

/*
 * An IP connect rule: "ADDR[/LEN][:PORT[-PORT]]", IPv6 in brackets when a
 * port follows.
 */
struct net_rule {
	char *text;      /* as written, for messages and rule names */
	uint8_t addr[16]; /* IPv4 stored IPv4-mapped: ::ffff:a.b.c.d */
	uint8_t prefix_len; /* in the 128-bit space: an IPv4 /8 is 96 + 8 = 104 */
	uint16_t port_lo;  /* 0 and 65535 when no port was written */
	uint16_t port_hi;
	uint8_t protocol;  /* IPPROTO_TCP, IPPROTO_UDP, or 0 for any */
	uint8_t verdict;
	uint8_t mode;
	uint8_t record;
	int overlay;
	unsigned index;  /* position in its list; unix rules of the list count too */
	struct source_pos pos;
};

/*
 * A connect rule by name: "NAME[:PORT[-PORT]]" or "*.SUFFIX[:PORT[-PORT]]"
 * (docs/policy.md, "Names"; matching in policy/names.h). Kept apart from
 * address rules: the kernel's address maps never see it, the daemon learns
 * the addresses a name resolves to per workload.
 */
struct name_rule {
	char *text;       /* as written, for messages */
	char *name;       /* normalised: lowercase, no trailing dot; for a wildcard the
			   * suffix after "*." ("example.com" for "*.example.com") */
	bool wildcard;    /* "*.SUFFIX": names with one or more labels before SUFFIX */
	uint16_t port_lo; /* 0 and 65535 when no port was written */
	uint16_t port_hi;
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP, or 0 for any */
	uint8_t verdict;
	uint8_t mode;
	uint8_t record;
	int overlay;
	unsigned index;   /* position in its list; address and unix rules count too */
	struct source_pos pos;
};

#define POLICY_SIGNAL_NAME_MAX 63   /* [a-z][a-z0-9_.-]* */
#define POLICY_SIGNAL_VALUE_MAX 255 /* bytes, no control characters */

/* Is this a valid signal name: [a-z][a-z0-9_.-]*, at most POLICY_SIGNAL_NAME_MAX? */
bool policy_valid_signal_name(const char *s, size_t len);

/* One condition of an overlay: signal NAME has one of VALUES. */
struct signal_match {
	char *name;
	char **values;
	size_t value_count;
	struct source_pos pos;
};

/*
 * A `when:` overlay of a section: while every condition holds, its default
 * (when written) replaces the section's and its rules join the section's.
 * Its rules are in the section's rules array with overlay set to its index.
 */
struct policy_overlay {
	struct signal_match *conditions; /* all must hold; at least one */
	size_t condition_count;
	bool has_default;
	uint8_t default_verdict;
	struct source_pos pos;          /* the overlay's mapping */
	struct source_pos default_pos;
};

#define POLICY_MAX_OVERLAYS 32 /* per section: active overlays fit a 32-bit mask */

/* exec and open. */
struct path_rules {
	bool present;            /* the section was written */
	uint8_t default_verdict; /* ALLOW when the section or its default is absent */
	struct source_pos default_pos;
	struct path_rule *rules; /* base rules and overlay rules, in the order written */
	size_t count;
	struct policy_overlay *overlays;
	size_t overlay_count;
	/*
	 * exec only: `written:`, the verdict on files a governed workload
	 * wrote and on anonymous files (memfd), whatever the rules say:
	 * ACTGATE_VERDICT_DENY, or ALLOW (the default: no opinion).
	 */
	uint8_t written;
	struct source_pos written_pos;
};

/* connect: IP rules and unix-socket path rules under one default. */
struct net_rules {
	bool present;
	uint8_t default_verdict;
	struct source_pos default_pos;
	struct net_rule *rules;
	size_t count;
	struct path_rule *unix_rules;
	size_t unix_count;
	struct name_rule *name_rules; /* rules by name: policy/names.h */
	size_t name_count;
	struct policy_overlay *overlays;
	size_t overlay_count;
	/*
	 * sockets: the raw and packet sockets the policy lets its workloads
	 * create, bit 1 << enum actgate_socket_kind; the rest are denied,
	 * whatever the default and overlays say.
	 */
	uint8_t sockets;
	struct source_pos sockets_pos;
};

/* spec.selector.labels: KEY -> glob; the workload's label must exist and match. */
struct label_match {
	char *key;
	char *glob;
	struct source_pos pos;
};

/* Every kind written must match (a list matches when any of its globs does). */
struct policy_selector {
	char **workload_globs; /* fnmatch(3) globs on the workload name */
	size_t workload_glob_count;
	char **cgroup_globs;   /* fnmatch(3) globs on the cgroup path, relative to the
				* cgroup2 root, without a leading '/' */
	size_t cgroup_glob_count;
	struct label_match *labels;
	size_t label_count;
};

/*
 * spec.delegate (docs/delegation.md): what a workload under this policy may
 * commission with `actgate run` from inside itself. Without it a child gets
 * the attenuation of its parent's policies and its own, and nothing more.
 */
struct delegate_rule {
	uint8_t action;  /* enum actgate_action: exec, open or connect */
	char *target;    /* as `actgate grant` takes it: a path, or ADDR:PORT */
	struct source_pos pos;
};

struct delegate_entry {
	char **workload_globs;  /* the child names it may commission (fnmatch) */
	size_t workload_glob_count;
	char **policies;        /* the policies a child may be given with --policy; none: any */
	size_t policy_count;
	struct delegate_rule *allow; /* extra rules a child may ask for with --allow */
	size_t allow_count;
	struct policy_overlay when;  /* the signals that must hold when it is commissioned */
	bool outlive;           /* its children may outlive the parent */
	struct source_pos pos;
};

struct policy_delegate {
	struct delegate_entry *entries;
	size_t count;
	struct source_pos pos;
};

struct policy {
	char *name;   /* metadata.name: [a-z0-9]([a-z0-9-]*[a-z0-9])?, at most 63 */
	char *file;   /* the file it came from */
	struct source_pos pos; /* where the document starts */
	struct policy_selector selector;
	uint8_t mode; /* enum actgate_mode: the default of its rules */
	uint8_t record; /* enum actgate_record: the default of its rules */
	struct path_rules exec;
	struct path_rules open;
	struct net_rules connect;
	/*
	 * spec.kernel.allow: bit 1 << enum actgate_kernel_door for each door
	 * the policy allows its workloads (0: none, the default).
	 */
	uint32_t kernel_allow;
	struct policy_delegate *delegate; /* spec.delegate; NULL when absent */
};

struct policy_set {
	struct policy *policies; /* in load order: file name, then document */
	size_t count;
};

/* A signal's value as a workload sees it (issue: signals; here only read). */
struct signal_value {
	const char *name;
	const char *value;
};

struct signal_view {
	const struct signal_value *values;
	size_t count;
};

/*
 * A rule's name as records and tests show it: "POLICY:SECTION.LIST[INDEX]"
 * (LIST is allow or deny), "POLICY:SECTION.default" for a section's default,
 * and inside an overlay "POLICY:SECTION.when[K].LIST[INDEX]" and
 * "POLICY:SECTION.when[K].default". The compiler, the evaluator and policy
 * tests all name rules through this. Returns what snprintf returns.
 */
#define RULE_DEFAULT (-1)
/*
 * The connect section's sockets list, for one socket kind (index: enum
 * actgate_socket_kind): "POLICY:connect.sockets.raw", whether the list
 * allows it (reason rule) or leaves it denied (reason default).
 */
#define RULE_SOCKETS (-2)
/* exec's written decision: "POLICY:exec.written" (reason written). */
#define RULE_WRITTEN (-3)
/* "raw", "packet" for enum actgate_socket_kind; NULL for another value. */
const char *policy_socket_kind_name(unsigned kind);
int policy_rule_name(char *buf, size_t size, const char *policy, uint8_t action, int overlay,
		     int verdict, unsigned index);


/* Does the policy select this workload? */
bool policy_selects(const struct policy *p, const struct workload_identity *id);

/*
 * The policies governing a workload: every policy that selects it, in set
 * order (they compose: docs/policy.md, "Several policies"). Returns the
 * number found (0: none selects it) and fills up to max indices.
 */
size_t policy_set_select(const struct policy_set *set, const struct workload_identity *id,
			 size_t *indices, size_t max);

/* Does every condition of the overlay hold under signals? */
bool policy_overlay_holds(const struct policy_overlay *o, const struct signal_view *signals);

/*
 * The overlays of a section that hold under signals, as a mask (bit i:
 * overlay i), and the section's default verdict under them: an active
 * overlay's default replaces the section's; when several active overlays
 * write one, deny wins. *default_overlay is the overlay whose default
 * decides, or POLICY_BASE.
 */
uint32_t policy_overlays_active(const struct policy_overlay *overlays, size_t count,
				const struct signal_view *signals);
uint8_t policy_section_default(uint8_t base_default, const struct policy_overlay *overlays,
			       size_t count, uint32_t active, int *default_overlay);

/* Is a rule of this overlay in force under the active mask? */
static inline bool policy_overlay_in_force(int overlay, uint32_t active)
{
	return overlay == POLICY_BASE || (active >> overlay) & 1;
}

/*
 * How two decisions compose, across the policies of a workload and across
 * the accesses of one open: an enforced deny beats an audited deny, which
 * beats an allow; on a tie the first one stays.
 */
static inline int policy_decision_rank(uint8_t verdict, uint8_t mode)
{
	if (verdict != ACTGATE_VERDICT_DENY)
		return 0;
	return mode == ACTGATE_MODE_ENFORCE ? 2 : 1;
}

/*
 * One exec/open path as a policy would hold it ("/usr/bin/", len bytes, may
 * contain NULs, which are rejected): fills rule->path (allocated, normalised)
 * and rule->subtree, nothing else. Returns 0, -EINVAL with a message in err
 * (without the path itself), or -ENOMEM. For targets given outside a policy
 * file, e.g. a grant on the command line.
 */
int policy_parse_path_target(const char *text, size_t len, struct path_rule *rule, char *err,
			     size_t err_size);

/*
 * Does a (normalised) path name a process's own /proc files (/proc/self/...,
 * /proc/thread-self/..., /proc/1234/...)? Resolved by the daemon, such a path
 * names the daemon's files, never a workload's: rules on them are refused.
 */
bool policy_path_names_own_process(const char *path);

/*
 * One connect target as a policy would hold it ("10.0.0.0/8:443",
 * "[::1]:8080"): fills addr, prefix_len, port_lo and port_hi, nothing else.
 * Returns 0 or -EINVAL with a message in err.
 */
int policy_parse_net_target(const char *text, struct net_rule *rule, char *err, size_t err_size);

/*
 * One connect target by name ("github.com:443", "*.example.com"): fills
 * name, wildcard, port_lo and port_hi, nothing else. Returns 0, -EINVAL
 * with a message in err and *err_at the byte offset of what is wrong, or
 * -ENOMEM.
 */
int policy_parse_name_target(const char *text, struct name_rule *rule, char *err,
			     size_t err_size, size_t *err_at);

/*
 * Is this connect target written as a name rather than an address: not
 * bracketed, at most one ':', and its host part has a letter, '_' or '*'
 * (an IPv6 address has two colons or more)?
 */
bool policy_target_is_name(const char *text);

/* Free one policy (a parse that failed part way) or a whole set. */
void policy_free(struct policy *p);
void policy_set_free(struct policy_set *set);

#endif /* ACTGATE_POLICY_H */
