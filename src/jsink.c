// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jrecord.h"
#include "jsink.h"
#include "jstore.h"
#include "log.h"

#define MODULE "journal"

struct jsink {
	struct jstore *js;
	struct jrecord_buf buf;
	char *dir;
	char *key_path;
	uint64_t unencodable; /* records the encoder refused (a bug, never expected) */
};

/* mkdir -p for the key's directory: 0700 for the last component, so only root reads it. */
static int make_key_dir(const char *key_path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", key_path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int jsink_open(struct jsink **out, const struct jsink_config *cfg)
{
	struct jstore_options o;
	struct jsink *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir = strdup(cfg->dir);
	s->key_path = strdup(cfg->key_path ? cfg->key_path : DEFAULT_JOURNAL_KEY);
	if (!s->dir || !s->key_path) {
		err = -ENOMEM;
		goto out;
	}
	if (access(s->key_path, F_OK) < 0 && errno == ENOENT) {
		err = make_key_dir(s->key_path);
		if (err) {
			log_error(MODULE, "seal key %s: cannot create its directory: %s", s->key_path,
				  strerror(-err));
			goto out;
		}
		err = jstore_key_create(s->key_path); /* logs its failures */
		if (err)
			goto out;
		log_info(MODULE, "created the seal key %s", s->key_path);
	}
	jstore_options_init(&o);
	o.dir = s->dir;
	o.key_path = s->key_path;
	if (cfg->fsync_every_records)
		o.fsync_every_records = cfg->fsync_every_records;
	if (cfg->fsync_every_ms)
		o.fsync_every_ms = cfg->fsync_every_ms;
	/* Unknown ids only leave the header fields zero: not worth refusing to start. */
	jstore_host_ids(o.host_id, o.boot_id);
	err = jstore_open(&s->js, &o); /* logs its failures */
out:
	if (err) {
		free(s->dir);
		free(s->key_path);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void jsink_append(struct jsink *s, const struct journal_record *r)
{
	if (!s)
		return;
	if (jrecord_encode(r, &s->buf)) {
		if (!s->unencodable++)
			log_error(MODULE, "a decision could not be encoded (action %u, verdict %u)",
				  r->action, r->verdict);
		return;
	}
	/* A failed write is counted as lost and logged by the store itself. */
	(void)jstore_append(s->js, JRECORD_TYPE_DECISION, s->buf.p, s->buf.len);
}

void jsink_flush(struct jsink *s)
{
	if (!s)
		return;
	(void)jstore_flush(s->js);
}

void jsink_tick(struct jsink *s)
{
	if (!s)
		return;
	(void)jstore_tick(s->js);
}

void jsink_counts(const struct jsink *s, uint64_t *written, uint64_t *lost)
{
	struct jstore_stats st;

	jstore_stats(s->js, &st);
	*written = st.records;
	*lost = st.lost + s->unencodable;
}

void jsink_status(const struct jsink *s, struct json_out *j)
{
	struct jstore_stats st;

	jstore_stats(s->js, &st);
	json_add_u64(j, "records_written", st.records);
	/* Decided in the kernel (and enforced) but not in the journal. */
	json_add_u64(j, "records_unwritten", st.lost + s->unencodable);
	json_add_u64(j, "journal_lost_unreported", st.lost_unreported);
	json_add_string(j, "journal_error", st.last_error ? strerror(-st.last_error) : "");
	json_add_u64(j, "journal_gaps", st.gaps);
	json_add_u64(j, "journal_segment", st.segment_seq);
	json_add_u64(j, "journal_next_seq", st.next_seq);
	json_add_u64(j, "journal_seals", st.seals);
	json_add_string(j, "journal", s->dir);
	json_add_string(j, "journal_key", s->key_path);
}

const char *jsink_dir(const struct jsink *s)
{
	return s->dir;
}

int jsink_close(struct jsink *s)
{
	int err;

	if (!s)
		return 0;
	err = jstore_close(s->js);
	jrecord_buf_free(&s->buf);
	free(s->dir);
	free(s->key_path);
	free(s);
	return err;
}
