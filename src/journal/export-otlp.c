/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The OpenTelemetry sink: logs over OTLP/HTTP with the JSON encoding
 * (opentelemetry-proto's ExportLogsServiceRequest, as the OTLP
 * specification maps it to JSON: ids as hex, 64-bit integers as strings,
 * enums as numbers), POSTed with libcurl.
 *
 * One request a batch: one resource (host.name, host.id, service.name
 * "actgate", service.version, service.instance.id the boot id, os.type) and one scope, a log record
 * per event whose body is the event's JSON text, with the attributes
 * actgate.seq and event.name. A 2xx is acceptance (a partial_success
 * rejecting records is logged and counted as accepted: resending will not
 * change the receiver's mind); 429, 502, 503, 504 and transport errors are
 * retried by the follower with backoff; other statuses too, since skipping
 * would lose records, with the status in the error that status shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "journal/export.h"
#include "util/json.h"
#include "util/version.h"

struct otlp_sink {
	struct jexport_sink base;
	CURL *curl;
	struct curl_slist *headers;
	char *url, *ca;
	struct json_out body;
	char reply[512];
	size_t reply_len;
};

static size_t on_reply(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_sink *s = ctx;
	size_t len = size * n, room = sizeof(s->reply) - 1 - s->reply_len;

	memcpy(s->reply + s->reply_len, p, len < room ? len : room);
	s->reply_len += len < room ? len : room;
	s->reply[s->reply_len] = '\0';
	return len;
}

static void attr_string(struct json_out *j, const char *key, const char *value)
{
	json_object_begin(j);
	json_add_string(j, "key", key);
	json_key_object_begin(j, "value");
	json_add_string(j, "stringValue", value);
	json_object_end(j);
	json_object_end(j);
}

/*
 * json.h's writer has objects only: arrays are written by hand around it,
 * with the comma state set so that members and elements come out right.
 */
static void raw(struct json_out *j, const char *text, bool comma_after)
{
	size_t len = strlen(text);

	if (j->len + len + 1 > j->cap) {
		size_t cap = (j->len + len + 1) * 2;
		char *bigger = realloc(j->buf, cap);

		if (!bigger) {
			j->error = -ENOMEM;
			return;
		}
		j->buf = bigger;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, text, len);
	j->len += len;
	j->need_comma = comma_after;
}

static void build(struct otlp_sink *s, const struct jexport_event *ev, size_t n)
{
	const struct jocsf_host *h = s->base.host;
	struct json_out *j = &s->body;
	char num[32];

	json_out_reset(j);
	raw(j, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[", false);
	attr_string(j, "host.name", h->hostname);
	raw(j, ",", false);
	attr_string(j, "host.id", h->machine_id);
	raw(j, ",", false);
	attr_string(j, "os.type", "linux");
	raw(j, ",", false);
	attr_string(j, "service.name", "actgate");
	raw(j, ",", false);
	attr_string(j, "service.version", actgate_version());
	raw(j, ",", false);
	attr_string(j, "service.instance.id", h->boot_id);
	raw(j, "]},\"scopeLogs\":[{\"scope\":{\"name\":\"actgate.export\"},\"logRecords\":[", false);
	for (size_t i = 0; i < n; i++) {
		const struct jexport_event *e = &ev[i];
		/* OTLP severity numbers: INFO 9, WARN 13, ERROR 17. */
		unsigned sev = e->gap ? 17 : e->denied ? 13 : 9;

		if (i)
			raw(j, ",", false);
		json_object_begin(j);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)e->time_ns);
		json_add_string(j, "timeUnixNano", num);
		json_add_u64(j, "severityNumber", sev);
		json_add_string(j, "severityText", e->gap ? "ERROR" : e->denied ? "WARN" : "INFO");
		json_key_object_begin(j, "body");
		/* The event's own text as a string: json_add_string escapes it. */
		{
			char *text = strndup(e->text, e->len);

			if (!text) {
				j->error = -ENOMEM;
				return;
			}
			json_add_string(j, "stringValue", text);
			free(text);
		}
		json_object_end(j);
		raw(j, ",\"attributes\":[", false);
		json_object_begin(j);
		json_add_string(j, "key", "actgate.seq");
		json_key_object_begin(j, "value");
		snprintf(num, sizeof(num), "%llu", (unsigned long long)e->seq);
		json_add_string(j, "intValue", num);
		json_object_end(j);
		json_object_end(j);
		raw(j, ",", false);
		attr_string(j, "event.name", e->gap ? "actgate.gap" : "actgate.decision");
		raw(j, "]", true);
		json_object_end(j);
	}
	raw(j, "]}]}]}", true);
}

static int otlp_send(struct jexport_sink *base, const struct jexport_event *ev, size_t n,
		     char *why, size_t why_size)
{
	struct otlp_sink *s = (struct otlp_sink *)base;
	long status = 0;
	CURLcode rc;

	build(s, ev, n);
	if (s->body.error) {
		snprintf(why, why_size, "%s", strerror(-s->body.error));
		return s->body.error;
	}
	s->reply_len = 0;
	s->reply[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body.buf);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	rc = curl_easy_perform(s->curl);
	if (rc != CURLE_OK) {
		snprintf(why, why_size, "%s: %s", s->url, curl_easy_strerror(rc));
		return -ECOMM;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, why_size, "%s: HTTP %ld%s%.200s", s->url, status,
			 s->reply_len ? ": " : "", s->reply);
		return status == 429 || status >= 500 ? -EAGAIN : -EPROTO;
	}
	return 0;
}

static void otlp_close(struct jexport_sink *base)
{
	struct otlp_sink *s = (struct otlp_sink *)base;

	if (s->curl)
		curl_easy_cleanup(s->curl);
	curl_slist_free_all(s->headers);
	json_out_free(&s->body);
	free(s->url);
	free(s->ca);
	free(s);
}

static const struct jexport_sink_ops otlp_ops = { "otlp", otlp_send, otlp_close };

int jexport_sink_otlp_open(const char *spec, struct jexport_sink **out, char *why,
			   size_t why_size)
{
	struct otlp_sink *s = calloc(1, sizeof(*s));
	const char *rest = spec + 5, *params;
	int err = 0;

	if (!s)
		return -ENOMEM;
	s->base.ops = &otlp_ops;
	json_out_init(&s->body);
	if (strncmp(rest, "http://", 7) && strncmp(rest, "https://", 8)) {
		snprintf(why, why_size, "%s: expected otlp+http://HOST:PORT/PATH or otlp+https://...",
			 spec);
		err = -EINVAL;
		goto out;
	}
	params = strchr(rest, '?');
	s->url = params ? strndup(rest, (size_t)(params - rest)) : strdup(rest);
	s->ca = params ? jexport_spec_param(params + 1, "ca") : NULL;
	s->curl = curl_easy_init();
	s->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!s->url || !s->curl || !s->headers) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		err = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (s->ca)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, s->ca);
out:
	if (err) {
		otlp_close(&s->base);
		return err;
	}
	*out = &s->base;
	return 0;
}
