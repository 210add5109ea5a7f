/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate export: replay's JSON lines, or OCSF events (the mapping is
 * journal/ocsf.c's, shared with the streaming exporter).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/export.h"
#include "journal/ocsf.h"
#include "journal/source.h"
#include "util/json.h"

int export_run(const struct replay_options *o, enum export_format format, FILE *out, FILE *err)
{
	struct jsource_options so = { .err = err, .prefix = "actgate: export", .prefilter = o->filter };
	struct jsource *src = NULL;
	struct journal_record rec;
	struct jocsf_host host;
	struct json_out j;
	char why[512];
	int ret;

	if (format == EXPORT_JSONL)
		return replay_execute(&(struct replay_options){ .paths = o->paths,
								 .n_paths = o->n_paths,
								 .filter = o->filter,
								 .output = REPLAY_JSON },
				      out, err);
	json_out_init(&j);
	/* The device of every event: this host, where the journal is read (export runs beside it). */
	ret = jocsf_host_read(&host, why, sizeof(why));
	if (ret) {
		fprintf(err, "actgate: export: %s\n", why);
		goto out;
	}
	ret = jsource_open(&src, o->paths, o->n_paths, &so);
	if (ret)
		goto out;
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(o->filter, &rec))
			continue;
		jocsf_event(&rec, &host, &j);
		ret = json_out_write_line(&j, out); /* a sticky -ENOMEM too */
		if (ret)
			goto write_failed;
	}
	if (ret < 0)
		goto out; /* reported by the source */
	if (fflush(out) == EOF) {
		ret = errno ? -errno : -EIO;
		goto write_failed;
	}
	goto out;
write_failed:
	fprintf(err, "actgate: export: writing the output: %s\n", strerror(-ret));
out:
	jsource_close(src);
	json_out_free(&j);
	return ret;
}
