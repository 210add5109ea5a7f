/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the CLI's verbs share: exit statuses, usage errors, a request to actgated. */
#ifndef ACTGATE_CLI_COMMON_H
#define ACTGATE_CLI_COMMON_H

#include <getopt.h>

#include "util/json.h"

/* The exit statuses every verb documents (actgate run has its own: run.h). */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/*
 * Print "actgate: VERB: " fmt (with arg) and a pointer to VERB's --help on
 * stderr; returns EXIT_USAGE.
 */
int cli_usage_error(const char *verb, const char *fmt, const char *arg);

/*
 * The option getopt_long just refused (unknown, or its argument missing):
 * "actgate: VERB: unknown option '--x'" and a pointer to VERB's --help,
 * never the whole usage. shortopts and longopts are the ones getopt_long
 * was given. Returns EXIT_USAGE.
 */
int cli_option_error(const char *verb, char *const argv[], const char *shortopts,
		     const struct option *longopts);

/*
 * Send the request req (a whole object) to actgated's control socket
 * (socket_flag: --socket, or NULL) and read its reply. Returns 0 with reply
 * filled, or EXIT_FAIL after printing why as cmd's error ("actgate: CMD:
 * ..."; multi-line reasons, policy diagnostics, as they are). Free reply
 * either way.
 */
int cli_request(const char *cmd, const char *socket_flag, struct json_out *req,
		struct json_msg *reply);

/* The same for a request that names only a verb: {"verb": verb}. */
int cli_request_verb(const char *cmd, const char *socket_flag, const char *verb,
		     struct json_msg *reply);

#endif /* ACTGATE_CLI_COMMON_H */
