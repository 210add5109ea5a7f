/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The journal seen from outside its writer: segments removed under the
 * running daemon (by anybody but its own retention and compression) are
 * noticed, logged and shown by `actgate status`; and the head (the last
 * seal written and synced: journal/store.h, struct jstore_head) is kept in
 * the state directory as journal-head, so that `actgate verify --head`
 * finds a journal cut or emptied since.
 */
#ifndef ACTGATE_DAEMON_JOURNALWATCH_H
#define ACTGATE_DAEMON_JOURNALWATCH_H

#include <limits.h>
#include <stdint.h>

#include "journal/store.h"
#include "util/json.h"

#define JOURNALWATCH_HEAD_NAME "journal-head"

struct jsink;

struct journalwatch {
	char head_path[PATH_MAX];
	struct jstore_head kept; /* as last written to head_path (seal 0: none yet) */
	uint64_t seals_seen;     /* the store's seal count when it was last synced for the head */
	int save_error;          /* -errno of the last failed write of head_path, logged once */
	int64_t missing;         /* segments found gone at the last check */
	uint64_t first_missing;
};

/* state_dir: where journal-head is kept. -ENAMETOOLONG when the path does not fit. */
int journalwatch_init(struct journalwatch *w, const char *state_dir);
/* Check the segments and keep the head; call it every few seconds and before the journal closes. */
void journalwatch_tick(struct journalwatch *w, struct jsink *sink);
/* Members for the status reply. */
void journalwatch_status(const struct journalwatch *w, struct json_out *j);

#endif /* ACTGATE_DAEMON_JOURNALWATCH_H */
