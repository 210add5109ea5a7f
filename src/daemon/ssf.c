/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The receiver (ssf.h): its streams, the one path every SET takes whether
 * pushed or polled (ssf_take: verify, check, then apply through the host),
 * the SSF stream-management events, and each stream's health.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "daemon/ssf-internal.h"
#include "util/clock.h"
#include "util/log.h"

#define SSF_EVENT_PREFIX "https://schemas.openid.net/secevent/ssf/event-type/"
#define SSF_VERIFICATION SSF_EVENT_PREFIX "verification"
#define SSF_STREAM_UPDATED SSF_EVENT_PREFIX "stream-updated"
/* A key set or bearer token file is small; a bigger one is a mistake. */
#define SSF_FILE_MAX (1u << 20)

static const char *const err_names[SSF_NR_ERRS] = {
	[SSF_OK] = "",
	[SSF_INVALID_REQUEST] = "invalid_request",
	[SSF_INVALID_KEY] = "invalid_key",
	[SSF_INVALID_ISSUER] = "invalid_issuer",
	[SSF_INVALID_AUDIENCE] = "invalid_audience",
	[SSF_AUTHENTICATION_FAILED] = "authentication_failed",
	[SSF_ACCESS_DENIED] = "access_denied",
};

const char *ssf_err_name(enum ssf_err e)
{
	return (unsigned int)e < SSF_NR_ERRS ? err_names[e] : "?";
}

/* A small file read whole (keys, a bearer token). 0, or -errno. */
static int read_small_file(const char *path, char **text, size_t *len)
{
	char *buf = malloc(SSF_FILE_MAX + 1);
	size_t n = 0;
	ssize_t got;
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	while (n <= SSF_FILE_MAX && (got = read(fd, buf + n, SSF_FILE_MAX + 1 - n)) > 0)
		n += (size_t)got;
	if (got < 0)
		err = -errno;
	else if (n > SSF_FILE_MAX)
		err = -EFBIG;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int load_bearer(struct ssf_stream *st)
{
	char *text = NULL;
	size_t len = 0;
	int err = read_small_file(st->t->bearer_token_file, &text, &len);

	if (err) {
		log_error("ssf", "%s: bearer_token_file %s: %s", st->t->name,
			  st->t->bearer_token_file, strerror(-err));
		return err;
	}
	text[strcspn(text, "\r\n")] = '\0';
	/* RFC 6750's b64token, so that it goes into a header as it is. */
	if (!text[0] || text[strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-._~+/=")]) {
		log_error("ssf", "%s: bearer_token_file %s: the first line is not a bearer token "
				 "(RFC 6750 characters, not empty)", st->t->name,
			  st->t->bearer_token_file);
		free(text);
		return -EINVAL;
	}
	st->bearer = text;
	return 0;
}

/* Read the key set file again: at start, on schedule, for an unknown kid. */
static int load_keys_file(struct ssf_stream *st)
{
	char *text = NULL, why[256];
	size_t len = 0;
	int err = read_small_file(st->t->jwks_file, &text, &len);

	st->keys_next_ns = boot_ns() + st->t->jwks_refresh_ms * 1000000ull;
	if (err) {
		snprintf(why, sizeof(why), "jwks_file %s: %s", st->t->jwks_file, strerror(-err));
		ssf_note_error(st, SSF_OK, why);
		return err;
	}
	err = ssf_keys_set(st, text, len, why, sizeof(why));
	free(text);
	if (err) {
		char msg[400];

		snprintf(msg, sizeof(msg), "jwks_file %s: %s", st->t->jwks_file, why);
		ssf_note_error(st, SSF_OK, msg);
	}
	return err;
}

void ssf_note_error(struct ssf_stream *st, enum ssf_err err, const char *why)
{
	if (err != SSF_OK)
		st->refused[err]++;
	snprintf(st->last_error, sizeof(st->last_error), "%s%s%s", ssf_err_name(err),
		 err != SSF_OK ? ": " : "", why);
	st->last_error_wall_ns = wall_ns();
	/* A flood of bad requests must not become a flood of log lines: each is counted anyway. */
	if (mono_ns() >= st->log_window_ns) {
		if (st->log_suppressed)
			log_warn("ssf", "%s: %llu more refusals not logged (ssf.%s.refused.* in "
				 "`actgate status` counts them all)", st->t->name,
				 (unsigned long long)st->log_suppressed, st->t->name);
		st->log_window_ns = mono_ns() + SSF_LOG_WINDOW_MS * 1000000ull;
		st->log_count = st->log_suppressed = 0;
	}
	if (st->log_count++ < SSF_LOG_PER_WINDOW)
		log_warn("ssf", "%s: %s", st->t->name, st->last_error);
	else
		st->log_suppressed++;
}

void ssf_schedule(struct ssf_stream *st, enum ssf_fetch f, uint64_t at_ns)
{
	if (!st->next_ns[f] || at_ns < st->next_ns[f])
		st->next_ns[f] = at_ns ? at_ns : 1;
}

static bool event_allowed(const struct ssf_transmitter *t, const char *type)
{
	if (!t->event_count)
		return true;
	for (size_t i = 0; i < t->event_count; i++)
		if (!strcmp(t->events[i], type))
			return true;
	return false;
}

/* The stream-management events: what the receiver itself takes from them. */
static void take_management(struct ssf_stream *st, const char *type, json_t *event)
{
	if (!strcmp(type, SSF_VERIFICATION)) {
		st->last_verification_wall_ns = wall_ns();
		log_info("ssf", "%s: verification event received: the stream delivers", st->t->name);
		return;
	}
	{
		const char *status = json_string_value(json_object_get(event, "status"));
		const char *reason = json_string_value(json_object_get(event, "reason"));

		snprintf(st->stream_status, sizeof(st->stream_status), "%.40s%s%.50s",
			 status ? status : "?", reason ? ": " : "", reason ? reason : "");
		log_info("ssf", "%s: the transmitter says the stream is %s", st->t->name,
			 st->stream_status);
	}
}

/*
 * The checks every verified payload gets before it is handled or applied:
 * one event (SSF 1.0: a SET carries exactly one), of a type the
 * transmitter may send; a management event's fields are objects.
 */
static int check_payload(struct ssf_stream *st, json_t *root, const char **type, json_t **event,
			 char *why, size_t why_size)
{
	json_t *events = json_object_get(root, "events");

	if (!json_is_object(events) || json_object_size(events) != 1) {
		snprintf(why, why_size, "\"events\" must be an object with exactly one event");
		return SSF_INVALID_REQUEST;
	}
	*type = json_object_iter_key(json_object_iter(events));
	*event = json_object_iter_value(json_object_iter(events));
	if (!json_is_object(*event)) {
		snprintf(why, why_size, "the event %.200s is not an object", *type);
		return SSF_INVALID_REQUEST;
	}
	if (!event_allowed(st->t, *type)) {
		snprintf(why, why_size, "%.200s is not an event type this transmitter may send "
			 "(its events: list)", *type);
		return SSF_ACCESS_DENIED;
	}
	return SSF_OK;
}

int ssf_take(struct ssf_stream *st, const char *token, size_t len, char *jti, size_t jti_size,
	     char *why, size_t why_size)
{
	char *payload = NULL;
	size_t payload_len = 0;
	bool unknown_kid = false;
	json_t *root = NULL, *event;
	const char *type, *id;
	int err;

	jti[0] = '\0';
	err = ssf_verify(st, token, len, &payload, &payload_len, &unknown_kid, why, why_size);
	if (err != SSF_OK && unknown_kid) {
		/*
		 * A fetched key set lacks the token's kid (jose.h limits how often
		 * that is asked): fetch it again, and take the token after.
		 */
		ssf_schedule(st, SSF_FETCH_JWKS, 0);
		log_info("ssf", "%s: a token names a key not in the set: fetching %s again",
			 st->t->name, st->jwks_uri ? st->jwks_uri : "the key set");
		return -EAGAIN;
	}
	if (err != SSF_OK)
		goto refused;
	root = json_loadb(payload, payload_len, JSON_REJECT_DUPLICATES, NULL);
	id = json_string_value(json_object_get(root, "jti"));
	if (!json_is_object(root) || !id || !id[0]) {
		snprintf(why, why_size, "the payload has no jti");
		err = SSF_INVALID_REQUEST;
		goto refused;
	}
	snprintf(jti, jti_size, "%s", id);
	err = check_payload(st, root, &type, &event, why, why_size);
	if (err != SSF_OK)
		goto refused;
	if (!strcmp(type, SSF_VERIFICATION) || !strcmp(type, SSF_STREAM_UPDATED)) {
		take_management(st, type, event);
	} else {
		err = st->r->host.apply(st->r->host.ctx, st->t, payload, payload_len, why, why_size);
		if (err == -EIO) {
			log_error("ssf", "%s: SET %s: %s", st->t->name, id, why);
		} else if (err) {
			err = SSF_INVALID_REQUEST;
			goto refused;
		}
	}
	st->accepted++;
	st->last_event_wall_ns = wall_ns();
	snprintf(st->last_event, sizeof(st->last_event), "%.60s %.90s", id, type);
	log_info("ssf", "%s: SET %s (%s) %s", st->t->name, id, type,
		 strncmp(type, SSF_EVENT_PREFIX, strlen(SSF_EVENT_PREFIX)) ? "applied" : "taken");
	err = SSF_OK;
	goto out;
refused:
	ssf_note_error(st, (enum ssf_err)err, why);
out:
	json_decref(root);
	free(payload);
	return err;
}

/* ---- open, run, close ---- */

static int open_stream(struct ssf *r, size_t i)
{
	struct ssf_stream *st = &r->streams[i];
	const struct ssf_transmitter *t = &r->cfg->items[i];
	char why[256];
	int err;

	*st = (struct ssf_stream){ .r = r, .index = i, .t = t, .listen_fd = -1 };
	snprintf(st->stream_status, sizeof(st->stream_status), "unknown");
	if (t->bearer_token_file && (err = load_bearer(st)))
		return err;
	if (t->jwks_uri && !(st->jwks_uri = strdup(t->jwks_uri)))
		return -ENOMEM;
	if (t->poll_url && !(st->poll_url = strdup(t->poll_url)))
		return -ENOMEM;
	if (t->jwks_file) {
		err = load_keys_file(st);
		if (err) {
			log_error("ssf", "%s: %s", t->name, st->last_error);
			return err;
		}
	}
	if (t->configuration_url)
		ssf_schedule(st, SSF_FETCH_CONFIG, 0);
	else if (st->jwks_uri)
		ssf_schedule(st, SSF_FETCH_JWKS, 0);
	if (t->delivery == SSF_POLL) {
		err = ssf_acks_load(st, why, sizeof(why));
		if (err) {
			log_error("ssf", "%s: %s", t->name, why);
			return err;
		}
		/* Polls start once the keys and the endpoint are known (ssf-poll.c). */
	} else {
		err = ssf_push_open(st);
		if (err)
			return err;
	}
	/* A jwks_file and a poll_url (or a push listener): ready now, polled at once. */
	ssf_check_ready(st);
	return 0;
}

int ssf_open(struct ssf **out, const struct ssf_config *cfg, const char *state_dir,
	     const struct ssf_host *host)
{
	struct ssf *r = calloc(1, sizeof(*r));
	int err = 0;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->state_dir = state_dir;
	r->host = *host;
	r->epoll_fd = -1;
	if (!cfg->count)
		goto done;
	r->streams = calloc(cfg->count, sizeof(*r->streams));
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->streams || r->epoll_fd < 0) {
		err = r->streams ? -errno : -ENOMEM;
		goto fail;
	}
	err = ssf_client_open(r);
	if (err)
		goto fail;
	for (size_t i = 0; i < cfg->count; i++) {
		r->count = i + 1;
		err = open_stream(r, i);
		if (err)
			goto fail;
	}
	for (size_t i = 0; i < r->count; i++) {
		const struct ssf_stream *st = &r->streams[i];

		log_info("ssf", "%s: %s from %s (%s)", st->t->name,
			 st->t->delivery == SSF_PUSH ? "receiving pushed SETs" : "polling for SETs",
			 st->t->issuer, st->t->delivery == SSF_PUSH ? st->t->listen
				 : st->poll_url ? st->poll_url : "endpoint from configuration_url");
	}
done:
	*out = r;
	return 0;
fail:
	ssf_close(r);
	return err;
}

int ssf_fd(const struct ssf *r)
{
	return r ? r->epoll_fd : -1;
}

void ssf_run(struct ssf *r)
{
	struct epoll_event ev[32];
	uint64_t now;
	int n;

	if (!r || r->epoll_fd < 0)
		return;
	n = epoll_wait(r->epoll_fd, ev, 32, 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;

		if ((tag & ~0xffffffffull) == SSF_TAG_PUSH && (size_t)(uint32_t)tag < r->count)
			ssf_push_run(&r->streams[(uint32_t)tag]);
		else if ((tag & ~0xffffffffull) == SSF_TAG_CURL)
			ssf_client_run(r, tag, ev[i].events);
	}
	now = boot_ns();
	for (size_t i = 0; i < r->count; i++) {
		struct ssf_stream *st = &r->streams[i];

		if (st->mhd)
			ssf_push_run(st); /* its timers: idle connections, resumed ones */
		if (st->t->jwks_file && now >= st->keys_next_ns)
			load_keys_file(st);
	}
	ssf_client_run(r, 0, 0);
}

int ssf_timeout_ms(const struct ssf *r, int max_ms)
{
	uint64_t now, next = 0;
	long ms = max_ms;

	if (!r || !r->count)
		return max_ms;
	now = boot_ns();
	next = ssf_client_next_ns(r);
	for (size_t i = 0; i < r->count; i++) {
		long push = r->streams[i].mhd ? ssf_push_timeout_ms(&r->streams[i]) : -1;

		if (push >= 0 && push < ms)
			ms = push;
		if (r->streams[i].t->jwks_file && (!next || r->streams[i].keys_next_ns < next))
			next = r->streams[i].keys_next_ns;
	}
	if (next) {
		uint64_t wait = next > now ? (next - now + 999999) / 1000000 : 0;

		if (wait < (uint64_t)ms)
			ms = (long)wait;
	}
	return (int)ms;
}

static void add_time(struct json_out *j, const char *key, uint64_t wall)
{
	char buf[40];
	time_t sec = (time_t)(wall / 1000000000ull);
	struct tm tm;

	if (!wall) {
		json_add_string(j, key, "never");
		return;
	}
	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_add_string(j, key, buf);
}

void ssf_status(const struct ssf *r, struct json_out *j)
{
	uint64_t now = boot_ns();

	for (size_t i = 0; r && i < r->count; i++) {
		const struct ssf_stream *st = &r->streams[i];
		char key[128];

#define K(field) (snprintf(key, sizeof(key), "ssf.%s." field, st->t->name), key)
		json_add_string(j, K("delivery"), st->t->delivery == SSF_PUSH ? "push" : "poll");
		json_add_string(j, K("issuer"), st->t->issuer);
		json_add_string(j, K("endpoint"), st->t->delivery == SSF_PUSH ? st->t->listen
						   : st->poll_url ? st->poll_url : "(not known yet)");
		json_add_string(j, K("health"), !st->ready ? "starting: keys or endpoint not known yet"
					 : st->backoff_ms[SSF_FETCH_POLL] ? "failing: backing off"
					 : "ok");
		json_add_string(j, K("stream_status"), st->stream_status);
		json_add_u64(j, K("keys"), ssf_keys_count(st->keys));
		json_add_u64(j, K("accepted"), st->accepted);
		for (int e = SSF_INVALID_REQUEST; e < SSF_NR_ERRS; e++) {
			snprintf(key, sizeof(key), "ssf.%s.refused.%s", st->t->name, err_names[e]);
			json_add_u64(j, key, st->refused[e]);
		}
		add_time(j, K("last_event_at"), st->last_event_wall_ns);
		json_add_string(j, K("last_event"), st->last_event[0] ? st->last_event : "(none)");
		add_time(j, K("last_error_at"), st->last_error_wall_ns);
		json_add_string(j, K("last_error"), st->last_error[0] ? st->last_error : "(none)");
		add_time(j, K("last_verification_at"), st->last_verification_wall_ns);
		if (st->t->delivery == SSF_POLL) {
			json_add_u64(j, K("polls"), st->polls);
			json_add_u64(j, K("poll_failures"), st->poll_failures);
			json_add_u64(j, K("poll_backoff_ms"), st->backoff_ms[SSF_FETCH_POLL]);
			json_add_u64(j, K("next_poll_in_ms"), st->next_ns[SSF_FETCH_POLL] > now
				     ? (st->next_ns[SSF_FETCH_POLL] - now) / 1000000 : 0);
			json_add_u64(j, K("pending_acks"), st->ack_count);
		}
#undef K
	}
}

static void close_stream(struct ssf_stream *st)
{
	ssf_push_close(st);
	ssf_keys_free(st->keys);
	free(st->bearer);
	free(st->jwks_uri);
	free(st->poll_url);
	free(st->stream_url);
	for (size_t i = 0; i < st->ack_count; i++)
		free(st->acks[i]);
	free(st->acks);
	for (size_t i = 0; i < st->err_count; i++) {
		free(st->errs[i].jti);
		free(st->errs[i].description);
	}
	free(st->errs);
}

void ssf_close(struct ssf *r)
{
	if (!r)
		return;
	ssf_client_close(r); /* its transfers point at streams */
	for (size_t i = 0; i < r->count; i++)
		close_stream(&r->streams[i]);
	free(r->streams);
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	free(r);
}
