/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* CAEP events in: each type's mapping, subjects, every refusal, and strict JSON only. */
#include <linux/types.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signals/caep.h"

#define EV(name) "\"https://schemas.openid.net/secevent/caep/event-type/" name "\""
#define HEAD "{\"iss\": \"https://idp.example.com\", \"jti\": \"e1\", \"iat\": 1700000000,\n"
#define SUB "\"sub_id\": {\"format\": \"email\", \"email\": \"alice@example.com\"},\n"
#define REV "\"events\": {" EV("session-revoked") ": {}}}"

static char *printed(const struct diag_list *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	diag_print(d, f);
	fclose(f);
	return buf;
}

static void parse_ok(const char *text, struct caep_set *set)
{
	struct diag_list d = { 0 };
	char *out;
	int err = caep_parse("e.json", text, strlen(text), set, &d);

	out = printed(&d);
	if (err)
		fail_msg("refused: %s", out);
	free(out);
	diag_list_free(&d);
}

static void expect_error(const char *text, const char *expected)
{
	struct caep_set set = { 0 };
	struct diag_list d = { 0 };
	char *out;

	assert_int_equal(caep_parse("e.json", text, strlen(text), &set, &d), -EINVAL);
	assert_int_equal(set.count, 0);
	assert_null(set.events);
	out = printed(&d);
	assert_string_equal(out, expected);
	free(out);
	diag_list_free(&d);
}

static void subject_is(const struct caep_event *e, const char *want)
{
	char buf[1024];

	caep_subject_describe(&e->subject, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_mapping(void **state)
{
	struct caep_set s;

	(void)state;
	parse_ok(HEAD "\"sub_id\": {\"format\": \"email\", \"email\": \"alice@example.com\"},\n"
		 "\"events\": {" EV("session-revoked") ": {\"event_timestamp\": 1700000000,"
		 " \"initiating_entity\": \"admin\"}}}", &s);
	assert_string_equal(s.issuer, "https://idp.example.com");
	assert_string_equal(s.id, "e1");
	assert_int_equal(s.count, 1);
	assert_int_equal(s.events[0].kind, CAEP_SESSION_REVOKED);
	assert_string_equal(caep_event_name(s.events[0].kind), "caep/session-revoked");
	subject_is(&s.events[0], "email alice@example.com");
	caep_set_free(&s);

	/* Levels come in either case; policies see one spelling. */
	parse_ok(HEAD "\"events\": {" EV("risk-level-change") ": {\"subject\": {\"format\": \"opaque\","
		 " \"id\": \"agent:task-1\"}, \"current_level\": \"HIGH\", \"previous_level\": \"LOW\","
		 " \"risk_reason\": \"impossible travel\"}}}", &s);
	assert_int_equal(s.events[0].kind, CAEP_RISK_LEVEL_CHANGE);
	subject_is(&s.events[0], "opaque agent:task-1");
	assert_string_equal(s.events[0].value, "high");
	caep_set_free(&s);

	/* Several events in one token. */
	parse_ok(HEAD "\"sub_id\": {\"format\": \"iss_sub\", \"iss\": \"https://gh\", \"sub\": \"42\"},\n"
		 "\"events\": {" EV("assurance-level-change") ": {\"namespace\": \"NIST-AAL\","
		 " \"current_level\": \"nist-aal1\", \"change_direction\": \"decrease\"},\n"
		 EV("device-compliance-change") ": {\"current_status\": \"not-compliant\","
		 " \"previous_status\": \"compliant\"},\n"
		 EV("credential-change") ": {\"credential_type\": \"fido2-roaming\","
		 " \"change_type\": \"revoke\"}}}", &s);
	assert_int_equal(s.count, 3);
	subject_is(&s.events[0], "iss_sub https://gh 42");
	assert_int_equal(s.events[0].kind, CAEP_ASSURANCE_LEVEL_CHANGE);
	assert_string_equal(s.events[0].value, "nist-aal1");
	assert_int_equal(s.events[1].kind, CAEP_DEVICE_COMPLIANCE_CHANGE);
	assert_string_equal(s.events[1].value, "not-compliant");
	assert_int_equal(s.events[2].kind, CAEP_CREDENTIAL_CHANGE);
	assert_string_equal(s.events[2].value, "revoke");
	caep_set_free(&s);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error(HEAD "\"events\": {" EV("no-such-event") ": {}}}",
		     "e.json:2:12: error: events: unknown event type \"https://schemas.openid.net/"
		     "secevent/caep/event-type/no-such-event\"; actgate takes https://schemas."
		     "openid.net/secevent/caep/event-type/{session-revoked, token-claims-change, "
		     "credential-change, assurance-level-change, device-compliance-change, "
		     "risk-level-change, session-established, session-presented} and "
		     "https://schemas.openid.net/secevent/risc/event-type/{account-disabled, "
		     "account-purged, credential-compromise}\n");
	expect_error(HEAD "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:83: error: events.session-revoked: no subject: give the token a sub_id "
		     "or the event a subject\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"email\", \"id\": \"x\"},\n"
		     "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:11: error: sub_id: a subject of format email needs \"email\"\n"
		     "e.json:2:31: error: unknown key \"id\" in sub_id; allowed keys: format, email\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"email\", \"email\": \"alice\"},\n"
		     "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:40: error: sub_id.email: \"alice\" is not an email address\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"w1\"},\n"
		     "\"events\": {" EV("risk-level-change") ": {\"current_level\": \"severe\"}}}",
		     "e.json:3:103: error: events.risk-level-change.current_level: unknown value "
		     "\"severe\"\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"w1\"},\n"
		     "\"events\": {" EV("risk-level-change") ": {\"level\": \"high\"}}}",
		     "e.json:3:85: error: missing required key \"current_level\" in "
		     "events.risk-level-change\n"
		     "e.json:3:86: error: unknown key \"level\" in events.risk-level-change; allowed "
		     "keys: subject, event_timestamp, initiating_entity, reason_admin, reason_user, "
		     "current_level, previous_level, risk_reason, principal\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"w1\"},\n"
		     "\"events\": {" EV("device-compliance-change") ": {\"subject\": {\"format\": "
		     "\"opaque\", \"id\": \"w2\"}, \"current_status\": \"compliant\"}}}",
		     "e.json:3:104: error: events.device-compliance-change.subject: the event's "
		     "subject differs from the token's sub_id (line 2); give one subject\n");
	expect_error("{\"iss\": \"i\", \"jti\": \"j\", \"iat\": \"yesterday\", \"events\": {}}",
		     "e.json:1:33: error: iat: expected an integer (seconds since the epoch), found "
		     "a string\n"
		     "e.json:1:56: error: events: no event\n");
	expect_error("[1, 2]", "e.json:1:1: error: expected a Security Event Token payload (a JSON "
			       "object), found an array\n");
	expect_error("{\"iss\": \"i\", \"jti\": \"j\", \"iat\": 1, \"\\u001b[2J\": 1, " SUB REV,
		     "e.json:1:36: error: unknown key \"\\x1b[2J\" in the token; allowed keys: iss, "
		     "jti, iat, aud, events, sub_id, txn, toe, exp, nbf, sub\n");
	expect_error("{\"iss\": \"\\u001b[2J\", \"jti\": \"j\", \"iat\": 1, " SUB REV,
		     "e.json:1:9: error: iss: control character (\\x1b) at byte 1\n");
	expect_error("{\"iss\": \"i\"", "e.json:1:11: error: '}' expected near end of file\n");
	expect_error("", "e.json: error: empty input\n");
	expect_error(" \n", "e.json: error: empty input\n");
}

/*
 * A token is the one JSON from outside: what JSON does not allow is refused
 * with the place and the reason, however lenient another parser would be.
 */
static void test_strict_json(void **state)
{
	(void)state;
	/* Comments. */
	expect_error("// a comment\n" HEAD SUB REV, "e.json:1:1: error: invalid token near '/'\n");
	expect_error(HEAD "/* c */ " SUB REV, "e.json:2:1: error: string or '}' expected near '/'\n");
	expect_error(HEAD "# c\n" SUB REV, "e.json:2:1: error: string or '}' expected near '#'\n");
	/* Unquoted keys, single quotes. */
	expect_error(HEAD "sub_id: {\"format\": \"email\", \"email\": \"alice@example.com\"},\n" REV,
		     "e.json:2:3: error: string or '}' expected near 'sub'\n");
	expect_error(HEAD "\"sub_id\": {format: \"email\", \"email\": \"alice@example.com\"},\n" REV,
		     "e.json:2:17: error: string or '}' expected near 'format'\n");
	expect_error(HEAD "'sub_id': {\"format\": \"email\", \"email\": \"alice@example.com\"},\n" REV,
		     "e.json:2:1: error: string or '}' expected near '''\n");
	expect_error(HEAD "\"sub_id\": {\"format\": 'email', \"email\": \"alice@example.com\"},\n" REV,
		     "e.json:2:22: error: invalid token near '''\n");
	/* Duplicate keys: a second issuer, subject or level must not win silently. */
	expect_error(HEAD SUB "\"iss\": \"https://evil.example.com\",\n" REV,
		     "e.json:3:5: error: duplicate object key near '\"iss\"'\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"email\", \"email\": \"alice@example.com\", "
		     "\"email\": \"bob@example.com\"},\n" REV,
		     "e.json:2:67: error: duplicate object key near '\"email\"'\n");
	expect_error(HEAD SUB "\"events\": {" EV("risk-level-change") ": {\"current_level\": \"low\", "
		     "\"current_level\": \"high\"}}}",
		     "e.json:3:124: error: duplicate object key near '\"current_level\"'\n");
	/* jansson leaves out "near" when the key does not fit its message. */
	expect_error(HEAD SUB "\"events\": {" EV("session-revoked") ": {}, " EV("session-revoked")
		     ": {}}}", "e.json:3:155: error: duplicate object key\n");
	/* Anything after the token, a second token included. */
	expect_error(HEAD SUB REV " x", "e.json:3:88: error: end of file expected near 'x'\n");
	expect_error(HEAD SUB REV "\n{\"iss\": \"x\"}",
		     "e.json:4:1: error: end of file expected near '{'\n");
	expect_error(HEAD SUB REV "\n---\n", "e.json:4:1: error: end of file expected near '-'\n");
	/* Trailing commas. */
	expect_error(HEAD SUB "\"events\": {" EV("session-revoked") ": {},}}",
		     "e.json:3:86: error: string or '}' expected near '}'\n");
	/* Numbers JSON does not have. */
	expect_error("{\"iss\": \"i\", \"jti\": \"j\", \"iat\": NaN, " SUB REV,
		     "e.json:1:35: error: invalid token near 'NaN'\n");
	/* Lone surrogates, invalid UTF-8 (a surrogate pair encoded in UTF-8 too), NUL. */
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"agent-\\ud83d\"},\n" REV,
		     "e.json:2:51: error: invalid Unicode '\\uD83D' near '\"agent-\\ud83d\"'\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"agent-\\ude00x\"},\n" REV,
		     "e.json:2:52: error: invalid Unicode '\\uDE00' near '\"agent-\\ude00x\"'\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"agent-\xff\"},\n" REV,
		     "e.json:2:44: error: unable to decode byte 0xff near '\"agent-'\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": "
		     "\"agent-\xed\xa0\xbd\xed\xb8\x80\"},\n" REV,
		     "e.json:2:44: error: unable to decode byte 0xed near '\"agent-'\n");
	expect_error("{\"iss\": \"i\\u0000\", \"jti\": \"j\", \"iat\": 1, " SUB REV,
		     "e.json:1:17: error: \\u0000 (NUL) is not allowed in a string\n");
}

/* A NUL byte after a number: jansson alone would skip it (expect_error stops at strlen). */
static void test_nul_byte(void **state)
{
	static const char text[] = "{\"iss\": \"i\", \"jti\": \"j\", \"iat\": 1\0, " SUB REV;
	struct caep_set set = { 0 };
	struct diag_list d = { 0 };
	char *out;

	(void)state;
	assert_int_equal(caep_parse("e.json", text, sizeof(text) - 1, &set, &d), -EINVAL);
	out = printed(&d);
	assert_string_equal(out, "e.json:1:34: error: a NUL byte is not allowed in JSON\n");
	free(out);
	diag_list_free(&d);
}

/* \u escapes decode, surrogate pairs included; the same character raw in UTF-8 reads the same. */
static void test_surrogate_pair(void **state)
{
	struct caep_set s;

	(void)state;
	parse_ok(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"agent-\\ud83d\\ude00\"},\n" REV,
		 &s);
	assert_int_equal(s.count, 1);
	subject_is(&s.events[0], "opaque agent-\xf0\x9f\x98\x80");
	caep_set_free(&s);
	parse_ok(HEAD "\"sub_id\": {\"format\": \"opaque\", \"id\": \"agent-\xf0\x9f\x98\x80\"},\n" REV,
		 &s);
	subject_is(&s.events[0], "opaque agent-\xf0\x9f\x98\x80");
	caep_set_free(&s);
	/* An escaped key names the same member. */
	parse_ok("{\"\\u0069ss\": \"i\", \"jti\": \"j\", \"iat\": 1, " SUB REV, &s);
	assert_string_equal(s.issuer, "i");
	caep_set_free(&s);
}

/* What the daemon replies and the spool logs: the first error, whole. */
static void test_first_error_unchanged(void **state)
{
	const char *text = HEAD SUB "\"iss\": \"x\",\n" REV;
	struct diag_list d = { 0 };
	struct caep_set set;
	char why[256];

	(void)state;
	assert_int_equal(caep_parse("spool/t.json", text, strlen(text), &set, &d), -EINVAL);
	diag_first_error(&d, "the event token is not valid", why, sizeof(why));
	assert_string_equal(why, "spool/t.json:3:5: duplicate object key near '\"iss\"'");
	diag_list_free(&d);
}

static void test_size_limit(void **state)
{
	struct diag_list d = { 0 };
	struct caep_set set;
	size_t n = CAEP_TOKEN_MAX + 1;
	char *text = malloc(n);

	(void)state;
	assert_non_null(text);
	memset(text, ' ', n);
	text[0] = '{';
	text[n - 1] = '}';
	assert_int_equal(caep_parse("e.json", text, n, &set, &d), -EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message,
			    "an event token is at most 1048576 bytes; this is 1048577");
	diag_list_free(&d);
	free(text);
}

/* A token full of mistakes: the first 20 are shown, the rest counted. */
static void test_error_cap(void **state)
{
	char text[2048] = "{\"iss\": \"i\", \"jti\": \"j\", \"iat\": 1, " SUB;
	struct diag_list d = { 0 };
	struct caep_set set;

	(void)state;
	for (int i = 0; i < 25; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "\"x%d\": 0, ", i);
	strcat(text, REV);
	assert_int_equal(caep_parse("e.json", text, strlen(text), &set, &d), -EINVAL);
	assert_int_equal(d.count, 21);
	assert_string_equal(d.items[0].message, "unknown key \"x0\" in the token; allowed keys: iss, "
						"jti, iat, aud, events, sub_id, txn, toe, exp, nbf, sub");
	assert_string_equal(d.items[19].message, "unknown key \"x19\" in the token; allowed keys: "
						 "iss, jti, iat, aud, events, sub_id, txn, toe, exp, nbf, sub");
	assert_int_equal(d.items[20].line, 0);
	assert_string_equal(d.items[20].message, "5 more errors not shown");
	diag_list_free(&d);
}

/* An unknown key quoted in a message is cut short, a C1 control's 6-byte escape included. */
static void test_long_key_quoted(void **state)
{
	char text[512] = "{\"iss\": \"i\", \"jti\": \"j\", \"iat\": 1, \"", want[512];
	struct diag_list d = { 0 };
	struct caep_set set;
	size_t o;

	(void)state;
	o = strlen(text);
	memset(text + o, 'C', 90);
	strcpy(text + o + 90, "\\u0094\\u0094\": 1, " SUB REV);
	/* 89 of the 90: the quote keeps room for one more 6-byte escape and the cut marker. */
	strcpy(want, "unknown key \"");
	memset(want + 13, 'C', 89);
	strcpy(want + 102, "\"... in the token; allowed keys: iss, jti, iat, aud, events, sub_id, "
			   "txn, toe, exp, nbf, sub");
	assert_int_equal(caep_parse("e.json", text, strlen(text), &set, &d), -EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, want);
	diag_list_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_surrogate_pair),
		cmocka_unit_test(test_first_error_unchanged),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_long_key_quoted),
	};

	return cmocka_run_group_tests_name("signals/caep", tests, NULL, NULL);
}
