/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One rule's target, as text: a path (normalised), an address rule
 * (address, prefix, ports) or a name rule (name, ports). Shared by the policy parser and by everything
 * that takes a target outside a policy file (policy tests, grants).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "util/yamltree.h"

#define POLICY_PATH_MAX 4095 /* PATH_MAX less the NUL */

int policy_parse_path_target(const char *text, size_t len, struct path_rule *rule, char *err,
			     size_t err_size)
{
	char *out = NULL, ctl[8];
	size_t o = 0, at;
	int ret = -EINVAL;

	if (len == 0) {
		snprintf(err, err_size, "empty path");
		goto cleanup;
	}
	if (len > POLICY_PATH_MAX) {
		snprintf(err, err_size, "path is %zu bytes long; the limit is %d", len,
			 POLICY_PATH_MAX);
		goto cleanup;
	}
	if (ytree_find_control(text, len, ctl, &at)) {
		snprintf(err, err_size, "path contains a control character (%s) at byte %zu", ctl,
			 at);
		goto cleanup;
	}
	if (text[0] != '/') {
		/* The daemon resolves rules with no working directory of the workload's. */
		snprintf(err, err_size, "path must be absolute (start with '/')");
		goto cleanup;
	}

	out = malloc(len + 1);
	if (!out) {
		ret = -ENOMEM;
		snprintf(err, err_size, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && text[j] != '/')
			j++;
		if (j - i == 2 && text[i] == '.' && text[i + 1] == '.') {
			/*
			 * Lexically a/b/.. is a, but if b is a symlink the kernel
			 * goes elsewhere; rather than guess, make the user say.
			 */
			snprintf(err, err_size,
				 "\"..\" in a path is ambiguous with symlinks; write the path without it");
			goto cleanup;
		}
		if (j > i && !(j - i == 1 && text[i] == '.')) {
			out[o++] = '/';
			memcpy(out + o, text + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';

	rule->path = out;
	rule->subtree = text[len - 1] == '/';
	return 0;

cleanup:
	free(out);
	return ret;
}

bool policy_path_names_own_process(const char *path)
{
	const char *rest;

	if (strncmp(path, "/proc/", 6))
		return false;
	rest = path + 6;
	if (!strncmp(rest, "self", 4) && (rest[4] == '/' || !rest[4]))
		return true;
	if (!strncmp(rest, "thread-self", 11) && (rest[11] == '/' || !rest[11]))
		return true;
	if (!isdigit((unsigned char)*rest))
		return false;
	while (isdigit((unsigned char)*rest))
		rest++;
	return *rest == '/' || !*rest;
}

static bool looks_like_hostname(const char *s)
{
	bool letter = false;

	for (; *s; s++) {
		if (isalpha((unsigned char)*s))
			letter = true;
		else if (!isdigit((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	}
	return letter;
}

/* One port number, 1-65535; 0 or -EINVAL with a message. */
static int parse_port(const char *s, size_t len, unsigned long *port, char *err, size_t err_size)
{
	char digits[8];

	if (len == 0 || len >= sizeof(digits)) {
		snprintf(err, err_size, "bad port \"%.*s\": expected a number 1-65535 or a range LO-HI",
			 (int)(len < 16 ? len : 16), s);
		return -EINVAL;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (!ytree_all_digits(digits, "0123456789")) {
		snprintf(err, err_size, "bad port \"%s\": expected a number 1-65535 or a range LO-HI",
			 digits);
		return -EINVAL;
	}
	*port = strtoul(digits, NULL, 10);
	if (*port < 1 || *port > 65535) {
		snprintf(err, err_size, "port %s is out of range 1-65535", digits);
		return -EINVAL;
	}
	return 0;
}

/* "443" or "1024-65535"; 0 or -EINVAL with a message. */
static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t err_size)
{
	const char *dash = strchr(s, '-');
	unsigned long l, h;

	if (!*s) {
		snprintf(err, err_size, "missing port after ':'");
		return -EINVAL;
	}
	if (!dash) {
		if (parse_port(s, strlen(s), &l, err, err_size))
			return -EINVAL;
		h = l;
	} else if (parse_port(s, (size_t)(dash - s), &l, err, err_size) ||
		   parse_port(dash + 1, strlen(dash + 1), &h, err, err_size)) {
		return -EINVAL;
	}
	if (l > h) {
		snprintf(err, err_size, "port range %lu-%lu is reversed: write LO-HI with LO <= HI",
			 l, h);
		return -EINVAL;
	}
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

int policy_parse_net_target(const char *text, struct net_rule *rule, char *err, size_t err_size)
{
	/* The longest sensible rule, "[ffff:...:255.255.255.255/128]:65535-65535", fits. */
	char buf[96];
	char *addr, *port = NULL, *len_text = NULL;
	size_t len = strlen(text), at;
	char ctl[8];
	bool bracketed = false, v6;
	unsigned max_len, plen;
	uint8_t a[16] = { 0 };

	if (len == 0) {
		snprintf(err, err_size, "empty address");
		return -EINVAL;
	}
	if (ytree_find_control(text, len, ctl, &at)) {
		snprintf(err, err_size, "address contains a control character (%s) at byte %zu",
			 ctl, at);
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		snprintf(err, err_size, "too long for an address rule");
		return -EINVAL;
	}
	memcpy(buf, text, len + 1);
	addr = buf;

	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close) {
			snprintf(err, err_size, "missing ']' after a bracketed IPv6 address");
			return -EINVAL;
		}
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			snprintf(err, err_size, "expected \":PORT\" after ']'");
			return -EINVAL;
		}
		bracketed = true;
	} else {
		char *colon = strchr(buf, ':');

		/* One colon: ADDR:PORT. More: a bare IPv6 address, which takes no port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}

	len_text = strchr(addr, '/');
	if (len_text)
		*len_text++ = '\0';
	if (!*addr) {
		snprintf(err, err_size, "missing address");
		return -EINVAL;
	}
	v6 = strchr(addr, ':') != NULL;

	if (v6) {
		if (inet_pton(AF_INET6, addr, a) != 1) {
			snprintf(err, err_size, "\"%s\" is not an IPv6 address%s", addr,
				 bracketed ? "" : " (with a port, bracket it: \"[::1]:8080\")");
			return -EINVAL;
		}
		max_len = 128;
	} else {
		if (bracketed) {
			snprintf(err, err_size,
				 "brackets are for IPv6 addresses; write an IPv4 address as 10.0.0.1:443");
			return -EINVAL;
		}
		if (inet_pton(AF_INET, addr, a + 12) != 1) {
			if (looks_like_hostname(addr))
				snprintf(err, err_size,
					 "\"%s\" is a host name; this takes IP addresses only",
					 addr);
			else
				snprintf(err, err_size, "\"%s\" is not an IPv4 or IPv6 address", addr);
			return -EINVAL;
		}
		a[10] = a[11] = 0xff; /* IPv4-mapped, ::ffff:a.b.c.d */
		max_len = 32;
	}

	plen = max_len;
	if (len_text) {
		if (strlen(len_text) > 3 || !ytree_all_digits(len_text, "0123456789") ||
		    (plen = (unsigned)strtoul(len_text, NULL, 10)) > max_len) {
			bool port_hint = v6 && !bracketed && strchr(len_text, ':');

			snprintf(err, err_size, "bad prefix length \"/%.12s\": expected 0-%u%s",
				 len_text, max_len,
				 port_hint ? " (an IPv6 address with a port must be bracketed: "
					     "\"[2001:db8::/32]:443\")" : "");
			return -EINVAL;
		}
	}
	if (!v6)
		plen += 96;

	for (unsigned bit = plen; bit < 128; bit++) {
		if (a[bit / 8] & (0x80 >> (bit % 8))) {
			char fixed[INET6_ADDRSTRLEN];
			uint8_t m[16];

			memcpy(m, a, sizeof(m));
			for (unsigned b = plen; b < 128; b++)
				m[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			if (v6)
				inet_ntop(AF_INET6, m, fixed, sizeof(fixed));
			else
				inet_ntop(AF_INET, m + 12, fixed, sizeof(fixed));
			snprintf(err, err_size, "host bits set; did you mean %s%s/%u%s%s%s?",
				 bracketed ? "[" : "", fixed, plen - (v6 ? 0 : 96), bracketed ? "]" : "",
				 port ? ":" : "", port ? port : "");
			return -EINVAL;
		}
	}

	rule->port_lo = 0;
	rule->port_hi = 65535;
	if (port && parse_ports(port, &rule->port_lo, &rule->port_hi, err, err_size))
		return -EINVAL;
	memcpy(rule->addr, a, sizeof(rule->addr));
	rule->prefix_len = (uint8_t)plen;
	return 0;
}

bool policy_target_is_name(const char *text)
{
	const char *colon = strchr(text, ':');

	if (text[0] == '[' || (colon && strchr(colon + 1, ':')))
		return false;
	for (const char *s = text; *s && *s != ':' && *s != '/'; s++)
		if (isalpha((unsigned char)*s) || *s == '_' || *s == '*')
			return true;
	return false;
}

int policy_parse_name_target(const char *text, struct name_rule *rule, char *err,
			     size_t err_size, size_t *err_at)
{
	const char *colon = strchr(text, ':');
	size_t host_len = colon ? (size_t)(colon - text) : strlen(text);
	char name[NAME_TEXT_MAX + 1];
	bool wildcard;
	int ret;

	*err_at = 0;
	ret = name_normalize(text, host_len, true, name, err, err_size, err_at);
	if (ret)
		return ret;
	wildcard = name[0] == '*';
	rule->port_lo = 0;
	rule->port_hi = 65535;
	if (colon && parse_ports(colon + 1, &rule->port_lo, &rule->port_hi, err, err_size)) {
		*err_at = host_len + 1;
		return -EINVAL;
	}
	rule->name = strdup(wildcard ? name + 2 : name);
	if (!rule->name) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	rule->wildcard = wildcard;
	return 0;
}
