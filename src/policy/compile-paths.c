/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Path rules of an effective policy: exec, open and connect's unix sockets
 * (compile.h). A rule's file is a location (device, inode, exact or
 * subtree); each location the key's rules name gets one entry carrying the
 * composed decision of every access slot there.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile-internal.h"

static uint32_t rule_id_of_path(const struct build *b, uint32_t pos, uint8_t action, size_t k)
{
	const struct image_policy_base *base = &b->img->bases[b->sel[pos].index];

	return (uint32_t)((action == ACTGATE_ACTION_CONNECT ? base->unix_rule_id
							     : base->rule_id[action]) + k);
}

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
	int err = compile_grow((void **)&img->paths, &img->path_cap, img->path_count + 1,
		       sizeof(*img->paths));

	if (err)
		return err;
	img->paths[img->path_count].key = *key;
	img->paths[img->path_count].value = *value;
	img->path_count++;
	return 0;
}

int compile_paths(struct build *b, uint8_t action, struct actgate_action_policy *ap)
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
		if (action == ACTGATE_ACTION_EXEC && value.slot[0].verdict == ACTGATE_VERDICT_DENY)
			ap->has_deny_rules = 1;
	}
out:
	free(decided);
	free(chain);
	path_index_free(&ix);
	return err;
}
