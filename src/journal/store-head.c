/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The store's head kept outside it (store.h, struct jstore_head): what the
 * writer last sealed and synced, the segments it knows of that are gone,
 * and the head file (docs/journal-store.md, "The kept head"):
 *
 *   actgate-journal-head 1
 *   seal N
 *   record SEQ
 *   segment S
 *   chain 64-HEX-DIGITS
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/store-internal.h"

#define HEAD_MAGIC "actgate-journal-head 1"

void jstore_head(const struct jstore *js, struct jstore_head *out)
{
	*out = js->synced_head;
}

/* Is the closed segment seq in the directory, plain or compressed? */
static bool segment_present(struct jstore *js, uint64_t seq)
{
	char name[SEG_NAME_MAX];
	struct stat st;

	jstore_seg_name(name, sizeof(name), seq, SEG_SUFFIX);
	if (fstatat(js->dirfd, name, &st, 0) == 0)
		return true;
	/* Compression renames the .gz into place before it removes the plain file. */
	jstore_seg_name(name, sizeof(name), seq, GZ_SUFFIX);
	return fstatat(js->dirfd, name, &st, 0) == 0;
}

int jstore_missing_segments(struct jstore *js, uint64_t *first)
{
	struct stat st;
	int missing = 0;

	*first = 0;
	for (size_t i = 0; i < js->n_segs; i++) {
		const struct seginfo *s = &js->segs[i];
		bool gone;

		if (s->state == SEG_ACTIVE && js->fd >= 0 && s->seq == js->seg_seq) {
			if (fstat(js->fd, &st) < 0)
				return -errno;
			gone = st.st_nlink == 0;
		} else {
			gone = !segment_present(js, s->seq);
		}
		if (gone && !missing++)
			*first = s->seq;
	}
	return missing;
}

int jstore_head_save(const char *path, const struct jstore_head *head)
{
	char tmp[PATH_MAX], text[JSTORE_HEAD_SIZE];
	int n, fd, err = 0;

	n = snprintf(text, sizeof(text),
		     HEAD_MAGIC "\nseal %" PRIu64 "\nrecord %" PRIu64 "\nsegment %" PRIu64
				"\nchain ",
		     head->seal, head->sealed_seq, head->segment);
	for (int i = 0; i < JSTORE_HASH_SIZE; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", head->chain[i]);
	n += snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int bad(char *why, size_t why_size, const char *path, const char *what)
{
	snprintf(why, why_size, "%s: %s", path, what);
	return -EINVAL;
}

int jstore_head_load(const char *path, struct jstore_head *head, char *why, size_t why_size)
{
	char text[JSTORE_HEAD_SIZE + 1], hex[2 * JSTORE_HASH_SIZE + 2], end;
	int fd, used = 0;
	ssize_t n;

	memset(head, 0, sizeof(*head));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return bad(why, why_size, path, strerror(errno));
	if (n > JSTORE_HEAD_SIZE)
		return bad(why, why_size, path, "longer than a head file");
	text[n] = '\0';
	if (sscanf(text,
		   HEAD_MAGIC "\nseal %" SCNu64 "\nrecord %" SCNu64 "\nsegment %" SCNu64
			      "\nchain %65s%n%c",
		   &head->seal, &head->sealed_seq, &head->segment, hex, &used, &end) != 5 ||
	    end != '\n' || text[used + 1] != '\0')
		return bad(why, why_size, path,
			   "not a journal head (\"" HEAD_MAGIC "\", then seal, record, segment "
			   "and chain lines)");
	if (strlen(hex) != 2 * JSTORE_HASH_SIZE)
		return bad(why, why_size, path, "the chain is not 64 hexadecimal digits");
	for (int i = 0; i < JSTORE_HASH_SIZE; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]))
			return bad(why, why_size, path, "the chain is not 64 hexadecimal digits");
		head->chain[i] = (uint8_t)v;
	}
	if (head->seal == 0)
		return bad(why, why_size, path, "seal 0: no seal to check against");
	return 0;
}
