/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy parsing and validation. yamltree.c reads the file into a small
 * tree with positions (refusing anchors, aliases and tags); the tree is then
 * checked key by key into struct policy: documents, metadata and selectors
 * here, sections in sections.c, single targets in target.c. Every
 * problem becomes a diagnostic at the position of the offending scalar, and
 * checking goes on after an error so that one run reports them all.
 *
 * docs/policy.md is the user-facing description of everything checked here.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "journal/decision.h"
#include "policy/delegate.h"
#include "policy/sections.h"
#include "util/yamltree.h"

#define POLICY_NAME_MAX 63

#define error_at(ctx, pos, ...) ytree_report(ctx, DIAG_ERROR, pos, __VA_ARGS__)
#define warn_at(ctx, pos, ...) ytree_report(ctx, DIAG_WARNING, pos, __VA_ARGS__)

/* ---- single rules ---- */

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > POLICY_NAME_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static void parse_metadata(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "name" };
	const struct ynode *knodes[1], *vals[1];
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "metadata"))
		return;
	ytree_map_fields(ctx, map, "metadata", keys, 1, knodes, vals);
	if (!vals[0]) {
		error_at(ctx, map->pos, "missing required key \"name\" in metadata");
		return;
	}
	if (!ytree_expect_string(ctx, vals[0], "metadata.name"))
		return;
	if (!valid_name(vals[0]->text, vals[0]->len)) {
		error_at(ctx, vals[0]->pos,
			 "metadata.name: %s is not a valid name: use lowercase letters, digits and '-', "
			 "begin and end with a letter or digit, at most %d characters",
			 ytree_quote(&q, vals[0]->text, vals[0]->len), POLICY_NAME_MAX);
		return;
	}
	p->name = strdup(vals[0]->text);
	if (!p->name)
		ctx->oom = -ENOMEM;
}

/* A glob of a selector: a non-empty string without control characters; strdup'ed into *out. */
static bool parse_glob(struct ytree_ctx *ctx, const struct ynode *n, const char *what,
		       const char *kind, char **out)
{
	char ctl[8];
	size_t at;
	struct ytree_quoted q;

	if (!ytree_expect_string(ctx, n, what))
		return false;
	if (n->len == 0) {
		error_at(ctx, n->pos, "%s: empty %s", what, kind);
		return false;
	}
	if (ytree_find_control(n->text, n->len, ctl, &at)) {
		error_at(ctx, n->pos, "%s: %s contains a control character (%s) at byte %zu: %s",
			 what, kind, ctl, at, ytree_quote(&q, n->text, n->len));
		return false;
	}
	*out = strdup(n->text);
	if (!*out) {
		ctx->oom = -ENOMEM;
		return false;
	}
	return true;
}

/* spec.selector.workloads or .cgroups: a non-empty list of globs. */
static void parse_glob_list(struct ytree_ctx *ctx, const struct ynode *list, const char *where,
			    const char *kind, char ***globs, size_t *count)
{
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, where))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos, "%s: the list is empty; name at least one %s", where, kind);
		return;
	}
	*globs = calloc(list->count, sizeof(**globs));
	if (!*globs) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		char what[64];

		snprintf(what, sizeof(what), "%s[%zu]", where, i);
		if (!parse_glob(ctx, n, what, kind, &(*globs)[*count]))
			continue;
		(*count)++;
		if (!strcmp(kind, "cgroup glob") && n->text[0] == '/') {
			/* Relative to the cgroup2 root, as /proc/PID/cgroup shows it minus "0::/". */
			error_at(ctx, n->pos,
				 "%s: cgroup globs are relative to the cgroup2 root; write %s without "
				 "the leading '/'",
				 what, ytree_quote(&q, n->text, n->len));
		}
	}
}

/* Label keys: [A-Za-z0-9]([A-Za-z0-9._/-]*), at most 63 (as `actgate run --label` takes). */
/* spec.selector.labels: {KEY: GLOB, ...} */
static void parse_label_selector(struct ytree_ctx *ctx, const struct ynode *map,
				 struct policy_selector *sel)
{
	const char *where = "spec.selector.labels";
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, where))
		return;
	if (map->count == 0) {
		error_at(ctx, map->pos, "%s: the mapping is empty; name at least one label", where);
		return;
	}
	sel->labels = calloc(map->count / 2, sizeof(*sel->labels));
	if (!sel->labels) {
		ctx->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		struct label_match *m = &sel->labels[sel->label_count];
		char what[128];

		if (!ytree_expect_string(ctx, k, where))
			continue;
		if (!workload_label_key_valid(k->text, k->len)) {
			error_at(ctx, k->pos,
				 "%s: %s is not a valid label key: letters, digits, '.', '_', '/' and "
				 "'-', starting with a letter or digit, at most 63 characters",
				 where, ytree_quote(&q, k->text, k->len));
			continue;
		}
		if (ytree_duplicate_key(ctx, map, i, where))
			continue;
		snprintf(what, sizeof(what), "%s.%s", where, k->text);
		if (!parse_glob(ctx, v, what, "label glob", &m->glob))
			continue;
		m->key = strdup(k->text);
		m->pos = k->pos;
		sel->label_count++;
		if (!m->key) {
			ctx->oom = -ENOMEM;
			return;
		}
	}
}

static void parse_selector(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "workloads", "cgroups", "labels" };
	const struct ynode *knodes[3], *vals[3];
	struct policy_selector *sel = &p->selector;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec.selector"))
		return;
	ytree_map_fields(ctx, map, "spec.selector", keys, 3, knodes, vals);
	if (!vals[0] && !vals[1] && !vals[2]) {
		error_at(ctx, map->pos,
			 "spec.selector selects nothing: give workloads, cgroups or labels");
		return;
	}
	if (vals[0])
		parse_glob_list(ctx, vals[0], "spec.selector.workloads", "workload glob",
				&sel->workload_globs, &sel->workload_glob_count);
	if (vals[1])
		parse_glob_list(ctx, vals[1], "spec.selector.cgroups", "cgroup glob",
				&sel->cgroup_globs, &sel->cgroup_glob_count);
	if (vals[2])
		parse_label_selector(ctx, vals[2], sel);
}

/*
 * spec.kernel: {allow: [DOOR, ...]}, the kernel's doors to code outside the
 * workload that the policy allows (docs/policy.md, "The kernel's doors").
 */
static void parse_kernel(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "allow" };
	const struct ynode *knodes[1], *vals[1], *list;
	struct ytree_quoted q;

	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec.kernel"))
		return;
	ytree_map_fields(ctx, map, "spec.kernel", keys, 1, knodes, vals);
	list = vals[0];
	if (!list) {
		error_at(ctx, map->pos, "missing required key \"allow\" in spec.kernel");
		return;
	}
	if (!ytree_expect_kind(ctx, list, YNODE_SEQ, "spec.kernel.allow"))
		return;
	if (list->count == 0) {
		error_at(ctx, list->pos,
			 "spec.kernel.allow: the list is empty; name a door, or leave spec.kernel "
			 "out (every door is then refused)");
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct ynode *n = list->items[i];
		uint32_t door;
		char what[64];

		snprintf(what, sizeof(what), "spec.kernel.allow[%zu]", i);
		if (!ytree_expect_string(ctx, n, what))
			continue;
		if (strlen(n->text) != n->len || kernel_door_from_name(n->text, &door) < 0) {
			error_at(ctx, n->pos,
				 "%s: unknown door %s; expected modules, kexec, core-pattern, "
				 "modprobe, uevent-helper, binfmt-misc, poweroff-cmd or mem-devices",
				 what, ytree_quote(&q, n->text, n->len));
			continue;
		}
		if (p->kernel_allow & (1u << door)) {
			error_at(ctx, n->pos, "%s: %s is already in the list", what,
				 ytree_quote(&q, n->text, n->len));
			continue;
		}
		p->kernel_allow |= 1u << door;
	}
}

static void parse_spec(struct ytree_ctx *ctx, const struct ynode *map, struct policy *p)
{
	static const char *const keys[] = { "selector", "mode", "record", "exec", "open",
					    "connect", "kernel", "delegate" };
	const struct ynode *knodes[8], *vals[8];

	p->mode = ACTGATE_MODE_ENFORCE;
	p->record = ACTGATE_RECORD_ALL;
	/* Absent sections still need a place to name their default from. */
	p->exec.default_pos = p->open.default_pos = p->connect.default_pos = map->pos;
	if (!ytree_expect_kind(ctx, map, YNODE_MAP, "spec"))
		return;
	ytree_map_fields(ctx, map, "spec", keys, 8, knodes, vals);

	if (vals[0])
		parse_selector(ctx, vals[0], p);
	else
		error_at(ctx, map->pos, "missing required key \"selector\" in spec");

	/* Before the sections: a rule's mode and record default to these. */
	if (vals[1])
		policy_parse_mode(ctx, vals[1], "spec.mode", &p->mode);
	if (vals[2])
		policy_parse_record(ctx, vals[2], "spec.record", &p->record);
	if (vals[3])
		policy_parse_path_section(ctx, knodes[3], vals[3], "spec.exec", ACTGATE_ACTION_EXEC, p,
				   &p->exec);
	if (vals[4])
		policy_parse_path_section(ctx, knodes[4], vals[4], "spec.open", ACTGATE_ACTION_OPEN, p,
				   &p->open);
	if (vals[5])
		policy_parse_net_section(ctx, knodes[5], vals[5], "spec.connect", p, &p->connect);
	if (vals[6])
		parse_kernel(ctx, vals[6], p);
	if (vals[7])
		policy_parse_delegate(ctx, vals[7], p);
}

/* One document's tree into p; errors are counted in ctx. */
static void parse_document(struct ytree_ctx *ctx, const struct ynode *root, struct policy *p)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	const struct ynode *knodes[4], *vals[4];
	struct ytree_quoted q;

	p->pos = root->pos;
	p->file = strdup(ctx->file);
	if (!p->file) {
		ctx->oom = -ENOMEM;
		return;
	}
	if (root->kind != YNODE_MAP) {
		error_at(ctx, root->pos, "expected a Policy mapping at the top of the document, found %s",
			 ynode_describe(root));
		return;
	}
	ytree_map_fields(ctx, root, "the policy", keys, 4, knodes, vals);

	if (!vals[0])
		error_at(ctx, root->pos, "missing required key \"apiVersion\"");
	else if (ytree_expect_string(ctx, vals[0], "apiVersion") &&
		 !ynode_is(vals[0], POLICY_API_VERSION))
		error_at(ctx, vals[0]->pos, "apiVersion: expected \"%s\", found %s", POLICY_API_VERSION,
			 ytree_quote(&q, vals[0]->text, vals[0]->len));

	if (!vals[1])
		error_at(ctx, root->pos, "missing required key \"kind\"");
	else if (ytree_expect_string(ctx, vals[1], "kind") && !ynode_is(vals[1], POLICY_KIND))
		error_at(ctx, vals[1]->pos, "kind: expected \"%s\", found %s", POLICY_KIND,
			 ytree_quote(&q, vals[1]->text, vals[1]->len));

	if (vals[2])
		parse_metadata(ctx, vals[2], p);
	else
		error_at(ctx, root->pos, "missing required key \"metadata\"");

	if (vals[3])
		parse_spec(ctx, vals[3], p);
	else
		error_at(ctx, root->pos, "missing required key \"spec\"");
}

static int append_policies(struct policy_set *set, struct policy *add, size_t n)
{
	struct policy *all;

	if (!n)
		return 0;
	all = realloc(set->policies, (set->count + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all + set->count, add, n * sizeof(*add));
	set->policies = all;
	set->count += n;
	return 0;
}

/* What policy_parse_buffer keeps while ytree_parse hands it documents. */
struct parse_state {
	struct ytree_ctx *ctx;
	struct policy *parsed;
	size_t count;
};

static int add_document(void *arg, const struct ynode *root, bool rejected)
{
	struct parse_state *st = arg;
	size_t errors = st->ctx->errors;
	struct policy p = { 0 };
	struct policy *grown;

	if (!rejected)
		parse_document(st->ctx, root, &p);
	if (st->ctx->oom) {
		policy_free(&p);
		return st->ctx->oom;
	}
	if (rejected || st->ctx->errors != errors) {
		policy_free(&p);
		return 0;
	}
	grown = realloc(st->parsed, (st->count + 1) * sizeof(*st->parsed));
	if (!grown) {
		policy_free(&p);
		return -ENOMEM;
	}
	st->parsed = grown;
	st->parsed[st->count++] = p;
	return 0;
}

int policy_parse_buffer(const char *name, const char *text, size_t len, struct policy_set *set,
			struct diag_list *diags)
{
	struct ytree_ctx ctx = { .file = name, .what = "policy file", .diags = diags };
	struct parse_state st = { .ctx = &ctx };
	size_t first_diag = diags->count, documents = 0;
	int err;

	err = ytree_parse(&ctx, text, len, add_document, &st, &documents);
	if (err)
		goto cleanup;

	if (ctx.errors == 0 && documents == 0) {
		error_at(&ctx, (struct source_pos){ 0, 0 }, "no policy documents");
		err = -EINVAL;
	} else if (ctx.errors) {
		err = -EINVAL;
	} else {
		err = append_policies(set, st.parsed, st.count);
		if (!err)
			st.count = 0; /* now owned by set */
	}

cleanup:
	if (!err && ctx.oom)
		err = ctx.oom;
	if (diag_sort(diags, first_diag) && !err)
		err = -ENOMEM;
	for (size_t i = 0; i < st.count; i++)
		policy_free(&st.parsed[i]);
	free(st.parsed);
	return err;
}

int policy_parse_file(const char *path, struct policy_set *set, struct diag_list *diags)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	/* One byte past the limit is read, so that policy_parse_buffer sees "too long". */
	err = ytree_read_file(path, &text, &len);
	if (err) {
		if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read policy file: %s",
			     ytree_read_error(err)))
			err = -ENOMEM;
		return err;
	}
	err = policy_parse_buffer(path, text, len, set, diags);
	free(text);
	return err;
}

static int policy_name_cmp(const void *a, const void *b, void *arg)
{
	const struct policy *policies = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(policies[ia].name, policies[ib].name);

	if (c)
		return c;
	return ia < ib ? -1 : ia > ib; /* the first one loaded is the original */
}

int policy_set_validate(const struct policy_set *set, struct diag_list *diags)
{
	size_t *idx = NULL, n = 0;
	int err = 0;

	/* Sorted, not pairwise: a directory may hold thousands of policies. */
	idx = malloc((set->count ? set->count : 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < set->count; i++)
		if (set->policies[i].name)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), policy_name_cmp, set->policies);

	for (size_t i = 1, first = 0; i < n; i++) {
		const struct policy *p = &set->policies[idx[i]];
		const struct policy *f = &set->policies[idx[first]];

		if (strcmp(p->name, f->name)) {
			first = i;
			continue;
		}
		if (diag_add(diags, DIAG_ERROR, p->file, p->pos.line, p->pos.col,
			     "policy name \"%s\" is already used at %s:%u", p->name, f->file,
			     f->pos.line)) {
			err = -ENOMEM;
			goto cleanup;
		}
		err = -EINVAL;
	}

cleanup:
	free(idx);
	return err;
}

static bool is_policy_file(const char *name)
{
	/* Editors' and tools' hidden files (.x.yaml.swp, .#x.yaml) are not policies. */
	if (name[0] == '.')
		return false;
	/* Policy tests live beside their policies (docs/policy-tests.md). */
	if (ytree_has_suffix(name, ".test.yaml") || ytree_has_suffix(name, ".test.yml"))
		return false;
	return ytree_has_suffix(name, ".yaml") || ytree_has_suffix(name, ".yml");
}

static int source_add(struct policy_sources *src, char *name, char *text, size_t len)
{
	struct policy_source *items = realloc(src->items, (src->count + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	src->items = items;
	src->items[src->count++] = (struct policy_source){ .name = name, .text = text, .len = len };
	return 0;
}

int policy_sources_read_dir(const char *dir, struct policy_sources *src, struct diag_list *diags)
{
	char **names = NULL;
	size_t count = 0;
	DIR *d = NULL;
	int err = 0;

	*src = (struct policy_sources){ 0 };
	d = opendir(dir);
	if (!d) {
		err = -errno;
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0, "cannot open policy directory: %s",
			     strerror(-err)))
			err = -ENOMEM;
		goto cleanup;
	}
	err = ytree_read_dir(d, is_policy_file, &names, &count);
	if (err == -ENOMEM)
		goto cleanup;
	if (err) {
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0, "cannot read policy directory: %s",
			     strerror(-err)))
			err = -ENOMEM;
		goto cleanup;
	}
	if (count == 0) {
		err = -ENOENT;
		if (diag_add(diags, DIAG_ERROR, dir, 0, 0,
			     "no policy files (*.yaml, *.yml) in the policy directory"))
			err = -ENOMEM;
		goto cleanup;
	}

	/* Every file is read, so that one run reports every file that cannot be. */
	for (size_t i = 0; i < count; i++) {
		char *path = NULL, *text = NULL;
		size_t len = 0;
		int ret;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			err = -ENOMEM;
			goto cleanup;
		}
		/* One byte past the limit is read, so that policy_parse_buffer sees "too long". */
		ret = ytree_read_file(path, &text, &len);
		if (ret) {
			if (diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read policy file: %s",
				     ytree_read_error(ret)))
				ret = -ENOMEM;
			free(path);
		} else {
			ret = source_add(src, path, text, len);
			if (ret) {
				free(path);
				free(text);
			}
		}
		if (ret == -ENOMEM) {
			err = ret;
			goto cleanup;
		}
		if (ret && !err)
			err = ret;
	}

cleanup:
	if (err)
		policy_sources_free(src);
	ytree_free_names(names, count);
	if (d)
		closedir(d);
	return err;
}

int policy_load_sources(const struct policy_sources *src, struct policy_set *set,
			struct diag_list *diags)
{
	int err = 0, ret;

	/* Every file is parsed, so that one run reports every file's errors. */
	for (size_t i = 0; i < src->count; i++) {
		ret = policy_parse_buffer(src->items[i].name, src->items[i].text, src->items[i].len,
					  set, diags);
		if (ret == -ENOMEM) {
			err = ret;
			goto cleanup;
		}
		if (ret && !err)
			err = ret;
	}
	ret = policy_set_validate(set, diags);
	if (ret && !err)
		err = ret;
cleanup:
	if (err)
		policy_set_free(set);
	return err;
}

void policy_sources_free(struct policy_sources *src)
{
	for (size_t i = 0; i < src->count; i++) {
		free(src->items[i].name);
		free(src->items[i].text);
	}
	free(src->items);
	*src = (struct policy_sources){ 0 };
}

int policy_load_dir(const char *dir, struct policy_set *set, struct diag_list *diags)
{
	struct policy_sources src;
	int err = policy_sources_read_dir(dir, &src, diags);

	if (err) {
		policy_set_free(set);
		return err;
	}
	err = policy_load_sources(&src, set, diags);
	policy_sources_free(&src);
	return err;
}
