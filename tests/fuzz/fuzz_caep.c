/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for CAEP event tokens (`actgate signal ingest`, the
 * spool directory) and for durations (--ttl): both come from outside.
 *
 *   make fuzz   (or build/fuzz/fuzz_caep -max_total_time=60 CORPUS_DIR)
 *
 * Properties checked beyond "no crash":
 * - a refused token comes with at least one error and leaves no effects;
 * - every effect of an accepted token is one the signal store would take
 *   (signal_check), names a subject, and can be described;
 * - a duration that parses is within (0, DURATION_MAX_NS], and its printed
 *   form parses back to the same value; a refusal says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals/caep.h"
#include "signals/store.h"
#include "util/diag.h"
#include "util/duration.h"
#include "fuzz_check.h"

static size_t error_count(const struct diag_list *diags)
{
	size_t n = 0;

	for (size_t i = 0; i < diags->count; i++)
		n += diags->items[i].severity == DIAG_ERROR;
	return n;
}

static void check_caep(const uint8_t *data, size_t size)
{
	struct diag_list diags = { 0 };
	struct caep_set set;
	char buf[1024], why[256];
	int err = caep_parse("fuzz.json", (const char *)data, size, &set, &diags);

	if (err) {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(set.count == 0 && set.effects == NULL);
		CHECK(err == -ENOMEM || error_count(&diags) > 0);
		diag_list_free(&diags);
		return;
	}
	CHECK(error_count(&diags) == 0);
	CHECK(set.count > 0);
	for (size_t i = 0; i < set.count; i++) {
		const struct caep_effect *e = &set.effects[i];

		CHECK(e->kind == CAEP_SET_SIGNAL || e->kind == CAEP_REVOKE);
		CHECK(e->scope == SIGNAL_PRINCIPAL || e->scope == SIGNAL_WORKLOAD);
		CHECK(e->subject && e->subject[0]);
		CHECK(caep_effect_describe(e, buf, sizeof(buf)) > 0);
		if (e->kind == CAEP_SET_SIGNAL)
			CHECK(signal_check(e->scope, e->subject, e->name, e->value, "caep:fuzz", why,
					   sizeof(why)) == 0);
	}
	caep_set_free(&set);
	diag_list_free(&diags);
}

static void check_duration(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size < 64 ? size : 64);
	char why[256], printed[64];
	uint64_t ns = 0, again = 0;

	if (!text)
		return;
	why[0] = '\0';
	if (duration_parse(text, &ns, why, sizeof(why)) == 0) {
		CHECK(ns > 0 && ns <= DURATION_MAX_NS);
		duration_format(ns, printed, sizeof(printed));
		CHECK(duration_parse(printed, &again, why, sizeof(why)) == 0);
		CHECK(again == ns);
	} else {
		CHECK(why[0] != '\0');
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_caep(data, size);
	check_duration(data, size);
	return 0;
}
