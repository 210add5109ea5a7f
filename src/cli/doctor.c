/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate doctor` (doctor.h): the checks, their explanations and the command. */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "actgate/abi.h"
#include "cli/common.h"
#include "cli/doctor.h"
#include "util/cmdline.h"
#include "util/json.h"
#include "util/paths.h"

/* Capabilities actgated uses (linux/capability.h numbers). */
#define CAP_CHOWN_BIT 0
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

/* Below this much free space the journal is about to lose records. */
#define JOURNAL_FAIL_BYTES (64ull << 20)
#define JOURNAL_WARN_BYTES (1ull << 30)

static struct doctor_check *add_check(struct doctor_report *r, const char *name)
{
	struct doctor_check *c = &r->checks[r->count < DOCTOR_MAX_CHECKS ? r->count++ : r->count - 1];

	*c = (struct doctor_check){ .name = name };
	return c;
}

static void set_result(struct doctor_check *c, enum doctor_result result, const char *fix,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set_result(struct doctor_check *c, enum doctor_result result, const char *fix,
		       const char *fmt, ...)
{
	va_list ap;

	c->result = result;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
}

/* env->root + path. */
static const char *host_path(const struct doctor_env *env, const char *path, char *buf,
			     size_t size)
{
	snprintf(buf, size, "%s%s", env->root, path);
	return buf;
}

/* A small host file whole, NUL-terminated, trailing newline cut; -errno. */
static int read_host_file(const struct doctor_env *env, const char *path, char *out, size_t size)
{
	char full[PATH_MAX];
	size_t n;
	FILE *f = fopen(host_path(env, path, full, sizeof(full)), "re");

	if (!f)
		return -errno;
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return 0;
}

/* ---- kernel, BTF ---- */

static void kernel_release(const struct doctor_env *env, char *out, size_t size)
{
	struct utsname u;

	if (env->root[0] || uname(&u) < 0) {
		if (read_host_file(env, "/proc/sys/kernel/osrelease", out, size))
			snprintf(out, size, "unknown");
		return;
	}
	snprintf(out, size, "%s", u.release);
}

static void check_kernel(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "kernel");
	char release[256];
	unsigned major = 0, minor = 0;

	kernel_release(env, release, sizeof(release));
	if (sscanf(release, "%u.%u", &major, &minor) != 2) {
		set_result(c, DOCTOR_WARN, "check `uname -r`", "cannot read the kernel version (%s)",
			   release);
		return;
	}
	if (major < 6 || (major == 6 && minor < 1)) {
		set_result(c, DOCTOR_FAIL,
			   "boot a 6.1 or newer kernel (Debian bookworm: linux-image-amd64 or "
			   "linux-image-cloud-amd64)",
			   "%s: actgated needs 6.1 or newer (LSM programs reading a task's ancestor "
			   "cgroups)", release);
		return;
	}
	set_result(c, DOCTOR_PASS, NULL, "%s", release);
}

static void check_btf(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "btf");
	char path[PATH_MAX];

	if (access(host_path(env, "/sys/kernel/btf/vmlinux", path, sizeof(path)), R_OK) == 0) {
		set_result(c, DOCTOR_PASS, NULL, "/sys/kernel/btf/vmlinux");
		return;
	}
	set_result(c, DOCTOR_FAIL,
		   "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's kernels are)",
		   "/sys/kernel/btf/vmlinux: %s: the kernel has no BTF, which CO-RE programs need",
		   strerror(errno));
}

/* ---- the BPF LSM ---- */

/* The kernel's build configuration line for name ("y", "n" when "is not set"; NULL unknown). */
static const char *kernel_config(const struct doctor_env *env, const char *name, char *value,
				 size_t size)
{
	char release[256], path[PATH_MAX], full[PATH_MAX], line[4096];
	size_t name_len = strlen(name);
	gzFile f;
	const char *found = NULL;

	kernel_release(env, release, sizeof(release));
	snprintf(path, sizeof(path), "/boot/config-%s", release);
	/* zlib reads a plain file as it is: one reader for both. */
	f = gzopen(host_path(env, path, full, sizeof(full)), "rb");
	if (!f)
		f = gzopen(host_path(env, "/proc/config.gz", full, sizeof(full)), "rb");
	if (!f)
		return NULL;
	while (!found && gzgets(f, line, sizeof(line))) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, name, name_len) && line[name_len] == '=') {
			snprintf(value, size, "%s", line + name_len + 1);
			found = value;
		} else if (!strncmp(line, "# ", 2) && !strncmp(line + 2, name, name_len) &&
			   !strcmp(line + 2 + name_len, " is not set")) {
			snprintf(value, size, "n");
			found = value;
		}
	}
	gzclose(f);
	return found;
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, item, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The value of lsm= on a command line (into out); false when it has none. */
static bool cmdline_lsm(const char *cmdline, char *out, size_t size)
{
	const char *p = cmdline;

	while ((p = strstr(p, "lsm="))) {
		if (p == cmdline || p[-1] == ' ' || p[-1] == '"') {
			size_t len = strcspn(p + 4, " \"\n");

			snprintf(out, size, "%.*s", (int)len, p + 4);
			return true;
		}
		p += 4;
	}
	return false;
}

/* cmdline with its lsm= set to lsms (added when it has none), into out. */
static void with_lsm(const char *cmdline, const char *lsms, char *out, size_t size)
{
	const char *p = cmdline;

	while ((p = strstr(p, "lsm="))) {
		if (p == cmdline || p[-1] == ' ')
			break;
		p += 4;
	}
	if (!p) {
		snprintf(out, size, "%s%slsm=%s", cmdline, cmdline[0] ? " " : "", lsms);
		return;
	}
	snprintf(out, size, "%.*slsm=%s%s", (int)(p - cmdline), cmdline, lsms,
		 p + 4 + strcspn(p + 4, " "));
}

/* GRUB_CMDLINE_LINUX's value in /etc/default/grub (unquoted); false when absent. */
static bool grub_cmdline(const struct doctor_env *env, char *out, size_t size)
{
	char text[16384];

	if (read_host_file(env, "/etc/default/grub", text, sizeof(text)))
		return false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		size_t len;

		if (strncmp(line, "GRUB_CMDLINE_LINUX=", 19))
			continue;
		line += 19;
		if (*line == '"' || *line == '\'') {
			char quote = *line++;

			len = strcspn(line, quote == '"' ? "\"" : "'");
		} else {
			len = strcspn(line, " #");
		}
		snprintf(out, size, "%.*s", (int)len, line);
		return true;
	}
	snprintf(out, size, "%s", "");
	return true;
}

/*
 * The exact change that makes the BPF LSM active at the next boot: lsms is
 * the list to boot with. GRUB and systemd-boot (kernel-install) are named
 * by what the host has; both when neither is found.
 */
static void boot_fix(const struct doctor_env *env, const char *lsms, char *fix, size_t size)
{
	char grub[4096], kcmd[4096], changed[4096];
	bool has_grub = grub_cmdline(env, grub, sizeof(grub));
	bool has_sdboot = read_host_file(env, "/etc/kernel/cmdline", kcmd, sizeof(kcmd)) == 0;
	size_t n = 0;

	if (has_grub || !has_sdboot) {
		with_lsm(has_grub ? grub : "", lsms, changed, sizeof(changed));
		n += (size_t)snprintf(fix + n, size - n,
				      "GRUB: in /etc/default/grub set GRUB_CMDLINE_LINUX=\"%s\", run "
				      "update-grub and reboot",
				      changed);
	}
	if ((has_sdboot || !has_grub) && n < size) {
		if (!has_sdboot && read_host_file(env, "/proc/cmdline", kcmd, sizeof(kcmd)))
			kcmd[0] = '\0';
		with_lsm(has_sdboot ? kcmd : "", lsms, changed, sizeof(changed));
		if (snprintf(fix + n, size - n,
			 "%ssystemd-boot: write \"%s\" to /etc/kernel/cmdline, run "
			 "kernel-install add \"$(uname -r)\" \"/boot/vmlinuz-$(uname -r)\" (bootctl "
			 "list shows the entry) and reboot",
			 n ? "; " : "", changed) >= (int)(size - n))
			fix[size - 1] = '\0'; /* cut short: still one line */
	}
}

void doctor_check_lsm(const struct doctor_env *env, struct doctor_check *c)
{
	char lsms[512], wanted[600], fix[2048], config[512], cmdline[4096];
	const char *bpf_lsm = kernel_config(env, "CONFIG_BPF_LSM", config, sizeof(config));

	c->name = "bpf-lsm";
	if (bpf_lsm && strcmp(bpf_lsm, "y")) {
		set_result(c, DOCTOR_FAIL,
			   "boot a kernel built with CONFIG_BPF_LSM=y (Debian's 6.1 and newer are)",
			   "the kernel is built without CONFIG_BPF_LSM: no boot option enables it");
		return;
	}
	if (read_host_file(env, "/sys/kernel/security/lsm", lsms, sizeof(lsms)) == 0) {
		if (list_has(lsms, "bpf")) {
			set_result(c, DOCTOR_PASS, NULL, "active LSMs: %s", lsms);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", lsms, lsms[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		set_result(c, DOCTOR_FAIL, fix, "bpf is not among the active LSMs (%s)",
			   lsms[0] ? lsms : "none");
		return;
	}
	if (env->private_lsm) {
		if (list_has(env->private_lsm, "bpf")) {
			set_result(c, DOCTOR_WARN,
				   "mount -t securityfs securityfs /sys/kernel/security (systemd does at "
				   "boot)",
				   "active LSMs: %s (securityfs is not mounted here: read through a "
				   "private mount of it)", env->private_lsm);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", env->private_lsm,
			 env->private_lsm[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		set_result(c, DOCTOR_FAIL, fix, "bpf is not among the active LSMs (%s)",
			   env->private_lsm[0] ? env->private_lsm : "none");
		return;
	}
	/*
	 * No securityfs: the list the kernel booted with is the command line's
	 * lsm=, or else the build's CONFIG_LSM.
	 */
	if (read_host_file(env, "/proc/cmdline", cmdline, sizeof(cmdline)))
		cmdline[0] = '\0';
	if (cmdline_lsm(cmdline, lsms, sizeof(lsms)) ||
	    kernel_config(env, "CONFIG_LSM", config, sizeof(config))) {
		bool from_cmdline = cmdline_lsm(cmdline, lsms, sizeof(lsms));

		if (!from_cmdline) {
			size_t len = strlen(config);
			const char *v = config;

			if (len >= 2 && config[0] == '"' && config[len - 1] == '"') {
				config[len - 1] = '\0';
				v = config + 1;
			}
			snprintf(lsms, sizeof(lsms), "%s", v);
		}
		if (list_has(lsms, "bpf")) {
			set_result(c, DOCTOR_WARN,
				   "mount -t securityfs securityfs /sys/kernel/security (systemd does at "
				   "boot)",
				   "securityfs is not mounted, so the active list cannot be read; "
				   "bpf is in %s (%s)",
				   from_cmdline ? "the kernel command line's lsm="
						: "the build's CONFIG_LSM, and the command line has no lsm=",
				   lsms);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", lsms, lsms[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		set_result(c, DOCTOR_FAIL, fix, "bpf is not in the LSM list the kernel booted with (%s, "
			   "from %s)", lsms, from_cmdline ? "lsm= on the command line" : "CONFIG_LSM");
		return;
	}
	set_result(c, DOCTOR_FAIL, "mount -t securityfs securityfs /sys/kernel/security",
		   "/sys/kernel/security/lsm cannot be read and the boot configuration names no "
		   "list: whether the BPF LSM is active is unknown");
}

/* ---- capabilities, namespaces, the environment ---- */

/* The hex value of a "Name:\tHEX" line of /proc/self/status. */
static bool status_field(const char *status, const char *name, unsigned long long *value)
{
	const char *p = strstr(status, name);

	return p && sscanf(p + strlen(name), ":%llx", value) == 1;
}

static const struct {
	int bit;
	const char *name;
} needed_caps[] = {
	{ CAP_SYS_ADMIN_BIT, "CAP_SYS_ADMIN" },
	{ CAP_BPF_BIT, "CAP_BPF" },
	{ CAP_PERFMON_BIT, "CAP_PERFMON" },
	{ CAP_CHOWN_BIT, "CAP_CHOWN" },
};

/* The needed capabilities missing from mask, as "CAP_BPF CAP_PERFMON" (empty: none). */
static void missing_caps(unsigned long long mask, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]) && n < size; i++)
		if (!(mask & (1ull << needed_caps[i].bit)))
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "",
					      needed_caps[i].name);
}

static void check_caps(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "capabilities");
	unsigned long long eff = 0, bnd = 0;
	char status[8192], missing_bnd[128], missing_eff[128];

	if (read_host_file(env, "/proc/self/status", status, sizeof(status)) ||
	    !status_field(status, "CapEff", &eff) || !status_field(status, "CapBnd", &bnd)) {
		set_result(c, DOCTOR_WARN, "check /proc/self/status",
			   "cannot read this process's capabilities");
		return;
	}
	missing_caps(bnd, missing_bnd, sizeof(missing_bnd));
	missing_caps(eff, missing_eff, sizeof(missing_eff));
	if (missing_bnd[0]) {
		set_result(c, DOCTOR_FAIL,
			   "grant them to the container (or the unit's CapabilityBoundingSet=)",
			   "the capability bounding set lacks %s: no process here can get them, and "
			   "actgated needs them", missing_bnd);
	} else if (missing_eff[0]) {
		set_result(c, DOCTOR_WARN, "run actgate doctor as root, as actgated runs",
			   "this process lacks %s (the bounding set has them)", missing_eff);
	} else {
		set_result(c, DOCTOR_PASS, NULL, "CAP_SYS_ADMIN CAP_BPF CAP_PERFMON CAP_CHOWN");
	}
}

/* The user namespace is the initial one: uid_map maps the whole range onto itself. */
static bool initial_user_ns(const struct doctor_env *env)
{
	char map[256];
	unsigned long long inside, outside, count;

	if (read_host_file(env, "/proc/self/uid_map", map, sizeof(map)) ||
	    sscanf(map, "%llu %llu %llu", &inside, &outside, &count) != 3)
		return true; /* unknown: not blamed */
	return inside == 0 && outside == 0 && count == 4294967295ull;
}

/* "a container (/.dockerenv)", "a Firecracker guest (/proc/cmdline)", ... into out; "" if none. */
static void environment_facts(const struct doctor_env *env, char *out, size_t size)
{
	static const char *const markers[][2] = {
		{ "/.dockerenv", "a Docker container (/.dockerenv)" },
		{ "/run/.containerenv", "a Podman container (/run/.containerenv)" },
	};
	char path[PATH_MAX], cmdline[4096];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]) && n < size; i++)
		if (access(host_path(env, markers[i][0], path, sizeof(path)), F_OK) == 0)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "",
					      markers[i][1]);
	if (n < size && read_host_file(env, "/proc/cmdline", cmdline, sizeof(cmdline)) == 0 &&
	    strstr(cmdline, "firecracker"))
		snprintf(out + n, size - n, "%sa Firecracker micro-VM guest (its kernel command "
			 "line)", n ? ", " : "");
}

void doctor_explain_load(const struct doctor_env *env, const struct doctor_load_probe *p,
			 struct doctor_check *c)
{
	char status[8192], lsms[512], lockdown[256], where[512], missing[128], jit[16];
	unsigned long long eff = ~0ull, seccomp = 0;
	const char *lock = NULL;

	c->name = "bpf-lsm-load";
	if (!p->lsm_errno && !p->lsm_attach_errno) {
		set_result(c, DOCTOR_PASS, NULL,
			   "a minimal BPF LSM program (lsm/file_open) loaded and attached");
		return;
	}
	if (!p->lsm_errno) {
		set_result(c, DOCTOR_FAIL, "see the kernel log (dmesg) for the attach failure",
			   "a minimal BPF LSM program loaded but did not attach: %s",
			   strerror(p->lsm_attach_errno));
		return;
	}
	if (read_host_file(env, "/proc/self/status", status, sizeof(status)) == 0) {
		status_field(status, "CapEff", &eff);
		if (strstr(status, "Seccomp:"))
			sscanf(strstr(status, "Seccomp:") + 8, "%llu", &seccomp);
	}
	missing_caps(eff, missing, sizeof(missing));
	if (read_host_file(env, "/sys/kernel/security/lockdown", lockdown, sizeof(lockdown)) != 0)
		snprintf(lockdown, sizeof(lockdown), "%s",
			 env->private_lockdown ? env->private_lockdown : "");
	if (lockdown[0])
		lock = strstr(lockdown, "[confidentiality]") ? "confidentiality"
		       : strstr(lockdown, "[integrity]")     ? "integrity"
							     : "none";
	environment_facts(env, where, sizeof(where));

	/* The causes in the order they would act, each named only when the facts show it. */
	if (p->lsm_errno == EPERM && missing[0]) {
		set_result(c, DOCTOR_FAIL, "run as root with CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON",
			   "loading a BPF LSM program failed with EPERM: this process lacks %s",
			   missing);
		return;
	}
	if (p->lsm_errno == EPERM && !initial_user_ns(env)) {
		set_result(c, DOCTOR_FAIL,
			   "run actgated in the host's initial user namespace (a privileged container "
			   "at least)",
			   "loading a BPF LSM program failed with EPERM: this process is in a user "
			   "namespace, and BPF needs capabilities in the initial one");
		return;
	}
	if (p->lsm_errno == EPERM && seccomp == 2 && p->tracepoint_errno == EPERM) {
		set_result(c, DOCTOR_FAIL,
			   "allow bpf(2) in the seccomp profile (the container runtime's, or the "
			   "unit's SystemCallFilter=)",
			   "every BPF program load failed with EPERM and a seccomp filter is active: "
			   "the filter refuses bpf(2)");
		return;
	}
	if (read_host_file(env, "/sys/kernel/security/lsm", lsms, sizeof(lsms)) != 0)
		snprintf(lsms, sizeof(lsms), "%s", env->private_lsm ? env->private_lsm : "bpf");
	if (!list_has(lsms, "bpf")) {
		set_result(c, DOCTOR_FAIL, "see the bpf-lsm check for the boot change",
			   "loading a BPF LSM program failed (%s): the BPF LSM is not active (%s)",
			   strerror(p->lsm_errno), lsms);
		return;
	}
	if (read_host_file(env, "/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit)) == 0 &&
	    !strcmp(jit, "0")) {
		set_result(c, DOCTOR_FAIL, "sysctl -w net.core.bpf_jit_enable=1",
			   "loading a BPF LSM program failed (%s): the BPF JIT is off, and LSM "
			   "programs run through JIT-built trampolines", strerror(p->lsm_errno));
		return;
	}
	if (p->lsm_errno == EPERM && !p->verifier_spoke && p->fentry_errno == EPERM &&
	    p->tracepoint_errno == 0) {
		set_result(c, DOCTOR_FAIL,
			   "run actgated on a host or VM whose kernel allows BPF LSM programs (the "
			   "VM tests boot Debian's 6.1 and 6.12 cloud kernels with "
			   "lsm=lockdown,capability,landlock,bpf); nothing on this one enables them",
			   "this kernel refuses every program attached through a BPF trampoline "
			   "(lsm/file_open and fentry/security_file_open: EPERM, before its verifier "
			   "ran) while a tracepoint program loads. Not the cause: the LSM list (%s), "
			   "capabilities (all held), the user namespace (the initial one), seccomp "
			   "(%s)%s%s%s, the JIT (on). So the "
			   "refusal is the kernel's own, not a setting: a patched or restricted build "
			   "(a hook on BPF program loads, or trampolines disabled)%s%s",
			   lsms, seccomp ? "a filter, but other loads pass it" : "none",
			   lock ? ", lockdown (" : "", lock ? lock : "",
			   lock ? ", which does not refuse a program that calls no helper)" : "",
			   where[0] ? "; this process runs in " : "", where);
		return;
	}
	set_result(c, DOCTOR_FAIL, "run actgated -v for libbpf's and the verifier's messages",
		   "loading a minimal BPF LSM program failed: %s (fentry: %s; tracepoint: %s)%s%s",
		   strerror(p->lsm_errno), p->fentry_errno ? strerror(p->fentry_errno) : "loads",
		   p->tracepoint_errno ? strerror(p->tracepoint_errno) : "loads",
		   where[0] ? "; this process runs in " : "", where);
}

/* ---- mounts ---- */

/*
 * The mount point of the first mount of fstype in mountinfo; with under,
 * the mount that holds that path (the longest mount point that prefixes it).
 */
static bool find_mount(const struct doctor_env *env, const char *fstype, const char *under,
		       char *point, size_t size)
{
	char full[PATH_MAX], line[4096];
	bool found = false;
	size_t best = 0;
	FILE *f = fopen(host_path(env, "/proc/self/mountinfo", full, sizeof(full)), "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], type[64];
		const char *sep = strstr(line, " - ");
		size_t len;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1 || strcmp(type, fstype))
			continue;
		len = strlen(mnt);
		if (under) {
			if (strncmp(under, mnt, len) ||
			    (under[len] != '/' && under[len] != '\0' && strcmp(mnt, "/")) ||
			    len < best)
				continue;
			best = len;
		} else if (found) {
			continue;
		}
		snprintf(point, size, "%s", mnt);
		found = true;
	}
	fclose(f);
	return found;
}

static void check_cgroup2(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "cgroup2");
	char point[PATH_MAX];

	if (!find_mount(env, "cgroup2", NULL, point, sizeof(point))) {
		set_result(c, DOCTOR_FAIL,
			   "boot with systemd.unified_cgroup_hierarchy=1 (or mount -t cgroup2 none "
			   "/sys/fs/cgroup)",
			   "no cgroup2 hierarchy is mounted: workloads are cgroup v2 cgroups");
		return;
	}
	set_result(c, DOCTOR_PASS, NULL, "cgroup2 at %s", point);
}

static void check_bpffs(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "bpffs");
	char point[PATH_MAX], fix[PATH_MAX + 64], parent[PATH_MAX];
	char *slash;

	if (find_mount(env, "bpf", env->pin_dir, point, sizeof(point))) {
		set_result(c, DOCTOR_PASS, NULL, "%s is on the bpffs at %s", env->pin_dir, point);
		return;
	}
	snprintf(parent, sizeof(parent), "%s", env->pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	snprintf(fix, sizeof(fix), "mount -t bpf bpf %s (systemd mounts /sys/fs/bpf at boot)",
		 parent);
	set_result(c, DOCTOR_FAIL, fix,
		   "%s is not on a bpffs: the programs and maps could not be pinned, and "
		   "enforcement would end with the daemon", env->pin_dir);
}

/* ---- configuration, policies, pins, journal ---- */

/*
 * Run actgated --check-config [--config FILE] (no shell: the paths are
 * arguments as they are), its stdout and stderr into out. The exit status,
 * or -errno when it could not run.
 */
static int run_check_config(const struct doctor_env *env, char *out, size_t size)
{
	char *argv[] = { (char *)env->actgated, "--check-config", "--config",
			 (char *)env->config_path, NULL };
	size_t n = 0;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	if (!env->config_path)
		argv[2] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execv(env->actgated, argv);
		_exit(127);
	}
	close(fds[1]);
	while (n < size - 1 && (r = read(fds[0], out + n, size - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void check_config(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *config = add_check(r, "configuration");
	struct doctor_check *policies = add_check(r, "policies");
	char out[8192] = "", first_error[1024] = "";
	bool config_bad;
	int status;

	if (!env->actgated) {
		set_result(config, DOCTOR_WARN, "install actgated next to actgate or in PATH",
			   "actgated was not found: the configuration and policies were not checked");
		set_result(policies, DOCTOR_WARN, "install actgated next to actgate or in PATH",
			   "not checked");
		return;
	}
	/* The daemon's own check: exactly what a start would say. */
	status = run_check_config(env, out, sizeof(out));
	if (status < 0 || status == 127) {
		set_result(config, DOCTOR_WARN, NULL, "cannot run %s: %s", env->actgated,
			   status < 0 ? strerror(-status) : "exec failed");
		set_result(policies, DOCTOR_WARN, NULL, "not checked");
		return;
	}
	/* actgated's closing line when the file, not a policy, is at fault. */
	config_bad = strstr(out, ": the configuration has errors") != NULL;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (!first_error[0] && strstr(line, "error"))
			snprintf(first_error, sizeof(first_error), "%s", line);
	if (config_bad) {
		set_result(config, DOCTOR_FAIL, "fix the file at the position given, then "
			   "actgated --check-config", "%s", first_error);
		set_result(policies, DOCTOR_WARN, NULL, "not checked: the configuration has errors");
		return;
	}
	set_result(config, DOCTOR_PASS, NULL, "%s", env->config_path ? env->config_path
				: "the default configuration (" DEFAULT_CONFIG_PATH " if present)");
	if (status == 0) {
		set_result(policies, DOCTOR_PASS, NULL, "actgated --check-config accepts them");
		return;
	}
	set_result(policies, DOCTOR_FAIL, "actgate policy check DIR shows every error",
		   "%s", first_error[0] ? first_error : "actgated --check-config failed");
}

static void check_pins(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "pins");
	char meta[PATH_MAX];
	uint32_t abi = 0, tgid = 0;
	int err;

	snprintf(meta, sizeof(meta), "%s%s/meta", env->root, env->pin_dir);
	if (access(meta, F_OK) != 0) {
		set_result(c, DOCTOR_PASS, NULL, "none in %s: actgated pins its programs at start",
			   env->pin_dir);
		return;
	}
	if (!env->live) {
		set_result(c, DOCTOR_PASS, NULL, "a pinned set in %s (its ABI not read)", env->pin_dir);
		return;
	}
	err = doctor_read_pins_abi(env->pin_dir, &abi, &tgid);
	if (err) {
		set_result(c, DOCTOR_WARN, "run as root", "%s/meta: cannot read: %s", env->pin_dir,
			   strerror(-err));
		return;
	}
	if (abi != ACTGATE_ABI_VERSION) {
		set_result(c, DOCTOR_WARN,
			   "stop actgated, run actgate detach, start it (a gap of one start-up)",
			   "the pins in %s are ABI %u, this build is ABI %u: actgated will refuse to "
			   "adopt them", env->pin_dir, abi, ACTGATE_ABI_VERSION);
		return;
	}
	set_result(c, DOCTOR_PASS, NULL, "ABI %u in %s, %s", abi, env->pin_dir,
		   tgid ? "an actgated guards them" : "no actgated runs");
}

static void check_journal(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "journal");
	char path[PATH_MAX];
	struct statvfs vfs;
	unsigned long long avail;

	if (statvfs(host_path(env, env->journal_dir, path, sizeof(path)), &vfs) < 0) {
		if (errno == ENOENT)
			set_result(c, DOCTOR_PASS, NULL, "%s does not exist yet: actgated creates it",
				   env->journal_dir);
		else
			set_result(c, DOCTOR_WARN, "run as root", "%s: %s", env->journal_dir,
				   strerror(errno));
		return;
	}
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (avail < JOURNAL_FAIL_BYTES)
		set_result(c, DOCTOR_FAIL,
			   "free space there or set journal_retain_bytes lower in actgated.yaml",
			   "%s: %llu MiB free: decisions that cannot be written are counted, not kept",
			   env->journal_dir, avail >> 20);
	else if (avail < JOURNAL_WARN_BYTES)
		set_result(c, DOCTOR_WARN,
			   "keep more than the retention limit (1 GiB by default) free there",
			   "%s: %llu MiB free", env->journal_dir, avail >> 20);
	else
		set_result(c, DOCTOR_PASS, NULL, "%s: %llu MiB free", env->journal_dir, avail >> 20);
}

static void check_key(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = add_check(r, "seal-key");
	size_t jlen = strlen(env->journal_dir);
	char path[PATH_MAX], fix[PATH_MAX + 32];
	struct stat st;

	if (!strncmp(env->journal_key, env->journal_dir, jlen) && env->journal_key[jlen] == '/') {
		set_result(c, DOCTOR_FAIL, "keep the key outside the journal directory (journal_key)",
			   "%s is inside the journal directory: who can rewrite the journal could "
			   "re-seal it", env->journal_key);
		return;
	}
	if (stat(host_path(env, env->journal_key, path, sizeof(path)), &st) < 0) {
		if (errno == ENOENT)
			set_result(c, DOCTOR_WARN,
				   "start actgated once, then keep a copy of the key off this host",
				   "%s does not exist yet: actgated creates it at its first start",
				   env->journal_key);
		else
			set_result(c, DOCTOR_WARN, "run as root", "%s: %s", env->journal_key,
				   strerror(errno));
		return;
	}
	if (st.st_mode & 077) {
		snprintf(fix, sizeof(fix), "chmod 600 %s", env->journal_key);
		set_result(c, DOCTOR_FAIL, fix,
			   "%s is mode %04o: readable by others, who could then forge seals",
			   env->journal_key, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (st.st_uid != 0) {
		snprintf(fix, sizeof(fix), "chown root: %s", env->journal_key);
		set_result(c, DOCTOR_WARN, fix, "%s is owned by uid %u, not root", env->journal_key,
			   (unsigned)st.st_uid);
		return;
	}
	set_result(c, DOCTOR_PASS, NULL, "%s, mode 0600, root", env->journal_key);
}

void doctor_run(const struct doctor_env *env, struct doctor_report *r)
{
	r->count = 0;
	check_kernel(env, r);
	check_btf(env, r);
	doctor_check_lsm(env, add_check(r, "bpf-lsm"));
	if (env->live) {
		struct doctor_load_probe p;

		doctor_probe_load(&p);
		doctor_explain_load(env, &p, add_check(r, "bpf-lsm-load"));
	}
	check_cgroup2(env, r);
	check_bpffs(env, r);
	check_caps(env, r);
	if (env->live)
		check_config(env, r);
	check_pins(env, r);
	check_journal(env, r);
	check_key(env, r);
}

enum doctor_result doctor_worst(const struct doctor_report *r)
{
	enum doctor_result worst = DOCTOR_PASS;

	for (size_t i = 0; i < r->count; i++)
		if (r->checks[i].result > worst)
			worst = r->checks[i].result;
	return worst;
}

/* ---- the command ---- */

static const char *const result_names[] = { "pass", "warn", "fail" };

/* actgated beside this actgate (a build tree, /usr/bin and /usr/sbin), else in PATH. */
static const char *find_actgated(char *buf, size_t size)
{
	static const char *const beside[] = { "actgated", "../sbin/actgated" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *path = getenv("PATH");

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			for (size_t i = 0; i < 2; i++) {
				if (snprintf(buf, size, "%s/%s", self, beside[i]) < (int)size &&
				    access(buf, X_OK) == 0)
					return buf;
			}
		}
	}
	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, size, "%.*s/actgated", (int)len, path);
		if (len && access(buf, X_OK) == 0)
			return buf;
		path += len + (path[len] == ':');
	}
	return NULL;
}

static void doctor_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate doctor [--json] [--config FILE] [--pin-dir DIR]\n"
		"                      [--journal-dir DIR] [--journal-key FILE]\n"
		"Check that actgated can enforce on this host: kernel version, BTF, the BPF LSM\n"
		"among the active LSMs (with the exact GRUB or systemd-boot change when it is\n"
		"not), a minimal BPF LSM program loaded and attached (and, when that fails,\n"
		"why), cgroup v2, the bpffs, capabilities, the configuration and the policies\n"
		"(actgated --check-config), the pins and their ABI, the journal's free space\n"
		"and the seal key. Each check says pass, warn or fail, with a fix.\n"
		"\n"
		"  --json              one JSON object: {\"result\": WORST, \"checks\": {...}}\n"
		"  --config FILE       actgated's configuration file [" DEFAULT_CONFIG_PATH "]\n"
		"  --pin-dir DIR       [" DEFAULT_PIN_DIR "]\n"
		"  --journal-dir DIR   [" DEFAULT_JOURNAL_DIR "]\n"
		"  --journal-key FILE  [" DEFAULT_JOURNAL_KEY "]\n"
		"  --root DIR          read /sys, /proc, /etc and /boot under DIR and skip the\n"
		"                      live probes (for tests)\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 when every check passed, 1 when the worst is a warning, 2 when\n"
		"a check failed (actgated cannot enforce as configured) or on usage errors.\n");
}

static void print_report(const struct doctor_report *r, bool json)
{
	if (json) {
		struct json_out j;

		json_out_init(&j);
		json_object_begin(&j);
		json_add_string(&j, "result", result_names[doctor_worst(r)]);
		json_key_object_begin(&j, "checks");
		for (size_t i = 0; i < r->count; i++) {
			const struct doctor_check *c = &r->checks[i];

			json_key_object_begin(&j, c->name);
			json_add_string(&j, "result", result_names[c->result]);
			json_add_string(&j, "detail", c->detail);
			json_add_string(&j, "fix", c->fix[0] ? c->fix : NULL);
			json_object_end(&j);
		}
		json_object_end(&j);
		json_object_end(&j);
		json_out_write_line(&j, stdout);
		json_out_free(&j);
		return;
	}
	for (size_t i = 0; i < r->count; i++) {
		const struct doctor_check *c = &r->checks[i];

		printf("%-4s  %-13s %s\n", result_names[c->result], c->name, c->detail);
		if (c->fix[0])
			printf("      %-13s fix: %s\n", "", c->fix);
	}
}

int cmd_doctor(int argc, char **argv)
{
	static const char shortopts[] = "h";
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "journal-dir", required_argument, NULL, 'j' },
		{ "journal-key", required_argument, NULL, 'k' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct doctor_env env = { .root = "", .live = true, .pin_dir = DEFAULT_PIN_DIR,
				  .journal_dir = DEFAULT_JOURNAL_DIR,
				  .journal_key = DEFAULT_JOURNAL_KEY };
	struct doctor_report *r;
	char actgated[PATH_MAX], private_lsm[512], private_lockdown[256];
	enum doctor_result worst;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = true;
			break;
		case 'c':
			env.config_path = optarg;
			break;
		case 'P':
			env.pin_dir = optarg;
			break;
		case 'j':
			env.journal_dir = optarg;
			break;
		case 'k':
			env.journal_key = optarg;
			break;
		case 'r':
			env.root = optarg;
			env.live = false;
			break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			return cli_option_error("doctor", argv, shortopts, options);
		}
	}
	if (optind < argc)
		return cli_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	if (env.pin_dir[0] != '/' || env.journal_dir[0] != '/' || env.journal_key[0] != '/')
		return cli_usage_error("doctor", "%s",
				       "--pin-dir, --journal-dir and --journal-key take absolute paths");
	if (env.live) {
		env.actgated = find_actgated(actgated, sizeof(actgated));
		if (access("/sys/kernel/security/lsm", R_OK) != 0 &&
		    doctor_read_securityfs(private_lsm, sizeof(private_lsm), private_lockdown,
					   sizeof(private_lockdown)) == 0) {
			env.private_lsm = private_lsm;
			env.private_lockdown = private_lockdown;
		}
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "actgate: doctor: %s\n", strerror(ENOMEM));
		return EXIT_FAIL;
	}
	doctor_run(&env, r);
	print_report(r, json);
	worst = doctor_worst(r);
	free(r);
	return worst == DOCTOR_PASS ? 0 : worst == DOCTOR_WARN ? 1 : 2;
}
