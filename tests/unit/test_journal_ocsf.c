/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every record type's OCSF event held to tests/unit/ocsf-1.1.json, our own
 * transcription of OCSF 1.1.0: required and recommended attributes present
 * (a recommended one absent only where the definitions say why), types,
 * enums with their captions, class, activity and type_uid consistent,
 * profile attributes only with the profile, nothing undefined.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "journal/ocsf.h"

static json_t *defs;
static char errs[4096];

static void err(const char *path, const char *what)
{
	size_t n = strlen(errs);

	snprintf(errs + n, sizeof(errs) - n, "%s: %s\n", path, what);
}

static void check_object(const json_t *v, const char *type, const char *path);

static void check_value(const json_t *v, const json_t *def, const char *path)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	size_t tl = strlen(type);

	if (tl > 2 && !strcmp(type + tl - 2, "[]")) {
		char elem[64];
		size_t i;
		json_t *e;

		if (!json_is_array(v))
			return err(path, "not an array");
		snprintf(elem, sizeof(elem), "%.*s", (int)(tl - 2), type);
		json_array_foreach(v, i, e) {
			json_t *d = json_pack("{ss}", "type", elem);

			check_value(e, d, path);
			json_decref(d);
		}
		return;
	}
	/* a named scalar type (hostname_t, port_t, ...) is checked as the type it is */
	const char *base = json_string_value(json_object_get(json_object_get(defs, "types"), type));

	if (base && strcmp(type, "about"))
		type = base;
	if (!strcmp(type, "object")) {
		if (!json_is_object(v))
			err(path, "not an object");
	} else if (!strcmp(type, "string_t")) {
		if (!json_is_string(v))
			err(path, "not a string");
	} else if (!strcmp(type, "integer_t") || !strcmp(type, "long_t") || !strcmp(type, "timestamp_t")) {
		if (!json_is_integer(v))
			err(path, "not an integer");
	} else if (strcmp(type, "json_t")) {
		check_object(v, type, path);
	}
}

/* attrs of v against the merged attribute definitions */
static void check_attrs(const json_t *v, const json_t *attrs, const json_t *omits, const char *path)
{
	const char *k;
	json_t *a, *d;
	char sub[256];

	json_object_foreach((json_t *)v, k, a) {
		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		d = json_object_get(attrs, k);
		if (!d) {
			err(sub, "not an attribute of this class or object");
			continue;
		}
		check_value(a, d, sub);
		json_t *en = json_object_get(d, "enum");
		const char *cap = json_string_value(json_object_get(d, "caption"));
		if (en && json_is_integer(a)) {
			char id[24];
			json_t *c;

			snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(a));
			c = json_object_get(en, id);
			if (!c)
				err(sub, "not a value of its enum");
			else if (cap && strcmp(id, "99") && json_object_get(v, cap) &&
				 !json_equal(c, json_object_get(v, cap)))
				err(sub, "caption differs from the enum's");
		}
	}
	json_object_foreach((json_t *)attrs, k, d) {
		const char *req = json_string_value(json_object_get(d, "req"));

		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		if (json_object_get(v, k))
			continue;
		if (!strcmp(req, "required"))
			err(sub, "required, missing");
		else if (!strcmp(req, "recommended") && !json_object_get(omits, k))
			err(sub, "recommended, missing, and no reason given");
	}
}

static void check_object(const json_t *v, const char *type, const char *path)
{
	json_t *o = json_object_get(json_object_get(defs, "objects"), type), *alo;
	size_t i;
	json_t *e;
	bool any = false;

	if (!o)
		return err(path, "object type not defined");
	if (!json_is_object(v))
		return err(path, "not an object");
	check_attrs(v, json_object_get(o, "attributes"), json_object_get(o, "omits"), path);
	alo = json_object_get(o, "at_least_one");
	json_array_foreach(alo, i, e)
		any |= json_object_get(v, json_string_value(e)) != NULL;
	if (alo && !any)
		err(path, "none of its at_least_one attributes");
}

/* The whole event: class, activity, type_uid, then every attribute. */
static const char *check_event(const char *text)
{
	json_error_t je;
	json_t *ev = json_loads(text, 0, &je), *cls, *attrs, *omits, *profs, *p;
	char id[24];
	size_t i;

	errs[0] = '\0';
	if (!ev)
		return "not JSON";
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(ev, "class_uid")));
	cls = json_object_get(json_object_get(defs, "classes"), id);
	if (!cls) {
		json_decref(ev);
		err("class_uid", "not a class of the definitions");
		return errs;
	}
	attrs = json_deep_copy(json_object_get(json_object_get(defs, "base"), "attributes"));
	omits = json_deep_copy(json_object_get(json_object_get(defs, "base"), "omits"));
	json_object_update(omits, json_object_get(cls, "omits"));
	profs = json_object_get(json_object_get(ev, "metadata"), "profiles");
	json_array_foreach(profs, i, p) {
		json_t *allowed = json_object_get(cls, "profiles"), *q;
		size_t k;
		bool ok = false;

		json_array_foreach(allowed, k, q)
			ok |= json_equal(p, q);
		if (!ok)
			err("metadata.profiles", "a profile the class does not take");
		json_object_update(attrs, json_object_get(json_object_get(defs, "profiles"),
							  json_string_value(p)));
	}
	json_object_update(attrs, json_object_get(cls, "attributes")); /* the class's override */
	check_attrs(ev, attrs, omits, "event");
	if (json_integer_value(json_object_get(ev, "category_uid")) !=
	    json_integer_value(json_object_get(cls, "category_uid")))
		err("category_uid", "not the class's category");
	if (strcmp(json_string_value(json_object_get(ev, "class_name")) ?: "",
		   json_string_value(json_object_get(cls, "name"))))
		err("class_name", "not the class's name");
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(ev, "activity_id")));
	if (!json_object_get(json_object_get(cls, "activities"), id))
		err("activity_id", "not an activity of the class");
	else if (strcmp(id, "99") && !json_equal(json_object_get(json_object_get(cls, "activities"), id),
						 json_object_get(ev, "activity_name")))
		err("activity_name", "not the activity's caption");
	if (json_integer_value(json_object_get(ev, "type_uid")) !=
	    json_integer_value(json_object_get(ev, "class_uid")) * 100 +
		    json_integer_value(json_object_get(ev, "activity_id")))
		err("type_uid", "not class_uid * 100 + activity_id");
	json_decref(attrs);
	json_decref(omits);
	json_decref(ev);
	return errs;
}

static const struct jocsf_host host = { "host1", "0123456789abcdef0123456789abcdef",
					"01234567-89ab-cdef-0123-456789abcdef", "Linux", "6.1.0" };

static char *event_of(uint8_t action, uint8_t verdict, uint8_t mode, const char *target)
{
	struct journal_record r = { .time_ns = 1795871658000000000ull, .action = action,
				    .verdict = verdict, .mode = mode, .pid = 1002, .tgid = 1001,
				    .ppid = 900, .uid = 1000, .comm = "curl" };
	struct json_out j;
	char *out;

	r.target = (char *)target;
	r.workload = "ci";
	r.labels = "team=a,env=b";
	r.policy = "ci";
	r.rule = "ci:connect.allow[0]";
	r.target_name = action == ACTGATE_ACTION_RESOLVE ? "example.org" : "";
	r.chain = action == ACTGATE_ACTION_DELEGATE ? "alice > ci#1 > sub#2" : "";
	r.issuer = action == ACTGATE_ACTION_SIGNAL ? "https://idp.example" : "";
	r.event_id = r.event_type = r.subject = "";
	r.writer_version = "1.2.3";
	if (action == ACTGATE_ACTION_SIGNAL)
		r.tgid = r.pid = r.ppid = 0;
	json_out_init(&j);
	assert_int_equal(jocsf_event(&r, &host, &j), 0);
	out = strndup(j.buf, j.len);
	json_out_free(&j);
	return out;
}

static void expect_valid(char *text)
{
	const char *e = check_event(text);

	if (e[0])
		fprintf(stderr, "%s\n%s", text, e);
	assert_string_equal(e, "");
	free(text);
}

static void test_every_record_type(void **state)
{
	(void)state;
	for (int v = 0; v < 3; v++) {
		uint8_t verdict = v ? ACTGATE_VERDICT_DENY : ACTGATE_VERDICT_ALLOW;
		uint8_t mode = v == 2 ? ACTGATE_MODE_AUDIT : ACTGATE_MODE_ENFORCE;

		expect_valid(event_of(ACTGATE_ACTION_OPEN, verdict, mode, "/etc/shadow"));
		expect_valid(event_of(ACTGATE_ACTION_EXEC, verdict, mode, "/usr/bin/curl"));
		expect_valid(event_of(ACTGATE_ACTION_CONNECT, verdict, mode, "10.0.0.1:443/tcp"));
		expect_valid(event_of(ACTGATE_ACTION_CONNECT, verdict, mode, "[::1]:53/udp"));
		expect_valid(event_of(ACTGATE_ACTION_CONNECT, verdict, mode, "unix:/run/x.sock"));
		expect_valid(event_of(ACTGATE_ACTION_CONNECT, verdict, mode, "raw:ipv4/icmp"));
		expect_valid(event_of(ACTGATE_ACTION_CONNECT, verdict, mode, "packet:raw/0x0003"));
		expect_valid(event_of(ACTGATE_ACTION_TAMPER, ACTGATE_VERDICT_DENY, mode,
				      "unlink of check_exec on the bpffs"));
		expect_valid(event_of(ACTGATE_ACTION_RESOLVE, verdict, mode, ""));
		expect_valid(event_of(ACTGATE_ACTION_DELEGATE, verdict, mode, ""));
		expect_valid(event_of(ACTGATE_ACTION_SIGNAL, ACTGATE_VERDICT_ALLOW, mode, "revoked"));
	}
}

static void test_gap(void **state)
{
	struct jstore_gap g = { 1795871658000000000ull, 7, 1795871657000000000ull,
				1795871657500000000ull, 28 };
	struct json_out j;

	(void)state;
	json_out_init(&j);
	assert_int_equal(jocsf_gap_event(&g, &host, &j), 0);
	expect_valid(strndup(j.buf, j.len));
	json_out_free(&j);
}

/* The checker can fail: a required attribute removed, a wrong enum, an undefined field. */
static void test_checker_fails(void **state)
{
	char *ok = event_of(ACTGATE_ACTION_CONNECT, ACTGATE_VERDICT_ALLOW, ACTGATE_MODE_ENFORCE,
			    "10.0.0.1:443/tcp");
	json_t *ev = json_loads(ok, 0, NULL);
	char *bad;

	(void)state;
	json_object_del(ev, "src_endpoint");
	bad = json_dumps(ev, 0);
	assert_non_null(strstr(check_event(bad), "event.src_endpoint: required, missing"));
	free(bad);
	json_decref(ev);
	ev = json_loads(ok, 0, NULL);
	json_object_set_new(json_object_get(ev, "dst_endpoint"), "path", json_string("/run/x"));
	json_object_set_new(ev, "severity_id", json_integer(7));
	bad = json_dumps(ev, 0);
	assert_non_null(strstr(check_event(bad), "event.dst_endpoint.path: not an attribute"));
	assert_non_null(strstr(check_event(bad), "event.severity_id: not a value of its enum"));
	free(bad);
	json_decref(ev);
	free(ok);
}

static int setup(void **state)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');

	(void)state;
	snprintf(path, sizeof(path), "%.*s/ocsf-1.1.json", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	defs = json_load_file(path, 0, NULL);
	return defs ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(defs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_record_type),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_checker_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
