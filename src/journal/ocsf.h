/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Journal records as OCSF 1.1.0 events (https://schema.ocsf.io/1.1.0): one
 * place for the mapping, used by `actgate export --format ocsf` and by the
 * streaming exporter. docs/journal-format.md ("OCSF") says which class each
 * record becomes and why; tests/unit/ocsf-1.1.json is our own description
 * of those classes and objects, which tests/unit/test_journal_ocsf.c holds
 * every record type's output to.
 *
 * The output goes through util/json.h's writer, not a jansson value:
 * recorded paths and names are arbitrary bytes, which the writer turns into
 * valid UTF-8 (U+FFFD) where jansson would refuse the string.
 */
#ifndef ACTGATE_JOURNAL_OCSF_H
#define ACTGATE_JOURNAL_OCSF_H

#include <stddef.h>
#include <stdint.h>

#include "journal/decision.h"
#include "journal/store.h"
#include "util/json.h"

#define JOCSF_VERSION "1.1.0" /* metadata.version */

/* The host the records were made on: every event's `device`. */
struct jocsf_host {
	char hostname[256];   /* gethostname(2); never empty ("localhost" when unset) */
	char machine_id[33];  /* /etc/machine-id, 32 hex digits; "" when there is none */
	char boot_id[37];     /* /proc/sys/kernel/random/boot_id, a UUID; "" when unreadable */
	char os_name[65];     /* uname(2) sysname, "Linux" */
	char os_release[65];  /* uname(2) release: the kernel's version */
};

/*
 * The running host into host. A missing /etc/machine-id or boot id leaves
 * that field empty (a container may have neither; device.uid is then
 * absent, never invented). Returns 0, or -errno with why filled ("PATH:
 * not a machine id") when a file is there but unreadable or malformed.
 */
int jocsf_host_read(struct jocsf_host *host, char *why, size_t why_size);

/*
 * The members of rec's OCSF event (metadata.product.version is
 * rec->writer_version, the journal's; the exporting binary's when the
 * segment does not say, unmapped.product_version_from telling which),
 * appended to j inside an object the
 * caller opened (json_object_begin, or json_key_object_begin to nest it):
 * the caller decides what surrounds the event. Every action has a class,
 * an action number this mapping does not know becomes a Base Event with
 * everything in `unmapped`. 0, or -ENOMEM (j's sticky error).
 */
int jocsf_write(const struct journal_record *rec, const struct jocsf_host *host, struct json_out *j);

/*
 * A gap (decisions the daemon counted as lost and could not journal: a
 * store gap record) as a Detection Finding, the same way: members only.
 * 0, or -ENOMEM. jocsf_write_gap_by also says which actgate wrote the gap
 * record (its jstore_record's segment_writer) in metadata.product.version;
 * jocsf_write_gap gives the exporting binary's version there.
 */
int jocsf_write_gap(const struct jstore_gap *gap, const struct jocsf_host *host,
		    struct json_out *j);
int jocsf_write_gap_by(const struct jstore_gap *gap, const char *writer,
		       const struct jocsf_host *host, struct json_out *j);

/* One whole event as a line's text: j reset, then {jocsf_write}. 0 or -ENOMEM. */
int jocsf_event(const struct journal_record *rec, const struct jocsf_host *host, struct json_out *j);
int jocsf_gap_event(const struct jstore_gap *gap, const struct jocsf_host *host,
		    struct json_out *j);

/*
 * The streaming exporter's other gaps (journal/export.h), members only:
 * store records first_seq..last_seq a follower never saw (cause "missing":
 * retention or damage) or events it dropped ("export-queue-overflow"), as
 * a Detection Finding. 0 or -ENOMEM.
 */
int jocsf_write_missing(uint64_t time_ns, uint64_t first_seq, uint64_t last_seq,
			const char *cause, const struct jocsf_host *host, struct json_out *j);

#endif /* ACTGATE_JOURNAL_OCSF_H */
