/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The CAEP 1.0 specification's own examples (section 3), read and resolved
 * against a trust file and running workloads: what each changes here; RISC
 * account events; email and iss_sub of one person as one principal; a
 * subject that names nothing known refused.
 */
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
#include "signals/resolve.h"
#include "signals/trust.h"

#define CAEP "https://schemas.openid.net/secevent/caep/event-type/"
#define RISC "https://schemas.openid.net/secevent/risc/event-type/"
#define JANE "{\"format\": \"iss_sub\", \"iss\": \"https://idp.example.com/3456789/\", " \
	     "\"sub\": \"jane.smith@example.com\"}"
#define SESSION "dMTlD|1600802906337.16|16008.16"

static const char trust_text[] =
	"device_id: e9297990-14d2-42ec-a4a9-4036db86509a\n"
	"principals:\n"
	"  jane:\n"
	"    - {format: email, email: jane.smith@example.com}\n"
	"    - {format: iss_sub, iss: \"https://idp.example.com/3456789/\", sub: jane.smith@example.com}\n";

struct fixture {
	struct signal_trust trust;
	struct workload_table live;
	struct workload_label session[1];
	struct signal_plan plan;
	struct caep_set set;
	char why[1024];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag_list d = { 0 };
	struct workload w = { .id = 1, .name = (char *)"agent:1", .principal = (char *)"jane",
			      .labels = (char *)"", .owner_fd = -1 };
	struct workload sess = { .id = 2, .name = (char *)"agent:2", .principal = (char *)"",
				 .labels = (char *)"session=" SESSION, .owner_fd = -1 };

	assert_non_null(f);
	assert_int_equal(trust_parse("trust.yaml", trust_text, strlen(trust_text), &f->trust, &d), 0);
	diag_list_free(&d);
	f->session[0] = (struct workload_label){ "session", SESSION };
	sess.label_list = f->session;
	sess.label_count = 1;
	assert_int_equal(workload_table_add(&f->live, &w), 0);
	assert_int_equal(workload_table_add(&f->live, &sess), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	signal_plan_free(&f->plan);
	caep_set_free(&f->set);
	trust_free(&f->trust);
	free(f->live.items);
	free(f);
	return 0;
}

/* Parse and resolve text; the plan's effects, described and joined by "; ". */
static int resolve(struct fixture *f, const char *text, char *out, size_t size)
{
	struct diag_list d = { 0 };
	int err;

	signal_plan_free(&f->plan);
	caep_set_free(&f->set);
	out[0] = '\0';
	err = caep_parse("t.json", text, strlen(text), &f->set, &d);
	if (err) {
		diag_first_error(&d, "refused", f->why, sizeof(f->why));
		diag_list_free(&d);
		fail_msg("parse: %s", f->why);
	}
	diag_list_free(&d);
	err = signal_resolve(&f->set, &f->trust, &f->live, &f->plan, f->why, sizeof(f->why));
	for (size_t i = 0; !err && i < f->plan.count; i++)
		for (size_t k = 0; k < f->plan.events[i].count; k++) {
			char one[512];

			resolved_effect_describe(&f->plan.events[i].effects[k], one, sizeof(one));
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "; " : "",
				 one);
		}
	return err;
}

static void test_spec_examples(void **state)
{
	struct fixture *f = *state;
	char got[2048];

	/* 3.1 session-revoked, complex subject: the workload labelled with the session. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/123456789/\", \"jti\": \"24c63fb56e5a2d77a6b512616ca9fa24\","
		" \"iat\": 1615305159, \"aud\": \"https://sp.example.com/caep\", \"txn\": 8675309,"
		" \"sub_id\": {\"format\": \"complex\","
		"  \"session\": {\"format\": \"opaque\", \"id\": \"" SESSION "\"},"
		"  \"user\": {\"format\": \"iss_sub\", \"iss\": \"https://idp.example.com/123456789/\","
		"   \"sub\": \"" SESSION "\"},"
		"  \"tenant\": {\"format\": \"opaque\", \"id\": \"123456789\"}},"
		" \"events\": {\"" CAEP "session-revoked\": {\"initiating_entity\": \"policy\","
		"  \"reason_admin\": {\"en\": \"Landspeed Policy Violation: C076E82F\"},"
		"  \"reason_user\": {\"en\": \"Access attempt from multiple regions.\","
		"   \"es-410\": \"Intento de acceso desde varias regiones.\"},"
		"  \"event_timestamp\": 1615304991643}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "revoke workload agent:2");

	/* 3.2 token-claims-change: the claim becomes a signal on the principal. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/987654321/\", \"jti\": \"9afce1e4e642b165fcaacdd0e7aa4903\","
		" \"iat\": 1615305159, \"aud\": \"https://sp.example2.net/caep\", \"txn\": 8675309,"
		" \"sub_id\": " JANE ","
		" \"events\": {\"" CAEP "token-claims-change\": {\"event_timestamp\": 1615304991643,"
		"  \"claims\": {\"role\": \"ro-admin\"}}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "set principal jane claim.role=ro-admin");

	/* 3.3 credential-change. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/3456789/\", \"jti\": \"07efd930f0977e4fcc1149a733ce7f78\","
		" \"iat\": 1615305159, \"aud\": \"https://sp.example2.net/caep\", \"txn\": 8675309,"
		" \"sub_id\": " JANE ","
		" \"events\": {\"" CAEP "credential-change\": {\"credential_type\": \"fido2-roaming\","
		"  \"change_type\": \"create\", \"fido2_aaguid\": \"accced6a-63f5-490a-9eea-e59bc1896cfc\","
		"  \"friendly_name\": \"Jane's USB authenticator\", \"initiating_entity\": \"user\","
		"  \"reason_admin\": {\"en\": \"User self-enrollment\"},"
		"  \"event_timestamp\": 1615304991643}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "set principal jane credential=create");

	/* 3.4 assurance-level-change. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/3456789/\", \"jti\": \"07efd930f0977e4fcc1149a733ce7f78\","
		" \"iat\": 1615305159, \"aud\": \"https://sp.example2.net/caep\", \"txn\": 8675309,"
		" \"sub_id\": " JANE ","
		" \"events\": {\"" CAEP "assurance-level-change\": {\"namespace\": \"NIST-AAL\","
		"  \"current_level\": \"nist-aal2\", \"previous_level\": \"nist-aal1\","
		"  \"change_direction\": \"increase\", \"initiating_entity\": \"user\","
		"  \"event_timestamp\": 1615304991643}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "set principal jane assurance=nist-aal2");

	/* 3.5 device-compliance-change for this host's device id. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/123456789/\", \"jti\": \"24c63fb56e5a2d77a6b512616ca9fa24\","
		" \"iat\": 1615305159, \"aud\": \"https://sp.example.com/caep\", \"txn\": 8675309,"
		" \"sub_id\": {\"format\": \"complex\","
		"  \"device\": {\"format\": \"iss_sub\", \"iss\": \"https://idp.example.com/123456789/\","
		"   \"sub\": \"e9297990-14d2-42ec-a4a9-4036db86509a\"},"
		"  \"tenant\": {\"format\": \"opaque\", \"id\": \"123456789\"}},"
		" \"events\": {\"" CAEP "device-compliance-change\": {\"current_status\": \"not-compliant\","
		"  \"previous_status\": \"compliant\", \"initiating_entity\": \"policy\","
		"  \"reason_admin\": {\"en\": \"Location Policy Violation: C076E8A3\"},"
		"  \"reason_user\": {\"en\": \"Device is no longer in a trusted location.\"},"
		"  \"event_timestamp\": 1615304991643}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "set host device-compliance=not-compliant");
}

static void test_risc_and_principals(void **state)
{
	struct fixture *f = *state;
	char got[2048];

	/* The email form names the same principal as the iss_sub form above. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/\", \"jti\": \"r1\", \"iat\": 1615305159,"
		" \"sub_id\": {\"format\": \"email\", \"email\": \"Jane.Smith@example.com\"},"
		" \"events\": {\"" RISC "account-disabled\": {}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "revoke principal jane");
	assert_string_equal(f->plan.events[0].principal, "jane");
	/* Aliases: one of them known is enough. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/\", \"jti\": \"r2\", \"iat\": 1615305159,"
		" \"sub_id\": {\"format\": \"aliases\", \"identifiers\": ["
		"  {\"format\": \"did\", \"url\": \"did:example:123\"}, " JANE "]},"
		" \"events\": {\"" RISC "credential-compromise\": {\"credential_type\": \"password\"},"
		"  \"" RISC "account-purged\": {}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "revoke principal jane; revoke principal jane");
	/* Another device: understood, nothing to change. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/\", \"jti\": \"r3\", \"iat\": 1615305159,"
		" \"sub_id\": {\"format\": \"complex\", \"device\": {\"format\": \"opaque\", \"id\": \"other\"}},"
		" \"events\": {\"" CAEP "device-compliance-change\": {\"current_status\": \"compliant\","
		"  \"previous_status\": \"not-compliant\"}}}", got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_non_null(strstr(f->plan.events[0].note, "is not this host"));
	/* A subject nothing here has: refused, not applied to a name no workload can have. */
	assert_int_equal(resolve(f,
		"{\"iss\": \"https://idp.example.com/\", \"jti\": \"r4\", \"iat\": 1615305159,"
		" \"sub_id\": {\"format\": \"opaque\", \"id\": \"dMTlD|nobody\"},"
		" \"events\": {\"" CAEP "session-revoked\": {}}}", got, sizeof(got)), -ENOENT);
	assert_non_null(strstr(f->why, "names nothing actgate knows"));
	assert_int_equal(f->plan.count, 0);
	signal_plan_free(&f->plan);
	caep_set_free(&f->set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_risc_and_principals, setup, teardown),
	};

	return cmocka_run_group_tests_name("signals/resolve", tests, NULL, NULL);
}
