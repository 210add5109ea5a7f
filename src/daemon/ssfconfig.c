/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The `ssf:` section (ssfconfig.h). Every value is checked here, so that
 * the receiver never starts a stream on a half-understood entry: a listen
 * address off loopback without TLS, a URL that would carry a bearer token
 * in clear text, or a transmitter whose keys cannot be found are refused
 * at their line and column.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ssfconfig.h"
#include "util/duration.h"

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)

enum field {
	F_NAME,
	F_ISSUER,
	F_AUDIENCE,
	F_JWKS_FILE,
	F_JWKS_URI,
	F_CONFIGURATION_URL,
	F_DELIVERY,
	F_LISTEN,
	F_TLS_CERTIFICATE,
	F_TLS_KEY,
	F_POLL_URL,
	F_BEARER_TOKEN_FILE,
	F_MAX_REQUEST_BYTES,
	F_RATE,
	F_MAX_EVENTS,
	F_POLL_INTERVAL,
	F_JWKS_REFRESH,
	F_EVENTS,
	F_NR,
};

static const char *const field_keys[F_NR] = {
	[F_NAME] = "name",
	[F_ISSUER] = "issuer",
	[F_AUDIENCE] = "audience",
	[F_JWKS_FILE] = "jwks_file",
	[F_JWKS_URI] = "jwks_uri",
	[F_CONFIGURATION_URL] = "configuration_url",
	[F_DELIVERY] = "delivery",
	[F_LISTEN] = "listen",
	[F_TLS_CERTIFICATE] = "tls_certificate",
	[F_TLS_KEY] = "tls_key",
	[F_POLL_URL] = "poll_url",
	[F_BEARER_TOKEN_FILE] = "bearer_token_file",
	[F_MAX_REQUEST_BYTES] = "max_request_bytes",
	[F_RATE] = "rate",
	[F_MAX_EVENTS] = "max_events",
	[F_POLL_INTERVAL] = "poll_interval",
	[F_JWKS_REFRESH] = "jwks_refresh",
	[F_EVENTS] = "events",
};

static bool loopback_host(const char *host, size_t len)
{
	return (len == 9 && !strncmp(host, "localhost", 9)) ||
	       (len >= 4 && !strncmp(host, "127.", 4)) || (len == 5 && !strncmp(host, "[::1]", 5));
}

bool ssf_url_acceptable(const char *url)
{
	const char *host, *end;

	if (!strncmp(url, "https://", 8))
		return url[8] != '\0' && url[8] != '/';
	if (strncmp(url, "http://", 7))
		return false;
	host = url + 7;
	end = host + strcspn(host, "/?#");
	/* The port, if any, is not part of the host. */
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		return close && loopback_host(host, (size_t)(close - host) + 1);
	}
	{
		const char *colon = memchr(host, ':', (size_t)(end - host));

		return loopback_host(host, (size_t)((colon ? colon : end) - host));
	}
}

/* A string value without control characters, copied into *out. */
static bool take_string(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
			char **out)
{
	struct ytree_quoted q;
	char ctl[8];
	size_t at;

	if (!ytree_expect_string(ctx, n, where))
		return false;
	if (!n->len || strlen(n->text) != n->len || ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: %s: an empty value or one with a control character",
			 where, ytree_quote(&q, n->text, n->len));
		return false;
	}
	*out = strdup(n->text);
	if (!*out) {
		ctx->oom = -ENOMEM;
		return false;
	}
	return true;
}

static void take_path(struct ytree_ctx *ctx, const struct ynode *n, const char *where, char **out)
{
	struct ytree_quoted q;

	if (take_string(ctx, n, where, out) && (*out)[0] != '/') {
		error_at(ctx, n->pos, "%s: %s: an absolute path is needed", where,
			 ytree_quote(&q, n->text, n->len));
		free(*out);
		*out = NULL;
	}
}

static void take_url(struct ytree_ctx *ctx, const struct ynode *n, const char *where, char **out)
{
	struct ytree_quoted q;

	if (take_string(ctx, n, where, out) && !ssf_url_acceptable(*out)) {
		error_at(ctx, n->pos, "%s: %s: expected an https:// URL (http:// only to a loopback "
			 "host)", where, ytree_quote(&q, n->text, n->len));
		free(*out);
		*out = NULL;
	}
}

static void take_number(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
			uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (n->kind != YNODE_SCALAR || n->type != YSCALAR_INT) {
		error_at(ctx, n->pos, "%s: expected a whole number, found %s", where,
			 ynode_describe(n));
		return;
	}
	errno = 0;
	v = strtoull(n->text, &end, 10);
	if (errno || *end || v < min || v > max) {
		error_at(ctx, n->pos, "%s: %s: expected a whole number from %u to %u", where, n->text,
			 min, max);
		return;
	}
	*out = (uint32_t)v;
}

static void take_duration(struct ytree_ctx *ctx, const struct ynode *n, const char *where,
			  uint32_t min_ms, uint32_t *out)
{
	char why[128];
	uint64_t ns;

	if (!ytree_expect_string(ctx, n, where))
		return;
	if (duration_parse(n->text, &ns, why, sizeof(why))) {
		error_at(ctx, n->pos, "%s: %s (a duration such as 30s, 5m)", where, why);
		return;
	}
	if (ns / 1000000 < min_ms || ns / 1000000 > 7 * 24 * 3600 * 1000ull) {
		error_at(ctx, n->pos, "%s: from %ums to 7d", where, min_ms);
		return;
	}
	*out = (uint32_t)(ns / 1000000);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > SSF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* "HOST:PORT" (HOST an IPv4 address, [IPv6] or localhost) or "unix:/PATH". */
static bool valid_listen(const char *s, bool *loopback)
{
	const char *colon;
	char *end;
	unsigned long port;

	*loopback = false;
	if (!strncmp(s, "unix:", 5)) {
		*loopback = true; /* reached through the file system only, like a loopback port */
		return s[5] == '/' && strlen(s + 5) < 108;
	}
	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port == 0 || port > 65535)
		return false;
	*loopback = loopback_host(s, (size_t)(colon - s));
	return true;
}

static void parse_events(struct ytree_ctx *ctx, const struct ynode *v, const char *where,
			 struct ssf_transmitter *t)
{
	if (!ytree_expect_kind(ctx, v, YNODE_SEQ, where))
		return;
	if (!v->count || v->count > SSF_MAX_EVENT_TYPES) {
		error_at(ctx, v->pos, "%s: from 1 to %d event types, found %zu", where,
			 SSF_MAX_EVENT_TYPES, v->count);
		return;
	}
	t->events = calloc(v->count, sizeof(*t->events));
	if (!t->events) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < v->count; i++) {
		char item[128];

		snprintf(item, sizeof(item), "%s[%zu]", where, i);
		if (take_string(ctx, v->items[i], item, &t->events[t->event_count]))
			t->event_count++;
	}
}

static void parse_one(struct ytree_ctx *ctx, const struct ynode *map, size_t index,
		      struct ssf_transmitter *t)
{
	const struct ynode *keys[F_NR], *v[F_NR];
	size_t errors = ctx->errors;
	char where[64], w[96];
	bool loopback = false;
	struct ytree_quoted q;

	snprintf(where, sizeof(where), "ssf[%zu]", index);
	t->line = map->pos.line;
	t->max_request_bytes = SSF_DEFAULT_MAX_REQUEST_BYTES;
	t->rate = SSF_DEFAULT_RATE;
	t->max_events = SSF_DEFAULT_MAX_EVENTS;
	t->poll_interval_ms = SSF_DEFAULT_POLL_INTERVAL_MS;
	t->jwks_refresh_ms = SSF_DEFAULT_JWKS_REFRESH_MS;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	ytree_map_fields(ctx, map, where, field_keys, F_NR, keys, v);
#define W(f) (snprintf(w, sizeof(w), "%s.%s", where, field_keys[f]), w)
	for (int f = F_NAME; f <= F_AUDIENCE; f++)
		if (!v[f])
			error_at(ctx, map->pos, "%s: %s is required", where, field_keys[f]);
	if (v[F_NAME] && take_string(ctx, v[F_NAME], W(F_NAME), &t->name) && !valid_name(t->name))
		error_at(ctx, v[F_NAME]->pos, "%s: %s: 1 to %d of a-z, 0-9 and -", w,
			 ytree_quote(&q, t->name, strlen(t->name)), SSF_NAME_MAX);
	if (v[F_ISSUER])
		take_string(ctx, v[F_ISSUER], W(F_ISSUER), &t->issuer);
	if (v[F_AUDIENCE])
		take_string(ctx, v[F_AUDIENCE], W(F_AUDIENCE), &t->audience);
	if (v[F_JWKS_FILE])
		take_path(ctx, v[F_JWKS_FILE], W(F_JWKS_FILE), &t->jwks_file);
	if (v[F_JWKS_URI])
		take_url(ctx, v[F_JWKS_URI], W(F_JWKS_URI), &t->jwks_uri);
	if (v[F_CONFIGURATION_URL])
		take_url(ctx, v[F_CONFIGURATION_URL], W(F_CONFIGURATION_URL), &t->configuration_url);
	if (v[F_JWKS_FILE] && v[F_JWKS_URI])
		error_at(ctx, v[F_JWKS_URI]->pos, "%s: jwks_file and jwks_uri: one of the two", where);
	else if (!v[F_JWKS_FILE] && !v[F_JWKS_URI] && !v[F_CONFIGURATION_URL])
		error_at(ctx, map->pos, "%s: the transmitter's keys: jwks_file, jwks_uri or "
			 "configuration_url (whose jwks_uri is used) is required", where);
	if (!v[F_DELIVERY]) {
		error_at(ctx, map->pos, "%s: delivery (push or poll) is required", where);
	} else if (ynode_is(v[F_DELIVERY], "push")) {
		t->delivery = SSF_PUSH;
	} else if (ynode_is(v[F_DELIVERY], "poll")) {
		t->delivery = SSF_POLL;
	} else {
		error_at(ctx, v[F_DELIVERY]->pos, "%s: expected push or poll, found %s", W(F_DELIVERY),
			 v[F_DELIVERY]->kind == YNODE_SCALAR
				 ? ytree_quote(&q, v[F_DELIVERY]->text, v[F_DELIVERY]->len)
				 : ynode_describe(v[F_DELIVERY]));
	}
	if (v[F_LISTEN] && take_string(ctx, v[F_LISTEN], W(F_LISTEN), &t->listen) &&
	    !valid_listen(t->listen, &loopback))
		error_at(ctx, v[F_LISTEN]->pos, "%s: %s: expected ADDRESS:PORT (an IPv4 address, "
			 "[IPv6 address] or localhost) or unix:/PATH", w,
			 ytree_quote(&q, t->listen, strlen(t->listen)));
	if (v[F_TLS_CERTIFICATE])
		take_path(ctx, v[F_TLS_CERTIFICATE], W(F_TLS_CERTIFICATE), &t->tls_certificate);
	if (v[F_TLS_KEY])
		take_path(ctx, v[F_TLS_KEY], W(F_TLS_KEY), &t->tls_key);
	if (v[F_POLL_URL])
		take_url(ctx, v[F_POLL_URL], W(F_POLL_URL), &t->poll_url);
	if (v[F_BEARER_TOKEN_FILE])
		take_path(ctx, v[F_BEARER_TOKEN_FILE], W(F_BEARER_TOKEN_FILE), &t->bearer_token_file);
	if (v[F_MAX_REQUEST_BYTES])
		take_number(ctx, v[F_MAX_REQUEST_BYTES], W(F_MAX_REQUEST_BYTES), 1024, 1u << 20,
			    &t->max_request_bytes);
	if (v[F_RATE])
		take_number(ctx, v[F_RATE], W(F_RATE), 1, 100000, &t->rate);
	if (v[F_MAX_EVENTS])
		take_number(ctx, v[F_MAX_EVENTS], W(F_MAX_EVENTS), 1, 1000, &t->max_events);
	if (v[F_POLL_INTERVAL])
		take_duration(ctx, v[F_POLL_INTERVAL], W(F_POLL_INTERVAL), 100, &t->poll_interval_ms);
	if (v[F_JWKS_REFRESH])
		take_duration(ctx, v[F_JWKS_REFRESH], W(F_JWKS_REFRESH), 1000, &t->jwks_refresh_ms);
	if (v[F_EVENTS])
		parse_events(ctx, v[F_EVENTS], W(F_EVENTS), t);
	if (ctx->errors != errors)
		return;
	/* What each delivery needs, and what it cannot use. */
	if (t->delivery == SSF_PUSH) {
		if (!t->listen)
			error_at(ctx, map->pos, "%s: push delivery needs listen", where);
		else if ((t->tls_certificate != NULL) != (t->tls_key != NULL))
			error_at(ctx, map->pos, "%s: tls_certificate and tls_key go together", where);
		else if (!loopback && !t->tls_certificate)
			error_at(ctx, v[F_LISTEN]->pos, "%s: %s is not a loopback or unix address: "
				 "tls_certificate and tls_key are needed (or listen on loopback "
				 "behind a TLS proxy)", W(F_LISTEN), t->listen);
		else if (!strncmp(t->listen, "unix:", 5) && t->tls_certificate)
			error_at(ctx, v[F_TLS_CERTIFICATE]->pos, "%s: not on a unix socket (the "
				 "proxy in front of it terminates TLS)", W(F_TLS_CERTIFICATE));
		if (v[F_POLL_URL])
			error_at(ctx, v[F_POLL_URL]->pos, "%s: only with delivery: poll",
				 W(F_POLL_URL));
	} else if (t->delivery == SSF_POLL) {
		if (!t->poll_url && !t->configuration_url)
			error_at(ctx, map->pos, "%s: poll delivery needs poll_url or "
				 "configuration_url (whose endpoint is used)", where);
		for (int f = F_LISTEN; f <= F_TLS_KEY; f++)
			if (v[f])
				error_at(ctx, v[f]->pos, "%s: only with delivery: push", W(f));
		if (v[F_RATE])
			error_at(ctx, v[F_RATE]->pos, "%s: only with delivery: push", W(F_RATE));
	}
#undef W
}

void ssf_config_parse(struct ytree_ctx *ctx, const struct ynode *list, struct ssf_config *c)
{
	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, "ssf"))
		return;
	if (list->count > SSF_MAX_TRANSMITTERS) {
		error_at(ctx, list->pos, "ssf: at most %d transmitters, found %zu",
			 SSF_MAX_TRANSMITTERS, list->count);
		return;
	}
	c->items = calloc(list->count ? list->count : 1, sizeof(*c->items));
	if (!c->items) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		struct ssf_transmitter *t = &c->items[c->count++];

		parse_one(ctx, list->items[i], i, t);
		for (size_t k = 0; t->name && k + 1 < c->count; k++) {
			const struct ssf_transmitter *o = &c->items[k];

			if (o->name && !strcmp(o->name, t->name))
				error_at(ctx, list->items[i]->pos, "ssf[%zu]: name %s is taken by "
					 "ssf[%zu] (line %u)", i, t->name, k, o->line);
			if (o->listen && t->listen && !strcmp(o->listen, t->listen))
				error_at(ctx, list->items[i]->pos, "ssf[%zu]: listen %s is taken by "
					 "ssf[%zu] (line %u)", i, t->listen, k, o->line);
		}
	}
}

static void transmitter_free(struct ssf_transmitter *t)
{
	free(t->name);
	free(t->issuer);
	free(t->audience);
	free(t->jwks_file);
	free(t->jwks_uri);
	free(t->configuration_url);
	free(t->listen);
	free(t->tls_certificate);
	free(t->tls_key);
	free(t->poll_url);
	free(t->bearer_token_file);
	for (size_t i = 0; i < t->event_count; i++)
		free(t->events[i]);
	free(t->events);
}

void ssf_config_free(struct ssf_config *c)
{
	for (size_t i = 0; i < c->count; i++)
		transmitter_free(&c->items[i]);
	free(c->items);
	*c = (struct ssf_config){ 0 };
}
