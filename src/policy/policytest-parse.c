/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading policy tests (docs/policy-tests.md). A test file is read like a
 * policy file: yamltree.c builds a small tree with positions (anchors,
 * aliases and tags are refused, as in policies: a test is reviewed next to
 * the policy it tests and should read the same way), the tree is checked key
 * by key, and checking goes on after an error so that one run reports them
 * all. Then the policies each document names are loaded. Running the cases
 * is policytest.c's.
 */
#include <linux/types.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "actgate/abi.h"
#include "identity/workload.h"
#include "policy/delegate.h"
#include "policy/names.h"
#include "policy/parse.h"
#include "policy/policytest.h"
#include "util/yamltree.h"

/* ---- diagnostics ---- */

/* A case name seen so far in the file, for duplicates across its documents. */
struct seen_name {
	char *name;
	unsigned line;
};

struct test_ctx {
	struct ytree_ctx yt; /* file, diags, errors, oom */
	const char *base_dir;
	struct seen_name *seen;
	size_t seen_count;
	struct doc_build *docs; /* the documents checked so far */
	size_t doc_count;
};

#define error_at(ctx, pos, ...) ytree_report(&(ctx)->yt, DIAG_ERROR, pos, __VA_ARGS__)

/*
 * A string that is printed later (case names, workloads, rule names appear
 * in FAIL lines): no control characters, no NULs, not empty.
 */
static bool expect_text(struct test_ctx *ctx, const struct ynode *n, const char *where)
{
	if (!ytree_expect_string(&ctx->yt, n, where))
		return false;
	if (n->len == 0) {
		error_at(ctx, n->pos, "%s: expected a string, found an empty one", where);
		return false;
	}
	for (size_t i = 0; i < n->len; i++) {
		if (ytree_is_control(n->text, n->len, i)) {
			struct ytree_quoted q;

			error_at(ctx, n->pos, "%s: %s contains a control character", where,
				 ytree_quote(&q, n->text, n->len));
			return false;
		}
	}
	return true;
}

/* Unknown and duplicate keys are errors; values[i] receives keys[i]'s value, NULL when absent. */
static void map_fields(struct test_ctx *ctx, const struct ynode *map, const char *where,
		       const char *const keys[], size_t nkeys, const struct ynode *values[])
{
	const struct ynode *key_nodes[20];

	assert(nkeys <= sizeof(key_nodes) / sizeof(key_nodes[0]));
	ytree_map_fields(&ctx->yt, map, where, keys, nkeys, key_nodes, values);
}

/* One of a few words (action, expect, mode); -1 after reporting anything else. */
static int expect_word(struct test_ctx *ctx, const struct ynode *n, const char *where,
		       const char *const words[], size_t nwords, const char *listed)
{
	struct ytree_quoted q;

	if (!expect_text(ctx, n, where))
		return -1;
	for (size_t i = 0; i < nwords; i++)
		if (ynode_is(n, words[i]))
			return (int)i;
	error_at(ctx, n->pos, "%s: expected %s, found %s", where, listed,
		 ytree_quote(&q, n->text, n->len));
	return -1;
}

static char *dup_text(struct test_ctx *ctx, const struct ynode *n)
{
	char *s = strdup(n->text);

	if (!s)
		ctx->yt.oom = -ENOMEM;
	return s;
}

/* ---- the policies a document names ---- */

/* A document while it is checked: the files its policies come from, loaded later. */
struct doc_build {
	struct policytest_doc doc;
	char **files;
	size_t file_count;
};

bool policytest_is_test_name(const char *name)
{
	return name[0] != '.' &&
	       (ytree_has_suffix(name, ".test.yaml") || ytree_has_suffix(name, ".test.yml"));
}

/* A directory's policy files, as policy_load_dir picks them, less the tests kept beside them. */
static bool is_policy_name(const char *name)
{
	return name[0] != '.' &&
	       (ytree_has_suffix(name, ".yaml") || ytree_has_suffix(name, ".yml")) &&
	       !policytest_is_test_name(name);
}

/* "dir/name", without doubling a '/' the user wrote ("policies/"). */
static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *out;

	if (asprintf(&out, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return out;
}

/* The files of dir whose names pass keep, sorted, as "dir/name"; 0 or -errno. */
static int list_dir(const char *dir, bool (*keep)(const char *), char ***paths, size_t *count)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int err;

	*paths = NULL;
	*count = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	err = ytree_read_dir(d, keep, &names, &n);
	closedir(d);
	for (size_t i = 0; i < n && !err; i++) {
		char *path = join_path(dir, names[i]);

		if (!path) {
			err = -ENOMEM;
			break;
		}
		free(names[i]);
		names[i] = path;
	}
	if (err) {
		ytree_free_names(names, n);
		return err;
	}
	*paths = names;
	*count = n;
	return 0;
}

int policytest_list_dir(const char *dir, char ***paths, size_t *count)
{
	return list_dir(dir, policytest_is_test_name, paths, count);
}

static int add_file(struct doc_build *db, char *path)
{
	char **grown = realloc(db->files, (db->file_count + 1) * sizeof(*grown));

	if (!grown) {
		free(path);
		return -ENOMEM;
	}
	db->files = grown;
	db->files[db->file_count++] = path;
	return 0;
}

/* One spec.policies entry: a file, or a directory's policy files. */
static void resolve_policy_entry(struct test_ctx *ctx, const struct ynode *n, const char *where,
				 struct doc_build *db)
{
	char *full = NULL, **files = NULL;
	size_t count = 0;
	struct ytree_quoted q;
	struct stat st;
	int err;

	if (!expect_text(ctx, n, where))
		return;
	/* Relative to the test file, so that a test and its policies move together. */
	if (n->text[0] == '/' || !strcmp(ctx->base_dir, "."))
		full = strdup(n->text);
	else
		full = join_path(ctx->base_dir, n->text);
	if (!full) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	if (stat(full, &st)) {
		error_at(ctx, n->pos, "%s: cannot read %s: %s", where,
			 ytree_quote(&q, full, strlen(full)), strerror(errno));
		goto cleanup;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (add_file(db, full))
			ctx->yt.oom = -ENOMEM;
		full = NULL;
		goto cleanup;
	}
	err = list_dir(full, is_policy_name, &files, &count);
	if (err == -ENOMEM) {
		ctx->yt.oom = err;
		goto cleanup;
	}
	if (err) {
		error_at(ctx, n->pos, "%s: cannot read directory %s: %s", where,
			 ytree_quote(&q, full, strlen(full)), strerror(-err));
		goto cleanup;
	}
	if (count == 0) {
		error_at(ctx, n->pos,
			 "%s: no policy files (*.yaml, *.yml other than *.test.yaml) in %s", where,
			 ytree_quote(&q, full, strlen(full)));
		goto cleanup;
	}
	for (size_t i = 0; i < count; i++) {
		if (add_file(db, files[i]))
			ctx->yt.oom = -ENOMEM;
		files[i] = NULL;
	}

cleanup:
	for (size_t i = 0; i < count; i++)
		free(files[i]);
	free(files);
	free(full);
}

/* ---- checking a document ---- */

static const char *const action_words[] = { "exec", "open", "connect", "resolve" };
static const uint8_t action_values[] = { ACTGATE_ACTION_EXEC, ACTGATE_ACTION_OPEN,
					 ACTGATE_ACTION_CONNECT, ACTGATE_ACTION_RESOLVE };
static const char *const verdict_words[] = { "allow", "deny" };
static const uint8_t verdict_values[] = { ACTGATE_VERDICT_ALLOW, ACTGATE_VERDICT_DENY };
static const char *const mode_words[] = { "enforce", "audit" };
static const uint8_t mode_values[] = { ACTGATE_MODE_ENFORCE, ACTGATE_MODE_AUDIT };

static void check_case_name(struct test_ctx *ctx, const struct ynode *n, const char *where)
{
	struct seen_name *grown;
	struct ytree_quoted q;

	for (size_t i = 0; i < ctx->seen_count; i++) {
		if (!strcmp(ctx->seen[i].name, n->text)) {
			/* FAIL lines name cases: two of one name would be told apart by line only. */
			error_at(ctx, n->pos, "%s: duplicate case name %s (first at line %u)", where,
				 ytree_quote(&q, n->text, n->len), ctx->seen[i].line);
			return;
		}
	}
	grown = realloc(ctx->seen, (ctx->seen_count + 1) * sizeof(*grown));
	if (!grown) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	ctx->seen = grown;
	ctx->seen[ctx->seen_count].name = strdup(n->text);
	if (!ctx->seen[ctx->seen_count].name) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	ctx->seen[ctx->seen_count++].line = n->pos.line;
}

/* A name as a lookup asks for it (resolve's target, a connect's target_name). */
static void check_name(struct test_ctx *ctx, const struct ynode *n, const char *where,
		       struct policytest_case *c)
{
	char name[NAME_TEXT_MAX + 1], why[160];
	struct ytree_quoted q;
	size_t at;

	if (name_normalize(n->text, n->len, false, name, why, sizeof(why), &at)) {
		error_at(ctx, n->pos, "%s: %s (at byte %zu of %s)", where, why, at,
			 ytree_quote(&q, n->text, n->len));
		return;
	}
	free(c->lookup_name);
	c->lookup_name = strdup(name);
	if (!c->lookup_name)
		ctx->yt.oom = -ENOMEM;
	c->action.name = c->lookup_name;
}

static void check_target(struct test_ctx *ctx, const struct ynode *n, const char *where,
			 struct policytest_case *c)
{
	struct path_rule rule = { 0 };
	char why[256];
	struct ytree_quoted q;
	int err;

	const char *text = n->text;
	size_t len = n->len;

	if (c->action.action == ACTGATE_ACTION_RESOLVE) {
		check_name(ctx, n, where, c);
		return;
	}
	if (c->action.action == ACTGATE_ACTION_CONNECT) {
		if (strncmp(text, "unix:", 5)) {
			if (eval_parse_connect_target(text, c->action.addr, &c->action.port, why,
						      sizeof(why)))
				error_at(ctx, n->pos, "%s: %s", where, why);
			return;
		}
		c->action.unix_socket = true;
		text += 5;
		len -= 5;
	}
	/* Normalised as policy paths are, so that "//usr/./bin/curl" meets "/usr/bin/curl". */
	err = policy_parse_path_target(text, len, &rule, why, sizeof(why));
	if (err == -ENOMEM) {
		ctx->yt.oom = err;
		return;
	}
	if (err) {
		error_at(ctx, n->pos, "%s: %s: %s", where, why, ytree_quote(&q, n->text, n->len));
		return;
	}
	c->path = rule.path;
	c->action.path = c->path;
}

/* labels: / signals: of a case, a mapping of strings; false (reported) otherwise. */
static bool parse_string_map(struct test_ctx *ctx, const struct ynode *map, const char *where,
			     bool labels, char ***keys_out, char ***values_out, size_t *count)
{
	struct ytree_quoted q;
	char what[160];

	if (!ytree_expect_kind(&ctx->yt, map, YNODE_MAP, where))
		return false;
	*keys_out = calloc(map->count / 2 + 1, sizeof(char *));
	*values_out = calloc(map->count / 2 + 1, sizeof(char *));
	if (!*keys_out || !*values_out) {
		ctx->yt.oom = -ENOMEM;
		return false;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];

		if (!expect_text(ctx, k, where))
			continue;
		if (labels && !workload_label_key_valid(k->text, k->len)) {
			error_at(ctx, k->pos, "%s: %s is not a valid label key", where,
				 ytree_quote(&q, k->text, k->len));
			continue;
		}
		if (ytree_duplicate_key(&ctx->yt, map, i, where))
			continue;
		snprintf(what, sizeof(what), "%s.%s", where, k->text);
		if (!expect_text(ctx, v, what))
			continue;
		(*keys_out)[*count] = dup_text(ctx, k);
		(*values_out)[*count] = dup_text(ctx, v);
		(*count)++;
	}
	return true;
}

static const char *const access_words[] = { "read", "write", "create", "exec-map" };
static const char *const protocol_words[] = { "tcp", "udp" };
static const uint8_t protocol_values[] = { IPPROTO_TCP, IPPROTO_UDP };

/* A case's access: one name or a list of them. */
static void parse_case_access(struct test_ctx *ctx, const struct ynode *n, const char *where,
			      struct policytest_case *c)
{
	const struct ynode *const *items = &n;
	size_t count = 1;

	if (n->kind == YNODE_SEQ) {
		items = (const struct ynode *const *)n->items;
		count = n->count;
		if (!count)
			error_at(ctx, n->pos, "%s: the list is empty; name an access", where);
	}
	for (size_t i = 0; i < count; i++) {
		int word = expect_word(ctx, items[i], where, access_words, 4,
				       "read, write, create or exec-map");

		if (word >= 0)
			c->action.access |= (uint8_t)(1u << word);
	}
}

/* chain: [AGENT, ...]: the workloads above the case's, outermost first (docs/delegation.md). */
static void parse_chain(struct test_ctx *ctx, const struct ynode *list, const char *where,
			struct policytest_case *c)
{
	char why[256], what[128];

	if (!ytree_expect_kind(&ctx->yt, list, YNODE_SEQ, where))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos, "%s: the list is empty; leave it out for a workload "
					 "nobody commissioned", where);
		return;
	}
	c->chain = calloc(list->count, sizeof(*c->chain));
	if (!c->chain) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];

		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!expect_text(ctx, n, what))
			continue;
		if (workload_name_check(n->text, why, sizeof(why))) {
			error_at(ctx, n->pos, "%s: %s", what, why);
			continue;
		}
		c->chain[c->chain_count] = dup_text(ctx, n);
		if (c->chain[c->chain_count])
			c->chain_count++;
	}
}

/* policies: [P, ...]: the --policy names the commission asked for. */
static void parse_asked_policies(struct test_ctx *ctx, const struct ynode *list, const char *where,
				 struct policytest_case *c)
{
	char what[128];

	if (!ytree_expect_kind(&ctx->yt, list, YNODE_SEQ, where))
		return;
	c->asked_policies = calloc(list->count ? list->count : 1, sizeof(*c->asked_policies));
	if (!c->asked_policies) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!expect_text(ctx, list->items[i], what))
			continue;
		c->asked_policies[c->asked_policy_count] = dup_text(ctx, list->items[i]);
		if (c->asked_policies[c->asked_policy_count])
			c->asked_policy_count++;
	}
}

/*
 * allow: ["ACTION:TARGET", ...]: the --allow rules the commission asked for,
 * as actgate run takes them: exec:PATH, open:PATH (absolute), connect:ADDR,
 * connect:ADDR:PORT or connect:[V6]:PORT.
 */
static void parse_asked_allow(struct test_ctx *ctx, const struct ynode *list, const char *where,
			      struct policytest_case *c)
{
	char what[128], why[256];

	if (!ytree_expect_kind(&ctx->yt, list, YNODE_SEQ, where))
		return;
	c->asked_allow = calloc(list->count ? list->count : 1, sizeof(*c->asked_allow));
	if (!c->asked_allow) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		struct delegate_rule *r = &c->asked_allow[c->asked_allow_count];
		const char *colon;
		uint8_t addr[16];
		uint16_t port;

		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!expect_text(ctx, n, what))
			continue;
		colon = strchr(n->text, ':');
		if (!colon || delegate_action_parse(n->text, (size_t)(colon - n->text), &r->action)) {
			error_at(ctx, n->pos, "%s: \"%.100s\": expected exec:PATH, open:PATH or "
					      "connect:ADDRESS[:PORT]", what, n->text);
			continue;
		}
		if (r->action == ACTGATE_ACTION_CONNECT
			    ? policytest_asked_connect(colon + 1, addr, &port, why, sizeof(why))
			    : colon[1] != '/') {
			error_at(ctx, n->pos, "%s: \"%.100s\": %s", what, n->text,
				 r->action == ACTGATE_ACTION_CONNECT ? why : "expected an absolute path");
			continue;
		}
		r->target = strdup(colon + 1);
		r->pos = n->pos;
		if (!r->target) {
			ctx->yt.oom = -ENOMEM;
			continue;
		}
		c->asked_allow_count++;
	}
}

static void parse_case(struct test_ctx *ctx, const struct ynode *n, size_t index,
		       struct policytest_case *c)
{
	enum { NAME, WORKLOAD, CGROUP, LABELS, SIGNALS, ACTION, TARGET, ACCESS, PROTOCOL, EXPECT,
	       RULE, MODE, WRITTEN, CHAIN, POLICIES, ALLOW, TARGET_NAME, NKEYS };
	static const char *const keys[NKEYS] = { "name",   "workload", "cgroup",   "labels",
						 "signals", "action",  "target",   "access",
						 "protocol", "expect", "rule",     "mode",
						 "written", "chain",   "policies", "allow",
						 "target_name" };
	static const char *const required[NKEYS] = { [WORKLOAD] = "workload", [ACTION] = "action",
						     [TARGET] = "target", [EXPECT] = "expect" };
	const struct ynode *vals[NKEYS];
	char where[64], what[96], why[256];
	int word, action = -1;

	c->pos = n->pos;
	c->mode = -1;
	snprintf(where, sizeof(where), "spec.cases[%zu]", index);
	if (asprintf(&c->name, "case %zu", index + 1) < 0) {
		c->name = NULL;
		ctx->yt.oom = -ENOMEM;
		return;
	}
	if (!ytree_expect_kind(&ctx->yt, n, YNODE_MAP, where))
		return;
	map_fields(ctx, n, where, keys, NKEYS, vals);
	for (size_t k = 0; k < NKEYS; k++)
		if (required[k] && !vals[k])
			error_at(ctx, n->pos, "missing required key \"%s\" in %s", required[k], where);

	snprintf(what, sizeof(what), "%s.name", where);
	if (vals[NAME] && expect_text(ctx, vals[NAME], what)) {
		check_case_name(ctx, vals[NAME], what);
		free(c->name);
		c->name = dup_text(ctx, vals[NAME]);
	}
	snprintf(what, sizeof(what), "%s.workload", where);
	if (vals[WORKLOAD] && expect_text(ctx, vals[WORKLOAD], what)) {
		/* A name actgate run would refuse can never be a workload: say so now. */
		if (workload_name_check(vals[WORKLOAD]->text, why, sizeof(why)))
			error_at(ctx, vals[WORKLOAD]->pos, "%s: %s", what, why);
		c->workload = dup_text(ctx, vals[WORKLOAD]);
	}
	snprintf(what, sizeof(what), "%s.chain", where);
	if (vals[CHAIN])
		parse_chain(ctx, vals[CHAIN], what, c);
	/* What a commission asks for needs one: a workload nobody commissioned asks nothing. */
	for (int k = POLICIES; k <= ALLOW; k++)
		if (vals[k] && !vals[CHAIN])
			error_at(ctx, vals[k]->pos, "%s.%s: the commission's %s need a chain: the "
						    "workloads that commissioned this one", where,
				 keys[k], k == POLICIES ? "--policy names" : "--allow rules");
	snprintf(what, sizeof(what), "%s.policies", where);
	if (vals[POLICIES] && vals[CHAIN])
		parse_asked_policies(ctx, vals[POLICIES], what, c);
	snprintf(what, sizeof(what), "%s.allow", where);
	if (vals[ALLOW] && vals[CHAIN])
		parse_asked_allow(ctx, vals[ALLOW], what, c);
	snprintf(what, sizeof(what), "%s.cgroup", where);
	if (vals[CGROUP] && expect_text(ctx, vals[CGROUP], what)) {
		if (vals[CGROUP]->text[0] == '/')
			error_at(ctx, vals[CGROUP]->pos,
				 "%s: a cgroup path is relative to the cgroup2 root: leave out the "
				 "leading '/'", what);
		c->cgroup = dup_text(ctx, vals[CGROUP]);
	}
	snprintf(what, sizeof(what), "%s.labels", where);
	if (vals[LABELS]) {
		char **k = NULL, **v = NULL;
		size_t count = 0;

		if (parse_string_map(ctx, vals[LABELS], what, true, &k, &v, &count)) {
			c->labels = calloc(count + 1, sizeof(*c->labels));
			if (!c->labels)
				ctx->yt.oom = -ENOMEM;
			for (size_t i = 0; c->labels && i < count; i++)
				c->labels[c->label_count++] = (struct workload_label){ k[i], v[i] };
		}
		free(k);
		free(v);
	}
	snprintf(what, sizeof(what), "%s.signals", where);
	if (vals[SIGNALS]) {
		char **k = NULL, **v = NULL;
		size_t count = 0;

		if (parse_string_map(ctx, vals[SIGNALS], what, false, &k, &v, &count)) {
			c->signals = calloc(count + 1, sizeof(*c->signals));
			if (!c->signals)
				ctx->yt.oom = -ENOMEM;
			for (size_t i = 0; c->signals && i < count; i++)
				c->signals[c->signal_count++] = (struct signal_value){ k[i], v[i] };
		}
		free(k);
		free(v);
	}
	snprintf(what, sizeof(what), "%s.action", where);
	if (vals[ACTION]) {
		action = expect_word(ctx, vals[ACTION], what, action_words, 4,
				     "exec, open, connect or resolve");
		if (action >= 0)
			c->action.action = action_values[action];
	}
	snprintf(what, sizeof(what), "%s.target", where);
	if (vals[TARGET] && expect_text(ctx, vals[TARGET], what)) {
		c->target = dup_text(ctx, vals[TARGET]);
		/* What a target must be depends on the action: nothing to say without one. */
		if (action >= 0)
			check_target(ctx, vals[TARGET], what, c);
	}
	snprintf(what, sizeof(what), "%s.access", where);
	if (vals[ACCESS]) {
		if (action >= 0 && c->action.action != ACTGATE_ACTION_OPEN)
			error_at(ctx, vals[ACCESS]->pos, "%s: only open cases have an access", what);
		else
			parse_case_access(ctx, vals[ACCESS], what, c);
	}
	snprintf(what, sizeof(what), "%s.protocol", where);
	if (vals[PROTOCOL]) {
		if (action >= 0 && (c->action.action != ACTGATE_ACTION_CONNECT || c->action.unix_socket))
			error_at(ctx, vals[PROTOCOL]->pos,
				 "%s: only connect cases to an IP address have a protocol", what);
	}
	/* The name an IP connect was made for: the name rules decide beside the address rules. */
	snprintf(what, sizeof(what), "%s.target_name", where);
	if (vals[TARGET_NAME] && expect_text(ctx, vals[TARGET_NAME], what)) {
		if (action >= 0 && (c->action.action != ACTGATE_ACTION_CONNECT || c->action.unix_socket))
			error_at(ctx, vals[TARGET_NAME]->pos,
				 "%s: only connect cases to an IP address have a target_name (a "
				 "resolve case names its name in target)", what);
		else
			check_name(ctx, vals[TARGET_NAME], what, c);
	}
	snprintf(what, sizeof(what), "%s.protocol", where);
	if (vals[PROTOCOL]) {
		word = expect_word(ctx, vals[PROTOCOL], what, protocol_words, 2, "tcp or udp");
		if (word >= 0)
			c->action.protocol = protocol_values[word];
	}
	snprintf(what, sizeof(what), "%s.expect", where);
	if (vals[EXPECT]) {
		word = expect_word(ctx, vals[EXPECT], what, verdict_words, 2, "allow or deny");
		if (word >= 0)
			c->expect = verdict_values[word];
	}
	snprintf(what, sizeof(what), "%s.rule", where);
	if (vals[RULE] && expect_text(ctx, vals[RULE], what))
		c->rule = dup_text(ctx, vals[RULE]);
	snprintf(what, sizeof(what), "%s.mode", where);
	if (vals[MODE]) {
		word = expect_word(ctx, vals[MODE], what, mode_words, 2, "enforce or audit");
		if (word >= 0)
			c->mode = mode_values[word];
	}
	/* exec's written: deny: the file was written by a governed workload (or is a memfd). */
	snprintf(what, sizeof(what), "%s.written", where);
	if (vals[WRITTEN]) {
		if (action >= 0 && (c->action.action == ACTGATE_ACTION_CONNECT ||
				    c->action.action == ACTGATE_ACTION_RESOLVE))
			error_at(ctx, vals[WRITTEN]->pos,
				 "%s: only exec and open cases are about a file", what);
		if (vals[WRITTEN]->kind == YNODE_SCALAR && vals[WRITTEN]->type == YSCALAR_BOOL)
			c->action.written = strcasecmp(vals[WRITTEN]->text, "true") == 0;
		else
			error_at(ctx, vals[WRITTEN]->pos, "%s: expected true or false, found %s",
				 what, ynode_describe(vals[WRITTEN]));
	}
}

static void parse_spec(struct test_ctx *ctx, const struct ynode *n, struct doc_build *db)
{
	static const char *const keys[] = { "policies", "cases" };
	const struct ynode *vals[2];
	char where[64];

	if (!ytree_expect_kind(&ctx->yt, n, YNODE_MAP, "spec"))
		return;
	map_fields(ctx, n, "spec", keys, 2, vals);

	if (!vals[0]) {
		error_at(ctx, n->pos, "missing required key \"policies\" in spec");
	} else if (ytree_expect_kind(&ctx->yt, vals[0], YNODE_SEQ, "spec.policies")) {
		if (vals[0]->count == 0)
			error_at(ctx, vals[0]->pos,
				 "spec.policies: expected at least one policy file or directory");
		for (size_t i = 0; i < vals[0]->count && !ctx->yt.oom; i++) {
			snprintf(where, sizeof(where), "spec.policies[%zu]", i);
			resolve_policy_entry(ctx, vals[0]->items[i], where, db);
		}
	}

	if (!vals[1]) {
		error_at(ctx, n->pos, "missing required key \"cases\" in spec");
		return;
	}
	if (!ytree_expect_kind(&ctx->yt, vals[1], YNODE_SEQ, "spec.cases"))
		return;
	if (vals[1]->count == 0) {
		error_at(ctx, vals[1]->pos, "spec.cases: no cases; a test needs at least one");
		return;
	}
	db->doc.cases = calloc(vals[1]->count, sizeof(*db->doc.cases));
	if (!db->doc.cases) {
		ctx->yt.oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < vals[1]->count && !ctx->yt.oom; i++) {
		parse_case(ctx, vals[1]->items[i], i, &db->doc.cases[i]);
		db->doc.case_count++;
	}
}

static void parse_document(struct test_ctx *ctx, const struct ynode *root, struct doc_build *db)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	static const char *const meta_keys[] = { "name" };
	const struct ynode *vals[4], *meta[1];
	struct ytree_quoted q;

	if (root->kind != YNODE_MAP) {
		error_at(ctx, root->pos,
			 "expected a PolicyTest mapping at the top of the document, found %s",
			 ynode_describe(root));
		return;
	}
	map_fields(ctx, root, "the test", keys, 4, vals);

	if (!vals[0])
		error_at(ctx, root->pos, "missing required key \"apiVersion\"");
	else if (expect_text(ctx, vals[0], "apiVersion") &&
		 !ynode_is(vals[0], POLICYTEST_API_VERSION))
		error_at(ctx, vals[0]->pos, "apiVersion: expected \"%s\", found %s",
			 POLICYTEST_API_VERSION, ytree_quote(&q, vals[0]->text, vals[0]->len));

	if (!vals[1])
		error_at(ctx, root->pos, "missing required key \"kind\"");
	else if (expect_text(ctx, vals[1], "kind") && !ynode_is(vals[1], POLICYTEST_KIND))
		/* Most likely a policy given where a test was meant: say which is which. */
		error_at(ctx, vals[1]->pos, "kind: expected \"%s\", found %s%s", POLICYTEST_KIND,
			 ytree_quote(&q, vals[1]->text, vals[1]->len),
			 ynode_is(vals[1], POLICY_KIND) ?
				 " (a policy: name it in spec.policies of a test)" :
				 "");

	if (!vals[2]) {
		error_at(ctx, root->pos, "missing required key \"metadata\"");
	} else if (ytree_expect_kind(&ctx->yt, vals[2], YNODE_MAP, "metadata")) {
		map_fields(ctx, vals[2], "metadata", meta_keys, 1, meta);
		if (!meta[0])
			error_at(ctx, vals[2]->pos, "missing required key \"name\" in metadata");
		else if (expect_text(ctx, meta[0], "metadata.name"))
			db->doc.name = dup_text(ctx, meta[0]);
	}

	if (vals[3])
		parse_spec(ctx, vals[3], db);
	else
		error_at(ctx, root->pos, "missing required key \"spec\"");
}

/* ---- parsing a file ---- */

static void case_free(struct policytest_case *c)
{
	free(c->name);
	free(c->workload);
	for (size_t i = 0; i < c->chain_count; i++)
		free(c->chain[i]);
	free(c->chain);
	for (size_t i = 0; i < c->asked_policy_count; i++)
		free(c->asked_policies[i]);
	free(c->asked_policies);
	for (size_t i = 0; i < c->asked_allow_count; i++)
		free(c->asked_allow[i].target);
	free(c->asked_allow);
	free(c->cgroup);
	for (size_t i = 0; i < c->label_count; i++) {
		free((char *)c->labels[i].key);
		free((char *)c->labels[i].value);
	}
	free(c->labels);
	for (size_t i = 0; i < c->signal_count; i++) {
		free((char *)c->signals[i].name);
		free((char *)c->signals[i].value);
	}
	free(c->signals);
	free(c->target);
	free(c->path);
	free(c->lookup_name);
	free(c->rule);
}

static void doc_free(struct policytest_doc *d)
{
	free(d->name);
	policy_set_free(&d->policies);
	for (size_t i = 0; i < d->case_count; i++)
		case_free(&d->cases[i]);
	free(d->cases);
	*d = (struct policytest_doc){ 0 };
}

static void doc_build_free(struct doc_build *db)
{
	doc_free(&db->doc);
	for (size_t i = 0; i < db->file_count; i++)
		free(db->files[i]);
	free(db->files);
	*db = (struct doc_build){ 0 };
}

void policytest_file_free(struct policytest_file *tf)
{
	for (size_t i = 0; i < tf->doc_count; i++)
		doc_free(&tf->docs[i]);
	free(tf->docs);
	free(tf->path);
	*tf = (struct policytest_file){ 0 };
}

/*
 * Load a document's policies, as actgated would load them together: each
 * file whole or not at all, then the checks across files. Returns 0, -EINVAL
 * (the policies' own diagnostics are in diags) or -ENOMEM.
 */
static int load_policies(struct doc_build *db, struct diag_list *diags)
{
	int err = 0, ret;

	for (size_t i = 0; i < db->file_count; i++) {
		ret = policy_parse_file(db->files[i], &db->doc.policies, diags);
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			err = -EINVAL;
	}
	ret = policy_set_validate(&db->doc.policies, diags);
	if (ret == -ENOMEM)
		return ret;
	return ret ? -EINVAL : err;
}

static int add_document(void *arg, const struct ynode *root, bool rejected)
{
	struct test_ctx *ctx = arg;
	struct doc_build *grown;

	grown = realloc(ctx->docs, (ctx->doc_count + 1) * sizeof(*ctx->docs));
	if (!grown)
		return -ENOMEM;
	ctx->docs = grown;
	ctx->docs[ctx->doc_count] = (struct doc_build){ 0 };
	if (!rejected)
		parse_document(ctx, root, &ctx->docs[ctx->doc_count]);
	ctx->doc_count++;
	return ctx->yt.oom;
}

int policytest_parse_buffer(const char *name, const char *base_dir, const char *text, size_t len,
			    struct policytest_file *tf, struct diag_list *diags)
{
	struct test_ctx ctx = { .yt = { .file = name, .what = "test file", .diags = diags },
				.base_dir = base_dir ? base_dir : "." };
	size_t first_diag = diags->count, documents = 0;
	int err;

	*tf = (struct policytest_file){ 0 };
	err = ytree_parse(&ctx.yt, text, len, add_document, &ctx, &documents);
	if (err)
		goto cleanup;

	if (ctx.yt.errors == 0 && documents == 0)
		error_at(&ctx, (struct source_pos){ 0, 0 }, "no test documents");

	/*
	 * The test file's own messages read top to bottom; the policies' come
	 * after them, each file's already in order (sorting all together would
	 * interleave files).
	 */
	if (diag_sort(diags, first_diag)) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < ctx.doc_count; i++) {
		int ret = load_policies(&ctx.docs[i], diags);

		if (ret == -ENOMEM) {
			err = ret;
			goto cleanup;
		}
		if (ret)
			ctx.yt.errors++;
	}
	if (ctx.yt.errors) {
		err = -EINVAL;
		goto cleanup;
	}
	tf->path = strdup(name);
	tf->docs = calloc(ctx.doc_count, sizeof(*tf->docs));
	if (!tf->path || !tf->docs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < ctx.doc_count; i++) {
		tf->docs[i] = ctx.docs[i].doc;
		ctx.docs[i].doc = (struct policytest_doc){ 0 };
	}
	tf->doc_count = ctx.doc_count;

cleanup:
	if (!err && ctx.yt.oom)
		err = ctx.yt.oom;
	if (err)
		policytest_file_free(tf);
	for (size_t i = 0; i < ctx.doc_count; i++)
		doc_build_free(&ctx.docs[i]);
	free(ctx.docs);
	for (size_t i = 0; i < ctx.seen_count; i++)
		free(ctx.seen[i].name);
	free(ctx.seen);
	return err;
}

int policytest_parse_file(const char *path, struct policytest_file *tf, struct diag_list *diags)
{
	char *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	int err;

	*tf = (struct policytest_file){ 0 };
	/* One byte past the limit is read, so that policytest_parse_buffer sees "too long". */
	err = ytree_read_file(path, &text, &len);
	if (err == -ENOMEM)
		goto cleanup;
	if (err)
		goto unreadable;

	dir = strdup(path);
	if (!dir) {
		err = -ENOMEM;
		goto cleanup;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0'; /* "/t.test.yaml": the root */
	else
		*slash = '\0';
	err = policytest_parse_buffer(path, dir, text, len, tf, diags);
	goto cleanup;

unreadable:
	if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read test file: %s",
		     ytree_read_error(err)))
		err = -ENOMEM;
	else
		err = -EINVAL;
cleanup:
	free(text);
	free(dir);
	return err;
}
