/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/journalwatch.h"
#include "journal/sink.h"
#include "util/log.h"

int journalwatch_init(struct journalwatch *w, const char *state_dir)
{
	memset(w, 0, sizeof(*w));
	if (snprintf(w->head_path, sizeof(w->head_path), "%s/" JOURNALWATCH_HEAD_NAME, state_dir) >=
	    (int)sizeof(w->head_path))
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Segments gone from under the writer: said once per change (the count or
 * the first one), as an error, since only the writer's own retention may
 * remove them and it says so in the journal first.
 */
static void check_segments(struct journalwatch *w, struct jstore *js, const char *dir)
{
	uint64_t first = 0;
	int n = jstore_missing_segments(js, &first);

	if (n < 0) {
		log_warn("journal", "%s: cannot check the segments: %s", dir, strerror(-n));
		return;
	}
	if (n > 0 && (n != w->missing || first != w->first_missing))
		log_error("journal",
			  "%s: %d segment%s removed under the running daemon, not by its retention "
			  "(the first: segment %" PRIu64 "); the records in them are gone: "
			  "`actgate verify --head %s` reports the journal as damaged",
			  dir, n, n == 1 ? "" : "s", first, w->head_path);
	else if (n == 0 && w->missing > 0)
		log_info("journal", "%s: no segment is missing any more", dir);
	w->missing = n;
	w->first_missing = first;
}

/* Sync the store when it sealed since the last time, and keep its head. */
static void keep_head(struct journalwatch *w, struct jstore *js)
{
	struct jstore_stats st;
	struct jstore_head head;
	int err;

	jstore_stats(js, &st);
	if (st.seals != w->seals_seen && jstore_sync(js) == 0)
		w->seals_seen = st.seals;
	jstore_head(js, &head);
	if (head.seal == 0 || !memcmp(&head, &w->kept, sizeof(head)))
		return;
	err = jstore_head_save(w->head_path, &head);
	if (err) {
		if (err != w->save_error)
			log_error("journal", "cannot keep the journal's head in %s: %s (verify "
					     "--head then checks against an older seal)",
				  w->head_path, strerror(-err));
		w->save_error = err;
		return;
	}
	w->save_error = 0;
	w->kept = head;
}

void journalwatch_tick(struct journalwatch *w, struct jsink *sink)
{
	struct jstore *js = jsink_store(sink);

	if (!js)
		return;
	check_segments(w, js, jsink_dir(sink));
	keep_head(w, js);
}

void journalwatch_status(const struct journalwatch *w, struct json_out *j)
{
	json_add_u64(j, "journal_segments_removed", w->missing > 0 ? (uint64_t)w->missing : 0);
	json_add_u64(j, "journal_first_removed_segment", w->missing > 0 ? w->first_missing : 0);
	json_add_u64(j, "journal_head_seal", w->kept.seal);
	json_add_u64(j, "journal_head_record", w->kept.sealed_seq);
	json_add_string(j, "journal_head_file", w->head_path);
	json_add_string(j, "journal_head_error", w->save_error ? strerror(-w->save_error) : "");
}
