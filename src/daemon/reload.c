/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/generation.h"
#include "daemon/notify.h"
#include "daemon/ownfiles.h"
#include "daemon/peer.h"
#include "daemon/reload.h"
#include "daemon/spool.h"
#include "daemon/status.h"
#include "util/log.h"

/* A line for the log (at severity) and for the client's report. */
static void say(FILE *report, const char *severity, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(FILE *report, const char *severity, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_line(severity, "config", "%s", text);
	if (report)
		fprintf(report, "actgated: config: %s%s%s\n", severity ? severity : "",
			severity ? ": " : "", text);
}

/* Name every changed setting a running daemon cannot take; they wait for a restart. */
static void name_restart_settings(const struct daemon *d, const struct daemon_config *next,
				  FILE *report)
{
	for (int s = 0; s < CONFIG_NR_SETTINGS; s++) {
		char running[256], wanted[256];

		if (config_live((enum config_setting)s) ||
		    !config_differs(d->settings, next, (enum config_setting)s))
			continue;
		config_format(d->settings, (enum config_setting)s, running, sizeof(running));
		config_format(next, (enum config_setting)s, wanted, sizeof(wanted));
		say(report, "warning", "%s changed (running: %s; now: %s): it takes a restart "
				       "(systemctl restart actgated); the running value stays",
		    config_key((enum config_setting)s), running, wanted);
	}
	if (resolver_config_differs(&d->settings->resolver, &next->resolver))
		say(report, "warning", "resolver changed: it takes a restart (systemctl restart "
				       "actgated); the running resolver stays");
}

/*
 * Apply the live settings other than the policy directory, which are
 * checked before the policy is: the socket's group (its file's group and
 * the peer check), the spool directory.
 */
static void apply_live(struct daemon *d, struct daemon_config *next, gid_t gid, FILE *report)
{
	char running[256], wanted[256];

	if (config_differs(d->settings, next, CONFIG_SOCKET_GROUP)) {
		config_format(d->settings, CONFIG_SOCKET_GROUP, running, sizeof(running));
		config_format(next, CONFIG_SOCKET_GROUP, wanted, sizeof(wanted));
		if (chown(d->settings->socket_path, 0, gid) < 0) {
			say(report, "error", "socket_group %s: cannot change the group of %s: %s; "
					     "the socket stays root:%u",
			    wanted, d->settings->socket_path, strerror(errno), (unsigned)d->socket_gid);
		} else {
			d->socket_gid = gid;
			config_take(d->settings, next, CONFIG_SOCKET_GROUP);
			say(report, NULL, "socket_group: %s, was %s", wanted, running);
		}
	}
	if (config_differs(d->settings, next, CONFIG_SPOOL_DIR)) {
		struct spool sp;

		config_format(d->settings, CONFIG_SPOOL_DIR, running, sizeof(running));
		config_format(next, CONFIG_SPOOL_DIR, wanted, sizeof(wanted));
		if (spool_init(&sp, next->spool_dir) == 0) { /* logs its failure */
			d->spool = sp;
			config_take(d->settings, next, CONFIG_SPOOL_DIR);
			say(report, NULL, "spool_dir: %s, was %s", wanted, running);
		} else {
			say(report, "error", "spool_dir %s: not applied; the spool stays %s", wanted,
			    running);
		}
	}
}

int reload_run(struct daemon *d, char **report)
{
	struct daemon_config next = { 0 };
	struct diag_list diags = { 0 };
	const char *path = d->config_source->path ? d->config_source->path : "(no file)";
	const char *running_dir = d->settings->policy_dir;
	char *policy_report = NULL, status[256];
	size_t report_len = 0;
	gid_t gid = d->socket_gid;
	FILE *mem;
	int err;

	*report = NULL;
	notify_reloading();
	mem = open_memstream(report, &report_len);
	err = config_resolve(d->config_source, &next, &diags);
	log_diags(&diags);
	if (mem)
		diag_print(&diags, mem);
	if (err) {
		say(mem, "error", "%s: the configuration has errors: nothing reloaded; the running "
				  "settings and policy stay", path);
		goto out;
	}
	name_restart_settings(d, &next, mem);
	if (config_differs(d->settings, &next, CONFIG_SOCKET_GROUP) && next.socket_group) {
		char why[256];

		err = peer_group_resolve(next.socket_group, &gid, why, sizeof(why));
		if (err) {
			say(mem, "error", "socket_group %s: %s: nothing reloaded", next.socket_group,
			    why);
			goto out;
		}
	} else if (!next.socket_group) {
		gid = 0;
	}
	/* The policy directory is the generation's: it changes only with a policy that loads. */
	d->settings->policy_dir = next.policy_dir;
	err = generation_reload(d, &policy_report);
	if (mem && policy_report)
		fputs(policy_report, mem);
	free(policy_report);
	if (err) {
		d->settings->policy_dir = running_dir;
		goto out;
	}
	next.policy_dir = running_dir; /* freed with next */
	if (strcmp(running_dir, d->settings->policy_dir)) {
		say(mem, NULL, "policy_dir: %s, was %s", d->settings->policy_dir, running_dir);
		/* The new directory is actgate's own from now on: guard it as at start. */
		if (ownfiles_protect(d) < 0)
			say(mem, "error", "policy_dir %s: governed workloads may still change it: "
					  "self-protection could not be extended (see the log)",
			    d->settings->policy_dir);
	}
	apply_live(d, &next, gid, mem);
out:
	if (mem)
		fclose(mem);
	daemon_config_free(&next);
	diag_list_free(&diags);
	status_line(d, status, sizeof(status));
	notify_ready(status);
	return err;
}

void reload_verb(struct daemon *d, int fd, const struct json_msg *msg)
{
	char *report = NULL;
	struct json_out j;
	int err;

	(void)msg;
	err = reload_run(d, &report);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", err == 0);
	if (err)
		json_add_string(&j, "error", report && report[0] ? report : strerror(-err));
	else
		json_add_string(&j, "diagnostics", report ? report : "");
	json_add_u64(&j, "generation", d->current.image.generation);
	json_add_u64(&j, "policies", d->current.set.count);
	control_reply_send(fd, &j);
	free(report);
}
