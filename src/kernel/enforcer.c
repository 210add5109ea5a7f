/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <openssl/evp.h>

#include "actgate.skel.h"
#include "kernel/enforcer-internal.h"
#include "kernel/enforcer.h"
#include "kernel/pins.h"
#include "policy/compile.h"
#include "util/clock.h"
#include "util/log.h"

#define LSM_LIST_PATH "/sys/kernel/security/lsm"

/*
 * libbpf's print callback takes no context pointer, so verbosity has to live
 * in a file-scope variable; it is set once, before the first libbpf call.
 */
static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int enforcer_probe(char *why, size_t why_size)
{
	char lsms[512] = "";
	size_t n;
	FILE *f;

	f = fopen(LSM_LIST_PATH, "re");
	if (!f) {
		snprintf(why, why_size, "%s: %s (is securityfs mounted?)", LSM_LIST_PATH,
			 strerror(errno));
		return -EOPNOTSUPP;
	}
	n = fread(lsms, 1, sizeof(lsms) - 1, f);
	fclose(f);
	lsms[n] = '\0';
	/* The list is comma-separated, e.g. "lockdown,capability,landlock,bpf". */
	for (char *save = NULL, *tok = strtok_r(lsms, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		if (strcmp(tok, "bpf") == 0)
			return 0;
	}
	snprintf(why, why_size,
		 "the BPF LSM is not active (active: %s); boot with lsm=...,bpf on the kernel "
		 "command line",
		 lsms[0] ? lsms : "none");
	return -EOPNOTSUPP;
}

/*
 * The rule maps' sizes are the policy compiler's limits (policy/compile.h),
 * so they are set here rather than in bpf/maps.h: a policy is refused at
 * load by the same numbers the kernel holds. path_rules is not
 * preallocated: a million entries would be some 100 MB of kernel memory on
 * every host whatever its policy; unpreallocated it costs its bucket array
 * (16 bytes an entry of max_entries rounded up to a power of 2) and then
 * only the entries written. net_rules, an LPM trie, never preallocates.
 */
struct rule_map_sizes {
	__u32 path_entries;
	__u32 path_flags;
	__u32 net_entries;
};

static const struct rule_map_sizes rule_maps = {
	.path_entries = POLICY_MAX_PATH_ENTRIES * POLICY_GENERATIONS_IN_KERNEL,
	.path_flags = BPF_F_NO_PREALLOC,
	.net_entries = POLICY_MAX_NET_ENTRIES * POLICY_GENERATIONS_IN_KERNEL,
};

static int size_rule_maps(struct actgate_bpf *skel)
{
	int err = bpf_map__set_max_entries(skel->maps.path_rules, rule_maps.path_entries);

	if (!err)
		err = bpf_map__set_map_flags(skel->maps.path_rules,
					     bpf_map__map_flags(skel->maps.path_rules) |
						     rule_maps.path_flags);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.net_rules, rule_maps.net_entries);
	return err;
}

/*
 * The object and the sizes set on its maps: a build that sizes them
 * otherwise is another build, whose pins are upgraded (their rules copied
 * into maps of this size), not adopted as they are.
 */
int enforcer_build_id(__u8 out[ACTGATE_BUILD_ID_LEN])
{
	unsigned int len = 0;
	size_t size = 0;
	const void *elf = actgate_bpf__elf_bytes(&size);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int err = -EIO;

	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, elf, size) &&
	    EVP_DigestUpdate(md, &rule_maps, sizeof(rule_maps)) &&
	    EVP_DigestFinal_ex(md, out, &len) && len == ACTGATE_BUILD_ID_LEN)
		err = 0;
	EVP_MD_CTX_free(md);
	return err;
}

void enforcer_hex12(const __u8 id[ACTGATE_BUILD_ID_LEN], char out[13])
{
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int enforcer_write_meta(struct enforcer *e)
{
	__u32 zero = 0;

	return bpf_map__update_elem(e->skel->maps.meta, &zero, sizeof(zero), &e->meta,
				    sizeof(e->meta), BPF_ANY);
}

int enforcer_set_daemon(struct enforcer *e, uint32_t tgid)
{
	int err;

	e->meta.daemon_tgid = tgid;
	err = enforcer_write_meta(e);
	if (err)
		log_error("bpf", "cannot name pid %u as the daemon to protect in the meta map: %s",
			  tgid, strerror(-err));
	return err;
}

/* Map the ring buffer: the consumer page read-write, the producer page and data read-only. */
static int map_events(struct enforcer *e)
{
	struct bpf_map *map = e->skel->maps.events;
	void *p;

	e->events_fd = bpf_map__fd(map);
	e->events_size = bpf_map__max_entries(map);
	e->page_size = (size_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, e->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, e->events_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	e->consumer_pos = p;
	/* The data once: a record that wraps is made whole in e->wrapped (enforcer.h). */
	p = mmap(NULL, e->page_size + e->events_size, PROT_READ, MAP_SHARED, e->events_fd,
		 (off_t)e->page_size);
	if (p == MAP_FAILED)
		goto fail;
	e->producer_pos = p;
	e->data = (uint8_t *)p + e->page_size;
	e->read_pos = __atomic_load_n(e->consumer_pos, __ATOMIC_ACQUIRE);
	return 0;
fail:
	log_error("bpf", "cannot map the events ring buffer: %s", strerror(errno));
	return -errno;
}

static void unmap_events(struct enforcer *e)
{
	if (e->consumer_pos)
		munmap(e->consumer_pos, e->page_size);
	if (e->producer_pos)
		munmap(e->producer_pos, e->page_size + e->events_size);
	e->consumer_pos = e->producer_pos = NULL;
	e->data = NULL;
	free(e->wrapped);
	e->wrapped = NULL;
	e->wrapped_cap = 0;
}

int enforcer_check_pinned_map(const struct bpf_map *map, int fd, const char *path, bool any_size,
			    char *why, size_t why_size)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(why, why_size, "%.400s is not a BPF map", path);
		return -EPROTO;
	}
	if (info.type != (__u32)bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    (!any_size && info.max_entries != bpf_map__max_entries(map)) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		snprintf(why, why_size,
			 "%.400s does not have this build's layout (type %u, key %u, value %u, %u "
			 "entries, flags %#x; expected %u, %u, %u, %u, %#x)",
			 path, info.type, info.key_size, info.value_size, info.max_entries,
			 info.map_flags, bpf_map__type(map), bpf_map__key_size(map),
			 bpf_map__value_size(map), bpf_map__max_entries(map), bpf_map__map_flags(map));
		return -EPROTO;
	}
	return 0;
}

/* Is the pinned link at path a live LSM link of a program named like prog? */
static int check_pinned_link(const struct bpf_program *prog, const char *path, char *why,
			     size_t why_size)
{
	struct bpf_link_info link = { 0 };
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(link), plen = sizeof(pi);
	int fd, pfd = -1, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%.400s: %s", path, strerror(-err));
		return err == -ENOENT ? -EPROTO : err;
	}
	if (bpf_obj_get_info_by_fd(fd, &link, &len) ||
	    link.type != (enforcer_cgroup_program(prog) ? BPF_LINK_TYPE_CGROUP
							: BPF_LINK_TYPE_TRACING)) {
		snprintf(why, why_size, "%.400s is not a link of the kind %s needs", path,
			 bpf_program__name(prog));
		err = -EPROTO;
		goto out;
	}
	pfd = bpf_prog_get_fd_by_id(link.prog_id);
	if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &pi, &plen)) {
		snprintf(why, why_size, "%.400s: its program cannot be read: %s", path, strerror(errno));
		err = -EPROTO;
		goto out;
	}
	/* The kernel keeps the first BPF_OBJ_NAME_LEN - 1 bytes of a program's name. */
	if (strncmp(pi.name, bpf_program__name(prog), sizeof(pi.name) - 1) != 0) {
		snprintf(why, why_size, "%.400s links program \"%s\", not %s", path, pi.name,
			 bpf_program__name(prog));
		err = -EPROTO;
	}
out:
	if (pfd >= 0)
		close(pfd);
	close(fd);
	return err;
}

/*
 * The pinned meta map (DIR/meta) read into *meta, after checking that it
 * has this build's layout of struct actgate_meta.
 */
static int read_pinned_meta(const struct enforcer *e, const struct enforcer_config *cfg,
			    struct actgate_meta *meta, char *why, size_t why_size)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	err = pins_path(cfg->pin_dir, NULL, PINS_META, path, sizeof(path));
	if (err) {
		snprintf(why, why_size, "pin directory %.400s: path too long", cfg->pin_dir);
		return err;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%.400s: %s", path, strerror(-err));
		return err == -ENOENT ? -EPROTO : err;
	}
	err = enforcer_check_pinned_map(e->skel->maps.meta, fd, path, false, why, why_size);
	if (!err && bpf_map_lookup_elem(fd, &zero, meta)) {
		err = -errno;
		snprintf(why, why_size, "cannot read %.400s: %s", path, strerror(-err));
	}
	close(fd);
	return err;
}

/*
 * Adopted pins with steering programs, and no resolver now: their link
 * pins go, which detaches them (a pin is a link's last reference once its
 * daemon is gone). The resolver's address goes first, so that the connect
 * decision stops letting lookups through before the programs that steer
 * them leave.
 */
static int drop_steering(struct enforcer *e, const struct enforcer_config *cfg, char *why,
			 size_t why_size)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	size_t dropped = 0;
	int err;

	err = enforcer_set_steering(e, 0, 0);
	if (err) {
		snprintf(why, why_size, "cannot clear where the resolver listens: %s",
			 strerror(-err));
		return err;
	}
	bpf_object__for_each_program(prog, e->skel->obj) {
		if (!enforcer_cgroup_program(prog))
			continue;
		err = pins_path(cfg->pin_dir, PINS_LINKS, bpf_program__name(prog), path,
				sizeof(path));
		if (!err && unlink(path) == 0)
			dropped++;
		else if (!err && errno != ENOENT)
			err = -errno;
		if (err) {
			snprintf(why, why_size, "cannot remove %.400s: %s", path, strerror(-err));
			return err;
		}
	}
	log_info("bpf", "no resolver configured: detached the %zu DNS steering programs the pins "
			"held (connects and datagrams no longer pass through them)", dropped);
	e->steering = false;
	return 0;
}

/*
 * Adopt the pin set: the meta map first (ABI, build), then every map (reused
 * in place of the object's, so the object is never loaded) and every link.
 * ENFORCER_OTHER_BUILD (positive) when the pins are another BPF build of
 * this ABI version: nothing was reused, the caller upgrades them.
 */
#define ENFORCER_OTHER_BUILD 1
/*
 * ENFORCER_NO_STEERING (positive): the pins are this build's, but the
 * steering programs the configuration now wants are not among them (or
 * only some are): the set is replaced as in an upgrade, which attaches
 * them before anything goes.
 */
#define ENFORCER_NO_STEERING 2
static int adopt(struct enforcer *e, const struct enforcer_config *cfg, char *why,
		 size_t why_size)
{
	size_t steering_pinned = 0, steering_programs = 0;
	__u8 ours[ACTGATE_BUILD_ID_LEN];
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct bpf_map *map;
	__u32 zero = 0;
	int fd, err;

	err = enforcer_build_id(ours);
	if (err) {
		snprintf(why, why_size, "cannot hash the BPF object");
		return err;
	}
	err = read_pinned_meta(e, cfg, &e->meta, why, why_size);
	if (err)
		return err;
	if (e->meta.abi_version != ACTGATE_ABI_VERSION) {
		/*
		 * Another ABI version lays out records and map values otherwise:
		 * this daemon could neither read what the pinned ring buffer
		 * holds nor carry the pinned maps over (docs/upgrades.md).
		 */
		snprintf(why, why_size,
			 "the pins were made by an actgated of ABI version %u; this one "
			 "is version %u, and an upgrade without a gap needs the same ABI version",
			 e->meta.abi_version, ACTGATE_ABI_VERSION);
		return -EPROTO;
	}
	if (memcmp(e->meta.build_id, ours, sizeof(ours)) != 0)
		return ENFORCER_OTHER_BUILD;
	bpf_object__for_each_map(map, e->skel->obj) {
		bool is_meta = map == e->skel->maps.meta;

		err = pins_path(cfg->pin_dir, is_meta ? NULL : PINS_MAPS, bpf_map__name(map), path,
				sizeof(path));
		if (err) {
			snprintf(why, why_size, "pin directory %.400s: path too long", cfg->pin_dir);
			return err;
		}
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			snprintf(why, why_size, "%.400s: %s", path, strerror(-err));
			return err == -ENOENT ? -EPROTO : err;
		}
		/* The ring buffer's size is chosen when the pins are made (--ring-buffer-size). */
		err = enforcer_check_pinned_map(map, fd, path, map == e->skel->maps.events, why, why_size);
		if (!err) {
			err = bpf_map__reuse_fd(map, fd);
			if (err)
				snprintf(why, why_size, "cannot reuse %.400s: %s", path, strerror(-err));
		}
		close(fd);
		if (err)
			return err;
		if (is_meta) {
			err = bpf_map__lookup_elem(map, &zero, sizeof(zero), &e->meta, sizeof(e->meta), 0);
			if (err) {
				snprintf(why, why_size, "cannot read %.400s: %s", path, strerror(-err));
				return err;
			}
		}
	}
	bpf_object__for_each_program(prog, e->skel->obj) {
		err = pins_path(cfg->pin_dir, PINS_LINKS, bpf_program__name(prog), path,
				sizeof(path));
		if (err) {
			snprintf(why, why_size, "pin directory %.400s: path too long", cfg->pin_dir);
			return err;
		}
		/* The steering programs are pinned only while a resolver runs. */
		if (enforcer_cgroup_program(prog)) {
			steering_programs++;
			if (access(path, F_OK) < 0 && errno == ENOENT)
				continue;
			steering_pinned++;
		}
		err = check_pinned_link(prog, path, why, why_size);
		if (err)
			return err;
	}
	if (cfg->events_bytes && cfg->events_bytes != e->meta.events_bytes)
		log_warn("bpf",
			 "--ring-buffer-size %llu does not apply: the adopted ring buffer keeps its "
			 "%llu bytes",
			 (unsigned long long)cfg->events_bytes,
			 (unsigned long long)e->meta.events_bytes);
	if (cfg->steering && steering_pinned < steering_programs)
		return ENFORCER_NO_STEERING;
	if (!cfg->steering && steering_pinned)
		return drop_steering(e, cfg, why, why_size);
	e->steering = cfg->steering;
	return 0;
}

/*
 * Attach every program of the loaded object, keeping the links in e, and
 * pin each link under pin_dir (the live directory, or an upgrade's staging
 * one). A failure leaves the links made so far in e for the caller's undo.
 */
int enforcer_attach_all(struct enforcer *e, const char *pin_dir, char *why, size_t why_size)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, e->skel->obj) {
		struct bpf_link *link;

		if (e->link_count == ENFORCER_MAX_PROGRAMS) {
			snprintf(why, why_size, "more than %d programs", ENFORCER_MAX_PROGRAMS);
			return -E2BIG;
		}
		if (enforcer_cgroup_program(prog) && !e->steering)
			continue;
		if (enforcer_cgroup_program(prog)) {
			int cg = open(e->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (cg < 0) {
				err = -errno;
				snprintf(why, why_size, "cannot open the cgroup root %.400s: %s",
					 e->cgroup_root, strerror(-err));
				return err;
			}
			link = bpf_program__attach_cgroup(prog, cg);
			close(cg);
		} else {
			link = bpf_program__attach(prog);
		}
		if (!link) {
			err = -errno;
			snprintf(why, why_size, "cannot attach %s: %s", bpf_program__name(prog),
				 strerror(-err));
			return err;
		}
		e->links[e->link_count++] = link;
		err = pins_path(pin_dir, PINS_LINKS, bpf_program__name(prog), path, sizeof(path));
		if (!err)
			err = bpf_link__pin(link, path);
		if (err) {
			snprintf(why, why_size, "cannot pin %.400s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Load, attach, then pin every map and link; the meta map last, which completes the set. */
static int create(struct enforcer *e, const struct enforcer_config *cfg, char *why,
		  size_t why_size)
{
	/* The object's own size (bpf/maps.h) unless asked otherwise. */
	uint64_t events_bytes = cfg->events_bytes ? cfg->events_bytes
						  : bpf_map__max_entries(e->skel->maps.events);
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	err = bpf_map__set_max_entries(e->skel->maps.events, (__u32)events_bytes);
	if (err) {
		snprintf(why, why_size, "ring buffer size %llu: %s", (unsigned long long)events_bytes,
			 strerror(-err));
		return err;
	}
	err = actgate_bpf__load(e->skel);
	if (err) {
		snprintf(why, why_size,
			 "cannot load the BPF programs: %s (run with --verbose for the verifier log)",
			 strerror(-err));
		return err;
	}
	e->meta.abi_version = ACTGATE_ABI_VERSION;
	e->meta.daemon_tgid = (__u32)getpid();
	e->meta.created_ns = wall_ns();
	e->meta.events_bytes = events_bytes;
	err = enforcer_build_id(e->meta.build_id);
	if (err) {
		snprintf(why, why_size, "cannot hash the BPF object");
		return err;
	}
	/* Before the first attach: self-protection guards this process from the start. */
	err = enforcer_write_meta(e);
	if (err) {
		snprintf(why, why_size, "cannot write the meta map: %s", strerror(-err));
		return err;
	}
	if (mkdirat(e->pin_fd, PINS_MAPS, 0700) < 0 || mkdirat(e->pin_fd, PINS_LINKS, 0700) < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s/{maps,links}: %s", cfg->pin_dir,
			 strerror(-err));
		return err;
	}
	err = enforcer_attach_all(e, cfg->pin_dir, why, why_size);
	if (err)
		return err;
	bpf_object__for_each_map(map, e->skel->obj) {
		if (map == e->skel->maps.meta)
			continue;
		err = pins_path(cfg->pin_dir, PINS_MAPS, bpf_map__name(map), path, sizeof(path));
		if (!err)
			err = bpf_map__pin(map, path);
		if (err) {
			snprintf(why, why_size, "cannot pin %.400s: %s", path, strerror(-err));
			return err;
		}
	}
	err = pins_path(cfg->pin_dir, NULL, PINS_META, path, sizeof(path));
	if (!err)
		err = bpf_map__pin(e->skel->maps.meta, path);
	if (err)
		snprintf(why, why_size, "cannot pin %.400s: %s", path, strerror(-err));
	return err;
}


bool enforcer_cgroup_program(const struct bpf_program *prog)
{
	return bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
}

int enforcer_set_steering(struct enforcer *e, uint32_t ip4, uint16_t port)
{
	struct actgate_steer_conf conf = { .resolver_ip4 = ip4, .resolver_port = port,
					   .enabled = ip4 != 0 };
	__u32 zero = 0;
	int err;

	if (ip4 && !e->steering) {
		log_error("bpf", "the resolver's address cannot be given to the kernel: the DNS "
				 "steering programs are not attached (a bug: the daemon attaches "
				 "them when it runs a resolver)");
		return -EPROTO;
	}
	err = bpf_map__update_elem(e->skel->maps.resolver_steer, &zero, sizeof(zero), &conf,
				   sizeof(conf), BPF_ANY);
	if (err)
		log_error("bpf", "cannot write where the resolver listens: %s", strerror(-err));
	return err;
}

int enforcer_start(struct enforcer *e, const struct enforcer_config *cfg,
		   record_handler_fn handler, void *handler_ctx)
{
	char why[1024] = "";
	int err;

	memset(e, 0, sizeof(*e));
	e->pin_fd = -1;
	e->events_fd = -1;
	e->handler = handler;
	e->handler_ctx = handler_ctx;
	snprintf(e->cgroup_root, sizeof(e->cgroup_root), "%s",
		 cfg->cgroup_root ? cfg->cgroup_root : "/sys/fs/cgroup");
	libbpf_verbose = cfg->verbose;
	libbpf_set_print(libbpf_print);

	err = pins_check_bpffs(cfg->pin_dir, why, sizeof(why));
	if (err) {
		log_error("bpf", "%s", why);
		goto fail;
	}
	err = pins_lock(cfg->pin_dir, &e->pin_fd, why, sizeof(why));
	if (err) {
		log_error("bpf", "%s", why);
		goto fail;
	}
	e->skel = actgate_bpf__open();
	if (!e->skel) {
		err = -errno;
		log_error("bpf", "cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	err = size_rule_maps(e->skel);
	if (err) {
		log_error("bpf", "cannot size the rule maps: %s", strerror(-err));
		goto fail;
	}
	/* An interrupted upgrade's staging set enforces too: never adopted, removed first. */
	err = pins_remove_staging(cfg->pin_dir, why, sizeof(why));
	if (err < 0) {
		log_error("bpf", "%s", why);
		goto fail;
	}
	if (err > 0)
		log_warn("bpf", "removed %s%s, the staging set of an upgrade that did not finish",
			 cfg->pin_dir, PINS_STAGING_SUFFIX);
	if (pins_complete(cfg->pin_dir)) {
		err = adopt(e, cfg, why, sizeof(why));
		if (err == ENFORCER_NO_STEERING)
			log_info("bpf", "a resolver is configured and the pins at %s hold no DNS "
					"steering programs: replacing them with a set that does, "
					"make-before-break as in an upgrade", cfg->pin_dir);
		if (err == ENFORCER_OTHER_BUILD || err == ENFORCER_NO_STEERING) {
			struct actgate_meta previous = e->meta;

			e->steering = cfg->steering;
			err = enforcer_upgrade(e, cfg, &previous, why, sizeof(why));
			if (err) {
				log_error("bpf",
					  "cannot upgrade the pins at %s to this BPF build: %s. The "
					  "previous build's programs stay attached and keep enforcing "
					  "what they held; none of this build's stays attached",
					  cfg->pin_dir, why);
				goto fail;
			}
			e->upgraded = true;
		} else if (err) {
			log_error("bpf",
				  "cannot adopt the pins at %s: %s. They stay, and keep enforcing "
				  "what they held. To replace them, stop enforcement with `actgate "
				  "detach --pin-dir %s` (nothing is enforced until actgated starts "
				  "again), then start actgated",
				  cfg->pin_dir, why, cfg->pin_dir);
			goto fail;
		}
		e->adopted = true;
		err = enforcer_set_daemon(e, (uint32_t)getpid());
		if (err)
			goto fail;
		err = enforcer_recount_workload_keys(e);
		if (err)
			log_warn("bpf", "cannot recount the workloads per bucket (%s): stale counts "
				 "cost lookups, not decisions", strerror(-err));
	} else {
		/* A set whose creation never finished (no meta pin) is not ours to keep. */
		err = pins_clear(e->pin_fd, why, sizeof(why));
		if (err) {
			log_error("bpf", "cannot remove an unfinished pin set in %s: %s",
				  cfg->pin_dir, why);
			goto fail;
		}
		e->steering = cfg->steering;
		err = create(e, cfg, why, sizeof(why));
		if (err) {
			log_error("bpf", "%s", why);
			/* Unpinned, the links go with this process: nothing stays attached. */
			pins_clear(e->pin_fd, why, sizeof(why));
			goto fail;
		}
	}
	err = map_events(e);
	if (err)
		goto fail;
	return 0;
fail:
	enforcer_stop(e);
	return err;
}

int enforcer_events_fd(const struct enforcer *e)
{
	return e->events_fd;
}

/* A record's length word: busy while the program writes it, discarded if it gave up. */
#define RINGBUF_BUSY_BIT (1u << 31)
#define RINGBUF_DISCARD_BIT (1u << 30)
#define RINGBUF_HDR_SZ 8

/* FNV-1a over a decision's bytes, without its time and overlap byte. */
static uint64_t decision_hash(const struct actgate_decision *rec, size_t size)
{
	struct actgate_decision fixed;
	const uint8_t *p = (const uint8_t *)&fixed;
	uint64_t h = 0xcbf29ce484222325ull;

	memcpy(&fixed, rec, ACTGATE_DECISION_FIXED_SIZE);
	fixed.hdr.time_boot_ns = 0;
	fixed.overlap = 0;
	for (size_t i = 0; i < ACTGATE_DECISION_FIXED_SIZE; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	p = (const uint8_t *)rec->target_path;
	for (size_t i = 0; i < size - ACTGATE_DECISION_FIXED_SIZE; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/*
 * Is rec the upgrade overlap's second record of a decision? During the
 * overlap both builds' programs run on every hook, in the same thread, one
 * right after the other (the kernel runs the most recently attached first,
 * on 6.1 and 6.12: this build's): a record of one build (overlap set: this
 * one; clear: the previous) of the decision the thread's previous record,
 * of the other build, already holds is that decision again. A thread's
 * previous record lost to a slot another thread took only costs a
 * duplicate journaled, never a record.
 */
static bool overlap_duplicate(struct enforcer *e, const struct actgate_decision *rec, size_t size)
{
	struct enforcer_dedup *d = &e->dedup[rec->pid % ENFORCER_DEDUP_SLOTS];
	uint64_t h;

	if (rec->hdr.time_boot_ns > e->overlap_end_ns)
		return false;
	h = decision_hash(rec, size);
	if (d->used && d->overlap != rec->overlap && d->pid == rec->pid && d->hash == h) {
		d->used = false; /* one twin each */
		return true;
	}
	*d = (struct enforcer_dedup){ .pid = rec->pid, .used = true, .overlap = rec->overlap,
				      .hash = h };
	return false;
}

/*
 * The record of size bytes at data offset off (its header, 8 bytes at an
 * 8-byte boundary, never wraps): in place, or copied whole into e->wrapped
 * when it runs past the data's end. NULL when that copy cannot be made.
 */
static const struct actgate_decision *record_at(struct enforcer *e, size_t off, uint32_t size)
{
	size_t body = off + RINGBUF_HDR_SZ, first;

	body &= e->events_size - 1;
	if (body + size <= e->events_size)
		return (const void *)(e->data + body);
	if (size > e->wrapped_cap) {
		size_t cap = e->wrapped_cap ? e->wrapped_cap : 4096;
		uint8_t *p;

		while (cap < size)
			cap *= 2;
		p = realloc(e->wrapped, cap);
		if (!p)
			return NULL;
		e->wrapped = p;
		e->wrapped_cap = cap;
	}
	first = e->events_size - body;
	memcpy(e->wrapped, e->data + body, first);
	memcpy(e->wrapped + first, e->data, size - first);
	return (const void *)e->wrapped;
}

int enforcer_drain(struct enforcer *e)
{
	uint64_t prod;
	int handled = 0;

	/* The same protocol as libbpf's ringbuf_process_ring, without moving the consumer. */
	for (;;) {
		bool progress = false;

		prod = __atomic_load_n(e->producer_pos, __ATOMIC_ACQUIRE);
		while (e->read_pos < prod) {
			size_t off = e->read_pos & (e->events_size - 1);
			const uint8_t *hdr = e->data + off;
			uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
			uint32_t size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
			const struct actgate_decision *rec;

			if (len & RINGBUF_BUSY_BIT)
				return handled; /* being written: the next drain takes it */
			progress = true;
			e->read_pos += ((uint64_t)size + RINGBUF_HDR_SZ + 7) / 8 * 8;
			if (len & RINGBUF_DISCARD_BIT)
				continue;
			rec = size <= e->events_size ? record_at(e, off, size) : NULL;
			if (!rec) {
				log_warn("bpf", "skipping a record of %u bytes: no memory to read it whole",
					 size);
				continue;
			}
			if (size < ACTGATE_DECISION_FIXED_SIZE ||
			    rec->hdr.abi_version != ACTGATE_ABI_VERSION ||
			    rec->hdr.type != ACTGATE_RECORD_DECISION) {
				log_warn("bpf", "skipping a record of %u bytes with an unknown layout",
					 size);
				continue;
			}
			if (e->dedup && overlap_duplicate(e, rec, size)) {
				e->overlap_duplicates++;
				continue;
			}
			handled++;
			if (e->handler(rec, size, e->handler_ctx))
				return handled;
		}
		if (!progress)
			return handled;
	}
}

void enforcer_commit(struct enforcer *e)
{
	__atomic_store_n(e->consumer_pos, e->read_pos, __ATOMIC_RELEASE);
}

/* out[k] = the sum over CPUs of map's value at key k, for k < n (a per-CPU array of __u64). */
static int sum_percpu(const struct bpf_map *map, uint32_t n, uint64_t *out)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *per_cpu;
	int err = 0;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t key = 0; key < n; key++) {
		out[key] = 0;
		err = bpf_map__lookup_elem(map, &key, sizeof(key), per_cpu,
					   sizeof(*per_cpu) * (size_t)ncpus, 0);
		if (err)
			break;
		for (int cpu = 0; cpu < ncpus; cpu++)
			out[key] += per_cpu[cpu];
	}
	free(per_cpu);
	return err;
}

int enforcer_dropped(const struct enforcer *e, uint64_t dropped[ACTGATE_NR_ACTIONS])
{
	return sum_percpu(e->skel->maps.dropped, ACTGATE_NR_ACTIONS, dropped);
}

int enforcer_read_failures(const struct enforcer *e, uint64_t counts[ACTGATE_NR_FAILURES])
{
	return sum_percpu(e->skel->maps.failures, ACTGATE_NR_FAILURES, counts);
}

const char *enforcer_failure_name(unsigned int failure)
{
	static const char *const names[ACTGATE_NR_FAILURES] = {
		[ACTGATE_FAILURE_TASK_MARK] = "task-mark",
		[ACTGATE_FAILURE_CHILD_MARK] = "child-mark",
		[ACTGATE_FAILURE_RECORD_SLOT] = "record-slot",
		[ACTGATE_FAILURE_ADDRESS_READ] = "address-read",
		[ACTGATE_FAILURE_NAME_READ] = "name-read",
		[ACTGATE_FAILURE_WRITTEN_MARK] = "written-mark",
		[ACTGATE_FAILURE_UNRECORDED] = "unrecorded-denied",
	};

	return failure < ACTGATE_NR_FAILURES ? names[failure] : NULL;
}

void enforcer_stop(struct enforcer *e)
{
	unmap_events(e);
	free(e->dedup);
	/* Closing a pinned link's descriptor leaves it attached: the pin holds it. */
	for (size_t i = 0; i < e->link_count; i++)
		bpf_link__destroy(e->links[i]);
	actgate_bpf__destroy(e->skel);
	if (e->pin_fd >= 0)
		close(e->pin_fd);
	memset(e, 0, sizeof(*e));
	e->pin_fd = -1;
	e->events_fd = -1;
}
