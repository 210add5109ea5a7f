/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * doctor's live probes: minimal programs loaded the way actgated's are, so
 * that the answer is the kernel's own, and the pinned meta map read.
 */
#include <linux/types.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "actgate/abi.h"
#include "cli/doctor.h"
#include "kernel/pins.h"

/* libbpf's own messages would duplicate what the check says. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * Load "r0 = 0; exit" as type, attached (through BTF) to the kernel
 * function fn when given. Returns the fd or -errno; log receives the
 * verifier's log.
 */
static int load_minimal(enum bpf_prog_type type, enum bpf_attach_type attach, const char *fn,
			char *log, size_t log_size)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .log_buf = log,
		    .log_size = (__u32)log_size, .log_level = 1);
	int fd;

	log[0] = '\0';
	if (fn) {
		struct btf *vmlinux = btf__load_vmlinux_btf();
		int id;

		if (!vmlinux)
			return -errno ?: -ENOENT;
		id = btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC);
		btf__free(vmlinux);
		if (id < 0)
			return -ENOENT;
		opts.attach_btf_id = (__u32)id;
	}
	fd = bpf_prog_load(type, "actgate_doctor", "GPL", insns, 2, &opts);
	return fd < 0 ? -errno : fd;
}

/* A tp_btf program on sched_switch: its BTF id is the tracepoint's typedef. */
static int load_tp_btf(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .log_buf = log, .log_size = (__u32)log_size, .log_level = 1);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, fd;

	log[0] = '\0';
	if (!vmlinux)
		return -ENOENT;
	id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	btf__free(vmlinux);
	if (id < 0)
		return -ENOENT;
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "actgate_doctor", "GPL", insns, 2, &opts);
	return fd < 0 ? -errno : fd;
}

void doctor_probe_load(struct doctor_load_probe *p)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	char log[4096];
	int fd;

	*p = (struct doctor_load_probe){ 0 };
	fd = load_minimal(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open", log, sizeof(log));
	p->verifier_spoke = log[0] != '\0';
	if (fd < 0) {
		p->lsm_errno = -fd;
	} else {
		/* Returns 0 for every open: attached for a moment, harmless, detached at close. */
		int link = bpf_link_create(fd, 0, BPF_LSM_MAC, NULL);

		p->lsm_attach_errno = link < 0 ? errno : 0;
		if (link >= 0)
			close(link);
		close(fd);
	}
	fd = load_minimal(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "security_file_open", log,
			  sizeof(log));
	p->fentry_errno = fd < 0 ? -fd : 0;
	if (fd >= 0)
		close(fd);
	fd = load_tp_btf(log, sizeof(log));
	p->tp_btf_errno = fd < 0 ? -fd : 0;
	if (fd >= 0)
		close(fd);
	fd = load_minimal(BPF_PROG_TYPE_TRACEPOINT, 0, NULL, log, sizeof(log));
	p->tracepoint_errno = fd < 0 ? -fd : 0;
	if (fd >= 0)
		close(fd);
	libbpf_set_print(old);
}

int doctor_read_pins_abi(const char *pin_dir, uint32_t *abi_version, uint32_t *daemon_tgid)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), zero = 0;
	/* Another build's meta may be larger: read it whole, then take the leading fields. */
	__u8 value[4096] __attribute__((aligned(8)));
	struct actgate_meta meta = { 0 };
	char path[4096];
	int fd, err;

	err = pins_path(pin_dir, NULL, "meta", path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len) ? -errno : 0;
	if (!err && (info.key_size != sizeof(zero) || info.value_size > sizeof(value) ||
		     info.value_size < 2 * sizeof(__u32)))
		err = -EPROTO;
	if (!err)
		err = bpf_map_lookup_elem(fd, &zero, value) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	memcpy(&meta, value, info.value_size < sizeof(meta) ? info.value_size : sizeof(meta));
	*abi_version = meta.abi_version;
	*daemon_tgid = meta.daemon_tgid;
	return 0;
}

/*
 * securityfs read through a mount of its own in a private mount namespace
 * (a child process; the host's mounts are not touched): when the host has
 * not mounted it, this is still the kernel's own list. 0 or -errno.
 */
int doctor_read_securityfs(char *lsm, size_t lsm_size, char *lockdown, size_t lockdown_size)
{
	char buf[1024] = "";
	int pipefd[2], status;
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		char dir[] = "/tmp/actgate-doctor-XXXXXX", path[64], text[512];
		FILE *f;

		close(pipefd[0]);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    !mkdtemp(dir))
			_exit(1);
		if (mount("securityfs", dir, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			rmdir(dir);
			_exit(1);
		}
		for (int i = 0; i < 2; i++) {
			size_t len = 0;

			snprintf(path, sizeof(path), "%s/%s", dir, i ? "lockdown" : "lsm");
			text[0] = '\0';
			if ((f = fopen(path, "re"))) {
				len = fread(text, 1, sizeof(text) - 1, f);
				fclose(f);
			}
			text[len] = '\0';
			text[strcspn(text, "\n")] = '\0';
			dprintf(pipefd[1], "%s\n", text);
		}
		umount(dir);
		rmdir(dir);
		_exit(0);
	}
	close(pipefd[1]);
	while (n < (ssize_t)sizeof(buf) - 1 &&
	       (r = read(pipefd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(pipefd[0]);
	buf[n > 0 ? n : 0] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EPERM;
	snprintf(lsm, lsm_size, "%.*s", (int)strcspn(buf, "\n"), buf);
	{
		const char *second = strchr(buf, '\n');

		snprintf(lockdown, lockdown_size, "%.*s", second ? (int)strcspn(second + 1, "\n") : 0,
			 second ? second + 1 : "");
	}
	return 0;
}
