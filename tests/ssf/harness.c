/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ssf-harness: the daemon's SSF receiver (src/daemon/ssf*.c) on an epoll
 * loop of its own, applying to a real signal state (signalctl, saved in
 * STATE_DIR as the daemon saves it) with no kernel and no workloads: what
 * tests/ssf/run.sh drives over loopback where actgated itself cannot start
 * (no BPF LSM on the build host). The receiver, the host that applies, the
 * state file and the acknowledgements are the daemon's own code.
 *
 *   ssf-harness --config FILE --state-dir DIR --status FILE
 *
 * SIGUSR1 writes the receiver's status (the status verb's ssf.* members,
 * plus the revocations) to the status file; SIGTERM stops.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/ingest.h"
#include "daemon/signalctl.h"
#include "daemon/signalstate.h"
#include "daemon/ssf.h"
#include "daemon/ssfhost.h"
#include "util/io.h"
#include "util/json.h"
#include "util/yamltree.h"

struct fake {
	struct policy_set set;
	struct workload_table workloads;
	const char *state_dir;
};

static const struct policy_set *fake_set(void *ctx)
{
	return &((struct fake *)ctx)->set;
}

static int fake_rebind(void *ctx, char *why, size_t why_size)
{
	(void)ctx;
	(void)why;
	(void)why_size;
	return 0;
}

static struct signalctl *the_signals;

static int fake_save(void *ctx, char *why, size_t why_size)
{
	return signalstate_save(the_signals, ((struct fake *)ctx)->state_dir, why, why_size);
}

static void write_status(const struct ssf *r, const struct signalctl *s, const char *path)
{
	struct json_out j;
	char dir[4096], *slash, why[256];
	size_t n = 0;

	json_out_init(&j);
	json_object_begin(&j);
	ssf_status(r, &j);
	json_add_u64(&j, "revocations", s->revoked_count);
	for (size_t i = 0; i < s->revoked_count; i++) {
		char key[32];

		snprintf(key, sizeof(key), "revoked.%zu", n++);
		json_add_string(&j, key, s->revoked[i].subject);
	}
	json_add_u64(&j, "signal_generation", s->store.generation);
	json_object_end(&j);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || j.error) {
		fprintf(stderr, "ssf-harness: cannot write %s\n", path);
		json_out_free(&j);
		return;
	}
	*slash = '\0';
	if (write_file_atomic(dir, slash + 1, j.buf, j.len, why, sizeof(why)))
		fprintf(stderr, "ssf-harness: %s: %s\n", path, why);
	json_out_free(&j);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *config = NULL, *status = NULL;
	struct daemon_config cfg = { 0 };
	struct diag_list diags = { 0 };
	struct fake fake = { 0 };
	struct signalctl signals;
	struct signalctl_host host;
	struct ssf_host ssf_host;
	struct ssf *r = NULL;
	char *text = NULL, why[512];
	size_t len = 0;
	sigset_t mask;
	int opt, err, sfd, ep;
	bool stop = false;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'd')
			fake.state_dir = optarg;
		else if (opt == 's')
			status = optarg;
		else
			return 2;
	}
	if (!config || !fake.state_dir || !status) {
		fprintf(stderr, "usage: ssf-harness --config FILE --state-dir DIR --status FILE\n");
		return 2;
	}
	err = ytree_read_file(config, &text, &len);
	if (err) {
		fprintf(stderr, "ssf-harness: %s: %s\n", config, ytree_read_error(err));
		return 1;
	}
	err = config_parse_buffer(config, text, len, &cfg, &diags);
	free(text);
	if (err) {
		diag_print(&diags, stderr);
		return 1;
	}
	host = (struct signalctl_host){ .ctx = &fake, .workloads = &fake.workloads,
					.policy_set = fake_set, .rebind = fake_rebind,
					.save = fake_save };
	signalctl_init(&signals, &host);
	the_signals = &signals;
	/* The daemon's start (daemon.c): principals the tokens' subjects map to. */
	if (cfg.signals_trust) {
		err = ingest_load_trust(&signals, cfg.signals_trust);
		if (err) {
			fprintf(stderr, "ssf-harness: %s: %s\n", cfg.signals_trust, strerror(-err));
			return 1;
		}
	}
	err = signalstate_load(&signals, fake.state_dir, why, sizeof(why));
	if (err && err != -ENOENT) {
		fprintf(stderr, "ssf-harness: %s\n", why);
		return 1;
	}
	ssf_host = ssf_host_for(&signals);
	err = ssf_open(&r, &cfg.ssf, fake.state_dir, &ssf_host);
	if (err) {
		fprintf(stderr, "ssf-harness: the receiver did not start: %s\n", strerror(-err));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLIN, .data.u64 = 1 });
	if (ssf_fd(r) >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, ssf_fd(r),
			  &(struct epoll_event){ .events = EPOLLIN, .data.u64 = 2 });
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct epoll_event ev[4];
		struct signalfd_siginfo si;
		int n = epoll_wait(ep, ev, 4, ssf_timeout_ms(r, 1000));

		if (n < 0 && errno != EINTR)
			break;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1)
				write_status(r, &signals, status);
			else
				stop = true;
		}
		ssf_run(r);
	}
	ssf_close(r);
	signalctl_free(&signals);
	daemon_config_free(&cfg);
	diag_list_free(&diags);
	return 0;
}
