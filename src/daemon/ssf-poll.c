/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The receiver's HTTP client: polls (RFC 8936), the transmitter's
 * /.well-known/ssf-configuration and its configuration_endpoint, and key
 * sets from a jwks_uri. libcurl's multi interface with its sockets in the
 * receiver's epoll set and its timer in ssf_timeout_ms: a slow or silent
 * transmitter never holds the daemon's loop.
 *
 * Acknowledgements: a polled SET is acknowledged only after it was applied
 * (ssf_take returned SSF_OK). Its jti is then written to
 * STATE_DIR/ssf-NAME.acks before any request carries it, and leaves the
 * file only when the transmitter answered the request that carried it. A
 * restart sends what the file holds, and a SET the transmitter offers again
 * whose jti is there is acknowledged again, not applied again.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon/ssf-internal.h"
#include "util/clock.h"
#include "util/io.h"
#include "util/log.h"

#define FETCH_TIMEOUT_S 30
#define JTI_MAX 256

struct ssf_xfer {
	struct ssf_stream *st;
	enum ssf_fetch kind;
	CURL *easy;
	struct curl_slist *headers;
	char *request;      /* a poll's body */
	char *buf;          /* the answer */
	size_t len;
	bool too_large;
	char error[CURL_ERROR_SIZE];
};

static const char *const fetch_names[SSF_NR_FETCH] = {
	[SSF_FETCH_CONFIG] = "the SSF configuration",
	[SSF_FETCH_STREAM] = "the stream configuration",
	[SSF_FETCH_JWKS] = "the key set",
	[SSF_FETCH_POLL] = "a poll",
};

/* ---- acknowledgements on disk ---- */

static void acks_name(const struct ssf_stream *st, char *buf, size_t size)
{
	snprintf(buf, size, "ssf-%s.acks", st->t->name);
}

static int acks_save(struct ssf_stream *st, char *why, size_t why_size)
{
	json_t *list = json_array(), *doc;
	char name[64], *text = NULL;
	int err = -ENOMEM;

	for (size_t i = 0; list && i < st->ack_count; i++)
		if (json_array_append_new(list, json_string(st->acks[i])))
			goto out;
	doc = json_pack("{s:s, s:o}", "issuer", st->t->issuer, "acks", list);
	list = NULL;
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	acks_name(st, name, sizeof(name));
	err = write_file_atomic(st->r->state_dir, name, text, strlen(text), why, why_size);
out:
	json_decref(list);
	free(text);
	return err;
}

int ssf_acks_load(struct ssf_stream *st, char *why, size_t why_size)
{
	char path[4096], name[64];
	json_error_t jerr;
	json_t *doc, *list;
	size_t i;
	json_t *v;

	acks_name(st, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", st->r->state_dir, name);
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		FILE *f = fopen(path, "re");

		if (!f)
			return 0; /* nothing was waiting */
		fclose(f);
		snprintf(why, why_size, "%s:%d:%d: %s (remove the file to acknowledge nothing "
			 "more; the transmitter then offers those SETs again)", path, jerr.line,
			 jerr.column, jerr.text);
		return -EINVAL;
	}
	list = json_object_get(doc, "acks");
	if (!json_is_array(list) || json_array_size(list) > SSF_MAX_PENDING_ACKS) {
		snprintf(why, why_size, "%s: \"acks\" is not a list of at most %u jtis", path,
			 SSF_MAX_PENDING_ACKS);
		json_decref(doc);
		return -EINVAL;
	}
	st->acks = calloc(json_array_size(list) + 1, sizeof(*st->acks));
	st->ack_cap = json_array_size(list) + 1;
	if (!st->acks) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_array_foreach(list, i, v) {
		const char *jti = json_string_value(v);

		if (!jti || !jti[0] || strlen(jti) >= JTI_MAX) {
			snprintf(why, why_size, "%s: acks[%zu] is not a jti", path, i);
			json_decref(doc);
			return -EINVAL;
		}
		if (!(st->acks[st->ack_count] = strdup(jti))) {
			json_decref(doc);
			return -ENOMEM;
		}
		st->ack_count++;
	}
	json_decref(doc);
	if (st->ack_count)
		log_info("ssf", "%s: %zu applied SETs still to acknowledge (from %s)", st->t->name,
			 st->ack_count, path);
	return 0;
}

static bool in_acks(const struct ssf_stream *st, const char *jti)
{
	for (size_t i = 0; i < st->ack_count; i++)
		if (!strcmp(st->acks[i], jti))
			return true;
	return false;
}

static bool in_errs(const struct ssf_stream *st, const char *jti)
{
	for (size_t i = 0; i < st->err_count; i++)
		if (!strcmp(st->errs[i].jti, jti))
			return true;
	return false;
}

static int add_ack(struct ssf_stream *st, const char *jti)
{
	if (st->ack_count == st->ack_cap) {
		size_t cap = st->ack_cap ? st->ack_cap * 2 : 16;
		char **a = realloc(st->acks, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		st->acks = a;
		st->ack_cap = cap;
	}
	if (!(st->acks[st->ack_count] = strdup(jti)))
		return -ENOMEM;
	st->ack_count++;
	return 0;
}

static void add_err(struct ssf_stream *st, const char *jti, enum ssf_err err, const char *why)
{
	struct ssf_set_err *e = realloc(st->errs, (st->err_count + 1) * sizeof(*e));

	if (!e)
		return; /* not told: the transmitter offers the SET again, and it is refused again */
	st->errs = e;
	e[st->err_count] = (struct ssf_set_err){ .jti = strdup(jti), .err = err,
						 .description = strdup(why) };
	if (e[st->err_count].jti && e[st->err_count].description)
		st->err_count++;
	else {
		free(e[st->err_count].jti);
		free(e[st->err_count].description);
	}
}

/* The first n acks (and errs) reached the transmitter. */
static void drop_sent(struct ssf_stream *st, size_t acks, size_t errs)
{
	for (size_t i = 0; i < acks; i++)
		free(st->acks[i]);
	/* Nothing held is a NULL array: memmove must not be handed it. */
	if (acks)
		memmove(st->acks, st->acks + acks, (st->ack_count - acks) * sizeof(*st->acks));
	st->ack_count -= acks;
	for (size_t i = 0; i < errs; i++) {
		free(st->errs[i].jti);
		free(st->errs[i].description);
	}
	if (errs)
		memmove(st->errs, st->errs + errs, (st->err_count - errs) * sizeof(*st->errs));
	st->err_count -= errs;
}

/* ---- libcurl on the epoll set ---- */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct ssf *r = userp;
	struct epoll_event ev = { .data.u64 = SSF_TAG_CURL | (uint32_t)s };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(r->epoll_fd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(r->curl, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(r->epoll_fd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0)
		return -1;
	curl_multi_assign(r->curl, s, r);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct ssf *r = userp;

	(void)multi;
	r->curl_timer_ns = timeout_ms < 0 ? 0 : boot_ns() + (uint64_t)timeout_ms * 1000000ull;
	if (timeout_ms == 0)
		r->curl_timer_ns = 1; /* due now */
	return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *userp)
{
	struct ssf_xfer *x = userp;
	size_t len = size * n;
	char *b;

	if (x->len + len > SSF_FETCH_MAX_BYTES) {
		x->too_large = true;
		return 0; /* ends the transfer */
	}
	b = realloc(x->buf, x->len + len + 1);
	if (!b)
		return 0;
	x->buf = b;
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	x->buf[x->len] = '\0';
	return len;
}

int ssf_client_open(struct ssf *r)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	r->curl = curl_multi_init();
	if (!r->curl)
		return -ENOMEM;
	curl_multi_setopt(r->curl, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(r->curl, CURLMOPT_SOCKETDATA, r);
	curl_multi_setopt(r->curl, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(r->curl, CURLMOPT_TIMERDATA, r);
	return 0;
}

static void xfer_free(struct ssf *r, struct ssf_xfer *x)
{
	if (!x)
		return;
	if (x->easy) {
		curl_multi_remove_handle(r->curl, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	free(x->request);
	free(x->buf);
	free(x);
}

/* The body of a poll request: what to acknowledge, what was refused, how many more. */
static char *poll_body(struct ssf_stream *st)
{
	json_t *body = json_object(), *ack = json_array(), *errs = json_object();
	char *text = NULL;

	if (!body || !ack || !errs)
		goto out;
	st->acks_in_flight = st->ack_count;
	st->errs_in_flight = st->err_count;
	for (size_t i = 0; i < st->ack_count; i++)
		json_array_append_new(ack, json_string(st->acks[i]));
	for (size_t i = 0; i < st->err_count; i++)
		json_object_set_new(errs, st->errs[i].jti,
				    json_pack("{s:s, s:s}", "err", ssf_err_name(st->errs[i].err),
					      "description", st->errs[i].description));
	json_object_set_new(body, "maxEvents", json_integer(st->ack_count >= SSF_MAX_PENDING_ACKS
							     ? 0 : st->t->max_events));
	json_object_set_new(body, "returnImmediately", json_true());
	if (st->ack_count)
		json_object_set(body, "ack", ack);
	if (st->err_count)
		json_object_set(body, "setErrs", errs);
	text = json_dumps(body, JSON_COMPACT);
out:
	json_decref(ack);
	json_decref(errs);
	json_decref(body);
	return text;
}

static int start_fetch(struct ssf_stream *st, enum ssf_fetch kind)
{
	struct ssf *r = st->r;
	const char *url = kind == SSF_FETCH_CONFIG ? st->t->configuration_url
			: kind == SSF_FETCH_STREAM ? st->stream_url
			: kind == SSF_FETCH_JWKS ? st->jwks_uri : st->poll_url;
	struct ssf_xfer *x;
	char auth[1024];

	if (!url)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->st = st;
	x->kind = kind;
	x->easy = curl_easy_init();
	if (!x->easy)
		goto nomem;
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	x->headers = curl_slist_append(NULL, "Accept: application/json");
	if (st->bearer && kind != SSF_FETCH_JWKS) {
		/* The bearer token goes to the transmitter's own endpoints, not to a key host. */
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", st->bearer);
		x->headers = curl_slist_append(x->headers, auth);
		memset(auth, 0, sizeof(auth));
	}
	if (kind == SSF_FETCH_POLL) {
		x->request = poll_body(st);
		if (!x->request)
			goto nomem;
		x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->request);
	}
	if (!x->headers)
		goto nomem;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	if (curl_multi_add_handle(r->curl, x->easy) != CURLM_OK)
		goto nomem;
	st->xfer[kind] = x;
	st->next_ns[kind] = 0;
	if (kind == SSF_FETCH_POLL)
		st->polls++;
	return 0;
nomem:
	xfer_free(r, x);
	return -ENOMEM;
}

/* Try again later, twice as late as the last time. */
static void back_off(struct ssf_stream *st, enum ssf_fetch kind, const char *why)
{
	char msg[400];

	st->backoff_ms[kind] = st->backoff_ms[kind] ? st->backoff_ms[kind] * 2 : SSF_BACKOFF_FIRST_MS;
	if (st->backoff_ms[kind] > SSF_BACKOFF_MAX_MS)
		st->backoff_ms[kind] = SSF_BACKOFF_MAX_MS;
	st->next_ns[kind] = boot_ns() + st->backoff_ms[kind] * 1000000ull;
	if (kind == SSF_FETCH_POLL)
		st->poll_failures++;
	snprintf(msg, sizeof(msg), "%s: %s (again in %u ms)", fetch_names[kind], why,
		 st->backoff_ms[kind]);
	ssf_note_error(st, SSF_OK, msg);
}

void ssf_check_ready(struct ssf_stream *st)
{
	bool was = st->ready;

	st->ready = st->keys && (st->t->delivery == SSF_PUSH || st->poll_url);
	if (st->ready && !was && st->t->delivery == SSF_POLL)
		ssf_schedule(st, SSF_FETCH_POLL, 0);
}

/* A URL a transmitter's document gave: held to what the configuration would take. */
static bool take_url(json_t *v, char **out, const char *what, char *why,
		     size_t why_size)
{
	const char *url = json_string_value(v);

	if (!url || !ssf_url_acceptable(url) || strlen(url) > 2048) {
		snprintf(why, why_size, "%s is missing or not an https:// URL", what);
		return false;
	}
	free(*out);
	*out = strdup(url);
	return *out != NULL;
}

static int got_config(struct ssf_stream *st, json_t *doc, char *why, size_t why_size)
{
	const char *iss = json_string_value(json_object_get(doc, "issuer"));

	if (!iss || strcmp(iss, st->t->issuer)) {
		snprintf(why, why_size, "its issuer %.200s is not the configured %.200s",
			 iss ? iss : "(missing)", st->t->issuer);
		return -EINVAL;
	}
	if (!st->t->jwks_file && !st->t->jwks_uri &&
	    !take_url(json_object_get(doc, "jwks_uri"), &st->jwks_uri, "jwks_uri", why,
		      why_size))
		return -EINVAL;
	if (st->t->delivery == SSF_POLL && !st->t->poll_url) {
		if (!take_url(json_object_get(doc, "configuration_endpoint"), &st->stream_url,
			      "configuration_endpoint (where the poll endpoint is found)", why,
			      why_size))
			return -EINVAL;
		ssf_schedule(st, SSF_FETCH_STREAM, 0);
	}
	if (st->jwks_uri)
		ssf_schedule(st, SSF_FETCH_JWKS, 0);
	return 0;
}

/* The stream configuration (one object, or a list: the first poll stream of ours). */
static int got_stream(struct ssf_stream *st, json_t *doc, char *why, size_t why_size)
{
	json_t *one = doc, *delivery;
	const char *method;

	if (json_is_array(doc)) {
		size_t i;
		json_t *v;

		one = NULL;
		json_array_foreach(doc, i, v) {
			method = json_string_value(json_object_get(json_object_get(v, "delivery"),
								   "method"));
			if (method && !strcmp(method, "urn:ietf:rfc:8936")) {
				one = v;
				break;
			}
		}
	}
	delivery = json_object_get(one, "delivery");
	method = json_string_value(json_object_get(delivery, "method"));
	if (!method || strcmp(method, "urn:ietf:rfc:8936")) {
		snprintf(why, why_size, "no stream with poll delivery (urn:ietf:rfc:8936)");
		return -EINVAL;
	}
	if (!take_url(json_object_get(delivery, "endpoint_url"), &st->poll_url,
		      "delivery.endpoint_url", why, why_size))
		return -EINVAL;
	log_info("ssf", "%s: polling %s (from the stream configuration)", st->t->name,
		 st->poll_url);
	return 0;
}

static int got_keys(struct ssf_stream *st, const char *text, size_t len, char *why,
		    size_t why_size)
{
	int err = ssf_keys_set(st, text, len, why, why_size);

	if (!err)
		st->next_ns[SSF_FETCH_JWKS] = boot_ns() + st->t->jwks_refresh_ms * 1000000ull;
	return err;
}

static int got_poll(struct ssf_stream *st, json_t *doc, char *why, size_t why_size)
{
	json_t *sets = json_object_get(doc, "sets"), *more = json_object_get(doc, "moreAvailable");
	bool waiting_keys = false, acks_changed;
	const char *jti;
	json_t *v;

	if (!json_is_object(sets) || (more && !json_is_boolean(more))) {
		snprintf(why, why_size, "the answer has no \"sets\" object");
		return -EINVAL;
	}
	/* The transmitter has what the request carried. */
	acks_changed = st->acks_in_flight > 0;
	drop_sent(st, st->acks_in_flight, st->errs_in_flight);
	st->acks_in_flight = st->errs_in_flight = 0;
	json_object_foreach(sets, jti, v) {
		const char *token = json_string_value(v);
		char tjti[JTI_MAX], twhy[400];
		int err;

		if (!jti[0] || strlen(jti) >= JTI_MAX || in_errs(st, jti))
			continue;
		if (in_acks(st, jti))
			continue; /* applied before; acknowledged with the next request */
		if (!token) {
			ssf_note_error(st, SSF_INVALID_REQUEST, "a set that is not a string");
			add_err(st, jti, SSF_INVALID_REQUEST, "not a compact JWS string");
			continue;
		}
		err = ssf_take(st, token, strlen(token), tjti, sizeof(tjti), twhy, sizeof(twhy));
		if (err == -EAGAIN) {
			waiting_keys = true; /* neither acknowledged nor refused: offered again */
		} else if (err == SSF_OK) {
			if (add_ack(st, jti) == 0)
				acks_changed = true;
			/* Durable before any request can carry it. */
			if (acks_save(st, twhy, sizeof(twhy)))
				log_error("ssf", "%s: cannot save the acknowledgements: %s",
					  st->t->name, twhy);
		} else {
			add_err(st, jti, (enum ssf_err)err, twhy);
		}
	}
	if (acks_changed && acks_save(st, why, why_size))
		log_error("ssf", "%s: cannot save the acknowledgements: %s", st->t->name, why);
	st->more_available = json_is_true(more);
	if (!waiting_keys && (st->ack_count || st->err_count || st->more_available))
		ssf_schedule(st, SSF_FETCH_POLL, 0);
	else if (!waiting_keys)
		st->next_ns[SSF_FETCH_POLL] = boot_ns() + st->t->poll_interval_ms * 1000000ull;
	/* waiting_keys: the key set's fetch schedules the next poll. */
	return 0;
}

static void finished(struct ssf *r, CURL *easy, CURLcode code)
{
	struct ssf_xfer *x = NULL;
	struct ssf_stream *st;
	json_t *doc = NULL;
	char why[512];
	long status = 0;
	int err = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	st = x->st;
	st->xfer[x->kind] = NULL;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", x->too_large ? "the answer is too large"
			 : x->error[0] ? x->error : curl_easy_strerror(code));
		err = -EIO;
	} else if (status != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", status);
		err = -EIO;
	} else if (x->kind == SSF_FETCH_JWKS) {
		err = got_keys(st, x->buf ? x->buf : "", x->len, why, sizeof(why));
	} else if (!(doc = json_loadb(x->buf ? x->buf : "", x->len, JSON_REJECT_DUPLICATES, NULL))) {
		snprintf(why, sizeof(why), "the answer is not JSON");
		err = -EINVAL;
	} else if (x->kind == SSF_FETCH_CONFIG) {
		err = got_config(st, doc, why, sizeof(why));
	} else if (x->kind == SSF_FETCH_STREAM) {
		err = got_stream(st, doc, why, sizeof(why));
	} else {
		err = got_poll(st, doc, why, sizeof(why));
	}
	json_decref(doc);
	if (err) {
		/* A failed poll's acks and errs are sent again with the next one. */
		if (x->kind == SSF_FETCH_POLL)
			st->acks_in_flight = st->errs_in_flight = 0;
		back_off(st, x->kind, why);
	} else {
		st->backoff_ms[x->kind] = 0;
	}
	if (x->kind == SSF_FETCH_JWKS) {
		ssf_push_resume(st); /* refreshed or not, the waiting requests get their answer */
		if (st->ready && st->t->delivery == SSF_POLL)
			ssf_schedule(st, SSF_FETCH_POLL, 0);
	}
	ssf_check_ready(st);
	xfer_free(r, x);
}

void ssf_client_run(struct ssf *r, uint64_t tag, uint32_t events)
{
	uint64_t now = boot_ns();
	CURLMsg *msg;
	int running, left;

	if (!r->curl)
		return;
	if (tag) {
		int mask = (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			   (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			   (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(r->curl, (curl_socket_t)(uint32_t)tag, mask, &running);
	} else if (r->curl_timer_ns && now >= r->curl_timer_ns) {
		r->curl_timer_ns = 0;
		curl_multi_socket_action(r->curl, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	while ((msg = curl_multi_info_read(r->curl, &left)))
		if (msg->msg == CURLMSG_DONE)
			finished(r, msg->easy_handle, msg->data.result);
	if (tag)
		return;
	for (size_t i = 0; i < r->count; i++) {
		struct ssf_stream *st = &r->streams[i];

		for (int k = 0; k < SSF_NR_FETCH; k++) {
			if (!st->next_ns[k] || now < st->next_ns[k] || st->xfer[k])
				continue;
			if (k == SSF_FETCH_POLL && (!st->ready || st->t->delivery != SSF_POLL))
				continue;
			if (start_fetch(st, (enum ssf_fetch)k))
				back_off(st, (enum ssf_fetch)k, "cannot start the request");
		}
	}
}

uint64_t ssf_client_next_ns(const struct ssf *r)
{
	uint64_t next = r->curl_timer_ns;

	for (size_t i = 0; i < r->count; i++)
		for (int k = 0; k < SSF_NR_FETCH; k++) {
			const struct ssf_stream *st = &r->streams[i];

			if (!st->next_ns[k] || st->xfer[k] ||
			    (k == SSF_FETCH_POLL && !st->ready))
				continue;
			if (!next || st->next_ns[k] < next)
				next = st->next_ns[k];
		}
	return next;
}

void ssf_client_close(struct ssf *r)
{
	for (size_t i = 0; i < r->count; i++)
		for (int k = 0; k < SSF_NR_FETCH; k++) {
			xfer_free(r, r->streams[i].xfer[k]);
			r->streams[i].xfer[k] = NULL;
		}
	if (r->curl)
		curl_multi_cleanup(r->curl);
	r->curl = NULL;
}
