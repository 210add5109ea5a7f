/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The verb status (`actgate status`): the generation in force, the
 * journal, the drop counts, the pins and state, and every workload with its
 * policies, labels and the signals its policies read.
 */
#ifndef ACTGATE_DAEMON_STATUS_H
#define ACTGATE_DAEMON_STATUS_H

#include "daemon/runtime.h"
#include "util/json.h"

/* The verb status (keys checked by verbs.c). */
void status_verb(struct daemon *d, int fd, const struct json_msg *msg);

/*
 * One line of what the daemon enforces, for systemd's STATUS= and the log:
 * "generation 3: 2 policies, 1 workload", or that it governs nothing.
 */
void status_line(const struct daemon *d, char *buf, size_t size);

#endif /* ACTGATE_DAEMON_STATUS_H */
