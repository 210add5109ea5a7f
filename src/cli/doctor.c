/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate doctor` (doctor.h): the command, the report, what the checks share. */
#include <linux/types.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/doctor-internal.h"
#include "util/json.h"
#include "util/paths.h"

struct doctor_check *doctor_add_check(struct doctor_report *r, const char *name)
{
	struct doctor_check *c =
		&r->checks[r->count < DOCTOR_MAX_CHECKS ? r->count++ : r->count - 1];

	*c = (struct doctor_check){.name = name};
	return c;
}

void doctor_set_result(struct doctor_check *c, enum doctor_result result, const char *fix,
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
const char *doctor_host_path(const struct doctor_env *env, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", env->root, path);
	return buf;
}

/* A small host file whole, NUL-terminated, trailing newline cut; -errno. */
int doctor_read_host_file(const struct doctor_env *env, const char *path, char *out, size_t size)
{
	char full[PATH_MAX];
	size_t n;
	FILE *f = fopen(doctor_host_path(env, path, full, sizeof(full)), "re");

	if (!f)
		return -errno;
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return 0;
}

/* The kernel's release: uname, or under the root its osrelease file. */
void doctor_kernel_release(const struct doctor_env *env, char *out, size_t size)
{
	struct utsname u;

	if (env->root[0] || uname(&u) < 0) {
		if (doctor_read_host_file(env, "/proc/sys/kernel/osrelease", out, size))
			snprintf(out, size, "unknown");
		return;
	}
	snprintf(out, size, "%s", u.release);
}

void doctor_run(const struct doctor_env *env, struct doctor_report *r)
{
	r->count = 0;
	doctor_check_kernel(env, r);
	doctor_check_btf(env, r);
	doctor_check_lsm(env, doctor_add_check(r, "bpf-lsm"));
	if (env->live) {
		struct doctor_load_probe p;

		doctor_probe_load(&p);
		doctor_explain_load(env, &p, doctor_add_check(r, "bpf-lsm-load"));
	}
	doctor_check_cgroup2(env, r);
	doctor_check_bpffs(env, r);
	doctor_check_caps(env, r);
	if (env->live)
		doctor_check_config(env, r);
	doctor_check_pins(env, r);
	doctor_check_journal(env, r);
	doctor_check_key(env, r);
}

enum doctor_result doctor_worst(const struct doctor_report *r)
{
	enum doctor_result worst = DOCTOR_PASS;

	for (size_t i = 0; i < r->count; i++)
		if (r->checks[i].result > worst)
			worst = r->checks[i].result;
	return worst;
}

static const char *const result_names[] = {"pass", "warn", "fail"};

/* actgated beside this actgate (a build tree, /usr/bin and /usr/sbin), else in PATH. */
static const char *find_actgated(char *buf, size_t size)
{
	static const char *const beside[] = {"actgated", "../sbin/actgated"};
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
		{"json", no_argument, NULL, 'J'},
		{"config", required_argument, NULL, 'c'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"journal-dir", required_argument, NULL, 'j'},
		{"journal-key", required_argument, NULL, 'k'},
		{"root", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct doctor_env env = {.root = "",
				 .live = true,
				 .pin_dir = DEFAULT_PIN_DIR,
				 .journal_dir = DEFAULT_JOURNAL_DIR,
				 .journal_key = DEFAULT_JOURNAL_KEY};
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
		return cli_usage_error(
			"doctor", "%s",
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
