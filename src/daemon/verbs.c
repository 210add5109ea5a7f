/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/delegation.h"
#include "daemon/generation.h"
#include "daemon/grantctl.h"
#include "daemon/ingest.h"
#include "daemon/peer.h"
#include "daemon/reload.h"
#include "daemon/revocation.h"
#include "daemon/signalctl.h"
#include "daemon/status.h"
#include "daemon/verbs.h"
#include "daemon/workloads.h"

/*
 * A verb's handler takes the daemon, or only the signal state its module
 * keeps (signalctl.h): those modules are driven without a daemon in their
 * unit test. Exactly one of the two is set.
 *
 * Every verb needs the same peer: root or a member of --socket-group,
 * outside every governed workload (peer_check). It is checked once, before
 * the request is even parsed, so a peer that may not ask learns nothing of
 * the protocol; the table has no column for it because no verb differs. A
 * verb open to other peers would add one, and its check would move after
 * the parse.
 */
struct verb {
	const char *name;
	const char *const *keys; /* besides "verb"; NULL: none */
	void (*daemon)(struct daemon *d, int fd, const struct json_msg *msg);
	void (*signals)(struct signalctl *s, int fd, const struct json_msg *msg);
};

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Sorted by name: the list in the unknown-verb reply is made from it. */
static const struct verb verbs[] = {
	{ "grant", KEYS("workload", "action", "target", "ttl_ms", "reason"),
	  .signals = grantctl_verb_grant },
	{ "grant-list", NULL, .signals = grantctl_verb_list },
	{ "grant-remove", KEYS("id"), .signals = grantctl_verb_remove },
	{ "reload", NULL, .daemon = reload_verb },
	{ "revoke", KEYS("workload", "principal", "reason"), .signals = revocation_verb_revoke },
	{ "revoke-clear", KEYS("workload", "principal"), .signals = revocation_verb_clear },
	{ "revoke-list", NULL, .signals = revocation_verb_list },
	{ "run", KEYS("workload", "principal", "labels", "ttl_ms", "policies", "delegation_token"),
	  .daemon = workloads_verb_run },
	{ "signal-clear", KEYS("scope", "subject", "name"), .signals = signalctl_verb_clear },
	{ "signal-ingest", KEYS("token", "dry_run"), .signals = ingest_verb },
	{ "signal-list", NULL, .signals = signalctl_verb_list },
	{ "signal-set", KEYS("scope", "subject", "name", "value", "ttl_ms"),
	  .signals = signalctl_verb_set },
	{ "status", NULL, .daemon = status_verb },
};

#define VERB_COUNT (sizeof(verbs) / sizeof(verbs[0]))

static void reply_unknown_verb(int fd, const char *verb)
{
	char known[512];
	size_t n = 0;

	known[0] = '\0';
	for (size_t i = 0; i < VERB_COUNT && n < sizeof(known); i++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
				      verbs[i].name);
	control_reply_error(fd, "unknown verb \"%s\" (known: %s)", verb, known);
}

void verbs_dispatch(struct daemon *d, int fd, const struct json_msg *msg)
{
	const char *name = json_msg_string(msg, "verb");
	const struct verb *v = NULL;
	char why[256];

	if (!name) {
		control_reply_error(fd, "malformed request: \"verb\" (a string) is required");
		return;
	}
	for (size_t i = 0; i < VERB_COUNT && !v; i++)
		if (!strcmp(verbs[i].name, name))
			v = &verbs[i];
	if (!v) {
		reply_unknown_verb(fd, name);
		return;
	}
	if (control_check_keys(msg, v->keys, why, sizeof(why))) {
		control_reply_error(fd, "malformed request: %s for verb \"%.32s\"", why, name);
		return;
	}
	if (v->daemon)
		v->daemon(d, fd, msg);
	else
		v->signals(&d->signalctl, fd, msg);
}

void verbs_handle_line(struct daemon *d, int fd, const char *line, size_t len)
{
	struct json_msg msg = { 0 };
	char why[512];

	if (peer_check(fd, d->socket_gid, &d->workloads, &d->enforcer, why, sizeof(why))) {
		/* A governed workload's process: run a sub-workload, nothing else (delegation.h). */
		if (!delegation_handle_line(d, fd, line, len))
			return;
		control_reply_error(fd, "%s", why);
		return;
	}
	if (json_msg_parse(line, len, &msg, why, sizeof(why))) {
		control_reply_error(fd, "malformed request: %s", why);
		return;
	}
	verbs_dispatch(d, fd, &msg);
	json_msg_free(&msg);
}
