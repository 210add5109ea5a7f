/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The export cursor: a small text file, replaced whole (util/io.h's
 * write_file_atomic: synced, renamed, the directory synced), so that after a
 * crash it holds the last position saved or the one before, never half of
 * one:
 *
 *   actgate-export-cursor 1
 *   sink SPEC
 *   seq N
 *   segment N
 *   offset N
 *   exported N
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/export.h"
#include "util/io.h"

#define CURSOR_MAX 2048

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int jexport_cursor_load(const char *path, struct jexport_cursor *c, char *why, size_t why_size)
{
	char buf[CURSOR_MAX + 1], *line, *save = NULL;
	unsigned seen = 0, lineno = 0;
	size_t got;
	int fd, err;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%s", strerror(-err));
		return err;
	}
	err = read_full(fd, buf, sizeof(buf), &got);
	close(fd);
	if (err) {
		snprintf(why, why_size, "%s", strerror(-err));
		return err;
	}
	if (got > CURSOR_MAX) {
		snprintf(why, why_size, "longer than %d bytes: not a cursor", CURSOR_MAX);
		return -EINVAL;
	}
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		static const char *const keys[] = { "seq", "segment", "offset", "exported" };
		uint64_t *fields[] = { &c->seq, &c->segment, &c->offset, &c->exported };
		char *sp = strchr(line, ' ');
		size_t k;

		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "actgate-export-cursor 1")) {
				snprintf(why, why_size, "line 1: expected \"actgate-export-cursor 1\"");
				return -EINVAL;
			}
			continue;
		}
		if (!sp) {
			snprintf(why, why_size, "line %u: expected KEY VALUE", lineno);
			return -EINVAL;
		}
		*sp++ = '\0';
		if (!strcmp(line, "sink")) {
			if (strlen(sp) >= sizeof(c->sink)) {
				snprintf(why, why_size, "line %u: sink too long", lineno);
				return -EINVAL;
			}
			snprintf(c->sink, sizeof(c->sink), "%s", sp);
			seen |= 1u << 4;
			continue;
		}
		for (k = 0; k < 4 && strcmp(line, keys[k]); k++)
			;
		if (k == 4) {
			snprintf(why, why_size, "line %u: unknown key \"%s\"", lineno, line);
			return -EINVAL;
		}
		if (parse_u64(sp, fields[k])) {
			snprintf(why, why_size, "line %u: %s: expected a number, found \"%s\"", lineno,
				 line, sp);
			return -EINVAL;
		}
		seen |= 1u << k;
	}
	if (seen != 0x1f) {
		snprintf(why, why_size, "incomplete: it needs sink, seq, segment, offset and exported");
		return -EINVAL;
	}
	return 0;
}

int jexport_cursor_save(const char *path, const struct jexport_cursor *c, char *why,
			size_t why_size)
{
	char text[CURSOR_MAX], *d = strdup(path), *n = strdup(path);
	int len, err;

	if (!d || !n) {
		free(d);
		free(n);
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	len = snprintf(text, sizeof(text),
		       "actgate-export-cursor 1\nsink %s\nseq %" PRIu64 "\nsegment %" PRIu64
		       "\noffset %" PRIu64 "\nexported %" PRIu64 "\n",
		       c->sink, c->seq, c->segment, c->offset, c->exported);
	err = write_file_atomic(dirname(d), basename(n), text, (size_t)len, why, why_size);
	free(d);
	free(n);
	return err;
}
