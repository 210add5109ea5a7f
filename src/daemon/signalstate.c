/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The signals, revocations and grants that outlive the daemon (signalstate.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/revocation.h"
#include "daemon/signalstate.h"
#include "identity/workload.h"
#include "signals/grants.h"
#include "util/clock.h"
#include "util/io.h"

#define SIGNAL_FIELDS 8     /* "signal" and seven values */
#define REVOCATION_FIELDS 5 /* "revocation" and four values */
#define GRANT_FIELDS 8      /* "grant" and seven values */
#define GRANT_KEY_HEX (2 * sizeof(struct actgate_grant_key))
#define MAX_FIELDS 8

/* A boot-clock time as wall-clock time, by the offset between the two now. */
static uint64_t boot_to_wall(uint64_t boot, uint64_t now_boot, uint64_t now_wall)
{
	return boot >= now_boot ? now_wall + (boot - now_boot) : now_wall - (now_boot - boot);
}

int signalstate_save(const struct signalctl *s, const char *dir, char *why, size_t why_size)
{
	uint64_t now_boot = boot_ns(), now_wall = wall_ns();
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	mem = open_memstream(&text, &len);
	if (!mem) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	fprintf(mem, "%s\n", SIGNALSTATE_MAGIC);
	for (size_t i = 0; i < s->store.count; i++) {
		const struct signal *sg = &s->store.items[i];

		if (sg->expires_ns && sg->expires_ns <= now_boot)
			continue; /* expired: the next tick removes it */
		fprintf(mem, "signal\t%s\t%s\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\n",
			signal_scope_name(sg->scope), sg->subject ? sg->subject : "", sg->name,
			sg->value, sg->source, boot_to_wall(sg->set_ns, now_boot, now_wall),
			sg->expires_ns ? boot_to_wall(sg->expires_ns, now_boot, now_wall) : 0);
	}
	for (size_t i = 0; i < s->revoked_count; i++) {
		const struct signalctl_revocation *r = &s->revoked[i];

		fprintf(mem, "revocation\t%s\t%s\t%s\t%" PRIu64 "\n", signal_scope_name(r->scope),
			r->subject, r->reason, boot_to_wall(r->at_boot_ns, now_boot, now_wall));
	}
	fprintf(mem, "grant-ids\t%" PRIu32 "\n", s->next_grant_id);
	for (size_t i = 0; i < s->grant_count; i++) {
		const struct signalctl_grant *g = &s->grants[i];
		const uint8_t *key = (const uint8_t *)&g->key;

		fprintf(mem, "grant\t%" PRIu32 "\t%" PRIu64 "\t%s\t", g->id, g->workload_id,
			g->workload);
		for (size_t k = 0; k < sizeof(g->key); k++)
			fprintf(mem, "%02x", key[k]);
		/* 0: no expiry of its own (GRANT_NEVER has no wall-clock time). */
		fprintf(mem, "\t%s\t%s\t%" PRIu64 "\n", g->target, g->reason,
			g->expires_boot_ns == GRANT_NEVER
				? 0
				: boot_to_wall(g->expires_boot_ns, now_boot, now_wall));
	}
	fprintf(mem, "end\n");
	if (fclose(mem) != 0) {
		free(text);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = write_file_atomic(dir, SIGNALSTATE_FILE_NAME, text, len, why, why_size);
	free(text);
	return err;
}

static int bad(char *why, size_t why_size, const char *name, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int bad(char *why, size_t why_size, const char *name, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(why, why_size, "%s:%u: %s", name, line, msg);
	return -EINVAL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* Split line (modified) at tabs into at most MAX_FIELDS fields; how many. */
static size_t split(char *line, char *fields[MAX_FIELDS + 1])
{
	size_t n = 0;

	fields[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p != '\t')
			continue;
		*p = '\0';
		if (n > MAX_FIELDS)
			return n;
		fields[n++] = p + 1;
	}
	return n;
}

static void drop_grants(struct signalctl *s)
{
	for (size_t i = 0; i < s->grant_count; i++)
		signalctl_grant_free(&s->grants[i]);
	free(s->grants);
	s->grants = NULL;
	s->grant_count = s->grant_cap = 0;
	s->next_grant_id = 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A grant's kernel key from its hex (as signalstate_save writes it). */
static bool parse_grant_key(const char *hex, struct actgate_grant_key *key)
{
	uint8_t *out = (uint8_t *)key;

	if (strlen(hex) != GRANT_KEY_HEX)
		return false;
	for (size_t i = 0; i < sizeof(*key); i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A grant's target as the list shows it: printable, and as long as a parsed one can be. */
static bool plain_target(const char *t)
{
	size_t len = strlen(t);

	if (!len || len >= sizeof(((struct grant_target *)0)->text))
		return false;
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return false;
	return true;
}

static int parse_grant(struct signalctl *s, char **f, const char *name, unsigned lineno,
		       uint64_t now_wall, uint64_t now_boot, char *why, size_t why_size)
{
	struct signalctl_grant g = { 0 }, *grown;
	uint64_t id, expires_wall;
	char check[512];

	if (!parse_u64(f[1], &id) || id == 0 || id > UINT32_MAX || id > s->next_grant_id)
		return bad(why, why_size, name, lineno, "grant id \"%.20s\" is not a number from 1 "
							"to grant-ids", f[1]);
	if (!parse_u64(f[2], &g.workload_id) || g.workload_id == 0)
		return bad(why, why_size, name, lineno, "a grant's workload id is not a positive number");
	if (workload_name_check(f[3], check, sizeof(check)))
		return bad(why, why_size, name, lineno, "%s", check);
	if (!parse_grant_key(f[4], &g.key))
		return bad(why, why_size, name, lineno, "a grant's key is not %zu hex digits",
			   GRANT_KEY_HEX);
	if (g.key.workload_id != g.workload_id ||
	    (g.key.action != ACTGATE_ACTION_EXEC && g.key.action != ACTGATE_ACTION_OPEN &&
	     g.key.action != ACTGATE_ACTION_CONNECT) ||
	    (g.key.kind != ACTGATE_GRANT_INODE && g.key.kind != ACTGATE_GRANT_NET))
		return bad(why, why_size, name, lineno, "a grant's key does not name its workload, "
							"an action and a kind of target");
	if (!plain_target(f[5]))
		return bad(why, why_size, name, lineno, "a grant's target is empty, too long or has "
							"a control character");
	if (grant_reason_check(f[6], check, sizeof(check)))
		return bad(why, why_size, name, lineno, "%s", check);
	if (!parse_u64(f[7], &expires_wall))
		return bad(why, why_size, name, lineno, "a time is not a number");
	for (size_t i = 0; i < s->grant_count; i++)
		if (s->grants[i].id == id)
			return bad(why, why_size, name, lineno, "grant %" PRIu64 " is there twice", id);
	/*
	 * On the boot clock the kernel compares; an expiry that passed keeps
	 * a time that passed (an expired grant is never made live again).
	 */
	if (expires_wall == 0)
		g.expires_boot_ns = GRANT_NEVER;
	else if (expires_wall >= now_wall)
		g.expires_boot_ns = now_boot + (expires_wall - now_wall);
	else if (now_wall - expires_wall < now_boot)
		g.expires_boot_ns = now_boot - (now_wall - expires_wall);
	else
		g.expires_boot_ns = 1;
	if (s->grant_count == SIGNALCTL_MAX_GRANTS)
		return bad(why, why_size, name, lineno, "more than %d grants", SIGNALCTL_MAX_GRANTS);
	if (s->grant_count == s->grant_cap) {
		size_t cap = s->grant_cap ? 2 * s->grant_cap : 16;

		grown = realloc(s->grants, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->grants = grown;
		s->grant_cap = cap;
	}
	g.id = (uint32_t)id;
	g.workload = strdup(f[3]);
	g.target = strdup(f[5]);
	g.reason = strdup(f[6]);
	if (!g.workload || !g.target || !g.reason) {
		signalctl_grant_free(&g);
		return -ENOMEM;
	}
	s->grants[s->grant_count++] = g;
	return 0;
}

static void drop_revocations(struct signalctl *s)
{
	for (size_t i = 0; i < s->revoked_count; i++) {
		free(s->revoked[i].subject);
		free(s->revoked[i].reason);
	}
	free(s->revoked);
	s->revoked = NULL;
	s->revoked_count = s->revoked_cap = 0;
}

static int parse_line(struct signalctl *s, char *line, const char *name, unsigned lineno,
		      uint64_t now_wall, uint64_t now_boot, char *why, size_t why_size)
{
	char *f[MAX_FIELDS + 1], check[512];
	size_t n = split(line, f);
	enum signal_scope scope;
	uint64_t set_wall, expires_wall, at_wall;
	int err;

	if (!strcmp(f[0], "signal")) {
		if (n != SIGNAL_FIELDS)
			return bad(why, why_size, name, lineno, "a signal has %d fields, not %zu",
				   SIGNAL_FIELDS, n);
		if (signal_scope_parse(f[1], &scope))
			return bad(why, why_size, name, lineno, "unknown scope");
		if (signal_check(scope, scope == SIGNAL_HOST && !*f[2] ? NULL : f[2], f[3], f[4], f[5],
				 check, sizeof(check)))
			return bad(why, why_size, name, lineno, "%s", check);
		if (!parse_u64(f[6], &set_wall) || !parse_u64(f[7], &expires_wall))
			return bad(why, why_size, name, lineno, "a time is not a number");
		if (expires_wall && expires_wall <= now_wall)
			return 0; /* expired while no daemon ran */
		err = signal_store_set(&s->store, scope, scope == SIGNAL_HOST ? NULL : f[2], f[3], f[4],
				       f[5], expires_wall ? expires_wall - now_wall : 0, now_boot,
				       check, sizeof(check));
		if (err == -ENOMEM)
			return err;
		if (err < 0)
			return bad(why, why_size, name, lineno, "%s", check);
		return 0;
	}
	if (!strcmp(f[0], "revocation")) {
		if (n != REVOCATION_FIELDS)
			return bad(why, why_size, name, lineno, "a revocation has %d fields, not %zu",
				   REVOCATION_FIELDS, n);
		if (signal_scope_parse(f[1], &scope) || scope == SIGNAL_HOST)
			return bad(why, why_size, name, lineno, "a revocation's scope is workload or "
								"principal");
		if ((scope == SIGNAL_WORKLOAD ? workload_name_check(f[2], check, sizeof(check))
					      : workload_principal_check(f[2], check, sizeof(check))) ||
		    grant_reason_check(f[3], check, sizeof(check)))
			return bad(why, why_size, name, lineno, "%s", check);
		if (!parse_u64(f[4], &at_wall))
			return bad(why, why_size, name, lineno, "a time is not a number");
		for (size_t i = 0; i < s->revoked_count; i++)
			if (s->revoked[i].scope == scope && !strcmp(s->revoked[i].subject, f[2]))
				return bad(why, why_size, name, lineno, "%s %s is revoked twice",
					   f[1], f[2]);
		/* Its age only: a time before this boot reads as the boot's start. */
		return revocation_append(s, scope, f[2], f[3],
					 at_wall <= now_wall && now_wall - at_wall < now_boot
						 ? now_boot - (now_wall - at_wall) : 0);
	}
	if (!strcmp(f[0], "grant-ids")) {
		uint64_t last;

		if (n != 2 || !parse_u64(f[1], &last) || last > UINT32_MAX)
			return bad(why, why_size, name, lineno, "grant-ids takes one number");
		if (s->next_grant_id || s->grant_count)
			return bad(why, why_size, name, lineno, "grant-ids comes once, before the grants");
		s->next_grant_id = (uint32_t)last;
		return 0;
	}
	if (!strcmp(f[0], "grant")) {
		if (n != GRANT_FIELDS)
			return bad(why, why_size, name, lineno, "a grant has %d fields, not %zu",
				   GRANT_FIELDS, n);
		return parse_grant(s, f, name, lineno, now_wall, now_boot, why, why_size);
	}
	return bad(why, why_size, name, lineno, "unknown item '%.32s'", f[0]);
}

int signalstate_parse(struct signalctl *s, const char *text, size_t len, const char *name,
		      uint64_t now_wall_ns, uint64_t now_boot_ns, char *why, size_t why_size)
{
	char *copy = NULL, *line, *next;
	unsigned lineno = 1;
	bool ended = false, version1;
	int err = 0;

	if (s->store.count || s->revoked_count || s->grant_count)
		return -EBUSY; /* loaded into an empty state only */
	if (memchr(text, '\0', len))
		return bad(why, why_size, name, 1, "a NUL byte");
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	line = copy;
	next = strchr(line, '\n');
	/* Both magics have one length; a version 1 file has no grant lines, and none is read. */
	version1 = next && (size_t)(next - line) == strlen(SIGNALSTATE_MAGIC_V1) &&
		   !strncmp(line, SIGNALSTATE_MAGIC_V1, strlen(SIGNALSTATE_MAGIC_V1));
	if (!version1 && (!next || (size_t)(next - line) != strlen(SIGNALSTATE_MAGIC) ||
			  strncmp(line, SIGNALSTATE_MAGIC, strlen(SIGNALSTATE_MAGIC)))) {
		err = bad(why, why_size, name, 1, "not an actgate signals file (\"%s\" expected)",
			  SIGNALSTATE_MAGIC);
		goto out;
	}
	for (line = next + 1; *line; line = next + 1) {
		lineno++;
		next = strchr(line, '\n');
		if (!next) {
			err = bad(why, why_size, name, lineno, "the last line is cut short");
			goto out;
		}
		*next = '\0';
		if (ended) {
			err = bad(why, why_size, name, lineno, "text after \"end\"");
			goto out;
		}
		if (!strcmp(line, "end")) {
			ended = true;
			continue;
		}
		if (version1 && !strncmp(line, "grant", 5)) {
			err = bad(why, why_size, name, lineno, "a version 1 file has no grants");
			goto out;
		}
		err = parse_line(s, line, name, lineno, now_wall_ns, now_boot_ns, why, why_size);
		if (err)
			goto out;
	}
	if (!ended)
		err = bad(why, why_size, name, lineno, "no \"end\": the file is cut short");
out:
	if (err) {
		signal_store_free(&s->store);
		drop_revocations(s);
		drop_grants(s);
		if (err == -ENOMEM)
			snprintf(why, why_size, "%s: out of memory", name);
	}
	free(copy);
	return err;
}

/* The file's bytes: a regular file, read whole (no size limit of a policy file's). */
static int read_state_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	int fd, err = 0;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		err = -ENOMEM;
		goto out;
	}
	err = read_full(fd, *text, (size_t)st.st_size, len);
out:
	close(fd);
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

int signalstate_load(struct signalctl *s, const char *dir, char *why, size_t why_size)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SIGNALSTATE_FILE_NAME) >= (int)sizeof(path)) {
		snprintf(why, why_size, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	err = read_state_file(path, &text, &len);
	if (err == -ENOENT)
		return err;
	if (err) {
		snprintf(why, why_size, "%s: %s", path,
			 err == -EINVAL ? "not a regular file" : strerror(-err));
		return err;
	}
	err = signalstate_parse(s, text, len, path, wall_ns(), boot_ns(), why, why_size);
	free(text);
	return err;
}
