/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the parts of `actgate doctor` share: doctor.c (the command, the
 * report and these helpers), doctor-host.c (kernel, BTF, capabilities,
 * mounts), doctor-lsm.c (the BPF LSM: the active list, the boot change,
 * why a load fails), doctor-files.c (configuration, policies, pins,
 * journal, seal key), doctor-bpf.c (the live probes).
 */
#ifndef ACTGATE_CLI_DOCTOR_INTERNAL_H
#define ACTGATE_CLI_DOCTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/doctor.h"

/* The next check of the report, named, cleared. */
struct doctor_check *doctor_add_check(struct doctor_report *r, const char *name);

/* Its result, its fix (NULL: none) and its one-line detail. */
void doctor_set_result(struct doctor_check *c, enum doctor_result result, const char *fix,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* env->root + path, into buf. */
const char *doctor_host_path(const struct doctor_env *env, const char *path, char *buf,
			     size_t size);

/* A small host file whole, NUL-terminated, trailing newlines cut; 0 or -errno. */
int doctor_read_host_file(const struct doctor_env *env, const char *path, char *out, size_t size);

/* The kernel's release: uname, or under a root its /proc/sys/kernel/osrelease. */
void doctor_kernel_release(const struct doctor_env *env, char *out, size_t size);

/* Is item one of the comma-separated list? */
bool doctor_list_has(const char *list, const char *item);

/* The hex value of a "Name:\tHEX" line of /proc/self/status. */
bool doctor_status_field(const char *status, const char *name, unsigned long long *value);

/* The capabilities actgated needs that mask lacks, as "CAP_BPF CAP_PERFMON" (empty: none). */
void doctor_missing_caps(unsigned long long mask, char *out, size_t size);

/* The checks, each adding itself to r. */
void doctor_check_kernel(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_btf(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_caps(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_cgroup2(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_bpffs(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_config(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_pins(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_journal(const struct doctor_env *env, struct doctor_report *r);
void doctor_check_key(const struct doctor_env *env, struct doctor_report *r);

#endif /* ACTGATE_CLI_DOCTOR_INTERNAL_H */
