/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Delegation tokens (signals/delegtoken.h): a token-exchange JWT signed here
 * (jws_sign.h) verified against a trust file; sub, act and jti read; every
 * refusal the issue names (forged, expired, wrong audience, alg none, no
 * trust configured) and may_act.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jws_sign.h"
#include "signals/delegtoken.h"

#define ISS "https://idp.example.com"
#define AUD "actgate:host-1"
#define NOW 1700000000

static EVP_PKEY *key, *other;
static char dir[] = "/tmp/actgate-delegtoken-XXXXXX", trust[128];

static int setup(void **state)
{
	char *jwk, *text;
	FILE *f;

	(void)state;
	key = jws_test_key("rsa");
	other = jws_test_key("rsa");
	if (!key || !other || !mkdtemp(dir))
		return -1;
	snprintf(trust, sizeof(trust), "%s/trust.json", dir);
	jwk = jws_test_jwk(key, "k1", "RS256");
	if (asprintf(&text, "{\"issuer\":\"%s\",\"audience\":\"%s\",\"keys\":[%s]}", ISS, AUD,
		     jwk) < 0)
		return -1;
	f = fopen(trust, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	free(jwk);
	free(text);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *token(EVP_PKEY *k, const char *header, const char *claims)
{
	char *t = jws_test_sign(k, "RS256", "k1", header, claims);

	assert_non_null(t);
	return t;
}

static int verify(const char *t, const char *workload, struct delegation_token *out, char *why)
{
	return delegation_token_verify(trust, t, strlen(t), workload, NOW, out, why, 512);
}

#define CLAIMS(extra)                                                                       \
	"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice@example.com\",\"exp\":" \
	"1700000600,\"jti\":\"t-1\"" extra "}"

static void test_verified(void **state)
{
	struct delegation_token t;
	char why[512], *tok, *link;

	(void)state;
	tok = token(key, NULL,
		    CLAIMS(",\"act\":{\"sub\":\"agent-svc\",\"act\":{\"sub\":\"ci-bot\"}},"
			   "\"may_act\":{\"sub\":\"agent:main\"}"));
	assert_int_equal(verify(tok, "agent:main", &t, why), 0);
	assert_string_equal(t.subject, "alice@example.com");
	assert_string_equal(t.issuer, ISS);
	assert_string_equal(t.jti, "t-1");
	/* Earliest actor first: ci-bot acted, then agent-svc. */
	assert_string_equal(t.act, "ci-bot,agent-svc");
	link = delegation_token_link(&t);
	assert_string_equal(link, "alice@example.com[iss=" ISS ";act=ci-bot,agent-svc;jti=t-1]");
	free(link);
	delegation_token_free(&t);
	/* may_act names another workload. */
	assert_int_equal(verify(tok, "agent:other", &t, why), -EINVAL);
	assert_string_equal(why, "may_act.sub \"agent:main\" is not workload \"agent:other\"");
	free(tok);
}

static void test_refused(void **state)
{
	struct delegation_token t;
	char why[512], *tok;
	char *h, *p, *none;

	(void)state;
	/* Forged: signed with a key the trust file does not hold. */
	tok = token(other, NULL, CLAIMS(""));
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	assert_non_null(strstr(why, "invalid_key"));
	free(tok);
	/* Expired. */
	tok = token(key, NULL,
		    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":1699990000}");
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	assert_non_null(strstr(why, "exp"));
	free(tok);
	/* No exp at all. */
	tok = token(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\"}");
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	free(tok);
	/* Another audience. */
	tok = token(key, NULL,
		    "{\"iss\":\"" ISS "\",\"aud\":\"elsewhere\",\"sub\":\"a\",\"exp\":1700000600}");
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	assert_non_null(strstr(why, "invalid_audience"));
	free(tok);
	/* Another issuer. */
	tok = token(key, NULL,
		    "{\"iss\":\"https://evil\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":1700000600}");
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	assert_non_null(strstr(why, "invalid_issuer"));
	free(tok);
	/* alg none, no signature. */
	h = jws_test_b64((const unsigned char *)"{\"alg\":\"none\"}", 14);
	p = jws_test_b64((const unsigned char *)CLAIMS(""), strlen(CLAIMS("")));
	assert_true(asprintf(&none, "%s.%s.", h, p) > 0);
	assert_int_equal(verify(none, "a", &t, why), -EINVAL);
	free(h);
	free(p);
	free(none);
	/* A sub that would break the chain's links. */
	tok = token(key, NULL,
		    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a > b\",\"exp\":1700000600}");
	assert_int_equal(verify(tok, "a", &t, why), -EINVAL);
	assert_non_null(strstr(why, "are not taken"));
	free(tok);
	/* No trust configured: refused rather than trusted. */
	tok = token(key, NULL, CLAIMS(""));
	assert_int_equal(delegation_token_verify(NULL, tok, strlen(tok), "a", NOW, &t, why, 512),
			 -EPERM);
	assert_non_null(strstr(why, "refused, not trusted"));
	free(tok);
}

static void test_bad_trust(void **state)
{
	struct delegation_token t;
	char why[512], path[160], *tok = token(key, NULL, CLAIMS(""));
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"issuer\":\"" ISS "\",\"keys\":[],\"colour\":1}", f);
	fclose(f);
	assert_int_equal(delegation_token_verify(path, tok, strlen(tok), "a", NOW, &t, why, 512),
			 -EINVAL);
	assert_non_null(strstr(why, "unknown member \"colour\""));
	assert_int_equal(delegation_token_verify("/nonexistent", tok, strlen(tok), "a", NOW, &t,
						 why, 512),
			 -EINVAL);
	assert_non_null(strstr(why, "No such file"));
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bad_trust),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
