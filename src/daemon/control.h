/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The control protocol: one JSON object per line each way (the CLI's side
 * is cli/client.c). Every reply carries "ok"; a refusal carries "error" with
 * a message. These are the one way the daemon's verbs build replies and
 * check a request's keys; which verbs there are, and what each may be sent,
 * is the table in verbs.c.
 */
#ifndef ACTGATE_DAEMON_CONTROL_H
#define ACTGATE_DAEMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/json.h"

/* Start a reply that says "ok":true; add its fields, then control_reply_send. */
void control_reply_ok(struct json_out *j);

/* End the reply, send it as one line and free it. 0 or -errno. */
int control_reply_send(int fd, struct json_out *j);

/* Send {"ok":false,"error":MESSAGE} (the message is cut at 1023 bytes). 0 or -errno. */
int control_reply_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A key that is neither "verb" nor in allowed (NULL-terminated; NULL: none)
 * is refused: a misspelt option must not pass unnoticed. -EINVAL with
 * 'unknown key "KEY"' in why.
 */
int control_check_keys(const struct json_msg *msg, const char *const *allowed, char *why,
		       size_t why_size);

/* The string value of key (NULL when absent); *bad is set when it is there but not a string. */
const char *control_string(const struct json_msg *msg, const char *key, bool *bad);

/* A number inside a nested object: those carry strings only (json.h), so its text. */
void control_add_count(struct json_out *j, const char *key, uint64_t value);

#endif /* ACTGATE_DAEMON_CONTROL_H */
