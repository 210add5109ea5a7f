/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/delegation.h"
#include "daemon/grantctl.h"
#include "daemon/peer.h"
#include "daemon/records.h"
#include "daemon/revocation.h"
#include "daemon/workloads.h"
#include "identity/cgroup.h"
#include "journal/decision.h"
#include "policy/delegate.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/log.h"

#define DELEGATION_MAX_ALLOW 8
#define DELEGATION_MAX_POLICIES 16


/* ---- the peer ---- */

struct governed_peer {
	pid_t pid;
	uid_t uid;
	int pidfd;
	uint64_t parent_id; /* the workload the peer's task belongs to */
	char comm[17];
};

/*
 * The workload of the peer of fd as the kernel knows it: its task's mark,
 * or without one (a task that has not acted since it was created) the
 * deepest workload whose cgroup holds its cgroup. -ENOENT when the peer
 * is not root or of --socket-group (peer_check's refusal stands), or is
 * not in a workload this daemon has.
 */
static int find_peer(struct daemon *d, int fd, struct governed_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const struct workload *found = NULL;
	char path[PATH_MAX];
	uint64_t cgroup_id;
	ssize_t n;
	int r, comm_fd;

	p->pidfd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -ENOENT;
	if (cred.uid != 0 && !(d->socket_gid && peer_in_group(cred.pid, cred.gid, d->socket_gid)))
		return -ENOENT;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	if (p->pidfd < 0)
		return -ENOENT;
	r = enforcer_task_workload(&d->enforcer, p->pidfd, &cgroup_id);
	if (r == 1) {
		for (size_t i = 0; i < d->workloads.count && !found; i++)
			if (d->workloads.items[i].cgroup_id == cgroup_id)
				found = &d->workloads.items[i];
	} else if (r == 0 && !cgroup_of_pid(cred.pid, path, sizeof(path))) {
		size_t best = 0;

		for (size_t i = 0; i < d->workloads.count; i++) {
			const struct workload *w = &d->workloads.items[i];

			if (cgroup_path_within(path, w->cgroup_path) && strlen(w->cgroup_path) > best) {
				best = strlen(w->cgroup_path);
				found = w;
			}
		}
	}
	if (!found) {
		close(p->pidfd);
		p->pidfd = -1;
		return -ENOENT;
	}
	p->parent_id = found->id;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)cred.pid);
	comm_fd = open(path, O_RDONLY | O_CLOEXEC);
	n = comm_fd >= 0 ? read(comm_fd, p->comm, sizeof(p->comm) - 1) : -1;
	if (comm_fd >= 0)
		close(comm_fd);
	p->comm[n > 0 ? n : 0] = '\0';
	p->comm[strcspn(p->comm, "\n")] = '\0';
	return 0;
}

/* ---- the chain of authority ---- */

/* "NAME#ID[POLICIES;SIGNALS]": one link of a chain (docs/journal-format.md). */
static char *chain_link(const struct daemon *d, const struct workload *w)
{
	const char *signals = signalctl_workload_signals(&d->signalctl, w->id);
	char *out = NULL;

	if (asprintf(&out, "%s#%llu[%s;%s]", w->name, (unsigned long long)w->id,
		     w->policies ? w->policies : "", signals ? signals : "") < 0)
		return NULL;
	return out;
}

/* w's own chain: its recorded one, or "PRINCIPAL > LINK" for a workload nobody commissioned. */
static char *chain_of(const struct daemon *d, const struct workload *w)
{
	char *link, *out = NULL;

	if (w->chain)
		return strdup(w->chain);
	link = chain_link(d, w);
	if (link && asprintf(&out, "%s > %s", w->principal[0] ? w->principal : "-", link) < 0)
		out = NULL;
	free(link);
	return out;
}

/* ---- the record ---- */

/*
 * signals: those the decision read (the parent's delegate: when:s), or NULL
 * for a request refused before delegate: was asked (the parent's own).
 */
static void record(struct daemon *d, const struct governed_peer *p, const struct workload *parent,
		   uint8_t verdict, const char *target, const char *rule, const char *chain,
		   const char *signals)
{
	struct journal_record jr = { 0 };

	jr.time_ns = wall_ns();
	jr.action = ACTGATE_ACTION_DELEGATE;
	jr.verdict = verdict;
	jr.mode = ACTGATE_MODE_ENFORCE;
	jr.reason = ACTGATE_REASON_DELEGATION;
	jr.workload_id = parent->id;
	jr.cgroup_id = parent->cgroup_id;
	jr.pid = jr.tgid = (uint32_t)p->pid;
	jr.uid = p->uid;
	jr.generation = d->current.image.generation;
	snprintf(jr.comm, sizeof(jr.comm), "%s", p->comm);
	jr.workload = parent->name;
	jr.principal = parent->principal;
	jr.labels = parent->labels;
	jr.policy = parent->policies;
	jr.rule = (char *)rule;
	jr.target = (char *)target;
	jr.signal_generation = d->signalctl.store.generation;
	jr.signals = (char *)(signals ? signals
				      : signalctl_workload_signals(&d->signalctl, parent->id));
	jr.chain = (char *)chain;
	records_write_daemon(d, &jr);
}

/* Refuse a governed peer's request: the reply, the log and the record. */
static void refuse(struct daemon *d, int fd, const struct governed_peer *p,
		   const struct workload *parent, const char *target, const char *why,
		   const char *signals)
{
	char *chain = chain_of(d, parent);

	log_info("delegation", "refused to workload %s (id %llu, pid %d): %s: %s", parent->name,
		 (unsigned long long)parent->id, (int)p->pid, target, why);
	record(d, p, parent, ACTGATE_VERDICT_DENY, target, why, chain ? chain : "", signals);
	free(chain);
	control_reply_error(fd, "permission denied: %s: %s", target, why);
}

/* ---- run from inside a workload ---- */

/* A request's object of strings {"0": V, "1": V, ...} as a list (at most max). */
static int string_list(const struct json_msg *msg, const char *key, const char **out, size_t max,
		       size_t *n, char *why, size_t why_size)
{
	const struct json_member *m = json_msg_get(msg, key);

	*n = 0;
	if (!m || m->type == JSON_MSG_NULL)
		return 0;
	if (m->type != JSON_MSG_OBJECT || m->member_count > max) {
		snprintf(why, why_size, "\"%s\" must be an object of at most %zu strings", key, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->member_count; i++) {
		if (m->members[i].type != JSON_MSG_STRING || !m->members[i].value[0]) {
			snprintf(why, why_size, "\"%s\": every value must be a non-empty string", key);
			return -EINVAL;
		}
		out[(*n)++] = m->members[i].value;
	}
	return 0;
}

/* "ACTION:TARGET" -> a rule and its grant target. */
static int parse_allow(const char *text, struct delegate_rule *r, struct grant_target *gt,
		       char *why, size_t why_size)
{
	const char *colon = strchr(text, ':');

	if (!colon || delegate_action_parse(text, (size_t)(colon - text), &r->action)) {
		snprintf(why, why_size, "--allow %.200s: expected exec:PATH, open:PATH or "
					"connect:ADDRESS:PORT", text);
		return -EINVAL;
	}
	r->target = (char *)colon + 1;
	return grant_target_parse(r->action, r->target, resolve_path_stat, NULL, gt, why,
				  why_size);
}

static void append(char *buf, size_t size, const char *a, const char *b)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", a, b);
}

/* Everything a run request asks, checked; what cannot be parsed is refused like any other. */
struct run_request {
	const char *name;
	const char *policies[DELEGATION_MAX_POLICIES];
	size_t policy_count;
	const char *allow_text[DELEGATION_MAX_ALLOW];
	struct delegate_rule allow[DELEGATION_MAX_ALLOW];
	struct grant_target *gt; /* allow_count of them */
	size_t allow_count;
	uint64_t ttl_ns;
	char *labels;
	char target[1024];
};

static int read_request(const struct json_msg *msg, const struct workload *parent,
			struct run_request *rq, char *why, size_t why_size)
{
	const char *principal = json_msg_string(msg, "principal");

	rq->name = json_msg_string(msg, "workload");
	snprintf(rq->target, sizeof(rq->target), "run %.200s", rq->name ? rq->name : "?");
	if (!rq->name) {
		snprintf(why, why_size, "\"workload\" (a string) is required");
		return -EINVAL;
	}
	if (workload_name_check(rq->name, why, why_size))
		return -EINVAL;
	if (principal && strcmp(principal, parent->principal)) {
		snprintf(why, why_size,
			 "a sub-workload acts for its parent's principal (\"%.100s\"), not \"%.100s\"",
			 parent->principal, principal);
		return -EPERM;
	}
	if (string_list(msg, "policies", rq->policies, DELEGATION_MAX_POLICIES, &rq->policy_count,
			why, why_size) ||
	    string_list(msg, "allow", rq->allow_text, DELEGATION_MAX_ALLOW, &rq->allow_count, why,
			why_size))
		return -EINVAL;
	for (size_t i = 0; i < rq->policy_count; i++)
		append(rq->target, sizeof(rq->target), " --policy ", rq->policies[i]);
	for (size_t i = 0; i < rq->allow_count; i++)
		append(rq->target, sizeof(rq->target), " --allow ", rq->allow_text[i]);
	rq->gt = calloc(rq->allow_count ? rq->allow_count : 1, sizeof(*rq->gt));
	if (!rq->gt) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < rq->allow_count; i++)
		if (parse_allow(rq->allow_text[i], &rq->allow[i], &rq->gt[i], why, why_size))
			return -EINVAL;
	if (workloads_run_ttl(msg, &rq->ttl_ns, why, why_size) ||
	    workloads_parse_labels(json_msg_get(msg, "labels"), &rq->labels, why, why_size))
		return -EINVAL;
	return 0;
}

/* May the parent commission it (delegation_decide under the parent's policies and signals)? */
static int check_delegate(struct daemon *d, const struct workload *parent,
			  const struct run_request *rq, bool *outlive, char **signals_read,
			  char *why, size_t why_size)
{
	const struct effective_policy *ep = policy_image_find(&d->current.image, parent->policy_id);
	const struct policy *parents[64];
	struct signal_view view = { 0 };
	struct delegation_request req = { .child = rq->name, .policies = rq->policies,
					  .policy_count = rq->policy_count, .allow = rq->allow,
					  .allow_count = rq->allow_count };
	size_t n = 0;
	int err;

	if (!ep) {
		snprintf(why, why_size, "the parent's policy is not in the current generation");
		return -EPERM;
	}
	for (size_t i = 0; i < ep->sel_count && n < 64; i++)
		parents[n++] = &d->current.set.policies[ep->sel[i].index];
	err = signalctl_view(&d->signalctl, parent, &view);
	/* What the decision read goes into its record: what-if decides it again by them. */
	if (!err) {
		*signals_read = delegation_signals_read(parents, n, &view);
		if (!*signals_read) {
			snprintf(why, why_size, "out of memory");
			err = -ENOMEM;
		}
	}
	if (!err)
		err = delegation_decide(parents, n, &req, &view, outlive, why, why_size);
	free((void *)view.values);
	return err;
}

/* The child's expiry: its --ttl, never after its parent's. 0: none. */
static uint64_t child_expiry(uint64_t parent_expires, uint64_t ttl_ns)
{
	uint64_t exp = ttl_ns ? boot_ns() + ttl_ns : 0;

	if (parent_expires && (!exp || parent_expires < exp))
		exp = parent_expires;
	return exp;
}

/* Move the peer's process into the child: its kernel mark first, then its cgroup. */
static int move_peer(const struct governed_peer *p, struct daemon *d, uint64_t cgroup_id,
		     const char *fs_path, char *why, size_t why_size)
{
	char procs[PATH_MAX + 16], pid[24];
	int fd, err, n;

	/* The mark decides, and only narrows (the child's key holds the parent's). */
	err = enforcer_task_rehome(&d->enforcer, p->pidfd, cgroup_id);
	if (err) {
		snprintf(why, why_size, "cannot move the caller's task mark: %s", strerror(-err));
		return err;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", fs_path);
	n = snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	err = fd < 0 || write(fd, pid, (size_t)n) != n ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (err)
		snprintf(why, why_size, "cannot move pid %d into %.300s: %s", (int)p->pid, fs_path,
			 strerror(-err));
	return err;
}

static void delegated_run(struct daemon *d, int fd, const struct governed_peer *p,
			  const struct json_msg *msg)
{
	struct workload *parent = workload_table_find_id(&d->workloads, p->parent_id);
	struct workload w = { .owner_fd = fd, .parent_id = p->parent_id };
	struct run_request rq = { 0 };
	struct actgate_workload pwl, cwl;
	char why[1024], leaf[128], path[PATH_MAX], fs_path[PATH_MAX], *parent_chain = NULL;
	char *link = NULL, joined[1024] = "", names[256], *signals_read = NULL;
	uint64_t expires;
	struct json_out j;
	int err;

	if (read_request(msg, parent, &rq, why, sizeof(why)) ||
	    check_delegate(d, parent, &rq, &w.outlive, &signals_read, why, sizeof(why)) ||
	    revocation_check_run(&d->signalctl, rq.name, parent->principal[0] ? parent->principal
									     : NULL,
				 why, sizeof(why))) {
		refuse(d, fd, p, parent, rq.target, why, signals_read);
		goto out;
	}
	err = enforcer_get_workload(&d->enforcer, parent->cgroup_id, &pwl);
	if (err || (pwl.flags & (ACTGATE_WORKLOAD_REVOKED | ACTGATE_WORKLOAD_PARENT_ENDED)) ||
	    (pwl.expires_boot_ns && pwl.expires_boot_ns <= boot_ns())) {
		refuse(d, fd, p, parent, rq.target,
		       err ? "the parent is not in the kernel"
			   : "the parent is revoked, orphaned or past its time",
		       signals_read);
		goto out;
	}
	for (size_t i = 0; i < rq.policy_count; i++)
		append(joined, sizeof(joined), i ? "," : "", rq.policies[i]);
	w.id = d->next_workload_id++;
	workloads_cgroup_leaf_name(rq.name, w.id, leaf, sizeof(leaf));
	if (snprintf(path, sizeof(path), "%s/%s", parent->cgroup_path, leaf) >= (int)sizeof(path) ||
	    workloads_cgroup_fs_path(d, path, fs_path, sizeof(fs_path))) {
		refuse(d, fd, p, parent, rq.target, "cgroup path too long", signals_read);
		goto out;
	}
	w.name = strdup(rq.name);
	w.principal = strdup(parent->principal);
	w.cgroup_path = strdup(path);
	w.labels = rq.labels;
	rq.labels = NULL;
	w.delegated_policies = joined[0] ? strdup(joined) : NULL;
	if (!w.name || !w.principal || !w.cgroup_path || (joined[0] && !w.delegated_policies) ||
	    workload_labels_split(w.labels, &w.label_list, &w.label_count, &w.label_text)) {
		control_reply_error(fd, "run: out of memory");
		goto out;
	}
	/* Its key holds the parent's policies: it can never do what its parent cannot. */
	if (workloads_bind(d, &d->current, &w, true, &w.policy_id, why, sizeof(why))) {
		refuse(d, fd, p, parent, rq.target, why, signals_read);
		goto out;
	}
	w.policies = workloads_policy_names(&d->current, w.policy_id);
	if (!w.policies) {
		control_reply_error(fd, "run: out of memory");
		goto out;
	}
	if (mkdir(fs_path, 0755) < 0 || cgroup_id_at(fs_path, &w.cgroup_id)) {
		err = -errno;
		control_reply_error(fd, "run: cannot create cgroup %s: %s", fs_path, strerror(-err));
		goto out_rmdir;
	}
	err = enforcer_add_workload(&d->enforcer, w.cgroup_id, w.id, w.policy_id);
	if (!err)
		err = signalctl_workload_started(&d->signalctl, &w, 0);
	expires = child_expiry(pwl.expires_boot_ns, rq.ttl_ns);
	if (!err && expires) {
		err = enforcer_get_workload(&d->enforcer, w.cgroup_id, &cwl);
		cwl.expires_boot_ns = expires;
		if (!err)
			err = enforcer_put_workload(&d->enforcer, w.cgroup_id, &cwl);
	}
	/* What delegate: allowed beyond the parent: grants for the child's life alone. */
	snprintf(names, sizeof(names), "delegated by %s#%llu", parent->name,
		 (unsigned long long)parent->id);
	for (size_t i = 0; !err && i < rq.allow_count; i++) {
		uint32_t id;

		err = grantctl_add(&d->signalctl, &w, &rq.gt[i], expires ? expires : GRANT_NEVER,
				   names, &id);
	}
	if (err) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		control_reply_error(fd, "run: cannot register the sub-workload in the kernel: %s",
				    strerror(-err));
		goto out_rmdir;
	}
	parent_chain = chain_of(d, parent);
	link = chain_link(d, &w);
	if (!parent_chain || !link || asprintf(&w.chain, "%s > %s", parent_chain, link) < 0) {
		w.chain = NULL;
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		control_reply_error(fd, "run: out of memory");
		goto out_rmdir;
	}
	if (workload_table_add(&d->workloads, &w) < 0) {
		enforcer_remove_workload(&d->enforcer, w.cgroup_id);
		control_reply_error(fd, "run: out of memory");
		goto out_rmdir;
	}
	parent = workload_table_find_id(&d->workloads, p->parent_id); /* the table moved */
	w = *workload_table_find_id(&d->workloads, w.id);
	runtime_save(d);
	if (move_peer(p, d, w.cgroup_id, fs_path, why, sizeof(why))) {
		/* Owned by this connection: it goes with the sweep once the connection closes. */
		refuse(d, fd, p, parent, rq.target, why, signals_read);
		goto out_kept;
	}
	log_info("delegation", "workload %s (id %llu) commissioned %s (id %llu, policies %s%s) in "
			       "cgroup %s: %s",
		 parent->name, (unsigned long long)parent->id, w.name, (unsigned long long)w.id,
		 w.policies, w.outlive ? ", may outlive it" : "", path, w.chain);
	record(d, p, parent, ACTGATE_VERDICT_ALLOW, rq.target,
	       rq.allow_count ? "delegate" : "attenuation", w.chain, signals_read);
	control_reply_ok(&j);
	json_add_u64(&j, "workload_id", w.id);
	json_add_string(&j, "cgroup", path);
	json_add_string(&j, "cgroup_dir", fs_path);
	json_add_string(&j, "policies", w.policies);
	json_add_bool(&j, "joined", true);
	json_add_string(&j, "chain", w.chain);
	control_reply_send(fd, &j);
	goto out_kept;
out_rmdir:
	rmdir(fs_path);
out:
	workload_clear(&w);
out_kept:
	free(parent_chain);
	free(link);
	free(rq.labels);
	free(rq.gt);
	free(signals_read);
}

/* ---- the dispatch ---- */

int delegation_handle_line(struct daemon *d, int fd, const char *line, size_t len)
{
	struct governed_peer p = { 0 };
	struct json_msg msg = { 0 };
	const struct workload *parent;
	char why[512], target[128];
	const char *verb;

	if (find_peer(d, fd, &p))
		return -ENOENT;
	parent = workload_table_find_id(&d->workloads, p.parent_id);
	if (json_msg_parse(line, len, &msg, why, sizeof(why))) {
		refuse(d, fd, &p, parent, "malformed request", why, NULL);
		goto out;
	}
	verb = json_msg_string(&msg, "verb");
	if (!verb || strcmp(verb, "run")) {
		snprintf(target, sizeof(target), "%.64s", verb ? verb : "?");
		for (char *c = target; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		refuse(d, fd, &p, parent, target,
		       "a governed workload may only start sub-workloads (run)", NULL);
		goto out;
	}
	{
		static const char *const keys[] = { "workload", "principal", "labels", "ttl_ms",
						    "policies", "allow", NULL };

		if (control_check_keys(&msg, keys, why, sizeof(why))) {
			refuse(d, fd, &p, parent, "run", why, NULL);
			goto out;
		}
	}
	delegated_run(d, fd, &p, &msg);
out:
	json_msg_free(&msg);
	if (p.pidfd >= 0)
		close(p.pidfd);
	return 0;
}

/* ---- the end of a parent ---- */

/* Orphan the children of workload id (all of them when force), and everything below. */
static void orphan_below(struct daemon *d, uint64_t id, bool force)
{
	for (size_t i = 0; i < d->workloads.count; i++) {
		struct workload *c = &d->workloads.items[i];

		if (c->parent_id != id || (!force && c->outlive))
			continue;
		if (signalctl_set_workload_flags(&d->signalctl, c, ACTGATE_WORKLOAD_PARENT_ENDED))
			log_error("delegation", "cannot orphan workload %s (id %llu) in the kernel",
				  c->name, (unsigned long long)c->id);
		else
			log_info("delegation", "workload %s (id %llu): its parent (id %llu) ended; "
					       "every action of it is denied (parent-ended)",
				 c->name, (unsigned long long)c->id, (unsigned long long)id);
		orphan_below(d, c->id, true);
	}
}

void delegation_owner_closed(struct daemon *d, int fd)
{
	for (size_t i = 0; i < d->workloads.count; i++)
		if (d->workloads.items[i].owner_fd == fd)
			orphan_below(d, d->workloads.items[i].id, false);
}
