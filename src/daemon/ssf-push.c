/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Push delivery (RFC 8935): an HTTP server per push stream, libmicrohttpd
 * in its external-epoll mode: its epoll descriptor sits in the receiver's
 * set and MHD_run serves what is ready, on the daemon's loop, never in a
 * thread. The answer to a request is decided by ssf_push_request alone,
 * from the method, two headers and the body, so that the fuzz target and
 * the tests reach the same code as a connection does.
 *
 * Bounds: max_request_bytes of body (a bigger Content-Length is refused
 * before the body is read), 32 KiB of headers a connection, 64
 * connections, 10 s to send a request, and `rate` requests a second (a
 * token bucket of as many): a flood costs the daemon a bounded amount of
 * memory and time, and is answered 429 before any token is parsed.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ssf-internal.h"
#include "util/clock.h"
#include "util/log.h"

#define PUSH_MAX_CONNECTIONS 64
#define PUSH_PER_IP_CONNECTIONS 16
#define PUSH_CONNECTION_TIMEOUT_S 10
#define PUSH_HEADER_MEMORY (32 * 1024)
#define PUSH_MAX_WAITING 64
#define SECEVENT_TYPE "application/secevent+jwt"

/* One request being received: its body so far. */
struct push_conn {
	char *body;
	size_t len;
	bool too_large;
	bool started;
	bool waited;   /* suspended once for a key refresh: not again */
	struct MHD_Connection *c;
	struct push_conn *next_waiting;
};

static void answer_json(struct ssf_response *rs, unsigned int status, enum ssf_err err,
			const char *description)
{
	json_t *o;
	char *text;

	rs->status = status;
	rs->body[0] = '\0';
	if (err == SSF_OK)
		return;
	/* jansson escapes the description, whatever a token made it say. */
	o = json_pack("{s:s, s:s}", "err", ssf_err_name(err), "description", description);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text && strlen(text) < sizeof(rs->body))
		snprintf(rs->body, sizeof(rs->body), "%s", text);
	else
		snprintf(rs->body, sizeof(rs->body), "{\"err\":\"%s\",\"description\":\"(too long)\"}",
			 ssf_err_name(err));
	free(text);
	json_decref(o);
}

/* Does the media type say application/secevent+jwt (parameters allowed)? */
static bool secevent_type(const char *ct)
{
	size_t n = strlen(SECEVENT_TYPE);

	while (ct && (*ct == ' ' || *ct == '\t'))
		ct++;
	return ct && !strncasecmp(ct, SECEVENT_TYPE, n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* "Bearer TOKEN", compared in constant time with the configured token. */
static bool bearer_ok(const struct ssf_stream *st, const char *auth)
{
	size_t want, got;

	if (!st->bearer)
		return true;
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	want = strlen(st->bearer);
	got = strlen(auth);
	return got == want && CRYPTO_memcmp(auth, st->bearer, want) == 0;
}

/* The rate limit: a token bucket of `rate` a second, as deep as a second's worth. */
static bool take_rate_token(struct ssf_stream *st)
{
	uint64_t now = mono_ns();

	if (!st->tokens_ns) {
		st->tokens = st->t->rate;
	} else {
		st->tokens += (double)(now - st->tokens_ns) * st->t->rate / 1e9;
		if (st->tokens > st->t->rate)
			st->tokens = st->t->rate;
	}
	st->tokens_ns = now;
	if (st->tokens < 1.0)
		return false;
	st->tokens -= 1.0;
	return true;
}

/* Three base64url segments, the first two not empty: what RFC 7515's compact form looks like. */
static bool compact_jws_shape(const char *s, size_t len)
{
	size_t dots = 0, seg = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (!seg && dots < 2)
				return false;
			dots++;
			seg = 0;
		} else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			seg++;
		} else {
			return false;
		}
	}
	return dots == 2 && seg > 0;
}

int ssf_push_request(struct ssf *r, size_t index, const struct ssf_request *rq,
		     struct ssf_response *rs)
{
	struct ssf_stream *st = &r->streams[index];
	char why[400], jti[128];
	size_t len = rq->body_len;
	int err;

	if (!take_rate_token(st)) {
		answer_json(rs, 429, SSF_OK, NULL);
		return 0;
	}
	if (!rq->method || strcmp(rq->method, "POST")) {
		answer_json(rs, 405, SSF_OK, NULL);
		return 0;
	}
	if (!bearer_ok(st, rq->authorization)) {
		ssf_note_error(st, SSF_AUTHENTICATION_FAILED, "a missing or wrong bearer token");
		answer_json(rs, 400, SSF_AUTHENTICATION_FAILED,
			    "the request's bearer token is missing or wrong");
		return 0;
	}
	if (rq->body_too_large) {
		snprintf(why, sizeof(why), "more than %u bytes (max_request_bytes)",
			 st->t->max_request_bytes);
		ssf_note_error(st, SSF_INVALID_REQUEST, why);
		answer_json(rs, 413, SSF_INVALID_REQUEST, why);
		return 0;
	}
	if (!secevent_type(rq->content_type)) {
		ssf_note_error(st, SSF_INVALID_REQUEST, "Content-Type is not " SECEVENT_TYPE);
		answer_json(rs, 400, SSF_INVALID_REQUEST, "Content-Type must be " SECEVENT_TYPE);
		return 0;
	}
	/* A trailing newline (curl --data-binary @file) is not part of the token. */
	while (len && (rq->body[len - 1] == '\n' || rq->body[len - 1] == '\r'))
		len--;
	if (!compact_jws_shape(rq->body, len)) {
		ssf_note_error(st, SSF_INVALID_REQUEST, "the body is not a compact JWS");
		answer_json(rs, 400, SSF_INVALID_REQUEST, "the body is not a SET as a compact JWS");
		return 0;
	}
	err = ssf_take(st, rq->body, len, jti, sizeof(jti), why, sizeof(why));
	if (err == -EAGAIN)
		return 1;
	if (err == SSF_OK)
		answer_json(rs, 202, SSF_OK, NULL);
	else
		answer_json(rs, 400, (enum ssf_err)err, why);
	return 0;
}

/* ---- the server ---- */

static enum MHD_Result queue(struct MHD_Connection *c, const struct ssf_response *rs)
{
	size_t n = strlen(rs->body);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)rs->body,
								    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (n)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (rs->status == 413 || rs->status == 429)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ssf_stream *st = cls;
	struct push_conn *pc = *con_cls;
	struct ssf_request rq = { 0 };
	struct ssf_response rs;

	(void)url;
	(void)version;
	if (!pc) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		pc = calloc(1, sizeof(*pc));
		if (!pc)
			return MHD_NO;
		pc->c = c;
		*con_cls = pc;
		/* Refused before a byte of the body is read. */
		if (cl && strtoull(cl, NULL, 10) > st->t->max_request_bytes) {
			pc->too_large = true;
			goto answer;
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!pc->too_large && pc->len + *upload_size <= st->t->max_request_bytes) {
			char *b = realloc(pc->body, pc->len + *upload_size + 1);

			if (!b)
				return MHD_NO;
			pc->body = b;
			memcpy(pc->body + pc->len, upload, *upload_size);
			pc->len += *upload_size;
			pc->body[pc->len] = '\0';
		} else {
			pc->too_large = true;
			free(pc->body);
			pc->body = NULL;
			pc->len = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
answer:
	rq.method = method;
	rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_TYPE);
	rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	rq.body = pc->body ? pc->body : "";
	rq.body_len = pc->len;
	rq.body_too_large = pc->too_large;
	if (ssf_push_request(st->r, st->index, &rq, &rs)) {
		size_t waiting = 0;

		for (struct push_conn *w = st->waiting; w; w = w->next_waiting)
			waiting++;
		if (!pc->waited && waiting < PUSH_MAX_WAITING) {
			/* Offered again (this same call) when the key set has been fetched. */
			pc->waited = true;
			pc->next_waiting = st->waiting;
			st->waiting = pc;
			MHD_suspend_connection(c);
			return MHD_YES;
		}
		ssf_note_error(st, SSF_INVALID_KEY, "the token's key is not in the key set");
		answer_json(&rs, 400, SSF_INVALID_KEY, "the token's key (kid) is not in the key set");
	}
	return queue(c, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct push_conn *pc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (pc) {
		free(pc->body);
		free(pc);
		*con_cls = NULL;
	}
}

void ssf_push_resume(struct ssf_stream *st)
{
	struct push_conn *pc = st->waiting;

	st->waiting = NULL;
	while (pc) {
		struct push_conn *next = pc->next_waiting;

		pc->next_waiting = NULL;
		MHD_resume_connection(pc->c);
		pc = next;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct ssf_stream *st = cls;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("ssf", "%s: http: %s", st->t->name, msg);
}

/* The listening socket, bound here so that a unix address works like a TCP one. */
static int bind_listen(struct ssf_stream *st, bool *is_unix)
{
	const char *a = st->t->listen;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
	} addr = { 0 };
	socklen_t alen;
	char host[64];
	const char *colon = strrchr(a, ':');
	int fd, one = 1;

	*is_unix = !strncmp(a, "unix:", 5);
	if (*is_unix) {
		addr.un.sun_family = AF_UNIX;
		snprintf(addr.un.sun_path, sizeof(addr.un.sun_path), "%s", a + 5);
		alen = sizeof(addr.un);
		st->unix_path = strdup(a + 5);
		if (!st->unix_path)
			return -ENOMEM;
		unlink(a + 5); /* a socket a previous daemon left */
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - a), a);
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			host[strcspn(host, "]")] = '\0';
		}
		if (!strcmp(host, "localhost"))
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &addr.in.sin_addr) == 1) {
			addr.in.sin_family = AF_INET;
			addr.in.sin_port = htons((uint16_t)atoi(colon + 1));
			alen = sizeof(addr.in);
		} else if (inet_pton(AF_INET6, host, &addr.in6.sin6_addr) == 1) {
			addr.in6.sin6_family = AF_INET6;
			addr.in6.sin6_port = htons((uint16_t)atoi(colon + 1));
			alen = sizeof(addr.in6);
		} else {
			log_error("ssf", "%s: listen %s: not an IP address", st->t->name, a);
			return -EINVAL;
		}
	}
	fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr.sa, alen) < 0 || listen(fd, 64) < 0 ||
	    (*is_unix && chmod(a + 5, 0660) < 0)) {
		int err = -errno;

		log_error("ssf", "%s: cannot listen on %s: %s", st->t->name, a, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static int read_pem(const char *path, char **text)
{
	FILE *f = fopen(path, "re");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EFBIG;
	}
	*text = calloc(1, (size_t)n + 1);
	if (!*text || fread(*text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*text);
		*text = NULL;
		return -EIO;
	}
	fclose(f);
	return 0;
}

int ssf_push_open(struct ssf_stream *st)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	char *cert = NULL, *key = NULL;
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN };
	bool is_unix;
	int fd, err = 0;

	fd = bind_listen(st, &is_unix);
	if (fd < 0)
		return fd;
	st->listen_fd = fd;
	if (st->t->tls_certificate) {
		if ((err = read_pem(st->t->tls_certificate, &cert)) ||
		    (err = read_pem(st->t->tls_key, &key))) {
			log_error("ssf", "%s: TLS certificate or key: %s", st->t->name,
				  strerror(-err));
			goto out;
		}
		flags |= MHD_USE_TLS;
	}
	st->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, st,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st, /* first: MHD logs the options after it */
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)PUSH_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, is_unix ? 0u : (unsigned int)PUSH_PER_IP_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)PUSH_CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PUSH_HEADER_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, st,
		cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_END);
	if (!st->mhd) {
		log_error("ssf", "%s: the HTTP server did not start on %s", st->t->name,
			  st->t->listen);
		err = -EIO;
		goto out;
	}
	st->listen_fd = -1; /* the server's now: MHD_stop_daemon closes it */
	info = MHD_get_daemon_info(st->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev.data.u64 = SSF_TAG_PUSH | st->index;
	if (!info || epoll_ctl(st->r->epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
		err = info ? -errno : -EIO;
		log_error("ssf", "%s: cannot watch the HTTP server: %s", st->t->name,
			  strerror(-err));
		goto out;
	}
	st->ready = st->keys != NULL;
out:
	free(cert);
	if (key) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	return err;
}

void ssf_push_run(struct ssf_stream *st)
{
	if (st->mhd)
		MHD_run(st->mhd);
}

long ssf_push_timeout_ms(const struct ssf_stream *st)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!st->mhd || MHD_get_timeout(st->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (long)ms;
}

void ssf_push_close(struct ssf_stream *st)
{
	if (st->mhd) {
		ssf_push_resume(st);
		MHD_stop_daemon(st->mhd);
		st->mhd = NULL;
	}
	if (st->listen_fd >= 0) {
		close(st->listen_fd);
		st->listen_fd = -1;
	}
	if (st->unix_path) {
		unlink(st->unix_path);
		free(st->unix_path);
		st->unix_path = NULL;
	}
}
