/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * doctor: the BPF LSM. Is bpf among the active LSMs (and if not, the exact
 * boot change for GRUB or systemd-boot), and when a minimal BPF LSM program
 * cannot load, which cause the facts point to.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli/doctor-internal.h"

/* The kernel's build configuration line for name ("y", "n" when "is not set"; NULL unknown). */
static const char *kernel_config(const struct doctor_env *env, const char *name, char *value,
				 size_t size)
{
	char release[256], path[PATH_MAX], full[PATH_MAX], line[4096];
	size_t name_len = strlen(name);
	gzFile f;
	const char *found = NULL;

	doctor_kernel_release(env, release, sizeof(release));
	snprintf(path, sizeof(path), "/boot/config-%s", release);
	/* zlib reads a plain file as it is: one reader for both. */
	f = gzopen(doctor_host_path(env, path, full, sizeof(full)), "rb");
	if (!f)
		f = gzopen(doctor_host_path(env, "/proc/config.gz", full, sizeof(full)), "rb");
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

bool doctor_list_has(const char *list, const char *item)
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

	if (doctor_read_host_file(env, "/etc/default/grub", text, sizeof(text)))
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
	bool has_sdboot =
		doctor_read_host_file(env, "/etc/kernel/cmdline", kcmd, sizeof(kcmd)) == 0;
	size_t n = 0;

	if (has_grub || !has_sdboot) {
		with_lsm(has_grub ? grub : "", lsms, changed, sizeof(changed));
		n += (size_t)snprintf(
			fix + n, size - n,
			"GRUB: in /etc/default/grub set GRUB_CMDLINE_LINUX=\"%s\", run "
			"update-grub and reboot",
			changed);
	}
	if ((has_sdboot || !has_grub) && n < size) {
		if (!has_sdboot && doctor_read_host_file(env, "/proc/cmdline", kcmd, sizeof(kcmd)))
			kcmd[0] = '\0';
		with_lsm(has_sdboot ? kcmd : "", lsms, changed, sizeof(changed));
		if (snprintf(
			    fix + n, size - n,
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
		doctor_set_result(
			c, DOCTOR_FAIL,
			"boot a kernel built with CONFIG_BPF_LSM=y (Debian's 6.1 and newer are)",
			"the kernel is built without CONFIG_BPF_LSM: no boot option enables it");
		return;
	}
	if (doctor_read_host_file(env, "/sys/kernel/security/lsm", lsms, sizeof(lsms)) == 0) {
		if (doctor_list_has(lsms, "bpf")) {
			doctor_set_result(c, DOCTOR_PASS, NULL, "active LSMs: %s", lsms);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", lsms, lsms[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		doctor_set_result(c, DOCTOR_FAIL, fix, "bpf is not among the active LSMs (%s)",
				  lsms[0] ? lsms : "none");
		return;
	}
	if (env->private_lsm) {
		if (doctor_list_has(env->private_lsm, "bpf")) {
			doctor_set_result(
				c, DOCTOR_WARN,
				"mount -t securityfs securityfs /sys/kernel/security (systemd does at "
				"boot)",
				"active LSMs: %s (securityfs is not mounted here: read through a "
				"private mount of it)",
				env->private_lsm);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", env->private_lsm,
			 env->private_lsm[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		doctor_set_result(c, DOCTOR_FAIL, fix, "bpf is not among the active LSMs (%s)",
				  env->private_lsm[0] ? env->private_lsm : "none");
		return;
	}
	/*
	 * No securityfs: the list the kernel booted with is the command line's
	 * lsm=, or else the build's CONFIG_LSM.
	 */
	if (doctor_read_host_file(env, "/proc/cmdline", cmdline, sizeof(cmdline)))
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
		if (doctor_list_has(lsms, "bpf")) {
			doctor_set_result(
				c, DOCTOR_WARN,
				"mount -t securityfs securityfs /sys/kernel/security (systemd does at "
				"boot)",
				"securityfs is not mounted, so the active list cannot be read; "
				"bpf is in %s (%s)",
				from_cmdline
					? "the kernel command line's lsm="
					: "the build's CONFIG_LSM, and the command line has no lsm=",
				lsms);
			return;
		}
		snprintf(wanted, sizeof(wanted), "%s%sbpf", lsms, lsms[0] ? "," : "");
		boot_fix(env, wanted, fix, sizeof(fix));
		doctor_set_result(c, DOCTOR_FAIL, fix,
				  "bpf is not in the LSM list the kernel booted with (%s, "
				  "from %s)",
				  lsms, from_cmdline ? "lsm= on the command line" : "CONFIG_LSM");
		return;
	}
	doctor_set_result(
		c, DOCTOR_FAIL, "mount -t securityfs securityfs /sys/kernel/security",
		"/sys/kernel/security/lsm cannot be read and the boot configuration names no "
		"list: whether the BPF LSM is active is unknown");
}

/* The user namespace is the initial one: uid_map maps the whole range onto itself. */
static bool initial_user_ns(const struct doctor_env *env)
{
	char map[256];
	unsigned long long inside, outside, count;

	if (doctor_read_host_file(env, "/proc/self/uid_map", map, sizeof(map)) ||
	    sscanf(map, "%llu %llu %llu", &inside, &outside, &count) != 3)
		return true; /* unknown: not blamed */
	return inside == 0 && outside == 0 && count == 4294967295ull;
}

/* "a container (/.dockerenv)", "a Firecracker guest (/proc/cmdline)", ... into out; "" if none. */
static void environment_facts(const struct doctor_env *env, char *out, size_t size)
{
	static const char *const markers[][2] = {
		{"/.dockerenv", "a Docker container (/.dockerenv)"},
		{"/run/.containerenv", "a Podman container (/run/.containerenv)"},
	};
	char path[PATH_MAX], cmdline[4096];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]) && n < size; i++)
		if (access(doctor_host_path(env, markers[i][0], path, sizeof(path)), F_OK) == 0)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "",
					      markers[i][1]);
	if (n < size &&
	    doctor_read_host_file(env, "/proc/cmdline", cmdline, sizeof(cmdline)) == 0 &&
	    strstr(cmdline, "firecracker"))
		snprintf(out + n, size - n,
			 "%sa Firecracker micro-VM guest (its kernel command "
			 "line)",
			 n ? ", " : "");
}

void doctor_explain_load(const struct doctor_env *env, const struct doctor_load_probe *p,
			 struct doctor_check *c)
{
	char status[8192], lsms[512], lockdown[256], where[512], missing[128], jit[16];
	unsigned long long eff = ~0ull, seccomp = 0;
	const char *lock = NULL;

	c->name = "bpf-lsm-load";
	if (!p->lsm_errno && !p->lsm_attach_errno) {
		doctor_set_result(c, DOCTOR_PASS, NULL,
				  "a minimal BPF LSM program (lsm/file_open) loaded and attached");
		return;
	}
	if (!p->lsm_errno) {
		doctor_set_result(c, DOCTOR_FAIL,
				  "see the kernel log (dmesg) for the attach failure",
				  "a minimal BPF LSM program loaded but did not attach: %s",
				  strerror(p->lsm_attach_errno));
		return;
	}
	if (doctor_read_host_file(env, "/proc/self/status", status, sizeof(status)) == 0) {
		doctor_status_field(status, "CapEff", &eff);
		if (strstr(status, "Seccomp:"))
			sscanf(strstr(status, "Seccomp:") + 8, "%llu", &seccomp);
	}
	doctor_missing_caps(eff, missing, sizeof(missing));
	if (doctor_read_host_file(env, "/sys/kernel/security/lockdown", lockdown,
				  sizeof(lockdown)) != 0)
		snprintf(lockdown, sizeof(lockdown), "%s",
			 env->private_lockdown ? env->private_lockdown : "");
	if (lockdown[0])
		lock = strstr(lockdown, "[confidentiality]") ? "confidentiality"
		       : strstr(lockdown, "[integrity]")     ? "integrity"
							     : "none";
	environment_facts(env, where, sizeof(where));

	/* The causes in the order they would act, each named only when the facts show it. */
	if (p->lsm_errno == EPERM && missing[0]) {
		doctor_set_result(
			c, DOCTOR_FAIL, "run as root with CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON",
			"loading a BPF LSM program failed with EPERM: this process lacks %s",
			missing);
		return;
	}
	if (p->lsm_errno == EPERM && !initial_user_ns(env)) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"run actgated in the host's initial user namespace (a privileged container "
			"at least)",
			"loading a BPF LSM program failed with EPERM: this process is in a user "
			"namespace, and BPF needs capabilities in the initial one");
		return;
	}
	if (p->lsm_errno == EPERM && seccomp == 2 && p->tracepoint_errno == EPERM) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"allow bpf(2) in the seccomp profile (the container runtime's, or the "
			"unit's SystemCallFilter=)",
			"every BPF program load failed with EPERM and a seccomp filter is active: "
			"the filter refuses bpf(2)");
		return;
	}
	if (doctor_read_host_file(env, "/sys/kernel/security/lsm", lsms, sizeof(lsms)) != 0)
		snprintf(lsms, sizeof(lsms), "%s", env->private_lsm ? env->private_lsm : "bpf");
	if (!doctor_list_has(lsms, "bpf")) {
		doctor_set_result(
			c, DOCTOR_FAIL, "see the bpf-lsm check for the boot change",
			"loading a BPF LSM program failed (%s): the BPF LSM is not active (%s)",
			strerror(p->lsm_errno), lsms);
		return;
	}
	if (doctor_read_host_file(env, "/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit)) ==
		    0 &&
	    !strcmp(jit, "0")) {
		doctor_set_result(
			c, DOCTOR_FAIL, "sysctl -w net.core.bpf_jit_enable=1",
			"loading a BPF LSM program failed (%s): the BPF JIT is off, and LSM "
			"programs run through JIT-built trampolines",
			strerror(p->lsm_errno));
		return;
	}
	if (p->lsm_errno == EPERM && !p->verifier_spoke && p->fentry_errno == EPERM &&
	    p->tracepoint_errno == 0) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"run actgated on a host or VM whose kernel allows BPF LSM programs (the "
			"VM tests boot Debian's 6.1 and 6.12 cloud kernels with "
			"lsm=lockdown,capability,landlock,bpf); nothing on this one enables them",
			"this kernel refuses every program attached through a BPF trampoline "
			"(lsm/file_open and fentry/security_file_open: EPERM, before its verifier "
			"ran), while other programs load: a tracepoint program%s. Not the cause: the LSM list (%s), "
			"capabilities (all held), the user namespace (the initial one), seccomp "
			"(%s)%s%s%s, the JIT (on). So the "
			"refusal is the kernel's own, not a setting: a patched or restricted build "
			"(a hook on BPF program loads, or trampolines disabled)%s%s",
			p->tp_btf_errno ? ""
					: " and a BTF-attached tp_btf program (no trampoline: so BTF "
					  "and the attach by BTF id work)",
			lsms, seccomp ? "a filter, but other loads pass it" : "none",
			lock ? ", lockdown (" : "", lock ? lock : "",
			lock ? ", which does not refuse a program that calls no helper)" : "",
			where[0] ? "; this process runs in " : "", where);
		return;
	}
	doctor_set_result(
		c, DOCTOR_FAIL, "run actgated -v for libbpf's and the verifier's messages",
		"loading a minimal BPF LSM program failed: %s (fentry: %s; tracepoint: %s)%s%s",
		strerror(p->lsm_errno), p->fentry_errno ? strerror(p->fentry_errno) : "loads",
		p->tracepoint_errno ? strerror(p->tracepoint_errno) : "loads",
		where[0] ? "; this process runs in " : "", where);
}
