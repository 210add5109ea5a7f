/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * OCSF mapping. An actgate decision is an authorization of one action of a
 * process, so each action maps to the OCSF class of that activity, with the
 * verdict in the class-independent disposition/action fields (OCSF 1.1):
 *
 *   exec    -> Process Activity (1007), activity Launch (1)
 *   open    -> File System Activity (1001), activity Open (14)
 *   connect -> Network Activity (4001), activity Open (1)
 *   tamper  -> Process Activity (1007), activity Other (99)
 *
 * What OCSF has no field for (workload, labels, principal, rule, policy,
 * mode, reason, generations, signals) goes to "unmapped" under the names
 * replay uses, so nothing recorded is lost on the way to the SIEM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include <curl/curl.h>

#include "cli/export.h"
#include "journal/export.h"
#include "journal/source.h"
#include "util/json.h"

struct ocsf_class {
	unsigned class_uid, category_uid, activity_id;
	const char *class_name, *category_name, *activity_name;
};

static const struct ocsf_class ocsf_classes[ACTGATE_NR_ACTIONS] = {
	[ACTGATE_ACTION_EXEC] = { 1007, 1, 1, "Process Activity", "System Activity", "Launch" },
	[ACTGATE_ACTION_OPEN] = { 1001, 1, 14, "File System Activity", "System Activity", "Open" },
	[ACTGATE_ACTION_CONNECT] = { 4001, 4, 1, "Network Activity", "Network Activity", "Open" },
	[ACTGATE_ACTION_TAMPER] = { 1007, 1, 99, "Process Activity", "System Activity", "Other" },
};

/* "raw:ipv4/icmp", "packet:raw/0x0003": the creation of a socket, not a destination. */
static bool is_socket_target(const char *target)
{
	return !strncmp(target, "raw:", 4) || !strncmp(target, "packet:", 7);
}

/* "1.2.3.4:443/tcp" or "[::1]:80/udp" into ip, port and protocol; false if not that shape. */
static bool split_endpoint(const char *target, char *ip, size_t ip_size, unsigned *port,
			   char *proto, size_t proto_size)
{
	const char *slash = strrchr(target, '/'), *colon, *host = target, *host_end;

	if (!slash || !strncmp(target, "unix:", 5))
		return false;
	colon = slash;
	while (colon > target && colon[-1] != ':')
		colon--;
	if (colon == target)
		return false;
	host_end = colon - 1;
	if (*host == '[' && host_end > host && host_end[-1] == ']') {
		host++;
		host_end--;
	}
	if ((size_t)(host_end - host) >= ip_size || (size_t)strlen(slash + 1) >= proto_size)
		return false;
	memcpy(ip, host, (size_t)(host_end - host));
	ip[host_end - host] = '\0';
	*port = (unsigned)strtoul(colon, NULL, 10);
	snprintf(proto, proto_size, "%s", slash + 1);
	return true;
}

static void add_ocsf(struct json_out *j, const struct journal_record *rec)
{
	const struct ocsf_class *c = &ocsf_classes[rec->action < ACTGATE_NR_ACTIONS ? rec->action : 0];
	bool denied = rec->verdict == ACTGATE_VERDICT_DENY;
	bool enforced = rec->mode == ACTGATE_MODE_ENFORCE;
	char comm[ACTGATE_COMM_LEN + 1], access[ACCESS_NAMES_SIZE], ip[64], proto[16], uid[16];
	unsigned port;

	if (!c->class_uid)
		c = &ocsf_classes[ACTGATE_ACTION_TAMPER];
	snprintf(comm, sizeof(comm), "%s", rec->comm);
	snprintf(uid, sizeof(uid), "%u", rec->uid);
	json_add_u64(j, "class_uid", c->class_uid);
	json_add_string(j, "class_name", c->class_name);
	json_add_u64(j, "category_uid", c->category_uid);
	json_add_string(j, "category_name", c->category_name);
	json_add_u64(j, "activity_id", c->activity_id);
	json_add_string(j, "activity_name", c->activity_name);
	json_add_u64(j, "type_uid", (uint64_t)c->class_uid * 100 + c->activity_id);
	json_add_u64(j, "time", rec->time_ns / 1000000);
	/* A denial the policy enforced is worth a look; one it only audited more so. */
	json_add_u64(j, "severity_id", !denied ? 1 : enforced ? 3 : 4);
	json_add_string(j, "severity", !denied ? "Informational" : enforced ? "Medium" : "High");
	/* action: what the policy decided; disposition: what happened (audit lets it through). */
	json_add_u64(j, "action_id", denied ? 2 : 1);
	json_add_string(j, "action", denied ? "Denied" : "Allowed");
	json_add_u64(j, "disposition_id", denied && enforced ? 2 : 1);
	json_add_string(j, "disposition", denied && enforced ? "Blocked" : "Allowed");
	json_add_u64(j, "status_id", denied && enforced ? 2 : 1);
	json_add_string(j, "status", denied && enforced ? "Failure" : "Success");
	json_key_object_begin(j, "metadata");
	json_add_string(j, "version", EXPORT_OCSF_VERSION);
	json_key_object_begin(j, "product");
	json_add_string(j, "name", "actgate");
	json_add_string(j, "vendor_name", "actgate");
	json_object_end(j);
	json_object_end(j);
	json_key_object_begin(j, "actor");
	json_key_object_begin(j, "process");
	json_add_u64(j, "pid", rec->tgid);
	json_add_u64(j, "tid", rec->pid);
	json_add_string(j, "name", comm);
	json_key_object_begin(j, "user");
	json_add_string(j, "uid", uid); /* OCSF's user uid is a string */
	json_object_end(j);
	json_object_end(j);
	json_object_end(j);
	switch (rec->action) {
	case ACTGATE_ACTION_EXEC:
		json_key_object_begin(j, "process");
		json_key_object_begin(j, "file");
		json_add_string(j, "path", or_empty(rec->target));
		json_object_end(j);
		json_key_object_begin(j, "parent_process");
		json_add_u64(j, "pid", rec->ppid);
		json_object_end(j);
		json_object_end(j);
		break;
	case ACTGATE_ACTION_OPEN:
		json_key_object_begin(j, "file");
		json_add_string(j, "path", or_empty(rec->target));
		json_object_end(j);
		break;
	case ACTGATE_ACTION_CONNECT:
		/* A raw or packet socket created: no destination, the message says which. */
		if (is_socket_target(or_empty(rec->target)))
			break;
		json_key_object_begin(j, "dst_endpoint");
		if (split_endpoint(or_empty(rec->target), ip, sizeof(ip), &port, proto,
				   sizeof(proto))) {
			json_add_string(j, "ip", ip);
			json_add_u64(j, "port", port);
		} else {
			json_add_string(j, "path", or_empty(rec->target));
		}
		json_object_end(j);
		if (split_endpoint(or_empty(rec->target), ip, sizeof(ip), &port, proto,
				   sizeof(proto))) {
			json_key_object_begin(j, "connection_info");
			json_add_string(j, "protocol_name", proto);
			json_object_end(j);
		}
		break;
	default:
		break;
	}
	json_add_string(j, "message", or_empty(rec->target));
	json_key_object_begin(j, "unmapped");
	json_add_string(j, "workload", or_empty(rec->workload));
	json_add_u64(j, "workload_id", rec->workload_id);
	json_add_u64(j, "cgroup", rec->cgroup_id);
	json_add_u64(j, "uid", rec->uid);
	json_add_string(j, "principal", or_empty(rec->principal));
	json_add_string(j, "labels", or_empty(rec->labels));
	json_add_string(j, "rule", or_empty(rec->rule));
	json_add_string(j, "policy", or_empty(rec->policy));
	json_add_string(j, "mode", mode_name(rec->mode));
	json_add_string(j, "reason", reason_name(rec->reason));
	if (access_names(rec->access, access, sizeof(access)))
		access[0] = '\0';
	json_add_string(j, "access", access);
	json_add_u64(j, "generation", rec->generation);
	if (rec->signals) {
		json_add_u64(j, "signal_generation", rec->signal_generation);
		json_add_string(j, "signals", rec->signals);
	}
	json_object_end(j);
}

int export_run(const struct replay_options *o, enum export_format format, FILE *out, FILE *err)
{
	struct jsource_options so = { .err = err, .prefix = "actgate: export", .prefilter = o->filter };
	struct jsource *src = NULL;
	struct journal_record rec;
	struct json_out j;
	int ret;

	if (format == EXPORT_JSONL)
		return replay_execute(&(struct replay_options){ .paths = o->paths,
								 .n_paths = o->n_paths,
								 .filter = o->filter,
								 .output = REPLAY_JSON },
				      out, err);
	json_out_init(&j);
	ret = jsource_open(&src, o->paths, o->n_paths, &so);
	if (ret)
		goto out;
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(o->filter, &rec))
			continue;
		json_out_reset(&j);
		json_object_begin(&j);
		add_ocsf(&j, &rec);
		json_object_end(&j);
		ret = json_out_write_line(&j, out);
		if (ret)
			goto write_failed;
	}
	if (ret < 0)
		goto out; /* reported by the source */
	if (fflush(out) == EOF) {
		ret = errno ? -errno : -EIO;
		goto write_failed;
	}
	goto out;
write_failed:
	fprintf(err, "actgate: export: writing the output: %s\n", strerror(-ret));
out:
	jsource_close(src);
	json_out_free(&j);
	return ret;
}

int export_stream_option(struct export_stream_options *o, int which, const char *arg)
{
	static const char *const names[] = { "--batch", "--queue", "--overflow" };
	unsigned long v;
	char *end;

	if (which == 2) {
		o->overflow_given = true;
		if (!strcmp(arg, "block") || !strcmp(arg, "drop")) {
			o->drop = !strcmp(arg, "drop");
			return 0;
		}
		fprintf(stderr, "actgate: export: --overflow %s: expected block or drop\n"
			"Try 'actgate export --help'.\n", arg);
		return 2;
	}
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] < '1' || arg[0] > '9' || v > 1000000) {
		fprintf(stderr, "actgate: export: %s %s: expected a count from 1 to 1000000\n"
			"Try 'actgate export --help'.\n", names[which], arg);
		return 2;
	}
	if (which == 0)
		o->batch = v;
	else
		o->queue = v;
	return 0;
}

static volatile int stream_stop;

static void on_stream_stop(int sig)
{
	(void)sig;
	stream_stop = 1;
}

int export_stream(const struct export_stream_options *o, FILE *err)
{
	struct sigaction sa = { .sa_handler = on_stream_stop };
	struct jexport_config c;

	jexport_config_init(&c);
	c.journal_dir = o->journal_dir;
	c.cursor_path = o->cursor;
	c.sink = o->sink;
	c.format = o->format == EXPORT_OCSF ? JEXPORT_OCSF : JEXPORT_JSONL;
	c.follow = o->follow;
	if (o->batch)
		c.batch_max = o->batch;
	if (o->queue)
		c.queue_max = o->queue;
	if (c.queue_max < c.batch_max)
		c.queue_max = c.batch_max;
	c.overflow = o->drop ? JEXPORT_OVERFLOW_DROP : JEXPORT_OVERFLOW_BLOCK;
	c.stop = &stream_stop;
	c.err = err;
	/* No SA_RESTART: the follower's naps return, and it ends after one last send. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return jexport_run(&c);
}
