/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate signal`: set, clear and list signals over the control socket, and
 * ingest CAEP events (checked here first, and again by the daemon, which
 * applies a token whole or not at all).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/common.h"
#include "cli/signal.h"
#include "signals/caep.h"
#include "signals/jose.h"
#include "signals/store.h"
#include "util/duration.h"
#include "util/json.h"

static void signal_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate signal set   [SCOPE] NAME=VALUE [--ttl DURATION]\n"
		"       actgate signal clear [SCOPE] NAME\n"
		"       actgate signal list  [--json]\n"
		"       actgate signal ingest [--dry-run] FILE|-\n"
		"\n"
		"Signals are facts that policies' `when:` overlays react to (docs/signals.md).\n"
		"\n"
		"SCOPE (default --host):\n"
		"  --host               every workload of this host\n"
		"  --principal NAME     every workload commissioned by NAME\n"
		"  --workload NAME      one workload\n"
		"\n"
		"Options:\n"
		"  --ttl DURATION       the signal ends after this long (250ms, 90s, 5m, 2h, 1d)\n"
		"  --dry-run            ingest: verify the token and print what each event would\n"
		"                       change now, changing nothing\n"
		"  --json               list: one JSON object per signal\n"
		"  --socket PATH        the control socket (default $" SOCKET_ENV
		", else /run/actgate/actgate.sock)\n"
		"  -h, --help           this help\n"
		"\n"
		"ingest takes a Security Event Token (RFC 8417): a compact JWS, verified by\n"
		"actgated against the keys of its issuer in the trust file (signals_trust), or\n"
		"the unsigned JSON payload (root's word). Its CAEP and RISC events are applied\n"
		"to the principals, workloads or host their subjects name: session-revoked,\n"
		"account-disabled, account-purged and credential-compromise revoke;\n"
		"credential-change, assurance-level-change, risk-level-change and\n"
		"token-claims-change set the signals credential, assurance, risk and\n"
		"claim.NAME; device-compliance-change for this host's device_id sets\n"
		"device-compliance. A subject that names nothing actgate knows refuses the\n"
		"token. Each applied event is journaled (action signal). docs/signals.md.\n"
		"\n"
		"Exit status: 0 done, 1 refused or actgated unreachable, 2 usage errors.\n");
}

struct signal_args {
	const char *socket_flag;
	enum signal_scope scope;
	const char *subject;
	uint64_t ttl_ns;
	bool ttl_given;
	bool dry_run;
	bool json;
};

/* Options shared by the subcommands; which are allowed depends on the subcommand. */
static int parse_options(int argc, char **argv, const char *allowed, struct signal_args *a)
{
	static const struct option options[] = {
		{ "host", no_argument, NULL, 'H' },
		{ "principal", required_argument, NULL, 'p' },
		{ "workload", required_argument, NULL, 'w' },
		{ "ttl", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, scopes = 0;
	char why[256];

	*a = (struct signal_args){ .scope = SIGNAL_HOST };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt != 'h' && opt != '?' && !strchr(allowed, opt)) {
			fprintf(stderr, "actgate: signal %s: %s does not apply here\n", argv[0],
				argv[optind - 1]);
			return EXIT_USAGE;
		}
		switch (opt) {
		case 'H':
			a->scope = SIGNAL_HOST;
			scopes++;
			break;
		case 'p':
		case 'w':
			a->scope = opt == 'p' ? SIGNAL_PRINCIPAL : SIGNAL_WORKLOAD;
			a->subject = optarg;
			scopes++;
			break;
		case 't':
			if (duration_parse(optarg, &a->ttl_ns, why, sizeof(why)))
				return cli_usage_error("signal", "--ttl: %s", why);
			a->ttl_given = true;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'J':
			a->json = true;
			break;
		case 's':
			a->socket_flag = optarg;
			break;
		case 'h':
			signal_usage(stdout);
			return -1;
		default: {
			char verb[64];

			snprintf(verb, sizeof(verb), "signal %s", argv[0]);
			return cli_option_error(verb, argv, "h", options);
		}
		}
	}
	if (scopes > 1)
		return cli_usage_error("signal", "%s",
				       "give one scope: --host, --principal or --workload");
	return 0;
}

static void add_scope(struct json_out *req, const struct signal_args *a)
{
	json_add_string(req, "scope", signal_scope_name(a->scope));
	if (a->subject)
		json_add_string(req, "subject", a->subject);
}

static int cmd_set(int argc, char **argv)
{
	struct json_msg reply = { 0 };
	struct signal_args a;
	struct json_out req;
	char *name, *eq, why[512];
	int ret = parse_options(argc, argv, "Hpwts", &a);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind + 1 != argc)
		return cli_usage_error("signal", "%s", "set takes one NAME=VALUE");
	name = argv[optind];
	eq = strchr(name, '=');
	if (!eq)
		return cli_usage_error("signal", "'%s': expected NAME=VALUE", name);
	*eq = '\0';
	if (signal_check(a.scope, a.subject, name, eq + 1, NULL, why, sizeof(why)))
		return cli_usage_error("signal", "%s", why);
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", "signal-set");
	add_scope(&req, &a);
	json_add_string(&req, "name", name);
	json_add_string(&req, "value", eq + 1);
	if (a.ttl_given)
		json_add_u64(&req, "ttl_ms", a.ttl_ns / 1000000);
	json_object_end(&req);
	ret = cli_request("signal", a.socket_flag, &req, &reply);
	json_out_free(&req);
	json_msg_free(&reply);
	return ret;
}

static int cmd_clear(int argc, char **argv)
{
	struct json_msg reply = { 0 };
	struct signal_args a;
	struct json_out req;
	char why[512];
	int ret = parse_options(argc, argv, "Hpws", &a);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind + 1 != argc)
		return cli_usage_error("signal", "%s", "clear takes one NAME");
	if (signal_check(a.scope, a.subject, argv[optind], NULL, NULL, why, sizeof(why)))
		return cli_usage_error("signal", "%s", why);
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", "signal-clear");
	add_scope(&req, &a);
	json_add_string(&req, "name", argv[optind]);
	json_object_end(&req);
	ret = cli_request("signal", a.socket_flag, &req, &reply);
	json_out_free(&req);
	json_msg_free(&reply);
	return ret;
}

static const char *member(const struct json_member *obj, const char *key)
{
	for (size_t i = 0; i < obj->member_count; i++)
		if (!strcmp(obj->members[i].key, key))
			return obj->members[i].value;
	return NULL;
}

static int cmd_list(int argc, char **argv)
{
	static const char *const fields[] = { "scope", "subject", "name", "value", "expires_in_ms",
					      "source" };
	struct json_msg reply = { 0 };
	struct signal_args a;
	struct json_out req;
	int ret = parse_options(argc, argv, "Js", &a);
	size_t shown = 0;

	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind != argc)
		return cli_usage_error("signal", "unexpected argument '%s'", argv[optind]);
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", "signal-list");
	json_object_end(&req);
	ret = cli_request("signal", a.socket_flag, &req, &reply);
	json_out_free(&req);
	if (ret)
		goto cleanup;
	if (!a.json)
		printf("%-9s %-24s %-20s %-16s %-10s %s\n", "SCOPE", "SUBJECT", "NAME", "VALUE",
		       "EXPIRES", "SOURCE");
	/* The daemon sends each signal as an object "signal.N" of strings. */
	for (size_t i = 0; i < reply.count; i++) {
		const struct json_member *m = &reply.members[i];
		const char *v;

		if (m->type != JSON_MSG_OBJECT || strncmp(m->key, "signal.", 7))
			continue;
		shown++;
		if (a.json) {
			struct json_out out;

			json_out_init(&out);
			json_object_begin(&out);
			for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
				json_add_string(&out, fields[f], member(m, fields[f]));
			json_object_end(&out);
			json_out_write_line(&out, stdout);
			json_out_free(&out);
			continue;
		}
		v = member(m, "expires_in_ms");
		printf("%-9s %-24s %-20s %-16s %-10s %s\n", member(m, "scope") ?: "?",
		       member(m, "subject") ?: "-", member(m, "name") ?: "?",
		       member(m, "value") ?: "?", v ? v : "never", member(m, "source") ?: "");
	}
	if (!a.json && !shown)
		printf("(no signal set)\n");
cleanup:
	json_msg_free(&reply);
	return ret;
}

/*
 * Read all of FILE or standard input ("-"), up to CAEP_TOKEN_MAX and one past
 * (so that the parser can say "too long"). A pipe is fine here (`signal ingest
 * <(producer)`): the operator named it, and reading blocks only this command.
 */
static int read_input(const char *path, char **text, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t cap = 0;
	int err = 0;

	*text = NULL;
	*len = 0;
	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (*len + 4096 + 1 > cap) {
			char *grown = realloc(*text, cap = *len + 65536);

			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			*text = grown;
		}
		n = fread(*text + *len, 1, cap - *len - 1, f);
		*len += n;
		if (n == 0 || *len > CAEP_TOKEN_MAX)
			break;
	}
	(*text)[*len] = '\0';
	/* fread of a directory fails with EISDIR. */
	if (ferror(f))
		err = errno ? -errno : -EIO;
out:
	if (f != stdin)
		fclose(f);
	return err;
}

static const char *reply_or(const struct json_msg *reply, const char *key, const char *dflt)
{
	const char *v = json_msg_string(reply, key);

	return v ? v : dflt;
}

/* The daemon's answer: what each event changed (or would), then the totals. */
static void print_ingest_reply(const struct json_msg *reply, bool dry_run)
{
	const char *v;
	char key[32];

	for (size_t i = 0;; i++) {
		snprintf(key, sizeof(key), "change.%zu", i);
		v = json_msg_string(reply, key);
		if (!v)
			break;
		printf("%s\n", v);
	}
	printf("%s %s token %s from %s", dry_run ? "checked" : "applied",
	       strcmp(reply_or(reply, "signed", "false"), "true") ? "unsigned" : "signed",
	       reply_or(reply, "jti", "?"), reply_or(reply, "issuer", "?"));
	if (dry_run)
		printf(": nothing was changed\n");
	else
		printf(": %s effects, %s workloads revoked\n", reply_or(reply, "effects", "0"),
		       reply_or(reply, "revoked", "0"));
}

static int cmd_ingest(int argc, char **argv)
{
	struct json_msg reply = { 0 };
	struct diag_list diags = { 0 };
	struct caep_set set = { 0 };
	struct signal_args a;
	struct json_out req;
	char *text = NULL;
	const char *name;
	size_t len = 0;
	int ret = parse_options(argc, argv, "ns", &a), err;

	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind + 1 != argc)
		return cli_usage_error("signal", "%s",
				       "ingest takes one FILE (or - for standard input)");
	name = strcmp(argv[optind], "-") ? argv[optind] : "<stdin>";
	err = read_input(argv[optind], &text, &len);
	if (err) {
		fprintf(stderr, "actgate: signal ingest: %s: %s\n", argv[optind], strerror(-err));
		ret = EXIT_FAIL;
		goto cleanup;
	}
	if (len > JSON_MSG_MAX / 2) {
		/* Tokens are a few KiB; the control socket takes 64 KiB a message. */
		fprintf(stderr, "actgate: signal ingest: %s: %zu bytes is too large for one event "
			"token (at most %d)\n", name, len, JSON_MSG_MAX / 2);
		ret = EXIT_FAIL;
		goto cleanup;
	}
	if (memchr(text, '\0', len)) {
		fprintf(stderr, "actgate: signal ingest: %s: a NUL byte: not an event token\n", name);
		ret = EXIT_FAIL;
		goto cleanup;
	}
	/*
	 * Unsigned JSON is read here first for its file:line:col errors. A
	 * signed token is only verified by the daemon, which holds the trust
	 * file: nothing of it is believed before.
	 */
	if (!jose_is_compact(text, len)) {
		err = caep_parse(name, text, len, &set, &diags);
		diag_print(&diags, stderr);
		if (err) {
			ret = EXIT_FAIL;
			goto cleanup;
		}
	}
	/* The daemon resolves the subjects against what runs and applies it whole (or not). */
	json_out_init(&req);
	json_object_begin(&req);
	json_add_string(&req, "verb", "signal-ingest");
	json_add_string(&req, "token", text);
	if (a.dry_run)
		json_add_bool(&req, "dry_run", true);
	json_object_end(&req);
	ret = cli_request("signal", a.socket_flag, &req, &reply);
	json_out_free(&req);
	if (!ret)
		print_ingest_reply(&reply, a.dry_run);

cleanup:
	json_msg_free(&reply);
	caep_set_free(&set);
	diag_list_free(&diags);
	free(text);
	return ret;
}

int cmd_signal(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = { { "set", cmd_set }, { "clear", cmd_clear }, { "list", cmd_list },
		     { "ingest", cmd_ingest } };

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		signal_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cli_usage_error("signal", "unknown subcommand '%s' (known: set, clear, list, ingest)",
			       argv[1]);
}
