/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Journal records as OCSF 1.1.0 events. A decision is the authorization of
 * one action of a process, so each action becomes the OCSF class of that
 * activity, with the verdict in the security_control profile's fields; what
 * has no activity class of its own (an attempt on actgate, a gap) is a
 * Detection Finding. docs/journal-format.md ("OCSF") is the table and the
 * reasons; this file and that table change together.
 *
 * What OCSF has no attribute for goes to `unmapped` under the names replay
 * uses, so nothing recorded is lost on the way to the SIEM; an attribute
 * OCSF has but actgate does not know (a command line, a DNS server) is left
 * out, never invented.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "journal/ocsf.h"
#include "util/version.h"

struct jocsf_class {
	unsigned uid;
	const char *name;
	unsigned category_uid;
	const char *category;
};

static const struct jocsf_class class_file = { 1001, "File System Activity", 1, "System Activity" };
static const struct jocsf_class class_process = { 1007, "Process Activity", 1, "System Activity" };
static const struct jocsf_class class_finding = { 2004, "Detection Finding", 2, "Findings" };
static const struct jocsf_class class_entity = { 3004, "Entity Management", 3,
						 "Identity & Access Management" };
static const struct jocsf_class class_network = { 4001, "Network Activity", 4, "Network Activity" };
static const struct jocsf_class class_dns = { 4003, "DNS Activity", 4, "Network Activity" };
static const struct jocsf_class class_base = { 0, "Base Event", 0, "Uncategorized" };

/* ---- the host ---- */

/* The first line of path, without its newline, into buf: 0, -ENOENT, -errno, -EINVAL (too long). */
static int read_line(const char *path, char *buf, size_t size)
{
	char tmp[128];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	n = read(fd, tmp, sizeof(tmp) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	tmp[n] = '\0';
	tmp[strcspn(tmp, "\n")] = '\0';
	if (strlen(tmp) >= size)
		return -EINVAL;
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

static bool all_of(const char *s, size_t len, const char *set)
{
	return strlen(s) == len && strspn(s, set) == len;
}

static bool is_uuid(const char *s)
{
	static const size_t dash[] = { 8, 13, 18, 23 };

	if (strlen(s) != 36)
		return false;
	for (size_t i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!strchr("0123456789abcdef", s[i]) || !s[i]) {
			return false;
		}
	}
	return true;
}

int jocsf_host_read(struct jocsf_host *host, char *why, size_t why_size)
{
	static const char machine_id_path[] = "/etc/machine-id";
	static const char boot_id_path[] = "/proc/sys/kernel/random/boot_id";
	struct utsname u;
	int ret;

	memset(host, 0, sizeof(*host));
	if (gethostname(host->hostname, sizeof(host->hostname) - 1) || !host->hostname[0])
		snprintf(host->hostname, sizeof(host->hostname), "localhost");
	if (uname(&u) == 0) {
		snprintf(host->os_name, sizeof(host->os_name), "%s", u.sysname);
		snprintf(host->os_release, sizeof(host->os_release), "%s", u.release);
	}
	ret = read_line(machine_id_path, host->machine_id, sizeof(host->machine_id));
	if (ret == -ENOENT) {
		host->machine_id[0] = '\0';
	} else if (ret || !all_of(host->machine_id, 32, "0123456789abcdef")) {
		snprintf(why, why_size, "%s: %s", machine_id_path,
			 ret && ret != -EINVAL ? strerror(-ret) : "not a machine id (32 hex digits)");
		return ret && ret != -EINVAL ? ret : -EINVAL;
	}
	ret = read_line(boot_id_path, host->boot_id, sizeof(host->boot_id));
	if (ret == -ENOENT) {
		host->boot_id[0] = '\0';
	} else if (ret || !is_uuid(host->boot_id)) {
		snprintf(why, why_size, "%s: %s", boot_id_path,
			 ret && ret != -EINVAL ? strerror(-ret) : "not a boot id (a UUID)");
		return ret && ret != -EINVAL ? ret : -EINVAL;
	}
	return 0;
}

/* ---- pieces every event has ---- */

static void add_id(struct json_out *j, const char *id_key, unsigned id, const char *name_key,
		   const char *name)
{
	json_add_u64(j, id_key, id);
	json_add_string(j, name_key, name);
}

static void add_class(struct json_out *j, const struct jocsf_class *c, unsigned activity_id,
		      const char *activity, uint64_t time_ns)
{
	char type_name[128];

	add_id(j, "class_uid", c->uid, "class_name", c->name);
	add_id(j, "category_uid", c->category_uid, "category_name", c->category);
	add_id(j, "activity_id", activity_id, "activity_name", activity);
	json_add_u64(j, "type_uid", (uint64_t)c->uid * 100 + activity_id);
	snprintf(type_name, sizeof(type_name), "%s: %s", c->name, activity);
	json_add_string(j, "type_name", type_name);
	json_add_u64(j, "time", time_ns / 1000000);
	json_add_i64(j, "timezone_offset", 0); /* the journal's times are UTC */
}

/* "2026-12-04T08:56:19.123456789Z": the record's own time, to the nanosecond. */
static void format_time(uint64_t time_ns, char *buf, size_t size)
{
	time_t secs = (time_t)(time_ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "%llu", (unsigned long long)time_ns);
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(time_ns % 1000000000));
}

/*
 * product: the event's source, the actgated that journaled it (its segment
 * header's writer version). A record from a segment too old to say (store
 * format 2), or a gap the caller gave no writer for, gets the exporting
 * binary's version instead; unmapped.product_version_from says which
 * ("journal" or "exporter"), so the two are never confused.
 */
static void add_product(struct json_out *j, const char *writer)
{
	json_key_object_begin(j, "product");
	json_add_string(j, "name", "actgate");
	json_add_string(j, "vendor_name", "actgate");
	json_add_string(j, "version", writer && writer[0] ? writer : actgate_version());
	json_object_end(j);
}

static const char *version_from(const char *writer)
{
	return writer && writer[0] ? "journal" : "exporter";
}

/* The profiles applied: host (device, actor) always; security_control where the verdict is. */
static void add_metadata(struct json_out *j, uint64_t time_ns, const char *writer,
			 bool security_control)
{
	char when[48];

	json_key_object_begin(j, "metadata");
	json_add_string(j, "version", JOCSF_VERSION);
	add_product(j, writer);
	json_key_array_begin(j, "profiles");
	json_array_add_string(j, "host");
	if (security_control)
		json_array_add_string(j, "security_control");
	json_array_end(j);
	json_add_string(j, "log_name", "journal");
	json_add_string(j, "log_provider", "actgated");
	format_time(time_ns, when, sizeof(when));
	json_add_string(j, "original_time", when);
	json_object_end(j);
}

/*
 * device: the host. Its type (server, desktop, virtual, ...) is not
 * something actgate knows, so type_id is 0 Unknown. OCSF 1.1 has no
 * attribute for the boot id: it is unmapped.boot_id.
 */
static void add_device(struct json_out *j, const struct jocsf_host *host)
{
	json_key_object_begin(j, "device");
	add_id(j, "type_id", 0, "type", "Unknown");
	json_add_string(j, "hostname", host->hostname);
	json_add_string(j, "name", host->hostname);
	if (host->machine_id[0])
		json_add_string(j, "uid", host->machine_id);
	if (host->os_name[0]) {
		json_key_object_begin(j, "os");
		json_add_string(j, "name", host->os_name);
		if (!strcmp(host->os_name, "Linux"))
			add_id(j, "type_id", 200, "type", "Linux");
		else
			add_id(j, "type_id", 99, "type", "Other");
		if (host->os_release[0])
			json_add_string(j, "version", host->os_release);
		json_object_end(j);
	}
	json_object_end(j);
}

/* An endpoint naming this host: src_endpoint of what it sends (no address is recorded). */
static void add_local_endpoint(struct json_out *j, const char *key, const struct jocsf_host *host)
{
	json_key_object_begin(j, key);
	json_add_string(j, "hostname", host->hostname);
	if (host->machine_id[0])
		json_add_string(j, "uid", host->machine_id);
	json_object_end(j);
}

/* user: the uid as a string (OCSF's), and its kind by Debian's uid ranges (base-passwd). */
static void add_user(struct json_out *j, const char *key, uint32_t uid)
{
	char text[16];

	snprintf(text, sizeof(text), "%u", uid);
	json_key_object_begin(j, key);
	json_add_string(j, "uid", text);
	if (uid == 0)
		add_id(j, "type_id", 2, "type", "Admin");
	else if (uid < 1000)
		add_id(j, "type_id", 3, "type", "System");
	else
		add_id(j, "type_id", 1, "type", "User");
	json_object_end(j);
}

/* The task that acted: actor.process (pid = tgid, tid = the thread), its user and parent. */
static void add_actor_process(struct json_out *j, const struct journal_record *rec)
{
	char comm[sizeof(rec->comm)];

	snprintf(comm, sizeof(comm), "%s", rec->comm);
	json_key_object_begin(j, "process");
	json_add_u64(j, "pid", rec->tgid);
	json_add_u64(j, "tid", rec->pid);
	if (comm[0])
		json_add_string(j, "name", comm);
	add_user(j, "user", rec->uid);
	if (rec->ppid) {
		json_key_object_begin(j, "parent_process");
		json_add_u64(j, "pid", rec->ppid);
		json_object_end(j);
	}
	json_object_end(j);
}

static void add_actor(struct json_out *j, const struct journal_record *rec, const char *invoked_by)
{
	bool process = rec->tgid != 0;

	if (!process && !(invoked_by && invoked_by[0]))
		return; /* the daemon's own doing: no actor to name */
	json_key_object_begin(j, "actor");
	if (process) {
		add_actor_process(j, rec);
		add_user(j, "user", rec->uid);
	}
	if (invoked_by && invoked_by[0])
		json_add_string(j, "invoked_by", invoked_by);
	json_object_end(j);
}

static bool blocked(const struct journal_record *rec)
{
	return rec->verdict == ACTGATE_VERDICT_DENY && rec->mode == ACTGATE_MODE_ENFORCE;
}

/*
 * The security_control profile: action is what the control did, disposition
 * the outcome. An audit-mode deny let the action happen: Allowed, with the
 * disposition Detected ("no further action was taken"); the policy's own
 * verdict is in authorizations[].decision and unmapped.verdict.
 */
static void add_security_control(struct json_out *j, const struct journal_record *rec)
{
	bool deny = rec->verdict == ACTGATE_VERDICT_DENY;

	if (blocked(rec)) {
		add_id(j, "action_id", 2, "action", "Denied");
		add_id(j, "disposition_id", 2, "disposition", "Blocked");
	} else if (deny) {
		add_id(j, "action_id", 1, "action", "Allowed");
		add_id(j, "disposition_id", 15, "disposition", "Detected");
	} else {
		add_id(j, "action_id", 1, "action", "Allowed");
		add_id(j, "disposition_id", 1, "disposition", "Allowed");
	}
	json_key_array_begin(j, "authorizations");
	json_object_begin(j);
	json_add_string(j, "decision", verdict_name(rec->verdict));
	if (rec->policy[0] || rec->rule[0]) {
		char generation[16];

		json_key_object_begin(j, "policy");
		json_add_string(j, "name", rec->policy[0] ? rec->policy : rec->rule);
		if (rec->rule[0])
			json_add_string(j, "uid", rec->rule);
		snprintf(generation, sizeof(generation), "%u", rec->generation);
		json_add_string(j, "version", generation);
		json_object_end(j);
	}
	json_object_end(j);
	json_array_end(j);
}

/* A denial the policy enforced is worth a look; one it only audited more so (it happened). */
static void add_severity(struct json_out *j, const struct journal_record *rec)
{
	if (rec->verdict != ACTGATE_VERDICT_DENY)
		add_id(j, "severity_id", 1, "severity", "Informational");
	else if (rec->mode == ACTGATE_MODE_ENFORCE)
		add_id(j, "severity_id", 3, "severity", "Medium");
	else
		add_id(j, "severity_id", 4, "severity", "High");
}

/* status of an activity: Failure when the control stopped it, with the reason as detail. */
static void add_status(struct json_out *j, const struct journal_record *rec)
{
	if (blocked(rec))
		add_id(j, "status_id", 2, "status", "Failure");
	else
		add_id(j, "status_id", 1, "status", "Success");
	json_add_string(j, "status_detail", reason_name(rec->reason));
}

/* "k=v,k=v" as an object, read the way docs/journal-format.md ("Labels") says. */
static void add_labels(struct json_out *j, const char *labels)
{
	json_key_object_begin(j, "labels");
	for (const char *p = labels; *p;) {
		size_t len = strcspn(p, ","), klen;
		const char *eq = memchr(p, '=', len);
		bool seen = false;
		char *key, *value;

		klen = eq ? (size_t)(eq - p) : len;
		/* a repeated key keeps its first value: look for it before p */
		for (const char *q = labels; q < p && !seen;) {
			size_t qlen = strcspn(q, ","), qklen;
			const char *qeq = memchr(q, '=', qlen);

			qklen = qeq ? (size_t)(qeq - q) : qlen;
			seen = qklen == klen && !memcmp(q, p, klen);
			q += qlen + (q[qlen] == ',');
		}
		if (klen && !seen) {
			key = strndup(p, klen);
			value = eq ? strndup(eq + 1, len - klen - 1) : strdup("");
			if (key && value)
				json_add_string(j, key, value);
			else
				j->error = -ENOMEM;
			free(key);
			free(value);
		}
		p += len + (p[len] == ',');
	}
	json_object_end(j);
}

static void add_unmapped(struct json_out *j, const struct journal_record *rec,
			 const struct jocsf_host *host)
{
	char access[ACCESS_NAMES_SIZE];

	json_key_object_begin(j, "unmapped");
	json_add_string(j, "action", action_name(rec->action));
	json_add_u64(j, "action_number", rec->action);
	json_add_string(j, "verdict", verdict_name(rec->verdict));
	json_add_string(j, "mode", mode_name(rec->mode));
	json_add_string(j, "reason", reason_name(rec->reason));
	json_add_string(j, "target", rec->target);
	json_add_string(j, "workload", rec->workload);
	json_add_u64(j, "workload_id", rec->workload_id);
	json_add_u64(j, "cgroup", rec->cgroup_id);
	json_add_u64(j, "uid", rec->uid);
	json_add_string(j, "principal", rec->principal);
	add_labels(j, rec->labels);
	json_add_string(j, "rule", rec->rule);
	json_add_string(j, "policy", rec->policy);
	if (access_names(rec->access, access, sizeof(access)))
		access[0] = '\0';
	json_add_string(j, "access", access);
	json_add_u64(j, "generation", rec->generation);
	if (rec->signals) {
		json_add_u64(j, "signal_generation", rec->signal_generation);
		json_add_string(j, "signals", rec->signals);
	}
	if (rec->target_name[0])
		json_add_string(j, "target_name", rec->target_name);
	if (rec->chain[0])
		json_add_string(j, "chain", rec->chain);
	if (rec->event_id[0])
		json_add_string(j, "event_id", rec->event_id);
	if (rec->issuer[0])
		json_add_string(j, "issuer", rec->issuer);
	if (rec->event_type[0])
		json_add_string(j, "event_type", rec->event_type);
	if (rec->subject[0])
		json_add_string(j, "subject", rec->subject);
	if (host->boot_id[0])
		json_add_string(j, "boot_id", host->boot_id);
	/* The exporter's own version, beside the journal writer's in metadata.product. */
	json_add_string(j, "exporter_version", actgate_version());
	json_add_string(j, "product_version_from", version_from(rec->writer_version));
	json_object_end(j);
}

/* ---- by action ---- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/*
 * file: a path's last component as name; a target that is not a path
 * ("inode:8:1:1234 (path unavailable: ...)", an abstract socket "@name")
 * is the name alone.
 */
static void add_file(struct json_out *j, const char *target, unsigned type_id, const char *type)
{
	json_key_object_begin(j, "file");
	json_add_string(j, "name", target[0] == '/' ? base_name(target) : target);
	if (target[0] == '/')
		json_add_string(j, "path", target);
	add_id(j, "type_id", type_id, "type", type);
	json_object_end(j);
}

/* "1.2.3.4:443/tcp" or "[::1]:80/udp" into ip, port and protocol; false if not that shape. */
static bool split_endpoint(const char *target, char *ip, size_t ip_size, unsigned *port,
			   char *proto, size_t proto_size)
{
	const char *slash = strrchr(target, '/'), *colon, *host = target, *host_end;
	char *end;
	unsigned long p;

	if (!slash || !strncmp(target, "unix:", 5))
		return false;
	colon = slash;
	while (colon > target && colon[-1] != ':')
		colon--;
	if (colon == target || colon == slash)
		return false;
	host_end = colon - 1;
	if (*host == '[' && host_end > host && host_end[-1] == ']') {
		host++;
		host_end--;
	}
	if (host_end == host || (size_t)(host_end - host) >= ip_size ||
	    strlen(slash + 1) >= proto_size)
		return false;
	p = strtoul(colon, &end, 10);
	if (end != slash || p > 65535)
		return false;
	memcpy(ip, host, (size_t)(host_end - host));
	ip[host_end - host] = '\0';
	*port = (unsigned)p;
	snprintf(proto, proto_size, "%s", slash + 1);
	return true;
}

/* IANA protocol numbers of the names decision.c prints; "protoN" is N. -1: unknown. */
static int protocol_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 },
		      { "sctp", 132 }, { "udplite", 136 }, { "raw", 255 } };
	char *end;
	unsigned long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].num;
	if (!strncmp(name, "proto", 5) && name[5]) {
		n = strtoul(name + 5, &end, 10);
		if (!*end && n <= 255)
			return (int)n;
	}
	return -1;
}

static void add_connection_info(struct json_out *j, unsigned direction_id, const char *direction,
				const char *proto, unsigned ip_version)
{
	int num = proto ? protocol_number(proto) : -1;

	json_key_object_begin(j, "connection_info");
	add_id(j, "direction_id", direction_id, "direction", direction);
	if (proto)
		json_add_string(j, "protocol_name", proto);
	if (num >= 0)
		json_add_u64(j, "protocol_num", (unsigned)num);
	if (ip_version == 4)
		add_id(j, "protocol_ver_id", 4, "protocol_ver", "Internet Protocol version 4 (IPv4)");
	else if (ip_version == 6)
		add_id(j, "protocol_ver_id", 6, "protocol_ver", "Internet Protocol version 6 (IPv6)");
	json_object_end(j);
}

/* message: what the record is about, as replay prints it: the target, else the name or chain. */
static const char *message_of(const struct journal_record *rec)
{
	if (rec->target[0])
		return rec->target;
	if (rec->target_name[0])
		return rec->target_name;
	if (rec->chain[0])
		return rec->chain;
	return action_name(rec->action);
}

/* The common head of an activity record: class, verdict, status, metadata, device, actor. */
static void add_activity_head(struct json_out *j, const struct journal_record *rec,
			      const struct jocsf_host *host, const struct jocsf_class *c,
			      unsigned activity_id, const char *activity, bool security_control)
{
	add_class(j, c, activity_id, activity, rec->time_ns);
	add_severity(j, rec);
	add_status(j, rec);
	if (security_control)
		add_security_control(j, rec);
	json_add_string(j, "message", message_of(rec));
	add_metadata(j, rec->time_ns, rec->writer_version, security_control);
	add_device(j, host);
}

static void write_exec(struct json_out *j, const struct journal_record *rec,
		       const struct jocsf_host *host)
{
	add_activity_head(j, rec, host, &class_process, 1, "Launch", true);
	add_actor(j, rec, NULL);
	/* The same task after execve: its pid stays, its name becomes the file's. */
	json_key_object_begin(j, "process");
	json_add_u64(j, "pid", rec->tgid);
	json_add_string(j, "name", base_name(rec->target));
	add_user(j, "user", rec->uid);
	add_file(j, rec->target, 1, "Regular File");
	if (rec->ppid) {
		json_key_object_begin(j, "parent_process");
		json_add_u64(j, "pid", rec->ppid);
		json_object_end(j);
	}
	json_object_end(j);
}

static void write_open(struct json_out *j, const struct journal_record *rec,
		       const struct jocsf_host *host)
{
	add_activity_head(j, rec, host, &class_file, 14, "Open", true);
	add_actor(j, rec, NULL);
	/* open(2) reaches files of every kind; the record does not say which. */
	add_file(j, rec->target, 0, "Unknown");
}

/*
 * A unix socket is a file, not a network endpoint: OCSF's network_endpoint
 * has no path, its file has type Local Socket. A connect to one is File
 * System Activity Open of that file.
 */
static void write_connect_unix(struct json_out *j, const struct journal_record *rec,
			       const struct jocsf_host *host)
{
	add_activity_head(j, rec, host, &class_file, 14, "Open", true);
	add_actor(j, rec, NULL);
	add_file(j, rec->target + 5, 5, "Local Socket");
}

/*
 * The creation of a raw or packet socket: no destination yet, and it may
 * receive as well as send. OCSF 1.1's Network Activity has no activity for
 * it, so Other (99) with its own activity_name; dst_endpoint (required) is
 * the unspecified address for raw IP ("any"), a name for packet sockets,
 * which have no IP address at all.
 */
static void write_socket(struct json_out *j, const struct journal_record *rec,
			 const struct jocsf_host *host)
{
	const char *t = rec->target;
	bool raw = !strncmp(t, "raw:", 4), v6 = raw && !strncmp(t + 4, "ipv6/", 5);
	const char *proto = raw ? strchr(t, '/') + 1 : NULL;

	add_activity_head(j, rec, host, &class_network, 99, "Create Socket", true);
	add_actor(j, rec, NULL);
	add_local_endpoint(j, "src_endpoint", host);
	json_key_object_begin(j, "dst_endpoint");
	if (raw)
		json_add_string(j, "ip", v6 ? "::" : "0.0.0.0");
	else
		json_add_string(j, "name", "any");
	json_object_end(j);
	add_connection_info(j, 0, "Unknown", proto, raw ? (v6 ? 6 : 4) : 0);
}

static void write_connect(struct json_out *j, const struct journal_record *rec,
			  const struct jocsf_host *host)
{
	char ip[64], proto[16];
	unsigned port;
	bool shaped = split_endpoint(rec->target, ip, sizeof(ip), &port, proto, sizeof(proto));

	add_activity_head(j, rec, host, &class_network, 1, "Open", true);
	add_actor(j, rec, NULL);
	add_local_endpoint(j, "src_endpoint", host);
	json_key_object_begin(j, "dst_endpoint");
	if (shaped) {
		json_add_string(j, "ip", ip);
		json_add_u64(j, "port", port);
	} else {
		json_add_string(j, "name", rec->target); /* not an address: as recorded */
	}
	if (rec->target_name[0]) /* the name whose answer allowed this address (egress) */
		json_add_string(j, "hostname", rec->target_name);
	json_object_end(j);
	add_connection_info(j, 2, "Outbound", shaped ? proto : NULL,
			    shaped ? (strchr(ip, ':') ? 6 : 4) : 0);
}

static void write_resolve(struct json_out *j, const struct journal_record *rec,
			  const struct jocsf_host *host)
{
	add_activity_head(j, rec, host, &class_dns, 1, "Query", true);
	add_actor(j, rec, NULL);
	add_local_endpoint(j, "src_endpoint", host);
	/* the resolver that answered is actgated's own, on this host (docs/egress.md) */
	add_local_endpoint(j, "dst_endpoint", host);
	json_key_object_begin(j, "query");
	json_add_string(j, "hostname", rec->target_name[0] ? rec->target_name : rec->target);
	add_id(j, "opcode_id", 0, "opcode", "Query");
	json_object_end(j);
	json_add_u64(j, "query_time", rec->time_ns / 1000000);
	add_connection_info(j, 2, "Outbound", NULL, 0);
	/*
	 * The record does not carry the answer's rcode. A lookup the policy
	 * blocked was answered REFUSED by actgated's resolver without asking
	 * upstream (docs/egress.md); an allowed one got the upstream's answer,
	 * which is not journaled: Other, saying so, never a guessed NoError.
	 */
	if (blocked(rec))
		add_id(j, "rcode_id", 5, "rcode", "Refused");
	else
		add_id(j, "rcode_id", 99, "rcode", "not recorded (the upstream's answer)");
}

/* The last element of "principal > workload#id > sub#id": the sub-workload asked for. */
static const char *chain_last(const char *chain)
{
	const char *gt = strrchr(chain, '>');

	if (!gt)
		return chain;
	gt++;
	while (*gt == ' ')
		gt++;
	return gt;
}

/*
 * Delegation: a workload asks for a sub-workload, an entity it creates
 * under actgate's management (Entity Management, Create); the entity's
 * data keeps the chain of who commissioned whom.
 */
static void write_delegate(struct json_out *j, const struct journal_record *rec,
			   const struct jocsf_host *host)
{
	const char *name = rec->target[0] ? rec->target : chain_last(rec->chain);

	add_activity_head(j, rec, host, &class_entity, 1, "Create", false);
	add_actor(j, rec, NULL);
	json_key_object_begin(j, "entity");
	json_add_string(j, "name", name[0] ? name : "sub-workload");
	json_add_string(j, "type", "Workload");
	json_key_object_begin(j, "data");
	json_add_string(j, "chain", rec->chain);
	json_object_end(j);
	json_object_end(j);
}

/*
 * An applied signal event changes an entity actgate manages, a signal's
 * value (Entity Management, Update); its issuer is who invoked it.
 */
static void write_signal(struct json_out *j, const struct journal_record *rec,
			 const struct jocsf_host *host)
{
	add_activity_head(j, rec, host, &class_entity, 3, "Update", false);
	add_actor(j, rec, rec->issuer);
	json_key_object_begin(j, "entity");
	json_add_string(j, "name", rec->target[0] ? rec->target : "signal");
	json_add_string(j, "type", "Signal");
	json_key_object_begin(j, "data");
	json_add_string(j, "event_id", rec->event_id);
	json_add_string(j, "issuer", rec->issuer);
	json_add_string(j, "event_type", rec->event_type);
	json_add_string(j, "subject", rec->subject);
	json_object_end(j);
	json_object_end(j);
}

/* finding_info.uid: the same record gives the same uid, so a re-export deduplicates. */
static void finding_uid(const struct jocsf_host *host, const char *what, uint64_t time_ns,
			uint32_t tgid, char *buf, size_t size)
{
	snprintf(buf, size, "actgate:%s:%s:%llu:%u",
		 host->machine_id[0] ? host->machine_id : host->hostname, what,
		 (unsigned long long)time_ns, tgid);
}

/* confidence, then finding_info opened: the caller fills and closes it. */
static void begin_finding_info(struct json_out *j)
{
	add_id(j, "confidence_id", 3, "confidence", "High"); /* the kernel or the journal saw it */
	json_key_object_begin(j, "finding_info");
}

/*
 * An attempt on actgate itself (or out of the workload through a kernel
 * door) is an attack on the control, which a SIEM should raise as an
 * alert: a Detection Finding, the attempting process as its evidence.
 */
static void write_tamper(struct json_out *j, const struct journal_record *rec,
			 const struct jocsf_host *host)
{
	char uid[320], title[64 + JOURNAL_TARGET_SIZE];

	add_class(j, &class_finding, 1, "Create", rec->time_ns);
	add_id(j, "severity_id", 4, "severity", "High");
	add_id(j, "status_id", 1, "status", "New");
	json_add_string(j, "status_detail", reason_name(rec->reason));
	add_security_control(j, rec);
	json_add_string(j, "message", rec->target);
	add_metadata(j, rec->time_ns, rec->writer_version, true);
	add_device(j, host);
	add_actor(j, rec, NULL);
	begin_finding_info(j);
	finding_uid(host, "tamper", rec->time_ns, rec->tgid, uid, sizeof(uid));
	json_add_string(j, "uid", uid);
	snprintf(title, sizeof(title), "actgate self-protection: %s", rec->target);
	json_add_string(j, "title", title);
	json_key_array_begin(j, "types");
	json_array_add_string(j, "Tamper");
	json_array_end(j);
	json_key_object_begin(j, "analytic");
	add_id(j, "type_id", 1, "type", "Rule");
	json_add_string(j, "name", reason_name(rec->reason));
	json_add_string(j, "uid", "actgate:tamper");
	json_object_end(j);
	json_object_end(j); /* finding_info */
	json_key_array_begin(j, "evidences");
	json_object_begin(j);
	add_actor(j, rec, NULL);
	json_key_object_begin(j, "data");
	json_add_string(j, "target", rec->target);
	json_object_end(j);
	json_object_end(j);
	json_array_end(j);
	json_key_array_begin(j, "resources");
	json_object_begin(j);
	json_add_string(j, "name", rec->target);
	json_add_string(j, "type", "actgate");
	json_object_end(j);
	json_array_end(j);
}

/* A record of an action this mapping does not know (a newer journal): kept whole, unmapped. */
static void write_other(struct json_out *j, const struct journal_record *rec)
{
	char activity[32];

	snprintf(activity, sizeof(activity), "actgate action %u", rec->action);
	add_class(j, &class_base, 99, activity, rec->time_ns);
	add_severity(j, rec);
	add_status(j, rec);
	json_add_string(j, "message", message_of(rec));
	json_key_object_begin(j, "metadata");
	json_add_string(j, "version", JOCSF_VERSION);
	add_product(j, rec->writer_version);
	json_object_end(j);
}

int jocsf_write(const struct journal_record *rec, const struct jocsf_host *host, struct json_out *j)
{
	const char *t = or_empty(rec->target);
	/* decode never leaves NULL, but a caller's own record may: read through a copy */
	struct journal_record r = *rec;

	r.target = (char *)t;
	r.workload = (char *)or_empty(rec->workload);
	r.principal = (char *)or_empty(rec->principal);
	r.labels = (char *)or_empty(rec->labels);
	r.policy = (char *)or_empty(rec->policy);
	r.rule = (char *)or_empty(rec->rule);
	r.target_name = (char *)or_empty(rec->target_name);
	r.chain = (char *)or_empty(rec->chain);
	r.event_id = (char *)or_empty(rec->event_id);
	r.issuer = (char *)or_empty(rec->issuer);
	r.event_type = (char *)or_empty(rec->event_type);
	r.subject = (char *)or_empty(rec->subject);
	switch (r.action) {
	case ACTGATE_ACTION_EXEC:
		write_exec(j, &r, host);
		break;
	case ACTGATE_ACTION_OPEN:
		write_open(j, &r, host);
		break;
	case ACTGATE_ACTION_CONNECT:
		if (!strncmp(t, "unix:", 5))
			write_connect_unix(j, &r, host);
		else if (!strncmp(t, "raw:", 4) && strchr(t, '/'))
			write_socket(j, &r, host);
		else if (!strncmp(t, "packet:", 7))
			write_socket(j, &r, host);
		else
			write_connect(j, &r, host);
		break;
	case ACTGATE_ACTION_TAMPER:
		write_tamper(j, &r, host);
		break;
	case ACTGATE_ACTION_RESOLVE:
		write_resolve(j, &r, host);
		break;
	case ACTGATE_ACTION_DELEGATE:
		write_delegate(j, &r, host);
		break;
	case ACTGATE_ACTION_SIGNAL:
		write_signal(j, &r, host);
		break;
	default:
		write_other(j, &r);
		break;
	}
	add_unmapped(j, &r, host);
	return j->error;
}

int jocsf_write_gap(const struct jstore_gap *gap, const struct jocsf_host *host,
		    struct json_out *j)
{
	return jocsf_write_gap_by(gap, NULL, host, j);
}

int jocsf_write_gap_by(const struct jstore_gap *gap, const char *writer,
		       const struct jocsf_host *host, struct json_out *j)
{
	char uid[320], title[96], desc[256], message[160];

	snprintf(title, sizeof(title), "%llu decisions lost", (unsigned long long)gap->lost);
	snprintf(desc, sizeof(desc),
		 "the journal could not write %llu decisions (the first failed write: %s); "
		 "what they decided is unknown",
		 (unsigned long long)gap->lost, gap->error ? strerror((int)gap->error) : "unknown");
	snprintf(message, sizeof(message), "%llu decisions lost: the journal could not write them",
		 (unsigned long long)gap->lost);
	add_class(j, &class_finding, 1, "Create", gap->time_ns);
	add_id(j, "severity_id", 4, "severity", "High");
	add_id(j, "status_id", 1, "status", "New");
	json_add_string(j, "status_detail", "journal write failed");
	/* No control acted on decisions nobody saw. */
	add_id(j, "action_id", 0, "action", "Unknown");
	add_id(j, "disposition_id", 0, "disposition", "Unknown");
	json_add_string(j, "message", message);
	json_add_u64(j, "count", gap->lost);
	json_add_u64(j, "start_time", gap->first_lost_ns / 1000000);
	json_add_u64(j, "end_time", gap->last_lost_ns / 1000000);
	add_metadata(j, gap->time_ns, writer, true);
	add_device(j, host);
	begin_finding_info(j);
	finding_uid(host, "gap", gap->time_ns, 0, uid, sizeof(uid));
	json_add_string(j, "uid", uid);
	json_add_string(j, "title", title);
	json_add_string(j, "desc", desc);
	json_key_array_begin(j, "types");
	json_array_add_string(j, "Data Loss");
	json_array_end(j);
	json_add_u64(j, "first_seen_time", gap->first_lost_ns / 1000000);
	json_add_u64(j, "last_seen_time", gap->last_lost_ns / 1000000);
	json_key_object_begin(j, "analytic");
	add_id(j, "type_id", 1, "type", "Rule");
	json_add_string(j, "name", "journal-gap");
	json_add_string(j, "uid", "actgate:gap");
	json_object_end(j);
	json_object_end(j); /* finding_info */
	json_key_array_begin(j, "evidences");
	json_object_begin(j);
	json_key_object_begin(j, "data");
	json_add_u64(j, "lost", gap->lost);
	json_add_u64(j, "first_lost_ns", gap->first_lost_ns);
	json_add_u64(j, "last_lost_ns", gap->last_lost_ns);
	json_add_u64(j, "error", gap->error);
	json_object_end(j);
	json_object_end(j);
	json_array_end(j);
	json_key_array_begin(j, "resources");
	json_object_begin(j);
	json_add_string(j, "name", "journal");
	json_add_string(j, "type", "actgate");
	json_object_end(j);
	json_array_end(j);
	json_key_object_begin(j, "unmapped");
	json_add_string(j, "action", "gap");
	json_add_u64(j, "lost", gap->lost);
	json_add_u64(j, "error", gap->error);
	if (host->boot_id[0])
		json_add_string(j, "boot_id", host->boot_id);
	json_add_string(j, "exporter_version", actgate_version());
	json_add_string(j, "product_version_from", version_from(writer));
	json_object_end(j);
	return j->error;
}

int jocsf_event(const struct journal_record *rec, const struct jocsf_host *host, struct json_out *j)
{
	json_out_reset(j);
	json_object_begin(j);
	jocsf_write(rec, host, j);
	json_object_end(j);
	return j->error;
}

int jocsf_gap_event(const struct jstore_gap *gap, const struct jocsf_host *host,
		    struct json_out *j)
{
	json_out_reset(j);
	json_object_begin(j);
	jocsf_write_gap(gap, host, j);
	json_object_end(j);
	return j->error;
}

/*
 * For the streaming exporter (journal/export.h): store records a follower
 * never saw (removed by retention before they were exported, damaged) or
 * events it dropped from a full queue. A Detection Finding like a gap, with
 * its own title and cause: how many decisions are among the records is not
 * known for "missing" (the numbers count seals too), so count is the
 * records' and the finding says so.
 */
int jocsf_write_missing(uint64_t time_ns, uint64_t first_seq, uint64_t last_seq,
			const char *cause, const struct jocsf_host *host, struct json_out *j)
{
	bool overflow = !strcmp(cause, "export-queue-overflow");
	uint64_t count = last_seq >= first_seq ? last_seq - first_seq + 1 : 0;
	char uid[320], title[128], desc[320], message[200];

	if (overflow) {
		snprintf(title, sizeof(title), "%llu decisions dropped by the export queue",
			 (unsigned long long)count);
		snprintf(desc, sizeof(desc),
			 "the exporter's queue was full while the sink refused, and it dropped "
			 "the oldest %llu events (journal records %llu to %llu); they are still in "
			 "the journal unless retention removed them",
			 (unsigned long long)count, (unsigned long long)first_seq,
			 (unsigned long long)last_seq);
	} else {
		snprintf(title, sizeof(title), "%llu journal records missing from the export",
			 (unsigned long long)count);
		snprintf(desc, sizeof(desc),
			 "journal records %llu to %llu were never read by the exporter: removed by "
			 "retention before they were exported, or damaged; how many of them were "
			 "decisions is unknown",
			 (unsigned long long)first_seq, (unsigned long long)last_seq);
	}
	snprintf(message, sizeof(message), "%s", title);
	add_class(j, &class_finding, 1, "Create", time_ns);
	add_id(j, "severity_id", 4, "severity", "High");
	add_id(j, "status_id", 1, "status", "New");
	add_id(j, "action_id", 0, "action", "Unknown");
	add_id(j, "disposition_id", 0, "disposition", "Unknown");
	json_add_string(j, "message", message);
	json_add_u64(j, "count", count);
	add_metadata(j, time_ns, NULL, true);
	add_device(j, host);
	begin_finding_info(j);
	finding_uid(host, cause, first_seq, 0, uid, sizeof(uid));
	json_add_string(j, "uid", uid);
	json_add_string(j, "title", title);
	json_add_string(j, "desc", desc);
	json_key_array_begin(j, "types");
	json_array_add_string(j, "Data Loss");
	json_array_end(j);
	json_key_object_begin(j, "analytic");
	add_id(j, "type_id", 1, "type", "Rule");
	json_add_string(j, "name", overflow ? "export-overflow" : "export-missing");
	json_add_string(j, "uid", overflow ? "actgate:export-overflow" : "actgate:export-missing");
	json_object_end(j);
	json_object_end(j); /* finding_info */
	json_key_array_begin(j, "evidences");
	json_object_begin(j);
	json_key_object_begin(j, "data");
	json_add_u64(j, "first_missing_seq", first_seq);
	json_add_u64(j, "last_missing_seq", last_seq);
	json_add_string(j, "reason", cause);
	json_object_end(j);
	json_object_end(j);
	json_array_end(j);
	json_key_array_begin(j, "resources");
	json_object_begin(j);
	json_add_string(j, "name", "journal");
	json_add_string(j, "type", "actgate");
	json_object_end(j);
	json_array_end(j);
	json_key_object_begin(j, "unmapped");
	json_add_string(j, "action", "gap");
	json_add_string(j, "reason", cause);
	json_add_u64(j, "first_missing_seq", first_seq);
	json_add_u64(j, "last_missing_seq", last_seq);
	if (host->boot_id[0])
		json_add_string(j, "boot_id", host->boot_id);
	json_object_end(j);
	return j->error;
}
