/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* doctor: the kernel, BTF, capabilities, and the cgroup2 and bpf mounts. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/doctor-internal.h"

/* Capabilities actgated uses (linux/capability.h numbers). */
#define CAP_CHOWN_BIT	  0
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT	  38
#define CAP_BPF_BIT	  39

void doctor_check_kernel(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "kernel");
	char release[256];
	unsigned major = 0, minor = 0;

	doctor_kernel_release(env, release, sizeof(release));
	if (sscanf(release, "%u.%u", &major, &minor) != 2) {
		doctor_set_result(c, DOCTOR_WARN, "check `uname -r`",
				  "cannot read the kernel version (%s)", release);
		return;
	}
	if (major < 6 || (major == 6 && minor < 1)) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"boot a 6.1 or newer kernel (Debian bookworm: linux-image-amd64 or "
			"linux-image-cloud-amd64)",
			"%s: actgated needs 6.1 or newer (LSM programs reading a task's ancestor "
			"cgroups)",
			release);
		return;
	}
	doctor_set_result(c, DOCTOR_PASS, NULL, "%s", release);
}

void doctor_check_btf(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "btf");
	char path[PATH_MAX];

	if (access(doctor_host_path(env, "/sys/kernel/btf/vmlinux", path, sizeof(path)), R_OK) ==
	    0) {
		doctor_set_result(c, DOCTOR_PASS, NULL, "/sys/kernel/btf/vmlinux");
		return;
	}
	doctor_set_result(
		c, DOCTOR_FAIL,
		"boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's kernels are)",
		"/sys/kernel/btf/vmlinux: %s: the kernel has no BTF, which CO-RE programs need",
		strerror(errno));
}

/* The hex value of a "Name:\tHEX" line of /proc/self/status. */
bool doctor_status_field(const char *status, const char *name, unsigned long long *value)
{
	const char *p = strstr(status, name);

	return p && sscanf(p + strlen(name), ":%llx", value) == 1;
}

static const struct {
	int bit;
	const char *name;
} needed_caps[] = {
	{CAP_SYS_ADMIN_BIT, "CAP_SYS_ADMIN"},
	{CAP_BPF_BIT, "CAP_BPF"},
	{CAP_PERFMON_BIT, "CAP_PERFMON"},
	{CAP_CHOWN_BIT, "CAP_CHOWN"},
};

/* The needed capabilities missing from mask, as "CAP_BPF CAP_PERFMON" (empty: none). */
void doctor_missing_caps(unsigned long long mask, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]) && n < size; i++)
		if (!(mask & (1ull << needed_caps[i].bit)))
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "",
					      needed_caps[i].name);
}

void doctor_check_caps(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "capabilities");
	unsigned long long eff = 0, bnd = 0;
	char status[8192], missing_bnd[128], missing_eff[128];

	if (doctor_read_host_file(env, "/proc/self/status", status, sizeof(status)) ||
	    !doctor_status_field(status, "CapEff", &eff) ||
	    !doctor_status_field(status, "CapBnd", &bnd)) {
		doctor_set_result(c, DOCTOR_WARN, "check /proc/self/status",
				  "cannot read this process's capabilities");
		return;
	}
	doctor_missing_caps(bnd, missing_bnd, sizeof(missing_bnd));
	doctor_missing_caps(eff, missing_eff, sizeof(missing_eff));
	if (missing_bnd[0]) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"grant them to the container (or the unit's CapabilityBoundingSet=)",
			"the capability bounding set lacks %s: no process here can get them, and "
			"actgated needs them",
			missing_bnd);
	} else if (missing_eff[0]) {
		doctor_set_result(c, DOCTOR_WARN, "run actgate doctor as root, as actgated runs",
				  "this process lacks %s (the bounding set has them)", missing_eff);
	} else {
		doctor_set_result(c, DOCTOR_PASS, NULL,
				  "CAP_SYS_ADMIN CAP_BPF CAP_PERFMON CAP_CHOWN");
	}
}

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
	FILE *f = fopen(doctor_host_path(env, "/proc/self/mountinfo", full, sizeof(full)), "re");

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

void doctor_check_cgroup2(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "cgroup2");
	char point[PATH_MAX];

	if (!find_mount(env, "cgroup2", NULL, point, sizeof(point))) {
		doctor_set_result(
			c, DOCTOR_FAIL,
			"boot with systemd.unified_cgroup_hierarchy=1 (or mount -t cgroup2 none "
			"/sys/fs/cgroup)",
			"no cgroup2 hierarchy is mounted: workloads are cgroup v2 cgroups");
		return;
	}
	doctor_set_result(c, DOCTOR_PASS, NULL, "cgroup2 at %s", point);
}

void doctor_check_bpffs(const struct doctor_env *env, struct doctor_report *r)
{
	struct doctor_check *c = doctor_add_check(r, "bpffs");
	char point[PATH_MAX], fix[PATH_MAX + 64], parent[PATH_MAX];
	char *slash;

	if (find_mount(env, "bpf", env->pin_dir, point, sizeof(point))) {
		doctor_set_result(c, DOCTOR_PASS, NULL, "%s is on the bpffs at %s", env->pin_dir,
				  point);
		return;
	}
	snprintf(parent, sizeof(parent), "%s", env->pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	snprintf(fix, sizeof(fix), "mount -t bpf bpf %s (systemd mounts /sys/fs/bpf at boot)",
		 parent);
	doctor_set_result(c, DOCTOR_FAIL, fix,
			  "%s is not on a bpffs: the programs and maps could not be pinned, and "
			  "enforcement would end with the daemon",
			  env->pin_dir);
}
