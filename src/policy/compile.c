/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The compiler: a policy set -> policy images -> effective policies (see
 * compile.h). Every step sorts and then scans, so that a policy of 100,000
 * rules compiles in well under a second (tests/bench/bench_compile.c).
 */
#include <linux/types.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "policy/compile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A bound on the port decisions built while composing one prefix, before
 * they are simplified; well above what ACTGATE_NET_RULES_PER_PREFIX lets
 * through, so only lists that could never be enforced reach it.
 */
#define NET_FOLD_MAX 4096

static const uint8_t path_actions[] = { ACTGATE_ACTION_EXEC, ACTGATE_ACTION_OPEN,
					ACTGATE_ACTION_CONNECT };

int resolve_path_stat(const char *path, struct resolved_path *out, void *ctx)
{
	struct stat st;

	(void)ctx;
	if (stat(path, &st) < 0)
		return -errno;
	/* The kernel's internal dev_t: major in the top 12 bits, minor in the low 20. */
	out->dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
	out->ino = st.st_ino;
	out->type = st.st_mode & S_IFMT;
	return 0;
}

static int grow(void **items, size_t *cap, size_t need, size_t item_size)
{
	size_t new_cap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	p = realloc(*items, new_cap * item_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = new_cap;
	return 0;
}

/* ---- a policy's sections, seen alike ---- */

struct section_view {
	const struct path_rule *paths; /* exec/open rules, connect's unix rules */
	size_t path_count;
	const struct net_rule *nets;   /* connect's IP rules */
	size_t net_count;
	const struct policy_overlay *overlays;
	size_t overlay_count;
	uint8_t base_default;
};

static struct section_view section_of(const struct policy *p, uint8_t action)
{
	const struct path_rules *s = action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;

	if (action == ACTGATE_ACTION_CONNECT)
		return (struct section_view){
			.paths = p->connect.unix_rules, .path_count = p->connect.unix_count,
			.nets = p->connect.rules, .net_count = p->connect.count,
			.overlays = p->connect.overlays, .overlay_count = p->connect.overlay_count,
			.base_default = p->connect.default_verdict,
		};
	return (struct section_view){
		.paths = s->rules, .path_count = s->count,
		.overlays = s->overlays, .overlay_count = s->overlay_count,
		.base_default = s->default_verdict,
	};
}

static const char *section_name(uint8_t action)
{
	return action == ACTGATE_ACTION_EXEC ? "exec" : action == ACTGATE_ACTION_OPEN ? "open"
										      : "connect";
}

/* Where a rule is written, as the parser names it: "spec.open.when[0].deny[2]". */
static void rule_where(char *buf, size_t size, uint8_t action, int overlay, uint8_t verdict,
		       unsigned index)
{
	char scope[32] = "";

	if (overlay != POLICY_BASE)
		snprintf(scope, sizeof(scope), ".when[%d]", overlay);
	snprintf(buf, size, "spec.%s%s.%s[%u]", section_name(action), scope,
		 verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow", index);
}

/* ---- the image: rule ids and resolved paths ---- */

/*
 * Paths whose inodes are a process's own (/proc/self/..., /proc/1234/...):
 * resolved by the daemon, they name the daemon's files, never a workload's.
 * The parser refuses them too; rules made outside a policy file reach here.
 */
static bool names_own_process(const char *path)
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

/*
 * Resolve one rule's path into *out. Returns 0 (also for a path that does
 * not exist: warned, out->found false), 1 after reporting an error, or
 * -ENOMEM.
 */
static int resolve_rule(const struct policy *p, uint8_t action, const struct path_rule *r,
			path_resolver_fn resolve, void *resolve_ctx, struct resolved_rule *out,
			struct diag_list *diags)
{
	const char *unix_prefix = action == ACTGATE_ACTION_CONNECT ? "unix:" : "";
	const char *slash = r->subtree && strcmp(r->path, "/") ? "/" : "";
	struct resolved_path rp = { 0 };
	char where[96];
	int err;

	memset(out, 0, sizeof(*out));
	if (names_own_process(r->path)) {
		rule_where(where, sizeof(where), action, r->overlay, r->verdict, r->index);
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s names a process's own /proc files; the daemon resolves "
			       "rules to files when it loads them, so this would name the daemon's "
			       "own and never match a workload's (a subtree rule on /proc/ covers "
			       "every process)",
			       where, unix_prefix, r->path, slash);
		return err ? err : 1;
	}
	err = resolve(r->path, &rp, resolve_ctx);
	/* Named only for a message: most rules need none. */
	if (err || (r->subtree && rp.type != S_IFDIR) ||
	    (action == ACTGATE_ACTION_CONNECT && !r->subtree && rp.type != S_IFSOCK))
		rule_where(where, sizeof(where), action, r->overlay, r->verdict, r->index);
	if (err == -ENOENT) {
		err = diag_add(diags, DIAG_WARNING, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s: no such file or directory: the rule matches nothing "
			       "until the path exists%s",
			       where, unix_prefix, r->path, slash,
			       r->verdict == ACTGATE_VERDICT_DENY
				       ? " (actgated follows deny rules' paths)"
				       : " and the policy is loaded again (allow rules do not follow "
					 "their paths)");
		return err;
	}
	if (err) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s: cannot resolve: %s", where, unix_prefix, r->path, slash,
			       strerror(-err));
		return err ? err : 1;
	}
	if (r->subtree && rp.type != S_IFDIR) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s/: a trailing '/' means a directory's subtree, but this is "
			       "not a directory",
			       where, unix_prefix, r->path);
		return err ? err : 1;
	}
	if (action == ACTGATE_ACTION_CONNECT && !r->subtree && rp.type != S_IFSOCK) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: unix:%s is not a unix socket, so no connection can reach it; "
			       "name the socket file (or a directory of sockets, with a trailing '/')",
			       where, r->path);
		return err ? err : 1;
	}
	out->dev = rp.dev;
	out->ino = rp.ino;
	out->found = true;
	return 0;
}

static struct image_rule *add_rule(struct policy_image *img, uint32_t policy, uint8_t action,
				   int verdict, int overlay, unsigned index)
{
	struct image_rule *r = &img->rules[img->rule_count++];

	*r = (struct image_rule){ .policy = policy, .action = action, .verdict = (int8_t)verdict,
				  .overlay = (int16_t)overlay, .index = index };
	return r;
}

/* Rule ids for every rule and default of the set, in set order; and room for the paths. */
static int assign_rule_ids(struct policy_image *img)
{
	size_t rules = 1, paths = 0;

	for (size_t i = 0; i < img->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&img->set_policies[i], path_actions[a]);

			rules += 1 + s.overlay_count + s.path_count + s.net_count;
			paths += s.path_count;
		}
	}
	if (rules > UINT32_MAX)
		return -E2BIG;
	img->bases = calloc(img->set_count, sizeof(*img->bases));
	img->rules = calloc(rules, sizeof(*img->rules));
	img->resolved = calloc(paths ? paths : 1, sizeof(*img->resolved));
	if (!img->bases || !img->rules || !img->resolved)
		return -ENOMEM;
	img->rule_count = 1; /* id 0 names no rule */
	for (size_t i = 0; i < img->set_count; i++) {
		struct image_policy_base *b = &img->bases[i];

		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			uint8_t action = path_actions[a];
			struct section_view s = section_of(&img->set_policies[i], action);

			b->default_id[action] = (uint32_t)img->rule_count;
			add_rule(img, (uint32_t)i, action, RULE_DEFAULT, POLICY_BASE, 0);
			for (size_t k = 0; k < s.overlay_count; k++)
				add_rule(img, (uint32_t)i, action, RULE_DEFAULT, (int)k, 0);
			b->rule_id[action] = (uint32_t)img->rule_count;
			for (size_t k = 0; k < s.net_count; k++)
				add_rule(img, (uint32_t)i, action, s.nets[k].verdict, s.nets[k].overlay,
					 s.nets[k].index);
			if (action == ACTGATE_ACTION_CONNECT)
				b->unix_rule_id = (uint32_t)img->rule_count;
			for (size_t k = 0; k < s.path_count; k++)
				add_rule(img, (uint32_t)i, action, s.paths[k].verdict,
					 s.paths[k].overlay, s.paths[k].index);
			b->resolved[action] = img->resolved_count;
			img->resolved_count += s.path_count;
		}
	}
	return 0;
}

static int resolve_all(struct policy_image *img, path_resolver_fn resolve, void *resolve_ctx,
		       struct diag_list *diags, bool *failed)
{
	for (size_t i = 0; i < img->set_count; i++) {
		const struct policy *p = &img->set_policies[i];

		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			uint8_t action = path_actions[a];
			struct section_view s = section_of(p, action);
			struct resolved_rule *out = &img->resolved[img->bases[i].resolved[action]];

			for (size_t k = 0; k < s.path_count; k++) {
				int err = resolve_rule(p, action, &s.paths[k], resolve, resolve_ctx,
						       &out[k], diags);

				if (err < 0)
					return err;
				if (err)
					*failed = true;
				else if (out[k].found)
					img->checked_path_rules++;
			}
		}
	}
	return 0;
}

int policy_image_for_each_path(const struct policy_image *img, image_path_fn fn, void *ctx)
{
	for (size_t i = 0; i < img->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&img->set_policies[i], path_actions[a]);
			const struct resolved_rule *r =
				&img->resolved[img->bases[i].resolved[path_actions[a]]];

			for (size_t k = 0; k < s.path_count; k++) {
				int err = fn(&s.paths[k], &r[k], ctx);

				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* The identities a deny rule keeps: its file now, and every one of prev's. */
static int follow_deny(struct resolved_rule *next, const struct resolved_rule *prev,
		       struct path_identity **out, size_t *out_count)
{
	size_t max = prev->earlier_count + 1, n = 0;
	struct path_identity *ids = calloc(max, sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < prev->earlier_count; i++)
		if (!(next->found && next->dev == prev->earlier[i].dev &&
		      next->ino == prev->earlier[i].ino))
			ids[n++] = prev->earlier[i];
	if (prev->found && !(next->found && next->dev == prev->dev && next->ino == prev->ino))
		ids[n++] = (struct path_identity){ .dev = prev->dev, .ino = prev->ino };
	*out = ids;
	*out_count = n;
	return 0;
}

int policy_image_follow(struct policy_image *next, const struct policy_image *prev)
{
	struct path_identity **earlier = NULL;
	size_t *counts = NULL, r;
	int err = 0;

	if (next->set_count != prev->set_count || next->resolved_count != prev->resolved_count ||
	    next->policy_count)
		return -EINVAL;
	earlier = calloc(next->resolved_count + 1, sizeof(*earlier));
	counts = calloc(next->resolved_count + 1, sizeof(*counts));
	if (!earlier || !counts) {
		err = -ENOMEM;
		goto out;
	}
	/* Everything is prepared first, so that a failure leaves next as it was. */
	for (size_t i = 0; i < next->set_count && !err; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions) && !err; a++) {
			struct section_view s = section_of(&next->set_policies[i], path_actions[a]);
			size_t first = next->bases[i].resolved[path_actions[a]];

			if (first != prev->bases[i].resolved[path_actions[a]]) {
				err = -EINVAL;
				break;
			}
			for (size_t k = 0; k < s.path_count && !err; k++) {
				if (s.paths[k].verdict == ACTGATE_VERDICT_DENY)
					err = follow_deny(&next->resolved[first + k],
							  &prev->resolved[first + k],
							  &earlier[first + k], &counts[first + k]);
			}
		}
	}
	if (err)
		goto out;
	for (size_t i = 0; i < next->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&next->set_policies[i], path_actions[a]);
			size_t first = next->bases[i].resolved[path_actions[a]];

			for (size_t k = 0; k < s.path_count; k++) {
				struct resolved_rule *nr = &next->resolved[first + k];

				if (s.paths[k].verdict != ACTGATE_VERDICT_DENY) {
					nr->found = prev->resolved[first + k].found;
					nr->dev = prev->resolved[first + k].dev;
					nr->ino = prev->resolved[first + k].ino;
					continue;
				}
				free(nr->earlier);
				nr->earlier = earlier[first + k];
				nr->earlier_count = counts[first + k];
				earlier[first + k] = NULL;
			}
		}
	}
out:
	for (r = 0; earlier && r < next->resolved_count; r++)
		free(earlier[r]);
	free(earlier);
	free(counts);
	return err;
}

/* ---- decisions and how they compose ---- */

struct decision {
	uint32_t rule_id;
	uint8_t verdict;
	uint8_t mode;
	uint8_t record;
	uint32_t pos; /* the deciding policy's position in the key: a tie goes to the earlier */
};

/* Does a beat b (docs/policy.md, "Several policies")? A strict total order. */
static bool beats(const struct decision *a, const struct decision *b)
{
	int ra = policy_decision_rank(a->verdict, a->mode);
	int rb = policy_decision_rank(b->verdict, b->mode);

	return ra > rb || (ra == rb && a->pos < b->pos);
}

static bool same_decision(const struct decision *a, const struct decision *b)
{
	return a->rule_id == b->rule_id && a->verdict == b->verdict && a->mode == b->mode &&
	       a->record == b->record;
}

static struct actgate_decision_slot slot_of(const struct decision *d)
{
	return (struct actgate_decision_slot){ .rule_id = d->rule_id, .verdict = d->verdict,
					       .mode = d->mode, .record = d->record, .set = 1 };
}

/* Everything one effective compilation needs to hand. */
struct build {
	struct policy_image *img;
	const struct policy_selection *sel;
	size_t count;
	uint32_t policy_id;
	struct diag_list *diags;
	/* Per action, the section default of each policy of the key, by position. */
	struct decision *defaults;
	/*
	 * Per action, the positions ordered by how their defaults compose (the
	 * winner first): the first one not decided by a rule supplies the
	 * composed default of everything else.
	 */
	uint32_t *default_order;
	/* Scratch, by position: seen[pos] == stamp marks a policy decided by a rule. */
	uint32_t *seen;
	uint32_t stamp;
};

static const struct policy *policy_at(const struct build *b, uint32_t pos)
{
	return &b->img->set_policies[b->sel[pos].index];
}

static uint32_t rule_id_of_path(const struct build *b, uint32_t pos, uint8_t action, size_t k)
{
	const struct image_policy_base *base = &b->img->bases[b->sel[pos].index];

	return (uint32_t)((action == ACTGATE_ACTION_CONNECT ? base->unix_rule_id
							     : base->rule_id[action]) + k);
}

static struct decision rule_decision(uint32_t rule_id, uint8_t verdict, uint8_t mode,
				     uint8_t record, uint32_t pos)
{
	return (struct decision){ .rule_id = rule_id, .verdict = verdict, .mode = mode,
				  .record = record, .pos = pos };
}

static struct decision default_of(const struct build *b, uint32_t pos, uint8_t action)
{
	const struct policy *p = policy_at(b, pos);
	struct section_view s = section_of(p, action);
	uint32_t id = b->img->bases[b->sel[pos].index].default_id[action];
	int overlay;
	uint8_t verdict = policy_section_default(s.base_default, s.overlays, s.overlay_count,
						 b->sel[pos].active[action], &overlay);

	if (overlay != POLICY_BASE)
		id += 1 + (uint32_t)overlay;
	return rule_decision(id, verdict, p->mode, p->record, pos);
}

static const struct decision *default_at(const struct build *b, uint8_t action, uint32_t pos)
{
	return &b->defaults[(size_t)action * b->count + pos];
}

/* Sorting positions by their defaults needs the build: qsort_r carries it. */
static int compare_default_order(const void *x, const void *y, void *ctx)
{
	const struct decision *a = ctx;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;

	if (beats(&a[i], &a[j]))
		return -1;
	return beats(&a[j], &a[i]) ? 1 : 0;
}

static int build_init(struct build *b, struct policy_image *img,
		      const struct policy_selection *sel, size_t count, uint32_t policy_id,
		      struct diag_list *diags)
{
	memset(b, 0, sizeof(*b));
	b->img = img;
	b->sel = sel;
	b->count = count;
	b->policy_id = policy_id;
	b->diags = diags;
	b->defaults = calloc(ACTGATE_NR_POLICY_ACTIONS * count, sizeof(*b->defaults));
	b->default_order = calloc(ACTGATE_NR_POLICY_ACTIONS * count, sizeof(*b->default_order));
	b->seen = calloc(count, sizeof(*b->seen));
	if (!b->defaults || !b->default_order || !b->seen)
		return -ENOMEM;
	for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
		uint8_t action = path_actions[a];
		uint32_t *order = &b->default_order[(size_t)action * count];

		for (uint32_t pos = 0; pos < count; pos++) {
			b->defaults[(size_t)action * count + pos] = default_of(b, pos, action);
			order[pos] = pos;
		}
		qsort_r(order, count, sizeof(*order), compare_default_order,
			&b->defaults[(size_t)action * count]);
	}
	return 0;
}

static void build_free(struct build *b)
{
	free(b->defaults);
	free(b->default_order);
	free(b->seen);
}

/* A new round of "decided by a rule" marks. */
static void new_stamp(struct build *b)
{
	if (++b->stamp == 0) {
		memset(b->seen, 0, b->count * sizeof(*b->seen));
		b->stamp = 1;
	}
}

/* The composed default of every policy not marked in this round. */
static const struct decision *unmarked_default(const struct build *b, uint8_t action)
{
	const uint32_t *order = &b->default_order[(size_t)action * b->count];

	for (size_t i = 0; i < b->count; i++)
		if (b->seen[order[i]] != b->stamp)
			return default_at(b, action, order[i]);
	return NULL;
}

/* ---- path rules: exec, open, and connect's unix sockets ---- */

struct path_item {
	uint32_t dev;
	uint8_t kind;
	uint64_t ino;
	uint32_t pos;   /* the policy's position in the key */
	uint32_t order; /* the rule's position in its section: ties go to the earlier */
	const struct path_rule *rule;
	uint32_t rule_id;
	bool earlier; /* a file the rule's path named before (policy_image_follow) */
};

static int compare_location(const struct path_item *x, const struct path_item *y)
{
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return 0;
}

static int compare_path_items(const void *a, const void *b)
{
	const struct path_item *x = a, *y = b;
	int c = compare_location(x, y);

	if (c)
		return c;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A location: the run of items with one (dev, ino, kind), sorted by policy position. */
struct location {
	size_t first;
	size_t count;
};

/* A subtree rule's path string, to find the location of a directory by name. */
struct path_name {
	const char *path;
	size_t len;
	size_t location;
};

static int compare_names(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int compare_path_names(const void *a, const void *b)
{
	const struct path_name *x = a, *y = b;

	return compare_names(x->path, x->len, y->path, y->len);
}

struct path_index {
	struct path_item *items;
	size_t item_count;
	struct location *locations;
	size_t location_count;
	struct path_name *names; /* subtree locations by path string */
	size_t name_count;
};

static void path_index_free(struct path_index *ix)
{
	free(ix->items);
	free(ix->locations);
	free(ix->names);
}

static size_t find_name(const struct path_index *ix, const char *path, size_t len)
{
	size_t lo = 0, hi = ix->name_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_names(ix->names[mid].path, ix->names[mid].len, path, len);

		if (c == 0)
			return ix->names[mid].location;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static size_t find_location(const struct path_index *ix, const struct path_item *probe)
{
	size_t lo = 0, hi = ix->location_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_location(&ix->items[ix->locations[mid].first], probe);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Every in-force, resolved path rule of the key for action, grouped by location. */
static int path_index_build(const struct build *b, uint8_t action, struct path_index *ix)
{
	size_t total = 0, n = 0;

	memset(ix, 0, sizeof(*ix));
	for (uint32_t pos = 0; pos < b->count; pos++) {
		struct section_view s = section_of(policy_at(b, pos), action);
		const struct resolved_rule *res =
			&b->img->resolved[b->img->bases[b->sel[pos].index].resolved[action]];

		for (size_t k = 0; k < s.path_count; k++)
			total += 1 + res[k].earlier_count;
	}
	if (total == 0)
		return 0;
	ix->items = calloc(total, sizeof(*ix->items));
	ix->locations = calloc(total, sizeof(*ix->locations));
	ix->names = calloc(total, sizeof(*ix->names));
	if (!ix->items || !ix->locations || !ix->names)
		return -ENOMEM;
	for (uint32_t pos = 0; pos < b->count; pos++) {
		struct section_view s = section_of(policy_at(b, pos), action);
		const struct resolved_rule *res =
			&b->img->resolved[b->img->bases[b->sel[pos].index].resolved[action]];

		for (size_t k = 0; k < s.path_count; k++) {
			const struct path_rule *r = &s.paths[k];

			if (!policy_overlay_in_force(r->overlay, b->sel[pos].active[action]))
				continue;
			if (res[k].found)
				ix->items[n++] = (struct path_item){
					.dev = res[k].dev, .ino = res[k].ino,
					.kind = r->subtree ? ACTGATE_PATH_SUBTREE : ACTGATE_PATH_EXACT,
					.pos = pos, .order = (uint32_t)k, .rule = r,
					.rule_id = rule_id_of_path(b, pos, action, k),
				};
			for (size_t e = 0; e < res[k].earlier_count; e++)
				ix->items[n++] = (struct path_item){
					.dev = res[k].earlier[e].dev, .ino = res[k].earlier[e].ino,
					.kind = r->subtree ? ACTGATE_PATH_SUBTREE : ACTGATE_PATH_EXACT,
					.pos = pos, .order = (uint32_t)k, .rule = r,
					.rule_id = rule_id_of_path(b, pos, action, k),
					.earlier = true,
				};
		}
	}
	ix->item_count = n;
	qsort(ix->items, n, sizeof(*ix->items), compare_path_items);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || compare_location(&ix->items[i - 1], &ix->items[i]))
			ix->locations[ix->location_count++] = (struct location){ .first = i };
		ix->locations[ix->location_count - 1].count++;
		/*
		 * Directories above other rules are found by name: the file a
		 * subtree rule's path names now, not one it named before.
		 */
		if (ix->items[i].kind == ACTGATE_PATH_SUBTREE && !ix->items[i].earlier)
			ix->names[ix->name_count++] = (struct path_name){
				.path = ix->items[i].rule->path,
				.len = strlen(ix->items[i].rule->path),
				.location = ix->location_count - 1,
			};
	}
	qsort(ix->names, ix->name_count, sizeof(*ix->names), compare_path_names);
	return 0;
}

/*
 * Mark the policies that have a rule covering slot at location loc and not
 * decided yet, with their decision there: per policy the first deny among
 * its rules there, else its first rule (deny wins a tie at one step).
 * Returns whether any policy has such a rule.
 */
static bool decide_at(struct build *b, const struct path_index *ix, size_t loc, uint8_t slot,
		      struct decision *decided, size_t *decided_count)
{
	const struct location *l = &ix->locations[loc];
	bool any = false;

	for (size_t i = l->first; i < l->first + l->count;) {
		uint32_t pos = ix->items[i].pos;
		const struct path_item *best = NULL;

		for (; i < l->first + l->count && ix->items[i].pos == pos; i++) {
			const struct path_item *it = &ix->items[i];

			if (!(it->rule->access & (1u << slot)))
				continue;
			if (!best || (it->rule->verdict == ACTGATE_VERDICT_DENY &&
				      best->rule->verdict != ACTGATE_VERDICT_DENY))
				best = it;
		}
		if (!best)
			continue;
		any = true;
		if (b->seen[pos] == b->stamp)
			continue;
		b->seen[pos] = b->stamp;
		decided[(*decided_count)++] = rule_decision(best->rule_id, best->rule->verdict,
							    best->rule->mode, best->rule->record, pos);
	}
	return any;
}

/* A path holds at most 2048 components (PATH_MAX): so many directories above, at most. */
#define PATH_CHAIN_MAX (2 + 2048)

/*
 * The locations that can decide for location loc, most specific first: loc,
 * the subtree of the same file when loc is exact, then the subtree rules of
 * the directories above it, by name, nearest first ("above" follows the
 * path strings). Returns how many (at most PATH_CHAIN_MAX).
 */
static size_t location_chain(const struct path_index *ix, size_t loc, size_t *chain)
{
	const struct path_item *first = &ix->items[ix->locations[loc].first];
	const char *path = first->rule->path;
	size_t n = 0, len = strlen(path);

	chain[n++] = loc;
	if (first->kind == ACTGATE_PATH_EXACT) {
		struct path_item probe = *first;
		size_t sub;

		probe.kind = ACTGATE_PATH_SUBTREE;
		sub = find_location(ix, &probe);
		if (sub != SIZE_MAX)
			chain[n++] = sub;
	}
	while (len > 1 && n < PATH_CHAIN_MAX) {
		size_t up;

		while (len > 0 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* drop the '/' too, but for the root itself */
		up = find_name(ix, path, len);
		if (up != SIZE_MAX && up != chain[n - 1])
			chain[n++] = up;
	}
	return n;
}

/*
 * The composed decisions of one location, slot by slot: each policy decides
 * by its most specific rule covering the slot along the location's chain,
 * else by its default; the decisions compose by rank. A slot is set only
 * when some policy has a rule on this very location: elsewhere the kernel's
 * fall-through finds the same answer.
 */
static void compose_location(struct build *b, const struct path_index *ix, const size_t *chain,
			     size_t chain_len, uint8_t action, unsigned slots,
			     struct decision *decided, struct actgate_path_value *value)
{
	memset(value, 0, sizeof(*value));
	for (uint8_t slot = 0; slot < slots; slot++) {
		const struct decision *best;
		size_t decided_count = 0;

		new_stamp(b);
		if (!decide_at(b, ix, chain[0], slot, decided, &decided_count))
			continue;
		for (size_t c = 1; c < chain_len && decided_count < b->count; c++)
			decide_at(b, ix, chain[c], slot, decided, &decided_count);
		best = unmarked_default(b, action);
		for (size_t i = 0; i < decided_count; i++)
			if (!best || beats(&decided[i], best))
				best = &decided[i];
		value->slot[slot] = slot_of(best);
	}
}

static int add_path_entry(struct policy_image *img, const struct actgate_path_key *key,
			  const struct actgate_path_value *value)
{
	int err = grow((void **)&img->paths, &img->path_cap, img->path_count + 1,
		       sizeof(*img->paths));

	if (err)
		return err;
	img->paths[img->path_count].key = *key;
	img->paths[img->path_count].value = *value;
	img->path_count++;
	return 0;
}

static int compile_paths(struct build *b, uint8_t action, struct actgate_action_policy *ap)
{
	unsigned slots = action == ACTGATE_ACTION_OPEN ? ACTGATE_ACCESS_SLOTS : 1;
	struct decision *decided = NULL;
	size_t *chain = NULL;
	struct path_index ix;
	int err;

	err = path_index_build(b, action, &ix);
	if (err || ix.item_count == 0)
		goto out;
	decided = calloc(b->count, sizeof(*decided));
	chain = calloc(PATH_CHAIN_MAX, sizeof(*chain));
	if (!decided || !chain) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t loc = 0; loc < ix.location_count; loc++) {
		const struct path_item *first = &ix.items[ix.locations[loc].first];
		struct actgate_path_key key = {
			.policy_id = b->policy_id, .action = action, .kind = first->kind,
			.dev = first->dev, .ino = first->ino,
		};
		struct actgate_path_value value;

		compose_location(b, &ix, chain, location_chain(&ix, loc, chain), action, slots,
				 decided, &value);
		err = add_path_entry(b->img, &key, &value);
		if (err)
			goto out;
		ap->has_rules = 1;
		if (first->kind == ACTGATE_PATH_SUBTREE)
			ap->has_subtree_rules = 1;
	}
out:
	free(decided);
	free(chain);
	path_index_free(&ix);
	return err;
}

/* ---- IP rules: one first-match list of port decisions per prefix ---- */

int net_rule_contains(const struct net_rule *outer, const uint8_t addr[16], unsigned len)
{
	unsigned full = outer->prefix_len / 8, rest = outer->prefix_len % 8;
	uint8_t mask;

	if (outer->prefix_len > len)
		return 0;
	if (memcmp(outer->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (outer->addr[full] & mask) == (addr[full] & mask);
}

int net_rule_more_specific(const struct net_rule *a, const struct net_rule *b)
{
	unsigned wa = (unsigned)a->port_hi - a->port_lo, wb = (unsigned)b->port_hi - b->port_lo;

	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len;
	if (wa != wb)
		return wa < wb;
	if (!a->protocol != !b->protocol)
		return a->protocol != 0;
	if (a->verdict != b->verdict)
		return a->verdict == ACTGATE_VERDICT_DENY;
	return a < b;
}

struct net_item {
	const struct net_rule *rule;
	uint32_t pos;
	uint32_t rule_id;
};

static int compare_prefix(const struct net_rule *a, const struct net_rule *b)
{
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* By prefix; within one, by policy position and then written order. */
static int compare_net_items(const void *a, const void *b)
{
	const struct net_item *x = a, *y = b;
	int c = compare_prefix(x->rule, y->rule);

	if (c)
		return c;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* A policy's rules covering a prefix in first-match order: by policy, then precedence. */
static int compare_covering(const void *a, const void *b)
{
	const struct net_item *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (net_rule_more_specific(x->rule, y->rule))
		return -1;
	return net_rule_more_specific(y->rule, x->rule) ? 1 : 0;
}

/* addr with every bit after the first len bits cleared. */
static void mask_prefix(const uint8_t addr[16], unsigned len, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;

		out[i] = bits >= 8 ? addr[i] : (uint8_t)(addr[i] & (0xff00 >> bits));
	}
}

/* The first item in a sorted index with exactly this prefix, or count. */
static size_t find_prefix(const struct net_item *index, size_t count, const struct net_rule *probe)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_prefix(index[mid].rule, probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One entry of a first-match list: ports, protocol (0: any) and what they get. */
struct port_entry {
	uint16_t lo;
	uint16_t hi;
	uint8_t protocol;
	struct decision d;
};

struct port_list {
	struct port_entry *e;
	size_t count;
	size_t cap;
};

static bool footprint_contains(const struct port_entry *outer, const struct port_entry *inner)
{
	return outer->lo <= inner->lo && inner->hi <= outer->hi &&
	       (!outer->protocol || outer->protocol == inner->protocol);
}

static bool footprint_overlaps(const struct port_entry *a, const struct port_entry *b)
{
	return a->lo <= b->hi && b->lo <= a->hi &&
	       (!a->protocol || !b->protocol || a->protocol == b->protocol);
}

static int list_push(struct port_list *l, const struct port_entry *e)
{
	int err = grow((void **)&l->e, &l->cap, l->count + 1, sizeof(*l->e));

	if (err)
		return err;
	l->e[l->count++] = *e;
	return 0;
}

/*
 * Can entry i go without changing any point's answer? Each point it
 * decides would then fall to a later entry or, past the end, to
 * fallthrough (NULL: the list is total, nothing falls past it). It can
 * when every later entry that overlaps it, up to one that covers it whole,
 * gives the same decision, and, when none covers it whole, the fall-through
 * does too.
 */
static bool entry_redundant(const struct port_list *l, size_t i, const struct decision *fallthrough)
{
	const struct port_entry *e = &l->e[i];

	for (size_t j = i + 1; j < l->count; j++) {
		if (!footprint_overlaps(&l->e[j], e))
			continue;
		if (!same_decision(&l->e[j].d, &e->d))
			return false;
		if (footprint_contains(&l->e[j], e))
			return true;
	}
	return fallthrough && same_decision(fallthrough, &e->d);
}

static bool entry_shadowed(const struct port_list *l, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (footprint_contains(&l->e[j], &l->e[i]))
			return true;
	return false;
}

/*
 * Shorten a first-match list without changing what it gives any point:
 * drop entries that earlier ones hide and entries that only repeat what
 * follows them, and join neighbours with one decision and adjoining ports.
 */
static void list_simplify(struct port_list *l, const struct decision *fallthrough)
{
	bool changed = true;

	while (changed) {
		size_t out = 0;

		changed = false;
		for (size_t i = l->count; i-- > 0;) {
			if (entry_shadowed(l, i) || entry_redundant(l, i, fallthrough)) {
				memmove(&l->e[i], &l->e[i + 1], (l->count - i - 1) * sizeof(*l->e));
				l->count--;
				changed = true;
			}
		}
		for (size_t i = 0; i < l->count; i++) {
			struct port_entry *prev = out ? &l->e[out - 1] : NULL;
			const struct port_entry *e = &l->e[i];

			if (prev && prev->protocol == e->protocol && same_decision(&prev->d, &e->d) &&
			    (uint32_t)e->lo <= (uint32_t)prev->hi + 1 &&
			    (uint32_t)prev->lo <= (uint32_t)e->hi + 1) {
				prev->lo = prev->lo < e->lo ? prev->lo : e->lo;
				prev->hi = prev->hi > e->hi ? prev->hi : e->hi;
				changed = true;
				continue;
			}
			l->e[out++] = *e;
		}
		l->count = out;
	}
}

/*
 * The composition of two total first-match lists: a point's first match in
 * the product is (its first match in a, its first match in b), so the
 * product in lexicographic order, each entry the intersection of the two
 * and the winner of their decisions, answers every point as the two lists
 * composed would.
 */
static int list_product(const struct port_list *a, const struct port_list *b,
			struct port_list *out)
{
	out->count = 0;
	for (size_t i = 0; i < a->count; i++) {
		for (size_t j = 0; j < b->count; j++) {
			const struct port_entry *x = &a->e[i], *y = &b->e[j];
			struct port_entry e;
			int err;

			if (!footprint_overlaps(x, y))
				continue;
			e.lo = x->lo > y->lo ? x->lo : y->lo;
			e.hi = x->hi < y->hi ? x->hi : y->hi;
			e.protocol = x->protocol ? x->protocol : y->protocol;
			e.d = beats(&y->d, &x->d) ? y->d : x->d;
			if (out->count >= NET_FOLD_MAX)
				return -E2BIG;
			err = list_push(out, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

static void format_prefix(const struct net_rule *r, char *buf, size_t size)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char addr[INET6_ADDRSTRLEN];

	if (r->prefix_len >= 96 && memcmp(r->addr, v4_mapped, 12) == 0) {
		inet_ntop(AF_INET, &r->addr[12], addr, sizeof(addr));
		snprintf(buf, size, "%s/%u", addr, r->prefix_len - 96u);
	} else {
		inet_ntop(AF_INET6, r->addr, addr, sizeof(addr));
		snprintf(buf, size, "%s/%u", addr, (unsigned)r->prefix_len);
	}
}

static int report_prefix(const struct build *b, const struct net_item *at, size_t decisions)
{
	const struct policy *p = policy_at(b, at->pos);
	char prefix[INET6_ADDRSTRLEN + 8], names[512] = "";
	size_t n = 0;

	format_prefix(at->rule, prefix, sizeof(prefix));
	for (uint32_t pos = 0; b->count > 1 && pos < b->count && n < sizeof(names); pos++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", pos ? ", " : " of policies ",
				      policy_at(b, pos)->name);
	return diag_add(b->diags, DIAG_ERROR, p->file, at->rule->pos.line, at->rule->pos.col,
			"%s: %zu port decisions fall under prefix %s (its rules and those of every "
			"prefix that contains it%s, by port and protocol); at most %d can be "
			"enforced for one prefix",
			at->rule->text, decisions, prefix, names, ACTGATE_NET_RULES_PER_PREFIX);
}

/*
 * The list of one prefix: fold in, policy by policy, the first-match list
 * of its rules covering the prefix (ended by its default), starting from the
 * composed default of the policies with no such rule.
 */
static int compose_prefix(struct build *b, struct net_item *covering, size_t n,
			  const struct decision *composed_default, struct port_list *acc,
			  struct port_list *next, struct port_list *one)
{
	const struct decision *rest;
	struct port_entry all = { .lo = 0, .hi = 65535, .protocol = 0 };
	int err;

	qsort(covering, n, sizeof(*covering), compare_covering);
	new_stamp(b);
	for (size_t i = 0; i < n; i++)
		b->seen[covering[i].pos] = b->stamp;
	acc->count = 0;
	rest = unmarked_default(b, ACTGATE_ACTION_CONNECT);
	if (rest) {
		all.d = *rest;
		err = list_push(acc, &all);
		if (err)
			return err;
	}
	for (size_t i = 0; i < n;) {
		uint32_t pos = covering[i].pos;
		struct port_list swap;

		one->count = 0;
		for (; i < n && covering[i].pos == pos; i++) {
			const struct net_rule *r = covering[i].rule;
			struct port_entry e = {
				.lo = r->port_lo, .hi = r->port_hi, .protocol = r->protocol,
				.d = rule_decision(covering[i].rule_id, r->verdict, r->mode, r->record, pos),
			};

			if (one->count >= NET_FOLD_MAX)
				return -E2BIG;
			err = list_push(one, &e);
			if (err)
				return err;
		}
		all.d = *default_at(b, ACTGATE_ACTION_CONNECT, pos);
		err = list_push(one, &all);
		if (err)
			return err;
		if (acc->count == 0) {
			swap = *acc;
			*acc = *one;
			*one = swap;
			continue;
		}
		err = list_product(acc, one, next);
		if (err)
			return err;
		list_simplify(next, NULL);
		swap = *acc;
		*acc = *next;
		*next = swap;
	}
	list_simplify(acc, composed_default);
	return 0;
}

static int add_net_entry(struct build *b, const struct net_rule *r, const struct port_list *l)
{
	struct policy_image *img = b->img;
	struct image_net_entry *e;
	int err = grow((void **)&img->nets, &img->net_cap, img->net_count + 1, sizeof(*img->nets));

	if (err)
		return err;
	e = &img->nets[img->net_count++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 32 + r->prefix_len;
	e->key.policy_id = htonl(b->policy_id); /* big-endian: see abi.h */
	memcpy(e->key.addr, r->addr, 16);
	e->value.count = (uint32_t)l->count;
	for (size_t k = 0; k < l->count; k++)
		e->value.rule[k] = (struct actgate_port_rule){
			.port_lo = l->e[k].lo, .port_hi = l->e[k].hi, .verdict = l->e[k].d.verdict,
			.protocol = l->e[k].protocol, .mode = l->e[k].d.mode,
			.record = l->e[k].d.record, .rule_id = l->e[k].d.rule_id,
		};
	return 0;
}

/*
 * One trie entry per prefix of the key's in-force IP rules, carrying the
 * composed decisions of every port and protocol under it: the LPM trie
 * returns only the longest prefix, so each carries the rules of the
 * prefixes that contain it too.
 */
static int compile_nets(struct build *b, const struct decision *composed_default,
			struct actgate_action_policy *ap, bool *failed)
{
	struct port_list acc = { 0 }, next = { 0 }, one = { 0 };
	struct net_item *index = NULL, *covering = NULL;
	bool len_used[129] = { false };
	size_t total = 0, n = 0;
	int err = 0;

	for (uint32_t pos = 0; pos < b->count; pos++)
		total += policy_at(b, pos)->connect.count;
	if (total == 0)
		return 0;
	index = calloc(total, sizeof(*index));
	covering = calloc(total, sizeof(*covering));
	if (!index || !covering) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t pos = 0; pos < b->count; pos++) {
		const struct net_rules *s = &policy_at(b, pos)->connect;
		uint32_t first_id = b->img->bases[b->sel[pos].index].rule_id[ACTGATE_ACTION_CONNECT];

		for (size_t k = 0; k < s->count; k++) {
			if (!policy_overlay_in_force(s->rules[k].overlay,
						     b->sel[pos].active[ACTGATE_ACTION_CONNECT]))
				continue;
			index[n++] = (struct net_item){ .rule = &s->rules[k], .pos = pos,
							.rule_id = first_id + (uint32_t)k };
			len_used[s->rules[k].prefix_len] = true;
		}
	}
	/* Sorted by prefix: equal prefixes are neighbours, and any prefix is found fast. */
	qsort(index, n, sizeof(*index), compare_net_items);
	for (size_t i = 0; i < n; i++) {
		const struct net_rule *r = index[i].rule;
		size_t c = 0;

		if (i > 0 && compare_prefix(index[i - 1].rule, r) == 0)
			continue;
		ap->has_rules = 1;
		/* The rules covering r have r's address masked to a length some rule has. */
		for (unsigned len = 0; len <= r->prefix_len; len++) {
			struct net_rule probe = { .prefix_len = (uint8_t)len };

			if (!len_used[len])
				continue;
			mask_prefix(r->addr, len, probe.addr);
			for (size_t j = find_prefix(index, n, &probe);
			     j < n && compare_prefix(index[j].rule, &probe) == 0; j++)
				covering[c++] = index[j];
		}
		err = compose_prefix(b, covering, c, composed_default, &acc, &next, &one);
		if (err && err != -E2BIG)
			goto out;
		if (err || acc.count > ACTGATE_NET_RULES_PER_PREFIX) {
			err = report_prefix(b, &index[i], err ? c : acc.count);
			if (err)
				goto out;
			*failed = true;
			continue;
		}
		err = add_net_entry(b, r, &acc);
		if (err)
			goto out;
	}
out:
	free(index);
	free(covering);
	free(acc.e);
	free(next.e);
	free(one.e);
	return err;
}

/* ---- effective policies ---- */

/*
 * Compile the effective policy of b's key into the image's arrays and hdr.
 * Returns 0, 1 when it cannot be enforced (reported), or -errno.
 */
static int compile_effective(struct build *b, struct actgate_policy *hdr, bool nets_only)
{
	bool failed = false;
	int err;

	memset(hdr, 0, sizeof(*hdr));
	hdr->generation = b->img->generation;
	for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
		uint8_t action = path_actions[a];
		struct actgate_action_policy *ap = &hdr->action[action];
		const struct decision *d = NULL;

		/* The composed default: the first of the order, as no rule is in play. */
		if (b->count)
			d = default_at(b, action, b->default_order[(size_t)action * b->count]);
		for (unsigned slot = 0; d && slot < ACTGATE_ACCESS_SLOTS; slot++)
			ap->dflt[slot] = slot_of(d);
		err = nets_only ? 0 : compile_paths(b, action, ap);
		if (!err && action == ACTGATE_ACTION_CONNECT && d)
			err = compile_nets(b, d, ap, &failed);
		if (err)
			return err;
	}
	return failed ? 1 : 0;
}

static bool same_key(const struct effective_policy *ep, const struct policy_selection *sel,
		     size_t count)
{
	return ep->sel_count == count && !memcmp(ep->sel, sel, count * sizeof(*sel));
}

int policy_image_effective(struct policy_image *img, const struct policy_selection *sel,
			   size_t count, size_t *index, bool *added, struct diag_list *diags)
{
	size_t paths = img->path_count, nets = img->net_count;
	struct effective_policy ep = { 0 };
	struct build b;
	int err;

	*added = false;
	if (count == 0)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		if (sel[i].index >= img->set_count || (i && sel[i].index <= sel[i - 1].index))
			return -EINVAL;
	for (size_t i = 0; i < img->policy_count; i++) {
		if (same_key(&img->policies[i], sel, count)) {
			*index = i;
			return 0;
		}
	}
	if (img->policy_count >= POLICY_MAX_PER_GENERATION)
		return -ENOSPC;
	err = grow((void **)&img->policies, &img->policy_cap, img->policy_count + 1,
		   sizeof(*img->policies));
	if (err)
		return err;
	ep.policy_id = policy_id_of(img->generation, img->policy_count);
	ep.sel = calloc(count ? count : 1, sizeof(*ep.sel));
	if (!ep.sel)
		return -ENOMEM;
	memcpy(ep.sel, sel, count * sizeof(*sel));
	ep.sel_count = count;
	ep.path_first = paths;
	ep.net_first = nets;
	err = build_init(&b, img, sel, count, ep.policy_id, diags);
	if (!err)
		err = compile_effective(&b, &ep.header, false);
	build_free(&b);
	if (err) {
		/* Take back what was appended: the image is as it was. */
		img->path_count = paths;
		img->net_count = nets;
		free(ep.sel);
		return err > 0 ? -EINVAL : err;
	}
	ep.path_count = img->path_count - paths;
	ep.net_count = img->net_count - nets;
	img->policies[img->policy_count] = ep;
	*index = img->policy_count++;
	*added = true;
	return 0;
}

void policy_image_drop_last(struct policy_image *img)
{
	struct effective_policy *ep;

	if (img->policy_count == 0)
		return;
	ep = &img->policies[--img->policy_count];
	/* Its entries are the last ones appended. */
	img->path_count = ep->path_first;
	img->net_count = ep->net_first;
	free(ep->sel);
	memset(ep, 0, sizeof(*ep));
}

const struct effective_policy *policy_image_find(const struct policy_image *img,
						 uint32_t policy_id)
{
	size_t i = policy_id_index(policy_id);

	if (policy_id_generation(policy_id) != img->generation || i >= img->policy_count)
		return NULL;
	return &img->policies[i];
}

int policy_selection_of(const struct policy_set *set, const struct workload_identity *id,
			const struct signal_view *signals, struct policy_selection **sel,
			size_t *count)
{
	size_t *indices = NULL, n;
	struct policy_selection *out = NULL;
	int err = 0;

	*sel = NULL;
	*count = 0;
	indices = calloc(set->count ? set->count : 1, sizeof(*indices));
	if (!indices)
		return -ENOMEM;
	n = policy_set_select(set, id, indices, set->count);
	if (n == 0) {
		err = -ENOENT;
		goto out;
	}
	out = calloc(n, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct policy *p = &set->policies[indices[i]];

		out[i].index = (uint32_t)indices[i];
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(p, path_actions[a]);

			out[i].active[path_actions[a]] =
				policy_overlays_active(s.overlays, s.overlay_count, signals);
		}
	}
	*sel = out;
	*count = n;
out:
	free(indices);
	return err;
}

/* ---- policy_compile: the image, and each policy alone ---- */

static uint32_t all_overlays(size_t count)
{
	return count >= 32 ? UINT32_MAX : (uint32_t)((1u << count) - 1);
}

/*
 * Each policy alone, with its base and with every overlay in force (the
 * most rules a prefix can carry): what cannot be enforced for any workload
 * is reported now. Only IP rules can fail to compile (too many decisions
 * under a prefix), so only they are compiled here, and taken back.
 */
static int check_each(struct policy_image *img, struct diag_list *diags, bool *failed)
{
	for (size_t i = 0; i < img->set_count; i++) {
		struct policy_selection sel[2] = { { .index = (uint32_t)i }, { .index = (uint32_t)i } };
		const struct policy *p = &img->set_policies[i];
		size_t overlays = p->connect.overlay_count;

		sel[1].active[ACTGATE_ACTION_CONNECT] = all_overlays(overlays);
		for (size_t k = 0; k < (overlays ? 2u : 1u); k++) {
			size_t nets = img->net_count;
			struct actgate_policy hdr;
			struct build b;
			int err;

			err = build_init(&b, img, &sel[k], 1, policy_id_of(img->generation, 0), diags);
			if (!err)
				err = compile_effective(&b, &hdr, true);
			build_free(&b);
			if (k == 0)
				img->checked_net_entries += img->net_count - nets;
			img->net_count = nets;
			if (err < 0)
				return err;
			if (err) {
				*failed = true;
				break; /* one report per policy is enough */
			}
		}
	}
	return 0;
}

int policy_compile(const struct policy_set *set, uint32_t generation, path_resolver_fn resolve,
		   void *resolve_ctx, struct policy_image *img, struct diag_list *diags)
{
	bool failed = false;
	int err;

	memset(img, 0, sizeof(*img));
	if (generation == 0 || generation > POLICY_MAX_GENERATION)
		return -ERANGE;
	img->generation = generation;
	img->set_policies = set->policies;
	img->set_count = set->count;
	err = assign_rule_ids(img);
	if (!err)
		err = resolve_all(img, resolve, resolve_ctx, diags, &failed);
	if (!err && !failed)
		err = check_each(img, diags, &failed);
	if (!err && failed)
		err = -EINVAL;
	if (err)
		policy_image_free(img);
	return err;
}

/* ---- names ---- */

int policy_image_rule_name(const struct policy_image *img, uint32_t rule_id, char *buf,
			   size_t size)
{
	const struct image_rule *r;

	if (size)
		buf[0] = '\0';
	if (rule_id == 0 || rule_id >= img->rule_count)
		return -ENOENT;
	r = &img->rules[rule_id];
	rule_name_format(buf, size, img->set_policies[r->policy].name, r->action, r->overlay,
			 r->verdict, r->index);
	return 0;
}

const char *policy_image_rule_policy(const struct policy_image *img, uint32_t rule_id)
{
	if (rule_id == 0 || rule_id >= img->rule_count)
		return NULL;
	return img->set_policies[img->rules[rule_id].policy].name;
}

int policy_image_policy_names(const struct policy_image *img, uint32_t policy_id, char *buf,
			      size_t size)
{
	const struct effective_policy *ep = policy_image_find(img, policy_id);
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; ep && i < ep->sel_count; i++) {
		int w = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, "%s%s", i ? "," : "",
				 img->set_policies[ep->sel[i].index].name);

		if (w < 0)
			return w;
		n += (size_t)w;
	}
	return (int)n;
}

void policy_image_free(struct policy_image *img)
{
	for (size_t i = 0; i < img->policy_count; i++)
		free(img->policies[i].sel);
	free(img->policies);
	free(img->bases);
	free(img->rules);
	for (size_t i = 0; img->resolved && i < img->resolved_count; i++)
		free(img->resolved[i].earlier);
	free(img->resolved);
	free(img->paths);
	free(img->nets);
	memset(img, 0, sizeof(*img));
}
