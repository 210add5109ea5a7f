/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/control.h"
#include "util/io.h"

void control_reply_ok(struct json_out *j)
{
	json_out_init(j);
	json_object_begin(j);
	json_add_bool(j, "ok", true);
}

int control_reply_send(int fd, struct json_out *j)
{
	int err;

	json_object_end(j);
	err = j->error;
	/* One line per reply; the client reads up to '\n'. */
	if (!err && !j->buf)
		err = -EINVAL;
	if (!err)
		err = send_all(fd, j->buf, j->len);
	if (!err)
		err = send_all(fd, "\n", 1);
	json_out_free(j);
	return err;
}

int control_reply_error(int fd, const char *fmt, ...)
{
	struct json_out j;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "ok", false);
	json_add_string(&j, "error", msg);
	return control_reply_send(fd, &j);
}

int control_check_keys(const struct json_msg *msg, const char *const *allowed, char *why,
		       size_t why_size)
{
	for (size_t i = 0; i < msg->count; i++) {
		const char *key = msg->members[i].key;
		const char *const *k = allowed;

		while (k && *k && strcmp(*k, key))
			k++;
		if (strcmp(key, "verb") && !(k && *k)) {
			snprintf(why, why_size, "unknown key \"%.64s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

const char *control_string(const struct json_msg *msg, const char *key, bool *bad)
{
	const struct json_member *m = json_msg_get(msg, key);

	if (m && m->type != JSON_MSG_STRING)
		*bad = true;
	return m && m->type == JSON_MSG_STRING ? m->value : NULL;
}

void control_add_count(struct json_out *j, const char *key, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	json_add_string(j, key, text);
}
