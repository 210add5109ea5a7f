/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgated's main loop: start-up (the policy, the kernel, the journal, the
 * control socket; adoption of pins a previous daemon left), one epoll set
 * for POSIX signals, records, the control socket and rule paths, the timer
 * work of every module, and the stop. The modules it drives are listed in
 * runtime.h.
 */
#include <linux/types.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "actgate/abi.h"
#include "daemon/adopt.h"
#include "daemon/control_socket.h"
#include "daemon/daemon.h"
#include "daemon/dnsserver.h"
#include "daemon/learned.h"
#include "daemon/resolverd.h"
#include "daemon/exportd.h"
#include "daemon/generation.h"
#include "daemon/grantctl.h"
#include "daemon/ingest.h"
#include "daemon/ownfiles.h"
#include "daemon/peer.h"
#include "daemon/records.h"
#include "daemon/reload.h"
#include "daemon/status.h"
#include "daemon/notify.h"
#include "daemon/runtime.h"
#include "daemon/signalstate.h"
#include "daemon/ssf.h"
#include "daemon/ssfhost.h"
#include "daemon/workloads.h"
#include "identity/cgroup.h"
#include "journal/sink.h"
#include "util/clock.h"
#include "util/log.h"

/* How often workloads whose `actgate run` has gone are retried for removal. */
#define SWEEP_INTERVAL_MS 2000

static void refresh_clock_offset(struct daemon *d)
{
	d->boot_to_wall_ns = (int64_t)(wall_ns() - boot_ns());
}

int daemon_check_config(const struct daemon_config *cfg, const struct config_source *src)
{
	struct generation g = { 0 };
	int err = generation_load(cfg, 1, &g, NULL);

	printf("%s: ok\n", src->path && access(src->path, F_OK) == 0 ? src->path
									 : "configuration (defaults and flags)");
	/* Counted for each policy alone: a workload's composed policy differs. */
	if (!err && !g.set.count)
		printf("%s: no policy files (*.yaml, *.yml): actgated would start and govern "
		       "nothing\n", cfg->policy_dir);
	else if (!err)
		printf("%s: %zu policies, %zu path rules resolved, %zu connect prefixes: ok\n",
		       cfg->policy_dir, g.set.count, g.image.checked_path_rules,
		       g.image.checked_net_entries);
	generation_free(&g);
	return err;
}

/* ---- the event loop ---- */

/* The POSIX signals the event loop takes through a signalfd. */
static void posix_signal_mask(sigset_t *mask)
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

	posix_signal_mask(&mask);
	d->posix_signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->posix_signal_fd < 0 || d->epoll_fd < 0)
		return -errno;
	ev.data.u64 = EVENT_POSIX_SIGNAL;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->posix_signal_fd, &ev) < 0)
		return -errno;
	ev.data.u64 = EVENT_RECORDS;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, enforcer_events_fd(&d->enforcer), &ev) < 0)
		return -errno;
	ev.data.u64 = EVENT_CONTROL_LISTEN;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->listen_fd, &ev) < 0)
		return -errno;
	ev.data.u64 = EVENT_PATHS;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->paths.inotify_fd, &ev) < 0)
		return -errno;
	ev = (struct epoll_event){ .events = EPOLLPRI, .data.u64 = EVENT_MOUNTS };
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->paths.mounts_fd, &ev) < 0)
		return -errno;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = EVENT_SSF };
	if (ssf_fd(d->ssf) >= 0 && epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, ssf_fd(d->ssf), &ev) < 0)
		return -errno;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = EVENT_DNS };
	if (d->dns && epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, dns_server_fd(d->dns), &ev) < 0)
		return -errno;
	return 0;
}

/* SIGHUP reloads the policy; SIGTERM and SIGINT stop the daemon. */
static void handle_posix_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->posix_signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char *report = NULL;

			log_info("config", "SIGHUP: reloading %s and the policy directory",
				 d->config_source->path ? d->config_source->path : "the settings");
			reload_run(d, &report); /* the outcome is logged */
			free(report);
		} else {
			d->stopping = true;
		}
	}
}

/* A new STATUS= line when the generation or the number of workloads changed. */
static void update_status(struct daemon *d)
{
	char line[512];

	if (d->notify.shown_generation == d->current.image.generation &&
	    d->notify.shown_workloads == d->workloads.count)
		return;
	d->notify.shown_generation = d->current.image.generation;
	d->notify.shown_workloads = d->workloads.count;
	status_line(d, line, sizeof(line));
	notify_status(line);
}

static int serve(struct daemon *d)
{
	uint64_t next_sweep_ns = mono_ns();
	struct epoll_event events[16];

	while (!d->stopping) {
		/* Records wake us only in bulk (see bpf/lib/record.h): drain on a short timer too. */
		int n = epoll_wait(d->epoll_fd, events, 16,
				   notify_timeout_ms(&d->notify,
						     signalctl_timeout_ms(&d->signalctl,
									  ssf_timeout_ms(d->ssf,
											 ACTGATE_DRAIN_INTERVAL_MS))));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		refresh_clock_offset(d);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;

			/* EVENT_RECORDS needs nothing here: every round drains. */
			if (tag == EVENT_POSIX_SIGNAL)
				handle_posix_signals(d);
			else if (tag == EVENT_CONTROL_LISTEN)
				control_socket_accept(d);
			else if (tag == EVENT_PATHS && pathwatch_read_events(&d->paths))
				generation_check_paths_soon(d, true);
			else if (tag == EVENT_MOUNTS)
				generation_check_paths_soon(d, true); /* a mount or unmount */
			else if (tag >= EVENT_CLIENT && d->clients[tag - EVENT_CLIENT].fd >= 0)
				control_socket_readable(d, &d->clients[tag - EVENT_CLIENT]);
		}
		records_drain(d);
		jsink_tick(d->journal);
		if (mono_ns() >= next_sweep_ns) {
			workloads_sweep(d);
			records_check_dropped(d);
			journalwatch_tick(&d->journal_watch, d->journal);
			learned_sweep(d->learned, boot_ns());
			next_sweep_ns = mono_ns() + SWEEP_INTERVAL_MS * 1000000LL;
		}
		generation_tick(d);
		signalctl_tick(&d->signalctl);
		grantctl_tick(&d->signalctl);
		spool_tick(&d->spool, &d->signalctl);
		discovery_tick(&d->discovery);
		ssf_run(d->ssf); /* EVENT_SSF, and the receiver's timers */
		dns_server_run(d->dns); /* EVENT_DNS, and idle TCP askers */
		/* From the loop itself: a loop that hangs stops the pings, and systemd acts. */
		notify_watchdog_tick(&d->notify);
		update_status(d);
	}
	return 0;
}

/* ---- start and stop ---- */

static const struct policy_set *current_set(void *ctx)
{
	return &((struct daemon *)ctx)->current.set;
}

/* signalctl_host.save: the signals and revocations, into the state directory. */
static int save_signals(void *ctx, char *why, size_t why_size)
{
	struct daemon *d = ctx;

	return signalstate_save(&d->signalctl, d->cfg->state_dir, why, why_size);
}

static int rebind_signals(void *ctx, char *why, size_t why_size)
{
	return workloads_rebind(ctx, why, why_size);
}

static int put_learned(void *ctx, const struct actgate_learned_key *k,
		       const struct actgate_learned *v)
{
	return enforcer_put_learned(ctx, k, v);
}

static int remove_learned(void *ctx, const struct actgate_learned_key *k)
{
	return enforcer_remove_learned(ctx, k);
}

int daemon_run(struct daemon_config *cfg, const struct config_source *src)
{
	char status[512];
	struct daemon *d;
	sigset_t mask;
	char why[512];
	int err;

	/*
	 * Blocked before any thread starts (the journal's compression
	 * workers): a thread that has them unblocked would take SIGHUP's
	 * default action, and the daemon would die instead of reloading.
	 */
	posix_signal_mask(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = d->settings = cfg;
	d->config_source = src;
	notify_init(&d->notify);
	d->epoll_fd = d->listen_fd = d->posix_signal_fd = -1;
	d->paths.inotify_fd = d->paths.mounts_fd = -1;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	/* Ids unique across daemon restarts without state: start from the clock. */
	d->next_workload_id = (uint64_t)time(NULL) << 16;
	refresh_clock_offset(d);

	err = generation_load(cfg, 1, &d->current, NULL);
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
		.fsync_every_ms = cfg->fsync_every_ms,
		.retain_max_bytes = cfg->retain_max_bytes,
		.retain_max_age_ms = cfg->retain_max_age_ms });
	if (err)
		goto out;
	err = state_check_dir(cfg->state_dir, why, sizeof(why));
	if (err) {
		log_error("state", "%s: a restarted daemon could not take over", why);
		goto out;
	}
	err = journalwatch_init(&d->journal_watch, cfg->state_dir);
	if (err) {
		log_error("state", "%s: path too long", cfg->state_dir);
		goto out;
	}
	if (cfg->socket_group) {
		err = peer_group_resolve(cfg->socket_group, &d->socket_gid, why, sizeof(why));
		if (err) {
			log_error("control", "socket group %s: %s", cfg->socket_group, why);
			goto out;
		}
	}
	/* Before adoption, whose reload follows the new generation's paths. */
	err = pathwatch_open(&d->paths);
	if (err)
		goto out;
	{
		/* Before adoption: its reload binds workloads, which reads the signals. */
		struct signalctl_host host = { .ctx = d, .workloads = &d->workloads,
					       .enforcer = &d->enforcer, .policy_set = current_set,
					       .rebind = rebind_signals, .save = save_signals,
					       .journal = records_write_daemon };

		signalctl_init(&d->signalctl, &host);
		/*
		 * What an earlier daemon was told (signals, revocations) before any
		 * workload is bound or request served; a file that cannot be read
		 * stops the start: starting without its revocations would let
		 * revoked principals start workloads again.
		 */
		err = signalstate_load(&d->signalctl, cfg->state_dir, why, sizeof(why));
		if (err == -ENOENT) {
			err = 0;
		} else if (err) {
			log_error("state", "%s (remove the file to start with no signals and no "
					   "revocations)", why);
			goto out;
		} else {
			log_info("state", "restored %zu signals and %zu revocations from %s",
				 d->signalctl.store.count, d->signalctl.revoked_count, cfg->state_dir);
		}
		/* Before the spool and the socket take tokens: signed ones are checked with it. */
		if (cfg->signals_trust) {
			err = ingest_load_trust(&d->signalctl, cfg->signals_trust);
			if (err)
				goto out;
		}
		err = spool_init(&d->spool, cfg->spool_dir);
		if (err)
			goto out;
	}
	/* Before attaching: a second daemon must fail before it enforces anything. */
	err = control_socket_listen(d);
	if (err)
		goto out;
	/* The export sinks (exportd.h): after the listen, so that a second daemon never follows. */
	err = exportd_start(&d->exportd, &cfg->export, cfg->journal_dir, cfg->state_dir);
	if (err)
		goto out;
	{
		struct enforcer_config ecfg = { .pin_dir = cfg->pin_dir,
						.events_bytes = cfg->events_bytes,
						.verbose = cfg->verbose,
						.cgroup_root = d->cgroup_mount,
						.steering = cfg->resolver.enabled };

		err = enforcer_start(&d->enforcer, &ecfg, records_journal, d);
	}
	if (err)
		goto out;
	if (d->enforcer.adopted) {
		err = adopt_pins(d);
	} else {
		err = enforcer_load_image(&d->enforcer, &d->current.image);
		if (!err)
			runtime_save(d);
	}
	if (err)
		goto out;
	err = ownfiles_protect(d);
	if (err)
		goto out;
	generation_follow_paths(d);
	generation_release_memory();
	signalctl_bound(&d->signalctl); /* adopted workloads too */
	grantctl_restore(&d->signalctl); /* the saved grants, now that their workloads are known */
	err = workloads_watch_roots(d);
	if (err)
		goto out;
	{
		/* After the signals are restored: a received event applies on top of them. */
		struct ssf_host ssf_host = ssf_host_for(&d->signalctl);

		err = ssf_open(&d->ssf, &cfg->ssf, cfg->state_dir, &ssf_host);
		if (err)
			goto out;
	}
	/*
	 * What an earlier daemon learned goes: this one does not know the
	 * names, nor whether the resolver is still wanted. Workloads look the
	 * names up again (docs/egress.md, "While the daemon is down").
	 */
	err = enforcer_clear_learned(&d->enforcer);
	if (err)
		goto out;
	if (cfg->resolver.enabled) {
		struct learned_store store = { .ctx = &d->enforcer, .put = put_learned,
					       .remove = remove_learned };

		err = learned_open(&d->learned, cfg->resolver.learned_max, &store);
		if (err) {
			log_error("resolver", "cannot hold %u learned addresses: %s",
				  cfg->resolver.learned_max, strerror(-err));
			goto out;
		}
	}
	if (cfg->resolver.enabled) {
		/* Askers are known by the source address bpf/steer.bpf.c gives them. */
		struct dns_server_host dns_host = resolverd_host(d);
		/* The configuration as given stays as it is: a reload compares it. */
		struct resolver_config rc = cfg->resolver;

		if (!rc.upstream.len) {
			char where[64];

			err = resolver_upstream_from_resolv_conf("/etc/resolv.conf", &rc.listen,
								 &rc.upstream);
			resolver_format_endpoint(&rc.upstream, where, sizeof(where));
			if (err)
				log_warn("resolver", "no resolver.upstream and no nameserver in "
					 "/etc/resolv.conf (%s): every lookup a rule allows is "
					 "answered SERVFAIL", strerror(-err));
			else
				log_info("resolver", "upstream %s (from /etc/resolv.conf)", where);
		}
		err = dns_server_open(&d->dns, &rc, &dns_host);
		if (err)
			goto out;
	}
	{
		/* Steer only once something answers on the resolver's address (or nothing at all). */
		const struct sockaddr_in *l = (const struct sockaddr_in *)&cfg->resolver.listen.addr;

		err = enforcer_set_steering(&d->enforcer, d->dns ? l->sin_addr.s_addr : 0,
					    d->dns ? l->sin_port : 0);
		if (err)
			goto out;
	}
	err = setup_loop(d);
	if (err) {
		log_error("daemon", "cannot set up the event loop: %s", strerror(-err));
		goto out;
	}
	log_info("daemon", "enforcing %zu policies from %s; journal %s; control socket %s; pins %s (%s)",
		 d->current.set.count, cfg->policy_dir, jsink_dir(d->journal), cfg->socket_path,
		 cfg->pin_dir, d->enforcer.adopted ? "adopted" : "created");
	status_line(d, status, sizeof(status));
	if (!d->current.set.count)
		log_warn("policy", "%s: no policy files (*.yaml, *.yml): governing nothing until one "
				   "is added and `actgate reload` runs", cfg->policy_dir);
	/* Only now: the image is in the kernel, the programs attached, the socket answers. */
	notify_ready(status);
	d->notify.shown_generation = d->current.image.generation;
	d->notify.shown_workloads = d->workloads.count;
	err = serve(d);
	notify_stopping();
	records_drain(d);
	records_check_dropped(d);
	journalwatch_tick(&d->journal_watch, d->journal);
	runtime_save(d);
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
	dns_server_close(d->dns);
	learned_close(d->learned);
	ssf_close(d->ssf);
	control_socket_close(d);
	if (d->posix_signal_fd >= 0)
		close(d->posix_signal_fd);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->enforcer.skel)
		enforcer_stop(&d->enforcer);
	pathwatch_close(&d->paths);
	exportd_stop(&d->exportd);
	jsink_close(d->journal);
	signalctl_free(&d->signalctl);
	discovery_free(&d->discovery);
	workload_table_free(&d->workloads);
	generation_free(&d->current);
	generation_free(&d->previous);
	rule_names_free(&d->adopted_names);
	free(d);
	return err;
}
