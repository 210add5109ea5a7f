/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate status`: what actgated enforces and has recorded, as it says. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/status.h"
#include "util/json.h"
#include "util/paths.h"
#include "util/version.h"

static void status_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate status [--json] [--socket PATH]\n"
		"Ask actgated what it enforces and what it has recorded.\n"
		"\n"
		"  --json          the daemon's reply as one JSON object\n"
		"  --socket PATH   actgated's control socket [$" SOCKET_ENV " or " DEFAULT_SOCKET_PATH
		"]\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 when actgated answered, 1 when it could not be reached, 2 on\n"
		"usage errors.\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_msg reply = { 0 };
	const char *socket_flag = NULL;
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = 1;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			return cli_option_error("status", argv, "s:h", options);
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (cli_request_verb("status", socket_flag, "status", &reply)) {
		json_msg_free(&reply);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < reply.count; i++) {
		const struct json_member *m = &reply.members[i];

		if (json) {
			continue;
		} else if (m->type == JSON_MSG_OBJECT) {
			printf("%s:", m->key);
			for (size_t k = 0; k < m->member_count; k++)
				printf(" %s=%s", m->members[k].key, m->members[k].value);
			printf("\n");
		} else if (strcmp(m->key, "ok") != 0) {
			printf("%s: %s\n", m->key, m->value ? m->value : "null");
		}
	}
	/* The daemon says its version ("version"); a CLI from another build may be talking to it. */
	if (!json)
		printf("cli_version: %s\n", actgate_version());
	if (json) {
		struct json_out out;

		json_out_init(&out);
		json_object_begin(&out);
		for (size_t i = 0; i < reply.count; i++) {
			const struct json_member *m = &reply.members[i];

			if (m->type == JSON_MSG_OBJECT) {
				json_key_object_begin(&out, m->key);
				for (size_t k = 0; k < m->member_count; k++)
					json_add_u64(&out, m->members[k].key,
						     strtoull(m->members[k].value, NULL, 10));
				json_object_end(&out);
			} else if (strcmp(m->key, "ok") == 0) {
				json_add_bool(&out, "ok", true);
			} else if (m->value && m->value[0] && m->value[strspn(m->value, "0123456789")] == '\0') {
				/* digits only: "0.1.0+c2d5256" stays a string */
				json_add_u64(&out, m->key, strtoull(m->value, NULL, 10));
			} else {
				json_add_string(&out, m->key, m->value);
			}
		}
		json_add_string(&out, "cli_version", actgate_version());
		json_object_end(&out);
		json_out_write_line(&out, stdout);
		json_out_free(&out);
	}
	json_msg_free(&reply);
	return 0;
}
