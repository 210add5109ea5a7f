/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* CAEP events in: each type's mapping, subjects, and every refusal. */
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
	assert_null(set.effects);
	out = printed(&d);
	assert_string_equal(out, expected);
	free(out);
	diag_list_free(&d);
}

static void test_mapping(void **state)
{
	struct caep_set s;
	char buf[256];

	(void)state;
	parse_ok(HEAD "\"sub_id\": {\"format\": \"email\", \"email\": \"alice@example.com\"},\n"
		 "\"events\": {" EV("session-revoked") ": {\"event_timestamp\": 1700000000,"
		 " \"initiating_entity\": \"admin\"}}}", &s);
	assert_string_equal(s.issuer, "https://idp.example.com");
	assert_string_equal(s.id, "e1");
	assert_int_equal(s.count, 1);
	assert_int_equal(s.effects[0].kind, CAEP_REVOKE);
	assert_int_equal(s.effects[0].scope, SIGNAL_PRINCIPAL);
	assert_string_equal(s.effects[0].subject, "alice@example.com");
	assert_string_equal(s.effects[0].event, "session-revoked");
	caep_effect_describe(&s.effects[0], buf, sizeof(buf));
	assert_string_equal(buf, "revoke principal alice@example.com (caep session-revoked from "
				 "https://idp.example.com)");
	caep_set_free(&s);

	/* Levels come in either case; policies see one spelling. */
	parse_ok(HEAD "\"events\": {" EV("risk-level-change") ": {\"subject\": {\"format\": \"opaque\","
		 " \"id\": \"agent:task-1\"}, \"current_level\": \"HIGH\", \"previous_level\": \"LOW\","
		 " \"risk_reason\": \"impossible travel\"}}}", &s);
	assert_int_equal(s.effects[0].kind, CAEP_SET_SIGNAL);
	assert_int_equal(s.effects[0].scope, SIGNAL_WORKLOAD);
	assert_string_equal(s.effects[0].subject, "agent:task-1");
	assert_string_equal(s.effects[0].name, "risk");
	assert_string_equal(s.effects[0].value, "high");
	caep_effect_describe(&s.effects[0], buf, sizeof(buf));
	assert_string_equal(buf, "signal workload agent:task-1 risk=high (caep risk-level-change "
				 "from https://idp.example.com)");
	caep_set_free(&s);

	/* Several events in one token; iss_sub names a principal as ISS#SUB. */
	parse_ok(HEAD "\"sub_id\": {\"format\": \"iss_sub\", \"iss\": \"https://gh\", \"sub\": \"42\"},\n"
		 "\"events\": {" EV("assurance-level-change") ": {\"namespace\": \"NIST-AAL\","
		 " \"current_level\": \"nist-aal1\", \"change_direction\": \"decrease\"},\n"
		 EV("device-compliance-change") ": {\"current_status\": \"not-compliant\","
		 " \"previous_status\": \"compliant\"},\n"
		 EV("credential-change") ": {\"credential_type\": \"fido2-roaming\","
		 " \"change_type\": \"revoke\"}}}", &s);
	assert_int_equal(s.count, 3);
	assert_string_equal(s.effects[0].subject, "https://gh#42");
	assert_string_equal(s.effects[0].name, "assurance");
	assert_string_equal(s.effects[0].value, "nist-aal1");
	assert_string_equal(s.effects[1].name, "device-compliance");
	assert_string_equal(s.effects[1].value, "not-compliant");
	assert_string_equal(s.effects[2].name, "credential");
	assert_string_equal(s.effects[2].value, "revoke");
	caep_set_free(&s);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error(HEAD "\"events\": {" EV("token-claims-change") ": {}}}",
		     "e.json:2:12: error: events: unknown event type \"https://schemas.openid.net/"
		     "secevent/caep/event-type/token-claims-change\"; actgate takes https://schemas."
		     "openid.net/secevent/caep/event-type/{session-revoked, credential-change, "
		     "assurance-level-change, device-compliance-change, risk-level-change}\n");
	expect_error(HEAD "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:83: error: events.session-revoked: no subject: give the token a sub_id "
		     "or the event a subject\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"phone_number\", \"phone_number\": \"+1\"},\n"
		     "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:22: error: sub_id.format: subject format \"phone_number\" is not "
		     "supported; use email or iss_sub (a principal) or opaque (a workload name)\n"
		     "e.json:2:38: error: unknown key \"phone_number\" in sub_id; allowed keys: "
		     "format, email, iss, sub, id\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"did\", \"id\": \"x\"},\n"
		     "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:22: error: sub_id.format: subject format \"did\" is not supported; use "
		     "email or iss_sub (a principal) or opaque (a workload name)\n");
	expect_error(HEAD "\"sub_id\": {\"format\": \"email\", \"id\": \"x\"},\n"
		     "\"events\": {" EV("session-revoked") ": {}}}",
		     "e.json:2:11: error: sub_id: a subject of format email has exactly the members "
		     "format and email\n");
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
			       "object), found a list\n");
	expect_error("{\"iss\": \"i\"", "e.json:2:1: error: YAML syntax error: did not find "
					"expected ',' or '}' (while parsing a flow mapping at line 1 "
					"col 1)\n");
	expect_error("", "e.json: error: no event token\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("caep", tests, NULL, NULL);
}
