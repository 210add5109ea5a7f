/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the policy parser, the first reader of files an
 * operator (or an attacker who can write to the policy directory) controls.
 *
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Iinclude -Isrc tests/fuzz/fuzz_policy.c src/policy.c src/yamltree.c src/diag.c -lyaml \
 *     -o build/fuzz_policy
 *   mkdir -p /tmp/corpus && cp policies/ci-runner.yaml policies/agent-sandbox.yaml /tmp/corpus/
 *   build/fuzz_policy -max_total_time=60 /tmp/corpus
 *
 * Besides "no crash, no leak", it checks the parser's contract: a file
 * either adds policies and no errors, or errors and no policies.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/parse.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_set set = { 0 };
	struct diag_list diags = { 0 };
	int ret;

	ret = policy_parse_buffer("fuzz.yaml", (const char *)data, size, &set, &diags);
	if (ret == 0 && diags.errors)
		abort(); /* success must mean no errors */
	if (ret == -EINVAL && (set.count || !diags.errors))
		abort(); /* a failed file adds nothing and says why */
	if (ret == 0) {
		(void)policy_set_validate(&set, &diags);
		static const struct workload_label labels[] = { { "team", "build" } };
		static const struct signal_value values[] = { { "risk", "high" } };
		struct workload_identity id = { .name = "ci:job-1", .cgroup = "ci.slice/job-1",
						.labels = labels, .label_count = 1 };
		struct signal_view signals = { values, 1 };

		for (size_t i = 0; i < set.count; i++) {
			const struct policy *p = &set.policies[i];

			(void)policy_selects(p, &id);
			(void)policy_overlays_active(p->connect.overlays, p->connect.overlay_count,
						     &signals);
		}
	}
	/* Formatting every message exercises the escaping of hostile text. */
	{
		FILE *null = fopen("/dev/null", "w");

		if (null) {
			diag_print(&diags, null);
			fclose(null);
		}
	}
	policy_set_free(&set);
	diag_list_free(&diags);
	return 0;
}
