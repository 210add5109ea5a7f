/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy.h"
#include "signals/grants.h"
#include "util/yamltree.h"

int grant_action_parse(const char *name, uint8_t *action)
{
	static const char *const names[] = { [ACTGATE_ACTION_EXEC] = "exec",
					     [ACTGATE_ACTION_OPEN] = "open",
					     [ACTGATE_ACTION_CONNECT] = "connect" };

	for (uint8_t a = ACTGATE_ACTION_EXEC; a <= ACTGATE_ACTION_CONNECT; a++) {
		if (name && !strcmp(name, names[a])) {
			*action = a;
			return 0;
		}
	}
	return -EINVAL;
}

static int resolve_file(uint8_t action, const char *text, path_resolver_fn resolve, void *ctx,
			struct grant_target *out, char *why, size_t why_size)
{
	struct path_rule rule = { 0 };
	struct resolved_path rp;
	char err[256];
	int ret;

	ret = policy_parse_path_target(text, strlen(text), &rule, err, sizeof(err));
	if (ret) {
		snprintf(why, why_size, "%s", err);
		return ret;
	}
	if (rule.subtree) {
		snprintf(why, why_size,
			 "a grant names one file, not a directory and what is below it (no trailing '/')");
		ret = -EINVAL;
		goto out;
	}
	ret = resolve(rule.path, &rp, ctx);
	if (ret) {
		snprintf(why, why_size, "%.1024s: %s", rule.path, strerror(-ret));
		goto out;
	}
	if (action == ACTGATE_ACTION_EXEC && rp.type != S_IFREG) {
		snprintf(why, why_size, "%.1024s: an exec grant needs a regular file", rule.path);
		ret = -EINVAL;
		goto out;
	}
	if (action == ACTGATE_ACTION_OPEN && rp.type == S_IFDIR) {
		snprintf(why, why_size,
			 "%.1024s: is a directory; a grant names one file, not what is below it",
			 rule.path);
		ret = -EINVAL;
		goto out;
	}
	if (action == ACTGATE_ACTION_CONNECT && rp.type != S_IFSOCK) {
		snprintf(why, why_size, "%.1024s: not a unix socket", rule.path);
		ret = -EINVAL;
		goto out;
	}
	out->key.kind = ACTGATE_GRANT_INODE;
	out->key.dev = rp.dev;
	out->key.ino = rp.ino;
	snprintf(out->text, sizeof(out->text), "%s%s",
		 action == ACTGATE_ACTION_CONNECT ? "unix:" : "", rule.path);
out:
	free(rule.path);
	return ret;
}

static int parse_address(const char *text, struct grant_target *out, char *why, size_t why_size)
{
	struct net_rule rule = { 0 };
	char err[256], addr[INET6_ADDRSTRLEN];
	bool v4;
	int ret;

	ret = policy_parse_net_target(text, &rule, err, sizeof(err));
	if (ret) {
		snprintf(why, why_size, "%s", err);
		return ret;
	}
	if (rule.prefix_len != 128) {
		snprintf(why, why_size, "a connect grant names one address, not a prefix");
		return -EINVAL;
	}
	if (rule.port_lo != rule.port_hi && !(rule.port_lo == 0 && rule.port_hi == 65535)) {
		snprintf(why, why_size, "a connect grant names one port (or none for every port)");
		return -EINVAL;
	}
	out->key.kind = ACTGATE_GRANT_NET;
	memcpy(out->key.addr, rule.addr, 16);
	out->key.port = rule.port_lo == rule.port_hi ? rule.port_lo : 0;
	v4 = !memcmp(rule.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? rule.addr + 12 : rule.addr, addr, sizeof(addr));
	if (out->key.port)
		snprintf(out->text, sizeof(out->text), v4 ? "%s:%u" : "[%s]:%u", addr,
			 out->key.port);
	else
		snprintf(out->text, sizeof(out->text), "%s", addr);
	return 0;
}

/* "github.com:443": one name (no wildcard), one port or none. */
static int parse_name(const char *text, struct grant_target *out, char *why, size_t why_size)
{
	struct name_rule rule = { 0 };
	char err[256];
	size_t at;
	int ret;

	ret = policy_parse_name_target(text, &rule, err, sizeof(err), &at);
	if (ret) {
		snprintf(why, why_size, "%s (at byte %zu)", err, at);
		return ret;
	}
	if (rule.wildcard) {
		snprintf(why, why_size, "a connect grant names one name, not a wildcard");
		ret = -EINVAL;
		goto out;
	}
	if (rule.port_lo != rule.port_hi && !(rule.port_lo == 0 && rule.port_hi == 65535)) {
		snprintf(why, why_size, "a connect grant names one port (or none for every port)");
		ret = -EINVAL;
		goto out;
	}
	snprintf(out->name, sizeof(out->name), "%s", rule.name);
	out->key.port = rule.port_lo == rule.port_hi ? rule.port_lo : 0;
	if (out->key.port)
		snprintf(out->text, sizeof(out->text), "%s:%u", rule.name, out->key.port);
	else
		snprintf(out->text, sizeof(out->text), "%s", rule.name);
out:
	free(rule.name);
	return ret;
}

int grant_target_parse(uint8_t action, const char *text, path_resolver_fn resolve,
		       void *resolve_ctx, struct grant_target *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof(*out));
	out->action = action;
	out->key.action = action;
	if (!text || !text[0]) {
		snprintf(why, why_size, "the target is empty");
		return -EINVAL;
	}
	switch (action) {
	case ACTGATE_ACTION_EXEC:
	case ACTGATE_ACTION_OPEN:
		return resolve_file(action, text, resolve, resolve_ctx, out, why, why_size);
	case ACTGATE_ACTION_CONNECT:
		if (!strncmp(text, "unix:", 5))
			return resolve_file(action, text + 5, resolve, resolve_ctx, out, why,
					    why_size);
		if (policy_target_is_name(text))
			return parse_name(text, out, why, why_size);
		return parse_address(text, out, why, why_size);
	default:
		snprintf(why, why_size, "grants are for exec, open or connect");
		return -EINVAL;
	}
}

int grant_parse_ms(const char *text, uint64_t max_ms, uint64_t *ns, char *why, size_t why_size)
{
	uint64_t v = 0;

	if (!text || !text[0]) {
		snprintf(why, why_size, "expected a number of milliseconds");
		return -EINVAL;
	}
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(why, why_size, "\"%.32s\" is not a whole number of milliseconds",
				 text);
			return -EINVAL;
		}
		if (v > max_ms / 10 + 1) {
			v = max_ms + 1;
			break;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v == 0 || v > max_ms) {
		snprintf(why, why_size, "%.32s ms: must be 1 to %llu", text,
			 (unsigned long long)max_ms);
		return -EINVAL;
	}
	*ns = v * 1000000ull;
	return 0;
}

bool grant_forgotten(uint64_t expires_boot_ns, uint64_t keep_ns, uint64_t now)
{
	/* Compared as a difference: expires + keep wraps for a late expiry (GRANT_NEVER). */
	if (expires_boot_ns == GRANT_NEVER || now < expires_boot_ns)
		return false;
	return now - expires_boot_ns >= keep_ns;
}

int grant_reason_check(const char *reason, char *why, size_t why_size)
{
	size_t len = reason ? strlen(reason) : 0, at;
	char ctl[8];

	if (len == 0 || len > GRANT_REASON_MAX) {
		snprintf(why, why_size, "the reason must be 1 to %d bytes long", GRANT_REASON_MAX);
		return -EINVAL;
	}
	if (ytree_find_control(reason, len, ctl, &at)) {
		snprintf(why, why_size, "the reason contains a control character (%s) at byte %zu",
			 ctl, at);
		return -EINVAL;
	}
	return 0;
}
