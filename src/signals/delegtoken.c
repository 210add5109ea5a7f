/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Delegation tokens (delegtoken.h): the trust file read at each use, so a
 * rotated key or a changed audience needs no reload, and the token checked
 * with the one JWS verifier (signals/jose.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "identity/workload.h"
#include "signals/delegtoken.h"
#include "signals/jose.h"
#include "util/json.h"

/* Clock skew taken on exp and nbf: hosts and issuers are rarely in step. */
#define DELEGTOKEN_SKEW_S 60

/* The trust file's text (at most JWKS_MAX_BYTES), NUL-terminated. */
static int read_trust(const char *path, char **text, size_t *len, char *why, size_t why_size)
{
	char *buf = malloc(JWKS_MAX_BYTES + 2);
	size_t got = 0;
	int fd, err = 0;

	if (!buf) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "delegation trust %s: %s", path, strerror(-err));
		free(buf);
		return -EINVAL;
	}
	while (got <= JWKS_MAX_BYTES) {
		ssize_t n = read(fd, buf + got, JWKS_MAX_BYTES + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			snprintf(why, why_size, "delegation trust %s: %s", path, strerror(-err));
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!err && got > JWKS_MAX_BYTES) {
		snprintf(why, why_size, "delegation trust %s: longer than %d bytes", path,
			 JWKS_MAX_BYTES);
		err = -EINVAL;
	}
	if (err) {
		free(buf);
		return -EINVAL;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
}

/* {"issuer": S, "audience": S, "keys": [...]}: the one issuer delegation tokens come from. */
static int load_trust(const char *path, char **issuer, char **audience, struct jose_keys *keys,
		      char *why, size_t why_size)
{
	static const char *const known[] = { "issuer", "audience", "keys" };
	struct json_doc doc = { 0 };
	struct json_read_error re;
	char *text = NULL, kwhy[256];
	const char *key;
	json_t *v;
	size_t len;
	int err;

	err = read_trust(path, &text, &len, why, why_size);
	if (err)
		return err;
	err = json_doc_read(&doc, text, len, &re);
	if (err) {
		if (err == -EINVAL)
			snprintf(why, why_size, "delegation trust %s:%u:%u: %s", path, re.line,
				 re.col, re.what);
		else
			snprintf(why, why_size, "out of memory");
		goto out;
	}
	err = -EINVAL;
	if (!json_is_object(doc.root)) {
		snprintf(why, why_size, "delegation trust %s: expected an object, found %s", path,
			 json_describe(doc.root));
		goto out;
	}
	json_object_foreach(doc.root, key, v) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]); i++)
			;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(why, why_size, "delegation trust %s: unknown member \"%.64s\"; "
						"expected issuer, audience, keys", path, key);
			goto out;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		v = json_object_get(doc.root, known[i]);
		if (!json_is_string(v) || !json_string_length(v)) {
			snprintf(why, why_size, "delegation trust %s: \"%s\" must be a non-empty string",
				 path, known[i]);
			goto out;
		}
	}
	*keys = (struct jose_keys){ 0 };
	err = jwks_parse(&keys->set, text, len, kwhy, sizeof(kwhy));
	if (err) {
		snprintf(why, why_size, "delegation trust %s: %s", path, kwhy);
		goto out;
	}
	*issuer = strdup(json_string_value(json_object_get(doc.root, "issuer")));
	*audience = strdup(json_string_value(json_object_get(doc.root, "audience")));
	if (!*issuer || !*audience) {
		free(*issuer);
		free(*audience);
		jose_keys_free(keys);
		snprintf(why, why_size, "out of memory");
		err = -ENOMEM;
	}
out:
	json_doc_free(&doc);
	free(text);
	return err;
}

/* A name that goes into a chain link: printable, without the link's separators. */
static int link_text_check(const char *what, const char *s, char *why, size_t why_size)
{
	if (workload_principal_check(s, why, why_size)) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, why_size, "%s: %s", what, inner);
		return -EINVAL;
	}
	if (strpbrk(s, "[];,>")) {
		snprintf(why, why_size, "%s \"%.64s\": the characters [ ] ; , > are not taken", what,
			 s);
		return -EINVAL;
	}
	return 0;
}

/* act: {"sub": S, "act": {...}}: the current actor, prior ones nested; joined earliest first. */
static int read_act(json_t *act, char **out, char *why, size_t why_size)
{
	const char *subs[DELEGTOKEN_ACT_MAX];
	size_t n = 0, total = 1;
	char *buf;

	for (json_t *a = act; a; a = json_object_get(a, "act")) {
		json_t *sub = json_object_get(a, "sub");

		if (!json_is_object(a) || !json_is_string(sub)) {
			snprintf(why, why_size, "act: every level must be an object with a string "
						"\"sub\"");
			return -EINVAL;
		}
		if (n == DELEGTOKEN_ACT_MAX) {
			snprintf(why, why_size, "act: nested deeper than %d", DELEGTOKEN_ACT_MAX);
			return -EINVAL;
		}
		if (link_text_check("act.sub", json_string_value(sub), why, why_size))
			return -EINVAL;
		subs[n++] = json_string_value(sub);
		total += strlen(subs[n - 1]) + 1;
	}
	buf = calloc(1, total);
	if (!buf)
		return -ENOMEM;
	/* The outermost act is the current actor: the earliest is the deepest. */
	for (size_t i = n; i-- > 0;) {
		strcat(buf, subs[i]);
		if (i)
			strcat(buf, ",");
	}
	*out = buf;
	return 0;
}

int delegation_token_verify(const char *trust_path, const char *token, size_t len,
			    const char *workload, int64_t now, struct delegation_token *out,
			    char *why, size_t why_size)
{
	struct jose_keys keys = { 0 };
	struct jose_error jerr = { 0 };
	json_t *claims = NULL, *sub, *jti, *exp, *may;
	char *issuer = NULL, *audience = NULL;
	int err;

	*out = (struct delegation_token){ 0 };
	if (!trust_path) {
		snprintf(why, why_size, "no delegation trust is configured (delegation_trust): "
					"a delegation token is refused, not trusted");
		return -EPERM;
	}
	if (len > DELEGTOKEN_MAX_BYTES) {
		snprintf(why, why_size, "a delegation token is at most %d bytes",
			 DELEGTOKEN_MAX_BYTES);
		return -EINVAL;
	}
	err = load_trust(trust_path, &issuer, &audience, &keys, why, why_size);
	if (err)
		return err;
	{
		struct jose_expect expect = { .issuer = issuer, .audience = audience, .now = now,
					      .skew_s = DELEGTOKEN_SKEW_S, .require_exp = true };

		err = jose_verify_compact(&keys, token, len, &expect, &claims, &jerr);
	}
	if (err) {
		if (err == -ENOMEM)
			snprintf(why, why_size, "out of memory");
		else
			snprintf(why, why_size, "%s: %s", jerr.code ? jerr.code : "invalid_request",
				 jerr.reason);
		goto out;
	}
	err = -EINVAL;
	sub = json_object_get(claims, "sub");
	jti = json_object_get(claims, "jti");
	exp = json_object_get(claims, "exp");
	may = json_object_get(claims, "may_act");
	if (!json_is_string(sub)) {
		snprintf(why, why_size, "the token has no string \"sub\" (the principal)");
		goto out;
	}
	if (link_text_check("sub", json_string_value(sub), why, why_size))
		goto out;
	if (jti && (!json_is_string(jti) ||
		    link_text_check("jti", json_string_value(jti), why, why_size))) {
		if (!json_is_string(jti))
			snprintf(why, why_size, "\"jti\" must be a string");
		goto out;
	}
	if (may) {
		json_t *ms = json_object_get(may, "sub");

		if (!json_is_object(may) || !json_is_string(ms)) {
			snprintf(why, why_size, "may_act: expected an object with a string \"sub\"");
			goto out;
		}
		if (strcmp(json_string_value(ms), workload)) {
			snprintf(why, why_size, "may_act.sub \"%.64s\" is not workload \"%.64s\"",
				 json_string_value(ms), workload);
			goto out;
		}
	}
	out->act = NULL;
	if (json_object_get(claims, "act")) {
		err = read_act(json_object_get(claims, "act"), &out->act, why, why_size);
		if (err)
			goto out;
	} else {
		out->act = strdup("");
	}
	out->issuer = strdup(issuer);
	out->subject = strdup(json_string_value(sub));
	out->jti = strdup(jti ? json_string_value(jti) : "");
	out->exp = json_integer_value(exp);
	err = 0;
	if (!out->act || !out->issuer || !out->subject || !out->jti) {
		snprintf(why, why_size, "out of memory");
		err = -ENOMEM;
	}
out:
	if (err)
		delegation_token_free(out);
	json_decref(claims);
	jose_keys_free(&keys);
	free(issuer);
	free(audience);
	return err;
}

void delegation_token_free(struct delegation_token *t)
{
	free(t->issuer);
	free(t->subject);
	free(t->jti);
	free(t->act);
	*t = (struct delegation_token){ 0 };
}

char *delegation_token_link(const struct delegation_token *t)
{
	char *out = NULL;

	if (asprintf(&out, "%s[iss=%s;act=%s;jti=%s]", t->subject, t->issuer, t->act, t->jti) < 0)
		return NULL;
	return out;
}
