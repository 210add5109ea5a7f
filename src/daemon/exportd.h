/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's own export (journal/export.h): the sinks of the configuration
 * file's `export` list, each followed by a thread of its own that reads
 * the journal directory as any follower does (so a slow or dead sink never
 * holds up the event loop, and the journal is the only buffer), with its
 * cursor in the state directory. `actgate status` shows each sink's lag
 * and errors as export.NAME.* keys.
 *
 * The configuration (the `export` key, a list of mappings):
 *
 *   export:
 *     - name: siem                       # [a-z0-9_-], 1..32, unique
 *       sink: syslog+tls://siem.example:6514?ca=/etc/actgate/siem-ca.pem
 *       format: ocsf                     # jsonl (default) or ocsf
 *       cursor: /var/lib/actgate/export-siem.cursor   # default: STATE_DIR/export-NAME.cursor
 *       batch: 256                       # events a send
 *       queue: 4096                      # events waiting at most
 *       overflow: block                  # or drop
 */
#ifndef ACTGATE_DAEMON_EXPORTD_H
#define ACTGATE_DAEMON_EXPORTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/export.h"
#include "util/json.h"
#include "util/yamltree.h"

#define EXPORTD_MAX_SINKS 8

struct exportd_sink_config {
	char *name, *sink, *cursor; /* cursor NULL: STATE_DIR/export-NAME.cursor */
	enum jexport_format format;
	enum jexport_overflow overflow;
	uint32_t batch, queue;      /* 0: the defaults */
};

struct exportd_config {
	struct exportd_sink_config *sinks;
	size_t count;
};

/* The `export` key's value (a list of mappings), checked with file:line:col errors. */
void exportd_config_parse(struct ytree_ctx *ctx, struct exportd_config *c, const struct ynode *v);
int exportd_config_copy(struct exportd_config *dst, const struct exportd_config *src);
void exportd_config_free(struct exportd_config *c);
bool exportd_config_differs(const struct exportd_config *a, const struct exportd_config *b);
/* "name=sink,name=sink" or "(none)". */
void exportd_config_format(const struct exportd_config *c, char *buf, size_t size);

struct exportd_sink {
	struct jexport_config c;
	struct jexport_status st;
	char *cursor;
	pthread_t thread;
	bool started;
	int ret;
	uint64_t started_ns;
};

struct exportd {
	struct exportd_sink *sinks;
	size_t count;
	volatile int stop;
};

/*
 * Start a follower thread per configured sink. Call after the journal is
 * open and with the daemon's signals blocked (the threads inherit the mask).
 * 0 or -errno (logged).
 */
int exportd_start(struct exportd *x, const struct exportd_config *cfg, const char *journal_dir,
		  const char *state_dir);
/*
 * export.NAME.sink, .running, .exported, .lag_records, .lag_seconds, .queued,
 * .gaps, .queue_full, .dropped, .errors, .last_error; next_seq is the
 * journal's next record number (jstore_stats).
 */
void exportd_status(struct exportd *x, uint64_t next_seq, struct json_out *j);
/* Ask every follower to stop (one last send each), join them, free. */
void exportd_stop(struct exportd *x);

#endif /* ACTGATE_DAEMON_EXPORTD_H */
