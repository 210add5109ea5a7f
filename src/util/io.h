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

#endif /* ACTGATE_UTIL_IO_H */
