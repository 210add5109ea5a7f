/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for actgated's configuration file (daemon/config.c),
 * which an operator, or whoever can write /etc/actgate, controls.
 *
 *   make fuzz   (or build/fuzz/fuzz_config -max_total_time=60 CORPUS_DIR)
 *
 * Properties checked beyond "no crash, no leak":
 * - a file that parses has no errors, and every setting it gives is one
 *   the matching flag would take (its text, set again through
 *   config_set_flag, gives the same value);
 * - a refused file says why (at least one error);
 * - config_differs finds no difference between a configuration and itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon_config c = { 0 };
	struct diag_list diags = { 0 };
	int err = config_parse_buffer("fuzz.yaml", (const char *)data, size, &c, &diags);

	if (err == 0) {
		CHECK(diags.errors == 0);
		for (int s = 0; s < CONFIG_NR_SETTINGS; s++) {
			struct daemon_config again = { 0 };
			char text[4096], why[512];

			CHECK(!config_differs(&c, &c, (enum config_setting)s));
			if (!(c.given & (1u << s)) || !config_flag((enum config_setting)s))
				continue;
			/* Strings and counts only: a flag's duration is in ms, a list repeats. */
			if (s == CONFIG_FSYNC_INTERVAL || s == CONFIG_WATCH_CGROUPS ||
			    s == CONFIG_VERBOSE)
				continue;
			config_format(&c, (enum config_setting)s, text, sizeof(text));
			CHECK(config_set_flag(&again, (enum config_setting)s, text, why,
					      sizeof(why)) == 0);
			CHECK(!config_differs(&c, &again, (enum config_setting)s));
			daemon_config_free(&again);
		}
	} else {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(err == -ENOMEM || diags.errors > 0);
	}
	{
		FILE *null = fopen("/dev/null", "w");

		if (null) {
			diag_print(&diags, null);
			fclose(null);
		}
	}
	daemon_config_free(&c);
	diag_list_free(&diags);
	return 0;
}
