/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Whole writes, sends and reads: the loops that retry after EINTR and a short
 * transfer, written once.
 */
#ifndef ACTGATE_UTIL_IO_H
#define ACTGATE_UTIL_IO_H

#include <stddef.h>

/*
 * Write all len bytes. 0, or -errno (-EIO when write returned 0); *written
 * (when not NULL) says how much went out either way, so that a caller can cut
 * a partial record off again.
 */
int write_all(int fd, const void *buf, size_t len, size_t *written);

/* Send all len bytes on a socket, without SIGPIPE. 0 or -errno. */
int send_all(int fd, const void *buf, size_t len);

/*
 * Read until len bytes or the end of the file. 0 with *got (less than len at
 * the end of the file), or -errno.
 */
int read_full(int fd, void *buf, size_t len, size_t *got);

/*
 * Replace dir/name by text: a temporary file (mode 0600), synced, renamed
 * into place, the directory synced; dir (its last component, mode 0700) is
 * created if missing. After a crash the name holds the old file or the whole
 * new one. 0, or -errno with the reason in why.
 */
int write_file_atomic(const char *dir, const char *name, const char *text, size_t len,
		      char *why, size_t why_size);

#endif /* ACTGATE_UTIL_IO_H */
