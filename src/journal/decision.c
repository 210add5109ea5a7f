/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A decision's vocabulary (decision.h): the names of actions, verdicts,
 * modes, reasons and accesses, both ways, and a kernel record's target as
 * the journal names it. Replay, export, the daemon's messages and the policy
 * tests all print these names, so they are defined once, here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/decision.h"
/* ---- names ---- */

static const char *const action_names[] = {
	[ACTGATE_ACTION_EXEC] = "exec",
	[ACTGATE_ACTION_OPEN] = "open",
	[ACTGATE_ACTION_CONNECT] = "connect",
	[ACTGATE_ACTION_TAMPER] = "tamper",
	[ACTGATE_ACTION_RESOLVE] = "resolve",
	[ACTGATE_ACTION_DELEGATE] = "delegate",
	[ACTGATE_ACTION_SIGNAL] = "signal",
};

static const char *const verdict_names[] = {
	[ACTGATE_VERDICT_ALLOW] = "allow",
	[ACTGATE_VERDICT_DENY] = "deny",
};

static const char *const mode_names[] = {
	[ACTGATE_MODE_ENFORCE] = "enforce",
	[ACTGATE_MODE_AUDIT] = "audit",
};

static const char *const reason_names[] = {
	[ACTGATE_REASON_DEFAULT] = "default",
	[ACTGATE_REASON_RULE] = "rule",
	[ACTGATE_REASON_NO_POLICY] = "no-policy",
	[ACTGATE_REASON_ORPHAN] = "orphan",
	[ACTGATE_REASON_SELF_PROTECTION] = "self-protection",
	[ACTGATE_REASON_TOO_DEEP] = "too-deep",
	[ACTGATE_REASON_REVOKED] = "revoked",
	[ACTGATE_REASON_EXPIRED] = "expired",
	[ACTGATE_REASON_GRANT] = "grant",
	[ACTGATE_REASON_GRANT_EXPIRED] = "grant-expired",
	[ACTGATE_REASON_DISCONNECTED] = "disconnected",
	[ACTGATE_REASON_WRITTEN] = "written",
	[ACTGATE_REASON_LEARNED] = "learned",
	[ACTGATE_REASON_NAME] = "name",
	[ACTGATE_REASON_DELEGATION] = "delegation",
	[ACTGATE_REASON_PARENT_ENDED] = "parent-ended",
	[ACTGATE_REASON_SIGNAL] = "signal",
};

static const char *const kernel_door_names[ACTGATE_NR_KERNEL_DOORS] = {
	[ACTGATE_KERNEL_MODULES] = "modules",
	[ACTGATE_KERNEL_KEXEC] = "kexec",
	[ACTGATE_KERNEL_CORE_PATTERN] = "core-pattern",
	[ACTGATE_KERNEL_MODPROBE] = "modprobe",
	[ACTGATE_KERNEL_UEVENT_HELPER] = "uevent-helper",
	[ACTGATE_KERNEL_BINFMT_MISC] = "binfmt-misc",
	[ACTGATE_KERNEL_POWEROFF_CMD] = "poweroff-cmd",
	[ACTGATE_KERNEL_MEM_DEVICES] = "mem-devices",
};

const char *kernel_door_name(uint32_t door)
{
	return door < ACTGATE_NR_KERNEL_DOORS ? kernel_door_names[door] : NULL;
}

int kernel_door_from_name(const char *name, uint32_t *door)
{
	for (uint32_t i = 0; i < ACTGATE_NR_KERNEL_DOORS; i++) {
		if (strcmp(name, kernel_door_names[i]) == 0) {
			*door = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * In bit order: bit i is 1 << i (enum actgate_access): the slots, then
 * "link", which says a link or rename asked for the others, and
 * "received", a descriptor received from another process.
 */
#define ACCESS_NAMED_BITS (ACTGATE_ACCESS_SLOTS + 2)
static const char *const access_names_by_slot[ACCESS_NAMED_BITS] = {
	"read", "write", "create", "exec-map", "link", "received",
};
_Static_assert(ACTGATE_ACCESS_LINK == 1 << ACTGATE_ACCESS_SLOTS, "link follows the slots");
_Static_assert(ACTGATE_ACCESS_RECEIVED == 1 << (ACTGATE_ACCESS_SLOTS + 1), "received follows link");

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t count, uint8_t value)
{
	return value < count && names[value] ? names[value] : "?";
}

static int value_of(const char *const *names, size_t count, const char *name, uint8_t *value)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (names[i] && !strcmp(names[i], name)) {
			*value = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *action_name(uint8_t action)
{
	return name_of(action_names, ARRAY_SIZE(action_names), action);
}

const char *verdict_name(uint8_t verdict)
{
	return name_of(verdict_names, ARRAY_SIZE(verdict_names), verdict);
}

const char *mode_name(uint8_t mode)
{
	return name_of(mode_names, ARRAY_SIZE(mode_names), mode);
}

const char *reason_name(uint8_t reason)
{
	return name_of(reason_names, ARRAY_SIZE(reason_names), reason);
}

int action_from_name(const char *name, uint8_t *action)
{
	return value_of(action_names, ARRAY_SIZE(action_names), name, action);
}

int verdict_from_name(const char *name, uint8_t *verdict)
{
	return value_of(verdict_names, ARRAY_SIZE(verdict_names), name, verdict);
}

int mode_from_name(const char *name, uint8_t *mode)
{
	return value_of(mode_names, ARRAY_SIZE(mode_names), name, mode);
}

int reason_from_name(const char *name, uint8_t *reason)
{
	return value_of(reason_names, ARRAY_SIZE(reason_names), name, reason);
}

int access_names(uint8_t access, char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	if (access & ~ACTGATE_ACCESS_RECORDED)
		return -EINVAL;
	for (unsigned i = 0; i < ACCESS_NAMED_BITS; i++) {
		if (!(access & (1u << i)))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
				      access_names_by_slot[i]);
	}
	return n < size ? 0 : -ENOSPC;
}

int access_from_names(const char *names, uint8_t *access)
{
	uint8_t bits = 0;
	const char *p = names;

	while (*p) {
		size_t len = strcspn(p, ",");
		unsigned i;

		for (i = 0; i < ACCESS_NAMED_BITS; i++)
			if (strlen(access_names_by_slot[i]) == len &&
			    !memcmp(access_names_by_slot[i], p, len))
				break;
		if (i == ACCESS_NAMED_BITS || (bits & (1u << i)))
			return -EINVAL;
		bits |= (uint8_t)(1u << i);
		p += len;
		if (*p == ',' && !*++p)
			return -EINVAL; /* a trailing ',' */
	}
	*access = bits;
	return 0;
}

/* ---- a kernel record's target, as the journal names it ---- */

static const char *protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return "icmp";
	}
	return NULL;
}

static void format_path_target(const struct actgate_decision *rec, size_t size, char *out,
			       size_t out_size)
{
	size_t avail = size - ACTGATE_DECISION_FIXED_SIZE;

	if (rec->path_len > 0 && rec->path_len <= avail &&
	    memchr(rec->target_path, '\0', rec->path_len)) {
		snprintf(out, out_size, "%s", rec->target_path);
		return;
	}
	/* No readable path (bpf_d_path failed): the inode identity still names the file. */
	snprintf(out, out_size, "inode:%u:%u:%llu (path unavailable: %s)", rec->dev >> 20,
		 rec->dev & 0xfffff, (unsigned long long)rec->ino, strerror(-rec->path_error));
}

/*
 * The creation of a raw or packet socket: "raw:ipv4/icmp", "raw:ipv6/proto17",
 * "raw:ipv4/raw" (IPPROTO_RAW: the task writes the IP header), and
 * "packet:raw/0x0003" (the socket type, then the ethertype).
 */
static void format_socket_target(const struct actgate_decision *rec, char *out, size_t size)
{
	const char *proto = protocol_name(rec->protocol);
	char proto_buf[16];

	if (rec->family == AF_PACKET) {
		const char *type = rec->ino == SOCK_RAW ? "raw" : rec->ino == SOCK_DGRAM ? "dgram"
							  : rec->ino == SOCK_PACKET ? "packet"
										   : "?";

		snprintf(out, size, "packet:%s/0x%04x", type, rec->port);
		return;
	}
	if (rec->protocol == IPPROTO_RAW)
		proto = "raw";
	if (!proto) {
		snprintf(proto_buf, sizeof(proto_buf), "proto%u", rec->protocol);
		proto = proto_buf;
	}
	snprintf(out, size, "raw:%s/%s", rec->family == AF_INET6 ? "ipv6" : "ipv4", proto);
}

static void format_connect_target(const struct actgate_decision *rec, size_t rec_size, char *out,
				  size_t size)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const char *proto = protocol_name(rec->protocol);
	char addr[INET6_ADDRSTRLEN], proto_buf[16];

	if (rec->dev == ACTGATE_CONNECT_SOCKET) {
		format_socket_target(rec, out, size);
		return;
	}
	/* A unix socket reached by its path: "unix:" and the path, as rules name it. */
	if (rec->family == AF_UNIX) {
		int n = snprintf(out, size, "unix:");

		if (n > 0 && (size_t)n < size)
			format_path_target(rec, rec_size, out + n, size - (size_t)n);
		return;
	}

	if (!proto) {
		snprintf(proto_buf, sizeof(proto_buf), "proto%u", rec->protocol);
		proto = proto_buf;
	}
	if (rec->family == AF_INET || memcmp(rec->addr, v4_mapped, 12) == 0) {
		inet_ntop(AF_INET, &rec->addr[12], addr, sizeof(addr));
		snprintf(out, size, "%s:%u/%s", addr, rec->port, proto);
	} else {
		inet_ntop(AF_INET6, rec->addr, addr, sizeof(addr));
		snprintf(out, size, "[%s]:%u/%s", addr, rec->port, proto);
	}
}

static void format_tamper_target(const struct actgate_decision *rec, size_t rec_size, char *out,
				 size_t size)
{
	static const char *const pin_ops[] = { [ACTGATE_PIN_UNLINK] = "unlink",
					       [ACTGATE_PIN_RMDIR] = "rmdir",
					       [ACTGATE_PIN_RENAME] = "rename",
					       [ACTGATE_PIN_UMOUNT] = "umount" };
	static const char *const file_ops[] = {
		[ACTGATE_FILE_WRITE] = "write",       [ACTGATE_FILE_READ_SECRET] = "read",
		[ACTGATE_FILE_CREATE] = "create",     [ACTGATE_FILE_UNLINK] = "unlink",
		[ACTGATE_FILE_RMDIR] = "rmdir",       [ACTGATE_FILE_RENAME] = "rename",
		[ACTGATE_FILE_LINK] = "link",         [ACTGATE_FILE_TRUNCATE] = "truncate",
		[ACTGATE_FILE_LOCK] = "lock",         [ACTGATE_FILE_CHMOD] = "chmod",
		[ACTGATE_FILE_CHOWN] = "chown",       [ACTGATE_FILE_MOUNT] = "mount",
		[ACTGATE_FILE_UMOUNT] = "umount",     [ACTGATE_FILE_MOVE_MOUNT] = "move_mount",
	};
	static const char *const task_ops[] = {
		[ACTGATE_TASK_RLIMIT] = "resource limits", [ACTGATE_TASK_NICE] = "nice value",
		[ACTGATE_TASK_IOPRIO] = "I/O priority",    [ACTGATE_TASK_SCHEDULER] = "scheduling",
		[ACTGATE_TASK_MEMORY] = "memory placement",
	};
	size_t avail = rec_size - ACTGATE_DECISION_FIXED_SIZE;
	const char *name = rec->path_len > 0 && rec->path_len <= avail &&
					   memchr(rec->target_path, '\0', rec->path_len)
				   ? rec->target_path
				   : "?";

	switch (rec->dev) {
	case ACTGATE_TAMPER_SIGNAL:
		snprintf(out, size, "signal %llu to actgated", (unsigned long long)rec->ino);
		break;
	case ACTGATE_TAMPER_PTRACE:
		snprintf(out, size, "ptrace of actgated");
		break;
	case ACTGATE_TAMPER_BPF:
		snprintf(out, size, "bpf() command %llu", (unsigned long long)rec->ino);
		break;
	case ACTGATE_TAMPER_SIGNAL_OUTSIDE:
		snprintf(out, size, "signal %llu to process %llu outside the workload",
			 (unsigned long long)(rec->ino & 0xffffffffu),
			 (unsigned long long)(rec->ino >> 32));
		break;
	case ACTGATE_TAMPER_PTRACE_OUTSIDE:
		if ((rec->ino & 0xffffffffu) == 0)
			snprintf(out, size, "PTRACE_TRACEME by process %llu outside the workload",
				 (unsigned long long)(rec->ino >> 32));
		else
			snprintf(out, size, "ptrace of process %llu outside the workload",
				 (unsigned long long)(rec->ino >> 32));
		break;
	case ACTGATE_TAMPER_KERNEL:
		/* Loads from memory carry no name: the door says which system call. */
		if (name[0] == '?' && rec->ino == ACTGATE_KERNEL_MODULES)
			name = "init_module";
		else if (name[0] == '?' && rec->ino == ACTGATE_KERNEL_KEXEC)
			name = "kexec_load";
		if (kernel_door_name((uint32_t)rec->ino))
			snprintf(out, size, "kernel %s: %s", kernel_door_name((uint32_t)rec->ino),
				 name);
		else
			snprintf(out, size, "kernel door %llu: %s", (unsigned long long)rec->ino,
				 name);
		break;
	case ACTGATE_TAMPER_PINS:
		if (rec->ino == ACTGATE_PIN_UMOUNT)
			snprintf(out, size, "umount of the bpffs at %s", name);
		else if (rec->ino < sizeof(pin_ops) / sizeof(pin_ops[0]) && pin_ops[rec->ino])
			snprintf(out, size, "%s of %s on the bpffs", pin_ops[rec->ino], name);
		else
			snprintf(out, size, "bpffs operation %llu on %s", (unsigned long long)rec->ino,
				 name);
		break;
	case ACTGATE_TAMPER_FILES:
		if (rec->ino < sizeof(file_ops) / sizeof(file_ops[0]) && file_ops[rec->ino])
			snprintf(out, size, "%s of actgate's %s", file_ops[rec->ino], name);
		else
			snprintf(out, size, "operation %llu on actgate's %s",
				 (unsigned long long)rec->ino, name);
		break;
	case ACTGATE_TAMPER_TASK:
	case ACTGATE_TAMPER_TASK_OUTSIDE: {
		uint32_t op = (uint32_t)rec->ino;
		const char *what = op < sizeof(task_ops) / sizeof(task_ops[0]) && task_ops[op]
					   ? task_ops[op]
					   : "a setting";

		if (rec->dev == ACTGATE_TAMPER_TASK)
			snprintf(out, size, "change of actgated's %s", what);
		else
			snprintf(out, size, "change of %s of process %llu outside the workload",
				 what, (unsigned long long)(rec->ino >> 32));
		break;
	}
	default:
		snprintf(out, size, "tamper kind %u", rec->dev);
	}
}

void journal_decision_target(const struct actgate_decision *rec, size_t size, char *out,
			     size_t out_size)
{
	if (rec->action == ACTGATE_ACTION_CONNECT)
		format_connect_target(rec, size, out, out_size);
	else if (rec->action == ACTGATE_ACTION_TAMPER)
		format_tamper_target(rec, size, out, out_size);
	else
		format_path_target(rec, size, out, out_size);
}

/* ---- the record ---- */

void journal_record_clear(struct journal_record *rec)
{
	free(rec->workload);
	free(rec->principal);
	free(rec->labels);
	free(rec->policy);
	free(rec->rule);
	free(rec->target);
	free(rec->signals);
	free(rec->target_name);
	free(rec->chain);
	free(rec->event_id);
	free(rec->issuer);
	free(rec->event_type);
	free(rec->subject);
	memset(rec, 0, sizeof(*rec));
}
