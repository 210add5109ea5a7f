/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate reload`: ask actgated to read its configuration and policy
 * directory again, wait for the outcome and say it in the exit status, so
 * that systemd's ExecReload= (and an operator) learns when a policy was
 * refused, which `kill -HUP` never tells.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/reload.h"
#include "util/cmdline.h"
#include "util/duration.h"
#include "util/json.h"
#include "util/paths.h"

#define DEFAULT_TIMEOUT "90s"

static void reload_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate reload [--timeout DURATION] [--socket PATH]\n"
		"Ask actgated to reload: its configuration file is read again (settings that\n"
		"can change live are applied, the others are named as needing a restart) and\n"
		"its policy directory is loaded as a new generation, in force for every\n"
		"workload at once. Waits for the outcome: when the configuration or a policy\n"
		"is refused, the running ones stay and the errors are printed\n"
		"(file:line:col: ...). Meant for systemd's ExecReload=.\n"
		"\n"
		"  --timeout DURATION  how long to wait for the outcome (90s, 5m, ...) [" DEFAULT_TIMEOUT "]\n"
		"  --socket PATH       actgated's control socket [$" SOCKET_ENV " or " DEFAULT_SOCKET_PATH
		"]\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 when the new configuration and policy are in force, 1 when\n"
		"either was refused (nothing changed), actgated could not be reached or did not\n"
		"answer in time, 2 on usage errors.\n");
}

int cmd_reload(int argc, char **argv)
{
	static const char shortopts[] = "h";
	static const struct option options[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_msg reply = { 0 };
	const char *socket_flag = NULL, *timeout_text = DEFAULT_TIMEOUT, *diagnostics;
	char why[65536];
	struct json_out req;
	struct timeval tv;
	uint64_t timeout_ns;
	int opt, fd, err;

	while ((opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		switch (opt) {
		case 't':
			timeout_text = optarg;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			reload_usage(stdout);
			return 0;
		default:
			return cli_option_error("reload", argv, shortopts, options);
		}
	}
	if (optind < argc)
		return cli_usage_error("reload", "unexpected argument '%s'", argv[optind]);
	if (duration_parse(timeout_text, &timeout_ns, why, sizeof(why))) {
		fprintf(stderr, "actgate: reload: --timeout %s: %s\nTry 'actgate reload --help'.\n",
			timeout_text, why);
		return EXIT_USAGE;
	}
	if (client_connect(client_socket_path(socket_flag), &fd, why, sizeof(why))) {
		fprintf(stderr, "actgate: reload: %s\n", why);
		return EXIT_FAIL;
	}
	tv.tv_sec = (time_t)(timeout_ns / 1000000000ull);
	tv.tv_usec = (suseconds_t)(timeout_ns % 1000000000ull / 1000);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", "reload");
	json_object_end(&req);
	err = client_request(fd, &req, &reply, why, sizeof(why));
	json_out_free(&req);
	close(fd);
	if (err == -EAGAIN || err == -EWOULDBLOCK) {
		fprintf(stderr, "actgate: reload: no answer from actgated within %s: the outcome is "
				"unknown (see its log)\n", timeout_text);
		json_msg_free(&reply);
		return EXIT_FAIL;
	}
	if (err) {
		/* The daemon's diagnostics are whole lines already. */
		if (strchr(why, '\n'))
			fprintf(stderr, "%s", why);
		else
			fprintf(stderr, "actgate: reload: %s\n", why);
		if (err == -EREMOTEIO)
			fprintf(stderr, "actgate: reload: refused; generation %s stays in force\n",
				json_msg_string(&reply, "generation") ?: "?");
		json_msg_free(&reply);
		return EXIT_FAIL;
	}
	diagnostics = json_msg_string(&reply, "diagnostics");
	if (diagnostics)
		fprintf(stderr, "%s", diagnostics);
	printf("actgate: reload: generation %s: %s policies in force\n",
	       json_msg_string(&reply, "generation"), json_msg_string(&reply, "policies"));
	json_msg_free(&reply);
	return 0;
}
