/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actprobe: performs one action as a workload would and prints what the
 * kernel answered, so that VM scenarios can assert on the real errno:
 * "ok" (exit 0) or the errno's name such as "EPERM" (exit 1). Usage errors
 * exit 2.
 *
 *   actprobe exec PATH [ARG]...     fork + execv, report whether execv worked
 *   actprobe open PATH [FLAGS]      open(2); FLAGS: r (default), w or rw, then
 *                                   t for O_TRUNC, c for O_CREAT, x for O_EXCL
 *                                   (e.g. wt, wcx); prints ok or the errno
 *   actprobe mknod PATH [fifo]      mknod(2) of a regular file (or a FIFO)
 *   actprobe mmap-exec PATH         open read-only, then mmap PROT_READ|PROT_EXEC
 *                                   (as ld.so maps a library)
 *   actprobe mprotect-exec PATH     open read-only, mmap PROT_READ, then
 *                                   mprotect PROT_READ|PROT_EXEC
 *                                   ("open:ERRNO" when the open itself fails)
 *   actprobe unix-listen PATH stream|dgram|seqpacket   bind PATH and serve
 *                                   (accept, or receive) until killed; a PATH
 *                                   of @NAME is the abstract socket NAME
 *   actprobe unix-connect PATH stream|dgram|seqpacket  connect(2) to PATH; a
 *                                   datagram socket then sends one datagram
 *   actprobe unix-sendto PATH       one datagram to PATH without connect(2)
 *   actprobe connect ADDR PORT [tcp|udp|short]   short: an IPv6 address given
 *                                   with the 24-byte length (no scope id)
 *   actprobe sendto ADDR PORT udp|tfo|unspec|raw-unspec   one datagram to
 *                                   ADDR without connect, or TCP Fast Open
 *                                   (sendto MSG_FASTOPEN); unspec: a UDP
 *                                   datagram to an IPv4 ADDR given with family
 *                                   AF_UNSPEC; raw-unspec: the same from a raw
 *                                   socket of ADDR's family (protocol 253)
 *   actprobe dns-serve ADDR PORT    a DNS responder of the test zone (UDP and
 *                                   TCP) until killed
 *   actprobe resolve NAME [a|aaaa] [udp|tcp] [SERVER]   one lookup (server
 *                                   10.53.0.1 by default: steered); prints the
 *                                   rcode and addresses, exit 0 for NOERROR
 *                                   with an address
 *   actprobe resolveloop NAME COUNT [SERVER]   COUNT lookups; prints the
 *                                   nanoseconds per lookup
 *   actprobe resolve-connect NAME PORT COUNT   COUNT lookups, each followed
 *                                   at once by a TCP connect to the answer
 *   actprobe connect-from SRC ADDR PORT [tcp|udp]   bind to SRC (port 0),
 *                                   then connect(2) to ADDR
 *   actprobe socket FAMILY TYPE PROTO  socket(2): FAMILY inet, inet6, packet,
 *                                   netlink, unix; TYPE stream, dgram, raw,
 *                                   packet; PROTO a number or icmp, icmpv6,
 *                                   raw, udp, all (ETH_P_ALL)
 *   actprobe uring-socket FAMILY TYPE PROTO   the same through io_uring
 *                                   (IORING_OP_SOCKET)
 *   actprobe socketpair             socketpair(2) of AF_UNIX stream sockets
 *   actprobe listen ADDR PORT       accept TCP connections until killed
 *   actprobe send-unix PATH TEXT    send TEXT and a newline to a unix stream
 *                                   socket, print the one-line reply
 *   actprobe batch                  one action per line on stdin ("exec PATH",
 *                                   "open PATH [FLAGS]", "mmap-exec PATH",
 *                                   "connect ADDR PORT [tcp|udp]",
 *                                   "unix-connect PATH stream|dgram");
 *                                   prints one answer per line, in order
 *   actprobe deep DIR N create|open descend N directories named "a" below DIR
 *                                   with openat (mkdirat first for create: no
 *                                   path is ever longer than a name), then
 *                                   create or open the file "file" there
 *   actprobe openloop PATH N [FLAGS]   N times open+close PATH (FLAGS as for
 *                                   open; default r); prints the
 *                                   CLOCK_MONOTONIC ns per iteration (guest
 *                                   instructions under qemu -icount shift=0)
 *   actprobe execloop PATH N        N times fork + execv PATH (no arguments) +
 *                                   waitpid; prints the ns per iteration, as
 *                                   openloop does
 *   actprobe landlock-openloop DIR PATH N   the openloop of PATH (read) in a
 *                                   process that Landlock confines to
 *                                   reading and executing under DIR (every
 *                                   ABI 1 file access handled): the
 *                                   benchmarks' reference for the same open
 *   actprobe timed CMD [ARG]...     fork + execvp CMD + waitpid; prints the
 *                                   CLOCK_MONOTONIC ns it took (guest
 *                                   instructions under qemu -icount shift=0)
 *                                   and exits 0, or exits 1 with CMD's status
 *                                   on stderr if CMD did not exit 0
 *   actprobe connectloop ADDR PORT N tcp|udp   N times socket + connect +
 *                                   close (a refused TCP connect counts: the
 *                                   hook ran); prints the ns per iteration
 *   actprobe storm PROCS SECONDS exec PATH | open PATH | connect ADDR PORT
 *                                   PROCS processes, each for SECONDS one
 *                                   action after another: fork + execv PATH
 *                                   + waitpid, open + close PATH (read), or
 *                                   a TCP socket + connect + close (refused
 *                                   counts: the hook ran); prints their sum,
 *                                   "attempts N ok N denied N killed N"
 *                                   (denied: EPERM; killed: an exec whose
 *                                   process a signal ended); exits 1 on any
 *                                   other error.
 *                                   With ACTPROBE_STORM_GO=PATH in the
 *                                   environment they begin once PATH exists
 *   actprobe map-counts DIR         for each pinned hash or LPM trie map in
 *                                   DIR, "NAME ENTRIES" counted key by key
 *                                   (BPF_MAP_GET_NEXT_KEY); for each array,
 *                                   "NAME N", N the elements that are not
 *                                   all zero; per-CPU arrays (counters),
 *                                   task storage and ring buffers are left out
 *   actprobe mkfiles DIR N          create files DIR/f0 .. DIR/f(N-1)
 *   actprobe bpf                    bpf(BPF_MAP_CREATE) of a small array map
 *   actprobe map-poke PIN OFFSET BYTE   in the pinned map PIN, set byte OFFSET of
 *                                   the value at key 0 (a u32 key) to BYTE and
 *                                   print the byte it held (tests of damaged pins)
 *   actprobe percpu-sum PIN OFFSET  for every key of the pinned per-CPU array
 *                                   PIN, the u64 at byte OFFSET of its value
 *                                   summed over the CPUs: one "KEY SUM" line each
 *   actprobe prog-stats LINK...     for each pinned program link, the program's
 *                                   name, run count and run time in ns as the
 *                                   kernel counts them with kernel.bpf_stats_enabled
 *                                   (under qemu -icount shift=0: instructions)
 *   actprobe cgroup-progs DIR       how many programs are attached to the
 *                                   cgroup DIR on each hook DNS steering uses
 *                                   (BPF_PROG_QUERY): "connect4 N" ... one line
 *                                   each, for connect4/6, sendmsg4/6,
 *                                   recvmsg4, getpeername4
 *   actprobe ptrace PID             PTRACE_SEIZE, then detach
 *   actprobe reach HOW PID [ARG]    act on process PID from here; HOW:
 *                                   attach (PTRACE_ATTACH, then detach),
 *                                   traceme (PTRACE_TRACEME; PID ignored: the
 *                                   parent), mem (open /proc/PID/mem
 *                                   read-write), vm-read, vm-write
 *                                   (process_vm_readv/writev of one byte at
 *                                   address 1: EFAULT when allowed), getfd
 *                                   (pidfd_open, then pidfd_getfd of its
 *                                   descriptor ARG), kill, tgkill, sigqueue,
 *                                   pidfd-signal (signal ARG to PID by kill,
 *                                   tgkill, rt_sigqueueinfo, pidfd_send_signal),
 *                                   rlimit, nice, ioprio, affinity, movemem
 *                                   (set PID's RLIMIT_NOFILE, nice value,
 *                                   I/O priority, CPU affinity to what they
 *                                   are; migrate_pages from node 0 to node 0)
 *   actprobe kernel HOW [ARG [DIR]] ask the kernel to load code; HOW:
 *                                   finit-module (of the file ARG),
 *                                   init-module (128 zero bytes: ENOEXEC when
 *                                   allowed), kexec-load (no segments: unloads),
 *                                   mount-fs (mount(2) of the file system type
 *                                   ARG on DIR, default /, which asks for
 *                                   module fs-ARG)
 *   actprobe name-fd PATH...        open each PATH (O_PATH) and have the
 *                                   path-naming step of the BPF programs name
 *                                   it (tests/vm/pathname.bpf.c, BPF_PROG_RUN):
 *                                   one "NAME<TAB>PATH_ERROR<TAB>READLINK" line
 *                                   each, READLINK being /proc/self/fd's name
 *   actprobe flock PATH             open PATH read-only (a directory too), then
 *                                   flock(LOCK_EX | LOCK_NB)
 *   actprobe mount-over PATH        mount a tmpfs on PATH (unmounted again when
 *                                   it worked)
 *   actprobe fd-serve SOCK KIND ARG [ARG2]   bind the unix stream socket
 *                                   SOCK and, to every client, send one
 *                                   descriptor (SCM_RIGHTS) until killed;
 *                                   KIND: file (ARG a path, ARG2 r or w),
 *                                   tcp (a socket connected to ARG port ARG2),
 *                                   unix (one connected to the stream socket ARG)
 *   actprobe unix-hold PATH         bind the unix stream socket PATH and listen,
 *                                   never accepting: connections stay queued,
 *                                   their peer alive, until killed
 *   actprobe fd-recv SOCK           connect to SOCK and receive one descriptor:
 *                                   ok when it came, EPERM when the kernel
 *                                   dropped it (MSG_CTRUNC), ENOMSG when none
 *   actprobe lsm-test-run           BPF_PROG_RUN of an LSM program: prints ok,
 *                                   or the error (ENOTSUPP: the kernel has no
 *                                   test run for LSM programs)
 *   actprobe fd-exec PATH [ARG]...  open PATH read-only, then execveat(fd, "",
 *                                   AT_EMPTY_PATH), as fexecve does
 *   actprobe truncate PATH          truncate(2) PATH to its own size (by name)
 *   actprobe send-fd SOCK FILE      open FILE for writing (created, truncated),
 *                                   listen on the unix socket SOCK, pass the
 *                                   descriptor (SCM_RIGHTS) to the first
 *                                   connection, exit
 *   actprobe recv-write SOCK SRC    connect to SOCK, receive a descriptor, write
 *                                   SRC's bytes through it
 *   actprobe anon HOW SRC [ARG]...  code with no file behind it: a memfd
 *                                   holding SRC's bytes, then HOW: exec
 *                                   (fexecve), execveat (AT_EMPTY_PATH), mmap
 *                                   (PROT_EXEC), mprotect (PROT_READ, then
 *                                   PROT_EXEC); shm: SysV shared memory
 *                                   attached with SHM_EXEC (SRC ignored)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <poll.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actgate/abi.h"
#include "tests/pathname.skel.h"
#include "../unit/dns_build.h" /* the test responder writes answers as the unit tests do */

static int report(int err)
{
	if (err == 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", strerrorname_np(err) ? strerrorname_np(err) : "E?");
	return 1;
}

/* In batch mode the executed programs' own output would interleave with ours. */
static int quiet_children;

static int probe_exec(char **argv)
{
	int fds[2], child_errno = 0, status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return report(errno);
	pid = fork();
	if (pid < 0) {
		child_errno = errno;
		close(fds[0]);
		close(fds[1]);
		return report(child_errno);
	}
	if (pid == 0) {
		close(fds[0]);
		if (quiet_children) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
			}
		}
		execv(argv[0], argv);
		child_errno = errno;
		if (write(fds[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
		child_errno = 0; /* pipe closed by a successful exec */
	close(fds[0]);
	waitpid(pid, &status, 0);
	return report(child_errno);
}

/* FLAGS as "open" takes them; -1 when malformed. */
static int open_flags(const char *mode)
{
	int flags = O_RDONLY;
	const char *p = mode ? mode : "r";

	if (strncmp(p, "rw", 2) == 0) {
		flags = O_RDWR;
		p += 2;
	} else if (*p == 'w') {
		flags = O_WRONLY;
		p++;
	} else if (*p == 'r') {
		p++;
	} else {
		return -1;
	}
	for (; *p; p++) {
		if (*p == 't')
			flags |= O_TRUNC;
		else if (*p == 'c')
			flags |= O_CREAT;
		else if (*p == 'x')
			flags |= O_EXCL;
		else
			return -1;
	}
	return flags;
}

static int probe_open(const char *path, const char *mode)
{
	int flags = open_flags(mode), fd;

	if (flags < 0) {
		fprintf(stderr, "actprobe: open: bad flags '%s'\n", mode);
		return 2;
	}
	fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

static int probe_mknod(const char *path, const char *kind)
{
	mode_t type = (kind && strcmp(kind, "fifo") == 0) ? S_IFIFO : S_IFREG;

	if (mknod(path, type | 0644, 0) < 0)
		return report(errno);
	return report(0);
}

/*
 * Map a file executable as a dynamic loader does, directly (mmap) or in two
 * steps (mmap, then mprotect). A failed open is told apart from a failed
 * mapping: the open is decided as a read, the mapping as exec-map.
 */
static int probe_map_exec(const char *path, int two_steps)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	void *p;

	if (fd < 0) {
		int e = errno;

		printf("open:%s\n", strerrorname_np(e) ? strerrorname_np(e) : "E?");
		return 1;
	}
	p = mmap(NULL, (size_t)page, two_steps ? PROT_READ : PROT_READ | PROT_EXEC, MAP_PRIVATE,
		 fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
	} else {
		if (two_steps && mprotect(p, (size_t)page, PROT_READ | PROT_EXEC) < 0)
			err = errno;
		munmap(p, (size_t)page);
	}
	close(fd);
	return report(err);
}

static int unix_type(const char *name)
{
	if (strcmp(name, "stream") == 0)
		return SOCK_STREAM;
	if (strcmp(name, "dgram") == 0)
		return SOCK_DGRAM;
	if (strcmp(name, "seqpacket") == 0)
		return SOCK_SEQPACKET;
	fprintf(stderr, "actprobe: %s: not stream, dgram or seqpacket\n", name);
	return -1;
}

/* PATH, or @NAME for an abstract socket. Returns the address length, or -1. */
static int unix_address(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n >= sizeof(sun->sun_path)) {
		fprintf(stderr, "actprobe: %s: too long for a unix socket\n", path);
		return -1;
	}
	memcpy(sun->sun_path, path, n);
	*len = sizeof(*sun);
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return 0;
}

static int probe_unix_listen(const char *path, const char *type_name)
{
	int type = unix_type(type_name), fd;
	struct sockaddr_un sun;
	char buf[256];
	socklen_t len;

	if (type < 0 || unix_address(path, &sun, &len))
		return 2;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, len) < 0)
		return report(errno);
	if (type != SOCK_DGRAM && listen(fd, 64) < 0)
		return report(errno);
	for (;;) {
		if (type == SOCK_DGRAM) {
			if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
				return report(errno);
		} else {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
}

static int probe_unix_connect(const char *path, const char *type_name)
{
	int type = unix_type(type_name), fd, err = 0;
	struct sockaddr_un sun;
	socklen_t len;

	if (type < 0 || unix_address(path, &sun, &len))
		return 2;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	if (connect(fd, (struct sockaddr *)&sun, len) < 0)
		err = errno;
	else if (type == SOCK_DGRAM && send(fd, "x", 1, 0) < 0)
		err = errno;
	close(fd);
	return report(err);
}

static int probe_unix_sendto(const char *path)
{
	struct sockaddr_un sun;
	int fd, err = 0;
	socklen_t len;

	if (unix_address(path, &sun, &len))
		return 2;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sun, len) < 0)
		err = errno;
	close(fd);
	return report(err);
}

static int parse_addr(const char *addr, const char *port_text, struct sockaddr_storage *ss,
		      socklen_t *len_out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	int port = atoi(port_text);
	socklen_t len;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "actprobe: %s: not an IPv4 or IPv6 address\n", addr);
		return -1;
	}
	*len_out = len;
	return 0;
}

static int probe_connect(const char *addr, const char *port_text, const char *proto)
{
	struct sockaddr_storage ss;
	int type = (proto && strcmp(proto, "udp") == 0) ? SOCK_DGRAM : SOCK_STREAM;
	int fd, err = 0;
	socklen_t len;

	if (parse_addr(addr, port_text, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	/* The shortest IPv6 address connect(2) takes: without sin6_scope_id. */
	if (proto && strcmp(proto, "short") == 0 && ss.ss_family == AF_INET6)
		len = 24;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	close(fd);
	return report(err);
}

static int probe_sendto(const char *addr, const char *port_text, const char *how)
{
	int tfo = strcmp(how, "tfo") == 0, raw = strcmp(how, "raw-unspec") == 0;
	int unspec = raw || strcmp(how, "unspec") == 0;
	int type = tfo ? SOCK_STREAM : raw ? SOCK_RAW : SOCK_DGRAM;
	struct sockaddr_storage ss;
	int fd, err = 0;
	socklen_t len;

	if (parse_addr(addr, port_text, &ss, &len))
		return 2;
	/* 253: a protocol set aside for experiments, which no one listens for. */
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, raw ? 253 : 0);
	if (fd < 0)
		return report(errno);
	/* udp_sendmsg reads an AF_UNSPEC sockaddr_in as AF_INET; raw sockets their own family. */
	if (unspec)
		ss.ss_family = AF_UNSPEC;
	if (sendto(fd, "x", 1, tfo ? MSG_FASTOPEN : 0, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	close(fd);
	return report(err);
}

static int probe_connect_from(const char *src, const char *addr, const char *port_text,
			      const char *proto)
{
	struct sockaddr_storage ss, from;
	int type = (proto && strcmp(proto, "udp") == 0) ? SOCK_DGRAM : SOCK_STREAM;
	int fd, err = 0;
	socklen_t len, from_len;

	if (parse_addr(addr, port_text, &ss, &len) || parse_addr(src, "0", &from, &from_len))
		return 2;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	if (bind(fd, (struct sockaddr *)&from, from_len) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	close(fd);
	return report(err);
}

/* socket(2)'s three arguments from their names; -1 for a name not known. */
static int socket_args(const char *family_name, const char *type_name, const char *proto_name,
		       int *family, int *type, int *proto)
{
	static const struct {
		const char *name;
		int value;
	} families[] = { { "inet", AF_INET }, { "inet6", AF_INET6 }, { "packet", AF_PACKET },
			 { "netlink", AF_NETLINK }, { "unix", AF_UNIX } },
	  types[] = { { "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM }, { "raw", SOCK_RAW },
		      { "packet", SOCK_PACKET } },
	  protos[] = { { "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
		       { "raw", IPPROTO_RAW }, { "udp", IPPROTO_UDP } };
	size_t i;

	*family = *type = -1;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(family_name, families[i].name))
			*family = families[i].value;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type_name, types[i].name))
			*type = types[i].value;
	*proto = atoi(proto_name);
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(proto_name, protos[i].name))
			*proto = protos[i].value;
	if (!strcmp(proto_name, "all"))
		*proto = htons(ETH_P_ALL);
	if (*family < 0 || *type < 0) {
		fprintf(stderr, "actprobe: unknown socket family or type: %s %s\n", family_name,
			type_name);
		return -1;
	}
	return 0;
}

static int probe_socket(const char *f, const char *t, const char *p)
{
	int family, type, proto, fd;

	if (socket_args(f, t, p, &family, &type, &proto))
		return 2;
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

/*
 * socket(2) as io_uring's IORING_OP_SOCKET (Linux 5.19) makes it: one
 * submission on a ring of one entry, with the raw system calls.
 */
static int probe_uring_socket(const char *f, const char *t, const char *p)
{
	struct io_uring_params params = { 0 };
	int family, type, proto, ring, res;
	size_t sq_size, cq_size;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	char *sq, *cq;

	if (socket_args(f, t, p, &family, &type, &proto))
		return 2;
	ring = (int)syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0) {
		printf("setup:%s\n", strerrorname_np(errno));
		return 1;
	}
	sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
	cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, params.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED,
		    ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return report(errno);
	sq_tail = (unsigned *)(sq + params.sq_off.tail);
	sq_array = (unsigned *)(sq + params.sq_off.array);
	cq_head = (unsigned *)(cq + params.cq_off.head);
	cq_tail = (unsigned *)(cq + params.cq_off.tail);
	cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_SOCKET;
	sqes[0].fd = family;
	sqes[0].off = (unsigned)type;
	sqes[0].len = (unsigned)proto;
	sq_array[0] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return report(errno);
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		printf("no completion\n");
		return 1;
	}
	res = cqes[*cq_head & *(unsigned *)(cq + params.cq_off.ring_mask)].res;
	if (res >= 0)
		close(res);
	close(ring);
	return report(res < 0 ? -res : 0);
}

static int probe_socketpair(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return report(errno);
	close(sv[0]);
	close(sv[1]);
	return report(0);
}

static int probe_listen(const char *addr, const char *port_text)
{
	struct sockaddr_storage ss;
	int fd, one = 1;
	socklen_t len;

	if (parse_addr(addr, port_text, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0)
		return report(errno);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

static int probe_send_unix(const char *path, const char *text)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char c;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return report(errno);
	if (write(fd, text, strlen(text)) < 0 || write(fd, "\n", 1) < 0)
		return report(errno);
	while (read(fd, &c, 1) == 1 && c != '\n')
		putchar(c);
	putchar('\n');
	close(fd);
	return 0;
}

static int probe_batch(void)
{
	char line[4200], a[4100], b[64], c[64];

	quiet_children = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char *args[] = { a, NULL };
		int n;

		if (sscanf(line, "exec %4095s", a) == 1)
			probe_exec(args);
		else if ((n = sscanf(line, "open %4095s %63s", a, b)) >= 1)
			probe_open(a, n == 2 ? b : NULL);
		else if (sscanf(line, "mmap-exec %4095s", a) == 1)
			probe_map_exec(a, 0);
		else if ((n = sscanf(line, "connect %4095s %63s %63s", a, b, c)) >= 2)
			probe_connect(a, b, n == 3 ? c : NULL);
		else if (sscanf(line, "unix-connect %4095s %63s", a, b) == 2)
			probe_unix_connect(a, b);
		else
			printf("BADLINE\n");
	}
	return 0;
}

static int probe_deep(const char *dir, const char *levels_text, const char *what)
{
	int create = strcmp(what, "create") == 0;
	int levels = atoi(levels_text);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	if (fd < 0)
		return report(errno);
	for (int i = 0; i < levels; i++) {
		if (create && mkdirat(fd, "a", 0755) < 0 && errno != EEXIST)
			return report(errno);
		next = openat(fd, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return report(errno);
		close(fd);
		fd = next;
	}
	next = openat(fd, "file", create ? O_WRONLY | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
		      0644);
	if (next < 0)
		return report(errno);
	close(next);
	close(fd);
	return report(0);
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int probe_openloop(const char *path, const char *count_text, const char *mode)
{
	int flags = open_flags(mode);
	long n = atol(count_text);
	long long t0;

	if (n <= 0 || flags < 0)
		return 2;
	t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, flags | O_CLOEXEC);

		if (fd < 0)
			return report(errno);
		close(fd);
	}
	printf("%lld\n", (mono_ns() - t0) / n);
	return 0;
}

static int probe_execloop(const char *path, const char *count_text)
{
	char *argv[] = { (char *)path, NULL };
	long n = atol(count_text);
	long long t0;
	int status;

	if (n <= 0)
		return 2;
	t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return report(errno);
		if (pid == 0) {
			execv(path, argv);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			return report(errno);
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
			return report(EPERM); /* the exec failed: the figure would be wrong */
	}
	printf("%lld\n", (mono_ns() - t0) / n);
	return 0;
}

/* Landlock on the same open as openloop's, as the reference a governed
 * open is compared with: a ruleset that handles every ABI 1 file access and
 * allows reading and executing beneath DIR only, then the loop. */
static int probe_landlock_openloop(const char *dir, const char *path, const char *count_text)
{
	struct landlock_ruleset_attr ruleset = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
				     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
				     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
				     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
				     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
				     LANDLOCK_ACCESS_FS_MAKE_SYM,
	};
	struct landlock_path_beneath_attr beneath = {
		.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
				  LANDLOCK_ACCESS_FS_READ_DIR,
	};
	int rfd, err;

	rfd = (int)syscall(SYS_landlock_create_ruleset, &ruleset, sizeof(ruleset), 0);
	if (rfd < 0)
		return report(errno);
	beneath.parent_fd = open(dir, O_PATH | O_CLOEXEC);
	if (beneath.parent_fd < 0) {
		err = errno;
		goto out;
	}
	err = 0;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		err = errno;
	close(beneath.parent_fd);
out:
	close(rfd);
	if (err)
		return report(err);
	return probe_openloop(path, count_text, NULL);
}

/* The time a whole command takes (the benchmarks' "real job" row): a build
 * that failed half-way would read as cheap, so any status but 0 is an error. */
static int probe_timed(char **argv)
{
	long long t0 = mono_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return report(errno);
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "actprobe timed: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return report(errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "actprobe timed: %s %s %d\n", argv[0],
			WIFEXITED(status) ? "exited" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return 1;
	}
	printf("%lld\n", mono_ns() - t0);
	return 0;
}

static int probe_connectloop(const char *addr, const char *port_text, const char *count_text,
			     const char *proto)
{
	int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_storage ss;
	long n = atol(count_text);
	long long t0;
	socklen_t len;

	if (n <= 0 || parse_addr(addr, port_text, &ss, &len))
		return 2;
	t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return report(errno);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != ECONNREFUSED) {
			int err = errno;

			close(fd);
			return report(err);
		}
		close(fd);
	}
	printf("%lld\n", (mono_ns() - t0) / n);
	return 0;
}

/*
 * One attempt of a storm: 0 (done), EPERM (denied), EINTR (an exec whose
 * process was killed by a signal: denied after execve's point of no
 * return, as when mapping the program is refused), or another errno (a
 * broken storm).
 */
static int storm_once(const char *action, char **args, const struct sockaddr_storage *ss,
		      socklen_t len)
{
	int fd, status, err = 0;

	if (strcmp(action, "open") == 0) {
		fd = open(args[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (strcmp(action, "connect") == 0) {
		fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if (connect(fd, (const struct sockaddr *)ss, len) < 0 && errno != ECONNREFUSED)
			err = errno;
		close(fd);
		return err;
	}
	{
		char *argv[] = { args[0], NULL };
		pid_t pid = fork();

		if (pid < 0)
			return errno;
		if (pid == 0) {
			execv(args[0], argv);
			/* The exit status carries the errno (EPERM is 1), 126 the rest. */
			_exit(errno == EPERM ? 125 : 126);
		}
		if (waitpid(pid, &status, 0) < 0)
			return errno;
		if (WIFSIGNALED(status))
			return EINTR;
		if (!WIFEXITED(status))
			return ECHILD;
		if (WEXITSTATUS(status) == 125)
			return EPERM;
		return WEXITSTATUS(status) == 0 ? 0 : ENOEXEC;
	}
}

struct storm_count {
	unsigned long long attempts, ok, denied, killed;
	int error; /* the first errno other than EPERM; it ends that process's storm */
};

/*
 * One process's storm, for seconds. With ACTPROBE_STORM_GO set, it begins
 * once that path exists (looked at with access(2), which no actgate hook
 * decides), so that storms of several workloads start together, after
 * every one of them has started up.
 */
static void storm_run(long long seconds, const char *action, char **args,
		      const struct sockaddr_storage *ss, socklen_t len, struct storm_count *c)
{
	const char *go = getenv("ACTPROBE_STORM_GO");
	long long end;

	while (go && access(go, F_OK) != 0)
		usleep(10000);
	end = mono_ns() + seconds * 1000000000LL;
	while (mono_ns() < end) {
		int err = storm_once(action, args, ss, len);

		c->attempts++;
		if (err == 0) {
			c->ok++;
		} else if (err == EPERM) {
			c->denied++;
		} else if (err == EINTR) {
			c->killed++;
		} else {
			c->error = err;
			return;
		}
	}
}

/*
 * PROCS processes forked after start-up (so that nothing but the storm's
 * own actions is decided meanwhile), each counting into shared anonymous
 * memory, which no file hook sees.
 */
static int probe_storm(const char *procs_text, const char *seconds_text, const char *action,
		       char **args, int nargs)
{
	long procs = atol(procs_text);
	long long seconds = atoll(seconds_text);
	struct storm_count *counts, total = { 0 };
	struct sockaddr_storage ss;
	socklen_t len = 0;

	if (strcmp(action, "connect") == 0) {
		if (nargs != 2 || parse_addr(args[0], args[1], &ss, &len))
			return 2;
	} else if ((strcmp(action, "exec") != 0 && strcmp(action, "open") != 0) || nargs != 1) {
		return 2;
	}
	if (procs < 1 || procs > 256)
		return 2;
	counts = mmap(NULL, (size_t)procs * sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return report(errno);
	memset(counts, 0, (size_t)procs * sizeof(*counts));
	for (long i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			counts[i].error = errno;
			break;
		}
		if (pid == 0) {
			storm_run(seconds, action, args, &ss, len, &counts[i]);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	for (long i = 0; i < procs; i++) {
		total.attempts += counts[i].attempts;
		total.ok += counts[i].ok;
		total.denied += counts[i].denied;
		total.killed += counts[i].killed;
		if (!total.error)
			total.error = counts[i].error;
	}
	printf("attempts %llu ok %llu denied %llu killed %llu\n", total.attempts, total.ok,
	       total.denied, total.killed);
	return total.error ? report(total.error) : 0;
}

/* Entries of a pinned hash-like map, key by key; -errno. */
static long map_entries(int fd, __u32 key_size)
{
	unsigned char *key = calloc(2, key_size ? key_size : 1), *next = key + key_size;
	union bpf_attr attr;
	long n = 0;
	int first = 1;

	if (!key)
		return -ENOMEM;
	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (__u32)fd;
		attr.key = first ? 0 : (__u64)(unsigned long)key;
		attr.next_key = (__u64)(unsigned long)next;
		if (syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr)) < 0) {
			n = errno == ENOENT ? n : -errno;
			break;
		}
		memcpy(key, next, key_size);
		first = 0;
		n++;
	}
	free(key);
	return n;
}

/* Elements of a pinned array map whose value is not all zero bytes; -errno. */
static long array_nonzero(int fd, const struct bpf_map_info *info)
{
	unsigned char *value = malloc(info->value_size ? info->value_size : 1);
	union bpf_attr attr;
	long n = 0;

	if (!value)
		return -ENOMEM;
	for (__u32 key = 0; key < info->max_entries; key++) {
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (__u32)fd;
		attr.key = (__u64)(unsigned long)&key;
		attr.value = (__u64)(unsigned long)value;
		if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0) {
			n = -errno;
			break;
		}
		for (__u32 i = 0; i < info->value_size; i++) {
			if (value[i]) {
				n++;
				break;
			}
		}
	}
	free(value);
	return n;
}

static int probe_map_counts(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int status = 0;

	if (!d)
		return report(errno);
	while ((de = readdir(d))) {
		struct bpf_map_info info;
		union bpf_attr attr;
		long fd, n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(&attr, 0, sizeof(attr));
		attr.pathname = (__u64)(unsigned long)path;
		fd = syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
		if (fd < 0) {
			fprintf(stderr, "actprobe: map-counts: %s: %s\n", path, strerror(errno));
			status = 1;
			continue;
		}
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = (__u32)fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (__u64)(unsigned long)&info;
		if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0) {
			status = 1;
		} else if (info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_LRU_HASH ||
			   info.type == BPF_MAP_TYPE_LPM_TRIE || info.type == BPF_MAP_TYPE_ARRAY) {
			n = info.type == BPF_MAP_TYPE_ARRAY ? array_nonzero((int)fd, &info)
							    : map_entries((int)fd, info.key_size);
			if (n < 0) {
				fprintf(stderr, "actprobe: map-counts: %s: %s\n", path, strerror((int)-n));
				status = 1;
			} else {
				printf("%s %ld\n", de->d_name, n);
			}
		}
		close((int)fd);
	}
	closedir(d);
	return status;
}

static int probe_mkfiles(const char *dir, const char *count_text)
{
	long n = atol(count_text);
	char path[4200];

	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return report(errno);
		close(fd);
	}
	return report(0);
}

static int probe_bpf(void)
{
	union bpf_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return report(errno);
	close((int)fd);
	return report(0);
}

static int cgroup_progs(const char *dir)
{
	static const struct {
		const char *name;
		enum bpf_attach_type type;
	} hooks[] = {
		{ "connect4", BPF_CGROUP_INET4_CONNECT },  { "connect6", BPF_CGROUP_INET6_CONNECT },
		{ "sendmsg4", BPF_CGROUP_UDP4_SENDMSG },   { "sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
		{ "recvmsg4", BPF_CGROUP_UDP4_RECVMSG },   { "getpeername4", BPF_CGROUP_INET4_GETPEERNAME },
	};
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return report(errno);
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		__u32 ids[64], count = 64;

		if (bpf_prog_query(fd, hooks[i].type, 0, NULL, ids, &count) < 0) {
			int err = errno;

			close(fd);
			return report(err);
		}
		printf("%s %u\n", hooks[i].name, count);
	}
	close(fd);
	return 0;
}

static int map_poke(const char *pin, const char *offset_text, const char *byte_text)
{
	struct bpf_map_info info;
	unsigned char value[4096];
	union bpf_attr attr;
	unsigned long offset = strtoul(offset_text, NULL, 0);
	unsigned long byte = strtoul(byte_text, NULL, 0);
	__u32 key = 0;
	long fd;
	int old;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)pin;
	fd = syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (fd < 0)
		return report(errno);
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return report(errno);
	if (info.key_size != sizeof(key) || info.value_size > sizeof(value) ||
	    offset >= info.value_size || byte > 255) {
		fprintf(stderr, "actprobe: map-poke: key %u bytes, value %u bytes: offset %lu or byte "
				"%lu out of range\n",
			info.key_size, info.value_size, offset, byte);
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = (__u64)(unsigned long)&key;
	attr.value = (__u64)(unsigned long)value;
	if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0)
		return report(errno);
	old = value[offset];
	value[offset] = (unsigned char)byte;
	if (syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr)) < 0)
		return report(errno);
	close((int)fd);
	printf("%d\n", old);
	return 0;
}

/* How many CPUs the kernel may ever have: a per-CPU map's value comes once per possible CPU. */
static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int first, last, n = 0;
	char sep;

	if (!f)
		return -errno;
	/* "0", "0-3", or a list of such ranges: "0-3,8-11". */
	while (fscanf(f, "%d", &first) == 1) {
		last = first;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &last) != 1)
				break;
			if (fscanf(f, "%c", &sep) != 1)
				sep = '\n';
		}
		n += last - first + 1;
		if (sep != ',')
			break;
	}
	fclose(f);
	return n > 0 ? n : -EINVAL;
}

static int percpu_sum(const char *pin, const char *offset_text)
{
	struct bpf_map_info info;
	unsigned long offset = strtoul(offset_text, NULL, 0);
	union bpf_attr attr;
	unsigned char *values;
	size_t stride;
	int ncpus;
	long fd;

	ncpus = possible_cpus();
	if (ncpus < 0)
		return report(-ncpus);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)pin;
	fd = syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (fd < 0)
		return report(errno);
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return report(errno);
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || offset + 8 > info.value_size) {
		fprintf(stderr, "actprobe: percpu-sum: %s is not a per-CPU array with a u64 at %lu\n",
			pin, offset);
		return 2;
	}
	/* Each CPU's copy is rounded up to 8 bytes. */
	stride = (info.value_size + 7) / 8 * 8;
	values = calloc((size_t)ncpus, stride);
	if (!values)
		return report(ENOMEM);
	for (__u32 key = 0; key < info.max_entries; key++) {
		unsigned long long sum = 0, v;

		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (__u32)fd;
		attr.key = (__u64)(unsigned long)&key;
		attr.value = (__u64)(unsigned long)values;
		if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0)
			return report(errno);
		for (int cpu = 0; cpu < ncpus; cpu++) {
			memcpy(&v, values + (size_t)cpu * stride + offset, sizeof(v));
			sum += v;
		}
		printf("%u %llu\n", key, sum);
	}
	free(values);
	close((int)fd);
	return 0;
}

static int prog_stats(int count, char **links)
{
	for (int i = 0; i < count; i++) {
		struct bpf_link_info link = { 0 };
		struct bpf_prog_info prog = { 0 };
		__u32 len = sizeof(link);
		int fd = bpf_obj_get(links[i]), pfd;

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &link, &len) < 0)
			return report(errno);
		close(fd);
		pfd = bpf_prog_get_fd_by_id(link.prog_id);
		len = sizeof(prog);
		if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &prog, &len) < 0)
			return report(errno);
		close(pfd);
		printf("%s %llu %llu\n", prog.name, (unsigned long long)prog.run_cnt,
		       (unsigned long long)prog.run_time_ns);
	}
	return 0;
}

static int probe_ptrace(const char *pid_text)
{
	pid_t pid = (pid_t)atoi(pid_text);

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
		return report(errno);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return report(0);
}

static int probe_reach(const char *how, const char *pid_text, const char *arg)
{
	pid_t pid = (pid_t)atoi(pid_text);
	int sig = arg ? atoi(arg) : 0;
	char byte = 0, path[64];
	struct iovec local = { &byte, 1 }, remote = { (void *)1, 1 };
	siginfo_t si;
	int fd, pidfd;

	if (strcmp(how, "attach") == 0) {
		if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
			return report(errno);
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return report(0);
	}
	if (strcmp(how, "traceme") == 0)
		return report(ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 ? errno : 0);
	if (strcmp(how, "mem") == 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		fd = open(path, O_RDWR);
		if (fd < 0)
			return report(errno);
		close(fd);
		return report(0);
	}
	if (strcmp(how, "vm-read") == 0)
		return report(syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0) < 0 ? errno
											   : 0);
	if (strcmp(how, "vm-write") == 0)
		return report(syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0) < 0
				      ? errno
				      : 0);
	if (strcmp(how, "getfd") == 0) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0)
			return report(errno);
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, sig, 0);
		if (fd < 0)
			return report(errno);
		close(fd);
		close(pidfd);
		return report(0);
	}
	if (strcmp(how, "kill") == 0)
		return report(kill(pid, sig) < 0 ? errno : 0);
	if (strcmp(how, "tgkill") == 0)
		return report(syscall(SYS_tgkill, pid, pid, sig) < 0 ? errno : 0);
	if (strcmp(how, "sigqueue") == 0) {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		return report(syscall(SYS_rt_sigqueueinfo, pid, sig, &si) < 0 ? errno : 0);
	}
	if (strcmp(how, "pidfd-signal") == 0) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0)
			return report(errno);
		if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
			return report(errno);
		close(pidfd);
		return report(0);
	}
	if (strcmp(how, "rlimit") == 0) {
		struct rlimit lim;

		if (prlimit(pid, RLIMIT_NOFILE, NULL, &lim) < 0)
			return report(errno);
		return report(prlimit(pid, RLIMIT_NOFILE, &lim, NULL) < 0 ? errno : 0);
	}
	if (strcmp(how, "nice") == 0) {
		int prio;

		errno = 0;
		prio = getpriority(PRIO_PROCESS, (id_t)pid);
		if (errno)
			return report(errno);
		return report(setpriority(PRIO_PROCESS, (id_t)pid, prio) < 0 ? errno : 0);
	}
	if (strcmp(how, "ioprio") == 0) {
		/* IOPRIO_WHO_PROCESS = 1; best-effort (2) level 4, the default's level. */
		return report(syscall(SYS_ioprio_set, 1, pid, (2 << 13) | 4) < 0 ? errno : 0);
	}
	if (strcmp(how, "affinity") == 0) {
		cpu_set_t set;

		if (sched_getaffinity(pid, sizeof(set), &set) < 0)
			return report(errno);
		return report(sched_setaffinity(pid, sizeof(set), &set) < 0 ? errno : 0);
	}
	if (strcmp(how, "movemem") == 0) {
		unsigned long node0 = 1;

		return report(syscall(SYS_migrate_pages, pid, 8 * sizeof(node0), &node0, &node0) <
					      0
				      ? errno
				      : 0);
	}
	fprintf(stderr, "actprobe reach: unknown way %s\n", how);
	return 2;
}

static int probe_kernel(const char *how, const char *arg, const char *arg2)
{
	static char image[128];
	int fd;

	if (strcmp(how, "finit-module") == 0 && arg) {
		fd = open(arg, O_RDONLY);
		if (fd < 0)
			return report(errno);
		return report(syscall(SYS_finit_module, fd, "", 0) < 0 ? errno : 0);
	}
	if (strcmp(how, "init-module") == 0)
		return report(syscall(SYS_init_module, image, sizeof(image), "") < 0 ? errno : 0);
	if (strcmp(how, "kexec-load") == 0)
		return report(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL) < 0 ? errno : 0);
	/* On DIR, default /: a mount over a directory on the way to actgate's own is refused first. */
	if (strcmp(how, "mount-fs") == 0 && arg)
		return report(mount("none", arg2 ? arg2 : "/", arg, MS_RDONLY, NULL) < 0 ? errno : 0);
	fprintf(stderr, "actprobe kernel: unknown way %s\n", how);
	return 2;
}

/* The kernel's "not supported" for BPF_PROG_RUN; not a userspace errno, so no name of its own. */
#define ENOTSUPP_KERNEL 524
#define NAMED_LINE_SIZE (PATH_MAX + 64)

static int print_named(void *ctx, void *data, size_t size)
{
	const struct actgate_decision *rec = data;
	char *line = ctx;

	if (size < ACTGATE_DECISION_FIXED_SIZE || rec->path_len > size - ACTGATE_DECISION_FIXED_SIZE)
		snprintf(line, NAMED_LINE_SIZE, "(short record)\t0");
	else
		snprintf(line, NAMED_LINE_SIZE, "%.*s\t%d", (int)rec->path_len, rec->target_path,
			 rec->path_error);
	return 0;
}

/* Each PATH named by name_fd, run with BPF_PROG_RUN in this process. */
static int name_fds(int count, char **paths)
{
	struct pathname_bpf *skel;
	struct ring_buffer *rb = NULL;
	char line[NAMED_LINE_SIZE], link[PATH_MAX], self[64];
	int err = 0;

	skel = pathname_bpf__open_and_load();
	if (!skel)
		return report(errno);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), print_named, line, NULL);
	if (!rb) {
		err = report(errno);
		goto out;
	}
	for (int i = 0; i < count; i++) {
		__u64 args[1];
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
		ssize_t n;
		int fd = open(paths[i], O_PATH | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "actprobe: name-fd: %s: %s\n", paths[i], strerror(errno));
			err = 1;
			break;
		}
		args[0] = (__u64)fd;
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.name_fd), &opts) < 0 ||
		    opts.retval != 0) {
			fprintf(stderr, "actprobe: name-fd: %s: test run: %s, program returned %u\n",
				paths[i], strerror(errno), opts.retval);
			close(fd);
			err = 1;
			break;
		}
		line[0] = '\0';
		ring_buffer__consume(rb);
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		n = readlink(self, link, sizeof(link) - 1);
		link[n < 0 ? 0 : n] = '\0';
		close(fd);
		if (!line[0]) {
			fprintf(stderr, "actprobe: name-fd: %s: no record\n", paths[i]);
			err = 1;
			break;
		}
		printf("%s\t%s\n", line, link);
	}
out:
	ring_buffer__free(rb);
	pathname_bpf__destroy(skel);
	return err;
}

static int lsm_test_run(void)
{
	struct pathname_bpf *skel = pathname_bpf__open_and_load();
	__u64 args[2] = { 0, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int err;

	if (!skel)
		return report(errno);
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.lsm_probe), &opts);
	pathname_bpf__destroy(skel);
	if (err == -ENOTSUPP_KERNEL) {
		printf("ENOTSUPP\n");
		return 1;
	}
	return report(-err);
}

static int probe_flock(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return report(errno);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return report(errno);
	close(fd);
	return report(0);
}

static int probe_mount_over(const char *path)
{
	if (mount("probe", path, "tmpfs", 0, NULL) < 0)
		return report(errno);
	umount2(path, MNT_DETACH);
	return report(0);
}

/*
 * Send fd over the connected unix socket sock (SCM_RIGHTS, with one byte);
 * 0 or an errno.
 */
static int send_descriptor(int sock, int fd)
{
	char byte = 'x', ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) < 0 ? errno : 0;
}

/*
 * Receive one descriptor from the unix socket sock into *fd (-1 when none
 * came; *msg_flags says why: scm_detach_fds drops a descriptor
 * security_file_receive refused and sets MSG_CTRUNC); 0 or an errno.
 */
static int receive_descriptor(int sock, int *fd, int *msg_flags)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;

	*fd = -1;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
		return errno;
	*msg_flags = msg.msg_flags;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

/* The descriptor fd-serve sends: opened or connected here, outside the workload. */
static int serve_fd(const char *kind, const char *arg, const char *arg2)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_un sun;
	socklen_t sun_len;
	int fd;

	if (strcmp(kind, "file") == 0)
		return open(arg, arg2 && arg2[0] == 'w' ? O_WRONLY : O_RDONLY);
	if (strcmp(kind, "tcp") == 0 && arg2) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_port = htons((uint16_t)atoi(arg2));
		if (fd < 0 || inet_pton(AF_INET, arg, &sin.sin_addr) != 1 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return -1;
		return fd;
	}
	if (strcmp(kind, "unix") == 0) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || unix_address(arg, &sun, &sun_len) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sun_len) < 0)
			return -1;
		return fd;
	}
	errno = EINVAL;
	return -1;
}

static int probe_fd_serve(const char *sock_path, const char *kind, const char *arg,
			  const char *arg2)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), cfd, fd;

	if (lfd < 0 || unix_address(sock_path, &sun, &sun_len) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sun_len) < 0 || listen(lfd, 8) < 0)
		return report(errno);
	for (;;) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		fd = serve_fd(kind, arg, arg2);
		if (fd < 0) {
			fprintf(stderr, "actprobe fd-serve: %s %s: %s\n", kind, arg, strerror(errno));
			close(cfd);
			continue;
		}
		send_descriptor(cfd, fd);
		close(fd);
		close(cfd);
	}
}

static int probe_unix_hold(const char *path)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || unix_address(path, &sun, &sun_len) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sun_len) < 0 || listen(fd, 64) < 0)
		return report(errno);
	for (;;)
		pause();
}

static int probe_fd_recv(const char *sock_path)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), got, flags = 0, err;

	if (fd < 0 || unix_address(sock_path, &sun, &sun_len) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sun_len) < 0)
		return report(errno);
	err = receive_descriptor(fd, &got, &flags);
	if (err)
		return report(err);
	if (got >= 0)
		return report(0);
	return report(flags & MSG_CTRUNC ? EPERM : ENOMSG);
}

/*
 * In a child: execveat(fd, "", argv, AT_EMPTY_PATH), or glibc's fexecve;
 * report whether it worked, as probe_exec does.
 */
static int exec_fd(int fd, char **argv, int use_fexecve)
{
	int fds[2], child_errno = 0, status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return report(errno);
	pid = fork();
	if (pid < 0) {
		child_errno = errno;
		close(fds[0]);
		close(fds[1]);
		return report(child_errno);
	}
	if (pid == 0) {
		close(fds[0]);
		if (use_fexecve)
			fexecve(fd, argv, environ);
		else
			syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		child_errno = errno;
		if (write(fds[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
		child_errno = 0; /* pipe closed by a successful exec */
	close(fds[0]);
	waitpid(pid, &status, 0);
	return report(child_errno);
}

static int probe_fd_exec(char **argv)
{
	int fd = open(argv[0], O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return report(errno);
	ret = exec_fd(fd, argv, 0);
	close(fd);
	return ret;
}

/* A memfd holding the bytes of src; -errno. */
static int memfd_of(const char *src)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), fd, err = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	/* Not MFD_CLOEXEC: fexecve of a script reopens it through /proc/self/fd. */
	fd = memfd_create("actprobe-payload", 0);
	if (fd < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	}
	if (n < 0)
		err = -errno;
	close(in);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int probe_truncate(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || truncate(path, st.st_size) < 0)
		return report(errno);
	return report(0);
}

static int probe_send_fd(const char *sock, const char *file)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	int fd, s, c, err;

	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		return report(errno);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || unix_address(sock, &sun, &sun_len) < 0 ||
	    bind(s, (struct sockaddr *)&sun, sun_len) < 0 || listen(s, 1) < 0)
		return report(errno);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return report(errno);
	err = send_descriptor(c, fd);
	close(c);
	close(s);
	close(fd);
	return report(err);
}

static int probe_recv_write(const char *sock, const char *src)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	char buf[65536];
	int s, fd, in, flags = 0, err = 0;
	ssize_t n;

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || unix_address(sock, &sun, &sun_len) < 0 ||
	    connect(s, (struct sockaddr *)&sun, sun_len) < 0)
		return report(errno);
	err = receive_descriptor(s, &fd, &flags);
	if (err)
		return report(err);
	if (fd < 0)
		return report(EBADF); /* the kernel refused to pass it */
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return report(errno);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			err = errno ? errno : EIO;
			break;
		}
	close(in);
	close(fd);
	close(s);
	return report(err);
}

static int probe_anon(const char *how, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd, err = 0, id;
	void *p;

	if (strcmp(how, "shm") == 0) {
		id = shmget(IPC_PRIVATE, (size_t)page, IPC_CREAT | 0600);
		if (id < 0)
			return report(errno);
		p = shmat(id, NULL, SHM_EXEC);
		if (p == (void *)-1)
			err = errno;
		else
			shmdt(p);
		shmctl(id, IPC_RMID, NULL);
		return report(err);
	}
	fd = memfd_of(argv[0]);
	if (fd < 0)
		return report(-fd);
	if (strcmp(how, "exec") == 0 || strcmp(how, "execveat") == 0) {
		err = exec_fd(fd, argv, how[4] == '\0');
		close(fd);
		return err;
	}
	if (strcmp(how, "mmap") == 0 || strcmp(how, "mprotect") == 0) {
		int two_steps = how[1] == 'p';

		p = mmap(NULL, (size_t)page, two_steps ? PROT_READ : PROT_READ | PROT_EXEC,
			 MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			err = errno;
		} else {
			if (two_steps && mprotect(p, (size_t)page, PROT_READ | PROT_EXEC) < 0)
				err = errno;
			munmap(p, (size_t)page);
		}
		close(fd);
		return report(err);
	}
	close(fd);
	fprintf(stderr, "actprobe: anon: unknown HOW '%s'\n", how);
	return 2;
}

/* ---- DNS (egress by name): a test responder, lookups, lookup-then-connect ---- */


#define DNS_TEST_SERVER "10.53.0.1" /* any server: a steered workload's lookup goes to actgated */

/* The query's name (lowercased, dotted) and type; 0, or -1 for a message we do not read. */
static int dns_read_question(const uint8_t *m, size_t n, char *name, size_t size,
			     uint16_t *qtype, size_t *end)
{
	size_t at = 12, out = 0;

	if (n < 12)
		return -1;
	while (at < n && m[at]) {
		size_t l = m[at];

		if (l > 63 || at + 1 + l > n || out + l + 2 > size)
			return -1;
		if (out)
			name[out++] = '.';
		for (size_t i = 0; i < l; i++)
			name[out++] = (char)tolower(m[at + 1 + i]);
		at += 1 + l;
	}
	name[out] = '\0';
	if (at + 5 > n)
		return -1;
	*qtype = (uint16_t)(m[at + 1] << 8 | m[at + 2]);
	*end = at + 5;
	return 0;
}

/* The test zone (tests/vm/scenarios/38-names.sh says what each name is for). */
static size_t dns_answer(const uint8_t *q, size_t n, uint8_t *out, size_t size)
{
	static const uint8_t six[16] = { [15] = 1 };
	struct dns_build b;
	char name[256];
	uint16_t qtype, an = 0;
	size_t end;
	uint8_t a[4] = { 127, 0, 0, 0 };
	int rcode = 0;

	if (dns_read_question(q, n, name, sizeof(name), &qtype, &end))
		return 0;
	db_header(&b, (uint16_t)(q[0] << 8 | q[1]), 0x8180, 1, 0, 0, 0);
	db_question(&b, name, qtype);
	if (strcmp(name, "cname.test") == 0) {
		db_cname(&b, "@", 300, "target.other");
		an++;
		if (qtype == 1) {
			a[3] = 24;
			db_a(&b, "target.other", 300, a);
			an++;
		}
	} else if (strcmp(name, "six.test") == 0) {
		if (qtype == 28) {
			db_aaaa(&b, "@", 300, six);
			an++;
		}
	} else {
		static const struct { const char *name; uint8_t last; uint32_t ttl; } zone[] = {
			{ "a.test", 21, 300 },     { "deny.test", 23, 300 },
			{ "short.test", 25, 1 },   { "x.wild.test", 26, 300 },
			{ "y.z.wild.test", 26, 300 }, { "wild.test", 27, 300 },
			{ "shared.test", 28, 300 },
		};
		size_t i;

		for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
			if (strcmp(name, zone[i].name) == 0)
				break;
		if (i == sizeof(zone) / sizeof(zone[0])) {
			rcode = 3; /* NXDOMAIN */
		} else if (qtype == 1) {
			a[3] = zone[i].last;
			db_a(&b, "@", zone[i].ttl, a);
			an++;
		}
	}
	b.buf[3] = (uint8_t)(0x80 | rcode);
	b.buf[6] = (uint8_t)(an >> 8);
	b.buf[7] = (uint8_t)an;
	if (b.len > size)
		return 0;
	memcpy(out, b.buf, b.len);
	return b.len;
}

/* dns-serve ADDR PORT: the test zone over UDP and TCP, until killed. */
static int probe_dns_serve(const char *addr, const char *port_text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int u, t, one = 1;

	if (parse_addr(addr, port_text, &ss, &len))
		return 2;
	u = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0 || t < 0 || setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(u, (struct sockaddr *)&ss, len) || bind(t, (struct sockaddr *)&ss, len) ||
	    listen(t, 16))
		return report(errno);
	for (;;) {
		struct pollfd p[2] = { { .fd = u, .events = POLLIN }, { .fd = t, .events = POLLIN } };
		uint8_t q[4096], r[4096];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		size_t m;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			n = recvfrom(u, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			if (n > 0 && (m = dns_answer(q, (size_t)n, r, sizeof(r))))
				sendto(u, r, m, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents) {
			int c = accept(t, NULL, NULL);
			uint8_t h[2];

			if (c < 0)
				continue;
			if (recv(c, h, 2, MSG_WAITALL) == 2 &&
			    recv(c, q, (size_t)(h[0] << 8 | h[1]), MSG_WAITALL) == (h[0] << 8 | h[1]) &&
			    (m = dns_answer(q, (size_t)(h[0] << 8 | h[1]), r + 2, sizeof(r) - 2))) {
				r[0] = (uint8_t)(m >> 8);
				r[1] = (uint8_t)m;
				send(c, r, m + 2, MSG_NOSIGNAL);
			}
			close(c);
		}
	}
}

/* Skip a name in a message (labels or a pointer); the offset after it, or 0. */
static size_t dns_skip_name(const uint8_t *m, size_t n, size_t at)
{
	while (at < n) {
		if ((m[at] & 0xc0) == 0xc0)
			return at + 2 <= n ? at + 2 : 0;
		if (!m[at])
			return at + 1;
		at += 1 + m[at];
	}
	return 0;
}

/*
 * One lookup of name (type 1 or 28) to server:53 over UDP or TCP. Prints
 * the rcode's name and the addresses ("NOERROR 127.0.0.21"); the first
 * address into first (when not NULL). 0 for NOERROR with an address.
 */
static int dns_lookup(const char *name, uint16_t qtype, int tcp, const char *server,
		      char *first, size_t first_size, int quiet)
{
	static const char *const rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					      "NOTIMP", "REFUSED" };
	struct sockaddr_storage ss;
	struct dns_build b;
	uint8_t r[4096];
	char line[1024];
	size_t at, len = 0, used;
	socklen_t sl;
	uint16_t an;
	ssize_t n;
	int fd, found = 0;

	if (parse_addr(server, "53", &ss, &sl))
		return 2;
	db_query(&b, (uint16_t)(getpid() ^ (int)time(NULL)), name, qtype);
	fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int err = errno;

		if (!quiet)
			printf("connect:%s\n", strerrorname_np(err) ? strerrorname_np(err) : "E?");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	{
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (tcp) {
		uint8_t h[2] = { (uint8_t)(b.len >> 8), (uint8_t)b.len };

		if (send(fd, h, 2, MSG_MORE) != 2 || send(fd, b.buf, b.len, 0) != (ssize_t)b.len ||
		    recv(fd, h, 2, MSG_WAITALL) != 2)
			n = -1;
		else
			n = recv(fd, r, (size_t)(h[0] << 8 | h[1]), MSG_WAITALL);
	} else {
		n = send(fd, b.buf, b.len, 0) == (ssize_t)b.len ? recv(fd, r, sizeof(r), 0) : -1;
	}
	close(fd);
	if (n < 12) {
		if (!quiet)
			printf("noanswer:%s\n", n < 0 && strerrorname_np(errno) ? strerrorname_np(errno)
									: "short");
		return 1;
	}
	used = (size_t)snprintf(line, sizeof(line), "%s",
				(r[3] & 15) < 6 ? rcodes[r[3] & 15] : "RCODE?");
	an = (uint16_t)(r[6] << 8 | r[7]);
	at = dns_skip_name(r, (size_t)n, 12);
	at = at ? at + 4 : 0;
	for (uint16_t i = 0; at && i < an; i++) {
		uint16_t type, rdlen;
		char text[INET6_ADDRSTRLEN];

		at = dns_skip_name(r, (size_t)n, at);
		if (!at || at + 10 > (size_t)n)
			break;
		type = (uint16_t)(r[at] << 8 | r[at + 1]);
		rdlen = (uint16_t)(r[at + 8] << 8 | r[at + 9]);
		at += 10;
		if (at + rdlen > (size_t)n)
			break;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			inet_ntop(type == 1 ? AF_INET : AF_INET6, r + at, text, sizeof(text));
			if (!found && first)
				snprintf(first, first_size, "%s", text);
			found++;
			if (used < sizeof(line))
				used += (size_t)snprintf(line + used, sizeof(line) - used, " %s", text);
		}
		at += rdlen;
	}
	(void)len;
	if (!quiet)
		printf("%s\n", line);
	return (r[3] & 15) == 0 && found ? 0 : 1;
}

/* resolve NAME [a|aaaa] [udp|tcp] [SERVER] */
static int probe_resolve(int argc, char **argv)
{
	const char *type = argc > 3 ? argv[3] : "a", *how = argc > 4 ? argv[4] : "udp";
	const char *server = argc > 5 ? argv[5] : DNS_TEST_SERVER;

	return dns_lookup(argv[2], strcmp(type, "aaaa") == 0 ? 28 : 1, strcmp(how, "tcp") == 0,
			  server, NULL, 0, 0);
}

/* resolveloop NAME COUNT [SERVER]: COUNT lookups over UDP; nanoseconds per lookup. */
static int probe_resolveloop(const char *name, const char *count_text, const char *server)
{
	long n = atol(count_text);
	long long t0;

	if (n <= 0)
		return 2;
	t0 = mono_ns();
	for (long i = 0; i < n; i++)
		if (dns_lookup(name, 1, 0, server ? server : DNS_TEST_SERVER, NULL, 0, 1))
			return report(EPROTO);
	printf("%lld\n", (mono_ns() - t0) / n);
	return 0;
}

/*
 * resolve-connect NAME PORT COUNT: COUNT times, look NAME up and connect
 * (TCP) to its first address at once; "ok", or how many rounds failed.
 */
static int probe_resolve_connect(const char *name, const char *port_text, const char *count_text)
{
	long count = atol(count_text), failed = 0;
	char first[INET6_ADDRSTRLEN] = "", how[64] = "";

	for (long i = 0; i < count; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		int fd, err = 0;

		if (dns_lookup(name, 1, 0, DNS_TEST_SERVER, first, sizeof(first), 1)) {
			failed++;
			snprintf(how, sizeof(how), "lookup");
			continue;
		}
		if (parse_addr(first, port_text, &ss, &sl))
			return 2;
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0)
			err = errno;
		if (fd >= 0)
			close(fd);
		if (err) {
			failed++;
			snprintf(how, sizeof(how), "%s", strerrorname_np(err) ? strerrorname_np(err)
										: "E?");
		}
	}
	if (!failed)
		printf("ok\n");
	else
		printf("failed %ld of %ld (last: %s)\n", failed, count, how);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "dns-serve") == 0)
		return probe_dns_serve(argv[2], argv[3]);
	if (argc >= 3 && argc <= 6 && strcmp(argv[1], "resolve") == 0)
		return probe_resolve(argc, argv);
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "resolveloop") == 0)
		return probe_resolveloop(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 5 && strcmp(argv[1], "resolve-connect") == 0)
		return probe_resolve_connect(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "flock") == 0)
		return probe_flock(argv[2]);
	if (argc == 3 && strcmp(argv[1], "mount-over") == 0)
		return probe_mount_over(argv[2]);
	if (argc >= 5 && argc <= 6 && strcmp(argv[1], "fd-serve") == 0)
		return probe_fd_serve(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (argc == 3 && strcmp(argv[1], "unix-hold") == 0)
		return probe_unix_hold(argv[2]);
	if (argc == 3 && strcmp(argv[1], "fd-recv") == 0)
		return probe_fd_recv(argv[2]);
	if (argc == 2 && strcmp(argv[1], "bpf") == 0)
		return probe_bpf();
	if (argc == 5 && strcmp(argv[1], "map-poke") == 0)
		return map_poke(argv[2], argv[3], argv[4]);
	if (argc == 2 && strcmp(argv[1], "batch") == 0)
		return probe_batch();
	if (argc == 5 && strcmp(argv[1], "sendto") == 0)
		return probe_sendto(argv[2], argv[3], argv[4]);
	if (argc >= 5 && argc <= 6 && strcmp(argv[1], "connect-from") == 0)
		return probe_connect_from(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (argc == 5 && strcmp(argv[1], "socket") == 0)
		return probe_socket(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "uring-socket") == 0)
		return probe_uring_socket(argv[2], argv[3], argv[4]);
	if (argc == 2 && strcmp(argv[1], "socketpair") == 0)
		return probe_socketpair();
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "openloop") == 0)
		return probe_openloop(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 4 && strcmp(argv[1], "execloop") == 0)
		return probe_execloop(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "landlock-openloop") == 0)
		return probe_landlock_openloop(argv[2], argv[3], argv[4]);
	if (argc >= 3 && strcmp(argv[1], "timed") == 0)
		return probe_timed(argv + 2);
	if (argc == 6 && strcmp(argv[1], "connectloop") == 0)
		return probe_connectloop(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 6 && argc <= 7 && strcmp(argv[1], "storm") == 0)
		return probe_storm(argv[2], argv[3], argv[4], argv + 5, argc - 5);
	if (argc == 3 && strcmp(argv[1], "map-counts") == 0)
		return probe_map_counts(argv[2]);
	if (argc == 4 && strcmp(argv[1], "mkfiles") == 0)
		return probe_mkfiles(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "deep") == 0)
		return probe_deep(argv[2], argv[3], argv[4]);
	if (argc >= 3 && strcmp(argv[1], "name-fd") == 0)
		return name_fds(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "lsm-test-run") == 0)
		return lsm_test_run();
	if (argc >= 3 && strcmp(argv[1], "prog-stats") == 0)
		return prog_stats(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "percpu-sum") == 0)
		return percpu_sum(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "cgroup-progs") == 0)
		return cgroup_progs(argv[2]);
	if (argc == 3 && strcmp(argv[1], "ptrace") == 0)
		return probe_ptrace(argv[2]);
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "reach") == 0)
		return probe_reach(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc >= 3 && argc <= 5 && strcmp(argv[1], "kernel") == 0)
		return probe_kernel(argv[2], argc >= 4 ? argv[3] : NULL, argc == 5 ? argv[4] : NULL);
	if (argc == 4 && strcmp(argv[1], "listen") == 0)
		return probe_listen(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "send-unix") == 0)
		return probe_send_unix(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "exec") == 0)
		return probe_exec(&argv[2]);
	if (argc >= 3 && strcmp(argv[1], "fd-exec") == 0)
		return probe_fd_exec(&argv[2]);
	if (argc == 3 && strcmp(argv[1], "truncate") == 0)
		return probe_truncate(argv[2]);
	if (argc == 4 && strcmp(argv[1], "send-fd") == 0)
		return probe_send_fd(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "recv-write") == 0)
		return probe_recv_write(argv[2], argv[3]);
	if (argc >= 4 && strcmp(argv[1], "anon") == 0)
		return probe_anon(argv[2], &argv[3]);
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "open") == 0)
		return probe_open(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "mknod") == 0)
		return probe_mknod(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "mmap-exec") == 0)
		return probe_map_exec(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "mprotect-exec") == 0)
		return probe_map_exec(argv[2], 1);
	if (argc == 4 && strcmp(argv[1], "unix-listen") == 0)
		return probe_unix_listen(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "unix-connect") == 0)
		return probe_unix_connect(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "unix-sendto") == 0)
		return probe_unix_sendto(argv[2]);
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "connect") == 0)
		return probe_connect(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: actprobe exec PATH [ARG]... | open PATH [r|w|rw][t][c][x] | mknod PATH [fifo] |\n"
			"       mmap-exec PATH | mprotect-exec PATH |\n"
			"       connect ADDR PORT [tcp|udp|short] | listen ADDR PORT | send-unix PATH TEXT |\n"
			"       unix-listen PATH stream|dgram|seqpacket | unix-connect PATH stream|dgram|seqpacket |\n"
			"       unix-sendto PATH | sendto ADDR PORT udp|tfo|unspec|raw-unspec | batch | deep DIR N create|open |\n"
			"       connect-from SRC ADDR PORT [tcp|udp] | socket FAMILY TYPE PROTO |\n"
			"       uring-socket FAMILY TYPE PROTO | socketpair |\n"
			"       openloop PATH N [FLAGS] | execloop PATH N | timed CMD [ARG]... |\n"
			"       landlock-openloop DIR PATH N | connectloop ADDR PORT N tcp|udp |\n"
			"       storm PROCS SECONDS exec PATH|open PATH|connect ADDR PORT | map-counts DIR |\n"
			"       mkfiles DIR N | bpf | ptrace PID |\n"
			"       reach HOW PID [ARG] | kernel HOW [ARG [DIR]] |\n"
			"       map-poke PIN OFFSET BYTE | flock PATH | mount-over PATH |\n"
			"       fd-serve SOCK file|tcp|unix ARG [ARG2] | fd-recv SOCK | unix-hold PATH |\n"
			"       fd-exec PATH [ARG]... | anon exec|execveat|mmap|mprotect|shm SRC [ARG]... |\n"
			"       truncate PATH | send-fd SOCK FILE | recv-write SOCK SRC\n");
	return 2;
}
