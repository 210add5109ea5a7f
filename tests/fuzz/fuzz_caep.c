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
#include "signals/resolve.h"
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
	struct workload_table live = { 0 };
	struct signal_plan plan = { 0 };
	struct caep_set set;
	char buf[1024], why[1024];
	int err = caep_parse("fuzz.json", (const char *)data, size, &set, &diags);

	if (err) {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(set.count == 0 && set.events == NULL);
		CHECK(err == -ENOMEM || error_count(&diags) > 0);
		diag_list_free(&diags);
		return;
	}
	CHECK(error_count(&diags) == 0);
	CHECK(set.count > 0);
	for (size_t i = 0; i < set.count; i++) {
		CHECK(set.events[i].kind < CAEP_EVENT_KINDS);
		caep_subject_describe(&set.events[i].subject, buf, sizeof(buf));
		CHECK(buf[0]);
	}
	/* Resolved against nothing known: refused, or effects that the store would take. */
	err = signal_resolve(&set, NULL, &live, &plan, why, sizeof(why));
	CHECK(err == 0 || err == -ENOENT || err == -EINVAL || err == -ENOMEM);
	for (size_t i = 0; !err && i < plan.count; i++)
		for (size_t k = 0; k < plan.events[i].count; k++) {
			const struct resolved_effect *e = &plan.events[i].effects[k];

			resolved_effect_describe(e, buf, sizeof(buf));
			if (e->kind == RESOLVED_SET_SIGNAL)
				CHECK(signal_check(e->scope, e->subject, e->name, e->value,
						   "caep:fuzz", why, sizeof(why)) == 0);
		}
	signal_plan_free(&plan);
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
