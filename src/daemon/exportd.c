/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "daemon/exportd.h"
#include "util/log.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool known_sink(const char *s)
{
	static const char *const prefixes[] = { "file:/", "syslog+unix:/", "syslog+tcp://",
						"syslog+tls://", "otlp+http://", "otlp+https://" };

	if (!strcmp(s, "stdout"))
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])) && s[strlen(prefixes[i])])
			return true;
	return false;
}

static const char *string_of(struct ytree_ctx *ctx, const struct ynode *n, const char *where)
{
	struct ytree_quoted q;
	char ctl[8];
	size_t at;

	if (!ytree_expect_string(ctx, n, where))
		return NULL;
	if (strlen(n->text) != n->len || ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: %s contains a control character", where,
			 ytree_quote(&q, n->text, n->len));
		return NULL;
	}
	return n->text;
}

static bool count_of(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
		     uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (n->kind != YNODE_SCALAR || n->type != YSCALAR_INT) {
		error_at(ctx, n->pos, "%s: expected a whole number, found %s", where,
			 ynode_describe(n));
		return false;
	}
	errno = 0;
	v = strtoull(n->text, &end, 10);
	if (errno || *end || v < 1 || v > 1000000) {
		error_at(ctx, n->pos, "%s: %s: expected a whole number from 1 to 1000000", where,
			 n->text);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void parse_one(struct ytree_ctx *ctx, struct exportd_config *c, const struct ynode *m,
		      size_t index)
{
	enum { K_NAME, K_SINK, K_FORMAT, K_CURSOR, K_BATCH, K_QUEUE, K_OVERFLOW, K_NR };
	static const char *const keys[K_NR] = { "name", "sink", "format", "cursor",
						"batch", "queue", "overflow" };
	const struct ynode *kn[K_NR], *v[K_NR];
	struct exportd_sink_config s = { 0 };
	struct ytree_quoted q;
	char where[64], w[96];
	const char *text;

	snprintf(where, sizeof(where), "export[%zu]", index);
	if (!ytree_expect_kind(ctx, m, YNODE_MAP, where))
		return;
	ytree_map_fields(ctx, m, where, keys, K_NR, kn, v);
	for (int k = 0; k < K_NR; k++)
		if ((k == K_NAME || k == K_SINK) && !v[k])
			error_at(ctx, m->pos, "%s: %s is required", where, keys[k]);
#define WHERE(k) (snprintf(w, sizeof(w), "%s.%s", where, keys[k]), w)
	if (v[K_NAME] && (text = string_of(ctx, v[K_NAME], WHERE(K_NAME)))) {
		if (!valid_name(text))
			error_at(ctx, v[K_NAME]->pos, "%s: %s: 1 to 32 of a-z, 0-9, _ and -", w,
				 ytree_quote(&q, text, strlen(text)));
		for (size_t i = 0; i < c->count; i++)
			if (!strcmp(c->sinks[i].name, text))
				error_at(ctx, v[K_NAME]->pos, "%s: %s: a name used before", w, text);
		s.name = strdup(text);
	}
	if (v[K_SINK] && (text = string_of(ctx, v[K_SINK], WHERE(K_SINK)))) {
		if (!known_sink(text))
			error_at(ctx, v[K_SINK]->pos,
				 "%s: %s: expected stdout, file:/PATH, syslog+unix:/PATH, "
				 "syslog+tcp://HOST:PORT, syslog+tls://HOST:PORT?ca=FILE or "
				 "otlp+http(s)://HOST:PORT/PATH", w, ytree_quote(&q, text, strlen(text)));
		s.sink = strdup(text);
	}
	if (v[K_FORMAT] && (text = string_of(ctx, v[K_FORMAT], WHERE(K_FORMAT)))) {
		if (!strcmp(text, "ocsf"))
			s.format = JEXPORT_OCSF;
		else if (strcmp(text, "jsonl"))
			error_at(ctx, v[K_FORMAT]->pos, "%s: %s: expected jsonl or ocsf", w,
				 ytree_quote(&q, text, strlen(text)));
	}
	if (v[K_CURSOR] && (text = string_of(ctx, v[K_CURSOR], WHERE(K_CURSOR)))) {
		if (text[0] != '/')
			error_at(ctx, v[K_CURSOR]->pos, "%s: an absolute path is needed", w);
		s.cursor = strdup(text);
	}
	if (v[K_BATCH])
		count_of(ctx, v[K_BATCH], WHERE(K_BATCH), &s.batch);
	if (v[K_QUEUE])
		count_of(ctx, v[K_QUEUE], WHERE(K_QUEUE), &s.queue);
	if (v[K_OVERFLOW] && (text = string_of(ctx, v[K_OVERFLOW], WHERE(K_OVERFLOW)))) {
		if (!strcmp(text, "drop"))
			s.overflow = JEXPORT_OVERFLOW_DROP;
		else if (strcmp(text, "block"))
			error_at(ctx, v[K_OVERFLOW]->pos, "%s: %s: expected block or drop", w,
				 ytree_quote(&q, text, strlen(text)));
	}
#undef WHERE
	if (s.batch && s.queue && s.queue < s.batch)
		error_at(ctx, v[K_QUEUE]->pos, "%s.queue: smaller than batch", where);
	if ((v[K_NAME] && !s.name) || (v[K_SINK] && !s.sink) || (v[K_CURSOR] && !s.cursor)) {
		if (ctx->errors == 0)
			ctx->oom = -ENOMEM;
	}
	c->sinks[c->count++] = s;
}

void exportd_config_parse(struct ytree_ctx *ctx, struct exportd_config *c, const struct ynode *v)
{
	exportd_config_free(c);
	if (!ytree_expect_kind(ctx, v, YNODE_SEQ, "export"))
		return;
	if (v->count > EXPORTD_MAX_SINKS) {
		error_at(ctx, v->pos, "export: at most %d sinks, found %zu", EXPORTD_MAX_SINKS,
			 v->count);
		return;
	}
	c->sinks = calloc(v->count ? v->count : 1, sizeof(*c->sinks));
	if (!c->sinks) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < v->count; i++)
		parse_one(ctx, c, v->items[i], i);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *copy = s ? strdup(s) : NULL;

	if (s && !copy)
		*oom = true;
	return copy;
}

int exportd_config_copy(struct exportd_config *dst, const struct exportd_config *src)
{
	bool oom = false;

	exportd_config_free(dst);
	if (!src->count)
		return 0;
	dst->sinks = calloc(src->count, sizeof(*dst->sinks));
	if (!dst->sinks)
		return -ENOMEM;
	for (size_t i = 0; i < src->count; i++) {
		dst->sinks[i] = src->sinks[i];
		dst->sinks[i].name = dup_or_null(src->sinks[i].name, &oom);
		dst->sinks[i].sink = dup_or_null(src->sinks[i].sink, &oom);
		dst->sinks[i].cursor = dup_or_null(src->sinks[i].cursor, &oom);
		dst->count++;
	}
	return oom ? -ENOMEM : 0;
}

void exportd_config_free(struct exportd_config *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->sinks[i].name);
		free(c->sinks[i].sink);
		free(c->sinks[i].cursor);
	}
	free(c->sinks);
	c->sinks = NULL;
	c->count = 0;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

bool exportd_config_differs(const struct exportd_config *a, const struct exportd_config *b)
{
	if (a->count != b->count)
		return true;
	for (size_t i = 0; i < a->count; i++) {
		const struct exportd_sink_config *x = &a->sinks[i], *y = &b->sinks[i];

		if (str_differs(x->name, y->name) || str_differs(x->sink, y->sink) ||
		    str_differs(x->cursor, y->cursor) || x->format != y->format ||
		    x->overflow != y->overflow || x->batch != y->batch || x->queue != y->queue)
			return true;
	}
	return false;
}

void exportd_config_format(const struct exportd_config *c, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->count && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", i ? "," : "",
				      c->sinks[i].name ? c->sinks[i].name : "?",
				      c->sinks[i].sink ? c->sinks[i].sink : "?");
	if (!c->count)
		snprintf(buf, size, "(none)");
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *follow(void *arg)
{
	struct exportd_sink *s = arg;
	sigset_t pipe;

	/*
	 * A peer that hangs up raises SIGPIPE in the writer (OpenSSL and curl
	 * write without MSG_NOSIGNAL): blocked here, the write fails with EPIPE.
	 */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	s->ret = jexport_run(&s->c);
	if (s->ret) {
		pthread_mutex_lock(&s->st.lock);
		if (!s->st.last_error[0])
			snprintf(s->st.last_error, sizeof(s->st.last_error), "stopped: %s",
				 strerror(-s->ret));
		pthread_mutex_unlock(&s->st.lock);
	}
	return NULL;
}

int exportd_start(struct exportd *x, const struct exportd_config *cfg, const char *journal_dir,
		  const char *state_dir)
{
	int err;

	memset(x, 0, sizeof(*x));
	if (!cfg->count)
		return 0;
	/* Once, before any thread: curl_global_init is not thread-safe. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	x->sinks = calloc(cfg->count, sizeof(*x->sinks));
	if (!x->sinks)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->count; i++) {
		const struct exportd_sink_config *sc = &cfg->sinks[i];
		struct exportd_sink *s = &x->sinks[i];
		char prefix[64];

		x->count++;
		jexport_status_init(&s->st);
		if (sc->cursor)
			s->cursor = strdup(sc->cursor);
		else if (asprintf(&s->cursor, "%s/export-%s.cursor", state_dir, sc->name) < 0)
			s->cursor = NULL;
		snprintf(prefix, sizeof(prefix), "actgated: export %s", sc->name);
		jexport_config_init(&s->c);
		s->c.prefix = strdup(prefix);
		if (!s->cursor || !s->c.prefix)
			return -ENOMEM;
		s->c.journal_dir = journal_dir;
		s->c.cursor_path = s->cursor;
		s->c.sink = sc->sink;
		s->c.format = sc->format;
		s->c.overflow = sc->overflow;
		if (sc->batch)
			s->c.batch_max = sc->batch;
		if (sc->queue)
			s->c.queue_max = sc->queue;
		if (s->c.queue_max < s->c.batch_max)
			s->c.queue_max = s->c.batch_max;
		s->c.stop = &x->stop;
		s->c.err = stderr;
		s->c.status = &s->st;
		s->started_ns = wall_ns();
		err = -pthread_create(&s->thread, NULL, follow, s);
		if (err) {
			log_error("export", "%s: cannot start its thread: %s", sc->name,
				  strerror(-err));
			return err;
		}
		s->started = true;
		log_info("export", "%s: following %s to %s (cursor %s)", sc->name, journal_dir,
			 sc->sink, s->cursor);
	}
	return 0;
}

void exportd_status(struct exportd *x, uint64_t next_seq, struct json_out *j)
{
	uint64_t now = wall_ns();

	for (size_t i = 0; i < x->count; i++) {
		struct exportd_sink *s = &x->sinks[i];
		const char *name = s->c.prefix + strlen("actgated: export ");
		struct jexport_status st;
		uint64_t unread, lag, since;
		char key[96];

		pthread_mutex_lock(&s->st.lock);
		st = s->st;
		pthread_mutex_unlock(&s->st.lock);
		/* Store records not read yet (decisions, mostly) and events waiting for the sink. */
		unread = next_seq > st.read_seq + 1 ? next_seq - 1 - st.read_seq : 0;
		lag = unread + st.queued;
		since = st.exported_time_ns ? st.exported_time_ns : s->started_ns;
#define KEY(field) (snprintf(key, sizeof(key), "export.%s." field, name), key)
		json_add_string(j, KEY("sink"), s->c.sink);
		json_add_string(j, KEY("running"), st.running ? "yes" : "no");
		json_add_u64(j, KEY("exported"), st.exported);
		json_add_u64(j, KEY("lag_records"), lag);
		json_add_u64(j, KEY("lag_seconds"), lag && now > since ? (now - since) / 1000000000ull : 0);
		json_add_u64(j, KEY("queued"), st.queued);
		json_add_u64(j, KEY("gaps"), st.gaps);
		json_add_u64(j, KEY("queue_full"), st.queue_full);
		json_add_u64(j, KEY("dropped"), st.dropped);
		json_add_u64(j, KEY("errors"), st.send_errors);
		json_add_string(j, KEY("last_error"), st.last_error);
#undef KEY
	}
}

void exportd_stop(struct exportd *x)
{
	x->stop = 1;
	for (size_t i = 0; i < x->count; i++) {
		struct exportd_sink *s = &x->sinks[i];

		if (s->started)
			pthread_join(s->thread, NULL);
		pthread_mutex_destroy(&s->st.lock);
		free(s->cursor);
		free((char *)s->c.prefix);
	}
	free(x->sinks);
	memset(x, 0, sizeof(*x));
}
