/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the CLI's verbs share (common.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/common.h"
#include "util/cmdline.h"

int cli_usage_error(const char *verb, const char *fmt, const char *arg)
{
	fprintf(stderr, "actgate: %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'actgate %s --help'.\n", verb);
	return EXIT_USAGE;
}

int cli_option_error(const char *verb, char *const argv[], const char *shortopts,
		     const struct option *longopts)
{
	char prog[96], help[96];

	snprintf(prog, sizeof(prog), "actgate: %s", verb);
	snprintf(help, sizeof(help), "actgate %s", verb);
	cmdline_option_error(prog, help, argv, shortopts, longopts);
	return EXIT_USAGE;
}

int cli_request(const char *cmd, const char *socket_flag, struct json_out *req,
		struct json_msg *reply)
{
	char why[4096];
	int fd, err;

	if (req->error) {
		fprintf(stderr, "actgate: %s: %s\n", cmd, strerror(-req->error));
		return EXIT_FAIL;
	}
	if (client_connect(client_socket_path(socket_flag), &fd, why, sizeof(why))) {
		fprintf(stderr, "actgate: %s: %s\n", cmd, why);
		return EXIT_FAIL;
	}
	err = client_request(fd, req, reply, why, sizeof(why));
	close(fd);
	if (err) {
		/* Multi-line reasons (policy diagnostics) are printed as they are. */
		if (strchr(why, '\n'))
			fprintf(stderr, "%s", why);
		else
			fprintf(stderr, "actgate: %s: %s\n", cmd, why);
		return EXIT_FAIL;
	}
	return 0;
}

int cli_request_verb(const char *cmd, const char *socket_flag, const char *verb,
		     struct json_msg *reply)
{
	struct json_out req;
	int ret;

	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", verb);
	json_object_end(&req);
	ret = cli_request(cmd, socket_flag, &req, reply);
	json_out_free(&req);
	return ret;
}
