/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate doctor`'s checks (cli/doctor.c) on fake hosts: a temporary root
 * holding the /sys, /proc, /etc and /boot files each check reads. The live
 * probes are not run here; their explanation is driven with made-up probe
 * results.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/doctor.h"

struct host {
	char root[64];
};

static void put(struct host *h, const char *path, const char *text, mode_t mode)
{
	char full[PATH_MAX], dir[PATH_MAX], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", h->root, path);
	snprintf(dir, sizeof(dir), "%s", full);
	for (slash = strchr(dir + strlen(h->root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(full, mode);
}

#define STATUS_ALL_CAPS                                                                    \
	"Name:\tactgate\nSeccomp:\t0\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"

/* A host where everything is in order. */
static int setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	snprintf(h->root, sizeof(h->root), "/tmp/actgate-doctor-XXXXXX");
	assert_non_null(mkdtemp(h->root));
	put(h, "/proc/sys/kernel/osrelease", "6.1.0-57-cloud-amd64\n", 0644);
	put(h, "/sys/kernel/btf/vmlinux", "BTF", 0444);
	put(h, "/sys/kernel/security/lsm", "lockdown,capability,landlock,bpf", 0444);
	put(h, "/proc/self/status", STATUS_ALL_CAPS, 0444);
	put(h, "/proc/self/uid_map", "         0          0 4294967295\n", 0444);
	put(h, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet\n", 0444);
	put(h, "/proc/self/mountinfo",
	    "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
	    "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
	    "31 22 0:27 / /sys/fs/bpf rw,nosuid - bpf bpf rw,mode=700\n",
	    0444);
	put(h, "/var/lib/actgate/journal.key", "0123456789abcdef0123456789abcdef", 0600);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	assert_int_equal(system(cmd), 0);
	free(h);
	return 0;
}

static struct doctor_env env_of(const struct host *h, char *key, size_t size)
{
	/* The key is stat'ed under the root too. */
	snprintf(key, size, "/var/lib/actgate/journal.key");
	return (struct doctor_env){ .root = h->root, .live = false,
				    .pin_dir = "/sys/fs/bpf/actgate",
				    .journal_dir = "/var/log/actgate", .journal_key = key };
}

static const struct doctor_check *find(const struct doctor_report *r, const char *name)
{
	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->checks[i].name, name))
			return &r->checks[i];
	fail_msg("no check %s", name);
	return NULL;
}

static void test_healthy_host(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	doctor_run(&env, &r);
	for (size_t i = 0; i < r.count; i++)
		if (r.checks[i].result != DOCTOR_PASS)
			fail_msg("%s: %s", r.checks[i].name, r.checks[i].detail);
	assert_int_equal(doctor_worst(&r), DOCTOR_PASS);
	assert_string_equal(find(&r, "bpf-lsm")->detail,
			    "active LSMs: lockdown,capability,landlock,bpf");
	assert_string_equal(find(&r, "cgroup2")->detail, "cgroup2 at /sys/fs/cgroup");
	assert_non_null(strstr(find(&r, "bpffs")->detail, "on the bpffs at /sys/fs/bpf"));
}

static void test_lsm_missing_grub(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));
	const struct doctor_check *c;

	put(h, "/sys/kernel/security/lsm", "lockdown,capability,apparmor", 0444);
	put(h, "/etc/default/grub",
	    "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	    "GRUB_CMDLINE_LINUX=\"console=ttyS0 lsm=apparmor\"\n", 0644);
	doctor_run(&env, &r);
	c = find(&r, "bpf-lsm");
	assert_int_equal(c->result, DOCTOR_FAIL);
	assert_string_equal(c->detail,
			    "bpf is not among the active LSMs (lockdown,capability,apparmor)");
	/* The existing lsm= is replaced, the rest of the line kept. */
	assert_string_equal(c->fix, "GRUB: in /etc/default/grub set GRUB_CMDLINE_LINUX=\"console=ttyS0 "
				    "lsm=lockdown,capability,apparmor,bpf\", run update-grub and reboot");
	assert_int_equal(doctor_worst(&r), DOCTOR_FAIL);
}

static void test_lsm_missing_systemd_boot(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));
	const struct doctor_check *c;

	put(h, "/sys/kernel/security/lsm", "capability,yama", 0444);
	put(h, "/etc/kernel/cmdline", "root=UUID=1234 rw quiet\n", 0644);
	doctor_run(&env, &r);
	c = find(&r, "bpf-lsm");
	assert_int_equal(c->result, DOCTOR_FAIL);
	assert_string_equal(c->fix, "systemd-boot: write \"root=UUID=1234 rw quiet "
				    "lsm=capability,yama,bpf\" to /etc/kernel/cmdline, run "
				    "kernel-install add \"$(uname -r)\" \"/boot/vmlinuz-$(uname -r)\" "
				    "(bootctl list shows the entry) and reboot");
}

static void test_lsm_not_built(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	put(h, "/boot/config-6.1.0-57-cloud-amd64", "CONFIG_BPF=y\n# CONFIG_BPF_LSM is not set\n",
	    0644);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "bpf-lsm")->result, DOCTOR_FAIL);
	assert_non_null(strstr(find(&r, "bpf-lsm")->detail, "without CONFIG_BPF_LSM"));
}

static void test_lsm_without_securityfs(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX], path[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	snprintf(path, sizeof(path), "%s/sys/kernel/security/lsm", h->root);
	unlink(path);
	/* The build's list names bpf, the command line has no lsm=: a warning to mount securityfs. */
	put(h, "/boot/config-6.1.0-57-cloud-amd64",
	    "CONFIG_BPF_LSM=y\nCONFIG_LSM=\"landlock,lockdown,yama,bpf\"\n", 0644);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "bpf-lsm")->result, DOCTOR_WARN);
	assert_non_null(strstr(find(&r, "bpf-lsm")->detail, "landlock,lockdown,yama,bpf"));
	/* An lsm= on the command line without bpf wins over the build's list. */
	put(h, "/proc/cmdline", "root=/dev/vda1 lsm=landlock,yama\n", 0444);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "bpf-lsm")->result, DOCTOR_FAIL);
	assert_non_null(strstr(find(&r, "bpf-lsm")->fix, "lsm=landlock,yama,bpf"));
	/* The list a private securityfs mount showed is the kernel's own. */
	env.private_lsm = "capability,bpf";
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "bpf-lsm")->result, DOCTOR_WARN);
	assert_non_null(strstr(find(&r, "bpf-lsm")->detail, "active LSMs: capability,bpf"));
}

static void test_old_kernel_no_btf(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX], path[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	put(h, "/proc/sys/kernel/osrelease", "5.10.0-28-amd64\n", 0644);
	snprintf(path, sizeof(path), "%s/sys/kernel/btf/vmlinux", h->root);
	unlink(path);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "kernel")->result, DOCTOR_FAIL);
	assert_int_equal(find(&r, "btf")->result, DOCTOR_FAIL);
}

static void test_mounts_missing(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	/* cgroup v1 only, and no bpffs. */
	put(h, "/proc/self/mountinfo",
	    "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
	    "30 22 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
	    0444);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "cgroup2")->result, DOCTOR_FAIL);
	assert_int_equal(find(&r, "bpffs")->result, DOCTOR_FAIL);
	assert_string_equal(find(&r, "bpffs")->fix,
			    "mount -t bpf bpf /sys/fs/bpf (systemd mounts /sys/fs/bpf at boot)");
	/* A bpffs mounted elsewhere does not hold the pin directory. */
	put(h, "/proc/self/mountinfo", "31 22 0:27 / /mnt/bpf rw - bpf bpf rw\n", 0444);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "bpffs")->result, DOCTOR_FAIL);
}

static void test_capabilities(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	/* Not root: a warning. */
	put(h, "/proc/self/status", "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n", 0444);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "capabilities")->result, DOCTOR_WARN);
	/* A bounding set without CAP_BPF (bit 39): a failure, named. */
	put(h, "/proc/self/status", "CapEff:\t0000017fffffffff\nCapBnd:\t0000017fffffffff\n", 0444);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "capabilities")->result, DOCTOR_FAIL);
	assert_non_null(strstr(find(&r, "capabilities")->detail, "lacks CAP_BPF:"));
}

static void test_seal_key(void **state)
{
	struct host *h = *state;
	struct doctor_report r;
	char key[PATH_MAX], path[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));

	snprintf(path, sizeof(path), "%s/var/lib/actgate/journal.key", h->root);
	chmod(path, 0644);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "seal-key")->result, DOCTOR_FAIL);
	assert_string_equal(find(&r, "seal-key")->fix, "chmod 600 /var/lib/actgate/journal.key");
	unlink(path);
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "seal-key")->result, DOCTOR_WARN);
	assert_int_equal(doctor_worst(&r), DOCTOR_WARN);
	env.journal_key = "/var/log/actgate/journal.key";
	doctor_run(&env, &r);
	assert_int_equal(find(&r, "seal-key")->result, DOCTOR_FAIL);
}

static void test_explain_load(void **state)
{
	struct host *h = *state;
	struct doctor_check c;
	char key[PATH_MAX];
	struct doctor_env env = env_of(h, key, sizeof(key));
	struct doctor_load_probe ok = { 0 };
	/* This development machine: trampoline programs refused before the verifier. */
	struct doctor_load_probe trampolines = { .lsm_errno = EPERM, .fentry_errno = EPERM };

	doctor_explain_load(&env, &ok, &c);
	assert_int_equal(c.result, DOCTOR_PASS);

	put(h, "/proc/cmdline", "console=ttyS0 -- --firecracker-init\n", 0444);
	put(h, "/.dockerenv", "", 0644);
	put(h, "/sys/kernel/security/lockdown", "none [integrity] confidentiality\n", 0444);
	doctor_explain_load(&env, &trampolines, &c);
	assert_int_equal(c.result, DOCTOR_FAIL);
	assert_non_null(strstr(c.detail, "refuses every program attached through a BPF trampoline"));
	assert_non_null(strstr(c.detail, "and a BTF-attached tp_btf program"));
	assert_non_null(strstr(c.detail, "lockdown (integrity"));
	assert_non_null(strstr(c.detail, "a Docker container (/.dockerenv)"));
	assert_non_null(strstr(c.detail, "Firecracker"));

	/* The same errno without the capabilities: they are the cause. */
	put(h, "/proc/self/status", "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n", 0444);
	doctor_explain_load(&env, &trampolines, &c);
	assert_non_null(strstr(c.detail, "this process lacks CAP_SYS_ADMIN CAP_BPF CAP_PERFMON"));
	put(h, "/proc/self/status", STATUS_ALL_CAPS, 0444);

	/* In a user namespace. */
	put(h, "/proc/self/uid_map", "0 100000 65536\n", 0444);
	doctor_explain_load(&env, &trampolines, &c);
	assert_non_null(strstr(c.detail, "in a user namespace"));
	put(h, "/proc/self/uid_map", "0 0 4294967295\n", 0444);

	/* A seccomp filter that refuses every load. */
	{
		struct doctor_load_probe all = { .lsm_errno = EPERM, .fentry_errno = EPERM,
						 .tracepoint_errno = EPERM };

		put(h, "/proc/self/status",
		    "Seccomp:\t2\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n", 0444);
		doctor_explain_load(&env, &all, &c);
		assert_non_null(strstr(c.detail, "seccomp filter"));
		put(h, "/proc/self/status", STATUS_ALL_CAPS, 0444);
	}

	/* The LSM not active. */
	put(h, "/sys/kernel/security/lsm", "capability,yama", 0444);
	doctor_explain_load(&env, &trampolines, &c);
	assert_non_null(strstr(c.detail, "the BPF LSM is not active (capability,yama)"));
	put(h, "/sys/kernel/security/lsm", "capability,bpf", 0444);

	/* The JIT off. */
	put(h, "/proc/sys/net/core/bpf_jit_enable", "0\n", 0644);
	doctor_explain_load(&env, &trampolines, &c);
	assert_string_equal(c.fix, "sysctl -w net.core.bpf_jit_enable=1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsm_missing_grub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsm_missing_systemd_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsm_not_built, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsm_without_securityfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_kernel_no_btf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain_load, setup, teardown),
	};

	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
