/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "daemon/control_signals.h"
#include "daemon/daemon.h"
#include "daemon/discovery.h"
#include "daemon/pathwatch.h"
#include "daemon/peer.h"
#include "identity/cgroup.h"
#include "identity/workload.h"
#include "journal/sink.h"
#include "journal/v0.h"
#include "kernel/enforcer.h"
#include "kernel/pins.h"
#include "kernel/state.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/clock.h"
#include "util/io.h"
#include "util/json.h"
#include "util/log.h"

#define CONTROL_LINE_MAX (64 * 1024)
#define MAX_CLIENTS 256
/* How often workloads whose `actgate run` has gone are retried for removal. */
#define SWEEP_INTERVAL_MS 2000
/*
 * How long a replaced generation's rules stay in the kernel: a program that
 * read the old policy header just before the swap must still find its rules.
 * The programs are non-sleepable and finish in microseconds (well under a
 * millisecond even under emulation), so a quarter second is a wide margin
 * that still lets reloads follow each other quickly.
 */
#define UNLOAD_GRACE_NS 250000000LL
/*
 * After a change on the way to a rule's path, wait this long for more
 * before checking the paths again: a rename over a file comes with a
 * create and a move, a package upgrade with hundreds.
 */
#define PATH_SETTLE_NS 50000000LL
/* Where inotify cannot watch, every deny rule's path is checked this often. */
#define PATH_CHECK_INTERVAL_MS 10000

struct client {
	int fd;
	char *buf;
	size_t len;
};

/*
 * A loaded policy: the files' bytes as they were read, the set parsed from
 * them and the image compiled from it. The bytes are kept so that a rule
 * path that comes to resolve differently is compiled again from the same
 * policy, without taking edits made to the files since (those wait for a
 * reload).
 */
struct generation {
	struct policy_sources sources;
	struct policy_set set;
	struct policy_image image;
};

struct daemon {
	const struct daemon_config *cfg;
	struct generation current;
	/*
	 * The generation a reload replaced: its rules stay in the kernel until
	 * unload_at_ns (programs that read its header just before the swap may
	 * still look them up), and its names until the next reload, for records
	 * it decided that are still in the ring buffer.
	 */
	struct generation previous;
	int64_t previous_unload_at_ns; /* 0: not in the kernel */
	struct enforcer enforcer;
	struct jsink *journal;
	struct workload_table workloads;
	struct path_watch paths;
	uint64_t path_check_at_ns; /* when to check the rule paths again; 0: not due */
	bool path_rewatch;        /* and to watch their ways again (something changed there) */
	char cgroup_mount[PATH_MAX];
	int epoll_fd;
	int listen_fd;
	int signal_fd;
	struct client clients[MAX_CLIENTS];
	uint64_t next_workload_id;
	int64_t boot_to_wall_ns; /* add to a boot-clock time to get wall-clock time */
	gid_t socket_gid;        /* --socket-group; 0: root alone */
	struct sigctl sig; /* signals, revocations, grants (control_signals.c) */
	struct discovery discovery; /* units and containers under --watch-cgroup roots */
	/* Drop counts (the pinned map's, cumulative) as last logged and saved. */
	uint64_t dropped_seen[ACTGATE_NR_ACTIONS];
	uint64_t dropped_while_down; /* found at adoption: dropped while no daemon ran */
	/* The rule names of the generation an adopted set held (its image is gone). */
	struct rule_names adopted_names;
	uint32_t names_generation; /* the generation whose names are saved */
	bool stopping;
};

/* ---- time ---- */

static void refresh_clock_offset(struct daemon *d)
{
	d->boot_to_wall_ns = (int64_t)(wall_ns() - boot_ns());
}

/* ---- decision records -> journal ---- */

/* The generation that made a record: the current one or the one before it. */
static const struct generation *generation_of(const struct daemon *d, uint32_t generation)
{
	if (generation == d->current.image.generation)
		return &d->current;
	if (generation && generation == d->previous.image.generation)
		return &d->previous;
	return NULL;
}

/*
 * The policy a record names: the one whose rule or default decided; for a
 * decision no rule made (no policy, orphan, too deep) the workload's
 * policies, joined by ','.
 */
static void record_policy(const struct generation *g, const struct actgate_decision *rec,
			  char *out, size_t size)
{
	/* A grant's id is not a rule id: the workload's policies are named. */
	bool by_rule = rec->reason != ACTGATE_REASON_GRANT &&
		       rec->reason != ACTGATE_REASON_GRANT_EXPIRED;
	const char *name = g && by_rule ? policy_image_rule_policy(&g->image, rec->rule_id) : NULL;

	if (name)
		snprintf(out, size, "%s", name);
	else if (g)
		policy_image_policy_names(&g->image, rec->policy_id, out, size);
	else
		out[0] = '\0';
}

static int on_record(const struct actgate_decision *rec, size_t size, void *ctx)
{
	struct daemon *d = ctx;
	struct journal_record jr = { 0 };
	const struct workload *w = workload_table_find_id(&d->workloads, rec->workload_id);
	const struct generation *g = generation_of(d, rec->generation);
	char target[JOURNAL_TARGET_SIZE], rule[256], policy[1024];

	bool by_grant = sigctl_grant_rule(&d->sig, rec, rule, sizeof(rule));

	if (!by_grant && (!g || policy_image_rule_name(&g->image, rec->rule_id, rule, sizeof(rule))))
		rule[0] = '\0';
	record_policy(g, rec, policy, sizeof(policy));
	if (!by_grant && rec->generation && rec->generation == d->adopted_names.generation) {
		/* Decided under the generation the previous daemon left. */
		const struct rule_names *n = &d->adopted_names;

		if (rec->rule_id < n->count && n->rule[rec->rule_id]) {
			snprintf(rule, sizeof(rule), "%s", n->rule[rec->rule_id]);
			snprintf(policy, sizeof(policy), "%s", n->policy[rec->rule_id]);
		} else if (!policy[0] && w) {
			snprintf(policy, sizeof(policy), "%s", w->policies);
		}
	}

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
	jr.policy = policy;
	jr.rule = rule;
	jr.access = rec->action == ACTGATE_ACTION_OPEN ? rec->access : 0;
	journal_decision_target(rec, size, target, sizeof(target));
	jr.target = target;
	jr.signal_generation = rec->signal_generation;
	jr.signals = sigctl_record_signals(&d->sig, rec);

	/* Queued; written in one batch per drain. A failed write costs the record, not enforcement. */
	jsink_append(d->journal, &jr);
	return 0;
}

/* Take every waiting record from the kernel and write them to the journal at once. */
static void drain_records(struct daemon *d)
{
	enforcer_drain(&d->enforcer);
	jsink_flush(d->journal);
	/*
	 * Only now does the kernel get the space back: a daemon killed before
	 * this line leaves the records to the next one, which journals them.
	 * Records that could not be written are counted (by the store), not
	 * kept: the ring buffer must not fill up behind a full disk.
	 */
	enforcer_commit(&d->enforcer);
}

/*
 * Write the state file (src/state.h). A failure is logged and enforcement
 * goes on; what it costs is named in the message.
 */
static void save_state(struct daemon *d)
{
	char why[1024];

	/* The names first: a state file naming a generation has its names on disk. */
	if (d->current.image.rule_count && d->names_generation != d->current.image.generation) {
		if (state_save_names(d->cfg->state_dir, &d->current.image, why, sizeof(why)))
			log_error("state", "%s: records a restarted daemon journals for generation %u "
					   "would not name their rule",
				  why, d->current.image.generation);
		else
			d->names_generation = d->current.image.generation;
	}
	if (state_save(d->cfg->state_dir, d->current.image.generation, d->next_workload_id,
		       d->dropped_seen, &d->workloads, why, sizeof(why)))
		log_error("state", "%s: a daemon restarted now would not know every workload", why);
}

/* Log and save the drop counts when they have grown: the ring buffer was full. */
static void check_dropped(struct daemon *d)
{
	uint64_t now[ACTGATE_NR_ACTIONS] = { 0 };
	uint64_t more = 0;

	if (enforcer_dropped(&d->enforcer, now))
		return;
	for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++)
		more += now[a] - d->dropped_seen[a];
	if (!more)
		return;
	log_warn("bpf",
		 "ring buffer full: %llu more records dropped (in all: exec %llu, open %llu, "
		 "connect %llu, tamper %llu)",
		 (unsigned long long)more, (unsigned long long)now[ACTGATE_ACTION_EXEC],
		 (unsigned long long)now[ACTGATE_ACTION_OPEN],
		 (unsigned long long)now[ACTGATE_ACTION_CONNECT],
		 (unsigned long long)now[ACTGATE_ACTION_TAMPER]);
	memcpy(d->dropped_seen, now, sizeof(now));
	save_state(d);
}

/* ---- control socket ---- */

static int reply(int fd, struct json_out *j)
{
	int err;

	json_object_end(j);
	if (j->error)
		return j->error;
	/* One line per reply; the client reads up to '\n'. */
	if (!j->buf)
		return -EINVAL;
	err = send_all(fd, j->buf, j->len);
	return err ? err : send_all(fd, "\n", 1);
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
	uint64_t dropped[ACTGATE_NR_ACTIONS] = { 0 };
	struct json_out j;

	enforcer_dropped(&d->enforcer, dropped);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", true);
	json_add_u64(&j, "generation", d->current.image.generation);
	json_add_u64(&j, "policies", d->current.set.count);
	json_add_u64(&j, "effective_policies", d->current.image.policy_count);
	json_add_u64(&j, "workloads", d->workloads.count);
	jsink_status(d->journal, &j);
	/* Flat keys: the control protocol's objects carry strings only (labels). */
	for (uint8_t a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++) {
		char key[32];

		snprintf(key, sizeof(key), "dropped_%s", action_name(a));
		json_add_u64(&j, key, dropped[a]);
	}
	json_add_u64(&j, "signal_generation", d->sig.store.generation);
	json_add_u64(&j, "dropped_while_down", d->dropped_while_down);
	json_add_string(&j, "pin_dir", d->cfg->pin_dir);
	json_add_string(&j, "pins", d->enforcer.adopted ? "adopted" : "created");
	json_add_string(&j, "state_dir", d->cfg->state_dir);
	/* Per workload, keyed by its id: "workload.ID.name", ".policies", ".labels", ... */
	for (size_t i = 0; i < d->workloads.count; i++) {
		const struct workload *w = &d->workloads.items[i];
		char key[64];

#define WORKLOAD_KEY(field) \
	(snprintf(key, sizeof(key), "workload.%llu." field, (unsigned long long)w->id), key)
		json_add_string(&j, WORKLOAD_KEY("name"), w->name);
		json_add_string(&j, WORKLOAD_KEY("policies"), w->policies);
		json_add_string(&j, WORKLOAD_KEY("labels"), w->labels);
		json_add_string(&j, WORKLOAD_KEY("principal"), w->principal);
		json_add_string(&j, WORKLOAD_KEY("cgroup"), w->cgroup_path);
		json_add_u64(&j, WORKLOAD_KEY("policy_id"), w->policy_id);
		json_add_string(&j, WORKLOAD_KEY("signals"), sigctl_workload_signals(&d->sig, w->id));
#undef WORKLOAD_KEY
	}
	reply(fd, &j);
	json_out_free(&j);
}


/*
 * The effective policy of workload w in generation g: the composition of
 * every policy that selects w, each with the overlays its signals make
 * active. Compiled into g's image when no workload had that key yet; it is
 * then written to the kernel (when write is set; a reload writes the whole
 * image at once) before anything points at it. Returns 0 with *policy_id,
 * or -errno with the reason in why.
 */
static int bind_workload(struct daemon *d, struct generation *g, const struct workload *w,
			 bool write, uint32_t *policy_id, char *why, size_t why_size)
{
	struct workload_identity id = workload_identity_of(w);
	struct policy_selection *sel = NULL;
	struct signal_view signals = { 0 };
	struct diag_list diags = { 0 };
	size_t count = 0, index;
	bool added = false;
	int err;

	/* The signals w sees: a change of them binds every workload again (rebind_signals). */
	err = sigctl_view(&d->sig, w, &signals);
	if (err)
		goto fail;
	err = policy_selection_of(&g->set, &id, &signals, &sel, &count);
	if (err == -ENOENT) {
		snprintf(why, why_size,
			 "no policy in %s selects workload \"%s\" (cgroup %s, labels {%s})",
			 d->cfg->policy_dir, w->name, id.cgroup ? id.cgroup : "?", w->labels);
		goto out;
	}
	if (err)
		goto fail;
	err = policy_image_effective(&g->image, sel, count, &index, &added, &diags);
	if (err == -EINVAL) {
		diag_first_error(&diags, "the policy cannot be compiled", why, why_size);
		goto out;
	}
	if (err == -ENOSPC) {
		snprintf(why, why_size,
			 "generation %u has no policy id left (%u effective policies); reload the "
			 "policies to start a new one",
			 g->image.generation, POLICY_MAX_PER_GENERATION);
		goto out;
	}
	if (err)
		goto fail;
	if (added && write) {
		err = enforcer_load_policy(&d->enforcer, &g->image, &g->image.policies[index]);
		if (err) {
			/* Not in the kernel whole: the next workload with this key tries again. */
			enforcer_unload_policy(&d->enforcer, &g->image, &g->image.policies[index]);
			policy_image_drop_last(&g->image);
			goto fail;
		}
	}
	*policy_id = g->image.policies[index].policy_id;
	goto out;
fail:
	snprintf(why, why_size, "cannot set up the policy of workload \"%s\": %s", w->name,
		 strerror(-err));
out:
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	free((void *)signals.values);
	free(sel);
	return err;
}

/* The names of the policies of an effective policy, joined by ',' (malloc'd). */
static char *policy_names(const struct generation *g, uint32_t policy_id)
{
	int n = policy_image_policy_names(&g->image, policy_id, NULL, 0);
	char *names = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (names)
		policy_image_policy_names(&g->image, policy_id, names, (size_t)n + 1);
	return names;
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
	char why[1024], leaf[128], path[PATH_MAX], fs_path[PATH_MAX];
	struct json_out j;
	uint64_t ttl_ns;
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
	if (sigctl_check_run(&d->sig, msg, name, principal, &ttl_ns, why, sizeof(why)) ||
	    parse_labels(json_msg_get(msg, "labels"), &w.labels, why, sizeof(why))) {
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
	w.name = strdup(name);
	w.principal = strdup(principal ? principal : "");
	w.cgroup_path = strdup(path);
	if (!w.name || !w.principal || !w.cgroup_path ||
	    labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text)) {
		reply_error(fd, "run: out of memory");
		goto fail;
	}
	/* Selected by its name, labels and the cgroup it is about to get. */
	if (bind_workload(d, &d->current, &w, true, &w.policy_id, why, sizeof(why))) {
		reply_error(fd, "run: %s", why);
		goto fail;
	}
	w.policies = policy_names(&d->current, w.policy_id);
	if (!w.policies) {
		reply_error(fd, "run: out of memory");
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
	/* Its expiry (--ttl) too is in the kernel before the reply. */
	err = sigctl_workload_started(&d->sig, &w, ttl_ns);
	if (err) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		reply_error(fd, "run: cannot set the workload's time to live: %s", strerror(-err));
		goto fail_rmdir;
	}
	if (workload_table_add(&d->workloads, &w) < 0) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		reply_error(fd, "run: out of memory");
		goto fail_rmdir;
	}
	/* Before the reply: a workload whose command runs is one a restart knows. */
	save_state(d);
	log_info("run", "workload %s (id %llu, policies %s, labels {%s}) in cgroup %s", name,
		 (unsigned long long)w.id, w.policies, w.labels, path);

	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", true);
	json_add_u64(&j, "workload_id", w.id);
	json_add_string(&j, "cgroup", path);
	json_add_string(&j, "cgroup_dir", fs_path);
	json_add_string(&j, "policies", w.policies);
	reply(fd, &j);
	json_out_free(&j);
	return;
fail_rmdir:
	rmdir(fs_path);
fail:
	workload_clear(&w);
}

static int daemon_reload(struct daemon *d, char **report);

static void handle_reload(struct daemon *d, int fd)
{
	char *report = NULL;
	struct json_out j;
	int err = daemon_reload(d, &report);

	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", err == 0);
	if (err)
		json_add_string(&j, "error", report && report[0] ? report : strerror(-err));
	else
		json_add_string(&j, "diagnostics", report ? report : "");
	json_add_u64(&j, "generation", d->current.image.generation);
	json_add_u64(&j, "policies", d->current.set.count);
	reply(fd, &j);
	json_out_free(&j);
	free(report);
}

/*
 * Refuse peers that are not root (or of --socket-group), and peers inside a
 * governed workload: by their cgroup, and by the kernel's mark, which a
 * governed task keeps even after it moved to another cgroup.
 */
static int check_peer(struct daemon *d, int fd, char *why, size_t why_size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[PATH_MAX];
	int err;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid != 0 && !(d->socket_gid && control_peer_in_group(cred.pid, cred.gid,
								      d->socket_gid))) {
		snprintf(why, why_size,
			 "permission denied: control requests need uid 0%s (peer uid %u)",
			 d->socket_gid ? " or the socket's group" : "", cred.uid);
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
	err = enforcer_task_governed(&d->enforcer, cred.pid);
	if (err) {
		snprintf(why, why_size, "permission denied: %s",
			 err > 0 ? "the request comes from a governed workload's process"
				 : "cannot tell whether the peer is governed");
		return -EPERM;
	}
	return 0;
}

/* A key a verb does not know is refused: a misspelt option must not pass unnoticed. */
static int check_keys(const struct json_msg *msg, const char *verb, char *why, size_t why_size)
{
	static const char *const run_keys[] = { "verb", "workload", "principal", "labels", "ttl_ms",
						NULL };
	static const char *const verb_only[] = { "verb", NULL };
	const char *const *allowed = strcmp(verb, "run") == 0 ? run_keys : verb_only;

	for (size_t i = 0; i < msg->count; i++) {
		const char *const *k = allowed;

		while (*k && strcmp(*k, msg->members[i].key) != 0)
			k++;
		if (!*k) {
			snprintf(why, why_size, "unknown key \"%.64s\" for verb \"%.32s\"",
				 msg->members[i].key, verb);
			return -EINVAL;
		}
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
	else if (sigctl_handles(verb))
		sigctl_handle(&d->sig, fd, verb, &msg); /* checks its own keys */
	else if (check_keys(&msg, verb, why, sizeof(why)))
		reply_error(fd, "malformed request: %s", why);
	else if (strcmp(verb, "status") == 0)
		handle_status(d, fd);
	else if (strcmp(verb, "run") == 0)
		handle_run(d, fd, &msg);
	else if (strcmp(verb, "reload") == 0)
		handle_reload(d, fd);
	else
		reply_error(fd, "unknown verb \"%s\" (known: grant, grant-list, grant-remove, reload, "
			    "revoke, revoke-list, run, signal-clear, signal-ingest, signal-list, "
			    "signal-set, status)", verb);
	json_msg_free(&msg);
}

/*
 * A workload whose `actgate run` is gone is removed once its cgroup is
 * empty; until then it stays governed, so stray descendants stay policed.
 */
static void sweep_workloads(struct daemon *d)
{
	bool removed = false;

	for (size_t i = 0; i < d->workloads.count;) {
		struct workload *w = &d->workloads.items[i];
		char fs_path[PATH_MAX];

		if (w->discovered) {
			/* Not ours to remove: it goes once its runtime removed the cgroup. */
			if (!cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) &&
			    access(fs_path, F_OK) < 0 && errno == ENOENT) {
				log_info("discovery", "%s (%s) is gone", w->name, w->cgroup_path);
				enforcer_remove_workload(&d->enforcer, w->cgroup_id);
				workload_table_remove(&d->workloads, w);
				removed = true;
				continue;
			}
			i++;
			continue;
		}
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
		removed = true;
	}
	if (removed)
		save_state(d);
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
	drain_records(d);
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
	/*
	 * A socket left by a daemon that died is stale and goes; one that
	 * answers belongs to a running actgated, which we must not cut off.
	 */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		log_error("control", "%s: another actgated is running and listening there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* root:GROUP 0660 before listen(): nobody else can connect in between. */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chown(path, 0, d->socket_gid) < 0 || chmod(path, 0660) < 0 || listen(fd, 64) < 0) {
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

/*
 * Read (unless g->sources already holds the files' bytes), parse, validate
 * and compile the policy directory as generation into g. Every diagnostic
 * is printed to stderr (the daemon's log) and, when report is given, also
 * kept there for a client (malloc'd text). On failure g's set and image are
 * empty; its sources stay as they were given.
 */
static int load_policies(const struct daemon_config *cfg, uint32_t generation,
			 struct generation *g, char **report)
{
	struct diag_list diags = { 0 };
	size_t report_len = 0;
	FILE *mem;
	int err = 0;

	if (!g->sources.count)
		err = policy_sources_read_dir(cfg->policy_dir, &g->sources, &diags);
	if (!err)
		err = policy_load_sources(&g->sources, &g->set, &diags);
	if (!err)
		err = policy_compile(&g->set, generation, resolve_path_stat, NULL, &g->image,
				     &diags);
	diag_print(&diags, stderr);
	if (report && (mem = open_memstream(report, &report_len))) {
		diag_print(&diags, mem);
		fclose(mem);
	}
	diag_list_free(&diags);
	if (err) {
		log_error("policy", "%s: refusing a policy that cannot be enforced as written",
			  cfg->policy_dir);
		policy_set_free(&g->set);
	}
	return err;
}

static void generation_free(struct generation *g)
{
	policy_image_free(&g->image);
	policy_set_free(&g->set);
	policy_sources_free(&g->sources);
}

/* Take the replaced generation's rules out of the kernel once its grace is over. */
static void unload_previous(struct daemon *d, bool wait)
{
	int64_t now;

	if (!d->previous_unload_at_ns)
		return;
	now = mono_ns();
	if (now < d->previous_unload_at_ns) {
		struct timespec ts;
		int64_t left = d->previous_unload_at_ns - now;

		if (!wait)
			return;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	enforcer_unload_image(&d->enforcer, &d->previous.image);
	d->previous_unload_at_ns = 0;
}

/*
 * Bind every live workload in generation g (see bind_workload), without
 * writing anything to the kernel: ids[i] is the effective policy of
 * workload i. On failure why names the workload.
 */
static int bind_all(struct daemon *d, struct generation *g, uint32_t *ids, char *why,
		    size_t why_size)
{
	char reason[768];

	for (size_t i = 0; i < d->workloads.count; i++) {
		const struct workload *w = &d->workloads.items[i];
		int err = bind_workload(d, g, w, false, &ids[i], reason, sizeof(reason));

		if (err) {
			snprintf(why, why_size, "workload \"%s\" (id %llu): %s", w->name,
				 (unsigned long long)w->id, reason);
			return err;
		}
	}
	return 0;
}

/*
 * Point every workload at its policy of ids (one atomic map update each,
 * so each workload sees its old policy or its new one, never a mix). On
 * failure those already moved are put back, and the workloads are as
 * they were.
 */
static int swap_workloads(struct daemon *d, const struct generation *g, const uint32_t *ids)
{
	char **names = calloc(d->workloads.count + 1, sizeof(*names));
	size_t i;
	int err = 0;

	for (i = 0; names && i < d->workloads.count; i++) {
		names[i] = policy_names(g, ids[i]);
		if (!names[i])
			break;
	}
	if (!names || i < d->workloads.count) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];

		err = enforcer_add_workload(&d->enforcer, w->cgroup_id, w->id, ids[i]);
		if (err) {
			while (i-- > 0) {
				w = &d->workloads.items[i];
				enforcer_add_workload(&d->enforcer, w->cgroup_id, w->id, w->policy_id);
			}
			goto out;
		}
	}
	for (i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];

		w->policy_id = ids[i];
		free(w->policies);
		w->policies = names[i];
		names[i] = NULL;
	}
out:
	for (i = 0; names && i < d->workloads.count; i++)
		free(names[i]);
	free(names);
	return err;
}

/*
 * Watch the ways to the current generation's rule paths, then check them
 * at once: a change between the compilation and the watch has no event.
 */
static void follow_paths(struct daemon *d)
{
	char changed[PATH_MAX];

	if (path_watch_set(&d->paths, &d->current.image)) {
		d->path_rewatch = true; /* logged; try again at the next check */
	} else if (path_watch_stale(&d->paths, changed, sizeof(changed)) == 0) {
		return;
	}
	d->path_check_at_ns = mono_ns() + PATH_SETTLE_NS;
}

/*
 * Compile a new generation, compile the effective policy of every live
 * workload under it, write it next to the running one, point every
 * workload at its new policy, then retire the old generation. From the
 * policy directory as it is now (a reload) or, with same_sources, from the
 * bytes the running generation was compiled from (a rule's path resolves
 * differently). Anything that cannot be done leaves the running generation
 * as it was. report gets the diagnostics (malloc'd).
 */
static int switch_generation(struct daemon *d, bool same_sources, char **report)
{
	struct generation next = { 0 };
	uint32_t generation = d->current.image.generation % POLICY_MAX_GENERATION + 1;
	uint32_t *ids = NULL;
	char why[1024];
	int err;

	*report = NULL;
	unload_previous(d, true);
	/* Moved, not copied: the generation being replaced needs its set and image only. */
	if (same_sources) {
		next.sources = d->current.sources;
		d->current.sources = (struct policy_sources){ 0 };
	}
	err = load_policies(d->cfg, generation, &next, report);
	if (err)
		goto refuse;
	if (same_sources) {
		err = policy_image_follow(&next.image, &d->current.image);
		if (err) {
			log_error("paths", "cannot carry generation %u's files into the next one: %s",
				  d->current.image.generation, strerror(-err));
			goto refuse;
		}
	}
	ids = calloc(d->workloads.count + 1, sizeof(*ids));
	if (!ids) {
		err = -ENOMEM;
		goto refuse;
	}
	err = bind_all(d, &next, ids, why, sizeof(why));
	if (err) {
		char *with = NULL;

		if (asprintf(&with, "%sreload refused: %s; it is running now\n",
			     *report ? *report : "", why) >= 0) {
			free(*report);
			*report = with;
		}
		log_error("policy", "reload refused: %s; it is running now", why);
		goto refuse;
	}
	err = enforcer_load_image(&d->enforcer, &next.image);
	if (err) {
		enforcer_unload_image(&d->enforcer, &next.image);
		goto refuse;
	}
	/*
	 * Records decided under the generation before last are all in the ring
	 * buffer by now: journal them while it still has its names. Before the
	 * swap, not after: a record of the new generation drained before it is
	 * current would find no names.
	 */
	drain_records(d);
	err = swap_workloads(d, &next, ids);
	if (err) {
		enforcer_unload_image(&d->enforcer, &next.image);
		goto refuse;
	}
	free(ids);
	generation_free(&d->previous);
	d->previous = d->current;
	d->current = next;
	d->previous_unload_at_ns = mono_ns() + UNLOAD_GRACE_NS;
	sigctl_bound(&d->sig);
	save_state(d);
	log_info("policy", "generation %u: %zu policies from %s, %zu effective for %zu workloads",
		 generation, d->current.set.count, d->cfg->policy_dir,
		 d->current.image.policy_count, d->workloads.count);
	follow_paths(d);
	return 0;
refuse:
	free(ids);
	if (same_sources) {
		d->current.sources = next.sources;
		next.sources = (struct policy_sources){ 0 };
	}
	generation_free(&next);
	log_error("policy", "reload failed; generation %u stays in force",
		  d->current.image.generation);
	return err ? err : -EINVAL;
}

/*
 * The signals changed: bind every workload again in the current generation
 * (new effective policies are compiled and written before anything points
 * at them) and point each at its policy with one map update, as a reload
 * does. Each entry is stamped with the store's new generation.
 */
static int rebind_signals(void *ctx, char *why, size_t why_size)
{
	struct daemon *d = ctx;
	uint64_t before = d->enforcer.signal_generation;
	uint32_t *ids = calloc(d->workloads.count + 1, sizeof(*ids));
	int err;

	if (!ids) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->workloads.count; i++) {
		const struct workload *w = &d->workloads.items[i];
		char reason[768];

		err = bind_workload(d, &d->current, w, true, &ids[i], reason, sizeof(reason));
		if (err) {
			snprintf(why, why_size, "workload \"%s\" (id %llu): %s", w->name,
				 (unsigned long long)w->id, reason);
			goto out;
		}
	}
	d->enforcer.signal_generation = d->sig.store.generation;
	err = swap_workloads(d, &d->current, ids);
	if (err) {
		d->enforcer.signal_generation = before;
		snprintf(why, why_size, "cannot point the workloads at their policies: %s",
			 strerror(-err));
	}
out:
	free(ids);
	return err;
}

/*
 * A workload the daemon did not start (discovery.h): a watched root, or a
 * unit or container found below one. Governed in the kernel before this
 * returns. -ENOENT when no policy selects it (why says), else -errno.
 */
static int add_discovered(struct daemon *d, const char *name, const char *labels,
			  const char *cgroup_path, char *why, size_t why_size)
{
	struct workload w = { .owner_fd = -1, .discovered = true };
	char fs_path[PATH_MAX];
	int err = -ENOMEM;

	w.id = d->next_workload_id++;
	w.name = strdup(name);
	w.principal = strdup("");
	w.labels = strdup(labels);
	w.cgroup_path = strdup(cgroup_path);
	if (!w.name || !w.principal || !w.labels || !w.cgroup_path ||
	    labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text)) {
		snprintf(why, why_size, "out of memory");
		goto fail;
	}
	err = cgroup_fs_path(d, cgroup_path, fs_path, sizeof(fs_path));
	if (!err)
		err = cgroup_id_at(fs_path, &w.cgroup_id);
	if (err) {
		snprintf(why, why_size, "cannot read the id of cgroup %s: %s", cgroup_path,
			 strerror(-err));
		goto fail;
	}
	err = bind_workload(d, &d->current, &w, true, &w.policy_id, why, why_size);
	if (err)
		goto fail;
	w.policies = policy_names(&d->current, w.policy_id);
	if (!w.policies) {
		err = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto fail;
	}
	err = enforcer_add_workload(&d->enforcer, w.cgroup_id, w.id, w.policy_id);
	if (!err)
		err = sigctl_workload_started(&d->sig, &w, 0);
	if (!err) {
		err = workload_table_add(&d->workloads, &w);
		if (err)
			enforcer_remove_workload(&d->enforcer, w.cgroup_id);
	}
	if (err) {
		snprintf(why, why_size, "cannot register it in the kernel: %s", strerror(-err));
		goto fail;
	}
	log_info("discovery", "workload %s (id %llu, policies %s, labels {%s}) in cgroup %s", name,
		 (unsigned long long)w.id, w.policies, w.labels, cgroup_path);
	save_state(d); /* a restarted daemon adopts it (mark_discovered) */
	return 0;
fail:
	workload_clear(&w);
	return err;
}

static bool discovery_known(void *ctx, const char *cgroup_path)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->workloads.count; i++)
		if (!strcmp(d->workloads.items[i].cgroup_path, cgroup_path))
			return true;
	return false;
}

static int discovery_found(void *ctx, const char *cgroup_path, const struct cgroup_identity *id)
{
	struct daemon *d = ctx;
	char *labels = strdup(""), why[1024];
	int err;

	for (size_t i = 0; labels && i < id->label_count; i++) {
		char *next = labels_add(labels, id->labels[i].key, id->labels[i].value);

		free(labels);
		labels = next;
	}
	if (!labels)
		return -ENOMEM;
	err = add_discovered(d, id->name, labels, cgroup_path, why, sizeof(why));
	if (err && err != -ENOENT)
		log_error("discovery", "%s (%s): %s", cgroup_path, id->name, why);
	free(labels);
	return err;
}

/*
 * Workloads adopted from the previous daemon's state that discovery made:
 * a watched root under its root name, or a unit or container below one
 * under the name its path gives. The state file does not say so; the
 * names do, and their cgroups must never be removed by the sweep.
 */
static void mark_discovered(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	char name[WORKLOAD_NAME_MAX + 64];

	for (size_t i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];
		struct cgroup_identity id;

		for (size_t r = 0; r < cfg->watch_count && !w->discovered; r++) {
			const char *root = cfg->watch_cgroups[r];

			discovery_root_name(root, name, sizeof(name));
			if (!strcmp(w->cgroup_path, root))
				w->discovered = !strcmp(w->name, name);
			else if (cgroup_path_within(w->cgroup_path, root) &&
				 !identity_parse_cgroup(w->cgroup_path, &id) && id.kind != IDENTITY_NONE)
				w->discovered = !strcmp(w->name, id.name);
		}
	}
}

/*
 * Each watched root becomes the workload "unidentified:ROOT", so that the
 * kernel governs every cgroup below it from its first action, before a
 * scan identifies it. A root no policy selects, or one that holds actgated
 * itself, refuses the start: never a watched root that is not policed.
 */
static int watch_roots(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	struct discovery_host host = { .ctx = d, .cgroup_mount = d->cgroup_mount,
				       .known = discovery_known, .found = discovery_found };
	char own[PATH_MAX], name[WORKLOAD_NAME_MAX + 64], why[1024];
	int err;

	if (!cfg->watch_count)
		return 0;
	mark_discovered(d);
	err = cgroup_of_pid(getpid(), own, sizeof(own));
	if (err) {
		log_error("discovery", "cannot read actgated's own cgroup: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < cfg->watch_count; i++) {
		const char *root = cfg->watch_cgroups[i];

		if (cgroup_path_within(own, root)) {
			log_error("discovery",
				  "--watch-cgroup %s: actgated runs in %s, below it, and would govern "
				  "itself; run it in a cgroup of its own (Slice= in its unit)",
				  root, own);
			return -EINVAL;
		}
		discovery_root_name(root, name, sizeof(name));
		if (discovery_known(d, root))
			continue; /* adopted from the previous daemon (mark_discovered) */
		err = add_discovered(d, name, "", root, why, sizeof(why));
		if (err) {
			log_error("discovery", "--watch-cgroup %s: %s%s", root, why,
				  err == -ENOENT ? " (write a policy selecting it: the default for "
						   "cgroups not identified yet)" : "");
			return err;
		}
	}
	discovery_init(&d->discovery, &host, cfg->watch_cgroups, cfg->watch_count);
	/* Before ready: what is already there is identified before we say we enforce. */
	discovery_tick(&d->discovery);
	return 0;
}

static const struct policy_set *current_set(void *ctx)
{
	return &((struct daemon *)ctx)->current.set;
}

static int daemon_reload(struct daemon *d, char **report)
{
	return switch_generation(d, false, report);
}

/*
 * A change on the way to some rule's path: when a path now resolves to
 * another file (or to one at all, or to none), compile the running policy
 * again so that its rules hold for the file that is there now.
 */
static void check_paths(struct daemon *d)
{
	char changed[PATH_MAX], *report = NULL;

	d->path_check_at_ns = 0;
	if (!path_watch_stale(&d->paths, changed, sizeof(changed))) {
		/* Directories may have appeared on the way to missing paths: watch them too. */
		if (d->path_rewatch)
			follow_paths(d);
		d->path_rewatch = false;
		return;
	}
	d->path_rewatch = false;
	log_info("paths", "%s resolves to another file now: compiling generation %u's policy "
		 "again", changed, d->current.image.generation);
	if (switch_generation(d, true, &report)) {
		/* Logged; the running generation still names the old file. Try again later. */
		d->path_check_at_ns = mono_ns() + PATH_CHECK_INTERVAL_MS * 1000000LL;
	}
	free(report);
}

int daemon_check_config(const struct daemon_config *cfg)
{
	struct generation g = { 0 };
	int err = load_policies(cfg, 1, &g, NULL);

	/* Counted for each policy alone: a workload's composed policy differs. */
	if (!err)
		printf("%s: %zu policies, %zu path rules resolved, %zu connect prefixes: ok\n",
		       cfg->policy_dir, g.set.count, g.image.checked_path_rules,
		       g.image.checked_net_entries);
	generation_free(&g);
	return err;
}

/* The signals the event loop takes through a signalfd. */
static void handled_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
}

static int setup_loop(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	handled_signals(&mask);
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
	ev.data.u64 = 4;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->paths.inotify_fd, &ev) < 0)
		return -errno;
	ev = (struct epoll_event){ .events = EPOLLPRI, .data.u64 = 5 };
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->paths.mounts_fd, &ev) < 0)
		return -errno;
	return 0;
}

static void handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char *report = NULL;

			log_info("policy", "SIGHUP: reloading %s", d->cfg->policy_dir);
			daemon_reload(d, &report); /* the outcome is logged */
			free(report);
		} else {
			d->stopping = true;
		}
	}
}

/* Check the rule paths once things settle; after a change on their way, watch it again. */
static void check_paths_soon(struct daemon *d, bool changed)
{
	if (!d->path_check_at_ns)
		d->path_check_at_ns = mono_ns() + PATH_SETTLE_NS;
	d->path_rewatch |= changed;
}

static int serve(struct daemon *d)
{
	uint64_t next_sweep_ns = mono_ns();
	uint64_t next_path_check_ns = next_sweep_ns + PATH_CHECK_INTERVAL_MS * 1000000LL;
	struct epoll_event events[16];

	while (!d->stopping) {
		/* Records wake us only in bulk (see bpf/common.h): drain on a short timer too. */
		int n = epoll_wait(d->epoll_fd, events, 16,
				   sigctl_timeout_ms(&d->sig, ACTGATE_DRAIN_INTERVAL_MS));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		refresh_clock_offset(d);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;

			/* Tag 2, records waiting, needs nothing here: every round drains. */
			if (tag == 1)
				handle_signal(d);
			else if (tag == 3)
				accept_client(d);
			else if (tag == 4 && path_watch_read_events(&d->paths))
				check_paths_soon(d, true);
			else if (tag == 5)
				check_paths_soon(d, true); /* a mount or unmount */
			else if (tag >= 1000 && d->clients[tag - 1000].fd >= 0)
				client_readable(d, &d->clients[tag - 1000]);
		}
		drain_records(d);
		jsink_tick(d->journal);
		if (mono_ns() >= next_sweep_ns) {
			sweep_workloads(d);
			check_dropped(d);
			next_sweep_ns = mono_ns() + SWEEP_INTERVAL_MS * 1000000LL;
		}
		/*
		 * Only where inotify could not watch: a stat of every deny
		 * rule's path is not free with 100,000 rules.
		 */
		if (mono_ns() >= next_path_check_ns) {
			if (d->paths.unwatched)
				check_paths_soon(d, false);
			next_path_check_ns =
				mono_ns() + PATH_CHECK_INTERVAL_MS * 1000000LL;
		}
		if (d->path_check_at_ns && mono_ns() >= d->path_check_at_ns)
			check_paths(d);
		unload_previous(d, false);
		sigctl_tick(&d->sig);
		discovery_tick(&d->discovery);
	}
	return 0;
}

/*
 * Is workload w still what the state file says: its cgroup there, with the
 * same id (a cgroup removed and made again under the same path is another
 * one)? And does the kernel still govern it?
 */
static bool workload_alive(const struct daemon *d, const struct workload *w,
			   const uint64_t *kernel_ids, size_t kernel_count)
{
	char fs_path[PATH_MAX];
	uint64_t id = 0;
	bool in_kernel = false;

	for (size_t i = 0; i < kernel_count; i++)
		in_kernel |= kernel_ids[i] == w->cgroup_id;
	return in_kernel && !cgroup_fs_path(d, w->cgroup_path, fs_path, sizeof(fs_path)) &&
	       !cgroup_id_at(fs_path, &id) && id == w->cgroup_id;
}

/*
 * Reconcile the kernel's workloads with the state: a workload whose cgroup
 * went while no daemon ran is swept; a kernel entry the state does not know
 * (a daemon killed between registering a workload and saving it, before its
 * `actgate run` got an answer, so before anything ran in it) goes too.
 */
static int reconcile_workloads(struct daemon *d)
{
	uint64_t *ids = NULL;
	size_t count = 0;
	int err = enforcer_workload_cgroups(&d->enforcer, &ids, &count);

	if (err) {
		log_error("bpf", "cannot list the adopted workloads: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < d->workloads.count;) {
		struct workload *w = &d->workloads.items[i];

		if (workload_alive(d, w, ids, count)) {
			i++;
			continue;
		}
		log_info("state", "workload %s (id %llu): its cgroup %s went while no daemon ran; "
				  "removed",
			 w->name, (unsigned long long)w->id, w->cgroup_path);
		enforcer_remove_workload(&d->enforcer, w->cgroup_id);
		workload_table_remove(&d->workloads, w);
	}
	for (size_t k = 0; k < count; k++) {
		bool known = false;

		for (size_t i = 0; i < d->workloads.count; i++)
			known |= d->workloads.items[i].cgroup_id == ids[k];
		if (known)
			continue;
		log_warn("state", "cgroup %llu is governed in the kernel but not in the state file; "
				  "removed",
			 (unsigned long long)ids[k]);
		enforcer_remove_workload(&d->enforcer, ids[k]);
	}
	free(ids);
	return 0;
}

/*
 * Take over from a daemon that died or stopped: its workloads from the state
 * file, the records its ring buffer kept, the drops it missed; then the
 * policy on disk as the next generation, like a reload, and the older
 * generations out of the maps. Until the reload succeeds the adopted maps
 * go on enforcing the generation the previous daemon left, so a failure here
 * (logged) stops this daemon but never enforcement.
 */
static int adopt_pins(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	struct daemon_state st;
	uint64_t now[ACTGATE_NR_ACTIONS] = { 0 };
	uint64_t written_before = 0, written = 0, lost = 0;
	char why[1024], *report = NULL;
	long purged;
	int err;

	err = state_load(cfg->state_dir, &st, why, sizeof(why));
	if (err) {
		log_error("state", "%s. The pins at %s keep enforcing what they held, unjournaled. "
				   "%s; or stop enforcement with `actgate detach --pin-dir %s`",
			  why, cfg->pin_dir,
			  err == -ENOENT ? "Start actgated with the --state-dir the pins were made with"
					 : "Repair or restore the file",
			  cfg->pin_dir);
		return err;
	}
	err = state_load_names(cfg->state_dir, &d->adopted_names, why, sizeof(why));
	if (!err && d->adopted_names.generation != st.generation) {
		snprintf(why, sizeof(why), "the names file is of generation %u",
			 d->adopted_names.generation);
		rule_names_free(&d->adopted_names);
		err = -ESTALE;
	}
	if (err)
		log_warn("state", "%s: records of generation %u journaled now do not name their rule",
			 why, st.generation);
	workload_table_free(&d->workloads);
	d->workloads = st.workloads;
	d->next_workload_id = st.next_workload_id;
	memcpy(d->dropped_seen, st.dropped, sizeof(d->dropped_seen));
	/* The generation the maps hold; its image died with the previous daemon. */
	generation_free(&d->current);
	d->current.image.generation = st.generation;
	log_info("state", "adopting %s: generation %u, %zu workloads", cfg->pin_dir, st.generation,
		 d->workloads.count);

	/* What the kernel recorded while no daemon ran, named by the adopted workloads. */
	jsink_counts(d->journal, &written_before, &lost);
	drain_records(d);
	jsink_counts(d->journal, &written, &lost);
	if (!enforcer_dropped(&d->enforcer, now)) {
		for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++)
			d->dropped_while_down += now[a] - d->dropped_seen[a];
		if (d->dropped_while_down)
			log_warn("bpf",
				 "%llu records dropped while no daemon ran: the ring buffer was full "
				 "(in all: exec %llu, open %llu, connect %llu, tamper %llu)",
				 (unsigned long long)d->dropped_while_down,
				 (unsigned long long)now[ACTGATE_ACTION_EXEC],
				 (unsigned long long)now[ACTGATE_ACTION_OPEN],
				 (unsigned long long)now[ACTGATE_ACTION_CONNECT],
				 (unsigned long long)now[ACTGATE_ACTION_TAMPER]);
		memcpy(d->dropped_seen, now, sizeof(now));
	}
	log_info("journal", "%llu records journaled from the adopted ring buffer",
		 (unsigned long long)(written - written_before));

	err = reconcile_workloads(d);
	if (err)
		return err;
	err = daemon_reload(d, &report);
	free(report);
	if (err) {
		log_error("policy", "the policy in %s cannot replace generation %u, which the pins "
				    "keep enforcing; fix it and start actgated again",
			  cfg->policy_dir, st.generation);
		return err;
	}
	/* Past the grace period no program still reads an old header. */
	unload_previous(d, true);
	purged = enforcer_purge_generations(&d->enforcer, d->current.image.generation);
	if (purged < 0)
		return (int)purged;
	log_info("policy", "removed %ld entries of older generations", purged);
	save_state(d);
	return 0;
}

int daemon_run(const struct daemon_config *cfg)
{
	struct daemon *d;
	sigset_t mask;
	char why[512];
	int err;

	/*
	 * Blocked before any thread starts (the journal's compression
	 * workers): a thread that has them unblocked would take SIGHUP's
	 * default action, and the daemon would die instead of reloading.
	 */
	handled_signals(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->epoll_fd = d->listen_fd = d->signal_fd = -1;
	d->paths.inotify_fd = d->paths.mounts_fd = -1;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	/* Ids unique across daemon restarts without state: start from the clock. */
	d->next_workload_id = (uint64_t)time(NULL) << 16;
	refresh_clock_offset(d);

	err = load_policies(cfg, 1, &d->current, NULL);
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
	err = jsink_open(&d->journal, &(struct jsink_config){
		.dir = cfg->journal_dir, .key_path = cfg->journal_key,
		.fsync_every_records = cfg->fsync_every_records,
		.fsync_every_ms = cfg->fsync_every_ms });
	if (err)
		goto out;
	err = state_check_dir(cfg->state_dir, why, sizeof(why));
	if (err) {
		log_error("state", "%s: a restarted daemon could not take over", why);
		goto out;
	}
	if (cfg->socket_group) {
		err = control_group_resolve(cfg->socket_group, &d->socket_gid, why, sizeof(why));
		if (err) {
			log_error("control", "--socket-group %s: %s", cfg->socket_group, why);
			goto out;
		}
	}
	/* Before adoption, whose reload follows the new generation's paths. */
	err = path_watch_open(&d->paths);
	if (err)
		goto out;
	{
		/* Before adoption: its reload binds workloads, which reads the signals. */
		struct sigctl_host host = { .ctx = d, .workloads = &d->workloads,
					    .enforcer = &d->enforcer, .policy_set = current_set,
					    .rebind = rebind_signals };

		err = sigctl_init(&d->sig, &host, cfg->spool_dir);
		if (err)
			goto out;
	}
	/* Before attaching: a second daemon must fail before it enforces anything. */
	err = listen_control(d);
	if (err)
		goto out;
	{
		struct enforcer_config ecfg = { .pin_dir = cfg->pin_dir,
						.events_bytes = cfg->events_bytes,
						.verbose = cfg->verbose };

		err = enforcer_start(&d->enforcer, &ecfg, on_record, d);
	}
	if (err)
		goto out;
	if (d->enforcer.adopted) {
		err = adopt_pins(d);
	} else {
		err = enforcer_load_image(&d->enforcer, &d->current.image);
		if (!err)
			save_state(d);
	}
	if (err)
		goto out;
	follow_paths(d);
	sigctl_bound(&d->sig); /* adopted workloads too */
	err = watch_roots(d);
	if (err)
		goto out;
	err = setup_loop(d);
	if (err) {
		log_error("daemon", "cannot set up the event loop: %s", strerror(-err));
		goto out;
	}
	log_info("daemon", "enforcing %zu policies from %s; journal %s; control socket %s; pins %s (%s)",
		 d->current.set.count, cfg->policy_dir, jsink_dir(d->journal), cfg->socket_path,
		 cfg->pin_dir, d->enforcer.adopted ? "adopted" : "created");
	notify_ready();
	err = serve(d);
	drain_records(d);
	check_dropped(d);
	save_state(d);
	/* No daemon to protect from now on; the pins keep enforcing. */
	enforcer_set_daemon(&d->enforcer, 0);
	{
		uint64_t written, lost;

		jsink_counts(d->journal, &written, &lost);
		log_info("daemon", "stopping: %llu records journaled, %llu not written; enforcement "
				   "goes on from the pins in %s (`actgate detach` ends it)",
			 (unsigned long long)written, (unsigned long long)lost, cfg->pin_dir);
	}
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
	path_watch_close(&d->paths);
	jsink_close(d->journal);
	sigctl_free(&d->sig);
	discovery_free(&d->discovery);
	workload_table_free(&d->workloads);
	generation_free(&d->current);
	generation_free(&d->previous);
	rule_names_free(&d->adopted_names);
	free(d);
	return err;
}
