/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's settings: built-in defaults (util/paths.h), then the
 * configuration file (/etc/actgate/actgated.yaml or --config FILE), then
 * the command-line flags, each overriding the one before. One table in
 * config.c names every setting: its key in the file, its flag, how its
 * value is checked, and whether a reload can change it in a running daemon.
 */
#ifndef ACTGATE_DAEMON_CONFIG_H
#define ACTGATE_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/exportd.h"
#include "daemon/resolverconfig.h"
#include "daemon/ssfconfig.h"
#include "util/diag.h"

#define CONFIG_MAX_WATCH 16

enum config_setting {
	CONFIG_POLICY_DIR,
	CONFIG_JOURNAL_DIR,
	CONFIG_JOURNAL_KEY,
	CONFIG_FSYNC_EVERY,
	CONFIG_FSYNC_INTERVAL,
	CONFIG_JOURNAL_RETAIN_BYTES,
	CONFIG_JOURNAL_RETAIN_AGE,
	CONFIG_SOCKET,
	CONFIG_SOCKET_GROUP,
	CONFIG_CGROUP_PARENT,
	CONFIG_SPOOL_DIR,
	CONFIG_WATCH_CGROUPS,
	CONFIG_PIN_DIR,
	CONFIG_STATE_DIR,
	CONFIG_RING_BUFFER_SIZE,
	CONFIG_VERBOSE,
	CONFIG_EXPORT, /* the file's export list (daemon/exportd.h); no flag */
	CONFIG_SIGNALS_TRUST,
	CONFIG_NR_SETTINGS,
};

/*
 * Every string (and the watch list) is owned by the struct: free it with
 * daemon_config_free. Fields no source set are NULL or 0, which means the
 * default named beside them.
 */
struct daemon_config {
	const char *policy_dir;
	const char *journal_dir;
	const char *journal_key;      /* seal key, outside journal_dir (NULL: DEFAULT_JOURNAL_KEY) */
	uint32_t fsync_every_records; /* journal fsync policy; 0: the store's default */
	uint32_t fsync_every_ms;
	uint64_t retain_max_bytes;    /* all journal segments together; 0: the store's 1 GiB */
	uint64_t retain_max_age_ms;   /* closed segments older than this go; 0: kept */
	const char *socket_path;
	const char *cgroup_parent; /* cgroup path under which workloads are created */
	const char *socket_group;  /* NULL: root alone may use the control socket */
	const char *spool_dir;     /* CAEP event files dropped here are ingested; NULL: none */
	const char *const *watch_cgroups; /* cgroup paths scanned for units and containers */
	size_t watch_count;
	const char *pin_dir;       /* bpffs directory of the pinned programs and maps */
	const char *state_dir;     /* the daemon's own state (kernel/state.h) */
	uint64_t events_bytes;     /* ring buffer size for new pins; 0: the default */
	bool verbose;
	struct exportd_config export; /* sinks actgated ships decisions to (daemon/exportd.h) */
	const char *signals_trust; /* signed events' issuers and principals (signals/trust.h); NULL: none */
	uint32_t given;            /* bit (1 << enum config_setting): set by this source */
	/* The `ssf:` section (ssfconfig.h): only in the file; a change takes a restart. */
	struct ssf_config ssf;
	/* The `resolver:` section (resolverconfig.h): only in the file; a change takes a restart. */
	struct resolver_config resolver;
};

/* Where the configuration comes from, kept by the daemon for its reloads. */
struct config_source {
	const char *path;      /* the file; NULL: none */
	bool required;         /* --config: a missing file is an error (the default path's is not) */
	const struct daemon_config *flags; /* the command line's settings (given: which) */
};

/* The key in the file ("policy_dir") and the flag ("--policy-dir") of a setting. */
const char *config_key(enum config_setting s);
const char *config_flag(enum config_setting s);

/* Can a reload change the setting in a running daemon, or does it take a restart? */
bool config_live(enum config_setting s);

/*
 * Set one setting from a flag's text (watch cgroups: adds one). 0, or
 * -EINVAL with why ("--fsync-every 0: expected ...").
 */
int config_set_flag(struct daemon_config *c, enum config_setting s, const char *text, char *why,
		    size_t why_size);

/*
 * Parse a configuration file's text (one YAML mapping; an empty file sets
 * nothing) into c, which must be zeroed. Errors go to diags as
 * file:line:col; unknown keys are errors. 0, -EINVAL (c then holds what
 * parsed: free it), or -ENOMEM.
 */
int config_parse_buffer(const char *name, const char *text, size_t len, struct daemon_config *c,
			struct diag_list *diags);

/*
 * The settings in force: the defaults, then the file (src->path; missing is
 * fine unless src->required), then the flags. out must be zeroed. 0, or
 * -errno after reporting into diags.
 */
int config_resolve(const struct config_source *src, struct daemon_config *out,
		   struct diag_list *diags);

/* Do a and b differ in setting s? */
bool config_differs(const struct daemon_config *a, const struct daemon_config *b,
		    enum config_setting s);

/* The value of s as text, for messages ("(none)" when unset). */
void config_format(const struct daemon_config *c, enum config_setting s, char *buf, size_t size);

/* Move setting s from src to dst (dst's old value is freed; src's field is emptied). */
void config_take(struct daemon_config *dst, struct daemon_config *src, enum config_setting s);

void daemon_config_free(struct daemon_config *c);

#endif /* ACTGATE_DAEMON_CONFIG_H */
