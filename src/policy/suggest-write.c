/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A suggestion written as the repository's policy YAML (policy/suggest.h):
 * every string double-quoted, every rule after a comment with what it
 * covers, so that what `actgate policy check` reads back is what was meant.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "policy/suggest.h"

void suggest_write_quoted(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* Text in a comment: one line, controls shown as '?'. */
static void write_comment_text(FILE *out, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static void write_access_list(FILE *out, uint8_t access)
{
	static const char *const names[] = { "read", "write", "create", "exec-map" };
	bool first = true;

	fputc('[', out);
	for (unsigned i = 0; i < ACTGATE_ACCESS_SLOTS; i++) {
		if (!(access & (1u << i)))
			continue;
		fprintf(out, "%s%s", first ? "" : ", ", names[i]);
		first = false;
	}
	fputc(']', out);
}

static void write_rule(FILE *out, const struct suggest_rule *r)
{
	char path[ACTGATE_PATH_BUF + 2];
	char access[ACCESS_NAMES_SIZE];

	fprintf(out, "      # ");
	if (r->deny) {
		fprintf(out, "%s: ", r->why);
		write_comment_text(out, r->example ? r->example : "");
	} else {
		fprintf(out, "%llu decision%s, e.g. ", (unsigned long long)r->count,
			r->count == 1 ? "" : "s");
		write_comment_text(out, r->example ? r->example : "");
		/* The example's accesses that this rule decides. */
		if (r->action == ACTGATE_ACTION_OPEN &&
		    !access_names(r->example_access & r->access, access, sizeof(access)))
			fprintf(out, " (%s)", access);
		fprintf(out, "; %s", r->why);
	}
	fputc('\n', out);
	fprintf(out, "      - ");
	if (r->path && !r->unix_socket)
		snprintf(path, sizeof(path), "%s%s", r->path,
			 r->subtree && strcmp(r->path, "/") ? "/" : "");
	if (r->action == ACTGATE_ACTION_CONNECT && r->unix_socket) {
		fprintf(out, "{unix: ");
		suggest_write_quoted(out, r->path);
		fprintf(out, "}");
	} else if (r->action == ACTGATE_ACTION_CONNECT) {
		fprintf(out, "{to: ");
		suggest_write_quoted(out, r->to);
		if (r->protocol)
			fprintf(out, ", protocol: %s", r->protocol == IPPROTO_UDP ? "udp" : "tcp");
		fprintf(out, "}");
	} else if (r->action == ACTGATE_ACTION_OPEN) {
		fprintf(out, "{path: ");
		suggest_write_quoted(out, path);
		fprintf(out, ", access: ");
		write_access_list(out, r->access);
		fprintf(out, "}");
	} else {
		suggest_write_quoted(out, path);
	}
	fputc('\n', out);
}

static void write_section(FILE *out, const struct suggest_result *r, uint8_t action,
			  const char *name)
{
	bool any_allow = false, any_deny = false;

	fprintf(out, "  %s:\n    default: deny\n", name);
	for (size_t i = 0; i < r->count; i++) {
		const struct suggest_rule *x = &r->rules[i];

		if (x->action != action || x->deny)
			continue;
		if (!any_allow)
			fprintf(out, "    allow:\n");
		any_allow = true;
		write_rule(out, x);
	}
	for (size_t i = 0; i < r->count; i++) {
		const struct suggest_rule *x = &r->rules[i];

		if (x->action != action || !x->deny)
			continue;
		if (!any_deny)
			fprintf(out, "    deny:\n");
		any_deny = true;
		write_rule(out, x);
	}
	if (action == ACTGATE_ACTION_CONNECT && r->sockets) {
		bool first = true;

		fprintf(out, "    # %llu socket creation%s\n    sockets: [",
			(unsigned long long)r->socket_count, r->socket_count == 1 ? "" : "s");
		for (unsigned k = 0; k < 8; k++) {
			if (!(r->sockets & (1u << k)) || !policy_socket_kind_name(k))
				continue;
			fprintf(out, "%s%s", first ? "" : ", ", policy_socket_kind_name(k));
			first = false;
		}
		fprintf(out, "]\n");
	}
}

int suggest_write_policy(FILE *out, const struct suggest_result *r, const struct suggest_meta *m)
{
	fprintf(out, "# Suggested by actgate policy suggest (level %s) from %llu recorded decision%s.\n",
		suggest_level_name(m->level), (unsigned long long)r->taken, r->taken == 1 ? "" : "s");
	if (m->source) {
		fprintf(out, "# ");
		write_comment_text(out, m->source);
		fputc('\n', out);
	}
	fprintf(out, "# It allows what the workloads did and denies by default what they did not.\n"
		     "# Each rule says how many recorded decisions it covers, one of them, and why\n"
		     "# it is as wide as it is. Review it before putting it in force.\n");
	for (size_t i = 0; i < r->problem_count; i++) {
		fprintf(out, "# NOT ALLOWED: ");
		write_comment_text(out, r->problems[i]);
		fputc('\n', out);
	}
	fprintf(out, "apiVersion: " POLICY_API_VERSION "\nkind: " POLICY_KIND "\nmetadata:\n  name: ");
	suggest_write_quoted(out, m->name);
	fprintf(out, "\nspec:\n  selector:\n");
	if (m->workload_glob_count) {
		fprintf(out, "    workloads: [");
		for (size_t i = 0; i < m->workload_glob_count; i++) {
			fprintf(out, "%s", i ? ", " : "");
			suggest_write_quoted(out, m->workload_globs[i]);
		}
		fprintf(out, "]\n");
	}
	if (m->label_count) {
		fprintf(out, "    labels:\n");
		for (size_t i = 0; i < m->label_count; i++) {
			const char *eq = strchr(m->labels[i], '=');
			char key[LABEL_KEY_MAX + 1];

			if (!eq)
				continue;
			snprintf(key, sizeof(key), "%.*s", (int)(eq - m->labels[i]), m->labels[i]);
			fprintf(out, "      ");
			suggest_write_quoted(out, key);
			fprintf(out, ": ");
			suggest_write_quoted(out, eq + 1);
			fputc('\n', out);
		}
	}
	fprintf(out, "  mode: enforce\n");
	write_section(out, r, ACTGATE_ACTION_EXEC, "exec");
	write_section(out, r, ACTGATE_ACTION_OPEN, "open");
	write_section(out, r, ACTGATE_ACTION_CONNECT, "connect");
	return ferror(out) ? -EIO : 0;
}
