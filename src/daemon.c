/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "actgate/abi.h"
#include "cgroup.h"
#include "compile.h"
#include "daemon.h"
#include "enforcer.h"
#include "journal.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "workload.h"

#define CONTROL_LINE_MAX (64 * 1024)
#define MAX_CLIENTS 256
/* How often workloads whose `actgate run` has gone are retried for removal. */
#define SWEEP_INTERVAL_MS 2000

struct client {
	int fd;
	char *buf;
	size_t len;
};

struct daemon {
	const struct daemon_config *cfg;
	struct policy_set policies;
	struct policy_image image;
	struct enforcer enforcer;
	struct journal_writer journal;
	struct workload_table workloads;
	char cgroup_mount[PATH_MAX];
	int epoll_fd;
	int listen_fd;
	int signal_fd;
	struct client clients[MAX_CLIENTS];
	uint64_t next_workload_id;
	int64_t boot_to_wall_ns; /* add to a boot-clock time to get wall-clock time */
	uint64_t records_written;
	uint64_t records_unwritten; /* decided in the kernel but not journaled */
	bool stopping;
};

/* ---- time ---- */

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void refresh_clock_offset(struct daemon *d)
{
	d->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
}

/* ---- decision records -> journal ---- */

static const char *protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return "icmp";
	}
	return NULL;
}

static void format_connect_target(const struct actgate_decision *rec, char *out, size_t size)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const char *proto = protocol_name(rec->protocol);
	char addr[INET6_ADDRSTRLEN], proto_buf[16];

	if (!proto) {
		snprintf(proto_buf, sizeof(proto_buf), "proto%u", rec->protocol);
		proto = proto_buf;
	}
	if (rec->family == AF_INET || memcmp(rec->addr, v4_mapped, 12) == 0) {
		inet_ntop(AF_INET, &rec->addr[12], addr, sizeof(addr));
		snprintf(out, size, "%s:%u/%s", addr, rec->port, proto);
	} else {
		inet_ntop(AF_INET6, rec->addr, addr, sizeof(addr));
		snprintf(out, size, "[%s]:%u/%s", addr, rec->port, proto);
	}
}

static void format_path_target(const struct actgate_decision *rec, size_t size, char *out,
			       size_t out_size)
{
	size_t avail = size - ACTGATE_DECISION_FIXED_SIZE;

	if (rec->path_len > 0 && rec->path_len <= avail &&
	    memchr(rec->target_path, '\0', rec->path_len)) {
		snprintf(out, out_size, "%s", rec->target_path);
		return;
	}
	/* No readable path (bpf_d_path failed): the inode identity still names the file. */
	snprintf(out, out_size, "inode:%u:%u:%llu (path unavailable: %s)", rec->dev >> 20,
		 rec->dev & 0xfffff, (unsigned long long)rec->ino, strerror(-rec->path_error));
}

static void format_tamper_target(const struct actgate_decision *rec, char *out, size_t size)
{
	switch (rec->dev) {
	case ACTGATE_TAMPER_SIGNAL:
		snprintf(out, size, "signal %llu to actgated", (unsigned long long)rec->ino);
		break;
	case ACTGATE_TAMPER_PTRACE:
		snprintf(out, size, "ptrace of actgated");
		break;
	case ACTGATE_TAMPER_BPF:
		snprintf(out, size, "bpf() command %llu", (unsigned long long)rec->ino);
		break;
	default:
		snprintf(out, size, "tamper kind %u", rec->dev);
	}
}

static int on_record(const struct actgate_decision *rec, size_t size, void *ctx)
{
	struct daemon *d = ctx;
	struct journal_record jr = { 0 };
	const struct workload *w = workload_table_find_id(&d->workloads, rec->workload_id);
	const char *rule = policy_image_rule_name(&d->image, rec->rule_id);
	char target[ACTGATE_PATH_BUF + 64];
	int err;

	jr.time_ns = (uint64_t)((int64_t)rec->hdr.time_boot_ns + d->boot_to_wall_ns);
	jr.action = rec->action;
	jr.verdict = rec->verdict;
	jr.mode = rec->mode;
	jr.reason = rec->reason;
	jr.workload_id = rec->workload_id;
	jr.cgroup_id = rec->cgroup_id;
	jr.pid = rec->pid;
	jr.tgid = rec->tgid;
	jr.ppid = rec->ppid;
	jr.uid = rec->uid;
	jr.generation = rec->generation;
	memcpy(jr.comm, rec->comm, ACTGATE_COMM_LEN);
	jr.comm[ACTGATE_COMM_LEN] = '\0';
	jr.workload = w ? w->name : "";
	jr.principal = w ? w->principal : "";
	jr.labels = w ? w->labels : "";
	jr.policy = (rec->policy_id >= 1 && rec->policy_id <= d->policies.count)
			    ? d->policies.policies[rec->policy_id - 1].name
			    : "";
	jr.rule = (char *)(rule ? rule : "");
	if (rec->action == ACTGATE_ACTION_CONNECT)
		format_connect_target(rec, target, sizeof(target));
	else if (rec->action == ACTGATE_ACTION_TAMPER)
		format_tamper_target(rec, target, sizeof(target));
	else
		format_path_target(rec, size, target, sizeof(target));
	jr.target = target;

	err = journal_append(&d->journal, &jr);
	if (err) {
		/* Enforcement goes on; the loss is counted and reported by `actgate status`. */
		if (d->records_unwritten++ == 0)
			log_error("journal", "cannot append to %s: %s", d->journal.path,
				  strerror(-err));
		return 0;
	}
	d->records_written++;
	return 0;
}

/* ---- control socket ---- */

static int reply(int fd, struct json_out *j)
{
	json_object_end(j);
	if (j->error)
		return j->error;
	/* One line per reply; the client reads up to '\n'. */
	if (!j->buf)
		return -EINVAL;
	{
		size_t off = 0, len = j->len;
		char nl = '\n';

		while (off < len) {
			ssize_t n = send(fd, j->buf + off, len - off, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			off += (size_t)n;
		}
		if (send(fd, &nl, 1, MSG_NOSIGNAL) < 0)
			return -errno;
	}
	return 0;
}

static int reply_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reply_error(int fd, const char *fmt, ...)
{
	struct json_out j;
	char msg[1024];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", false);
	json_add_string(&j, "error", msg);
	err = reply(fd, &j);
	json_out_free(&j);
	return err;
}

static void handle_status(struct daemon *d, int fd)
{
	uint64_t dropped[ACTGATE_ACTION_COUNT] = { 0 };
	struct json_out j;

	enforcer_dropped(&d->enforcer, dropped);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", true);
	json_add_u64(&j, "generation", d->image.generation);
	json_add_u64(&j, "policies", d->policies.count);
	json_add_u64(&j, "workloads", d->workloads.count);
	json_add_u64(&j, "records_written", d->records_written);
	json_add_u64(&j, "records_unwritten", d->records_unwritten);
	/* Flat keys: the control protocol's objects carry strings only (labels). */
	for (uint8_t a = ACTGATE_ACTION_EXEC; a < ACTGATE_ACTION_COUNT; a++) {
		char key[32];

		snprintf(key, sizeof(key), "dropped_%s", action_name(a));
		json_add_u64(&j, key, dropped[a]);
	}
	json_add_string(&j, "journal", d->journal.path);
	reply(fd, &j);
	json_out_free(&j);
}

/* Which single policy selects name; -ENOENT or -EEXIST otherwise, with why. */
static int select_policy(const struct daemon *d, const char *name, uint32_t *policy_id, char *why,
			 size_t why_size)
{
	const struct policy *first = NULL;

	for (size_t i = 0; i < d->policies.count; i++) {
		const struct policy *p = &d->policies.policies[i];

		if (!policy_selects(p, name))
			continue;
		if (first) {
			snprintf(why, why_size,
				 "workload \"%s\" is selected by policies \"%s\" (%s) and \"%s\" "
				 "(%s); a workload must be selected by exactly one policy",
				 name, first->name, first->file, p->name, p->file);
			return -EEXIST;
		}
		first = p;
		*policy_id = (uint32_t)i + 1;
	}
	if (!first) {
		snprintf(why, why_size, "no policy in %s selects workload \"%s\"",
			 d->cfg->policy_dir, name);
		return -ENOENT;
	}
	return 0;
}

/* The file-system path of a cgroup path. */
static int cgroup_fs_path(const struct daemon *d, const char *cgroup_path, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s", d->cgroup_mount, cgroup_path);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

/* A cgroup directory name derived from the workload name: readable, unique by id. */
static void cgroup_leaf_name(const char *name, uint64_t id, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = name; *p && n + 1 < size && n < 64; p++) {
		char c = *p;

		out[n++] = (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
						  (c >= '0' && c <= '9') || c == '.' || c == '-' ||
						  c == '_'
					  ? c
					  : '_');
	}
	snprintf(out + n, size - n, "-%llu", (unsigned long long)id);
}

static int parse_labels(const struct json_member *m, char **labels, char *why, size_t why_size)
{
	char *acc = strdup("");

	if (!acc)
		return -ENOMEM;
	if (m && m->type != JSON_OBJECT && m->type != JSON_NULL) {
		snprintf(why, why_size, "\"labels\" must be an object of strings");
		free(acc);
		return -EINVAL;
	}
	if (m && m->type == JSON_OBJECT && m->member_count > LABELS_MAX) {
		snprintf(why, why_size, "at most %d labels", LABELS_MAX);
		free(acc);
		return -EINVAL;
	}
	for (size_t i = 0; m && m->type == JSON_OBJECT && i < m->member_count; i++) {
		const struct json_member *l = &m->members[i];
		char *next;

		if (l->type != JSON_STRING) {
			snprintf(why, why_size, "label %s: the value must be a string", l->key);
			free(acc);
			return -EINVAL;
		}
		if (label_check(l->key, l->value, why, why_size)) {
			free(acc);
			return -EINVAL;
		}
		next = labels_add(acc, l->key, l->value);
		free(acc);
		if (!next) {
			snprintf(why, why_size, "label %s given twice", l->key);
			return -EINVAL;
		}
		acc = next;
	}
	*labels = acc;
	return 0;
}

static void handle_run(struct daemon *d, int fd, const struct json_msg *msg)
{
	const char *name = json_msg_string(msg, "workload");
	const char *principal = json_msg_string(msg, "principal");
	struct workload w = { .owner_fd = fd };
	char why[512], leaf[128], path[PATH_MAX], fs_path[PATH_MAX];
	struct json_out j;
	int err;

	if (!name) {
		reply_error(fd, "run: \"workload\" (a string) is required");
		return;
	}
	if (workload_name_check(name, why, sizeof(why)) ||
	    (principal && principal_check(principal, why, sizeof(why)))) {
		reply_error(fd, "run: %s", why);
		return;
	}
	if (select_policy(d, name, &w.policy_id, why, sizeof(why))) {
		reply_error(fd, "run: %s", why);
		return;
	}
	if (parse_labels(json_msg_get(msg, "labels"), &w.labels, why, sizeof(why))) {
		reply_error(fd, "run: %s", why);
		return;
	}
	w.id = d->next_workload_id++;
	cgroup_leaf_name(name, w.id, leaf, sizeof(leaf));
	if (snprintf(path, sizeof(path), "%s/%s", d->cfg->cgroup_parent, leaf) >= (int)sizeof(path) ||
	    cgroup_fs_path(d, path, fs_path, sizeof(fs_path))) {
		reply_error(fd, "run: cgroup path too long");
		goto fail;
	}
	if (mkdir(fs_path, 0755) < 0) {
		err = -errno;
		log_error("run", "cannot create cgroup %s: %s", fs_path, strerror(-err));
		reply_error(fd, "run: cannot create cgroup %s: %s", fs_path, strerror(-err));
		goto fail;
	}
	err = cgroup_id_at(fs_path, &w.cgroup_id);
	if (err) {
		reply_error(fd, "run: cannot read the id of cgroup %s: %s", fs_path, strerror(-err));
		goto fail_rmdir;
	}
	/*
	 * Governed before the reply: the client moves its child into the cgroup
	 * only after this answer, so the workload's first action is policed.
	 */
	err = enforcer_add_workload(&d->enforcer, w.cgroup_id, w.id, w.policy_id);
	if (err) {
		reply_error(fd, "run: cannot register the workload in the kernel: %s",
			    strerror(-err));
		goto fail_rmdir;
	}
	w.name = strdup(name);
	w.principal = strdup(principal ? principal : "");
	w.cgroup_path = strdup(path);
	if (!w.name || !w.principal || !w.cgroup_path ||
	    workload_table_add(&d->workloads, &w) < 0) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		reply_error(fd, "run: out of memory");
		free(w.name);
		free(w.principal);
		free(w.cgroup_path);
		goto fail_rmdir;
	}
	log_info("run", "workload %s (id %llu, policy %s) in cgroup %s", name,
		 (unsigned long long)w.id, d->policies.policies[w.policy_id - 1].name, path);

	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", true);
	json_add_u64(&j, "workload_id", w.id);
	json_add_string(&j, "cgroup", path);
	json_add_string(&j, "cgroup_dir", fs_path);
	json_add_string(&j, "policy", d->policies.policies[w.policy_id - 1].name);
	reply(fd, &j);
	json_out_free(&j);
	return;
fail_rmdir:
	rmdir(fs_path);
fail:
	free(w.labels);
}

/* Refuse peers that are not root or that run inside a governed workload. */
static int check_peer(struct daemon *d, int fd, char *why, size_t why_size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[PATH_MAX];
	int err;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid != 0) {
		snprintf(why, why_size, "permission denied: control requests need uid 0 (peer uid %u)",
			 cred.uid);
		return -EPERM;
	}
	err = cgroup_of_pid(cred.pid, path, sizeof(path));
	if (err) {
		snprintf(why, why_size, "cannot read the cgroup of peer pid %d: %s", cred.pid,
			 strerror(-err));
		return err;
	}
	/* A workload may not lift or change its own restrictions. */
	if (workload_table_find_cgroup(&d->workloads, path)) {
		snprintf(why, why_size,
			 "permission denied: the request comes from inside governed cgroup %.300s",
			 path);
		return -EPERM;
	}
	return 0;
}

static void handle_line(struct daemon *d, int fd, const char *line, size_t len)
{
	struct json_msg msg = { 0 };
	char why[512];
	const char *verb;

	if (check_peer(d, fd, why, sizeof(why))) {
		reply_error(fd, "%s", why);
		return;
	}
	if (json_msg_parse(line, len, &msg, why, sizeof(why))) {
		reply_error(fd, "malformed request: %s", why);
		return;
	}
	verb = json_msg_string(&msg, "verb");
	if (!verb)
		reply_error(fd, "malformed request: \"verb\" (a string) is required");
	else if (strcmp(verb, "status") == 0)
		handle_status(d, fd);
	else if (strcmp(verb, "run") == 0)
		handle_run(d, fd, &msg);
	else
		reply_error(fd, "unknown verb \"%s\" (known: run, status)", verb);
	json_msg_free(&msg);
}

/*
 * A workload whose `actgate run` is gone is removed once its cgroup is
 * empty; until then it stays governed, so stray descendants stay policed.
 */
static void sweep_workloads(struct daemon *d)
{
	for (size_t i = 0; i < d->workloads.count;) {
		struct workload *w = &d->workloads.items[i];
		char fs_path[PATH_MAX];

		if (w->owner_fd >= 0) {
			i++;
			continue;
		}
		/* The workload may have made cgroups of its own below: they go first. */
		if (cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) ||
		    cgroup_remove_tree(fs_path)) {
			i++;
			continue;
		}
		enforcer_remove_workload(&d->enforcer, w->cgroup_id);
		workload_table_remove(&d->workloads, w);
	}
}

static void client_close(struct daemon *d, struct client *c)
{
	for (size_t i = 0; i < d->workloads.count; i++) {
		if (d->workloads.items[i].owner_fd == c->fd)
			d->workloads.items[i].owner_fd = -1;
	}
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	/* Drain first so that the workload's last records find its name. */
	enforcer_drain(&d->enforcer);
	sweep_workloads(d);
}

static void client_readable(struct daemon *d, struct client *c)
{
	char chunk[4096];
	ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(d, c);
		return;
	}
	if (c->len + (size_t)n > CONTROL_LINE_MAX) {
		reply_error(c->fd, "request longer than %d bytes", CONTROL_LINE_MAX);
		client_close(d, c);
		return;
	}
	{
		char *buf = realloc(c->buf, c->len + (size_t)n + 1);

		if (!buf) {
			client_close(d, c);
			return;
		}
		c->buf = buf;
	}
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t line_len = (size_t)(nl - c->buf);

		handle_line(d, c->fd, c->buf, line_len);
		memmove(c->buf, nl + 1, c->len - line_len - 1);
		c->len -= line_len + 1;
	}
}

static void accept_client(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (d->clients[i].fd < 0)
			break;
	}
	if (i == MAX_CLIENTS) {
		reply_error(fd, "too many control connections (%d)", MAX_CLIENTS);
		close(fd);
		return;
	}
	ev.data.u64 = 1000 + i;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	d->clients[i].fd = fd;
}

static int listen_control(struct daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = d->cfg->socket_path;
	char dir[PATH_MAX], *slash;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("control", "socket path %s is longer than %zu bytes", path,
			  sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			log_error("control", "cannot create %s: %s", dir, strerror(-err));
			return err;
		}
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a daemon that died is stale: nothing can be listening on it. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 64) < 0) {
		err = -errno;
		log_error("control", "cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	d->listen_fd = fd;
	return 0;
}

/* Tell systemd (Type=notify) that enforcement is live. */
static void notify_ready(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *msg = "READY=1";
	socklen_t len;
	int fd;

	if (!sock || (sock[0] != '/' && sock[0] != '@') || strlen(sock) >= sizeof(addr.sun_path))
		return;
	strcpy(addr.sun_path, sock);
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&addr, len);
	close(fd);
}

/* Parse, validate and compile; every diagnostic is printed. */
static int load_policies(const struct daemon_config *cfg, struct policy_set *set,
			 struct policy_image *image)
{
	struct diag_list diags = { 0 };
	int err;

	err = policy_load_dir(cfg->policy_dir, set, &diags);
	if (!err)
		err = policy_compile(set, 1, resolve_path_stat, NULL, image, &diags);
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	if (err)
		log_error("policy", "%s: refusing a policy that cannot be enforced as written",
			  cfg->policy_dir);
	return err;
}

int daemon_check_config(const struct daemon_config *cfg)
{
	struct policy_set set = { 0 };
	struct policy_image image = { 0 };
	int err = load_policies(cfg, &set, &image);

	if (!err)
		printf("%s: %zu policies, %zu path rules, %zu connect prefixes: ok\n",
		       cfg->policy_dir, set.count, image.path_count, image.net_count);
	policy_image_free(&image);
	policy_set_free(&set);
	return err;
}

static int setup_loop(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->signal_fd < 0 || d->epoll_fd < 0)
		return -errno;
	ev.data.u64 = 1;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->signal_fd, &ev) < 0)
		return -errno;
	ev.data.u64 = 2;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, enforcer_events_fd(&d->enforcer), &ev) < 0)
		return -errno;
	ev.data.u64 = 3;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->listen_fd, &ev) < 0)
		return -errno;
	return 0;
}

static void handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			log_warn("policy", "SIGHUP: policy reload is not supported by this version; "
					   "restart actgated to load new policy");
		else
			d->stopping = true;
	}
}

static int serve(struct daemon *d)
{
	struct epoll_event events[16];

	while (!d->stopping) {
		int n = epoll_wait(d->epoll_fd, events, 16, SWEEP_INTERVAL_MS);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		refresh_clock_offset(d);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;

			if (tag == 1)
				handle_signal(d);
			else if (tag == 2)
				enforcer_drain(&d->enforcer);
			else if (tag == 3)
				accept_client(d);
			else if (tag >= 1000 && d->clients[tag - 1000].fd >= 0)
				client_readable(d, &d->clients[tag - 1000]);
		}
		if (n == 0)
			sweep_workloads(d);
	}
	return 0;
}

/* Remove every workload we created; their cgroups stay if still populated. */
static void release_all(struct daemon *d)
{
	for (size_t i = 0; i < d->workloads.count; i++) {
		char fs_path[PATH_MAX];

		if (!cgroup_fs_path(d, d->workloads.items[i].cgroup_path, fs_path, sizeof(fs_path)))
			cgroup_remove_tree(fs_path);
	}
}

int daemon_run(const struct daemon_config *cfg)
{
	struct daemon *d;
	char why[512];
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->epoll_fd = d->listen_fd = d->signal_fd = -1;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	/* Ids unique across daemon restarts without state: start from the clock. */
	d->next_workload_id = (uint64_t)time(NULL) << 16;
	refresh_clock_offset(d);

	err = load_policies(cfg, &d->policies, &d->image);
	if (err)
		goto out;
	err = enforcer_probe(why, sizeof(why));
	if (err) {
		log_error("bpf", "cannot enforce on this kernel: %s", why);
		goto out;
	}
	err = cgroup2_find_mount(d->cgroup_mount, sizeof(d->cgroup_mount));
	if (err) {
		log_error("cgroup", "no cgroup2 hierarchy is mounted (from /proc/self/mountinfo): %s",
			  strerror(-err));
		goto out;
	}
	err = cgroup_mkdir_p(d->cgroup_mount, cfg->cgroup_parent);
	if (err) {
		log_error("cgroup", "cannot create %s%s: %s", d->cgroup_mount, cfg->cgroup_parent,
			  strerror(-err));
		goto out;
	}
	err = journal_writer_open(&d->journal, cfg->journal_dir);
	if (err) {
		log_error("journal", "cannot open %s: %s", cfg->journal_dir, strerror(-err));
		goto out;
	}
	err = enforcer_start(&d->enforcer, on_record, d, cfg->verbose);
	if (err)
		goto out;
	err = enforcer_load_image(&d->enforcer, &d->image);
	if (err)
		goto out;
	err = listen_control(d);
	if (err)
		goto out;
	err = setup_loop(d);
	if (err) {
		log_error("daemon", "cannot set up the event loop: %s", strerror(-err));
		goto out;
	}
	log_info("daemon", "enforcing %zu policies from %s; journal %s; control socket %s",
		 d->policies.count, cfg->policy_dir, d->journal.path, cfg->socket_path);
	notify_ready();
	err = serve(d);
	enforcer_drain(&d->enforcer);
	log_info("daemon", "stopping: %llu records journaled, %llu not written",
		 (unsigned long long)d->records_written, (unsigned long long)d->records_unwritten);
out:
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(cfg->socket_path);
	}
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		if (d->clients[i].fd >= 0) {
			close(d->clients[i].fd);
			free(d->clients[i].buf);
		}
	}
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->enforcer.skel)
		enforcer_stop(&d->enforcer);
	release_all(d);
	journal_writer_close(&d->journal);
	workload_table_free(&d->workloads);
	policy_image_free(&d->image);
	policy_set_free(&d->policies);
	free(d);
	return err;
}
