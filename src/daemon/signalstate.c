/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The signals and revocations that outlive the daemon (signalstate.h). */
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
	return bad(why, why_size, name, lineno, "unknown item '%.32s'", f[0]);
}

int signalstate_parse(struct signalctl *s, const char *text, size_t len, const char *name,
		      uint64_t now_wall_ns, uint64_t now_boot_ns, char *why, size_t why_size)
{
	char *copy = NULL, *line, *next;
	unsigned lineno = 1;
	bool ended = false;
	int err = 0;

	if (s->store.count || s->revoked_count)
		return -EBUSY; /* loaded into an empty state only */
	if (memchr(text, '\0', len))
		return bad(why, why_size, name, 1, "a NUL byte");
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	line = copy;
	next = strchr(line, '\n');
	if (!next || (size_t)(next - line) != strlen(SIGNALSTATE_MAGIC) ||
	    strncmp(line, SIGNALSTATE_MAGIC, strlen(SIGNALSTATE_MAGIC))) {
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
