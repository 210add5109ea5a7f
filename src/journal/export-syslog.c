/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The syslog sink: RFC 5424 messages, octet-counted (RFC 6587 3.4.1,
 * RFC 5425 for TLS: "LEN SP MSG"), over a unix stream socket, TCP or TLS
 * (OpenSSL, the server's certificate checked against ca= and its name).
 * A unix datagram socket (/dev/log) gets one message per datagram.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME actgate PROCID MSGID [actgate@32473 seq="N" host_id="H"] JSON
 *
 * Facility 13 (log audit); severity 6 (informational) for an allowed
 * action, 4 (warning) for a denied one, 3 (error) for a gap. MSGID is
 * "decision" or "gap". 32473 is the enterprise number RFC 5612 sets aside
 * for documentation: actgate has none of its own.
 *
 * Syslog has no application-level acknowledgement. A batch sent on a
 * stream is accepted once the socket's send queue is empty (SIOCOUTQ): over
 * TCP and TLS the receiving host acknowledged every byte, on a unix stream
 * socket the receiver read them. Until then a broken connection sends the
 * whole batch again on a new one (at least once; docs/fleet.md). What a
 * receiver took and then lost (it died before writing) is beyond what the
 * protocol can tell. A datagram is accepted when the kernel delivered it.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "journal/export.h"
#include "journal/query.h"
#include "util/io.h"

enum transport { T_UNIX, T_TCP, T_TLS };

/*
 * A peer that takes nothing for this long (a send blocked, the send queue
 * not shrinking) counts as a broken connection: the batch goes again on a
 * new one rather than the follower hanging on it.
 */
#define STALL_MS 10000

struct syslog_sink {
	struct jexport_sink base;
	enum transport t;
	char *path, *host, *port, *ca, *cert, *key, *name;
	int fd;
	bool dgram;
	SSL_CTX *ctx;
	SSL *ssl;
	char *buf;
	size_t cap;
};

static void disconnect(struct syslog_sink *s)
{
	if (s->ssl) {
		/*
		 * A close_notify first: rsyslog's TLS driver drops what it
		 * read but had not processed when a connection just ends.
		 */
		if (s->fd >= 0)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void ssl_why(const char *what, char *why, size_t why_size)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(why, why_size, "%s: %s", what, e ? buf : "failed");
}

/* Best effort: without it a stalled peer only blocks longer. */
static void send_timeout(int fd)
{
	struct timeval tv = { .tv_sec = STALL_MS / 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * Wait until the send queue is empty: everything sent was acknowledged by
 * the peer's TCP, or read by the unix socket's receiver. -ETIMEDOUT when
 * it did not shrink for STALL_MS.
 */
static int wait_acknowledged(int fd)
{
	int queued, last = -1, nap = 1, still = 0;

	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &queued) < 0)
			return -errno;
		if (queued == 0)
			return 0;
		if (queued != last) {
			last = queued;
			still = 0;
		} else if (still >= STALL_MS) {
			return -ETIMEDOUT;
		}
		poll(NULL, 0, nap);
		still += nap;
		nap = nap < 32 ? nap * 2 : 32;
	}
}

static int connect_unix(struct syslog_sink *s, char *why, size_t why_size)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int err;

	if (strlen(s->path) >= sizeof(a.sun_path)) {
		snprintf(why, why_size, "%s: path too long for a socket", s->path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, s->path);
	for (int pass = 0; pass < 2; pass++) {
		s->dgram = pass == 1;
		s->fd = socket(AF_UNIX, (s->dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			break;
		send_timeout(s->fd);
		if (!connect(s->fd, (struct sockaddr *)&a, sizeof(a)))
			return 0;
		err = -errno;
		close(s->fd);
		s->fd = -1;
		/* A datagram socket (/dev/log) refuses a stream's connect with EPROTOTYPE. */
		if (err != -EPROTOTYPE) {
			snprintf(why, why_size, "%s: %s", s->path, strerror(-err));
			return err;
		}
	}
	err = -errno;
	snprintf(why, why_size, "%s: %s", s->path, strerror(-err));
	return err;
}

static int connect_tcp(struct syslog_sink *s, char *why, size_t why_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int err = getaddrinfo(s->host, s->port, &hints, &res);

	if (err) {
		snprintf(why, why_size, "%s:%s: %s", s->host, s->port, gai_strerror(err));
		return -EHOSTUNREACH;
	}
	err = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s->fd < 0) {
			err = -errno;
			continue;
		}
		send_timeout(s->fd); /* also bounds connect (Linux) */
		if (!connect(s->fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = -errno;
		close(s->fd);
		s->fd = -1;
	}
	freeaddrinfo(res);
	if (s->fd < 0) {
		snprintf(why, why_size, "%s:%s: %s", s->host, s->port, strerror(-err));
		return err;
	}
	return 0;
}

static int connect_tls(struct syslog_sink *s, char *why, size_t why_size)
{
	int err = connect_tcp(s, why, why_size);

	if (err)
		return err;
	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
		ssl_why("TLS", why, why_size);
		return -ENOMEM;
	}
	/* The server's name: checked in its certificate, and sent for SNI. */
	SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!SSL_set1_host(s->ssl, s->name) ||
	    !SSL_set_tlsext_host_name(s->ssl, s->name)) {
		ssl_why("TLS", why, why_size);
		return -ENOMEM;
	}
	if (SSL_connect(s->ssl) != 1) {
		long v = SSL_get_verify_result(s->ssl);
		char what[300];

		snprintf(what, sizeof(what), "%s:%s: TLS handshake%s%s", s->host, s->port,
			 v != X509_V_OK ? ": certificate: " : "",
			 v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
		ssl_why(what, why, why_size);
		return -ECONNREFUSED;
	}
	return 0;
}

static int send_bytes(struct syslog_sink *s, const char *p, size_t len)
{
	if (s->t == T_TLS) {
		while (len) {
			int n = SSL_write(s->ssl, p, len > (1u << 30) ? 1 << 30 : (int)len);

			if (n <= 0)
				return -EPIPE;
			p += n;
			len -= (size_t)n;
		}
		return 0;
	}
	return send_all(s->fd, p, len);
}

/* "<PRI>1 TIME HOST APP PROCID MSGID SD " then the JSON: the message without framing. */
static int format(struct syslog_sink *s, const struct jexport_event *ev, size_t *at)
{
	char time[JQUERY_TIME_SIZE], head[512];
	int pri = 13 * 8 + (ev->gap ? 3 : ev->denied ? 4 : 6);
	int hlen;
	size_t need;

	jquery_format_time(ev->time_ns, time);
	hlen = snprintf(head, sizeof(head), "<%d>1 %s %s actgate %d %s [actgate@32473 seq=\"%llu\"%s%s%s] ",
			pri, time, s->base.host->hostname[0] ? s->base.host->hostname : "-",
			(int)getpid(), ev->gap ? "gap" : "decision", (unsigned long long)ev->seq,
			s->base.host->machine_id[0] ? " host_id=\"" : "", s->base.host->machine_id,
			s->base.host->machine_id[0] ? "\"" : "");
	need = *at + 24 + (size_t)hlen + ev->len;
	if (need > s->cap) {
		char *bigger = realloc(s->buf, need * 2);

		if (!bigger)
			return -ENOMEM;
		s->buf = bigger;
		s->cap = need * 2;
	}
	/* Octet counting: the length of the message, a space, the message. */
	if (!s->dgram)
		*at += (size_t)sprintf(s->buf + *at, "%zu ", (size_t)hlen + ev->len);
	memcpy(s->buf + *at, head, (size_t)hlen);
	memcpy(s->buf + *at + hlen, ev->text, ev->len);
	*at += (size_t)hlen + ev->len;
	return 0;
}

static int syslog_send(struct jexport_sink *base, const struct jexport_event *ev, size_t n,
		       char *why, size_t why_size)
{
	struct syslog_sink *s = (struct syslog_sink *)base;
	size_t at = 0;
	int err = 0;

	if (s->fd < 0) {
		err = s->t == T_UNIX ? connect_unix(s, why, why_size)
		      : s->t == T_TCP ? connect_tcp(s, why, why_size)
				      : connect_tls(s, why, why_size);
		if (err) {
			disconnect(s);
			return err;
		}
	}
	for (size_t i = 0; i < n && !err; i++) {
		if (s->dgram)
			at = 0;
		err = format(s, &ev[i], &at);
		if (!err && s->dgram)
			err = send_bytes(s, s->buf, at);
	}
	if (!err && !s->dgram)
		err = send_bytes(s, s->buf, at);
	if (err) {
		snprintf(why, why_size, "%s: sending: %s", s->t == T_UNIX ? s->path : s->host,
			 strerror(-err));
		disconnect(s);
		return err;
	}
	if (!s->dgram && (err = wait_acknowledged(s->fd))) {
		snprintf(why, why_size, "%s: %s", s->t == T_UNIX ? s->path : s->host,
			 err == -ETIMEDOUT ? "the receiver took nothing for 10 s"
					   : strerror(-err));
		disconnect(s);
	}
	return err;
}

static void syslog_close(struct jexport_sink *base)
{
	struct syslog_sink *s = (struct syslog_sink *)base;

	disconnect(s);
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	free(s->path);
	free(s->host);
	free(s->port);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s->name);
	free(s->buf);
	free(s);
}

static const struct jexport_sink_ops syslog_ops = { "syslog", syslog_send, syslog_close };

/* "HOST:PORT" or "[V6]:PORT" up to '?' or the end. */
static int split_host(struct syslog_sink *s, const char *a, char *why, size_t why_size)
{
	const char *end = strchr(a, '?'), *colon;

	if (!end)
		end = a + strlen(a);
	if (*a == '[') {
		const char *close = memchr(a, ']', (size_t)(end - a));

		if (!close || close[1] != ':')
			goto bad;
		s->host = strndup(a + 1, (size_t)(close - a - 1));
		colon = close + 1;
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		if (!colon || colon == a)
			goto bad;
		s->host = strndup(a, (size_t)(colon - a));
	}
	s->port = strndup(colon + 1, (size_t)(end - colon - 1));
	if (!s->host || !s->port)
		return -ENOMEM;
	if (!*s->port || strspn(s->port, "0123456789") != strlen(s->port))
		goto bad;
	return 0;
bad:
	snprintf(why, why_size, "%s: expected HOST:PORT", a);
	return -EINVAL;
}

static int tls_setup(struct syslog_sink *s, const char *params, char *why, size_t why_size)
{
	s->ca = jexport_spec_param(params, "ca");
	s->cert = jexport_spec_param(params, "cert");
	s->key = jexport_spec_param(params, "key");
	s->name = jexport_spec_param(params, "name");
	if (!s->ca) {
		snprintf(why, why_size, "syslog+tls needs ?ca=FILE: the certificate authority the "
			 "server's certificate is checked against (never unchecked)");
		return -EINVAL;
	}
	if (!s->cert != !s->key) {
		snprintf(why, why_size, "cert= and key= go together (a client certificate)");
		return -EINVAL;
	}
	if (!s->name && !(s->name = strdup(s->host)))
		return -ENOMEM;
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx) {
		ssl_why("TLS", why, why_size);
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(s->ctx, s->ca, NULL) != 1) {
		ssl_why(s->ca, why, why_size);
		return -EINVAL;
	}
	if (s->cert && (SSL_CTX_use_certificate_chain_file(s->ctx, s->cert) != 1 ||
			SSL_CTX_use_PrivateKey_file(s->ctx, s->key, SSL_FILETYPE_PEM) != 1)) {
		ssl_why(s->cert, why, why_size);
		return -EINVAL;
	}
	return 0;
}

int jexport_sink_syslog_open(const char *spec, struct jexport_sink **out, char *why,
			     size_t why_size)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	const char *params;
	int err = 0;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->base.ops = &syslog_ops;
	params = strchr(spec, '?');
	params = params ? params + 1 : NULL;
	if (!strncmp(spec, "syslog+unix:", 12) && spec[12]) {
		s->t = T_UNIX;
		s->path = params ? strndup(spec + 12, (size_t)(params - 1 - spec - 12))
				 : strdup(spec + 12);
		if (!s->path)
			err = -ENOMEM;
	} else if (!strncmp(spec, "syslog+tcp://", 13)) {
		s->t = T_TCP;
		err = split_host(s, spec + 13, why, why_size);
	} else if (!strncmp(spec, "syslog+tls://", 13)) {
		s->t = T_TLS;
		err = split_host(s, spec + 13, why, why_size);
		if (!err)
			err = tls_setup(s, params, why, why_size);
	} else {
		snprintf(why, why_size, "%s: expected syslog+unix:PATH, syslog+tcp://HOST:PORT or "
			 "syslog+tls://HOST:PORT?ca=FILE", spec);
		err = -EINVAL;
	}
	if (err == -ENOMEM)
		snprintf(why, why_size, "%s", strerror(ENOMEM));
	if (err) {
		syslog_close(&s->base);
		return err;
	}
	*out = &s->base;
	return 0;
}
