/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Sinks by their spec (journal/export.h, docs/fleet.md "Sinks"), and the file sink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal/export.h"
#include "util/io.h"

char *jexport_spec_param(const char *params, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = params; p && *p; ) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return strndup(p + klen + 1, len - klen - 1);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int jexport_sink_open(const char *spec, const struct jocsf_host *host, uint64_t offset,
		      struct jexport_sink **out, char *why, size_t why_size)
{
	int err;

	*out = NULL;
	if (!strcmp(spec, "stdout"))
		err = jexport_sink_file_open(NULL, true, offset, out, why, why_size);
	else if (!strncmp(spec, "file:", 5) && spec[5])
		err = jexport_sink_file_open(spec + 5, false, offset, out, why, why_size);
	else if (!strncmp(spec, "syslog+", 7))
		err = jexport_sink_syslog_open(spec, out, why, why_size);
	else if (!strncmp(spec, "otlp+", 5))
		err = jexport_sink_otlp_open(spec, out, why, why_size);
	else {
		snprintf(why, why_size,
			 "expected stdout, file:PATH, syslog+unix:PATH, syslog+tcp://HOST:PORT, "
			 "syslog+tls://HOST:PORT?ca=FILE or otlp+http(s)://HOST:PORT/PATH");
		err = -EINVAL;
	}
	if (!err)
		(*out)->host = host;
	return err;
}

void jexport_sink_close(struct jexport_sink *s)
{
	if (s)
		s->ops->close(s);
}

/* ---- file and stdout ---- */

struct file_sink {
	struct jexport_sink base;
	int fd;
	bool is_stdout;
};

/*
 * Lines written, then synced: only then is the batch accepted and the
 * length kept in the cursor. What a crash left after that length was never
 * accepted, and is cut off when the sink is opened again (exactly once).
 */
static int file_send(struct jexport_sink *s, const struct jexport_event *ev, size_t n, char *why,
		     size_t why_size)
{
	struct file_sink *f = (struct file_sink *)s;
	size_t total = 0, written = 0;
	char *buf, *p;
	int err;

	for (size_t i = 0; i < n; i++)
		total += ev[i].len + 1;
	buf = malloc(total ? total : 1);
	if (!buf) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0, off = 0; i < n; i++) {
		memcpy(buf + off, ev[i].text, ev[i].len);
		off += ev[i].len;
		buf[off++] = '\n';
	}
	p = buf;
	err = write_all(f->fd, p, total, &written);
	free(buf);
	if (!err && !f->is_stdout && fdatasync(f->fd) < 0)
		err = -errno;
	if (err) {
		snprintf(why, why_size, "writing: %s", strerror(-err));
		/* Cut back what went out: the batch is sent again whole. */
		if (!f->is_stdout && ftruncate(f->fd, (off_t)s->offset) == 0)
			(void)lseek(f->fd, (off_t)s->offset, SEEK_SET);
		return err;
	}
	s->offset += total;
	return 0;
}

static void file_close(struct jexport_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (!f->is_stdout)
		close(f->fd);
	free(f);
}

static const struct jexport_sink_ops file_ops = { "file", file_send, file_close };

int jexport_sink_file_open(const char *path, bool is_stdout, uint64_t offset,
			   struct jexport_sink **out, char *why, size_t why_size)
{
	struct file_sink *f = calloc(1, sizeof(*f));
	struct stat st;
	int err;

	if (!f) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	f->base.ops = &file_ops;
	f->is_stdout = is_stdout;
	if (is_stdout) {
		f->fd = STDOUT_FILENO;
		*out = &f->base;
		return 0;
	}
	f->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		snprintf(why, why_size, "%s: not a regular file (use stdout for a pipe)", path);
		goto fail;
	}
	/*
	 * Shorter than the cursor says: somebody else cut or replaced it; what
	 * the cursor counts as delivered is not there, and writing on would
	 * hide that.
	 */
	if ((uint64_t)st.st_size < offset) {
		err = -ESTALE;
		snprintf(why, why_size,
			 "%s: %lld bytes, shorter than the %llu the cursor says were delivered "
			 "(truncated or replaced by someone else: remove the cursor to start over)",
			 path, (long long)st.st_size, (unsigned long long)offset);
		goto fail;
	}
	if ((uint64_t)st.st_size > offset && ftruncate(f->fd, (off_t)offset) < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: cutting what was not acknowledged: %s", path,
			 strerror(-err));
		goto fail;
	}
	if (lseek(f->fd, (off_t)offset, SEEK_SET) < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto fail;
	}
	f->base.offset = offset;
	f->base.exactly_once = true;
	*out = &f->base;
	return 0;
fail:
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return err;
}
