/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate grant`: time-bound exceptions for a running workload, enforced
 * (expiry included) in the kernel; `actgate revoke`: deny everything a
 * workload or a principal's workloads do, from now on.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/grant.h"
#include "identity/workload.h"
#include "signals/grants.h"
#include "util/duration.h"
#include "util/json.h"

static void grant_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate grant WORKLOAD (--exec PATH | --open PATH | --connect TARGET)\n"
		"                     --ttl DURATION --reason TEXT\n"
		"       actgate grant --list [--json]\n"
		"       actgate grant --remove ID\n"
		"\n"
		"Allow one action the running workload's policy denies, for a time: the expiry\n"
		"is kept in the kernel, so the grant ends on time even when actgated is down.\n"
		"A revoked or expired workload stays denied whatever it was granted.\n"
		"\n"
		"  --exec PATH          executing this file (symlinks followed)\n"
		"  --open PATH          opening this file, any access (one file, not a directory)\n"
		"  --connect TARGET     ADDR, ADDR:PORT, [V6]:PORT (no port: every port), or\n"
		"                       unix:/PATH of a socket\n"
		"  --ttl DURATION       how long it holds (250ms, 90s, 5m, 2h, 1d)\n"
		"  --reason TEXT        why, recorded with the grant (required)\n"
		"  --list               the grants in force (and expired ones not yet dropped)\n"
		"  --remove ID          end grant ID now\n"
		"  --json               --list: one JSON object per grant\n"
		"  --socket PATH        the control socket (default $" SOCKET_ENV
		", else /run/actgate/actgate.sock)\n"
		"  -h, --help           this help\n"
		"\n"
		"Decisions a grant made are recorded with reason grant and rule grant:ID;\n"
		"a denial a grant would have lifted had it not expired, with grant-expired.\n"
		"\n"
		"Exit status: 0 done, 1 refused or actgated unreachable, 2 usage errors.\n");
}

static void revoke_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate revoke WORKLOAD [--reason TEXT]\n"
		"       actgate revoke --principal PRINCIPAL [--reason TEXT]\n"
		"       actgate revoke --clear WORKLOAD | --clear --principal PRINCIPAL\n"
		"       actgate revoke --list [--json]\n"
		"\n"
		"From now on, every exec, open and connect of the workload (every running\n"
		"workload of that name), or of every workload the principal commissioned, and\n"
		"of every process they started, is denied in the kernel with reason revoked,\n"
		"whatever their policies say (audit-mode policies included) and whatever was\n"
		"granted. New workloads of that name or principal are refused. A revocation\n"
		"is saved in actgated's state directory before the command returns, and lasts\n"
		"across restarts and reboots until --clear.\n"
		"\n"
		"  --principal P        revoke the workloads commissioned by P (--delegated-by)\n"
		"  --reason TEXT        why, for the log and `revoke --list`\n"
		"  --clear              end the revocation: new workloads of that name or\n"
		"                       principal may start; those already revoked stay so\n"
		"  --list               the revocations in force\n"
		"  --json               --list: one JSON object per revocation\n"
		"  --socket PATH        the control socket\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: 0 done, 1 refused or actgated unreachable, 2 usage errors.\n");
}

static const char *member(const struct json_member *obj, const char *key)
{
	for (size_t i = 0; i < obj->member_count; i++)
		if (!strcmp(obj->members[i].key, key))
			return obj->members[i].value;
	return NULL;
}

/* Print the reply's objects "PREFIX.N" as a table or JSON lines. */
static void print_list(const struct json_msg *reply, const char *prefix,
		       const char *const *fields, size_t nfields, bool json)
{
	size_t shown = 0, plen = strlen(prefix);

	for (size_t i = 0; i < reply->count; i++) {
		const struct json_member *m = &reply->members[i];

		if (m->type != JSON_MSG_OBJECT || strncmp(m->key, prefix, plen) || m->key[plen] != '.')
			continue;
		if (!shown++ && !json) {
			for (size_t f = 0; f < nfields; f++)
				printf("%s%s", f ? "\t" : "", fields[f]);
			printf("\n");
		}
		if (json) {
			struct json_out out;

			json_out_init(&out);
			json_object_begin(&out);
			for (size_t f = 0; f < nfields; f++)
				json_add_string(&out, fields[f], member(m, fields[f]));
			json_object_end(&out);
			json_out_write_line(&out, stdout);
			json_out_free(&out);
			continue;
		}
		for (size_t f = 0; f < nfields; f++)
			printf("%s%s", f ? "\t" : "", member(m, fields[f]) ?: "-");
		printf("\n");
	}
	if (!shown && !json)
		printf("(none)\n");
}

int cmd_grant(int argc, char **argv)
{
	static const struct option options[] = {
		{ "exec", required_argument, NULL, 'e' },
		{ "open", required_argument, NULL, 'o' },
		{ "connect", required_argument, NULL, 'c' },
		{ "ttl", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'L' },
		{ "remove", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const fields[] = { "id", "workload", "action", "target", "expires_in_ms",
					      "reason" };
	const char *action = NULL, *target = NULL, *reason = NULL, *remove_id = NULL;
	const char *socket_flag = NULL;
	struct json_msg reply = { 0 };
	uint64_t ttl_ns = 0;
	struct json_out req;
	bool list = false, json = false;
	int opt, targets = 0, ret;
	char why[256];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'e':
		case 'o':
		case 'c':
			action = opt == 'e' ? "exec" : opt == 'o' ? "open" : "connect";
			target = optarg;
			targets++;
			break;
		case 't':
			if (duration_parse(optarg, &ttl_ns, why, sizeof(why)))
				return cli_usage_error("grant", "--ttl: %s", why);
			break;
		case 'r':
			reason = optarg;
			break;
		case 'L':
			list = true;
			break;
		case 'R':
			remove_id = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			grant_usage(stdout);
			return 0;
		default:
			return cli_option_error("grant", argv, "h", options);
		}
	}
	if (list || remove_id) {
		if (list && remove_id)
			return cli_usage_error("grant", "%s", "--list and --remove go alone");
		if (targets || ttl_ns || reason || optind != argc)
			return cli_usage_error(
				"grant", "%s",
				"--list and --remove take no workload, target, --ttl or --reason");
	} else {
		if (optind + 1 != argc)
			return cli_usage_error("grant", "%s", "give one WORKLOAD");
		if (workload_name_check(argv[optind], why, sizeof(why)))
			return cli_usage_error("grant", "%s", why);
		if (targets != 1)
			return cli_usage_error("grant", "%s",
					       "give one of --exec, --open and --connect");
		if (!ttl_ns)
			return cli_usage_error("grant", "%s", "--ttl DURATION is required");
		if (ttl_ns < 1000000)
			return cli_usage_error("grant", "%s", "--ttl: at least 1ms");
		if (!reason)
			return cli_usage_error("grant", "%s", "--reason TEXT is required");
		if (grant_reason_check(reason, why, sizeof(why)))
			return cli_usage_error("grant", "--reason: %s", why);
	}
	json_out_init(&req);
	json_object_begin(&req);
	if (list || remove_id) {
		json_add_string(&req, "verb", list ? "grant-list" : "grant-remove");
		if (remove_id)
			json_add_string(&req, "id", remove_id);
	} else {
		json_add_string(&req, "verb", "grant");
		json_add_string(&req, "workload", argv[optind]);
		json_add_string(&req, "action", action);
		json_add_string(&req, "target", target);
		json_add_u64(&req, "ttl_ms", ttl_ns / 1000000);
		json_add_string(&req, "reason", reason);
	}
	json_object_end(&req);
	ret = cli_request("grant", socket_flag, &req, &reply);
	json_out_free(&req);
	if (ret)
		goto out;
	if (list)
		print_list(&reply, "grant", fields, sizeof(fields) / sizeof(fields[0]), json);
	else if (!remove_id)
		printf("grant %s: %s %s for %s ms\n", json_msg_string(&reply, "grants") ?: "?",
		       action, json_msg_string(&reply, "target") ?: target,
		       json_msg_string(&reply, "expires_in_ms") ?: "?");
out:
	json_msg_free(&reply);
	return ret;
}

int cmd_revoke(int argc, char **argv)
{
	static const struct option options[] = {
		{ "principal", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'L' },
		{ "clear", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const fields[] = { "scope", "subject", "reason", "age_ms" };
	const char *principal = NULL, *reason = NULL, *socket_flag = NULL;
	struct json_msg reply = { 0 };
	bool list = false, json = false, clear = false;
	struct json_out req;
	char why[256];
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			principal = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'L':
			list = true;
			break;
		case 'C':
			clear = true;
			break;
		case 'J':
			json = true;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'h':
			revoke_usage(stdout);
			return 0;
		default:
			return cli_option_error("revoke", argv, "h", options);
		}
	}
	if (list) {
		if (principal || reason || clear || optind != argc)
			return cli_usage_error("revoke", "%s", "--list goes alone");
	} else {
		if ((optind < argc) == (principal != NULL) || optind + 1 < argc)
			return cli_usage_error("revoke", "%s",
					       "give one WORKLOAD or --principal P");
		if (principal && workload_principal_check(principal, why, sizeof(why)))
			return cli_usage_error("revoke", "--principal: %s", why);
		if (!principal && workload_name_check(argv[optind], why, sizeof(why)))
			return cli_usage_error("revoke", "%s", why);
		if (clear && reason)
			return cli_usage_error("revoke", "%s", "--clear takes no --reason");
		if (reason && grant_reason_check(reason, why, sizeof(why)))
			return cli_usage_error("revoke", "--reason: %s", why);
	}
	json_out_init(&req);
	json_object_begin(&req);
	if (list) {
		json_add_string(&req, "verb", "revoke-list");
	} else {
		json_add_string(&req, "verb", clear ? "revoke-clear" : "revoke");
		json_add_string(&req, principal ? "principal" : "workload",
				principal ? principal : argv[optind]);
		if (reason)
			json_add_string(&req, "reason", reason);
	}
	json_object_end(&req);
	ret = cli_request("revoke", socket_flag, &req, &reply);
	json_out_free(&req);
	if (ret)
		goto out;
	if (list)
		print_list(&reply, "revocation", fields, sizeof(fields) / sizeof(fields[0]), json);
	else if (clear)
		printf("%s %s: %s\n", principal ? "principal" : "workload",
		       principal ? principal : argv[optind],
		       !strcmp(json_msg_string(&reply, "cleared") ?: "", "true")
			       ? "revocation cleared; new workloads may start"
			       : "was not revoked");
	else
		printf("revoked: %s running workload(s); new ones of %s %s are refused\n",
		       json_msg_string(&reply, "revoked") ?: "?", principal ? "principal" : "workload",
		       principal ? principal : argv[optind]);
out:
	json_msg_free(&reply);
	return ret;
}
