/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate doctor`: can actgated enforce on this host, and if not, exactly
 * why and what to change. Every check ends pass, warn or fail with a
 * one-line detail and, unless it passed, a fix. The checks read the host
 * through a root directory (normally "/"; a fake tree in the unit tests);
 * the live probes (a minimal BPF LSM program loaded and attached, the pins'
 * meta map, `actgated --check-config`) run only on the real root
 * (doctor-bpf.c).
 */
#ifndef ACTGATE_CLI_DOCTOR_H
#define ACTGATE_CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum doctor_result {
	DOCTOR_PASS,
	DOCTOR_WARN,
	DOCTOR_FAIL,
};

#define DOCTOR_MAX_CHECKS 16

struct doctor_check {
	const char *name;
	enum doctor_result result;
	char detail[1024];
	char fix[1024]; /* empty when it passed */
};

struct doctor_report {
	struct doctor_check checks[DOCTOR_MAX_CHECKS];
	size_t count;
};

struct doctor_env {
	const char *root;        /* prefix of every host path read ("" for the real host) */
	bool live;               /* run the live probes (only on the real host) */
	const char *config_path; /* --config: passed to actgated --check-config; NULL: its default */
	const char *pin_dir;
	const char *journal_dir;
	const char *journal_key;
	const char *actgated;    /* the daemon to ask for --check-config; NULL: not found */
	/*
	 * securityfs's lsm and lockdown files as a private mount of it showed
	 * them (doctor_read_securityfs), for a host that has not mounted it;
	 * NULL: not read.
	 */
	const char *private_lsm;
	const char *private_lockdown;
};

/*
 * What loading minimal programs told: errno (0: loaded) of a BPF LSM
 * program (lsm/file_open), an fentry program (both need a BPF trampoline),
 * a tp_btf program (attached through BTF too, but without a trampoline)
 * and a tracepoint program; attach_errno: the LSM
 * program's attach, when it loaded. The facts beside them are what the
 * explanation weighs.
 */
struct doctor_load_probe {
	int lsm_errno;
	int lsm_attach_errno;
	int fentry_errno;
	int tracepoint_errno;
	int tp_btf_errno;      /* a BTF-attached tracing program without a trampoline (tp_btf) */
	bool verifier_spoke;   /* the LSM load's verifier log had text: the verifier ran */
};

/* Every check, in order, into r. */
void doctor_run(const struct doctor_env *env, struct doctor_report *r);

/*
 * Explain a failed BPF LSM load from the probe and the facts the other
 * checks gather (active LSMs, capabilities, user namespace, seccomp,
 * lockdown, a container, the hypervisor): into c (result, detail, fix).
 * Exposed for the unit tests.
 */
void doctor_explain_load(const struct doctor_env *env, const struct doctor_load_probe *p,
			 struct doctor_check *c);

/* The BPF LSM check from the active list (NULL: unreadable) and the boot configuration. */
void doctor_check_lsm(const struct doctor_env *env, struct doctor_check *c);

/* The worst result of the report. */
enum doctor_result doctor_worst(const struct doctor_report *r);

/* Live: load (and attach) the minimal programs. */
void doctor_probe_load(struct doctor_load_probe *p);

/* Live: the ABI version of the pinned set in pin_dir (its meta map). 0 or -errno. */
int doctor_read_pins_abi(const char *pin_dir, uint32_t *abi_version, uint32_t *daemon_tgid);

/* Live: securityfs's lsm and lockdown files, read through a private mount. 0 or -errno. */
int doctor_read_securityfs(char *lsm, size_t lsm_size, char *lockdown, size_t lockdown_size);

int cmd_doctor(int argc, char **argv);

#endif /* ACTGATE_CLI_DOCTOR_H */
