/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate export: replay's JSON lines, or OCSF events (the mapping is
 * journal/ocsf.c's, shared with the streaming exporter).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include <curl/curl.h>

#include "cli/export.h"
#include "journal/export.h"
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

int export_stream_option(struct export_stream_options *o, int which, const char *arg)
{
	static const char *const names[] = { "--batch", "--queue", "--overflow" };
	unsigned long v;
	char *end;

	if (which == 2) {
		o->overflow_given = true;
		if (!strcmp(arg, "block") || !strcmp(arg, "drop")) {
			o->drop = !strcmp(arg, "drop");
			return 0;
		}
		fprintf(stderr, "actgate: export: --overflow %s: expected block or drop\n"
			"Try 'actgate export --help'.\n", arg);
		return 2;
	}
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] < '1' || arg[0] > '9' || v > 1000000) {
		fprintf(stderr, "actgate: export: %s %s: expected a count from 1 to 1000000\n"
			"Try 'actgate export --help'.\n", names[which], arg);
		return 2;
	}
	if (which == 0)
		o->batch = v;
	else
		o->queue = v;
	return 0;
}

static volatile int stream_stop;

static void on_stream_stop(int sig)
{
	(void)sig;
	stream_stop = 1;
}

int export_stream(const struct export_stream_options *o, FILE *err)
{
	struct sigaction sa = { .sa_handler = on_stream_stop };
	struct jexport_config c;

	jexport_config_init(&c);
	c.journal_dir = o->journal_dir;
	c.cursor_path = o->cursor;
	c.sink = o->sink;
	c.format = o->format == EXPORT_OCSF ? JEXPORT_OCSF : JEXPORT_JSONL;
	c.follow = o->follow;
	if (o->batch)
		c.batch_max = o->batch;
	if (o->queue)
		c.queue_max = o->queue;
	if (c.queue_max < c.batch_max)
		c.queue_max = c.batch_max;
	c.overflow = o->drop ? JEXPORT_OVERFLOW_DROP : JEXPORT_OVERFLOW_BLOCK;
	c.stop = &stream_stop;
	c.err = err;
	/* No SA_RESTART: the follower's naps return, and it ends after one last send. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return jexport_run(&c);
}
